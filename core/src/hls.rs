//! HLS rendering (m3u8-rs): the master playlist and one VOD media playlist per
//! rendition, all over the shared CMAF segments (`../video/<rung>/seg_<n>.m4s`).
//!
//! Playlists live in `hls/`, so every URI in a media playlist climbs one level
//! (`../video/720p/init.mp4`); the master names its media playlists by file
//! name alone (`720p.m3u8`, `audio.m3u8`).

use crate::keys::{segment_file, subtitle_segment_file};
use crate::presentation::{AudioTrack, Presentation, SegmentInfo, TextTrack, Track, VideoTrack};
use m3u8_rs::{
    AlternativeMedia, AlternativeMediaType, Map, MasterPlaylist, MediaPlaylist, MediaPlaylistType,
    MediaSegment, QuotedOrUnquoted, Resolution, VariantStream,
};
use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::atomic::Ordering;

/// `GROUP-ID` of the audio rendition group, and the `AUDIO` attribute of every variant.
pub const AUDIO_GROUP: &str = "audio";

/// `GROUP-ID` of the subtitle renditions, and the `SUBTITLES` attribute of every variant.
pub const SUBTITLES_GROUP: &str = "subs";

/// `EXT-X-VERSION` of every playlist (fMP4 segments with `EXT-X-MAP` need at least 6).
const VERSION: usize = 7;

const MICROS_PER_S: u64 = 1_000_000;

/// Runs an m3u8-rs `write_to` into memory.
fn render(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    write(&mut out).expect("writing into a Vec cannot fail");
    // Every piece of text comes from Rust strings, so the output is UTF-8.
    String::from_utf8_lossy(&out).into_owned()
}

/// `ticks` of a `timescale` clock in whole microseconds, rounded to nearest.
fn micros(ticks: u64, timescale: u32) -> u64 {
    let ts = u128::from(timescale.max(1));
    let us = (u128::from(ticks) * u128::from(MICROS_PER_S) + ts / 2) / ts;
    u64::try_from(us).unwrap_or(u64::MAX)
}

/// The master playlist (`hls/master.m3u8`).
///
/// Audio, when present, is one `EXT-X-MEDIA` rendition in group [`AUDIO_GROUP`]
/// (`audio.m3u8`); every variant (`<rung>.m3u8`, tallest first) then carries
/// `AUDIO="audio"`, both codecs, and bandwidths that add the audio's.
/// Subtitle tracks are `EXT-X-MEDIA` renditions of type `SUBTITLES` in group
/// [`SUBTITLES_GROUP`] (`subs_<lang>.m3u8`; auto-selectable, not default, so
/// a player shows them when the viewer's language or choice asks), and every
/// variant then carries `SUBTITLES="subs"`.
pub fn master_playlist(p: &Presentation) -> String {
    let (audio_peak, audio_avg) = p
        .audio
        .as_ref()
        .map_or((0, 0), |a| (a.peak_bitrate(), a.average_bitrate()));
    let alternatives = p
        .audio
        .iter()
        .map(|a| AlternativeMedia {
            media_type: AlternativeMediaType::Audio,
            uri: Some("audio.m3u8".into()),
            group_id: AUDIO_GROUP.into(),
            name: "Audio".into(),
            default: true,
            autoselect: true,
            channels: Some(a.channels.to_string()),
            ..AlternativeMedia::default()
        })
        .chain(p.subtitles.iter().map(|t| AlternativeMedia {
            media_type: AlternativeMediaType::Subtitles,
            uri: Some(subtitle_playlist_name(t)),
            group_id: SUBTITLES_GROUP.into(),
            language: Some(t.lang.clone()),
            name: t.name.clone(),
            default: false,
            autoselect: true,
            ..AlternativeMedia::default()
        }))
        .collect();
    let mut video: Vec<&VideoTrack> = p.video.iter().collect();
    // Stable: equal sizes keep the presentation's order.
    video.sort_by_key(|t| Reverse(u64::from(t.rung.width) * u64::from(t.rung.height)));
    let variants = video
        .into_iter()
        .map(|t| VariantStream {
            uri: format!("{}.m3u8", t.rung.name),
            bandwidth: t.peak_bitrate() + audio_peak,
            average_bandwidth: Some(t.average_bitrate() + audio_avg),
            codecs: Some(match &p.audio {
                Some(a) => format!("{},{}", t.codecs, a.codecs),
                None => t.codecs.clone(),
            }),
            resolution: Some(Resolution {
                width: u64::from(t.rung.width),
                height: u64::from(t.rung.height),
            }),
            // m3u8-rs prints `frame_rate: Option<f64>` with `Display` (`24`, `29.97`); RFC 8216
            // §4.3.4.2 wants the rate rounded to three decimals, which we spell out (`24.000`)
            // through `other_attributes`. It is written right where FRAME-RATE would be
            // (after RESOLUTION; HDCP-LEVEL and VIDEO are unset) and parses back as `frame_rate`.
            frame_rate: None,
            other_attributes: (t.frame_rate.is_finite() && t.frame_rate > 0.0).then(|| {
                HashMap::from([(
                    "FRAME-RATE".to_owned(),
                    QuotedOrUnquoted::Unquoted(format!("{:.3}", t.frame_rate)),
                )])
            }),
            audio: p.audio.as_ref().map(|_| AUDIO_GROUP.to_owned()),
            subtitles: (!p.subtitles.is_empty()).then(|| SUBTITLES_GROUP.to_owned()),
            ..VariantStream::default()
        })
        .collect();
    let master = MasterPlaylist {
        version: Some(VERSION),
        independent_segments: true,
        alternatives,
        variants,
        ..MasterPlaylist::default()
    };
    render(|w| master.write_to(w))
}

/// `EXT-X-TARGETDURATION` for segments of a `timescale` clock.
///
/// RFC 8216 §4.3.3.1: every `EXTINF`, rounded to the nearest integer, must be
/// at most the target duration, so this is the longest segment (as written,
/// to the microsecond) rounded to nearest, a tie going up (4.5 s → 5, since
/// 5 satisfies either reading of "nearest"; 4.49 s → 4). Never below 1.
pub fn target_duration(segments: &[SegmentInfo], timescale: u32) -> u64 {
    segments
        .iter()
        .map(|s| (micros(s.duration, timescale) + MICROS_PER_S / 2) / MICROS_PER_S)
        .max()
        .unwrap_or(1)
        .max(1)
}

/// `EXTINF` value of a segment of `us` microseconds.
///
/// m3u8-rs keeps `EXTINF` as an `f32`. Rounding to the microsecond first and
/// then taking the nearest `f32` makes `{:.6}` print exactly that microsecond
/// count for every segment shorter than 16 s (the `f32` spacing there is below
/// 1 µs); longer ones may be off by 1 µs in the last digit.
fn extinf(us: u64) -> f32 {
    (us as f64 / MICROS_PER_S as f64) as f32
}

/// A VOD media playlist over `segments`, whose files live in `dir` (relative
/// to `hls/`), named by `file`; `init` adds the `EXT-X-MAP` of `dir/init.mp4`.
fn media_playlist(
    segments: &[SegmentInfo],
    timescale: u32,
    dir: &str,
    file: fn(u32) -> String,
    init: bool,
) -> String {
    // The EXTINF precision is a process-wide setting of m3u8-rs (its only way to
    // get fixed decimals). Storing the same value every time is idempotent, and
    // this module is the only writer of playlists in slicecast.
    m3u8_rs::WRITE_OPT_FLOAT_PRECISION.store(6, Ordering::Relaxed);
    let target_duration = target_duration(segments, timescale);
    let segments = segments
        .iter()
        .enumerate()
        .map(|(i, s)| MediaSegment {
            uri: format!("{dir}/{}", file(s.number)),
            duration: extinf(micros(s.duration, timescale)),
            // One EXT-X-MAP before the first segment applies to all that follow.
            map: (init && i == 0).then(|| Map {
                uri: format!("{dir}/init.mp4"),
                ..Map::default()
            }),
            ..MediaSegment::empty()
        })
        .collect::<Vec<_>>();
    let playlist = MediaPlaylist {
        version: Some(VERSION),
        target_duration,
        media_sequence: 0,
        segments,
        end_list: true,
        playlist_type: Some(MediaPlaylistType::Vod),
        independent_segments: true,
        ..MediaPlaylist::default()
    };
    with_media_sequence_zero(render(|w| playlist.write_to(w)))
}

/// Adds `#EXT-X-MEDIA-SEQUENCE:0` after `#EXT-X-TARGETDURATION`.
///
/// m3u8-rs writes EXT-X-MEDIA-SEQUENCE only when it is not 0 (0 is what its
/// absence means, RFC 8216 §4.3.3.2), and `MediaPlaylist` has no header-tag list
/// that it writes, so the explicit tag is spliced into the rendered text.
fn with_media_sequence_zero(mut text: String) -> String {
    const TAG: &str = "#EXT-X-TARGETDURATION:";
    if let Some(start) = text.find(TAG)
        && let Some(eol) = text[start..].find('\n')
    {
        text.insert_str(start + eol + 1, "#EXT-X-MEDIA-SEQUENCE:0\n");
    }
    text
}

/// The media playlist of a video rendition (`hls/<rung>.m3u8`), over
/// `../video/<rung>/init.mp4` and `../video/<rung>/seg_<n>.m4s`.
pub fn video_playlist(t: &VideoTrack) -> String {
    media_playlist(
        &t.segments,
        t.timescale,
        &format!("../video/{}", t.rung.name),
        segment_file,
        true,
    )
}

/// The media playlist of the audio rendition (`hls/audio.m3u8`), over
/// `../audio/init.mp4` and `../audio/seg_<n>.m4s`.
pub fn audio_playlist(t: &AudioTrack) -> String {
    media_playlist(&t.segments, t.timescale, "../audio", segment_file, true)
}

/// File name of a subtitle track's media playlist (`subs_<lang>.m3u8`).
pub fn subtitle_playlist_name(t: &TextTrack) -> String {
    format!("subs_{}.m3u8", t.lang)
}

/// The media playlist of a subtitle track (`hls/subs_<lang>.m3u8`): WebVTT
/// segments `../subtitles/<lang>/seg_<n>.vtt` on the grid of `grid` (the
/// first video rendition's segments), so segment `n` of every rendition
/// covers the same time (see [`crate::subtitles::segment_webvtt`]).
pub fn subtitle_playlist(t: &TextTrack, grid: &VideoTrack) -> String {
    media_playlist(
        &grid.segments,
        grid.timescale,
        &format!("../subtitles/{}", t.lang),
        subtitle_segment_file,
        false,
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ladder::ladder_for;
    use m3u8_rs::Playlist;
    use proptest::prelude::*;

    /// Builds segments from (start, duration, bytes), numbered from 0.
    pub(crate) fn segs(list: &[(u64, u64, u64)]) -> Vec<SegmentInfo> {
        list.iter()
            .zip(0..)
            .map(|(&(start, duration, bytes), number)| SegmentInfo {
                number,
                start,
                duration,
                bytes,
            })
            .collect()
    }

    /// Contiguous segments from (duration, bytes), numbered and timed from 0.
    pub(crate) fn run(list: &[(u64, u64)]) -> Vec<SegmentInfo> {
        let mut t = 0;
        let timed: Vec<_> = list
            .iter()
            .map(|&(d, b)| {
                t += d;
                (t - d, d, b)
            })
            .collect();
        segs(&timed)
    }

    /// A realistic presentation: a 1080p 29.97 fps source cut into 4.004 s
    /// segments (120 frames at 90 kHz) with a 1.5015 s tail, as 1080p and 720p
    /// H.264, plus stereo AAC whose 48 kHz fragments end on 1024-sample frames.
    pub(crate) fn fixture() -> Presentation {
        let rungs = ladder_for(1920, 1080);
        let video = [
            (&rungs[0], "avc1.640028", 1u64),
            (&rungs[1], "avc1.64001f", 2u64),
        ]
        .into_iter()
        .map(|(rung, codecs, div)| VideoTrack {
            rung: rung.clone(),
            codecs: codecs.into(),
            frame_rate: 30_000.0 / 1001.0,
            timescale: 90_000,
            segments: run(&[
                (360_360, 2_600_000 / div),
                (360_360, 2_400_000 / div),
                (360_360, 2_500_000 / div),
                (135_135, 800_000 / div),
            ]),
        })
        .collect();
        let audio = AudioTrack {
            codecs: "mp4a.40.2".into(),
            sample_rate: 48_000,
            channels: 2,
            bitrate: 128_000,
            timescale: 48_000,
            segments: run(&[
                (192_512, 64_200),
                (192_512, 64_100),
                (192_512, 64_150),
                (71_680, 23_900),
            ]),
        };
        Presentation {
            duration_s: 649_216.0 / 48_000.0,
            video,
            audio: Some(audio),
            subtitles: Vec::new(),
        }
    }

    fn audio(p: &Presentation) -> &AudioTrack {
        p.audio.as_ref().expect("the fixture has audio")
    }

    fn parse(text: &str) -> Playlist {
        m3u8_rs::parse_playlist_res(text.as_bytes())
            .unwrap_or_else(|e| panic!("m3u8-rs rejects {text}: {e:?}"))
    }

    #[test]
    fn master_snapshot() {
        insta::assert_snapshot!(master_playlist(&fixture()));
    }

    fn with_subtitles() -> Presentation {
        let mut p = fixture();
        p.subtitles = vec![TextTrack {
            lang: "en".into(),
            name: "English".into(),
        }];
        p
    }

    #[test]
    fn master_with_subtitles_snapshot() {
        insta::assert_snapshot!(master_playlist(&with_subtitles()));
    }

    #[test]
    fn subtitle_media_snapshot() {
        let p = with_subtitles();
        insta::assert_snapshot!(subtitle_playlist(&p.subtitles[0], &p.video[0]));
    }

    #[test]
    fn subtitles_parse_back_as_a_group_every_variant_names() {
        let p = with_subtitles();
        let Playlist::MasterPlaylist(m) = parse(&master_playlist(&p)) else {
            panic!("not a master playlist");
        };
        let subs: Vec<_> = m
            .alternatives
            .iter()
            .filter(|a| a.media_type == AlternativeMediaType::Subtitles)
            .collect();
        assert_eq!(subs.len(), 1);
        assert_eq!(subs[0].uri.as_deref(), Some("subs_en.m3u8"));
        assert_eq!(subs[0].language.as_deref(), Some("en"));
        assert_eq!(subs[0].group_id, SUBTITLES_GROUP);
        assert!(
            m.variants
                .iter()
                .all(|v| v.subtitles.as_deref() == Some(SUBTITLES_GROUP))
        );
        let Playlist::MediaPlaylist(media) =
            parse(&subtitle_playlist(&p.subtitles[0], &p.video[0]))
        else {
            panic!("not a media playlist");
        };
        assert_eq!(media.segments.len(), p.video[0].segments.len());
        assert!(media.segments.iter().all(|s| s.map.is_none()));
        assert_eq!(media.segments[1].uri, "../subtitles/en/seg_1.vtt");
        // Without subtitles, no variant names a group.
        let Playlist::MasterPlaylist(m) = parse(&master_playlist(&fixture())) else {
            panic!("not a master playlist");
        };
        assert!(m.variants.iter().all(|v| v.subtitles.is_none()));
    }

    #[test]
    fn media_snapshot() {
        insta::assert_snapshot!(video_playlist(&fixture().video[0]));
    }

    #[test]
    fn audio_media_snapshot() {
        insta::assert_snapshot!(audio_playlist(audio(&fixture())));
    }

    #[test]
    fn master_parses_back() {
        let p = fixture();
        let a = audio(&p);
        let Playlist::MasterPlaylist(m) = parse(&master_playlist(&p)) else {
            panic!("not a master playlist");
        };
        assert_eq!(m.version, Some(7));
        assert!(m.independent_segments);

        assert_eq!(m.alternatives.len(), 1);
        let alt = &m.alternatives[0];
        assert_eq!(alt.media_type, AlternativeMediaType::Audio);
        assert_eq!(alt.group_id, "audio");
        assert_eq!(alt.name, "Audio");
        assert!(alt.default && alt.autoselect);
        assert_eq!(alt.channels.as_deref(), Some("2"));
        assert_eq!(alt.uri.as_deref(), Some("audio.m3u8"));

        let got: Vec<_> = m
            .variants
            .iter()
            .map(|v| {
                (
                    v.uri.as_str(),
                    v.bandwidth,
                    v.average_bandwidth,
                    v.codecs.as_deref(),
                    v.resolution.map(|r| (r.width, r.height)),
                    v.frame_rate,
                    v.audio.as_deref(),
                    v.other_attributes.clone(),
                )
            })
            .collect();
        let want: Vec<_> = p
            .video
            .iter()
            .zip(["avc1.640028,mp4a.40.2", "avc1.64001f,mp4a.40.2"])
            .map(|(t, codecs)| {
                (
                    if t.rung.height == 1080 {
                        "1080p.m3u8"
                    } else {
                        "720p.m3u8"
                    },
                    t.peak_bitrate() + a.peak_bitrate(),
                    Some(t.average_bitrate() + a.average_bitrate()),
                    Some(codecs),
                    Some((u64::from(t.rung.width), u64::from(t.rung.height))),
                    Some(29.97),
                    Some("audio"),
                    None,
                )
            })
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn media_playlists_parse_back() {
        let p = fixture();
        let cases = [
            (
                video_playlist(&p.video[1]),
                "../video/720p",
                &p.video[1].segments,
                90_000,
            ),
            (
                audio_playlist(audio(&p)),
                "../audio",
                &audio(&p).segments,
                48_000,
            ),
        ];
        for (text, dir, segments, ts) in cases {
            let Playlist::MediaPlaylist(m) = parse(&text) else {
                panic!("not a media playlist: {text}");
            };
            assert_eq!(m.version, Some(7), "{dir}");
            assert_eq!(m.target_duration, 4, "{dir}");
            assert_eq!(m.media_sequence, 0, "{dir}");
            assert_eq!(m.playlist_type, Some(MediaPlaylistType::Vod), "{dir}");
            assert!(m.independent_segments && m.end_list, "{dir}");
            assert_eq!(m.segments.len(), segments.len(), "{dir}");
            for (i, (got, want)) in m.segments.iter().zip(segments.iter()).enumerate() {
                assert_eq!(got.uri, format!("{dir}/seg_{i}.m4s"));
                let want_s = want.duration as f64 / f64::from(ts);
                assert!((f64::from(got.duration) - want_s).abs() < 1e-6, "{dir} {i}");
                assert!(!got.discontinuity);
                let map = got.map.as_ref().map(|m| m.uri.clone());
                assert_eq!(
                    map,
                    (i == 0).then(|| format!("{dir}/init.mp4")),
                    "{dir} {i}"
                );
            }
            // Header order: MEDIA-SEQUENCE sits with the other header tags.
            let lines: Vec<&str> = text.lines().collect();
            let at = |tag: &str| lines.iter().position(|l| l.starts_with(tag));
            assert_eq!(text.matches("#EXT-X-MEDIA-SEQUENCE:0\n").count(), 1);
            assert!(at("#EXT-X-TARGETDURATION") < at("#EXT-X-MEDIA-SEQUENCE"));
            assert!(at("#EXT-X-MEDIA-SEQUENCE") < at("#EXT-X-MAP"));
        }
    }

    #[test]
    fn master_without_audio() {
        let mut p = fixture();
        p.audio = None;
        let text = master_playlist(&p);
        assert!(!text.contains("#EXT-X-MEDIA:"), "{text}");
        assert!(!text.contains("AUDIO="), "{text}");
        let Playlist::MasterPlaylist(m) = parse(&text) else {
            panic!("not a master playlist");
        };
        assert!(m.alternatives.is_empty());
        let v = &m.variants[0];
        assert_eq!(v.codecs.as_deref(), Some("avc1.640028"));
        assert_eq!(v.bandwidth, p.video[0].peak_bitrate());
        assert_eq!(v.average_bandwidth, Some(p.video[0].average_bitrate()));
        assert_eq!(v.audio, None);
    }

    #[test]
    fn variants_tallest_first_with_three_decimal_frame_rates() {
        let mut p = fixture();
        p.video.reverse();
        p.video[0].frame_rate = 25.0;
        let text = master_playlist(&p);
        let uris: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(uris, ["1080p.m3u8", "720p.m3u8"]);
        assert!(text.contains(",RESOLUTION=1920x1080,FRAME-RATE=29.970,AUDIO="));
        assert!(text.contains(",RESOLUTION=1280x720,FRAME-RATE=25.000,AUDIO="));
    }

    #[test]
    fn media_playlist_edge_cases() {
        // (segments as (duration, bytes) at 90 kHz, target duration, EXTINF lines)
        type Case = (&'static [(u64, u64)], u64, &'static [&'static str]);
        let cases: &[Case] = &[
            // one segment
            (&[(540_000, 1)], 6, &["#EXTINF:6.000000,"]),
            // last segment short
            (
                &[(360_000, 1), (90_090, 1)],
                4,
                &["#EXTINF:4.000000,", "#EXTINF:1.001000,"],
            ),
            // one segment shorter than half a second: target duration is never 0
            (&[(30_030, 1)], 1, &["#EXTINF:0.333667,"]),
            // longest segment not the first; 4.5 s rounds up
            (
                &[(360_000, 1), (405_000, 1), (90_000, 1)],
                5,
                &[
                    "#EXTINF:4.000000,",
                    "#EXTINF:4.500000,",
                    "#EXTINF:1.000000,",
                ],
            ),
        ];
        for &(list, target, extinfs) in cases {
            let t = VideoTrack {
                rung: ladder_for(640, 360)[0].clone(),
                codecs: "avc1.64001e".into(),
                frame_rate: 30.0,
                timescale: 90_000,
                segments: run(list),
            };
            let text = video_playlist(&t);
            assert!(
                text.contains(&format!("#EXT-X-TARGETDURATION:{target}\n")),
                "{text}"
            );
            let got: Vec<&str> = text.lines().filter(|l| l.starts_with("#EXTINF")).collect();
            assert_eq!(got, extinfs);
            assert_eq!(text.matches("#EXT-X-MAP:").count(), 1);
            assert!(!text.contains("DISCONTINUITY"));
            assert!(text.ends_with(&format!(
                "../video/360p/seg_{}.m4s\n#EXT-X-ENDLIST\n",
                list.len() - 1
            )));
        }
    }

    #[test]
    fn target_duration_rounds_to_nearest() {
        // (segment durations in ms, target duration)
        let cases: &[(&[u64], u64)] = &[
            (&[4_000], 4),
            (&[4_490], 4),
            (&[4_499], 4),
            (&[4_500], 5),
            (&[4_501], 5),
            (&[3_000, 6_002, 2_000], 6),
            (&[100], 1),
            (&[0], 1),
            (&[], 1),
        ];
        for (ms, want) in cases {
            let list: Vec<_> = ms.iter().map(|&d| (d, 1)).collect();
            assert_eq!(target_duration(&run(&list), 1000), *want, "{ms:?}");
        }
        // Decided on the microsecond that is written: 4.4999996 s is written 4.500000.
        assert_eq!(target_duration(&run(&[(44_999_996, 1)]), 10_000_000), 5);
    }

    proptest! {
        /// What the playlist says is the segment's duration to the microsecond,
        /// and its target duration honours RFC 8216 §4.3.3.1.
        #[test]
        fn extinf_is_exact_to_the_microsecond(us in 0u64..16_000_000) {
            let printed = format!("{:.6}", extinf(us));
            prop_assert_eq!(printed, format!("{}.{:06}", us / MICROS_PER_S, us % MICROS_PER_S));
        }

        #[test]
        fn target_duration_covers_every_extinf(durations in prop::collection::vec(1u64..700_000, 1..8)) {
            let list: Vec<_> = durations.iter().map(|&d| (d, 1)).collect();
            let text = audio_playlist(&AudioTrack {
                codecs: "mp4a.40.2".into(),
                sample_rate: 48_000,
                channels: 2,
                bitrate: 128_000,
                timescale: 48_000,
                segments: run(&list),
            });
            let Playlist::MediaPlaylist(m) = parse(&text) else {
                panic!("not a media playlist");
            };
            let longest = m.segments.iter().map(|s| f64::from(s.duration)).fold(0.0, f64::max);
            prop_assert!(longest.round() as u64 <= m.target_duration);
            prop_assert!(m.target_duration <= (longest.round() as u64).max(1));
        }
    }
}

//! Snapshot, table and property tests of the HLS renderer.

use super::*;
use crate::ladder::ladder_for;
use m3u8_rs::{MediaPlaylistType, Playlist};
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
    let Playlist::MediaPlaylist(media) = parse(&subtitle_playlist(&p.subtitles[0], &p.video[0]))
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
    fn extinf_is_exact_to_the_microsecond(us in 0u64..100_000_000_000) {
        let printed = extinf(us);
        let (whole, frac) = printed.split_once('.').expect("a decimal point");
        prop_assert_eq!(frac.len(), 6);
        let back: u64 = whole.parse::<u64>().expect("digits") * MICROS_PER_S
            + frac.parse::<u64>().expect("digits");
        prop_assert_eq!(back, us);
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

#[test]
fn growing_playlists_are_events_that_only_append() {
    let p = fixture();
    let t = &p.video[1];
    let growing = Listing::Growing { target: 6 };
    let full = video_playlist_as(t, growing);
    insta::assert_snapshot!(full);
    let Playlist::MediaPlaylist(m) = parse(&full) else {
        panic!("not a media playlist: {full}");
    };
    assert_eq!(m.playlist_type, Some(MediaPlaylistType::Event));
    assert!(!m.end_list);
    assert_eq!(
        m.target_duration, 6,
        "the given target, not the longest so far"
    );
    // A shorter prefix is a prefix of the text: a later version only appends.
    let mut first = t.clone();
    first.segments.truncate(1);
    let early = video_playlist_as(&first, growing);
    assert!(full.starts_with(&early), "{early}\n---\n{full}");
    // The complete playlist is the VOD one, as before.
    assert_eq!(video_playlist_as(t, Listing::Complete), video_playlist(t));
    let a = audio(&p);
    assert!(audio_playlist_as(a, growing).contains("#EXT-X-PLAYLIST-TYPE:EVENT\n"));
    // Never below what a listed segment needs.
    let low = video_playlist_as(t, Listing::Growing { target: 1 });
    assert!(low.contains("#EXT-X-TARGETDURATION:4\n"), "{low}");
}

//! HLS rendering (m3u8-rs): the master playlist and one VOD media playlist per
//! rendition, all over the shared CMAF segments (`../video/<rung>/seg_<n>.m4s`).

use crate::presentation::{AudioTrack, Presentation, SegmentInfo, Track, VideoTrack};
use m3u8_rs::{
    AlternativeMedia, AlternativeMediaType, Map, MasterPlaylist, MediaPlaylist, MediaPlaylistType,
    MediaSegment, Resolution, VariantStream,
};
use std::sync::atomic::Ordering;

/// Name of the audio rendition group.
pub const AUDIO_GROUP: &str = "audio";

fn to_string(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail; an error here would be a bug in m3u8-rs.
    write(&mut out).expect("writing a playlist into memory");
    String::from_utf8_lossy(&out).into_owned()
}

/// The master playlist: audio as an `EXT-X-MEDIA` group, one variant per rung, tallest first.
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
            language: Some("und".into()),
            default: true,
            autoselect: true,
            channels: Some(a.channels.to_string()),
            ..AlternativeMedia::default()
        })
        .collect();
    let variants = p
        .video
        .iter()
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
            frame_rate: (t.frame_rate > 0.0).then_some((t.frame_rate * 1000.0).round() / 1000.0),
            audio: p.audio.as_ref().map(|_| AUDIO_GROUP.to_owned()),
            ..VariantStream::default()
        })
        .collect();
    let master = MasterPlaylist {
        version: Some(7),
        independent_segments: true,
        alternatives,
        variants,
        ..MasterPlaylist::default()
    };
    to_string(|w| master.write_to(w))
}

/// Target duration: the longest segment, rounded to the nearest second (RFC 8216 §4.3.3.1).
pub fn target_duration(segments: &[SegmentInfo], timescale: u32) -> u64 {
    let ts = f64::from(timescale.max(1));
    segments
        .iter()
        .map(|s| (s.duration as f64 / ts).round() as u64)
        .max()
        .unwrap_or(1)
        .max(1)
}

fn media_playlist(segments: &[SegmentInfo], timescale: u32, dir: &str) -> String {
    m3u8_rs::WRITE_OPT_FLOAT_PRECISION.store(6, Ordering::Relaxed);
    let ts = f64::from(timescale.max(1));
    let target = target_duration(segments, timescale);
    let segments = segments
        .iter()
        .enumerate()
        .map(|(i, s)| MediaSegment {
            uri: format!("{dir}/{}", crate::keys::segment_file(s.number)),
            duration: (s.duration as f64 / ts) as f32,
            map: (i == 0).then(|| Map {
                uri: format!("{dir}/init.mp4"),
                ..Map::default()
            }),
            ..MediaSegment::empty()
        })
        .collect::<Vec<_>>();
    let playlist = MediaPlaylist {
        version: Some(7),
        target_duration: target,
        media_sequence: 0,
        segments,
        end_list: true,
        playlist_type: Some(MediaPlaylistType::Vod),
        independent_segments: true,
        ..MediaPlaylist::default()
    };
    to_string(|w| playlist.write_to(w))
}

/// The media playlist of a video rendition.
pub fn video_playlist(t: &VideoTrack) -> String {
    media_playlist(
        &t.segments,
        t.timescale,
        &format!("../video/{}", t.rung.name),
    )
}

/// The media playlist of the audio rendition.
pub fn audio_playlist(t: &AudioTrack) -> String {
    media_playlist(&t.segments, t.timescale, "../audio")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ladder::ladder_for;

    /// A realistic two-rung presentation with audio: 10 s, segments 4 + 4 + 2 s.
    pub(crate) fn fixture() -> Presentation {
        let seg = |n: u32, start: u64, dur: u64, bytes: u64| SegmentInfo {
            number: n,
            start,
            duration: dur,
            bytes,
        };
        let video = ladder_for(1280, 720)[..2]
            .iter()
            .enumerate()
            .map(|(i, r)| VideoTrack {
                rung: r.clone(),
                codecs: if i == 0 {
                    "avc1.64001f".into()
                } else {
                    "avc1.64001e".into()
                },
                frame_rate: 24.0,
                timescale: 90_000,
                segments: vec![
                    seg(0, 0, 360_000, 1_000_000 >> i),
                    seg(1, 360_000, 360_000, 900_000 >> i),
                    seg(2, 720_000, 180_000, 400_000 >> i),
                ],
            })
            .collect();
        let audio = Some(AudioTrack {
            codecs: "mp4a.40.2".into(),
            sample_rate: 48_000,
            channels: 2,
            bitrate: 128_000,
            timescale: 48_000,
            segments: vec![
                seg(0, 0, 192_512, 64_000),
                seg(1, 192_512, 192_512, 64_000),
                seg(2, 385_024, 95_232, 32_000),
            ],
        });
        Presentation {
            duration_s: 10.0,
            video,
            audio,
        }
    }

    #[test]
    fn master_snapshot() {
        insta::assert_snapshot!(master_playlist(&fixture()));
    }

    #[test]
    fn media_snapshot() {
        insta::assert_snapshot!(video_playlist(&fixture().video[0]));
    }

    #[test]
    fn master_parses_back() {
        let p = fixture();
        let text = master_playlist(&p);
        let Ok(m3u8_rs::Playlist::MasterPlaylist(m)) = m3u8_rs::parse_playlist_res(text.as_bytes())
        else {
            panic!("not a master playlist: {text}");
        };
        assert_eq!(m.variants.len(), 2);
        assert_eq!(
            m.variants[0].codecs.as_deref(),
            Some("avc1.64001f,mp4a.40.2")
        );
        assert_eq!(m.variants[0].audio.as_deref(), Some("audio"));
        assert_eq!(
            m.variants[0].bandwidth,
            p.video[0].peak_bitrate() + p.audio.as_ref().map_or(0, |a| a.peak_bitrate())
        );
        assert_eq!(m.alternatives.len(), 1);
        assert_eq!(m.alternatives[0].uri.as_deref(), Some("audio.m3u8"));
    }

    #[test]
    fn media_parses_back() {
        let text = audio_playlist(p_audio(&fixture()));
        let Ok(m3u8_rs::Playlist::MediaPlaylist(m)) = m3u8_rs::parse_playlist_res(text.as_bytes())
        else {
            panic!("not a media playlist: {text}");
        };
        assert_eq!(m.segments.len(), 3);
        assert_eq!(m.segments[0].uri, "../audio/seg_0.m4s");
        assert_eq!(
            m.segments[0].map.as_ref().map(|m| m.uri.as_str()),
            Some("../audio/init.mp4")
        );
        assert!(m.end_list);
        assert_eq!(m.target_duration, 4);
        assert!(!text.contains("DISCONTINUITY"));
    }

    fn p_audio(p: &Presentation) -> &AudioTrack {
        p.audio.as_ref().expect("audio")
    }

    #[test]
    fn video_only_has_no_audio_group() {
        let mut p = fixture();
        p.audio = None;
        let text = master_playlist(&p);
        assert!(!text.contains("EXT-X-MEDIA"));
        assert!(text.contains("CODECS=\"avc1.64001f\""));
    }

    #[test]
    fn target_duration_rounds_to_nearest() {
        let seg = |d: u64| SegmentInfo {
            number: 0,
            start: 0,
            duration: d,
            bytes: 1,
        };
        assert_eq!(target_duration(&[seg(4_490)], 1000), 4);
        assert_eq!(target_duration(&[seg(4_500)], 1000), 5);
        assert_eq!(target_duration(&[seg(100)], 1000), 1);
        assert_eq!(target_duration(&[], 1000), 1);
    }
}

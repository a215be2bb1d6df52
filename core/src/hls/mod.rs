//! HLS rendering: the master playlist (m3u8-rs) and one VOD media playlist per
//! rendition, all over the shared CMAF segments (`../video/<rung>/seg_<n>.m4s`);
//! while the video still encodes, EVENT media playlists over the segments
//! ready so far (same files, same URLs, no `EXT-X-ENDLIST`).
//!
//! Playlists live in `hls/`, so every URI in a media playlist climbs one level
//! (`../video/720p/init.mp4`); the master names its media playlists by file
//! name alone (`720p.m3u8`, `audio.m3u8`).

use crate::keys::{self, INIT_FILE, segment_file, subtitle_segment_file};
use crate::presentation::{AudioTrack, Presentation, SegmentInfo, TextTrack, Track, VideoTrack};
use m3u8_rs::{
    AlternativeMedia, AlternativeMediaType, MasterPlaylist, QuotedOrUnquoted, Resolution,
    VariantStream,
};
use std::cmp::Reverse;
use std::collections::HashMap;

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

/// `EXTINF` value of a segment of `us` microseconds: exact, six decimals.
fn extinf(us: u64) -> String {
    format!("{}.{:06}", us / MICROS_PER_S, us % MICROS_PER_S)
}

/// Whether a media playlist is final, or lists what is ready of a video
/// that is still encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// `EXT-X-PLAYLIST-TYPE:VOD` and `EXT-X-ENDLIST`: every segment.
    Complete,
    /// `EXT-X-PLAYLIST-TYPE:EVENT`, no `EXT-X-ENDLIST`: the segments ready so
    /// far; later versions only append. The target duration is given, since
    /// it may not change while the playlist grows (RFC 8216 §6.2.1): the
    /// longest segment the whole video will have, not the longest so far.
    Growing {
        /// `EXT-X-TARGETDURATION`, seconds.
        target: u64,
    },
}

/// A media playlist over `segments`, whose files live in `dir` (relative
/// to `hls/`), named by `file`; `init` adds the `EXT-X-MAP` of `dir/init.mp4`.
///
/// Written here rather than by m3u8-rs: a media playlist is a fixed list of
/// tags, and m3u8-rs would print `EXTINF` from an `f32` with a precision that
/// is a process-wide setting, and leaves out `EXT-X-MEDIA-SEQUENCE:0`.
fn media_playlist(
    segments: &[SegmentInfo],
    timescale: u32,
    dir: &str,
    file: fn(u32) -> String,
    init: bool,
    listing: Listing,
) -> String {
    let (target, kind) = match listing {
        Listing::Complete => (target_duration(segments, timescale), "VOD"),
        Listing::Growing { target } => (target.max(target_duration(segments, timescale)), "EVENT"),
    };
    let mut out = format!(
        "#EXTM3U\n#EXT-X-VERSION:{VERSION}\n#EXT-X-INDEPENDENT-SEGMENTS\n\
         #EXT-X-TARGETDURATION:{target}\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:{kind}\n"
    );
    if init {
        // One EXT-X-MAP before the first segment applies to all that follow.
        out.push_str(&format!("#EXT-X-MAP:URI=\"{dir}/{INIT_FILE}\"\n"));
    }
    for s in segments {
        out.push_str(&format!(
            "#EXTINF:{},\n{dir}/{}\n",
            extinf(micros(s.duration, timescale)),
            file(s.number)
        ));
    }
    if listing == Listing::Complete {
        out.push_str("#EXT-X-ENDLIST\n");
    }
    out
}

/// The media playlist of a video rendition (`hls/<rung>.m3u8`), over
/// `../video/<rung>/init.mp4` and `../video/<rung>/seg_<n>.m4s`.
pub fn video_playlist(t: &VideoTrack) -> String {
    video_playlist_as(t, Listing::Complete)
}

/// [`video_playlist`], complete or growing.
pub fn video_playlist_as(t: &VideoTrack, listing: Listing) -> String {
    media_playlist(
        &t.segments,
        t.timescale,
        &keys::from_manifests(&keys::video_dir(&t.rung.name)),
        segment_file,
        true,
        listing,
    )
}

/// The media playlist of the audio rendition (`hls/audio.m3u8`), over
/// `../audio/init.mp4` and `../audio/seg_<n>.m4s`.
pub fn audio_playlist(t: &AudioTrack) -> String {
    audio_playlist_as(t, Listing::Complete)
}

/// [`audio_playlist`], complete or growing.
pub fn audio_playlist_as(t: &AudioTrack, listing: Listing) -> String {
    media_playlist(
        &t.segments,
        t.timescale,
        &keys::from_manifests(keys::AUDIO_DIR),
        segment_file,
        true,
        listing,
    )
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
        &keys::from_manifests(&keys::subtitle_dir(&t.lang)),
        subtitle_segment_file,
        false,
        Listing::Complete,
    )
}

#[cfg(test)]
pub(crate) mod tests;

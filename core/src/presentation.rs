//! What the assembler knows about the finished renditions: the input of the
//! HLS, DASH and thumbnail renderers.
//!
//! Every rendition's segments live once, under `video/<rung>/` and `audio/`;
//! HLS playlists (under `hls/`) and the MPD (under `dash/`) both point at them
//! with relative URIs (`../video/<rung>/seg_<n>.m4s`).

use crate::ladder::Rung;
use serde::{Deserialize, Serialize};

/// A whole presentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Presentation {
    /// Duration in seconds (the longest track).
    pub duration_s: f64,
    /// Video renditions, tallest first.
    pub video: Vec<VideoTrack>,
    /// The audio rendition, if the source has audio.
    pub audio: Option<AudioTrack>,
    /// Subtitle tracks (added after the video is playable, when a transcript arrives).
    #[serde(default)]
    pub subtitles: Vec<TextTrack>,
}

/// A WebVTT subtitle track: `subtitles/<lang>.vtt` whole (DASH) and in
/// segments on the video's segment grid (HLS, `subtitles/<lang>/seg_<n>.vtt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextTrack {
    /// BCP 47 language tag (`en`, `en-US`), safe as a file name.
    pub lang: String,
    /// Name shown in players' track menus (`English`).
    pub name: String,
}

/// One segment of a track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentInfo {
    /// Segment number (`seg_<number>.m4s`), from 0, contiguous.
    pub number: u32,
    /// Decode start time in the track's timescale (the fragment's `tfdt`).
    pub start: u64,
    /// Duration in the track's timescale.
    pub duration: u64,
    /// Size in bytes.
    pub bytes: u64,
}

/// A video rendition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoTrack {
    /// The rung it encodes.
    pub rung: Rung,
    /// RFC 6381 codec string, e.g. `avc1.64001f`.
    pub codecs: String,
    /// Frame rate (frames per second) as a float.
    pub frame_rate: f64,
    /// Track timescale (ticks per second).
    pub timescale: u32,
    /// Segments in order.
    pub segments: Vec<SegmentInfo>,
}

/// The audio rendition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioTrack {
    /// RFC 6381 codec string, e.g. `mp4a.40.2`.
    pub codecs: String,
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Channel count.
    pub channels: u32,
    /// Target bitrate in bit/s.
    pub bitrate: u64,
    /// Track timescale (ticks per second; the sample rate for AAC).
    pub timescale: u32,
    /// Segments in order.
    pub segments: Vec<SegmentInfo>,
}

/// Peak and average bitrate (bit/s) of a list of segments.
pub fn bitrates(segments: &[SegmentInfo], timescale: u32) -> (u64, u64) {
    let ts = f64::from(timescale.max(1));
    let mut peak = 0.0f64;
    let (mut bytes, mut ticks) = (0u64, 0u64);
    for s in segments {
        bytes += s.bytes;
        ticks += s.duration;
        // Very short segments (a slice's tail) overstate the peak; weigh them as at least 1 s.
        let secs = (s.duration as f64 / ts).max(1.0);
        peak = peak.max(s.bytes as f64 * 8.0 / secs);
    }
    let avg = if ticks == 0 {
        0.0
    } else {
        bytes as f64 * 8.0 / (ticks as f64 / ts)
    };
    (peak.ceil() as u64, avg.ceil() as u64)
}

/// What every track offers: its segments on its own timescale.
pub trait Track {
    /// Segments in order.
    fn segments(&self) -> &[SegmentInfo];
    /// Ticks per second.
    fn timescale(&self) -> u32;
    /// Peak segment bitrate, bit/s (HLS `BANDWIDTH`).
    fn peak_bitrate(&self) -> u64 {
        bitrates(self.segments(), self.timescale()).0
    }
    /// Average bitrate, bit/s (HLS `AVERAGE-BANDWIDTH`, DASH `bandwidth`).
    fn average_bitrate(&self) -> u64 {
        bitrates(self.segments(), self.timescale()).1
    }
    /// Duration in seconds.
    fn duration_s(&self) -> f64 {
        self.segments().iter().map(|s| s.duration).sum::<u64>() as f64
            / f64::from(self.timescale().max(1))
    }
}

impl Track for VideoTrack {
    fn segments(&self) -> &[SegmentInfo] {
        &self.segments
    }
    fn timescale(&self) -> u32 {
        self.timescale
    }
}

impl Track for AudioTrack {
    fn segments(&self) -> &[SegmentInfo] {
        &self.segments
    }
    fn timescale(&self) -> u32 {
        self.timescale
    }
}

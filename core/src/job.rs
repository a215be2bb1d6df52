//! Messages between the coordinator and its workers: plain serde data, so the
//! same jobs travel through a local worker pool or a Lambda invoke.

use crate::VideoId;
use crate::ladder::Rung;
use crate::plan::Slice;
use crate::presentation::SegmentInfo;
use crate::probe::Rational;
use serde::{Deserialize, Serialize};

/// Encoder settings shared by every slice of a video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncodeSettings {
    /// x264 preset (`veryfast` by default).
    pub preset: String,
    /// Threads each ffmpeg process may use (0 = let ffmpeg decide).
    pub threads: u32,
    /// Deinterlace (the source is coded as fields); one output frame per input frame.
    #[serde(default)]
    pub deinterlace: bool,
    /// Thumbnail width and height in pixels.
    pub thumb_size: (u32, u32),
}

/// Where the source lives, as the worker can read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRef {
    /// A local path or an http(s) URL ffmpeg can read (ranged reads).
    pub location: String,
    /// Container format name from the probe (decides how carefully to seek).
    pub format_name: String,
    /// Container start time in seconds (ffmpeg's `-ss` is relative to it).
    pub start_time_s: f64,
}

/// Encode one slice at every rung.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliceJob {
    /// The video.
    pub video_id: VideoId,
    /// The source.
    pub source: SourceRef,
    /// Index of the video stream in the source.
    pub video_stream: u32,
    /// Time base of the slice's pts fields.
    pub time_base: Rational,
    /// Output video timescale.
    pub timescale: u32,
    /// Pts of output time zero.
    pub origin_pts: i64,
    /// The slice.
    pub slice: Slice,
    /// The rungs, tallest first.
    pub rungs: Vec<Rung>,
    /// Encoder settings.
    pub settings: EncodeSettings,
    /// 1 for the first try, then 2, 3, ...
    pub attempt: u32,
}

/// What a slice produced for one rung.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RungOutput {
    /// Rung name.
    pub rung: String,
    /// RFC 6381 codec string from the init segment.
    pub codecs: String,
    /// Hex MD5 of the init segment (identical across slices by construction; checked).
    pub init_md5: String,
    /// Segments written, in order.
    pub segments: Vec<SegmentInfo>,
}

/// The result of a slice job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliceResult {
    /// Slice index.
    pub index: u32,
    /// One entry per rung, in the job's order.
    pub rungs: Vec<RungOutput>,
    /// Thumbnails written.
    pub thumbs: u32,
    /// Frames encoded per rung.
    pub frames: u64,
    /// Wall time of the encode.
    pub encode_ms: u64,
    /// Which attempt produced it.
    pub attempt: u32,
}

/// Encode the whole audio track once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioJob {
    /// The video.
    pub video_id: VideoId,
    /// The source.
    pub source: SourceRef,
    /// Index of the audio stream in the source.
    pub audio_stream: u32,
    /// Absolute source time (seconds) that maps to output time zero (the first video frame).
    pub origin_s: f64,
    /// Output channels (1 or 2).
    pub channels: u32,
    /// Output sample rate in Hz.
    pub sample_rate: u32,
    /// Bitrate in bit/s.
    pub bitrate: u64,
    /// Segment length in seconds.
    pub segment_seconds: f64,
    /// Source duration in seconds (sizes the timeout).
    pub duration_s: f64,
    /// 1 for the first try, then 2, 3, ...
    pub attempt: u32,
}

/// The result of the audio job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioResult {
    /// RFC 6381 codec string.
    pub codecs: String,
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Channels.
    pub channels: u32,
    /// Bitrate target in bit/s.
    pub bitrate: u64,
    /// Track timescale.
    pub timescale: u32,
    /// Segments written.
    pub segments: Vec<SegmentInfo>,
    /// Wall time of the encode.
    pub encode_ms: u64,
}

/// Any job a worker runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// A video slice.
    Slice(SliceJob),
    /// The audio track.
    Audio(AudioJob),
}

/// Any job's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobResult {
    /// A video slice's result.
    Slice(SliceResult),
    /// The audio result.
    Audio(AudioResult),
}

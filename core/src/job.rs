//! Messages between the coordinator and its workers: plain serde data, so the
//! same jobs travel through a local worker pool or a Lambda invoke.

use crate::VideoId;
use crate::ladder::Rung;
use crate::plan::Slice;
use crate::presentation::SegmentInfo;
use crate::source_info::{Rational, Transfer, VideoStream};
use serde::{Deserialize, Serialize};

/// Encoder settings shared by every slice of a video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncodeSettings {
    /// x264 preset (`veryfast` by default).
    pub preset: String,
    /// x264 constant rate factor under each rung's bitrate cap: part of the
    /// job, so a worker encodes what the coordinator decided, whatever its
    /// own environment says.
    #[serde(default = "default_crf")]
    pub crf: u32,
    /// Threads each ffmpeg process may use (0 = let ffmpeg decide).
    pub threads: u32,
    /// Deinterlace (the source is coded as fields); one output frame per input frame.
    #[serde(default)]
    pub deinterlace: bool,
    /// Thumbnail width and height in pixels.
    pub thumb_size: (u32, u32),
    /// The thumbnails that also get a full-size frame for the poster.
    #[serde(default)]
    pub poster: Option<crate::thumbs::PosterCandidates>,
    /// The size of the pictures the filters work on (the source's, turned
    /// upright). Every decoded picture is first scaled to it, so a stream
    /// whose pictures change size partway (a broadcast splice) still feeds
    /// one size to the filters; `None` leaves the pictures as decoded.
    #[serde(default)]
    pub frame_size: Option<(u32, u32)>,
    /// Map an HDR source's pictures to SDR before any other filter; `None`
    /// for SDR sources.
    #[serde(default)]
    pub tone_map: Option<ToneMap>,
}

/// An HDR source's pictures, to be mapped to SDR (BT.709) first: every
/// output is SDR (8-bit H.264 or AV1 renditions, JPEG thumbnails and
/// poster), and a player or image viewer that ignores the PQ or HLG tags
/// shows an HDR signal washed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToneMap {
    /// The source's HDR curve (never [`Transfer::Sdr`]).
    pub from: Transfer,
    /// The source uses the full sample range.
    pub full_range: bool,
}

impl ToneMap {
    /// The tone mapping a video stream needs: `None` when it is SDR.
    pub fn of(video: &VideoStream) -> Option<Self> {
        video.transfer.is_hdr().then_some(Self {
            from: video.transfer,
            full_range: video.full_range,
        })
    }
}

/// The default x264 CRF under the bitrate cap.
pub const DEFAULT_CRF: u32 = 21;

fn default_crf() -> u32 {
    DEFAULT_CRF
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
    /// Where the picture's time zero lies on the output timeline, in
    /// `timescale` ticks: the AAC encoder's priming when there is sound (see
    /// [`priming_ticks`](crate::timeline::priming_ticks)), so the first
    /// picture meets the first real sample of sound; 0 without sound.
    #[serde(default)]
    pub video_delay_ticks: u64,
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
    /// Digest of the job that produced it (see `segment-worker`'s
    /// `job_digest`): a stored result is reused only for the same job.
    #[serde(default)]
    pub job_digest: String,
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
    /// Only this part of the track (`None`: the whole track).
    #[serde(default)]
    pub chunk: Option<AudioChunk>,
}

/// A part of the audio track, encoded by its own job: whole fragments of the
/// track's fragment grid (a fragment = `fragment_frames` AAC frames of 1024
/// samples, what `-frag_duration` of one segment length cuts), plus one
/// fragment of pre-roll before and one of post-roll after that are encoded and
/// dropped, so the encoder state at both seams matches a whole-track encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudioChunk {
    /// Global number of the first fragment kept.
    pub first_fragment: u32,
    /// Fragments kept (the last chunk keeps whatever the track has left).
    pub fragments: u32,
    /// AAC frames per fragment.
    pub fragment_frames: u32,
    /// Whether this is the track's last chunk.
    pub last: bool,
}

impl AudioChunk {
    /// Samples per fragment.
    pub fn fragment_samples(&self) -> u64 {
        u64::from(self.fragment_frames) * 1024
    }

    /// Fragments of pre-roll encoded before the first kept one.
    pub fn pre_roll(&self) -> u32 {
        u32::from(self.first_fragment > 0)
    }

    /// Output time (seconds) where this chunk's encode starts.
    pub fn encode_start_s(&self, sample_rate: u32) -> f64 {
        (u64::from(self.first_fragment - self.pre_roll()) * self.fragment_samples()) as f64
            / f64::from(sample_rate.max(1))
    }

    /// Seconds to encode (pre-roll + kept + post-roll); `None` for the last chunk (to the end).
    pub fn encode_seconds(&self, sample_rate: u32) -> Option<f64> {
        (!self.last).then(|| {
            (u64::from(self.pre_roll() + self.fragments + 1) * self.fragment_samples()) as f64
                / f64::from(sample_rate.max(1))
        })
    }
}

/// Splits an audio track of `duration_s` into chunks of about `chunk_seconds`
/// on the fragment grid of `segment_seconds` at `sample_rate`. One chunk
/// (`None`) when the track is not much longer than a chunk.
pub fn audio_chunks(
    duration_s: f64,
    sample_rate: u32,
    segment_seconds: f64,
    chunk_seconds: f64,
) -> Option<Vec<AudioChunk>> {
    if chunk_seconds.is_nan() || chunk_seconds <= 0.0 {
        return None;
    }
    let sr = f64::from(sample_rate.max(1));
    let fragment_frames = (segment_seconds * sr / 1024.0).ceil().max(1.0) as u32;
    let fragment_s = f64::from(fragment_frames) * 1024.0 / sr;
    let total = (duration_s / fragment_s).ceil().max(1.0) as u32;
    let per_chunk = (chunk_seconds / fragment_s).round().max(1.0) as u32;
    if total <= per_chunk + per_chunk / 2 {
        return None;
    }
    let count = total.div_ceil(per_chunk);
    Some(
        (0..count)
            .map(|k| AudioChunk {
                first_fragment: k * per_chunk,
                fragments: per_chunk.min(total - k * per_chunk),
                fragment_frames,
                last: k + 1 == count,
            })
            .collect(),
    )
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
    /// Digest of the job that produced it, as for [`SliceResult::job_digest`].
    #[serde(default)]
    pub job_digest: String,
}

/// Any job a worker runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[expect(
    clippy::large_enum_variant,
    reason = "a video has tens of jobs, each serialised once; boxing buys nothing"
)]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks() {
        // 48 kHz, 4 s segments: fragments of 188 frames = 4.0107 s.
        assert_eq!(audio_chunks(52.2, 48_000, 4.0, 60.0), None);
        assert_eq!(audio_chunks(52.2, 48_000, 4.0, 0.0), None);
        let c = audio_chunks(52.2, 48_000, 4.0, 16.0).expect("chunks");
        // 14 fragments in 4 chunks of 4, 4, 4 and 2.
        let shape: Vec<(u32, u32, bool)> = c
            .iter()
            .map(|c| (c.first_fragment, c.fragments, c.last))
            .collect();
        assert_eq!(
            shape,
            [(0, 4, false), (4, 4, false), (8, 4, false), (12, 2, true)]
        );
        assert!(c.iter().all(|c| c.fragment_frames == 188));
        assert_eq!(c[0].pre_roll(), 0);
        assert_eq!(c[0].encode_start_s(48_000), 0.0);
        assert_eq!(
            c[0].encode_seconds(48_000),
            Some(5.0 * 192_512.0 / 48_000.0)
        );
        assert_eq!(c[1].pre_roll(), 1);
        assert_eq!(c[1].encode_start_s(48_000), 3.0 * 192_512.0 / 48_000.0);
        assert_eq!(
            c[1].encode_seconds(48_000),
            Some(6.0 * 192_512.0 / 48_000.0)
        );
        assert_eq!(c[3].encode_seconds(48_000), None);
        // 44.1 kHz: 173 frames per fragment; 10 minutes in 60 s chunks.
        let c = audio_chunks(600.0, 44_100, 4.0, 60.0).expect("chunks");
        assert!(c.iter().all(|c| c.fragment_frames == 173));
        assert_eq!(c.len(), 10);
        let kept: u32 = c.iter().map(|c| c.fragments).sum();
        assert_eq!(
            kept,
            (600.0_f64 / (173.0 * 1024.0 / 44_100.0)).ceil() as u32
        );
    }
}

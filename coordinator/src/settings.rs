//! How a video is processed: every knob of the pipeline, with the defaults of
//! one machine.

use crate::fanout::JobTimeout;
use crate::subtitles;
use slicecast_assembler::SpriteSettings;
use slicecast_media::limits::Limits;
use std::sync::Arc;
use std::time::Duration;

/// Default for [`Settings::heartbeat_timeout`].
pub const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(120);

/// How a video is processed.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Jobs in flight at once.
    pub workers: usize,
    /// Threads each worker's ffmpeg may use.
    pub threads_per_worker: u32,
    /// Target slice length; `None` = derived from the duration and `workers`.
    pub slice_seconds: Option<f64>,
    /// Shortest slice the automatic choice makes.
    pub min_slice_seconds: f64,
    /// Target length of the first slice when it should be shorter than the
    /// rest, so the start of the video is encoded first (`None`: as the rest).
    /// Groundwork for publishing the stream while it encodes; off until then.
    pub first_slice_seconds: Option<f64>,
    /// Output segment length in seconds.
    pub segment_seconds: f64,
    /// x264 preset.
    pub preset: String,
    /// x264 CRF under each rung's bitrate cap (carried by every slice job).
    pub crf: u32,
    /// Tries per job before the video fails.
    pub max_tries: u32,
    /// Thumbnail sprites.
    pub sprite: SpriteSettings,
    /// Whether to write the DASH MPD.
    pub generate_dash: bool,
    /// Audio bitrate in bit/s.
    pub audio_bitrate: u64,
    /// Longest a video may take from claim to completion.
    pub deadline: Duration,
    /// A `processing` video whose coordinator has not written a heartbeat for
    /// this long is abandoned (its process died): it reads as failed and a new
    /// upload of the same bytes reclaims it.
    pub heartbeat_timeout: Duration,
    /// Longest one attempt of a job may take; `None` = no limit here (the
    /// local worker's ffmpeg has its own timeouts).
    pub job_timeout: Option<JobTimeout>,
    /// First retry delay; doubles with each failure (throttling waits 4× longer).
    pub retry_backoff: Duration,
    /// On elastic capacity, a slice still running after this many times the
    /// median slice time gets a second copy (0 = never).
    pub straggler_factor: f64,
    /// Publish HLS playlists of the start of the video as soon as it plays,
    /// growing while the rest encodes (`EXT-X-PLAYLIST-TYPE:EVENT`).
    pub publish_while_encoding: bool,
    /// Encode the audio in parallel chunks of about this many seconds
    /// (`None`: the whole track in one job).
    pub audio_chunk_seconds: Option<f64>,
    /// The speech engine for subtitles (`None`: no subtitles). Runs once the
    /// video is playable; [`process_upload`] returns after it has answered.
    pub transcriber: Option<Arc<dyn subtitles::Transcriber>>,
    /// What one source may be at most (duration, pixels, frame rate),
    /// checked at probe time before anything fans out.
    pub limits: Limits,
}

impl Default for Settings {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            workers: cores,
            threads_per_worker: 1,
            slice_seconds: None,
            min_slice_seconds: 10.0,
            first_slice_seconds: None,
            segment_seconds: 4.0,
            preset: "veryfast".into(),
            crf: slicecast_core::job::DEFAULT_CRF,
            max_tries: 3,
            sprite: SpriteSettings::default(),
            generate_dash: true,
            audio_bitrate: 128_000,
            deadline: Duration::from_secs(6 * 3600),
            heartbeat_timeout: HEARTBEAT_TIMEOUT,
            job_timeout: None,
            retry_backoff: Duration::from_millis(250),
            straggler_factor: 2.0,
            publish_while_encoding: true,
            audio_chunk_seconds: None,
            transcriber: None,
            limits: Limits::default(),
        }
    }
}

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

/// Sources at least this long start playing early by default: a first slice
/// of one segment and the audio in chunks, so the start is ready in seconds
/// while the rest encodes (shorter ones are ready about as soon whole).
pub const EARLY_START_MIN_SECONDS: f64 = 120.0;

/// The audio chunk length a long source gets when it starts early (as on Lambda).
const EARLY_AUDIO_CHUNK_SECONDS: f64 = 60.0;

/// How a video is processed.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Jobs in flight at once.
    pub workers: usize,
    /// Threads each worker's ffmpeg may use.
    pub threads_per_worker: u32,
    /// The cores the workers share when they all run on this machine
    /// (`None` on Lambda, where every worker has its own). A plan with fewer
    /// slices than workers then gives each slice the idle workers' share,
    /// so a short video does not leave cores idle.
    pub pooled_cores: Option<u32>,
    /// Target slice length; `None` = derived from the duration and `workers`.
    pub slice_seconds: Option<f64>,
    /// Shortest slice the automatic choice makes.
    pub min_slice_seconds: f64,
    /// Target length of the first slice when it should be shorter than the
    /// rest, so the start of the video is ready first (`None`: see
    /// [`Settings::first_slice_for`]).
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
    /// Ladders encoded beside H.264 (`EXTRA_CODECS`).
    pub extra_codecs: Vec<slicecast_core::ladder::VideoCodec>,
    /// Whether to make the MP4 and M4A downloads.
    pub generate_downloads: bool,
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
    /// (`None`: see [`Settings::audio_chunks_for`]).
    pub audio_chunk_seconds: Option<f64>,
    /// The speech engine for subtitles (`None`: no subtitles). Runs once the
    /// video is playable; [`process_upload`] returns after it has answered.
    pub transcriber: Option<Arc<dyn subtitles::Transcriber>>,
    /// Where the video's events are posted (`WEBHOOK_URL`), if anywhere.
    pub webhooks: Option<Arc<crate::webhook::Webhooks>>,
    /// What one source may be at most (duration, pixels, frame rate),
    /// checked at probe time before anything fans out.
    pub limits: Limits,
}

impl Settings {
    /// Encoder threads of each slice of a plan with `slices` slices.
    pub fn slice_threads(&self, slices: usize) -> u32 {
        match self.pooled_cores {
            Some(cores) if slices > 0 && slices < self.workers => {
                (cores / slices as u32).max(self.threads_per_worker)
            }
            _ => self.threads_per_worker,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            workers: cores,
            threads_per_worker: 1,
            pooled_cores: None,
            slice_seconds: None,
            min_slice_seconds: 10.0,
            first_slice_seconds: None,
            segment_seconds: 4.0,
            preset: "veryfast".into(),
            crf: slicecast_core::job::DEFAULT_CRF,
            max_tries: 3,
            sprite: SpriteSettings::default(),
            generate_dash: true,
            generate_downloads: true,
            extra_codecs: Vec::new(),
            audio_bitrate: 128_000,
            deadline: Duration::from_secs(6 * 3600),
            heartbeat_timeout: HEARTBEAT_TIMEOUT,
            job_timeout: None,
            retry_backoff: Duration::from_millis(250),
            straggler_factor: 2.0,
            publish_while_encoding: true,
            audio_chunk_seconds: None,
            transcriber: None,
            webhooks: None,
            limits: Limits::default(),
        }
    }
}

impl Settings {
    /// Whether a source of `duration_s` starts playing early by default.
    fn early_start(&self, duration_s: f64) -> bool {
        self.publish_while_encoding && duration_s >= EARLY_START_MIN_SECONDS
    }

    /// The first slice's target length for a source of `duration_s`: as set;
    /// else, for a long source published while it encodes whose slices are
    /// sized automatically, one segment (the least that plays: the start
    /// plays as soon as possible, and on Lambda the next slices land while it
    /// does); else like the others (`None`).
    pub fn first_slice_for(&self, duration_s: f64) -> Option<f64> {
        self.first_slice_seconds.or_else(|| {
            (self.early_start(duration_s) && self.slice_seconds.is_none())
                .then_some(self.segment_seconds)
        })
    }

    /// The audio chunk length for a source of `duration_s`: as set; else, for
    /// a long source published while it encodes, a minute, so the start of
    /// the sound is ready with the first slice; else the whole track (`None`).
    pub fn audio_chunks_for(&self, duration_s: f64) -> Option<f64> {
        self.audio_chunk_seconds.or_else(|| {
            self.early_start(duration_s)
                .then_some(EARLY_AUDIO_CHUNK_SECONDS)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_workers_lend_their_cores_to_the_slices_of_one_machine() {
        let local = |workers, threads| Settings {
            workers,
            threads_per_worker: threads,
            pooled_cores: Some(16),
            ..Settings::default()
        };
        let lambda = Settings {
            workers: 200,
            threads_per_worker: 6,
            pooled_cores: None,
            ..Settings::default()
        };
        // (settings, slices) -> threads per slice
        let cases = [
            (local(2, 8), 1, 16),
            (local(2, 8), 2, 8),
            (local(2, 8), 9, 8),
            (local(16, 1), 3, 5),
            (local(16, 1), 16, 1),
            (local(16, 1), 0, 1),
            (local(32, 1), 31, 1),
            (lambda.clone(), 1, 6),
            (lambda, 500, 6),
        ];
        for (s, slices, want) in cases {
            assert_eq!(
                s.slice_threads(slices),
                want,
                "{} workers, {slices} slices",
                s.workers
            );
        }
    }

    #[test]
    fn long_sources_start_early_unless_told_otherwise() {
        let d = Settings::default();
        // (settings, duration) -> (first slice, audio chunks)
        let fixed = Settings {
            slice_seconds: Some(20.0),
            ..Settings::default()
        };
        let off = Settings {
            publish_while_encoding: false,
            ..Settings::default()
        };
        let set = Settings {
            first_slice_seconds: Some(6.0),
            audio_chunk_seconds: Some(16.0),
            ..Settings::default()
        };
        type Case<'a> = (&'a Settings, f64, (Option<f64>, Option<f64>));
        let cases: [Case; 5] = [
            (&d, 52.0, (None, None)),
            (&d, 600.0, (Some(4.0), Some(60.0))),
            (&fixed, 600.0, (None, Some(60.0))),
            (&off, 600.0, (None, None)),
            (&set, 52.0, (Some(6.0), Some(16.0))),
        ];
        for (s, duration, want) in cases {
            let got = (s.first_slice_for(duration), s.audio_chunks_for(duration));
            assert_eq!(got, want, "{duration} s");
        }
    }
}

//! The per-video manifest (`processed/<id>/manifest.json`): status, stage,
//! progress, assets and errors, with its transitions as pure functions.

use crate::VideoId;
use serde::{Deserialize, Serialize};

/// Overall status; the values clients of the earlier service know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Work is under way.
    Processing,
    /// Every rendition is ready.
    ProcessingComplete,
    /// Processing stopped; `error` says why.
    ProcessingFailed,
}

/// Where a video is in the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Reading the upload through MD5.
    Hashing,
    /// Running ffprobe and planning.
    Probing,
    /// Encoding slices.
    Encoding,
    /// Writing playlists, MPD, sprites.
    Assembling,
    /// Speech to text.
    Transcribing,
    /// Finished (complete or failed).
    Done,
}

/// Progress of the encoding stage.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Progress {
    /// Overall fraction, 0..=1.
    pub fraction: f64,
    /// Slices finished.
    pub slices_done: u32,
    /// Slices planned.
    pub slices_total: u32,
}

/// A short description of the source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SourceSummary {
    /// Original file name.
    pub name: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Container format.
    pub format: String,
    /// Duration in seconds.
    pub duration_s: f64,
    /// Video codec.
    pub video_codec: String,
    /// Displayed width.
    pub width: u32,
    /// Displayed height.
    pub height: u32,
    /// Frame rate.
    pub frame_rate: f64,
    /// Number of video frames.
    pub frames: u64,
    /// Audio codec, if any.
    pub audio_codec: Option<String>,
}

/// One rendition as listed in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RungSummary {
    /// Rung name (`720p`).
    pub name: String,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Target bitrate in kbit/s.
    pub bitrate_kbps: u32,
    /// Measured average bitrate in bit/s.
    pub average_bitrate: u64,
    /// Codec string.
    pub codecs: String,
    /// Media playlist key.
    pub playlist: String,
}

/// Keys of the finished assets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Assets {
    /// HLS master playlist.
    pub hls_master: Option<String>,
    /// DASH MPD (absent with `GENERATE_DASH=false`).
    pub dash_mpd: Option<String>,
    /// WebVTT thumbnails track.
    pub thumbnails_vtt: Option<String>,
    /// Sprite sheets.
    pub sprites: Vec<String>,
    /// Poster image.
    pub poster: Option<String>,
}

/// Wall-clock timings in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Timings {
    /// Hashing the upload.
    pub hash_ms: u64,
    /// Probing and planning.
    pub probe_ms: u64,
    /// Encoding all slices and audio.
    pub encode_ms: u64,
    /// Assembling.
    pub assemble_ms: u64,
    /// From start to finish.
    pub total_ms: u64,
}

/// The manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Video id.
    pub video_id: VideoId,
    /// Status.
    pub status: Status,
    /// Stage.
    pub stage: Stage,
    /// Progress.
    pub progress: Progress,
    /// Why it failed, in words a person can act on.
    pub error: Option<String>,
    /// Key of the upload.
    pub upload_key: String,
    /// Source summary, once probed.
    pub source: Option<SourceSummary>,
    /// Duration of the output in seconds.
    pub duration_s: Option<f64>,
    /// Renditions.
    pub rungs: Vec<RungSummary>,
    /// Whether the source had audio that was encoded.
    pub has_audio: bool,
    /// Asset keys.
    pub assets: Assets,
    /// Timings.
    pub timings: Timings,
    /// Slices planned.
    pub slices: u32,
    /// Start time (seconds) of every slice: the seams between independently encoded parts.
    #[serde(default)]
    pub slice_starts_s: Vec<f64>,
    /// Unix time (ms) processing started.
    pub created_ms: u64,
    /// Unix time (ms) of the last update.
    pub updated_ms: u64,
    /// Unix time (ms) after which a `processing` manifest counts as failed.
    pub deadline_ms: u64,
}

impl Manifest {
    /// A fresh claim: processing, hashing done, probing next.
    pub fn new(video_id: VideoId, upload_key: String, now_ms: u64, deadline_ms: u64) -> Self {
        Self {
            video_id,
            status: Status::Processing,
            stage: Stage::Probing,
            progress: Progress::default(),
            error: None,
            upload_key,
            source: None,
            duration_s: None,
            rungs: Vec::new(),
            has_audio: false,
            assets: Assets::default(),
            timings: Timings::default(),
            slices: 0,
            slice_starts_s: Vec::new(),
            created_ms: now_ms,
            updated_ms: now_ms,
            deadline_ms,
        }
    }

    /// Moves to `stage`.
    pub fn at_stage(mut self, stage: Stage, now_ms: u64) -> Self {
        self.stage = stage;
        self.updated_ms = now_ms;
        self
    }

    /// Records encoding progress: slices done of total (the audio job counts as one more unit).
    pub fn with_progress(
        mut self,
        done: u32,
        total: u32,
        units_done: u32,
        units_total: u32,
        now_ms: u64,
    ) -> Self {
        self.progress = Progress {
            fraction: if units_total == 0 {
                0.0
            } else {
                (f64::from(units_done) / f64::from(units_total)).clamp(0.0, 1.0)
            },
            slices_done: done,
            slices_total: total,
        };
        self.updated_ms = now_ms;
        self
    }

    /// Fails the video with a reason.
    pub fn failed(mut self, reason: impl Into<String>, now_ms: u64) -> Self {
        self.status = Status::ProcessingFailed;
        self.stage = Stage::Done;
        self.error = Some(reason.into());
        self.updated_ms = now_ms;
        self.timings.total_ms = now_ms.saturating_sub(self.created_ms);
        self
    }

    /// Marks the video complete.
    pub fn completed(mut self, now_ms: u64) -> Self {
        self.status = Status::ProcessingComplete;
        self.stage = Stage::Done;
        self.error = None;
        self.progress.fraction = 1.0;
        self.progress.slices_done = self.progress.slices_total;
        self.updated_ms = now_ms;
        self.timings.total_ms = now_ms.saturating_sub(self.created_ms);
        self
    }

    /// True when the manifest says processing but its deadline has passed: a
    /// reader should treat (and record) it as failed.
    pub fn is_stale(&self, now_ms: u64) -> bool {
        self.status == Status::Processing && now_ms > self.deadline_ms
    }

    /// The manifest a reader should see at `now_ms`: a stale one becomes failed.
    pub fn settled(self, now_ms: u64) -> Self {
        if self.is_stale(now_ms) {
            self.failed(
                "processing did not finish before its deadline (a worker may have crashed); upload the file again to retry",
                now_ms,
            )
        } else {
            self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> VideoId {
        VideoId::parse("0123456789abcdef0123456789abcdef").expect("id")
    }

    #[test]
    fn transitions() {
        let m = Manifest::new(id(), "uploads/a.mp4".into(), 1000, 5000);
        assert_eq!(m.status, Status::Processing);
        let m = m
            .at_stage(Stage::Encoding, 1100)
            .with_progress(1, 4, 2, 5, 1200);
        assert_eq!(m.progress.slices_done, 1);
        assert!((m.progress.fraction - 0.4).abs() < 1e-9);
        let done = m.clone().completed(2000);
        assert_eq!(done.status, Status::ProcessingComplete);
        assert_eq!(done.progress.fraction, 1.0);
        assert_eq!(done.timings.total_ms, 1000);
        let failed = m.failed("bad", 2000);
        assert_eq!(failed.error.as_deref(), Some("bad"));
        assert_eq!(failed.stage, Stage::Done);
    }

    #[test]
    fn stale_processing_settles_as_failed() {
        let m = Manifest::new(id(), "uploads/a.mp4".into(), 1000, 5000);
        assert!(!m.is_stale(4000));
        let s = m.settled(6000);
        assert_eq!(s.status, Status::ProcessingFailed);
        assert!(s.error.unwrap_or_default().contains("deadline"));
    }

    #[test]
    fn status_strings_match_the_earlier_service() {
        let json = serde_json::to_string(&Status::ProcessingComplete).expect("json");
        assert_eq!(json, "\"processing_complete\"");
        let json = serde_json::to_string(&Stage::Assembling).expect("json");
        assert_eq!(json, "\"assembling\"");
    }
}

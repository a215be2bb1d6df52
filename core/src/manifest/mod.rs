//! The per-video manifest (`processed/<id>/manifest.json`): status, stage,
//! progress, assets and errors, with its transitions as pure functions.

use crate::VideoId;
use serde::{Deserialize, Serialize};

mod download;
pub use download::{Download, DownloadKind};

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
    /// Milliseconds since processing began, when this was written.
    #[serde(default)]
    pub elapsed_ms: u64,
    /// Estimated milliseconds until every slice is encoded, once enough is
    /// done to tell (from the pace so far).
    #[serde(default)]
    pub eta_ms: Option<u64>,
}

/// How the video was encoded: the setting every slice job carried, so an
/// output says what made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderSummary {
    /// The video encoder (`x264`).
    pub video: String,
    /// Its preset.
    pub preset: String,
    /// Its constant rate factor under each rung's bitrate cap.
    pub crf: u32,
    /// Segment length, seconds (a keyframe starts every segment).
    pub segment_seconds: f64,
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

/// Where the video's subtitles are: separate from [`Status`], because
/// subtitles never hold back playback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TranscriptionStatus {
    /// Subtitles are off for this video (or it predates them).
    #[default]
    NotRequested,
    /// Requested; transcription starts once the video is playable.
    Pending,
    /// A speech engine is working on it.
    InProgress,
    /// Subtitles are published (`subtitles` lists them; it may be empty when no speech was heard).
    Completed,
    /// Transcription failed; `transcription.error` says why. The video itself is fine.
    Failed,
    /// The video has no audio track, so there is nothing to transcribe.
    NoAudio,
}

/// How long subtitles may stay `pending` after processing ended before they
/// count as failed (the coordinator stopped before starting the engine).
pub const PENDING_TRANSCRIPTION_MS: u64 = 15 * 60 * 1000;

/// One published subtitle track.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubtitleTrack {
    /// BCP 47 language tag.
    pub lang: String,
    /// Name for track menus.
    pub name: String,
    /// Key of the whole WebVTT file.
    pub vtt: String,
    /// Key of the SRT file.
    pub srt: String,
    /// Key of the HLS subtitle media playlist.
    pub playlist: String,
}

/// Details of the transcription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transcription {
    /// Engine (`aws`, `whisper`, `pocketsphinx`).
    pub engine: String,
    /// The engine's job name, for engines that run elsewhere (Amazon Transcribe).
    pub job: Option<String>,
    /// Unix ms it started.
    pub started_ms: u64,
    /// Unix ms it finished.
    pub finished_ms: Option<u64>,
    /// Unix ms after which an unfinished transcription counts as failed.
    pub deadline_ms: u64,
    /// Why it failed.
    pub error: Option<String>,
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
    /// Of the assembly: making the MP4 and M4A downloads (reading the
    /// segments, the remux, writing the files back to the store).
    #[serde(default)]
    pub downloads_ms: u64,
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
    /// Where the subtitles are.
    #[serde(default)]
    pub transcription_status: TranscriptionStatus,
    /// Engine, job and timing of the transcription, once started.
    #[serde(default)]
    pub transcription: Option<Transcription>,
    /// Published subtitle tracks.
    #[serde(default)]
    pub subtitles: Vec<SubtitleTrack>,
    /// Files to download (an MP4 and an M4A), once complete.
    #[serde(default)]
    pub downloads: Vec<Download>,
    /// How it was encoded, once planned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoder: Option<EncoderSummary>,
    /// Jobs whose stored results an earlier, interrupted run left and this
    /// run took over instead of encoding them again.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub resumed: u32,
    /// Failed because its coordinator stopped (killed, crashed, timed out),
    /// not because of the file: it may be resumed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub interrupted: bool,
    /// Whether the HLS stream plays: from when its start is published while
    /// the rest still encodes (`assets.hls_master` is then set), and once
    /// complete.
    #[serde(default, skip_serializing_if = "is_false")]
    pub playable: bool,
    /// Milliseconds from the claim (the upload's completion) until the video
    /// first played.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playable_after_ms: Option<u64>,
    /// Seconds of the video that play so far (the whole duration once complete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_until_s: Option<f64>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
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
            transcription_status: TranscriptionStatus::NotRequested,
            transcription: None,
            subtitles: Vec::new(),
            downloads: Vec::new(),
            encoder: None,
            resumed: 0,
            interrupted: false,
            playable: false,
            playable_after_ms: None,
            ready_until_s: None,
        }
    }

    /// A speech engine started on the video (`job`: its job name, when it runs elsewhere).
    pub fn transcription_started(
        mut self,
        engine: &str,
        job: Option<String>,
        now_ms: u64,
        deadline_ms: u64,
    ) -> Self {
        self.transcription_status = TranscriptionStatus::InProgress;
        self.transcription = Some(Transcription {
            engine: engine.to_owned(),
            job,
            started_ms: now_ms,
            finished_ms: None,
            deadline_ms,
            error: None,
        });
        self.updated_ms = now_ms;
        self
    }

    fn transcription_finished(
        mut self,
        status: TranscriptionStatus,
        error: Option<String>,
        now_ms: u64,
    ) -> Self {
        self.transcription_status = status;
        let t = self.transcription.get_or_insert_with(|| Transcription {
            engine: String::new(),
            job: None,
            started_ms: now_ms,
            finished_ms: None,
            deadline_ms: now_ms,
            error: None,
        });
        t.finished_ms = Some(now_ms);
        t.error = error.as_deref().map(crate::public::public_text);
        self.updated_ms = now_ms;
        self
    }

    /// Subtitles are published: `tracks` replace any earlier ones.
    pub fn with_subtitles(mut self, tracks: Vec<SubtitleTrack>, now_ms: u64) -> Self {
        self.subtitles = tracks;
        self.transcription_finished(TranscriptionStatus::Completed, None, now_ms)
    }

    /// Transcription failed; the video stays as it is.
    pub fn transcription_failed(self, reason: impl Into<String>, now_ms: u64) -> Self {
        self.transcription_finished(TranscriptionStatus::Failed, Some(reason.into()), now_ms)
    }

    /// True when a transcription is in progress past its deadline, or was
    /// promised (`pending`, which lasts only until the engine starts) but
    /// never started within [`PENDING_TRANSCRIPTION_MS`].
    pub fn transcription_is_stale(&self, now_ms: u64) -> bool {
        match self.transcription_status {
            TranscriptionStatus::InProgress => self
                .transcription
                .as_ref()
                .is_some_and(|t| now_ms > t.deadline_ms),
            TranscriptionStatus::Pending => {
                self.status != Status::Processing
                    && now_ms > self.updated_ms.saturating_add(PENDING_TRANSCRIPTION_MS)
            }
            _ => false,
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
        self,
        done: u32,
        total: u32,
        units_done: u32,
        units_total: u32,
        now_ms: u64,
    ) -> Self {
        let fraction = if units_total == 0 {
            0.0
        } else {
            f64::from(units_done) / f64::from(units_total)
        };
        self.with_live_progress(done, total, fraction, None, now_ms)
    }

    /// Sets the encoding progress from a fraction that counts the work of
    /// jobs still running, and an estimate of the time left.
    pub fn with_live_progress(
        mut self,
        done: u32,
        total: u32,
        fraction: f64,
        eta_ms: Option<u64>,
        now_ms: u64,
    ) -> Self {
        self.progress = Progress {
            fraction: if fraction.is_finite() {
                fraction.clamp(0.0, 1.0)
            } else {
                0.0
            },
            slices_done: done,
            slices_total: total,
            elapsed_ms: now_ms.saturating_sub(self.created_ms),
            eta_ms,
        };
        self.updated_ms = now_ms;
        self
    }

    /// Fails the video with a reason, made fit for the public first
    /// ([`public_text`](crate::public::public_text): no paths, URLs or secrets).
    pub fn failed(mut self, reason: impl Into<String>, now_ms: u64) -> Self {
        self.status = Status::ProcessingFailed;
        self.stage = Stage::Done;
        self.playable = false;
        self.error = Some(crate::public::public_text(&reason.into()));
        self.updated_ms = now_ms;
        self.timings.total_ms = now_ms.saturating_sub(self.created_ms);
        self
    }

    /// Records that the first `ready_until_s` seconds play through the HLS
    /// master `hls_master` while the rest still encodes.
    pub fn with_ready(mut self, ready_until_s: f64, hls_master: String, now_ms: u64) -> Self {
        self.playable = true;
        self.playable_after_ms
            .get_or_insert(now_ms.saturating_sub(self.created_ms));
        self.ready_until_s = Some(ready_until_s);
        self.assets.hls_master = Some(hls_master);
        self.updated_ms = now_ms;
        self
    }

    /// Marks the video complete: every output is written.
    pub fn completed(mut self, now_ms: u64) -> Self {
        self.playable = true;
        self.playable_after_ms
            .get_or_insert(now_ms.saturating_sub(self.created_ms));
        self.ready_until_s = self.duration_s;
        self.status = Status::ProcessingComplete;
        self.stage = Stage::Done;
        self.error = None;
        self.progress.fraction = 1.0;
        self.progress.slices_done = self.progress.slices_total;
        self.progress.elapsed_ms = now_ms.saturating_sub(self.created_ms);
        self.progress.eta_ms = None;
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
        if self.transcription_is_stale(now_ms) {
            return self.transcription_failed(
                "transcription did not finish before its deadline (the speech engine may have crashed); the video itself plays",
                now_ms,
            );
        }
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
mod tests;

//! Subtitles, after the video is playable.
//!
//! Once a video is `processing_complete`, [`transcribe`] extracts its speech
//! audio (16 kHz mono), hands it to a [`Transcriber`] and records
//! `transcription_status`. A local engine answers at once; Amazon Transcribe
//! answers later, through [`check_pending`] (called for its S3 event and from
//! status reads). [`publish`] then writes `subtitles/<lang>.vtt` and `.srt`,
//! the segmented WebVTT with its HLS playlist, and renders the master
//! playlist and the MPD again with the track (each a whole-object put, so a
//! player sees the old or the new file, never half of one).

use crate::{now_ms, read_manifest, write_manifest};
use async_trait::async_trait;
use bytes::Bytes;
use slicecast_core::job::SourceRef;
use slicecast_core::manifest::{Manifest, Status, SubtitleTrack, TranscriptionStatus};
use slicecast_core::presentation::{Presentation, TextTrack};
use slicecast_core::subtitles::{self, Cue, CueLimits, Word};
use slicecast_core::{VideoId, dash, hls, keys};
use slicecast_speech::{self as speech, Whisper};
use slicecast_storage::{BlobStore, StoreError};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tracing::{info, warn};

/// What a speech engine has to say about a video.
#[derive(Debug, Clone, PartialEq)]
pub enum Transcript {
    /// Finished: the language and the cues (possibly none: no speech heard).
    Done {
        /// The engine that made them (a fallback may stand in for the one asked).
        engine: &'static str,
        /// BCP 47 language tag.
        lang: String,
        /// Cues, in order.
        cues: Vec<Cue>,
    },
    /// Running elsewhere under this job name; ask again with [`Transcriber::check`].
    Pending {
        /// The engine's job name.
        job: String,
    },
    /// The engine gave up, for this reason.
    Failed {
        /// Why, for a person.
        reason: String,
    },
}

/// A speech engine could not be asked.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TranscribeError(pub String);

/// A speech-to-text engine.
#[async_trait]
pub trait Transcriber: Send + Sync + std::fmt::Debug {
    /// Its name in logs and the manifest (`aws`, `whisper`, `pocketsphinx`).
    fn engine(&self) -> &'static str;
    /// Starts on a video's speech audio: a 16 kHz mono file at `audio`.
    async fn start(&self, video: &VideoId, audio: &Path) -> Result<Transcript, TranscribeError>;
    /// Asks about a job [`Transcriber::start`] left pending. Engines that
    /// finish inside `start` leave no jobs, which is what this default says.
    async fn check(&self, _video: &VideoId, job: &str) -> Result<Transcript, TranscribeError> {
        Err(TranscribeError(format!(
            "{} finishes when it starts and has no job {job} to check",
            self.engine()
        )))
    }
    /// Longest a transcription of `duration_s` seconds may take before it counts as failed.
    fn deadline(&self, duration_s: f64) -> Duration {
        Duration::from_secs_f64(300.0 + 3.0 * duration_s.max(0.0))
    }
    /// File extension of the speech audio it wants (`wav` or `flac`).
    fn audio_extension(&self) -> &'static str {
        "wav"
    }
}

/// `SUBTITLE_ENGINE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineChoice {
    /// The best one available: Amazon Transcribe on AWS; locally Whisper when
    /// Python can run it (installed on first use), else pocketsphinx, else none.
    Auto,
    /// Amazon Transcribe (AWS only).
    Aws,
    /// faster-whisper tiny.en in its own venv.
    Whisper,
    /// ffmpeg's `asr` filter with pocketsphinx (no Python).
    Pocketsphinx,
    /// No subtitles.
    None,
}

/// Whisper, run locally.
#[derive(Debug)]
pub struct WhisperTranscriber {
    whisper: Whisper,
    fallback: Option<PocketsphinxTranscriber>,
}

impl WhisperTranscriber {
    /// Whisper in `venv` (installed there on first use).
    pub fn new(venv: std::path::PathBuf) -> Self {
        Self {
            whisper: Whisper::new(venv),
            fallback: None,
        }
    }

    /// With pocketsphinx to fall back on when Whisper cannot be installed
    /// (offline, no PyPI): what `auto` picks.
    pub fn with_fallback(mut self) -> Self {
        self.fallback = Some(PocketsphinxTranscriber);
        self
    }
}

/// A local engine's time limit for the 16 kHz mono 16-bit WAV at `audio`,
/// whose length is its size at 32 000 bytes a second.
fn engine_timeout(audio: &Path) -> Duration {
    let bytes = std::fs::metadata(audio).map_or(0, |m| m.len());
    speech::transcribe_timeout(bytes as f64 / 32_000.0)
}

/// A local engine's finished transcript: its words as cues.
fn done(engine: &'static str, lang: String, words: &[Word]) -> Transcript {
    Transcript::Done {
        engine,
        lang,
        cues: subtitles::cues(words, &CueLimits::default()),
    }
}

#[async_trait]
impl Transcriber for WhisperTranscriber {
    fn engine(&self) -> &'static str {
        "whisper"
    }
    async fn start(&self, video: &VideoId, audio: &Path) -> Result<Transcript, TranscribeError> {
        let notify = |msg: &str| {
            info!("{msg}");
            eprintln!("slicecast: {msg}");
        };
        if let Err(e) = self.whisper.ensure_installed(&notify).await {
            return match &self.fallback {
                Some(p) if speech::pocketsphinx_available() => {
                    warn!(error = %e, "Whisper is not available; falling back to pocketsphinx");
                    eprintln!(
                        "slicecast: Whisper is not available ({e}); using pocketsphinx instead"
                    );
                    p.start(video, audio).await
                }
                _ => Err(TranscribeError(e.to_string())),
            };
        }
        match self.whisper.transcribe(audio, engine_timeout(audio)).await {
            Ok((lang, words)) => Ok(done("whisper", lang, &words)),
            Err(e) => Ok(Transcript::Failed {
                reason: format!("Whisper could not transcribe the audio: {e}"),
            }),
        }
    }
}

/// pocketsphinx through ffmpeg's `asr` filter, run locally.
#[derive(Debug, Default)]
pub struct PocketsphinxTranscriber;

#[async_trait]
impl Transcriber for PocketsphinxTranscriber {
    fn engine(&self) -> &'static str {
        "pocketsphinx"
    }
    async fn start(&self, _video: &VideoId, audio: &Path) -> Result<Transcript, TranscribeError> {
        match speech::pocketsphinx_words(audio, engine_timeout(audio)).await {
            Ok(words) => Ok(done("pocketsphinx", "en".into(), &words)),
            Err(e) => Ok(Transcript::Failed {
                reason: format!("pocketsphinx could not transcribe the audio: {e}"),
            }),
        }
    }
}

/// The local engine for `choice` (`Aws` is not local: `None`), with the reason
/// for the choice, which the caller logs.
pub fn local_engine(choice: EngineChoice) -> (Option<Arc<dyn Transcriber>>, String) {
    let whisper =
        || -> Arc<dyn Transcriber> { Arc::new(WhisperTranscriber::new(Whisper::default_venv())) };
    let whisper_or_pocketsphinx = || -> Arc<dyn Transcriber> {
        Arc::new(WhisperTranscriber::new(Whisper::default_venv()).with_fallback())
    };
    match choice {
        EngineChoice::None => (None, "subtitles are off (SUBTITLE_ENGINE=none)".into()),
        EngineChoice::Aws => (
            None,
            "Amazon Transcribe runs only on AWS; no subtitles locally".into(),
        ),
        EngineChoice::Whisper => (
            Some(whisper()),
            format!(
                "subtitles by Whisper tiny.en (venv {})",
                Whisper::default_venv().display()
            ),
        ),
        EngineChoice::Pocketsphinx => (
            Some(Arc::new(PocketsphinxTranscriber)),
            "subtitles by pocketsphinx (ffmpeg asr)".into(),
        ),
        EngineChoice::Auto => {
            let venv = Whisper::default_venv();
            if Whisper::new(venv.clone()).is_installed() {
                (
                    Some(whisper()),
                    format!(
                        "subtitles by Whisper tiny.en (installed in {})",
                        venv.display()
                    ),
                )
            } else if Whisper::can_install() {
                (
                    Some(whisper_or_pocketsphinx()),
                    format!(
                        "subtitles by Whisper tiny.en (installed into {} on first use; pocketsphinx if that fails)",
                        venv.display()
                    ),
                )
            } else if speech::pocketsphinx_available() {
                (
                    Some(Arc::new(PocketsphinxTranscriber)),
                    "subtitles by pocketsphinx (ffmpeg asr); Python 3 with venv is not available for Whisper".into(),
                )
            } else {
                (
                    None,
                    "no speech engine available (install python3-venv for Whisper, or pocketsphinx-en-us); no subtitles".into(),
                )
            }
        }
    }
}

/// Transcribes a complete video and records the outcome (or, for an engine
/// that runs elsewhere, the pending job) in its manifest; returns the
/// manifest. Never fails the video: a transcription problem ends as
/// `transcription_status: failed` with the reason.
pub async fn transcribe(
    store: &dyn BlobStore,
    transcriber: &dyn Transcriber,
    manifest: Manifest,
    source: &SourceRef,
    audio_stream: Option<usize>,
) -> Result<Manifest, StoreError> {
    let id = manifest.video_id.clone();
    if manifest.status != Status::ProcessingComplete {
        return Ok(manifest);
    }
    if !manifest.has_audio {
        let mut m = manifest;
        m.transcription_status = TranscriptionStatus::NoAudio;
        write_manifest(store, &m).await?;
        return Ok(m);
    }
    let duration = manifest.duration_s.unwrap_or(0.0);
    let now = now_ms();
    let deadline = now + transcriber.deadline(duration).as_millis() as u64;
    let m = manifest.transcription_started(transcriber.engine(), None, now, deadline);
    write_manifest(store, &m).await?;
    info!(video.id = %id, engine = transcriber.engine(), "transcribing");
    let outcome = async {
        let dir =
            tempfile::tempdir().map_err(|e| TranscribeError(format!("scratch space: {e}")))?;
        let audio = dir
            .path()
            .join(format!("speech.{}", transcriber.audio_extension()));
        let timeout = Duration::from_secs_f64(120.0 + duration.max(0.0));
        speech::extract_speech_audio(
            &source.location,
            Some(&source.format_name),
            audio_stream,
            &audio,
            timeout,
        )
        .await
        .map_err(|e| TranscribeError(format!("extracting the speech audio failed: {e}")))?;
        transcriber.start(&id, &audio).await
    }
    .await;
    conclude(store, m, outcome).await
}

/// Records what an engine said: publishes a finished transcript, keeps a
/// pending job's name, or records a failure.
async fn conclude(
    store: &dyn BlobStore,
    m: Manifest,
    outcome: Result<Transcript, TranscribeError>,
) -> Result<Manifest, StoreError> {
    let id = m.video_id.clone();
    let m = match outcome {
        Ok(Transcript::Done { engine, lang, cues }) => match publish(store, &m, &lang, &cues).await
        {
            Ok(tracks) => {
                let mut m = m;
                if let Some(t) = m.transcription.as_mut() {
                    t.engine = engine.to_owned();
                }
                info!(video.id = %id, tracks = tracks.len(), cues = cues.len(), "subtitles published");
                m.with_subtitles(tracks, now_ms())
            }
            Err(e) => {
                m.transcription_failed(format!("writing the subtitles failed: {e}"), now_ms())
            }
        },
        Ok(Transcript::Pending { job }) => {
            info!(video.id = %id, job = %job, "transcription job started");
            let mut m = m;
            if let Some(t) = m.transcription.as_mut() {
                t.job = Some(job);
            }
            m
        }
        Ok(Transcript::Failed { reason }) => {
            warn!(video.id = %id, reason = %reason, "transcription failed");
            m.transcription_failed(reason, now_ms())
        }
        Err(e) => {
            warn!(video.id = %id, error = %e, "transcription failed");
            m.transcription_failed(e.0, now_ms())
        }
    };
    write_manifest(store, &m).await?;
    Ok(m)
}

/// Asks the engine about a video's pending transcription job and records the
/// answer; `job` (from an S3 event) must match the manifest's, when given.
/// Returns the manifest as it now stands (`None`: no such video).
pub async fn check_pending(
    store: &dyn BlobStore,
    transcriber: &dyn Transcriber,
    id: &VideoId,
    job: Option<&str>,
) -> Result<Option<Manifest>, StoreError> {
    let Some(m) = read_manifest(store, id).await? else {
        return Ok(None);
    };
    let pending = m
        .transcription
        .as_ref()
        .and_then(|t| t.job.clone())
        .filter(|_| m.transcription_status == TranscriptionStatus::InProgress);
    let Some(pending) = pending else {
        return Ok(Some(m));
    };
    if job.is_some_and(|j| j != pending) {
        info!(video.id = %id, job = ?job, current = %pending, "an event for an earlier transcription job; ignored");
        return Ok(Some(m));
    }
    match transcriber.check(id, &pending).await {
        Ok(Transcript::Pending { .. }) => Ok(Some(m)),
        outcome => conclude(store, m, outcome).await.map(Some),
    }
}

/// Writes the subtitle files of one language and renders the master playlist
/// and the MPD again with the track; returns the video's subtitle tracks
/// (none when `cues` is empty: no speech was heard).
pub async fn publish(
    store: &dyn BlobStore,
    m: &Manifest,
    lang: &str,
    cues: &[Cue],
) -> Result<Vec<SubtitleTrack>, StoreError> {
    let id = &m.video_id;
    if cues.is_empty() {
        return Ok(Vec::new());
    }
    let lang = subtitles::language_tag(lang);
    let track = TextTrack {
        name: subtitles::language_name(&lang),
        lang: lang.clone(),
    };
    let vtt = keys::subtitles(id, &keys::subtitle_file(&lang, "vtt"));
    let srt = keys::subtitles(id, &keys::subtitle_file(&lang, "srt"));
    store
        .put(&vtt, Bytes::from(subtitles::webvtt(cues)))
        .await?;
    store.put(&srt, Bytes::from(subtitles::srt(cues))).await?;
    let playlist = keys::hls(id, &hls::subtitle_playlist_name(&track));
    let presentation = match store.get(&keys::presentation(id)).await {
        Ok(b) => serde_json::from_slice::<Presentation>(&b).ok(),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e),
    };
    if let Some(mut p) = presentation {
        if let Some(grid) = p.video.first() {
            let ts = f64::from(grid.timescale.max(1));
            let bounds: Vec<(f64, f64)> = grid
                .segments
                .iter()
                .map(|s| (s.start as f64 / ts, (s.start + s.duration) as f64 / ts))
                .collect();
            for (seg, text) in grid
                .segments
                .iter()
                .zip(subtitles::segment_webvtt(cues, &bounds))
            {
                store
                    .put(
                        &keys::subtitle_segment(id, &lang, seg.number),
                        Bytes::from(text),
                    )
                    .await?;
            }
            store
                .put(&playlist, Bytes::from(hls::subtitle_playlist(&track, grid)))
                .await?;
        }
        p.subtitles.retain(|t| t.lang != lang);
        p.subtitles.push(track.clone());
        if let Some(master) = &m.assets.hls_master {
            store
                .put(master, Bytes::from(hls::master_playlist(&p)))
                .await?;
        }
        if let Some(mpd) = &m.assets.dash_mpd {
            store.put(mpd, Bytes::from(dash::mpd(&p))).await?;
        }
        let json = serde_json::to_string(&p).map_err(|e| StoreError::Io {
            key: keys::presentation(id),
            source: std::io::Error::other(e),
        })?;
        store
            .put(&keys::presentation(id), Bytes::from(json))
            .await?;
    } else {
        warn!(video.id = %id, "no presentation.json (processed by an older version): subtitle files written, playlists left as they are");
    }
    let mut tracks: Vec<SubtitleTrack> = m
        .subtitles
        .iter()
        .filter(|t| t.lang != lang)
        .cloned()
        .collect();
    tracks.push(SubtitleTrack {
        lang: track.lang,
        name: track.name,
        vtt,
        srt,
        playlist,
    });
    Ok(tracks)
}

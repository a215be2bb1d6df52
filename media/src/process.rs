//! The one way slicecast runs a child process.

use std::ffi::OsString;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt};
use tokio::process::Command;

/// How much of a child's stderr is kept for error messages.
pub const STDERR_TAIL_BYTES: usize = 16 * 1024;

/// A child process failed.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The program is not installed.
    #[error("`{program}` was not found; install it (on Debian: apt-get install -y ffmpeg)")]
    NotFound {
        /// Program name.
        program: String,
    },
    /// It ran past its timeout and was killed.
    #[error("`{program}` did not finish within {timeout:?} and was stopped")]
    Timeout {
        /// Program name.
        program: String,
        /// The limit.
        timeout: Duration,
        /// Last lines of its stderr.
        stderr_tail: String,
    },
    /// It exited unsuccessfully.
    #[error("`{program}` failed ({status}): {}", last_lines(stderr_tail, 3))]
    Failed {
        /// Program name.
        program: String,
        /// Exit status as text.
        status: String,
        /// Last lines of its stderr.
        stderr_tail: String,
    },
    /// Spawning or talking to it failed.
    #[error("could not run `{program}`: {source}")]
    Io {
        /// Program name.
        program: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl ProcessError {
    /// The stderr tail, when there is one.
    pub fn stderr_tail(&self) -> &str {
        match self {
            Self::Timeout { stderr_tail, .. } | Self::Failed { stderr_tail, .. } => stderr_tail,
            _ => "",
        }
    }
    /// True for failures worth another try (timeouts, I/O trouble); false when
    /// the program is missing.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, Self::NotFound { .. })
    }
}

/// The last `n` non-empty lines of `s`, joined with " | ".
pub fn last_lines(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

/// What a successful run produced.
#[derive(Debug, Clone)]
pub struct Output {
    /// All of stdout.
    pub stdout: Vec<u8>,
    /// The last [`STDERR_TAIL_BYTES`] of stderr.
    pub stderr_tail: String,
}

async fn read_tail<R: tokio::io::AsyncRead + Unpin>(
    mut r: R,
    tail: Arc<Mutex<Vec<u8>>>,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; 8192];
    loop {
        let n = r.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        let mut t = tail
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        t.extend_from_slice(&buf[..n]);
        if t.len() > 2 * STDERR_TAIL_BYTES {
            let cut = t.len() - STDERR_TAIL_BYTES;
            t.drain(..cut);
        }
    }
}

/// The kept stderr tail, with the query strings of URLs removed: the tail
/// goes to logs, and presigned URLs carry credentials there.
fn tail_string(bytes: &[u8]) -> String {
    let start = bytes.len().saturating_sub(STDERR_TAIL_BYTES);
    slicecast_core::public::redact_queries(&String::from_utf8_lossy(&bytes[start..]))
}

/// Runs `program args…` with no stdin, capturing stdout and a bounded stderr
/// tail, killing it after `timeout` (and whenever the future is dropped).
pub async fn run(
    program: &str,
    args: &[OsString],
    timeout: Duration,
) -> Result<Output, ProcessError> {
    run_inner(program, args, timeout, None).await
}

/// Like [`run`], but hands each line of stdout to `on_line` as it comes
/// (e.g. ffmpeg's `-progress pipe:1` reports) instead of keeping it: the
/// returned [`Output::stdout`] is empty.
pub async fn run_streaming(
    program: &str,
    args: &[OsString],
    timeout: Duration,
    on_line: &(dyn Fn(&str) + Send + Sync),
) -> Result<Output, ProcessError> {
    run_inner(program, args, timeout, Some(on_line)).await
}

async fn read_stdout<R: tokio::io::AsyncRead + Unpin>(
    mut r: R,
    on_line: Option<&(dyn Fn(&str) + Send + Sync)>,
) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    match on_line {
        None => {
            r.read_to_end(&mut out).await?;
        }
        Some(f) => {
            // Bytes, not `lines()`: a line that is not UTF-8 must not end the run.
            let mut reader = tokio::io::BufReader::new(r);
            let mut line = Vec::new();
            while reader.read_until(b'\n', &mut line).await? > 0 {
                f(String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']));
                line.clear();
            }
        }
    }
    Ok(out)
}

async fn run_inner(
    program: &str,
    args: &[OsString],
    timeout: Duration,
    on_line: Option<&(dyn Fn(&str) + Send + Sync)>,
) -> Result<Output, ProcessError> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            ProcessError::NotFound {
                program: program.to_owned(),
            }
        } else {
            ProcessError::Io {
                program: program.to_owned(),
                source,
            }
        }
    })?;
    let io_err = |source| ProcessError::Io {
        program: program.to_owned(),
        source,
    };
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| io_err(std::io::Error::other("no stdout pipe")))?;
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| io_err(std::io::Error::other("no stderr pipe")))?;
    let tail = Arc::new(Mutex::new(Vec::new()));
    let tail_now = || {
        tail_string(
            &tail
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    };
    let work = async {
        let (o, e, status) = tokio::join!(
            read_stdout(stdout, on_line),
            read_tail(stderr, tail.clone()),
            child.wait()
        );
        e?;
        Ok::<_, std::io::Error>((o?, status?))
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(Ok((stdout, status))) => {
            let stderr_tail = tail_now();
            if status.success() {
                Ok(Output {
                    stdout,
                    stderr_tail,
                })
            } else {
                Err(ProcessError::Failed {
                    program: program.to_owned(),
                    status: status.to_string(),
                    stderr_tail,
                })
            }
        }
        Ok(Err(source)) => Err(io_err(source)),
        Err(_) => Err(ProcessError::Timeout {
            program: program.to_owned(),
            timeout,
            stderr_tail: tail_now(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[tokio::test]
    async fn captures_stdout_and_failure_tail() {
        let out = run(
            "sh",
            &a(&["-c", "echo hi; echo warn >&2"]),
            Duration::from_secs(5),
        )
        .await
        .expect("ok");
        assert_eq!(out.stdout, b"hi\n");
        assert_eq!(out.stderr_tail.trim(), "warn");
        let err = run(
            "sh",
            &a(&["-c", "echo boom >&2; exit 3"]),
            Duration::from_secs(5),
        )
        .await
        .expect_err("fails");
        assert!(matches!(err, ProcessError::Failed { .. }));
        assert!(err.to_string().contains("boom"), "{err}");
    }

    #[tokio::test]
    async fn streams_stdout_lines_as_they_come() {
        let seen = Mutex::new(Vec::new());
        let push = |l: &str| seen.lock().expect("lock").push(l.to_owned());
        let out = run_streaming(
            "sh",
            &a(&[
                "-c",
                "echo frame=1; printf '\\377\\n'; sleep 0.1; printf 'frame=2'; echo done >&2",
            ]),
            Duration::from_secs(5),
            &push,
        )
        .await
        .expect("ok");
        assert!(out.stdout.is_empty());
        assert_eq!(out.stderr_tail.trim(), "done");
        assert_eq!(
            *seen.lock().expect("lock"),
            ["frame=1", "\u{fffd}", "frame=2"]
        );
    }

    #[tokio::test]
    async fn times_out_and_reports_missing_programs() {
        let err = run("sleep", &a(&["10"]), Duration::from_millis(200))
            .await
            .expect_err("timeout");
        assert!(matches!(err, ProcessError::Timeout { .. }));
        let err = run("definitely-not-a-program-xyz", &[], Duration::from_secs(1))
            .await
            .expect_err("missing");
        assert!(matches!(err, ProcessError::NotFound { .. }));
        assert!(!err.is_retryable());
    }

    #[tokio::test]
    async fn keeps_only_a_bounded_tail() {
        let err = run(
            "sh",
            &a(&[
                "-c",
                "yes 0123456789 | head -c 200000 >&2; echo END >&2; exit 1",
            ]),
            Duration::from_secs(5),
        )
        .await
        .expect_err("fails");
        let tail = err.stderr_tail();
        assert!(tail.len() <= STDERR_TAIL_BYTES);
        assert!(tail.ends_with("END\n"));
    }
}

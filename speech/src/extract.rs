//! The speech audio of a source: 16 kHz mono, through the input policy.

#[allow(clippy::wildcard_imports)]
use crate::*;

/// ffmpeg's arguments to write the speech audio of `location` (read under the
/// [input policy](slicecast_media::input), its probed `source_format` pinned when known)
/// to `out` as 16 kHz mono 16-bit `format` (`flac` or `wav`).
pub(crate) fn extract_args(
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
    let mut args = slicecast_media::args::ffmpeg_prelude();
    args.extend(slicecast_media::input::input_args(location, source_format));
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
/// policy](slicecast_media::input) with `source_format` (the probe's format name)
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
    if let Err(source) = process::run(&slicecast_media::ffmpeg_bin(), &args, timeout).await {
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
    args.extend(slicecast_media::input::input_args(location, None));
    let out = process::run(&slicecast_media::ffprobe_bin(), &args, timeout)
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

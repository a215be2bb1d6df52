//! ffprobe: run it, and parse what it says (pure functions, tested on real output).

use crate::ffprobe_json::{Output, Stream};
use crate::input;
use crate::process::{self, ProcessError, last_lines};
use slicecast_core::source_info::{
    AudioStream, FrameIndex, Probe, Rational, Transfer, VideoStream,
};
use std::ffi::OsString;
use std::time::Duration;

/// Why a source could not be probed; messages are meant for the person who uploaded it.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// ffprobe could not read the file at all. The sentence says why in
    /// plain words ([`plain_reason`]); ffprobe's own words go to the log.
    #[error("the file could not be read as a video: {}", plain_reason(detail))]
    Unreadable {
        /// ffprobe's last words.
        detail: String,
    },
    /// The file has no video stream.
    #[error("the file has no video stream{}", if *.has_audio { " (it looks like an audio-only file)" } else { "" })]
    NoVideo {
        /// Whether it has audio.
        has_audio: bool,
    },
    /// The source is outside what slicecast accepts.
    #[error("{0}")]
    Unsupported(String),
    /// The file is of a kind slicecast never opens (a playlist, a concat list,
    /// an image, text …): the input policy refused it before reading it.
    #[error("{0}")]
    NotAccepted(String),
    /// The source is valid but larger than this deployment's limits.
    #[error("{0}")]
    OverLimit(String),
    /// The video stream has no decodable frames.
    #[error("the video stream has no frames (the file may be truncated or empty)")]
    NoFrames,
    /// The data stops before the container says the video ends.
    #[error(
        "the file is truncated: its video data stops at {data_ends_s:.1} s{} (was the upload interrupted?)",
        declared_s.map(|d| format!(" of {d:.1} s")).unwrap_or_default()
    )]
    Truncated {
        /// Where the frames stop, seconds.
        data_ends_s: f64,
        /// The duration the container declares, when known.
        declared_s: Option<f64>,
    },
    /// ffprobe's output made no sense.
    #[error("ffprobe output could not be parsed: {0}")]
    Parse(String),
    /// Running ffprobe failed for another reason.
    #[error(transparent)]
    Process(ProcessError),
}

impl ProbeError {
    /// True when the input itself is at fault (no retry will help).
    pub fn is_input_error(&self) -> bool {
        !matches!(self, Self::Process(_))
    }
}

/// Parses `ffprobe -show_format -show_streams -of json` (through the typed
/// [`ffprobe_json`](crate::ffprobe_json) structs). The first video stream that
/// is not a cover picture (nor, when another is moving, a still picture in a
/// track of its own) and the first audio stream are kept. A stream
/// without a codec name is one ffmpeg cannot decode; a missing size stays 0
/// for [`require_video`] to refuse with its sentence.
pub fn parse_probe(json: &str) -> Result<Probe, ProbeError> {
    let out: Output = serde_json::from_str(json).map_err(|e| ProbeError::Parse(e.to_string()))?;
    let format = out.format.ok_or_else(|| ProbeError::Unreadable {
        detail: "no container format recognised".into(),
    })?;
    let codec = |s: &Stream, kind: &str| {
        s.codec_name.clone().ok_or_else(|| {
            ProbeError::Unsupported(format!(
                "the {kind} stream is in a format ffmpeg cannot decode"
            ))
        })
    };
    let videos = || {
        out.streams
            .iter()
            .filter(|s| s.is("video") && !s.is_attached_picture())
    };
    let video = match videos()
        .find(|s| !s.looks_still())
        .or_else(|| videos().next())
    {
        None => None,
        Some(s) => Some(VideoStream {
            index: s.index.u32().unwrap_or(0),
            codec: codec(s, "video")?,
            width: s.width.u32().unwrap_or(0),
            height: s.height.u32().unwrap_or(0),
            sample_aspect: s
                .sample_aspect_ratio
                .as_deref()
                .and_then(|r| Rational::parse(&r.replace(':', "/")))
                .unwrap_or(Rational::new(1, 1)),
            rotation: s.rotation(),
            frame_rate: Stream::rational(&s.r_frame_rate),
            avg_frame_rate: Stream::rational(&s.avg_frame_rate),
            time_base: Stream::rational(&s.time_base).unwrap_or(Rational::new(1, 90_000)),
            pix_fmt: s.pix_fmt.clone(),
            interlaced: matches!(s.field_order.as_deref(), Some("tt" | "bb" | "tb" | "bt")),
            transfer: Transfer::from_ffprobe(s.color_transfer.as_deref()),
            full_range: s.color_range.as_deref() == Some("pc"),
        }),
    };
    // An audio stream ffmpeg cannot decode is left out (the video plays
    // silent) rather than failing the video.
    let audio = out
        .streams
        .iter()
        .find(|s| s.is("audio") && s.codec_name.is_some())
        .map(|s| AudioStream {
            index: s.index.u32().unwrap_or(0),
            codec: s.codec_name.clone().unwrap_or_default(),
            sample_rate: s.sample_rate.u32().unwrap_or(0),
            channels: s.channels.u32().unwrap_or(0),
            duration_s: s.duration.0,
            start_time_s: s.start_time.0,
        });
    Ok(Probe {
        format_name: format.format_name.unwrap_or_default(),
        duration_s: format.duration.0.unwrap_or(0.0),
        start_time_s: format.start_time.0.unwrap_or(0.0),
        bit_rate: format.bit_rate.0.filter(|b| *b >= 0.0).map(|b| b as u64),
        video,
        audio,
    })
}

pub use crate::truncation::{check_complete, complete_or_truncated};
pub use packets::{packet_discontinuities, parse_frames, parse_packets, synthesized_index};

/// Largest picture side slicecast accepts (the H.264 encoder's limit).
pub const MAX_SIDE: u32 = 16_384;

/// Checks that a probe describes something slicecast can transcode.
pub fn require_video(probe: &Probe) -> Result<&VideoStream, ProbeError> {
    let v = probe.video.as_ref().ok_or(ProbeError::NoVideo {
        has_audio: probe.audio.is_some(),
    })?;
    if v.width == 0 || v.height == 0 {
        return Err(ProbeError::Unreadable {
            detail: format!("the {} video stream has no picture size", v.codec),
        });
    }
    if v.width > MAX_SIDE || v.height > MAX_SIDE {
        return Err(ProbeError::Unsupported(format!(
            "the picture is {}×{}; slicecast accepts at most {MAX_SIDE} pixels per side",
            v.width, v.height
        )));
    }
    Ok(v)
}

/// A video stream's frames, and how many times its timestamps restart.
#[derive(Debug, Clone)]
pub struct Indexed {
    /// Every frame, in presentation order.
    pub frames: FrameIndex,
    /// Restarts of the decode timestamps (0 for an ordinary file).
    pub discontinuities: u32,
}

fn a(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// Why ffmpeg could not read a file, for the person who uploaded it, from
/// ffmpeg's last words (which are for the log: codec jargon, byte offsets).
/// Known causes get their own sentence; anything else a general one.
pub fn plain_reason(ffmpeg_says: &str) -> &'static str {
    let s = ffmpeg_says.to_ascii_lowercase();
    let known: [(&[&str], &'static str); 6] = [
        (
            &["moov atom not found"],
            "it is an MP4 or MOV file whose index is missing, which happens when a recording or an upload was cut short",
        ),
        (
            &["end of file", "truncated", "partial file"],
            "it ends before any complete video data (was the upload cut short?)",
        ),
        (
            &[
                "no picture size",
                "could not find codec parameters",
                "unspecified size",
            ],
            "its video stream does not say how large its pictures are, so it cannot be decoded",
        ),
        (
            &["no container format", "found no streams"],
            "no video or audio was found in it",
        ),
        (
            &[
                "invalid data found",
                "invalid argument",
                "error reading header",
                "is not implemented",
                "unknown format",
            ],
            "its contents are not in a video format slicecast recognises, or are damaged",
        ),
        (
            &["out of memory", "cannot allocate"],
            "it needs more memory to read than this service allows",
        ),
    ];
    known
        .iter()
        .find(|(needles, _)| needles.iter().any(|n| s.contains(n)))
        .map_or(
            "it is damaged, or not in a video format slicecast recognises",
            |(_, sentence)| sentence,
        )
}

/// Maps an ffprobe failure to a user-facing error, without the (internal) file location.
fn unreadable(location: &str, e: ProcessError) -> ProbeError {
    match e {
        ProcessError::Failed {
            ref stderr_tail, ..
        } => {
            if let Some(demuxer) = input::refused_demuxer(stderr_tail) {
                return ProbeError::NotAccepted(input::refusal(demuxer));
            }
            let (_, given) = input::protocols_for(location);
            let detail = last_lines(stderr_tail, 1)
                .replace(&format!("{given}: "), "")
                .replace(&format!("{location}: "), "");
            tracing::warn!(ffprobe = %detail, "the upload could not be read");
            ProbeError::Unreadable {
                detail: if detail.is_empty() {
                    "ffprobe found no streams".into()
                } else {
                    detail
                },
            }
        }
        other => ProbeError::Process(other),
    }
}

/// Runs ffprobe on a path or URL, under the [input policy](crate::input):
/// a file of a kind slicecast does not open is refused before it is read.
pub async fn probe(location: &str, timeout: Duration) -> Result<Probe, ProbeError> {
    let mut args = a(&[
        "-v",
        "error",
        "-show_format",
        "-show_streams",
        "-of",
        "json",
    ]);
    args.extend(input::input_args(location, None));
    let out = process::run(&crate::ffprobe_bin(), &args, timeout)
        .await
        .map_err(|e| unreadable(location, e))?;
    parse_probe(&String::from_utf8_lossy(&out.stdout))
}

/// Runs `ffprobe -show_entries <entries> -of <of>` on one stream; returns
/// its stdout and stderr tail.
async fn scan(
    location: &str,
    format_name: &str,
    stream: &VideoStream,
    (entries, of): (&str, &str),
    interval: Option<&str>,
    timeout: Duration,
) -> Result<(String, String), ProbeError> {
    let sel = stream.index.to_string();
    let mut args = a(&[
        "-v",
        "error",
        "-select_streams",
        &sel,
        "-show_entries",
        entries,
        "-of",
        of,
    ]);
    if let Some(interval) = interval {
        args.extend(a(&["-read_intervals", interval]));
    }
    args.extend(input::input_args(location, Some(format_name)));
    let out = process::run(&crate::ffprobe_bin(), &args, timeout)
        .await
        .map_err(|e| unreadable(location, e))?;
    Ok((
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.stderr_tail,
    ))
}

const PACKETS: (&str, &str) = ("packet=pts,dts,size,flags", "csv=p=0");

/// The video stream's packet list (`pts,dts,size,flags` lines) and ffprobe's
/// last words: from several readers at once for a long MP4 (see
/// [`intervals`]), from one otherwise, or when the readers' lists do not join.
async fn packet_list(
    location: &str,
    probe: &Probe,
    stream: &VideoStream,
    timeout: Duration,
) -> Result<(String, String), ProbeError> {
    let format_name = probe.format_name.as_str();
    let readers = intervals::readers_for(format_name, probe.duration_s);
    if readers > 1 {
        let spans = intervals::intervals(probe.start_time_s, probe.duration_s, readers);
        let scans = futures::future::join_all(
            spans
                .iter()
                .map(|span| scan(location, format_name, stream, PACKETS, Some(span), timeout)),
        )
        .await;
        if let Ok(parts) = scans.into_iter().collect::<Result<Vec<_>, _>>() {
            let (lists, last_words): (Vec<String>, Vec<String>) = parts.into_iter().unzip();
            if let Some(list) = intervals::join(&lists) {
                return Ok((list, last_words.join("\n")));
            }
        }
        tracing::info!(
            readers,
            "the readers' packet lists do not join: reading the file whole"
        );
    }
    scan(location, format_name, stream, PACKETS, None, timeout).await
}

/// Lists every frame of a video stream from its packets (no decoding). Falls
/// back to decoding when packets cannot place every frame (no timestamps,
/// repeated ones); numbers the frames of a raw stream that has no timestamps
/// at all as ffmpeg's decoder does. The probe's format is pinned for the
/// read; a long MP4 is read by several readers at once.
pub async fn frame_index(
    location: &str,
    probe: &Probe,
    stream: &VideoStream,
    timeout: Duration,
) -> Result<Indexed, ProbeError> {
    frame_index_listed(location, probe, stream, timeout, None).await
}

/// [`frame_index`] from a listing of every stream made beside the probe,
/// when it [serves](listing::serves) this file; without it (or when it does
/// not serve), from the video stream's own listing.
pub async fn frame_index_listed(
    location: &str,
    probe: &Probe,
    stream: &VideoStream,
    timeout: Duration,
    listed: Option<listing::Listing>,
) -> Result<Indexed, ProbeError> {
    let tb = stream.time_base;
    let format_name = probe.format_name.as_str();
    let (csv, stderr) = match listed.filter(|_| listing::serves(probe)) {
        Some(l) => l.stream(stream.index),
        None => packet_list(location, probe, stream, timeout).await?,
    };
    let (mut frames, mut missing) = parse_packets(&csv, tb);
    if stderr.contains("partial file") {
        return Err(ProbeError::Truncated {
            data_ends_s: frames.span_s(),
            declared_s: None,
        });
    }
    if frames.is_empty() && missing > 0 && input::is_elementary_stream(format_name) {
        // A raw stream without a single timestamp: ffmpeg numbers its frames
        // at the nominal rate when it decodes them, and so does the index.
        frames = synthesized_index(&csv, stream);
        missing = 0;
    }
    let discontinuities = packet_discontinuities(&csv, tb);
    if missing == 0 && !frames.is_empty() {
        return Ok(Indexed {
            frames,
            discontinuities,
        });
    }
    tracing::info!(
        missing,
        "packets that do not place every frame; indexing frames by decoding"
    );
    let (text, _) = scan(
        location,
        format_name,
        stream,
        ("frame=key_frame,best_effort_timestamp", "compact=p=0"),
        None,
        timeout,
    )
    .await?;
    let frames = parse_frames(&text, tb);
    if frames.is_empty() {
        return Err(ProbeError::NoFrames);
    }
    Ok(Indexed {
        frames,
        discontinuities,
    })
}

/// The frames of a video stream's first `seconds`, from its packets read
/// from the start of the file (`-read_intervals %+seconds`): enough to plan
/// the first slice while the whole file is still being indexed. `None` when
/// those packets do not place every frame plainly (missing or restarting
/// timestamps), which only the whole index can settle.
pub async fn head_index(
    location: &str,
    probe: &Probe,
    stream: &VideoStream,
    seconds: f64,
    timeout: Duration,
) -> Result<Option<FrameIndex>, ProbeError> {
    let interval = format!("%+{seconds:.3}");
    let (csv, _) = scan(
        location,
        &probe.format_name,
        stream,
        PACKETS,
        Some(&interval),
        timeout,
    )
    .await?;
    let tb = stream.time_base;
    let (frames, missing) = parse_packets(&csv, tb);
    let plain = missing == 0 && !frames.is_empty() && packet_discontinuities(&csv, tb) == 0;
    Ok(plain.then_some(frames))
}

pub mod intervals;
pub mod listing;
mod packets;
#[cfg(test)]
mod tests;

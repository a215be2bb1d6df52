//! ffprobe: run it, and parse what it says (pure functions, tested on real output).

use crate::ffprobe_json::{Output, Stream};
use crate::input;
use crate::process::{self, ProcessError, last_lines};
use slicecast_core::source_info::{AudioStream, FrameIndex, Probe, Rational, VideoStream};
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

/// Parses `ffprobe -show_entries packet=pts,dts,size,flags -of csv=p=0`
/// (ffprobe prints them in that order; `pts,flags` and `pts,dts,flags` are
/// read too) into a frame index, with each frame's size when every line has one. Packets flagged for discard are skipped. Returns the index and
/// how many packets it could not place: those without a pts (a dts says
/// when a frame is decoded, not when it is shown: MPEG-PS, raw MPEG video and
/// AVI leave pts out), and those whose pts repeats another's (one field of a
/// field-coded picture): only decoding tells where those frames are.
pub fn parse_packets(csv: &str, time_base: Rational) -> (FrameIndex, usize) {
    let mut packets = Vec::new();
    let mut missing = 0;
    let mut sized = true;
    for line in csv.lines() {
        let f = packet_fields(line);
        if f.len() < 2 || f[0].is_empty() {
            continue;
        }
        let (ts, flags) = (f[0].parse::<i64>().ok(), f[f.len() - 1]);
        if flags.contains('D') {
            continue;
        }
        let key = flags.starts_with('K') || flags == "1";
        // pts,dts,size,flags: the size is there when four columns are.
        let size = if f.len() >= 4 {
            f[2].parse().ok()
        } else {
            None
        };
        sized &= size.is_some();
        match ts {
            Some(t) => packets.push((t, key, size.unwrap_or(0))),
            None => missing += 1,
        }
    }
    let listed = packets.len();
    let leading = drop_leading_pictures(&mut packets);
    let mut index = FrameIndex::from_sized_packets(time_base, packets);
    if !sized {
        index.bytes.clear();
    }
    let repeated = listed - leading - index.len();
    (index, missing + repeated)
}

/// Drops the pictures no decoder shows: those before the first keyframe in
/// decode order (a capture that starts mid-GOP has no picture they build
/// on), and those after it that are shown before it (an open GOP's leading
/// pictures, which refer to the GOP before). Without any keyframe, none.
/// Returns how many it dropped. `packets` are (pts, key, size) in decode order.
fn drop_leading_pictures(packets: &mut Vec<(i64, bool, u32)>) -> usize {
    let Some(first_key) = packets.iter().position(|p| p.1) else {
        return 0;
    };
    let before = packets.len();
    let shown_from = packets[first_key].0;
    packets.drain(..first_key);
    packets.retain(|p| p.0 >= shown_from);
    before - packets.len()
}

/// The fields of one line of ffprobe's packet csv, flags last. A packet
/// with side data (every MPEG-TS packet has some) ends its line with an
/// empty field for it, which is dropped: it is not the flags.
fn packet_fields(line: &str) -> Vec<&str> {
    let mut f: Vec<&str> = line.trim().split(',').collect();
    while f.len() > 1 && f.last().is_some_and(|x| x.trim().is_empty()) {
        f.pop();
    }
    f
}

/// How many times the decode timestamps in `ffprobe -show_entries
/// packet=pts,dts,size,flags -of csv=p=0` restart (see
/// [`discontinuities`](slicecast_core::timeline::discontinuities)); packets
/// flagged for discard or without a dts are skipped.
pub fn packet_discontinuities(csv: &str, time_base: Rational) -> u32 {
    let dts: Vec<i64> = csv
        .lines()
        .filter_map(|line| {
            let f = packet_fields(line);
            if f.len() < 3 || f[f.len() - 1].contains('D') {
                return None;
            }
            f[1].parse().ok()
        })
        .collect();
    slicecast_core::timeline::discontinuities(&dts, time_base)
}

/// The index ffmpeg's decoder implies for a raw elementary stream that has
/// no timestamps: frame `n` (in decode order; such streams' keyframes are
/// where display order meets it) at `n` frame durations of the nominal
/// rate (25 fps when the stream names none), as `ffmpeg` numbers them when
/// it decodes the stream. Packets flagged for discard are skipped.
pub fn synthesized_index(csv: &str, stream: &VideoStream) -> FrameIndex {
    let tb = stream.time_base;
    let rate = stream
        .frame_rate
        .filter(|r| r.num > 0 && r.den > 0)
        .unwrap_or(Rational::new(25, 1));
    // Ticks per frame = (1 / rate) / tb, rounded; at least one.
    let per_frame = if tb.num > 0 && tb.den > 0 {
        let num = i128::from(rate.den) * i128::from(tb.den);
        let den = i128::from(rate.num) * i128::from(tb.num);
        i64::try_from((num + den / 2) / den).unwrap_or(1).max(1)
    } else {
        1
    };
    let packets = csv
        .lines()
        .filter_map(|line| {
            let f = packet_fields(line);
            let flags = f.last().filter(|_| f.len() >= 2)?;
            (!flags.contains('D')).then(|| flags.starts_with('K'))
        })
        .enumerate()
        .map(|(n, key)| ((n as i64).saturating_mul(per_frame), key))
        .collect();
    FrameIndex::from_packets(tb, packets)
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

/// Parses `ffprobe -show_entries frame=key_frame,best_effort_timestamp -of
/// compact=p=0` (decoded frames: `key_frame=1|best_effort_timestamp=48600`,
/// fields by name, since ffprobe prints them in its own order) into a frame
/// index; lines without both fields (side data) are skipped.
pub fn parse_frames(text: &str, time_base: Rational) -> FrameIndex {
    let frames: Vec<(Option<i64>, bool)> = text
        .lines()
        .filter_map(|line| {
            let field = |name: &str| {
                line.split('|')
                    .find_map(|kv| kv.trim().strip_prefix(name)?.strip_prefix('='))
            };
            let ts = field("best_effort_timestamp")?;
            Some((ts.parse::<i64>().ok(), field("key_frame")? == "1"))
        })
        .collect();
    // A frame the decoder gives no timestamp (the last ones, flushed at the
    // end of a stream without pts) comes one typical frame after the one
    // before, as ffmpeg itself places it when it decodes.
    let known = FrameIndex::from_packets(
        time_base,
        frames.iter().filter_map(|&(t, k)| Some((t?, k))).collect(),
    );
    let step = known.frame_duration();
    let mut last = None;
    let placed = frames
        .into_iter()
        .filter_map(|(t, key)| {
            let t = t.or_else(|| last.map(|l: i64| l.saturating_add(step)))?;
            last = Some(t);
            Some((t, key))
        })
        .collect();
    FrameIndex::from_packets(time_base, placed)
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
#[cfg(test)]
mod tests;

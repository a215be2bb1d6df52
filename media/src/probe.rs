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
    /// ffprobe could not read the file at all.
    #[error("the file could not be read as a video ({detail})")]
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
/// is not a cover picture and the first audio stream are kept. A stream
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
    let video = match out
        .streams
        .iter()
        .find(|s| s.is("video") && !s.is_attached_picture())
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

/// Parses `ffprobe -show_entries packet=pts,dts,flags -of csv=p=0` into a
/// frame index. Packets flagged for discard are skipped. Returns the index and
/// how many packets it could not place: those without a pts (a dts says
/// when a frame is decoded, not when it is shown: MPEG-PS, raw MPEG video and
/// AVI leave pts out), and those whose pts repeats another's (one field of a
/// field-coded picture): only decoding tells where those frames are.
pub fn parse_packets(csv: &str, time_base: Rational) -> (FrameIndex, usize) {
    let mut packets = Vec::new();
    let mut missing = 0;
    for line in csv.lines() {
        let f: Vec<&str> = line.trim().split(',').collect();
        if f.len() < 2 || f[0].is_empty() {
            continue;
        }
        let (ts, flags) = (f[0].parse::<i64>().ok(), f[f.len().min(3) - 1]);
        if flags.contains('D') {
            continue;
        }
        let key = flags.starts_with('K') || flags == "1";
        match ts {
            Some(t) => packets.push((t, key)),
            None => missing += 1,
        }
    }
    let listed = packets.len();
    let index = FrameIndex::from_packets(time_base, packets);
    let repeated = listed - index.len();
    (index, missing + repeated)
}

/// How many times the decode timestamps in `ffprobe -show_entries
/// packet=pts,dts,flags -of csv=p=0` restart (see
/// [`discontinuities`](slicecast_core::timeline::discontinuities)); packets
/// flagged for discard or without a dts are skipped.
pub fn packet_discontinuities(csv: &str, time_base: Rational) -> u32 {
    let dts: Vec<i64> = csv
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.trim().split(',').collect();
            if f.len() < 3 || f[2].contains('D') {
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
            let f: Vec<&str> = line.trim().split(',').collect();
            let flags = f.get(2).or(f.get(1))?;
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

/// Lists every frame of a video stream from its packets (no decoding). Falls
/// back to decoding when packets cannot place every frame (no timestamps,
/// repeated ones); numbers the frames of a raw stream that has no timestamps
/// at all as ffmpeg's decoder does. `format_name` is the probe's, pinned for
/// the read.
pub async fn frame_index(
    location: &str,
    format_name: &str,
    stream: &VideoStream,
    timeout: Duration,
) -> Result<Indexed, ProbeError> {
    let tb = stream.time_base;
    let (csv, stderr) = scan(
        location,
        format_name,
        stream,
        ("packet=pts,dts,flags", "csv=p=0"),
        timeout,
    )
    .await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Probe {
        let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let json = std::fs::read_to_string(&path).expect("fixture");
        parse_probe(&json).expect("parse")
    }

    #[test]
    fn parses_real_ffprobe_output() {
        // (fixture, codec, display size, has audio, frame rate)
        let cases = [
            (
                "sintel_trailer_1280x720_52s_h264_aac_dialogue",
                "h264",
                (1280, 720),
                true,
                24.0,
            ),
            (
                "deer_1920x1080_1s_h264_aac_23976",
                "h264",
                (1920, 1080),
                true,
                23.976,
            ),
            (
                "city_720x405_oddheight_7s_mpeg2ps_noaudio",
                "mpeg2video",
                (720, 405),
                false,
                25.0,
            ),
            (
                "pedestrians_768x576_80s_msmpeg4v3_noaudio",
                "msmpeg4v3",
                (768, 576),
                false,
                10.0,
            ),
            (
                "gnome_dualmonitors_1024x768_37s_vp8_noaudio",
                "vp8",
                (1024, 768),
                false,
                15.0,
            ),
            (
                "highway_960x540_5994fps_30s_h264_noaudio",
                "h264",
                (960, 540),
                false,
                59.94,
            ),
            ("generated_rotated_320x240", "h264", (240, 320), false, 30.0),
        ];
        for (name, codec, size, audio, fps) in cases {
            let p = fixture(name);
            let v = require_video(&p).expect("video");
            assert_eq!(v.codec, codec, "{name}");
            assert_eq!(v.display_size(), size, "{name}");
            assert_eq!(p.audio.is_some(), audio, "{name}");
            let got = v.frame_rate.map(Rational::as_f64).unwrap_or(0.0);
            assert!((got - fps).abs() < 0.01, "{name}: {got}");
        }
        let city = fixture("city_720x405_oddheight_7s_mpeg2ps_noaudio");
        assert!((city.start_time_s - 0.54).abs() < 1e-9);
        let sintel = fixture("sintel_trailer_1280x720_52s_h264_aac_dialogue");
        let a = sintel.audio.expect("audio");
        assert_eq!((a.sample_rate, a.channels), (48_000, 2));
    }

    #[test]
    fn parses_decoded_frames_by_field_name() {
        let text = "key_frame=0|best_effort_timestamp=N/A\nkey_frame=1|best_effort_timestamp=48600\n\nside_data_type=x\nkey_frame=0|best_effort_timestamp=52200\nbest_effort_timestamp=55800|key_frame=0\nkey_frame=0|best_effort_timestamp=N/A\n";
        let idx = parse_frames(text, Rational::new(1, 90_000));
        // The last frame, flushed without a timestamp, one frame later; a
        // frame before any timestamp cannot be placed.
        assert_eq!(idx.pts, vec![48_600, 52_200, 55_800, 59_400]);
        assert_eq!(idx.key, vec![true, false, false, false]);
    }

    #[test]
    fn raw_streams_are_numbered_at_their_nominal_rate() {
        let stream = |tb: Rational, rate: Option<Rational>| VideoStream {
            index: 0,
            codec: "h264".into(),
            width: 16,
            height: 16,
            sample_aspect: Rational::new(1, 1),
            rotation: 0,
            frame_rate: rate,
            avg_frame_rate: None,
            time_base: tb,
            pix_fmt: None,
            interlaced: false,
        };
        let csv = "N/A,N/A,K_\nN/A,N/A,__\nN/A,N/A,_D\nN/A,N/A,__\nN/A,N/A,K_\n";
        // ffmpeg's raw demuxer: 1/1200000, 25 fps → 48000 ticks a frame.
        let idx = synthesized_index(
            csv,
            &stream(Rational::new(1, 1_200_000), Some(Rational::new(25, 1))),
        );
        assert_eq!(idx.pts, vec![0, 48_000, 96_000, 144_000]);
        assert_eq!(idx.key, vec![true, false, false, true]);
        // No rate: 25 fps; 30000/1001 in 1/90000 → 3003.
        let idx = synthesized_index(csv, &stream(Rational::new(1, 90_000), None));
        assert_eq!(idx.pts[1], 3600);
        let idx = synthesized_index(
            csv,
            &stream(Rational::new(1, 90_000), Some(Rational::new(30_000, 1001))),
        );
        assert_eq!(idx.pts[1], 3003);
        assert!(synthesized_index("", &stream(Rational::new(0, 0), None)).is_empty());
    }

    #[test]
    fn absurd_picture_sizes_are_refused() {
        let json = r#"{"streams":[{"index":0,"codec_type":"video","codec_name":"h264","width":65535,"height":4,"time_base":"1/25"}],"format":{"format_name":"mov","duration":"3.0"}}"#;
        let p = parse_probe(json).expect("parse");
        let err = require_video(&p).expect_err("too wide");
        assert!(
            err.to_string().contains("at most 16384 pixels per side"),
            "{err}"
        );
        assert!(err.is_input_error());
    }

    #[test]
    fn no_video_is_a_clear_error() {
        let json = r#"{"streams":[{"index":0,"codec_type":"audio","codec_name":"mp3","sample_rate":"44100","channels":2}],"format":{"format_name":"mp3","duration":"3.0"}}"#;
        let p = parse_probe(json).expect("parse");
        let err = require_video(&p).expect_err("no video");
        assert_eq!(
            err.to_string(),
            "the file has no video stream (it looks like an audio-only file)"
        );
        assert!(err.is_input_error());
    }

    #[test]
    fn parses_packet_lists() {
        let csv = "2002,0,K_\n6006,1001,__\n4004,2002,__\nN/A,3003,__\nN/A,N/A,__\n8008,5005,_D\n";
        let (idx, missing) = parse_packets(csv, Rational::new(1, 24_000));
        assert_eq!(idx.pts, vec![2002, 4004, 6006]);
        assert_eq!(idx.key, vec![true, false, false]);
        assert_eq!(missing, 2);
        let (idx, _) = parse_packets("0,1\n40,0\n", Rational::new(1, 1000));
        assert_eq!(idx.key, vec![true, false]);
        // MPEG-PS: the last picture has no pts and its dts is the previous
        // picture's pts; it cannot be placed without decoding.
        let (idx, missing) = parse_packets(
            "3600,0,K_\n7200,3600,__\nN/A,7200,__\n",
            Rational::new(1, 90_000),
        );
        assert_eq!((idx.len(), missing), (2, 1));
    }
}

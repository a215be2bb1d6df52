//! The timeline rule on sources whose streams start or end at different
//! times, whose frame rate varies, whose edit list hides frames, or whose
//! timestamps wrap or restart: no sound is dropped, the picture is held to
//! cover it, the A/V offset survives, every frame is kept once, and every
//! playlist's listed durations match its segments' timestamps. Each source
//! has a white flash in the picture and a click in the sound at the same
//! source time; the output must show them together (within one video frame
//! and one AAC frame).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// One AAC frame at 48 kHz, and a millisecond: the output's offset is the
/// source's (the AAC priming compensated).
const SYNC_TOLERANCE_S: f64 = 1024.0 / 48_000.0 + 0.001;

/// The flash − click offset a generated source has by construction: the
/// flash shows on the first 25 fps frame at or after [`FLASH_AT_S`], the
/// click starts at it. The reference for MPEG-TS sources, whose AAC priming
/// ffmpeg does not remove when it decodes them (MP4 and MKV signal it).
fn built_offset_s() -> f64 {
    (FLASH_AT_S * 25.0).ceil() / 25.0 - FLASH_AT_S
}

fn ffmpeg(args: &[&str]) -> String {
    let out = Command::new("ffmpeg")
        .arg("-hide_banner")
        .args(args)
        .output()
        .expect("ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// How far into the picture the flash is, seconds.
const FLASH_AT_S: f64 = 2.5;

/// One generated source: a 4 s picture (flash [`FLASH_AT_S`] in) starting at
/// `picture_at` and a sound of `sound_s` starting at `sound_at` whose click
/// is at the flash's source time; `video_filter` reshapes the picture's
/// timing (VFR), `out_opts` are extra output options (a TS timestamp offset).
struct Source<'a> {
    name: &'a str,
    picture_at: f64,
    sound_at: f64,
    sound_s: f64,
    video_filter: &'a str,
    out_opts: &'a [&'a str],
}

impl Source<'_> {
    fn new(name: &str, (picture_at, sound_at): (f64, f64), sound_s: f64) -> Source<'_> {
        Source {
            name,
            picture_at,
            sound_at,
            sound_s,
            video_filter: "null",
            out_opts: &[],
        }
    }

    /// Frames of held picture the output adds before and after the source's
    /// (the timeline rule: gaps of at least 0.25 s, at 25 fps).
    fn padding(&self) -> u64 {
        let frames = |gap: f64| {
            if gap >= 0.25 {
                (gap * 25.0).round() as u64
            } else {
                0
            }
        };
        let end = |at: f64, len: f64| at + len;
        frames(self.picture_at - self.sound_at)
            + frames(end(self.sound_at, self.sound_s) - end(self.picture_at, 4.0))
    }

    fn make(&self, dir: &Path) -> PathBuf {
        let path = dir.join(self.name);
        let click_s = self.picture_at + FLASH_AT_S - self.sound_at;
        let click = format!(
            "aevalsrc='if(between(t\\,{click_s}\\,{})\\,sin(2*PI*1000*t)\\,0)':s=48000:d={}",
            click_s + 0.05,
            self.sound_s
        );
        let picture = format!(
            "color=black:s=128x96:r=25:d=4,drawbox=enable='between(t,{FLASH_AT_S},{})':color=white:t=fill",
            FLASH_AT_S + 0.039
        );
        let graph = format!(
            "[1:v]{},setpts=PTS+{}/TB[v];[0:a]asetpts=PTS+{}/TB[a]",
            self.video_filter, self.picture_at, self.sound_at
        );
        let mut args = vec![
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            &click,
            "-f",
            "lavfi",
            "-i",
            &picture,
            "-filter_complex",
            &graph,
            "-map",
            "[v]",
            "-map",
            "[a]",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-bf",
            "3",
            // Keep the picture's timestamps (not padded to a constant rate).
            "-fps_mode",
            "passthrough",
            "-c:a",
            "aac",
        ];
        args.extend_from_slice(self.out_opts);
        let out = path.to_string_lossy().into_owned();
        args.push(&out);
        ffmpeg(&args);
        path
    }
}

/// An MPEG-TS whose timestamps restart: `before_s` of unremarkable picture
/// and sound at timestamp `first_at`, then `second` (a transport stream)
/// appended byte for byte, as when two captures are concatenated.
fn spliced(dir: &Path, name: &str, before_s: f64, first_at: f64, second: &Path) -> PathBuf {
    let first = dir.join(format!("first-{name}"));
    let picture = format!("color=black:s=128x96:r=25:d={before_s}");
    let silence = format!("anullsrc=r=48000:cl=stereo:d={before_s}");
    ffmpeg(&[
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        &silence,
        "-f",
        "lavfi",
        "-i",
        &picture,
        "-map",
        "1:v",
        "-map",
        "0:a",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-c:a",
        "aac",
        "-output_ts_offset",
        &first_at.to_string(),
        "-f",
        "mpegts",
        &first.to_string_lossy(),
    ]);
    let path = dir.join(name);
    let mut bytes = std::fs::read(&first).expect("first part");
    bytes.extend(std::fs::read(second).expect("second part"));
    std::fs::write(&path, bytes).expect("write");
    path
}

/// Time of the first bright frame of the first video stream.
fn flash_s(input: &Path) -> f64 {
    let log = ffmpeg(&[
        "-i",
        &input.to_string_lossy(),
        "-map",
        "0:v:0",
        "-vf",
        "signalstats,metadata=print:key=lavfi.signalstats.YAVG",
        "-f",
        "null",
        "-",
    ]);
    let mut last_pts = None;
    for line in log.lines() {
        if let Some(p) = line.split("pts_time:").nth(1) {
            last_pts = p.split_whitespace().next().and_then(|t| t.parse().ok());
        }
        if let Some(y) = line.split("YAVG=").nth(1)
            && y.trim().parse::<f64>().is_ok_and(|y| y > 128.0)
        {
            return last_pts.expect("a pts before the metadata");
        }
    }
    panic!("no flash in {}", input.display())
}

/// Time the first click starts, and the sound's total duration.
fn click_and_length_s(input: &Path) -> (f64, f64) {
    let log = ffmpeg(&[
        "-i",
        &input.to_string_lossy(),
        "-map",
        "0:a:0",
        "-af",
        "silencedetect=n=-30dB:d=0.3",
        "-f",
        "null",
        "-",
    ]);
    let click = log
        .split("silence_end: ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|t| t.parse().ok())
        .expect("a click");
    let length = log
        .rsplit("time=")
        .next()
        .and_then(|s| s.split_whitespace().next())
        .and_then(|t| {
            let mut secs = 0.0;
            for part in t.split(':') {
                secs = secs * 60.0 + part.parse::<f64>().ok()?;
            }
            Some(secs)
        })
        .expect("a length");
    (click, length)
}

/// Transcodes `input` in 2 s slices (so the splices and holes fall inside
/// and between slices); returns the video's directory.
fn transcode(input: &Path, out: &Path) -> PathBuf {
    let o = common::transcode(
        input,
        out,
        &["--preset", "ultrafast", "--slice-seconds", "2"],
    );
    assert!(
        o.status.success(),
        "{}: {}",
        input.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    common::video_dir(out, &o)
}

#[test]
fn every_timeline_keeps_its_sound_sync_frames_and_playlist_timing() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("out");
    let d = dir.path();
    // The second half of a spliced capture: its own timestamps, minutes later.
    let after_splice = Source {
        out_opts: &["-output_ts_offset", "400", "-f", "mpegts"],
        ..Source::new("after-splice.ts", (0.0, 0.0), 4.0)
    }
    .make(d);
    let full = Source::new("full.mp4", (0.0, 0.0), 4.0).make(d);
    // B-frames, and an edit list that hides the first 1.5 s (stream copy
    // from a seek point between keyframes).
    let edited = d.join("edit-list.mp4");
    ffmpeg(&[
        "-v",
        "error",
        "-y",
        "-ss",
        "1.5",
        "-i",
        &full.to_string_lossy(),
        "-c",
        "copy",
        &edited.to_string_lossy(),
    ]);
    // (source, frames held, flash − click when ffmpeg's decode of the source
    // is no reference)
    let sources: Vec<(PathBuf, u64, Option<f64>)> = vec![
        (Source::new("late-picture.mkv", (2.0, 0.0), 6.0), 50),
        (Source::new("late-picture.mp4", (2.0, 0.0), 6.0), 50),
        (Source::new("late-sound.mkv", (0.0, 1.5), 2.5), 0),
        (Source::new("long-sound.mkv", (0.0, 0.0), 8.0), 100),
        (Source::new("short-sound.mp4", (0.0, 0.0), 3.0), 0),
        // Variable frame rate: 25 fps, then every third frame after 3 s.
        (
            Source {
                video_filter: "select='lt(t\\,3)+not(mod(n\\,3))',setpts=PTS",
                ..Source::new("vfr.mkv", (0.0, 0.0), 4.0)
            },
            0,
        ),
        // Timestamps that wrap past 2^33 (26.5 h at 90 kHz) 2.3 s in.
        (
            Source {
                out_opts: &["-output_ts_offset", "95440", "-f", "mpegts"],
                ..Source::new("wrap.ts", (0.0, 0.0), 4.0)
            },
            0,
        ),
    ]
    .into_iter()
    .map(|(s, pad)| {
        assert_eq!(s.padding(), pad, "{}", s.name);
        let built = s.name.ends_with(".ts").then(built_offset_s);
        (s.make(d), pad, built)
    })
    .chain([
        (edited, 0, None),
        // 3 s at timestamp 10 s, then the 4 s part at 400 s; and the
        // other way round, the timestamps going back.
        (
            spliced(d, "jump.ts", 3.0, 10.0, &after_splice),
            0,
            Some(built_offset_s()),
        ),
        (
            spliced(d, "jump-back.ts", 3.0, 900.0, &after_splice),
            0,
            Some(built_offset_s()),
        ),
    ])
    .collect();
    for (src, pad, reference) in sources {
        let name = src
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let (_, src_len) = click_and_length_s(&src);
        let src_gap = reference.unwrap_or_else(|| flash_s(&src) - click_and_length_s(&src).0);
        let src_frames = slicecast_tests::count_frames(&src).expect("frames");
        let video = transcode(&src, &out);
        let master = video.join("hls/master.m3u8");
        let (click, len) = click_and_length_s(&master);
        let gap = flash_s(&master) - click;
        let frames = slicecast_tests::count_frames(&master).expect("frames");
        eprintln!(
            "{name}: flash − click {src_gap:+.3} s → {gap:+.3} s; sound {src_len:.2} s → {len:.2} s; frames {src_frames} → {frames}"
        );
        assert!(
            (gap - src_gap).abs() <= SYNC_TOLERANCE_S,
            "{name}: the A/V offset moved from {src_gap:.3} s to {gap:.3} s"
        );
        assert!(
            len >= src_len - 0.05,
            "{name}: sound dropped ({src_len:.2} s → {len:.2} s)"
        );
        assert!(
            len <= src_len + 0.5,
            "{name}: {len:.2} s of sound from {src_len:.2} s (timestamps not made continuous?)"
        );
        // The held frames round the gap to whole frames, measured from the
        // streams' first timestamps (the muxers shift them by a few ms).
        assert!(
            frames.abs_diff(src_frames + pad) <= 1,
            "{name}: {frames} frames, expected {src_frames} + {pad} held"
        );
        slicecast_tests::timing::check_playlist_timing(&video, 1e-3)
            .unwrap_or_else(|e| panic!("{name}: {e:#}"));
    }
}

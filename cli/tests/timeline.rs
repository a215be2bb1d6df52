//! The timeline rule on sources whose streams start or end at different
//! times: no sound is dropped, the picture is held to cover it, and the A/V
//! offset survives. Each source has a white flash in the picture and a click
//! in the sound at the same source time; the output must show them together
//! (within one video frame and one AAC frame) and keep all of the sound.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// One video frame at 25 fps plus one AAC frame at 48 kHz.
const SYNC_TOLERANCE_S: f64 = 0.04 + 1024.0 / 48_000.0;

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

/// A source whose picture (4 s, flash 1 s in) starts at `video_offset_s` and
/// whose sound (`audio_s` long, click `click_s` in) starts at `audio_offset_s`.
fn source(
    dir: &Path,
    name: &str,
    (video_offset_s, audio_offset_s): (f64, f64),
    audio_s: f64,
    click_s: f64,
) -> PathBuf {
    let path = dir.join(name);
    let click = format!(
        "aevalsrc='if(between(t\\,{click_s}\\,{})\\,sin(2*PI*1000*t)\\,0)':s=48000:d={audio_s}",
        click_s + 0.05
    );
    let picture =
        "color=black:s=128x96:r=25:d=4,drawbox=enable='between(t,1,1.039)':color=white:t=fill";
    ffmpeg(&[
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
        picture,
        "-filter_complex",
        &format!("[1:v]setpts=PTS+{video_offset_s}/TB[v];[0:a]asetpts=PTS+{audio_offset_s}/TB[a]"),
        "-map",
        "[v]",
        "-map",
        "[a]",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-c:a",
        "aac",
        &path.to_string_lossy(),
    ]);
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

fn transcode(input: &Path, out: &Path) -> PathBuf {
    let o = common::transcode(input, out, &["--preset", "ultrafast"]);
    assert!(
        o.status.success(),
        "{}: {}",
        input.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    common::video_dir(out, &o).join("hls/master.m3u8")
}

#[test]
fn streams_that_start_or_end_apart_keep_their_sound_and_sync() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("out");
    // (name, (picture start, sound start), sound length, click into the
    // sound): the flash is 1 s into the picture, the click at the same time.
    let cases = [
        ("late-picture.mkv", (2.0, 0.0), 6.0, 3.0),
        ("late-picture.mp4", (2.0, 0.0), 6.0, 3.0),
        ("late-sound.mkv", (0.0, 0.5), 4.0, 0.5),
        ("long-sound.mkv", (0.0, 0.0), 9.0, 1.0),
    ];
    for (name, offsets, audio_s, click_s) in cases {
        let src = source(dir.path(), name, offsets, audio_s, click_s);
        let src_gap = flash_s(&src) - click_and_length_s(&src).0;
        let (_, src_len) = click_and_length_s(&src);
        let master = transcode(&src, &out);
        let gap = flash_s(&master) - click_and_length_s(&master).0;
        let (_, len) = click_and_length_s(&master);
        eprintln!(
            "{name}: flash − click {src_gap:+.3} s → {gap:+.3} s; sound {src_len:.2} s → {len:.2} s"
        );
        assert!(
            (gap - src_gap).abs() <= SYNC_TOLERANCE_S,
            "{name}: the A/V offset moved from {src_gap:.3} s to {gap:.3} s"
        );
        assert!(
            len >= src_len - 0.05,
            "{name}: sound dropped ({src_len:.2} s → {len:.2} s)"
        );
    }
}

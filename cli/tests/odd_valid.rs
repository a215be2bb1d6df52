//! Odd but valid files still transcode under the input policy: every
//! container and codec a camera, phone, editor or capture card produces,
//! generated small so the whole table runs in about a minute.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// (file name, ffmpeg arguments after the lavfi inputs).
type Case = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

const VIDEO: &str = "testsrc2=s=128x96:r=25:d=2";
const TONE: &str = "sine=frequency=440:sample_rate=48000:duration=2";

/// Each case: the lavfi inputs, then the output options.
const CASES: &[Case] = &[
    // Elementary streams: no container, no index, and (H.264, HEVC) no
    // timestamps at all.
    (
        "raw.h264",
        &[VIDEO],
        &["-c:v", "libx264", "-bf", "3", "-f", "h264"],
    ),
    (
        "raw.hevc",
        &[VIDEO],
        &[
            "-c:v",
            "libx265",
            "-x265-params",
            "log-level=error",
            "-f",
            "hevc",
        ],
    ),
    (
        "raw.m2v",
        &[VIDEO],
        &["-c:v", "mpeg2video", "-bf", "2", "-f", "mpeg2video"],
    ),
    (
        "vfr.mkv",
        &[VIDEO],
        &[
            "-vf",
            "select='not(mod(n\\,3))+eq(n\\,10)'",
            "-fps_mode",
            "vfr",
            "-c:v",
            "libx264",
        ],
    ),
    (
        "fast120.mp4",
        &["testsrc2=s=128x96:r=120:d=2"],
        &["-c:v", "libx264"],
    ),
    (
        "hevc10.mp4",
        &[VIDEO, TONE],
        &[
            "-c:v",
            "libx265",
            "-x265-params",
            "log-level=error",
            "-pix_fmt",
            "yuv420p10le",
            "-tag:v",
            "hvc1",
            "-c:a",
            "aac",
        ],
    ),
    (
        "prores.mov",
        &[VIDEO, TONE],
        &["-c:v", "prores_ks", "-c:a", "pcm_s16le"],
    ),
    ("av1.mkv", &[VIDEO], &["-c:v", "libsvtav1", "-preset", "12"]),
    (
        "vp9.webm",
        &[VIDEO, TONE],
        &[
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-c:a",
            "libopus",
        ],
    ),
    ("anim.gif", &["testsrc2=s=128x96:r=10:d=2"], &[]),
    ("mjpeg.avi", &[VIDEO], &["-c:v", "mjpeg", "-q:v", "5"]),
    // AVI gives no pts: B-frames are placed by decoding.
    (
        "bframes.avi",
        &[VIDEO, TONE],
        &["-c:v", "libx264", "-bf", "2", "-c:a", "mp3"],
    ),
    (
        "two-tracks.mp4",
        &[
            VIDEO,
            TONE,
            "sine=frequency=880:sample_rate=44100:duration=2",
        ],
        &[
            "-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264", "-c:a", "aac",
        ],
    ),
    (
        "surround71.mp4",
        &[VIDEO, "sine=frequency=300:sample_rate=48000:duration=2"],
        &["-c:v", "libx264", "-c:a", "aac", "-ac", "8"],
    ),
    (
        "wrap.ts",
        &[VIDEO, TONE],
        &[
            "-c:v",
            "libx264",
            "-c:a",
            "aac",
            "-output_ts_offset",
            "95442.5",
        ],
    ),
    (
        "flash.flv",
        &[VIDEO, TONE],
        &["-c:v", "flv1", "-c:a", "mp3"],
    ),
    ("theora.ogv", &[VIDEO], &["-c:v", "libtheora"]),
    (
        "windows.wmv",
        &[VIDEO, TONE],
        &["-c:v", "wmv2", "-c:a", "wmav2"],
    ),
    (
        "dvd.mpg",
        &[VIDEO, TONE],
        &["-c:v", "mpeg2video", "-c:a", "mp2"],
    ),
    ("phone.3gp", &[VIDEO], &["-c:v", "libx264"]),
    ("real.rm", &[VIDEO, TONE], &["-c:v", "rv20", "-c:a", "ac3"]),
    (
        "capture.wtv",
        &[VIDEO, TONE],
        &["-c:v", "mpeg2video", "-c:a", "mp2"],
    ),
    // An audio track that holds no sound at all: a video without audio.
    (
        "silent-track.mkv",
        &[VIDEO, "anullsrc=r=48000:cl=stereo"],
        &[
            "-filter_complex",
            "[1:a]atrim=end=0[a]",
            "-map",
            "0:v",
            "-map",
            "[a]",
            "-c:v",
            "libx264",
            "-c:a",
            "libopus",
            "-t",
            "2",
        ],
    ),
    (
        "uhd8k.mp4",
        &["color=c=teal:s=7680x4320:r=2:d=1"],
        &["-c:v", "libx264", "-preset", "ultrafast"],
    ),
];

fn make(dir: &Path, (name, inputs, opts): &Case) -> Option<PathBuf> {
    let path = dir.join(name);
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-v", "error", "-y"]);
    for i in *inputs {
        cmd.args(["-f", "lavfi", "-i", i]);
    }
    let ok = cmd.args(*opts).arg(&path).status().expect("ffmpeg");
    // An encoder this ffmpeg lacks is not slicecast's failure: say so, go on.
    if !ok.success() {
        eprintln!("skipping {name}: this ffmpeg could not make it");
        return None;
    }
    Some(path)
}

/// Transcodes `input` with `args`, which must succeed, and checks that
/// every playlist's durations match its segments; returns the video's
/// folder and its top rung's frame count.
fn transcoded(input: &Path, out: &Path, args: &[&str]) -> (PathBuf, u64) {
    let o = common::transcode(input, out, args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let video = common::video_dir(out, &o);
    if let Err(e) = slicecast_tests::timing::check_playlist_timing(&video, 1e-3) {
        panic!("{e:#}");
    }
    let frames = slicecast_tests::count_frames(&video.join("hls/master.m3u8")).expect("frames");
    (video, frames)
}

#[test]
fn odd_but_valid_files_transcode() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("out");
    let mut failures = Vec::new();
    let mut made = 0;
    for case in CASES {
        let Some(input) = make(dir.path(), case) else {
            continue;
        };
        made += 1;
        // 1 s slices: the 2 s cases are cut at least once.
        let o = common::transcode(
            &input,
            &out,
            &["--preset", "ultrafast", "--slice-seconds", "1"],
        );
        if !o.status.success() {
            failures.push(format!(
                "{}: {}",
                case.0,
                String::from_utf8_lossy(&o.stderr).trim()
            ));
            continue;
        }
        // Faithful: every frame once, and playlists that match their media.
        let video = common::video_dir(&out, &o);
        let frames = slicecast_tests::count_frames(&video.join("hls/master.m3u8"));
        let src_frames = slicecast_tests::count_frames(&input);
        match (frames, src_frames) {
            (Ok(f), Ok(s)) if f == s => {}
            other => failures.push(format!("{}: frames (output, source) {other:?}", case.0)),
        }
        if let Err(e) = slicecast_tests::timing::check_playlist_timing(&video, 1e-3) {
            failures.push(format!("{}: {e:#}", case.0));
        }
    }
    assert!(made >= CASES.len() - 2, "only {made} cases could be made");
    assert!(failures.is_empty(), "refused:\n{}", failures.join("\n"));
}

/// Streams that start or end at different times are valid files, not
/// truncated ones: a picture that starts 2 s after its sound (MP4, MKV), sound
/// that outlasts its picture by 4 s, a picture that outlasts its sound (also
/// a long one, whose sound is encoded in chunks: the later chunks hold none).
#[test]
fn staggered_streams_are_not_called_truncated() {
    let dir = tempfile::tempdir().expect("tmp");
    // (name, sound seconds, picture seconds, picture offset)
    let cases = [
        ("late-picture.mp4", 6, 4, "2"),
        ("late-picture.mkv", 6, 4, "2"),
        ("long-sound.mp4", 5, 1, "0"),
        ("long-picture.mp4", 2, 6, "0"),
        ("long-silent-end.mp4", 2, 125, "0"),
    ];
    let out = dir.path().join("out");
    let mut refused = Vec::new();
    for (name, sound_s, picture_s, offset) in cases {
        let path = dir.path().join(name);
        let ok = Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg(format!(
                "sine=frequency=440:sample_rate=48000:duration={sound_s}"
            ))
            .args(["-itsoffset", offset, "-f", "lavfi", "-i"])
            .arg(format!("testsrc2=s=128x96:r=25:d={picture_s}"))
            .args(["-map", "1:v", "-map", "0:a", "-c:a", "aac"])
            .args(["-c:v", "libx264", "-preset", "ultrafast"])
            .arg(&path)
            .status()
            .expect("ffmpeg");
        assert!(ok.success(), "making {name}");
        let o = common::transcode(&path, &out, &["--preset", "ultrafast"]);
        if !o.status.success() {
            refused.push(format!(
                "{name}: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ));
        }
    }
    assert!(refused.is_empty(), "refused:\n{}", refused.join("\n"));
}

/// Pictures that change size partway (two broadcast captures spliced, SD
/// then HD): every frame is kept, at one size, and the slices still fit.
#[test]
fn a_picture_that_changes_size_partway_keeps_every_frame() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut spliced = Vec::new();
    // The second part starts where the first ends (25 fps, 2 s each).
    for (i, (size, offset)) in [("320x240", "0"), ("640x360", "2.08")].iter().enumerate() {
        let part = dir.path().join(format!("part{i}.ts"));
        let ok = Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg(format!("testsrc2=s={size}:r=25:d=2"))
            .args(["-f", "lavfi", "-i", TONE])
            .args(["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"])
            .args(["-output_ts_offset", offset])
            .arg(&part)
            .status()
            .expect("ffmpeg");
        assert!(ok.success(), "making part {i}");
        spliced.extend(std::fs::read(&part).expect("part"));
    }
    let input = dir.path().join("spliced.ts");
    std::fs::write(&input, spliced).expect("write");
    let out = dir.path().join("out");
    let args = ["--preset", "ultrafast", "--slice-seconds", "1"];
    let (_, frames) = transcoded(&input, &out, &args);
    assert_eq!(frames, 100);
}

/// A broadcast capture that starts mid-GOP (the recording began between
/// keyframes): the pictures before the first keyframe cannot be decoded, so
/// the picture starts at it, with every picture from there on. With sound,
/// which starts earlier, the first picture is held until then.
#[test]
fn a_capture_that_starts_between_keyframes_starts_at_the_first_one() {
    let dir = tempfile::tempdir().expect("tmp");
    for sound in [false, true] {
        let whole = dir.path().join(format!("whole-{sound}.ts"));
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg("testsrc2=s=128x96:r=25:d=10");
        if sound {
            cmd.args(["-f", "lavfi", "-i", "sine=frequency=440:duration=10"])
                .args(["-c:a", "aac"]);
        }
        let ok = cmd
            .args(["-c:v", "libx264", "-preset", "ultrafast"])
            .args(["-g", "50", "-bf", "3"])
            .arg(&whole)
            .status()
            .expect("ffmpeg");
        assert!(ok.success());
        let bytes = std::fs::read(&whole).expect("read");
        // Cut on a transport packet boundary a third of the way in.
        let cut = bytes.len() / 3 / 188 * 188;
        let input = dir.path().join(format!("capture-{sound}.ts"));
        std::fs::write(&input, &bytes[cut..]).expect("write");
        let out = dir.path().join("out");
        let args = ["--preset", "ultrafast", "--slice-seconds", "2"];
        let (video, frames) = transcoded(&input, &out, &args);
        let decodable = slicecast_tests::count_frames(&input).expect("source frames");
        if sound {
            assert!(frames > decodable, "{frames} frames, {decodable} decodable");
            assert!(video.join("hls/audio.m3u8").exists());
        } else {
            assert_eq!(frames, decodable);
        }
    }
}

/// A cover picture muxed as a video track of its own, before the video and
/// not flagged as a cover: the moving picture is transcoded, not the cover.
#[test]
fn a_cover_picture_track_is_not_taken_for_the_video() {
    let dir = tempfile::tempdir().expect("tmp");
    let input = dir.path().join("with-cover.mkv");
    common::make_clip(
        &input,
        &["color=c=green:s=128x96:d=0.04", VIDEO, TONE],
        &[
            "-map",
            "0",
            "-map",
            "1",
            "-map",
            "2",
            "-c:v:0",
            "png",
            "-c:v:1",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "aac",
        ],
    );
    let (_, frames) = transcoded(&input, &dir.path().join("out"), &["--preset", "ultrafast"]);
    assert_eq!(frames, 50, "2 s at 25 fps");
}

/// An HDR source (PQ as HDR10 has it, HLG as phones and broadcasters do)
/// comes out SDR: BT.709-tagged renditions whose pictures match an SDR
/// encode of the same scene. The HDR files are that scene converted to each
/// curve (with SDR white at 100 nits), so a faithful tone mapping gives the
/// scene back (22 dB here); the PQ signal itself, read as SDR, is 13.8 dB
/// from it.
#[test]
fn hdr_sources_are_tone_mapped_to_sdr() {
    let dir = tempfile::tempdir().expect("tmp");
    let scene = "testsrc2=s=320x240:r=25:d=2";
    let sdr = dir.path().join("sdr.mp4");
    common::make_clip(&sdr, &[scene], &["-c:v", "libx264", "-qp", "0"]);
    for (name, curve) in [("pq.mp4", "smpte2084"), ("hlg.mp4", "arib-std-b67")] {
        let input = dir.path().join(name);
        let to_hdr = format!(
            "zscale=tin=bt709:min=bt709:pin=bt709:t={curve}:m=bt2020nc:p=bt2020:npl=100,format=yuv420p10le"
        );
        common::make_clip(
            &input,
            &[scene],
            &[
                "-vf",
                &to_hdr,
                "-c:v",
                "libx265",
                "-x265-params",
                "log-level=error",
                "-color_primaries",
                "bt2020",
                "-color_trc",
                curve,
                "-colorspace",
                "bt2020nc",
            ],
        );
        let (video, frames) = transcoded(
            &input,
            &dir.path().join(format!("out-{name}")),
            &["--preset", "ultrafast"],
        );
        assert_eq!(frames, 50, "{name}");
        let download = video.join("download/240p.mp4");
        let probe = Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
            .args(["stream=color_transfer,color_primaries", "-of", "csv=p=0"])
            .arg(&download)
            .output()
            .expect("ffprobe");
        assert_eq!(
            String::from_utf8_lossy(&probe.stdout).trim(),
            "bt709,bt709",
            "{name}"
        );
        let psnr = Command::new("ffmpeg")
            .args(["-hide_banner", "-i"])
            .arg(&sdr)
            .arg("-i")
            .arg(&download)
            .args(["-lavfi", "[1][0]psnr", "-f", "null", "-"])
            .output()
            .expect("ffmpeg psnr");
        let log = String::from_utf8_lossy(&psnr.stderr);
        let db: f64 = log
            .split("average:")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{name}: no PSNR in {log}"));
        assert!(db >= 18.0, "{name}: {db} dB from the SDR scene");
    }
}

//! Helpers for slicecast's end-to-end tests: where the shared media is, and
//! independent checks of an output directory with ffprobe.

pub mod hostile;
pub mod local;
pub mod net;
pub mod s3s;
pub mod timing;

use anyhow::{Context, bail, ensure};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `../shared/media` (or `SLICECAST_MEDIA`).
pub fn media_dir() -> PathBuf {
    if let Ok(d) = std::env::var("SLICECAST_MEDIA") {
        return PathBuf::from(d);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/media")
}

/// A shared clip by file name.
pub fn clip(name: &str) -> PathBuf {
    media_dir().join(name)
}

/// Every shared video clip.
pub const CLIPS: [&str; 7] = [
    "sintel_trailer_1280x720_52s_h264_aac_dialogue.mp4",
    "gradio_outro_1920x1080_7s_h264_aac.mp4",
    "deer_1920x1080_1s_h264_aac_23976.mp4",
    "highway_960x540_5994fps_30s_h264_noaudio.mp4",
    "pedestrians_768x576_80s_msmpeg4v3_noaudio.avi",
    "gnome_dualmonitors_1024x768_37s_vp8_noaudio.webm",
    "city_720x405_oddheight_7s_mpeg2ps_noaudio.mpg",
];

/// The JFK speech (`speech/jfk_11s_16k.wav`, 11 s) over a still picture of
/// `color`, as H.264 + AAC in `dir/speech-<color>.mp4` (each color is other
/// bytes, so another video id).
pub fn speech_video(dir: &Path, color: &str) -> PathBuf {
    let out = dir.join(format!("speech-{color}.mp4"));
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("color=c={color}:s=320x180:r=25"))
        .arg("-i")
        .arg(media_dir().join("speech/jfk_11s_16k.wav"))
        .args([
            "-shortest",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "50",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "64k",
        ])
        .arg(&out)
        .status()
        .expect("run ffmpeg");
    assert!(status.success(), "making the speech video failed");
    out
}

/// Runs ffprobe with these arguments and returns stdout.
pub fn ffprobe(args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("ffprobe")
        .args(args)
        .output()
        .context("running ffprobe")?;
    if !out.status.success() {
        bail!(
            "ffprobe {:?} failed: {}",
            args,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The first number in ffprobe's csv output (which may carry stray commas and lines).
fn first_number(out: &str) -> Option<u64> {
    out.split([',', '\n']).find_map(|f| f.trim().parse().ok())
}

/// Number of video frames in a file or playlist, counted by decoding.
pub fn count_frames(path: &Path) -> anyhow::Result<u64> {
    let p = path.to_string_lossy();
    let out = ffprobe(&[
        "-v",
        "error",
        "-count_frames",
        "-select_streams",
        "v:0",
        "-show_entries",
        "stream=nb_read_frames",
        "-of",
        "csv=p=0",
        &p,
    ])?;
    first_number(&out).with_context(|| format!("frame count of {p}: {out:?}"))
}

/// Number of video packets in a source (its frame count, as the container says).
pub fn count_packets(path: &Path) -> anyhow::Result<u64> {
    let p = path.to_string_lossy();
    let out = ffprobe(&[
        "-v",
        "error",
        "-count_packets",
        "-select_streams",
        "v:0",
        "-show_entries",
        "stream=nb_read_packets",
        "-of",
        "csv=p=0",
        &p,
    ])?;
    first_number(&out).with_context(|| format!("packet count of {p}: {out:?}"))
}

/// Presentation timestamps (seconds) of every decoded video frame, in output order.
pub fn frame_times(path: &Path) -> anyhow::Result<Vec<f64>> {
    let p = path.to_string_lossy();
    let out = ffprobe(&[
        "-v",
        "error",
        "-select_streams",
        "v:0",
        "-show_entries",
        "frame=pts_time",
        "-of",
        "csv=p=0",
        &p,
    ])?;
    Ok(out
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(',').parse().ok())
        .collect())
}

/// Duration (seconds) of the first stream of a type, from decoded packets: last pts + duration - first pts.
pub fn stream_span(path: &Path, selector: &str) -> anyhow::Result<f64> {
    let p = path.to_string_lossy();
    let out = ffprobe(&[
        "-v",
        "error",
        "-select_streams",
        selector,
        "-show_entries",
        "packet=pts_time,duration_time",
        "-of",
        "csv=p=0",
        &p,
    ])?;
    let mut first = f64::INFINITY;
    let mut last_end = f64::NEG_INFINITY;
    for l in out.lines() {
        let f: Vec<&str> = l.split(',').collect();
        let (Some(pts), dur) = (
            f.first().and_then(|s| s.parse::<f64>().ok()),
            f.get(1).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0),
        ) else {
            continue;
        };
        first = first.min(pts);
        last_end = last_end.max(pts + dur);
    }
    ensure!(first.is_finite(), "no packets of {selector} in {p}");
    Ok(last_end - first)
}

/// The source's frame rate (frames per second) from ffprobe.
pub fn frame_rate(path: &Path) -> anyhow::Result<f64> {
    let p = path.to_string_lossy();
    let out = ffprobe(&[
        "-v",
        "error",
        "-select_streams",
        "v:0",
        "-show_entries",
        "stream=avg_frame_rate,r_frame_rate",
        "-of",
        "csv=p=0",
        &p,
    ])?;
    let parse = |s: &str| -> Option<f64> {
        let (a, b) = s.split_once('/')?;
        let (a, b): (f64, f64) = (a.parse().ok()?, b.parse().ok()?);
        (a > 0.0 && b > 0.0).then_some(a / b)
    };
    let fields: Vec<&str> = out.trim().split(',').collect();
    fields
        .iter()
        .rev()
        .find_map(|f| parse(f))
        .context("no frame rate")
}

/// Whether a source has an audio stream.
pub fn has_audio(path: &Path) -> anyhow::Result<bool> {
    let p = path.to_string_lossy();
    Ok(!ffprobe(&[
        "-v",
        "error",
        "-select_streams",
        "a",
        "-show_entries",
        "stream=index",
        "-of",
        "csv=p=0",
        &p,
    ])?
    .trim()
    .is_empty())
}

/// What [`check_output`] measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// Rung names.
    pub rungs: Vec<String>,
    /// Frames per rung (all equal when the check passes).
    pub frames: u64,
    /// Slice seams checked (segment starts that are slice starts).
    pub segments: usize,
}

/// Checks a finished video directory (`DIR/processed/<id>/`) against its source:
/// frame counts per rung over the HLS playlists, duration within a frame, PTS
/// strictly increasing, no discontinuities, one init per rung, audio duration,
/// every playlist's listed durations against its segments' timestamps, and
/// the MPD through ffmpeg's DASH demuxer.
pub fn check_output(video_dir: &Path, source: &Path) -> anyhow::Result<Report> {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(video_dir.join("manifest.json"))?)?;
    ensure!(
        manifest["status"] == "processing_complete",
        "status: {}",
        manifest["status"]
    );
    let src_frames = count_packets(source)?;
    let fps = frame_rate(source)?;
    let frame = 1.0 / fps;
    let src_span = stream_span(source, "v:0")?;
    let master = std::fs::read_to_string(video_dir.join("hls/master.m3u8"))?;
    ensure!(
        master.contains("#EXT-X-STREAM-INF"),
        "master playlist has no variants"
    );
    let rungs: Vec<String> = manifest["rungs"]
        .as_array()
        .context("rungs")?
        .iter()
        .filter_map(|r| r["name"].as_str().map(str::to_owned))
        .collect();
    ensure!(!rungs.is_empty(), "no rungs");
    let mut segments = 0;
    for rung in &rungs {
        let pl_path = video_dir.join(format!("hls/{rung}.m3u8"));
        let pl = std::fs::read_to_string(&pl_path)?;
        ensure!(
            !pl.contains("DISCONTINUITY"),
            "{rung}: discontinuity in playlist"
        );
        ensure!(
            pl.matches("#EXT-X-MAP").count() == 1,
            "{rung}: expected exactly one EXT-X-MAP"
        );
        let inits = std::fs::read_dir(video_dir.join(format!("video/{rung}")))?
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".mp4"))
            .count();
        ensure!(inits == 1, "{rung}: {inits} init segments");
        segments = pl.matches("#EXTINF").count();
        let frames = count_frames(&pl_path)?;
        ensure!(
            frames == src_frames,
            "{rung}: {frames} frames, source has {src_frames}"
        );
        let times = frame_times(&pl_path)?;
        ensure!(
            times.len() as u64 == src_frames,
            "{rung}: {} timestamps",
            times.len()
        );
        for w in times.windows(2) {
            ensure!(
                w[1] > w[0],
                "{rung}: pts not increasing at {} -> {}",
                w[0],
                w[1]
            );
        }
        let span = stream_span(&pl_path, "v:0")?;
        ensure!(
            (span - src_span).abs() <= frame + 1e-3,
            "{rung}: duration {span:.4} vs source {src_span:.4}"
        );
    }
    if has_audio(source)? {
        let src_audio = stream_span(source, "a:0")?;
        let out_audio = stream_span(&video_dir.join("hls/audio.m3u8"), "a:0")?;
        ensure!(
            (out_audio - src_audio).abs() <= 0.05,
            "audio duration {out_audio:.4} vs source {src_audio:.4}"
        );
    } else {
        ensure!(
            !video_dir.join("hls/audio.m3u8").exists(),
            "audio playlist for a silent source"
        );
    }
    // EXTINF is printed to the microsecond; a segment's media may end a
    // fraction of a tick off.
    timing::check_playlist_timing(video_dir, 1e-3)?;
    let vtt = std::fs::read_to_string(video_dir.join("thumbnail/thumbnails.vtt"))?;
    ensure!(vtt.starts_with("WEBVTT"), "thumbnails.vtt is not WebVTT");
    for line in vtt.lines().filter(|l| l.contains("#xywh=")) {
        let sprite = line.split('#').next().unwrap_or("");
        ensure!(
            video_dir.join("thumbnail").join(sprite).exists(),
            "{sprite} missing"
        );
    }
    ensure!(
        video_dir.join("thumbnail/poster.jpg").exists(),
        "poster missing"
    );
    let mpd = video_dir.join("dash/stream.mpd");
    if mpd.exists() {
        let frames = count_frames(&mpd)?;
        ensure!(
            frames == src_frames,
            "DASH: {frames} frames, source has {src_frames}"
        );
    }
    Ok(Report {
        rungs,
        frames: src_frames,
        segments,
    })
}

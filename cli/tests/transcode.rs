//! The `slicecast transcode` binary: success, idempotence, and bad input.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn media(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/media")
        .join(name)
}

/// Runs `slicecast transcode` (Whisper, when asked for, lives under target/).
fn run(input: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_slicecast"))
        .arg("transcode")
        .arg(input)
        .arg("--out")
        .arg(out)
        .args(["--quiet", "--preset", "ultrafast"])
        .args(extra)
        .env(
            "SLICECAST_WHISPER_VENV",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/whisper-venv"),
        )
        .output()
        .expect("run slicecast")
}

/// `transcode` without subtitles (they have tests of their own).
fn transcode(input: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["--no-subtitles"];
    args.extend_from_slice(extra);
    run(input, out, &args)
}

fn last_line(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .last()
        .unwrap_or("")
        .to_owned()
}

fn manifest(out: &Path, id: &str) -> serde_json::Value {
    let path = out.join("processed").join(id).join("manifest.json");
    serde_json::from_slice(&std::fs::read(&path).expect("manifest")).expect("json")
}

#[test]
fn prints_the_id_and_does_no_work_the_second_time() {
    let out = tempfile::tempdir().expect("tmp");
    let src = media("deer_1920x1080_1s_h264_aac_23976.mp4");
    let first = transcode(&src, out.path(), &["--crf", "23"]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let id = last_line(&first);
    assert_eq!(id.len(), 32);
    let m = manifest(out.path(), &id);
    assert_eq!(m["status"], "processing_complete");
    // The encoder setting travelled in the jobs and is on record.
    assert_eq!(m["encoder"]["crf"], 23, "{m}");
    assert_eq!(m["encoder"]["preset"], "ultrafast", "{m}");
    assert!(
        out.path()
            .join("uploads/deer_1920x1080_1s_h264_aac_23976.mp4")
            .exists()
    );
    let stamp = std::fs::metadata(
        out.path()
            .join("processed")
            .join(&id)
            .join("hls/master.m3u8"),
    )
    .and_then(|m| m.modified())
    .expect("master");
    let second = transcode(&src, out.path(), &[]);
    assert!(second.status.success());
    assert_eq!(last_line(&second), id);
    assert!(String::from_utf8_lossy(&second.stderr).contains("already transcoded"));
    let again = std::fs::metadata(
        out.path()
            .join("processed")
            .join(&id)
            .join("hls/master.m3u8"),
    )
    .and_then(|m| m.modified())
    .expect("master");
    assert_eq!(stamp, again, "nothing was rewritten");
}

#[test]
fn no_dash_when_disabled() {
    let out = tempfile::tempdir().expect("tmp");
    let o = transcode(
        &media("deer_1920x1080_1s_h264_aac_23976.mp4"),
        out.path(),
        &["--generate-dash", "false"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let id = last_line(&o);
    assert!(!out.path().join("processed").join(&id).join("dash").exists());
    assert!(manifest(out.path(), &id)["assets"]["dash_mpd"].is_null());
}

/// Writes a bad input and checks it fails cleanly: non-zero exit, a failed
/// manifest whose error mentions `expect`, no playlists.
fn fails_cleanly(name: &str, bytes: &[u8], expect: &str) {
    let dir = tempfile::tempdir().expect("tmp");
    let input = dir.path().join(name);
    std::fs::write(&input, bytes).expect("write input");
    let out = dir.path().join("out");
    let o = transcode(&input, &out, &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{name} should fail");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.to_lowercase().contains(expect), "{name}: {stderr}");
    let processed = out.join("processed");
    let ids: Vec<_> = std::fs::read_dir(&processed)
        .expect("processed")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(ids.len(), 1, "{name}: one failed video recorded");
    let id = ids[0].file_name().to_string_lossy().into_owned();
    let m = manifest(&out, &id);
    assert_eq!(m["status"], "processing_failed", "{name}");
    assert!(
        m["error"]
            .as_str()
            .unwrap_or("")
            .to_lowercase()
            .contains(expect),
        "{name}: {}",
        m["error"]
    );
    assert!(
        !processed.join(&id).join("hls").exists(),
        "{name}: no playlists"
    );
}

#[test]
fn zero_byte_file() {
    fails_cleanly("empty.mp4", b"", "empty");
}

#[test]
fn text_file_named_mp4() {
    fails_cleanly(
        "notes.mp4",
        b"this is not a video, just some text\n"
            .repeat(100)
            .as_slice(),
        "could not be read as a video",
    );
}

#[test]
fn truncated_mp4() {
    let full =
        std::fs::read(media("sintel_trailer_1280x720_52s_h264_aac_dialogue.mp4")).expect("clip");
    // Cut inside the media data: the moov index (at the end of this file) is lost.
    fails_cleanly(
        "truncated.mp4",
        &full[..full.len() / 3],
        "could not be read as a video",
    );
}

#[test]
fn audio_only_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let wav = dir.path().join("speech.m4a");
    let ok = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=2",
            "-c:a",
            "aac",
        ])
        .arg(&wav)
        .status()
        .expect("ffmpeg");
    assert!(ok.success());
    fails_cleanly(
        "speech.m4a",
        &std::fs::read(&wav).expect("read"),
        "no video stream",
    );
}

#[test]
fn missing_input_is_an_error_not_a_panic() {
    let out = tempfile::tempdir().expect("tmp");
    let o = transcode(Path::new("/nonexistent/video.mp4"), out.path(), &[]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read"));
}

#[test]
fn truncated_faststart_mp4() {
    // With the index at the front, the file probes fine but its data stops half way.
    let dir = tempfile::tempdir().expect("tmp");
    let fast = dir.path().join("fast.mp4");
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(media("sintel_trailer_1280x720_52s_h264_aac_dialogue.mp4"))
        .args(["-c", "copy", "-movflags", "+faststart"])
        .arg(&fast)
        .status()
        .expect("ffmpeg");
    assert!(ok.success());
    let full = std::fs::read(&fast).expect("read");
    fails_cleanly("cut.mp4", &full[..full.len() * 6 / 10], "truncated");
}

#[test]
fn waits_for_subtitles_unless_told_not_to() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = slicecast_tests::speech_video(dir.path(), "gray");
    let out = dir.path().join("with");
    let o = run(&src, &out, &["--subtitle-engine", "whisper"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let id = last_line(&o);
    let m = manifest(&out, &id);
    assert_eq!(m["status"], "processing_complete");
    assert_eq!(m["transcription_status"], "completed", "{m}");
    assert_eq!(m["subtitles"][0]["lang"], "en");
    let vtt = out.join(m["subtitles"][0]["vtt"].as_str().expect("vtt key"));
    let text =
        std::fs::read_to_string(&vtt).expect("the WebVTT is written before the command exits");
    assert!(text.contains("country"), "{text}");
    assert!(stderr.contains("subtitles (English):"), "{stderr}");

    let out = dir.path().join("without");
    let o = run(&src, &out, &["--no-subtitles"]);
    assert!(o.status.success());
    let m = manifest(&out, &last_line(&o));
    assert_eq!(m["transcription_status"], "not_requested");
    assert!(
        !out.join("processed")
            .join(last_line(&o))
            .join("subtitles")
            .exists()
    );

    // An engine that cannot work here fails the subtitles, not the video.
    let out = dir.path().join("aws");
    let o = run(&src, &out, &["--subtitle-engine", "aws"]);
    assert!(o.status.success());
    let m = manifest(&out, &last_line(&o));
    assert_eq!(
        m["transcription_status"], "not_requested",
        "Amazon Transcribe runs only on AWS"
    );
}

#[test]
fn truncated_mkv() {
    // Matroska declares its duration up front: an upload cut at 40 % loses the
    // end of every stream at once, and is refused.
    let dir = tempfile::tempdir().expect("tmp");
    let mkv = dir.path().join("whole.mkv");
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(media("sintel_trailer_1280x720_52s_h264_aac_dialogue.mp4"))
        .args(["-c", "copy"])
        .arg(&mkv)
        .status()
        .expect("ffmpeg");
    assert!(ok.success());
    let full = std::fs::read(&mkv).expect("read");
    fails_cleanly("cut.mkv", &full[..full.len() * 4 / 10], "truncated");
}

#[test]
fn truncated_short_fragmented_mp4() {
    // A 3 s fragmented MP4 (its index is in the fragments) cut inside its one
    // fragment: the picture stops at about a third and the sound is gone.
    let dir = tempfile::tempdir().expect("tmp");
    let frag = dir.path().join("frag.mp4");
    common::make_clip(
        &frag,
        &[
            "testsrc2=s=320x240:r=25:d=3",
            "sine=frequency=440:duration=3",
        ],
        &[
            "-c:v",
            "libx264",
            "-c:a",
            "aac",
            "-movflags",
            "+frag_keyframe+empty_moov",
        ],
    );
    let full = std::fs::read(&frag).expect("read");
    fails_cleanly("cut.mp4", &full[..full.len() * 45 / 100], "truncated");
}

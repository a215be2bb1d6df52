//! `slicecast serve` killed with SIGKILL while a video is half encoded, then
//! restarted on the same data dir: the video completes, frame-exact, and the
//! slices finished before the kill are not encoded again.

mod common;

use common::{Server, free_port, make_quick_clip, wait_for_port};
use slicecast_tests::check_output;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn serve(data: &Path, port: u16) -> Server {
    let s = Server(
        Command::new(env!("CARGO_BIN_EXE_slicecast"))
            .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--data"])
            .arg(data)
            .args([
                "--preset",
                "veryfast",
                "--subtitles",
                "false",
                "--workers",
                "2",
            ])
            .args(["--slice-seconds", "10", "--heartbeat-timeout-seconds", "4"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start slicecast serve"),
    );
    wait_for_port(port);
    s
}

/// curl with these arguments; returns stdout.
fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sS", "--fail-with-body", "--max-time", "60"])
        .args(args)
        .output()
        .expect("curl");
    assert!(
        out.status.success(),
        "curl {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Uploads `file` through the multipart API; returns the video id.
fn upload(base: &str, file: &Path) -> String {
    let size = std::fs::metadata(file).expect("size").len();
    let created: serde_json::Value = serde_json::from_str(&curl(&[
        "-H",
        "content-type: application/json",
        "-d",
        &serde_json::json!({"fileName": "two-minutes.mp4", "fileSize": size}).to_string(),
        &format!("{base}/create_multipart_upload"),
    ]))
    .expect("json");
    let part_size = created["partSize"].as_u64().expect("partSize");
    let bytes = std::fs::read(file).expect("read");
    let dir = tempfile::tempdir().expect("tmp");
    let mut parts = Vec::new();
    for (i, url) in created["urls"].as_array().expect("urls").iter().enumerate() {
        let start = (i as u64 * part_size).min(size) as usize;
        let end = ((i as u64 + 1) * part_size).min(size) as usize;
        let part = dir.path().join(format!("part{i}"));
        std::fs::write(&part, &bytes[start..end]).expect("write part");
        let url = format!("{base}{}", url.as_str().expect("url"));
        let headers = curl(&[
            "-D",
            "-",
            "-o",
            "/dev/null",
            "-T",
            &part.to_string_lossy(),
            &url,
        ]);
        let etag = headers
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("etag").then(|| v.trim().to_owned())
            })
            .expect("ETag");
        parts.push(serde_json::json!({"PartNumber": i + 1, "ETag": etag}));
    }
    let done: serde_json::Value = serde_json::from_str(&curl(&[
        "-H",
        "content-type: application/json",
        "-d",
        &serde_json::json!({"fileName": "two-minutes.mp4", "uploadId": created["uploadId"], "parts": parts})
            .to_string(),
        &format!("{base}/complete_multipart_upload"),
    ]))
    .expect("json");
    done["video_id"].as_str().expect("video_id").to_owned()
}

fn manifest(data: &Path, id: &str) -> serde_json::Value {
    std::fs::read(data.join("processed").join(id).join("manifest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

#[test]
fn a_killed_server_resumes_its_video_without_redoing_finished_slices() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("two-minutes.mp4");
    make_quick_clip(&src, "854x480", 120, 500);
    let data = dir.path().join("data");

    let port = free_port();
    let mut first = serve(&data, port);
    let id = upload(&format!("http://127.0.0.1:{port}"), &src);
    // Kill it once some slices, but not all, are done.
    let deadline = Instant::now() + Duration::from_secs(300);
    let done_before = loop {
        let m = manifest(&data, &id);
        let done = m["progress"]["slices_done"].as_u64().unwrap_or(0);
        let total = m["progress"]["slices_total"].as_u64().unwrap_or(0);
        assert_ne!(
            m["status"], "processing_complete",
            "finished before the kill"
        );
        if done >= 3 {
            assert!(done < total, "{done} of {total}");
            break done;
        }
        assert!(Instant::now() < deadline, "no progress: {m}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let killed = Command::new("kill")
        .args(["-9", &first.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let _ = first.0.wait();
    // The orphaned ffmpeg children die with their pipes; the slices they were
    // encoding left no result, so they will be encoded again.

    let port = free_port();
    let _second = serve(&data, port);
    let deadline = Instant::now() + Duration::from_secs(600);
    let m = loop {
        let m = manifest(&data, &id);
        if m["status"] == "processing_complete" {
            break m;
        }
        assert!(Instant::now() < deadline, "not resumed: {m}");
        std::thread::sleep(Duration::from_millis(250));
    };
    let resumed = m["resumed"].as_u64().unwrap_or(0);
    assert!(
        resumed >= done_before,
        "{resumed} jobs reused, {done_before} slices were done before the kill"
    );
    let video = data.join("processed").join(&id);
    check_output(&video, &src).expect("frame-exact output");
}

//! `slicecast serve` on a real port, driven by `slicecast load`: eight uploads
//! through the real multipart API, four at a time, all processed correctly;
//! and the same with 5 % of slice attempts failing (chaos: the 1st attempt
//! and one in twenty after it).

mod common;

use common::{Server, free_port, make_clip, wait_for_port};
use std::path::Path;
use std::process::{Command, Stdio};

/// A plain HTTP/1.0 GET; returns the body.
fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").expect("request");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("response");
    resp.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default()
}

/// `slicecast load` of eight copies of `clip`, four at a time; its JSON report.
fn load_eight(base: &str, clip: &Path, extra: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_slicecast"))
        .args([
            "load",
            "--base",
            base,
            "--videos",
            "8",
            "--concurrency",
            "4",
        ])
        .args(extra)
        .args(["--json", "--file"])
        .arg(clip)
        .output()
        .expect("run slicecast load");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "load failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).expect("one JSON object")
}

#[test]
fn load_eight_videos_four_at_a_time() {
    let data = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_slicecast"))
            .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--data"])
            .arg(data.path())
            .args(["--preset", "ultrafast", "--subtitles", "false"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start slicecast serve"),
    );
    wait_for_port(port);
    let clip = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/media/deer_1920x1080_1s_h264_aac_23976.mp4");
    let report = load_eight(&base, &clip, &["--probe-rps", "20"]);
    eprintln!("{report}");
    assert_eq!(report["completed"], 8, "{report}");
    assert!(report["failures"].as_array().is_some_and(Vec::is_empty));
    assert!(report["status_latency"]["count"].as_u64().unwrap_or(0) > 0);
    assert!(report["videos_latency"]["count"].as_u64().unwrap_or(0) > 0);
    // Eight distinct videos are listed.
    let list: serde_json::Value =
        serde_json::from_str(&http_get(port, "/api/videos")).expect("list json");
    let n = list
        .as_array()
        .or_else(|| list["videos"].as_array())
        .map_or(0, Vec::len);
    assert_eq!(n, 8, "{list}");
}

#[test]
fn eight_videos_complete_with_five_percent_of_slice_attempts_failing() {
    let dir = tempfile::tempdir().expect("tmp");
    let clip = dir.path().join("chaos.mp4");
    make_clip(
        &clip,
        &[
            "testsrc2=s=320x180:r=24:d=20",
            "sine=frequency=600:sample_rate=48000:duration=20",
        ],
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "24",
            "-c:a",
            "aac",
        ],
    );
    let data = dir.path().join("data");
    let log = dir.path().join("serve.log");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_slicecast"))
            .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--data"])
            .arg(&data)
            .args(["--preset", "ultrafast", "--subtitles", "false"])
            .args(["--slice-seconds", "4", "--max-tries", "4"])
            .env("SLICECAST_FAIL_SLICE", "5%")
            .env("LOG_LEVEL", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("start slicecast serve"),
    );
    wait_for_port(port);
    let report = load_eight(&base, &clip, &[]);
    assert_eq!(report["completed"], 8, "{report}");
    let injected = std::fs::read_to_string(&log)
        .expect("log")
        .matches("injected failure")
        .count();
    assert!(
        injected > 0,
        "no attempt failed: the test would prove nothing"
    );
    eprintln!("{injected} slice attempts failed on purpose; 8 of 8 videos complete");
    let mut checked = 0;
    for e in std::fs::read_dir(data.join("processed"))
        .expect("processed")
        .flatten()
    {
        slicecast_tests::check_output(&e.path(), &clip)
            .unwrap_or_else(|err| panic!("{}: {err:#}", e.path().display()));
        checked += 1;
    }
    assert_eq!(checked, 8);
}

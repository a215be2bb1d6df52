//! `slicecast serve` on a real port, driven by `slicecast load`: eight uploads
//! through the real multipart API, four at a time, all processed correctly.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn wait_healthy(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let addr = base.trim_start_matches("http://");
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(addr).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("server at {base} did not start");
}

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
    wait_healthy(&base);
    let clip = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/media/deer_1920x1080_1s_h264_aac_23976.mp4");
    let out = Command::new(env!("CARGO_BIN_EXE_slicecast"))
        .args([
            "load",
            "--base",
            &base,
            "--videos",
            "8",
            "--concurrency",
            "4",
            "--probe-rps",
            "20",
            "--json",
            "--file",
        ])
        .arg(&clip)
        .output()
        .expect("run slicecast load");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "load failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
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

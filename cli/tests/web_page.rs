//! The web page in a real browser (headless Chromium via playwright-core), from a
//! fresh `slicecast serve`: upload through the page, watch it process, play past
//! a slice seam, scrub, switch quality, see the subtitles that arrive later (hls.js
//! and DASH), delete; no console errors.
//! Needs Chromium and `web/node_modules` (`scripts/install-deps.sh --test`).

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

#[test]
fn upload_process_play_scrub_switch_delete_in_the_page() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let data = tempfile::tempdir().expect("tmp");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_slicecast"))
            .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--data"])
            .arg(data.path())
            .args(["--slice-seconds", "12", "--subtitle-engine", "whisper"])
            // Whisper installs itself here on first use (shared with the other subtitle tests).
            .env("SLICECAST_WHISPER_VENV", repo.join("target/whisper-venv"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start slicecast serve"),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "serve did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let artifacts = repo.join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).expect("artifacts");
    let out = Command::new("node")
        .arg(repo.join("web/tests/page.mjs"))
        .args(["--base", &format!("http://127.0.0.1:{port}"), "--file"])
        .arg(repo.join("../shared/media/sintel_trailer_1280x720_52s_h264_aac_dialogue.mp4"))
        .arg("--subtitles")
        .arg("--screenshot")
        .arg(artifacts.join("page-player.png"))
        .output()
        .expect("run node web/tests/page.mjs (install with scripts/install-deps.sh --test)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "page test failed:\n{stdout}");
}

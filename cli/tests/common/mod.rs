//! What the `slicecast` binary's tests share: running `transcode`, starting
//! `serve` on a free port and stopping it, making a clip with ffmpeg.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::Duration;

/// `slicecast transcode INPUT --out OUT --quiet --no-subtitles EXTRA…`.
pub fn transcode(input: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_slicecast"))
        .arg("transcode")
        .arg(input)
        .arg("--out")
        .arg(out)
        .args(["--quiet", "--no-subtitles"])
        .args(extra)
        .output()
        .expect("run slicecast")
}

/// The video directory `transcode` printed the id of (its last stdout line).
pub fn video_dir(out: &Path, o: &Output) -> PathBuf {
    let id = String::from_utf8_lossy(&o.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();
    out.join("processed").join(id)
}

/// `ffmpeg -v error -y` with lavfi `inputs`, output options `opts`, to `path`.
pub fn make_clip(path: &Path, inputs: &[&str], opts: &[&str]) {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-v", "error", "-y"]);
    for i in inputs {
        cmd.args(["-f", "lavfi", "-i", i]);
    }
    let ok = cmd.args(opts).arg(path).status().expect("ffmpeg");
    assert!(ok.success(), "making {}", path.display());
}

/// A `seconds`-long `size` (`WxH`) 24 fps test picture with a `hz` tone,
/// made quickly (x264 ultrafast, a keyframe every 2 s; AAC 48 kbit/s).
pub fn make_quick_clip(path: &Path, size: &str, seconds: u32, hz: u32) {
    make_clip(
        path,
        &[
            &format!("testsrc2=s={size}:r=24:d={seconds}"),
            &format!("sine=frequency={hz}:sample_rate=48000:duration={seconds}"),
        ],
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "48",
            "-c:a",
            "aac",
            "-b:a",
            "48k",
        ],
    );
}

/// A child process killed and reaped when dropped (a `slicecast serve`).
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    slicecast_tests::net::free_port()
}

/// Waits until something accepts connections on the loopback `port`.
pub fn wait_for_port(port: u16) {
    slicecast_tests::net::wait_for_port(port, Duration::from_secs(30));
}

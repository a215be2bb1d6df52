//! The web page in a real browser (headless Chromium via playwright-core), from a
//! fresh `slicecast serve` (the first with signed playback): upload through the
//! page, watch it process, play past a slice seam, scrub, switch quality, see the
//! subtitles that arrive later (hls.js and DASH), delete; no console errors. And a long upload watched while it still
//! encodes (`page.mjs --early`).
//! Needs Chromium and `web/node_modules` (`scripts/install-deps.sh --test`).

mod common;

use common::Server;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// One browser and one server at a time: both tests play in real time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `slicecast serve` on a fresh data folder with `args` and `env`; its base URL.
fn serve(data: &Path, args: &[&str], env: &[(&str, &str)]) -> (Server, String) {
    let port = common::free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_slicecast"));
    cmd.args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let server = Server(cmd.spawn().expect("start slicecast serve"));
    common::wait_for_port(port);
    (server, format!("http://127.0.0.1:{port}"))
}

/// Runs `node web/tests/page.mjs --base BASE --file FILE ARGS…`; its JSON summary.
fn page_test(base: &str, file: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new("node")
        .arg(repo().join("web/tests/page.mjs"))
        .args(["--base", base, "--file"])
        .arg(file)
        .args(args)
        .output()
        .expect("run node web/tests/page.mjs (install with scripts/install-deps.sh --test)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "page test failed:\n{stdout}");
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("summary JSON")
}

#[test]
fn upload_process_play_scrub_switch_delete_in_the_page() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let repo = repo();
    let data = tempfile::tempdir().expect("tmp");
    let whisper = repo.join("target/whisper-venv");
    let (_server, base) = serve(
        data.path(),
        &["--slice-seconds", "12", "--subtitle-engine", "whisper"],
        // Whisper installs itself here on first use (shared with the other subtitle tests).
        // Signed playback on: every stream URL the page and its players use must carry a token.
        &[
            ("SLICECAST_WHISPER_VENV", &whisper.to_string_lossy()),
            ("SIGNED_PLAYBACK", "true"),
        ],
    );
    let artifacts = repo.join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).expect("artifacts");
    let shot = artifacts.join("page-player.png");
    let summary = page_test(
        &base,
        &repo.join("../shared/media/sintel_trailer_1280x720_52s_h264_aac_dialogue.mp4"),
        &[
            "--subtitles",
            "--signed",
            "--screenshot",
            &shot.to_string_lossy(),
        ],
    );
    let signed = &summary["signed"];
    assert_eq!(signed["withoutToken"], 0, "{signed}");
    assert!(
        signed["streamRequests"].as_u64().is_some_and(|n| n > 20),
        "{signed}"
    );
    assert_eq!(signed["plain403"], 403, "{signed}");
    assert_eq!(signed["embedPlays"], true, "{signed}");
    for protocol in ["hls", "dash"] {
        let expired = &signed["expired"][protocol];
        assert_eq!(
            expired["message"], "This playback link has expired. Reload the page.",
            "{expired}"
        );
        assert!(
            expired["retry"]["retries"].as_u64().is_some_and(|n| n >= 1),
            "{expired}"
        );
    }
    assert_eq!(summary["share"]["embedPage"]["route"], true, "{summary}");
    assert_eq!(
        summary["library"]["states"],
        serde_json::json!(["uploading", "processing", "ready"]),
        "the library card's states"
    );
    let failed = &summary["failedCard"];
    assert_eq!(failed["deleted"], true, "{failed}");
    assert_eq!(failed["retryShown"], true, "{failed}");
    assert_eq!(failed["statusAfterDelete"], 404, "{failed}");
    let reason = failed["reason"].as_str().unwrap_or_default();
    assert!(
        !reason.is_empty() && !["@", "0x", "/"].iter().any(|s| reason.contains(s)),
        "a plain reason: {reason:?}"
    );
    assert_eq!(
        summary["a11y"]["library with a failed card"],
        serde_json::json!({"light": 0, "dark": 0}),
        "{summary}"
    );
    assert_eq!(summary["states"]["failure"]["toastsAfterReload"], 0);
    let deep = &summary["deepLink"];
    assert_eq!(deep["paused"], true, "{deep}");
    assert!(
        deep["poster"]
            .as_str()
            .is_some_and(|p| p.starts_with("/stream/")),
        "{deep}"
    );
    assert!(deep["diff"].as_f64().is_some_and(|d| d <= 12.0), "{deep}");
    let p = &summary["progress"];
    assert!(p["samples"].as_u64().is_some_and(|n| n >= 10), "{p}");
    assert!(p["maxGapS"].as_f64().is_some_and(|g| g <= 4.0), "{p}");
    assert!(p["increases"].as_u64().is_some_and(|n| n >= 5), "{p}");
    assert_eq!(p["etaShown"], true, "{p}");
    assert_eq!(p["final"]["percent"], "100 %", "{p}");
    assert_eq!(p["violations"], serde_json::json!([]), "{p}");
    let downloads = &summary["downloads"];
    for (kind, mime) in [("mp4", "video/mp4"), ("m4a", "audio/mp4")] {
        let d = &downloads[kind];
        assert_eq!(d["type"], mime, "{d}");
        assert_eq!(d["range"], 206, "{d}");
        assert!(d["played"].as_f64().is_some_and(|t| t > 1.0), "{d}");
        assert!(
            d["name"]
                .as_str()
                .is_some_and(|n| n.ends_with(&format!(".{kind}"))),
            "{d}"
        );
    }
    assert!(
        downloads["mp4"]["bytes"].as_u64() > downloads["m4a"]["bytes"].as_u64(),
        "{downloads}"
    );
    assert!(
        downloads["mp4"]["videoWidth"]
            .as_u64()
            .is_some_and(|w| w > 0),
        "{downloads}"
    );
    assert_eq!(
        summary["a11y"]["the open player"],
        serde_json::json!({"light": 0, "dark": 0})
    );
    for viewport in ["1366x800", "390x844"] {
        let bars = summary["fit"][viewport]["bars"].as_f64();
        assert!(
            bars.is_some_and(|b| b <= 2.0),
            "{viewport}: {bars:?} px of bars"
        );
    }
}

/// A 150 s upload (long enough for the short first slice) whose later slices are
/// held back (slice 1 by 7 s, slice 2 by 14 s: `SLICECAST_SLOW_SLICES`, a test
/// build's switch), so the page is caught playing it, and its sprite sheets
/// growing, while it encodes; the server reports when it first played, sooner
/// than it completed.
#[test]
fn a_long_upload_plays_in_the_page_while_it_encodes() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("tmp");
    let clip = dir.path().join("long talk.mp4");
    common::make_quick_clip(&clip, "320x180", 150, 440);
    let data = dir.path().join("data");
    let (_server, base) = serve(
        &data,
        // Sheets of 20 thumbnails, so some fill before the end.
        &[
            "--workers",
            "2",
            "--subtitle-engine",
            "none",
            "--sprite-rows",
            "2",
        ],
        &[("SLICECAST_SLOW_SLICES", "1:7000")],
    );
    let summary = page_test(&base, &clip, &["--early", "--keep"]);
    let early = &summary["early"];
    assert!(early["readyUntil"].as_f64().unwrap_or(0.0) > 0.0, "{early}");
    assert_eq!(early["libraryWatch"], true, "{early}");
    assert_eq!(
        summary["library"]["states"]
            .as_array()
            .and_then(|s| s.last())
            .and_then(|s| s.as_str()),
        Some("ready"),
        "{summary}"
    );
    assert!(
        early["playedTo"].as_f64().unwrap_or(0.0) > early["readyUntil"].as_f64().unwrap_or(0.0),
        "{early}"
    );

    let id = summary["videoId"].as_str().expect("video id");
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(data.join("processed").join(id).join("manifest.json")).expect("manifest"),
    )
    .expect("manifest JSON");
    assert_eq!(manifest["status"], "processing_complete");
    let playable = manifest["playable_after_ms"]
        .as_u64()
        .expect("playable_after_ms");
    let total = manifest["timings"]["total_ms"].as_u64().expect("total_ms");
    assert!(
        playable + 7000 <= total,
        "played after {playable} ms, complete after {total} ms"
    );
}

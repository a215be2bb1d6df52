//! Real players in headless Chromium (hls.js, shaka-player, dash.js) play the
//! sintel clip's output from the start past two slice seams, seek, report no
//! errors, and show subtitle cues at their times: the segmented WebVTT of the
//! HLS SUBTITLES group (hls.js, shaka) and the MPD's text set (shaka, dash.js).
//! Needs Chromium and the npm players (`scripts/install-deps.sh --test`).

use slicecast_coordinator::subtitles::publish;
use slicecast_coordinator::{LocalInvoker, Settings, process_upload};
use slicecast_core::keys;
use slicecast_core::subtitles::Cue;
use slicecast_segment_worker::WorkerOptions;
use slicecast_storage::{BlobStore, FsStore};
use slicecast_tests::clip;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sintel_plays_in_hlsjs_shaka_and_dashjs() {
    let src = clip("sintel_trailer_1280x720_52s_h264_aac_dialogue.mp4");
    let dir = tempfile::tempdir().expect("tmp");
    let store = Arc::new(FsStore::new(dir.path()).expect("store"));
    store
        .put_file("uploads/sintel.mp4", &src)
        .await
        .expect("upload");
    let settings = Settings {
        workers: 2,
        slice_seconds: Some(8.0),
        ..Settings::default()
    };
    let invoker = Arc::new(LocalInvoker::new(
        store.clone(),
        2,
        WorkerOptions::default(),
    ));
    let outcome = process_upload(
        store,
        invoker,
        "uploads/sintel.mp4",
        &settings,
        Arc::new(|_| {}),
    )
    .await
    .expect("transcode");
    let m = outcome.manifest();
    // Subtitles as a speech engine would deliver them (the engines have tests of
    // their own): one cue inside a segment, one across a segment boundary.
    let cue = |start_s: f64, end_s: f64, text: &str| Cue {
        start_s,
        end_s,
        lines: vec![text.to_owned()],
    };
    let cues = [
        // Times that are not round, as a speech engine gives them: a player
        // that maps two segments' copies to times differing by float noise
        // shows the crossing cue twice.
        cue(9.37, 11.83, "A cue inside one segment"),
        cue(22.41, 25.63, "A cue across a segment boundary"),
    ];
    let tracks = publish(&FsStore::new(dir.path()).expect("store"), m, "en", &cues)
        .await
        .expect("subtitles published");
    assert_eq!(tracks.len(), 1);
    assert!(
        m.slice_starts_s.len() >= 3,
        "several slices: {:?}",
        m.slice_starts_s
    );
    // Play past the first two seams.
    let seams: Vec<String> = m.slice_starts_s[1..3]
        .iter()
        .map(|s| format!("{s:.3}"))
        .collect();
    let video_dir = dir.path().join(keys::video_prefix(&m.video_id));
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts");
    std::fs::create_dir_all(&artifacts).expect("artifacts dir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("players/play.mjs");
    let out = Command::new("node")
        .arg(&script)
        .arg("--dir")
        .arg(&video_dir)
        .args([
            "--hls",
            "hls/master.m3u8",
            "--dash",
            "dash/stream.mpd",
            "--seams",
            &seams.join(","),
            "--cue",
            "11.1:A cue inside one segment",
            "--cue",
            "23.2:A cue across a segment boundary",
            "--cue",
            "25.2:A cue across a segment boundary",
        ])
        .arg("--out")
        .arg(artifacts.join("players.json"))
        .arg("--screenshot")
        .arg(artifacts.join("player.png"))
        .output()
        .expect("run node tests/players/play.mjs (install with scripts/install-deps.sh --test)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "players failed:\n{stdout}");
    for case in ["hls.js+hls", "shaka+hls", "shaka+dash", "dashjs+dash"] {
        assert!(
            stdout.contains(&format!("\"case\":\"{case}\",")),
            "case {case} ran"
        );
    }
}

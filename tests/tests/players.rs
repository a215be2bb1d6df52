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
    let out = artifacts.join("players.json");
    let shot = artifacts.join("player.png");
    play_all(
        &video_dir,
        &[
            "--seams",
            &seams.join(","),
            "--cue",
            "11.1:A cue inside one segment",
            "--cue",
            "23.2:A cue across a segment boundary",
            "--cue",
            "25.2:A cue across a segment boundary",
            "--out",
            &out.to_string_lossy(),
            "--screenshot",
            &shot.to_string_lossy(),
        ],
    );
}

/// `EXTRA_CODECS=av1`: the AV1 rungs are frame-exact like the H.264 ones
/// (the same checks, on every rung), named with their real `av01` codec
/// strings in the HLS master and in an MPD adaptation set of their own, and
/// hls.js, shaka (HLS and DASH) and dash.js, steered to them, play them past
/// the slice seams in Chromium.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn av1_rungs_are_frame_exact_and_play() {
    use slicecast_core::ladder::VideoCodec;
    let dir = tempfile::tempdir().expect("tmp");
    let sintel = clip("sintel_trailer_1280x720_52s_h264_aac_dialogue.mp4");
    let src = slicecast_tests::local::generate(
        dir.path(),
        "sintel10.mp4",
        &[
            "-ss",
            "20",
            "-t",
            "10",
            "-i",
            &sintel.to_string_lossy(),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "aac",
        ],
    );
    let out = dir.path().join("out");
    let settings = Settings {
        workers: 2,
        slice_seconds: Some(4.0),
        extra_codecs: vec![VideoCodec::Av1],
        ..Settings::default()
    };
    let outcome = slicecast_tests::local::transcode(&src, &out, &settings)
        .await
        .expect("transcode");
    let m = outcome.manifest();
    let video_dir = out.join(keys::video_prefix(&m.video_id));
    let report = slicecast_tests::check_output(&video_dir, &src).expect("frame-exact output");
    for rung in ["720p", "720p-av1", "480p-av1", "360p-av1"] {
        assert!(
            report.rungs.iter().any(|r| r == rung),
            "{rung}: {:?}",
            report.rungs
        );
    }
    let master = std::fs::read_to_string(video_dir.join("hls/master.m3u8")).expect("master");
    assert!(master.contains("CODECS=\"av01.0."), "{master}");
    let mpd = std::fs::read_to_string(video_dir.join("dash/stream.mpd")).expect("mpd");
    let sets = mpd.matches("contentType=\"video\"").count();
    assert_eq!(sets, 2, "one video set per codec:\n{mpd}");
    assert!(mpd.contains("codecs=\"av01.0."), "{mpd}");
    // The download stays H.264 (plays everywhere).
    assert!(
        m.downloads.iter().any(|d| d.key.ends_with("/720p.mp4")),
        "{:?}",
        m.downloads
    );
    let seams: Vec<String> = m.slice_starts_s[1..]
        .iter()
        .map(|s| format!("{s:.3}"))
        .collect();
    let stdout = play_all(
        &video_dir,
        &["--seams", &seams.join(","), "--codec", "av01"],
    );
    assert!(
        stdout.matches("\"playingCodec\":\"av01.").count() >= 4,
        "{stdout}"
    );
}

/// Runs `tests/players/play.mjs` on `video_dir`'s HLS and DASH output with
/// `args`: every case (hls.js and shaka on HLS, shaka and dash.js on DASH)
/// must run and pass; returns its stdout.
fn play_all(video_dir: &Path, args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("players/play.mjs");
    let out = Command::new("node")
        .arg(&script)
        .arg("--dir")
        .arg(video_dir)
        .args(["--hls", "hls/master.m3u8", "--dash", "dash/stream.mpd"])
        .args(args)
        .output()
        .expect("run node tests/players/play.mjs (install with scripts/install-deps.sh --test)");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "players failed:\n{stdout}");
    for case in ["hls.js+hls", "shaka+hls", "shaka+dash", "dashjs+dash"] {
        assert!(
            stdout.contains(&format!("\"case\":\"{case}\",")),
            "case {case} ran"
        );
    }
    stdout
}

//! Long sources at the default settings: nothing in a slice's command line may
//! grow with its length. A 12-minute clip runs with every test run; the
//! 60-minute one is ignored (a slow suite: `.ci/run` runs it with `--ignored`
//! when time allows).

mod common;

use slicecast_tests::check_output;
use std::path::Path;

/// A `minutes`-long 192×108 24 fps clip with a tone, made quickly.
fn make_clip(dir: &Path, minutes: u32) -> std::path::PathBuf {
    let path = dir.join(format!("long-{minutes}min.mp4"));
    common::make_quick_clip(&path, "192x108", minutes * 60, 330);
    path
}

fn transcode_at_defaults(minutes: u32) {
    let dir = tempfile::tempdir().expect("tmp");
    let src = make_clip(dir.path(), minutes);
    let out = dir.path().join("out");
    let o = common::transcode(&src, &out, &["--workers", "2"]);
    assert!(
        o.status.success(),
        "{minutes} min: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let video = common::video_dir(&out, &o);
    let report = check_output(&video, &src).unwrap_or_else(|e| panic!("{minutes} min: {e:#}"));
    eprintln!("{minutes} min: {report:?}");
    // It played early: a two-segment first slice and the sound's first
    // minute were published long before the last slice was in.
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(video.join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    let after = m["playable_after_ms"].as_u64().expect("playable_after_ms");
    let total = m["timings"]["total_ms"].as_u64().expect("total_ms");
    assert!(
        after < total,
        "{minutes} min: playable after {after} ms of {total} ms"
    );
    eprintln!("{minutes} min: playable after {after} ms, complete after {total} ms");
    // One thumbnail a second, every one on a sprite.
    let vtt = std::fs::read_to_string(video.join("thumbnail/thumbnails.vtt")).expect("vtt");
    let cues = vtt.lines().filter(|l| l.contains("#xywh=")).count();
    assert_eq!(cues as u32, minutes * 60, "a thumbnail every second");
}

#[test]
fn twelve_minutes_at_the_default_settings() {
    transcode_at_defaults(12);
}

#[test]
#[ignore = "slow suite (a 60-minute clip): cargo test -- --ignored"]
fn an_hour_at_the_default_settings() {
    transcode_at_defaults(60);
}

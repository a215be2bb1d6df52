//! `slicecast model` end to end on a short shared clip: it measures, then models.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

#[test]
fn model_measures_and_prints_rows_for_each_worker_count() {
    let clip = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/media/gradio_outro_1920x1080_7s_h264_aac.mp4");
    let out = Command::new(env!("CARGO_BIN_EXE_slicecast"))
        .arg("model")
        .arg(&clip)
        .args(["--json", "--slice-seconds", "4", "--workers", "10,100"])
        .args(["--duration", "600,7200"])
        .output()
        .expect("run slicecast model");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "model failed: {stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let m = &v["measured"];
    for key in [
        "slice_cpu_per_media_s",
        "slice_wall_s",
        "audio_cpu_per_media_s",
        "hash_mb_s",
        "source_bytes_per_s",
    ] {
        assert!(m[key].as_f64().is_some_and(|x| x > 0.0), "{key}: {v}");
    }
    let rows = v["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 4, "{v}");
    assert_eq!(rows[0]["workers"], 10);
    // 600 s over 10 workers: 60 s slices; over 100: 8 s slices (the shortest
    // planned); 7200 s over 100 workers: 72 s slices.
    assert_eq!(rows[0]["slices"], 10);
    assert_eq!(rows[1]["slices"], 75);
    assert_eq!(
        (rows[3]["duration_s"].as_f64(), rows[3]["slices"].as_u64()),
        (Some(7200.0), Some(100))
    );
    // A longer upload takes longer to probe; its start, planned from the
    // head of the file, plays no sooner.
    assert!(
        rows[3]["probe_s"].as_f64() > rows[1]["probe_s"].as_f64(),
        "{v}"
    );
    assert!(
        rows[3]["first_playable_s"].as_f64() >= rows[1]["first_playable_s"].as_f64(),
        "{v}"
    );
    assert!(rows[1]["head_s"].as_f64().is_some_and(|h| h > 0.0), "{v}");
    // With 60 s slices the start (a one-segment first slice and a minute of
    // sound) plays well before the end.
    let first = rows[0]["first_playable_s"]
        .as_f64()
        .expect("first playable");
    assert!(first < rows[0]["total_s"].as_f64().expect("total"), "{v}");
    for r in rows {
        let total = r["total_s"].as_f64().expect("total");
        let part = |k: &str| r[k].as_f64().expect("part");
        // The hash and the probe overlap; the assembly follows the jobs.
        assert!(
            total > part("hash_s").max(part("probe_s")) + part("assemble_s"),
            "{r}"
        );
        let first = r["first_playable_s"].as_f64().expect("first playable");
        assert!(first > 0.0 && first <= total, "{r}");
        assert!(r["usd_per_source_minute"].as_f64().expect("usd") > 0.0);
    }
}

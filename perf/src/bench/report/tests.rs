//! The benchmark report: ratios, the JSON object and the table.

use super::*;

fn m(cpu_s: f64, wall_s: f64, peak_rss_mb: f64) -> Measurement {
    Measurement {
        cpu_s,
        wall_s,
        peak_rss_mb,
        first_playable_s: wall_s,
    }
}

fn report() -> Report {
    Report {
        input: "deer.mp4".into(),
        generated_1080p_s: None,
        duration_s: 0.98,
        size: (1920, 1080),
        rungs: vec!["1080p".into(), "720p".into(), "480p".into(), "360p".into()],
        workers: 2,
        cores: 2,
        cpu_model: "AMD EPYC".into(),
        slicecast: m(2.0, 1.5, 120.0),
        ladder: m(1.6, 1.0, 300.0),
        rounds: vec![Round {
            slicecast: m(2.0, 1.5, 120.0),
            ladder: m(1.6, 1.0, 300.0),
        }],
        scaling: Vec::new(),
        medium: Some(m(4.0, 2.5, 150.0)),
        legacy: Some(m(16.0, 9.0, 200.0)),
        psnr_db: 43.25,
        ladder_psnr_db: 43.0,
        bitrate_kbps: 2100.0,
        ladder_bitrate_kbps: 2000.0,
        bd_rate: None,
        av1: None,
    }
}

#[test]
fn the_av1_section() {
    use crate::bench::av1::Av1Report;
    use crate::bench::bdrate::{BdRate, RatePoint};
    let p = |crf, kbps, psnr_db| RatePoint { crf, kbps, psnr_db };
    let mut r = report();
    r.av1 = Some(Av1Report {
        run: m(4.8, 3.0, 400.0),
        h264_run: r.slicecast,
        top: p(26, 1400.0, 42.9),
        h264_top: p(21, 2100.0, 43.25),
        curves: BdRate {
            slicecast: vec![p(20, 3000.0, 45.0), p(26, 2000.0, 43.0)],
            ladder: vec![p(18, 3500.0, 45.5), p(22, 2300.0, 43.4)],
            bd_rate_pct: Some(-12.5),
        },
    });
    let t = r.table();
    assert!(
        t.contains("cpu 4.80 s (2.40× a), wall 3.00 s (2.00× a)"),
        "{t}"
    );
    assert!(
        t.contains("AV1 1400 kbit/s at 42.90 dB, H.264 2100 kbit/s at 43.25 dB"),
        "{t}"
    );
    assert!(
        t.contains("av1_bd_rate_pct (AV1 vs H.264)  -12.50 %"),
        "{t}"
    );
    let v = r.to_json();
    assert_eq!(v["av1"]["cpu_ratio_vs_h264"], json!(2.4));
    assert_eq!(v["av1"]["bd_rate_pct"], json!(-12.5));
    assert_eq!(v["av1"]["curves"]["h264"][1]["crf"], json!(22));
    assert!(report().to_json()["av1"].is_null());
}

#[test]
fn no_negative_zero() {
    assert_eq!(fixed(-0.001, 2), "0.00");
    assert_eq!(fixed(-0.01, 2), "-0.01");
    assert_eq!(fixed(2.71, 1), "2.7");
}

#[test]
fn ratios() {
    assert_eq!(ratio(3.0, 2.0), Some(1.5));
    assert_eq!(ratio(3.0, 0.0), None);
    assert_eq!(ratio(f64::INFINITY, 1.0), None);
    assert_eq!(delta_pct(110.0, 100.0).map(|x| round(x, 6)), Some(10.0));
    assert_eq!(delta_pct(1.0, 0.0), None);
    let r = report();
    assert_eq!(r.cpu_ratio_vs_ladder(), Some(1.25));
    assert_eq!(r.cpu_ratio_vs_legacy(), Some(0.25));
    assert_eq!(r.psnr_delta_db(), Some(0.25));
    assert_eq!(r.bitrate_delta_pct().map(|x| round(x, 6)), Some(5.0));
}

#[test]
fn json_has_every_field_and_nulls_for_skipped_variants() {
    let v = report().to_json();
    assert_eq!(v["cpu_s"], json!(2.0));
    assert_eq!(v["ladder_cpu_s"], json!(1.6));
    assert_eq!(v["cpu_ratio_vs_ladder"], json!(1.25));
    assert_eq!(v["cpu_ratio_vs_legacy"], json!(0.25));
    assert_eq!(v["psnr_delta_db"], json!(0.25));
    assert_eq!(v["bitrate_delta_pct"], json!(5.0));
    assert_eq!(v["top_rung"], json!("1080p"));
    assert_eq!(v["workers"], json!(2));
    assert_eq!(v["first_playable_s"], json!(1.5));
    assert_eq!(v["ladder_first_playable_s"], json!(1.0));
    assert_eq!(v["first_playable_ratio_vs_ladder"], json!(1.5));

    let mut skipped = report();
    skipped.medium = None;
    skipped.legacy = None;
    skipped.ladder_psnr_db = f64::INFINITY;
    let v = skipped.to_json();
    for k in [
        "medium_cpu_s",
        "medium_wall_s",
        "medium_first_playable_s",
        "legacy_first_playable_s",
        "legacy_cpu_s",
        "legacy_wall_s",
        "cpu_ratio_vs_legacy",
        "ladder_psnr_db",
        "psnr_delta_db",
    ] {
        assert_eq!(v[k], Value::Null, "{k}");
    }
    for k in [
        "cpu_s",
        "wall_s",
        "ladder_cpu_s",
        "ladder_wall_s",
        "cpu_ratio_vs_ladder",
        "psnr_db",
        "bitrate_kbps",
        "ladder_bitrate_kbps",
        "bitrate_delta_pct",
        "peak_rss_mb",
        "ladder_peak_rss_mb",
        "cores",
        "input",
        "duration_s",
    ] {
        assert!(!v[k].is_null(), "{k}");
    }
}

#[test]
fn table_rows_in_order() {
    let t = report().table();
    let rows: Vec<&str> = t.lines().skip(2).take(4).collect();
    assert!(
        rows[0].starts_with("a ") && rows[0].contains("1.25") && rows[0].contains("1.50"),
        "{t}"
    );
    assert!(rows[1].starts_with("b ") && rows[1].contains("1.00"), "{t}");
    assert!(
        rows[2].starts_with("a_medium") && rows[2].contains("2.50"),
        "{t}"
    );
    assert!(
        rows[3].starts_with("c ") && rows[3].contains("10.00"),
        "{t}"
    );
    assert!(t.contains("psnr_delta_db (a - b)       0.25 dB"), "{t}");
    assert!(t.contains("bitrate_delta_pct (a-b)/b   5.0 %"), "{t}");
    assert!(t.contains("cpu_ratio_vs_legacy         0.250"), "{t}");
    assert!(
        t.contains("machine                     2 cores, AMD EPYC"),
        "{t}"
    );

    let mut skipped = report();
    skipped.medium = None;
    skipped.legacy = None;
    let t = skipped.table();
    assert!(
        t.lines()
            .nth(4)
            .is_some_and(|l| l.starts_with("a_medium") && l.ends_with("skipped")),
        "{t}"
    );
    assert!(t.contains("cpu_ratio_vs_legacy         - "), "{t}");
}

#[test]
fn rounds_give_medians_and_each_round_s_ratios() {
    assert_eq!(median_of(vec![3.0, 1.0, 2.0]), Some(2.0));
    assert_eq!(median_of(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
    assert_eq!(median_of(vec![]), None);
    let runs = [m(2.0, 1.5, 120.0), m(9.0, 1.1, 100.0), m(3.0, 1.3, 110.0)];
    assert_eq!(median(&runs), Some(m(3.0, 1.3, 110.0)));

    let mut r = report();
    assert!(!r.table().contains("by round"), "one round: no round lines");
    r.rounds = [(1.10, 1.0), (2.0, 1.6), (1.04, 1.0)]
        .map(|(a, b)| Round {
            slicecast: m(2.0, a, 120.0),
            ladder: m(1.6, b, 300.0),
        })
        .to_vec();
    // Each round compares two runs made back to back: 1.10, 1.25, 1.04.
    assert_eq!(r.median_round_wall_ratio().map(|x| round(x, 6)), Some(1.1));
    let t = r.table();
    assert!(t.contains("medians of 3 rounds"), "{t}");
    assert!(
        t.contains("wall / b by round           1.10 1.25 1.04"),
        "{t}"
    );
    let v = r.to_json();
    assert_eq!(v["rounds"][1]["wall_ratio"], json!(1.25));
    assert_eq!(v["median_round_wall_ratio"], json!(1.1));
}

#[test]
fn the_scaling_curve() {
    let mut r = report();
    assert!(!r.table().contains("scaling"));
    assert_eq!(r.to_json()["scaling"], json!([]));
    r.scaling = vec![(1, m(1.5, 3.0, 90.0)), (2, m(1.6, 1.6, 100.0))];
    let t = r.table();
    assert!(
        t.contains("scaling: (a) by workers, against (b) (1.00 s wall, 1.60 s CPU)"),
        "{t}"
    );
    assert!(
        t.contains("      1      1.50      3.00       3.00      0.94      3.00"),
        "{t}"
    );
    assert!(
        t.contains("      2      1.60      1.60       1.60      1.00      1.60"),
        "{t}"
    );
    let v = r.to_json();
    assert_eq!(v["scaling"][1]["workers"], json!(2));
    assert_eq!(v["scaling"][0]["wall_ratio_vs_ladder"], json!(3.0));
    assert_eq!(v["scaling"][0]["first_playable_s"], json!(3.0));
}

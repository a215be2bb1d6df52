//! Fuzzing of the ffprobe readers (issue #10): `parse_probe` (the JSON of
//! `-show_format -show_streams`) and `parse_packets` (the packet CSV), and the
//! checks applied to what they return. ffprobe describes an uploaded file, so
//! its output is outside bytes: any text must give a value or an error, never
//! a panic.
//!
//! Cases: `PROPTEST_CASES` (proptest's own variable), 256 when unset. Failures
//! are not persisted to `proptest-regressions/`.

use proptest::prelude::*;
use slicecast_core::source_info::{FrameIndex, Probe, Rational};
use slicecast_media::limits::Limits;
use slicecast_media::probe::{MAX_SIDE, check_complete, parse_packets, parse_probe, require_video};
use slicecast_media::truncation::video_end_s;

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ------------------------------------------------------------ ffprobe JSON

/// A JSON scalar token as text: numbers at and past every edge (some of them
/// out of serde_json's range), numeric strings, rationals, and other types.
fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        // Plain numbers.
        (-10i64..5000).prop_map(|n| n.to_string()),
        Just(i64::MIN.to_string()),
        Just(i64::MAX.to_string()),
        Just(u64::MAX.to_string()),
        Just("18446744073709551616".to_owned()),
        Just("-9223372036854775809".to_owned()),
        Just("1e308".to_owned()),
        Just("-1e308".to_owned()),
        Just("1e400".to_owned()),
        Just("4.9e-324".to_owned()),
        Just("-0.0".to_owned()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        // Strings ffprobe uses for numbers, and ones it does not.
        prop::sample::select(vec![
            "\"NaN\"",
            "\"nan\"",
            "\"inf\"",
            "\"-inf\"",
            "\"infinity\"",
            "\"1e400\"",
            "\"-1\"",
            "\"0\"",
            "\"N/A\"",
            "\"\"",
            "\"30000/1001\"",
            "\"0/0\"",
            "\"1/0\"",
            "\"0/1\"",
            "\"-1/-1\"",
            "\"9223372036854775807/1\"",
            "\"1/-9223372036854775808\"",
            "\"-9223372036854775808/-1\"",
            "\"16:9\"",
            "\"0:1\"",
            "\"1:0\"",
            "\"/\"",
            "\"video\"",
            "\"audio\"",
            "\"tt\"",
            "\"bb\"",
            "\"h264\"",
            "\"mov,mp4,m4a,3gp,3g2,mj2\"",
            "\"matroska,webm\"",
            "\"-90\"",
            "\"270\"",
            "\"-9e18\"",
            "\"1e19\"",
        ])
        .prop_map(str::to_owned),
        "\"[ -~]{0,12}\"".prop_map(|s| s.replace('\\', "")),
        prop::sample::select(vec!["null", "true", "false", "[]", "{}", "[1,2]"])
            .prop_map(str::to_owned),
    ]
}

/// `{"key": value, ...}` with each of `keys` present or not; values are
/// scalars, or `nested` for the keys that hold objects or lists.
fn object(
    keys: &'static [&'static str],
    nested: impl Strategy<Value = String> + Clone + 'static,
) -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(keys.to_vec()),
            prop_oneof![4 => scalar(), 1 => nested],
        ),
        0..keys.len() + 2,
    )
    .prop_map(|fields| {
        let body: Vec<String> = fields
            .into_iter()
            .map(|(k, v)| format!("{k:?}:{v}"))
            .collect();
        format!("{{{}}}", body.join(","))
    })
}

const STREAM_KEYS: &[&str] = &[
    "index",
    "codec_type",
    "codec_name",
    "width",
    "height",
    "sample_aspect_ratio",
    "r_frame_rate",
    "avg_frame_rate",
    "time_base",
    "pix_fmt",
    "field_order",
    "disposition",
    "side_data_list",
    "tags",
    "sample_rate",
    "channels",
    "duration",
];
const FORMAT_KEYS: &[&str] = &["format_name", "duration", "start_time", "bit_rate", "tags"];

/// What nests inside a stream: a disposition, rotation side data, tags.
fn stream_nested() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        scalar().prop_map(|v| format!("{{\"attached_pic\":{v}}}")),
        scalar()
            .prop_map(|v| format!("[{{\"side_data_type\":\"Display Matrix\",\"rotation\":{v}}}]")),
        scalar().prop_map(|v| format!("[{{}},{{\"rotation\":{v}}}]")),
        scalar().prop_map(|v| format!("{{\"rotate\":{v}}}")),
    ]
}

fn stream() -> impl Strategy<Value = String> {
    // Most streams say what they are, so the video and audio paths are taken.
    (
        prop::sample::select(vec![
            "\"video\"",
            "\"video\"",
            "\"audio\"",
            "\"subtitle\"",
            "1",
            "null",
        ]),
        object(STREAM_KEYS, stream_nested()),
    )
        .prop_map(|(kind, rest)| {
            let rest = rest.trim_start_matches('{');
            let sep = if rest == "}" { "" } else { "," };
            format!("{{\"codec_type\":{kind}{sep}{rest}")
        })
}

fn probe_json() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            4 => object(FORMAT_KEYS, Just("{}".to_owned())).prop_map(Some),
            1 => Just(None),
        ],
        prop_oneof![
            4 => prop::collection::vec(stream(), 0..4).prop_map(|s| format!("[{}]", s.join(","))),
            1 => scalar(),
        ],
    )
        .prop_map(|(format, streams)| match format {
            Some(f) => format!("{{\"format\":{f},\"streams\":{streams}}}"),
            None => format!("{{\"streams\":{streams}}}"),
        })
}

fn check_probe(json: &str) -> Result<(), TestCaseError> {
    let Ok(p) = parse_probe(json) else {
        return Ok(());
    };
    if let Some(v) = &p.video {
        prop_assert!(
            [0, 90, 180, 270].contains(&v.rotation),
            "rotation {}",
            v.rotation
        );
        let (w, h) = v.display_size();
        prop_assert!(w >= 1 && h >= 1);
    }
    if let Ok(v) = require_video(&p) {
        prop_assert!((1..=MAX_SIDE).contains(&v.width) && (1..=MAX_SIDE).contains(&v.height));
    }
    let _ = Limits::default().check_header(&p);
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Any text.
    #[test]
    fn parse_probe_never_panics_on_any_text(json in ".{0,200}") {
        check_probe(&json)?;
    }

    /// Any bytes, as `probe` reads ffprobe's stdout (lossy UTF-8).
    #[test]
    fn parse_probe_never_panics_on_any_bytes(data in prop::collection::vec(any::<u8>(), 0..256)) {
        check_probe(&String::from_utf8_lossy(&data))?;
    }

    /// ffprobe-shaped JSON with every field missing, of another type, or at an edge.
    #[test]
    fn parse_probe_never_panics_on_probe_shaped_json(json in probe_json()) {
        check_probe(&json)?;
    }
}

// ------------------------------------------------------------- packet CSV

fn ts_token() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (-100i64..100_000).prop_map(|n| n.to_string()),
        1 => Just(i64::MIN.to_string()),
        1 => Just(i64::MAX.to_string()),
        1 => Just("9223372036854775808".to_owned()),
        1 => Just("-4611686018427387904".to_owned()),
        1 => Just("4611686018427387904".to_owned()),
        1 => prop::sample::select(vec!["", "N/A", "nan", "1.5", "+3", "-", " 7"]).prop_map(str::to_owned),
        1 => "[ -~]{0,6}",
    ]
}

fn flags_token() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["K_", "__", "K_D", "_D", "1", "0", "K", "", "KD_"])
            .prop_map(str::to_owned),
        "[ -~]{0,4}",
    ]
}

fn packet_line() -> impl Strategy<Value = String> {
    prop_oneof![
        // pts,dts,flags
        4 => (ts_token(), ts_token(), flags_token()).prop_map(|(p, d, f)| format!("{p},{d},{f}")),
        // best_effort_timestamp,key_frame
        2 => (ts_token(), flags_token()).prop_map(|(p, f)| format!("{p},{f}")),
        // Any number of fields, commas only, junk.
        1 => prop::collection::vec(ts_token(), 0..6).prop_map(|f| f.join(",")),
        1 => ".{0,20}",
    ]
}

fn packets_csv() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(packet_line(), 0..40),
        prop::sample::select(vec!["\n", "\r\n", "\n\n"]),
    )
        .prop_map(|(lines, eol)| lines.join(eol))
}

fn time_base() -> impl Strategy<Value = Rational> {
    let part = prop_oneof![
        4 => prop::sample::select(vec![1i64, 1000, 1001, 90_000, 30_000, 48_000]),
        1 => Just(0i64),
        1 => Just(-1i64),
        1 => Just(i64::MIN),
        1 => Just(i64::MAX),
        1 => any::<i64>(),
    ];
    (part.clone(), part).prop_map(|(n, d)| Rational::new(n, d))
}

fn check_index(index: &FrameIndex, missing: usize, csv: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(index.pts.len(), index.key.len());
    prop_assert!(
        index.pts.windows(2).all(|w| w[0] < w[1]),
        "not strictly increasing"
    );
    prop_assert!(index.len() + missing <= csv.lines().count());
    prop_assert!(index.frame_duration() >= 1);
    let _ = index.end_pts();
    Ok(())
}

/// A probe that says the file is an MP4 of `duration_s` seconds.
fn mp4_probe(duration_s: f64) -> Probe {
    Probe {
        format_name: "mov,mp4,m4a,3gp,3g2,mj2".into(),
        duration_s,
        start_time_s: 0.0,
        bit_rate: None,
        video: None,
        audio: None,
    }
}

proptest! {
    #![proptest_config(config())]

    /// Any text: an index (sorted, no duplicates) and a count, never a panic.
    #[test]
    fn parse_packets_never_panics_on_any_text(csv in ".{0,300}", tb in time_base()) {
        let (index, missing) = parse_packets(&csv, tb);
        check_index(&index, missing, &csv)?;
    }

    /// CSV-shaped text with timestamps at the ends of i64, junk flags and fields.
    #[test]
    fn parse_packets_never_panics_on_packet_shaped_csv(csv in packets_csv(), tb in time_base()) {
        let (index, missing) = parse_packets(&csv, tb);
        check_index(&index, missing, &csv)?;
    }

    /// The frame-rate and duration limits take whatever index the packets gave.
    #[test]
    fn limits_take_any_packet_index(csv in packets_csv(), tb in time_base()) {
        let (index, _) = parse_packets(&csv, tb);
        let _ = Limits::default().check_frames(&index);
    }

    /// The truncation check takes whatever index the packets gave.
    #[test]
    fn check_complete_takes_any_packet_index(
        csv in packets_csv(),
        tb in time_base(),
        declared in prop_oneof![Just(0.0f64), 0.0f64..1e6, Just(f64::MAX), Just(f64::NAN)],
    ) {
        let (index, _) = parse_packets(&csv, tb);
        let probe = mp4_probe(declared);
        let _ = check_complete(&probe, video_end_s(&probe, &index));
    }
}

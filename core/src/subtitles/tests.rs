//! Tests of cue building, WebVTT/SRT writing and parsing, and segmenting.

use super::*;

fn words(spec: &[(&str, f64, f64)]) -> Vec<Word> {
    spec.iter()
        .map(|(t, a, b)| Word {
            text: (*t).to_owned(),
            start_s: *a,
            end_s: *b,
        })
        .collect()
}

#[test]
fn cue_breaks() {
    let limits = CueLimits::default();
    // (words, expected cue texts)
    let table: Vec<(Vec<Word>, Vec<&str>)> = vec![
        (vec![], vec![]),
        (
            words(&[
                ("Hello", 0.0, 0.4),
                ("world.", 0.5, 0.9),
                ("Next", 1.0, 1.3),
            ]),
            vec!["Hello world.", "Next"],
        ),
        (words(&[("a", 0.0, 0.1), ("b", 2.0, 2.1)]), vec!["a", "b"]),
        (
            (0..30)
                .map(|i| Word {
                    text: "word".into(),
                    start_s: f64::from(i) * 0.3,
                    end_s: f64::from(i) * 0.3 + 0.25,
                })
                .collect(),
            vec![
                "word word word word word word word word\nword word word word word word word word",
                "word word word word word word word word\nword word word word word word",
            ],
        ),
        (
            (0..12)
                .map(|i| Word {
                    text: "slow".into(),
                    start_s: f64::from(i) * 0.9,
                    end_s: f64::from(i) * 0.9 + 0.8,
                })
                .collect(),
            vec![
                "slow slow slow slow slow slow slow",
                "slow slow slow slow slow",
            ],
        ),
        (words(&[(" ", 0.0, 1.0), ("ok", 1.0, 1.2)]), vec!["ok"]),
    ];
    for (input, want) in table {
        let got: Vec<String> = cues(&input, &limits)
            .iter()
            .map(|c| c.lines.join("\n"))
            .collect();
        assert_eq!(got, want);
    }
}

#[test]
fn cues_respect_limits() {
    let limits = CueLimits::default();
    let ws: Vec<Word> = (0..200)
        .map(|i| Word {
            text: ["a", "bb", "longerword", "x.", "mid"][i % 5].to_owned(),
            start_s: i as f64 * 0.37,
            end_s: i as f64 * 0.37 + 0.3,
        })
        .collect();
    let cs = cues(&ws, &limits);
    let mut last_end = 0.0;
    for c in &cs {
        assert!(c.lines.len() <= 2, "{c:?}");
        assert!(c.lines.iter().all(|l| l.chars().count() <= 42), "{c:?}");
        assert!(c.end_s - c.start_s <= 7.0 + 1e-9, "{c:?}");
        assert!(c.start_s >= last_end, "overlap at {c:?}");
        last_end = c.end_s;
    }
    let n: usize = cs
        .iter()
        .map(|c| c.lines.iter().map(|l| l.split(' ').count()).sum::<usize>())
        .sum();
    assert_eq!(n, ws.len(), "every word once");
}

#[test]
fn documents() {
    let cs = vec![
        Cue {
            start_s: 1.5,
            end_s: 3.25,
            lines: vec!["And so, my fellow Americans,".into()],
        },
        Cue {
            start_s: 3661.0,
            end_s: 3662.25,
            lines: vec!["ask not".into(), "what".into()],
        },
    ];
    assert_eq!(
        webvtt(&cs),
        "WEBVTT\n\n00:00:01.500 --> 00:00:03.250\nAnd so, my fellow Americans,\n\n01:01:01.000 --> 01:01:02.250\nask not\nwhat\n"
    );
    assert_eq!(
        srt(&cs),
        "1\n00:00:01,500 --> 00:00:03,250\nAnd so, my fellow Americans,\n\n2\n01:01:01,000 --> 01:01:02,250\nask not\nwhat\n\n"
    );
    assert_eq!(webvtt(&[]), "WEBVTT\n");
}

#[test]
fn webvtt_escapes_markup_and_reads_back() {
    let cs = vec![
        Cue {
            start_s: 0.25,
            end_s: 2.0,
            lines: vec!["<b>Tom & Jerry</b>".into(), "".into(), "-->".into()],
        },
        Cue {
            start_s: 3600.5,
            end_s: 3601.0,
            lines: vec!["later".into()],
        },
    ];
    let text = webvtt(&cs);
    assert!(
        text.contains("&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;\n--&gt;\n"),
        "{text}"
    );
    let back = parse_webvtt(&text).expect("parses");
    assert_eq!(back.len(), 2);
    assert_eq!(back[0].lines, vec!["<b>Tom & Jerry</b>", "-->"]);
    assert_eq!((back[1].start_s, back[1].end_s), (3600.5, 3601.0));
}

#[test]
fn parse_webvtt_table() {
    // Amazon Transcribe style: numbered cues, CRLF, a NOTE, settings after the times.
    let aws = "WEBVTT\r\n\r\nNOTE made by a machine\r\n\r\n1\r\n00:00:00.500 --> 00:00:02.000 align:start\r\nHello there.\r\n\r\n2\r\n00:02.000 --> 00:03.250\r\nGeneral Kenobi.\r\n";
    let got = parse_webvtt(aws).expect("parses");
    assert_eq!(
        got.iter()
            .map(|c| (c.start_s, c.end_s, c.lines.join("|")))
            .collect::<Vec<_>>(),
        vec![
            (0.5, 2.0, "Hello there.".to_owned()),
            (2.0, 3.25, "General Kenobi.".to_owned())
        ]
    );
    assert_eq!(parse_webvtt("WEBVTT\n").expect("empty is valid"), vec![]);
    for bad in [
        "",
        "1\n00:00:01.000 --> 00:00:02.000\nno header",
        "WEBVTT\n\n00:00:01.000 -> 00:00:02.000\nx",
        "WEBVTT\n\n00:00:02.000 --> 00:00:01.000\nbackwards",
        "WEBVTT\n\n00:00:61.000 --> 00:01:02.000\nbad seconds",
        "WEBVTT\n\n0:00:01.000 --> 00:00:02.000\nshort field",
        // Found by fuzzing: the hours overflowed when turned into seconds.
        "WEBVTT\n\n00.000-->18446744073709551615:00:00.000",
    ] {
        assert!(parse_webvtt(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn segments_hold_every_overlapping_cue() {
    let cue = |a: f64, b: f64, t: &str| Cue {
        start_s: a,
        end_s: b,
        lines: vec![t.into()],
    };
    let cs = vec![cue(0.5, 1.5, "a"), cue(3.5, 4.5, "b"), cue(9.0, 9.0, "c")];
    let segs = segment_webvtt(&cs, &[(0.0, 4.0), (4.0, 8.0), (8.0, 10.0)]);
    let texts: Vec<Vec<String>> = segs
        .iter()
        .map(|s| {
            assert!(s.starts_with(&format!("WEBVTT\n{TIMESTAMP_MAP}\n")), "{s}");
            parse_webvtt(s)
                .expect("each segment is valid")
                .into_iter()
                .map(|c| c.lines.join(""))
                .collect()
        })
        .collect();
    assert_eq!(texts, vec![vec!["a", "b"], vec!["b"], vec!["c"]]);
}

#[test]
fn language_tags() {
    let table = [
        ("en", "en", "English"),
        ("en-US", "en-US", "English"),
        ("EN_gb", "en-gb", "English"),
        ("es-US", "es-US", "Spanish"),
        ("xx", "xx", "xx"),
        ("../x", "und", "und"),
        ("", "und", "und"),
        ("english", "und", "und"),
    ];
    for (input, tag, name) in table {
        assert_eq!(language_tag(input), tag, "{input}");
        assert_eq!(language_name(&language_tag(input)), name, "{input}");
    }
}

#[test]
fn wer() {
    let table = [
        (
            "ask not what your country",
            "Ask not, what your country!",
            0.0,
        ),
        ("ask not what your country", "ask what your country", 0.2),
        (
            "ask not what your country",
            "ask not what our country can",
            0.4,
        ),
        ("one two", "", 1.0),
        ("", "", 0.0),
        ("", "noise", 1.0),
        ("it's fine", "its fine", 0.5),
        ("ill disposed man", "ill-disposed man", 0.0),
    ];
    for (r, h, want) in table {
        let got = word_error_rate(r, h);
        assert!((got - want).abs() < 1e-9, "{r:?} vs {h:?}: {got}");
    }
}

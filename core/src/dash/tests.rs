//! Snapshot and table tests of the MPD renderer (parsed back with quick-xml).

use super::*;
use crate::hls::tests::{fixture, run, segs};
use std::collections::HashMap;

/// One parsed element: name and attributes.
type Element = (String, HashMap<String, String>);

/// Every start or empty element of `xml`, in document order.
fn elements(xml: &str) -> Vec<Element> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.expect("well-formed attribute");
                        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                        let value = a.unescape_value().expect("valid value").into_owned();
                        (key, value)
                    })
                    .collect();
                out.push((name, attrs));
            }
            Event::Eof => return out,
            _ => {}
        }
    }
}

fn count(els: &[Element], name: &str) -> usize {
    els.iter().filter(|(n, _)| n == name).count()
}

fn named<'a>(els: &'a [Element], name: &str) -> Vec<&'a HashMap<String, String>> {
    els.iter()
        .filter(|(n, _)| n == name)
        .map(|(_, a)| a)
        .collect()
}

#[test]
fn mpd_with_subtitles_snapshot() {
    let mut p = fixture();
    p.subtitles = vec![TextTrack {
        lang: "en".into(),
        name: "English".into(),
    }];
    let xml = mpd(&p);
    let sets: Vec<_> = elements(&xml)
        .into_iter()
        .filter(|(n, _)| n == "AdaptationSet")
        .collect();
    assert_eq!(sets.len(), 3);
    assert_eq!(sets[2].1["contentType"], "text");
    assert_eq!(sets[2].1["mimeType"], "text/vtt");
    assert_eq!(sets[2].1["lang"], "en");
    assert!(xml.contains("<BaseURL>../subtitles/en.vtt</BaseURL>"));
    insta::assert_snapshot!(xml);
}

#[test]
fn mpd_snapshot() {
    insta::assert_snapshot!(mpd(&fixture()));
}

#[test]
fn mpd_parses_back() {
    let p = fixture();
    let els = elements(&mpd(&p));
    let counts: Vec<_> = [
        "MPD",
        "Period",
        "AdaptationSet",
        "Representation",
        "SegmentTemplate",
        "SegmentTimeline",
        "S",
        "AudioChannelConfiguration",
    ]
    .into_iter()
    .map(|n| (n, count(&els, n)))
    .collect();
    assert_eq!(
        counts,
        [
            ("MPD", 1),
            ("Period", 1),
            ("AdaptationSet", 2),
            ("Representation", 3),
            // video: one shared template; audio: one
            ("SegmentTemplate", 2),
            ("SegmentTimeline", 2),
            // video: 3 × 4.004 s as one, then the tail; audio likewise
            ("S", 4),
            ("AudioChannelConfiguration", 1),
        ]
    );
    let root = named(&els, "MPD")[0];
    assert_eq!(root["type"], "static");
    assert_eq!(root["mediaPresentationDuration"], "PT13.525S");
    let reps: Vec<_> = named(&els, "Representation")
        .iter()
        .map(|a| (a["id"].clone(), a["bandwidth"].clone()))
        .collect();
    let a = p.audio.as_ref().expect("audio");
    assert_eq!(
        reps,
        [
            ("1080p".into(), p.video[0].average_bitrate().to_string()),
            ("720p".into(), p.video[1].average_bitrate().to_string()),
            ("audio".into(), a.average_bitrate().to_string()),
        ]
    );
    let templates = named(&els, "SegmentTemplate");
    assert_eq!(templates[0]["media"], video_media());
    assert_eq!(templates[1]["media"], "../audio/seg_$Number$.m4s");
    assert_eq!(templates[1]["timescale"], "48000");
    let s: Vec<_> = named(&els, "S")
        .iter()
        .map(|a| {
            let get = |k: &str| a.get(k).map(String::as_str);
            (get("t"), get("d"), get("r"))
        })
        .collect();
    assert_eq!(
        s,
        [
            (Some("0"), Some("360360"), Some("2")),
            (None, Some("135135"), None),
            (Some("0"), Some("192512"), Some("2")),
            (None, Some("71680"), None),
        ]
    );
}

#[test]
fn mpd_without_audio() {
    let mut p = fixture();
    p.audio = None;
    let els = elements(&mpd(&p));
    assert_eq!(count(&els, "AdaptationSet"), 1);
    assert_eq!(count(&els, "Representation"), 2);
    assert_eq!(count(&els, "AudioChannelConfiguration"), 0);
    assert_eq!(named(&els, "AdaptationSet")[0]["contentType"], "video");
}

#[test]
fn differing_timelines_get_a_template_per_representation() {
    let mut p = fixture();
    p.video[1].segments = run(&[(360_360, 1), (360_360, 1), (495_495, 1)]);
    let xml = mpd(&p);
    let els = elements(&xml);
    // two video Representations with their own template, plus audio
    assert_eq!(count(&els, "SegmentTemplate"), 3);
    let order: Vec<&str> = els
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| ["Representation", "SegmentTemplate"].contains(n))
        .collect();
    assert_eq!(
        order,
        [
            "Representation",
            "SegmentTemplate",
            "Representation",
            "SegmentTemplate",
            "SegmentTemplate",
            "Representation"
        ]
    );
    assert!(xml.contains(r#"<S t="0" d="360360" r="1"/>"#), "{xml}");
}

#[test]
fn timeline_compresses_runs_and_marks_gaps() {
    fn e(t: Option<u64>, d: u64, r: u32) -> TimelineEntry {
        TimelineEntry { t, d, r }
    }
    // (segments as (start, duration), entries)
    type Case = (&'static [(u64, u64)], Vec<TimelineEntry>);
    let cases: Vec<Case> = vec![
        (&[], vec![]),
        // one segment
        (&[(0, 4)], vec![e(Some(0), 4, 0)]),
        // equal run
        (&[(0, 4), (4, 4), (8, 4)], vec![e(Some(0), 4, 2)]),
        // last segment short
        (
            &[(0, 4), (4, 4), (8, 1)],
            vec![e(Some(0), 4, 1), e(None, 1, 0)],
        ),
        // a gap splits an equal run and restates t
        (
            &[(0, 4), (4, 4), (10, 4), (14, 4)],
            vec![e(Some(0), 4, 1), e(Some(10), 4, 1)],
        ),
        // a gap after a short segment
        (
            &[(0, 4), (4, 4), (8, 2), (12, 2)],
            vec![e(Some(0), 4, 1), e(None, 2, 0), e(Some(12), 2, 0)],
        ),
        // an overlap restates t too
        (
            &[(0, 4), (3, 4), (7, 4)],
            vec![e(Some(0), 4, 0), e(Some(3), 4, 1)],
        ),
        // not starting at 0
        (&[(1001, 3003), (4004, 3003)], vec![e(Some(1001), 3003, 1)]),
        // alternating durations do not compress
        (
            &[(0, 2), (2, 3), (5, 2)],
            vec![e(Some(0), 2, 0), e(None, 3, 0), e(None, 2, 0)],
        ),
    ];
    for (list, want) in cases {
        let timed: Vec<_> = list.iter().map(|&(s, d)| (s, d, 1)).collect();
        assert_eq!(timeline(&segs(&timed)), want, "{list:?}");
    }
}

#[test]
fn attribute_formats() {
    let rates: &[(f64, &str)] = &[
        (24.0, "24"),
        (25.0, "25"),
        (24_000.0 / 1001.0, "24000/1001"),
        (30_000.0 / 1001.0, "30000/1001"),
        (59.94, "60000/1001"),
        (12.5, "25/2"),
        (14.3, "143/10"),
        (23.976, "24000/1001"),
        (15.0 * 1000.0 / 1001.0, "15000/1001"),
        (119.88, "120000/1001"),
        (0.5, "1/2"),
    ];
    for &(fps, want) in rates {
        assert_eq!(frame_rate_attr(fps), want, "{fps}");
    }
    let durations: &[(f64, &str)] = &[
        (52.2089, "PT52.209S"),
        (0.0, "PT0.000S"),
        (-1.0, "PT0.000S"),
        (3600.5, "PT3600.500S"),
    ];
    for &(s, want) in durations {
        assert_eq!(iso_duration(s), want, "{s}");
    }
}

#[test]
fn par_is_reduced_from_the_largest_rung() {
    let mut p = fixture();
    for (t, (w, h)) in p.video.iter_mut().zip([(960, 720), (640, 480)]) {
        t.rung.width = w;
        t.rung.height = h;
    }
    let els = elements(&mpd(&p));
    let set = named(&els, "AdaptationSet")[0];
    assert_eq!(
        (
            set["par"].as_str(),
            set["maxWidth"].as_str(),
            set["maxHeight"].as_str()
        ),
        ("4:3", "960", "720")
    );
}

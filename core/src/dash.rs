//! DASH rendering (quick-xml): one static MPD with `SegmentTimeline`s over the
//! same CMAF segments the HLS playlists use.

use crate::presentation::{Presentation, SegmentInfo, Track};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, Event};

/// ISO 8601 duration with millisecond precision (`PT52.209S`).
pub fn iso_duration(seconds: f64) -> String {
    format!("PT{:.3}S", seconds.max(0.0))
}

/// A frame rate as DASH's `FrameRateType` (`24`, `30000/1001`, `25/2`).
pub fn frame_rate_attr(fps: f64) -> String {
    for d in [1u64, 2, 1001, 1000] {
        let n = (fps * d as f64).round();
        if n > 0.0 && (n / d as f64 - fps).abs() < 1e-3 {
            return if d == 1 {
                format!("{n}")
            } else {
                format!("{n}/{d}")
            };
        }
    }
    format!("{}/1000", (fps * 1000.0).round())
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a.max(1) } else { gcd(b, a % b) }
}

/// One `<S>` element: start (when not following on), duration, repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineEntry {
    /// `t`, present on the first entry and after a gap.
    pub t: Option<u64>,
    /// `d`.
    pub d: u64,
    /// `r` (0 = no repeat).
    pub r: u32,
}

/// Run-length compresses segment timing into `SegmentTimeline` entries.
pub fn timeline(segments: &[SegmentInfo]) -> Vec<TimelineEntry> {
    let mut out: Vec<TimelineEntry> = Vec::new();
    let mut next_start: Option<u64> = None;
    for s in segments {
        let follows = next_start == Some(s.start);
        match out.last_mut() {
            Some(e) if follows && e.d == s.duration => e.r += 1,
            _ => out.push(TimelineEntry {
                t: (!follows).then_some(s.start),
                d: s.duration,
                r: 0,
            }),
        }
        next_start = Some(s.start + s.duration);
    }
    out
}

type W = Writer<Vec<u8>>;

fn start(w: &mut W, name: &str, attrs: &[(&str, String)], empty: bool) {
    let mut e = BytesStart::new(name);
    for (k, v) in attrs {
        e.push_attribute((*k, v.as_str()));
    }
    let ev = if empty {
        Event::Empty(e)
    } else {
        Event::Start(e)
    };
    // Writing into a Vec cannot fail.
    w.write_event(ev).expect("writing XML into memory");
}

fn end(w: &mut W, name: &str) {
    w.write_event(Event::End(BytesEnd::new(name)))
        .expect("writing XML into memory");
}

fn segment_template(w: &mut W, timescale: u32, init: &str, media: &str, segments: &[SegmentInfo]) {
    start(
        w,
        "SegmentTemplate",
        &[
            ("timescale", timescale.to_string()),
            ("initialization", init.to_owned()),
            ("media", media.to_owned()),
            (
                "startNumber",
                segments.first().map_or(0, |s| s.number).to_string(),
            ),
        ],
        false,
    );
    start(w, "SegmentTimeline", &[], false);
    for e in timeline(segments) {
        let mut a = Vec::new();
        if let Some(t) = e.t {
            a.push(("t", t.to_string()));
        }
        a.push(("d", e.d.to_string()));
        if e.r > 0 {
            a.push(("r", e.r.to_string()));
        }
        start(w, "S", &a, true);
    }
    end(w, "SegmentTimeline");
    end(w, "SegmentTemplate");
}

fn same_timing(a: &[SegmentInfo], b: &[SegmentInfo]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x.number, x.start, x.duration) == (y.number, y.start, y.duration))
}

/// The MPD.
pub fn mpd(p: &Presentation) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .expect("writing XML into memory");
    start(
        &mut w,
        "MPD",
        &[
            ("xmlns", "urn:mpeg:dash:schema:mpd:2011".into()),
            ("profiles", "urn:mpeg:dash:profile:isoff-live:2011".into()),
            ("type", "static".into()),
            ("mediaPresentationDuration", iso_duration(p.duration_s)),
            ("minBufferTime", "PT2.000S".into()),
        ],
        false,
    );
    start(
        &mut w,
        "Period",
        &[("id", "0".into()), ("start", "PT0S".into())],
        false,
    );
    if let Some(first) = p.video.first() {
        let max_w = p.video.iter().map(|t| t.rung.width).max().unwrap_or(0);
        let max_h = p.video.iter().map(|t| t.rung.height).max().unwrap_or(0);
        let g = gcd(first.rung.width, first.rung.height);
        start(
            &mut w,
            "AdaptationSet",
            &[
                ("id", "0".into()),
                ("contentType", "video".into()),
                ("mimeType", "video/mp4".into()),
                ("segmentAlignment", "true".into()),
                ("startWithSAP", "1".into()),
                ("maxWidth", max_w.to_string()),
                ("maxHeight", max_h.to_string()),
                (
                    "par",
                    format!("{}:{}", first.rung.width / g, first.rung.height / g),
                ),
            ],
            false,
        );
        let shared = p
            .video
            .iter()
            .all(|t| t.timescale == first.timescale && same_timing(&t.segments, &first.segments));
        let (init, media) = (
            "../video/$RepresentationID$/init.mp4",
            "../video/$RepresentationID$/seg_$Number$.m4s",
        );
        if shared {
            segment_template(&mut w, first.timescale, init, media, &first.segments);
        }
        for t in &p.video {
            let attrs = [
                ("id", t.rung.name.clone()),
                ("bandwidth", t.average_bitrate().to_string()),
                ("width", t.rung.width.to_string()),
                ("height", t.rung.height.to_string()),
                ("frameRate", frame_rate_attr(t.frame_rate)),
                ("codecs", t.codecs.clone()),
                ("sar", "1:1".into()),
            ];
            start(&mut w, "Representation", &attrs, shared);
            if !shared {
                segment_template(&mut w, t.timescale, init, media, &t.segments);
                end(&mut w, "Representation");
            }
        }
        end(&mut w, "AdaptationSet");
    }
    if let Some(a) = &p.audio {
        start(
            &mut w,
            "AdaptationSet",
            &[
                ("id", "1".into()),
                ("contentType", "audio".into()),
                ("mimeType", "audio/mp4".into()),
                ("lang", "und".into()),
                ("segmentAlignment", "true".into()),
                ("startWithSAP", "1".into()),
            ],
            false,
        );
        start(
            &mut w,
            "AudioChannelConfiguration",
            &[
                (
                    "schemeIdUri",
                    "urn:mpeg:dash:23003:3:audio_channel_configuration:2011".into(),
                ),
                ("value", a.channels.to_string()),
            ],
            true,
        );
        segment_template(
            &mut w,
            a.timescale,
            "../audio/init.mp4",
            "../audio/seg_$Number$.m4s",
            &a.segments,
        );
        start(
            &mut w,
            "Representation",
            &[
                ("id", "audio".into()),
                ("bandwidth", a.average_bitrate().max(a.bitrate).to_string()),
                ("audioSamplingRate", a.sample_rate.to_string()),
                ("codecs", a.codecs.clone()),
            ],
            true,
        );
        end(&mut w, "AdaptationSet");
    }
    end(&mut w, "Period");
    end(&mut w, "MPD");
    let mut s = String::from_utf8_lossy(&w.into_inner()).into_owned();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hls::tests::fixture;

    #[test]
    fn mpd_snapshot() {
        insta::assert_snapshot!(mpd(&fixture()));
    }

    #[test]
    fn mpd_parses_back() {
        let text = mpd(&fixture());
        let mut reader = quick_xml::Reader::from_str(&text);
        let (mut reps, mut sets, mut s) = (0, 0, 0);
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                    b"Representation" => reps += 1,
                    b"AdaptationSet" => sets += 1,
                    b"S" => s += 1,
                    _ => {}
                },
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!((sets, reps), (2, 3));
        assert_eq!(s, 4, "video 2 entries (4+4 s as one, 2 s), audio 2");
    }

    #[test]
    fn timeline_compresses_runs_and_marks_gaps() {
        let seg = |n, start, duration| SegmentInfo {
            number: n,
            start,
            duration,
            bytes: 1,
        };
        let t = timeline(&[
            seg(0, 0, 4),
            seg(1, 4, 4),
            seg(2, 8, 4),
            seg(3, 12, 2),
            seg(4, 20, 2),
        ]);
        assert_eq!(
            t,
            vec![
                TimelineEntry {
                    t: Some(0),
                    d: 4,
                    r: 2
                },
                TimelineEntry {
                    t: None,
                    d: 2,
                    r: 0
                },
                TimelineEntry {
                    t: Some(20),
                    d: 2,
                    r: 0
                },
            ]
        );
        assert!(timeline(&[]).is_empty());
    }

    #[test]
    fn frame_rates() {
        assert_eq!(frame_rate_attr(24.0), "24");
        assert_eq!(frame_rate_attr(24_000.0 / 1001.0), "24000/1001");
        assert_eq!(frame_rate_attr(59.94), "60000/1001");
        assert_eq!(frame_rate_attr(12.5), "25/2");
        assert_eq!(iso_duration(52.2089), "PT52.209S");
    }
}

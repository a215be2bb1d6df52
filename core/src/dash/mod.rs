//! DASH rendering (quick-xml): one static MPD (`dash/stream.mpd`) with
//! `SegmentTimeline`s over the same CMAF segments the HLS playlists use
//! (`../video/<rung>/seg_<n>.m4s`, `../audio/seg_<n>.m4s`).

use crate::keys;
use crate::presentation::{AudioTrack, Presentation, SegmentInfo, TextTrack, Track, VideoTrack};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, Event};
use std::io;

/// `MPD@profiles`.
///
/// Only the ISO BMFF live profile: the CMAF profile
/// (`urn:mpeg:dash:profile:cmaf:2019`) requires CMAF-conformant tracks, whose
/// headers carry the `cmfc` brand, and ffmpeg's mp4 muxer (which makes our
/// segments) writes `iso5`/`iso6` brands, so claiming it would be untrue.
pub const PROFILES: &str = "urn:mpeg:dash:profile:isoff-live:2011";

/// `MPD@minBufferTime`, in seconds.
pub const MIN_BUFFER_S: f64 = 2.0;

/// ISO 8601 duration with millisecond precision (`PT52.209S`).
pub fn iso_duration(seconds: f64) -> String {
    format!("PT{:.3}S", seconds.max(0.0))
}

/// A frame rate as DASH's `FrameRateType`: whole (`24`), halves (`25/2`),
/// NTSC (`30000/1001`), or else thousandths in lowest terms (`143/10`).
pub fn frame_rate_attr(fps: f64) -> String {
    const TOLERANCE: f64 = 1e-3;
    let whole = fps.round();
    if whole > 0.0 && (fps - whole).abs() < TOLERANCE {
        return format!("{whole}");
    }
    let halves = (fps * 2.0).round();
    if halves > 0.0 && (halves / 2.0 - fps).abs() < TOLERANCE {
        return format!("{halves}/2");
    }
    let ntsc = (fps * 1.001).round();
    if ntsc > 0.0 && (ntsc / 1.001 - fps).abs() < TOLERANCE {
        return format!("{}/1001", ntsc * 1000.0);
    }
    let n = (fps.max(0.0) * 1000.0).round() as u64;
    let g = gcd(n, 1000);
    format!("{}/{}", n / g, 1000 / g)
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a.max(1) } else { gcd(b, a % b) }
}

/// One `<S>` element of a `SegmentTimeline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineEntry {
    /// `@t`: set on the first entry and wherever a segment does not start where
    /// the previous one ended.
    pub t: Option<u64>,
    /// `@d`: duration of each segment of the run.
    pub d: u64,
    /// `@r`: how many more segments follow with the same duration (0 = none).
    pub r: u32,
}

/// Run-length compresses segment timing into `SegmentTimeline` entries:
/// consecutive, contiguous segments of equal duration share one entry.
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

/// Borrows `(name, value)` pairs as quick-xml attributes.
fn attrs<'a>(list: &'a [(&'a str, String)]) -> impl Iterator<Item = (&'a str, &'a str)> {
    list.iter().map(|(k, v)| (*k, v.as_str()))
}

/// A `SegmentTemplate` with its `SegmentTimeline`.
fn segment_template(
    w: &mut W,
    timescale: u32,
    init: &str,
    media: &str,
    segments: &[SegmentInfo],
) -> io::Result<()> {
    let template = [
        ("timescale", timescale.to_string()),
        ("initialization", init.to_owned()),
        ("media", media.to_owned()),
        // $Number$ is the segment number; segments are numbered from 0.
        (
            "startNumber",
            segments.first().map_or(0, |s| s.number).to_string(),
        ),
    ];
    w.create_element("SegmentTemplate")
        .with_attributes(attrs(&template))
        .write_inner_content(|w| {
            if segments.is_empty() {
                // The schema wants at least one <S>; a track without segments gets no timeline.
                return Ok(());
            }
            w.create_element("SegmentTimeline")
                .write_inner_content(|w| {
                    for e in timeline(segments) {
                        let mut s = Vec::with_capacity(3);
                        if let Some(t) = e.t {
                            s.push(("t", t.to_string()));
                        }
                        s.push(("d", e.d.to_string()));
                        if e.r > 0 {
                            s.push(("r", e.r.to_string()));
                        }
                        w.create_element("S")
                            .with_attributes(attrs(&s))
                            .write_empty()?;
                    }
                    Ok(())
                })
                .map(drop)
        })
        .map(drop)
}

/// Whether two tracks' segments have the same numbers and timing.
fn same_timing(a: &[SegmentInfo], b: &[SegmentInfo]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x.number, x.start, x.duration) == (y.number, y.start, y.duration))
}

/// `../video/$RepresentationID$/init.mp4`: a rung's init segment, by representation id
/// (the rung's name).
fn video_init() -> String {
    keys::from_manifests(&format!(
        "{}/{}",
        keys::video_dir("$RepresentationID$"),
        keys::INIT_FILE
    ))
}

/// `../video/$RepresentationID$/seg_$Number$.m4s`.
fn video_media() -> String {
    keys::from_manifests(&format!(
        "{}/{}",
        keys::video_dir("$RepresentationID$"),
        keys::SEGMENT_TEMPLATE
    ))
}

/// The `AdaptationSet` id of the AV1 rungs (H.264's is 0, audio's 1,
/// subtitles' from 2): a player picks one set per type, by its codecs.
const AV1_SET_ID: &str = "100";

/// The video `AdaptationSet` `id`: one `Representation` per rung.
fn video_set(w: &mut W, id: &str, video: &[&VideoTrack]) -> io::Result<()> {
    let Some(first) = video.first() else {
        return Ok(());
    };
    let max_w = video.iter().map(|t| t.rung.width).max().unwrap_or(0);
    let max_h = video.iter().map(|t| t.rung.height).max().unwrap_or(0);
    let largest = video
        .iter()
        .max_by_key(|t| u64::from(t.rung.width) * u64::from(t.rung.height))
        .copied()
        .unwrap_or(first);
    let (pw, ph) = (
        u64::from(largest.rung.width),
        u64::from(largest.rung.height),
    );
    let g = gcd(pw, ph);
    let set = [
        ("id", id.to_owned()),
        ("contentType", "video".into()),
        ("mimeType", "video/mp4".into()),
        ("segmentAlignment", "true".into()),
        ("startWithSAP", "1".into()),
        ("maxWidth", max_w.to_string()),
        ("maxHeight", max_h.to_string()),
        ("par", format!("{}:{}", pw / g, ph / g)),
    ];
    // One template for the whole set only when every rung has the same timeline.
    let shared = video
        .iter()
        .all(|t| t.timescale == first.timescale && same_timing(&t.segments, &first.segments));
    w.create_element("AdaptationSet")
        .with_attributes(attrs(&set))
        .write_inner_content(|w| {
            if shared {
                segment_template(
                    w,
                    first.timescale,
                    &video_init(),
                    &video_media(),
                    &first.segments,
                )?;
            }
            for t in video {
                let mut rep = vec![
                    ("id", t.rung.name.clone()),
                    ("bandwidth", t.average_bitrate().to_string()),
                    ("width", t.rung.width.to_string()),
                    ("height", t.rung.height.to_string()),
                ];
                if t.frame_rate.is_finite() && t.frame_rate > 0.0 {
                    rep.push(("frameRate", frame_rate_attr(t.frame_rate)));
                }
                rep.push(("codecs", t.codecs.clone()));
                rep.push(("sar", "1:1".into()));
                let rep = w
                    .create_element("Representation")
                    .with_attributes(attrs(&rep));
                if shared {
                    rep.write_empty()?;
                } else {
                    rep.write_inner_content(|w| {
                        segment_template(w, t.timescale, &video_init(), &video_media(), &t.segments)
                    })?;
                }
            }
            Ok(())
        })
        .map(drop)
}

/// The audio `AdaptationSet` with its one `Representation` (`audio`).
fn audio_set(w: &mut W, a: &AudioTrack) -> io::Result<()> {
    let set = [
        ("id", "1".to_owned()),
        ("contentType", "audio".into()),
        ("lang", "und".into()),
        ("mimeType", "audio/mp4".into()),
        ("segmentAlignment", "true".into()),
        ("startWithSAP", "1".into()),
    ];
    let channels = [
        (
            "schemeIdUri",
            "urn:mpeg:dash:23003:3:audio_channel_configuration:2011".to_owned(),
        ),
        ("value", a.channels.to_string()),
    ];
    let rep = [
        ("id", "audio".to_owned()),
        ("bandwidth", a.average_bitrate().to_string()),
        ("audioSamplingRate", a.sample_rate.to_string()),
        ("codecs", a.codecs.clone()),
    ];
    w.create_element("AdaptationSet")
        .with_attributes(attrs(&set))
        .write_inner_content(|w| {
            // Schema order: descriptors, then SegmentTemplate, then Representation.
            w.create_element("AudioChannelConfiguration")
                .with_attributes(attrs(&channels))
                .write_empty()?;
            segment_template(
                w,
                a.timescale,
                &keys::from_manifests(&format!("{}/{}", keys::AUDIO_DIR, keys::INIT_FILE)),
                &keys::from_manifests(&format!("{}/{}", keys::AUDIO_DIR, keys::SEGMENT_TEMPLATE)),
                &a.segments,
            )?;
            w.create_element("Representation")
                .with_attributes(attrs(&rep))
                .write_empty()?;
            Ok(())
        })
        .map(drop)
}

/// A subtitle `AdaptationSet`: the whole WebVTT file as one sidecar
/// `Representation` (`BaseURL` `../subtitles/<lang>.vtt`), role `subtitle`.
fn text_set(w: &mut W, id: usize, t: &TextTrack) -> io::Result<()> {
    let set = [
        ("id", id.to_string()),
        ("contentType", "text".to_owned()),
        ("mimeType", "text/vtt".into()),
        ("lang", t.lang.clone()),
    ];
    let role = [
        ("schemeIdUri", "urn:mpeg:dash:role:2011".to_owned()),
        ("value", "subtitle".into()),
    ];
    // A sidecar file has no media bitrate; a nominal one keeps validators happy.
    let rep = [
        ("id", format!("text_{}", t.lang)),
        ("bandwidth", "256".into()),
    ];
    w.create_element("AdaptationSet")
        .with_attributes(attrs(&set))
        .write_inner_content(|w| {
            // Schema order: Label (common elements) before Role.
            w.create_element("Label")
                .write_text_content(quick_xml::events::BytesText::new(&t.name))?;
            w.create_element("Role")
                .with_attributes(attrs(&role))
                .write_empty()?;
            w.create_element("Representation")
                .with_attributes(attrs(&rep))
                .write_inner_content(|w| {
                    w.create_element("BaseURL")
                        .write_text_content(quick_xml::events::BytesText::new(
                            &keys::from_manifests(&format!(
                                "{}/{}",
                                keys::SUBTITLES_DIR,
                                keys::subtitle_file(&t.lang, "vtt")
                            )),
                        ))
                        .map(drop)
                })?;
            Ok(())
        })
        .map(drop)
}

fn write_mpd(w: &mut W, p: &Presentation) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let root = [
        ("xmlns", "urn:mpeg:dash:schema:mpd:2011".to_owned()),
        ("profiles", PROFILES.into()),
        ("type", "static".into()),
        ("mediaPresentationDuration", iso_duration(p.duration_s)),
        ("minBufferTime", iso_duration(MIN_BUFFER_S)),
    ];
    let period = [("id", "0".to_owned()), ("start", "PT0S".into())];
    w.create_element("MPD")
        .with_attributes(attrs(&root))
        .write_inner_content(|w| {
            w.create_element("Period")
                .with_attributes(attrs(&period))
                .write_inner_content(|w| {
                    let (h264, av1): (Vec<&VideoTrack>, Vec<&VideoTrack>) =
                        p.video.iter().partition(|t| t.rung.codec.is_h264());
                    video_set(w, "0", &h264)?;
                    if !av1.is_empty() {
                        video_set(w, AV1_SET_ID, &av1)?;
                    }
                    if let Some(a) = &p.audio {
                        audio_set(w, a)?;
                    }
                    for (i, t) in p.subtitles.iter().enumerate() {
                        text_set(w, 2 + i, t)?;
                    }
                    Ok(())
                })
                .map(drop)
        })
        .map(drop)
}

/// The MPD (`dash/stream.mpd`): a static, single-Period presentation with a
/// video `AdaptationSet` (one `Representation` per rung, id = rung name) and,
/// when there is audio, an audio `AdaptationSet` (`Representation` `audio`),
/// each addressed by `SegmentTemplate` + `SegmentTimeline` and `$Number$`;
/// then one text `AdaptationSet` per subtitle track.
pub fn mpd(p: &Presentation) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    write_mpd(&mut w, p).expect("writing into a Vec cannot fail");
    // Every piece of text comes from Rust strings, so the output is UTF-8.
    let mut s = String::from_utf8_lossy(&w.into_inner()).into_owned();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests;

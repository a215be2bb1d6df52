//! Fuzzing of the core's readers of outside bytes (issue #10): the CMAF box
//! reader and rewriter, the WebVTT reader (Amazon Transcribe's output), the
//! ffprobe-derived frame index and rationals, and the key helpers the API
//! applies to request paths. Each takes arbitrary input and must never panic;
//! where the answer has a meaning, it is checked too.
//!
//! Cases: `PROPTEST_CASES` (proptest's own variable), 256 when unset. Failures
//! are not persisted to `proptest-regressions/`: a failure found here is
//! pinned as a plain unit test next to the parser instead.

use proptest::prelude::*;
use slicecast_core::source_info::{FrameIndex, Rational};
use slicecast_core::{VideoId, cmaf, keys, subtitles};

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------- CMAF boxes

/// How a generated box writes its size field.
#[derive(Debug, Clone)]
enum Size {
    /// The real size.
    Exact,
    /// 0: "to the end of the parent".
    ToEnd,
    /// 1, then the real size in 64 bits.
    Large,
    /// 1, then any 64-bit size (huge, smaller than the header, ...).
    LargeAny(u64),
    /// The real size plus a small error (runs past the parent or stops short).
    Off(i8),
    /// Any 32-bit size.
    Any(u32),
}

#[derive(Debug, Clone)]
struct Mp4Box {
    kind: [u8; 4],
    size: Size,
    body: Vec<u8>,
}

fn serialize(b: &Mp4Box) -> Vec<u8> {
    let exact = 8 + b.body.len() as u64;
    let mut out = Vec::new();
    match b.size {
        Size::Exact => out.extend_from_slice(&(exact as u32).to_be_bytes()),
        Size::ToEnd => out.extend_from_slice(&0u32.to_be_bytes()),
        Size::Large | Size::LargeAny(_) => out.extend_from_slice(&1u32.to_be_bytes()),
        Size::Off(d) => {
            out.extend_from_slice(&((exact as i64 + i64::from(d)).max(0) as u32).to_be_bytes())
        }
        Size::Any(n) => out.extend_from_slice(&n.to_be_bytes()),
    }
    out.extend_from_slice(&b.kind);
    match b.size {
        Size::Large => out.extend_from_slice(&(exact + 8).to_be_bytes()),
        Size::LargeAny(n) => out.extend_from_slice(&n.to_be_bytes()),
        _ => {}
    }
    out.extend_from_slice(&b.body);
    out
}

fn size() -> impl Strategy<Value = Size> {
    prop_oneof![
        8 => Just(Size::Exact),
        1 => Just(Size::ToEnd),
        1 => Just(Size::Large),
        1 => prop_oneof![
            Just(u64::MAX),
            Just(u64::MAX - 7),
            Just(1u64 << 63),
            0u64..32,
            any::<u64>(),
        ]
        .prop_map(Size::LargeAny),
        1 => (-12i8..12).prop_map(Size::Off),
        1 => prop_oneof![Just(u32::MAX), 0u32..24, any::<u32>()].prop_map(Size::Any),
    ]
}

/// Box types the reader looks for, and a few it does not know.
fn kind() -> impl Strategy<Value = [u8; 4]> {
    prop_oneof![
        8 => prop::sample::select(vec![
            *b"ftyp", *b"moov", *b"trak", *b"mdia", *b"mdhd", *b"minf", *b"stbl",
            *b"stsd", *b"mvex", *b"trex", *b"edts", *b"moof", *b"mfhd", *b"traf",
            *b"tfhd", *b"tfdt", *b"trun", *b"mdat", *b"styp", *b"mfra", *b"avcC",
            *b"avc3", *b"mp4a", *b"esds",
        ]),
        1 => any::<[u8; 4]>(),
    ]
}

/// A u32 field: the edges and anything.
fn field() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0u32),
        Just(1),
        Just(u32::MAX),
        Just(i32::MAX as u32),
        Just(i32::MIN as u32),
        0u32..64,
        any::<u32>(),
    ]
}

/// A full box's body: version, flags (trun/tfhd flags most of the time),
/// then u32 fields, possibly cut short.
fn full_body() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![Just(0u8), Just(1), any::<u8>()],
        prop_oneof![
            Just(0u32),
            Just(0x0a00),
            Just(0x0f05),
            Just(0x0008),
            Just(0x000b),
            0u32..0x1000,
            any::<u32>(),
        ],
        prop::collection::vec(field(), 0..10),
        0usize..4,
    )
        .prop_map(|(version, flags, fields, cut)| {
            let mut v = vec![version];
            v.extend_from_slice(&flags.to_be_bytes()[1..]);
            for f in fields {
                v.extend_from_slice(&f.to_be_bytes());
            }
            let keep = v.len().saturating_sub(cut);
            v.truncate(keep);
            v
        })
}

/// Leaves with full-box or raw bodies; containers nest up to four deep.
fn mp4_box() -> impl Strategy<Value = Mp4Box> {
    let leaf = (
        kind(),
        size(),
        prop_oneof![full_body(), prop::collection::vec(any::<u8>(), 0..24)],
    )
        .prop_map(|(kind, size, body)| Mp4Box { kind, size, body });
    leaf.prop_recursive(4, 48, 5, |inner| {
        (kind(), size(), prop::collection::vec(inner, 0..5)).prop_map(|(kind, size, kids)| Mp4Box {
            kind,
            size,
            body: kids.iter().flat_map(serialize).collect(),
        })
    })
}

fn mp4_file() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(mp4_box(), 0..6).prop_map(|bs| bs.iter().flat_map(serialize).collect())
}

fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(body);
    v
}

fn full(version: u8, flags: u32, rest: &[u8]) -> Vec<u8> {
    let mut v = vec![version];
    v.extend_from_slice(&flags.to_be_bytes()[1..]);
    v.extend_from_slice(rest);
    v
}

/// A well-formed file as ffmpeg writes it (init + two fragments), to be mutated.
fn valid_file() -> Vec<u8> {
    let mdhd = bx(b"mdhd", &full(0, 0, &[0; 20]));
    let stsd = bx(
        b"stsd",
        &[b"....avc1....avcC".as_slice(), &[1, 0x64, 0x00, 0x1f]].concat(),
    );
    let minf = bx(b"minf", &bx(b"stbl", &stsd));
    let trak = bx(b"trak", &bx(b"mdia", &[mdhd, minf].concat()));
    let trex = bx(b"trex", &full(0, 0, &[0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 10]));
    let moov = bx(b"moov", &[trak, bx(b"mvex", &trex)].concat());
    let fragment = |seq: u32, tfdt: u64| {
        let mfhd = bx(b"mfhd", &full(0, 0, &seq.to_be_bytes()));
        let tfhd = bx(b"tfhd", &full(0, 0x08, &[0, 0, 0, 1, 0, 0, 0, 10]));
        let tfdt = bx(b"tfdt", &full(1, 0, &tfdt.to_be_bytes()));
        let mut trun = 3u32.to_be_bytes().to_vec();
        for (size, cto) in [(100u32, 20u32), (50, 40), (60, 10)] {
            trun.extend_from_slice(&size.to_be_bytes());
            trun.extend_from_slice(&cto.to_be_bytes());
        }
        let trun = bx(b"trun", &full(0, 0xa00, &trun));
        let moof = bx(
            b"moof",
            &[mfhd, bx(b"traf", &[tfhd, tfdt, trun].concat())].concat(),
        );
        [moof, bx(b"mdat", &[0; 16])].concat()
    };
    [
        bx(b"ftyp", b"iso6\0\0\0\0"),
        moov,
        fragment(1, 0),
        fragment(2, 30),
    ]
    .concat()
}

/// The valid file with a few bytes overwritten and maybe cut short.
fn mutated_file() -> impl Strategy<Value = Vec<u8>> {
    let len = valid_file().len();
    (
        prop::collection::vec((0..len, any::<u8>()), 1..6),
        prop_oneof![3 => Just(len), 1 => 0..=len],
    )
        .prop_map(|(edits, keep)| {
            let mut f = valid_file();
            for (at, b) in edits {
                f[at] = b;
            }
            f.truncate(keep);
            f
        })
}

fn any_mp4() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        mp4_file(),
        mutated_file(),
    ]
}

/// `part` lies inside `whole` (same allocation, in bounds).
fn within(whole: &[u8], part: &[u8]) -> bool {
    let (w, p) = (whole.as_ptr_range(), part.as_ptr_range());
    w.start <= p.start && p.end <= w.end
}

fn check_fragment(data: &[u8], seq: u32, tfdt: u64, cto_shift: i64) -> Result<(), TestCaseError> {
    let before = cmaf::fragment_info(data, 10);
    let mut copy = data.to_vec();
    let rewritten = cmaf::rewrite_fragment(&mut copy, seq, tfdt, cto_shift);
    prop_assert_eq!(copy.len(), data.len(), "a rewrite never resizes");
    if rewritten.is_ok()
        && let Ok(b) = before
    {
        let after = cmaf::fragment_info(&copy, 10);
        prop_assert!(after.is_ok(), "{:?}", after);
        if let Ok(a) = after {
            prop_assert_eq!((a.sequence, a.base_decode_time), (seq, tfdt));
            prop_assert_eq!((a.samples, a.duration), (b.samples, b.duration));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Splitting never panics, and the fragments it returns lie inside the
    /// input, in order, without overlapping.
    #[test]
    fn cmaf_split_stays_inside_the_buffer(data in any_mp4()) {
        if let Ok(s) = cmaf::split(&data) {
            prop_assert!(s.init.len() <= data.len());
            let mut prev_end = data.as_ptr();
            for f in &s.fragments {
                prop_assert!(within(&data, f), "fragment outside the buffer");
                prop_assert!(prev_end <= f.as_ptr(), "fragments overlap");
                prev_end = f.as_ptr_range().end;
            }
            let _ = cmaf::init_info(&s.init);
            for f in &s.fragments {
                check_fragment(f, 7, 90_000, 20)?;
            }
        }
    }

    /// The init reader never panics; codec strings it finds are plain ASCII.
    #[test]
    fn cmaf_init_info_never_panics(data in any_mp4()) {
        if let Ok(cmaf::InitInfo { codecs: Some(c), .. }) = cmaf::init_info(&data) {
            prop_assert!(c.is_ascii() && !c.contains(char::is_control), "{c:?}");
        }
    }

    /// Reading and rewriting a fragment never panics, whatever the values
    /// written; a rewrite that succeeds is read back as written.
    #[test]
    fn cmaf_fragment_read_and_rewrite_never_panic(
        data in any_mp4(),
        seq in any::<u32>(),
        tfdt in prop_oneof![any::<u64>(), 0u64..1 << 32],
        cto_shift in prop_oneof![Just(0i64), Just(i64::MIN), Just(i64::MAX), -100i64..100, any::<i64>()],
        trex in field(),
    ) {
        let _ = cmaf::fragment_info(&data, trex);
        check_fragment(&data, seq, tfdt, cto_shift)?;
    }
}

// ------------------------------------------------------------------- WebVTT

/// A timestamp built from random pieces: digit runs of any length, `:`/`.`/`,`.
fn vtt_time() -> impl Strategy<Value = String> {
    let digits = prop_oneof![
        4 => (0u32..100).prop_map(|n| format!("{n:02}")),
        1 => "[0-9]{0,25}",
        1 => Just("18446744073709551615".to_owned()),
        1 => Just("99999999999999999".to_owned()),
    ];
    let millis = prop_oneof![
        4 => (0u32..1000).prop_map(|n| format!("{n:03}")),
        1 => "[0-9]{0,5}",
        1 => "[0-9٠-٩a-z]{3}",
    ];
    (
        prop::collection::vec(digits, 1..5),
        prop::sample::select(vec![".", ".", ",", ":", ""]),
        millis,
        prop::sample::select(vec!["", "", " ", "\t"]),
    )
        .prop_map(|(parts, dot, ms, pad)| format!("{pad}{}{dot}{ms}{pad}", parts.join(":")))
}

fn vtt_block() -> impl Strategy<Value = String> {
    let arrow = prop::sample::select(vec!["-->", "-->", "-->", "->", "-- >", "", "-->-->"]);
    let settings = prop::sample::select(vec!["", " align:start", " line:0%", "\tposition:10%"]);
    let id = prop_oneof![
        Just(String::new()),
        "[0-9a-z -]{1,8}\n",
        Just("NOTE x\n".to_owned())
    ];
    let payload = prop::collection::vec(
        prop_oneof!["[ -~]{0,20}", "&(lt|gt|amp|nbsp|x);[a-z<>]{0,3}", ".{0,8}"],
        0..3,
    );
    let lead = prop::sample::select(vec!["", "", "NOTE ", "STYLE\n", "REGION\n"]);
    (lead, id, vtt_time(), arrow, vtt_time(), settings, payload).prop_map(
        |(lead, id, a, arrow, b, settings, payload)| {
            let mut s = format!("{lead}{id}{a}{arrow}{b}{settings}");
            for line in payload {
                s.push('\n');
                s.push_str(&line);
            }
            s
        },
    )
}

fn vtt_document() -> impl Strategy<Value = String> {
    let header = prop::sample::select(vec![
        "WEBVTT",
        "WEBVTT",
        "\u{feff}WEBVTT",
        "WEBVTT - Amazon Transcribe",
        "WEBVTT\tx",
        "WEBVTTX",
        "webvtt",
        "",
    ]);
    let sep = prop::sample::select(vec!["\n\n", "\n\n", "\r\n\r\n", "\n", "\n\n\n", "\n \n"]);
    (
        header,
        prop::collection::vec((sep, vtt_block()), 0..6),
        prop::sample::select(vec!["", "\n", "\r\n", "\n\n"]),
    )
        .prop_map(|(h, blocks, tail)| {
            let mut s = h.to_owned();
            for (sep, b) in blocks {
                s.push_str(sep);
                s.push_str(&b);
            }
            s.push_str(tail);
            s
        })
}

fn cue_times_are_sane(text: &str) -> Result<(), TestCaseError> {
    if let Ok(cues) = subtitles::parse_webvtt(text) {
        for c in &cues {
            prop_assert!(c.start_s.is_finite() && c.end_s.is_finite(), "{c:?}");
            prop_assert!(0.0 <= c.start_s && c.start_s <= c.end_s, "{c:?}");
        }
        prop_assert!(cues.windows(2).all(|w| w[0].start_s <= w[1].start_s));
        // What was read writes out and reads back to the same times.
        let again = subtitles::parse_webvtt(&subtitles::webvtt(&cues));
        prop_assert!(again.is_ok(), "{again:?}");
        if let Ok(again) = again {
            prop_assert_eq!(again.len(), cues.len());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Any text: never panics; cues read have finite, ordered, non-negative times.
    #[test]
    fn webvtt_reader_never_panics_on_any_text(text in prop_oneof![".{0,200}", "WEBVTT\n\n.{0,200}"]) {
        cue_times_are_sane(&text)?;
    }

    /// Any bytes, read as Transcribe's output would be (lossy UTF-8).
    #[test]
    fn webvtt_reader_never_panics_on_any_bytes(data in prop::collection::vec(any::<u8>(), 0..256)) {
        let mut text = b"WEBVTT\n\n".to_vec();
        text.extend_from_slice(&data);
        cue_times_are_sane(&String::from_utf8_lossy(&text))?;
    }

    /// WebVTT-shaped documents with random timestamps, arrows and blocks.
    #[test]
    fn webvtt_reader_never_panics_on_vtt_shaped_text(text in vtt_document()) {
        cue_times_are_sane(&text)?;
    }

    /// Language codes come from Transcribe: any tag gives a safe file name part.
    #[test]
    fn language_tags_are_safe(tag in prop_oneof![".{0,24}", "[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{0,9}){0,3}"]) {
        let t = subtitles::language_tag(&tag);
        prop_assert!(!t.is_empty());
        prop_assert!(t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'), "{t:?}");
        let _ = subtitles::language_name(&tag);
    }
}

// ------------------------------------------------- ffprobe-derived values

fn timestamp() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(0i64),
        -1000i64..100_000,
        any::<i64>(),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// `a/b` from ffprobe: never panics; a value it accepts has no zero part.
    #[test]
    fn rationals_parse_or_refuse(s in prop_oneof![
        ".{0,24}",
        "[-+ ]?[0-9]{0,22}/[-+ ]?[0-9]{0,22}",
    ]) {
        if let Some(r) = Rational::parse(&s) {
            prop_assert!(r.num != 0 && r.den != 0, "{r:?}");
            prop_assert!(!r.as_f64().is_nan());
        }
    }

    /// A frame index built from any timestamps: sorted, no duplicates, and its
    /// frame duration and end never panic (timestamps come from the file).
    #[test]
    fn frame_index_from_any_packets(
        num in timestamp(),
        den in timestamp(),
        packets in prop::collection::vec((timestamp(), any::<bool>()), 0..32),
    ) {
        let index = FrameIndex::from_packets(Rational::new(num, den), packets);
        prop_assert_eq!(index.pts.len(), index.key.len());
        prop_assert!(index.pts.windows(2).all(|w| w[0] < w[1]));
        prop_assert!(index.frame_duration() >= 1);
        let end = index.end_pts();
        if let Some(last) = index.pts.last() {
            prop_assert!(end >= *last);
        }
    }

    /// Request paths and S3 keys: the content type and cache policy of any key.
    #[test]
    fn key_helpers_take_any_key(key in ".{0,64}") {
        let _ = keys::content_type(&key);
        let _ = keys::cache_control(&key);
        if let Ok(id) = VideoId::parse(&key) {
            prop_assert_eq!(id.as_str().len(), 32);
            prop_assert!(id.as_str().bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        }
    }
}

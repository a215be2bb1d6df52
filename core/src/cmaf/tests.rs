//! Tests of the CMAF box reader and rewriters on hand-built and real boxes.

use super::*;

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

/// A fragment with 3 samples (sizes + ctos), default duration 10 via tfhd.
fn fragment(seq: u32, tfdt: u64) -> Vec<u8> {
    let mfhd = bx(b"mfhd", &full(0, 0, &seq.to_be_bytes()));
    let mut tfhd_body = 1u32.to_be_bytes().to_vec();
    tfhd_body.extend_from_slice(&10u32.to_be_bytes());
    let tfhd = bx(b"tfhd", &full(0, 0x08, &tfhd_body));
    let tfdt = bx(b"tfdt", &full(1, 0, &tfdt.to_be_bytes()));
    let mut trun_body = 3u32.to_be_bytes().to_vec();
    for (size, cto) in [(100u32, 20u32), (50, 40), (60, 10)] {
        trun_body.extend_from_slice(&size.to_be_bytes());
        trun_body.extend_from_slice(&cto.to_be_bytes());
    }
    let trun = bx(b"trun", &full(0, 0xa00, &trun_body));
    let traf = bx(b"traf", &[tfhd, tfdt, trun].concat());
    let moof = bx(b"moof", &[mfhd, traf].concat());
    [moof, bx(b"mdat", &[0u8; 210])].concat()
}

/// A fragment whose trun has a data offset, first-sample flags and
/// `flags` (0x100 durations, 0x200 sizes): 3 samples of 10 ticks whose
/// data starts with 0xAB.
fn offset_fragment(flags: u32) -> Vec<u8> {
    let mfhd = bx(b"mfhd", &full(0, 0, &1u32.to_be_bytes()));
    let mut tfhd_body = 1u32.to_be_bytes().to_vec();
    tfhd_body.extend_from_slice(&10u32.to_be_bytes());
    let tfhd = bx(b"tfhd", &full(0, 0x2_0008, &tfhd_body));
    let tfdt = bx(b"tfdt", &full(1, 0, &500u64.to_be_bytes()));
    let trun_of = |offset: u32| {
        let mut body = 3u32.to_be_bytes().to_vec();
        body.extend_from_slice(&offset.to_be_bytes());
        body.extend_from_slice(&0x0200_0000u32.to_be_bytes());
        for size in [7u32, 5, 3] {
            if flags & 0x100 != 0 {
                body.extend_from_slice(&10u32.to_be_bytes());
            }
            body.extend_from_slice(&size.to_be_bytes());
        }
        bx(b"trun", &full(0, flags | 0x5, &body))
    };
    let moof_of = |offset: u32| {
        let traf = bx(
            b"traf",
            &[tfhd.clone(), tfdt.clone(), trun_of(offset)].concat(),
        );
        bx(b"moof", &[mfhd.clone(), traf].concat())
    };
    let offset = moof_of(0).len() as u32 + 8;
    let mut payload = vec![0xAB];
    payload.extend([0u8; 14]);
    [moof_of(offset), bx(b"mdat", &payload)].concat()
}

#[test]
fn the_last_sample_is_extended_and_the_data_still_found() {
    for flags in [0x200, 0x300] {
        let frag = offset_fragment(flags);
        for delta in [25i64, -9] {
            let out = extend_last_sample(&frag, 99, delta).expect("extend");
            let info = fragment_info(&out, 99).expect("info");
            assert_eq!(info.samples, 3);
            assert_eq!(info.duration as i64, 30 + delta, "flags {flags:#x}");
            assert_eq!(info.base_decode_time, 500);
            let (_, t) = traf_of(&out).expect("traf");
            let l = trun_layout(&out, &t.truns[0]).expect("layout");
            assert!(l.duration_at.is_some());
            let offset = u32::from_be_bytes(be4(&out, t.truns[0].body().start + 8));
            assert_eq!(out[offset as usize], 0xAB, "flags {flags:#x}");
            assert!(boxes(&out, 0..out.len()).is_ok());
        }
        assert_eq!(
            extend_last_sample(&frag, 99, -10),
            Err(CmafError::OutOfRange("last sample duration"))
        );
    }
}

#[test]
fn reads_and_rewrites_a_fragment() {
    let mut f = fragment(1, 0);
    let info = fragment_info(&f, 0).expect("info");
    assert_eq!(
        info,
        FragmentInfo {
            sequence: 1,
            base_decode_time: 0,
            samples: 3,
            duration: 30,
            first_composition_offset: 20
        }
    );
    rewrite_fragment(&mut f, 7, 90_000, 20).expect("rewrite");
    let info = fragment_info(&f, 0).expect("info");
    assert_eq!(info.sequence, 7);
    assert_eq!(info.base_decode_time, 90_000);
    assert_eq!(info.first_composition_offset, 0);
    // The third sample's offset is now negative, which version 1 allows.
    let at = f.len() - 210 - 8 - 4;
    assert_eq!(i32::from_be_bytes(be4(&f, at)), -10);
}

#[test]
fn splits_init_and_fragments() {
    let ftyp = bx(b"ftyp", b"iso6\0\0\0\0");
    let mdhd = bx(
        b"mdhd",
        &full(
            0,
            0,
            &[
                0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x5f, 0x90, 0, 0, 0, 0, 0x55, 0xc4, 0, 0,
            ],
        ),
    );
    let mdia = bx(b"mdia", &mdhd);
    let stsd = bx(
        b"stsd",
        &[b"....avc1....avcC".as_slice(), &[1, 0x64, 0x00, 0x1f]].concat(),
    );
    let stbl = bx(b"stbl", &stsd);
    let minf = bx(b"minf", &stbl);
    let mdia = [mdia[..mdia.len()].to_vec()].concat();
    let mut mdia_full = mdia.clone();
    // Append minf into mdia by rebuilding it.
    mdia_full = bx(b"mdia", &[mdia_full[8..].to_vec(), minf].concat());
    let trak = bx(b"trak", &mdia_full);
    let moov = bx(b"moov", &trak);
    let file = [
        ftyp.clone(),
        moov.clone(),
        fragment(1, 0),
        fragment(2, 30),
        bx(b"mfra", &[0; 8]),
    ]
    .concat();
    let s = split(&file).expect("split");
    assert_eq!(s.init, [ftyp, moov].concat());
    assert_eq!(s.fragments.len(), 2);
    assert_eq!(
        fragment_info(s.fragments[1], 0)
            .expect("info")
            .base_decode_time,
        30
    );
    let info = init_info(&s.init).expect("init");
    assert_eq!(info.timescale, 90_000);
    assert_eq!(info.codecs.as_deref(), Some("avc1.64001f"));
    assert!(!info.has_edit_list);
}

#[test]
fn rejects_garbage() {
    assert!(split(b"not an mp4 at all").is_err());
    assert!(split(&[0, 0, 0, 100, b'f', b't', b'y', b'p']).is_err());
}

/// Inputs found by fuzzing (`core/tests/fuzz.rs`) that panicked.
#[test]
fn hostile_boxes_are_errors_not_panics() {
    // A 64-bit size that wraps the offset past u64::MAX.
    let wrap = [
        bx(b"ftyp", b"iso6"),
        [0, 0, 0, 1].to_vec(),
        b"ftyp".to_vec(),
        vec![0xff; 8],
    ]
    .concat();
    assert_eq!(split(&wrap), Err(CmafError::Truncated("ftyp".into())));
    // An mdhd, tfdt or mfhd too short for its fields.
    let moov = bx(b"moov", &bx(b"trak", &bx(b"mdia", &bx(b"mdhd", &[]))));
    assert!(init_info(&moov).is_err());
    let tfhd = bx(b"tfhd", &full(0, 0, &[0; 4]));
    let short = |mfhd: &[u8], tfdt: &[u8]| {
        bx(
            b"moof",
            &[
                bx(b"mfhd", mfhd),
                bx(b"traf", &[tfhd.clone(), bx(b"tfdt", tfdt)].concat()),
            ]
            .concat(),
        )
    };
    assert!(fragment_info(&short(&[0; 8], &[]), 0).is_err());
    assert!(rewrite_fragment(&mut short(&[0; 4], &full(0, 0, &[0; 4])), 1, 0, 0).is_err());
    assert!(rewrite_fragment(&mut short(&[0; 8], &full(1, 0, &[0; 4])), 1, 0, 0).is_err());
    assert!(rewrite_fragment(&mut short(&[0; 8], &[1]), 1, 0, 0).is_err());
    // Two truns of 2^32 - 1 samples without per-sample fields: no loop of
    // four billion, and the sample count does not wrap.
    let trun = bx(b"trun", &full(0, 0, &u32::MAX.to_be_bytes()));
    let many = bx(
        b"moof",
        &[
            bx(b"mfhd", &[0; 8]),
            bx(
                b"traf",
                &[tfhd.clone(), trun.clone(), trun.clone()].concat(),
            ),
        ]
        .concat(),
    );
    assert_eq!(
        fragment_info(&many, u32::MAX),
        Err(CmafError::OutOfRange("sample count"))
    );
    // A shift that cannot be subtracted.
    let mut f = fragment(1, 0);
    assert_eq!(
        rewrite_fragment(&mut f, 1, 0, i64::MIN),
        Err(CmafError::OutOfRange("composition offset"))
    );
}

#[test]
fn av1_codec_strings() {
    let entry = |c: &[u8]| {
        let mut stsd = b"....av01....".to_vec();
        stsd.extend_from_slice(&bx(b"av1C", c));
        stsd.extend_from_slice(&bx(b"fiel", &[1, 0]));
        codec_string(&stsd)
    };
    assert_eq!(
        entry(&[0x81, 0x08, 0x0c, 0]).as_deref(),
        Some("av01.0.08M.08")
    );
    assert_eq!(
        entry(&[0x81, 0x0d, 0xcc, 0]).as_deref(),
        Some("av01.0.13H.10")
    );
    assert_eq!(
        entry(&[0x81, 0x53, 0x60, 0]).as_deref(),
        Some("av01.2.19M.12")
    );
    // An empty av1C says nothing (the next box's bytes are not read as one).
    assert_eq!(entry(&[]), None);
}

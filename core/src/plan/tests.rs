//! Table and property tests of the slice planner: contiguity, exact coverage, padding.

use super::*;
use proptest::prelude::*;

fn cfr(frames: usize, fps: i64, gop: usize) -> FrameIndex {
    FrameIndex {
        time_base: Rational::new(1, fps),
        pts: (0..frames as i64).collect(),
        key: (0..frames).map(|i| i % gop == 0).collect(),
        bytes: vec![],
    }
}

fn params(slice: f64, seg: f64) -> PlanParams {
    PlanParams {
        slice_seconds: slice,
        segment_seconds: seg,
        thumb_interval_seconds: 1.0,
        first_slice_seconds: None,
    }
}

fn with_first(first: f64, slice: f64, seg: f64) -> PlanParams {
    PlanParams {
        first_slice_seconds: Some(first),
        ..params(slice, seg)
    }
}

fn check_invariants(idx: &FrameIndex, plan: &SlicePlan) {
    assert_eq!(plan.slices[0].first_frame, 0);
    assert_eq!(
        plan.slices.last().map(|s| s.end_frame),
        Some(idx.len() as u64)
    );
    let mut seg = 0;
    let mut thumb = 0;
    for w in plan.slices.windows(2) {
        assert_eq!(w[0].end_frame, w[1].first_frame, "contiguous");
        assert_eq!(w[0].end_pts, w[1].start_pts);
    }
    for s in &plan.slices {
        assert!(s.end_frame > s.first_frame, "non-empty");
        assert_eq!(s.first_segment, seg);
        seg += s.segment_count();
        assert_eq!(s.segment_starts[0], s.start_pts);
        assert!(s.segment_starts.windows(2).all(|w| w[0] < w[1]));
        assert!(s.seek_pts <= s.start_pts);
        if s.on_keyframe {
            assert!(idx.key[s.first_frame as usize]);
            assert_eq!(s.seek_pts, s.start_pts);
        }
        assert_eq!(s.force_keyframes_s.len() + 1, s.segment_starts.len());
        for t in &s.thumbs {
            assert_eq!(t.index, thumb);
            assert!(t.frame < s.frame_count());
            thumb += 1;
        }
    }
    assert_eq!(seg, plan.segment_count);
    assert_eq!(thumb, plan.thumb_count);
}

#[test]
fn cuts_on_keyframes_near_the_target() {
    // 60 s at 24 fps, keyframe every 2 s, 12 s slices of 4 s segments.
    let idx = cfr(60 * 24, 24, 48);
    let plan = plan_slices(&idx, &params(12.0, 4.0)).expect("plan");
    check_invariants(&idx, &plan);
    let starts: Vec<u64> = plan.slices.iter().map(|s| s.first_frame / 24).collect();
    assert_eq!(starts, vec![0, 12, 24, 36, 48]);
    assert!(plan.slices.iter().all(|s| s.segment_count() == 3));
    assert_eq!(plan.segment_count, 15);
    assert_eq!(plan.thumb_count, 60);
    assert_eq!(plan.accurate_seek_slices(), 0);
    assert_eq!(plan.timescale, 90_000);
}

#[test]
fn table() {
    // (frames, fps, gop, slice s, segment s) -> (slices, segments, accurate-seek slices)
    type Case = (usize, i64, usize, f64, f64, (usize, u32, usize));
    let cases: &[Case] = &[
        (24, 24, 250, 10.0, 4.0, (1, 1, 0)),     // shorter than a segment
        (7 * 30, 30, 192, 10.0, 4.0, (1, 2, 0)), // shorter than a slice
        (52 * 24, 24, 1000, 13.0, 4.0, (4, 13, 2)), // sparse keyframes: accurate seek but one
        (30 * 60, 60, 30, 4.0, 4.0, (8, 8, 0)),  // one segment per slice
        (80 * 10, 10, 250, 20.0, 4.0, (4, 20, 1)), // 10 fps, keyframe every 25 s
    ];
    for &(frames, fps, gop, slice, seg, want) in cases {
        let idx = cfr(frames, fps, gop);
        let plan = plan_slices(&idx, &params(slice, seg)).expect("plan");
        check_invariants(&idx, &plan);
        let got = (
            plan.slices.len(),
            plan.segment_count,
            plan.accurate_seek_slices(),
        );
        assert_eq!(
            got, want,
            "{frames} frames at {fps} fps, gop {gop}, slice {slice}"
        );
    }
}

#[test]
fn a_short_first_slice_then_the_normal_length() {
    // 60 s at 24 fps, keyframe every 2 s: a 4 s first slice, then 12 s ones.
    let idx = cfr(60 * 24, 24, 48);
    let plan = plan_slices(&idx, &with_first(4.0, 12.0, 4.0)).expect("plan");
    check_invariants(&idx, &plan);
    let starts: Vec<u64> = plan.slices.iter().map(|s| s.first_frame / 24).collect();
    assert_eq!(starts, vec![0, 4, 16, 28, 40, 52]);
    assert_eq!(plan.slices[0].segment_count(), 1);
    assert_eq!(plan.segment_count, 15);
    // (first s, slice s, segment s) -> slice starts in seconds
    let table: &[(f64, f64, f64, &[u64])] = &[
        (1.0, 12.0, 4.0, &[0, 4, 16, 28, 40, 52]), // never below one segment
        (30.0, 12.0, 4.0, &[0, 12, 24, 36, 48]),   // never above a slice
        (8.0, 12.0, 4.0, &[0, 8, 20, 32, 44]),     // two segments
    ];
    for &(first, slice, seg, want) in table {
        let plan = plan_slices(&idx, &with_first(first, slice, seg)).expect("plan");
        check_invariants(&idx, &plan);
        let got: Vec<u64> = plan.slices.iter().map(|s| s.first_frame / 24).collect();
        assert_eq!(got, want, "first {first} s");
    }
    // A source shorter than a short first slice and a half is one slice.
    let short = cfr(5 * 24, 24, 48);
    let plan = plan_slices(&short, &with_first(4.0, 12.0, 4.0)).expect("plan");
    assert_eq!(plan.slices.len(), 1);
    assert!(plan_slices(&idx, &with_first(0.0, 12.0, 4.0)).is_err());
    assert!(plan_slices(&idx, &with_first(f64::INFINITY, 12.0, 4.0)).is_err());
}

#[test]
fn forced_keyframes_sit_between_frames() {
    let idx = cfr(240, 24, 240);
    let plan = plan_slices(&idx, &params(20.0, 4.0)).expect("plan");
    let s = &plan.slices[0];
    assert_eq!(s.segment_starts, vec![0, 96, 192]);
    let want = [95.5 / 24.0, 191.5 / 24.0];
    for (a, b) in s.force_keyframes_s.iter().zip(want) {
        assert!((a - b).abs() < 1e-9);
    }
}

#[test]
fn rejects_empty_and_bad_params() {
    let empty = FrameIndex {
        time_base: Rational::new(1, 24),
        pts: vec![],
        key: vec![],
        bytes: vec![],
    };
    assert_eq!(
        plan_slices(&empty, &params(10.0, 4.0)),
        Err(PlanError::NoFrames)
    );
    let idx = cfr(10, 24, 5);
    assert!(plan_slices(&idx, &params(0.0, 4.0)).is_err());
    assert!(plan_slices(&idx, &params(10.0, f64::NAN)).is_err());
}

#[test]
fn default_slice_length() {
    assert_eq!(default_slice_seconds(52.0, 2, 10.0), 26.0);
    assert_eq!(default_slice_seconds(600.0, 200, 10.0), 10.0);
    assert_eq!(default_slice_seconds(30.0, 0, 10.0), 30.0);
}

#[test]
fn timescales_are_exact() {
    assert_eq!(video_timescale(Rational::new(1, 24)), 90_000);
    assert_eq!(video_timescale(Rational::new(1, 10)), 90_000);
    assert_eq!(video_timescale(Rational::new(1, 1000)), 1000);
    assert_eq!(video_timescale(Rational::new(1, 15_360)), 15_360);
    assert_eq!(video_timescale(Rational::new(1001, 24_000)), 24_000);
    assert_eq!(video_timescale(Rational::new(1, 7)), 10_003);
}

proptest! {
    #[test]
    fn plans_cover_every_frame_once(
        deltas in prop::collection::vec(1i64..5, 1..600),
        keys in prop::collection::vec(prop::bool::weighted(0.05), 600),
        slice in 1.0f64..30.0,
        seg in 0.5f64..8.0,
        sizes in prop::option::of(prop::collection::vec(prop_oneof![Just(0u32), 0u32..5000, Just(u32::MAX)], 600)),
    ) {
        let mut pts = Vec::with_capacity(deltas.len());
        let mut t = 0;
        for d in &deltas { pts.push(t); t += d; }
        let key: Vec<bool> = (0..pts.len()).map(|i| i == 0 || keys[i]).collect();
        // Frame sizes (any, or none) only move cuts within the window.
        let bytes = sizes.map(|s| s[..pts.len()].to_vec()).unwrap_or_default();
        let idx = FrameIndex { time_base: Rational::new(1, 20), pts, key, bytes };
        let plan = plan_slices(&idx, &params(slice, seg)).expect("plan");
        check_invariants(&idx, &plan);
    }

    #[test]
    fn a_short_first_slice_keeps_coverage_and_never_ends_later(
        frames in 1usize..2000,
        gop in 1usize..100,
        first in 0.5f64..8.0,
        slice in 8.0f64..30.0,
        seg in 0.5f64..4.0,
    ) {
        let idx = cfr(frames, 25, gop);
        let plan = plan_slices(&idx, &with_first(first, slice, seg)).expect("plan");
        check_invariants(&idx, &plan);
        // Whatever the keyframes allow, the first cut comes no later than
        // the plain plan's: the start of the video is never held back.
        let plain = plan_slices(&idx, &params(slice, seg)).expect("plan");
        prop_assert!(plan.slices[0].end_frame <= plain.slices[0].end_frame);
    }
}

proptest! {
    #[test]
    fn a_short_first_slice_is_planned_the_same_from_the_first_frames(
        deltas in prop::collection::vec(1i64..4, 400..1500),
        keys in prop::collection::vec(prop::bool::weighted(0.08), 1500),
        sizes in prop::collection::vec(1u32..100_000, 1500),
        first in 1.0f64..8.0,
        slice in 8.0f64..30.0,
        head_s in 20.0f64..40.0,
        lead in 0u64..3,
    ) {
        // Frame sizes move the later cuts, which balance work over the
        // whole file; the short first cut depends on time alone, so the
        // first 20-40 s of frames plan the same first slice as the whole.
        let mut pts = Vec::with_capacity(deltas.len());
        let mut t = 0;
        for d in &deltas { pts.push(t); t += d; }
        let n = pts.len();
        let key: Vec<bool> = (0..n).map(|i| i == 0 || keys[i]).collect();
        let idx = FrameIndex { time_base: Rational::new(1, 20), pts, key, bytes: sizes[..n].to_vec() };
        let head_frames = idx.pts.partition_point(|&p| (p as f64) < head_s * 20.0);
        let head = FrameIndex {
            time_base: idx.time_base,
            pts: idx.pts[..head_frames].to_vec(),
            key: idx.key[..head_frames].to_vec(),
            bytes: idx.bytes[..head_frames].to_vec(),
        };
        let p = with_first(first, slice, 1.0);
        let whole = plan_padded(&idx, &p, lead, 0).expect("plan");
        let from_head = plan_padded(&head, &p, lead, 0).expect("plan");
        prop_assume!(from_head.slices.len() > 1 && whole.slices.len() > 1);
        prop_assert_eq!(&from_head.slices[0], &whole.slices[0]);
        prop_assert_eq!(from_head.origin_pts, whole.origin_pts);
        prop_assert_eq!(from_head.timescale, whole.timescale);
    }
}

proptest! {
    #[test]
    fn padding_is_always_kept_and_every_slice_reads_the_source(
        frames in 1usize..300,
        gop in 1usize..400,
        lead in 0u64..200,
        tail in 0u64..200,
        slice in 0.5f64..10.0,
    ) {
        // 25 fps; the first keyframe is the source's first frame, the
        // natural cut right after a lead that fills a whole slice.
        let idx = cfr(frames, 25, gop);
        let plan = plan_padded(&idx, &params(slice, 1.0), lead, tail).expect("plan");
        let padded = idx.padded(lead, tail);
        check_invariants(&padded, &plan);
        prop_assert_eq!(plan.frames, frames as u64 + lead + tail);
        prop_assert_eq!(plan.slices[0].lead_pad, lead);
        prop_assert_eq!(plan.slices.last().map(|s| s.tail_pad), Some(tail));
        for (i, s) in plan.slices.iter().enumerate() {
            let pad = if i == 0 { s.lead_pad } else { 0 }
                + if i + 1 == plan.slices.len() { s.tail_pad } else { 0 };
            prop_assert!(s.frame_count() > pad, "slice {} is only padding", i);
        }
    }
}

#[test]
fn cuts_fall_where_the_work_is_even_not_the_time() {
    // 30 s at 24 fps, a keyframe every half second; the second half's frames
    // are three times the size of the first half's. Half the work follows
    // time, half the bytes, so the first slice takes the cheap half and
    // 3 s of the dear one: 0.5 × 18 + 0.5 × 30 × (15 + 3 × 3) / 60 = 15.
    let mut idx = cfr(720, 24, 12);
    idx.bytes = (0..720)
        .map(|i| if i < 360 { 1000 } else { 3000 })
        .collect();
    let plan = plan_slices(&idx, &params(15.0, 4.0)).expect("plan");
    check_invariants(&idx, &plan);
    let cuts: Vec<u64> = plan.slices.iter().map(|s| s.first_frame).collect();
    assert_eq!(cuts, vec![0, 18 * 24]);
    // The same sizes everywhere: the cut is where time alone puts it.
    idx.bytes = vec![500; 720];
    let even = plan_slices(&idx, &params(15.0, 4.0)).expect("plan");
    idx.bytes.clear();
    assert_eq!(even, plan_slices(&idx, &params(15.0, 4.0)).expect("plan"));
    assert_eq!(even.slices[1].first_frame, 15 * 24);
    // However lopsided the sizes, no slice leaves the 0.5-1.5x window.
    idx.bytes = (0..720)
        .map(|i| if i < 360 { 0 } else { 1 << 20 })
        .collect();
    let lopsided = plan_slices(&idx, &params(15.0, 4.0)).expect("plan");
    check_invariants(&idx, &lopsided);
    assert!(lopsided.slices[1].first_frame <= (22.5 * 24.0) as u64);
}

#[test]
fn default_slices_are_one_per_worker_within_bounds() {
    // (duration, workers, min, slice)
    let cases = [
        (52.0, 2, 10.0, 26.0),
        (7.0, 2, 10.0, 10.0),
        (596.0, 2, 10.0, 60.0),
        (7200.0, 200, 8.0, 36.0),
        (30.0, 0, 10.0, 30.0),
    ];
    for (d, w, min, want) in cases {
        assert_eq!(default_slice_seconds(d, w, min), want, "{d} s on {w}");
    }
}

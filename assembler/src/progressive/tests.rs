//! Table tests of what plays so far, and the growing playlists on a real store.

use super::*;
use slicecast_core::job::RungOutput;
use slicecast_core::ladder::ladder_for;
use slicecast_core::plan::{PlanParams, plan_slices};
use slicecast_core::source_info::{FrameIndex, Rational};
use slicecast_core::thumbs::SpriteLayout;
use slicecast_storage::FsStore;

/// 24 s at 10 fps, a keyframe a second: three 8 s slices of two 4 s segments.
fn plan() -> SlicePlan {
    let index = FrameIndex {
        time_base: Rational::new(1, 10),
        pts: (0..240).collect(),
        key: (0..240).map(|i| i % 10 == 0).collect(),
        bytes: vec![],
    };
    let params = PlanParams {
        slice_seconds: 8.0,
        segment_seconds: 4.0,
        thumb_interval_seconds: 1.0,
        first_slice_seconds: None,
    };
    plan_slices(&index, &params).expect("plan")
}

fn rungs() -> Vec<Rung> {
    ladder_for(640, 360)
}

/// The result of slice `index` of `plan`, every rung on the plan's segments.
fn slice(plan: &SlicePlan, index: usize) -> SliceResult {
    let s = &plan.slices[index];
    let ends = s.segment_starts.iter().skip(1).chain([&s.end_pts]);
    let segments: Vec<SegmentInfo> = s
        .segment_starts
        .iter()
        .zip(ends)
        .enumerate()
        .map(|(k, (&a, &b))| SegmentInfo {
            number: s.first_segment + k as u32,
            start: plan.ticks(a),
            duration: plan.ticks(b) - plan.ticks(a),
            bytes: 1000,
        })
        .collect();
    SliceResult {
        index: s.index,
        rungs: rungs()
            .iter()
            .map(|r| RungOutput {
                rung: r.name.clone(),
                codecs: "avc1.64001f".into(),
                init_md5: format!("init-{}", r.name),
                segments: segments.clone(),
            })
            .collect(),
        thumbs: 0,
        frames: s.frame_count(),
        encode_ms: 1,
        attempt: 1,
        job_digest: String::new(),
    }
}

/// An audio chunk of 4 s fragments `numbers` at 48 kHz.
fn audio(numbers: std::ops::Range<u32>) -> AudioResult {
    AudioResult {
        codecs: "mp4a.40.2".into(),
        sample_rate: 48_000,
        channels: 2,
        bitrate: 128_000,
        timescale: 48_000,
        segments: numbers
            .map(|n| SegmentInfo {
                number: n,
                start: u64::from(n) * 192_000,
                duration: 192_000,
                bytes: 500,
            })
            .collect(),
        encode_ms: 1,
        job_digest: String::new(),
    }
}

#[test]
fn only_full_sheets_publish_early() {
    let layout = |columns, rows| SpriteLayout {
        columns,
        rows,
        thumb_width: 180,
        thumb_height: 100,
        interval_s: 1.0,
    };
    // (columns, rows, thumbnails ready) -> full sheets
    for (c, r, ready, want) in [
        (10, 10, 0, 0),
        (10, 10, 99, 0),
        (10, 10, 100, 1),
        (10, 2, 79, 3),
        (10, 2, 80, 4),
        (1, 1, 5, 5),
    ] {
        assert_eq!(
            crate::sprites::full_sheets(&layout(c, r), ready),
            want,
            "{c}x{r} {ready}"
        );
    }
}

#[test]
fn only_a_run_from_the_start_with_its_sound_plays() {
    let plan = plan();
    assert_eq!(plan.slices.len(), 3);
    let s = |i| slice(&plan, i);
    // (slices done, audio chunks done, has audio) -> (ready seconds, slices, video segments, audio segments)
    type Case = (
        Vec<SliceResult>,
        Vec<AudioResult>,
        bool,
        Option<(f64, u32, usize, usize)>,
    );
    let cases: Vec<(&str, Case)> = vec![
        ("nothing yet", (vec![], vec![], true, None)),
        (
            "slice 1 before slice 0",
            (vec![s(1)], vec![audio(0..6)], true, None),
        ),
        (
            "picture without its sound",
            (vec![s(0)], vec![], true, None),
        ),
        (
            "sound from the middle only",
            (vec![s(0)], vec![audio(2..4)], true, None),
        ),
        (
            "the first slice and its sound",
            (vec![s(0)], vec![audio(0..2)], true, Some((8.0, 1, 2, 2))),
        ),
        (
            "sound lags: the picture waits",
            (
                vec![s(0), s(1)],
                vec![audio(0..2)],
                true,
                Some((8.0, 2, 2, 2)),
            ),
        ),
        (
            "a gap in the slices: the run stops there",
            (
                vec![s(2), s(0)],
                vec![audio(4..6), audio(0..2), audio(2..4)],
                true,
                Some((8.0, 1, 2, 2)),
            ),
        ),
        (
            "everything",
            (
                vec![s(1), s(0), s(2)],
                vec![audio(0..6)],
                true,
                Some((24.0, 3, 6, 6)),
            ),
        ),
        (
            "a silent video",
            (vec![s(0)], vec![], false, Some((8.0, 1, 2, 0))),
        ),
    ];
    for (name, (slices, parts, has_audio, want)) in cases {
        let got = ready_prefix(&plan, &rungs(), 10.0, &slices, &parts, has_audio).expect(name);
        let got = got.map(|r| {
            let p = &r.presentation;
            assert!(
                p.video
                    .iter()
                    .all(|t| t.segments.len() == p.video[0].segments.len()),
                "{name}"
            );
            assert_eq!(r.video_target, 4, "{name}");
            // A thumbnail a second: 8 for each finished slice of the run.
            assert_eq!(r.thumbs, 8 * r.slices, "{name}");
            (
                r.ready_until_s,
                r.slices,
                p.video[0].segments.len(),
                p.audio.as_ref().map_or(0, |a| a.segments.len()),
            )
        });
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn the_target_duration_is_the_plans_longest_segment() {
    assert_eq!(planned_target_duration(&plan()), 4);
    // 25 s: the last slice ends with a 5 s segment.
    let index = FrameIndex {
        time_base: Rational::new(1, 10),
        pts: (0..250).collect(),
        key: (0..250).map(|i| i % 10 == 0).collect(),
        bytes: vec![],
    };
    let params = PlanParams {
        slice_seconds: 8.0,
        segment_seconds: 4.0,
        thumb_interval_seconds: 1.0,
        first_slice_seconds: None,
    };
    let long = plan_slices(&index, &params).expect("plan");
    assert_eq!(planned_target_duration(&long), 5);
}

#[tokio::test]
async fn published_playlists_grow_by_appending_and_parse() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = FsStore::new(dir.path()).expect("store");
    let id = VideoId::parse("0123456789abcdef0123456789abcdef").expect("id");
    let plan = plan();
    let rungs = rungs();
    let read = |key: &str| std::fs::read_to_string(dir.path().join(key)).expect(key);
    let first = ready_prefix(
        &plan,
        &rungs,
        10.0,
        &[slice(&plan, 0)],
        &[audio(0..2)],
        true,
    )
    .expect("prefix")
    .expect("plays");
    let master = publish_prefix(&store, &id, &first).await.expect("publish");
    let rung = format!("{}.m3u8", rungs[0].name);
    let early = read(&keys::hls(&id, &rung));
    let early_audio = read(&keys::hls(&id, "audio.m3u8"));
    let all = [slice(&plan, 0), slice(&plan, 1), slice(&plan, 2)];
    let later = ready_prefix(&plan, &rungs, 10.0, &all, &[audio(0..6)], true)
        .expect("prefix")
        .expect("plays");
    assert_eq!(
        publish_prefix(&store, &id, &later).await.expect("publish"),
        master
    );
    let grown = read(&keys::hls(&id, &rung));
    assert!(grown.starts_with(&early), "{early}\n---\n{grown}");
    assert!(read(&keys::hls(&id, "audio.m3u8")).starts_with(&early_audio));
    for text in [grown, early_audio] {
        match m3u8_rs::parse_playlist_res(text.as_bytes()) {
            Ok(m3u8_rs::Playlist::MediaPlaylist(m)) => {
                assert_eq!(m.playlist_type, Some(m3u8_rs::MediaPlaylistType::Event));
                assert!(!m.end_list);
            }
            other => panic!("not a media playlist: {other:?}\n{text}"),
        }
    }
    let master_text = read(&master);
    assert!(matches!(
        m3u8_rs::parse_playlist_res(master_text.as_bytes()),
        Ok(m3u8_rs::Playlist::MasterPlaylist(m)) if m.variants.len() == rungs.len()
    ));
}

//! Tests of the ffmpeg argument builders: slices, audio, keyframes, thumbnails.

use super::*;
use slicecast_core::VideoId;
use slicecast_core::job::{EncodeSettings, SourceRef};
use slicecast_core::ladder::ladder_for;
use slicecast_core::plan::{PlanParams, plan_slices};
use slicecast_core::source_info::{FrameIndex, Rational};

fn job(slice: usize) -> SliceJob {
    let idx = FrameIndex {
        time_base: Rational::new(1, 24),
        pts: (0..480).collect(),
        key: (0..480).map(|i| i % 48 == 0).collect(),
        bytes: vec![],
    };
    let plan = plan_slices(
        &idx,
        &PlanParams {
            slice_seconds: 10.0,
            segment_seconds: 4.0,
            thumb_interval_seconds: 2.0,
            first_slice_seconds: None,
        },
    )
    .expect("plan");
    SliceJob {
        video_id: VideoId::parse(&"a".repeat(32)).expect("id"),
        source: SourceRef {
            location: "/in/src file.mp4".into(),
            format_name: "mov,mp4,m4a".into(),
            start_time_s: 0.0,
        },
        video_stream: 0,
        time_base: plan.time_base,
        timescale: plan.timescale,
        origin_pts: plan.origin_pts,
        slice: plan.slices[slice].clone(),
        video_delay_ticks: 0,
        rungs: ladder_for(1280, 720)[..2].to_vec(),
        settings: EncodeSettings {
            preset: "veryfast".into(),
            crf: 21,
            threads: 1,
            deinterlace: false,
            thumb_size: (160, 90),
            poster: None,
            frame_size: Some((1280, 720)),
            tone_map: None,
        },
        attempt: 1,
    }
}

fn joined(v: &[OsString]) -> String {
    v.iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn slice_command_line() {
    let x = X264 {
        preset: "veryfast".into(),
        crf: 21,
        threads: 1,
    };
    let first = joined(&slice_args(&job(0), &x, Path::new("/w")));
    assert!(!first.contains("-ss "), "{first}");
    let j = job(1);
    let v = slice_args(&j, &x, Path::new("/w"));
    let s = joined(&v);
    assert!(
        s.contains(
            "-ss 9.999000 -noaccurate_seek -copyts -reinit_filter 0 -protocol_whitelist file -format_whitelist mov,"
        ),
        "{s}"
    );
    assert!(s.contains(" -f mov -i file:/in/src file.mp4 "), "{s}");
    assert!(
        v.iter().any(|a| a == "file:/in/src file.mp4"),
        "the path is one argument"
    );
    assert!(
        s.contains("[0:0]scale=1280:720:interl=-1,trim=start_pts=240:end_pts=480,setpts=PTS-STARTPTS,split=3[s0][s1][s2]"),
        "{s}"
    );
    assert!(s.contains("scale=1280:720"));
    assert!(
        s.contains(
            "select='if(eq(n\\,0)\\,1\\,gt(floor((pts+240)/48)\\,floor((prev_pts+240)/48)))'"
        ),
        "{s}"
    );
    assert!(s.contains("-force_key_frames 3.979167,7.979167"), "{s}");
    assert!(s.contains("-maxrate 2500k -bufsize 5000k"));
    assert!(s.contains("-enc_time_base 1/90000 -video_track_timescale 90000"));
    assert!(s.ends_with("/w/thumb_%05d.jpg"));
}

#[test]
fn poster_candidates_get_a_full_size_frame_from_the_same_pick() {
    use slicecast_core::plan::ThumbPick;
    use slicecast_core::thumbs::PosterCandidates;
    let x = X264 {
        preset: "veryfast".into(),
        crf: 21,
        threads: 1,
    };
    // Ten thumbnails, five in each slice; the first half are candidates.
    let with_posters = |slice| {
        let mut j = job(slice);
        j.settings.poster = Some(PosterCandidates::spread(10, (640, 360)));
        j
    };
    let first = with_posters(0);
    let picks = poster_picks(&first);
    assert_eq!(picks.frames, [0, 1, 2, 3, 4]);
    assert_eq!(picks.files, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]);
    let s = joined(&slice_args(&first, &x, Path::new("/w")));
    assert!(
        s.contains(",split=2[tp][pp];[tp]scale=160:90:flags=bicubic,setsar=1[th];[pp]select='eq(n\\,0)+eq(n\\,1)+eq(n\\,2)+eq(n\\,3)+eq(n\\,4)',scale=640:360,setsar=1[po]"),
        "{s}"
    );
    assert!(
        s.ends_with("-map [po] -fps_mode passthrough -q:v 3 -f image2 /w/poster_%05d.jpg"),
        "{s}"
    );
    // The second half has none: the command is the one without posters.
    let second = with_posters(1);
    assert_eq!(poster_picks(&second), PosterPicks::default());
    assert_eq!(
        slice_args(&second, &x, Path::new("/w")),
        slice_args(&job(1), &x, Path::new("/w"))
    );

    // Thumbnails that show one frame (a source slower than the thumbnails):
    // ffmpeg picks the frame once, so the candidates share its file.
    let mut slow = with_posters(0);
    slow.slice.thumbs = [(0, 0), (1, 0), (2, 5), (3, 9)]
        .map(|(index, frame)| ThumbPick { index, frame })
        .to_vec();
    slow.settings.poster = Some(PosterCandidates::spread(8, (640, 360)));
    let picks = poster_picks(&slow);
    assert_eq!(picks.frames, [0, 1, 2]);
    assert_eq!(picks.files, [(0, 1), (1, 1), (2, 2), (3, 3)]);
    slow.settings.poster = Some(PosterCandidates {
        below: 4,
        every: 2,
        size: (640, 360),
    });
    let picks = poster_picks(&slow);
    assert_eq!(picks.frames, [0, 1]);
    assert_eq!(picks.files, [(0, 1), (2, 2)]);
}

#[test]
fn sloppy_containers_seek_earlier_and_retries_back_off() {
    let mut j = job(1);
    j.source.format_name = "avi".into();
    assert!((slice_seek_s(&j).expect("seek") - 6.999).abs() < 1e-9);
    j.attempt = 2;
    assert!((slice_seek_s(&j).expect("seek") - 1.999).abs() < 1e-9);
    j.attempt = 3;
    assert_eq!(slice_seek_s(&j), None);
}

#[test]
fn an_hdr_slice_is_tone_mapped_once_before_the_split() {
    use slicecast_core::job::ToneMap;
    use slicecast_core::source_info::Transfer;
    let mut j = job(1);
    assert!(!slice_filter(&j).contains("zscale"));
    j.settings.tone_map = Some(ToneMap {
        from: Transfer::Pq,
        full_range: false,
    });
    let g = slice_filter(&j);
    let tone = g.find("zscale=tin=smpte2084").expect("tone map");
    assert!(g.find("setpts=PTS-STARTPTS").expect("setpts") < tone, "{g}");
    assert!(tone < g.find("split=").expect("split"), "{g}");
    assert_eq!(g.matches("tonemap=mobius").count(), 1, "{g}");
}

#[test]
fn audio_command_line() {
    let j = AudioJob {
        video_id: VideoId::parse(&"b".repeat(32)).expect("id"),
        source: SourceRef {
            location: "in.mp4".into(),
            format_name: "mov".into(),
            start_time_s: 0.0,
        },
        audio_stream: 1,
        origin_s: 0.083417,
        channels: 2,
        sample_rate: 48_000,
        bitrate: 128_000,
        segment_seconds: 4.0,
        duration_s: 10.0,
        attempt: 1,
        chunk: None,
    };
    let s = joined(&audio_args(&j, Path::new("a.mp4")));
    assert!(
        s.contains("-protocol_whitelist file -format_whitelist mov,"),
        "{s}"
    );
    assert!(s.contains(" -f mov -i file:in.mp4 -map 0:1"), "{s}");
    assert!(
        s.contains("asetpts=PTS-0.083417/TB,aresample=48000:async=1:first_pts=0"),
        "{s}"
    );
    assert!(s.contains("-frag_duration 4000000"));
    assert_eq!(audio_sample_rate(44_100), 44_100);
    assert_eq!(audio_sample_rate(96_000), 48_000);
}

#[test]
fn av1_rungs_get_libaom_with_the_same_keyframes() {
    let mut j = job(1);
    let av1 = slicecast_core::ladder::extra_rungs(&j.rungs, &[VideoCodec::Av1]);
    j.rungs.extend(av1);
    let line = joined(&slice_args(
        &j,
        &X264 {
            preset: "veryfast".into(),
            crf: 21,
            threads: 1,
        },
        Path::new("/o"),
    ));
    let outputs: Vec<&str> = line.split(" /o/rung_").collect();
    assert_eq!(outputs.len(), 5, "four rungs: {line}");
    let forced = format!(
        "-force_key_frames {}",
        j.slice
            .force_keyframes_s
            .iter()
            .map(|k| secs(*k))
            .collect::<Vec<_>>()
            .join(",")
    );
    for i in 0..4 {
        // Rung i's options come before its file name, after the previous one's.
        let opts = match i {
            0 => outputs[0],
            _ => outputs[i]
                .split_once(".mp4 ")
                .map_or(outputs[i], |(_, rest)| rest),
        };
        assert!(opts.contains(&forced), "rung {i}: {opts}");
        if i < 2 {
            assert!(
                opts.contains("-c:v libx264") && opts.contains("-forced-idr 1"),
                "{opts}"
            );
            assert!(!opts.contains("delay_moov"), "{opts}");
        } else {
            assert!(opts.contains("-c:v libaom-av1 -usage realtime"), "{opts}");
            assert!(
                !opts.contains("libx264") && !opts.contains("forced-idr"),
                "{opts}"
            );
            assert!(opts.contains(AV1_FRAG_MOVFLAGS), "{opts}");
        }
    }
}

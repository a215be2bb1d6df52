//! Encodes real slices of a shared clip with real ffmpeg and checks the CMAF output.

use slicecast_core::job::{EncodeSettings, Job, SliceJob, SourceRef};
use slicecast_core::ladder::ladder_for;
use slicecast_core::plan::{PlanParams, plan_slices};
use slicecast_core::thumbs::PosterCandidates;
use slicecast_core::{VideoId, cmaf, keys};
use slicecast_media::probe;
use slicecast_segment_worker::{WorkerOptions, encode_slice, job_digest};
use slicecast_storage::{BlobStore, FsStore};
use std::path::Path;
use std::time::Duration;

#[tokio::test]
async fn slices_share_one_init_and_carry_global_timestamps() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/media/sintel_trailer_1280x720_52s_h264_aac_dialogue.mp4");
    let loc = src.to_string_lossy().into_owned();
    let p = probe::probe(&loc, Duration::from_secs(30))
        .await
        .expect("probe");
    let v = probe::require_video(&p).expect("video").clone();
    let idx = probe::frame_index(&loc, &p, &v, Duration::from_secs(60))
        .await
        .expect("index")
        .frames;
    let plan = plan_slices(
        &idx,
        &PlanParams {
            slice_seconds: 13.0,
            segment_seconds: 4.0,
            thumb_interval_seconds: 2.0,
            first_slice_seconds: None,
        },
    )
    .expect("plan");
    let dir = tempfile::tempdir().expect("tmp");
    let store = FsStore::new(dir.path()).expect("store");
    let id = VideoId::parse(&"c".repeat(32)).expect("id");
    let candidates = PosterCandidates {
        below: plan.thumb_count / 2,
        every: 3,
        size: (320, 180),
    };
    let rungs = ladder_for(1280, 720)[2..].to_vec(); // 360p only: fast
    let mut inits = Vec::new();
    for s in &plan.slices[..2] {
        let job = SliceJob {
            video_id: id.clone(),
            source: SourceRef {
                location: loc.clone(),
                format_name: p.format_name.clone(),
                start_time_s: p.start_time_s,
            },
            video_stream: v.index,
            time_base: plan.time_base,
            timescale: plan.timescale,
            origin_pts: plan.origin_pts,
            slice: s.clone(),
            video_delay_ticks: 0,
            rungs: rungs.clone(),
            settings: EncodeSettings {
                preset: "veryfast".into(),
                crf: 21,
                threads: 1,
                deinterlace: false,
                thumb_size: (160, 90),
                poster: Some(candidates),
                frame_size: None,
                tone_map: None,
            },
            attempt: 1,
        };
        let r = encode_slice(&job, &store, &WorkerOptions::default())
            .await
            .expect("encode");
        assert_eq!(r.frames, s.frame_count());
        assert_eq!(r.rungs[0].segments.len() as u32, s.segment_count());
        assert_eq!(
            r.rungs[0].segments[0].start,
            plan.ticks(s.start_pts),
            "tfdt is the slice's global start"
        );
        assert!(
            r.rungs[0].codecs.starts_with("avc1.64"),
            "High profile: {}",
            r.rungs[0].codecs
        );
        inits.push(r.rungs[0].init_md5.clone());
        let seg = store
            .get(&keys::video_segment(&id, "360p", s.first_segment))
            .await
            .expect("segment");
        let info = cmaf::fragment_info(&seg, 0).expect("fragment");
        assert_eq!(
            info.first_composition_offset, 0,
            "presentation starts at the decode time"
        );
        assert_eq!(info.sequence, s.first_segment + 1);
        assert_eq!(r.thumbs as usize, s.thumbs.len());
        // A full-size frame beside each of the slice's poster candidates.
        for t in &s.thumbs {
            let frame = store.get(&keys::work_poster(&id, t.index)).await;
            if candidates.includes(t.index) {
                let jpeg = frame.expect("poster frame");
                assert!(jpeg.starts_with(&[0xff, 0xd8]), "a JPEG");
                assert!(
                    jpeg.len()
                        > store
                            .get(&keys::work_thumb(&id, t.index))
                            .await
                            .expect("thumb")
                            .len()
                );
            } else {
                assert!(frame.is_err(), "thumbnail {} is no candidate", t.index);
            }
        }
        // The result names its job: the same job from another run (another
        // location, another attempt) has the same digest; other settings do not.
        let wrapped = Job::Slice(job.clone());
        assert_eq!(r.job_digest, job_digest(&wrapped));
        let mut again = job.clone();
        again.source.location = "https://elsewhere.invalid/x?sig=1".into();
        again.attempt = 3;
        assert_eq!(r.job_digest, job_digest(&Job::Slice(again)));
        let mut other = job.clone();
        other.settings.preset = "medium".into();
        assert_ne!(r.job_digest, job_digest(&Job::Slice(other)));
    }
    assert_eq!(
        inits[0], inits[1],
        "one init segment for every slice of a rung"
    );
    let init = store
        .get(&keys::video_init(&id, "360p"))
        .await
        .expect("init");
    assert!(!cmaf::init_info(&init).expect("init").has_edit_list);
}

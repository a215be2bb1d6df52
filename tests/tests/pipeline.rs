//! The whole pipeline on every shared clip, with real ffmpeg, checked independently with ffprobe.

use slicecast_coordinator::{CoordinatorError, LocalInvoker, Outcome, Settings, process_upload};
use slicecast_core::keys;
use slicecast_core::manifest::{Manifest, Status};
use slicecast_segment_worker::WorkerOptions;
use slicecast_storage::{BlobStore, FsStore};
use slicecast_tests::{check_output, clip};
use std::path::Path;
use std::sync::Arc;

async fn transcode(
    src: &Path,
    out: &Path,
    settings: &Settings,
) -> Result<Outcome, CoordinatorError> {
    let store = Arc::new(FsStore::new(out).expect("store"));
    let name = src
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    store
        .put_file(&keys::upload(&name), src)
        .await
        .expect("upload");
    let invoker = Arc::new(LocalInvoker::new(
        store.clone(),
        settings.workers,
        WorkerOptions::default(),
    ));
    process_upload(
        store,
        invoker,
        &keys::upload(&name),
        settings,
        Arc::new(|_| {}),
    )
    .await
}

fn settings(slice_seconds: Option<f64>) -> Settings {
    Settings {
        workers: 2,
        slice_seconds,
        preset: "ultrafast".into(),
        ..Settings::default()
    }
}

async fn check_clip(name: &str, slice_seconds: Option<f64>) {
    let src = clip(name);
    let dir = tempfile::tempdir().expect("tmp");
    let outcome = transcode(&src, dir.path(), &settings(slice_seconds))
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let m = outcome.manifest();
    assert_eq!(m.status, Status::ProcessingComplete);
    let video_dir = dir.path().join(keys::video_prefix(&m.video_id));
    let report = check_output(&video_dir, &src)
        .unwrap_or_else(|e| panic!("{name} (slices {slice_seconds:?}): {e:#}"));
    eprintln!("{name}: {} slices, {report:?}", m.slices);
    assert!(
        !dir.path().join(keys::work(&m.video_id, "")).exists(),
        "work/ is cleaned up"
    );
}

macro_rules! clip_tests {
    ($($test:ident: $file:expr, $slices:expr;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            check_clip($file, $slices).await;
        }
    )*};
}

clip_tests! {
    sintel_default: "sintel_trailer_1280x720_52s_h264_aac_dialogue.mp4", None;
    sintel_small_slices: "sintel_trailer_1280x720_52s_h264_aac_dialogue.mp4", Some(4.0);
    gradio_1080p: "gradio_outro_1920x1080_7s_h264_aac.mp4", None;
    gradio_small_slices: "gradio_outro_1920x1080_7s_h264_aac.mp4", Some(4.0);
    deer_under_a_second: "deer_1920x1080_1s_h264_aac_23976.mp4", None;
    highway_5994: "highway_960x540_5994fps_30s_h264_noaudio.mp4", None;
    highway_small_slices: "highway_960x540_5994fps_30s_h264_noaudio.mp4", Some(4.0);
    pedestrians_avi: "pedestrians_768x576_80s_msmpeg4v3_noaudio.avi", None;
    pedestrians_small_slices: "pedestrians_768x576_80s_msmpeg4v3_noaudio.avi", Some(4.0);
    gnome_vp8: "gnome_dualmonitors_1024x768_37s_vp8_noaudio.webm", None;
    gnome_small_slices: "gnome_dualmonitors_1024x768_37s_vp8_noaudio.webm", Some(4.0);
    city_mpeg2ps: "city_720x405_oddheight_7s_mpeg2ps_noaudio.mpg", None;
    city_small_slices: "city_720x405_oddheight_7s_mpeg2ps_noaudio.mpg", Some(4.0);
}

#[tokio::test]
async fn same_bytes_are_processed_once() {
    let src = clip("deer_1920x1080_1s_h264_aac_23976.mp4");
    let dir = tempfile::tempdir().expect("tmp");
    let first = transcode(&src, dir.path(), &settings(None))
        .await
        .expect("first");
    assert!(matches!(first, Outcome::Completed(_)));
    let second = transcode(&src, dir.path(), &settings(None))
        .await
        .expect("second");
    assert!(matches!(second, Outcome::AlreadyComplete(_)));
    assert_eq!(first.manifest().video_id, second.manifest().video_id);
}

#[tokio::test]
async fn a_failing_slice_is_retried() {
    // SAFETY of the test: the variable is read when the invoker is built, below.
    let src = clip("gradio_outro_1920x1080_7s_h264_aac.mp4");
    let dir = tempfile::tempdir().expect("tmp");
    let store = Arc::new(FsStore::new(dir.path()).expect("store"));
    store.put_file("uploads/g.mp4", &src).await.expect("upload");
    let s = settings(Some(4.0));
    let invoker = Arc::new(LocalInvoker::with_injected_failure(
        store.clone(),
        2,
        WorkerOptions::default(),
        (1, 2),
    ));
    let out = process_upload(
        store.clone(),
        invoker,
        "uploads/g.mp4",
        &s,
        Arc::new(|_| {}),
    )
    .await
    .expect("completes after retries");
    assert_eq!(out.manifest().status, Status::ProcessingComplete);

    // A slice that always fails fails the video, with a reason, and nothing is marked complete.
    let dir = tempfile::tempdir().expect("tmp");
    let store = Arc::new(FsStore::new(dir.path()).expect("store"));
    store.put_file("uploads/g.mp4", &src).await.expect("upload");
    let invoker = Arc::new(LocalInvoker::with_injected_failure(
        store.clone(),
        2,
        WorkerOptions::default(),
        (0, 99),
    ));
    let err = process_upload(
        store.clone(),
        invoker,
        "uploads/g.mp4",
        &s,
        Arc::new(|_| {}),
    )
    .await
    .expect_err("fails");
    let CoordinatorError::Failed { video_id, reason } = err else {
        panic!("not a video failure")
    };
    assert!(
        reason.contains("slice 0") && reason.contains("3 attempts"),
        "{reason}"
    );
    let m: Manifest = serde_json::from_slice(
        &store
            .get(&keys::manifest(&video_id))
            .await
            .expect("manifest"),
    )
    .expect("json");
    assert_eq!(m.status, Status::ProcessingFailed);
    assert_eq!(m.error.as_deref(), Some(reason.as_str()));
    assert!(
        store
            .list(&keys::hls(&video_id, ""))
            .await
            .expect("list")
            .is_empty(),
        "no playlists for a failed video"
    );
}

//! The whole pipeline on every shared clip, with real ffmpeg, checked independently with ffprobe.

use slicecast_coordinator::faults::FaultyInvoker;
use slicecast_coordinator::{CoordinatorError, LocalInvoker, Outcome, Settings, process_upload};
use slicecast_core::keys;
use slicecast_core::manifest::{Manifest, Status};
use slicecast_segment_worker::WorkerOptions;
use slicecast_storage::{BlobStore, FsStore};
use slicecast_tests::local::{generate, transcode};
use slicecast_tests::{check_output, clip};
use std::path::Path;
use std::sync::Arc;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_first_slice_keeps_the_output_exact() {
    let src = clip("sintel_trailer_1280x720_52s_h264_aac_dialogue.mp4");
    let dir = tempfile::tempdir().expect("tmp");
    let settings = Settings {
        first_slice_seconds: Some(4.0),
        ..settings(Some(20.0))
    };
    let outcome = transcode(&src, dir.path(), &settings)
        .await
        .expect("transcode");
    let m = outcome.manifest();
    assert_eq!(m.status, Status::ProcessingComplete);
    assert_eq!(m.slices, 3, "4 s, then 20 s slices over 52 s");
    let video_dir = dir.path().join(keys::video_prefix(&m.video_id));
    check_output(&video_dir, &src).expect("output checks");
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
    let src = clip("gradio_outro_1920x1080_7s_h264_aac.mp4");
    let dir = tempfile::tempdir().expect("tmp");
    let store = Arc::new(FsStore::new(dir.path()).expect("store"));
    store.put_file("uploads/g.mp4", &src).await.expect("upload");
    let s = settings(Some(4.0));
    let invoker = Arc::new(FaultyInvoker::failing(
        Arc::new(LocalInvoker::new(
            store.clone(),
            2,
            WorkerOptions::default(),
        )),
        1,
        2,
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
    let invoker = Arc::new(FaultyInvoker::failing(
        Arc::new(LocalInvoker::new(
            store.clone(),
            2,
            WorkerOptions::default(),
        )),
        0,
        99,
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

#[tokio::test]
async fn an_interrupted_run_reads_as_failed_and_is_reclaimed() {
    use slicecast_coordinator::{hash_object, status};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};
    let src = clip("deer_1920x1080_1s_h264_aac_23976.mp4");
    let dir = tempfile::tempdir().expect("tmp");
    let store = Arc::new(FsStore::new(dir.path()).expect("store"));
    store
        .put_file("uploads/deer.mp4", &src)
        .await
        .expect("upload");
    let (id, _) = hash_object(store.as_ref(), "uploads/deer.mp4")
        .await
        .expect("hash");
    // A claim left behind by a process that died an hour ago.
    let hour_ago = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
        - 3_600_000;
    let stale = Manifest::new(
        id.clone(),
        "uploads/deer.mp4".into(),
        hour_ago,
        hour_ago + 86_400_000,
    );
    store
        .put(
            &keys::manifest(&id),
            serde_json::to_vec(&stale).expect("json").into(),
        )
        .await
        .expect("claim");
    let seen = status(store.as_ref(), &id, Duration::from_secs(60))
        .await
        .expect("status")
        .expect("manifest");
    assert_eq!(seen.status, Status::ProcessingFailed);
    assert!(seen.error.unwrap_or_default().contains("interrupted"));
    let invoker = Arc::new(LocalInvoker::new(
        store.clone(),
        2,
        WorkerOptions::default(),
    ));
    let out = process_upload(
        store,
        invoker,
        "uploads/deer.mp4",
        &settings(None),
        Arc::new(|_| {}),
    )
    .await
    .expect("reclaimed");
    assert!(matches!(out, Outcome::Completed(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_phone_video_stays_portrait() {
    let dir = tempfile::tempdir().expect("tmp");
    let plain = generate(
        dir.path(),
        "plain.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=30:duration=6",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=6",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "aac",
            "-shortest",
        ],
    );
    let rotated = generate(
        dir.path(),
        "rotated.mp4",
        &[
            "-i",
            plain.to_str().expect("utf8"),
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=90",
        ],
    );
    let out = dir.path().join("out");
    let outcome = transcode(&rotated, &out, &settings(Some(4.0)))
        .await
        .expect("transcode");
    let m = outcome.manifest();
    let dims: Vec<(u32, u32)> = m.rungs.iter().map(|r| (r.width, r.height)).collect();
    assert_eq!(dims, vec![(720, 1280), (480, 854), (360, 640)]);
    let video_dir = out.join(keys::video_prefix(&m.video_id));
    check_output(&video_dir, &rotated).expect("frames, seams, audio");
    let probe = slicecast_tests::ffprobe(&[
        "-v",
        "error",
        "-select_streams",
        "v:0",
        "-show_entries",
        "stream=width,height",
        "-of",
        "csv=p=0",
        video_dir.join("hls/720p.m3u8").to_str().expect("utf8"),
    ])
    .expect("probe");
    assert_eq!(
        probe
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .trim_end_matches(','),
        "720,1280",
        "pixels are portrait, not rotated metadata"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_keyframe_screen_recording_is_sliced_with_accurate_seeks() {
    let dir = tempfile::tempdir().expect("tmp");
    let rec = generate(
        dir.path(),
        "screen.mkv",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=640x360:rate=15:duration=40",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "100000",
            "-keyint_min",
            "100000",
            "-sc_threshold",
            "0",
        ],
    );
    let out = dir.path().join("out");
    let outcome = transcode(&rec, &out, &settings(Some(8.0)))
        .await
        .expect("transcode");
    let m = outcome.manifest();
    assert!(m.slices >= 4, "not one giant slice: {}", m.slices);
    check_output(&out.join(keys::video_prefix(&m.video_id)), &rec).expect("frames and seams");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interlaced_broadcast_clip_is_deinterlaced_frame_for_frame() {
    let dir = tempfile::tempdir().expect("tmp");
    let tv = generate(
        dir.path(),
        "tv.ts",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=720x576:rate=25:duration=8",
            "-vf",
            "interlace",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-flags",
            "+ildct+ilme",
            "-x264-params",
            "tff=1",
            "-f",
            "mpegts",
        ],
    );
    let probe = slicecast_media::probe::parse_probe(
        &slicecast_tests::ffprobe(&[
            "-v",
            "error",
            "-show_format",
            "-show_streams",
            "-of",
            "json",
            tv.to_str().expect("utf8"),
        ])
        .expect("probe"),
    )
    .expect("parse");
    assert!(
        probe.video.expect("video").interlaced,
        "the generated clip is interlaced"
    );
    let out = dir.path().join("out");
    let outcome = transcode(&tv, &out, &settings(Some(4.0)))
        .await
        .expect("transcode");
    check_output(
        &out.join(keys::video_prefix(&outcome.manifest().video_id)),
        &tv,
    )
    .expect("frames and seams");
}

/// Decoded audio of an output's HLS audio playlist, mono 16-bit at 48 kHz.
fn decoded_audio(video_dir: &Path) -> Vec<i16> {
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(video_dir.join("hls/audio.m3u8"))
        .args(["-ac", "1", "-ar", "48000", "-f", "s16le", "-"])
        .output()
        .expect("ffmpeg");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// Signal-to-difference ratio in dB of `b` against `a`.
fn snr_db(a: &[i16], b: &[i16]) -> f64 {
    let (mut signal, mut noise) = (0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        signal += f64::from(*x).powi(2);
        noise += (f64::from(*x) - f64::from(*y)).powi(2);
    }
    10.0 * (signal / noise.max(1.0)).log10()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_in_parallel_chunks_matches_the_whole_track_encode() {
    let src = clip("sintel_trailer_1280x720_52s_h264_aac_dialogue.mp4");
    let whole_dir = tempfile::tempdir().expect("tmp");
    let chunked_dir = tempfile::tempdir().expect("tmp");
    let whole = transcode(&src, whole_dir.path(), &settings(None))
        .await
        .expect("whole");
    let chunked_settings = Settings {
        audio_chunk_seconds: Some(16.0),
        ..settings(None)
    };
    let chunked = transcode(&src, chunked_dir.path(), &chunked_settings)
        .await
        .expect("chunked");
    let id = &chunked.manifest().video_id;
    let video_dir = chunked_dir.path().join(keys::video_prefix(id));
    // Frame-exact video, audio duration within 50 ms, DASH: the usual checks.
    check_output(&video_dir, &src).expect("output checks");
    let a = decoded_audio(
        &whole_dir
            .path()
            .join(keys::video_prefix(&whole.manifest().video_id)),
    );
    let b = decoded_audio(&video_dir);
    assert!(
        (a.len() as i64 - b.len() as i64).abs() <= 1024,
        "{} vs {} samples",
        a.len(),
        b.len()
    );
    // Two encodes of the same samples differ only by coding noise, also at
    // the chunk seams (4 fragments of 188 AAC frames = 16.043 s each): a gap,
    // a shift or a click there would drop the ratio to about 0 dB.
    let overall = snr_db(&a, &b);
    eprintln!("whole vs chunked audio: {overall:.1} dB");
    assert!(overall > 12.0, "{overall:.1} dB");
    let fragment = 188 * 1024;
    for k in 1..=3 {
        let seam = k * 4 * fragment;
        let window = seam - 2048..(seam + 2048).min(a.len().min(b.len()));
        let local = snr_db(&a[window.clone()], &b[window]);
        eprintln!("seam {k}: {local:.1} dB");
        assert!(local > 6.0, "seam {k}: {local:.1} dB");
    }
}

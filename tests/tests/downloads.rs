//! The MP4 and M4A downloads: remuxed from the stream's segments, with the
//! source's frames and duration, `faststart` (the index before the media).

use slicecast_coordinator::Settings;
use slicecast_core::manifest::DownloadKind;
use slicecast_tests::local::{test_pattern, transcode};
use slicecast_tests::{count_frames, ffprobe, stream_span};
use std::path::Path;

/// The top-level box types of an MP4 file, in order.
fn top_level_boxes(path: &Path) -> Vec<String> {
    let data = std::fs::read(path).expect("read");
    let mut at = 0;
    let mut out = Vec::new();
    while at + 8 <= data.len() {
        let size = u32::from_be_bytes(data[at..at + 4].try_into().expect("4 bytes")) as usize;
        out.push(String::from_utf8_lossy(&data[at + 4..at + 8]).into_owned());
        let size = if size == 1 && at + 16 <= data.len() {
            u64::from_be_bytes(data[at + 8..at + 16].try_into().expect("8 bytes")) as usize
        } else {
            size
        };
        if size < 8 {
            break;
        }
        at += size;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mp4_and_m4a_are_remuxed_from_the_segments() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = test_pattern(dir.path(), "talk.mp4", "640x360", 14, None, true);
    let out = dir.path().join("out");
    let settings = Settings {
        workers: 2,
        slice_seconds: Some(6.0),
        preset: "ultrafast".into(),
        ..Settings::default()
    };
    let done = transcode(&src, &out, &settings).await.expect("transcode");
    let m = done.manifest();
    let kinds: Vec<DownloadKind> = m.downloads.iter().map(|d| d.kind).collect();
    assert_eq!(kinds, [DownloadKind::Mp4, DownloadKind::M4a], "{m:?}");
    let mp4 = out.join(&m.downloads[0].key);
    let m4a = out.join(&m.downloads[1].key);
    for (d, path) in m.downloads.iter().zip([&mp4, &m4a]) {
        assert_eq!(
            std::fs::metadata(path).expect("stored").len(),
            d.bytes,
            "{d:?}"
        );
        let boxes = top_level_boxes(path);
        let moov = boxes.iter().position(|b| b == "moov");
        let mdat = boxes.iter().position(|b| b == "mdat");
        assert!(
            moov.is_some() && mdat.is_some() && moov < mdat,
            "faststart: {boxes:?}"
        );
        assert!(!boxes.iter().any(|b| b == "moof"), "progressive: {boxes:?}");
    }
    assert!(
        m.downloads[0].key.ends_with("/360p.mp4"),
        "{:?}",
        m.downloads
    );
    assert_eq!(
        count_frames(&mp4).expect("frames"),
        count_frames(&src).expect("frames")
    );
    let span = |p: &Path, sel: &str| stream_span(p, sel).expect("span");
    assert!((span(&mp4, "v:0") - span(&src, "v:0")).abs() < 0.05);
    assert!((span(&mp4, "a:0") - span(&src, "a:0")).abs() < 0.15);
    assert!((span(&m4a, "a:0") - span(&src, "a:0")).abs() < 0.15);
    let streams = ffprobe(&[
        "-v",
        "error",
        "-show_entries",
        "stream=codec_type",
        "-of",
        "csv=p=0",
        &m4a.to_string_lossy(),
    ])
    .expect("ffprobe");
    assert_eq!(streams.trim(), "audio");

    // Off with GENERATE_DOWNLOADS=false.
    let out = dir.path().join("none");
    let settings = Settings {
        generate_downloads: false,
        ..settings
    };
    let done = transcode(&src, &out, &settings).await.expect("transcode");
    assert!(done.manifest().downloads.is_empty());
    assert!(
        !out.join(slicecast_core::keys::video_prefix(
            &done.manifest().video_id
        ))
        .join("download")
        .exists()
    );
}

//! `slicecast transcode` on hostile uploads: files that name other files or
//! URLs end `processing_failed` with a sentence, read nothing they name and
//! request nothing; limits refuse oversize sources before any slice is encoded.

mod common;

use slicecast_tests::hostile::{self, Tripwire};
use std::path::Path;
use std::process::Output;

fn transcode(input: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["--preset", "ultrafast"];
    args.extend_from_slice(extra);
    common::transcode(input, out, &args)
}

/// The manifests under `out/processed`, by video id.
fn manifests(out: &Path) -> Vec<(String, serde_json::Value)> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(out.join("processed"))
        .expect("processed")
        .flatten()
    {
        let path = e.path().join("manifest.json");
        let m = serde_json::from_slice(&std::fs::read(&path).expect("manifest")).expect("json");
        v.push((e.file_name().to_string_lossy().into_owned(), m));
    }
    v
}

#[test]
fn uploads_that_name_other_files_are_refused_and_read_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let secret_dir = dir.path().join("secret");
    std::fs::create_dir_all(&secret_dir).expect("mkdir");
    let decoy = hostile::decoy(&secret_dir);
    let decoy_bytes = std::fs::read(&decoy).expect("decoy");
    let needle = &decoy_bytes[decoy_bytes.len() / 2..decoy_bytes.len() / 2 + 188];
    let tripwire = Tripwire::start().expect("listener");
    let out = dir.path().join("out");

    // A real upload first: the sibling the concat list names by a relative name.
    let sibling = slicecast_tests::clip("deer_1920x1080_1s_h264_aac_23976.mp4");
    let ok = transcode(&sibling, &out, &[]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let sibling_name = sibling
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let completed_before = manifests(&out).len();

    let corpus = hostile::corpus(&decoy, tripwire.port, &sibling_name);
    for h in &corpus {
        let input = dir.path().join(&h.name);
        std::fs::write(&input, &h.bytes).expect("write");
        let o = transcode(&input, &out, &[]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{} should fail", h.name);
        assert!(!stderr.contains("panicked"), "{}: {stderr}", h.name);
        assert!(stderr.contains(h.says), "{}: {stderr}", h.name);
    }
    let all = manifests(&out);
    assert_eq!(all.len(), completed_before + corpus.len(), "one id each");
    for (id, m) in &all {
        if m["status"] == "processing_complete" {
            assert_eq!(m["source"]["name"], sibling_name.as_str());
            continue;
        }
        assert_eq!(m["status"], "processing_failed", "{id}");
        let error = m["error"].as_str().expect("an error");
        assert!(error.contains("upload the video file itself"), "{error}");
        hostile::assert_public(error);
        let files: Vec<_> = std::fs::read_dir(out.join("processed").join(id))
            .expect("dir")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(files, ["manifest.json"], "{id}: nothing but the manifest");
    }
    hostile::assert_nowhere(&out.join("processed"), needle);
    assert_eq!(tripwire.hits(), 0, "an upload made a network request");
}

#[test]
fn sources_over_the_limits_are_refused_at_probe() {
    let dir = tempfile::tempdir().expect("tmp");
    let make = |name: &str, lavfi: &str, extra: &[&str]| {
        let path = dir.path().join(name);
        common::make_clip(&path, &[lavfi], extra);
        path
    };
    // Seven hours at one frame per second (tiny frames, so it is quick to make).
    let long = make(
        "long.mp4",
        "color=c=gray:s=32x32:r=1:d=25200",
        &["-c:v", "libx264", "-preset", "ultrafast", "-g", "600"],
    );
    // One frame larger than 8192×8192.
    let huge = make(
        "huge.mkv",
        "color=c=gray:s=8200x8200:r=1:d=1",
        &["-frames:v", "1", "-c:v", "mjpeg", "-pix_fmt", "yuvj420p"],
    );
    // Five seconds at 300 frames per second.
    let fast = make(
        "fast.mp4",
        "testsrc=s=64x48:r=300:d=5",
        &["-c:v", "libx264", "-preset", "ultrafast"],
    );
    let cases = [
        (
            &long,
            "the video is 7 h long; this service accepts at most 6 h",
        ),
        (&huge, "67.2 megapixels"),
        (
            &fast,
            "the video has 300 frames per second; this service accepts at most 240",
        ),
    ];
    for (input, says) in cases {
        let out = dir.path().join("out");
        let o = transcode(input, &out, &[]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{}", input.display());
        assert!(stderr.contains(says), "{}: {stderr}", input.display());
    }
    for (id, m) in manifests(&dir.path().join("out")) {
        assert_eq!(m["status"], "processing_failed", "{id}");
        assert_eq!(m["slices"], 0, "{id}: refused before planning");
        assert!(m["timings"]["encode_ms"].as_u64().unwrap_or(0) == 0, "{id}");
    }
    // The limits are settings: a higher one lets the fast clip through.
    let out = dir.path().join("out-2");
    let o = transcode(&fast, &out, &["--max-fps", "300"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

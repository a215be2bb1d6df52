//! The IAM scopes in `deploy/template.yaml` against the keys the code really
//! writes and reads: every object key the segment worker and the assembler
//! produce for a video must fall under a prefix their roles allow, so a change
//! to the key scheme cannot pass the tests and then fail on AWS with 403.
//! (`scripts/lint-deploy.sh` checks the other direction: nothing wider.)

use slicecast_core::{VideoId, keys};
use std::path::Path;

/// The object-key patterns (`processed/*/video/*`) of statement `sid` in the template.
fn patterns(template: &str, sid: &str) -> Vec<String> {
    let start = template
        .find(&format!("- Sid: {sid}\n"))
        .unwrap_or_else(|| panic!("no statement {sid}"));
    let rest = &template[start + sid.len() + 7..];
    let end = rest.find("- Sid:").unwrap_or(rest.len());
    let end = rest[..end].find("\n\n").unwrap_or(end);
    rest[..end]
        .lines()
        .filter_map(|l| {
            let arn = l.split("${AWS::Region}/").nth(1)?;
            Some(arn.trim_end_matches('\'').to_owned())
        })
        .collect()
}

/// IAM's wildcard match: `*` is any run of characters, `/` included.
fn glob(pattern: &str, key: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == key,
        Some((head, tail)) => {
            key.starts_with(head)
                && (0..=key.len() - head.len()).any(|i| glob(tail, &key[head.len() + i..]))
        }
    }
}

fn allowed(patterns: &[String], key: &str) -> bool {
    patterns.iter().any(|p| glob(p, key))
}

fn template() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/template.yaml");
    std::fs::read_to_string(&path).expect("deploy/template.yaml")
}

#[test]
fn glob_matches_as_iam_does() {
    assert!(glob(
        "processed/*/work/*",
        "processed/abc/work/thumbs/000001.jpg"
    ));
    assert!(glob(
        "processed/*/presentation.json",
        "processed/abc/presentation.json"
    ));
    assert!(!glob("processed/*/video/*", "processed/abc/manifest.json"));
    assert!(!glob("processed/*/video/*", "uploads/abc/video/x"));
}

#[test]
fn the_worker_may_write_every_key_it_writes_and_nothing_else() {
    let t = template();
    let writes = patterns(&t, "WriteSegmentsAndResults");
    assert_eq!(writes.len(), 3, "{writes:?}");
    let id = VideoId::from_digest(&[7; 16]);
    for key in [
        keys::video_init(&id, "720p"),
        keys::video_segment(&id, "720p", 12),
        keys::audio_init(&id),
        keys::audio_segment(&id, 3),
        keys::slice_result(&id, 4),
        keys::work_thumb(&id, 99),
        keys::work(&id, "audio_00000.json"),
    ] {
        assert!(
            allowed(&writes, &key),
            "the worker writes {key}: {writes:?}"
        );
    }
    for key in [
        keys::manifest(&id),
        keys::hls(&id, "master.m3u8"),
        keys::upload("tok/clip.mp4"),
        "names/x.json".to_owned(),
    ] {
        assert!(!allowed(&writes, &key), "the worker may write {key}");
    }
}

#[test]
fn the_assembler_may_read_and_write_what_it_does() {
    let t = template();
    let reads = patterns(&t, "ReadWorkResults");
    let writes = patterns(&t, "WriteOutputs");
    let id = VideoId::from_digest(&[9; 16]);
    assert!(allowed(&reads, &keys::work_thumb(&id, 0)), "{reads:?}");
    for key in [
        keys::hls(&id, "master.m3u8"),
        keys::hls(&id, "720p.m3u8"),
        keys::dash_mpd(&id),
        keys::thumbnail(&id, "sprite_0.jpg"),
        keys::thumbnail(&id, "thumbnails.vtt"),
        keys::thumbnail(&id, "poster.jpg"),
        keys::presentation(&id),
    ] {
        assert!(
            allowed(&writes, &key),
            "the assembler writes {key}: {writes:?}"
        );
    }
    for key in [keys::manifest(&id), keys::upload("tok/clip.mp4")] {
        assert!(!allowed(&writes, &key), "the assembler may write {key}");
    }
}

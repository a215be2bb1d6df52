//! The test bucket in s3s-fs: uploads, downloads, and watching a video's
//! objects while it processes.

use super::BUCKET;
use std::path::Path;
use std::time::Duration;

/// Puts the file at `path` under `key`; its size.
pub async fn upload(s3: &aws_sdk_s3::Client, key: &str, path: &Path) -> u64 {
    let body = aws_sdk_s3::primitives::ByteStream::from_path(path)
        .await
        .expect("read clip");
    s3.put_object()
        .bucket(BUCKET)
        .key(key)
        .body(body)
        .send()
        .await
        .expect("put upload");
    std::fs::metadata(path).expect("size").len()
}

/// Copies every object under `prefix` into `dir`, keeping the relative layout.
pub async fn download(s3: &aws_sdk_s3::Client, prefix: &str, dir: &Path) -> usize {
    let mut n = 0;
    let mut pages = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for o in page.expect("list").contents() {
            let key = o.key().expect("key");
            let bytes = s3
                .get_object()
                .bucket(BUCKET)
                .key(key)
                .send()
                .await
                .expect("get")
                .body
                .collect()
                .await
                .expect("body")
                .into_bytes();
            let path = dir.join(key.strip_prefix(prefix).expect("under prefix"));
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, bytes).expect("write");
            n += 1;
        }
    }
    n
}

/// Reads video `id`'s manifest in S3 until `run` ends: the first time it says
/// `processing` and `playable`, its `ready_until_s` and the top rung's HLS
/// playlist as published then.
pub async fn watch_early_publish(
    s3: &aws_sdk_s3::Client,
    id: &str,
    run: &tokio::task::JoinHandle<serde_json::Value>,
) -> Option<(f64, String)> {
    let get = |key: String| async move {
        let o = s3.get_object().bucket(BUCKET).key(key).send().await.ok()?;
        Some(o.body.collect().await.ok()?.into_bytes().to_vec())
    };
    while !run.is_finished() {
        let manifest = get(format!("processed/{id}/manifest.json"))
            .await
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
        if let Some(m) = manifest.filter(|m| m["status"] == "processing" && m["playable"] == true) {
            let playlist = get(format!("processed/{id}/hls/720p.m3u8")).await?;
            return Some((
                m["ready_until_s"].as_f64()?,
                String::from_utf8_lossy(&playlist).into_owned(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    None
}

/// Reads video `id`'s slice progress objects (`work/progress_<i>.json`,
/// written by the workers while they encode) until `run` ends; the
/// fractions seen.
pub async fn watch_progress(
    s3: &aws_sdk_s3::Client,
    id: &str,
    run: &tokio::task::JoinHandle<serde_json::Value>,
) -> Vec<f64> {
    let mut seen = Vec::new();
    while !run.is_finished() {
        let listed = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .prefix(format!("processed/{id}/work/progress_"))
            .send()
            .await;
        for o in listed.iter().flat_map(|l| l.contents()) {
            let Some(key) = o.key() else { continue };
            let Ok(got) = s3.get_object().bucket(BUCKET).key(key).send().await else {
                continue;
            };
            let Ok(body) = got.body.collect().await else {
                continue;
            };
            if let Some(f) = serde_json::from_slice::<serde_json::Value>(&body.into_bytes())
                .ok()
                .and_then(|v| v["fraction"].as_f64())
            {
                seen.push(f);
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    seen
}

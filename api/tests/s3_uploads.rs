//! Multipart uploads straight to S3 (presigned part URLs) against a real
//! S3-compatible server, s3s-fs, started here.

use md5::{Digest, Md5};
use slicecast_api::validate::{PartPlan, PartRef};
use slicecast_api::{S3Uploads, UploadBackend};
use slicecast_storage::{BlobStore, S3Store};

use slicecast_tests::s3s;

async fn s3() -> (s3s::S3sFs, S3Store) {
    let (server, client) = s3s::with_bucket("slicecast").await;
    (server, S3Store::new(client, "slicecast"))
}

/// The id of `data` uploaded in parts of `part` bytes: S3's multipart ETag
/// digest, the MD5 of the parts' MD5s, computed here independently.
fn multipart_id(data: &[u8], part: usize) -> slicecast_core::VideoId {
    let mut all = Md5::new();
    for chunk in data.chunks(part) {
        all.update(Md5::digest(chunk));
    }
    let digest: [u8; 16] = all.finalize().into();
    slicecast_core::VideoId::from_digest(&digest)
}

/// S3's smallest part (all but the last).
const PART: u64 = 5 * 1024 * 1024;

#[tokio::test]
async fn small_parts_are_refused_up_front() {
    let (_server, store) = s3().await;
    let uploads = S3Uploads::new(store);
    let err = uploads
        .create(
            "a.mp4",
            3_000_000,
            PartPlan {
                part_size: 1_000_000,
                parts: 3,
            },
        )
        .await;
    assert!(
        err.is_err(),
        "S3 rejects parts under 5 MiB at completion; say so at creation"
    );
}

#[tokio::test]
async fn parts_go_straight_to_s3_and_complete_into_one_object() {
    let (_server, store) = s3().await;
    let uploads = S3Uploads::new(store.clone());
    let clip = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/media/sintel_trailer_1280x720_52s_h264_aac_dialogue.mp4");
    let data = std::fs::read(&clip).expect("clip");
    let plan = PartPlan {
        part_size: PART,
        parts: data.len().div_ceil(PART as usize) as u32,
    };
    let name = "deer clip +%'ü.mp4";
    let up = uploads
        .create(name, data.len() as u64, plan)
        .await
        .expect("create");
    assert_eq!(up.urls.len(), plan.parts as usize);
    assert!(up.key.starts_with("uploads/") && up.key.ends_with(name));
    let http = reqwest::Client::new();
    let mut parts = Vec::new();
    // In parallel, as the page does.
    let puts = up.urls.iter().enumerate().map(|(i, url)| {
        let p = PART as usize;
        let body = data[i * p..((i + 1) * p).min(data.len())].to_vec();
        let http = http.clone();
        async move {
            let r = http.put(url).body(body).send().await.expect("put part");
            assert!(r.status().is_success(), "part {}: {}", i + 1, r.status());
            let etag = r
                .headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .expect("etag")
                .trim_matches('"')
                .to_owned();
            PartRef {
                number: i as u32 + 1,
                etag,
            }
        }
    });
    for p in futures::future::join_all(puts).await {
        parts.push(p);
    }
    let info = uploads.describe(&up.upload_id).await.expect("describe");
    assert_eq!(
        info.parts.len(),
        parts.len(),
        "every part is listed for resuming"
    );
    assert_eq!(info.file_name, name);

    let mut missing = parts.clone();
    missing.push(PartRef {
        number: plan.parts + 1,
        etag: "0".repeat(32),
    });
    assert!(
        uploads
            .complete(&up.upload_id, name, &missing)
            .await
            .is_err(),
        "a part never sent is refused"
    );
    assert!(
        uploads
            .complete(&up.upload_id, "other.mp4", &parts)
            .await
            .is_err(),
        "the name must match"
    );

    let done = uploads
        .complete(&up.upload_id, name, &parts)
        .await
        .expect("complete");
    // The id is S3's own digest of the multipart object, read from its ETag.
    assert_eq!(done.video_id, multipart_id(&data, PART as usize));
    assert_eq!(done.size, data.len() as u64);
    assert_eq!(store.get(&done.key).await.expect("object"), data.as_slice());
    assert!(
        uploads.describe(&up.upload_id).await.is_err(),
        "the upload is gone once completed"
    );
}

#[tokio::test]
async fn an_aborted_upload_leaves_nothing() {
    let (_server, store) = s3().await;
    let uploads = S3Uploads::new(store.clone());
    let up = uploads
        .create(
            "a.mp4",
            10,
            PartPlan {
                part_size: 10,
                parts: 1,
            },
        )
        .await
        .expect("create");
    let r = reqwest::Client::new()
        .put(&up.urls[0])
        .body(vec![7u8; 10])
        .send()
        .await
        .expect("put");
    assert!(r.status().is_success());
    uploads.abort(&up.upload_id).await.expect("abort");
    assert!(uploads.describe(&up.upload_id).await.is_err());
    assert!(store.list("uploads/").await.expect("list").is_empty());
    assert!(store.list("multipart/").await.expect("list").is_empty());
}

/// A processor that starts nothing (the coordinator is not under test here).
struct Idle;

#[async_trait::async_trait]
impl slicecast_api::Processor for Idle {
    fn start(&self, _req: slicecast_api::StartRequest) {}
    async fn cancel(&self, _id: &slicecast_core::VideoId) -> bool {
        false
    }
    fn is_running(&self, _id: &slicecast_core::VideoId) -> Option<bool> {
        None
    }
}

#[tokio::test]
async fn the_router_on_s3_uploads_through_presigned_parts_and_redirects_streams() {
    use std::sync::Arc;
    let (_server, store) = s3().await;
    let config = slicecast_api::ApiConfig {
        part_size: PART,
        ..slicecast_api::ApiConfig::default()
    };
    let state = slicecast_api::AppState::new(
        Arc::new(store.clone()),
        Arc::new(S3Uploads::new(store.clone())),
        Arc::new(Idle),
        config,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(slicecast_api::serve(
        listener,
        state,
        std::future::pending(),
    ));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let data = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/media/sintel_trailer_1280x720_52s_h264_aac_dialogue.mp4"),
    )
    .expect("clip");
    let created: serde_json::Value = http
        .post(format!("{base}/create_multipart_upload"))
        .json(&serde_json::json!({"fileName": "sintel.mp4", "fileSize": data.len()}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let urls = created["urls"].as_array().expect("urls");
    assert_eq!(urls.len(), 2);
    assert!(
        urls[0].as_str().unwrap_or("").contains("X-Amz-Signature"),
        "presigned S3 part URLs: {created}"
    );
    let mut parts = Vec::new();
    for (i, u) in urls.iter().enumerate() {
        let p = PART as usize;
        let r = http
            .put(u.as_str().expect("url"))
            .body(data[i * p..((i + 1) * p).min(data.len())].to_vec())
            .send()
            .await
            .expect("put");
        let etag = r
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .expect("etag")
            .to_owned();
        parts.push(serde_json::json!({"PartNumber": i + 1, "ETag": etag}));
    }
    let done: serde_json::Value = http
        .post(format!("{base}/complete_multipart_upload"))
        .json(&serde_json::json!({"fileName": "sintel.mp4", "uploadId": created["uploadId"], "parts": parts}))
        .send()
        .await
        .expect("complete")
        .json()
        .await
        .expect("json");
    assert_eq!(
        done["video_id"],
        multipart_id(&data, PART as usize).to_string(),
        "{done}"
    );

    // Playlists are served by the api itself, so their relative URIs resolve
    // against /stream/...; media objects redirect to a presigned GET with ranges.
    let id = done["video_id"].as_str().unwrap_or("").to_owned();
    let key = format!("processed/{id}/hls/master.m3u8");
    store
        .put(&key, bytes::Bytes::from_static(b"#EXTM3U\n720p.m3u8\n"))
        .await
        .expect("put");
    let r = http
        .get(format!("{base}/stream/{key}"))
        .send()
        .await
        .expect("stream");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/vnd.apple.mpegurl")
    );
    assert_eq!(r.bytes().await.expect("body"), "#EXTM3U\n720p.m3u8\n");
    let seg = format!("processed/{id}/video/720p/seg_1.m4s");
    store
        .put(&seg, bytes::Bytes::from_static(b"0123456789"))
        .await
        .expect("put");
    let r = http
        .get(format!("{base}/stream/{seg}"))
        .send()
        .await
        .expect("stream");
    assert_eq!(r.status().as_u16(), 307);
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("location")
        .to_owned();
    let r = http
        .get(&location)
        .header("Range", "bytes=2-5")
        .send()
        .await
        .expect("follow");
    assert_eq!(r.status().as_u16(), 206);
    assert_eq!(r.bytes().await.expect("body"), "2345");
    let r = http
        .get(format!(
            "{base}/stream/processed/{}/hls/nope.m3u8",
            done["video_id"].as_str().unwrap_or("")
        ))
        .send()
        .await
        .expect("missing");
    assert_eq!(r.status().as_u16(), 404);
}

/// A part URL for `n` bytes: its signature covers `content-length`.
fn signs_content_length(url: &str) -> bool {
    url.split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("X-Amz-SignedHeaders="))
        .is_some_and(|h| h.split("%3B").any(|h| h == "content-length"))
}

#[tokio::test]
async fn a_part_longer_than_its_signed_length_is_refused() {
    let (_server, store) = s3().await;
    let uploads = S3Uploads::new(store.clone());
    let up = uploads
        .create(
            "a.mp4",
            10,
            PartPlan {
                part_size: 10,
                parts: 1,
            },
        )
        .await
        .expect("create");
    assert!(signs_content_length(&up.urls[0]), "{}", up.urls[0]);
    let http = reqwest::Client::new();
    for wrong in [vec![7u8; 11], vec![7u8; 9]] {
        let r = http.put(&up.urls[0]).body(wrong).send().await.expect("put");
        assert_eq!(
            r.status().as_u16(),
            403,
            "a part of another length was accepted"
        );
    }
    let info = uploads.describe(&up.upload_id).await.expect("describe");
    assert!(info.parts.is_empty(), "{:?}", info.parts);
    assert!(
        signs_content_length(&info.urls[0]),
        "fresh URLs sign it too"
    );
    let r = http
        .put(&info.urls[0])
        .body(vec![7u8; 10])
        .send()
        .await
        .expect("put");
    assert!(r.status().is_success(), "{}", r.status());
    uploads.abort(&up.upload_id).await.expect("abort");
}

#[tokio::test]
async fn an_oversize_upload_is_refused_at_completion_and_deleted() {
    let (_server, store) = s3().await;
    // The limit is lower than the upload (as after MAX_UPLOAD_BYTES was lowered
    // while it was on its way): complete checks the object's real size.
    let uploads = S3Uploads::new(store.clone()).with_max_upload_bytes(15);
    let up = uploads
        .create(
            "big.mp4",
            20,
            PartPlan {
                part_size: 20,
                parts: 1,
            },
        )
        .await
        .expect("create");
    let r = reqwest::Client::new()
        .put(&up.urls[0])
        .body(vec![1u8; 20])
        .send()
        .await
        .expect("put");
    assert!(r.status().is_success(), "{}", r.status());
    let etag = r
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .expect("etag")
        .trim_matches('"')
        .to_owned();
    let err = uploads
        .complete(&up.upload_id, "big.mp4", &[PartRef { number: 1, etag }])
        .await
        .expect_err("oversize");
    assert!(
        matches!(err, slicecast_api::ApiError::TooLarge(_)),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("more than this server accepts"),
        "{err}"
    );
    assert!(store.head(&up.key).await.is_err(), "the object is deleted");
    assert!(store.list("uploads/").await.expect("list").is_empty());
    assert!(store.list("multipart/").await.expect("list").is_empty());
    assert!(uploads.describe(&up.upload_id).await.is_err());
}

//! The whole local service over a real port with real ffmpeg: a multipart
//! upload in parallel parts → processing → listing → every asset served with
//! the right type and ranges → delete removes everything.

mod common;

use anyhow::{Context, ensure};
use common::*;
use serde_json::{Value, json};
use slicecast_api::ApiConfig;
use slicecast_core::{VideoId, keys};
use slicecast_storage::BlobStore;
use std::time::{Duration, Instant};

/// GETs a URL; checks 200 and the Content-Type; returns the body.
async fn fetch(s: &Server, url: &str, content_type: &str) -> anyhow::Result<Vec<u8>> {
    let r = s.http.get(s.url(url)).send().await?;
    ensure!(r.status() == 200, "{url}: HTTP {}", r.status());
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    ensure!(
        ct.starts_with(content_type),
        "{url}: Content-Type {ct}, expected {content_type}"
    );
    ensure!(
        r.headers()
            .get("accept-ranges")
            .and_then(|v| v.to_str().ok())
            == Some("bytes"),
        "{url}: no Accept-Ranges"
    );
    Ok(r.bytes().await?.to_vec())
}

#[tokio::test]
async fn upload_process_list_stream_delete() -> anyhow::Result<()> {
    let s = processing_server(ApiConfig {
        part_size: 100 * 1024,
        ..ApiConfig::default()
    })
    .await?;
    let name = "deer_1920x1080_1s_h264_aac_23976.mp4";
    let data = std::fs::read(media(name)).context("the shared clip")?;
    let id = md5_hex(&data);

    // Create, PUT every part in parallel (one of them twice), complete.
    let (upload_id, part_size, urls) = s.create(name, data.len(), None).await?;
    assert!(urls.len() >= 3, "{} parts", urls.len());
    let puts = urls.iter().enumerate().map(|(i, url)| {
        let chunk = data[i * part_size..((i + 1) * part_size).min(data.len())].to_vec();
        let s = &s;
        async move {
            let etag = s.put_part(url, chunk.clone()).await?;
            if i == 1 {
                // Re-sent: same bytes, same ETag.
                ensure!(
                    s.put_part(url, chunk).await? == etag,
                    "re-sent part changed ETag"
                );
            }
            Ok::<_, anyhow::Error>(json!({"PartNumber": i + 1, "ETag": etag}))
        }
    });
    let parts: Vec<Value> = futures::future::join_all(puts)
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let (code, done) = s
        .post(
            "/complete_multipart_upload",
            &json!({"fileName": name, "uploadId": upload_id, "parts": parts}),
            None,
        )
        .await?;
    assert_eq!(code, 200, "{done}");
    assert_eq!(done["status"], "processing");
    assert_eq!(done["video_id"], id);
    let upload_key = format!("uploads/{upload_id}/{name}");
    assert_eq!(s.store.head(&upload_key).await?.size, data.len() as u64);

    let m = s.wait_done(&id, Duration::from_secs(240)).await?;
    assert_eq!(m["status"], "processing_complete", "{m}");
    assert_eq!(m["progress"]["fraction"], 1.0);
    assert!(m["progress"]["slices_total"].as_u64() >= Some(1));
    // By name too.
    let (code, by_name) = s.get_json(&format!("/status/{}", encode(name))).await?;
    assert_eq!((code, &by_name["video_id"]), (200, &json!(id)));
    assert_eq!(s.get_json("/api/transcoding_status").await?.1, json!([]));

    // Listed, with every URL.
    let (_, list) = s.get_json("/api/videos").await?;
    let v = list
        .as_array()
        .and_then(|a| a.iter().find(|v| v["video_id"] == id))
        .with_context(|| format!("not listed: {list}"))?
        .clone();
    assert_eq!(v["base_name"], "deer_1920x1080_1s_h264_aac_23976");
    assert_eq!(v["subtitles"], json!([]));
    assert!(v["duration"].as_f64().is_some_and(|d| d > 0.5), "{v}");
    assert!(
        v["uploaded_at"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{v}"
    );
    let presets: Vec<String> = serde_json::from_value(v["presets"].clone())?;
    assert!(presets.contains(&"1080p".to_owned()), "{presets:?}");
    let url = |k: &str| {
        v[k].as_str()
            .map(str::to_owned)
            .with_context(|| format!("{k} in {v}"))
    };

    let master = fetch(&s, &url("hls_url")?, "application/vnd.apple.mpegurl").await?;
    assert!(String::from_utf8_lossy(&master).starts_with("#EXTM3U"));
    fetch(&s, &url("dash_url")?, "application/dash+xml").await?;
    fetch(&s, &url("sprite")?, "text/vtt").await?;
    fetch(&s, &url("thumbnail_url")?, "image/jpeg").await?;
    let sprites: Vec<String> = serde_json::from_value(v["sprites"].clone())?;
    ensure!(!sprites.is_empty(), "no sprite sheets");
    fetch(&s, &sprites[0], "image/jpeg").await?;
    let vid = VideoId::parse(&id)?;
    for rung in m["rungs"].as_array().context("rungs")? {
        let playlist = rung["playlist"].as_str().context("playlist")?;
        fetch(
            &s,
            &format!("/stream/{playlist}"),
            "application/vnd.apple.mpegurl",
        )
        .await?;
    }
    let init = keys::video_init(&vid, &presets[0]);
    fetch(&s, &format!("/stream/{init}"), "video/mp4").await?;
    let seg = keys::video_segment(&vid, &presets[0], 0);
    let seg_bytes = fetch(&s, &format!("/stream/{seg}"), "video/iso.segment").await?;
    assert_eq!(seg_bytes, s.store.get(&seg).await?.to_vec());
    let r = s.http.get(s.url(&format!("/stream/{seg}"))).send().await?;
    assert!(r.headers()["cache-control"].to_str()?.contains("immutable"));

    // Ranges.
    let size = seg_bytes.len();
    let seg_url = s.url(&format!("/stream/{seg}"));
    let r = s
        .http
        .get(&seg_url)
        .header("range", "bytes=10-99")
        .send()
        .await?;
    assert_eq!(r.status(), 206);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes 10-99/{size}").as_str()
    );
    assert_eq!(r.headers()["content-length"], "90");
    assert_eq!(r.bytes().await?.as_ref(), &seg_bytes[10..100]);
    let r = s
        .http
        .get(&seg_url)
        .header("range", "bytes=-16")
        .send()
        .await?;
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await?.as_ref(), &seg_bytes[size - 16..]);
    let r = s
        .http
        .get(&seg_url)
        .header("range", format!("bytes={}-", size - 5))
        .send()
        .await?;
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await?.as_ref(), &seg_bytes[size - 5..]);
    let r = s
        .http
        .get(&seg_url)
        .header("range", format!("bytes={size}-"))
        .send()
        .await?;
    assert_eq!(r.status(), 416);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes */{size}").as_str()
    );

    // The same bytes under another name: not processed again, name maps to it.
    let again = s.upload("deer copy.mp4", &data, None).await?;
    assert_eq!(again["status"], "processing_complete");
    assert_eq!(again["video_id"], id);
    // The copy of the same bytes is not kept: only the first upload remains.
    let uploads: Vec<String> = s
        .store
        .list("uploads/")
        .await?
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert_eq!(uploads, vec![upload_key.clone()]);
    let (code, by_name) = s.get_json("/status/deer%20copy.mp4").await?;
    assert_eq!((code, &by_name["video_id"]), (200, &json!(id)));

    // Delete removes everything of the video.
    let r = s
        .http
        .delete(s.url(&format!("/api/video/{id}")))
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await?;
    assert_eq!(body["status"], "deleted");
    assert!(s.store.list(&keys::video_prefix(&vid)).await?.is_empty());
    assert!(
        s.store.list("uploads/").await?.is_empty(),
        "{:?}",
        s.store.list("uploads/").await?
    );
    assert!(s.store.list("names/").await?.is_empty());
    assert!(s.store.list("ids/").await?.is_empty());
    assert!(s.store.list("multipart/").await?.is_empty());
    assert!(!s.store.root().join("processed").join(&id).exists());
    let (code, body) = s.get_json(&format!("/status/{id}")).await?;
    assert_eq!((code, &body["status"]), (404, &json!("not_found")));
    assert_eq!(
        s.get_json(&format!("/status/{}", encode(name))).await?.0,
        404
    );
    assert_eq!(s.get_json("/api/videos").await?.1, json!([]));
    assert_eq!(s.http.get(&seg_url).send().await?.status(), 404);
    let r = s
        .http
        .delete(s.url(&format!("/api/video/{id}")))
        .send()
        .await?;
    assert_eq!(r.status(), 404);
    Ok(())
}

#[tokio::test]
async fn a_file_that_is_not_a_video_fails_with_a_reason() -> anyhow::Result<()> {
    let s = processing_server(ApiConfig::default()).await?;
    let data = b"this is a text file named like a video".to_vec();
    let done = s.upload("notes.mp4", &data, None).await?;
    let id = done["video_id"].as_str().context("id")?.to_owned();
    let m = s.wait_done(&id, Duration::from_secs(60)).await?;
    assert_eq!(m["status"], "processing_failed", "{m}");
    assert!(m["error"].as_str().is_some_and(|e| !e.is_empty()), "{m}");
    assert_eq!(s.get_json("/api/videos").await?.1, json!([]));
    // A failed video can be deleted too.
    let r = s
        .http
        .delete(s.url(&format!("/api/video/{id}")))
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    assert!(s.store.list("uploads/").await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn deleting_a_video_while_it_encodes_stops_it() -> anyhow::Result<()> {
    let s = processing_server(ApiConfig::default()).await?;
    let name = "sintel_trailer_1280x720_52s_h264_aac_dialogue.mp4";
    let data = std::fs::read(media(name)).context("the shared clip")?;
    let done = s.upload(name, &data, None).await?;
    let id = done["video_id"].as_str().context("id")?.to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, m) = s.get_json(&format!("/status/{id}")).await?;
        if m["stage"] == "encoding" {
            break;
        }
        ensure!(
            m["status"] != "processing_complete",
            "finished before the test could delete it"
        );
        ensure!(Instant::now() < deadline, "never reached encoding: {m}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, list) = s.get_json("/api/transcoding_status").await?;
    assert_eq!(list[0]["video_id"], id, "{list}");
    assert_eq!(list[0]["status"], "processing");
    let r = s
        .http
        .delete(s.url(&format!("/api/video/{id}")))
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    // Nothing comes back: the coordinator and its ffmpeg processes are gone.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let vid = VideoId::parse(&id)?;
    assert!(s.store.list(&keys::video_prefix(&vid)).await?.is_empty());
    assert!(s.store.list("uploads/").await?.is_empty());
    assert_eq!(s.get_json(&format!("/status/{id}")).await?.0, 404);
    assert_eq!(s.get_json("/api/transcoding_status").await?.1, json!([]));
    Ok(())
}

/// Signed playback with the real players: a processed video plays in hls.js,
/// shaka (HLS and DASH) and dash.js in Chromium through the token path that
/// `/status` hands out, fetched cross-origin as a player on another site
/// would (every playlist, segment and MPD reference keeps the token); the
/// same master without the token is 403.
// Multi-threaded: the server answers the players while this thread waits for node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_playback_plays_in_every_player() -> anyhow::Result<()> {
    use slicecast_api::playback::PlaybackSigner;
    let s = processing_server(ApiConfig {
        playback: Some(PlaybackSigner::random(Duration::from_secs(600))?),
        cors_origins: vec!["*".into()],
        ..ApiConfig::default()
    })
    .await?;
    let clips = tempfile::tempdir()?;
    let src =
        slicecast_tests::local::test_pattern(clips.path(), "pattern.mp4", "640x360", 8, None, true);
    let data = std::fs::read(&src)?;
    let id = md5_hex(&data);
    s.upload("pattern.mp4", &data, None).await?;
    let done = s.wait_done(&id, Duration::from_secs(180)).await?;
    assert_eq!(done["status"], "processing_complete", "{done}");
    let base = done["playback"]["stream_base"]
        .as_str()
        .context("a playback grant")?;
    assert!(base.starts_with("/stream/t/"), "{base}");
    let plain = s
        .http
        .get(s.url(&format!("/stream/processed/{id}/hls/master.m3u8")))
        .send()
        .await?;
    assert_eq!(plain.status(), 403);

    let pages = tempfile::tempdir()?;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/players/play.mjs");
    let out = std::process::Command::new("node")
        .arg(&script)
        .arg("--dir")
        .arg(pages.path())
        .args([
            "--origin",
            &s.url(&format!("{base}processed/{id}")),
            "--hls",
            "hls/master.m3u8",
            "--dash",
            "dash/stream.mpd",
        ])
        .output()
        .context("run node tests/players/play.mjs (install with scripts/install-deps.sh --test)")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "players failed through signed URLs:\n{stdout}"
    );
    for case in ["hls.js+hls", "shaka+hls", "shaka+dash", "dashjs+dash"] {
        assert!(
            stdout.contains(&format!("\"case\":\"{case}\",")),
            "case {case} ran"
        );
    }
    Ok(())
}

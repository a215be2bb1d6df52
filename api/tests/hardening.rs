//! The server under hostile clients, on real loopback sockets: slow or idle
//! connections, stalled parts, oversize bodies, too many connections, the
//! resume route's key, disguised file names, the web folder, and the sweep.
//! Every wait is bounded; no assertion depends on how fast this machine is
//! beyond generous upper bounds.

mod common;

use anyhow::{Context, ensure};
use common::{KEY, Recorder, md5_hex};
use serde_json::{Value, json};
use slicecast_api::{
    ApiConfig, AppState, LocalUploads, PartSigner, ServeOptions, UploadBackend, WEB_ASSETS,
};
use slicecast_core::VideoId;
use slicecast_core::manifest::Manifest;
use slicecast_storage::{BlobStore, FsStore};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest any test waits for something that should happen within a second or two.
const PATIENCE: Duration = Duration::from_secs(15);

struct Srv {
    base: String,
    addr: String,
    store: FsStore,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

fn fast() -> ServeOptions {
    ServeOptions {
        header_read_timeout: Duration::from_secs(1),
        body_idle_timeout: Duration::from_secs(1),
        max_connections: 64,
    }
}

fn small() -> ApiConfig {
    ApiConfig {
        part_size: 10,
        max_upload_bytes: 1000,
        ..ApiConfig::default()
    }
}

async fn server(config: ApiConfig, opts: ServeOptions) -> anyhow::Result<Srv> {
    let dir = tempfile::tempdir()?;
    let store = FsStore::new(dir.path().join("store"))?;
    let shared: Arc<dyn BlobStore> = Arc::new(store.clone());
    let uploads: Arc<dyn UploadBackend> = Arc::new(LocalUploads::new(
        store.clone(),
        PartSigner::with_key(KEY),
        config.clone(),
    ));
    let state = AppState::new(shared, uploads, Arc::new(Recorder::default()), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    tokio::spawn(slicecast_api::serve_with(
        listener,
        state,
        opts,
        std::future::pending(),
    ));
    Ok(Srv {
        base: format!("http://{addr}"),
        addr,
        store,
        dir,
        http: reqwest::Client::new(),
    })
}

impl Srv {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn post(
        &self,
        path: &str,
        body: &Value,
        key: Option<&str>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut r = self.http.post(self.url(path)).json(body);
        if let Some(k) = key {
            r = r.bearer_auth(k);
        }
        let resp = r.send().await?;
        Ok((
            resp.status().as_u16(),
            resp.json().await.unwrap_or(Value::Null),
        ))
    }

    /// Creates an upload; returns (uploadId, part URLs).
    async fn create(
        &self,
        name: &str,
        size: usize,
        key: Option<&str>,
    ) -> anyhow::Result<(String, Vec<String>)> {
        let (code, body) = self
            .post(
                "/create_multipart_upload",
                &json!({"fileName": name, "fileSize": size}),
                key,
            )
            .await?;
        ensure!(code == 200, "create: {code} {body}");
        let urls = serde_json::from_value(body["urls"].clone())?;
        Ok((body["uploadId"].as_str().context("id")?.to_owned(), urls))
    }

    /// Uploads `data` whole; returns the completion's answer.
    async fn upload(&self, name: &str, data: &[u8]) -> anyhow::Result<Value> {
        let (id, urls) = self.create(name, data.len(), None).await?;
        let mut parts = Vec::new();
        for (i, url) in urls.iter().enumerate() {
            let chunk = data[i * 10..((i + 1) * 10).min(data.len())].to_vec();
            let r = self.http.put(self.url(url)).body(chunk).send().await?;
            ensure!(r.status() == 200, "part: {}", r.status());
            let etag = r.headers()["etag"].to_str()?.to_owned();
            parts.push(json!({"PartNumber": i + 1, "ETag": etag}));
        }
        let (code, body) = self
            .post(
                "/complete_multipart_upload",
                &json!({"fileName": name, "uploadId": id, "parts": parts}),
                None,
            )
            .await?;
        ensure!(code == 200, "complete: {code} {body}");
        Ok(body)
    }

    fn multipart_dir(&self, id: &str) -> std::path::PathBuf {
        self.dir.path().join("store/multipart").join(id)
    }
}

/// Reads until the peer closes (EOF or reset), at most `PATIENCE`; returns
/// what arrived. Fails when the connection is still open after that.
async fn read_until_closed(s: &mut TcpStream) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => anyhow::bail!(
                "still open after {PATIENCE:?}; got {:?}",
                String::from_utf8_lossy(&out)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(out),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// The status code of the first response in `bytes`.
fn status_of(bytes: &[u8]) -> Option<u16> {
    String::from_utf8_lossy(bytes)
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
}

/// Reads one response with a `Content-Length` body; returns its status.
async fn read_response(s: &mut TcpStream) -> anyhow::Result<u16> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(PATIENCE, s.read(&mut buf)).await??;
        ensure!(n > 0, "closed before a whole response");
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let len: usize = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + len {
                return status_of(&got).context("no status");
            }
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[tokio::test]
async fn slow_and_idle_connections_are_closed() -> anyhow::Result<()> {
    let s = server(small(), fast()).await?;
    // A header that never ends.
    let mut partial = TcpStream::connect(&s.addr).await?;
    partial
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await?;
    // A connection that sends nothing at all.
    let mut silent = TcpStream::connect(&s.addr).await?;
    // A keep-alive connection, idle after one request.
    let mut idle = TcpStream::connect(&s.addr).await?;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await?;
    assert_eq!(read_response(&mut idle).await?, 200);

    let got = read_until_closed(&mut partial).await?;
    assert!(
        got.is_empty() || status_of(&got) == Some(408),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
    read_until_closed(&mut silent).await?;
    read_until_closed(&mut idle).await?;
    // The server still serves.
    assert_eq!(s.http.get(s.url("/healthz")).send().await?.status(), 200);
    Ok(())
}

#[tokio::test]
async fn a_stalled_part_is_aborted_and_its_temp_file_removed() -> anyhow::Result<()> {
    let s = server(
        small(),
        ServeOptions {
            body_idle_timeout: Duration::from_secs(2),
            ..fast()
        },
    )
    .await?;
    let (id, urls) = s.create("stall.mp4", 10, None).await?;
    let mut c = TcpStream::connect(&s.addr).await?;
    c.write_all(
        format!(
            "PUT {} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nx",
            urls[0]
        )
        .as_bytes(),
    )
    .await?;
    // The part's temporary file appears while it is being received...
    let tmp = s.multipart_dir(&id).join("tmp");
    let files = |p: &Path| std::fs::read_dir(p).map(|d| d.count()).unwrap_or(0);
    let deadline = std::time::Instant::now() + PATIENCE;
    while files(&tmp) == 0 {
        ensure!(
            std::time::Instant::now() < deadline,
            "no temp file appeared"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // ...and once the body stalls past the timeout the request fails, the
    // connection closes and the file is gone.
    let got = read_until_closed(&mut c).await?;
    assert_eq!(
        status_of(&got),
        Some(400),
        "{}",
        String::from_utf8_lossy(&got)
    );
    assert!(String::from_utf8_lossy(&got).contains("stopped arriving"));
    assert_eq!(
        files(&tmp),
        0,
        "the stalled part's temp file was not removed"
    );
    assert!(!s.multipart_dir(&id).join("parts").exists());
    // The upload itself is intact: the part can be sent again.
    let r = s
        .http
        .put(s.url(&urls[0]))
        .body(vec![7u8; 10])
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    Ok(())
}

#[tokio::test]
async fn oversize_bodies_get_413() -> anyhow::Result<()> {
    let s = server(small(), fast()).await?;
    // JSON over 1 MiB.
    let big = json!({"fileName": "a.mp4", "fileSize": 5, "pad": "x".repeat(1024 * 1024 + 10)})
        .to_string();
    let mut c = TcpStream::connect(&s.addr).await?;
    let head = format!(
        "POST /create_multipart_upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        big.len()
    );
    c.write_all(head.as_bytes()).await?;
    let _ = c.write_all(big.as_bytes()).await; // the server may stop reading early
    let got = read_until_closed(&mut c).await?;
    assert_eq!(
        status_of(&got),
        Some(413),
        "{}",
        String::from_utf8_lossy(&got)
    );
    assert!(String::from_utf8_lossy(&got).contains("payload_too_large"));

    // A part larger than its planned size: declared, and streamed (chunked).
    let (_, urls) = s.create("a.mp4", 15, None).await?;
    for (url, planned) in [(&urls[0], 10), (&urls[1], 5)] {
        let mut c = TcpStream::connect(&s.addr).await?;
        let n = planned + 1;
        c.write_all(
            format!("PUT {url} HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n\r\n").as_bytes(),
        )
        .await?;
        let _ = c.write_all(&vec![1u8; n]).await;
        let got = read_until_closed(&mut c).await?;
        assert_eq!(
            status_of(&got),
            Some(413),
            "{}",
            String::from_utf8_lossy(&got)
        );

        let mut c = TcpStream::connect(&s.addr).await?;
        c.write_all(
            format!("PUT {url} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{n:x}\r\n")
                .as_bytes(),
        )
        .await?;
        let _ = c.write_all(&vec![1u8; n]).await;
        let _ = c.write_all(b"\r\n0\r\n\r\n").await;
        let got = read_until_closed(&mut c).await?;
        assert_eq!(
            status_of(&got),
            Some(413),
            "{}",
            String::from_utf8_lossy(&got)
        );
    }
    // Parts that do not add up to the declared size cannot be completed.
    let (id, urls) = s.create("short.mp4", 15, None).await?;
    let r = s
        .http
        .put(s.url(&urls[0]))
        .body(vec![1u8; 10])
        .send()
        .await?;
    let e1 = r.headers()["etag"].to_str()?.to_owned();
    let r = s
        .http
        .put(s.url(&urls[1]))
        .body(vec![1u8; 2])
        .send()
        .await?;
    let e2 = r.headers()["etag"].to_str()?.to_owned();
    let (code, body) = s
        .post(
            "/complete_multipart_upload",
            &json!({"fileName": "short.mp4", "uploadId": id, "parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]}),
            None,
        )
        .await?;
    assert_eq!(code, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("not the fileSize"),
        "{body}"
    );
    Ok(())
}

#[tokio::test]
async fn connections_past_the_limit_wait_for_a_free_slot() -> anyhow::Result<()> {
    let s = server(
        small(),
        ServeOptions {
            header_read_timeout: Duration::from_secs(60),
            max_connections: 1,
            ..fast()
        },
    )
    .await?;
    // The one slot: a keep-alive connection, served once, then idle.
    let mut first = TcpStream::connect(&s.addr).await?;
    first
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await?;
    assert_eq!(read_response(&mut first).await?, 200);
    // A second one is not served while the first holds the slot...
    let mut second = TcpStream::connect(&s.addr).await?;
    second
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await?;
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(500), second.read(&mut byte)).await;
    assert!(
        early.is_err(),
        "served past the connection limit: {early:?}"
    );
    // ...and is, as soon as the first closes.
    drop(first);
    let got = read_until_closed(&mut second).await?;
    assert_eq!(
        status_of(&got),
        Some(200),
        "{}",
        String::from_utf8_lossy(&got)
    );
    Ok(())
}

#[tokio::test]
async fn resume_route_needs_the_key_and_names_must_be_visible() -> anyhow::Result<()> {
    let s = server(
        ApiConfig {
            api_key: Some("s3cret".into()),
            ..small()
        },
        fast(),
    )
    .await?;
    let (id, _) = s.create("a.mp4", 5, Some("s3cret")).await?;
    let path = format!("/multipart_upload/{id}");
    let r = s.http.get(s.url(&path)).send().await?;
    assert_eq!(r.status(), 401);
    let r = s.http.get(s.url(&path)).bearer_auth("nope").send().await?;
    assert_eq!(r.status(), 401);
    let r = s
        .http
        .get(s.url(&path))
        .bearer_auth("s3cret")
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await?;
    assert_eq!(body["urls"].as_array().map(Vec::len), Some(1));

    for (name, shows) in [
        ("invoice\u{202E}4pm.exe", "U+202E"),
        ("zero\u{200B}width.mp4", "U+200B"),
        ("bell\u{7}.mp4", "U+0007"),
        ("new\nline.mp4", "U+000A"),
        ("\u{FEFF}bom.mp4", "U+FEFF"),
        (".hidden.mp4", "start with"),
        ("../up.mp4", "without slashes"),
    ] {
        let (code, body) = s
            .post(
                "/create_multipart_upload",
                &json!({"fileName": name, "fileSize": 5}),
                Some("s3cret"),
            )
            .await?;
        assert_eq!(code, 400, "{name:?}: {body}");
        let msg = body["message"].as_str().unwrap_or("");
        assert!(
            msg.starts_with("fileName") && msg.contains(shows),
            "{name:?}: {msg}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn web_serves_only_the_pages_assets() -> anyhow::Result<()> {
    let web = tempfile::tempdir()?;
    for f in WEB_ASSETS.iter().chain(&[
        "package.json",
        "package-lock.json",
        "install.sh",
        "README.md",
        "tests/page.mjs",
        "node_modules/hls.js/package.json",
        "node_modules/playwright-core/index.js",
    ]) {
        let p = web.path().join(f);
        std::fs::create_dir_all(p.parent().context("parent")?)?;
        std::fs::write(&p, format!("contents of {f}"))?;
    }
    let s = server(
        ApiConfig {
            web_dir: Some(web.path().to_owned()),
            ..small()
        },
        fast(),
    )
    .await?;
    for f in WEB_ASSETS {
        let r = s.http.get(s.url(&format!("/web/{f}"))).send().await?;
        assert_eq!(r.status(), 200, "{f}");
        assert_eq!(r.text().await?, format!("contents of {f}"));
    }
    for f in [
        "package.json",
        "package-lock.json",
        "install.sh",
        "README.md",
        "tests/page.mjs",
        "node_modules/hls.js/package.json",
        "node_modules/playwright-core/index.js",
        "nope.js",
        "",
        "node_modules/",
        "APP.JS",
        "%2e%2e/Cargo.toml",
    ] {
        let r = s.http.get(s.url(&format!("/web/{f}"))).send().await?;
        assert_eq!(r.status(), 404, "/web/{f}");
    }
    // Every /web/ file the real page loads is on the list.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for page in ["web/index.html", "web/app.js"] {
        let text = std::fs::read_to_string(repo.join(page))?;
        for (i, _) in text.match_indices("/web/") {
            let rest = &text[i + 5..];
            let end = rest
                .find(['\'', '"', '`', ')', ' ', '\n', '?', '#'])
                .unwrap_or(rest.len());
            let asset = &rest[..end];
            if asset.is_empty() || asset.contains('$') {
                continue;
            }
            assert!(
                WEB_ASSETS.contains(&asset),
                "{page} loads /web/{asset}, which is not served"
            );
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_sweep_removes_stale_uploads_and_failed_videos_uploads() -> anyhow::Result<()> {
    let s = server(small(), fast()).await?;
    let store: &dyn BlobStore = &s.store;

    // Two multipart uploads in progress; one's URLs expired long ago.
    let (stale, _) = s.create("stale.mp4", 15, None).await?;
    let (live, live_urls) = s.create("live.mp4", 5, None).await?;
    let meta_key = format!("multipart/{stale}/upload.json");
    let mut meta: Value = serde_json::from_slice(&store.get(&meta_key).await?)?;
    meta["urlsUntilMs"] = json!(1000);
    store
        .put(&meta_key, serde_json::to_vec(&meta)?.into())
        .await?;
    // A leftover folder without its upload.json.
    let orphan = "0123456789abcdef0123456789abcdef";
    store
        .put(&format!("multipart/{orphan}/parts/00001.x"), "x".into())
        .await?;

    // A failed video; a video still uploaded; a failed video uploaded again since.
    let failed = s.upload("failed.mp4", b"bytes of the failed video").await?;
    let kept = s
        .upload("kept.mp4", b"bytes of a video still waiting")
        .await?;
    let retried_bytes = b"bytes of a video that failed, then was sent again";
    let first_try = s.upload("retry.mp4", retried_bytes).await?;
    let id_of = |v: &Value| -> anyhow::Result<VideoId> {
        Ok(VideoId::parse(v["video_id"].as_str().context("id")?)?)
    };
    let upload_keys = |id: &VideoId| {
        let id = id.clone();
        async move {
            let entry: Value =
                serde_json::from_slice(&store.get(&format!("ids/{id}.json")).await?)?;
            let keys: Vec<String> = entry["uploads"]
                .as_array()
                .context("uploads")?
                .iter()
                .filter_map(|u| u["upload_key"].as_str().map(str::to_owned))
                .collect();
            anyhow::Ok(keys)
        }
    };
    let failed_id = id_of(&failed)?;
    let kept_id = id_of(&kept)?;
    let retry_id = id_of(&first_try)?;
    assert_eq!(retry_id.as_str(), md5_hex(retried_bytes));
    let fail = |id: &VideoId, key: String| {
        let t = now_ms();
        let m = Manifest::new(id.clone(), key, t, t + 60_000).failed("the probe failed", t);
        serde_json::to_vec(&m)
    };
    let failed_key = upload_keys(&failed_id).await?.remove(0);
    let kept_key = upload_keys(&kept_id).await?.remove(0);
    let first_key = upload_keys(&retry_id).await?.remove(0);
    store
        .put(
            &format!("processed/{failed_id}/manifest.json"),
            fail(&failed_id, failed_key.clone())?.into(),
        )
        .await?;
    store
        .put(
            &format!("processed/{retry_id}/manifest.json"),
            fail(&retry_id, first_key.clone())?.into(),
        )
        .await?;
    tokio::time::sleep(Duration::from_millis(5)).await;
    s.upload("retry again.mp4", retried_bytes).await?;
    let keys = upload_keys(&retry_id).await?;
    assert_eq!(keys.len(), 2);
    let second_key = keys[1].clone();
    for k in [&failed_key, &kept_key, &first_key, &second_key] {
        assert!(store.head(k).await.is_ok(), "{k}");
    }

    let report = slicecast_api::sweep(store, Duration::ZERO, now_ms()).await?;

    let mut removed = report.multipart_uploads.clone();
    removed.sort();
    let mut expected = vec![stale.clone(), orphan.to_owned()];
    expected.sort();
    assert_eq!(removed, expected);
    assert!(!s.multipart_dir(&stale).exists());
    assert!(!s.multipart_dir(orphan).exists());
    assert!(s.multipart_dir(&live).join("upload.json").exists());
    let mut gone = report.failed_uploads.clone();
    gone.sort();
    let mut expected = vec![failed_key.clone(), first_key.clone()];
    expected.sort();
    assert_eq!(gone, expected);
    assert!(store.head(&failed_key).await.is_err());
    assert!(store.head(&first_key).await.is_err());
    assert!(store.head(&kept_key).await.is_ok());
    assert!(
        store.head(&second_key).await.is_ok(),
        "a retry's upload is kept"
    );

    // The live upload still completes; a second sweep finds nothing.
    let r = s
        .http
        .put(s.url(&live_urls[0]))
        .body(vec![3u8; 5])
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    let again = slicecast_api::sweep(store, Duration::ZERO, now_ms()).await?;
    assert_eq!(again, slicecast_api::SweepReport::default());
    // With a grace period nothing recent goes.
    let (young, _) = s.create("young.mp4", 5, None).await?;
    let mut meta: Value =
        serde_json::from_slice(&store.get(&format!("multipart/{young}/upload.json")).await?)?;
    meta["urlsUntilMs"] = json!(now_ms());
    store
        .put(
            &format!("multipart/{young}/upload.json"),
            serde_json::to_vec(&meta)?.into(),
        )
        .await?;
    let r = slicecast_api::sweep(store, Duration::from_secs(3600), now_ms()).await?;
    assert!(r.multipart_uploads.is_empty(), "{r:?}");
    Ok(())
}

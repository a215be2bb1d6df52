//! The server under hostile clients, on real loopback sockets: headers that
//! never end, idle connections, a part that stalls, oversize bodies, more
//! connections than allowed. Every wait is bounded; no assertion depends on
//! how fast this machine is beyond generous upper bounds.

mod common;

use anyhow::{Context, ensure};
use common::{multipart_dir, recording_server_with, small};
use serde_json::json;
use slicecast_api::ServeOptions;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest any test waits for something that should happen within a second or two.
const PATIENCE: Duration = Duration::from_secs(15);

fn fast() -> ServeOptions {
    ServeOptions {
        header_read_timeout: Duration::from_secs(1),
        body_idle_timeout: Duration::from_secs(1),
        max_connections: 64,
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

#[tokio::test]
async fn slow_and_idle_connections_are_closed() -> anyhow::Result<()> {
    let s = recording_server_with(small(), fast()).await?;
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
    let s = recording_server_with(
        small(),
        ServeOptions {
            body_idle_timeout: Duration::from_secs(2),
            ..fast()
        },
    )
    .await?;
    let (id, _, urls) = s.create("stall.mp4", 10, None).await?;
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
    let tmp = multipart_dir(&s, &id).join("tmp");
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
    assert!(!multipart_dir(&s, &id).join("parts").exists());
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
    let s = recording_server_with(small(), fast()).await?;
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
    let (_, _, urls) = s.create("a.mp4", 15, None).await?;
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
    let (id, _, urls) = s.create("short.mp4", 15, None).await?;
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
    let s = recording_server_with(
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
async fn shutdown_finishes_requests_in_flight_and_closes_idle_connections() -> anyhow::Result<()> {
    use slicecast_api::{AppState, LocalUploads, PartSigner};
    use std::sync::Arc;
    let dir = tempfile::tempdir()?;
    let store = slicecast_storage::FsStore::new(dir.path())?;
    let uploads = Arc::new(LocalUploads::new(
        store.clone(),
        PartSigner::with_key(common::KEY),
        small(),
    ));
    let state = AppState::new(
        Arc::new(store),
        uploads,
        Arc::new(common::Recorder::default()),
        small(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let opts = ServeOptions {
        header_read_timeout: Duration::from_secs(60),
        body_idle_timeout: Duration::from_secs(60),
        max_connections: 8,
    };
    let server = tokio::spawn(slicecast_api::serve_with(listener, state, opts, async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let created: serde_json::Value = http
        .post(format!("http://{addr}/create_multipart_upload"))
        .json(&json!({"fileName": "a.mp4", "fileSize": 10}))
        .send()
        .await?
        .json()
        .await?;
    let url = created["urls"][0].as_str().context("url")?.to_owned();
    // An idle keep-alive connection, and a part half sent.
    let mut idle = TcpStream::connect(addr).await?;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await?;
    assert_eq!(read_response(&mut idle).await?, 200);
    let mut part = TcpStream::connect(addr).await?;
    part.write_all(
        format!("PUT {url} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234").as_bytes(),
    )
    .await?;
    // Shut down once the part is being received (its temp file exists).
    let id = created["uploadId"].as_str().context("id")?;
    let tmp = dir.path().join("multipart").join(id).join("tmp");
    let deadline = std::time::Instant::now() + PATIENCE;
    while std::fs::read_dir(&tmp).map(|d| d.count()).unwrap_or(0) == 0 {
        ensure!(
            std::time::Instant::now() < deadline,
            "the part never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(());
    // The idle connection is closed; the part still completes.
    read_until_closed(&mut idle).await?;
    part.write_all(b"56789").await?;
    assert_eq!(read_response(&mut part).await?, 200);
    tokio::time::timeout(PATIENCE, server).await???;
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
    Ok(())
}

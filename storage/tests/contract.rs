//! One contract, two stores: the filesystem store, and the S3 store against a
//! real S3-compatible server (s3s-fs, started here; install it with
//! `cargo install s3s-fs@0.14.1 --features binary --locked`, as `scripts/install-deps.sh --test` does).

use bytes::Bytes;
use slicecast_storage::{BlobStore, FsStore, S3Store, StoreError};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

async fn contract(s: &dyn BlobStore) {
    assert!(s.get("a/b").await.expect_err("missing").is_not_found());
    assert!(s.head("a/b").await.expect_err("missing").is_not_found());
    s.put("a/b", Bytes::from_static(b"hello"))
        .await
        .expect("put");
    assert_eq!(s.get("a/b").await.expect("get"), "hello");
    assert_eq!(s.get_range("a/b", 1, 3).await.expect("range"), "ell");
    assert_eq!(s.get_range("a/b", 3, 100).await.expect("range"), "lo");
    assert_eq!(s.head("a/b").await.expect("head").size, 5);
    s.put("a/b", Bytes::from_static(b"replaced"))
        .await
        .expect("overwrite");
    assert_eq!(s.get("a/b").await.expect("get"), "replaced");
    assert!(
        s.put_if_absent("a/c", Bytes::from_static(b"1"))
            .await
            .expect("claim")
    );
    assert!(
        !s.put_if_absent("a/c", Bytes::from_static(b"2"))
            .await
            .expect("claim")
    );
    assert_eq!(s.get("a/c").await.expect("get"), "1");
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("f.m3u8");
    std::fs::write(&file, b"#EXTM3U\n").expect("write");
    s.put_file("a/d/e.m3u8", &file).await.expect("put_file");
    assert_eq!(s.get("a/d/e.m3u8").await.expect("get"), "#EXTM3U\n");
    s.put("ab", Bytes::from_static(b"x")).await.expect("put");
    let keys: Vec<String> = s
        .list("a/")
        .await
        .expect("list")
        .into_iter()
        .map(|m| m.key)
        .collect();
    assert_eq!(keys, ["a/b", "a/c", "a/d/e.m3u8"]);
    let keys: Vec<String> = s
        .list("a")
        .await
        .expect("list")
        .into_iter()
        .map(|m| m.key)
        .collect();
    assert_eq!(keys, ["a/b", "a/c", "a/d/e.m3u8", "ab"]);
    let loc = s.readable_location("a/b").await.expect("location");
    assert!(!loc.is_empty());
    assert_eq!(s.delete_prefix("a/").await.expect("delete"), 3);
    assert!(s.list("a/").await.expect("list").is_empty());
    s.delete("nope").await.expect("absent is fine");
    assert!(matches!(
        s.get("../x").await,
        Err(StoreError::InvalidKey(_))
    ));
}

async fn many_keys(s: &dyn BlobStore, n: usize) {
    let keys: Vec<String> = (0..n).map(|i| format!("many/{i:05}")).collect();
    for chunk in keys.chunks(64) {
        let puts = chunk.iter().map(|k| s.put(k, Bytes::from_static(b"x")));
        for r in futures::future::join_all(puts).await {
            r.expect("put");
        }
    }
    assert_eq!(
        s.list("many/").await.expect("list").len(),
        n,
        "listing pages through every key"
    );
    assert_eq!(s.delete_prefix("many/").await.expect("delete"), n);
    assert!(s.list("many/").await.expect("list").is_empty());
}

#[tokio::test]
async fn filesystem_store() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = FsStore::new(dir.path()).expect("store");
    contract(&s).await;
    many_keys(&s, 1100).await;
}

/// The server and the directory it stores into (removed after the server stops).
struct S3sFs {
    child: Child,
    _root: tempfile::TempDir,
}

impl Drop for S3sFs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts s3s-fs on a free port; returns it and its endpoint.
fn start_s3s() -> (S3sFs, String) {
    let root = tempfile::tempdir().expect("tmp");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let child = Command::new("s3s-fs")
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--access-key",
            "test",
            "--secret-key",
            "testsecret",
        ])
        .arg(root.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("s3s-fs (cargo install s3s-fs@0.14.1 --features binary --locked)");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "s3s-fs did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (
        S3sFs { child, _root: root },
        format!("http://127.0.0.1:{port}"),
    )
}

async fn s3_client(endpoint: &str, secret: &str) -> aws_sdk_s3::Client {
    let creds = aws_sdk_s3::config::Credentials::new("test", secret, None, None, "test");
    let conf = aws_sdk_s3::config::Builder::new()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(creds)
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

#[tokio::test]
async fn s3_store_against_s3s_fs() {
    let (_server, endpoint) = start_s3s();
    let client = s3_client(&endpoint, "testsecret").await;
    client
        .create_bucket()
        .bucket("slicecast")
        .send()
        .await
        .expect("create bucket");
    let s = S3Store::new(client, "slicecast");
    contract(&s).await;
    many_keys(&s, 1100).await;

    // A presigned GET works with a plain HTTP client, with ranges.
    s.put(
        "processed/x/hls/master.m3u8",
        Bytes::from_static(b"#EXTM3U\n#EXT-X-VERSION:7\n"),
    )
    .await
    .expect("put");
    let url = s
        .readable_location("processed/x/hls/master.m3u8")
        .await
        .expect("presign");
    let http = reqwest::Client::new();
    let r = http
        .get(&url)
        .header("Range", "bytes=0-6")
        .send()
        .await
        .expect("get");
    assert_eq!(r.status().as_u16(), 206);
    assert_eq!(r.bytes().await.expect("body"), "#EXTM3U");
    let head = s
        .client()
        .head_object()
        .bucket("slicecast")
        .key("processed/x/hls/master.m3u8")
        .send()
        .await
        .expect("head");
    assert_eq!(head.content_type(), Some("application/vnd.apple.mpegurl"));
    assert_eq!(head.cache_control(), Some("no-cache"));
    // A wrong secret is refused.
    let bad = s3_client(&endpoint, "wrong").await;
    let denied = S3Store::new(bad, "slicecast")
        .get("processed/x/hls/master.m3u8")
        .await;
    assert!(matches!(denied, Err(StoreError::Io { .. })), "{denied:?}");
}

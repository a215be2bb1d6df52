//! One contract, two stores: the filesystem store, and the S3 store against a
//! real S3-compatible server (s3s-fs, started here; install it with
//! `cargo install s3s-fs@0.14.1 --features binary --locked`, as `scripts/install-deps.sh --test` does).

use slicecast_tests::s3s;

use bytes::Bytes;
use slicecast_storage::{BlobStore, FsStore, S3Store, StoreError};

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
/// A file larger than a multipart threshold of 5 MiB comes back byte for byte.
async fn large_file(s: &dyn BlobStore) {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("big.mp4");
    let size = 12 * 1024 * 1024 + 123;
    let data: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
    std::fs::write(&file, &data).expect("write");
    s.put_file("uploads/big.mp4", &file)
        .await
        .expect("put_file");
    assert_eq!(
        s.head("uploads/big.mp4").await.expect("head").size,
        size as u64
    );
    let back = s.get("uploads/big.mp4").await.expect("get");
    assert!(back == data, "the object differs from the file");
    let seam = 5 * 1024 * 1024 - 2;
    assert_eq!(
        s.get_range("uploads/big.mp4", seam as u64, 4)
            .await
            .expect("range"),
        data[seam..seam + 4]
    );
    s.delete("uploads/big.mp4").await.expect("delete");
}

#[tokio::test]
async fn filesystem_store() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = FsStore::new(dir.path()).expect("store");
    contract(&s).await;
    // A local store computes no digest: the coordinator reads the bytes.
    s.put("one.bin", Bytes::from_static(b"x"))
        .await
        .expect("put");
    assert_eq!(s.head("one.bin").await.expect("head").content_digest, None);
    many_keys(&s, 1100).await;
    large_file(&s).await;
}

#[tokio::test]
async fn s3_store_against_s3s_fs() {
    let (server, client) = s3s::with_bucket("slicecast").await;
    let s = S3Store::new(client, "slicecast");
    contract(&s).await;
    many_keys(&s, 1100).await;
    // Past the threshold put_file sends parts (three of 5, 5 and 2 MiB here).
    let multipart = s.clone().with_multipart(5 * 1024 * 1024, 5 * 1024 * 1024);
    large_file(&multipart).await;

    // The content digest S3 computed: the MD5 of a single PUT's bytes, and
    // for parts the MD5 of their MD5s (checked here independently).
    use md5::{Digest, Md5};
    s.put("uploads/one.bin", Bytes::from_static(b"hello"))
        .await
        .expect("put");
    let one = s.head("uploads/one.bin").await.expect("head");
    assert_eq!(one.content_digest, Some(Md5::digest(b"hello").into()));
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("parts.bin");
    let data: Vec<u8> = (0..11 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&file, &data).expect("write");
    multipart
        .put_file("uploads/parts.bin", &file)
        .await
        .expect("put_file");
    let mut parts = Md5::new();
    for chunk in data.chunks(5 * 1024 * 1024) {
        parts.update(Md5::digest(chunk));
    }
    let got = s.head("uploads/parts.bin").await.expect("head");
    assert_eq!(got.content_digest, Some(parts.finalize().into()));

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
    let bad = s3s::client(&server.endpoint, "wrong");
    let denied = S3Store::new(bad, "slicecast")
        .get("processed/x/hls/master.m3u8")
        .await;
    assert!(matches!(denied, Err(StoreError::Io { .. })), "{denied:?}");
}

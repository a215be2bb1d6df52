//! The API over a real port, without transcoding (a recording processor):
//! bad input, auth, traversal, names, resuming, CORS, OpenAPI, the web page.

mod common;

use common::*;
use serde_json::{Value, json};
use slicecast_api::{ApiConfig, PartSigner};
use slicecast_storage::BlobStore;

fn small() -> ApiConfig {
    ApiConfig {
        part_size: 10,
        max_upload_bytes: 1000,
        ..ApiConfig::default()
    }
}

/// An error answer: JSON `{error, message}` with that status.
fn assert_error(what: &str, got: (u16, Value), status: u16) {
    let (code, body) = got;
    assert_eq!(code, status, "{what}: {body}");
    assert!(body["error"].is_string(), "{what}: no error code in {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: no message in {body}"
    );
}

#[tokio::test]
async fn bad_input_answers_json_errors() -> anyhow::Result<()> {
    let s = recording_server(small()).await?;
    let create = "/create_multipart_upload";

    // Bad JSON, wrong content type, missing fields.
    let resp = s
        .http
        .post(s.url(create))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await?;
    assert_error(
        "bad json",
        (resp.status().as_u16(), resp.json().await?),
        400,
    );
    let resp = s.http.post(s.url(create)).body("{}").send().await?;
    assert_error(
        "no content type",
        (resp.status().as_u16(), resp.json().await?),
        415,
    );
    assert_error(
        "no size",
        s.post(create, &json!({"fileName": "a.mp4"}), None).await?,
        400,
    );
    assert_error(
        "no name",
        s.post(create, &json!({"fileSize": 5}), None).await?,
        400,
    );
    assert_error("array", s.post(create, &json!([1, 2]), None).await?, 400);

    // Sizes: negative, fractional, zero, absurd, not a number.
    for size in [
        json!(-1),
        json!(1.5),
        json!(0),
        json!(1001),
        json!(1e300),
        json!("12"),
    ] {
        assert_error(
            &format!("size {size}"),
            s.post(
                create,
                &json!({"fileName": "a.mp4", "fileSize": size}),
                None,
            )
            .await?,
            400,
        );
    }
    // Names that cannot be one path component.
    for name in ["", "a/b.mp4", "..", "a\\b.mp4", "a\u{0}b"] {
        assert_error(
            &format!("name {name:?}"),
            s.post(create, &json!({"fileName": name, "fileSize": 5}), None)
                .await?,
            400,
        );
    }

    // Unknown or malformed upload ids.
    let unknown = "0123456789abcdef0123456789abcdef";
    let h = "\"0123456789abcdef0123456789abcdef\"";
    let complete = |id: &str| json!({"fileName": "a.mp4", "uploadId": id, "parts": [{"PartNumber": 1, "ETag": h}]});
    assert_error(
        "complete unknown",
        s.post("/complete_multipart_upload", &complete(unknown), None)
            .await?,
        404,
    );
    assert_error(
        "complete malformed",
        s.post("/complete_multipart_upload", &complete("../x"), None)
            .await?,
        400,
    );
    assert_error(
        "abort unknown",
        s.post(
            "/abort_multipart_upload",
            &json!({"uploadId": unknown}),
            None,
        )
        .await?,
        404,
    );
    assert_error(
        "abort malformed",
        s.post(
            "/abort_multipart_upload",
            &json!({"uploadId": "nope"}),
            None,
        )
        .await?,
        400,
    );
    assert_error(
        "abort missing",
        s.post("/abort_multipart_upload", &json!({}), None).await?,
        400,
    );
    assert_error(
        "resume unknown",
        s.get_json(&format!("/multipart_upload/{unknown}")).await?,
        404,
    );
    assert_error(
        "resume malformed",
        s.get_json("/multipart_upload/zzz").await?,
        400,
    );

    // A real upload of 25 bytes in 3 parts, then every way to get it wrong.
    let data: Vec<u8> = (0..25u8).collect();
    let (id, part_size, urls) = s.create("a.mp4", data.len(), None).await?;
    assert_eq!((part_size, urls.len()), (10, 3));
    let e1 = s.put_part(&urls[0], data[..10].to_vec()).await?;
    let e2 = s.put_part(&urls[1], data[10..20].to_vec()).await?;
    let e3 = s.put_part(&urls[2], data[20..].to_vec()).await?;
    assert_eq!(e1, format!("\"{}\"", md5_hex(&data[..10])));

    let parts = |e3: &str| json!([{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}, {"PartNumber": 3, "ETag": e3}]);
    let body = |name: &str, parts: Value| json!({"fileName": name, "uploadId": id, "parts": parts});
    let c = "/complete_multipart_upload";
    assert_error(
        "wrong etag",
        s.post(c, &body("a.mp4", parts(&e1)), None).await?,
        400,
    );
    assert_error(
        "bad etag",
        s.post(c, &body("a.mp4", parts("xyz")), None).await?,
        400,
    );
    assert_error(
        "no parts",
        s.post(c, &body("a.mp4", json!([])), None).await?,
        400,
    );
    assert_error(
        "missing part",
        s.post(
            c,
            &body(
                "a.mp4",
                json!([{"PartNumber": 1, "ETag": e1}, {"PartNumber": 4, "ETag": e2}]),
            ),
            None,
        )
        .await?,
        400,
    );
    assert_error(
        "unordered",
        s.post(
            c,
            &body(
                "a.mp4",
                json!([{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]),
            ),
            None,
        )
        .await?,
        400,
    );
    assert_error(
        "negative part",
        s.post(
            c,
            &body("a.mp4", json!([{"PartNumber": -1, "ETag": e1}])),
            None,
        )
        .await?,
        400,
    );
    assert_error(
        "other name",
        s.post(c, &body("b.mp4", parts(&e3)), None).await?,
        400,
    );
    assert_error(
        "parts missing",
        s.post(c, &json!({"fileName": "a.mp4", "uploadId": id}), None)
            .await?,
        400,
    );

    // Part URLs: bad, missing and expired signatures; bad numbers; too large.
    let path = format!("/uploads/parts/{id}/1");
    let put = |url: String, data: Vec<u8>| {
        let req = s.http.put(s.url(&url)).body(data);
        async move {
            let r = req.send().await?;
            Ok::<_, anyhow::Error>((
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            ))
        }
    };
    let tampered = urls[0].replace("signature=", "signature=00");
    assert_error("tampered", put(tampered, vec![1]).await?, 403);
    assert_error("unsigned", put(path.clone(), vec![1]).await?, 403);
    let other_part = urls[0].replace(&format!("{id}/1?"), &format!("{id}/2?"));
    assert_error(
        "signature of another part",
        put(other_part, vec![1]).await?,
        403,
    );
    let signer = PartSigner::with_key(KEY);
    let past = 1_000_000;
    let expired = format!(
        "{path}?expires={past}&signature={}",
        signer.sign(&id, 1, past)
    );
    assert_error("expired", put(expired, vec![1]).await?, 403);
    let wrong_key = PartSigner::with_key([1; 32]);
    let future = 4_000_000_000;
    let forged = format!(
        "{path}?expires={future}&signature={}",
        wrong_key.sign(&id, 1, future)
    );
    assert_error("forged", put(forged, vec![1]).await?, 403);
    let beyond = format!(
        "/uploads/parts/{id}/9?expires={future}&signature={}",
        signer.sign(&id, 9, future)
    );
    assert_error("part beyond the plan", put(beyond, vec![1]).await?, 400);
    assert_error(
        "part 0",
        put(
            format!("/uploads/parts/{id}/0?expires=1&signature=00"),
            vec![1],
        )
        .await?,
        400,
    );
    assert_error(
        "part x",
        put(
            format!("/uploads/parts/{id}/x?expires=1&signature=00"),
            vec![1],
        )
        .await?,
        400,
    );
    assert_error("too large", put(urls[0].clone(), vec![0; 11]).await?, 413);
    let unknown_part = format!(
        "/uploads/parts/{unknown}/1?expires={future}&signature={}",
        signer.sign(unknown, 1, future)
    );
    assert_error("unknown upload", put(unknown_part, vec![1]).await?, 404);

    // The correct completion still works after all that.
    let (code, done) = s.post(c, &body("a.mp4", parts(&e3)), None).await?;
    assert_eq!(code, 200, "{done}");
    assert_eq!(done["status"], "processing");
    assert_eq!(done["video_id"], md5_hex(&data));
    assert_eq!(
        s.store.get(&format!("uploads/{id}/a.mp4")).await?.as_ref(),
        data.as_slice()
    );
    assert!(s.store.list(&format!("multipart/{id}/")).await?.is_empty());
    assert!(s.store.list("processed/").await?.is_empty());
    // Completed: the upload id is gone.
    assert_error(
        "complete twice",
        s.post(c, &body("a.mp4", parts(&e3)), None).await?,
        404,
    );
    let started = s
        .recorder
        .as_ref()
        .map(|r| r.started.lock().map(|v| v.len()).unwrap_or(0));
    assert_eq!(started, Some(1));

    // Unknown routes and methods, unknown videos.
    assert_error("no route", s.get_json("/nope").await?, 404);
    let r = s.http.delete(s.url("/api/videos")).send().await?;
    assert_error("method", (r.status().as_u16(), r.json().await?), 405);
    let r = s
        .http
        .delete(s.url(&format!("/api/video/{unknown}")))
        .send()
        .await?;
    assert_error(
        "delete unknown",
        (r.status().as_u16(), r.json().await?),
        404,
    );
    let r = s.http.delete(s.url("/api/video/not-an-id")).send().await?;
    assert_error(
        "delete malformed",
        (r.status().as_u16(), r.json().await?),
        404,
    );
    let (code, body) = s.get_json(&format!("/status/{unknown}")).await?;
    assert_eq!((code, body["status"].as_str()), (404, Some("not_found")));
    let (code, body) = s.get_json("/status/no%20such%20file.mp4").await?;
    assert_eq!((code, body["status"].as_str()), (404, Some("not_found")));
    Ok(())
}

#[tokio::test]
async fn api_key_guards_mutating_routes_only() -> anyhow::Result<()> {
    let s = recording_server(ApiConfig {
        api_key: Some("s3cret".into()),
        ..small()
    })
    .await?;
    let body = json!({"fileName": "a.mp4", "fileSize": 5});
    let resp = s
        .http
        .post(s.url("/create_multipart_upload"))
        .json(&body)
        .send()
        .await?;
    assert_eq!(
        resp.headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    assert_error("no key", (resp.status().as_u16(), resp.json().await?), 401);
    assert_error(
        "wrong key",
        s.post("/create_multipart_upload", &body, Some("nope"))
            .await?,
        401,
    );
    let unknown = json!({"uploadId": "0123456789abcdef0123456789abcdef"});
    assert_error(
        "abort",
        s.post("/abort_multipart_upload", &unknown, None).await?,
        401,
    );
    assert_error(
        "complete",
        s.post("/complete_multipart_upload", &json!({}), None)
            .await?,
        401,
    );
    let r = s
        .http
        .delete(s.url("/api/video/0123456789abcdef0123456789abcdef"))
        .send()
        .await?;
    assert_error("delete", (r.status().as_u16(), r.json().await?), 401);

    // With the key everything works; part PUTs carry their own signature.
    let data = b"hello world, 25 bytes!!!!".to_vec();
    let done = s.upload("a.mp4", &data, Some("s3cret")).await?;
    assert_eq!(done["status"], "processing");
    // Reads stay open.
    assert_eq!(s.get_json("/api/videos").await?.0, 200);
    assert_eq!(s.get_json("/api/transcoding_status").await?.0, 200);
    assert_eq!(
        s.get_json(&format!("/status/{}", md5_hex(&data))).await?.0,
        202
    );

    // Without API_KEY no token is needed.
    let open = recording_server(small()).await?;
    assert_eq!(
        open.upload("a.mp4", &data, None).await?["status"],
        "processing"
    );
    Ok(())
}

#[tokio::test]
async fn stream_refuses_traversal() -> anyhow::Result<()> {
    let s = recording_server(small()).await?;
    let id = "0123456789abcdef0123456789abcdef";
    // A secret beside the store root, an upload and a private work file inside it.
    std::fs::write(s.dir.path().join("secret.txt"), "TOPSECRET")?;
    s.store
        .put("uploads/u/secret.mp4", "TOPSECRET".into())
        .await?;
    s.store
        .put(
            &format!("processed/{id}/work/heartbeat"),
            "TOPSECRET".into(),
        )
        .await?;
    s.store
        .put(
            &format!("processed/{id}/hls/master.m3u8"),
            "#EXTM3U\n".into(),
        )
        .await?;
    let (code, text) = s
        .raw_get(&format!("/stream/processed/{id}/hls/master.m3u8"))
        .await?;
    assert_eq!(code, 200, "{text}");
    for path in [
        "/stream/../Cargo.toml".to_owned(),
        "/stream/../secret.txt".to_owned(),
        "/stream/../../secret.txt".to_owned(),
        "/stream/processed/..%2f..%2fetc/passwd".to_owned(),
        "/stream/processed/..%2f..%2fsecret.txt".to_owned(),
        format!("/stream/processed/{id}/..%2F..%2F..%2Fsecret.txt"),
        "/stream/%2e%2e/secret.txt".to_owned(),
        "/stream/%2E%2E/%2e%2e/secret.txt".to_owned(),
        format!("/stream/processed/{id}/%2e%2e/%2e%2e/%2e%2e/secret.txt"),
        "/stream//etc/passwd".to_owned(),
        "/stream/%2fetc/passwd".to_owned(),
        format!("/stream/{}/secret.txt", s.dir.path().display()),
        format!("/stream/processed/{id}/..%5c..%5c..%5csecret.txt"),
        format!("/stream/processed/{id}/hls/master.m3u8%00.jpg"),
        "/stream/uploads/u/secret.mp4".to_owned(),
        format!("/stream/processed/{id}/work/heartbeat"),
        "/stream/names/x.json".to_owned(),
        "/stream/".to_owned(),
        "/stream".to_owned(),
    ] {
        let (code, text) = s.raw_get(&path).await?;
        assert!(code == 400 || code == 404, "{path}: HTTP {code}");
        assert!(
            !text.contains("TOPSECRET") && !text.contains("[workspace]"),
            "{path} leaked: {text}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn odd_names_and_the_same_name_twice() -> anyhow::Result<()> {
    let s = recording_server(small()).await?;
    let names = [
        "héllo wörld 🎬.mp4",
        "a+b c.mp4",
        "100%.mp4",
        "50%20off.mp4",
        "it's \"quoted\".mov",
        "#hash?query&x=1.mp4",
    ];
    for (i, name) in names.iter().enumerate() {
        let data = format!("bytes of upload {i} named {name}").into_bytes();
        let done = s.upload(name, &data, None).await?;
        assert_eq!(done["video_id"], md5_hex(&data), "{name}");
        assert_eq!(done["fileName"], *name);
        let listed = s.store.list("uploads/").await?;
        assert!(
            listed.iter().any(|o| o.key.ends_with(&format!("/{name}"))),
            "{name} not stored as itself: {listed:?}"
        );
        let (code, body) = s.get_json(&format!("/status/{}", encode(name))).await?;
        assert_eq!(code, 202, "{name}: {body}");
        assert_eq!(body["status"], "uploaded");
        assert_eq!(body["video_id"], md5_hex(&data), "{name}");
    }

    // The same name twice with different bytes: both survive, the name means the newest.
    let name = "clip.mp4";
    let first = s.upload(name, b"first version of the clip", None).await?;
    let second = s.upload(name, b"second version, other bytes", None).await?;
    assert_ne!(first["video_id"], second["video_id"]);
    let copies: Vec<String> = s
        .store
        .list("uploads/")
        .await?
        .into_iter()
        .map(|o| o.key)
        .filter(|k| k.ends_with("/clip.mp4"))
        .collect();
    assert_eq!(copies.len(), 2, "{copies:?}");
    let (_, body) = s.get_json("/status/clip.mp4").await?;
    assert_eq!(body["video_id"], second["video_id"]);
    let (code, body) = s
        .get_json(&format!(
            "/status/{}",
            first["video_id"].as_str().unwrap_or_default()
        ))
        .await?;
    assert_eq!((code, &body["video_id"]), (202, &first["video_id"]));

    // Both appear as waiting in the transcoding list.
    let (_, list) = s.get_json("/api/transcoding_status").await?;
    let ids: Vec<&str> = list
        .as_array()
        .map(|a| a.iter().filter_map(|v| v["video_id"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        ids.contains(&first["video_id"].as_str().unwrap_or_default()),
        "{list}"
    );
    assert_eq!(list[0]["status"], "uploaded");
    Ok(())
}

#[tokio::test]
async fn resume_info_and_abort() -> anyhow::Result<()> {
    let s = recording_server(small()).await?;
    let data: Vec<u8> = (100..125u8).collect();
    let (id, _, urls) = s.create("resume me.mp4", data.len(), None).await?;
    let e1 = s.put_part(&urls[0], data[..10].to_vec()).await?;
    let e3 = s.put_part(&urls[2], data[20..].to_vec()).await?;
    let (code, info) = s.get_json(&format!("/multipart_upload/{id}")).await?;
    assert_eq!(code, 200, "{info}");
    assert_eq!(info["uploadId"], id);
    assert_eq!(info["fileName"], "resume me.mp4");
    assert_eq!(info["partSize"], 10);
    assert_eq!(info["fileSize"], 25);
    assert_eq!(
        info["parts"],
        json!([{"PartNumber": 1, "ETag": e1, "Size": 10}, {"PartNumber": 3, "ETag": e3, "Size": 5}])
    );
    // Fresh URLs work for the missing part; a re-sent part replaces the old one.
    let fresh: Vec<String> = serde_json::from_value(info["urls"].clone())?;
    assert_eq!(fresh.len(), 3);
    let e2 = s.put_part(&fresh[1], data[10..20].to_vec()).await?;
    let e1b = s.put_part(&fresh[0], vec![9; 10]).await?;
    assert_ne!(e1, e1b);
    let (_, info) = s.get_json(&format!("/multipart_upload/{id}")).await?;
    assert_eq!(info["parts"][0]["ETag"], e1b);
    assert_eq!(info["parts"][1]["ETag"], e2);
    assert_eq!(info["parts"].as_array().map(Vec::len), Some(3));
    // Abort removes everything.
    let (code, body) = s
        .post("/abort_multipart_upload", &json!({"uploadId": id}), None)
        .await?;
    assert_eq!((code, &body["status"]), (200, &json!("aborted")));
    assert_eq!(s.get_json(&format!("/multipart_upload/{id}")).await?.0, 404);
    assert!(s.store.list("multipart/").await?.is_empty());
    assert!(s.put_part(&fresh[1], vec![1]).await.is_err());
    Ok(())
}

#[tokio::test]
async fn cors_openapi_health_and_web_page() -> anyhow::Result<()> {
    let web = tempfile::tempdir()?;
    std::fs::write(web.path().join("index.html"), "<html>the page</html>")?;
    std::fs::write(web.path().join("embed.html"), "<html>the embed</html>")?;
    std::fs::create_dir_all(web.path().join("node_modules/hls.js/dist"))?;
    std::fs::write(
        web.path().join("node_modules/hls.js/dist/hls.min.js"),
        "var Hls;",
    )?;
    std::fs::create_dir_all(web.path().join("js"))?;
    std::fs::write(web.path().join("js/main.js"), "console.log(1)")?;
    let s = recording_server(ApiConfig {
        cors_origins: vec!["http://page.test".into()],
        web_dir: Some(web.path().to_owned()),
        ..small()
    })
    .await?;

    // OpenAPI lists every route.
    let (code, doc) = s.get_json("/api/openapi.json").await?;
    assert_eq!(code, 200);
    for path in [
        "/create_multipart_upload",
        "/complete_multipart_upload",
        "/abort_multipart_upload",
        "/multipart_upload/{upload_id}",
        "/uploads/parts/{upload_id}/{part_number}",
        "/status/{video_id}",
        "/api/videos",
        "/api/transcoding_status",
        "/api/video/{video_id}",
        "/stream/{key}",
        "/api/openapi.json",
        "/healthz",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI paths"
        );
    }
    assert_eq!(
        s.get_json("/healthz").await?,
        (200, json!({"status": "ok"}))
    );

    // The page and its files, node_modules included.
    let r = s.http.get(s.url("/")).send().await?;
    assert!(
        r.headers()["content-type"]
            .to_str()?
            .starts_with("text/html")
    );
    assert_eq!(r.text().await?, "<html>the page</html>");
    let r = s
        .http
        .get(s.url("/web/node_modules/hls.js/dist/hls.min.js"))
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await?, "var Hls;");
    assert_eq!(
        s.http.get(s.url("/web/js/main.js")).send().await?.status(),
        200
    );
    assert_eq!(
        s.http.get(s.url("/web/missing.js")).send().await?.status(),
        404
    );
    let (code, _) = s.raw_get("/web/../Cargo.toml").await?;
    assert!(code == 400 || code == 404);
    // The embed player, for well-formed video ids only (the page says
    // whether the video is there).
    let r = s
        .http
        .get(s.url("/embed/0123456789abcdef0123456789abcdef"))
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await?, "<html>the embed</html>");
    for bad in ["/embed/x", "/embed/..%2FCargo.toml", "/embed/"] {
        let (code, _) = s.raw_get(bad).await?;
        assert_eq!(code, 404, "{bad}");
    }

    // CORS: preflight and exposed ETag on part uploads.
    let r = s
        .http
        .request(reqwest::Method::OPTIONS, s.url("/create_multipart_upload"))
        .header("origin", "http://page.test")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,authorization",
        )
        .send()
        .await?;
    assert!(r.status().is_success());
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "http://page.test"
    );
    let (_, _, urls) = s.create("a.mp4", 5, None).await?;
    let r = s
        .http
        .put(s.url(&urls[0]))
        .header("origin", "http://page.test")
        .body(vec![1, 2, 3])
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    let exposed = r.headers()["access-control-expose-headers"]
        .to_str()?
        .to_ascii_lowercase();
    assert!(exposed.contains("etag"), "{exposed}");
    let r = s
        .http
        .get(s.url("/api/videos"))
        .header("origin", "http://evil.test")
        .send()
        .await?;
    assert!(r.headers().get("access-control-allow-origin").is_none());

    // Without a web folder `/` is a placeholder page.
    let bare = recording_server(small()).await?;
    let r = bare.http.get(bare.url("/")).send().await?;
    assert_eq!(r.status(), 200);
    assert!(r.text().await?.contains("slicecast"));
    let r = bare
        .http
        .get(bare.url("/embed/0123456789abcdef0123456789abcdef"))
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    assert!(r.text().await?.contains("embed player is not installed"));
    Ok(())
}

#[tokio::test]
async fn an_upload_no_remote_coordinator_picks_up_ends_failed() -> anyhow::Result<()> {
    let s = recording_server(ApiConfig {
        remote_start_grace: std::time::Duration::ZERO,
        ..ApiConfig::default()
    })
    .await?;
    let data = b"an upload whose S3 event was lost".to_vec();
    let done = s.upload("lost.mp4", &data, None).await?;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (code, body) = s
        .get_json(&format!(
            "/status/{}",
            done["video_id"].as_str().unwrap_or("")
        ))
        .await?;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "processing_failed", "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or("")
            .contains("processing never started"),
        "{body}"
    );
    Ok(())
}

/// Signed playback over a real port: no token, a forged, an expired and
/// another video's token are 403; the tokens /status, /api/videos and the
/// playback route hand out open the master and, through the relative URI a
/// player resolves, its variant playlist and segment.
#[tokio::test]
async fn signed_playback_needs_a_token_for_that_video() -> anyhow::Result<()> {
    use slicecast_api::playback::{PlaybackSigner, now_s};
    use std::time::Duration;
    let ttl = Duration::from_secs(600);
    let signer = PlaybackSigner::with_key([9; 32], ttl);
    let s = recording_server(ApiConfig {
        api_key: Some("s3cret".into()),
        playback: Some(signer.clone()),
        ..small()
    })
    .await?;
    let (a, b) = ("a".repeat(32), "b".repeat(32));
    for id in [&a, &b] {
        let vid = slicecast_core::VideoId::parse(id)?;
        let mut m = slicecast_core::manifest::Manifest::new(vid, "uploads/x/a.mp4".into(), 1, 10)
            .completed(20);
        m.playable = true;
        m.assets.hls_master = Some(format!("processed/{id}/hls/master.m3u8"));
        m.assets.dash_mpd = Some(format!("processed/{id}/dash/manifest.mpd"));
        s.store
            .put(
                &format!("processed/{id}/manifest.json"),
                serde_json::to_vec(&m)?.into(),
            )
            .await?;
        for (key, body) in [
            (
                "hls/master.m3u8",
                "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv/playlist.m3u8\n",
            ),
            (
                "hls/v/playlist.m3u8",
                "#EXTM3U\n#EXTINF:1,\nseg_0.m4s\n#EXT-X-ENDLIST\n",
            ),
            ("hls/v/seg_0.m4s", "SEGMENT"),
        ] {
            s.store
                .put(&format!("processed/{id}/{key}"), body.into())
                .await?;
        }
    }
    let get = |path: String| {
        let http = s.http.clone();
        let url = s.url(&path);
        async move {
            let r = http.get(url).send().await?;
            let code = r.status().as_u16();
            anyhow::Ok((code, r.text().await?))
        }
    };
    let master = format!("processed/{a}/hls/master.m3u8");
    // No token.
    let (code, body) = get(format!("/stream/{master}")).await?;
    assert_eq!(code, 403, "{body}");
    assert!(body.contains("signed link"), "{body}");
    // Another video's token, a forged one, an expired one.
    let tb = signer.issue(&slicecast_core::VideoId::parse(&b)?, now_s());
    let (code, _) = get(format!("/stream/t/{}/{master}", tb.token)).await?;
    assert_eq!(code, 403, "b's token opens a's master");
    let ta = signer.issue(&slicecast_core::VideoId::parse(&a)?, now_s());
    let (exp, mac) = ta.token.split_once('.').expect("token shape");
    let forged = format!("{}.{mac}", exp.parse::<u64>()? + 3600);
    let (code, _) = get(format!("/stream/t/{forged}/{master}")).await?;
    assert_eq!(code, 403, "a forged expiry");
    let old = signer.issue(
        &slicecast_core::VideoId::parse(&a)?,
        now_s() - 2 * ttl.as_secs(),
    );
    let (code, body) = get(format!("/stream/t/{}/{master}", old.token)).await?;
    assert_eq!(code, 403, "an expired token: {body}");
    assert!(body.contains("expired"), "{body}");

    // /status: a grant only with the key.
    let (code, st) = s.get_json(&format!("/status/{a}")).await?;
    assert_eq!(code, 200);
    assert!(
        st.get("playback").is_none(),
        "a grant without the key: {st}"
    );
    let with_key = |path: &str| s.http.get(s.url(path)).bearer_auth("s3cret").send();
    let st: Value = with_key(&format!("/status/{a}")).await?.json().await?;
    let base = st["playback"]["stream_base"]
        .as_str()
        .expect("stream_base")
        .to_owned();
    assert!(base.starts_with("/stream/t/"), "{base}");
    assert!(st["playback"]["expires_at"].is_string(), "{st}");
    let (code, text) = get(format!("{base}{master}")).await?;
    assert_eq!(
        (code, text.contains("v/playlist.m3u8")),
        (200, true),
        "{text}"
    );
    // The relative URIs inside keep the token.
    let variant = format!("{base}processed/{a}/hls/v/playlist.m3u8");
    assert_eq!(get(variant).await?.0, 200);
    let (code, seg) = get(format!("{base}processed/{a}/hls/v/seg_0.m4s")).await?;
    assert_eq!((code, seg.as_str()), (200, "SEGMENT"));
    // a's token does not open b.
    let (code, _) = get(format!("{base}processed/{b}/hls/master.m3u8")).await?;
    assert_eq!(code, 403);

    // /api/videos: signed URLs with the key, plain (refused) ones without.
    let list: Value = with_key("/api/videos").await?.json().await?;
    let hls = list[0]["hls_url"].as_str().expect("hls_url");
    assert!(hls.starts_with("/stream/t/"), "{hls}");
    assert_eq!(get(hls.to_owned()).await?.0, 200, "{hls}");
    let (_, open) = s.get_json("/api/videos").await?;
    let hls = open[0]["hls_url"].as_str().expect("hls_url");
    assert_eq!(get(hls.to_owned()).await?.0, 403, "{hls}");

    // The playback route: needs the key; 404 for an unknown video.
    let route = format!("/api/video/{b}/playback");
    assert_error("no key", s.post(&route, &json!({}), None).await?, 401);
    let (code, grant) = s.post(&route, &json!({}), Some("s3cret")).await?;
    assert_eq!(code, 200, "{grant}");
    let dash = grant["dash_url"].as_str().expect("dash_url");
    assert!(dash.contains(&format!("/processed/{b}/dash/")), "{dash}");
    let (code, _) = get(grant["hls_url"].as_str().expect("hls").to_owned()).await?;
    assert_eq!(code, 200);
    let unknown = format!("/api/video/{}/playback", "c".repeat(32));
    assert_error(
        "unknown",
        s.post(&unknown, &json!({}), Some("s3cret")).await?,
        404,
    );
    Ok(())
}

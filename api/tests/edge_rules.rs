//! The rules at the edge of the API, through a real server: the resume route
//! needs the key, file names must be visible, `/web/` serves only the page's
//! assets, and the sweep removes what nobody will come back for.

mod common;

use anyhow::Context;
use common::{md5_hex, multipart_dir, recording_server_with, small};
use serde_json::{Value, json};
use slicecast_api::{ApiConfig, ServeOptions, WEB_ASSETS};
use slicecast_core::VideoId;
use slicecast_core::manifest::Manifest;
use slicecast_storage::BlobStore;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[tokio::test]
async fn resume_route_needs_the_key_and_names_must_be_visible() -> anyhow::Result<()> {
    let s = recording_server_with(
        ApiConfig {
            api_key: Some("s3cret".into()),
            ..small()
        },
        ServeOptions::default(),
    )
    .await?;
    let (id, _, _) = s.create("a.mp4", 5, Some("s3cret")).await?;
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
    let s = recording_server_with(
        ApiConfig {
            web_dir: Some(web.path().to_owned()),
            ..small()
        },
        ServeOptions::default(),
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
    // Every /web/ file the real page loads is on the list: the paths named in
    // index.html and in the page's ES modules, each module, and what it imports.
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
    let mut pages = vec!["index.html".to_owned()];
    pages.extend(modules_under(&web, "js")?);
    assert!(pages.contains(&"js/main.js".to_owned()), "{pages:?}");
    for page in &pages {
        let text = std::fs::read_to_string(web.join(page))?;
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
                "web/{page} loads /web/{asset}, which is not served"
            );
        }
        if page.ends_with(".js") {
            assert!(
                WEB_ASSETS.contains(&page.as_str()),
                "web/{page} is a module of the page, which is not served"
            );
            for spec in relative_imports(&text) {
                let asset = resolve_import(page, spec);
                assert!(
                    WEB_ASSETS.contains(&asset.as_str()),
                    "web/{page} imports {spec} (/web/{asset}), which is not served"
                );
            }
        }
    }
    Ok(())
}

/// The `.js` files under `dir/sub`, as paths relative to `dir`, sorted.
fn modules_under(dir: &Path, sub: &str) -> anyhow::Result<Vec<String>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir.join(sub))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = format!("{sub}/{name}");
        if entry.file_type()?.is_dir() {
            found.extend(modules_under(dir, &rel)?);
        } else if name.ends_with(".js") {
            found.push(rel);
        }
    }
    found.sort();
    Ok(found)
}

/// The relative specifiers (`./x.js`, `../y.js`) a module imports, statically
/// (`from '...'`) or dynamically (`import('...')`).
fn relative_imports(text: &str) -> Vec<&str> {
    let mut specs = Vec::new();
    for marker in ["from '", "from \"", "import('", "import(\""] {
        for (i, _) in text.match_indices(marker) {
            let rest = &text[i + marker.len()..];
            let end = rest.find(['\'', '"']).unwrap_or(rest.len());
            let spec = &rest[..end];
            if spec.starts_with("./") || spec.starts_with("../") {
                specs.push(spec);
            }
        }
    }
    specs
}

/// The path (relative to the web folder) that `spec`, imported by the module at
/// `from`, names.
fn resolve_import(from: &str, spec: &str) -> String {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for seg in spec.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            seg => parts.push(seg),
        }
    }
    parts.join("/")
}

#[tokio::test]
async fn the_sweep_removes_stale_uploads_and_failed_videos_uploads() -> anyhow::Result<()> {
    let s = recording_server_with(small(), ServeOptions::default()).await?;
    let store: &dyn BlobStore = &s.store;

    // Two multipart uploads in progress; one's URLs expired long ago.
    let (stale, _, _) = s.create("stale.mp4", 15, None).await?;
    let (live, _, live_urls) = s.create("live.mp4", 5, None).await?;
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
    let failed = s
        .upload("failed.mp4", b"bytes of the failed video", None)
        .await?;
    let kept = s
        .upload("kept.mp4", b"bytes of a video still waiting", None)
        .await?;
    let retried_bytes = b"bytes of a video that failed, then was sent again";
    let first_try = s.upload("retry.mp4", retried_bytes, None).await?;
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
    // A video whose coordinator stopped (interrupted): it may be resumed.
    let resumable = s
        .upload("resumable.mp4", b"bytes of an interrupted video", None)
        .await?;
    let resumable_id = id_of(&resumable)?;
    let resumable_key = upload_keys(&resumable_id).await?.remove(0);
    let mut m: Value = serde_json::from_slice(&fail(&resumable_id, resumable_key.clone())?)?;
    m["interrupted"] = json!(true);
    store
        .put(
            &format!("processed/{resumable_id}/manifest.json"),
            serde_json::to_vec(&m)?.into(),
        )
        .await?;
    tokio::time::sleep(Duration::from_millis(5)).await;
    s.upload("retry again.mp4", retried_bytes, None).await?;
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
    assert!(!multipart_dir(&s, &stale).exists());
    assert!(!multipart_dir(&s, orphan).exists());
    assert!(multipart_dir(&s, &live).join("upload.json").exists());
    let mut gone = report.failed_uploads.clone();
    gone.sort();
    let mut expected = vec![failed_key.clone(), first_key.clone()];
    expected.sort();
    assert_eq!(gone, expected);
    assert!(store.head(&failed_key).await.is_err());
    assert!(store.head(&first_key).await.is_err());
    assert!(store.head(&kept_key).await.is_ok());
    assert!(
        store.head(&resumable_key).await.is_ok(),
        "an interrupted video's upload is kept"
    );
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
    let (young, _, _) = s.create("young.mp4", 5, None).await?;
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

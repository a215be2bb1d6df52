//! slicecast on Lambda, end to end, against the real stand-ins: s3s-fs for S3
//! and `cargo lambda watch` for the Lambda Invoke and Runtime APIs. The four
//! function binaries run as real Lambda runtime clients (lambda_runtime /
//! lambda_http polling the emulator's Runtime API); the test and the
//! coordinator reach them through aws-sdk-lambda `Invoke`.
//!
//! Needs `s3s-fs` on PATH and cargo-lambda at `target/tools-venv/bin/cargo-lambda`
//! (or `SLICECAST_CARGO_LAMBDA`); `scripts/install-deps.sh --test` installs both.

mod emulator;
use slicecast_tests::s3s;
mod support;

use md5::{Digest, Md5};
use slicecast_lambda::handlers::CoordinatorReply;
use slicecast_tests::hostile::{self, Tripwire};
use slicecast_tests::{check_output, clip};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use emulator::{Lambda, artifacts, invoke, root};
use support::BUCKET;
use support::bucket::{download, upload, watch_early_publish, watch_progress};
const SINTEL: &str = "sintel_trailer_1280x720_52s_h264_aac_dialogue.mp4";
const GRADIO: &str = "gradio_outro_1920x1080_7s_h264_aac.mp4";

fn md5_hex(path: &Path) -> String {
    hex::encode(Md5::digest(std::fs::read(path).expect("read clip")))
}

/// `event` with `Authorization: Bearer <key>`.
fn with_key(mut event: serde_json::Value, key: &str) -> serde_json::Value {
    event["headers"]["authorization"] = format!("Bearer {key}").into();
    event
}

/// A Lambda Function URL request (payload format 2.0).
fn url_event(method: &str, path: &str, body: Option<&serde_json::Value>) -> serde_json::Value {
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "host": "abcdefgh.lambda-url.us-east-1.on.aws",
            "content-type": "application/json",
            "user-agent": "slicecast-test"
        },
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefgh",
            "domainName": "abcdefgh.lambda-url.us-east-1.on.aws",
            "domainPrefix": "abcdefgh",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "slicecast-test"
            },
            "requestId": "req-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "29/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1_795_953_600_000_u64
        },
        "body": body.map(|b| b.to_string()),
        "isBase64Encoded": false
    })
}

fn play(video_dir: &Path, seams: &[f64]) {
    let seams: Vec<String> = seams.iter().map(|s| format!("{s:.3}")).collect();
    let out = Command::new("node")
        .arg(root().join("tests/players/play.mjs"))
        .arg("--dir")
        .arg(video_dir)
        .args(["--hls", "hls/master.m3u8", "--dash", "dash/stream.mpd"])
        .args(["--seams", &seams.join(",")])
        .arg("--out")
        .arg(artifacts().join("players.json"))
        .arg("--screenshot")
        .arg(artifacts().join("player.png"))
        .output()
        .expect("node tests/players/play.mjs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "players failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_processed_through_lambda_invokes() {
    let (_s3_server, s3) = s3s::with_bucket(BUCKET).await;
    let s3_endpoint = _s3_server.endpoint.clone();
    // Amazon Transcribe's stand-in: the coordinator starts a job per video.
    // It is also the api's parameter store: the key is a SecureString read at start.
    let moto = support::Moto::start("lambda_e2e");
    let api_key = "e2e-key-0123456789abcdef";
    support::put_secure_string(&moto.endpoint, "/slicecast/e2e/api-key", api_key).await;
    let gradio_id = md5_hex(&clip(GRADIO));
    // Every video: slice 1 fails its first attempt (the retry must finish it).
    // The gradio clip: slice 0 always fails (the video must fail, with the reason).
    let fail = format!("1:1,0:99:{gradio_id}");
    let env = [
        ("WORKER_FUNCTION", "segment-worker".to_owned()),
        ("ASSEMBLER_FUNCTION", "assembler".to_owned()),
        ("MAX_WORKERS", "4".to_owned()),
        ("WORKER_THREADS", "1".to_owned()),
        ("X264_PRESET", "ultrafast".to_owned()),
        ("RETRY_BACKOFF_MS", "100".to_owned()),
        // The sintel audio in 4 parallel chunks (the default is 60 s).
        ("AUDIO_CHUNK_SECONDS", "16".to_owned()),
        ("DEADLINE_SECONDS", "600".to_owned()),
        ("SLICECAST_FAIL_SLICE", fail),
        ("AWS_ENDPOINT_URL_TRANSCRIBE", moto.endpoint.clone()),
        ("LANGUAGE_OPTIONS", "en-US,es-US".to_owned()),
        ("API_KEY_PARAMETER", "/slicecast/e2e/api-key".to_owned()),
        ("AWS_ENDPOINT_URL_SSM", moto.endpoint.clone()),
        ("HEARTBEAT_TIMEOUT_SECONDS", "5".to_owned()),
        // A short first slice, and later slices held back (slice 1 by
        // 1.5 s, slice 2 by 3 s, …): the start is published while the rest
        // encodes, as for a long upload.
        ("FIRST_SLICE_SECONDS", "4".to_owned()),
        ("SLICECAST_SLOW_SLICES", "1:1500".to_owned()),
    ];
    let mut lambda = Lambda::start(
        &s3_endpoint,
        &env,
        &[
            ("coordinator", 2),
            ("segment-worker", 4),
            ("assembler", 1),
            ("api", 1),
        ],
    );
    let client = lambda.client();

    // An upload whose name needs URL-encoding in the event.
    let key = "uploads/tok1/Sintel Trailer (1).mp4";
    let size = upload(&s3, key, &clip(SINTEL)).await;
    let started = Instant::now();
    let run = {
        let client = client.clone();
        let event = support::s3_event(key, size);
        tokio::spawn(async move { invoke(&client, "coordinator", &event).await })
    };
    let early = watch_early_publish(&s3, &md5_hex(&clip(SINTEL)), &run).await;
    // Workers store their slices' progress while they encode; the coordinator reads it.
    let progress = watch_progress(&s3, &md5_hex(&clip(SINTEL)), &run).await;
    let reply: CoordinatorReply =
        serde_json::from_value(run.await.expect("coordinator task")).expect("coordinator reply");
    eprintln!(
        "sintel through Lambda: {:.1} s, {reply:?}; early publish: {early:?}",
        started.elapsed().as_secs_f64()
    );
    assert!(
        progress.iter().any(|f| *f > 0.0 && *f < 1.0),
        "no slice progress stored while encoding: {progress:?}"
    );
    let (ready_until_s, playlist) = early.expect("the start was published while processing");
    assert!(
        ready_until_s > 0.0 && ready_until_s < 50.0,
        "{ready_until_s}"
    );
    assert!(
        playlist.contains("#EXT-X-PLAYLIST-TYPE:EVENT") && !playlist.contains("#EXT-X-ENDLIST"),
        "a growing playlist while encoding:\n{playlist}"
    );
    assert_eq!(reply.processed.len(), 1, "{reply:?}");
    let done = &reply.processed[0];
    assert_eq!(done.key, key);
    assert_eq!(done.status, "processing_complete", "{reply:?}");
    let id = done.video_id.clone().expect("id");
    assert_eq!(id, md5_hex(&clip(SINTEL)), "the id is the MD5 of the bytes");

    // The outputs in S3 pass the local pipeline's checks and play.
    let dir = tempfile::tempdir().expect("tmp");
    let prefix = format!("processed/{id}/");
    assert!(download(&s3, &prefix, dir.path()).await > 20);
    assert!(
        !dir.path().join("work").exists(),
        "the per-slice scratch objects are removed"
    );
    let report = check_output(dir.path(), &clip(SINTEL)).expect("output checks");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).expect("manifest"))
            .expect("json");
    let seams: Vec<f64> = manifest["slice_starts_s"]
        .as_array()
        .expect("seams")
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .collect();
    assert!(seams.len() >= 3, "several slices: {seams:?}");
    assert!(seams[1] <= 6.0, "a short first slice: {seams:?}");
    let (playable, total) = (
        manifest["playable_after_ms"]
            .as_u64()
            .expect("playable_after_ms"),
        manifest["timings"]["total_ms"].as_u64().expect("total_ms"),
    );
    assert!(
        playable + 1000 < total,
        "playable {playable} ms, complete {total} ms"
    );
    // The assembler function made the downloads and timed them (the README
    // quotes this figure).
    let timings = &manifest["timings"];
    let downloads_ms = timings["downloads_ms"].as_u64().expect("downloads_ms");
    assert!(
        downloads_ms > 0 && downloads_ms <= timings["assemble_ms"].as_u64().unwrap_or(0),
        "{timings}"
    );
    assert_eq!(
        manifest["downloads"].as_array().map(Vec::len),
        Some(2),
        "{manifest}"
    );
    eprintln!("assembler: {timings}; downloads {}", manifest["downloads"]);
    // The video is playable before its subtitles: a Transcribe job is under way,
    // reading the speech audio the coordinator put next to the output.
    assert_eq!(
        manifest["transcription_status"], "in_progress",
        "{manifest}"
    );
    assert_eq!(manifest["transcription"]["engine"], "aws");
    let job = manifest["transcription"]["job"]
        .as_str()
        .expect("a job")
        .to_owned();
    assert!(job.ends_with(".transcript"), "{job}");
    assert!(dir.path().join("transcripts/speech.flac").is_file());
    eprintln!("checked {report:?}; seams {seams:?}");
    play(dir.path(), &seams[1..3]);
    let worker_logs: String = (0..4)
        .map(|i| {
            std::fs::read_to_string(artifacts().join(format!("segment-worker-{i}.log")))
                .unwrap_or_default()
        })
        .collect();
    assert!(
        worker_logs.contains("injected failure"),
        "slice 1's first attempt failed in a worker and was retried"
    );

    // The same event again, and the same bytes under another name: no new work.
    let again: CoordinatorReply =
        serde_json::from_value(invoke(&client, "coordinator", &support::s3_event(key, size)).await)
            .expect("reply");
    assert_eq!(again.processed[0].status, "already_complete", "{again:?}");
    let copy = "uploads/tok2/copy of sintel.mp4";
    upload(&s3, copy, &clip(SINTEL)).await;
    let dup: CoordinatorReply = serde_json::from_value(
        invoke(&client, "coordinator", &support::s3_event(copy, size)).await,
    )
    .expect("reply");
    assert_eq!(dup.processed[0].status, "already_complete", "{dup:?}");
    assert_eq!(dup.processed[0].video_id.as_deref(), Some(id.as_str()));

    // Its own outputs and other prefixes are ignored (no recursion).
    let own: CoordinatorReply = serde_json::from_value(
        invoke(
            &client,
            "coordinator",
            &support::s3_event(&format!("{prefix}manifest.json"), 10),
        )
        .await,
    )
    .expect("reply");
    assert!(
        own.processed.is_empty() && own.ignored.len() == 1,
        "{own:?}"
    );

    // A slice that always fails ends the video failed, with the reason, in time.
    let gkey = "uploads/tok3/gradio.mp4";
    let gsize = upload(&s3, gkey, &clip(GRADIO)).await;
    let t = Instant::now();
    let failed: CoordinatorReply = serde_json::from_value(
        invoke(&client, "coordinator", &support::s3_event(gkey, gsize)).await,
    )
    .expect("reply");
    let f = &failed.processed[0];
    assert_eq!(f.status, "processing_failed", "{failed:?}");
    let reason = f.error.clone().unwrap_or_default();
    assert!(
        reason.contains("slice 0")
            && reason.contains("3 attempts")
            && reason.contains("injected failure"),
        "{reason}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(600),
        "within the deadline"
    );
    let gm: serde_json::Value = serde_json::from_slice(
        &s3.get_object()
            .bucket(BUCKET)
            .key(format!("processed/{gradio_id}/manifest.json"))
            .send()
            .await
            .expect("manifest")
            .body
            .collect()
            .await
            .expect("body")
            .into_bytes(),
    )
    .expect("json");
    assert_eq!(gm["status"], "processing_failed");
    assert!(gm["error"].as_str().unwrap_or("").contains("slice 0"));
    // The worker's error named the presigned URL it read (as ffmpeg does):
    // nothing of it reaches the public manifest or /status.
    let gerror = gm["error"].as_str().unwrap_or("");
    hostile::assert_public(gerror);
    assert!(gerror.contains("<url>"), "{gerror}");
    let status = invoke(
        &client,
        "api",
        &url_event("GET", &format!("/status/{gradio_id}"), None),
    )
    .await;
    hostile::assert_public(status["body"].as_str().unwrap_or(""));

    // Hostile uploads (playlists, manifests, concat lists naming other objects,
    // local files or URLs) fail with a sentence and make no request.
    let tripwire = Tripwire::start().expect("listener");
    let decoy_dir = tempfile::tempdir().expect("tmp");
    let decoy = hostile::decoy(decoy_dir.path());
    for (i, h) in hostile::corpus(&decoy, tripwire.port, "../tok1/Sintel Trailer (1).mp4")
        .iter()
        .enumerate()
    {
        let hkey = format!("uploads/hostile{i}/{}", h.name);
        let path = decoy_dir.path().join(format!("upload{i}"));
        std::fs::write(&path, &h.bytes).expect("write");
        let hsize = upload(&s3, &hkey, &path).await;
        let reply: CoordinatorReply = serde_json::from_value(
            invoke(&client, "coordinator", &support::s3_event(&hkey, hsize)).await,
        )
        .expect("reply");
        let p = &reply.processed[0];
        assert_eq!(p.status, "processing_failed", "{}: {reply:?}", h.name);
        let reason = p.error.clone().unwrap_or_default();
        assert!(reason.contains(h.says), "{}: {reason}", h.name);
        hostile::assert_public(&reason);
    }
    assert_eq!(tripwire.hits(), 0, "a hostile upload made a request");

    // The api function answers Function URL events.
    let videos = invoke(&client, "api", &url_event("GET", "/api/videos", None)).await;
    assert_eq!(videos["statusCode"], 200, "{videos}");
    let body: serde_json::Value =
        serde_json::from_str(videos["body"].as_str().expect("body")).expect("JSON body");
    let listed: Vec<&str> = body
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|v| v["video_id"].as_str())
        .collect();
    assert_eq!(listed, [id.as_str()], "{body}");

    let create_event = url_event(
        "POST",
        "/create_multipart_upload",
        Some(&serde_json::json!({"fileName": "new clip.mp4", "fileSize": 12 * 1024 * 1024})),
    );
    let refused = invoke(&client, "api", &create_event).await;
    assert_eq!(refused["statusCode"], 401, "no bearer: {refused}");
    let create = invoke(&client, "api", &with_key(create_event, api_key)).await;
    assert_eq!(create["statusCode"], 200, "{create}");
    let created: serde_json::Value =
        serde_json::from_str(create["body"].as_str().expect("body")).expect("JSON body");
    let urls = created["urls"].as_array().expect("urls");
    assert_eq!(urls.len(), 2, "{created}");
    let url = urls[0].as_str().expect("url");
    assert!(
        url.starts_with(&s3_endpoint) && url.contains("X-Amz-Signature"),
        "{url}"
    );
    // The presigned part URL takes a part from a plain HTTP client.
    let part = vec![7u8; created["partSize"].as_u64().expect("partSize") as usize];
    let put = reqwest::Client::new()
        .put(url)
        .body(part)
        .send()
        .await
        .expect("PUT part");
    assert!(put.status().is_success(), "{}", put.status());
    assert!(put.headers().contains_key("etag"));

    // Streaming through the api function's Function URL (the emulator's
    // /lambda-url/api/...): playlists come from the api, and every URI in them
    // resolves to an object the client can fetch (media redirect to S3).
    let base = format!("{}/lambda-url/api/", lambda.endpoint);
    let http = reqwest::Client::new();
    let get = |url: reqwest::Url| {
        let http = http.clone();
        async move {
            let r = http.get(url.clone()).send().await.expect("GET");
            assert!(r.status().is_success(), "{url}: {}", r.status());
            let final_url = r.url().clone();
            (final_url, r.bytes().await.expect("body"))
        }
    };
    let master_url = reqwest::Url::parse(&base)
        .and_then(|b| b.join(&format!("stream/processed/{id}/hls/master.m3u8")))
        .expect("url");
    let (master_final, master) = get(master_url.clone()).await;
    assert_eq!(
        master_final, master_url,
        "a playlist is served by the api, not redirected"
    );
    let master = String::from_utf8_lossy(&master).into_owned();
    let variant = master
        .lines()
        .find(|l| !l.starts_with('#') && l.ends_with(".m3u8"))
        .expect("a variant");
    let (variant_final, playlist) = get(master_final.join(variant).expect("join")).await;
    let playlist = String::from_utf8_lossy(&playlist).into_owned();
    let init = playlist
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MAP:URI=\""))
        .and_then(|l| l.split('"').next())
        .expect("EXT-X-MAP");
    let first = playlist
        .lines()
        .find(|l| !l.starts_with('#') && !l.is_empty())
        .expect("a segment");
    for uri in [init, first] {
        let url = variant_final.join(uri).expect("join");
        let (from, bytes) = get(url.clone()).await;
        assert!(
            from.as_str().starts_with(&s3_endpoint),
            "{url} redirects to S3: {from}"
        );
        let key = url
            .path()
            .split("/stream/")
            .nth(1)
            .expect("stream key")
            .to_owned();
        let stored = s3
            .get_object()
            .bucket(BUCKET)
            .key(&key)
            .send()
            .await
            .expect("object")
            .body
            .collect()
            .await
            .expect("body")
            .into_bytes();
        assert_eq!(bytes, stored, "{key}");
    }

    let missing = invoke(
        &client,
        "api",
        &url_event("GET", "/status/nothing-here", None),
    )
    .await;
    assert_eq!(missing["statusCode"], 404, "{missing}");

    resume_after_a_crash(&mut lambda, &client, &s3).await;
}

/// A coordinator killed mid-video (a crash; Lambda then retries the event):
/// the next invocation waits for the heartbeat to go stale, takes the video
/// over and encodes only the slices without a stored result.
async fn resume_after_a_crash(
    lambda: &mut Lambda,
    client: &aws_sdk_lambda::Client,
    s3: &aws_sdk_s3::Client,
) {
    lambda.kill("coordinator");
    // 2 s slices: a dozen, so the crash comes with work done and work left.
    let short = [("SLICE_SECONDS", "2".to_owned())];
    lambda.spawn("coordinator", 1, &short);
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("resume.mp4");
    let made = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc2=s=320x180:r=25:d=24")
        .args([
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000:duration=24",
        ])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "25",
            "-c:a",
            "aac",
        ])
        .arg(&src)
        .status()
        .expect("ffmpeg");
    assert!(made.success());
    let key = "uploads/tok4/resume.mp4";
    let size = upload(s3, key, &src).await;
    let id = md5_hex(&src);
    let event = support::s3_event(key, size);
    let first = tokio::spawn({
        let (client, event) = (client.clone(), event.clone());
        async move { invoke(&client, "coordinator", &event).await }
    });
    let results = format!("processed/{id}/work/slice_");
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let listed = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .prefix(&results)
            .send()
            .await
            .expect("list");
        if listed.key_count().unwrap_or(0) >= 1 {
            break;
        }
        assert!(Instant::now() < deadline, "no slice finished");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    lambda.kill("coordinator");
    first.abort();
    lambda.spawn("coordinator", 1, &short);
    let t = Instant::now();
    let reply: CoordinatorReply =
        serde_json::from_value(invoke(client, "coordinator", &event).await).expect("reply");
    // The emulator may hand the killed invocation to the new process first;
    // this one then finds the video done.
    let status = reply.processed[0].status.as_str();
    assert!(
        status == "processing_complete" || status == "already_complete",
        "{reply:?}"
    );
    let out = dir.path().join("out");
    download(s3, &format!("processed/{id}/"), &out).await;
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).expect("manifest"))
            .expect("json");
    let resumed = m["resumed"].as_u64().unwrap_or(0);
    let slices = m["slices"].as_u64().unwrap_or(0);
    eprintln!(
        "resumed {resumed} of {slices} slices after the crash, done {:.1} s after the retry",
        t.elapsed().as_secs_f64()
    );
    assert_eq!(m["status"], "processing_complete", "{m}");
    assert!(resumed >= 1 && slices > 1, "{m}");
    check_output(&out, &src).expect("the resumed video's output");
}

//! Signed webhooks against a real local receiver that refuses each
//! delivery's first attempt: every event arrives once accepted, signed, with
//! the video's id, status and URLs.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use slicecast_coordinator::Settings;
use slicecast_coordinator::webhook::{
    DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookConfig, Webhooks,
    verify,
};
use slicecast_tests::local::{test_pattern, transcode};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "a-test-secret-for-hooks";

#[derive(Default)]
struct Receiver {
    attempts: HashMap<String, u32>,
    accepted: Vec<(String, serde_json::Value)>,
    bad_signatures: u32,
}

async fn hook(
    State(r): State<Arc<Mutex<Receiver>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut r = r.lock().expect("lock");
    let ts: u64 = h(TIMESTAMP_HEADER).parse().unwrap_or(0);
    let now = slicecast_core::now_ms() / 1000;
    if !verify(SECRET, ts, &body, &h(SIGNATURE_HEADER)) || now.abs_diff(ts) > 300 {
        r.bad_signatures += 1;
        return StatusCode::UNAUTHORIZED;
    }
    let n = r.attempts.entry(h(DELIVERY_HEADER)).or_default();
    *n += 1;
    if *n == 1 {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let json = serde_json::from_slice(&body).expect("a JSON body");
    r.accepted.push((h(EVENT_HEADER), json));
    StatusCode::NO_CONTENT
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_signed_retried_and_delivered_once() {
    let state = Arc::new(Mutex::new(Receiver::default()));
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let webhooks = Webhooks::new(WebhookConfig {
        url: format!("http://{addr}/hook"),
        secret: SECRET.into(),
        public_base: "https://videos.example.com".into(),
        give_up_after: Duration::from_secs(20),
        first_backoff: Duration::from_millis(200),
    })
    .expect("webhooks");
    let settings = Settings {
        workers: 2,
        preset: "ultrafast".into(),
        webhooks: Some(webhooks.clone()),
        ..Settings::default()
    };
    let dir = tempfile::tempdir().expect("tmp");
    let clip = test_pattern(dir.path(), "hook.mp4", "320x180", 4, None, true);
    let out = dir.path().join("out");
    let done = transcode(&clip, &out, &settings).await.expect("transcode");
    let id = done.manifest().video_id.to_string();
    let junk = dir.path().join("junk.mp4");
    let mut bytes = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2".to_vec();
    bytes.extend((0..50_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    std::fs::write(&junk, bytes).expect("junk");
    assert!(transcode(&junk, &out, &settings).await.is_err());
    webhooks.flush(Duration::from_secs(20)).await;

    let r = state.lock().expect("lock");
    assert_eq!(r.bad_signatures, 0);
    let events: Vec<&str> = r.accepted.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(events, ["video.ready", "video.failed"], "{:?}", r.accepted);
    assert!(r.attempts.values().all(|&n| n == 2), "{:?}", r.attempts);
    let ready = &r.accepted[0].1;
    assert_eq!(ready["type"], "video.ready");
    assert_eq!(ready["data"]["video_id"], id);
    assert_eq!(ready["data"]["status"], "processing_complete");
    assert_eq!(ready["data"]["name"], "hook.mp4");
    assert_eq!(
        ready["data"]["hls_url"],
        format!("https://videos.example.com/stream/{id}/hls/master.m3u8")
    );
    assert_eq!(ready["data"]["downloads"][0]["kind"], "mp4");
    let failed = &r.accepted[1].1["data"];
    assert_eq!(failed["status"], "processing_failed");
    let reason = failed["error"].as_str().unwrap_or_default();
    assert!(
        reason.contains("could not be read as a video") && !reason.contains('/'),
        "{reason}"
    );
}

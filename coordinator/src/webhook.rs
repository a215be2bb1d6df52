//! Signed webhooks (`WEBHOOK_URL`, `WEBHOOK_SECRET`): a POST for each of a
//! video's events (`video.playable`, `video.ready`, `video.failed`,
//! `subtitles.ready`), delivered at least once and never in the way of
//! processing. Each delivery runs in its own task and is retried with
//! backoff until it is answered 2xx or its time is up.
//!
//! The body is JSON; the headers carry the event, a delivery id (the same on
//! every retry, so a receiver can drop repeats), a Unix timestamp and
//! `Slicecast-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
//! A receiver recomputes the HMAC over the timestamp header, a dot and the
//! raw body, compares it in constant time, and refuses timestamps more than
//! a few minutes old (replays).

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use serde_json::{Value, json};
use sha2::Sha256;
use slicecast_core::manifest::{DownloadKind, Manifest, Status};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinSet;
use tracing::{info, warn};

/// Header names of a delivery.
pub const EVENT_HEADER: &str = "Slicecast-Event";
/// The delivery id, the same on every retry.
pub const DELIVERY_HEADER: &str = "Slicecast-Delivery";
/// Unix seconds when the delivery was signed.
pub const TIMESTAMP_HEADER: &str = "Slicecast-Timestamp";
/// `v1=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "Slicecast-Signature";

/// Where and how to deliver.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// The receiver (`http://` or `https://`).
    pub url: String,
    /// The signing secret shared with the receiver.
    pub secret: String,
    /// Prefix of the playback URLs in the body (e.g. `https://videos.example.com`);
    /// without it they are paths on the API (`/stream/...`).
    pub public_base: String,
    /// How long one event is retried before it is given up.
    pub give_up_after: Duration,
    /// The first retry's wait (doubling, at most a minute).
    pub first_backoff: Duration,
}

/// The webhook configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// `WEBHOOK_URL` is not an http(s) URL, has no secret, or TLS cannot be set up.
    #[error("webhook: {0}")]
    Config(String),
}

/// The HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`, fed but not finalized.
fn mac(secret: &str, timestamp: u64, body: &[u8]) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(mac)
}

/// `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn signature(secret: &str, timestamp: u64, body: &[u8]) -> String {
    mac(secret, timestamp, body).map_or_else(String::new, |m| {
        format!("v1={}", hex::encode(m.finalize().into_bytes()))
    })
}

/// Whether `header` is the signature of `body` at `timestamp` (constant time).
pub fn verify(secret: &str, timestamp: u64, body: &[u8], header: &str) -> bool {
    let sig = header.strip_prefix("v1=").and_then(|h| hex::decode(h).ok());
    match (sig, mac(secret, timestamp, body)) {
        (Some(sig), Some(m)) => m.verify_slice(&sig).is_ok(),
        _ => false,
    }
}

/// The body of `event` for the video `m`: its id, name, status and what a
/// client needs next (playback URLs, downloads, the reason it failed).
pub fn body(event: &str, delivery: &str, m: &Manifest, public_base: &str) -> Value {
    let url = |key: &Option<String>| {
        key.as_ref().map(|k| {
            format!(
                "{public_base}/stream/{}",
                k.strip_prefix("processed/").unwrap_or(k)
            )
        })
    };
    let name = m
        .source
        .as_ref()
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let status = match m.status {
        Status::Processing => "processing",
        Status::ProcessingComplete => "processing_complete",
        Status::ProcessingFailed => "processing_failed",
    };
    json!({
        "id": delivery,
        "type": event,
        "created_ms": slicecast_core::now_ms(),
        "data": {
            "video_id": m.video_id.to_string(),
            "name": name,
            "status": status,
            "error": m.error,
            "playable": m.playable,
            "ready_until_s": m.ready_until_s,
            "duration_s": m.duration_s,
            "hls_url": url(&m.assets.hls_master),
            "dash_url": url(&m.assets.dash_mpd),
            "poster_url": url(&m.assets.poster),
            "downloads": m.downloads.iter().map(|d| json!({
                "kind": match d.kind { DownloadKind::Mp4 => "mp4", DownloadKind::M4a => "m4a" },
                "url": url(&Some(d.key.clone())),
                "bytes": d.bytes,
            })).collect::<Vec<_>>(),
            "subtitles": m.subtitles.iter().map(|t| json!({
                "lang": t.lang,
                "url": url(&Some(t.vtt.clone())),
            })).collect::<Vec<_>>(),
        }
    })
}

/// Delivers events in the background; [`Webhooks::flush`] waits for them.
pub struct Webhooks {
    config: WebhookConfig,
    poster: crate::webhook_http::Poster,
    pending: Mutex<JoinSet<()>>,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhooks").field("url", &"..").finish()
    }
}

impl Webhooks {
    /// A sender for `config` (an http or https URL and a secret).
    pub fn new(config: WebhookConfig) -> Result<Arc<Self>, WebhookError> {
        if config.secret.len() < 16 {
            return Err(WebhookError::Config(
                "WEBHOOK_SECRET must be set (16 characters or more) with WEBHOOK_URL".into(),
            ));
        }
        let poster = crate::webhook_http::Poster::new(&config.url, Duration::from_secs(10))
            .map_err(WebhookError::Config)?;
        Ok(Arc::new(Self {
            config,
            poster,
            pending: Mutex::new(JoinSet::new()),
        }))
    }

    /// Starts delivering `event` for video `m`; returns at once.
    pub fn send(&self, event: &'static str, m: &Manifest) {
        let delivery = {
            let mut h = Md5::new();
            h.update(format!("{}/{event}/{}", m.video_id, m.created_ms));
            hex::encode(h.finalize())
        };
        let body = body(
            event,
            &delivery,
            m,
            self.config.public_base.trim_end_matches('/'),
        );
        let Ok(body) = serde_json::to_vec(&body) else {
            return;
        };
        let (poster, config, video) = (
            self.poster.clone(),
            self.config.clone(),
            m.video_id.to_string(),
        );
        let task = async move {
            let started = tokio::time::Instant::now();
            let mut wait = config.first_backoff;
            for attempt in 1.. {
                let ts = slicecast_core::now_ms() / 1000;
                let headers = [
                    (EVENT_HEADER, event.to_owned()),
                    (DELIVERY_HEADER, delivery.clone()),
                    (TIMESTAMP_HEADER, ts.to_string()),
                    (SIGNATURE_HEADER, signature(&config.secret, ts, &body)),
                ];
                let outcome = match poster.post(&headers, body.clone()).await {
                    Ok(code) if (200..300).contains(&code) => {
                        info!(video.id = %video, event, attempt, "webhook delivered");
                        return;
                    }
                    Ok(code) => format!("answered {code}"),
                    Err(e) => slicecast_core::public::redact_queries(&e),
                };
                if started.elapsed() + wait > config.give_up_after {
                    warn!(video.id = %video, event, attempt, outcome = %outcome, "webhook given up");
                    return;
                }
                warn!(video.id = %video, event, attempt, outcome = %outcome, "webhook not delivered; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(60));
            }
        };
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while pending.try_join_next().is_some() {}
        pending.spawn(task);
    }

    /// Waits up to `within` for the deliveries under way (a process about to
    /// end, e.g. a Lambda invocation, calls this before it returns).
    pub async fn flush(&self, within: Duration) {
        let mut set = std::mem::take(
            &mut *self
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let _ =
            tokio::time::timeout(within, async { while set.join_next().await.is_some() {} }).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_bind_the_time_and_body() {
        let s = signature("a-secret-of-16-chars", 1_700_000_000, b"{\"a\":1}");
        assert!(s.starts_with("v1=") && s.len() == 3 + 64, "{s}");
        assert!(verify(
            "a-secret-of-16-chars",
            1_700_000_000,
            b"{\"a\":1}",
            &s
        ));
        for (secret, ts, body, sig) in [
            (
                "another-secret-16ch",
                1_700_000_000,
                &b"{\"a\":1}"[..],
                s.as_str(),
            ),
            ("a-secret-of-16-chars", 1_700_000_001, b"{\"a\":1}", &s),
            ("a-secret-of-16-chars", 1_700_000_000, b"{\"a\":2}", &s),
            ("a-secret-of-16-chars", 1_700_000_000, b"{\"a\":1}", "v1=zz"),
            ("a-secret-of-16-chars", 1_700_000_000, b"{\"a\":1}", &s[3..]),
        ] {
            assert!(!verify(secret, ts, body, sig), "{secret} {ts} {sig}");
        }
    }

    #[test]
    fn bad_configurations_are_refused() {
        let config = |url: &str, secret: &str| WebhookConfig {
            url: url.into(),
            secret: secret.into(),
            public_base: String::new(),
            give_up_after: Duration::from_secs(1),
            first_backoff: Duration::from_millis(10),
        };
        for (url, secret) in [
            ("ftp://hooks.example.com", "0123456789abcdef"),
            ("file:///etc/passwd", "0123456789abcdef"),
            ("hooks.example.com", "0123456789abcdef"),
            ("https://", "0123456789abcdef"),
            ("http://exa mple.com", "0123456789abcdef"),
            ("https://hooks.example.com", "short"),
        ] {
            assert!(Webhooks::new(config(url, secret)).is_err(), "{url}");
        }
    }
}

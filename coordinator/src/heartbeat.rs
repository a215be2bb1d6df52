//! Liveness: a running coordinator writes `work/heartbeat` a few times per
//! timeout; a `processing` video whose heartbeat is older than the timeout
//! was interrupted (its process died).

use crate::now_ms;
use bytes::Bytes;
use slicecast_core::manifest::Manifest;
use slicecast_core::{VideoId, keys};
use slicecast_storage::BlobStore;
use std::sync::Arc;
use std::time::Duration;

/// How often a running coordinator proves it is alive.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(10);

fn heartbeat_key(id: &VideoId) -> String {
    keys::work(id, "heartbeat")
}

/// Writes the heartbeat every `every` until dropped.
pub(crate) struct Heartbeat(tokio::task::JoinHandle<()>);

impl Heartbeat {
    pub(crate) fn start(store: Arc<dyn BlobStore>, id: VideoId, every: Duration) -> Self {
        Self(tokio::spawn(async move {
            loop {
                let _ = store
                    .put(&heartbeat_key(&id), Bytes::from(now_ms().to_string()))
                    .await;
                tokio::time::sleep(every).await;
            }
        }))
    }
}

/// How often to beat so that a live coordinator never looks dead: four
/// beats per `timeout`, at most every [`HEARTBEAT_EVERY`], at least every second.
pub(crate) fn beat_every(timeout: Duration) -> Duration {
    (timeout / 4).clamp(Duration::from_secs(1), HEARTBEAT_EVERY)
}

impl Heartbeat {
    /// Stops beating; returns once no write is in flight.
    pub(crate) async fn stop(mut self) {
        self.0.abort();
        let _ = (&mut self.0).await;
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Unix ms of the last sign of life of a video's coordinator.
pub(crate) async fn last_beat(store: &dyn BlobStore, m: &Manifest) -> u64 {
    let beat = match store.get(&heartbeat_key(&m.video_id)).await {
        Ok(b) => String::from_utf8_lossy(&b).trim().parse().unwrap_or(0),
        Err(_) => 0,
    };
    beat.max(m.updated_ms)
}

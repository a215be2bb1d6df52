//! A slice's progress across Lambda: the worker stores its encoder's
//! fraction in `work/progress_<slice>.json` (the latest value, at most every
//! [`WRITE_EVERY`]), and the coordinator's invoker reads that object while
//! the invoke is in flight (every [`POLL_EVERY`]) and reports it, as the
//! local pool does from its channel. The object names the attempt it
//! belongs to, so a retry does not read its predecessor's fraction; it goes
//! with the rest of `work/` when the video ends.

use serde::{Deserialize, Serialize};
use slicecast_core::job::SliceJob;
use slicecast_core::keys;
use slicecast_storage::BlobStore;
use std::sync::Arc;
use std::time::Duration;

/// How often a worker stores its slice's fraction, at most.
pub const WRITE_EVERY: Duration = Duration::from_secs(2);
/// How often the invoker reads it.
pub const POLL_EVERY: Duration = Duration::from_secs(2);

/// What the progress object holds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SliceProgress {
    /// The attempt that wrote it.
    pub attempt: u32,
    /// 0 ..= 1.
    pub fraction: f64,
}

/// The progress object of `job`'s slice.
pub fn key(job: &SliceJob) -> String {
    keys::work(&job.video_id, &format!("progress_{}.json", job.slice.index))
}

/// Stores the latest value `latest` holds under `key` whenever it changes,
/// at most every [`WRITE_EVERY`], until its sender is gone. A failed write
/// is skipped: progress is for display only.
pub async fn store_latest(
    store: Arc<dyn BlobStore>,
    key: String,
    attempt: u32,
    mut latest: tokio::sync::watch::Receiver<f64>,
) {
    while latest.changed().await.is_ok() {
        let fraction = *latest.borrow_and_update();
        if let Ok(body) = serde_json::to_vec(&SliceProgress { attempt, fraction }) {
            let _ = store.put(&key, body.into()).await;
        }
        tokio::time::sleep(WRITE_EVERY).await;
    }
}

/// The fraction stored for `attempt` of the slice at `key`, if any.
pub async fn read(store: &dyn BlobStore, key: &str, attempt: u32) -> Option<f64> {
    let bytes = store.get(key).await.ok()?;
    parse(&bytes, attempt)
}

/// The fraction in a progress object, when it is `attempt`'s and sensible.
pub fn parse(bytes: &[u8], attempt: u32) -> Option<f64> {
    let p: SliceProgress = serde_json::from_slice(bytes).ok()?;
    (p.attempt == attempt && p.fraction.is_finite() && (0.0..=1.0).contains(&p.fraction))
        .then_some(p.fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_attempts_sensible_fractions_are_read() {
        for (body, attempt, want) in [
            (&br#"{"attempt":2,"fraction":0.4}"#[..], 2, Some(0.4)),
            (br#"{"attempt":1,"fraction":0.9}"#, 2, None),
            (br#"{"attempt":2,"fraction":1.5}"#, 2, None),
            (br#"{"attempt":2,"fraction":-0.1}"#, 2, None),
            (br#"{"attempt":2}"#, 2, None),
            (b"not json", 2, None),
        ] {
            assert_eq!(
                parse(body, attempt),
                want,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[tokio::test]
    async fn a_worker_stores_what_the_invoker_reads() {
        let dir = tempfile::tempdir().expect("tmp");
        let store: Arc<dyn BlobStore> =
            Arc::new(slicecast_storage::FsStore::new(dir.path()).expect("store"));
        let key = "processed/0123456789abcdef0123456789abcdef/work/progress_3.json".to_owned();
        let (tx, rx) = tokio::sync::watch::channel(0.0);
        let writer = tokio::spawn(store_latest(store.clone(), key.clone(), 2, rx));
        tx.send(0.25).expect("send");
        let mut seen = None;
        for _ in 0..50 {
            seen = read(store.as_ref(), &key, 2).await;
            if seen.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(seen, Some(0.25));
        assert_eq!(
            read(store.as_ref(), &key, 3).await,
            None,
            "another attempt's"
        );
        drop(tx);
        tokio::time::timeout(WRITE_EVERY * 2, writer)
            .await
            .expect("the writer ends with its sender")
            .expect("no panic");
    }
}

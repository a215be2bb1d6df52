//! A video's manifest in the store: reading, writing, and its status as a
//! client should see it (stale or interrupted runs settled as failed).

use crate::heartbeat::last_beat;
use crate::now_ms;
use bytes::Bytes;
use slicecast_core::manifest::{Manifest, Status};
use slicecast_core::{VideoId, keys};
use slicecast_storage::{BlobStore, StoreError};
use std::time::Duration;

pub(crate) async fn read_manifest(
    store: &dyn BlobStore,
    id: &VideoId,
) -> Result<Option<Manifest>, StoreError> {
    match store.get(&keys::manifest(id)).await {
        Ok(b) => Ok(serde_json::from_slice(&b).ok()),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

pub(crate) async fn write_manifest(store: &dyn BlobStore, m: &Manifest) -> Result<(), StoreError> {
    let json = serde_json::to_vec_pretty(m).map_err(|e| StoreError::Io {
        key: keys::manifest(&m.video_id),
        source: std::io::Error::other(e),
    })?;
    store
        .put(&keys::manifest(&m.video_id), Bytes::from(json))
        .await
}

/// Reads a video's manifest as a client should see it: one stuck in
/// `processing` past its deadline, or whose coordinator stopped beating for
/// `heartbeat_timeout`, is recorded and returned as failed.
pub async fn status(
    store: &dyn BlobStore,
    id: &VideoId,
    heartbeat_timeout: Duration,
) -> Result<Option<Manifest>, StoreError> {
    let Some(m) = read_manifest(store, id).await? else {
        return Ok(None);
    };
    let now = now_ms();
    if m.is_stale(now) || m.transcription_is_stale(now) {
        let settled = m.settled(now);
        write_manifest(store, &settled).await?;
        return Ok(Some(settled));
    }
    if m.status == Status::Processing
        && now.saturating_sub(last_beat(store, &m).await) > heartbeat_timeout.as_millis() as u64
    {
        let mut failed = m.failed(
            "processing stopped unexpectedly (the transcoder was interrupted); a restarted service resumes it, or upload the file again to retry",
            now,
        );
        failed.interrupted = true;
        write_manifest(store, &failed).await?;
        return Ok(Some(failed));
    }
    Ok(Some(m))
}

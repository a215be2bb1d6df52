//! The sweep: removes what nobody will come back for, over any [`BlobStore`]
//! (`slicecast serve` runs it every `SWEEP_INTERVAL_SECONDS`; the Lambda api
//! could run it on a schedule):
//!
//! - local multipart uploads (`multipart/<uploadId>/`) whose part URLs expired
//!   more than `grace` ago, and leftovers of such folders without their
//!   `upload.json`;
//! - the uploaded objects (`uploads/<uploadId>/<name>`) of videos whose
//!   processing failed more than `grace` ago. Uploads completed after the
//!   failure (a retry of the same bytes) are kept, and so are those of videos
//!   whose failure was an interruption (`"interrupted": true`: the coordinator
//!   stopped, the video may be resumed).

use crate::index::IdEntry;
use crate::uploads::{UploadMeta, remove_upload_object};
use crate::validate;
use slicecast_core::manifest::{Manifest, Status};
use slicecast_core::{VideoId, keys};
use slicecast_storage::{BlobStore, StoreError};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// What one sweep removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Multipart uploads removed (by upload id).
    pub multipart_uploads: Vec<String>,
    /// Upload objects of failed videos removed (their keys).
    pub failed_uploads: Vec<String>,
}

/// One `multipart/<id>/` folder as listed.
#[derive(Default)]
struct Folder {
    has_meta: bool,
    newest_ms: u64,
}

/// Removes stale multipart uploads and the uploads of failed videos, as of
/// `now_ms` (Unix ms): anything whose URLs expired, or whose video failed,
/// at least `grace` before. Errors on single items are logged and skipped.
pub async fn sweep(
    store: &dyn BlobStore,
    grace: Duration,
    now_ms: u64,
) -> Result<SweepReport, StoreError> {
    let cutoff = now_ms.saturating_sub(grace.as_millis() as u64);
    let mut report = SweepReport::default();
    sweep_multipart(store, cutoff, &mut report).await?;
    sweep_failed(store, cutoff, &mut report).await?;
    Ok(report)
}

async fn sweep_multipart(
    store: &dyn BlobStore,
    cutoff: u64,
    report: &mut SweepReport,
) -> Result<(), StoreError> {
    let mut folders: BTreeMap<String, Folder> = BTreeMap::new();
    for obj in store.list("multipart/").await? {
        // Local layout only: `multipart/<32 hex>/...` (S3's `multipart/<token>.json`
        // belongs to an S3 upload, which a bucket lifecycle rule ends).
        let mut parts = obj.key.splitn(3, '/');
        let (Some(_), Some(id), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if validate::upload_id(id).ok().as_deref() != Some(id) {
            continue;
        }
        let f = folders.entry(id.to_owned()).or_default();
        f.newest_ms = f.newest_ms.max(obj.modified_ms);
        f.has_meta |= rest == "upload.json";
    }
    for (id, folder) in folders {
        let expired_ms = if folder.has_meta {
            match store.get(&format!("multipart/{id}/upload.json")).await {
                Ok(b) => match serde_json::from_slice::<UploadMeta>(&b) {
                    Ok(m) if m.urls_until_ms > 0 => m.urls_until_ms,
                    // No expiry recorded: the URLs lived at most an hour past creation
                    // (the default lifetime), or it is unreadable: its files' age.
                    Ok(m) => m.created_ms.saturating_add(3_600_000),
                    Err(_) => folder.newest_ms,
                },
                Err(e) if e.is_not_found() => folder.newest_ms,
                Err(e) => {
                    tracing::warn!(upload.id = %id, error = %e, "sweep: cannot read upload.json");
                    continue;
                }
            }
        } else {
            folder.newest_ms
        };
        if expired_ms > cutoff {
            continue;
        }
        match store.delete_prefix(&format!("multipart/{id}/")).await {
            Ok(_) => {
                tracing::info!(upload.id = %id, "sweep: stale multipart upload removed");
                report.multipart_uploads.push(id);
            }
            Err(e) => tracing::warn!(upload.id = %id, error = %e, "sweep: cannot remove upload"),
        }
    }
    Ok(())
}

async fn sweep_failed(
    store: &dyn BlobStore,
    cutoff: u64,
    report: &mut SweepReport,
) -> Result<(), StoreError> {
    for obj in store.list("ids/").await? {
        let Some(id) = obj
            .key
            .strip_prefix("ids/")
            .and_then(|n| n.strip_suffix(".json"))
            .and_then(|n| VideoId::parse(n).ok())
        else {
            continue;
        };
        let bytes = match store.get(&keys::manifest(&id)).await {
            Ok(b) => b,
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e),
        };
        let Ok(manifest) = serde_json::from_slice::<Manifest>(&bytes) else {
            continue;
        };
        if manifest.status != Status::ProcessingFailed
            || manifest.updated_ms > cutoff
            || interrupted(&bytes)
        {
            continue;
        }
        let entry: Option<IdEntry> = match store.get(&obj.key).await {
            Ok(b) => serde_json::from_slice(&b).ok(),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e),
        };
        let uploads = entry.map(|e| e.uploads).unwrap_or_default();
        // Uploads completed after the failure belong to a retry: keep them.
        let newer: BTreeSet<&str> = uploads
            .iter()
            .filter(|u| u.uploaded_ms > manifest.updated_ms)
            .map(|u| u.upload_key.as_str())
            .collect();
        let mut doomed: BTreeSet<&str> = uploads
            .iter()
            .filter(|u| u.uploaded_ms <= manifest.updated_ms)
            .map(|u| u.upload_key.as_str())
            .collect();
        doomed.insert(manifest.upload_key.as_str());
        for key in doomed.difference(&newer) {
            match remove_upload_object(store, key).await {
                Ok(0) => {}
                Ok(_) => {
                    tracing::info!(video.id = %id, "sweep: upload of a failed video removed");
                    report.failed_uploads.push((*key).to_owned());
                }
                Err(e) => {
                    tracing::warn!(video.id = %id, error = %e, "sweep: cannot remove upload");
                }
            }
        }
    }
    Ok(())
}

/// Whether a failed manifest says its coordinator stopped (`"interrupted":
/// true`) rather than the file being bad: such a video may be resumed, so its
/// upload is kept. Read from the JSON so manifests of any version answer.
fn interrupted(manifest_json: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(manifest_json)
        .ok()
        .and_then(|v| v.get("interrupted")?.as_bool())
        .unwrap_or(false)
}

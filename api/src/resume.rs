//! Takes over videos whose coordinator stopped (a killed or crashed
//! `slicecast serve`): every video the index knows that reads as interrupted
//! (`processing` with a quiet heartbeat, which a status read records as an
//! interrupted failure) is started again. The new run reuses the results the
//! stopped one stored, so only unfinished jobs are encoded (`resumed` in the
//! manifest says how many were reused).

use crate::AppState;
use crate::processor::StartRequest;
use slicecast_core::VideoId;
use slicecast_core::manifest::Status;
use slicecast_storage::StoreError;
use tracing::{info, warn};

/// Restarts every interrupted video whose upload is still there and that is
/// not running here; returns their ids.
pub async fn resume_interrupted(state: &AppState) -> Result<Vec<VideoId>, StoreError> {
    let store = state.store.as_ref();
    let mut started = Vec::new();
    for id in state.index.ids().await? {
        if state.processor.is_running(&id) == Some(true) {
            continue;
        }
        let m = match slicecast_coordinator::status(store, &id, state.config.heartbeat_timeout)
            .await
        {
            Ok(Some(m)) => m,
            Ok(None) => continue,
            Err(e) => {
                warn!(video.id = %id, error = %e, "could not read a manifest while looking for interrupted videos");
                continue;
            }
        };
        if !(m.status == Status::ProcessingFailed && m.interrupted) {
            continue;
        }
        if store.head(&m.upload_key).await.is_err() {
            continue;
        }
        info!(video.id = %id, "resuming a video whose processing was interrupted");
        state.processor.start(StartRequest {
            upload_key: m.upload_key.clone(),
            video_id: id.clone(),
        });
        started.push(id);
    }
    Ok(started)
}

//! The "start processing" action: the [`Processor`] trait and
//! [`LocalProcessor`], which runs the coordinator in background tasks over one
//! shared worker pool.

use async_trait::async_trait;
use bytes::Bytes;
use slicecast_coordinator::{CoordinatorError, Invoker, Outcome, Settings, process_hashed_upload};
use slicecast_core::manifest::Manifest;
use slicecast_core::now_ms;
use slicecast_core::{VideoId, keys};
use slicecast_storage::BlobStore;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;
use tracing::{error, info};

/// An uploaded object to process.
#[derive(Debug, Clone)]
pub struct StartRequest {
    /// Key of the uploaded object.
    pub upload_key: String,
    /// Its MD5 (known from the upload's completion).
    pub video_id: VideoId,
}

/// Starts and stops processing. Locally a background task per upload; on AWS
/// an asynchronous invoke of the coordinator (or nothing, when an S3 event
/// triggers it).
#[async_trait]
pub trait Processor: Send + Sync + 'static {
    /// Starts processing in the background and returns at once. Failures end
    /// up in the video's manifest.
    fn start(&self, req: StartRequest);

    /// Stops any processing of `id` started here and waits until it has
    /// stopped; returns whether one was running.
    async fn cancel(&self, id: &VideoId) -> bool;

    /// Whether processing of `id` runs here now; `None` when this processor
    /// cannot tell (a remote one).
    fn is_running(&self, id: &VideoId) -> Option<bool>;
}

/// Runs `slicecast_coordinator::process_upload` in tokio tasks, all videos
/// sharing one [`Invoker`] (the local worker pool).
pub struct LocalProcessor {
    store: Arc<dyn BlobStore>,
    invoker: Arc<dyn Invoker>,
    settings: Arc<Settings>,
    tasks: Mutex<HashMap<VideoId, Vec<JoinHandle<()>>>>,
}

impl std::fmt::Debug for LocalProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalProcessor")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl LocalProcessor {
    /// A processor over `store`, running jobs through `invoker`.
    pub fn new(store: Arc<dyn BlobStore>, invoker: Arc<dyn Invoker>, settings: Settings) -> Self {
        Self {
            store,
            invoker,
            settings: Arc::new(settings),
            tasks: Mutex::new(HashMap::new()),
        }
    }
}

async fn run(
    store: Arc<dyn BlobStore>,
    invoker: Arc<dyn Invoker>,
    settings: Arc<Settings>,
    req: StartRequest,
) {
    let key = req.upload_key.as_str();
    let id = &req.video_id;
    // The id was computed while the parts were concatenated: no second read.
    let known = store.head(key).await.ok().map(|m| (id.clone(), m.size));
    match process_hashed_upload(
        store.clone(),
        invoker,
        key,
        known,
        &settings,
        Arc::new(|_| {}),
    )
    .await
    {
        Ok(Outcome::Completed(m)) => {
            info!(video.id = %m.video_id, total_ms = m.timings.total_ms, "video processed");
        }
        Ok(Outcome::AlreadyComplete(m) | Outcome::InProgress(m)) => {
            // The same bytes were uploaded before: this copy is not needed.
            if m.upload_key != key {
                let _ = crate::uploads::remove_upload_object(store.as_ref(), key).await;
                info!(video.id = %m.video_id, upload.key = key, "same bytes already uploaded; dropped the duplicate upload");
            }
        }
        // The coordinator logged it and recorded the reason in the manifest.
        Err(CoordinatorError::Failed { .. }) => {}
        Err(CoordinatorError::Upload(e)) => {
            error!(video.id = %id, upload.key = key, error = %e, "could not read the upload");
            let now = now_ms();
            let m = Manifest::new(id.clone(), key.to_owned(), now, now)
                .failed(format!("could not read the upload: {e}"), now);
            if let Ok(json) = serde_json::to_vec_pretty(&m) {
                let _ = store
                    .put_if_absent(&keys::manifest(id), Bytes::from(json))
                    .await;
            }
        }
        Err(e @ CoordinatorError::Store(_)) => {
            error!(video.id = %id, upload.key = key, error = %e, "processing stopped on a storage error");
        }
    }
}

#[async_trait]
impl Processor for LocalProcessor {
    fn start(&self, req: StartRequest) {
        let id = req.video_id.clone();
        let handle = tokio::spawn(run(
            self.store.clone(),
            self.invoker.clone(),
            self.settings.clone(),
            req,
        ));
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.retain(|_, hs| {
                hs.retain(|h| !h.is_finished());
                !hs.is_empty()
            });
            tasks.entry(id).or_default().push(handle);
        }
    }

    async fn cancel(&self, id: &VideoId) -> bool {
        let handles = self
            .tasks
            .lock()
            .ok()
            .and_then(|mut t| t.remove(id))
            .unwrap_or_default();
        let mut any = false;
        for h in handles {
            any |= !h.is_finished();
            // Dropping the coordinator's future kills its ffmpeg processes.
            h.abort();
            let _ = h.await;
        }
        if any {
            info!(video.id = %id, "processing cancelled");
        }
        any
    }

    fn is_running(&self, id: &VideoId) -> Option<bool> {
        let tasks = self.tasks.lock().ok()?;
        Some(
            tasks
                .get(id)
                .is_some_and(|hs| hs.iter().any(|h| !h.is_finished())),
        )
    }
}

/// The processor of the AWS deployment: the S3 `ObjectCreated` event of the
/// completed upload invokes the coordinator function, so starting is a no-op
/// here, and this process cannot see or stop that work.
#[derive(Debug, Default, Clone, Copy)]
pub struct EventProcessor;

#[async_trait]
impl Processor for EventProcessor {
    fn start(&self, req: StartRequest) {
        info!(video.id = %req.video_id, upload.key = %req.upload_key, "the upload's S3 event starts processing");
    }

    async fn cancel(&self, _id: &VideoId) -> bool {
        false
    }

    fn is_running(&self, _id: &VideoId) -> Option<bool> {
        None
    }
}

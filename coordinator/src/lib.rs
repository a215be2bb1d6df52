//! slicecast-coordinator: turns an upload into a finished video.
//!
//! [`process_upload`] hashes the object (MD5 = the video id), claims the id,
//! probes and plans, fans the slice jobs and the audio job out through an
//! [`Invoker`] with bounded concurrency and retries, records progress in the
//! manifest, then runs the assembler. Whatever goes wrong ends as a
//! `processing_failed` manifest with a reason a person can act on.

pub mod args;
mod failure;
mod fanout;
#[cfg(feature = "fault-injection")]
pub mod faults;
mod hash;
mod headstart;
mod heartbeat;
mod invoker;
mod jobs;
mod live;
mod manifests;
mod pipeline;
mod publish;
mod resume;
mod settings;
mod source;
pub mod subtitles;
pub mod webhook;
mod webhook_http;

pub use failure::Failure;
pub use fanout::JobTimeout;
pub use hash::hash_object;
pub use headstart::HEAD_SECONDS;
pub use invoker::{InvokeError, Invoker, LocalInvoker, describe, run_job, run_job_reporting};
pub use manifests::status;
pub(crate) use manifests::{read_manifest, write_manifest};
pub use settings::{HEARTBEAT_TIMEOUT, Settings};
pub use slicecast_segment_worker::ProgressFn;

use bytes::Bytes;
use heartbeat::{Heartbeat, beat_every};
use pipeline::run_claimed;
use slicecast_core::ladder::Rung;
use slicecast_core::manifest::{Manifest, Stage, Status};
use slicecast_core::{VideoId, keys};
use slicecast_storage::{BlobStore, StoreError};
use std::sync::Arc;
use std::time::Instant;
use tracing::{info, instrument, warn};

/// What happened to an upload.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Processed now.
    Completed(Manifest),
    /// The same bytes were already processed; nothing was done.
    AlreadyComplete(Manifest),
    /// Someone else is processing the same bytes right now.
    InProgress(Manifest),
}

impl Outcome {
    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        match self {
            Self::Completed(m) | Self::AlreadyComplete(m) | Self::InProgress(m) => m,
        }
    }
}

/// Processing stopped.
#[derive(Debug, thiserror::Error)]
pub enum CoordinatorError {
    /// The video failed; its manifest says `processing_failed` with this reason.
    #[error("{reason}")]
    Failed {
        /// The video.
        video_id: VideoId,
        /// Why, for a person (the same public text as the manifest's `error`).
        reason: String,
    },
    /// The upload could not even be read (so no video id exists).
    #[error("could not read the upload: {0}")]
    Upload(#[source] StoreError),
    /// The store failed while recording the outcome.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Progress events for a caller's display.
#[derive(Debug, Clone)]
pub enum Event {
    /// The video id is known.
    Hashed(VideoId),
    /// The plan is made.
    Planned {
        /// Slices.
        slices: u32,
        /// Rungs.
        rungs: Vec<Rung>,
        /// Has audio.
        audio: bool,
    },
    /// A job finished.
    JobDone {
        /// Slices done.
        slices_done: u32,
        /// Slices total.
        slices_total: u32,
    },
    /// Running slices moved the encoding stage's fraction (at most about
    /// once a second).
    Progress {
        /// 0 ..= 1: finished jobs and the running slices' parts.
        fraction: f64,
    },
    /// A new stage began.
    Stage(Stage),
}

/// Receives [`Event`]s.
pub type EventSink = Arc<dyn Fn(Event) + Send + Sync>;

pub(crate) use slicecast_core::now_ms;

/// Processes the object at `upload_key` from hash to assembled output.
#[instrument(skip_all, fields(upload.key = upload_key))]
pub async fn process_upload(
    store: Arc<dyn BlobStore>,
    invoker: Arc<dyn Invoker>,
    upload_key: &str,
    settings: &Settings,
    events: EventSink,
) -> Result<Outcome, CoordinatorError> {
    process_hashed_upload(store, invoker, upload_key, None, settings, events).await
}

/// Like [`process_upload`], for a caller that already hashed the object while
/// receiving it (`known` = its id and size): the object is not read twice.
pub async fn process_hashed_upload(
    store: Arc<dyn BlobStore>,
    invoker: Arc<dyn Invoker>,
    upload_key: &str,
    known: Option<(VideoId, u64)>,
    settings: &Settings,
    events: EventSink,
) -> Result<Outcome, CoordinatorError> {
    let started = Instant::now();
    events(Event::Stage(Stage::Hashing));
    let (id, size, early) = match known {
        Some((id, size)) => (id, size, None),
        None => {
            // The probe reads the upload while it is hashed (it does not
            // need the id); a location the store cannot give is reported
            // by `run_claimed`, which asks again.
            let early = store
                .readable_location(upload_key)
                .await
                .ok()
                .map(|location| source::EarlyProbe::start(location, settings.limits));
            let (id, size) = hash_object(store.as_ref(), upload_key)
                .await
                .map_err(CoordinatorError::Upload)?;
            (id, size, early)
        }
    };
    let hash_ms = started.elapsed().as_millis() as u64;
    info!(video.id = %id, size_bytes = size, duration_ms = hash_ms, "hashed upload");
    events(Event::Hashed(id.clone()));

    let now = now_ms();
    let deadline = now + settings.deadline.as_millis() as u64;
    let mut manifest = Manifest::new(id.clone(), upload_key.to_owned(), now, deadline);
    manifest.timings.hash_ms = hash_ms;
    let claim = serde_json::to_vec_pretty(&manifest).map_err(|e| StoreError::Io {
        key: keys::manifest(&id),
        source: std::io::Error::other(e),
    })?;
    if !store
        .put_if_absent(&keys::manifest(&id), Bytes::from(claim))
        .await?
    {
        match status(store.as_ref(), &id, settings.heartbeat_timeout).await? {
            Some(m) if m.status == Status::ProcessingComplete => {
                info!(video.id = %id, "already processed");
                return Ok(Outcome::AlreadyComplete(m));
            }
            Some(m) if m.status == Status::Processing => {
                info!(video.id = %id, "already being processed");
                return Ok(Outcome::InProgress(m));
            }
            _ => {
                // An interrupted run leaves its finished jobs' results in
                // work/: they are reused (see `resume`). A run that ended,
                // failed or not, removed its work/ already.
                info!(video.id = %id, "reclaiming a failed, interrupted or unreadable earlier attempt");
                write_manifest(store.as_ref(), &manifest).await?;
            }
        }
    }

    let heartbeat = Heartbeat::start(
        store.clone(),
        id.clone(),
        beat_every(settings.heartbeat_timeout),
    );
    let run = run_claimed(
        store.clone(),
        invoker,
        manifest.clone(),
        size,
        settings,
        events.clone(),
        early,
    );
    let result = match tokio::time::timeout(settings.deadline, run).await {
        Ok(r) => r,
        Err(_) => Err(Failure::Deadline(settings.deadline.as_secs())),
    };
    heartbeat.stop().await;
    match result {
        Ok((m, source)) => {
            if let Some(w) = &settings.webhooks {
                w.send("video.ready", &m);
            }
            // The transcription reads the source the jobs read, which may be
            // the continuous copy in work/: work/ goes after it.
            let m = match &settings.transcriber {
                Some(t) => {
                    events(Event::Stage(Stage::Transcribing));
                    let m =
                        subtitles::transcribe(store.as_ref(), t.as_ref(), m, &source.0, source.1)
                            .await;
                    let _ = store.delete_prefix(&keys::work(&id, "")).await;
                    let m = m?;
                    if m.transcription_status
                        == slicecast_core::manifest::TranscriptionStatus::Completed
                        && let Some(w) = &settings.webhooks
                    {
                        w.send("subtitles.ready", &m);
                    }
                    m
                }
                None => {
                    let _ = store.delete_prefix(&keys::work(&id, "")).await;
                    m
                }
            };
            events(Event::Stage(Stage::Done));
            Ok(Outcome::Completed(m))
        }
        Err(failure) => {
            let _ = store.delete_prefix(&keys::work(&id, "")).await;
            let reason = failure.to_string();
            warn!(video.id = %id, reason = %reason, retryable = failure.is_retryable(), "video failed");
            let current = read_manifest(store.as_ref(), &id)
                .await
                .ok()
                .flatten()
                .unwrap_or(manifest);
            let failed = current.failed(reason, now_ms());
            write_manifest(store.as_ref(), &failed).await?;
            if let Some(w) = &settings.webhooks {
                w.send("video.failed", &failed);
            }
            events(Event::Stage(Stage::Done));
            Err(CoordinatorError::Failed {
                video_id: id,
                reason: failed.error.unwrap_or_default(),
            })
        }
    }
}

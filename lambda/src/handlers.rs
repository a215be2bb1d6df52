//! The functions' handlers, free of the Lambda runtime: the thin `main`s in
//! `src/bin/` hand them the decoded event.

use crate::events::{self, Record};
use aws_lambda_events::s3::S3Event;
use serde::{Deserialize, Serialize};
use slicecast_assembler::{AssembleInput, Assembled};
use slicecast_coordinator::subtitles::check_pending;
use slicecast_coordinator::{
    CoordinatorError, InvokeError, Invoker, Outcome, Settings, run_job, run_job_reporting,
};
use slicecast_core::job::{Job, JobResult};
use slicecast_core::manifest::TranscriptionStatus;
use slicecast_core::{VideoId, keys};
use slicecast_segment_worker::WorkerOptions;
use slicecast_storage::BlobStore;
use std::sync::Arc;
use std::time::Instant;
use tracing::{error, info, warn};

/// The `errorType` of a handler failure that no retry can fix; the
/// coordinator's [`LambdaInvoker`](crate::invoker::LambdaInvoker) reads it
/// back from the function error, so a worker's permanent failure stays one
/// across the Invoke API.
pub const PERMANENT_ERROR_TYPE: &str = "SlicecastPermanentError";

/// A handler failed; Lambda reports it as a function error with this message.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct HandlerError {
    /// For the log and the caller.
    pub message: String,
    /// No retry can fix it.
    pub permanent: bool,
}

impl HandlerError {
    /// A failure another try may fix.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: false,
        }
    }

    /// A failure every try would repeat.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: true,
        }
    }
}

impl From<InvokeError> for HandlerError {
    fn from(e: InvokeError) -> Self {
        Self {
            message: e.message,
            permanent: !e.retryable && !e.throttled,
        }
    }
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(e: HandlerError) -> Self {
        Self {
            error_type: if e.permanent {
                PERMANENT_ERROR_TYPE
            } else {
                "SlicecastError"
            }
            .into(),
            error_message: e.message,
        }
    }
}

/// What the coordinator did with one upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadOutcome {
    /// The upload's key (decoded).
    pub key: String,
    /// The video id, once known.
    pub video_id: Option<String>,
    /// `processing_complete`, `processing_failed`, `already_complete`,
    /// `in_progress` (another coordinator has it) or `gone` (deleted before
    /// it could be read).
    pub status: String,
    /// Why it failed.
    pub error: Option<String>,
}

/// A record the coordinator skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    /// Its key.
    pub key: String,
    /// Why.
    pub reason: String,
}

/// What the coordinator did with a finished transcription job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptOutcome {
    /// The video.
    pub video_id: String,
    /// The job.
    pub job: String,
    /// The video's `transcription_status` afterwards (`gone`: the video was deleted).
    pub transcription_status: String,
}

/// The coordinator's reply to an S3 event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CoordinatorReply {
    /// Uploads handled.
    pub processed: Vec<UploadOutcome>,
    /// Transcription jobs whose output arrived.
    #[serde(default)]
    pub transcripts: Vec<TranscriptOutcome>,
    /// Records not for the coordinator (its own output, other prefixes, other event kinds).
    pub ignored: Vec<Skipped>,
}

/// What the coordinator works with.
pub struct Coordinator {
    /// The bucket.
    pub store: Arc<dyn BlobStore>,
    /// Where jobs run.
    pub invoker: Arc<dyn Invoker>,
    /// How videos are processed.
    pub settings: Settings,
}

impl Coordinator {
    /// Processes one upload. A video another coordinator is processing is
    /// watched for up to one heartbeat timeout: this invocation may be
    /// Lambda's retry of one that crashed, whose heartbeat has not gone stale
    /// yet; when it does, this one takes the video over and resumes it (its
    /// finished jobs are kept). A heartbeat that stays fresh is a live
    /// coordinator, left alone.
    async fn process(&self, key: &str) -> Result<Outcome, CoordinatorError> {
        let run = |known| {
            slicecast_coordinator::process_hashed_upload(
                self.store.clone(),
                self.invoker.clone(),
                key,
                known,
                &self.settings,
                Arc::new(|_| {}),
            )
        };
        let mut outcome = run(None).await;
        let watch_until = Instant::now() + self.settings.heartbeat_timeout * 3 / 2;
        while let Ok(Outcome::InProgress(m)) = &outcome {
            if Instant::now() >= watch_until {
                break;
            }
            tokio::time::sleep(self.settings.heartbeat_timeout / 4).await;
            let size = self.store.head(key).await.map(|h| h.size)?;
            outcome = run(Some((m.video_id.clone(), size))).await;
        }
        outcome
    }

    /// Processes every upload an S3 event names; ignores everything else.
    /// A video that fails is recorded as `processing_failed` in its manifest
    /// and is not a handler error (a retry of the event would fail the same
    /// way); only a storage failure is, so Lambda retries the event.
    pub async fn handle(&self, event: S3Event) -> Result<CoordinatorReply, HandlerError> {
        let mut reply = CoordinatorReply::default();
        for record in events::records(&event) {
            let key = match record {
                Record::Ignored { key, reason } => {
                    info!(key = %key, reason, "ignored");
                    reply.ignored.push(Skipped {
                        key,
                        reason: reason.to_owned(),
                    });
                    continue;
                }
                Record::Transcript { video_id, job } => {
                    reply
                        .transcripts
                        .push(self.transcript(video_id, job).await?);
                    continue;
                }
                Record::Source(key) => key,
            };
            let outcome = self.process(&key).await;
            let (video_id, status, err) = match outcome {
                Ok(Outcome::Completed(m)) => (Some(m.video_id), "processing_complete", None),
                Ok(Outcome::AlreadyComplete(m)) => {
                    info!(key = %key, video.id = %m.video_id, "same bytes already processed");
                    (Some(m.video_id), "already_complete", None)
                }
                Ok(Outcome::InProgress(m)) => {
                    info!(key = %key, video.id = %m.video_id, "same bytes being processed by another coordinator");
                    (Some(m.video_id), "in_progress", None)
                }
                Err(CoordinatorError::Failed { video_id, reason }) => {
                    (Some(video_id), "processing_failed", Some(reason))
                }
                Err(CoordinatorError::Upload(e)) if e.is_not_found() => {
                    warn!(key = %key, "the upload was deleted before it could be read");
                    (None, "gone", Some(e.to_string()))
                }
                Err(e) => {
                    error!(key = %key, error = %e, "processing stopped");
                    return Err(HandlerError::new(format!("processing {key} stopped: {e}")));
                }
            };
            reply.processed.push(UploadOutcome {
                key,
                video_id: video_id.map(|v| v.to_string()),
                status: status.to_owned(),
                error: err,
            });
        }
        // A frozen invocation delivers nothing: the webhooks go out before it returns.
        if let Some(w) = &self.settings.webhooks {
            w.flush(WEBHOOK_FLUSH).await;
        }
        Ok(reply)
    }
}

impl Coordinator {
    /// A transcription job's output arrived: publish the video's subtitles
    /// (or record the job's failure). Output of a video deleted meanwhile is removed.
    async fn transcript(
        &self,
        id: VideoId,
        job: String,
    ) -> Result<TranscriptOutcome, HandlerError> {
        let Some(t) = &self.settings.transcriber else {
            warn!(video.id = %id, job = %job, "a transcript arrived but subtitles are off here; ignored");
            return Ok(TranscriptOutcome {
                video_id: id.to_string(),
                job,
                transcription_status: "ignored".into(),
            });
        };
        let status = match check_pending(self.store.as_ref(), t.as_ref(), &id, Some(&job))
            .await
            .map_err(|e| {
                HandlerError::new(format!("recording the transcript of {id} failed: {e}"))
            })? {
            Some(m) => {
                if m.transcription_status == TranscriptionStatus::Completed
                    && let Some(w) = &self.settings.webhooks
                {
                    w.send("subtitles.ready", &m);
                }
                serde_json::to_value(m.transcription_status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            }
            None => {
                info!(video.id = %id, job = %job, "transcript of a deleted video; removing it");
                let _ = self.store.delete_prefix(&keys::transcripts(&id)).await;
                "gone".into()
            }
        };
        Ok(TranscriptOutcome {
            video_id: id.to_string(),
            job,
            transcription_status: status,
        })
    }
}

/// How long a coordinator invocation waits for its webhooks before it
/// returns (each is retried within this; a receiver down longer misses it).
const WEBHOOK_FLUSH: std::time::Duration = std::time::Duration::from_secs(30);

/// What a segment worker works with.
pub struct Worker {
    /// The bucket.
    pub store: Arc<dyn BlobStore>,
    /// Encoder options.
    pub options: WorkerOptions,
}

impl Worker {
    /// Runs one slice or audio job; the result lists what it wrote under
    /// deterministic keys (a retry overwrites the same objects).
    pub async fn handle(&self, job: Job) -> Result<JobResult, HandlerError> {
        let Job::Slice(slice) = &job else {
            return run_job(job, self.store.as_ref(), &self.options)
                .await
                .map_err(HandlerError::from);
        };
        // The encoder's progress goes to the slice's progress object, for the coordinator.
        let (tx, rx) = tokio::sync::watch::channel(0.0);
        let writer = tokio::spawn(crate::progress::store_latest(
            self.store.clone(),
            crate::progress::key(slice),
            slice.attempt,
            rx,
        ));
        let report = move |f: f64| {
            let _ = tx.send(f);
        };
        let result = run_job_reporting(job, self.store.as_ref(), &self.options, &report).await;
        writer.abort();
        result.map_err(HandlerError::from)
    }
}

/// Runs the assembler.
pub async fn assemble(
    store: &dyn BlobStore,
    input: AssembleInput,
) -> Result<Assembled, HandlerError> {
    slicecast_assembler::assemble(store, &input)
        .await
        .map_err(|e| HandlerError::new(e.to_string()))
}

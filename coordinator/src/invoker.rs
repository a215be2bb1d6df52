//! How jobs reach workers: the [`Invoker`] trait and the local worker pool.

use async_trait::async_trait;
use slicecast_assembler::{AssembleInput, Assembled};
use slicecast_core::job::{Job, JobResult};
use slicecast_core::public::redact_queries;
use slicecast_segment_worker::{
    ProgressFn, WorkerError, WorkerOptions, encode_audio, encode_slice_reporting,
};
use slicecast_storage::BlobStore;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// A job failed in the worker, or could not reach one.
/// Every message is stored with the query strings of its URLs removed: it is
/// logged, and a worker's ffmpeg may name the presigned URL it read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct InvokeError {
    /// What went wrong, for a person.
    pub message: String,
    /// Whether another try may succeed.
    pub retryable: bool,
    /// The platform refused for lack of capacity (Lambda throttling): retried
    /// with backoff without counting as one of the job's tries.
    pub throttled: bool,
}

impl InvokeError {
    /// The job ran and failed; another try may succeed.
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            message: redact_queries(&message.into()),
            retryable: true,
            throttled: false,
        }
    }

    /// Trying again cannot help.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: redact_queries(&message.into()),
            retryable: false,
            throttled: false,
        }
    }

    /// No capacity right now; try again later.
    pub fn throttled(message: impl Into<String>) -> Self {
        Self {
            message: redact_queries(&message.into()),
            retryable: true,
            throttled: true,
        }
    }
}

/// Runs jobs somewhere: a local pool ([`LocalInvoker`]) or Lambda functions.
/// The coordinator does not know which.
#[async_trait]
pub trait Invoker: Send + Sync {
    /// Runs one slice or audio job to completion.
    async fn invoke(&self, job: Job) -> Result<JobResult, InvokeError>;

    /// Runs one job as [`invoke`](Self::invoke) does, telling `progress`
    /// how far it is while it runs, where the workers can say (the local
    /// pool can; by default nothing is reported).
    async fn invoke_reporting(
        &self,
        job: Job,
        progress: &ProgressFn,
    ) -> Result<JobResult, InvokeError> {
        let _ = progress;
        self.invoke(job).await
    }

    /// Runs the assembler over every job's result.
    async fn assemble(&self, input: AssembleInput) -> Result<Assembled, InvokeError>;

    /// Whether capacity grows with demand (Lambda), so a second copy of a
    /// straggling job takes no one else's slot. The coordinator re-dispatches
    /// stragglers only then.
    fn elastic(&self) -> bool {
        false
    }
}

/// Runs jobs in this process, at most `workers` at a time (shared by every
/// video that uses this invoker).
pub struct LocalInvoker {
    store: Arc<dyn BlobStore>,
    opts: WorkerOptions,
    permits: Arc<Semaphore>,
}

impl LocalInvoker {
    /// A pool of `workers` over `store`.
    pub fn new(store: Arc<dyn BlobStore>, workers: usize, opts: WorkerOptions) -> Self {
        Self {
            store,
            opts,
            permits: Arc::new(Semaphore::new(workers.max(1))),
        }
    }
}

/// A worker error as one plain sentence for the person whose video it is:
/// ffmpeg's own words (codec jargon, byte offsets) stay in the log, where
/// [`run_job_reporting`] writes them.
pub fn describe(e: &WorkerError) -> String {
    use slicecast_media::ProcessError as P;
    match e {
        WorkerError::Ffmpeg {
            what,
            source: P::Timeout { timeout, .. },
        } => format!(
            "encoding {what} took longer than its {} s limit",
            timeout.as_secs()
        ),
        WorkerError::Ffmpeg {
            what,
            source: P::Failed { .. },
        } => format!(
            "{what} could not be decoded and encoded: the video data there may be damaged, or in a form ffmpeg cannot read"
        ),
        other => other.to_string(),
    }
}

/// Runs one job in this process: the segment worker's encode. Shared by the
/// local pool and the Lambda worker. A failure keeps the worker's
/// classification: retryable, or permanent (ffmpeg missing, the source gone),
/// which fails the video at once instead of after every try. Test builds
/// (the `fault-injection` feature) first apply `SLICECAST_FAIL_SLICE` and
/// `SLICECAST_SLOW_SLICES` (see [`crate::faults`]).
pub async fn run_job(
    job: Job,
    store: &dyn BlobStore,
    opts: &WorkerOptions,
) -> Result<JobResult, InvokeError> {
    run_job_reporting(
        job,
        store,
        opts,
        &slicecast_segment_worker::progress::ignore,
    )
    .await
}

/// [`run_job`], telling `progress` how far a slice's encoder is.
pub async fn run_job_reporting(
    job: Job,
    store: &dyn BlobStore,
    opts: &WorkerOptions,
    progress: &ProgressFn,
) -> Result<JobResult, InvokeError> {
    #[cfg(feature = "fault-injection")]
    if let Some(message) = crate::faults::from_env(&job) {
        return Err(InvokeError::failed(message));
    }
    #[cfg(feature = "fault-injection")]
    if let Some(delay) = crate::faults::delay_from_env(&job) {
        tokio::time::sleep(delay).await;
    }
    let classify = |e: WorkerError| {
        tracing::warn!(
            error = %e,
            ffmpeg = %slicecast_media::process::last_lines(e.stderr_tail(), 3),
            "job failed"
        );
        if e.is_retryable() {
            InvokeError::failed(describe(&e))
        } else {
            InvokeError::permanent(describe(&e))
        }
    };
    match job {
        Job::Slice(j) => encode_slice_reporting(&j, store, opts, progress)
            .await
            .map(JobResult::Slice)
            .map_err(classify),
        Job::Audio(j) => encode_audio(&j, store, opts)
            .await
            .map(JobResult::Audio)
            .map_err(classify),
    }
}

#[async_trait]
impl Invoker for LocalInvoker {
    async fn invoke(&self, job: Job) -> Result<JobResult, InvokeError> {
        self.invoke_reporting(job, &slicecast_segment_worker::progress::ignore)
            .await
    }

    async fn invoke_reporting(
        &self,
        job: Job,
        progress: &ProgressFn,
    ) -> Result<JobResult, InvokeError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| InvokeError::permanent("the worker pool is shut down"))?;
        run_job_reporting(job, self.store.as_ref(), &self.opts, progress).await
    }

    async fn assemble(&self, input: AssembleInput) -> Result<Assembled, InvokeError> {
        slicecast_assembler::assemble(self.store.as_ref(), &input)
            .await
            .map_err(|e| InvokeError::permanent(e.to_string()))
    }
}

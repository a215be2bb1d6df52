//! How jobs reach workers: the [`Invoker`] trait and the local worker pool.

use async_trait::async_trait;
use slicecast_core::job::{Job, JobResult};
use slicecast_segment_worker::{WorkerError, WorkerOptions, encode_audio, encode_slice};
use slicecast_storage::BlobStore;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// A job failed in the worker.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct InvokeError {
    /// What went wrong, for a person.
    pub message: String,
    /// Whether another try may succeed.
    pub retryable: bool,
}

/// Runs jobs somewhere: a local pool, or Lambda.
#[async_trait]
pub trait Invoker: Send + Sync {
    /// Runs one job to completion.
    async fn invoke(&self, job: Job) -> Result<JobResult, InvokeError>;
}

/// Runs jobs in this process, at most `workers` at a time (shared by every
/// video that uses this invoker).
pub struct LocalInvoker {
    store: Arc<dyn BlobStore>,
    opts: WorkerOptions,
    permits: Arc<Semaphore>,
    fail: Option<(u32, u32)>,
}

impl LocalInvoker {
    /// A pool of `workers` over `store`.
    ///
    /// Test hook: the environment variable `SLICECAST_FAIL_SLICE="k"` (or `"k:n"`)
    /// makes slice k fail its first n attempts (1 by default).
    pub fn new(store: Arc<dyn BlobStore>, workers: usize, opts: WorkerOptions) -> Self {
        let fail = std::env::var("SLICECAST_FAIL_SLICE").ok().and_then(|v| {
            let (k, n) = v.split_once(':').unwrap_or((&v, "1"));
            Some((k.parse().ok()?, n.parse().ok()?))
        });
        Self {
            store,
            opts,
            permits: Arc::new(Semaphore::new(workers.max(1))),
            fail,
        }
    }

    /// Like [`LocalInvoker::new`], with slice `fail.0` failing its first `fail.1` attempts (for tests).
    pub fn with_injected_failure(
        store: Arc<dyn BlobStore>,
        workers: usize,
        opts: WorkerOptions,
        fail: (u32, u32),
    ) -> Self {
        Self {
            fail: Some(fail),
            ..Self::new(store, workers, opts)
        }
    }
}

fn describe(e: &WorkerError) -> String {
    let tail = slicecast_media::process::last_lines(e.stderr_tail(), 2);
    if tail.is_empty() || e.to_string().contains(&tail) {
        e.to_string()
    } else {
        format!("{e} ({tail})")
    }
}

#[async_trait]
impl Invoker for LocalInvoker {
    async fn invoke(&self, job: Job) -> Result<JobResult, InvokeError> {
        let _permit = self.permits.acquire().await.map_err(|_| InvokeError {
            message: "the worker pool is shut down".into(),
            retryable: false,
        })?;
        let store = self.store.as_ref();
        let err = |e: WorkerError| InvokeError {
            message: describe(&e),
            retryable: true,
        };
        match job {
            Job::Slice(j) => {
                if let Some((k, n)) = self.fail
                    && j.slice.index == k
                    && j.attempt <= n
                {
                    return Err(InvokeError {
                        message: format!("injected failure of slice {k} (attempt {})", j.attempt),
                        retryable: true,
                    });
                }
                encode_slice(&j, store, &self.opts)
                    .await
                    .map(JobResult::Slice)
                    .map_err(err)
            }
            Job::Audio(j) => encode_audio(&j, store, &self.opts)
                .await
                .map(JobResult::Audio)
                .map_err(err),
        }
    }
}

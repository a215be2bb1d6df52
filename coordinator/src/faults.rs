//! Test-only fault injection (the `fault-injection` feature, enabled by the
//! test support crate and never by a release build): chosen or random slice
//! attempts fail, so retries, chaos and failure paths run through the real
//! pipeline. Rules are `SLICECAST_FAIL_SLICE`'s (see
//! [`slicecast_segment_worker::parse_rules`]).

use crate::invoker::{InvokeError, Invoker};
use async_trait::async_trait;
use slicecast_assembler::{AssembleInput, Assembled};
use slicecast_core::job::{Job, JobResult};
use slicecast_segment_worker::{FailureRule, injected_failure, rules_from_env};
use std::sync::{Arc, OnceLock};

/// The failure `rules` inject into `job`, if any (logged).
fn injected(rules: &[FailureRule], job: &Job) -> Option<String> {
    let Job::Slice(j) = job else { return None };
    let message = injected_failure(rules, j)?;
    tracing::warn!(
        slice = j.slice.index,
        attempt = j.attempt,
        "injected failure"
    );
    Some(message)
}

/// The failure `SLICECAST_FAIL_SLICE` (read once per process) injects into
/// `job`: how the `slicecast` binary and the Lambda worker of a test build
/// are made to fail.
pub fn from_env(job: &Job) -> Option<String> {
    static RULES: OnceLock<Vec<FailureRule>> = OnceLock::new();
    injected(RULES.get_or_init(rules_from_env), job)
}

/// How long `SLICECAST_SLOW_SLICES` holds `job` back before it runs (see
/// [`slicecast_segment_worker::SLOW_SLICES_ENV`]).
pub fn delay_from_env(job: &Job) -> Option<std::time::Duration> {
    match job {
        Job::Slice(j) => slicecast_segment_worker::slow_slice_delay(j),
        Job::Audio(_) => None,
    }
}

/// An [`Invoker`] whose slice jobs fail as `rules` say before `inner` runs them.
pub struct FaultyInvoker {
    inner: Arc<dyn Invoker>,
    rules: Vec<FailureRule>,
}

impl FaultyInvoker {
    /// `inner`, with slice `slice` failing its first `attempts` attempts.
    pub fn failing(inner: Arc<dyn Invoker>, slice: u32, attempts: u32) -> Self {
        Self {
            inner,
            rules: vec![FailureRule {
                slice,
                attempts,
                video: None,
                chance: None,
            }],
        }
    }
}

#[async_trait]
impl Invoker for FaultyInvoker {
    async fn invoke(&self, job: Job) -> Result<JobResult, InvokeError> {
        match injected(&self.rules, &job) {
            Some(message) => Err(InvokeError::failed(message)),
            None => self.inner.invoke(job).await,
        }
    }

    async fn invoke_reporting(
        &self,
        job: Job,
        progress: &slicecast_segment_worker::ProgressFn,
    ) -> Result<JobResult, InvokeError> {
        match injected(&self.rules, &job) {
            Some(message) => Err(InvokeError::failed(message)),
            None => self.inner.invoke_reporting(job, progress).await,
        }
    }

    async fn assemble(&self, input: AssembleInput) -> Result<Assembled, InvokeError> {
        self.inner.assemble(input).await
    }

    fn elastic(&self) -> bool {
        self.inner.elastic()
    }
}

//! Runs a video's jobs through an [`Invoker`]: bounded concurrency, retries
//! with exponential backoff (throttling does not use up a job's tries), an
//! optional deadline per attempt, and, on elastic capacity, a second copy of
//! any slice that runs past `straggler_factor` × the median slice time. The
//! first copy to finish wins; jobs write deterministic keys, so a late copy
//! only overwrites identical objects.

use crate::{Failure, InvokeError, Invoker, Settings};
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use slicecast_core::job::{Job, JobResult};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{debug, info, warn};

/// How long one attempt of a job may take: `base + per_second × seconds of
/// media`, at most `max` (e.g. just under a Lambda function's timeout).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JobTimeout {
    /// Fixed part.
    pub base: Duration,
    /// Per second of media in the job.
    pub per_second: Duration,
    /// Upper bound.
    pub max: Duration,
}

impl JobTimeout {
    /// The limit for `job`.
    pub fn for_job(&self, job: &Job) -> Duration {
        let seconds = match job {
            Job::Slice(s) => {
                (s.slice.end_pts - s.slice.start_pts).max(0) as f64 * s.time_base.as_f64()
            }
            Job::Audio(a) => a.duration_s,
        };
        (self.base + self.per_second.mul_f64(seconds.max(0.0))).min(self.max)
    }
}

/// A human name for a job, used in logs and failure reasons.
pub(crate) fn job_name(job: &Job) -> String {
    match job {
        Job::Slice(s) => format!("slice {}", s.slice.index),
        Job::Audio(a) => match a.chunk {
            Some(c) => format!("the audio track from segment {}", c.first_fragment),
            None => "the audio track".into(),
        },
    }
}

fn with_attempt(job: &Job, attempt: u32) -> Job {
    let mut j = job.clone();
    match &mut j {
        Job::Slice(s) => s.attempt = attempt,
        Job::Audio(a) => a.attempt = attempt,
    }
    j
}

/// `base × 2^(n-1)`, at most 30 s, with ±25 % jitter so retries of many
/// throttled jobs spread out.
pub(crate) fn backoff(n: u32, base: Duration) -> Duration {
    let exp = base.saturating_mul(1 << n.saturating_sub(1).min(16));
    let capped = exp.min(Duration::from_secs(30));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let jitter = 0.75 + f64::from(nanos % 1000) / 2000.0;
    capped.mul_f64(jitter)
}

struct Slot {
    job: Job,
    started: u32,
    failures: u32,
    throttles: u32,
    /// Start instants of attempts in flight.
    running: Vec<(u32, Instant)>,
    redispatched: bool,
    done: bool,
}

struct Finished {
    idx: usize,
    attempt: u32,
    elapsed: Duration,
    result: Result<JobResult, InvokeError>,
}

/// A job's first attempt, started before the fan-out (see `headstart`):
/// the fan-out waits for it as for its own attempts, and retries the job
/// itself if it fails.
pub(crate) struct Started {
    /// The job's position in the list given to [`run_jobs`].
    pub job: usize,
    /// When the attempt started.
    pub at: Instant,
    /// Its result to come.
    pub result: BoxFuture<'static, Result<JobResult, InvokeError>>,
}

/// What [`run_jobs`] tells its caller while jobs run. `job` is the job's
/// position in the list given to [`run_jobs`].
#[derive(Debug)]
pub(crate) enum Update {
    /// A running attempt's fraction done (attempts of one job may report
    /// different fractions; a retry starts again from 0).
    Progress { job: usize, fraction: f64 },
    /// A job's first result.
    Done { job: usize, result: JobResult },
}

/// Runs every job and sends each job's first result, and the progress its
/// attempts report, to `updates` (in the order they happen). Returns a
/// reason for a person when a job fails for good.
pub(crate) async fn run_jobs(
    invoker: Arc<dyn Invoker>,
    jobs: Vec<Job>,
    settings: &Settings,
    updates: tokio::sync::mpsc::UnboundedSender<Update>,
    started: Vec<Started>,
) -> Result<(), Failure> {
    let workers = settings.workers.max(1);
    let max_tries = settings.max_tries.max(1);
    let redispatch = invoker.elastic() && settings.straggler_factor > 0.0;
    let slices_total = jobs.iter().filter(|j| matches!(j, Job::Slice(_))).count();
    let mut slots: Vec<Slot> = jobs
        .into_iter()
        .map(|job| Slot {
            job,
            started: 0,
            failures: 0,
            throttles: 0,
            running: Vec::new(),
            redispatched: false,
            done: false,
        })
        .collect();
    let mut inflight: FuturesUnordered<BoxFuture<'static, Finished>> = FuturesUnordered::new();
    for s in started {
        let Some(slot) = slots.get_mut(s.job) else {
            continue;
        };
        slot.started = 1;
        slot.running.push((1, s.at));
        let (idx, at) = (s.job, s.at);
        inflight.push(
            s.result
                .map(move |result| Finished {
                    idx,
                    attempt: 1,
                    elapsed: at.elapsed(),
                    result,
                })
                .boxed(),
        );
    }
    let mut queue: VecDeque<(usize, Duration)> = (0..slots.len())
        .filter(|&i| slots[i].started == 0)
        .map(|i| (i, Duration::ZERO))
        .collect();
    let mut slice_times: Vec<Duration> = Vec::new();
    let mut remaining = slots.len();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    while remaining > 0 {
        while inflight.len() < workers {
            let Some((idx, delay)) = queue.pop_front() else {
                break;
            };
            let slot = &mut slots[idx];
            if slot.done {
                continue;
            }
            slot.started += 1;
            let attempt = slot.started;
            slot.running.push((attempt, Instant::now() + delay));
            let job = with_attempt(&slot.job, attempt);
            let limit = settings.job_timeout.map(|t| t.for_job(&job));
            let invoker = invoker.clone();
            let progress = updates.clone();
            inflight.push(Box::pin(async move {
                tokio::time::sleep(delay).await;
                let started = Instant::now();
                let report = move |fraction: f64| {
                    let _ = progress.send(Update::Progress { job: idx, fraction });
                };
                let run = invoker.invoke_reporting(job, &report);
                let result = match limit {
                    Some(limit) => tokio::time::timeout(limit, run).await.unwrap_or_else(|_| {
                        Err(InvokeError::failed(format!(
                            "no result within its {:.1} s deadline",
                            limit.as_secs_f64()
                        )))
                    }),
                    None => run.await,
                };
                Finished {
                    idx,
                    attempt,
                    elapsed: started.elapsed(),
                    result,
                }
            }));
        }
        if inflight.is_empty() {
            return Err(Failure::Job(
                "internal error: jobs remain but none is scheduled".into(),
            ));
        }
        tokio::select! {
            Some(f) = inflight.next() => {
                let slot = &mut slots[f.idx];
                slot.running.retain(|(a, _)| *a != f.attempt);
                if slot.done {
                    debug!(job = %job_name(&slot.job), attempt = f.attempt, "a later copy finished too; ignored");
                    continue;
                }
                match f.result {
                    Ok(result) => {
                        slot.done = true;
                        remaining -= 1;
                        if matches!(slot.job, Job::Slice(_)) {
                            slice_times.push(f.elapsed);
                        }
                        if slot.redispatched {
                            info!(job = %job_name(&slot.job), attempt = f.attempt, "straggler finished");
                        }
                        let _ = updates.send(Update::Done { job: f.idx, result });
                    }
                    Err(e) if e.throttled => {
                        slot.throttles += 1;
                        debug!(job = %job_name(&slot.job), error = %e, "throttled; backing off");
                        if slot.running.is_empty() {
                            queue.push_front((f.idx, backoff(slot.throttles, settings.retry_backoff * 4)));
                        }
                    }
                    Err(e) => {
                        slot.failures += 1;
                        let name = job_name(&slot.job);
                        if e.retryable && slot.failures < max_tries {
                            warn!(job = %name, attempt = f.attempt, error = %e, "job failed; retrying");
                            if slot.running.is_empty() {
                                queue.push_front((f.idx, backoff(slot.failures, settings.retry_backoff)));
                            }
                        } else if slot.running.is_empty() {
                            let n = slot.failures;
                            return Err(Failure::Job(format!(
                                "encoding {name} failed after {n} attempt{}: {e}",
                                if n == 1 { "" } else { "s" }
                            )));
                        } else {
                            warn!(job = %name, error = %e, "job failed; waiting for its other copy");
                        }
                    }
                }
            }
            _ = tick.tick(), if redispatch => {
                for idx in stragglers(&slots, &slice_times, slices_total, settings.straggler_factor) {
                    let slot = &mut slots[idx];
                    slot.redispatched = true;
                    info!(job = %job_name(&slot.job), "straggler: dispatching a second copy");
                    queue.push_front((idx, Duration::ZERO));
                }
            }
        }
    }
    Ok(())
}

/// Slices whose attempt in flight has run past `factor` × the median slice
/// time (at least 1 s), once half of all slices are done; each at most once.
fn stragglers(slots: &[Slot], times: &[Duration], total: usize, factor: f64) -> Vec<usize> {
    if times.is_empty() || times.len() * 2 < total {
        return Vec::new();
    }
    let mut sorted = times.to_vec();
    sorted.sort();
    let median = sorted[sorted.len() / 2];
    let limit = median.mul_f64(factor).max(Duration::from_secs(1));
    let now = Instant::now();
    slots
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            matches!(s.job, Job::Slice(_))
                && !s.done
                && !s.redispatched
                && s.running
                    .iter()
                    .map(|(_, t)| *t)
                    .min()
                    .is_some_and(|t| now.saturating_duration_since(t) > limit)
        })
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests;

//! Runs a video's jobs through an [`Invoker`]: bounded concurrency, retries
//! with exponential backoff (throttling does not use up a job's tries), an
//! optional deadline per attempt, and, on elastic capacity, a second copy of
//! any slice that runs past `straggler_factor` × the median slice time. The
//! first copy to finish wins; jobs write deterministic keys, so a late copy
//! only overwrites identical objects.

use crate::{Failure, InvokeError, Invoker, Settings};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
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

/// Runs every job and sends each job's first result to `results` (in
/// completion order). Returns a reason for a person when a job fails for good.
pub(crate) async fn run_jobs(
    invoker: Arc<dyn Invoker>,
    jobs: Vec<Job>,
    settings: &Settings,
    results: tokio::sync::mpsc::UnboundedSender<JobResult>,
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
    let mut queue: VecDeque<(usize, Duration)> =
        (0..slots.len()).map(|i| (i, Duration::ZERO)).collect();
    let mut inflight = FuturesUnordered::new();
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
            inflight.push(async move {
                tokio::time::sleep(delay).await;
                let started = Instant::now();
                let result = match limit {
                    Some(limit) => tokio::time::timeout(limit, invoker.invoke(job))
                        .await
                        .unwrap_or_else(|_| {
                            Err(InvokeError::failed(format!(
                                "no result within its {:.1} s deadline",
                                limit.as_secs_f64()
                            )))
                        }),
                    None => invoker.invoke(job).await,
                };
                Finished {
                    idx,
                    attempt,
                    elapsed: started.elapsed(),
                    result,
                }
            });
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
                        let _ = results.send(result);
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
mod tests {
    use super::*;
    use async_trait::async_trait;
    use slicecast_assembler::{AssembleInput, Assembled};
    use slicecast_core::VideoId;
    use slicecast_core::job::{EncodeSettings, SliceJob, SliceResult, SourceRef};
    use slicecast_core::plan::Slice;
    use slicecast_core::source_info::Rational;
    use std::sync::Mutex;

    fn slice_job(index: u32) -> Job {
        Job::Slice(SliceJob {
            video_id: VideoId::from_digest(&[0; 16]),
            source: SourceRef {
                location: "in.mp4".into(),
                format_name: "mp4".into(),
                start_time_s: 0.0,
            },
            video_stream: 0,
            time_base: Rational::new(1, 1000),
            timescale: 90_000,
            origin_pts: 0,
            slice: Slice {
                index,
                first_frame: 0,
                end_frame: 1,
                start_pts: i64::from(index) * 1000,
                end_pts: i64::from(index + 1) * 1000,
                seek_pts: 0,
                on_keyframe: true,
                first_segment: index,
                segment_starts: vec![i64::from(index) * 1000],
                force_keyframes_s: vec![],
                thumbs: vec![],
                thumb_every_pts: 1000,
                lead_pad: 0,
                tail_pad: 0,
                trim_start_pts: i64::from(index) * 1000,
                trim_end_pts: i64::from(index + 1) * 1000,
            },
            video_delay_ticks: 0,
            rungs: vec![],
            settings: EncodeSettings {
                preset: "ultrafast".into(),
                crf: 21,
                threads: 1,
                deinterlace: false,
                thumb_size: (2, 2),
            },
            attempt: 1,
        })
    }

    /// Answers by a script: `behave(index, attempt, call number)`.
    struct Scripted<F> {
        behave: F,
        elastic: bool,
        calls: Mutex<Vec<(u32, u32)>>,
    }

    #[async_trait]
    impl<F> Invoker for Scripted<F>
    where
        F: Fn(u32, u32, usize) -> (Duration, Result<(), InvokeError>) + Send + Sync,
    {
        async fn invoke(&self, job: Job) -> Result<JobResult, InvokeError> {
            let Job::Slice(s) = job else {
                return Err(InvokeError::permanent("slices only"));
            };
            let n = {
                let mut calls = self.calls.lock().expect("lock");
                calls.push((s.slice.index, s.attempt));
                calls.len()
            };
            let (wait, outcome) = (self.behave)(s.slice.index, s.attempt, n);
            tokio::time::sleep(wait).await;
            outcome.map(|()| {
                JobResult::Slice(SliceResult {
                    index: s.slice.index,
                    rungs: vec![],
                    thumbs: 0,
                    frames: 1,
                    encode_ms: 0,
                    attempt: s.attempt,
                    job_digest: String::new(),
                })
            })
        }

        async fn assemble(&self, _input: AssembleInput) -> Result<Assembled, InvokeError> {
            Err(InvokeError::permanent("not here"))
        }

        fn elastic(&self) -> bool {
            self.elastic
        }
    }

    fn settings(max_tries: u32) -> Settings {
        Settings {
            workers: 8,
            max_tries,
            retry_backoff: Duration::from_millis(1),
            ..Settings::default()
        }
    }

    async fn run(
        invoker: Arc<dyn Invoker>,
        jobs: u32,
        s: &Settings,
    ) -> (Result<(), String>, Vec<u32>) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let r = run_jobs(invoker, (0..jobs).map(slice_job).collect(), s, tx)
            .await
            .map_err(|e| e.to_string());
        let mut done = Vec::new();
        while let Ok(JobResult::Slice(s)) = rx.try_recv() {
            done.push(s.attempt);
        }
        (r, done)
    }

    #[tokio::test]
    async fn a_straggler_gets_a_second_copy_on_elastic_capacity() {
        let invoker = Arc::new(Scripted {
            behave: |index, attempt, _| {
                if index == 3 && attempt == 1 {
                    (Duration::from_secs(120), Ok(()))
                } else {
                    (Duration::from_millis(100), Ok(()))
                }
            },
            elastic: true,
            calls: Mutex::new(Vec::new()),
        });
        let t = Instant::now();
        let (r, done) = run(invoker.clone(), 6, &settings(3)).await;
        assert_eq!(r, Ok(()));
        assert_eq!(done.len(), 6, "one result per job: {done:?}");
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
        let calls = invoker.calls.lock().expect("lock").clone();
        assert!(calls.contains(&(3, 2)), "slice 3 re-dispatched: {calls:?}");
        assert_eq!(calls.len(), 7, "{calls:?}");
    }

    #[tokio::test]
    async fn an_attempt_past_its_deadline_is_retried() {
        let invoker = Arc::new(Scripted {
            behave: |_, attempt, _| {
                let wait = if attempt == 1 { 60_000 } else { 10 };
                (Duration::from_millis(wait), Ok(()))
            },
            elastic: false,
            calls: Mutex::new(Vec::new()),
        });
        let s = Settings {
            job_timeout: Some(JobTimeout {
                base: Duration::from_millis(300),
                per_second: Duration::ZERO,
                max: Duration::from_secs(900),
            }),
            ..settings(3)
        };
        let t = Instant::now();
        let (r, done) = run(invoker.clone(), 1, &s).await;
        assert_eq!(r, Ok(()));
        assert_eq!(done, [2], "the second attempt's result");
        assert!(t.elapsed() < Duration::from_secs(5));

        let s = Settings { max_tries: 2, ..s };
        let hung = Arc::new(Scripted {
            behave: |_, _, _| (Duration::from_secs(60), Ok(())),
            elastic: false,
            calls: Mutex::new(Vec::new()),
        });
        let (r, _) = run(hung, 1, &s).await;
        assert_eq!(
            r,
            Err(
                "encoding slice 0 failed after 2 attempts: no result within its 0.3 s deadline"
                    .to_owned()
            )
        );
    }

    #[tokio::test]
    async fn no_second_copies_on_a_fixed_pool() {
        let invoker = Arc::new(Scripted {
            behave: |index, _, _| {
                let wait = if index == 1 { 1500 } else { 20 };
                (Duration::from_millis(wait), Ok(()))
            },
            elastic: false,
            calls: Mutex::new(Vec::new()),
        });
        let (r, _) = run(invoker.clone(), 4, &settings(3)).await;
        assert_eq!(r, Ok(()));
        assert_eq!(invoker.calls.lock().expect("lock").len(), 4);
    }

    #[tokio::test]
    async fn throttling_does_not_use_up_tries_but_failures_do() {
        let throttled = Arc::new(Scripted {
            behave: |_, _, n| {
                if n <= 5 {
                    (Duration::ZERO, Err(InvokeError::throttled("rate exceeded")))
                } else {
                    (Duration::ZERO, Ok(()))
                }
            },
            elastic: true,
            calls: Mutex::new(Vec::new()),
        });
        let (r, done) = run(throttled, 1, &settings(2)).await;
        assert_eq!(r, Ok(()));
        assert_eq!(done.len(), 1);

        let failing = Arc::new(Scripted {
            behave: |_, attempt, _| {
                (
                    Duration::ZERO,
                    Err(InvokeError::failed(format!("boom {attempt}"))),
                )
            },
            elastic: true,
            calls: Mutex::new(Vec::new()),
        });
        let (r, _) = run(failing.clone(), 1, &settings(3)).await;
        assert_eq!(
            r,
            Err("encoding slice 0 failed after 3 attempts: boom 3".to_owned())
        );

        let permanent = Arc::new(Scripted {
            behave: |_, _, _| {
                (
                    Duration::ZERO,
                    Err(InvokeError::permanent("no such function")),
                )
            },
            elastic: true,
            calls: Mutex::new(Vec::new()),
        });
        let (r, _) = run(permanent.clone(), 2, &settings(3)).await;
        assert!(
            r.expect_err("fails")
                .contains("after 1 attempt: no such function")
        );
    }

    #[test]
    fn timeouts_and_backoff() {
        let t = JobTimeout {
            base: Duration::from_secs(60),
            per_second: Duration::from_secs(20),
            max: Duration::from_secs(900),
        };
        // Slice 0 spans 1000 ticks of 1/1000 s: 1 s of media.
        assert_eq!(t.for_job(&slice_job(0)), Duration::from_secs(80));
        let long = JobTimeout {
            per_second: Duration::from_secs(2000),
            ..t
        };
        assert_eq!(long.for_job(&slice_job(0)), Duration::from_secs(900));
        let base = Duration::from_millis(100);
        for (n, lo, hi) in [
            (1, 75, 125),
            (2, 150, 250),
            (3, 300, 500),
            (30, 22_500, 37_500),
        ] {
            let b = backoff(n, base).as_millis();
            assert!((lo..=hi).contains(&b), "backoff({n}) = {b} ms");
        }
    }
}

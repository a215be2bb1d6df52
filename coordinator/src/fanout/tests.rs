//! Tests of the fan-out: second copies for stragglers, retries past the deadline, throttling versus failures, timeouts and backoff.

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
            poster: None,
            frame_size: None,
            tone_map: None,
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

async fn run(invoker: Arc<dyn Invoker>, jobs: u32, s: &Settings) -> (Result<(), String>, Vec<u32>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let r = run_jobs(
        invoker,
        (0..jobs).map(slice_job).collect(),
        s,
        tx,
        Vec::new(),
    )
    .await
    .map_err(|e| e.to_string());
    let mut done = Vec::new();
    while let Ok(update) = rx.try_recv() {
        if let Update::Done {
            result: JobResult::Slice(s),
            ..
        } = update
        {
            done.push(s.attempt);
        }
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

/// A slice result as the head start's attempt gives it.
fn head_result(index: u32) -> Result<JobResult, InvokeError> {
    Ok(JobResult::Slice(SliceResult {
        index,
        rungs: vec![],
        thumbs: 0,
        frames: 1,
        encode_ms: 0,
        attempt: 1,
        job_digest: String::new(),
    }))
}

#[tokio::test]
async fn an_attempt_started_before_the_fan_out_counts_and_a_failed_one_is_retried() {
    // (the head start's outcome, the (slice, attempt) calls the invoker then sees)
    type Case = (Result<JobResult, InvokeError>, Vec<(u32, u32)>);
    let table: Vec<Case> = vec![
        (head_result(0), vec![(1, 1), (2, 1)]),
        (
            Err(InvokeError::failed("cold")),
            vec![(0, 2), (1, 1), (2, 1)],
        ),
    ];
    for (outcome, want) in table {
        let invoker = Arc::new(Scripted {
            behave: |_, _, _| (Duration::from_millis(5), Ok(())),
            elastic: false,
            calls: Mutex::new(Vec::new()),
        });
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let started = vec![Started {
            job: 0,
            at: Instant::now(),
            result: async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                outcome
            }
            .boxed(),
        }];
        let jobs = (0..3).map(slice_job).collect();
        run_jobs(invoker.clone(), jobs, &settings(3), tx, started)
            .await
            .expect("runs");
        let mut calls = invoker.calls.lock().expect("lock").clone();
        calls.sort_unstable();
        assert_eq!(calls, want);
        let mut done = Vec::new();
        while let Ok(u) = rx.try_recv() {
            if let Update::Done { job, .. } = u {
                done.push(job);
            }
        }
        done.sort_unstable();
        assert_eq!(done, vec![0, 1, 2], "each job's result once");
    }
}

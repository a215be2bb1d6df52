//! The encoding stage's live progress: finished jobs plus the fractions
//! that running slices report, each weighted by its share of the work,
//! folded into one fraction that never goes back, and an estimate of the
//! time left.

use slicecast_core::job::Job;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// A job's share of the encoding work: its seconds of media, an audio job's
/// at a twentieth (one AAC encode against a ladder of x264 encodes), so a
/// quick audio job does not move the fraction as much as a slice.
pub(crate) fn job_weight(job: &Job) -> f64 {
    let seconds = match job {
        Job::Slice(s) => (s.slice.end_pts - s.slice.start_pts) as f64 * s.time_base.as_f64(),
        Job::Audio(a) => a.duration_s / 20.0,
    };
    if seconds.is_finite() {
        seconds.max(1e-3)
    } else {
        1e-3
    }
}

/// The progress of one video's jobs.
#[derive(Debug)]
pub(crate) struct LiveProgress {
    /// The weight of each job this run runs (by position).
    weights: Vec<f64>,
    total: f64,
    done: f64,
    running: HashMap<usize, f64>,
    finished: HashSet<usize>,
    shown: f64,
    /// The fraction when this run began (the work of an interrupted run
    /// that was reused), which the pace leaves out.
    at_start: f64,
}

/// Below this much new work the pace says too little for an estimate.
const MIN_FRACTION_FOR_ETA: f64 = 0.02;

impl LiveProgress {
    /// Progress over `jobs` (the ones this run runs, by position), out of
    /// `all_work`: theirs and the work an interrupted run finished.
    pub(crate) fn new(jobs: &[Job], all_work: f64) -> Self {
        let weights: Vec<f64> = jobs.iter().map(job_weight).collect();
        Self::weighted(weights.clone(), all_work - weights.iter().sum::<f64>())
    }

    /// Jobs to run with these weights, after `resumed` weight of work an
    /// interrupted run finished.
    fn weighted(weights: Vec<f64>, resumed: f64) -> Self {
        let resumed = resumed.max(0.0);
        let total = weights.iter().sum::<f64>() + resumed;
        let mut p = Self {
            weights,
            total,
            done: resumed,
            running: HashMap::new(),
            finished: HashSet::new(),
            shown: 0.0,
            at_start: 0.0,
        };
        p.at_start = p.fraction();
        p
    }

    fn weight(&self, job: usize) -> f64 {
        self.weights.get(job).copied().unwrap_or(0.0)
    }

    /// A running attempt of job `job` is `fraction` done. Copies of one job
    /// count as the one furthest along; reports after it finished are ignored.
    pub(crate) fn report(&mut self, job: usize, fraction: f64) {
        if self.finished.contains(&job) || !fraction.is_finite() {
            return;
        }
        let f = self.running.entry(job).or_insert(0.0);
        *f = f.max(fraction.clamp(0.0, 1.0));
    }

    /// Job `job` finished (once; a second result is ignored).
    pub(crate) fn finish(&mut self, job: usize) {
        if self.finished.insert(job) {
            self.running.remove(&job);
            self.done += self.weight(job);
        }
    }

    /// The fraction of the work done: finished jobs and the running ones'
    /// parts; never less than before, and 1 only once every job finished.
    pub(crate) fn fraction(&mut self) -> f64 {
        if self.total <= 0.0 {
            return 0.0;
        }
        let partial: f64 = self
            .running
            .iter()
            .map(|(&job, &f)| f * self.weight(job))
            .sum();
        let now = ((self.done + partial) / self.total).min(1.0);
        let all_done = self.finished.len() >= self.weights.len();
        let cap = if all_done { 1.0 } else { 0.99 };
        self.shown = self.shown.max(now.min(cap));
        self.shown
    }

    /// Time left at the pace so far (`elapsed` since this run began), once
    /// enough is done to tell.
    pub(crate) fn eta(&mut self, elapsed: Duration) -> Option<Duration> {
        let f = self.fraction();
        let gained = f - self.at_start;
        if gained < MIN_FRACTION_FOR_ETA || f >= 1.0 {
            return None;
        }
        Some(elapsed.mul_f64((1.0 - f) / gained))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    fn secs(d: Option<Duration>) -> Option<f64> {
        d.map(|d| (d.as_secs_f64() * 1000.0).round() / 1000.0)
    }

    #[test]
    fn running_slices_move_the_fraction_which_never_goes_back() {
        // Four slices of weight 2 and an audio job of weight 2.
        let mut p = LiveProgress::weighted(vec![2.0; 5], 0.0);
        assert_eq!(p.fraction(), 0.0);
        p.report(0, 0.5);
        p.report(1, 0.25);
        assert!(close(p.fraction(), 0.15));
        // A retry of job 1 starts again from 0: the fraction holds.
        p.report(1, 0.0);
        assert!(close(p.fraction(), 0.15));
        p.finish(0);
        assert!(close(p.fraction(), 0.25));
        // Late reports of a finished job, and a second result, change nothing.
        p.report(0, 0.9);
        p.finish(0);
        assert!(close(p.fraction(), 0.25));
        for job in 1..4 {
            p.report(job, 1.0);
        }
        assert!(p.fraction() <= 0.99);
        for job in 1..5 {
            p.finish(job);
        }
        assert_eq!(p.fraction(), 1.0);
    }

    #[test]
    fn jobs_count_by_their_work() {
        // Two 10 s slices and a quick audio job: the audio finishing first
        // moves the fraction by its small share only.
        let mut p = LiveProgress::weighted(vec![10.0, 10.0, 1.0], 0.0);
        p.finish(2);
        assert!(close(p.fraction(), 1.0 / 21.0));
        p.report(0, 0.5);
        assert!(close(p.fraction(), 6.0 / 21.0));
    }

    #[test]
    fn nonsense_reports_are_ignored() {
        let mut p = LiveProgress::weighted(vec![1.0, 1.0], 0.0);
        p.report(0, f64::NAN);
        p.report(1, 7.0);
        assert!(close(p.fraction(), 0.5));
        p.report(9, 0.5);
        assert!(close(p.fraction(), 0.5));
        assert_eq!(LiveProgress::weighted(Vec::new(), 0.0).fraction(), 0.0);
    }

    #[test]
    fn the_estimate_follows_this_runs_pace() {
        let mut p = LiveProgress::weighted(vec![1.0; 10], 0.0);
        assert_eq!(p.eta(Duration::from_secs(5)), None, "nothing done yet");
        p.report(0, 0.1);
        assert_eq!(p.eta(Duration::from_secs(5)), None, "1 % says too little");
        p.finish(0);
        p.finish(1);
        // 20 % in 10 s: 40 s left.
        assert_eq!(secs(p.eta(Duration::from_secs(10))), Some(40.0));
        // Resumed work took no time here: only what this run did sets the pace.
        let mut r = LiveProgress::weighted(vec![1.0; 5], 5.0);
        assert_eq!(r.eta(Duration::from_secs(10)), None);
        r.finish(0);
        assert_eq!(secs(r.eta(Duration::from_secs(10))), Some(40.0));
        for job in 1..5 {
            r.finish(job);
        }
        assert_eq!(r.eta(Duration::from_secs(10)), None, "done");
    }
}

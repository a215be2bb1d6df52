//! The done-list: a run that takes over an interrupted video reuses the
//! results its predecessor stored, instead of encoding those jobs again.
//!
//! A worker stores its result object last, after every segment and thumbnail
//! it names, so a stored result is a finished job (the commit point). It
//! carries the digest of the job that made it
//! ([`slicecast_segment_worker::job_digest`]); a result is reused only when the
//! new run's job has the same digest (same plan, rungs and encoder settings).

use slicecast_core::job::{Job, JobResult};
use slicecast_core::keys;
use slicecast_segment_worker::job_digest;
use slicecast_storage::BlobStore;

/// Where a job's result is stored.
pub(crate) fn result_key(job: &Job) -> String {
    match job {
        Job::Slice(s) => keys::slice_result(&s.video_id, s.slice.index),
        Job::Audio(a) => keys::audio_result(&a.video_id, a.chunk.map_or(0, |c| c.first_fragment)),
    }
}

/// The stored result of `job`, when there is one made by the same job.
async fn stored(store: &dyn BlobStore, job: &Job) -> Option<JobResult> {
    let bytes = store.get(&result_key(job)).await.ok()?;
    let want = job_digest(job);
    match job {
        Job::Slice(_) => serde_json::from_slice::<slicecast_core::job::SliceResult>(&bytes)
            .ok()
            .filter(|r| r.job_digest == want)
            .map(JobResult::Slice),
        Job::Audio(_) => serde_json::from_slice::<slicecast_core::job::AudioResult>(&bytes)
            .ok()
            .filter(|r| r.job_digest == want)
            .map(JobResult::Audio),
    }
}

/// Splits `jobs` into those still to run and the results already stored.
pub(crate) async fn split_done(
    store: &dyn BlobStore,
    jobs: Vec<Job>,
) -> (Vec<Job>, Vec<JobResult>) {
    let mut todo = Vec::with_capacity(jobs.len());
    let mut done = Vec::new();
    for job in jobs {
        match stored(store, &job).await {
            Some(r) => done.push(r),
            None => todo.push(job),
        }
    }
    (todo, done)
}

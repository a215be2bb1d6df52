//! A head start for long sources published while they encode. Before the
//! first slice can be planned from the whole frame index, the whole file must
//! be read (on Lambda, gigabytes over the network). A short first slice is
//! cut by time alone (see `slicecast_core::plan`), so its plan depends only on
//! the file's first seconds: the head start probes the file, lists the frames
//! of its first [`HEAD_SECONDS`], plans from them, and sends the first slice
//! and the audio job that starts at 0 to workers while the whole file is
//! still being indexed.
//!
//! Nothing is trusted from the head: once the whole file is examined and
//! planned, an attempt is adopted only by the job of the full plan that does
//! the same work ([`same_work`]); the fan-out then waits for it as for its own
//! attempts (and retries the job if it fails). An attempt that matches no job
//! (the file turned out otherwise) is waited for and its result dropped
//! before any job runs, so it cannot overwrite what the real jobs write.

use crate::fanout::Started;
use crate::jobs::make_jobs;
use crate::pipeline::{plan_params, rungs_for};
use crate::{InvokeError, Invoker, Settings};
use futures::FutureExt;
use slicecast_core::job::{Job, JobResult, SourceRef};
use slicecast_core::plan::plan_padded;
use slicecast_core::source_info::Probe;
use slicecast_core::{VideoId, keys};
use slicecast_media::normalize;
use slicecast_media::probe as ffprobe;
use slicecast_storage::BlobStore;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tracing::{info, warn};

/// Seconds of frames listed from the start of the file: several times a
/// short first slice, so its cut has keyframes to choose from.
pub const HEAD_SECONDS: f64 = 45.0;

/// How long the head's listing may take.
const HEAD_TIMEOUT: Duration = Duration::from_secs(60);

/// Attempts started from the head of the file. Dropped, it stops those not
/// handed to the fan-out (the local pool's ffmpeg is killed; a Lambda
/// invocation already running finishes on its own).
#[derive(Default)]
pub(crate) struct HeadStart(Vec<Running>);

struct Running {
    job: Job,
    at: Instant,
    handle: JoinHandle<Result<JobResult, InvokeError>>,
}

impl Drop for HeadStart {
    fn drop(&mut self) {
        for r in &self.0 {
            r.handle.abort();
        }
    }
}

/// The jobs of `a` and `b` would write the same outputs: equal but for the
/// attempt, the threads (which change how fast, not what) and an audio
/// job's length, which only sizes its time limit.
pub(crate) fn same_work(a: &Job, b: &Job) -> bool {
    fn plain(job: &Job) -> Job {
        let mut j = job.clone();
        match &mut j {
            Job::Slice(s) => {
                s.attempt = 0;
                s.settings.threads = 0;
            }
            Job::Audio(a) => {
                a.attempt = 0;
                a.duration_s = 0.0;
            }
        }
        j
    }
    plain(a) == plain(b)
}

/// Whether a job of the head's plan may start early: the first slice (when
/// it is not also the last, whose end the head cannot know) and the audio
/// job that starts at 0.
fn starts_early(job: &Job, slices: usize) -> bool {
    match job {
        Job::Slice(s) => s.slice.index == 0 && slices > 1,
        Job::Audio(a) => a.chunk.is_none_or(|c| c.first_fragment == 0 && !c.last),
    }
}

impl HeadStart {
    /// Plans the head of the upload at `location` and starts its first jobs;
    /// starts nothing when the video is not published while it encodes, an
    /// interrupted run left results to reuse, or the head cannot be planned
    /// plainly (the whole examination then decides, and reports).
    pub(crate) async fn start(
        store: &dyn BlobStore,
        invoker: Arc<dyn Invoker>,
        id: &VideoId,
        location: &str,
        header: impl Future<Output = Option<Probe>>,
        settings: &Settings,
    ) -> Self {
        let Some(jobs) = first_jobs(store, id, location, header, settings).await else {
            return Self::default();
        };
        info!(video.id = %id, jobs = jobs.len(), "head start: the first jobs go out while the whole file is indexed");
        let running =
            jobs.into_iter()
                .map(|job| {
                    let limit = settings.job_timeout.map(|t| t.for_job(&job));
                    let invoker = invoker.clone();
                    let run = job.clone();
                    let handle = tokio::spawn(async move {
                        let attempt = invoker.invoke(run);
                        match limit {
                            Some(limit) => tokio::time::timeout(limit, attempt)
                                .await
                                .unwrap_or_else(|_| {
                                    Err(InvokeError::failed(format!(
                                        "no result within its {:.1} s deadline",
                                        limit.as_secs_f64()
                                    )))
                                }),
                            None => attempt.await,
                        }
                    });
                    Running {
                        job,
                        at: Instant::now(),
                        handle,
                    }
                })
                .collect();
        Self(running)
    }

    /// Waits for every attempt and drops its result: the video failed before
    /// its jobs were made, and an attempt that runs elsewhere (a Lambda
    /// invocation) must not write after the failure is recorded.
    pub(crate) async fn settle(mut self) {
        for r in std::mem::take(&mut self.0) {
            let _ = r.handle.await;
        }
    }

    /// Hands each attempt to the job of `jobs` that does the same work; waits
    /// for the others and drops their results.
    pub(crate) async fn adopt(mut self, jobs: &[Job]) -> Vec<Started> {
        let mut adopted = Vec::new();
        for r in std::mem::take(&mut self.0) {
            match jobs.iter().position(|j| same_work(j, &r.job)) {
                Some(job) => adopted.push(Started {
                    job,
                    at: r.at,
                    result: r
                        .handle
                        .map(|joined| {
                            joined.unwrap_or_else(|e| {
                                Err(InvokeError::failed(format!("the early attempt ended: {e}")))
                            })
                        })
                        .boxed(),
                }),
                None => {
                    warn!(job = %crate::fanout::job_name(&r.job), "head start: the whole file planned this job otherwise; its early attempt is dropped");
                    let _ = r.handle.await;
                }
            }
        }
        adopted
    }
}

/// The jobs the head's plan lets start early, or `None`; `header` is the
/// file's header as the examination's probe read it.
async fn first_jobs(
    store: &dyn BlobStore,
    id: &VideoId,
    location: &str,
    header: impl Future<Output = Option<Probe>>,
    settings: &Settings,
) -> Option<Vec<Job>> {
    if !settings.publish_while_encoding {
        return None;
    }
    if !store
        .list(&keys::work(id, ""))
        .await
        .ok()
        .is_some_and(|l| l.is_empty())
    {
        return None;
    }
    let probe = header.await?;
    // Restarting timestamps are made continuous in a copy first; the first
    // cut must be by time (a short first slice) to be known from the head.
    if normalize::timestamps_may_restart(&probe.format_name)
        || settings.first_slice_for(probe.duration_s).is_none()
        || probe.duration_s < 2.0 * HEAD_SECONDS
    {
        return None;
    }
    let video = ffprobe::require_video(&probe).ok()?.clone();
    settings.limits.check_header(&probe).ok()?;
    let head = ffprobe::head_index(location, &probe, &video, HEAD_SECONDS, HEAD_TIMEOUT)
        .await
        .ok()??;
    let (lead, _) = slicecast_core::timeline::padding_frames(&probe, &head);
    let plan = plan_padded(&head, &plan_params(settings, probe.duration_s), lead, 0).ok()?;
    let (display, rungs) = rungs_for(&video, settings);
    let source = SourceRef {
        location: location.to_owned(),
        format_name: probe.format_name.clone(),
        start_time_s: probe.start_time_s,
    };
    let slices = plan.slices.len();
    let jobs: Vec<Job> = make_jobs(id, &source, &probe, &plan, &rungs, settings, display)
        .into_iter()
        .filter(|j| starts_early(j, slices))
        .collect();
    (!jobs.is_empty()).then_some(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use slicecast_core::job::{AudioChunk, AudioJob};

    fn audio(duration_s: f64, attempt: u32, first_fragment: u32) -> Job {
        Job::Audio(AudioJob {
            video_id: VideoId::from_digest(&[1; 16]),
            source: SourceRef {
                location: "in.mp4".into(),
                format_name: "mov,mp4".into(),
                start_time_s: 0.0,
            },
            audio_stream: 1,
            origin_s: 0.0,
            channels: 2,
            sample_rate: 48_000,
            bitrate: 128_000,
            segment_seconds: 4.0,
            duration_s,
            attempt,
            chunk: Some(AudioChunk {
                first_fragment,
                fragments: 15,
                fragment_frames: 187,
                last: false,
            }),
        })
    }

    #[test]
    fn same_work_ignores_only_what_does_not_change_the_output() {
        let a = audio(600.0, 1, 0);
        assert!(same_work(&a, &audio(600.4, 2, 0)), "length and attempt");
        assert!(!same_work(&a, &audio(600.0, 1, 15)), "another chunk");
        let Job::Audio(mut other) = a.clone() else {
            unreachable!()
        };
        other.source.location = "elsewhere.ts".into();
        assert!(!same_work(&a, &Job::Audio(other)), "another source");
    }

    /// Records the jobs it is given and answers none of them.
    #[derive(Default)]
    struct Recorder(std::sync::Mutex<Vec<Job>>);

    #[async_trait::async_trait]
    impl Invoker for Recorder {
        async fn invoke(&self, job: Job) -> Result<JobResult, InvokeError> {
            self.0.lock().expect("lock").push(job);
            Err(InvokeError::permanent("recorded only"))
        }

        async fn assemble(
            &self,
            _input: slicecast_assembler::AssembleInput,
        ) -> Result<slicecast_assembler::Assembled, InvokeError> {
            Err(InvokeError::permanent("recorded only"))
        }
    }

    /// A 150 s clip (keyframe every 2 s, a tone) at `dir/name`.
    fn clip(dir: &std::path::Path, name: &str, vf: &str) -> std::path::PathBuf {
        let out = dir.join(name);
        let ok = std::process::Command::new(slicecast_media::ffmpeg_bin())
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg("testsrc2=size=160x90:rate=25:duration=150")
            .args(["-f", "lavfi", "-i", "sine=frequency=330:duration=150"])
            .args([
                "-vf",
                vf,
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-g",
                "50",
            ])
            .args(["-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"])
            .arg(&out)
            .status()
            .expect("ffmpeg");
        assert!(ok.success());
        out
    }

    #[tokio::test]
    async fn the_head_plans_the_jobs_the_whole_file_plans_on_real_files() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = slicecast_storage::FsStore::new(dir.path()).expect("store");
        let settings = Settings {
            workers: 2,
            ..Settings::default()
        };
        // A plain clip, and one whose frames are not all the same size (the
        // whole plan balances the later cuts by bytes).
        for (name, vf) in [
            ("plain.mp4", "null"),
            ("busy.mp4", "noise=alls=60:allf=t+u"),
        ] {
            let src = clip(dir.path(), name, vf);
            let key = keys::upload(name);
            store.put_file(&key, &src).await.expect("upload");
            let location = store.readable_location(&key).await.expect("location");
            let id = VideoId::from_digest(&[7; 16]);
            let recorder = Arc::new(Recorder::default());
            let early = crate::source::EarlyProbe::start(location.clone(), settings.limits);
            let head = HeadStart::start(
                &store,
                recorder.clone(),
                &id,
                &location,
                early.header(),
                &settings,
            )
            .await;
            let examined =
                crate::source::examine(&store, &id, location.clone(), &settings.limits, early)
                    .await
                    .expect("examined");
            let (lead, tail) =
                slicecast_core::timeline::padding_frames(&examined.probe, &examined.index);
            let params = plan_params(&settings, examined.index.span_s());
            let plan = plan_padded(&examined.index, &params, lead, tail).expect("plan");
            let (display, rungs) = rungs_for(&examined.video, &settings);
            let source = SourceRef {
                location: examined.location.clone(),
                format_name: examined.probe.format_name.clone(),
                start_time_s: examined.probe.start_time_s,
            };
            let jobs = make_jobs(
                &id,
                &source,
                &examined.probe,
                &plan,
                &rungs,
                &settings,
                display,
            );
            let started = head.adopt(&jobs).await;
            let mut adopted: Vec<String> = started
                .iter()
                .map(|s| crate::fanout::job_name(&jobs[s.job]))
                .collect();
            adopted.sort();
            assert_eq!(
                adopted,
                vec!["slice 0", "the audio track from segment 0"],
                "{name}"
            );
            let sent = recorder.0.lock().expect("lock").len();
            assert_eq!(sent, 2, "{name}: the two jobs went out early");
            // The first cut is one segment long, on a keyframe (every 2 s).
            let first = &plan.slices[0];
            let first_s = plan.seconds(first.end_pts) - plan.seconds(first.start_pts);
            assert!((first_s - 4.0).abs() < 1e-6, "{name}: {first_s}");
            assert!(first.on_keyframe, "{name}");
        }
    }

    #[test]
    fn only_the_first_slice_and_the_audio_from_zero_start_early() {
        assert!(starts_early(&audio(600.0, 1, 0), 3));
        assert!(!starts_early(&audio(600.0, 1, 15), 3));
        let Job::Audio(mut last) = audio(600.0, 1, 0) else {
            unreachable!()
        };
        if let Some(c) = last.chunk.as_mut() {
            c.last = true;
        }
        assert!(!starts_early(&Job::Audio(last.clone()), 3));
        last.chunk = None;
        assert!(starts_early(&Job::Audio(last), 3), "the whole track");
    }
}

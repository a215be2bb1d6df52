//! Examining an upload before anything is planned: probe it, check it against
//! the limits, list its frames, make its timestamps continuous when they
//! restart, and refuse it if it is truncated. Every refusal is a sentence for
//! the person who uploaded it.

use crate::Failure;
use slicecast_core::source_info::{FrameIndex, Probe, VideoStream};
use slicecast_core::{VideoId, keys};
use slicecast_media::limits::Limits;
use slicecast_media::normalize;
use slicecast_media::probe::{self as ffprobe, ProbeError};
use slicecast_storage::BlobStore;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tracing::{info, warn};

/// How long one ffprobe pass over the whole file may take.
const SCAN_TIMEOUT: Duration = Duration::from_secs(900);

/// A source that passed every check, ready to plan.
#[derive(Debug)]
pub(crate) struct Examined {
    /// Where the jobs read it: the upload, or its copy with continuous timestamps.
    pub location: String,
    pub probe: Probe,
    pub video: VideoStream,
    pub index: FrameIndex,
    /// The examination's own time: the first pass's, wherever it ran, plus
    /// what came after it.
    pub took: Duration,
}

/// The first pass's result, its own duration and when it ended.
type FirstPass = (
    Result<(Probe, VideoStream, ffprobe::Indexed), Failure>,
    Duration,
    Instant,
);

/// The first probe pass (header, limits, frame index) started while the
/// upload is still being hashed: it needs the upload, not its id. Dropped
/// unawaited (a duplicate, a hash that failed), it stops its ffprobe.
pub(crate) struct EarlyProbe(JoinHandle<FirstPass>);

impl EarlyProbe {
    /// Starts probing `location` on its own task.
    pub(crate) fn start(location: String, limits: Limits) -> Self {
        Self(tokio::spawn(async move {
            let t = Instant::now();
            let r = probe_and_index(&location, &limits).await;
            (r, t.elapsed(), Instant::now())
        }))
    }

    async fn finish(mut self) -> FirstPass {
        match (&mut self.0).await {
            Ok(pass) => pass,
            Err(e) => (
                Err(Failure::Job(format!("probing the upload failed: {e}"))),
                Duration::ZERO,
                Instant::now(),
            ),
        }
    }
}

impl Drop for EarlyProbe {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A probe error as a failure: the upload's fault, or (ffprobe could not
/// run) the service's.
pub(crate) fn probe_reason(e: &ProbeError) -> Failure {
    match e {
        ProbeError::Process(p) => Failure::Job(format!("probing the upload failed: {p}")),
        other => Failure::Source(other.to_string()),
    }
}

async fn probe_and_index(
    location: &str,
    limits: &Limits,
) -> Result<(Probe, VideoStream, ffprobe::Indexed), Failure> {
    let probe = ffprobe::probe(location, Duration::from_secs(120))
        .await
        .map_err(|e| probe_reason(&e))?;
    let video = ffprobe::require_video(&probe)
        .map_err(|e| probe_reason(&e))?
        .clone();
    limits.check_header(&probe).map_err(|e| probe_reason(&e))?;
    let indexed = ffprobe::frame_index(location, &probe, &video, SCAN_TIMEOUT)
        .await
        .map_err(|e| probe_reason(&e))?;
    if indexed.frames.is_empty() {
        return Err(probe_reason(&ProbeError::NoFrames));
    }
    Ok((probe, video, indexed))
}

/// Probes and checks the upload at `location` (its first pass already
/// started by `early`, when given). A transport or program stream whose
/// timestamps restart is first copied to `work/continuous.ts` with continuous
/// timestamps (see [`normalize`]), and that copy is what the jobs read.
pub(crate) async fn examine(
    store: &dyn BlobStore,
    id: &VideoId,
    location: String,
    limits: &Limits,
    early: Option<EarlyProbe>,
) -> Result<Examined, Failure> {
    let started = Instant::now();
    let (first, first_took, first_ended) = match early {
        Some(early) => early.finish().await,
        None => {
            let first = probe_and_index(&location, limits).await;
            (first, started.elapsed(), Instant::now())
        }
    };
    let after_first = first_ended.max(started);
    let (mut probe, mut video, mut indexed) = first?;
    let mut location = location;
    if indexed.discontinuities > 0 && normalize::timestamps_may_restart(&probe.format_name) {
        info!(video.id = %id, restarts = indexed.discontinuities, "the timestamps restart partway: copying the source with continuous timestamps");
        location = continuous_copy(
            store,
            id,
            &location,
            &probe,
            &video,
            indexed.discontinuities,
        )
        .await?;
        (probe, video, indexed) = probe_and_index(&location, limits).await?;
        if indexed.discontinuities > 0 {
            warn!(video.id = %id, restarts = indexed.discontinuities, "timestamps still restart after the copy");
        }
    }
    let index = indexed.frames;
    limits.check_frames(&index).map_err(|e| probe_reason(&e))?;
    ffprobe::complete_or_truncated(&location, &probe, &index, SCAN_TIMEOUT)
        .await
        .map_err(|e| probe_reason(&e))?;
    Ok(Examined {
        location,
        probe,
        video,
        index,
        took: first_took + after_first.elapsed(),
    })
}

/// Copies the source's video (and audio) into `work/continuous.ts` with
/// continuous timestamps; returns where the jobs can read it.
async fn continuous_copy(
    store: &dyn BlobStore,
    id: &VideoId,
    location: &str,
    probe: &Probe,
    video: &VideoStream,
    restarts: u32,
) -> Result<String, Failure> {
    let failed = |detail: String| {
        Failure::Source(format!(
            "the file's timestamps restart {restarts} time(s) (a spliced or concatenated capture) and could not be made continuous: {detail}"
        ))
    };
    let dir = tempfile::tempdir().map_err(|e| failed(e.to_string()))?;
    let out = dir.path().join("continuous.ts");
    let streams = (video.index, probe.audio.as_ref().map(|a| a.index));
    normalize::normalize(location, &probe.format_name, streams, &out, SCAN_TIMEOUT)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let key = keys::work(id, "continuous.ts");
    store.put_file(&key, &out).await?;
    Ok(store.readable_location(&key).await?)
}

//! Examining an upload before anything is planned: probe it, check it against
//! the limits, list its frames, make its timestamps continuous when they
//! restart, and refuse it if it is truncated. Every refusal is a sentence for
//! the person who uploaded it.

use crate::Failure;
use slicecast_core::source_info::{FrameIndex, Probe, VideoStream};
use slicecast_core::{VideoId, keys};
use slicecast_media::limits::Limits;
use slicecast_media::normalize;
use slicecast_media::probe::{self as ffprobe, ProbeError, listing};
use slicecast_storage::BlobStore;
use std::time::{Duration, Instant};
use tokio::sync::watch;
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

/// The first probe pass (header, limits, frame index), started while the
/// upload is still being hashed when it is (it needs the upload, not its
/// id). The header it reads is shared with the head start, so the file's
/// header is read once. Dropped unawaited (a duplicate, a hash that failed),
/// it stops its ffprobe.
pub(crate) struct EarlyProbe {
    task: JoinHandle<FirstPass>,
    header: watch::Receiver<Option<Probe>>,
}

impl EarlyProbe {
    /// Starts probing `location` on its own task.
    pub(crate) fn start(location: String, limits: Limits) -> Self {
        let (tx, header) = watch::channel(None);
        let task = tokio::spawn(async move {
            let t = Instant::now();
            let r = probe_and_index(&location, &limits, &tx).await;
            (r, t.elapsed(), Instant::now())
        });
        Self { task, header }
    }

    /// The file's header once the probe has read it; `None` when the probe
    /// failed (the examination reports why).
    pub(crate) fn header(&self) -> impl Future<Output = Option<Probe>> + Send + 'static {
        let mut header = self.header.clone();
        async move {
            let read = header.wait_for(Option::is_some).await.ok()?;
            read.clone()
        }
    }

    async fn finish(mut self) -> FirstPass {
        match (&mut self.task).await {
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
        self.task.abort();
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
    header: &watch::Sender<Option<Probe>>,
) -> Result<(Probe, VideoStream, ffprobe::Indexed), Failure> {
    // Every stream's packets are listed while the probe runs (see
    // `listing`); dropped unused, the listing's ffprobe is stopped.
    let listing = listing::list_every_stream(location, SCAN_TIMEOUT);
    tokio::pin!(listing);
    let mut listed = None;
    let probe = ffprobe::probe(location, Duration::from_secs(120));
    tokio::pin!(probe);
    let probe = loop {
        tokio::select! {
            probe = &mut probe => break probe,
            l = &mut listing, if listed.is_none() => listed = Some(l),
        }
    };
    let probe = probe.map_err(|e| probe_reason(&e))?;
    header.send_replace(Some(probe.clone()));
    let video = ffprobe::require_video(&probe)
        .map_err(|e| probe_reason(&e))?
        .clone();
    limits.check_header(&probe).map_err(|e| probe_reason(&e))?;
    let listed = match listed {
        _ if !listing::serves(&probe) => None,
        Some(l) => l.ok().flatten(),
        None => listing.await.ok().flatten(),
    };
    let indexed = ffprobe::frame_index_listed(location, &probe, &video, SCAN_TIMEOUT, listed)
        .await
        .map_err(|e| probe_reason(&e))?;
    if indexed.frames.is_empty() {
        return Err(probe_reason(&ProbeError::NoFrames));
    }
    Ok((probe, video, indexed))
}

/// Probes and checks the upload at `location`, whose first pass `early`
/// runs. A transport or program stream whose
/// timestamps restart is first copied to `work/continuous.ts` with continuous
/// timestamps (see [`normalize`]), and that copy is what the jobs read.
pub(crate) async fn examine(
    store: &dyn BlobStore,
    id: &VideoId,
    location: String,
    limits: &Limits,
    early: EarlyProbe,
) -> Result<Examined, Failure> {
    let started = Instant::now();
    let (first, first_took, first_ended) = early.finish().await;
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
        (probe, video, indexed) =
            probe_and_index(&location, limits, &watch::Sender::new(None)).await?;
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

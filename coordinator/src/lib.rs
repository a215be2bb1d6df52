//! slicecast-coordinator: turns an upload into a finished video.
//!
//! [`process_upload`] hashes the object (MD5 = the video id), claims the id,
//! probes and plans, fans the slice jobs and the audio job out through an
//! [`Invoker`] with bounded concurrency and retries, records progress in the
//! manifest, then runs the assembler. Whatever goes wrong ends as a
//! `processing_failed` manifest with a reason a person can act on.

pub mod args;
mod fanout;
#[cfg(feature = "fault-injection")]
pub mod faults;
mod invoker;
mod resume;
mod source;
pub mod subtitles;

pub use fanout::JobTimeout;
pub use invoker::{InvokeError, Invoker, LocalInvoker, describe, run_job};

use bytes::Bytes;
use futures::StreamExt;
use md5::{Digest, Md5};
use slicecast_assembler::{AssembleInput, Assembled, SpriteSettings};
use slicecast_core::job::{
    AudioChunk, AudioJob, AudioResult, EncodeSettings, Job, JobResult, SliceJob, SourceRef,
    audio_chunks,
};
use slicecast_core::ladder::{Rung, ladder_for};
use slicecast_core::manifest::{Manifest, SourceSummary, Stage, Status, TranscriptionStatus};
use slicecast_core::plan::{PlanParams, SlicePlan, default_slice_seconds, plan_padded};
use slicecast_core::probe::Probe;
use slicecast_core::{VideoId, keys};
use slicecast_media::limits::Limits;
use slicecast_storage::{BlobStore, StoreError};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tracing::{info, instrument, warn};

/// How a video is processed.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Jobs in flight at once.
    pub workers: usize,
    /// Threads each worker's ffmpeg may use.
    pub threads_per_worker: u32,
    /// Target slice length; `None` = derived from the duration and `workers`.
    pub slice_seconds: Option<f64>,
    /// Shortest slice the automatic choice makes.
    pub min_slice_seconds: f64,
    /// Output segment length in seconds.
    pub segment_seconds: f64,
    /// x264 preset.
    pub preset: String,
    /// Tries per job before the video fails.
    pub max_tries: u32,
    /// Thumbnail sprites.
    pub sprite: SpriteSettings,
    /// Whether to write the DASH MPD.
    pub generate_dash: bool,
    /// Audio bitrate in bit/s.
    pub audio_bitrate: u64,
    /// Longest a video may take from claim to completion.
    pub deadline: Duration,
    /// A `processing` video whose coordinator has not written a heartbeat for
    /// this long is abandoned (its process died): it reads as failed and a new
    /// upload of the same bytes reclaims it.
    pub heartbeat_timeout: Duration,
    /// Longest one attempt of a job may take; `None` = no limit here (the
    /// local worker's ffmpeg has its own timeouts).
    pub job_timeout: Option<JobTimeout>,
    /// First retry delay; doubles with each failure (throttling waits 4× longer).
    pub retry_backoff: Duration,
    /// On elastic capacity, a slice still running after this many times the
    /// median slice time gets a second copy (0 = never).
    pub straggler_factor: f64,
    /// Encode the audio in parallel chunks of about this many seconds
    /// (`None`: the whole track in one job).
    pub audio_chunk_seconds: Option<f64>,
    /// The speech engine for subtitles (`None`: no subtitles). Runs once the
    /// video is playable; [`process_upload`] returns after it has answered.
    pub transcriber: Option<Arc<dyn subtitles::Transcriber>>,
    /// What one source may be at most (duration, pixels, frame rate),
    /// checked at probe time before anything fans out.
    pub limits: Limits,
}

impl Default for Settings {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            workers: cores,
            threads_per_worker: 1,
            slice_seconds: None,
            min_slice_seconds: 10.0,
            segment_seconds: 4.0,
            preset: "veryfast".into(),
            max_tries: 3,
            sprite: SpriteSettings::default(),
            generate_dash: true,
            audio_bitrate: 128_000,
            deadline: Duration::from_secs(6 * 3600),
            heartbeat_timeout: HEARTBEAT_TIMEOUT,
            job_timeout: None,
            retry_backoff: Duration::from_millis(250),
            straggler_factor: 2.0,
            audio_chunk_seconds: None,
            transcriber: None,
            limits: Limits::default(),
        }
    }
}

/// What happened to an upload.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Processed now.
    Completed(Manifest),
    /// The same bytes were already processed; nothing was done.
    AlreadyComplete(Manifest),
    /// Someone else is processing the same bytes right now.
    InProgress(Manifest),
}

impl Outcome {
    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        match self {
            Self::Completed(m) | Self::AlreadyComplete(m) | Self::InProgress(m) => m,
        }
    }
}

/// Processing stopped.
#[derive(Debug, thiserror::Error)]
pub enum CoordinatorError {
    /// The video failed; its manifest says `processing_failed` with this reason.
    #[error("{reason}")]
    Failed {
        /// The video.
        video_id: VideoId,
        /// Why, for a person (the same public text as the manifest's `error`).
        reason: String,
    },
    /// The upload could not even be read (so no video id exists).
    #[error("could not read the upload: {0}")]
    Upload(#[source] StoreError),
    /// The store failed while recording the outcome.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Progress events for a caller's display.
#[derive(Debug, Clone)]
pub enum Event {
    /// The video id is known.
    Hashed(VideoId),
    /// The plan is made.
    Planned {
        /// Slices.
        slices: u32,
        /// Rungs.
        rungs: Vec<Rung>,
        /// Has audio.
        audio: bool,
    },
    /// A job finished.
    JobDone {
        /// Slices done.
        slices_done: u32,
        /// Slices total.
        slices_total: u32,
    },
    /// A new stage began.
    Stage(Stage),
}

/// Receives [`Event`]s.
pub type EventSink = Arc<dyn Fn(Event) + Send + Sync>;

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

const HASH_CHUNK: u64 = 8 * 1024 * 1024;
/// Ranged reads in flight while hashing.
const HASH_AHEAD: usize = 4;

/// How often a running coordinator proves it is alive.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(10);
/// Default for [`Settings::heartbeat_timeout`].
pub const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(120);

fn heartbeat_key(id: &VideoId) -> String {
    keys::work(id, "heartbeat")
}

/// Writes the heartbeat every `every` until dropped.
struct Heartbeat(tokio::task::JoinHandle<()>);

impl Heartbeat {
    fn start(store: Arc<dyn BlobStore>, id: VideoId, every: Duration) -> Self {
        Self(tokio::spawn(async move {
            loop {
                let _ = store
                    .put(&heartbeat_key(&id), Bytes::from(now_ms().to_string()))
                    .await;
                tokio::time::sleep(every).await;
            }
        }))
    }
}

/// How often to beat so that a live coordinator never looks dead: four
/// beats per `timeout`, at most every [`HEARTBEAT_EVERY`], at least every second.
fn beat_every(timeout: Duration) -> Duration {
    (timeout / 4).clamp(Duration::from_secs(1), HEARTBEAT_EVERY)
}

impl Heartbeat {
    /// Stops beating; returns once no write is in flight.
    async fn stop(mut self) {
        self.0.abort();
        let _ = (&mut self.0).await;
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Unix ms of the last sign of life of a video's coordinator.
async fn last_beat(store: &dyn BlobStore, m: &Manifest) -> u64 {
    let beat = match store.get(&heartbeat_key(&m.video_id)).await {
        Ok(b) => String::from_utf8_lossy(&b).trim().parse().unwrap_or(0),
        Err(_) => 0,
    };
    beat.max(m.updated_ms)
}

/// Streams an object through MD5 with ranged reads, [`HASH_AHEAD`] chunks in
/// flight so the store's latency overlaps the hashing (no full download).
pub async fn hash_object(store: &dyn BlobStore, key: &str) -> Result<(VideoId, u64), StoreError> {
    let size = store.head(key).await?.size;
    let mut md5 = Md5::new();
    let ranges = (0..size)
        .step_by(HASH_CHUNK as usize)
        .map(|offset| (offset, HASH_CHUNK.min(size - offset)));
    let mut chunks = futures::stream::iter(ranges)
        .map(|(offset, len)| store.get_range(key, offset, len))
        .buffered(HASH_AHEAD);
    let mut read = 0u64;
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        read += chunk.len() as u64;
        md5.update(&chunk);
    }
    if read != size {
        return Err(StoreError::Io {
            key: key.to_owned(),
            source: std::io::Error::other(format!(
                "the object changed while it was read ({read} of {size} bytes)"
            )),
        });
    }
    let digest: [u8; 16] = md5.finalize().into();
    Ok((VideoId::from_digest(&digest), size))
}

pub(crate) async fn read_manifest(
    store: &dyn BlobStore,
    id: &VideoId,
) -> Result<Option<Manifest>, StoreError> {
    match store.get(&keys::manifest(id)).await {
        Ok(b) => Ok(serde_json::from_slice(&b).ok()),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

pub(crate) async fn write_manifest(store: &dyn BlobStore, m: &Manifest) -> Result<(), StoreError> {
    let json = serde_json::to_vec_pretty(m).map_err(|e| StoreError::Io {
        key: keys::manifest(&m.video_id),
        source: std::io::Error::other(e),
    })?;
    store
        .put(&keys::manifest(&m.video_id), Bytes::from(json))
        .await
}

/// Reads a video's manifest as a client should see it: one stuck in
/// `processing` past its deadline, or whose coordinator stopped beating for
/// `heartbeat_timeout`, is recorded and returned as failed.
pub async fn status(
    store: &dyn BlobStore,
    id: &VideoId,
    heartbeat_timeout: Duration,
) -> Result<Option<Manifest>, StoreError> {
    let Some(m) = read_manifest(store, id).await? else {
        return Ok(None);
    };
    let now = now_ms();
    if m.is_stale(now) || m.transcription_is_stale(now) {
        let settled = m.settled(now);
        write_manifest(store, &settled).await?;
        return Ok(Some(settled));
    }
    if m.status == Status::Processing
        && now.saturating_sub(last_beat(store, &m).await) > heartbeat_timeout.as_millis() as u64
    {
        let mut failed = m.failed(
            "processing stopped unexpectedly (the transcoder was interrupted); a restarted service resumes it, or upload the file again to retry",
            now,
        );
        failed.interrupted = true;
        write_manifest(store, &failed).await?;
        return Ok(Some(failed));
    }
    Ok(Some(m))
}

/// Processes the object at `upload_key` from hash to assembled output.
#[instrument(skip_all, fields(upload.key = upload_key))]
pub async fn process_upload(
    store: Arc<dyn BlobStore>,
    invoker: Arc<dyn Invoker>,
    upload_key: &str,
    settings: &Settings,
    events: EventSink,
) -> Result<Outcome, CoordinatorError> {
    process_hashed_upload(store, invoker, upload_key, None, settings, events).await
}

/// Like [`process_upload`], for a caller that already hashed the object while
/// receiving it (`known` = its id and size): the object is not read twice.
pub async fn process_hashed_upload(
    store: Arc<dyn BlobStore>,
    invoker: Arc<dyn Invoker>,
    upload_key: &str,
    known: Option<(VideoId, u64)>,
    settings: &Settings,
    events: EventSink,
) -> Result<Outcome, CoordinatorError> {
    let started = Instant::now();
    events(Event::Stage(Stage::Hashing));
    let (id, size) = match known {
        Some(k) => k,
        None => hash_object(store.as_ref(), upload_key)
            .await
            .map_err(CoordinatorError::Upload)?,
    };
    let hash_ms = started.elapsed().as_millis() as u64;
    info!(video.id = %id, size_bytes = size, duration_ms = hash_ms, "hashed upload");
    events(Event::Hashed(id.clone()));

    let now = now_ms();
    let deadline = now + settings.deadline.as_millis() as u64;
    let mut manifest = Manifest::new(id.clone(), upload_key.to_owned(), now, deadline);
    manifest.timings.hash_ms = hash_ms;
    let claim = serde_json::to_vec_pretty(&manifest).map_err(|e| StoreError::Io {
        key: keys::manifest(&id),
        source: std::io::Error::other(e),
    })?;
    if !store
        .put_if_absent(&keys::manifest(&id), Bytes::from(claim))
        .await?
    {
        match status(store.as_ref(), &id, settings.heartbeat_timeout).await? {
            Some(m) if m.status == Status::ProcessingComplete => {
                info!(video.id = %id, "already processed");
                return Ok(Outcome::AlreadyComplete(m));
            }
            Some(m) if m.status == Status::Processing => {
                info!(video.id = %id, "already being processed");
                return Ok(Outcome::InProgress(m));
            }
            _ => {
                // An interrupted run leaves its finished jobs' results in
                // work/: they are reused (see `resume`). A run that ended,
                // failed or not, removed its work/ already.
                info!(video.id = %id, "reclaiming a failed, interrupted or unreadable earlier attempt");
                write_manifest(store.as_ref(), &manifest).await?;
            }
        }
    }

    let heartbeat = Heartbeat::start(
        store.clone(),
        id.clone(),
        beat_every(settings.heartbeat_timeout),
    );
    let run = run_claimed(
        store.clone(),
        invoker,
        manifest.clone(),
        size,
        settings,
        events.clone(),
    );
    let result = match tokio::time::timeout(settings.deadline, run).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "processing took longer than the {} s deadline and was stopped",
            settings.deadline.as_secs()
        )),
    };
    heartbeat.stop().await;
    match result {
        Ok((m, source)) => {
            // The transcription reads the source the jobs read, which may be
            // the continuous copy in work/: work/ goes after it.
            let m = match &settings.transcriber {
                Some(t) => {
                    events(Event::Stage(Stage::Transcribing));
                    let m =
                        subtitles::transcribe(store.as_ref(), t.as_ref(), m, &source.0, source.1)
                            .await;
                    let _ = store.delete_prefix(&keys::work(&id, "")).await;
                    m?
                }
                None => {
                    let _ = store.delete_prefix(&keys::work(&id, "")).await;
                    m
                }
            };
            events(Event::Stage(Stage::Done));
            Ok(Outcome::Completed(m))
        }
        Err(reason) => {
            let _ = store.delete_prefix(&keys::work(&id, "")).await;
            warn!(video.id = %id, reason = %reason, "video failed");
            let current = read_manifest(store.as_ref(), &id)
                .await
                .ok()
                .flatten()
                .unwrap_or(manifest);
            let failed = current.failed(reason, now_ms());
            write_manifest(store.as_ref(), &failed).await?;
            events(Event::Stage(Stage::Done));
            Err(CoordinatorError::Failed {
                video_id: id,
                reason: failed.error.unwrap_or_default(),
            })
        }
    }
}

async fn run_claimed(
    store: Arc<dyn BlobStore>,
    invoker: Arc<dyn Invoker>,
    mut manifest: Manifest,
    size: u64,
    settings: &Settings,
    events: EventSink,
) -> Result<(Manifest, (SourceRef, Option<usize>)), String> {
    let id = manifest.video_id.clone();
    let store_err = |e: StoreError| format!("storage error: {e}");
    events(Event::Stage(Stage::Probing));
    let t = Instant::now();
    let location = store
        .readable_location(&manifest.upload_key)
        .await
        .map_err(store_err)?;
    if size == 0 {
        return Err("the file is empty (0 bytes)".into());
    }
    let source::Examined {
        location,
        probe,
        video,
        index,
    } = source::examine(store.as_ref(), &id, location, &settings.limits).await?;
    let (lead, tail) = slicecast_core::timeline::padding_frames(&probe, &index);
    if lead + tail > 0 {
        info!(video.id = %id, lead_frames = lead, tail_frames = tail, "the sound starts before or ends after the picture: holding the first/last picture");
    }
    let approx_duration = index.span_s();
    let params = PlanParams {
        slice_seconds: settings.slice_seconds.unwrap_or_else(|| {
            default_slice_seconds(
                approx_duration,
                settings.workers,
                settings.min_slice_seconds,
            )
        }),
        segment_seconds: settings.segment_seconds,
        thumb_interval_seconds: settings.sprite.interval_s,
    };
    let plan = plan_padded(&index, &params, lead, tail)
        .map_err(|e| format!("could not plan the encode: {e}"))?;
    if plan.accurate_seek_slices() > 0 {
        info!(
            video.id = %id,
            slices = plan.slices.len(),
            accurate_seek_slices = plan.accurate_seek_slices(),
            "keyframes too sparse for the slice length; those slices start between keyframes and seek accurately"
        );
    }
    let (dw, dh) = video.display_size();
    let rungs = ladder_for(dw, dh);
    let fps = video
        .avg_frame_rate
        .or(video.frame_rate)
        .map_or(0.0, |r| r.as_f64());
    manifest.source = Some(SourceSummary {
        name: manifest
            .upload_key
            .rsplit('/')
            .next()
            .unwrap_or(&manifest.upload_key)
            .to_owned(),
        size_bytes: size,
        format: probe.format_name.clone(),
        duration_s: probe.duration_s,
        video_codec: video.codec.clone(),
        width: dw,
        height: dh,
        frame_rate: fps,
        frames: plan.frames,
        audio_codec: probe.audio.as_ref().map(|a| a.codec.clone()),
    });
    manifest.duration_s = Some(plan.duration_s());
    manifest.slices = plan.slices.len() as u32;
    manifest.slice_starts_s = plan
        .slices
        .iter()
        .map(|s| plan.seconds(s.start_pts))
        .collect();
    manifest.has_audio = probe.audio.is_some();
    manifest.timings.probe_ms = t.elapsed().as_millis() as u64;
    info!(
        video.id = %id,
        slices = plan.slices.len(),
        segments = plan.segment_count,
        rungs = rungs.len(),
        duration_s = plan.duration_s(),
        "planned"
    );
    events(Event::Planned {
        slices: plan.slices.len() as u32,
        rungs: rungs.clone(),
        audio: probe.audio.is_some(),
    });

    events(Event::Stage(Stage::Encoding));
    let t = Instant::now();
    manifest = manifest.at_stage(Stage::Encoding, now_ms()).with_progress(
        0,
        plan.slices.len() as u32,
        0,
        job_units(&plan, &probe, settings),
        now_ms(),
    );
    write_manifest(store.as_ref(), &manifest)
        .await
        .map_err(store_err)?;
    let source = SourceRef {
        location: location.clone(),
        format_name: probe.format_name.clone(),
        start_time_s: probe.start_time_s,
    };
    let jobs = make_jobs(&id, &source, &probe, &plan, &rungs, settings, (dw, dh));
    let (jobs, done) = resume::split_done(store.as_ref(), jobs).await;
    if !done.is_empty() {
        info!(video.id = %id, resumed = done.len(), "resuming: results of an interrupted run reused");
        manifest.resumed = done.len() as u32;
    }
    let (results, mut manifest) = fan_out(
        store.clone(),
        invoker.clone(),
        (jobs, done),
        &plan,
        manifest,
        settings,
        events.clone(),
    )
    .await?;
    manifest.timings.encode_ms = t.elapsed().as_millis() as u64;

    events(Event::Stage(Stage::Assembling));
    let t = Instant::now();
    manifest = manifest.at_stage(Stage::Assembling, now_ms());
    write_manifest(store.as_ref(), &manifest)
        .await
        .map_err(store_err)?;
    let (slices, audio) = results;
    let speech_source = (
        source.clone(),
        probe.audio.as_ref().map(|a| a.index as usize),
    );
    let input = AssembleInput {
        video_id: id.clone(),
        plan,
        rungs,
        frame_rate: fps,
        slices,
        audio,
        source,
        display_size: (dw, dh),
        sprite: settings.sprite.clone(),
        generate_dash: settings.generate_dash,
    };
    let assembled = assemble_with_retries(invoker.as_ref(), input, settings).await?;
    manifest.assets = assembled.assets;
    manifest.rungs = assembled.rungs;
    manifest.duration_s = Some(assembled.duration_s);
    manifest.timings.assemble_ms = t.elapsed().as_millis() as u64;
    let mut done = manifest.completed(now_ms());
    if settings.transcriber.is_some() {
        done.transcription_status = TranscriptionStatus::Pending;
    }
    write_manifest(store.as_ref(), &done)
        .await
        .map_err(store_err)?;
    info!(video.id = %id, total_ms = done.timings.total_ms, "video complete");
    Ok((done, speech_source))
}

/// Runs the assembler, retrying what may succeed on another try.
async fn assemble_with_retries(
    invoker: &dyn Invoker,
    input: AssembleInput,
    settings: &Settings,
) -> Result<Assembled, String> {
    let mut failures = 0;
    let mut throttles = 0;
    loop {
        match invoker.assemble(input.clone()).await {
            Ok(a) => return Ok(a),
            Err(e) if e.throttled => {
                throttles += 1;
                tokio::time::sleep(fanout::backoff(throttles, settings.retry_backoff * 4)).await;
            }
            Err(e) if e.retryable && failures + 1 < settings.max_tries.max(1) => {
                failures += 1;
                warn!(error = %e, attempt = failures, "assembling failed; retrying");
                tokio::time::sleep(fanout::backoff(failures, settings.retry_backoff)).await;
            }
            Err(e) => return Err(format!("assembling the output failed: {e}")),
        }
    }
}

/// The audio jobs: none without audio, one for the whole track, or chunks.
fn audio_parts(probe: &Probe, plan: &SlicePlan, settings: &Settings) -> Vec<Option<AudioChunk>> {
    let Some(a) = &probe.audio else {
        return Vec::new();
    };
    let sample_rate = slicecast_media::args::audio_sample_rate(a.sample_rate);
    let duration = probe.duration_s.max(plan.duration_s());
    match settings
        .audio_chunk_seconds
        .and_then(|c| audio_chunks(duration, sample_rate, settings.segment_seconds, c))
    {
        Some(chunks) => chunks.into_iter().map(Some).collect(),
        None => vec![None],
    }
}

/// Progress units: one per slice, plus one per audio job.
fn job_units(plan: &SlicePlan, probe: &Probe, settings: &Settings) -> u32 {
    (plan.slices.len() + audio_parts(probe, plan, settings).len()) as u32
}

/// One audio result from the chunks' results, checking that they chain:
/// contiguous segment numbers from 0, each starting where the previous ends.
fn merge_audio(mut parts: Vec<AudioResult>) -> Result<Option<AudioResult>, String> {
    parts.sort_by_key(|p| p.segments.first().map_or(u32::MAX, |s| s.number));
    let Some(first) = parts.first() else {
        return Ok(None);
    };
    let mut merged = AudioResult {
        segments: Vec::new(),
        encode_ms: parts.iter().map(|p| p.encode_ms).max().unwrap_or(0),
        ..first.clone()
    };
    for p in &parts {
        if (&p.codecs, p.timescale, p.sample_rate)
            != (&merged.codecs, merged.timescale, merged.sample_rate)
        {
            return Err("the audio chunks were encoded differently".into());
        }
        merged.segments.extend(p.segments.iter().cloned());
    }
    for (i, w) in merged.segments.windows(2).enumerate() {
        if w[1].number != w[0].number + 1 || w[1].start != w[0].start + w[0].duration {
            return Err(format!(
                "the audio chunks do not fit together at audio segment {}",
                i + 1
            ));
        }
    }
    if merged
        .segments
        .first()
        .is_some_and(|s| s.number != 0 || s.start != 0)
    {
        return Err("the audio does not start at segment 0".into());
    }
    Ok(Some(merged))
}

fn make_jobs(
    id: &VideoId,
    source: &SourceRef,
    probe: &Probe,
    plan: &SlicePlan,
    rungs: &[Rung],
    settings: &Settings,
    display: (u32, u32),
) -> Vec<Job> {
    let mut jobs = Vec::with_capacity(plan.slices.len() + 1);
    let video_stream = probe.video.as_ref().map_or(0, |v| v.index);
    if let Some(a) = &probe.audio {
        for chunk in audio_parts(probe, plan, settings) {
            jobs.push(Job::Audio(AudioJob {
                video_id: id.clone(),
                source: source.clone(),
                audio_stream: a.index,
                origin_s: plan.origin_pts as f64 * plan.time_base.as_f64(),
                channels: if a.channels == 1 { 1 } else { 2 },
                sample_rate: slicecast_media::args::audio_sample_rate(a.sample_rate),
                bitrate: settings.audio_bitrate,
                segment_seconds: settings.segment_seconds,
                duration_s: probe.duration_s.max(plan.duration_s()),
                attempt: 1,
                chunk,
            }));
        }
    }
    let thumb_size =
        slicecast_core::thumbs::thumb_size(display.0, display.1, settings.sprite.width);
    let video_delay_ticks = probe.audio.as_ref().map_or(0, |a| {
        slicecast_core::timeline::priming_ticks(
            slicecast_media::args::audio_sample_rate(a.sample_rate),
            plan.timescale,
        )
    });
    for s in &plan.slices {
        jobs.push(Job::Slice(SliceJob {
            video_id: id.clone(),
            source: source.clone(),
            video_stream,
            time_base: plan.time_base,
            timescale: plan.timescale,
            origin_pts: plan.origin_pts,
            slice: s.clone(),
            video_delay_ticks,
            rungs: rungs.to_vec(),
            settings: EncodeSettings {
                preset: settings.preset.clone(),
                threads: settings.threads_per_worker,
                deinterlace: probe.video.as_ref().is_some_and(|v| v.interlaced),
                thumb_size,
            },
            attempt: 1,
        }));
    }
    jobs
}

type Results = (
    Vec<slicecast_core::job::SliceResult>,
    Option<slicecast_core::job::AudioResult>,
);

async fn fan_out(
    store: Arc<dyn BlobStore>,
    invoker: Arc<dyn Invoker>,
    (jobs, done): (Vec<Job>, Vec<JobResult>),
    plan: &SlicePlan,
    manifest: Manifest,
    settings: &Settings,
    events: EventSink,
) -> Result<(Results, Manifest), String> {
    let total = plan.slices.len() as u32;
    let units = (jobs.len() + done.len()) as u32;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for r in done {
        let _ = tx.send(r);
    }
    let runner = fanout::run_jobs(invoker, jobs, settings, tx);
    let collect = async {
        let mut manifest = manifest;
        let mut slices = Vec::with_capacity(total as usize);
        let mut audio = Vec::new();
        while let Some(r) = rx.recv().await {
            match r {
                JobResult::Slice(s) => slices.push(s),
                JobResult::Audio(a) => audio.push(a),
            }
            let done = slices.len() as u32;
            let units_done = done + audio.len() as u32;
            manifest = manifest.with_progress(done, total, units_done, units, now_ms());
            write_manifest(store.as_ref(), &manifest)
                .await
                .map_err(|e| format!("storage error: {e}"))?;
            events(Event::JobDone {
                slices_done: done,
                slices_total: total,
            });
        }
        Ok::<_, String>((slices, audio, manifest))
    };
    let ((), (mut slices, audio, manifest)) = tokio::try_join!(runner, collect)?;
    slices.sort_by_key(|s| s.index);
    if slices.len() as u32 != total {
        return Err(format!("only {} of {total} slices finished", slices.len()));
    }
    let audio = merge_audio(audio)?;
    Ok(((slices, audio), manifest))
}

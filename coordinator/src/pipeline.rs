//! One claimed video from probe to assembled output: examine the source,
//! plan, fan the jobs out, collect their results, assemble.

use crate::fanout::Update;
use crate::jobs::{make_jobs, merge_audio};
use crate::live::{LiveProgress, job_weight};
use crate::publish::EarlyPublisher;
use crate::{
    Event, EventSink, Failure, Invoker, Settings, fanout, headstart, now_ms, resume, source,
    write_manifest,
};
use slicecast_assembler::{AssembleInput, Assembled};
use slicecast_core::job::{Job, JobResult, SourceRef, ToneMap};
use slicecast_core::ladder::{extra_rungs, ladder_for};
use slicecast_core::manifest::{
    EncoderSummary, Manifest, SourceSummary, Stage, TranscriptionStatus,
};
use slicecast_core::plan::{PlanParams, default_slice_seconds, plan_padded};
use slicecast_storage::BlobStore;
use std::sync::Arc;
use std::time::Instant;
use tracing::{info, warn};

pub(crate) async fn run_claimed(
    store: Arc<dyn BlobStore>,
    invoker: Arc<dyn Invoker>,
    mut manifest: Manifest,
    size: u64,
    settings: &Settings,
    events: EventSink,
    early: Option<source::EarlyProbe>,
) -> Result<(Manifest, (SourceRef, Option<usize>)), Failure> {
    let id = manifest.video_id.clone();
    events(Event::Stage(Stage::Probing));
    let location = store.readable_location(&manifest.upload_key).await?;
    if size == 0 {
        return Err(Failure::Source("the file is empty (0 bytes)".into()));
    }
    // The whole file is examined while the head start plans its first
    // seconds from the same header; a head start planned after the
    // examination ended is not made.
    let early =
        early.unwrap_or_else(|| source::EarlyProbe::start(location.clone(), settings.limits));
    let header = early.header();
    let examine = source::examine(
        store.as_ref(),
        &id,
        location.clone(),
        &settings.limits,
        early,
    );
    tokio::pin!(examine);
    let head_start = headstart::HeadStart::start(
        store.as_ref(),
        invoker.clone(),
        &id,
        &location,
        header,
        settings,
    );
    let (examined, head_start) = tokio::select! {
        biased;
        examined = &mut examine => (examined, headstart::HeadStart::default()),
        head_start = head_start => (examine.await, head_start),
    };
    let source::Examined {
        location,
        probe,
        video,
        index,
        took: examined_in,
    } = match examined {
        Ok(examined) => examined,
        Err(failure) => {
            head_start.settle().await;
            return Err(failure);
        }
    };
    let t = Instant::now();
    let (lead, tail) = slicecast_core::timeline::padding_frames(&probe, &index);
    if lead + tail > 0 {
        info!(video.id = %id, lead_frames = lead, tail_frames = tail, "the sound starts before or ends after the picture: holding the first/last picture");
    }
    let params = plan_params(settings, index.span_s());
    let plan = plan_padded(&index, &params, lead, tail)
        .map_err(|e| Failure::Source(format!("could not plan the encode: {e}")))?;
    if plan.accurate_seek_slices() > 0 {
        info!(
            video.id = %id,
            slices = plan.slices.len(),
            accurate_seek_slices = plan.accurate_seek_slices(),
            "keyframes too sparse for the slice length; those slices start between keyframes and seek accurately"
        );
    }
    let ((dw, dh), rungs) = rungs_for(&video, settings);
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
    manifest.encoder = Some(EncoderSummary {
        video: if settings.extra_codecs.is_empty() {
            "x264".into()
        } else {
            "x264, libaom-av1".into()
        },
        preset: settings.preset.clone(),
        crf: settings.crf,
        segment_seconds: settings.segment_seconds,
    });
    manifest.timings.probe_ms = (examined_in + t.elapsed()).as_millis() as u64;
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
    manifest = manifest
        .at_stage(Stage::Encoding, now_ms())
        .with_live_progress(0, plan.slices.len() as u32, 0.0, None, now_ms());
    write_manifest(store.as_ref(), &manifest).await?;
    let source = SourceRef {
        location: location.clone(),
        format_name: probe.format_name.clone(),
        start_time_s: probe.start_time_s,
    };
    let jobs = make_jobs(&id, &source, &probe, &plan, &rungs, settings, (dw, dh));
    let all_work: f64 = jobs.iter().map(job_weight).sum();
    let (jobs, done) = resume::split_done(store.as_ref(), jobs).await;
    let started = head_start.adopt(&jobs).await;
    let live = LiveProgress::new(&jobs, all_work);
    if !done.is_empty() {
        info!(video.id = %id, resumed = done.len(), "resuming: results of an interrupted run reused");
        manifest.resumed = done.len() as u32;
    }
    let publisher = EarlyPublisher::new(
        &plan,
        &rungs,
        fps,
        probe.audio.is_some(),
        settings.publish_while_encoding,
        slicecast_assembler::sprites::layout((dw, dh), &settings.sprite),
    );
    let (results, mut manifest) = fan_out(
        store.clone(),
        invoker.clone(),
        (jobs, done, live, started),
        publisher,
        manifest,
        settings,
        events.clone(),
    )
    .await?;
    manifest.timings.encode_ms = t.elapsed().as_millis() as u64;

    events(Event::Stage(Stage::Assembling));
    let t = Instant::now();
    manifest = manifest.at_stage(Stage::Assembling, now_ms());
    write_manifest(store.as_ref(), &manifest).await?;
    let (slices, audio) = results;
    if audio.is_none() && manifest.has_audio {
        info!(video.id = %id, "the audio track holds no sound: published without one");
        manifest.has_audio = false;
    }
    let speech_source = (
        source.clone(),
        audio
            .as_ref()
            .and(probe.audio.as_ref())
            .map(|a| a.index as usize),
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
        generate_downloads: settings.generate_downloads,
        tone_map: probe.video.as_ref().and_then(ToneMap::of),
    };
    let assembled = assemble_with_retries(invoker.as_ref(), input, settings).await?;
    manifest.assets = assembled.assets;
    manifest.rungs = assembled.rungs;
    manifest.downloads = assembled.downloads;
    manifest.timings.downloads_ms = assembled.downloads_ms;
    manifest.duration_s = Some(assembled.duration_s);
    manifest.timings.assemble_ms = t.elapsed().as_millis() as u64;
    let mut done = manifest.completed(now_ms());
    if settings.transcriber.is_some() {
        done.transcription_status = TranscriptionStatus::Pending;
    }
    write_manifest(store.as_ref(), &done).await?;
    info!(video.id = %id, total_ms = done.timings.total_ms, "video complete");
    Ok((done, speech_source))
}

/// How a source of about `duration_s` is cut (the head start plans its
/// first seconds with the same parameters).
pub(crate) fn plan_params(settings: &Settings, duration_s: f64) -> PlanParams {
    PlanParams {
        slice_seconds: settings.slice_seconds.unwrap_or_else(|| {
            default_slice_seconds(duration_s, settings.workers, settings.min_slice_seconds)
        }),
        segment_seconds: settings.segment_seconds,
        thumb_interval_seconds: settings.sprite.interval_s,
        first_slice_seconds: settings.first_slice_for(duration_s),
    }
}

/// The picture's display size and the rungs encoded for it, tallest first.
pub(crate) fn rungs_for(
    video: &slicecast_core::source_info::VideoStream,
    settings: &Settings,
) -> ((u32, u32), Vec<slicecast_core::ladder::Rung>) {
    let (dw, dh) = video.display_size();
    let mut rungs = ladder_for(dw, dh);
    rungs.extend(extra_rungs(&rungs, &settings.extra_codecs));
    ((dw, dh), rungs)
}

/// Runs the assembler, retrying what may succeed on another try.
async fn assemble_with_retries(
    invoker: &dyn Invoker,
    input: AssembleInput,
    settings: &Settings,
) -> Result<Assembled, Failure> {
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
            Err(e) => {
                return Err(Failure::Output(format!(
                    "assembling the output failed: {e}"
                )));
            }
        }
    }
}

/// Progress that only moved the fraction is written at most this often.
const PROGRESS_WRITE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

fn keep(
    r: JobResult,
    slices: &mut Vec<slicecast_core::job::SliceResult>,
    audio: &mut Vec<slicecast_core::job::AudioResult>,
) {
    match r {
        JobResult::Slice(s) => slices.push(s),
        JobResult::Audio(a) => audio.push(a),
    }
}

type Results = (
    Vec<slicecast_core::job::SliceResult>,
    Option<slicecast_core::job::AudioResult>,
);

async fn fan_out(
    store: Arc<dyn BlobStore>,
    invoker: Arc<dyn Invoker>,
    (jobs, done, mut live, head): (Vec<Job>, Vec<JobResult>, LiveProgress, Vec<fanout::Started>),
    mut publisher: EarlyPublisher<'_>,
    manifest: Manifest,
    settings: &Settings,
    events: EventSink,
) -> Result<(Results, Manifest), Failure> {
    let total = publisher.slices_total();
    let started = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = fanout::run_jobs(invoker, jobs, settings, tx, head);
    let collect = async {
        let mut manifest = manifest;
        let mut slices = Vec::with_capacity(total as usize);
        let mut audio = Vec::new();
        // Results an interrupted run left are published before anything runs.
        let mut reused = !done.is_empty();
        for r in done {
            keep(r, &mut slices, &mut audio);
        }
        let mut written: Option<Instant> = None;
        loop {
            let finished = if std::mem::take(&mut reused) {
                true
            } else {
                match rx.recv().await {
                    None => break,
                    Some(Update::Progress { job, fraction }) => {
                        live.report(job, fraction);
                        if written.is_some_and(|t| t.elapsed() < PROGRESS_WRITE_EVERY) {
                            continue;
                        }
                        false
                    }
                    Some(Update::Done { job, result }) => {
                        live.finish(job);
                        keep(result, &mut slices, &mut audio);
                        true
                    }
                }
            };
            let done = slices.len() as u32;
            let fraction = live.fraction();
            let eta = live.eta(started.elapsed()).map(|d| d.as_millis() as u64);
            manifest = manifest.with_live_progress(done, total, fraction, eta, now_ms());
            if finished {
                let was_playable = manifest.playable;
                manifest = publisher
                    .update(store.as_ref(), manifest, &slices, &audio, now_ms())
                    .await;
                if manifest.playable
                    && !was_playable
                    && let Some(w) = &settings.webhooks
                {
                    w.send("video.playable", &manifest);
                }
            }
            write_manifest(store.as_ref(), &manifest).await?;
            written = Some(Instant::now());
            events(if finished {
                Event::JobDone {
                    slices_done: done,
                    slices_total: total,
                }
            } else {
                Event::Progress { fraction }
            });
        }
        Ok::<_, Failure>((slices, audio, manifest))
    };
    let ((), (mut slices, audio, manifest)) = tokio::try_join!(runner, collect)?;
    slices.sort_by_key(|s| s.index);
    if slices.len() as u32 != total {
        return Err(Failure::Job(format!(
            "only {} of {total} slices finished",
            slices.len()
        )));
    }
    let audio = merge_audio(audio)?;
    Ok(((slices, audio), manifest))
}

//! `slicecast model INPUT`: time-to-playable and cost of a long upload on AWS
//! Lambda, from figures measured here on INPUT.
//!
//! Measured (one run, this machine): the real pipeline transcodes INPUT with
//! one job at a time, each ffmpeg using every core, through an invoker that
//! times each job and its children's CPU (`getrusage`). That gives the CPU
//! seconds per source second of a slice (all rungs, thumbnails) and of the
//! audio track, a slice's fixed cost, and the hash, probe and assembly rates.
//! Assumed (flags, defaults from AWS's published limits): the worker's vCPUs,
//! cold start, invoke latency, S3 throughput per connection, scaling rate.

use crate::bench::commands::generate_args;
use anyhow::{Context, bail};
use async_trait::async_trait;
use clap::Args;
use serde::Serialize;
use slicecast_assembler::{AssembleInput, Assembled};
use slicecast_coordinator::{InvokeError, Invoker, LocalInvoker, Settings, process_upload};
use slicecast_core::job::{Job, JobResult};
use slicecast_media::probe::intervals;
use slicecast_media::{ffmpeg_bin, process};
use slicecast_segment_worker::WorkerOptions;
use slicecast_storage::{BlobStore, FsStore};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Arguments of `model`.
#[derive(Args, Debug)]
pub struct ModelArgs {
    /// The video to measure on.
    pub input: PathBuf,
    /// Measure on a 1080p clip of SECONDS made by looping INPUT instead.
    #[arg(long, value_name = "SECONDS")]
    pub generate_1080p: Option<f64>,
    /// Lengths of the modelled upload, in seconds, comma-separated (10
    /// minutes, 1 hour and 2 hours by default).
    #[arg(long, value_delimiter = ',', default_value = "600,3600,7200")]
    pub duration: Vec<f64>,
    /// Worker counts to model, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "50,200,1000")]
    pub workers: Vec<usize>,
    /// Slice length for the measurement run.
    #[arg(long, default_value_t = 8.0)]
    pub slice_seconds: f64,
    /// Shortest slice the coordinator plans (`MIN_SLICE_SECONDS`, as on Lambda).
    #[arg(long, default_value_t = 8.0)]
    pub min_slice_seconds: f64,
    /// Audio chunk length (`AUDIO_CHUNK_SECONDS`; 0 = the whole track in one job).
    #[arg(long, default_value_t = 60.0)]
    pub audio_chunk_seconds: f64,
    /// vCPUs of a worker (Lambda: 6 at 10 240 MB).
    #[arg(long, default_value_t = 6)]
    pub vcpus: u32,
    /// Worker memory in MB (for the cost).
    #[arg(long, default_value_t = 10_240)]
    pub memory_mb: u32,
    /// Fraction of the extra vCPUs x264 turns into speed.
    #[arg(long, default_value_t = 0.8)]
    pub thread_efficiency: f64,
    /// Cold start of a worker environment (container image with ffmpeg), seconds.
    #[arg(long, default_value_t = 1.5)]
    pub cold_start_s: f64,
    /// Round trip of one synchronous invoke, seconds.
    #[arg(long, default_value_t = 0.05)]
    pub invoke_s: f64,
    /// S3 GET throughput of one connection, MB/s.
    #[arg(long, default_value_t = 90.0)]
    pub s3_mb_s: f64,
    /// New execution environments per 10 s (Lambda's scaling rate per function).
    #[arg(long, default_value_t = 1000)]
    pub scale_per_10s: usize,
    /// Price per GB-second (Lambda x86, us-east-1).
    #[arg(long, default_value_t = 0.000_016_666_7)]
    pub gb_second_usd: f64,
    /// Model a bucket whose ETags are no content digest (SSE-KMS): the
    /// coordinator reads the upload through MD5 for its id. By default the
    /// id is S3's ETag, one HEAD (the template's bucket uses SSE-S3).
    #[arg(long)]
    pub hash_read: bool,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// What one job took.
#[derive(Debug, Clone)]
struct JobTime {
    audio: bool,
    media_s: f64,
    wall_s: f64,
    cpu_s: f64,
}

/// Wraps the local pool, timing each job (jobs run one at a time, so the
/// children's CPU delta belongs to that job).
struct Timed {
    inner: LocalInvoker,
    times: Mutex<Vec<JobTime>>,
}

#[async_trait]
impl Invoker for Timed {
    async fn invoke(&self, job: Job) -> Result<JobResult, InvokeError> {
        let (audio, media_s) = match &job {
            Job::Slice(s) => (
                false,
                (s.slice.end_pts - s.slice.start_pts) as f64 * s.time_base.as_f64(),
            ),
            Job::Audio(a) => (true, a.duration_s),
        };
        let cpu0 = crate::bench::children_usage().map_or(0.0, |u| u.0);
        let t = Instant::now();
        let r = self.inner.invoke(job).await;
        let wall_s = t.elapsed().as_secs_f64();
        let cpu_s = crate::bench::children_usage().map_or(0.0, |u| u.0) - cpu0;
        eprintln!(
            "model: {} job, {media_s:.2} s of media: {wall_s:.2} s wall, {cpu_s:.2} s CPU",
            if audio { "audio" } else { "slice" }
        );
        if let Ok(mut times) = self.times.lock() {
            times.push(JobTime {
                audio,
                media_s,
                wall_s,
                cpu_s,
            });
        }
        r
    }

    async fn assemble(&self, input: AssembleInput) -> Result<Assembled, InvokeError> {
        self.inner.assemble(input).await
    }
}

/// Rates measured on this machine.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    /// Source bytes per second of media.
    pub source_bytes_per_s: f64,
    /// CPU seconds per second of media for a slice (every rung + thumbnails),
    /// at the measured slice length (so it includes a slice's start-up cost).
    pub slice_cpu_per_media_s: f64,
    /// Mean slice wall time at `cores` threads, and its media length.
    pub slice_wall_s: f64,
    /// Media seconds per measured slice.
    pub slice_media_s: f64,
    /// CPU seconds per second of media for the audio track.
    pub audio_cpu_per_media_s: f64,
    /// MD5 throughput of the coordinator's hashing here, MB/s.
    pub hash_mb_s: f64,
    /// The examination's fixed part, seconds: its ffprobe processes'
    /// start-up and header reads (the measured examination less its
    /// per-second part).
    pub probe_fixed_s: f64,
    /// Listing the video packets, seconds per second of media (one ffprobe
    /// from local disk; the difference between the input and ten copies of
    /// it back to back, so process start-up is not counted per second).
    pub index_s_per_media_s: f64,
    /// Assembly seconds per second of media (sprites, poster, playlists).
    pub assemble_s_per_media_s: f64,
    /// Cores used per slice here.
    pub cores: usize,
}

/// One modelled configuration.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Row {
    /// Seconds of media modelled.
    pub duration_s: f64,
    /// Workers in flight.
    pub workers: usize,
    /// Slices planned.
    pub slices: usize,
    /// Slice length, seconds.
    pub slice_s: f64,
    /// Hashing, seconds.
    pub hash_s: f64,
    /// Probing (the coordinator's ffprobe reads the whole file from S3, on
    /// its own connection while the upload is hashed), seconds.
    pub probe_s: f64,
    /// The head start after the hash (a probe of the header and a listing
    /// of the first `HEAD_SECONDS`, from which the first slice and audio
    /// job go out while the whole file is indexed), seconds; 0 without one.
    pub head_s: f64,
    /// Slowest slice from invoke to result, including cold start and scale-out, seconds.
    pub slices_s: f64,
    /// The audio (its chunks in parallel, each with a fragment of pre- and
    /// post-roll; or the whole track in one job), seconds.
    pub audio_s: f64,
    /// Assembly, seconds.
    pub assemble_s: f64,
    /// Upload complete to the start playing (published while the rest
    /// encodes: the first slice and the audio covering it are in), seconds.
    pub first_playable_s: f64,
    /// Upload complete to processing complete, seconds.
    pub total_s: f64,
    /// Lambda compute cost per source minute, USD.
    pub usd_per_source_minute: f64,
}

/// The assumptions of the model.
#[derive(Debug, Clone, Serialize)]
pub struct Assumptions {
    /// Seconds of media modelled.
    pub duration_s: f64,
    /// Shortest slice.
    pub min_slice_s: f64,
    /// Audio chunk length, 0 = whole track.
    pub audio_chunk_s: f64,
    /// The first slice's length when it is shorter than the others (a long
    /// source published while it encodes: `Settings::first_slice_for`).
    pub first_slice_s: Option<f64>,
    /// Worker vCPUs.
    pub vcpus: u32,
    /// Worker memory, MB.
    pub memory_mb: u32,
    /// Threading efficiency.
    pub thread_efficiency: f64,
    /// Cold start, s.
    pub cold_start_s: f64,
    /// Invoke round trip, s.
    pub invoke_s: f64,
    /// S3 GET per connection, MB/s.
    pub s3_mb_s: f64,
    /// Environments per 10 s.
    pub scale_per_10s: usize,
    /// USD per GB-s.
    pub gb_second_usd: f64,
    /// The id is read through MD5 (no content digest in the ETag).
    pub hash_read: bool,
}

/// The coordinator's memory (deploy/template.yaml): 2 vCPUs.
const COORDINATOR_MB: f64 = 3538.0;

/// Time to playable and cost for `workers` workers.
pub fn model_row(m: &Measured, a: &Assumptions, workers: usize) -> Row {
    let d = a.duration_s.max(0.0);
    let size_mb = m.source_bytes_per_s * d / 1e6;
    let slice_s = (d / workers.max(1) as f64).max(a.min_slice_s);
    let slices = (d / slice_s).ceil().max(1.0) as usize;
    let waves = slices.div_ceil(workers.max(1));
    let speed = 1.0 + (f64::from(a.vcpus.max(1)) - 1.0) * a.thread_efficiency;
    let slice_cpu = m.slice_cpu_per_media_s * slice_s;
    // A slice reads about its share of the source, then encodes.
    let slice_run =
        a.invoke_s + slice_s * m.source_bytes_per_s / 1e6 / a.s3_mb_s + slice_cpu / speed;
    let in_flight = slices.min(workers.max(1));
    let scale_out = 10.0 * ((in_flight.saturating_sub(1)) / a.scale_per_10s.max(1)) as f64;
    let slices_s = a.cold_start_s + scale_out + waves as f64 * slice_run;
    // The id: S3's ETag (one HEAD), or 4 ranged reads in flight, hashed as
    // they arrive.
    let hash_s = if a.hash_read {
        size_mb / (4.0 * a.s3_mb_s).min(m.hash_mb_s)
    } else {
        a.invoke_s
    };
    // The probe's readers (one per ten minutes of an MP4, each on its own
    // connection): their reading scales with their number, their parsing
    // with the coordinator's 2 vCPUs at most.
    let readers = intervals::readers_for("mov,mp4", d) as f64;
    let probe_s = m.probe_fixed_s
        + (size_mb / (readers * a.s3_mb_s)).max(m.index_s_per_media_s * d / readers.min(2.0));
    // A chunk reads and encodes its span plus 4 s of pre- and post-roll.
    let audio_span = if a.audio_chunk_s > 0.0 && d > 1.5 * a.audio_chunk_s {
        a.audio_chunk_s + 8.0
    } else {
        d
    };
    let audio_jobs = (d / audio_span.min(d).max(1e-3)).ceil();
    let audio_s = a.cold_start_s
        + a.invoke_s
        + audio_span * m.source_bytes_per_s / 1e6 / a.s3_mb_s
        + m.audio_cpu_per_media_s * audio_span;
    let assemble_s = a.cold_start_s + a.invoke_s + m.assemble_s_per_media_s * d;
    // The probe needs the upload, not its id: it runs while the upload is hashed.
    let examined_s = hash_s.max(probe_s);
    let total_s = examined_s + slices_s.max(audio_s) + assemble_s;
    // Jobs go out in time order: the first slice and the first audio job (a
    // chunk, or the whole track) start at once, in the first environments;
    // then the coordinator writes the growing playlists (one more round trip).
    let first_s = a.first_slice_s.map_or(slice_s, |f| f.min(slice_s));
    let first_slice = a.cold_start_s
        + a.invoke_s
        + first_s * m.source_bytes_per_s / 1e6 / a.s3_mb_s
        + m.slice_cpu_per_media_s * first_s / speed;
    // A short first slice (published while encoding) gets a head start: it
    // and the first audio job go out after the hash and a look at the
    // file's first seconds; the playlists still wait for the whole plan.
    let head_s = if a.first_slice_s.is_some() {
        let head = slicecast_coordinator::HEAD_SECONDS.min(d);
        a.invoke_s
            + m.probe_fixed_s
            + (head * m.source_bytes_per_s / 1e6 / a.s3_mb_s).max(m.index_s_per_media_s * head)
    } else {
        0.0
    };
    let first_jobs_in = if a.first_slice_s.is_some() {
        hash_s + head_s
    } else {
        examined_s
    } + first_slice.max(audio_s);
    let first_playable_s = (first_jobs_in.max(examined_s) + a.invoke_s).min(total_s);
    let gb = f64::from(a.memory_mb) / 1024.0;
    let worker_gb_s = gb * (slices as f64 * slice_run + audio_jobs * audio_s + assemble_s);
    let coordinator_gb_s = COORDINATOR_MB / 1024.0 * total_s;
    let usd = (worker_gb_s + coordinator_gb_s) * a.gb_second_usd;
    Row {
        duration_s: d,
        workers,
        slices,
        slice_s,
        hash_s,
        probe_s,
        head_s,
        slices_s,
        audio_s,
        assemble_s,
        first_playable_s,
        total_s,
        usd_per_source_minute: if d > 0.0 { usd / (d / 60.0) } else { 0.0 },
    }
}

/// Runs the measurement and prints the model.
pub async fn run(args: ModelArgs) -> anyhow::Result<()> {
    if !(args.duration.iter().all(|d| *d > 0.0) && args.slice_seconds > 0.0) {
        bail!("--duration and --slice-seconds must be positive");
    }
    let work = tempfile::Builder::new()
        .prefix("slicecast-model-")
        .tempdir()
        .context("cannot make a temporary directory")?;
    let input = match args.generate_1080p {
        Some(secs) => {
            let out = work.path().join("generated_1080p.mp4");
            eprintln!("model: generating a {secs} s 1080p clip");
            process::run(
                &ffmpeg_bin(),
                &generate_args(&args.input, secs, &out),
                Duration::from_secs_f64(1800.0 + secs * 300.0),
            )
            .await
            .context("generating the 1080p clip failed")?;
            out
        }
        None => args.input.clone(),
    };
    let size = std::fs::metadata(&input)
        .with_context(|| format!("cannot read {}", input.display()))?
        .len();
    let store = Arc::new(FsStore::new(work.path().join("store")).context("store")?);
    store
        .put_file("uploads/model-input", &input)
        .await
        .context("copying the input")?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let settings = Settings {
        workers: 1,
        threads_per_worker: cores as u32,
        slice_seconds: Some(args.slice_seconds),
        ..Settings::default()
    };
    let timed = Arc::new(Timed {
        inner: LocalInvoker::new(store.clone(), 1, WorkerOptions::default()),
        times: Mutex::new(Vec::new()),
    });
    eprintln!("model: transcoding {} one job at a time", input.display());
    let outcome = process_upload(
        store,
        timed.clone(),
        "uploads/model-input",
        &settings,
        Arc::new(|_| {}),
    )
    .await
    .context("the measurement transcode failed")?;
    let m = outcome.manifest();
    let media_s = m.duration_s.unwrap_or(0.0);
    if media_s <= 0.0 {
        bail!("the input has no duration");
    }
    let times = timed.times.lock().map(|t| t.clone()).unwrap_or_default();
    let slices: Vec<&JobTime> = times.iter().filter(|t| !t.audio).collect();
    let audio: Vec<&JobTime> = times.iter().filter(|t| t.audio).collect();
    let slice_media: f64 = slices.iter().map(|t| t.media_s).sum();
    let slice_cpu: f64 = slices.iter().map(|t| t.cpu_s).sum();
    let index_rate = index_rate(&input, work.path(), media_s).await?;
    let measured = Measured {
        source_bytes_per_s: size as f64 / media_s,
        slice_cpu_per_media_s: slice_cpu / slice_media.max(1e-3),
        slice_wall_s: slices.iter().map(|t| t.wall_s).sum::<f64>() / slices.len().max(1) as f64,
        slice_media_s: slices.iter().map(|t| t.media_s).sum::<f64>() / slices.len().max(1) as f64,
        audio_cpu_per_media_s: audio.first().map_or(0.0, |a| a.cpu_s / a.media_s.max(1e-3)),
        hash_mb_s: size as f64 / 1e6 / (m.timings.hash_ms.max(1) as f64 / 1000.0),
        probe_fixed_s: (m.timings.probe_ms as f64 / 1000.0 - index_rate * media_s).max(0.0),
        index_s_per_media_s: index_rate,
        assemble_s_per_media_s: m.timings.assemble_ms as f64 / 1000.0 / media_s,
        cores,
    };
    let assumptions = |duration_s: f64| Assumptions {
        duration_s,
        min_slice_s: args.min_slice_seconds,
        audio_chunk_s: args.audio_chunk_seconds,
        // Lambda sizes slices automatically, as `Settings::default()` does.
        first_slice_s: Settings::default().first_slice_for(duration_s),
        vcpus: args.vcpus,
        memory_mb: args.memory_mb,
        thread_efficiency: args.thread_efficiency,
        cold_start_s: args.cold_start_s,
        invoke_s: args.invoke_s,
        s3_mb_s: args.s3_mb_s,
        scale_per_10s: args.scale_per_10s,
        gb_second_usd: args.gb_second_usd,
        hash_read: args.hash_read,
    };
    let rows: Vec<Row> = args
        .duration
        .iter()
        .flat_map(|&d| {
            let a = assumptions(d);
            args.workers
                .iter()
                .map(|&w| model_row(&measured, &a, w))
                .collect::<Vec<_>>()
        })
        .collect();
    if args.json {
        let assumed: Vec<Assumptions> = args.duration.iter().map(|&d| assumptions(d)).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "measured": measured,
                "assumptions": assumed,
                "rows": rows,
            }))?
        );
        return Ok(());
    }
    println!(
        "measured on {} ({} s of media, {} slices of ~{:.1} s, {cores} cores):",
        input.display(),
        fmt1(media_s),
        slices.len(),
        measured.slice_media_s
    );
    println!(
        "  slice CPU: {:.2} s per media second; slice wall {:.2} s at {cores} threads",
        measured.slice_cpu_per_media_s, measured.slice_wall_s
    );
    println!(
        "  audio CPU: {:.3} s per media second; hash {:.0} MB/s; examination {:.2} s + packet list {:.5} s per media second; assembly {:.3} s per media second; source {:.2} Mbit/s",
        measured.audio_cpu_per_media_s,
        measured.hash_mb_s,
        measured.probe_fixed_s,
        measured.index_s_per_media_s,
        measured.assemble_s_per_media_s,
        measured.source_bytes_per_s * 8.0 / 1e6
    );
    println!(
        "model: {} s uploads, {} vCPU workers ({} MB), efficiency {}, cold start {} s, invoke {} s, S3 {} MB/s per connection",
        args.duration
            .iter()
            .map(|d| fmt1(*d))
            .collect::<Vec<_>>()
            .join(", "),
        args.vcpus,
        args.memory_mb,
        args.thread_efficiency,
        args.cold_start_s,
        args.invoke_s,
        args.s3_mb_s
    );
    println!(
        "| length s | workers | slices | slice s | hash s | probe s | head start s | slices s | audio s | assemble s | first playable after s | complete after s | $ per source min |"
    );
    println!(
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for r in &rows {
        println!(
            "| {:.0} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.4} |",
            r.duration_s,
            r.workers,
            r.slices,
            r.slice_s,
            r.hash_s,
            r.probe_s,
            r.head_s,
            r.slices_s,
            r.audio_s,
            r.assemble_s,
            r.first_playable_s,
            r.total_s,
            r.usd_per_source_minute
        );
    }
    Ok(())
}

/// Seconds per second of media that one ffprobe takes to list `input`'s
/// video packets: timed on `input` and on ten copies of it back to back
/// (`-stream_loop`, every stream copied), so the start-up both pay cancels
/// out.
async fn index_rate(
    input: &std::path::Path,
    dir: &std::path::Path,
    media_s: f64,
) -> anyhow::Result<f64> {
    let looped = dir.join("ten_copies.mp4");
    let mut argv: Vec<std::ffi::OsString> = ["-v", "error", "-y", "-stream_loop", "9", "-i"]
        .iter()
        .map(Into::into)
        .collect();
    argv.push(input.as_os_str().to_owned());
    argv.extend(["-c", "copy"].iter().map(Into::into));
    argv.push(looped.as_os_str().to_owned());
    process::run(&ffmpeg_bin(), &argv, Duration::from_secs(600))
        .await
        .context("copying the clip ten times failed")?;
    let mut took = Vec::new();
    for path in [input, looped.as_path()] {
        let location = path.to_string_lossy().into_owned();
        let timeout = Duration::from_secs(600);
        let probe = slicecast_media::probe::probe(&location, timeout).await?;
        let video = slicecast_media::probe::require_video(&probe)?.clone();
        let t = Instant::now();
        slicecast_media::probe::frame_index(&location, &probe, &video, timeout).await?;
        took.push(t.elapsed().as_secs_f64());
    }
    Ok(((took[1] - took[0]) / (9.0 * media_s)).max(0.0))
}

fn fmt1(x: f64) -> String {
    format!("{x:.1}")
}

#[cfg(test)]
mod tests;

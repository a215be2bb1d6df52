//! `slicecast bench INPUT`: slicecast against a single-process ladder encode
//! with the same settings, and against the earlier service's pipeline.
//!
//! Each variant runs in a fresh process (this binary re-run with a hidden
//! `--variant-spec`), which measures its own children with
//! `getrusage(RUSAGE_CHILDREN)`: CPU is the delta around the children, and the
//! peak RSS is that fresh process's high-water mark, so one variant's peak
//! never leaks into the next. Quality (top-rung PSNR, bitrate) is measured
//! afterwards, outside the timed part.

mod av1;
mod bdrate;
pub(crate) mod commands;
mod report;

use anyhow::{Context, bail};
use clap::Args;
use commands::{
    Thumbs, cpu_model, generate_args, kbps, ladder_args, ladder_output, legacy_commands,
    parse_psnr, psnr_args, transcode_args,
};
use nix::sys::resource::{UsageWho, getrusage};
use report::{Measurement, Report, Round, Variant};
use serde::{Deserialize, Serialize};
use slicecast_core::VideoId;
use slicecast_core::keys;
use slicecast_core::ladder::{Rung, ladder_for};
use slicecast_media::args::{DEFAULT_CRF, X264};
use slicecast_media::probe::{probe, require_video};
use slicecast_media::{ffmpeg_bin, process};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// slicecast's default x264 preset, which (a) and (b) use.
const DEFAULT_PRESET: &str = "veryfast";

/// Arguments of `bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// The video file.
    pub input: PathBuf,
    /// Print only one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Slicecast's parallel workers (default: as `transcode`, the number of cores).
    #[arg(long, env = "MAX_WORKERS")]
    pub workers: Option<usize>,
    /// Skip the earlier service's pipeline (c) and slicecast at its preset (a_medium).
    #[arg(long)]
    pub skip_legacy: bool,
    /// Benchmark a 1080p clip of SECONDS made by looping INPUT instead of INPUT itself.
    #[arg(long, value_name = "SECONDS")]
    pub generate_1080p: Option<f64>,
    /// Also encode (a) and (b) at several CRFs and report the BD-rate of (a)
    /// against (b) (top rung; about 2 × the CRFs more encodes, untimed).
    #[arg(long)]
    pub bd_rate: bool,
    /// The CRFs of `--bd-rate` (at least four).
    #[arg(long, value_delimiter = ',', default_values_t = bdrate::DEFAULT_CRFS)]
    pub bd_crfs: Vec<u32>,
    /// Also run slicecast with the AV1 ladder (`--extra-codecs av1`, timed)
    /// and report its CPU and wall against (a), its top rung's bitrate and
    /// PSNR, and the BD-rate of AV1 against H.264 (each codec's top rung
    /// alone at four CRFs, untimed).
    #[arg(long)]
    pub av1: bool,
    /// Run (a) and (b) this many times, back to back in alternating order,
    /// and report the medians and each round's ratios (one run of a short
    /// clip varies by several percent).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub runs: u32,
    /// Also run (a) with each of these worker counts (e.g. `1,2,4,8,16`)
    /// and report the scaling curve: wall time, first playable, and CPU and
    /// wall against (b), measured once.
    #[arg(long, value_delimiter = ',', value_name = "WORKERS")]
    pub scaling: Vec<usize>,
    /// Keep every output under DIR instead of a temporary directory.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// Internal: run one variant and print its measurement as JSON.
    #[arg(long, hide = true, value_name = "JSON")]
    pub variant_spec: Option<String>,
}

/// What a variant process is told to do.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct VariantSpec {
    variant: Variant,
    input: PathBuf,
    work: PathBuf,
    rungs: Vec<Rung>,
    has_audio: bool,
    duration_s: f64,
    workers: Option<usize>,
    timeout_s: u64,
}

/// What a variant process reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct VariantResult {
    measurement: Measurement,
    processes: usize,
    /// The video id slicecast printed last, for (a) and (a_medium).
    video_id: Option<String>,
}

/// The probed source.
struct Source {
    size: (u32, u32),
    duration_s: f64,
    has_audio: bool,
}

/// Runs the benchmark (or, with `--variant-spec`, one variant of it).
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    if let Some(spec) = &args.variant_spec {
        let spec: VariantSpec = serde_json::from_str(spec).context("bad --variant-spec")?;
        let result = run_variant(&spec).await?;
        println!("{}", serde_json::to_string(&result)?);
        return Ok(());
    }
    let meta = std::fs::metadata(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    if !meta.is_file() {
        bail!("{} is not a file", args.input.display());
    }
    if args.bd_rate && args.bd_crfs.len() < 4 {
        bail!("--bd-crfs needs at least four CRFs for a BD-rate");
    }
    if let Some(s) = args.generate_1080p
        && !(s > 0.0 && s.is_finite())
    {
        bail!("--generate-1080p wants a positive number of seconds, not {s}");
    }
    let _temp;
    let work = match &args.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            dir.clone()
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("slicecast-bench-")
                .tempdir()
                .context("cannot make a temporary directory")?;
            let p = t.path().to_owned();
            _temp = t;
            p
        }
    };
    let report = bench(&args, &work).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", report.table());
    }
    if args.keep.is_some() {
        eprintln!("outputs kept in {}", work.display());
    }
    Ok(())
}

/// A generous limit for anything that reads or encodes the whole video once or a few times.
fn timeout_for(duration_s: f64) -> Duration {
    Duration::from_secs_f64(1800.0 + duration_s.max(0.0) * 300.0)
}

fn note(msg: &str) {
    eprintln!("bench: {msg}");
}

async fn probe_source(input: &Path) -> anyhow::Result<Source> {
    let loc = input.to_str().context("the input path is not UTF-8")?;
    let p = probe(loc, Duration::from_secs(120))
        .await
        .with_context(|| format!("cannot probe {}", input.display()))?;
    let v = require_video(&p)?;
    if p.duration_s <= 0.0 {
        bail!("{} has no duration", input.display());
    }
    Ok(Source {
        size: v.display_size(),
        duration_s: p.duration_s,
        has_audio: p.audio.is_some(),
    })
}

async fn bench(args: &BenchArgs, work: &Path) -> anyhow::Result<Report> {
    let input = match args.generate_1080p {
        Some(secs) => {
            let out = work.join("generated_1080p.mp4");
            note(&format!(
                "generating a {secs} s 1080p clip from {}",
                args.input.display()
            ));
            process::run(
                &ffmpeg_bin(),
                &generate_args(&args.input, secs, &out),
                timeout_for(secs),
            )
            .await
            .context("generating the 1080p clip failed")?;
            out
        }
        None => args.input.clone(),
    };
    let input = std::path::absolute(&input).unwrap_or(input);
    let src = probe_source(&input).await?;
    let rungs = ladder_for(src.size.0, src.size.1);
    let top = rungs.first().context("empty ladder")?.clone();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    let spec_with = |variant: Variant, dir: PathBuf, workers: Option<usize>| VariantSpec {
        variant,
        input: input.clone(),
        work: dir,
        rungs: rungs.clone(),
        has_audio: src.has_audio,
        duration_s: src.duration_s,
        workers,
        // Both ladders are about 2.5 times the work of H.264 alone.
        timeout_s: timeout_for(src.duration_s).as_secs()
            * if variant == Variant::SlicecastAv1 {
                4
            } else {
                1
            },
    };
    let spec = |variant: Variant, dir: PathBuf| spec_with(variant, dir, args.workers);
    let mut measured: Vec<(Variant, VariantResult)> = Vec::new();
    let extra = args.av1.then_some(Variant::SlicecastAv1);
    for variant in Variant::ALL.into_iter().chain(extra) {
        if args.skip_legacy && variant.is_legacy_comparison() {
            continue;
        }
        let r = measure(&spec(variant, work.join(variant.label())), "").await?;
        measured.push((variant, r));
    }
    let get = |v: Variant| measured.iter().find(|(k, _)| *k == v).map(|(_, r)| r);
    let a = get(Variant::Slicecast).context("(a) did not run")?;
    let b = get(Variant::Ladder).context("(b) did not run")?;
    let mut rounds = vec![Round {
        slicecast: a.measurement,
        ladder: b.measurement,
    }];
    for round in 1..args.runs {
        // Odd rounds run (b) first, so neither always follows the other.
        let order = if round % 2 == 1 {
            [Variant::Ladder, Variant::Slicecast]
        } else {
            [Variant::Slicecast, Variant::Ladder]
        };
        let mut got = [a.measurement, b.measurement];
        for variant in order {
            let dir = work.join(format!("{}_round_{round}", variant.label()));
            let r = measure(
                &spec(variant, dir.clone()),
                &format!(" round {}", round + 1),
            )
            .await?;
            // Only the first round's outputs are measured for quality.
            let _ = std::fs::remove_dir_all(&dir);
            got[usize::from(variant == Variant::Ladder)] = r.measurement;
        }
        rounds.push(Round {
            slicecast: got[0],
            ladder: got[1],
        });
    }
    let mut scaling = Vec::new();
    for &workers in &args.scaling {
        let dir = work.join(format!("a_workers_{workers}"));
        let spec = spec_with(Variant::Slicecast, dir.clone(), Some(workers.max(1)));
        let r = measure(&spec, &format!(" with {workers} workers")).await?;
        let _ = std::fs::remove_dir_all(&dir);
        scaling.push((workers.max(1), r.measurement));
    }
    let median = |f: fn(&Round) -> Measurement| {
        report::median(&rounds.iter().map(f).collect::<Vec<_>>()).context("no rounds were measured")
    };
    let (slicecast, ladder) = (median(|r| r.slicecast)?, median(|r| r.ladder)?);

    note("measuring top-rung quality");
    let id = a.video_id.as_deref().context("(a) printed no video id")?;
    let id = VideoId::parse(id).with_context(|| format!("(a) printed {id:?}, not a video id"))?;
    let a_root = work.join(Variant::Slicecast.label());
    let a_playlist = a_root.join(keys::hls(&id, &format!("{}.m3u8", top.name)));
    let b_top = ladder_output(&work.join(Variant::Ladder.label()), &top);
    let psnr_timeout = timeout_for(src.duration_s);
    let psnr_db = psnr(&a_playlist, &input, &top, psnr_timeout).await?;
    let ladder_psnr_db = psnr(&b_top, &input, &top, psnr_timeout).await?;
    let a_bytes = slicecast_rung_bytes(&a_root.join(format!(
        "{}video/{}",
        keys::video_prefix(&id),
        top.name
    )))?;
    let b_bytes = std::fs::metadata(&b_top)
        .with_context(|| format!("cannot read {}", b_top.display()))?
        .len();

    let av1 = match get(Variant::SlicecastAv1) {
        Some(r) => {
            note("measuring the AV1 top rung and both codecs' curves");
            let id = r
                .video_id
                .as_deref()
                .context("(a_av1) printed no video id")?;
            let id = VideoId::parse(id).context("(a_av1) printed no video id")?;
            let root = work.join(Variant::SlicecastAv1.label());
            let name = format!("{}-av1", top.name);
            let playlist = root.join(keys::hls(&id, &format!("{name}.m3u8")));
            let bytes = slicecast_rung_bytes(
                &root.join(format!("{}video/{name}", keys::video_prefix(&id))),
            )?;
            Some(av1::Av1Report {
                run: r.measurement,
                h264_run: a.measurement,
                top: bdrate::RatePoint {
                    crf: slicecast_media::args::AV1_CRF,
                    kbps: kbps(bytes, src.duration_s),
                    psnr_db: psnr(&playlist, &input, &top, psnr_timeout).await?,
                },
                h264_top: bdrate::RatePoint {
                    crf: DEFAULT_CRF,
                    kbps: kbps(a_bytes, src.duration_s),
                    psnr_db,
                },
                curves: av1::curves(&input, work, &top, src.duration_s).await?,
            })
        }
        None => None,
    };

    let bd_rate = if args.bd_rate {
        Some(
            bdrate::measure(
                &input,
                work,
                &rungs,
                src.has_audio,
                args.workers,
                src.duration_s,
                &args.bd_crfs,
            )
            .await?,
        )
    } else {
        None
    };

    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    Ok(Report {
        input: args.input.display().to_string(),
        generated_1080p_s: args.generate_1080p,
        duration_s: src.duration_s,
        size: src.size,
        rungs: rungs.iter().map(|r| r.name.clone()).collect(),
        workers: args.workers.unwrap_or(cores).max(1),
        cores,
        cpu_model: cpu_model(&cpuinfo).unwrap_or_else(|| "unknown CPU".into()),
        slicecast,
        ladder,
        rounds,
        scaling,
        medium: get(Variant::SlicecastMedium).map(|r| r.measurement),
        legacy: get(Variant::Legacy).map(|r| r.measurement),
        psnr_db,
        ladder_psnr_db,
        bitrate_kbps: kbps(a_bytes, src.duration_s),
        ladder_bitrate_kbps: kbps(b_bytes, src.duration_s),
        bd_rate,
        av1,
    })
}

/// Runs one variant and says what it measured; `which` tells this run from
/// the variant's others (a round, a worker count).
async fn measure(spec: &VariantSpec, which: &str) -> anyhow::Result<VariantResult> {
    let (label, what) = (spec.variant.label(), spec.variant.describe());
    note(&format!("({label}) {what}{which}…"));
    let r = spawn_variant(spec).await?;
    let m = r.measurement;
    note(&format!(
        "({label}){which} cpu {:.2} s, wall {:.2} s, peak RSS {:.1} MB, {} processes",
        m.cpu_s, m.wall_s, m.peak_rss_mb, r.processes
    ));
    Ok(r)
}

/// Runs one variant in a fresh copy of this binary and reads its measurement.
async fn spawn_variant(spec: &VariantSpec) -> anyhow::Result<VariantResult> {
    let exe = exe()?;
    let args: Vec<OsString> = vec![
        "bench".into(),
        spec.input.clone().into_os_string(),
        "--variant-spec".into(),
        serde_json::to_string(spec)?.into(),
    ];
    let limit = Duration::from_secs(spec.timeout_s.saturating_mul(2).saturating_add(60));
    let out = process::run(&exe, &args, limit)
        .await
        .with_context(|| format!("variant ({}) failed", spec.variant.label()))?;
    let line = last_line(&out.stdout);
    serde_json::from_str(&line)
        .with_context(|| format!("variant ({}) printed {line:?}", spec.variant.label()))
}

/// The last non-empty line of a child's stdout, trimmed (what slicecast
/// and the variant processes print last: a video id, a JSON object).
fn last_line(stdout: &[u8]) -> String {
    String::from_utf8_lossy(stdout)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn exe() -> anyhow::Result<String> {
    let exe = std::env::current_exe().context("cannot find the slicecast executable")?;
    exe.to_str()
        .map(str::to_owned)
        .context("the slicecast executable's path is not UTF-8")
}

/// CPU seconds (user + system) and peak RSS (KiB) of this process's waited-for children so far.
pub(crate) fn children_usage() -> anyhow::Result<(f64, i64)> {
    let u = getrusage(UsageWho::RUSAGE_CHILDREN).context("getrusage failed")?;
    let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    Ok((secs(u.user_time()) + secs(u.system_time()), u.max_rss()))
}

/// Inside the variant process: runs the variant's commands one after another and measures them.
async fn run_variant(spec: &VariantSpec) -> anyhow::Result<VariantResult> {
    std::fs::create_dir_all(&spec.work)
        .with_context(|| format!("cannot create {}", spec.work.display()))?;
    let x = |preset: &str| X264 {
        preset: preset.into(),
        crf: DEFAULT_CRF,
        threads: 0,
    };
    let transcode = |preset: &str| {
        vec![transcode_args(
            &spec.input,
            &spec.work,
            preset,
            DEFAULT_CRF,
            spec.workers,
        )]
    };
    let (program, cmds) = match spec.variant {
        Variant::Slicecast => (exe()?, transcode(DEFAULT_PRESET)),
        Variant::SlicecastAv1 => {
            let mut cmd = transcode(DEFAULT_PRESET);
            cmd[0].extend(["--extra-codecs".into(), "av1".into()]);
            (exe()?, cmd)
        }
        Variant::SlicecastMedium => (exe()?, transcode("medium")),
        Variant::Ladder => (
            ffmpeg_bin(),
            vec![ladder_args(
                &spec.input,
                &spec.rungs,
                &x(DEFAULT_PRESET),
                spec.has_audio,
                // The thumbnails slicecast's slices make, at its defaults.
                spec.rungs.first().map(|top| {
                    let sprite = slicecast_assembler::SpriteSettings::default();
                    Thumbs {
                        size: slicecast_core::thumbs::thumb_size(
                            top.width,
                            top.height,
                            sprite.width,
                        ),
                        every_s: sprite.interval_s,
                    }
                }),
                &spec.work,
            )],
        ),
        Variant::Legacy => (
            ffmpeg_bin(),
            legacy_commands(
                &spec.input,
                &spec.rungs,
                spec.has_audio,
                spec.duration_s,
                &spec.work,
            ),
        ),
    };
    let timeout = Duration::from_secs(spec.timeout_s);
    let (cpu0, _) = children_usage()?;
    let start = Instant::now();
    let start_ms = slicecast_core::now_ms();
    let mut last = Vec::new();
    for args in &cmds {
        last = process::run(&program, args, timeout)
            .await
            .with_context(|| format!("({}) {program} failed", spec.variant.label()))?
            .stdout;
    }
    let wall_s = start.elapsed().as_secs_f64();
    let (cpu1, maxrss_kb) = children_usage()?;
    let video_id = matches!(
        spec.variant,
        Variant::Slicecast | Variant::SlicecastMedium | Variant::SlicecastAv1
    )
    .then(|| last_line(&last))
    .filter(|l| !l.is_empty());
    let first_playable_s = video_id
        .as_deref()
        .and_then(|id| playable_at_ms(&spec.work, id))
        .map_or(wall_s, |at| {
            (at.saturating_sub(start_ms) as f64 / 1000.0).min(wall_s)
        });
    Ok(VariantResult {
        measurement: Measurement {
            cpu_s: cpu1 - cpu0,
            wall_s,
            peak_rss_mb: maxrss_kb as f64 / 1024.0,
            first_playable_s,
        },
        processes: cmds.len(),
        video_id,
    })
}

/// When (epoch ms) slicecast's output under `root` first played, from its
/// manifest: the claim plus `playable_after_ms`.
fn playable_at_ms(root: &Path, id: &str) -> Option<u64> {
    let id = VideoId::parse(id).ok()?;
    let text = std::fs::read_to_string(root.join(keys::manifest(&id))).ok()?;
    let m: slicecast_core::manifest::Manifest = serde_json::from_str(&text).ok()?;
    Some(m.created_ms + m.playable_after_ms?)
}

/// Top-rung PSNR of `output` against the source, in dB.
async fn psnr(output: &Path, source: &Path, top: &Rung, timeout: Duration) -> anyhow::Result<f64> {
    let out = process::run(
        &ffmpeg_bin(),
        &psnr_args(output, source, top.width, top.height),
        timeout,
    )
    .await
    .with_context(|| format!("PSNR of {} failed", output.display()))?;
    parse_psnr(&out.stderr_tail)
        .with_context(|| format!("ffmpeg printed no PSNR for {}", output.display()))
}

/// Bytes of a slicecast rung: its init segment and every `seg_*.m4s`.
fn slicecast_rung_bytes(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    let mut segments = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let is_segment = name.starts_with("seg_") && name.ends_with(".m4s");
        if is_segment || name == "init.mp4" {
            total += entry.metadata()?.len();
            segments += usize::from(is_segment);
        }
    }
    if segments == 0 {
        bail!("no segments in {}", dir.display());
    }
    Ok(total)
}

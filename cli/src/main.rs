//! The `slicecast` binary: thin wiring of the library crates.

mod serve;
mod transcode;

use clap::{Args, Parser, Subcommand};
use slicecast_coordinator::Settings;
use slicecast_coordinator::args::{OutputArgs, SubtitleArgs};
use slicecast_perf::{bench, lambda_model as model, load};
use std::time::Duration;

/// slicecast: a chunk-parallel video transcoder to adaptive HLS and DASH.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Transcode one file into HLS + DASH + thumbnails under DIR/processed/<md5>/.
    Transcode(transcode::TranscodeArgs),
    /// Load-test a running `slicecast serve`: upload N videos, measure throughput and API latency.
    Load(load::LoadArgs),
    /// Measure slicecast against a single-process ladder encode and the earlier service's pipeline.
    Bench(bench::BenchArgs),
    /// Serve the REST API and web page, processing uploads with a local worker pool.
    Serve(serve::ServeArgs),
    /// Model time-to-playable and cost of a long upload on AWS Lambda from figures measured here.
    Model(model::ModelArgs),
}

/// Pipeline settings shared by the subcommands (flags, or the environment).
#[derive(Args, Debug, Clone)]
pub struct PipelineArgs {
    /// Parallel slice workers (default: number of cores).
    #[arg(long, env = "MAX_WORKERS")]
    pub workers: Option<usize>,
    /// Target slice length in seconds (default: one slice per worker, at least 10 s).
    #[arg(long, env = "SLICE_SECONDS")]
    pub slice_seconds: Option<f64>,
    /// Encoder threads per worker (default: cores / workers, and a plan with
    /// fewer slices than workers shares the idle workers' cores among its slices).
    #[arg(long, env = "THREADS_PER_WORKER")]
    pub threads_per_worker: Option<u32>,
    /// Segments, preset, CRF, tries, DASH, sprites.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Give up on a video after this many seconds.
    #[arg(long, env = "DEADLINE_SECONDS", default_value_t = 6 * 3600)]
    pub deadline_seconds: u64,
    /// A processing video whose coordinator has been silent this long counts
    /// as interrupted (`serve` then resumes it).
    #[arg(long, env = "HEARTBEAT_TIMEOUT_SECONDS", default_value_t = 120)]
    pub heartbeat_timeout_seconds: u64,
    /// Subtitles: on/off and the speech engine.
    #[command(flatten)]
    pub subtitles: SubtitleArgs,
}

impl PipelineArgs {
    /// Coordinator settings, with threads per worker = cores / workers and
    /// the speech engine, and a sentence saying which engine and why (the
    /// commands print it).
    pub fn settings(&self) -> (Settings, String) {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers = self.workers.unwrap_or(cores).max(1);
        let (transcriber, why) = self.subtitles.local_transcriber();
        let settings = self.output.apply(Settings {
            transcriber,
            workers,
            threads_per_worker: self
                .threads_per_worker
                .unwrap_or((cores / workers).max(1) as u32),
            // Threads chosen by hand are kept as they are.
            pooled_cores: self.threads_per_worker.is_none().then_some(cores as u32),
            slice_seconds: self.slice_seconds,
            deadline: Duration::from_secs(self.deadline_seconds.max(1)),
            heartbeat_timeout: Duration::from_secs(self.heartbeat_timeout_seconds.max(2)),
            ..Settings::default()
        });
        (settings, why)
    }
}

fn init_tracing(default: &str) {
    let filter = std::env::var("LOG_LEVEL").unwrap_or_else(|_| default.to_owned());
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Transcode(a) => {
            init_tracing("warn");
            transcode::run(a).await
        }
        Command::Load(a) => {
            init_tracing("warn");
            load::run(a).await
        }
        Command::Bench(a) => {
            init_tracing("warn");
            bench::run(a).await
        }
        Command::Model(a) => {
            init_tracing("warn");
            model::run(a).await
        }
        Command::Serve(a) => {
            init_tracing("warn,slicecast_api=info,slicecast_coordinator=info");
            serve::run(a).await
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

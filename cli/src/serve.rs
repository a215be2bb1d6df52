//! `slicecast serve`: the REST API, the coordinator and ONE local worker pool
//! shared by every video, on a filesystem store.

use crate::PipelineArgs;
use anyhow::Context;
use clap::Args;
use slicecast_api::{
    ApiConfig, AppState, DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_PART_SIZE, ServeOptions,
};
use slicecast_coordinator::LocalInvoker;
use slicecast_segment_worker::WorkerOptions;
use slicecast_storage::{BlobStore, FsStore};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How long past their URLs' expiry abandoned multipart uploads (and past
/// the failure the uploads of failed videos) are kept before a sweep removes them.
const SWEEP_GRACE: Duration = Duration::from_secs(15 * 60);

/// Arguments of `serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SLICECAST_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Store directory (uploads/, processed/, ...).
    #[arg(long, env = "SLICECAST_DATA", default_value = "./slicecast-data")]
    pub data: PathBuf,
    /// Folder of the web page (`/` serves its index.html, `/web/*` its files).
    #[arg(long, env = "SLICECAST_WEB_DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../web"))]
    pub web_dir: PathBuf,
    /// When set, mutating routes need `Authorization: Bearer <key>`.
    #[arg(long, env = "API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// CORS origins, comma-separated (`*` = any); empty = same origin only.
    #[arg(long, env = "CORS_ORIGINS", default_value = "")]
    pub cors_origins: String,
    /// Largest upload accepted, in bytes.
    #[arg(long, env = "MAX_UPLOAD_BYTES", default_value_t = DEFAULT_MAX_UPLOAD_BYTES)]
    pub max_upload_bytes: u64,
    /// Bytes per upload part.
    #[arg(long, env = "UPLOAD_PART_SIZE", default_value_t = DEFAULT_PART_SIZE)]
    pub part_size: u64,
    /// Prefix for the URLs handed out (e.g. `https://videos.example.com`); default: relative URLs.
    #[arg(long, env = "PUBLIC_BASE_URL")]
    pub public_base_url: Option<String>,
    /// Seconds a connection may take to send a request's header (also how
    /// long an idle keep-alive connection stays open).
    #[arg(long, env = "HEADER_TIMEOUT_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_seconds: u64,
    /// Seconds a request body (an upload part) may pause before the request fails.
    #[arg(long, env = "BODY_IDLE_TIMEOUT_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_idle_timeout_seconds: u64,
    /// Connections served at once; more wait until one closes.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,
    /// Seconds between sweeps that remove abandoned multipart uploads and the
    /// uploads of failed videos (0 = never).
    #[arg(long, env = "SWEEP_INTERVAL_SECONDS", default_value_t = 600)]
    pub sweep_interval_seconds: u64,
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    #[command(flatten)]
    pub playback: slicecast_api::playback::PlaybackArgs,
}

/// Runs the server until Ctrl-C or SIGTERM.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let store = FsStore::new(&args.data)
        .with_context(|| format!("cannot create {}", args.data.display()))?;
    let (settings, subtitles) = args.pipeline.settings();
    let opts = WorkerOptions::default();
    let shared: Arc<dyn BlobStore> = Arc::new(store.clone());
    let invoker = Arc::new(LocalInvoker::new(shared, settings.workers, opts));
    let api_key = args.api_key.filter(|k| !k.is_empty());
    let playback = args.playback.signer(api_key.as_deref())?;
    let config = ApiConfig {
        part_size: args.part_size.max(1),
        max_upload_bytes: args.max_upload_bytes,
        playback,
        api_key,
        cors_origins: ApiConfig::parse_origins(&args.cors_origins),
        web_dir: Some(args.web_dir.clone()),
        public_base_url: args.public_base_url,
        ..ApiConfig::default()
    };
    let workers = settings.workers;
    let heartbeat_timeout = settings.heartbeat_timeout;
    let state = AppState::local(store.clone(), invoker, settings, config)?;
    tokio::spawn(resume_every(state.clone(), heartbeat_timeout / 2));
    let opts = ServeOptions {
        header_read_timeout: Duration::from_secs(args.header_timeout_seconds),
        body_idle_timeout: Duration::from_secs(args.body_idle_timeout_seconds),
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
    };
    if args.sweep_interval_seconds > 0 {
        tokio::spawn(sweep_every(
            Arc::new(store),
            Duration::from_secs(args.sweep_interval_seconds),
        ));
    }
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    eprintln!(
        "slicecast serving http://{} (data {}, web {}, {workers} workers; {})",
        listener.local_addr()?,
        args.data.display(),
        args.web_dir.display(),
        subtitles
    );
    slicecast_api::serve_with(listener, state, opts, async {
        let s = shutdown_signal().await;
        eprintln!("{s}: shutting down");
    })
    .await
    .context("server error")
}

/// Resumes interrupted videos (a previous `serve` killed mid-encode) now and
/// every `interval`, forever: a video counts as interrupted once its
/// coordinator has been silent for the heartbeat timeout.
async fn resume_every(state: slicecast_api::AppState, interval: Duration) {
    loop {
        match slicecast_api::resume_interrupted(&state).await {
            Ok(ids) if !ids.is_empty() => {
                eprintln!("resuming {} interrupted video(s)", ids.len());
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "looking for interrupted videos failed"),
        }
        tokio::time::sleep(interval.max(Duration::from_secs(1))).await;
    }
}

/// Runs [`slicecast_api::sweep`] every `interval`, forever.
async fn sweep_every(store: Arc<dyn BlobStore>, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        match slicecast_api::sweep(store.as_ref(), SWEEP_GRACE, now_ms).await {
            Ok(r) if r.multipart_uploads.is_empty() && r.failed_uploads.is_empty() => {}
            Ok(r) => tracing::info!(
                multipart_uploads = r.multipart_uploads.len(),
                failed_uploads = r.failed_uploads.len(),
                "sweep removed stale uploads"
            ),
            Err(e) => tracing::warn!(error = %e, "sweep failed"),
        }
    }
}

/// Resolves with the name of the first termination signal received.
async fn shutdown_signal() -> &'static str {
    let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        let _ = tokio::signal::ctrl_c().await;
        return "Ctrl-C";
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "Ctrl-C",
        _ = term.recv() => "SIGTERM",
    }
}

//! `slicecast transcode INPUT --out DIR`.

use crate::PipelineArgs;
use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use slicecast_coordinator::{Event, LocalInvoker, Outcome, process_upload};
use slicecast_core::keys;
use slicecast_segment_worker::WorkerOptions;
use slicecast_storage::{BlobStore, FsStore};
use std::path::PathBuf;
use std::sync::Arc;

/// Arguments of `transcode`.
#[derive(Args, Debug)]
pub struct TranscodeArgs {
    /// The video file.
    pub input: PathBuf,
    /// Output directory (a filesystem store: uploads/ and processed/ go here).
    #[arg(long, short = 'o', default_value = "slicecast-data")]
    pub out: PathBuf,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Do not make subtitles (the same as `--subtitles false`); without it the
    /// command waits for the subtitles before it exits.
    #[arg(long)]
    pub no_subtitles: bool,
    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

/// Runs the whole pipeline on one file; prints the video id last on stdout.
pub async fn run(args: TranscodeArgs) -> anyhow::Result<()> {
    let meta = std::fs::metadata(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    if !meta.is_file() {
        bail!("{} is not a file", args.input.display());
    }
    let name = args
        .input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .context("the input has no file name")?;
    let store = Arc::new(
        FsStore::new(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?,
    );
    let upload_key = keys::upload(&name);
    store
        .put_file(&upload_key, &args.input)
        .await
        .with_context(|| format!("cannot copy the input into {}", args.out.display()))?;
    let mut pipeline = args.pipeline.clone();
    if args.no_subtitles {
        pipeline.subtitles.generate_subtitles = Some(false);
    }
    let (settings, why) = pipeline.settings();
    if !args.quiet {
        eprintln!("{why}");
    }
    let opts = WorkerOptions::default();
    let invoker = Arc::new(LocalInvoker::new(store.clone(), settings.workers, opts));

    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:<12} [{bar:30}] {pos}/{len} slices {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let b = bar.clone();
    let events = Arc::new(move |e: Event| match e {
        Event::Stage(s) => b.set_message(format!("{s:?}").to_lowercase()),
        Event::Hashed(id) => b.println(format!("video id {id}")),
        Event::Planned {
            slices,
            rungs,
            audio,
        } => {
            b.set_length(u64::from(slices));
            let names: Vec<String> = rungs
                .iter()
                .map(|r| format!("{} {}x{}", r.name, r.width, r.height))
                .collect();
            b.println(format!(
                "{slices} slices; rungs: {}{}",
                names.join(", "),
                if audio { "; audio" } else { "; no audio" }
            ));
        }
        Event::JobDone { slices_done, .. } => b.set_position(u64::from(slices_done)),
        Event::Progress { fraction } => {
            b.set_message(format!("encoding {:>3.0}%", fraction * 100.0));
        }
    });
    // On Ctrl-C or SIGTERM the pipeline future is dropped, which kills every
    // ffmpeg it started; the video's heartbeat stops, so it reads as failed.
    let result = tokio::select! {
        r = process_upload(store.clone(), invoker, &upload_key, &settings, events) => r,
        s = shutdown_signal() => {
            bar.finish_and_clear();
            bail!("interrupted by {s}; running this command again resumes from scratch");
        }
    };
    bar.finish_and_clear();
    if let Some(w) = &settings.webhooks {
        w.flush(std::time::Duration::from_secs(30)).await;
    }
    match result {
        Ok(outcome) => {
            let m = outcome.manifest();
            let dir = args.out.join(keys::video_prefix(&m.video_id));
            match &outcome {
                Outcome::Completed(m) => {
                    eprintln!(
                        "done in {:.1} s: {}",
                        m.timings.total_ms as f64 / 1000.0,
                        dir.join("hls/master.m3u8").display()
                    );
                    report_subtitles(m, &args.out);
                }
                Outcome::AlreadyComplete(_) => eprintln!(
                    "already transcoded: {}",
                    dir.join("hls/master.m3u8").display()
                ),
                Outcome::InProgress(_) => {
                    bail!("video {} is being processed by another run", m.video_id)
                }
            }
            println!("{}", m.video_id);
            Ok(())
        }
        Err(e) => {
            if let slicecast_coordinator::CoordinatorError::Failed { video_id, .. } = &e {
                eprintln!("video {video_id}: processing_failed");
            }
            Err(e.into())
        }
    }
}

/// Says where the subtitles went, or why there are none.
fn report_subtitles(m: &slicecast_core::manifest::Manifest, out: &std::path::Path) {
    use slicecast_core::manifest::TranscriptionStatus as T;
    match m.transcription_status {
        T::Completed if m.subtitles.is_empty() => eprintln!("subtitles: no speech was heard"),
        T::Completed => {
            for s in &m.subtitles {
                eprintln!("subtitles ({}): {}", s.name, out.join(&s.vtt).display());
            }
        }
        T::Failed => eprintln!(
            "subtitles failed (the video is fine): {}",
            m.transcription
                .as_ref()
                .and_then(|t| t.error.as_deref())
                .unwrap_or("no reason recorded")
        ),
        T::NoAudio => eprintln!("subtitles: the video has no audio"),
        T::NotRequested | T::Pending | T::InProgress => {}
    }
}

/// Resolves with the name of the first termination signal received.
async fn shutdown_signal() -> &'static str {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return "Ctrl-C";
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "Ctrl-C",
        _ = term.recv() => "SIGTERM",
    }
}

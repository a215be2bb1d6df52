//! slicecast-lambda: slicecast on AWS Lambda.
//!
//! Four functions, one binary each (`src/bin/`), all thin: `coordinator`
//! (S3 `ObjectCreated` events on `uploads/`), `segment-worker` (one slice or
//! the audio track), `assembler` (playlists, MPD, sprites) and `api` (the
//! axum router behind a Function URL). This library holds what they share:
//! settings from the environment ([`config`]), the api key from the parameter
//! store ([`api_key`]), the [`LambdaInvoker`] that fans
//! jobs out through aws-sdk-lambda `Invoke`, S3 event parsing ([`events`])
//! and the handlers themselves ([`handlers`]), so they are testable without
//! the Lambda runtime.

pub mod api_key;
pub mod config;
pub mod events;
pub mod handlers;
mod invoker;
pub mod progress;
pub mod subtitles;
pub mod transcribe;

pub use invoker::{LambdaInvoker, MAX_PAYLOAD_BYTES, error_message};

/// Sets up logging for a function: `LOG_LEVEL` (a tracing filter), else
/// `default`; plain text without colours, as CloudWatch shows it.
pub fn init_tracing(default: &str) {
    let filter = std::env::var("LOG_LEVEL").unwrap_or_else(|_| default.to_owned());
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .without_time()
        .with_writer(std::io::stderr)
        .try_init();
}

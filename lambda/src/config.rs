//! Settings of the functions, from their environment (names shared with the
//! `slicecast` CLI and the service slicecast replaces).

use crate::api_key::{ApiKey, ApiKeyError, KeySource};
use crate::subtitles::AwsTranscriber;
use crate::transcribe::{LanguageChoice, TranscribeClient};
use clap::Parser;
use slicecast_coordinator::args::OutputArgs;
use slicecast_coordinator::subtitles::{EngineChoice, Transcriber};
use slicecast_coordinator::{JobTimeout, Settings};
use slicecast_segment_worker::WorkerOptions;
use slicecast_storage::BlobStore;
use std::sync::Arc;
use std::time::Duration;
use tracing::{info, warn};

/// A setting is missing or malformed.
#[derive(Debug, thiserror::Error)]
#[error("bad configuration: {0}")]
pub struct ConfigError(String);

/// The bucket every function works in (`BUCKET_NAME`).
pub fn bucket() -> Result<String, ConfigError> {
    std::env::var("BUCKET_NAME")
        .ok()
        .filter(|b| !b.trim().is_empty())
        .ok_or_else(|| ConfigError("BUCKET_NAME is not set".into()))
}

/// Settings read from the environment alone (no command line).
fn parse_env<T: Parser>() -> Result<T, ConfigError> {
    T::try_parse_from(std::iter::empty::<String>())
        .map_err(|e| ConfigError(e.to_string().trim().to_owned()))
}

/// The coordinator's environment.
#[derive(Parser, Debug, Clone)]
#[command(name = "coordinator", no_binary_name = true)]
pub struct CoordinatorEnv {
    /// Function name or ARN of the segment worker.
    #[arg(long, env = "WORKER_FUNCTION", default_value = "segment-worker")]
    pub worker_function: String,
    /// Function name or ARN of the assembler.
    #[arg(long, env = "ASSEMBLER_FUNCTION", default_value = "assembler")]
    pub assembler_function: String,
    /// Worker invocations in flight at once.
    #[arg(long, env = "MAX_WORKERS", default_value_t = 200)]
    pub workers: usize,
    /// Threads each worker's ffmpeg uses (0 = as many as the worker has vCPUs).
    #[arg(long, env = "WORKER_THREADS", default_value_t = 0)]
    pub worker_threads: u32,
    /// Target slice length (default: duration / MAX_WORKERS, at least MIN_SLICE_SECONDS).
    #[arg(long, env = "SLICE_SECONDS")]
    pub slice_seconds: Option<f64>,
    /// Shortest slice the automatic choice makes.
    #[arg(long, env = "MIN_SLICE_SECONDS", default_value_t = 8.0)]
    pub min_slice_seconds: f64,
    /// Segments, preset, tries, DASH, sprites (as the CLI).
    #[command(flatten)]
    pub output: OutputArgs,
    /// Name (or ARN) of the SSM SecureString parameter holding the webhooks'
    /// signing secret (read at cold start; preferred to `WEBHOOK_SECRET`).
    #[arg(long, env = "WEBHOOK_SECRET_PARAMETER")]
    pub webhook_secret_parameter: Option<String>,
    /// A video still processing after this fails (under the function's 900 s timeout).
    #[arg(long, env = "DEADLINE_SECONDS", default_value_t = 840)]
    pub deadline_seconds: u64,
    /// Per-slice deadline: this many seconds ...
    #[arg(long, env = "SLICE_DEADLINE_BASE_SECONDS", default_value_t = 60)]
    pub slice_deadline_base: u64,
    /// ... plus this many per second of media, at most the worker's 900 s timeout.
    #[arg(long, env = "SLICE_DEADLINE_PER_SECOND", default_value_t = 20)]
    pub slice_deadline_per_second: u64,
    /// A slice running past this many times the median slice time gets a second copy (0 = never).
    #[arg(long, env = "STRAGGLER_FACTOR", default_value_t = 2.0)]
    pub straggler_factor: f64,
    /// Encode the audio in parallel chunks of about this many seconds (0 = one job).
    #[arg(long, env = "AUDIO_CHUNK_SECONDS", default_value_t = 60.0)]
    pub audio_chunk_seconds: f64,
    /// First retry delay in milliseconds (doubles per failure).
    #[arg(long, env = "RETRY_BACKOFF_MS", default_value_t = 500)]
    pub retry_backoff_ms: u64,
    /// A `processing` video whose coordinator has written no heartbeat for
    /// this many seconds was interrupted (a crashed invocation): the next
    /// invocation for it resumes it. Under the minute Lambda waits before it
    /// retries a failed asynchronous invocation.
    #[arg(long, env = "HEARTBEAT_TIMEOUT_SECONDS", default_value_t = 45)]
    pub heartbeat_timeout_seconds: u64,
    /// Subtitles.
    #[command(flatten)]
    pub subtitles: TranscribeEnv,
}

impl CoordinatorEnv {
    /// Reads the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        parse_env()
    }

    /// The coordinator's settings.
    pub fn settings(&self) -> Settings {
        self.output.apply(Settings {
            workers: self.workers.max(1),
            threads_per_worker: self.worker_threads,
            slice_seconds: self.slice_seconds,
            min_slice_seconds: self.min_slice_seconds.max(1.0),
            deadline: Duration::from_secs(self.deadline_seconds.max(1)),
            job_timeout: Some(JobTimeout {
                base: Duration::from_secs(self.slice_deadline_base),
                per_second: Duration::from_secs(self.slice_deadline_per_second),
                max: Duration::from_secs(900),
            }),
            retry_backoff: Duration::from_millis(self.retry_backoff_ms),
            straggler_factor: self.straggler_factor,
            audio_chunk_seconds: (self.audio_chunk_seconds > 0.0)
                .then_some(self.audio_chunk_seconds),
            heartbeat_timeout: Duration::from_secs(self.heartbeat_timeout_seconds.max(2)),
            ..Settings::default()
        })
    }
}

/// Subtitles on AWS: `GENERATE_SUBTITLES` (default true), `SUBTITLE_ENGINE`
/// (`aws`/`auto` = Amazon Transcribe, `none`), `LANGUAGE_CODE` or `LANGUAGE_OPTIONS`.
#[derive(clap::Args, Debug, Clone)]
pub struct TranscribeEnv {
    /// Make subtitles.
    #[arg(long = "subtitles", env = "GENERATE_SUBTITLES", default_value_t = true, action = clap::ArgAction::Set)]
    pub generate_subtitles: bool,
    /// The speech engine; on Lambda only Amazon Transcribe runs (`aws`, or `auto`), or `none`.
    #[arg(long, env = "SUBTITLE_ENGINE", value_enum, default_value_t = EngineChoice::Aws)]
    pub subtitle_engine: EngineChoice,
    /// One fixed language (`en-GB`); else Transcribe identifies it among `LANGUAGE_OPTIONS`.
    #[arg(long, env = "LANGUAGE_CODE")]
    pub language_code: Option<String>,
    /// Candidate languages, comma-separated.
    #[arg(long, env = "LANGUAGE_OPTIONS", default_value = "en-US")]
    pub language_options: String,
}

impl TranscribeEnv {
    /// Amazon Transcribe over `store`'s `bucket`, or `None` when subtitles are
    /// off (an engine that cannot run on Lambda is logged and treated as off).
    pub async fn transcriber(
        &self,
        bucket: &str,
        store: Arc<dyn BlobStore>,
    ) -> Option<Arc<dyn Transcriber>> {
        if !self.generate_subtitles {
            info!("subtitles are off (GENERATE_SUBTITLES=false)");
            return None;
        }
        match self.subtitle_engine {
            EngineChoice::Aws | EngineChoice::Auto => {
                let language = LanguageChoice::from_settings(
                    self.language_code.as_deref(),
                    Some(&self.language_options),
                );
                info!(?language, "subtitles by Amazon Transcribe");
                let t = TranscribeClient::from_env(bucket, language).await;
                Some(Arc::new(AwsTranscriber::new(t, store)))
            }
            EngineChoice::None => {
                info!("subtitles are off (SUBTITLE_ENGINE=none)");
                None
            }
            other => {
                warn!(engine = ?other, "only Amazon Transcribe runs on Lambda; subtitles are off");
                None
            }
        }
    }
}

/// The segment worker's and assembler's environment.
#[derive(Parser, Debug, Clone)]
#[command(name = "segment-worker", no_binary_name = true)]
pub struct WorkerEnv {
    /// Scratch folder (Lambda's /tmp by default).
    #[arg(long, env = "SCRATCH_DIR")]
    pub scratch: Option<std::path::PathBuf>,
}

impl WorkerEnv {
    /// Reads the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        parse_env()
    }

    /// Worker options.
    pub fn options(&self) -> WorkerOptions {
        WorkerOptions {
            scratch: self.scratch.clone(),
            ..WorkerOptions::default()
        }
    }
}

/// The api function's environment.
#[derive(Parser, Debug, Clone)]
#[command(name = "api", no_binary_name = true)]
pub struct ApiEnv {
    /// Name (or ARN) of the SSM SecureString parameter holding the key that
    /// mutating routes need as `Authorization: Bearer <key>`; read at start.
    #[arg(long, env = "API_KEY_PARAMETER")]
    pub api_key_parameter: Option<String>,
    /// The key itself, for runs outside AWS (ignored when `API_KEY_PARAMETER` is set).
    #[arg(long, env = "API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// CORS origins, comma-separated (`*` = any); empty = same origin only.
    #[arg(long, env = "CORS_ORIGINS", default_value = "")]
    pub cors_origins: String,
    /// Largest upload accepted, in bytes.
    #[arg(long, env = "MAX_UPLOAD_BYTES", default_value_t = slicecast_api::DEFAULT_MAX_UPLOAD_BYTES)]
    pub max_upload_bytes: u64,
    /// Bytes per upload part (S3 needs at least 5 MiB).
    #[arg(long, env = "UPLOAD_PART_SIZE", default_value_t = slicecast_api::DEFAULT_PART_SIZE)]
    pub part_size: u64,
    /// The Function URL (`https://….lambda-url.<region>.on.aws/`), for absolute URLs; default: relative URLs.
    #[arg(long, env = "LAMBDA_FUNCTION_URL")]
    pub function_url: Option<String>,
    /// Folder of the web page in the image.
    #[arg(long, env = "WEB_DIR")]
    pub web_dir: Option<std::path::PathBuf>,
    /// Subtitles (status reads ask Transcribe about pending jobs).
    #[command(flatten)]
    pub subtitles: TranscribeEnv,
    /// Signed playback (the token key is derived from the API key, which
    /// every instance shares, unless `PLAYBACK_SECRET` is set).
    #[command(flatten)]
    pub playback: slicecast_api::playback::PlaybackArgs,
}

impl ApiEnv {
    /// Reads the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        parse_env()
    }

    /// Where the api key comes from: the parameter store when
    /// `API_KEY_PARAMETER` is set, else `API_KEY`; neither is an error (the
    /// api never runs open).
    pub fn key_source(&self) -> Result<KeySource, ApiKeyError> {
        fn set(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        match (
            set(self.api_key_parameter.as_deref()),
            set(self.api_key.as_deref()),
        ) {
            (Some(name), plain) => {
                if plain.is_some() {
                    warn!("API_KEY is ignored: the key is read from API_KEY_PARAMETER");
                }
                Ok(KeySource::Parameter(name.to_owned()))
            }
            (None, Some(key)) => Ok(KeySource::Plain(ApiKey::new(key))),
            (None, None) => Err(ApiKeyError::NotConfigured),
        }
    }

    /// The api's settings, with its key.
    pub fn config(
        &self,
        key: &ApiKey,
    ) -> Result<slicecast_api::ApiConfig, slicecast_api::playback::NoRandomness> {
        Ok(slicecast_api::ApiConfig {
            playback: self.playback.signer(Some(key.expose()))?,
            part_size: self.part_size.max(1),
            max_upload_bytes: self.max_upload_bytes,
            api_key: Some(key.expose().to_owned()),
            cors_origins: slicecast_api::ApiConfig::parse_origins(&self.cors_origins),
            web_dir: self.web_dir.clone(),
            public_base_url: self.function_url.clone().filter(|u| !u.is_empty()),
            ..slicecast_api::ApiConfig::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse() {
        let c = CoordinatorEnv::try_parse_from(std::iter::empty::<String>()).expect("defaults");
        let s = c.settings();
        assert!(s.workers >= 1);
        assert!(s.deadline <= Duration::from_secs(900));
        let t = s.job_timeout.expect("a per-slice deadline on Lambda");
        assert!(t.max <= Duration::from_secs(900));
        let bad = CoordinatorEnv::try_parse_from(["--workers", "many"]);
        assert!(bad.is_err());
    }

    #[test]
    fn the_api_needs_a_key() {
        let env = || ApiEnv::try_parse_from(std::iter::empty::<String>()).expect("api env");
        // Run where the test's own environment sets neither variable.
        let none = ApiEnv {
            api_key_parameter: None,
            api_key: None,
            ..env()
        };
        assert!(matches!(none.key_source(), Err(ApiKeyError::NotConfigured)));
        let empty = ApiEnv {
            api_key_parameter: Some(" ".into()),
            api_key: Some(String::new()),
            ..env()
        };
        assert!(matches!(
            empty.key_source(),
            Err(ApiKeyError::NotConfigured)
        ));
        let plain = ApiEnv {
            api_key_parameter: None,
            api_key: Some("k".into()),
            ..env()
        };
        assert_eq!(
            plain.key_source().expect("plain"),
            KeySource::Plain(ApiKey::new("k"))
        );
        let both = ApiEnv {
            api_key_parameter: Some("/slicecast/api-key".into()),
            ..plain.clone()
        };
        assert_eq!(
            both.key_source().expect("parameter"),
            KeySource::Parameter("/slicecast/api-key".into())
        );
        let config = plain.config(&ApiKey::new("k")).expect("config");
        assert_eq!(config.api_key.as_deref(), Some("k"));
        assert!(
            config.playback.is_none(),
            "signed playback is off by default"
        );
        let signed = ApiEnv {
            playback: slicecast_api::playback::PlaybackArgs {
                signed_playback: true,
                ..plain.playback.clone()
            },
            ..plain.clone()
        };
        // Two instances with one API key accept each other's tokens.
        let (a, b) = (
            signed.config(&ApiKey::new("k")).expect("config"),
            signed.config(&ApiKey::new("k")).expect("config"),
        );
        let id = slicecast_core::VideoId::parse(&"e".repeat(32)).expect("id");
        let t = a.playback.expect("signer").issue(&id, 1000);
        assert_eq!(
            b.playback
                .expect("signer")
                .verify(Some(&t.token), &id, 1000),
            Ok(())
        );
    }
}

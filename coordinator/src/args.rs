//! The output settings every front end takes the same way (CLI flags, or the
//! environment of a Lambda function), so their names cannot drift apart.

use crate::Settings;
use crate::subtitles::{EngineChoice, Transcriber, local_engine};
use crate::webhook::{WebhookConfig, WebhookError, Webhooks};
use slicecast_assembler::SpriteSettings;
use slicecast_media::limits::{self, Limits};
use std::sync::Arc;
use std::time::Duration;

/// Segment length, encoder preset, tries, DASH and sprite settings.
#[derive(clap::Args, Debug, Clone)]
pub struct OutputArgs {
    /// Output segment length in seconds.
    #[arg(long, env = "SEGMENT_SECONDS", default_value_t = 4.0)]
    pub segment_seconds: f64,
    /// x264 preset.
    #[arg(long, env = "X264_PRESET", default_value = "veryfast")]
    pub preset: String,
    /// x264 CRF under the per-rung bitrate cap.
    #[arg(long, env = "X264_CRF", default_value_t = slicecast_core::job::DEFAULT_CRF)]
    pub crf: u32,
    /// Tries per slice before the video fails.
    #[arg(long, env = "MAX_TRIES", default_value_t = 3)]
    pub max_tries: u32,
    /// Codecs encoded beside H.264, comma-separated (`av1`: an AV1 ladder
    /// in the same slice process; players that decode AV1 choose it).
    #[arg(long, env = "EXTRA_CODECS", default_value = "", value_parser = parse_extra_codecs)]
    pub extra_codecs: ExtraCodecs,
    /// Write the DASH MPD too.
    #[arg(long, env = "GENERATE_DASH", default_value_t = true, action = clap::ArgAction::Set)]
    pub generate_dash: bool,
    /// Make an MP4 (tallest rung up to 1080p, with the audio) and an M4A
    /// download from the segments (a remux, no second encode).
    #[arg(long, env = "GENERATE_DOWNLOADS", default_value_t = true, action = clap::ArgAction::Set)]
    pub generate_downloads: bool,
    /// Publish HLS playlists of the finished start while the rest encodes
    /// (sources of two minutes or more also get a short first slice).
    #[arg(long, env = "PUBLISH_WHILE_ENCODING", default_value_t = true, action = clap::ArgAction::Set)]
    pub publish_while_encoding: bool,
    /// Length of the short first slice published while the rest encodes
    /// (default: one segment for sources of 2 min or more, none for shorter ones).
    #[arg(long, env = "FIRST_SLICE_SECONDS")]
    pub first_slice_seconds: Option<f64>,
    /// Seconds between sprite thumbnails.
    #[arg(long, env = "SPRITE_INTERVAL", default_value_t = 1.0)]
    pub sprite_interval: f64,
    /// Thumbnails per sprite row.
    #[arg(long, env = "SPRITE_COLUMNS", default_value_t = 10)]
    pub sprite_columns: u32,
    /// Rows per sprite sheet.
    #[arg(long, env = "SPRITE_ROWS", default_value_t = 10)]
    pub sprite_rows: u32,
    /// Thumbnail width in pixels.
    #[arg(long, env = "SPRITE_SCALE_W", default_value_t = 180)]
    pub sprite_width: u32,
    /// POST signed events (`video.playable`, `video.ready`, `video.failed`,
    /// `subtitles.ready`) to this http(s) URL.
    #[arg(long, env = "WEBHOOK_URL")]
    pub webhook_url: Option<String>,
    /// The webhooks' HMAC-SHA256 signing secret (16 characters or more).
    #[arg(long, env = "WEBHOOK_SECRET", hide_env_values = true, hide = true)]
    pub webhook_secret: Option<String>,
    /// Prefix of the playback URLs in webhook bodies (e.g.
    /// `https://videos.example.com`); paths on the API without it.
    #[arg(long, env = "PUBLIC_URL", default_value = "")]
    pub public_url: String,
    /// Longest source accepted, seconds (checked at probe time).
    #[arg(long, env = "MAX_DURATION_SECONDS", default_value_t = limits::DEFAULT_MAX_DURATION_SECONDS)]
    pub max_duration_seconds: f64,
    /// Most pixels per frame accepted (checked at probe time).
    #[arg(long, env = "MAX_PIXELS", default_value_t = limits::DEFAULT_MAX_PIXELS)]
    pub max_pixels: u64,
    /// Highest average frame rate accepted (checked at probe time).
    #[arg(long, env = "MAX_FPS", default_value_t = limits::DEFAULT_MAX_FPS)]
    pub max_fps: f64,
}

impl OutputArgs {
    /// The webhook sender these values ask for (`None` without a URL).
    pub fn webhooks(&self) -> Result<Option<Arc<Webhooks>>, WebhookError> {
        let Some(url) = self.webhook_url.as_deref().filter(|u| !u.trim().is_empty()) else {
            return Ok(None);
        };
        Webhooks::new(WebhookConfig {
            url: url.trim().to_owned(),
            secret: self.webhook_secret.clone().unwrap_or_default(),
            public_base: self.public_url.trim().trim_end_matches('/').to_owned(),
            give_up_after: Duration::from_secs(600),
            first_backoff: Duration::from_secs(1),
        })
        .map(Some)
    }

    /// `settings` with these values. A webhook configuration that cannot be
    /// used is logged as an error and leaves webhooks off.
    pub fn apply(&self, settings: Settings) -> Settings {
        let webhooks = self.webhooks().unwrap_or_else(|e| {
            tracing::error!(error = %e, "webhooks are off");
            None
        });
        Settings {
            webhooks: webhooks.or(settings.webhooks.clone()),
            segment_seconds: self.segment_seconds,
            preset: self.preset.clone(),
            crf: self.crf,
            max_tries: self.max_tries.max(1),
            sprite: SpriteSettings {
                interval_s: self.sprite_interval,
                columns: self.sprite_columns,
                rows: self.sprite_rows,
                width: self.sprite_width,
            },
            generate_dash: self.generate_dash,
            extra_codecs: self.extra_codecs.0.clone(),
            generate_downloads: self.generate_downloads,
            publish_while_encoding: self.publish_while_encoding,
            first_slice_seconds: self
                .first_slice_seconds
                .filter(|s| s.is_finite() && *s > 0.0)
                .or(settings.first_slice_seconds),
            limits: Limits {
                max_duration_s: self.max_duration_seconds,
                max_pixels: self.max_pixels,
                max_fps: self.max_fps,
            },
            ..settings
        }
    }
}

/// Whether and how to make subtitles (`GENERATE_SUBTITLES`, `SUBTITLE_ENGINE`).
#[derive(clap::Args, Debug, Clone)]
pub struct SubtitleArgs {
    /// Make subtitles (true/false). Default: on when a speech engine is available.
    #[arg(long = "subtitles", env = "GENERATE_SUBTITLES", action = clap::ArgAction::Set)]
    pub generate_subtitles: Option<bool>,
    /// The speech engine; `auto` picks the best one available here and logs the choice.
    #[arg(long, env = "SUBTITLE_ENGINE", value_enum, default_value_t = EngineChoice::Auto)]
    pub subtitle_engine: EngineChoice,
}

impl SubtitleArgs {
    /// The local speech engine these settings ask for, or `None`, with a
    /// sentence saying which and why (for the log).
    pub fn local_transcriber(&self) -> (Option<Arc<dyn Transcriber>>, String) {
        if self.generate_subtitles == Some(false) {
            return (None, "subtitles are off (GENERATE_SUBTITLES=false)".into());
        }
        local_engine(self.subtitle_engine)
    }
}

/// The parsed `EXTRA_CODECS` list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtraCodecs(pub Vec<slicecast_core::ladder::VideoCodec>);

fn parse_extra_codecs(s: &str) -> Result<ExtraCodecs, slicecast_core::ladder::UnknownCodec> {
    slicecast_core::ladder::VideoCodec::parse_extra(s).map(ExtraCodecs)
}

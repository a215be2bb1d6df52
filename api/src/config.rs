//! Settings of the API.

use std::path::PathBuf;
use std::time::Duration;

/// Default part size: 8 MiB.
pub const DEFAULT_PART_SIZE: u64 = 8 * 1024 * 1024;
/// Default largest upload (`MAX_UPLOAD_BYTES`): 20 GiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 20 * 1024 * 1024 * 1024;

/// How the API behaves.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Preferred bytes per upload part (grown when a file would need more
    /// than 10 000 parts).
    pub part_size: u64,
    /// Largest upload accepted (`MAX_UPLOAD_BYTES`).
    pub max_upload_bytes: u64,
    /// How long part URLs stay valid.
    pub part_url_ttl: Duration,
    /// When set (`API_KEY`), mutating routes need `Authorization: Bearer <key>`.
    pub api_key: Option<String>,
    /// Origins allowed by CORS (`CORS_ORIGINS`, comma-separated; `*` = any).
    /// Empty: no CORS headers (same-origin only).
    pub cors_origins: Vec<String>,
    /// Folder of the web page (`/` serves its `index.html`, `/web/*` its files).
    pub web_dir: Option<PathBuf>,
    /// Prefix for the URLs the API hands out (`https://host`); `None` = relative URLs.
    pub public_base_url: Option<String>,
    /// A video `processing` without a coordinator heartbeat for this long reads
    /// as failed (the coordinator's `Settings::heartbeat_timeout`).
    pub heartbeat_timeout: Duration,
    /// An upload whose processing runs elsewhere (an S3 event starts the
    /// coordinator function) and that has no manifest this long after it was
    /// completed reads as failed: its event never reached a coordinator.
    /// Default: Lambda's 6 h limit on queued asynchronous events, plus 15 min.
    pub remote_start_grace: Duration,
    /// Least time between two status-read checks of one video's transcription
    /// job (the transcript's S3 event is the main path; this is the fallback).
    pub transcript_check_every: Duration,
    /// With signed playback on (`SIGNED_PLAYBACK`), `/stream` serves a video
    /// only to a token this signer minted for it ([`crate::playback`]).
    pub playback: Option<crate::playback::PlaybackSigner>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            part_size: DEFAULT_PART_SIZE,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            part_url_ttl: Duration::from_secs(3600),
            api_key: None,
            cors_origins: Vec::new(),
            web_dir: None,
            public_base_url: None,
            heartbeat_timeout: slicecast_coordinator::HEARTBEAT_TIMEOUT,
            remote_start_grace: Duration::from_secs(6 * 3600 + 15 * 60),
            transcript_check_every: Duration::from_secs(10),
            playback: None,
        }
    }
}

impl ApiConfig {
    /// Splits `CORS_ORIGINS`-style text (`a, b,*`) into origins.
    pub fn parse_origins(s: &str) -> Vec<String> {
        s.split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect()
    }

    /// `path` prefixed with [`ApiConfig::public_base_url`] when set.
    pub fn url(&self, path: &str) -> String {
        match &self.public_base_url {
            Some(base) => format!("{}{path}", base.trim_end_matches('/')),
            None => path.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_urls() {
        assert_eq!(
            ApiConfig::parse_origins(" http://a:1/, *,,https://b "),
            ["http://a:1", "*", "https://b"]
        );
        assert!(ApiConfig::parse_origins("").is_empty());
        let mut c = ApiConfig::default();
        assert_eq!(c.url("/x"), "/x");
        c.public_base_url = Some("https://h/".into());
        assert_eq!(c.url("/x"), "https://h/x");
    }
}

//! Files a viewer can download, made from the stream's own segments.

use serde::{Deserialize, Serialize};

/// What a download holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DownloadKind {
    /// A progressive MP4 (video up to 1080p, with the audio), `faststart`.
    Mp4,
    /// The audio alone, AAC in an M4A.
    M4a,
}

/// One downloadable file of a video.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Download {
    /// What it holds.
    pub kind: DownloadKind,
    /// Its key under `processed/<id>/download/`.
    pub key: String,
    /// Its size in bytes.
    pub bytes: u64,
}

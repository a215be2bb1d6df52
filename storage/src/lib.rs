//! slicecast-storage: where objects live.
//!
//! [`BlobStore`] is the small trait every role talks to; [`FsStore`] keeps
//! objects as files under a root directory (the local default); `S3Store` (feature
//! `aws`) keeps them in an S3 bucket (AWS or any S3-compatible server). Keys are
//! `/`-separated relative paths (see `slicecast_core::keys`).

#[cfg(feature = "aws")]
pub mod aws_errors;
pub mod etag;
mod fs;
#[cfg(feature = "aws")]
mod s3;

pub use fs::FsStore;
#[cfg(feature = "aws")]
pub use s3::S3Store;

use async_trait::async_trait;
use bytes::Bytes;
use std::path::{Path, PathBuf};

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No object at that key.
    #[error("no object at `{0}`")]
    NotFound(String),
    /// The key is not acceptable (empty, absolute, `..`, ...).
    #[error("invalid object key `{0}`")]
    InvalidKey(String),
    /// An I/O error.
    #[error("storage I/O error at `{key}`: {source}")]
    Io {
        /// The key.
        key: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    /// True when the object does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound(_))
    }

    /// True when another try may succeed (I/O trouble); false for an object
    /// that is not there or a key that is not valid.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Io { .. })
    }
}

/// Size and age of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// Its key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// Last modification, Unix ms.
    pub modified_ms: u64,
    /// The content digest the store computed itself, when it has one (S3's
    /// ETag of a plain or SSE-S3 object: see [`etag::content_digest`]); only
    /// [`BlobStore::head`] fills it.
    pub content_digest: Option<[u8; 16]>,
}

/// An object store.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Reads a whole object.
    async fn get(&self, key: &str) -> Result<Bytes, StoreError>;
    /// Reads `len` bytes from `offset` (fewer at the end of the object).
    async fn get_range(&self, key: &str, offset: u64, len: u64) -> Result<Bytes, StoreError>;
    /// Writes an object, replacing any previous one (readers see old or new, never half).
    async fn put(&self, key: &str, data: Bytes) -> Result<(), StoreError>;
    /// Writes an object from a local file.
    async fn put_file(&self, key: &str, path: &Path) -> Result<(), StoreError>;
    /// Writes an object only if none exists; `Ok(false)` when one did.
    async fn put_if_absent(&self, key: &str, data: Bytes) -> Result<bool, StoreError>;
    /// Size and age, or `NotFound`.
    async fn head(&self, key: &str) -> Result<ObjectMeta, StoreError>;
    /// Every object whose key starts with `prefix`, sorted by key.
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError>;
    /// Deletes one object (no error when absent).
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Deletes every object under `prefix`; returns how many.
    async fn delete_prefix(&self, prefix: &str) -> Result<usize, StoreError>;
    /// A location ffmpeg can read the object from directly: a local path or a
    /// presigned URL with range support.
    async fn readable_location(&self, key: &str) -> Result<String, StoreError>;
    /// The local file behind a key, for stores that have one.
    fn local_path(&self, _key: &str) -> Option<PathBuf> {
        None
    }
}

/// Checks a key: relative, `/`-separated, no empty, `.` or `..` parts, no NUL or backslash.
pub fn validate_key(key: &str) -> Result<(), StoreError> {
    let bad = key.is_empty()
        || key.starts_with('/')
        || key.contains('\0')
        || key.contains('\\')
        || key
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..");
    if bad {
        Err(StoreError::InvalidKey(key.to_owned()))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for ok in [
            "uploads/a b.mp4",
            "processed/x/hls/master.m3u8",
            "uploads/ünï+%.mp4",
        ] {
            assert!(validate_key(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "a/../b",
            "a//b",
            "./a",
            "a\\b",
            "a/",
            "a/\0",
        ] {
            assert!(validate_key(bad).is_err(), "{bad:?}");
        }
    }
}

//! Multipart uploads: the [`UploadBackend`] trait (the upload-URL scheme) and
//! [`LocalUploads`], whose part URLs point at this API itself.
//!
//! Local layout under the store root (never inside `processed/`):
//!
//! ```text
//! multipart/<uploadId>/upload.json           name, size, part size, part count
//! multipart/<uploadId>/parts/<nnnnn>.<md5>   one file per received part
//! multipart/<uploadId>/tmp/...               parts and the assembly in flight
//! uploads/<uploadId>/<fileName>              the assembled object
//! ```
//!
//! [`LocalUploads`] lives in `uploads/local.rs`, its blocking file helpers in
//! `uploads/files.rs`.

use crate::error::ApiError;
use crate::validate::{self, PartPlan, PartRef};
use async_trait::async_trait;
use axum::body::Body;
use slicecast_core::{VideoId, keys};
use slicecast_storage::BlobStore;

mod files;
mod local;

pub use local::LocalUploads;
pub(crate) use local::UploadMeta;

/// A multipart upload just created.
#[derive(Debug, Clone)]
pub struct NewUpload {
    /// Its id.
    pub upload_id: String,
    /// Where the object will land once completed.
    pub key: String,
    /// One URL per part, in part order.
    pub urls: Vec<String>,
}

/// One part received so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInfo {
    /// 1-based part number.
    pub number: u32,
    /// MD5 hex (unquoted).
    pub etag: String,
    /// Bytes.
    pub size: u64,
}

/// An upload in progress, for resuming it.
#[derive(Debug, Clone)]
pub struct UploadInfo {
    /// Its id.
    pub upload_id: String,
    /// Original file name.
    pub file_name: String,
    /// Declared size.
    pub file_size: u64,
    /// Bytes per part.
    pub part_size: u64,
    /// Parts received, by number.
    pub parts: Vec<PartInfo>,
    /// Fresh URLs for every part (1-based order).
    pub urls: Vec<String>,
}

/// A completed upload.
#[derive(Debug, Clone)]
pub struct CompletedUpload {
    /// Key of the assembled object.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// MD5 of its bytes: the video id.
    pub video_id: VideoId,
}

/// Where multipart uploads go: the upload-URL scheme. The local backend hands
/// out URLs of this API ([`LocalUploads`]); an S3 backend would hand out
/// presigned S3 part URLs and never see [`UploadBackend::receive_part`].
#[async_trait]
pub trait UploadBackend: Send + Sync + 'static {
    /// Starts an upload of `file_name` (already validated) cut as `plan` says.
    async fn create(
        &self,
        file_name: &str,
        file_size: u64,
        plan: PartPlan,
    ) -> Result<NewUpload, ApiError>;

    /// The parts received so far, with fresh part URLs.
    async fn describe(&self, upload_id: &str) -> Result<UploadInfo, ApiError>;

    /// Checks every listed part against what was received, assembles the
    /// object and removes the parts.
    async fn complete(
        &self,
        upload_id: &str,
        file_name: &str,
        parts: &[PartRef],
    ) -> Result<CompletedUpload, ApiError>;

    /// Discards an upload and its parts.
    async fn abort(&self, upload_id: &str) -> Result<(), ApiError>;

    /// Receives one part PUT to a URL this backend handed out; returns the
    /// part's MD5 hex. `query` is the URL's raw query (its signature).
    async fn receive_part(
        &self,
        upload_id: &str,
        part: u32,
        query: Option<&str>,
        content_length: Option<u64>,
        body: Body,
    ) -> Result<String, ApiError> {
        let _ = (part, query, content_length, body);
        Err(ApiError::NotFound(format!(
            "upload {upload_id} does not take parts at this server"
        )))
    }
}

/// `n` random bytes as hex.
pub(crate) fn random_hex(n: usize) -> Result<String, ApiError> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
    Ok(hex::encode(b))
}

/// Deletes an upload object; one at `uploads/<uploadId>/<name>` goes with its
/// folder. Keys outside `uploads/` are left alone. Returns objects removed.
pub(crate) async fn remove_upload_object(
    store: &dyn BlobStore,
    key: &str,
) -> Result<usize, slicecast_storage::StoreError> {
    if !key.starts_with(keys::UPLOADS) || slicecast_storage::validate_key(key).is_err() {
        return Ok(0);
    }
    if let [_, folder, _] = key.split('/').collect::<Vec<_>>().as_slice()
        && validate::upload_id(folder).is_ok()
    {
        return store
            .delete_prefix(&format!("{}{folder}/", keys::UPLOADS))
            .await;
    }
    let existed = store.head(key).await.is_ok();
    store.delete(key).await?;
    Ok(usize::from(existed))
}

/// The value of `name` in a raw query string (values here are plain digits or hex).
pub(crate) fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params() {
        let q = Some("expires=12&signature=ab&x");
        assert_eq!(query_param(q, "expires"), Some("12"));
        assert_eq!(query_param(q, "signature"), Some("ab"));
        assert_eq!(query_param(q, "x"), None);
        assert_eq!(query_param(None, "expires"), None);
    }
}

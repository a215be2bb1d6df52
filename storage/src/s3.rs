//! The S3 store (aws-sdk-s3). Works with AWS and with S3-compatible servers
//! (`AWS_ENDPOINT_URL_S3`, path-style addressing).

use crate::{BlobStore, ObjectMeta, StoreError, validate_key};
use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use bytes::Bytes;
use std::path::Path;
use std::time::Duration;

/// How long presigned GET URLs handed to ffmpeg stay valid.
const PRESIGN_GET_FOR: Duration = Duration::from_secs(6 * 3600);
/// `DeleteObjects` takes at most this many keys.
const DELETE_BATCH: usize = 1000;

/// Default [`S3Store::with_multipart`] threshold: files above 64 MiB go up in parts.
pub const MULTIPART_THRESHOLD: u64 = 64 * 1024 * 1024;
/// Default part size of a multipart `put_file`: 16 MiB (S3 needs at least 5 MiB).
pub const MULTIPART_PART: u64 = 16 * 1024 * 1024;
/// Parts of one multipart `put_file` in flight.
const PARTS_IN_FLIGHT: usize = 4;

/// Objects in one S3 bucket.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
    multipart_threshold: u64,
    part_size: u64,
}

/// HTTP status of a failed S3 call, when it got that far.
fn status<E>(e: &SdkError<E>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

fn other<E: std::error::Error + Send + Sync + 'static>(key: &str, e: E) -> StoreError {
    StoreError::Io {
        key: key.to_owned(),
        source: std::io::Error::other(e),
    }
}

fn sdk_err<E>(key: &str, e: SdkError<E>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if status(&e) == Some(404) || matches!(e.code(), Some("NoSuchKey" | "NotFound")) {
        return StoreError::NotFound(key.to_owned());
    }
    let message = aws_sdk_s3::error::DisplayErrorContext(e).to_string();
    other(key, std::io::Error::other(message))
}

impl S3Store {
    /// A store over `bucket` with an existing client.
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            multipart_threshold: MULTIPART_THRESHOLD,
            part_size: MULTIPART_PART,
        }
    }

    /// Files larger than `threshold` bytes are written by `put_file` as a
    /// multipart upload of `part_size`-byte parts (at least 5 MiB, as S3 requires).
    pub fn with_multipart(mut self, threshold: u64, part_size: u64) -> Self {
        self.multipart_threshold = threshold;
        self.part_size = part_size.max(5 * 1024 * 1024);
        self
    }

    /// A store over `bucket` configured from the environment (region,
    /// credentials, `AWS_ENDPOINT_URL_S3`); path-style addressing whenever the
    /// endpoint is overridden, as S3-compatible servers need.
    pub async fn from_env(bucket: impl Into<String>) -> Self {
        let conf = aws_config::load_from_env().await;
        let mut b = aws_sdk_s3::config::Builder::from(&conf);
        if std::env::var_os("AWS_ENDPOINT_URL_S3").is_some()
            || std::env::var_os("AWS_ENDPOINT_URL").is_some()
        {
            b = b.force_path_style(true);
        }
        Self::new(Client::from_conf(b.build()), bucket)
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn put_body(
        &self,
        key: &str,
        body: ByteStream,
        if_absent: bool,
    ) -> Result<bool, StoreError> {
        validate_key(key)?;
        let mut req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(body)
            .content_type(slicecast_core::keys::content_type(key))
            .cache_control(slicecast_core::keys::cache_control(key));
        if if_absent {
            req = req.if_none_match("*");
        }
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if if_absent && matches!(status(&e), Some(412 | 409)) => Ok(false),
            Err(e) => Err(sdk_err(key, e)),
        }
    }

    /// Writes a file as a multipart upload, [`PARTS_IN_FLIGHT`] parts at a
    /// time, each read from the file when it is sent; aborts on failure.
    async fn put_file_multipart(
        &self,
        key: &str,
        path: &Path,
        size: u64,
    ) -> Result<(), StoreError> {
        use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
        use futures::StreamExt;
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type(slicecast_core::keys::content_type(key))
            .cache_control(slicecast_core::keys::cache_control(key))
            .send()
            .await
            .map_err(|e| sdk_err(key, e))?;
        let upload_id = created
            .upload_id()
            .ok_or_else(|| other(key, std::io::Error::other("no upload id")))?
            .to_owned();
        let part_size = self.part_size;
        let parts = (0..size.div_ceil(part_size)).map(|i| {
            let offset = i * part_size;
            (i as i32 + 1, offset, part_size.min(size - offset))
        });
        let results: Vec<Result<CompletedPart, StoreError>> = futures::stream::iter(parts)
            .map(|(number, offset, len)| {
                let upload_id = upload_id.clone();
                async move {
                    let body = ByteStream::read_from()
                        .path(path)
                        .offset(offset)
                        .length(aws_sdk_s3::primitives::Length::Exact(len))
                        .build()
                        .await
                        .map_err(|e| other(key, e))?;
                    let out = self
                        .client
                        .upload_part()
                        .bucket(&self.bucket)
                        .key(key)
                        .upload_id(&upload_id)
                        .part_number(number)
                        .body(body)
                        .send()
                        .await
                        .map_err(|e| sdk_err(key, e))?;
                    Ok(CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(out.e_tag().map(str::to_owned))
                        .build())
                }
            })
            .buffered(PARTS_IN_FLIGHT)
            .collect()
            .await;
        let done: Result<Vec<CompletedPart>, StoreError> = results.into_iter().collect();
        let completed = match done {
            Ok(parts) => self
                .client
                .complete_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(&upload_id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await
                .map(drop)
                .map_err(|e| sdk_err(key, e)),
            Err(e) => Err(e),
        };
        if completed.is_err() {
            let _ = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(&upload_id)
                .send()
                .await;
        }
        completed
    }
}

#[async_trait]
impl BlobStore for S3Store {
    async fn get(&self, key: &str) -> Result<Bytes, StoreError> {
        validate_key(key)?;
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| sdk_err(key, e))?;
        Ok(out
            .body
            .collect()
            .await
            .map_err(|e| other(key, e))?
            .into_bytes())
    }

    async fn get_range(&self, key: &str, offset: u64, len: u64) -> Result<Bytes, StoreError> {
        validate_key(key)?;
        if len == 0 {
            return Ok(Bytes::new());
        }
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes={offset}-{}", offset + len - 1))
            .send()
            .await;
        match out {
            Ok(o) => Ok(o
                .body
                .collect()
                .await
                .map_err(|e| other(key, e))?
                .into_bytes()),
            // A range starting at or past the end: nothing there.
            Err(e) if status(&e) == Some(416) => Ok(Bytes::new()),
            Err(e) => Err(sdk_err(key, e)),
        }
    }

    async fn put(&self, key: &str, data: Bytes) -> Result<(), StoreError> {
        self.put_body(key, ByteStream::from(data), false)
            .await
            .map(drop)
    }

    async fn put_file(&self, key: &str, path: &Path) -> Result<(), StoreError> {
        validate_key(key)?;
        let size = tokio::fs::metadata(path)
            .await
            .map_err(|e| other(key, e))?
            .len();
        if size > self.multipart_threshold {
            return self.put_file_multipart(key, path, size).await;
        }
        let body = ByteStream::from_path(path)
            .await
            .map_err(|e| other(key, e))?;
        self.put_body(key, body, false).await.map(drop)
    }

    async fn put_if_absent(&self, key: &str, data: Bytes) -> Result<bool, StoreError> {
        self.put_body(key, ByteStream::from(data), true).await
    }

    async fn head(&self, key: &str) -> Result<ObjectMeta, StoreError> {
        validate_key(key)?;
        let out = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| sdk_err(key, e))?;
        Ok(ObjectMeta {
            key: key.to_owned(),
            size: out.content_length().unwrap_or(0).max(0) as u64,
            modified_ms: out
                .last_modified()
                .and_then(|t| t.to_millis().ok())
                .unwrap_or(0)
                .max(0) as u64,
            content_digest: out.e_tag().and_then(|etag| {
                crate::etag::content_digest(
                    etag,
                    out.server_side_encryption().map(|s| s.as_str()),
                    out.sse_customer_algorithm().is_some(),
                )
            }),
        })
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_err(prefix, e))?;
            for o in page.contents() {
                let Some(key) = o.key() else { continue };
                out.push(ObjectMeta {
                    key: key.to_owned(),
                    size: o.size().unwrap_or(0).max(0) as u64,
                    modified_ms: o
                        .last_modified()
                        .and_then(|t| t.to_millis().ok())
                        .unwrap_or(0)
                        .max(0) as u64,
                    content_digest: None,
                });
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        validate_key(key)?;
        match self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if status(&e) == Some(404) => Ok(()),
            Err(e) => Err(sdk_err(key, e)),
        }
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<usize, StoreError> {
        let objects = self.list(prefix).await?;
        for batch in objects.chunks(DELETE_BATCH) {
            let ids = batch
                .iter()
                .map(|o| ObjectIdentifier::builder().key(&o.key).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| other(prefix, e))?;
            let delete = Delete::builder()
                .set_objects(Some(ids))
                .quiet(true)
                .build()
                .map_err(|e| other(prefix, e))?;
            self.client
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| sdk_err(prefix, e))?;
        }
        Ok(objects.len())
    }

    async fn readable_location(&self, key: &str) -> Result<String, StoreError> {
        validate_key(key)?;
        let conf = PresigningConfig::expires_in(PRESIGN_GET_FOR).map_err(|e| other(key, e))?;
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(conf)
            .await
            .map_err(|e| sdk_err(key, e))?;
        Ok(req.uri().to_owned())
    }
}

//! Multipart uploads straight to S3: the browser PUTs each part to a presigned
//! `UploadPart` URL; this API only creates, describes, completes and aborts.
//!
//! Our upload id is a random token; `multipart/<token>.json` in the bucket maps
//! it to the object key (`uploads/<token>/<fileName>`) and S3's own upload id.
//!
//! `MAX_UPLOAD_BYTES` holds on S3 too: every part URL signs the part's
//! planned `Content-Length` (S3 refuses a PUT of any other length), and
//! `complete` HEADs the assembled object and deletes it (413) when it is over
//! the limit or not the declared size, before it is read to be hashed.

use crate::error::ApiError;
use crate::uploads::{CompletedUpload, NewUpload, PartInfo, UploadBackend, UploadInfo};
use crate::validate::{PartPlan, PartRef};
use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use slicecast_storage::{BlobStore, S3Store};
use std::time::Duration;

/// S3's smallest part, except the last.
const MIN_PART: u64 = 5 * 1024 * 1024;
/// How long presigned part URLs stay valid.
const PART_URL_FOR: Duration = Duration::from_secs(3600);

/// What `multipart/<token>.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3UploadMeta {
    key: String,
    s3_upload_id: String,
    file_name: String,
    file_size: u64,
    part_size: u64,
    parts: u32,
}

/// Multipart uploads into an S3 bucket with presigned part URLs.
pub struct S3Uploads {
    store: S3Store,
    max_upload_bytes: u64,
}

fn meta_key(token: &str) -> String {
    format!("multipart/{token}.json")
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

fn new_token() -> Result<String, ApiError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(internal)?;
    Ok(hex::encode(b))
}

impl S3Uploads {
    /// Uploads into `store`'s bucket, at most
    /// [`crate::DEFAULT_MAX_UPLOAD_BYTES`] each.
    pub fn new(store: S3Store) -> Self {
        Self {
            store,
            max_upload_bytes: crate::DEFAULT_MAX_UPLOAD_BYTES,
        }
    }

    /// With another largest upload (`MAX_UPLOAD_BYTES`).
    pub fn with_max_upload_bytes(mut self, max: u64) -> Self {
        self.max_upload_bytes = max;
        self
    }

    /// Removes an upload's object and its record after a refused completion.
    async fn discard(&self, upload_id: &str, m: &S3UploadMeta) {
        if let Err(e) = self.store.delete(&m.key).await {
            tracing::warn!(upload.id = upload_id, error = %e, "cannot delete a refused upload");
        }
        if let Err(e) = self.store.delete(&meta_key(upload_id)).await {
            tracing::warn!(upload.id = upload_id, error = %e, "cannot delete an upload record");
        }
    }

    async fn meta(&self, token: &str) -> Result<S3UploadMeta, ApiError> {
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ApiError::NotFound(format!("no upload {token}")));
        }
        let bytes = self.store.get(&meta_key(token)).await.map_err(|e| {
            if e.is_not_found() {
                ApiError::NotFound(format!("no upload {token}"))
            } else {
                ApiError::Store(e)
            }
        })?;
        serde_json::from_slice(&bytes).map_err(internal)
    }

    async fn part_urls(&self, m: &S3UploadMeta) -> Result<Vec<String>, ApiError> {
        let plan = PartPlan {
            part_size: m.part_size,
            parts: m.parts,
        };
        let mut urls = Vec::with_capacity(m.parts as usize);
        for n in 1..=m.parts {
            let conf = PresigningConfig::expires_in(PART_URL_FOR).map_err(internal)?;
            let len = i64::try_from(plan.size_of(n, m.file_size)).map_err(internal)?;
            // The signature covers `content-length`: a PUT of any other length fails.
            let req = self
                .store
                .client()
                .upload_part()
                .bucket(self.store.bucket())
                .key(&m.key)
                .upload_id(&m.s3_upload_id)
                .part_number(n as i32)
                .content_length(len)
                .presigned(conf)
                .await
                .map_err(internal)?;
            urls.push(req.uri().to_owned());
        }
        Ok(urls)
    }

    async fn received(&self, m: &S3UploadMeta) -> Result<Vec<PartInfo>, ApiError> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .store
                .client()
                .list_parts()
                .bucket(self.store.bucket())
                .key(&m.key)
                .upload_id(&m.s3_upload_id)
                .set_part_number_marker(marker.clone())
                .send()
                .await
                .map_err(|e| internal(aws_sdk_s3::error::DisplayErrorContext(e)))?;
            for p in page.parts() {
                out.push(PartInfo {
                    number: p.part_number().unwrap_or(0).max(0) as u32,
                    etag: p.e_tag().unwrap_or("").trim_matches('"').to_owned(),
                    size: p.size().unwrap_or(0).max(0) as u64,
                });
            }
            if page.is_truncated() == Some(true) {
                marker = page.next_part_number_marker().map(str::to_owned);
            } else {
                return Ok(out);
            }
        }
    }
}

#[async_trait]
impl UploadBackend for S3Uploads {
    async fn create(
        &self,
        file_name: &str,
        file_size: u64,
        plan: PartPlan,
    ) -> Result<NewUpload, ApiError> {
        if plan.parts > 1 && plan.part_size < MIN_PART {
            return Err(ApiError::Internal(format!(
                "the part size ({} bytes) is below S3's minimum of {MIN_PART} bytes; configure a larger one",
                plan.part_size
            )));
        }
        let token = new_token()?;
        let key = format!("uploads/{token}/{file_name}");
        let out = self
            .store
            .client()
            .create_multipart_upload()
            .bucket(self.store.bucket())
            .key(&key)
            .content_type(slicecast_core::keys::content_type(&key))
            .send()
            .await
            .map_err(|e| internal(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        let meta = S3UploadMeta {
            key: key.clone(),
            s3_upload_id: out
                .upload_id()
                .ok_or_else(|| internal("S3 returned no upload id"))?
                .to_owned(),
            file_name: file_name.to_owned(),
            file_size,
            part_size: plan.part_size,
            parts: plan.parts,
        };
        let json = serde_json::to_vec(&meta).map_err(internal)?;
        self.store.put(&meta_key(&token), Bytes::from(json)).await?;
        let urls = self.part_urls(&meta).await?;
        Ok(NewUpload {
            upload_id: token,
            key,
            urls,
        })
    }

    async fn describe(&self, upload_id: &str) -> Result<UploadInfo, ApiError> {
        let m = self.meta(upload_id).await?;
        Ok(UploadInfo {
            upload_id: upload_id.to_owned(),
            file_name: m.file_name.clone(),
            file_size: m.file_size,
            part_size: m.part_size,
            parts: self.received(&m).await?,
            urls: self.part_urls(&m).await?,
        })
    }

    async fn complete(
        &self,
        upload_id: &str,
        file_name: &str,
        parts: &[PartRef],
    ) -> Result<CompletedUpload, ApiError> {
        let m = self.meta(upload_id).await?;
        if m.file_name != file_name {
            return Err(ApiError::Invalid(format!(
                "fileName {file_name:?} does not match the upload's {:?}",
                m.file_name
            )));
        }
        let have = self.received(&m).await?;
        // S3 checks the ETags again when completing; servers that do not list
        // ETags (some S3-compatible ones) are checked for presence only.
        for p in parts {
            match have.iter().find(|h| h.number == p.number) {
                Some(h) if h.etag.is_empty() || h.etag.eq_ignore_ascii_case(&p.etag) => {}
                Some(h) => {
                    return Err(ApiError::Invalid(format!(
                        "part {} has a different ETag ({} received, {} given)",
                        p.number, h.etag, p.etag
                    )));
                }
                None => {
                    return Err(ApiError::Invalid(format!(
                        "part {} was not received",
                        p.number
                    )));
                }
            }
        }
        let completed = CompletedMultipartUpload::builder()
            .set_parts(Some(
                parts
                    .iter()
                    .map(|p| {
                        CompletedPart::builder()
                            .part_number(p.number as i32)
                            .e_tag(format!("\"{}\"", p.etag))
                            .build()
                    })
                    .collect(),
            ))
            .build();
        self.store
            .client()
            .complete_multipart_upload()
            .bucket(self.store.bucket())
            .key(&m.key)
            .upload_id(&m.s3_upload_id)
            .multipart_upload(completed)
            .send()
            .await
            .map_err(|e| match e.raw_response().map(|r| r.status().as_u16()) {
                Some(400) => ApiError::Invalid(format!(
                    "the parts do not match what was uploaded: {}",
                    aws_sdk_s3::error::DisplayErrorContext(e)
                )),
                _ => internal(aws_sdk_s3::error::DisplayErrorContext(e)),
            })?;
        // Checked before a byte is read: the object's real size.
        let size = self.store.head(&m.key).await?.size;
        if size > self.max_upload_bytes {
            self.discard(upload_id, &m).await;
            return Err(ApiError::TooLarge(format!(
                "the upload is {size} bytes, more than this server accepts ({} bytes); it was deleted",
                self.max_upload_bytes
            )));
        }
        if size != m.file_size {
            self.discard(upload_id, &m).await;
            return Err(ApiError::Invalid(format!(
                "the upload is {size} bytes, not the fileSize {} declared at creation; it was deleted, upload the file again",
                m.file_size
            )));
        }
        // The id: S3's own digest of the object (its ETag), or its MD5 read
        // once in ranges where S3 holds none (see `hash_object`).
        let (video_id, size) = slicecast_coordinator::hash_object(&self.store, &m.key).await?;
        self.store.delete(&meta_key(upload_id)).await?;
        Ok(CompletedUpload {
            key: m.key,
            size,
            video_id,
        })
    }

    async fn abort(&self, upload_id: &str) -> Result<(), ApiError> {
        let m = self.meta(upload_id).await?;
        self.store
            .client()
            .abort_multipart_upload()
            .bucket(self.store.bucket())
            .key(&m.key)
            .upload_id(&m.s3_upload_id)
            .send()
            .await
            .map_err(|e| internal(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        self.store.delete(&meta_key(upload_id)).await?;
        Ok(())
    }
}

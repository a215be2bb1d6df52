//! [`LocalUploads`]: multipart uploads on the local filesystem store, whose
//! part URLs point at this API itself.

use super::files::{
    Completing, TempFile, assemble_blocking, io_err, list_parts_blocking, part_file_name,
};
use super::{
    CompletedUpload, NewUpload, PartInfo, UploadBackend, UploadInfo, query_param, random_hex,
};
use crate::config::ApiConfig;
use crate::error::ApiError;
use crate::sign::PartSigner;
use crate::validate::{self, PartPlan, PartRef};
use async_trait::async_trait;
use axum::body::Body;
use bytes::Bytes;
use futures::StreamExt;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use slicecast_core::now_ms;
use slicecast_core::{VideoId, keys};
use slicecast_storage::{BlobStore, FsStore};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncWriteExt;

/// What `upload.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UploadMeta {
    pub(crate) upload_id: String,
    pub(crate) file_name: String,
    pub(crate) file_size: u64,
    pub(crate) part_size: u64,
    pub(crate) parts: u32,
    pub(crate) created_ms: u64,
    /// When the newest part URLs handed out expire (Unix ms); 0 in uploads
    /// made before this was recorded (then `created_ms` + the URL lifetime).
    #[serde(default)]
    pub(crate) urls_until_ms: u64,
}

impl UploadMeta {
    fn plan(&self) -> PartPlan {
        PartPlan {
            part_size: self.part_size,
            parts: self.parts,
        }
    }
}

/// Multipart uploads on the local filesystem store; part URLs are this API's
/// `PUT /uploads/parts/<uploadId>/<n>?expires=..&signature=..`.
pub struct LocalUploads {
    store: FsStore,
    signer: PartSigner,
    config: ApiConfig,
    /// Serialises the short "replace a part" and "remove the upload" steps.
    finalize: tokio::sync::Mutex<()>,
    /// Uploads being completed right now.
    completing: std::sync::Mutex<HashSet<String>>,
}

impl std::fmt::Debug for LocalUploads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalUploads")
            .field("root", &self.store.root())
            .finish_non_exhaustive()
    }
}

fn no_upload(id: &str) -> ApiError {
    ApiError::NotFound(format!(
        "no upload {id} (it was completed, aborted or never created)"
    ))
}

impl LocalUploads {
    /// Uploads under `store`'s root, part URLs signed by `signer`.
    pub fn new(store: FsStore, signer: PartSigner, config: ApiConfig) -> Self {
        Self {
            store,
            signer,
            config,
            finalize: tokio::sync::Mutex::new(()),
            completing: std::sync::Mutex::new(HashSet::new()),
        }
    }

    fn dir(&self, id: &str) -> PathBuf {
        // `id` is validated hex: it cannot leave `multipart/`.
        self.store.root().join("multipart").join(id)
    }

    fn meta_key(id: &str) -> String {
        format!("multipart/{id}/upload.json")
    }

    async fn meta(&self, id: &str) -> Result<UploadMeta, ApiError> {
        let id = validate::upload_id(id)?;
        match self.store.get(&Self::meta_key(&id)).await {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| {
                ApiError::Internal(format!("upload {id}: unreadable upload.json: {e}"))
            }),
            Err(e) if e.is_not_found() => Err(no_upload(&id)),
            Err(e) => Err(e.into()),
        }
    }

    /// When URLs handed out now expire, in Unix seconds.
    fn expiry(&self) -> u64 {
        SystemTime::now()
            .checked_add(self.config.part_url_ttl)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .unwrap_or(Duration::ZERO)
            .as_secs()
    }

    fn urls(&self, meta: &UploadMeta, expires: u64) -> Vec<String> {
        (1..=meta.parts)
            .map(|n| {
                let sig = self.signer.sign(&meta.upload_id, n, expires);
                self.config.url(&format!(
                    "/uploads/parts/{}/{n}?expires={expires}&signature={sig}",
                    meta.upload_id
                ))
            })
            .collect()
    }

    async fn list_parts(&self, id: &str) -> Result<BTreeMap<u32, PartInfo>, ApiError> {
        let dir = self.dir(id).join("parts");
        tokio::task::spawn_blocking(move || list_parts_blocking(&dir))
            .await
            .map_err(ApiError::internal)?
            .map_err(io_err("listing parts"))
    }

    fn upload_key(id: &str, name: &str) -> String {
        keys::upload(&format!("{id}/{name}"))
    }
}

#[async_trait]
impl UploadBackend for LocalUploads {
    async fn create(
        &self,
        file_name: &str,
        file_size: u64,
        plan: PartPlan,
    ) -> Result<NewUpload, ApiError> {
        let upload_id = random_hex(16)?;
        let expires = self.expiry();
        let meta = UploadMeta {
            upload_id: upload_id.clone(),
            file_name: file_name.to_owned(),
            file_size,
            part_size: plan.part_size,
            parts: plan.parts,
            created_ms: now_ms(),
            urls_until_ms: expires.saturating_mul(1000),
        };
        let json = serde_json::to_vec_pretty(&meta).map_err(ApiError::internal)?;
        self.store
            .put(&Self::meta_key(&upload_id), Bytes::from(json))
            .await?;
        Ok(NewUpload {
            key: Self::upload_key(&upload_id, file_name),
            urls: self.urls(&meta, expires),
            upload_id,
        })
    }

    async fn describe(&self, upload_id: &str) -> Result<UploadInfo, ApiError> {
        let mut meta = self.meta(upload_id).await?;
        let expires = self.expiry();
        {
            // Record the new expiry (the sweep keeps the upload until then),
            // unless it was completed or aborted meanwhile.
            let _g = self.finalize.lock().await;
            if tokio::fs::metadata(self.dir(&meta.upload_id).join("upload.json"))
                .await
                .is_err()
            {
                return Err(no_upload(&meta.upload_id));
            }
            meta.urls_until_ms = meta.urls_until_ms.max(expires.saturating_mul(1000));
            let json = serde_json::to_vec_pretty(&meta).map_err(ApiError::internal)?;
            self.store
                .put(&Self::meta_key(&meta.upload_id), Bytes::from(json))
                .await?;
        }
        let parts = self.list_parts(&meta.upload_id).await?;
        Ok(UploadInfo {
            urls: self.urls(&meta, expires),
            upload_id: meta.upload_id,
            file_name: meta.file_name,
            file_size: meta.file_size,
            part_size: meta.part_size,
            parts: parts.into_values().collect(),
        })
    }

    async fn complete(
        &self,
        upload_id: &str,
        file_name: &str,
        parts: &[PartRef],
    ) -> Result<CompletedUpload, ApiError> {
        let meta = self.meta(upload_id).await?;
        let id = meta.upload_id.clone();
        if meta.file_name != file_name {
            return Err(ApiError::Invalid(format!(
                "fileName {file_name:?} is not the name upload {id} was created with ({:?})",
                meta.file_name
            )));
        }
        let _completing = {
            let mut set = self
                .completing
                .lock()
                .map_err(|_| ApiError::internal("completing-set lock poisoned"))?;
            if !set.insert(id.clone()) {
                return Err(ApiError::Conflict(format!(
                    "upload {id} is already being completed"
                )));
            }
            Completing(&self.completing, id.clone())
        };
        let received = self.list_parts(&id).await?;
        let dir = self.dir(&id);
        let mut files = Vec::with_capacity(parts.len());
        for p in parts {
            match received.get(&p.number) {
                None => {
                    return Err(ApiError::Invalid(format!(
                        "part {} was never uploaded (received: {})",
                        p.number,
                        received.len()
                    )));
                }
                Some(r) if r.etag != p.etag => {
                    return Err(ApiError::Invalid(format!(
                        "part {}: ETag \"{}\" does not match the part received (\"{}\")",
                        p.number, p.etag, r.etag
                    )));
                }
                Some(r) => files.push(dir.join("parts").join(part_file_name(r.number, &r.etag))),
            }
        }
        let tmp_dir = dir.join("tmp");
        tokio::fs::create_dir_all(&tmp_dir)
            .await
            .map_err(io_err("creating the upload's scratch folder"))?;
        let assembled = tmp_dir.join(format!("assembled-{}", random_hex(8)?));
        let mut tmp = TempFile(Some(assembled.clone()));
        let out = assembled.clone();
        // Parts are bounded by their planned sizes, so this only guards
        // against a changed limit; never more than declared at creation.
        let max = self.config.max_upload_bytes.min(meta.file_size);
        let (digest, size) =
            tokio::task::spawn_blocking(move || assemble_blocking(&files, &out, max))
                .await
                .map_err(ApiError::internal)??;
        if size != meta.file_size {
            return Err(ApiError::Invalid(format!(
                "the parts add up to {size} bytes, not the fileSize {} declared at creation; upload the missing bytes",
                meta.file_size
            )));
        }
        let key = Self::upload_key(&id, &meta.file_name);
        let dest = self.store.local_path(&key).ok_or_else(|| {
            ApiError::Invalid(format!("fileName {:?} cannot be stored", meta.file_name))
        })?;
        if let Some(parent) = dest.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(io_err("creating the upload folder"))?;
        }
        tokio::fs::rename(&assembled, &dest)
            .await
            .map_err(io_err("moving the upload into place"))?;
        tmp.disarm();
        {
            let _g = self.finalize.lock().await;
            tokio::fs::remove_dir_all(&dir)
                .await
                .map_err(io_err("removing the parts"))?;
        }
        Ok(CompletedUpload {
            key,
            size,
            video_id: VideoId::from_digest(&digest),
        })
    }

    async fn abort(&self, upload_id: &str) -> Result<(), ApiError> {
        let meta = self.meta(upload_id).await?;
        if self
            .completing
            .lock()
            .map_err(|_| ApiError::internal("completing-set lock poisoned"))?
            .contains(&meta.upload_id)
        {
            return Err(ApiError::Conflict(format!(
                "upload {} is being completed",
                meta.upload_id
            )));
        }
        let _g = self.finalize.lock().await;
        match tokio::fs::remove_dir_all(self.dir(&meta.upload_id)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(no_upload(&meta.upload_id)),
            Err(e) => Err(io_err("removing the upload")(e)),
        }
    }

    async fn receive_part(
        &self,
        upload_id: &str,
        part: u32,
        query: Option<&str>,
        content_length: Option<u64>,
        body: Body,
    ) -> Result<String, ApiError> {
        let now = now_ms() / 1000;
        self.signer
            .verify(
                upload_id,
                part,
                query_param(query, "expires"),
                query_param(query, "signature"),
                now,
            )
            .map_err(|e| ApiError::Forbidden(e.to_string()))?;
        let meta = self.meta(upload_id).await?;
        let id = meta.upload_id.clone();
        if part > meta.parts {
            return Err(ApiError::Invalid(format!(
                "upload {id} has {} parts, not {part}",
                meta.parts
            )));
        }
        // The planned size of this part: the parts can never add up to more
        // than the declared file size (itself at most MAX_UPLOAD_BYTES).
        let limit = meta.plan().size_of(part, meta.file_size);
        let too_large = || {
            ApiError::TooLarge(format!(
                "part {part} is larger than its planned size ({limit} bytes of a {}-byte file in parts of {})",
                meta.file_size, meta.part_size
            ))
        };
        if content_length.is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let dir = self.dir(&id);
        let tmp_dir = dir.join("tmp");
        tokio::fs::create_dir_all(&tmp_dir)
            .await
            .map_err(io_err("creating the upload's scratch folder"))?;
        let path = tmp_dir.join(format!("{part:05}-{}", random_hex(8)?));
        let mut tmp = TempFile(Some(path.clone()));
        let file = tokio::fs::File::create(&path)
            .await
            .map_err(io_err("creating a part"))?;
        let mut w = tokio::io::BufWriter::with_capacity(256 * 1024, file);
        let mut md5 = Md5::new();
        let mut size = 0u64;
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                if crate::server::is_body_idle_timeout(&e) {
                    tracing::info!(upload.id = %id, part, "part body stalled; dropped");
                    ApiError::Invalid(format!("part {part} stopped arriving ({e}); send it again"))
                } else {
                    ApiError::Invalid(format!("the part's body could not be read to its end: {e}"))
                }
            })?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(too_large());
            }
            md5.update(&chunk);
            w.write_all(&chunk)
                .await
                .map_err(io_err("writing a part"))?;
        }
        w.flush().await.map_err(io_err("writing a part"))?;
        drop(w);
        let etag = hex::encode(md5.finalize());
        let parts_dir = dir.join("parts");
        let _g = self.finalize.lock().await;
        // Completed or aborted while this part was on its way.
        if tokio::fs::metadata(dir.join("upload.json")).await.is_err() {
            return Err(no_upload(&id));
        }
        tokio::fs::create_dir_all(&parts_dir)
            .await
            .map_err(io_err("creating the parts folder"))?;
        // A re-sent part replaces the earlier one.
        let prefix = format!("{part:05}.");
        let mut rd = tokio::fs::read_dir(&parts_dir)
            .await
            .map_err(io_err("listing parts"))?;
        while let Ok(Some(e)) = rd.next_entry().await {
            if e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(&prefix))
            {
                let _ = tokio::fs::remove_file(e.path()).await;
            }
        }
        tokio::fs::rename(&path, parts_dir.join(part_file_name(part, &etag)))
            .await
            .map_err(io_err("storing a part"))?;
        tmp.disarm();
        Ok(etag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn parts_are_assembled_with_their_md5() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = FsStore::new(dir.path()).expect("store");
        let config = ApiConfig {
            max_upload_bytes: 100,
            ..ApiConfig::default()
        };
        let up = LocalUploads::new(store.clone(), PartSigner::with_key([1; 32]), config);
        let plan = validate::plan_parts(10, 4, 100);
        let created = up.create("a b.mp4", 10, plan).await.expect("create");
        assert_eq!(created.urls.len(), 3);
        assert_eq!(
            created.key,
            format!("uploads/{}/a b.mp4", created.upload_id)
        );
        let id = created.upload_id.clone();
        let mut etags = Vec::new();
        for (i, url) in created.urls.iter().enumerate() {
            let q = url.split_once('?').map(|(_, q)| q);
            let data = &b"0123456789"[i * 4..((i + 1) * 4).min(10)];
            let etag = up
                .receive_part(&id, i as u32 + 1, q, None, Body::from(data.to_vec()))
                .await
                .expect("part");
            assert_eq!(etag, hex::encode(Md5::digest(data)));
            etags.push(PartRef {
                number: i as u32 + 1,
                etag,
            });
        }
        // Too large for the part size.
        let q = created.urls[0].split_once('?').map(|(_, q)| q);
        let e = up
            .receive_part(&id, 1, q, None, Body::from(b"12345".to_vec()))
            .await
            .expect_err("too large");
        assert!(matches!(e, ApiError::TooLarge(_)));
        let info = up.describe(&id).await.expect("describe");
        assert_eq!(info.parts.len(), 3);
        assert_eq!(info.parts[2].size, 2);
        let done = up.complete(&id, "a b.mp4", &etags).await.expect("complete");
        assert_eq!(done.size, 10);
        assert_eq!(
            done.video_id.as_str(),
            hex::encode(Md5::digest(b"0123456789"))
        );
        assert_eq!(store.get(&done.key).await.expect("object"), "0123456789");
        assert!(!dir.path().join("multipart").join(&id).exists());
        assert!(matches!(up.describe(&id).await, Err(ApiError::NotFound(_))));
    }
}

//! Which uploads (names, keys) belong to which video, kept as small JSON
//! objects in the store:
//!
//! ```text
//! names/<sha256 hex of the file name>.json   {"name", "uploads": [..]}  newest last
//! ids/<video id>.json                        {"video_id", "uploads": [..]}
//! ```
//!
//! `names/` answers "the newest video of this name"; `ids/` lists every upload
//! object of a video (for delete) and tells that an upload exists before its
//! manifest does.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use slicecast_core::VideoId;
use slicecast_storage::{BlobStore, StoreError};
use std::sync::Arc;

/// One completed upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRecord {
    /// The video its bytes hash to.
    pub video_id: VideoId,
    /// Original file name.
    pub name: String,
    /// Key of the uploaded object.
    pub upload_key: String,
    /// When the upload was completed (Unix ms).
    pub uploaded_ms: u64,
}

/// `names/<hash>.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NameEntry {
    /// The file name.
    pub name: String,
    /// Uploads of that name, newest last.
    pub uploads: Vec<UploadRecord>,
}

/// `ids/<id>.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdEntry {
    /// The video.
    pub video_id: VideoId,
    /// Every upload whose bytes are this video, oldest first.
    pub uploads: Vec<UploadRecord>,
}

/// Key of the name entry of `name`.
pub fn name_key(name: &str) -> String {
    format!(
        "names/{}.json",
        hex::encode(Sha256::digest(name.as_bytes()))
    )
}

/// Key of the id entry of `id`.
pub fn id_key(id: &VideoId) -> String {
    format!("ids/{id}.json")
}

/// Reads and updates the index. Updates are read-modify-write under one lock:
/// correct within one server process.
pub struct Index {
    store: Arc<dyn BlobStore>,
    lock: tokio::sync::Mutex<()>,
}

impl Index {
    /// The index in `store`.
    pub fn new(store: Arc<dyn BlobStore>) -> Self {
        Self {
            store,
            lock: tokio::sync::Mutex::new(()),
        }
    }

    async fn read<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        match self.store.get(key).await {
            Ok(b) => Ok(serde_json::from_slice(&b).ok()),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn write<T: Serialize>(&self, key: &str, v: &T) -> Result<(), StoreError> {
        let json = serde_json::to_vec_pretty(v).map_err(|e| StoreError::Io {
            key: key.to_owned(),
            source: std::io::Error::other(e),
        })?;
        self.store.put(key, Bytes::from(json)).await
    }

    /// Records a completed upload under its name and its id.
    pub async fn record(&self, rec: &UploadRecord) -> Result<(), StoreError> {
        let _g = self.lock.lock().await;
        let nk = name_key(&rec.name);
        let mut names: NameEntry = self.read(&nk).await?.unwrap_or_default();
        names.name.clone_from(&rec.name);
        // Newest last: an earlier upload of the same bytes moves to the end.
        names.uploads.retain(|u| u.video_id != rec.video_id);
        names.uploads.push(rec.clone());
        self.write(&nk, &names).await?;
        let ik = id_key(&rec.video_id);
        let mut ids = self.read(&ik).await?.unwrap_or_else(|| IdEntry {
            video_id: rec.video_id.clone(),
            uploads: Vec::new(),
        });
        ids.uploads.push(rec.clone());
        self.write(&ik, &ids).await
    }

    /// The newest upload of a file name.
    pub async fn newest_for_name(&self, name: &str) -> Result<Option<UploadRecord>, StoreError> {
        let entry: Option<NameEntry> = self.read(&name_key(name)).await?;
        Ok(entry
            .filter(|e| e.name == name)
            .and_then(|e| e.uploads.last().cloned()))
    }

    /// Every upload of a video.
    pub async fn uploads_of(&self, id: &VideoId) -> Result<Option<IdEntry>, StoreError> {
        self.read(&id_key(id)).await
    }

    /// Ids that have an upload record (whether or not processing began).
    pub async fn ids(&self) -> Result<Vec<VideoId>, StoreError> {
        Ok(self
            .store
            .list("ids/")
            .await?
            .into_iter()
            .filter_map(|m| {
                let file = m.key.strip_prefix("ids/")?.strip_suffix(".json")?;
                VideoId::parse(file).ok()
            })
            .collect())
    }

    /// Removes a video from the index; returns its uploads.
    pub async fn forget(&self, id: &VideoId) -> Result<Vec<UploadRecord>, StoreError> {
        let _g = self.lock.lock().await;
        let ik = id_key(id);
        let Some(entry) = self.read::<IdEntry>(&ik).await? else {
            return Ok(Vec::new());
        };
        let mut names: Vec<&str> = entry.uploads.iter().map(|u| u.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            let nk = name_key(name);
            let Some(mut e) = self.read::<NameEntry>(&nk).await? else {
                continue;
            };
            e.uploads.retain(|u| u.video_id != *id);
            if e.uploads.is_empty() {
                self.store.delete(&nk).await?;
            } else {
                self.write(&nk, &e).await?;
            }
        }
        self.store.delete(&ik).await?;
        Ok(entry.uploads)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slicecast_storage::FsStore;

    fn id(c: char) -> VideoId {
        VideoId::parse(&c.to_string().repeat(32)).expect("id")
    }

    fn rec(v: char, name: &str, ms: u64) -> UploadRecord {
        UploadRecord {
            video_id: id(v),
            name: name.into(),
            upload_key: format!("uploads/{ms}/{name}"),
            uploaded_ms: ms,
        }
    }

    #[tokio::test]
    async fn names_ids_and_forgetting() {
        let dir = tempfile::tempdir().expect("tmp");
        let store: Arc<dyn BlobStore> = Arc::new(FsStore::new(dir.path()).expect("store"));
        let ix = Index::new(store.clone());
        let name = "ünï cødé + 100% \"x\".mp4";
        ix.record(&rec('a', name, 1)).await.expect("a");
        ix.record(&rec('b', name, 2)).await.expect("b");
        ix.record(&rec('a', "other.mp4", 3)).await.expect("a again");
        assert_eq!(
            ix.newest_for_name(name)
                .await
                .expect("read")
                .map(|r| r.video_id),
            Some(id('b'))
        );
        assert_eq!(ix.newest_for_name("nope").await.expect("read"), None);
        assert_eq!(
            ix.uploads_of(&id('a'))
                .await
                .expect("read")
                .map(|e| e.uploads.len()),
            Some(2)
        );
        let mut ids = ix.ids().await.expect("ids");
        ids.sort();
        assert_eq!(ids, [id('a'), id('b')]);
        let gone = ix.forget(&id('b')).await.expect("forget");
        assert_eq!(gone.len(), 1);
        assert_eq!(
            ix.newest_for_name(name)
                .await
                .expect("read")
                .map(|r| r.video_id),
            Some(id('a'))
        );
        ix.forget(&id('a')).await.expect("forget");
        assert_eq!(ix.newest_for_name(name).await.expect("read"), None);
        assert!(store.list("names/").await.expect("list").is_empty());
        assert!(store.list("ids/").await.expect("list").is_empty());
    }
}

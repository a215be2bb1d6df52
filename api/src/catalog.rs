//! An in-memory cache of every video's manifest, refreshed by change stamps,
//! so listing videos does not read (or walk) the store on every request.
//!
//! On a store with local files it reads only the `processed/` directory
//! (skipped while its own stamp is unchanged) and one `stat` per manifest;
//! a manifest is re-read only when its inode, mtime or size changed (the
//! filesystem store replaces files by rename, so every write is a new inode).
//! Other stores fall back to `BlobStore::list("processed/")`, which the trait
//! offers without a delimiter.

use crate::error::ApiError;
use bytes::Bytes;
use slicecast_core::VideoId;
use slicecast_core::manifest::Manifest;
use slicecast_storage::BlobStore;
use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What identifies one version of a file: (inode, mtime ns, size).
type Stamp = (u64, u64, u64);

#[derive(Default)]
struct State {
    dir: Option<Stamp>,
    ids: Vec<VideoId>,
    entries: HashMap<VideoId, (Stamp, Arc<Manifest>)>,
    videos_json: Option<(u64, Bytes)>,
}

/// The manifest cache.
pub struct Catalog {
    store: Arc<dyn BlobStore>,
    processed_dir: Option<PathBuf>,
    state: Mutex<State>,
}

#[cfg(unix)]
fn stamp(m: &std::fs::Metadata) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    let ns = (m.mtime() as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(m.mtime_nsec() as u64);
    (m.ino(), ns, m.len())
}

#[cfg(not(unix))]
fn stamp(m: &std::fs::Metadata) -> Stamp {
    let ns = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64);
    (0, ns, m.len())
}

fn poisoned() -> ApiError {
    ApiError::internal("manifest cache lock poisoned")
}

impl Catalog {
    /// A cache over `store`.
    pub fn new(store: Arc<dyn BlobStore>) -> Self {
        Self {
            processed_dir: store.local_path("processed"),
            store,
            state: Mutex::new(State::default()),
        }
    }

    /// Every readable manifest, fresh as of this call.
    pub async fn manifests(self: &Arc<Self>) -> Result<Vec<Arc<Manifest>>, ApiError> {
        match &self.processed_dir {
            Some(dir) => {
                let (this, dir) = (self.clone(), dir.clone());
                tokio::task::spawn_blocking(move || this.refresh_local(&dir))
                    .await
                    .map_err(ApiError::internal)?
            }
            None => self.refresh_remote().await,
        }
    }

    fn refresh_local(&self, dir: &Path) -> Result<Vec<Arc<Manifest>>, ApiError> {
        let mut st = self.state.lock().map_err(|_| poisoned())?;
        // Stamp before listing: a change during the listing changes it again.
        let dir_stamp = match std::fs::metadata(dir) {
            Ok(m) => Some(stamp(&m)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(ApiError::Internal(format!("reading processed/: {e}"))),
        };
        if dir_stamp.is_none() {
            *st = State::default();
            return Ok(Vec::new());
        }
        if st.dir != dir_stamp {
            let mut ids = Vec::new();
            let rd = std::fs::read_dir(dir)
                .map_err(|e| ApiError::Internal(format!("listing processed/: {e}")))?;
            for e in rd.flatten() {
                if let Some(id) = e.file_name().to_str().and_then(|n| VideoId::parse(n).ok()) {
                    ids.push(id);
                }
            }
            st.ids = ids;
            st.dir = dir_stamp;
        }
        let mut out = Vec::with_capacity(st.ids.len());
        let mut fresh = HashMap::with_capacity(st.ids.len());
        for id in st.ids.clone() {
            let path = dir.join(id.as_str()).join("manifest.json");
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            let s = stamp(&meta);
            let manifest = match st.entries.get(&id) {
                Some((old, m)) if *old == s => m.clone(),
                _ => {
                    let Some(m) = std::fs::read(&path)
                        .ok()
                        .and_then(|b| serde_json::from_slice::<Manifest>(&b).ok())
                    else {
                        continue;
                    };
                    Arc::new(m)
                }
            };
            out.push(manifest.clone());
            fresh.insert(id, (s, manifest));
        }
        st.entries = fresh;
        Ok(out)
    }

    async fn refresh_remote(&self) -> Result<Vec<Arc<Manifest>>, ApiError> {
        let listed = self.store.list("processed/").await?;
        let mut out = Vec::new();
        let mut fresh = HashMap::new();
        for o in listed {
            let Some(id) = o
                .key
                .strip_prefix("processed/")
                .and_then(|r| r.strip_suffix("/manifest.json"))
                .and_then(|id| VideoId::parse(id).ok())
            else {
                continue;
            };
            let s = (0, o.modified_ms, o.size);
            let cached = {
                let st = self.state.lock().map_err(|_| poisoned())?;
                st.entries
                    .get(&id)
                    .filter(|(old, _)| *old == s)
                    .map(|(_, m)| m.clone())
            };
            let manifest = match cached {
                Some(m) => m,
                None => match self.store.get(&o.key).await {
                    Ok(b) => match serde_json::from_slice::<Manifest>(&b) {
                        Ok(m) => Arc::new(m),
                        Err(_) => continue,
                    },
                    Err(e) if e.is_not_found() => continue,
                    Err(e) => return Err(e.into()),
                },
            };
            out.push(manifest.clone());
            fresh.insert(id, (s, manifest));
        }
        self.state.lock().map_err(|_| poisoned())?.entries = fresh;
        Ok(out)
    }

    /// `GET /api/videos` as JSON bytes, rebuilt only when a listed manifest
    /// (see [`crate::bodies::listed`]) appeared, changed or went away, or
    /// when `salt` (what else the URLs depend on: the playback token step)
    /// changed.
    pub async fn videos_json(
        self: &Arc<Self>,
        url: &(dyn Fn(&str) -> String + Sync),
        salt: u64,
    ) -> Result<Bytes, ApiError> {
        let manifests = self.manifests().await?;
        let mut done: Vec<&Manifest> = manifests
            .iter()
            .map(AsRef::as_ref)
            .filter(|m| crate::bodies::listed(m))
            .collect();
        done.sort_by(|a, b| a.video_id.cmp(&b.video_id));
        let mut h = DefaultHasher::new();
        salt.hash(&mut h);
        for m in &done {
            m.video_id.hash(&mut h);
            m.updated_ms.hash(&mut h);
        }
        let fingerprint = h.finish();
        if let Some((f, bytes)) = &self.state.lock().map_err(|_| poisoned())?.videos_json
            && *f == fingerprint
        {
            return Ok(bytes.clone());
        }
        let list = crate::bodies::video_list(&done, url);
        let bytes = Bytes::from(serde_json::to_vec(&list).map_err(ApiError::internal)?);
        self.state.lock().map_err(|_| poisoned())?.videos_json = Some((fingerprint, bytes.clone()));
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slicecast_core::manifest::Status;
    use slicecast_storage::FsStore;

    async fn put_manifest(store: &FsStore, m: &Manifest) {
        store
            .put(
                &slicecast_core::keys::manifest(&m.video_id),
                Bytes::from(serde_json::to_vec(m).expect("json")),
            )
            .await
            .expect("put");
    }

    #[tokio::test]
    async fn refreshes_on_change() {
        let dir = tempfile::tempdir().expect("tmp");
        let fs = FsStore::new(dir.path()).expect("store");
        let store: Arc<dyn BlobStore> = Arc::new(fs.clone());
        let cat = Arc::new(Catalog::new(store));
        assert!(cat.manifests().await.expect("empty").is_empty());
        let id = VideoId::parse(&"a".repeat(32)).expect("id");
        let m = Manifest::new(id.clone(), "uploads/x/a.mp4".into(), 1, 100);
        put_manifest(&fs, &m).await;
        let got = cat.manifests().await.expect("one");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].status, Status::Processing);
        let url = |p: &str| p.to_owned();
        assert_eq!(cat.videos_json(&url, 0).await.expect("json"), "[]");
        put_manifest(&fs, &m.clone().completed(50)).await;
        let got = cat.manifests().await.expect("one");
        assert_eq!(got[0].status, Status::ProcessingComplete);
        let json = cat.videos_json(&url, 0).await.expect("json");
        assert!(String::from_utf8_lossy(&json).contains(id.as_str()));
        fs.delete_prefix(&slicecast_core::keys::video_prefix(&id))
            .await
            .expect("delete");
        assert!(cat.manifests().await.expect("none").is_empty());
        assert_eq!(cat.videos_json(&url, 0).await.expect("json"), "[]");
    }
}

//! The local-filesystem store.

use crate::{BlobStore, ObjectMeta, StoreError, validate_key};
use async_trait::async_trait;
use bytes::Bytes;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::UNIX_EPOCH;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Objects as files under a root directory. Writes go to a temporary file and
/// are renamed into place, so readers never see half an object.
#[derive(Debug, Clone)]
pub struct FsStore {
    root: PathBuf,
}

static TMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// Suffix of in-flight temporary files (never listed).
const TMP_MARK: &str = ".slicecast-tmp-";

impl FsStore {
    /// A store rooted at `root` (created if missing).
    pub fn new(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root)?;
        Ok(Self { root })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }

    fn io(key: &str) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
        move |source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                StoreError::NotFound(key.to_owned())
            } else {
                StoreError::Io {
                    key: key.to_owned(),
                    source,
                }
            }
        }
    }

    async fn temp_for(&self, key: &str, path: &Path) -> Result<PathBuf, StoreError> {
        let dir = path.parent().unwrap_or(&self.root);
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(Self::io(key))?;
        let n = TMP_SEQ.fetch_add(1, Ordering::Relaxed);
        let name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(dir.join(format!("{name}{TMP_MARK}{}-{n}", std::process::id())))
    }
}

fn meta(key: String, m: &std::fs::Metadata) -> ObjectMeta {
    let modified_ms = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as u64);
    ObjectMeta {
        key,
        size: m.len(),
        modified_ms,
        content_digest: None,
    }
}

#[async_trait]
impl BlobStore for FsStore {
    async fn get(&self, key: &str) -> Result<Bytes, StoreError> {
        let p = self.path(key)?;
        tokio::fs::read(&p)
            .await
            .map(Bytes::from)
            .map_err(Self::io(key))
    }

    async fn get_range(&self, key: &str, offset: u64, len: u64) -> Result<Bytes, StoreError> {
        let p = self.path(key)?;
        let mut f = tokio::fs::File::open(&p).await.map_err(Self::io(key))?;
        f.seek(std::io::SeekFrom::Start(offset))
            .await
            .map_err(Self::io(key))?;
        let mut buf = Vec::new();
        f.take(len)
            .read_to_end(&mut buf)
            .await
            .map_err(Self::io(key))?;
        Ok(Bytes::from(buf))
    }

    async fn put(&self, key: &str, data: Bytes) -> Result<(), StoreError> {
        let p = self.path(key)?;
        let tmp = self.temp_for(key, &p).await?;
        tokio::fs::write(&tmp, &data).await.map_err(Self::io(key))?;
        tokio::fs::rename(&tmp, &p).await.map_err(Self::io(key))
    }

    async fn put_file(&self, key: &str, path: &Path) -> Result<(), StoreError> {
        let p = self.path(key)?;
        let tmp = self.temp_for(key, &p).await?;
        tokio::fs::copy(path, &tmp).await.map_err(Self::io(key))?;
        tokio::fs::rename(&tmp, &p).await.map_err(Self::io(key))
    }

    async fn put_if_absent(&self, key: &str, data: Bytes) -> Result<bool, StoreError> {
        let p = self.path(key)?;
        let tmp = self.temp_for(key, &p).await?;
        tokio::fs::write(&tmp, &data).await.map_err(Self::io(key))?;
        // A hard link is created atomically and fails if the target exists.
        let linked = tokio::fs::hard_link(&tmp, &p).await;
        let _ = tokio::fs::remove_file(&tmp).await;
        match linked {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(Self::io(key)(e)),
        }
    }

    async fn head(&self, key: &str) -> Result<ObjectMeta, StoreError> {
        let p = self.path(key)?;
        let m = tokio::fs::metadata(&p).await.map_err(Self::io(key))?;
        if !m.is_file() {
            return Err(StoreError::NotFound(key.to_owned()));
        }
        Ok(meta(key.to_owned(), &m))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        let root = self.root.clone();
        let prefix = prefix.to_owned();
        tokio::task::spawn_blocking(move || {
            // Walk only the deepest directory the prefix names.
            let dir_part = prefix.rsplit_once('/').map_or("", |(d, _)| d);
            let start = if dir_part.is_empty() {
                root.clone()
            } else {
                root.join(dir_part)
            };
            let mut out = Vec::new();
            let mut stack = vec![start];
            while let Some(dir) = stack.pop() {
                let rd = match std::fs::read_dir(&dir) {
                    Ok(rd) => rd,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(source) => {
                        return Err(StoreError::Io {
                            key: prefix.clone(),
                            source,
                        });
                    }
                };
                for entry in rd.flatten() {
                    let path = entry.path();
                    let Ok(m) = entry.metadata() else { continue };
                    if m.is_dir() {
                        stack.push(path);
                        continue;
                    }
                    let Ok(rel) = path.strip_prefix(&root) else {
                        continue;
                    };
                    let key = rel.to_string_lossy().replace('\\', "/");
                    if key.starts_with(&prefix) && !key.contains(TMP_MARK) {
                        out.push(meta(key, &m));
                    }
                }
            }
            out.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(out)
        })
        .await
        .map_err(|e| StoreError::Io {
            key: String::new(),
            source: std::io::Error::other(e),
        })?
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let p = self.path(key)?;
        match tokio::fs::remove_file(&p).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Self::io(key)(e)),
        }
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<usize, StoreError> {
        let objects = self.list(prefix).await?;
        for o in &objects {
            self.delete(&o.key).await?;
        }
        // Remove the directory the prefix names when it is a whole directory.
        if let Some(dir) = prefix.strip_suffix('/')
            && validate_key(dir).is_ok()
        {
            let _ = tokio::fs::remove_dir_all(self.root.join(dir)).await;
        }
        Ok(objects.len())
    }

    async fn readable_location(&self, key: &str) -> Result<String, StoreError> {
        let p = self.path(key)?;
        let abs = std::path::absolute(&p).map_err(Self::io(key))?;
        Ok(abs.to_string_lossy().into_owned())
    }

    fn local_path(&self, key: &str) -> Option<PathBuf> {
        self.path(key).ok()
    }
}

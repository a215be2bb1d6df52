//! The video id: the MD5 of the upload's bytes, streamed with ranged reads.

use futures::StreamExt;
use md5::{Digest, Md5};
use slicecast_core::VideoId;
use slicecast_storage::{BlobStore, StoreError};

const HASH_CHUNK: u64 = 8 * 1024 * 1024;
/// Ranged reads in flight while hashing.
const HASH_AHEAD: usize = 4;

/// Streams an object through MD5 with ranged reads, [`HASH_AHEAD`] chunks in
/// flight so the store's latency overlaps the hashing (no full download).
pub async fn hash_object(store: &dyn BlobStore, key: &str) -> Result<(VideoId, u64), StoreError> {
    let size = store.head(key).await?.size;
    let mut md5 = Md5::new();
    let ranges = (0..size)
        .step_by(HASH_CHUNK as usize)
        .map(|offset| (offset, HASH_CHUNK.min(size - offset)));
    let mut chunks = futures::stream::iter(ranges)
        .map(|(offset, len)| store.get_range(key, offset, len))
        .buffered(HASH_AHEAD);
    let mut read = 0u64;
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        read += chunk.len() as u64;
        md5.update(&chunk);
    }
    if read != size {
        return Err(StoreError::Io {
            key: key.to_owned(),
            source: std::io::Error::other(format!(
                "the object changed while it was read ({read} of {size} bytes)"
            )),
        });
    }
    let digest: [u8; 16] = md5.finalize().into();
    Ok((VideoId::from_digest(&digest), size))
}

//! The video id: the MD5 the store computed for the upload when it has one
//! (S3's ETag: the MD5 of the bytes of a single PUT, S3's MD5 of the parts'
//! MD5s for a multipart upload), else the MD5 of the bytes, streamed with
//! ranged reads.

use futures::StreamExt;
use md5::{Digest, Md5};
use slicecast_core::VideoId;
use slicecast_storage::{BlobStore, StoreError};

const HASH_CHUNK: u64 = 8 * 1024 * 1024;
/// Ranged reads in flight while hashing.
const HASH_AHEAD: usize = 4;

/// The id and size of an upload. Where the store computed a content digest
/// itself (an S3 ETag of a plain or SSE-S3 object), that digest is the id and
/// no byte is read: S3 computed it from what it received, so an uploader
/// cannot choose it, and a 2-hour upload is not read once more before its
/// first frame. Otherwise the object streams through MD5 with ranged reads,
/// [`HASH_AHEAD`] chunks in flight so the store's latency overlaps the
/// hashing (no full download).
pub async fn hash_object(store: &dyn BlobStore, key: &str) -> Result<(VideoId, u64), StoreError> {
    let head = store.head(key).await?;
    if let Some(digest) = head.content_digest {
        return Ok((VideoId::from_digest(&digest), head.size));
    }
    let size = head.size;
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

//! Storing the files a slice's ffmpeg wrote besides its rungs: the
//! thumbnails and the poster candidates' full-size frames.

use crate::WorkerError;
use bytes::Bytes;
use slicecast_core::job::SliceJob;
use slicecast_core::keys;
use slicecast_storage::BlobStore;
use std::path::Path;

/// Stores the slice's thumbnails; returns how many it has.
pub(crate) async fn store_thumbs(
    job: &SliceJob,
    dir: &Path,
    store: &dyn BlobStore,
) -> Result<u32, WorkerError> {
    for (index, file_no) in slicecast_media::args::thumb_files(job) {
        let path = dir.join(format!("thumb_{file_no:05}.jpg"));
        let key = keys::work_thumb(&job.video_id, index);
        store_output(job, store, &path, &key, || format!("thumbnail {index}")).await?;
    }
    Ok(job.slice.thumbs.len() as u32)
}

/// Stores the full-size frames of the slice's poster candidates.
pub(crate) async fn store_posters(
    job: &SliceJob,
    dir: &Path,
    store: &dyn BlobStore,
) -> Result<(), WorkerError> {
    for (index, file_no) in slicecast_media::args::poster_picks(job).files {
        let path = dir.join(format!("poster_{file_no:05}.jpg"));
        let key = keys::work_poster(&job.video_id, index);
        store_output(job, store, &path, &key, || format!("poster frame {index}")).await?;
    }
    Ok(())
}

/// Stores the file ffmpeg wrote at `path` under `key`; a missing file is the
/// slice's failure.
async fn store_output(
    job: &SliceJob,
    store: &dyn BlobStore,
    path: &Path,
    key: &str,
    what: impl Fn() -> String,
) -> Result<(), WorkerError> {
    let data = tokio::fs::read(path)
        .await
        .map_err(|e| WorkerError::Output {
            what: format!("slice {}", job.slice.index),
            detail: format!("{} missing: {e}", what()),
        })?;
    Ok(store.put(key, Bytes::from(data)).await?)
}

//! Why a video failed, as a type: what failed (the upload, a job, the output,
//! the store, the clock) decides whether trying again can help; the message
//! is the sentence a person reads in the manifest.

use slicecast_storage::StoreError;

/// Why processing a video stopped.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The upload itself: empty, unreadable, of a kind not accepted, over a
    /// limit, truncated. The same bytes fail the same way.
    #[error("{0}")]
    Source(String),
    /// A job failed permanently or on every try (its message says which and why).
    #[error("{0}")]
    Job(String),
    /// The jobs' outputs do not fit together, or the assembler failed.
    #[error("{0}")]
    Output(String),
    /// The store failed while reading or recording.
    #[error("storage error: {0}")]
    Store(#[from] StoreError),
    /// The video took longer than the deadline.
    #[error("processing took longer than the {0} s deadline and was stopped")]
    Deadline(u64),
}

impl Failure {
    /// True when running the video again may succeed (storage trouble,
    /// a job that failed on every try, the deadline); false when the upload
    /// itself is at fault.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Source(_) => false,
            Self::Store(e) => e.is_retryable(),
            Self::Job(_) | Self::Output(_) | Self::Deadline(_) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upload_at_fault_is_not_retryable() {
        let cases = [
            (Failure::Source("the file is empty (0 bytes)".into()), false),
            (
                Failure::Job("encoding slice 0 failed after 3 attempts".into()),
                true,
            ),
            (
                Failure::Output("the audio does not start at segment 0".into()),
                true,
            ),
            (Failure::Store(StoreError::NotFound("k".into())), false),
            (Failure::Deadline(840), true),
        ];
        for (f, want) in cases {
            assert_eq!(f.is_retryable(), want, "{f}");
        }
        assert_eq!(
            Failure::Deadline(840).to_string(),
            "processing took longer than the 840 s deadline and was stopped"
        );
    }
}

//! Tests of the segment worker's failure classification.

use super::*;

#[test]
fn only_failures_a_retry_can_fix_are_retryable() {
    let ffmpeg = |source| WorkerError::Ffmpeg {
        what: "slice 0".into(),
        source,
    };
    let cases = [
        (
            ffmpeg(ProcessError::NotFound {
                program: "ffmpeg".into(),
            }),
            false,
        ),
        (
            ffmpeg(ProcessError::Failed {
                program: "ffmpeg".into(),
                status: "exit status: 1".into(),
                stderr_tail: "Invalid data".into(),
            }),
            true,
        ),
        (
            WorkerError::Output {
                what: "slice 0".into(),
                detail: "short".into(),
            },
            true,
        ),
        (WorkerError::Store(StoreError::NotFound("k".into())), false),
        (
            WorkerError::Store(StoreError::InvalidKey("k".into())),
            false,
        ),
        (
            WorkerError::Store(StoreError::Io {
                key: "k".into(),
                source: std::io::Error::other("reset"),
            }),
            true,
        ),
        (WorkerError::Io(std::io::Error::other("disk")), true),
    ];
    for (e, want) in cases {
        assert_eq!(e.is_retryable(), want, "{e}");
    }
}

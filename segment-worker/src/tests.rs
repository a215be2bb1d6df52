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

#[test]
fn a_frame_count_that_misses_the_index_says_which_way() {
    assert_eq!(
        frame_count_mismatch(82, 99, (0.0, 4.0)),
        "only 82 of the 99 frames between 0.0 s and 4.0 s could be decoded: the video data is damaged or missing there"
    );
    assert_eq!(
        frame_count_mismatch(209, 208, (0.0, 7.0)),
        "209 frames were decoded between 0.0 s and 7.0 s, where the file's index lists 208: its timing data is damaged there"
    );
}

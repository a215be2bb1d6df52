//! A running slice's fraction done, from ffmpeg's `-progress` reports.

/// Receives a running job's fraction done (0 ..= 1), a few times a second.
/// Called from the task that runs the encoder: it must not block.
pub type ProgressFn = dyn Fn(f64) + Send + Sync;

/// Ignores every report (for callers with no display).
pub fn ignore(_: f64) {}

/// The frames encoded so far, from one line of ffmpeg's `-progress` output
/// (`key=value` lines; `frame=N` counts the first output's frames).
pub fn frames_in(line: &str) -> Option<u64> {
    line.trim().strip_prefix("frame=")?.trim().parse().ok()
}

/// The fraction of a slice of `frame_count` frames that `frames` encoded
/// frames make: below 1 until the worker has stored everything (the last
/// report comes before the segments are written).
pub fn fraction(frames: u64, frame_count: u64) -> f64 {
    if frame_count == 0 {
        return 0.0;
    }
    (frames as f64 / frame_count as f64).clamp(0.0, 0.99)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_frame_counts_and_nothing_else() {
        for (line, want) in [
            ("frame=120", Some(120)),
            ("frame=0\n", Some(0)),
            ("  frame= 7 ", Some(7)),
            ("fps=25.0", None),
            ("out_time_us=1000000", None),
            ("progress=continue", None),
            ("frame=", None),
            ("frame=-3", None),
            ("frame=1e9", None),
            ("", None),
        ] {
            assert_eq!(frames_in(line), want, "{line:?}");
        }
    }

    #[test]
    fn fractions_stay_below_one_until_stored() {
        for (frames, count, want) in [
            (0, 100, 0.0),
            (50, 100, 0.5),
            (100, 100, 0.99),
            (250, 100, 0.99),
            (5, 0, 0.0),
        ] {
            assert!(
                (fraction(frames, count) - want).abs() < 1e-9,
                "{frames}/{count}"
            );
        }
    }
}

//! A test-only switch that makes chosen slices fail, so retries and failure
//! paths can be exercised through the real worker (locally and on Lambda).
//!
//! `SLICECAST_FAIL_SLICE` holds rules separated by `,` or `;`, each
//! `k[:n[:video-id]]`: slice `k` fails its first `n` attempts (1 when `n` is
//! left out), for every video or only for the one whose id is given; or
//! `p%`: every slice attempt fails with probability `p` % (chaos testing).
//! The roll is a hash of the video, slice and attempt, so a run is
//! reproducible and a retry rolls again.

use slicecast_core::job::SliceJob;

/// The environment variable read by [`rules_from_env`].
pub const FAIL_SLICE_ENV: &str = "SLICECAST_FAIL_SLICE";

/// One injected failure.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureRule {
    /// Slice index.
    pub slice: u32,
    /// Attempts that fail (attempt numbers `1..=attempts`).
    pub attempts: u32,
    /// Only this video, when set (hex id).
    pub video: Option<String>,
    /// Instead of the above: every attempt of every slice fails with this
    /// probability (0..=1).
    pub chance: Option<f64>,
}

/// A number in `[0, 1)` that depends only on the video, slice and attempt.
fn roll(job: &SliceJob) -> f64 {
    use md5::{Digest, Md5};
    let d = Md5::digest(format!(
        "{}:{}:{}",
        job.video_id, job.slice.index, job.attempt
    ));
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

impl FailureRule {
    /// Whether this rule makes `job` fail.
    pub fn fails(&self, job: &SliceJob) -> bool {
        if let Some(p) = self.chance {
            return roll(job) < p;
        }
        job.slice.index == self.slice
            && job.attempt <= self.attempts
            && self
                .video
                .as_deref()
                .is_none_or(|v| v == job.video_id.to_string())
    }
}

/// Parses rules; malformed ones are ignored.
pub fn parse_rules(text: &str) -> Vec<FailureRule> {
    text.split([',', ';'])
        .filter_map(|rule| {
            if let Some(p) = rule.trim().strip_suffix('%') {
                let p: f64 = p.trim().parse().ok()?;
                return (0.0..=100.0).contains(&p).then_some(FailureRule {
                    slice: 0,
                    attempts: 0,
                    video: None,
                    chance: Some(p / 100.0),
                });
            }
            let mut parts = rule.trim().split(':');
            let slice = parts.next()?.trim().parse().ok()?;
            let attempts = match parts.next() {
                Some(n) => n.trim().parse().ok()?,
                None => 1,
            };
            let video = parts
                .next()
                .map(|v| v.trim().to_ascii_lowercase())
                .filter(|v| !v.is_empty());
            Some(FailureRule {
                slice,
                attempts,
                video,
                chance: None,
            })
        })
        .collect()
}

/// The rules in [`FAIL_SLICE_ENV`] (none when unset).
pub fn rules_from_env() -> Vec<FailureRule> {
    std::env::var(FAIL_SLICE_ENV)
        .map(|v| parse_rules(&v))
        .unwrap_or_default()
}

/// The message of an injected failure of `job`, if a rule applies. It reads
/// like ffmpeg's failure to read the source (naming its location, as
/// ffmpeg does), so tests see that such a message reaches no public text.
pub fn injected_failure(rules: &[FailureRule], job: &SliceJob) -> Option<String> {
    rules.iter().any(|r| r.fails(job)).then(|| {
        format!(
            "injected failure of slice {} (attempt {}): {}: Server returned 403 Forbidden (access denied)",
            job.slice.index, job.attempt, job.source.location
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        let id = "0123456789abcdef0123456789abcdef";
        let table: &[(&str, Vec<FailureRule>)] = &[
            ("", vec![]),
            ("x", vec![]),
            (
                "2",
                vec![FailureRule {
                    slice: 2,
                    attempts: 1,
                    video: None,
                    chance: None,
                }],
            ),
            (
                "1:99;0:2:0123456789ABCDEF0123456789ABCDEF",
                vec![
                    FailureRule {
                        slice: 1,
                        attempts: 99,
                        video: None,
                        chance: None,
                    },
                    FailureRule {
                        slice: 0,
                        attempts: 2,
                        video: Some(id.into()),
                        chance: None,
                    },
                ],
            ),
            (
                "5%",
                vec![FailureRule {
                    slice: 0,
                    attempts: 0,
                    video: None,
                    chance: Some(0.05),
                }],
            ),
            ("150%", vec![]),
            (
                " 3:1 , bad:1",
                vec![FailureRule {
                    slice: 3,
                    attempts: 1,
                    video: None,
                    chance: None,
                }],
            ),
        ];
        for (text, want) in table {
            assert_eq!(&parse_rules(text), want, "{text:?}");
        }
    }
}

//! A test-only switch that makes chosen slices fail, so retries and failure
//! paths can be exercised through the real worker (locally and on Lambda).
//!
//! `SLICECAST_FAIL_SLICE` holds rules separated by `,` or `;`, each
//! `k[:n[:video-id]]`: slice `k` fails its first `n` attempts (1 when `n` is
//! left out), for every video or only for the one whose id is given; or
//! `p%`: `p` % of all slice attempts fail (chaos testing). The chaos rule
//! counts the attempts this process sees and fails the 1st, and then one in
//! every `100 / p`, so a run of `N` attempts always sees `ceil(N * p / 100)`
//! failures, whatever the video ids or the order the slices ran in (a run
//! that proves nothing because no attempt happened to fail cannot occur),
//! and a slice's retry is never the next attempt failed.

use slicecast_core::job::SliceJob;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

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
    /// Instead of the above: this share (0..=1) of all slice attempts fails.
    pub chance: Option<f64>,
}

/// Slice attempts a chaos rule has seen in this process.
static CHAOS_ATTEMPTS: AtomicU64 = AtomicU64::new(0);

/// Whether the `n`th attempt (from 1) fails when a share `p` of them must:
/// the running count of failures, `ceil(n * p)`, steps up at `n`.
fn chaos_fails(n: u64, p: f64) -> bool {
    (n as f64 * p).ceil() > ((n - 1) as f64 * p).ceil()
}

impl FailureRule {
    /// Whether this rule makes `job` fail (a chaos rule counts the attempt).
    pub fn fails(&self, job: &SliceJob) -> bool {
        if let Some(p) = self.chance {
            return chaos_fails(CHAOS_ATTEMPTS.fetch_add(1, Ordering::Relaxed) + 1, p);
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

/// The environment variable read by [`slow_slice_delay`]: `k:ms`, slice `k`
/// waits `ms` milliseconds before it encodes, slice `k + 1` twice that, and
/// so on (so a test can watch a video play, and grow, while the rest is
/// still encoding).
pub const SLOW_SLICES_ENV: &str = "SLICECAST_SLOW_SLICES";

/// Parses [`SLOW_SLICES_ENV`]'s `k:ms`; `None` when malformed.
pub fn parse_slow(text: &str) -> Option<(u32, Duration)> {
    let (from, ms) = text.trim().split_once(':')?;
    Some((
        from.trim().parse().ok()?,
        Duration::from_millis(ms.trim().parse().ok()?),
    ))
}

/// How long the rule `(from, delay)` holds slice `index` back.
fn slow_delay((from, delay): (u32, Duration), index: u32) -> Option<Duration> {
    (index >= from).then(|| delay * (index - from + 1))
}

/// How long [`SLOW_SLICES_ENV`] (read once per process) holds `job` back.
pub fn slow_slice_delay(job: &SliceJob) -> Option<Duration> {
    static RULE: OnceLock<Option<(u32, Duration)>> = OnceLock::new();
    let rule = (*RULE.get_or_init(|| {
        std::env::var(SLOW_SLICES_ENV)
            .ok()
            .and_then(|v| parse_slow(&v))
    }))?;
    slow_delay(rule, job.slice.index)
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
    fn chaos_fails_a_fixed_share_starting_with_the_first() {
        let failed: Vec<u64> = (1..=60).filter(|&n| chaos_fails(n, 0.05)).collect();
        assert_eq!(failed, [1, 21, 41]);
        assert_eq!((1..=7).filter(|&n| chaos_fails(n, 1.0)).count(), 7);
        assert_eq!((1..=7).filter(|&n| chaos_fails(n, 0.0)).count(), 0);
    }

    #[test]
    fn slow_rule() {
        assert_eq!(parse_slow("1:2500"), Some((1, Duration::from_millis(2500))));
        assert_eq!(parse_slow(" 0 : 10 "), Some((0, Duration::from_millis(10))));
        for bad in ["", "1", "x:1", "1:x", "-1:5"] {
            assert_eq!(parse_slow(bad), None, "{bad}");
        }
        let rule = (1, Duration::from_secs(2));
        let delays: Vec<_> = (0..4).map(|i| slow_delay(rule, i)).collect();
        let s = Duration::from_secs;
        assert_eq!(delays, [None, Some(s(2)), Some(s(4)), Some(s(6))]);
    }

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

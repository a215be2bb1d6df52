//! `bench --bd-rate`: the quality cost of slicing as a Bjøntegaard delta rate.
//! One rate point cannot say whether chunking costs quality (slicecast may
//! spend fewer bits at a slightly lower PSNR), so slicecast and the
//! single-process ladder (b) are both encoded at several CRFs, and the
//! average bitrate difference at equal top-rung PSNR is reported: log-rate
//! as a cubic in PSNR for each, integrated over the PSNR range both cover.
//! Positive means slicecast needs more bits for the same quality.

use super::commands::{kbps, ladder_args, ladder_output, transcode_args};
use super::{DEFAULT_PRESET, exe, last_line, note, psnr, slicecast_rung_bytes, timeout_for};
use anyhow::Context;
use serde::Serialize;
use slicecast_core::ladder::Rung;
use slicecast_core::{VideoId, keys};
use slicecast_media::args::X264;
use slicecast_media::{ffmpeg_bin, process};
use std::fmt::Write as _;
use std::path::Path;

/// The CRFs encoded when none are given (x264's useful range for streaming).
pub const DEFAULT_CRFS: [u32; 4] = [18, 22, 26, 30];

/// One encode's top rung: its CRF, average bitrate and PSNR against the source.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RatePoint {
    /// x264 CRF.
    pub crf: u32,
    /// Top-rung average bitrate, kbit/s.
    pub kbps: f64,
    /// Top-rung PSNR, dB.
    pub psnr_db: f64,
}

/// Both curves and the delta rate between them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BdRate {
    /// Slicecast's points.
    pub slicecast: Vec<RatePoint>,
    /// The single-process ladder's points.
    pub ladder: Vec<RatePoint>,
    /// BD-rate of slicecast against the ladder, percent (`None` when the
    /// curves do not overlap in PSNR or have too few points).
    pub bd_rate_pct: Option<f64>,
}

impl BdRate {
    /// The lines `bench` prints.
    pub fn table(&self) -> String {
        let mut s = String::from("\nBD-rate, top rung (a) against (b):\n");
        let _ = writeln!(
            s,
            "{:>4} {:>12} {:>10} {:>12} {:>10}",
            "CRF", "a kbit/s", "a PSNR", "b kbit/s", "b PSNR"
        );
        for (a, b) in self.slicecast.iter().zip(&self.ladder) {
            let _ = writeln!(
                s,
                "{:>4} {:>12.0} {:>10.2} {:>12.0} {:>10.2}",
                a.crf, a.kbps, a.psnr_db, b.kbps, b.psnr_db
            );
        }
        let bd = self
            .bd_rate_pct
            .map_or("- (the curves do not overlap)".to_owned(), |v| {
                format!("{v:+.2} %")
            });
        let _ = writeln!(s, "bd_rate_pct (a vs b)        {bd}");
        s
    }
}

/// Least-squares polynomial of `degree` through `(x, y)`: coefficients,
/// constant first. `None` with fewer points than coefficients or a singular
/// system.
fn polyfit(xs: &[f64], ys: &[f64], degree: usize) -> Option<Vec<f64>> {
    let n = degree + 1;
    if xs.len() < n || xs.len() != ys.len() {
        return None;
    }
    // Normal equations, augmented: [AᵀA | Aᵀy].
    let mut m = vec![vec![0.0; n + 1]; n];
    for (&x, &y) in xs.iter().zip(ys) {
        let powers: Vec<f64> = (0..n).map(|k| x.powi(k as i32)).collect();
        for i in 0..n {
            for j in 0..n {
                m[i][j] += powers[i] * powers[j];
            }
            m[i][n] += powers[i] * y;
        }
    }
    for col in 0..n {
        let pivot = (col..n).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[pivot][col].abs() < 1e-12 {
            return None;
        }
        m.swap(col, pivot);
        let pivot_row = m[col].clone();
        for (row, r) in m.iter_mut().enumerate() {
            if row != col {
                let f = r[col] / pivot_row[col];
                for (x, p) in r.iter_mut().zip(&pivot_row).skip(col) {
                    *x -= f * p;
                }
            }
        }
    }
    Some((0..n).map(|i| m[i][n] / m[i][i]).collect())
}

/// ∫ from `a` to `b` of the polynomial `c` (constant first).
fn integral(c: &[f64], a: f64, b: f64) -> f64 {
    let prim = |x: f64| {
        c.iter()
            .enumerate()
            .map(|(k, ck)| ck * x.powi(k as i32 + 1) / (k as f64 + 1.0))
            .sum::<f64>()
    };
    prim(b) - prim(a)
}

/// BD-rate of `test` against `anchor`, percent; points are `(kbit/s, PSNR
/// dB)`. Each curve's log₁₀ rate is fitted as a cubic in PSNR (least squares
/// with more than four points) and the fits are averaged over the PSNR range
/// both curves cover. `None` with fewer than four points on a curve, a
/// non-positive rate, or no overlap.
pub fn bd_rate(anchor: &[(f64, f64)], test: &[(f64, f64)]) -> Option<f64> {
    if [anchor, test]
        .iter()
        .any(|c| c.len() < 4 || c.iter().any(|&(r, q)| !(r > 0.0 && q.is_finite())))
    {
        return None;
    }
    // PSNR centred on the mean of all points keeps the fit well conditioned.
    let all: Vec<f64> = anchor.iter().chain(test).map(|p| p.1).collect();
    let centre = all.iter().sum::<f64>() / all.len() as f64;
    let fit = |c: &[(f64, f64)]| {
        let xs: Vec<f64> = c.iter().map(|p| p.1 - centre).collect();
        let ys: Vec<f64> = c.iter().map(|p| p.0.log10()).collect();
        polyfit(&xs, &ys, 3)
    };
    let range = |c: &[(f64, f64)]| {
        c.iter()
            .map(|p| p.1 - centre)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), q| {
                (lo.min(q), hi.max(q))
            })
    };
    let (a_lo, a_hi) = range(anchor);
    let (t_lo, t_hi) = range(test);
    let (lo, hi) = (a_lo.max(t_lo), a_hi.min(t_hi));
    if hi - lo < 1e-9 {
        return None;
    }
    let (ca, ct) = (fit(anchor)?, fit(test)?);
    let diff = (integral(&ct, lo, hi) - integral(&ca, lo, hi)) / (hi - lo);
    Some((10f64.powf(diff) - 1.0) * 100.0)
}

/// Encodes slicecast and the ladder at each of `crfs` (untimed) and measures
/// their top rungs.
pub(super) async fn measure(
    input: &Path,
    work: &Path,
    rungs: &[Rung],
    has_audio: bool,
    workers: Option<usize>,
    duration_s: f64,
    crfs: &[u32],
) -> anyhow::Result<BdRate> {
    let top = rungs.first().context("empty ladder")?;
    let timeout = timeout_for(duration_s);
    let (mut slicecast, mut ladder) = (Vec::new(), Vec::new());
    for &crf in crfs {
        note(&format!("BD-rate: CRF {crf}, (a) and (b)…"));
        let a_root = work.join(format!("bd-a-crf{crf}"));
        let out = process::run(
            &exe()?,
            &transcode_args(input, &a_root, DEFAULT_PRESET, crf, workers),
            timeout,
        )
        .await
        .with_context(|| format!("(a) at CRF {crf} failed"))?;
        let id = last_line(&out.stdout);
        let id = VideoId::parse(&id).with_context(|| format!("(a) printed {id:?}"))?;
        let playlist = a_root.join(keys::hls(&id, &format!("{}.m3u8", top.name)));
        let bytes = slicecast_rung_bytes(&a_root.join(format!(
            "{}video/{}",
            keys::video_prefix(&id),
            top.name
        )))?;
        slicecast.push(RatePoint {
            crf,
            kbps: kbps(bytes, duration_s),
            psnr_db: psnr(&playlist, input, top, timeout).await?,
        });

        let b_dir = work.join(format!("bd-b-crf{crf}"));
        std::fs::create_dir_all(&b_dir)?;
        let x = X264 {
            preset: DEFAULT_PRESET.into(),
            crf,
            threads: 0,
        };
        process::run(
            &ffmpeg_bin(),
            &ladder_args(input, rungs, &x, has_audio, None, &b_dir),
            timeout,
        )
        .await
        .with_context(|| format!("(b) at CRF {crf} failed"))?;
        let b_top = ladder_output(&b_dir, top);
        ladder.push(RatePoint {
            crf,
            kbps: kbps(std::fs::metadata(&b_top)?.len(), duration_s),
            psnr_db: psnr(&b_top, input, top, timeout).await?,
        });
    }
    let pts = |v: &[RatePoint]| v.iter().map(|p| (p.kbps, p.psnr_db)).collect::<Vec<_>>();
    Ok(BdRate {
        bd_rate_pct: bd_rate(&pts(&ladder), &pts(&slicecast)),
        slicecast,
        ladder,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A made-up rate-distortion curve: PSNR rises 6 dB per doubling of rate.
    fn curve(rates: &[f64]) -> Vec<(f64, f64)> {
        rates
            .iter()
            .map(|&r| (r, 30.0 + 6.0 * (r / 500.0).log2()))
            .collect()
    }

    #[test]
    fn fits_a_cubic_exactly() {
        let xs = [-2.0, -1.0, 0.0, 1.0, 2.5];
        let ys: Vec<f64> = xs.iter().map(|x| 1.0 - 2.0 * x + 0.5 * x * x * x).collect();
        let c = polyfit(&xs, &ys, 3).expect("fit");
        for (got, want) in c.iter().zip([1.0, -2.0, 0.0, 0.5]) {
            assert!((got - want).abs() < 1e-9, "{c:?}");
        }
        assert!(polyfit(&xs[..3], &ys[..3], 3).is_none());
        assert!((integral(&[0.0, 0.0, 3.0], 0.0, 2.0) - 8.0).abs() < 1e-12);
    }

    #[test]
    fn delta_rates() {
        let anchor = curve(&[500.0, 1000.0, 2000.0, 4000.0]);
        // (test curve, expected BD-rate %)
        let same: Vec<(f64, f64)> = anchor.clone();
        let more_bits: Vec<(f64, f64)> = anchor.iter().map(|&(r, q)| (r * 1.1, q)).collect();
        let fewer_bits: Vec<(f64, f64)> = anchor.iter().map(|&(r, q)| (r * 0.95, q)).collect();
        // 0.5 dB lower everywhere costs 2^(0.5/6) - 1 = 5.95 % more bits.
        let lower_psnr = curve(&[520.0, 1000.0, 2100.0, 3900.0])
            .into_iter()
            .map(|(r, q)| (r, q - 0.5))
            .collect::<Vec<_>>();
        for (name, test, want) in [
            ("same curve", same, 0.0),
            ("10 % more bits", more_bits, 10.0),
            ("5 % fewer bits", fewer_bits, -5.0),
            (
                "0.5 dB lower",
                lower_psnr,
                (2f64.powf(0.5 / 6.0) - 1.0) * 100.0,
            ),
        ] {
            let got = bd_rate(&anchor, &test).expect(name);
            assert!((got - want).abs() < 0.05, "{name}: {got} vs {want}");
        }
    }

    #[test]
    fn none_without_enough_points_or_overlap() {
        let anchor = curve(&[500.0, 1000.0, 2000.0, 4000.0]);
        assert_eq!(bd_rate(&anchor, &anchor[..3]), None);
        let far: Vec<(f64, f64)> = anchor.iter().map(|&(r, q)| (r, q + 40.0)).collect();
        assert_eq!(bd_rate(&anchor, &far), None);
        let zero: Vec<(f64, f64)> = anchor.iter().map(|&(_, q)| (0.0, q)).collect();
        assert_eq!(bd_rate(&anchor, &zero), None);
    }
}

//! `bench --av1`: what the optional AV1 ladder costs and saves. Timed:
//! slicecast with `--extra-codecs av1` (every H.264 rung plus its AV1 rung,
//! one decode), against (a) with H.264 alone. Untimed: the top rung of each
//! codec encoded alone at several CRFs with the production encoder options,
//! and the BD-rate of AV1 against H.264 (the bitrate difference at equal
//! PSNR; negative means AV1 needs fewer bits).

use super::bdrate::{BdRate, RatePoint, bd_rate};
use super::commands::{codec_point_args, kbps};
use super::report::{Measurement, ratio};
use super::{note, psnr, timeout_for};
use anyhow::Context;
use slicecast_core::ladder::{Rung, VideoCodec};
use slicecast_media::{ffmpeg_bin, process};
use std::fmt::Write as _;
use std::path::Path;

/// libaom CRFs of the AV1 curve (its 0–63 scale; the default is 26).
pub const AV1_CRFS: [u32; 4] = [20, 26, 32, 38];
/// x264 CRFs of the H.264 curve.
pub const H264_CRFS: [u32; 4] = [18, 22, 26, 30];

/// What `--av1` found.
#[derive(Debug, Clone, PartialEq)]
pub struct Av1Report {
    /// slicecast with the AV1 ladder too (`a_av1`).
    pub run: Measurement,
    /// (a): H.264 alone, for the ratios.
    pub h264_run: Measurement,
    /// The AV1 top rung of `a_av1`: average kbit/s and PSNR.
    pub top: RatePoint,
    /// The H.264 top rung of (a).
    pub h264_top: RatePoint,
    /// Both codecs' curves (`slicecast` = AV1, `ladder` = H.264) and the
    /// BD-rate of AV1 against H.264.
    pub curves: BdRate,
}

impl Av1Report {
    /// CPU of `a_av1` / CPU of (a).
    pub fn cpu_ratio(&self) -> Option<f64> {
        ratio(self.run.cpu_s, self.h264_run.cpu_s)
    }

    /// Wall of `a_av1` / wall of (a).
    pub fn wall_ratio(&self) -> Option<f64> {
        ratio(self.run.wall_s, self.h264_run.wall_s)
    }

    /// The lines `bench` prints.
    pub fn table(&self, top: &str) -> String {
        let f = |x: Option<f64>| x.map_or("-".into(), |v| format!("{v:.2}"));
        let mut s = String::from("\nAV1 ladder (EXTRA_CODECS=av1):\n");
        let _ = writeln!(
            s,
            "a_av1 slicecast, H.264 + AV1 ladders   cpu {:.2} s ({}× a), wall {:.2} s ({}× a)",
            self.run.cpu_s,
            f(self.cpu_ratio()),
            self.run.wall_s,
            f(self.wall_ratio())
        );
        let _ = writeln!(
            s,
            "top rung {top}: AV1 {:.0} kbit/s at {:.2} dB, H.264 {:.0} kbit/s at {:.2} dB",
            self.top.kbps, self.top.psnr_db, self.h264_top.kbps, self.h264_top.psnr_db
        );
        let _ = writeln!(
            s,
            "{:>4} {:>12} {:>10} {:>4} {:>12} {:>10}",
            "CRF", "AV1 kbit/s", "AV1 PSNR", "CRF", "H264 kbit/s", "H264 PSNR"
        );
        for (a, h) in self.curves.slicecast.iter().zip(&self.curves.ladder) {
            let _ = writeln!(
                s,
                "{:>4} {:>12.0} {:>10.2} {:>4} {:>12.0} {:>10.2}",
                a.crf, a.kbps, a.psnr_db, h.crf, h.kbps, h.psnr_db
            );
        }
        let bd = self
            .curves
            .bd_rate_pct
            .map_or("- (the curves do not overlap)".to_owned(), |v| {
                format!("{v:+.2} %")
            });
        let _ = writeln!(s, "av1_bd_rate_pct (AV1 vs H.264)  {bd}");
        s
    }

    /// The `av1` object of `--json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "cpu_s": self.run.cpu_s,
            "wall_s": self.run.wall_s,
            "peak_rss_mb": self.run.peak_rss_mb,
            "cpu_ratio_vs_h264": self.cpu_ratio(),
            "wall_ratio_vs_h264": self.wall_ratio(),
            "top": self.top,
            "h264_top": self.h264_top,
            "bd_rate_pct": self.curves.bd_rate_pct,
            "curves": {"av1": self.curves.slicecast, "h264": self.curves.ladder},
        })
    }
}

/// Encodes the top rung alone with each codec at each CRF and measures it.
pub(super) async fn curves(
    input: &Path,
    work: &Path,
    top: &Rung,
    duration_s: f64,
) -> anyhow::Result<BdRate> {
    let av1 = points(input, work, top, VideoCodec::Av1, &AV1_CRFS, duration_s).await?;
    let h264 = points(input, work, top, VideoCodec::H264, &H264_CRFS, duration_s).await?;
    let pts = |v: &[RatePoint]| v.iter().map(|p| (p.kbps, p.psnr_db)).collect::<Vec<_>>();
    Ok(BdRate {
        bd_rate_pct: bd_rate(&pts(&h264), &pts(&av1)),
        slicecast: av1,
        ladder: h264,
    })
}

/// One codec's curve: the top rung alone at each of `crfs`.
async fn points(
    input: &Path,
    work: &Path,
    top: &Rung,
    codec: VideoCodec,
    crfs: &[u32],
    duration_s: f64,
) -> anyhow::Result<Vec<RatePoint>> {
    let timeout = timeout_for(duration_s);
    let mut out = Vec::new();
    for &crf in crfs {
        note(&format!("AV1 curves: {codec:?} at CRF {crf}…"));
        let file = work.join(format!("codec-{codec:?}-crf{crf}.mp4"));
        process::run(
            &ffmpeg_bin(),
            &codec_point_args(input, top, codec, crf, &file),
            timeout,
        )
        .await
        .with_context(|| format!("{codec:?} at CRF {crf} failed"))?;
        out.push(RatePoint {
            crf,
            kbps: kbps(std::fs::metadata(&file)?.len(), duration_s),
            psnr_db: psnr(&file, input, top, timeout).await?,
        });
    }
    Ok(out)
}

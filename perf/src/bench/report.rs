//! What the benchmark measured, the ratios between variants, and how it is
//! shown: a table for people, one JSON object for scripts. Pure.

use super::bdrate::BdRate;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::fmt::Write as _;

/// Which command set a variant process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Variant {
    /// (a) slicecast with its defaults (preset veryfast).
    #[serde(rename = "a")]
    Slicecast,
    /// (b) one ffmpeg encoding the same ladder with the same settings.
    #[serde(rename = "b")]
    Ladder,
    /// (a_medium) slicecast with `--preset medium`.
    #[serde(rename = "a_medium")]
    SlicecastMedium,
    /// (c) the earlier service's pipeline, replayed.
    #[serde(rename = "c")]
    Legacy,
    /// (a_av1) slicecast with the AV1 ladder too (`bench --av1` only).
    #[serde(rename = "a_av1")]
    SlicecastAv1,
}

impl Variant {
    /// All variants, in the order they run and are shown.
    pub const ALL: [Variant; 4] = [
        Variant::Slicecast,
        Variant::Ladder,
        Variant::SlicecastMedium,
        Variant::Legacy,
    ];

    /// Short label (`a`, `b`, `a_medium`, `c`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Slicecast => "a",
            Self::Ladder => "b",
            Self::SlicecastMedium => "a_medium",
            Self::Legacy => "c",
            Self::SlicecastAv1 => "a_av1",
        }
    }

    /// What it is, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Slicecast => "slicecast, preset veryfast",
            Self::Ladder => "one ffmpeg, same ladder, veryfast",
            Self::SlicecastMedium => "slicecast, preset medium",
            Self::Legacy => "earlier service's pipeline (medium)",
            Self::SlicecastAv1 => "slicecast, H.264 + AV1 ladders",
        }
    }

    /// Whether `--skip-legacy` leaves it out.
    pub fn is_legacy_comparison(self) -> bool {
        matches!(self, Self::SlicecastMedium | Self::Legacy)
    }
}

/// Resource use of one variant (all the processes it ran).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// User + system CPU seconds of every child process.
    pub cpu_s: f64,
    /// Wall-clock seconds.
    pub wall_s: f64,
    /// The largest peak resident set of any single child process, in MiB.
    pub peak_rss_mb: f64,
    /// Seconds from the start until the video first played: for slicecast,
    /// when its HLS start was published while the rest encoded; for the
    /// baselines, which publish nothing before they finish, the wall time.
    #[serde(default)]
    pub first_playable_s: f64,
}

/// The median of `v` (the mean of the middle two for an even count).
pub fn median_of(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    (n > 0).then(|| (v[(n - 1) / 2] + v[n / 2]) / 2.0)
}

/// The median of each field over `runs`; `None` for no runs.
pub fn median(runs: &[Measurement]) -> Option<Measurement> {
    let field = |f: fn(&Measurement) -> f64| median_of(runs.iter().map(f).collect());
    Some(Measurement {
        cpu_s: field(|m| m.cpu_s)?,
        wall_s: field(|m| m.wall_s)?,
        peak_rss_mb: field(|m| m.peak_rss_mb)?,
        first_playable_s: field(|m| m.first_playable_s)?,
    })
}

/// (a) and (b) measured back to back once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Round {
    /// (a).
    pub slicecast: Measurement,
    /// (b).
    pub ladder: Measurement,
}

impl Round {
    /// (a) wall / (b) wall in this round.
    pub fn wall_ratio(&self) -> Option<f64> {
        ratio(self.slicecast.wall_s, self.ladder.wall_s)
    }

    /// (a) CPU / (b) CPU in this round.
    pub fn cpu_ratio(&self) -> Option<f64> {
        ratio(self.slicecast.cpu_s, self.ladder.cpu_s)
    }
}

/// `num / den`, or `None` when there is nothing to divide by.
pub fn ratio(num: f64, den: f64) -> Option<f64> {
    (den > 0.0 && num.is_finite() && den.is_finite()).then(|| num / den)
}

/// `(a − b) / b × 100`, or `None` when `b` is zero.
pub fn delta_pct(a: f64, b: f64) -> Option<f64> {
    ratio(a - b, b).map(|r| r * 100.0)
}

/// Everything the benchmark found.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The input as given.
    pub input: String,
    /// Seconds of the generated 1080p clip benchmarked instead, if any.
    pub generated_1080p_s: Option<f64>,
    /// Duration of the benchmarked video.
    pub duration_s: f64,
    /// Displayed size of the benchmarked video.
    pub size: (u32, u32),
    /// Rung names, tallest first.
    pub rungs: Vec<String>,
    /// Slicecast's worker count.
    pub workers: usize,
    /// Cores of this machine.
    pub cores: usize,
    /// CPU model.
    pub cpu_model: String,
    /// (a): the median over the rounds.
    pub slicecast: Measurement,
    /// (b): the median over the rounds.
    pub ladder: Measurement,
    /// Every round of (a) and (b), the first included (`--runs`).
    pub rounds: Vec<Round>,
    /// (a) with each worker count of `--scaling`.
    pub scaling: Vec<(usize, Measurement)>,
    /// (a_medium), unless skipped.
    pub medium: Option<Measurement>,
    /// (c), unless skipped.
    pub legacy: Option<Measurement>,
    /// Top-rung PSNR of (a), dB.
    pub psnr_db: f64,
    /// Top-rung PSNR of (b), dB.
    pub ladder_psnr_db: f64,
    /// Top-rung average bitrate of (a), kbit/s.
    pub bitrate_kbps: f64,
    /// Top-rung average bitrate of (b), kbit/s.
    pub ladder_bitrate_kbps: f64,
    /// With `--bd-rate`: both rate-distortion curves and the BD-rate.
    pub bd_rate: Option<BdRate>,
    /// With `--av1`: the AV1 ladder's cost and the codecs' BD-rate.
    pub av1: Option<super::av1::Av1Report>,
}

fn round(x: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (x * p).round() / p
}

/// A JSON number rounded to `digits`, or null (for `None` and non-finite values).
fn num(x: Option<f64>, digits: i32) -> Value {
    x.filter(|v| v.is_finite())
        .map_or(Value::Null, |v| json!(round(v, digits)))
}

/// `v` with `digits` decimals, without the sign of a negative value that rounds to zero.
fn fixed(v: f64, digits: usize) -> String {
    let s = format!("{v:.digits$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_owned(),
        _ => s,
    }
}

impl Report {
    /// The top rung's name.
    pub fn top_rung(&self) -> &str {
        self.rungs.first().map_or("", String::as_str)
    }

    /// (a) CPU / (b) CPU.
    pub fn cpu_ratio_vs_ladder(&self) -> Option<f64> {
        ratio(self.slicecast.cpu_s, self.ladder.cpu_s)
    }

    /// (a) wall / (b) wall.
    pub fn wall_ratio_vs_ladder(&self) -> Option<f64> {
        ratio(self.slicecast.wall_s, self.ladder.wall_s)
    }

    /// The median of the rounds' (a) wall / (b) wall: each ratio compares
    /// two runs made back to back, so the machine's drift cancels.
    pub fn median_round_wall_ratio(&self) -> Option<f64> {
        median_of(self.rounds.iter().filter_map(Round::wall_ratio).collect())
    }

    /// (a_medium) CPU / (c) CPU: same x264 preset as the earlier service.
    pub fn cpu_ratio_vs_legacy(&self) -> Option<f64> {
        ratio(self.medium?.cpu_s, self.legacy?.cpu_s)
    }

    /// (a_medium) wall / (c) wall.
    pub fn wall_ratio_vs_legacy(&self) -> Option<f64> {
        ratio(self.medium?.wall_s, self.legacy?.wall_s)
    }

    /// (a) first playable / (b) first playable.
    pub fn first_playable_ratio_vs_ladder(&self) -> Option<f64> {
        ratio(
            self.slicecast.first_playable_s,
            self.ladder.first_playable_s,
        )
    }

    /// PSNR (a) − PSNR (b), dB.
    pub fn psnr_delta_db(&self) -> Option<f64> {
        Some(self.psnr_db - self.ladder_psnr_db).filter(|d| d.is_finite())
    }

    /// (bitrate (a) − bitrate (b)) / bitrate (b) × 100.
    pub fn bitrate_delta_pct(&self) -> Option<f64> {
        delta_pct(self.bitrate_kbps, self.ladder_bitrate_kbps)
    }

    /// The one JSON object of `--json` (null for skipped variants).
    pub fn to_json(&self) -> Value {
        let m = |x: Option<Measurement>, f: fn(&Measurement) -> f64, d| num(x.as_ref().map(f), d);
        let cpu = |m: &Measurement| m.cpu_s;
        let wall = |m: &Measurement| m.wall_s;
        let rss = |m: &Measurement| m.peak_rss_mb;
        let playable = |m: &Measurement| m.first_playable_s;
        let rounds: Vec<Value> = self
            .rounds
            .iter()
            .map(|r| {
                json!({
                    "cpu_s": num(Some(r.slicecast.cpu_s), 3),
                    "wall_s": num(Some(r.slicecast.wall_s), 3),
                    "ladder_cpu_s": num(Some(r.ladder.cpu_s), 3),
                    "ladder_wall_s": num(Some(r.ladder.wall_s), 3),
                    "cpu_ratio": num(r.cpu_ratio(), 3),
                    "wall_ratio": num(r.wall_ratio(), 3),
                })
            })
            .collect();
        let bd_points = self
            .bd_rate
            .as_ref()
            .map(|b| json!({ "slicecast": b.slicecast, "ladder": b.ladder }));
        let mut v = json!({
            "input": self.input,
            "generated_1080p_s": self.generated_1080p_s,
            "duration_s": num(Some(self.duration_s), 3),
            "width": self.size.0,
            "height": self.size.1,
            "rungs": self.rungs,
            "top_rung": self.top_rung(),
            "workers": self.workers,
            "cores": self.cores,
            "cpu_model": self.cpu_model,
            "cpu_s": m(Some(self.slicecast), cpu, 3),
            "wall_s": m(Some(self.slicecast), wall, 3),
            "peak_rss_mb": m(Some(self.slicecast), rss, 1),
            "first_playable_s": m(Some(self.slicecast), playable, 3),
            "ladder_first_playable_s": m(Some(self.ladder), playable, 3),
            "medium_first_playable_s": m(self.medium, playable, 3),
            "legacy_first_playable_s": m(self.legacy, playable, 3),
            "first_playable_ratio_vs_ladder": num(self.first_playable_ratio_vs_ladder(), 3),
            "ladder_cpu_s": m(Some(self.ladder), cpu, 3),
            "ladder_wall_s": m(Some(self.ladder), wall, 3),
            "ladder_peak_rss_mb": m(Some(self.ladder), rss, 1),
            "medium_cpu_s": m(self.medium, cpu, 3),
            "medium_wall_s": m(self.medium, wall, 3),
            "medium_peak_rss_mb": m(self.medium, rss, 1),
            "legacy_cpu_s": m(self.legacy, cpu, 3),
            "legacy_wall_s": m(self.legacy, wall, 3),
            "legacy_peak_rss_mb": m(self.legacy, rss, 1),
            "cpu_ratio_vs_ladder": num(self.cpu_ratio_vs_ladder(), 3),
            "wall_ratio_vs_ladder": num(self.wall_ratio_vs_ladder(), 3),
            "cpu_ratio_vs_legacy": num(self.cpu_ratio_vs_legacy(), 3),
            "wall_ratio_vs_legacy": num(self.wall_ratio_vs_legacy(), 3),
            "psnr_db": num(Some(self.psnr_db), 3),
            "ladder_psnr_db": num(Some(self.ladder_psnr_db), 3),
            "psnr_delta_db": num(self.psnr_delta_db(), 3),
            "bitrate_kbps": num(Some(self.bitrate_kbps), 1),
            "ladder_bitrate_kbps": num(Some(self.ladder_bitrate_kbps), 1),
            "bitrate_delta_pct": num(self.bitrate_delta_pct(), 2),
            "bd_rate_pct": num(self.bd_rate.as_ref().and_then(|b| b.bd_rate_pct), 2),
            "bd_rate_points": bd_points,
            "av1": self.av1.as_ref().map(|a| a.to_json()),
        });
        v["rounds"] = Value::Array(rounds);
        v["median_round_wall_ratio"] = num(self.median_round_wall_ratio(), 3);
        v["scaling"] = Value::Array(
            self.scaling
                .iter()
                .map(|(workers, m)| {
                    json!({
                        "workers": workers,
                        "cpu_s": num(Some(m.cpu_s), 3),
                        "wall_s": num(Some(m.wall_s), 3),
                        "first_playable_s": num(Some(m.first_playable_s), 3),
                        "cpu_ratio_vs_ladder": num(ratio(m.cpu_s, self.ladder.cpu_s), 3),
                        "wall_ratio_vs_ladder": num(ratio(m.wall_s, self.ladder.wall_s), 3),
                    })
                })
                .collect(),
        );
        v
    }

    /// The human-readable table and summary lines.
    pub fn table(&self) -> String {
        let fmt = |x: Option<f64>, d: usize| {
            x.filter(|v| v.is_finite())
                .map_or("-".to_owned(), |v| fixed(v, d))
        };
        let mut s = String::new();
        let source = match self.generated_1080p_s {
            Some(secs) => format!("{secs} s 1080p clip generated from {}", self.input),
            None => self.input.clone(),
        };
        let _ = writeln!(
            s,
            "bench: {source}: {:.2} s, {}x{}, ladder {}, {} workers",
            self.duration_s,
            self.size.0,
            self.size.1,
            self.rungs.join("/"),
            self.workers
        );
        let _ = writeln!(
            s,
            "{:<9} {:<36} {:>9} {:>9} {:>10} {:>12} {:>9} {:>9}",
            "variant", "", "CPU s", "wall s", "playable", "peak RSS MB", "CPU / b", "wall / b"
        );
        for v in Variant::ALL {
            let m = match v {
                Variant::Slicecast => Some(self.slicecast),
                Variant::Ladder => Some(self.ladder),
                Variant::SlicecastMedium => self.medium,
                Variant::Legacy => self.legacy,
                Variant::SlicecastAv1 => None,
            };
            match m {
                Some(m) => {
                    let _ = writeln!(
                        s,
                        "{:<9} {:<36} {:>9.2} {:>9.2} {:>10.2} {:>12.1} {:>9} {:>9}",
                        v.label(),
                        v.describe(),
                        m.cpu_s,
                        m.wall_s,
                        m.first_playable_s,
                        m.peak_rss_mb,
                        fmt(ratio(m.cpu_s, self.ladder.cpu_s), 2),
                        fmt(ratio(m.wall_s, self.ladder.wall_s), 2),
                    );
                }
                None => {
                    let _ = writeln!(s, "{:<9} {:<36} {:>9}", v.label(), v.describe(), "skipped");
                }
            }
        }
        if self.rounds.len() > 1 {
            let list = |f: fn(&Round) -> Option<f64>| {
                self.rounds
                    .iter()
                    .map(|r| fmt(f(r), 2))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let _ = writeln!(
                s,
                "(a) and (b): medians of {} rounds, each (a) and (b) back to back, in alternating order",
                self.rounds.len()
            );
            let _ = writeln!(s, "wall / b by round           {}", list(Round::wall_ratio));
            let _ = writeln!(s, "CPU / b by round            {}", list(Round::cpu_ratio));
            let _ = writeln!(
                s,
                "median of the rounds' wall / b   {}",
                fmt(self.median_round_wall_ratio(), 3)
            );
        }
        if !self.scaling.is_empty() {
            let _ = writeln!(
                s,
                "\nscaling: (a) by workers, against (b) ({:.2} s wall, {:.2} s CPU)",
                self.ladder.wall_s, self.ladder.cpu_s
            );
            let _ = writeln!(
                s,
                "{:>7} {:>9} {:>9} {:>10} {:>9} {:>9}",
                "workers", "CPU s", "wall s", "playable", "CPU / b", "wall / b"
            );
            for (workers, m) in &self.scaling {
                let _ = writeln!(
                    s,
                    "{workers:>7} {:>9.2} {:>9.2} {:>10.2} {:>9} {:>9}",
                    m.cpu_s,
                    m.wall_s,
                    m.first_playable_s,
                    fmt(ratio(m.cpu_s, self.ladder.cpu_s), 2),
                    fmt(ratio(m.wall_s, self.ladder.wall_s), 2),
                );
            }
        }
        let top = self.top_rung();
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "psnr_db (a, {top})          {} dB",
            fmt(Some(self.psnr_db), 2)
        );
        let _ = writeln!(
            s,
            "ladder_psnr_db (b, {top})   {} dB",
            fmt(Some(self.ladder_psnr_db), 2)
        );
        let _ = writeln!(
            s,
            "psnr_delta_db (a - b)       {} dB",
            fmt(self.psnr_delta_db(), 2)
        );
        let _ = writeln!(
            s,
            "bitrate_kbps (a, {top})     {} kbit/s",
            fmt(Some(self.bitrate_kbps), 0)
        );
        let _ = writeln!(
            s,
            "ladder_bitrate_kbps (b)     {} kbit/s",
            fmt(Some(self.ladder_bitrate_kbps), 0)
        );
        let _ = writeln!(
            s,
            "bitrate_delta_pct (a-b)/b   {} %",
            fmt(self.bitrate_delta_pct(), 1)
        );
        let _ = writeln!(
            s,
            "cpu_ratio_vs_ladder (a/b)   {}",
            fmt(self.cpu_ratio_vs_ladder(), 3)
        );
        let _ = writeln!(
            s,
            "cpu_ratio_vs_legacy         {} (a_medium CPU / c CPU)",
            fmt(self.cpu_ratio_vs_legacy(), 3)
        );
        let _ = writeln!(
            s,
            "machine                     {} cores, {}",
            self.cores, self.cpu_model
        );
        if let Some(b) = &self.bd_rate {
            s.push_str(&b.table());
        }
        if let Some(a) = &self.av1 {
            s.push_str(&a.table(top));
        }
        s
    }
}

#[cfg(test)]
mod tests;

//! The bitrate ladder: which renditions a source gets.

use serde::{Deserialize, Serialize};

/// The video codec of a rung.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VideoCodec {
    /// H.264 (x264): every rung of every ladder; plays everywhere.
    #[default]
    H264,
    /// AV1 (`EXTRA_CODECS=av1`): an extra ladder at lower bitrates for the
    /// players that decode it.
    Av1,
}

impl VideoCodec {
    /// True for H.264 (the default, left out of serialised rungs).
    pub fn is_h264(&self) -> bool {
        *self == Self::H264
    }

    /// Parses an `EXTRA_CODECS` list (`av1`, comma-separated, any case);
    /// H.264 is always encoded, so naming it adds nothing.
    pub fn parse_extra(list: &str) -> Result<Vec<Self>, UnknownCodec> {
        let mut out = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let codec = match name.to_ascii_lowercase().as_str() {
                "av1" => Self::Av1,
                "h264" | "avc" => continue,
                _ => return Err(UnknownCodec(name.chars().take(20).collect())),
            };
            if !out.contains(&codec) {
                out.push(codec);
            }
        }
        Ok(out)
    }
}

/// An `EXTRA_CODECS` entry slicecast does not encode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("EXTRA_CODECS names {0:?}; the codecs slicecast can add are: av1")]
pub struct UnknownCodec(pub String);

/// AV1 bitrates as a share of the H.264 rung's: AV1 reaches the same
/// quality with roughly 30–40 % fewer bits.
pub const AV1_BITRATE_SHARE: f64 = 0.6;

/// The smallest side an AV1 rung may have.
const AV1_MIN_SIDE: u32 = 64;

/// One rendition of the ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rung {
    /// Name used in keys and menus, e.g. `720p` (the short side, in lines).
    pub name: String,
    /// Output width in pixels (even).
    pub width: u32,
    /// Output height in pixels (even).
    pub height: u32,
    /// Target (and cap) bitrate in kbit/s.
    pub bitrate_kbps: u32,
    /// The codec (H.264 when absent).
    #[serde(default, skip_serializing_if = "VideoCodec::is_h264")]
    pub codec: VideoCodec,
}

/// The extra rungs `extra` asks for beside an H.264 ladder: for AV1 the same
/// sizes at [`AV1_BITRATE_SHARE`] of the bitrate, named `<rung>-av1`.
pub fn extra_rungs(h264: &[Rung], extra: &[VideoCodec]) -> Vec<Rung> {
    let mut out = Vec::new();
    if extra.contains(&VideoCodec::Av1) {
        out.extend(
            h264.iter()
                .filter(|r| r.codec.is_h264() && r.width.min(r.height) >= AV1_MIN_SIDE)
                .map(|r| Rung {
                    name: format!("{}-av1", r.name),
                    bitrate_kbps: ((f64::from(r.bitrate_kbps) * AV1_BITRATE_SHARE).round() as u32)
                        .max(100),
                    codec: VideoCodec::Av1,
                    ..r.clone()
                }),
        );
    }
    out
}

/// The rungs of the service slicecast replaces: (short side in lines, kbit/s), tallest first.
pub const STANDARD_RUNGS: [(u32, u32); 6] = [
    (2160, 8000),
    (1440, 5000),
    (1080, 3500),
    (720, 2500),
    (480, 1200),
    (360, 800),
];

/// Rounds to the nearest even number, never below 2.
fn even(x: f64) -> u32 {
    let v = (x / 2.0).round() as u32 * 2;
    v.max(2)
}

/// The ladder for a source whose *displayed* size (rotation and pixel aspect
/// already applied) is `display_w` × `display_h`.
///
/// Rungs are named by their short side, so a portrait 1080×1920 source gets a
/// `1080p` rung of 1080×1920. Only rungs whose short side is not larger than the
/// source's are kept; a source smaller than the smallest rung gets one rung at
/// its own (even) size. Tallest first.
pub fn ladder_for(display_w: u32, display_h: u32) -> Vec<Rung> {
    let (w, h) = (display_w.max(2) as f64, display_h.max(2) as f64);
    let portrait = h > w;
    let short = w.min(h);
    let long = w.max(h);
    let make = |short_out: f64, kbps: u32, name: String| {
        let long_out = even(long * short_out / short);
        let short_out = even(short_out);
        let (width, height) = if portrait {
            (short_out, long_out)
        } else {
            (long_out, short_out)
        };
        Rung {
            name,
            width,
            height,
            bitrate_kbps: kbps,
            codec: VideoCodec::H264,
        }
    };
    let mut rungs: Vec<Rung> = STANDARD_RUNGS
        .iter()
        .filter(|(lines, _)| f64::from(*lines) <= short)
        .map(|&(lines, kbps)| make(f64::from(lines), kbps, format!("{lines}p")))
        .collect();
    if rungs.is_empty() {
        let lines = even(short);
        // Scale the smallest rung's bitrate by pixel count, with a floor.
        let (ref_lines, ref_kbps) = STANDARD_RUNGS[STANDARD_RUNGS.len() - 1];
        let kbps = (f64::from(ref_kbps) * (short / f64::from(ref_lines)).powi(2)).max(200.0) as u32;
        rungs.push(make(f64::from(lines), kbps, format!("{lines}p")));
    }
    rungs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dims(r: &[Rung]) -> Vec<(String, u32, u32, u32)> {
        r.iter()
            .map(|r| (r.name.clone(), r.width, r.height, r.bitrate_kbps))
            .collect()
    }

    #[test]
    fn table() {
        type Want = &'static [(&'static str, u32, u32, u32)];
        let cases: &[(u32, u32, Want)] = &[
            (
                1920,
                1080,
                &[
                    ("1080p", 1920, 1080, 3500),
                    ("720p", 1280, 720, 2500),
                    ("480p", 854, 480, 1200),
                    ("360p", 640, 360, 800),
                ],
            ),
            (
                1280,
                720,
                &[
                    ("720p", 1280, 720, 2500),
                    ("480p", 854, 480, 1200),
                    ("360p", 640, 360, 800),
                ],
            ),
            (
                3840,
                2160,
                &[
                    ("2160p", 3840, 2160, 8000),
                    ("1440p", 2560, 1440, 5000),
                    ("1080p", 1920, 1080, 3500),
                    ("720p", 1280, 720, 2500),
                    ("480p", 854, 480, 1200),
                    ("360p", 640, 360, 800),
                ],
            ),
            // 4:3 stays 4:3
            (
                1024,
                768,
                &[
                    ("720p", 960, 720, 2500),
                    ("480p", 640, 480, 1200),
                    ("360p", 480, 360, 800),
                ],
            ),
            // portrait: named by the short side, undistorted
            (
                1080,
                1920,
                &[
                    ("1080p", 1080, 1920, 3500),
                    ("720p", 720, 1280, 2500),
                    ("480p", 480, 854, 1200),
                    ("360p", 360, 640, 800),
                ],
            ),
            // odd height
            (720, 405, &[("360p", 640, 360, 800)]),
            // tiny source: one rung at its own size
            (320, 240, &[("240p", 320, 240, 355)]),
            (176, 144, &[("144p", 176, 144, 200)]),
        ];
        for (w, h, want) in cases {
            let got = dims(&ladder_for(*w, *h));
            let want: Vec<_> = want
                .iter()
                .map(|(n, a, b, c)| (n.to_string(), *a, *b, *c))
                .collect();
            assert_eq!(got, want, "{w}x{h}");
        }
    }

    #[test]
    fn extra_codecs() {
        assert_eq!(VideoCodec::parse_extra(""), Ok(vec![]));
        assert_eq!(
            VideoCodec::parse_extra(" AV1,av1, h264"),
            Ok(vec![VideoCodec::Av1])
        );
        assert!(VideoCodec::parse_extra("av1,vp9").is_err());
        let base = ladder_for(1280, 720);
        assert!(extra_rungs(&base, &[]).is_empty());
        let av1 = extra_rungs(&base, &[VideoCodec::Av1]);
        let got: Vec<_> = av1
            .iter()
            .map(|r| (r.name.as_str(), r.width, r.height, r.bitrate_kbps, r.codec))
            .collect();
        assert_eq!(
            got,
            [
                ("720p-av1", 1280, 720, 1500, VideoCodec::Av1),
                ("480p-av1", 854, 480, 720, VideoCodec::Av1),
                ("360p-av1", 640, 360, 480, VideoCodec::Av1),
            ]
        );
        // H.264 rungs serialise as before; AV1 ones say so.
        let json = serde_json::to_string(&base[0]).expect("json");
        assert!(!json.contains("codec"), "{json}");
        assert!(
            serde_json::to_string(&av1[0])
                .expect("json")
                .contains(r#""codec":"av1""#)
        );
        assert!(extra_rungs(&ladder_for(48, 40), &[VideoCodec::Av1]).is_empty());
    }

    #[test]
    fn dimensions_are_even_and_aspect_kept() {
        for (w, h) in [(1921, 1081), (999, 777), (720, 1280), (5000, 300), (3, 3)] {
            for r in ladder_for(w, h) {
                assert_eq!(r.width % 2, 0);
                assert_eq!(r.height % 2, 0);
                let src = f64::from(w) / f64::from(h);
                let out = f64::from(r.width) / f64::from(r.height);
                assert!(
                    (src / out - 1.0).abs() < 0.02 || r.width <= 4 || r.height <= 4,
                    "{w}x{h} -> {r:?}"
                );
            }
        }
    }
}

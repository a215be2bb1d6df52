//! What ffprobe told us about a source, as plain data (`media::probe` runs
//! ffprobe and fills it in).

use serde::{Deserialize, Serialize};

/// A rational number (time bases, frame rates, aspect ratios).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rational {
    /// Numerator.
    pub num: i64,
    /// Denominator (never zero in a valid value).
    pub den: i64,
}

impl Rational {
    /// `num/den`.
    pub const fn new(num: i64, den: i64) -> Self {
        Self { num, den }
    }
    /// As a float; 0 when the denominator is 0.
    pub fn as_f64(self) -> f64 {
        if self.den == 0 {
            0.0
        } else {
            self.num as f64 / self.den as f64
        }
    }
    /// Parses `a/b` (ffprobe's format); `None` for `0/0` or junk.
    pub fn parse(s: &str) -> Option<Self> {
        let (a, b) = s.split_once('/')?;
        let (num, den) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        (den != 0 && num != 0).then_some(Self { num, den })
    }
}

/// Rescales `value` from time base `from` to time base `to`, rounding to nearest.
pub fn rescale(value: i64, from: Rational, to: Rational) -> i64 {
    let n = i128::from(value) * i128::from(from.num) * i128::from(to.den);
    let d = i128::from(from.den) * i128::from(to.num);
    if d == 0 {
        return 0;
    }
    let (q, r) = (n.div_euclid(d), n.rem_euclid(d));
    let q = if r * 2 >= d { q + 1 } else { q };
    q as i64
}

/// The parts of an ffprobe report slicecast uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    /// Container format (ffprobe's `format_name`, e.g. `mov,mp4,m4a,3gp,3g2,mj2`).
    pub format_name: String,
    /// Container duration in seconds.
    pub duration_s: f64,
    /// Container start time in seconds (0 for most files).
    pub start_time_s: f64,
    /// Overall bitrate in bit/s, when known.
    pub bit_rate: Option<u64>,
    /// The first video stream, if any.
    pub video: Option<VideoStream>,
    /// The first audio stream, if any.
    pub audio: Option<AudioStream>,
}

/// A video stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoStream {
    /// Stream index in the container.
    pub index: u32,
    /// Codec name (`h264`, `vp8`, ...).
    pub codec: String,
    /// Coded width in pixels.
    pub width: u32,
    /// Coded height in pixels.
    pub height: u32,
    /// Sample (pixel) aspect ratio; 1/1 when unknown.
    pub sample_aspect: Rational,
    /// Display rotation in degrees, normalised to 0, 90, 180 or 270.
    pub rotation: u32,
    /// Nominal frame rate (`r_frame_rate`).
    pub frame_rate: Option<Rational>,
    /// Average frame rate (`avg_frame_rate`).
    pub avg_frame_rate: Option<Rational>,
    /// Stream time base.
    pub time_base: Rational,
    /// Pixel format, when known.
    pub pix_fmt: Option<String>,
    /// True when the stream is coded as interlaced fields.
    #[serde(default)]
    pub interlaced: bool,
    /// How the pictures encode light (ffprobe's `color_transfer`).
    #[serde(default)]
    pub transfer: Transfer,
    /// True when the samples use the full range (`color_range=pc`), not the
    /// limited (TV) range most video uses.
    #[serde(default)]
    pub full_range: bool,
}

/// The transfer curve of a video stream: standard dynamic range, or one of
/// the two HDR curves (PQ, SMPTE ST 2084: HDR10 and Dolby Vision; HLG, ARIB
/// STD-B67: broadcast and phone HDR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transfer {
    /// SDR (BT.709, BT.601, sRGB, unknown...).
    #[default]
    Sdr,
    /// Perceptual quantizer (SMPTE ST 2084).
    Pq,
    /// Hybrid log-gamma (ARIB STD-B67).
    Hlg,
}

impl Transfer {
    /// From ffprobe's `color_transfer` name: the two HDR curves by name,
    /// anything else (or nothing) is SDR.
    pub fn from_ffprobe(name: Option<&str>) -> Self {
        match name {
            Some("smpte2084") => Self::Pq,
            Some("arib-std-b67") => Self::Hlg,
            _ => Self::Sdr,
        }
    }

    /// True for PQ and HLG.
    pub fn is_hdr(self) -> bool {
        self != Self::Sdr
    }
}

impl VideoStream {
    /// The size of the decoded pictures once turned upright (ffmpeg turns a
    /// rotated stream before its filters see it); pixel aspect not applied.
    pub fn upright_size(&self) -> (u32, u32) {
        self.turned((self.width, self.height))
    }

    /// The size a viewer sees: pixel aspect and rotation applied.
    pub fn display_size(&self) -> (u32, u32) {
        let sar = if self.sample_aspect.num > 0 && self.sample_aspect.den > 0 {
            self.sample_aspect.as_f64()
        } else {
            1.0
        };
        let w = (f64::from(self.width) * sar).round().max(1.0) as u32;
        self.turned((w, self.height.max(1)))
    }

    /// A stored width and height as they show once the rotation is applied.
    fn turned(&self, (w, h): (u32, u32)) -> (u32, u32) {
        if self.rotation % 180 == 90 {
            (h, w)
        } else {
            (w, h)
        }
    }
}

/// An audio stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioStream {
    /// Stream index in the container.
    pub index: u32,
    /// Codec name.
    pub codec: String,
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Channel count.
    pub channels: u32,
    /// Stream duration in seconds, when known.
    pub duration_s: Option<f64>,
    /// Where the stream starts, seconds on the container's clock, when known.
    #[serde(default)]
    pub start_time_s: Option<f64>,
}

/// Every video frame's presentation timestamp, in presentation order, with its keyframe flag.
///
/// Built from the container's packets (no decoding), so it is cheap for indexed formats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameIndex {
    /// Time base of `pts`.
    pub time_base: Rational,
    /// Presentation timestamps, strictly increasing.
    pub pts: Vec<i64>,
    /// `key[i]` is true when frame `i` is a keyframe (a random access point).
    pub key: Vec<bool>,
    /// `bytes[i]` is frame `i`'s compressed size: what decoding and
    /// re-encoding it costs grows with it, so the planner balances slices by
    /// it. Empty when unknown (then every frame weighs the same).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bytes: Vec<u32>,
}

impl FrameIndex {
    /// Builds an index from packets in any order: sorts by pts and drops duplicate timestamps.
    pub fn from_packets(time_base: Rational, packets: Vec<(i64, bool)>) -> Self {
        let mut index = Self::from_sized_packets(
            time_base,
            packets.into_iter().map(|(t, k)| (t, k, 0)).collect(),
        );
        index.bytes.clear();
        index
    }

    /// Like [`from_packets`](Self::from_packets), with each packet's size in bytes.
    pub fn from_sized_packets(time_base: Rational, mut packets: Vec<(i64, bool, u32)>) -> Self {
        packets.sort_by_key(|p| p.0);
        packets.dedup_by_key(|p| p.0);
        let mut index = Self {
            time_base,
            pts: Vec::with_capacity(packets.len()),
            key: Vec::with_capacity(packets.len()),
            bytes: Vec::with_capacity(packets.len()),
        };
        for (t, k, b) in packets {
            index.pts.push(t);
            index.key.push(k);
            index.bytes.push(b);
        }
        index
    }

    /// Where each frame lies on a clock that runs at the encoding work's
    /// pace rather than time's: frame `i`'s pts, moved by how far the bytes
    /// before it are ahead of or behind their even share (half the weight
    /// goes to time, which decoding and scaling follow, half to the bytes,
    /// which the encoders follow). Without sizes, the pts themselves.
    pub fn work_clock(&self) -> Vec<f64> {
        let pts = || self.pts.iter().map(|&p| p as f64);
        let total: f64 = self.bytes.iter().map(|&b| f64::from(b)).sum();
        let (Some(&first), true, true) = (
            self.pts.first(),
            self.bytes.len() == self.pts.len(),
            total > 0.0,
        ) else {
            return pts().collect();
        };
        let origin = first as f64;
        let span = self.end_pts() as f64 - origin;
        let mut before = 0.0;
        pts()
            .zip(&self.bytes)
            .map(|(p, &b)| {
                let w = origin + 0.5 * (p - origin) + 0.5 * span * before / total;
                before += f64::from(b);
                w
            })
            .collect()
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.pts.len()
    }

    /// True when there are no frames.
    pub fn is_empty(&self) -> bool {
        self.pts.is_empty()
    }

    /// The typical frame duration (median of deltas), in `time_base` units; at least 1.
    pub fn frame_duration(&self) -> i64 {
        let mut d: Vec<i64> = self
            .pts
            .windows(2)
            .map(|w| w[1].saturating_sub(w[0]))
            .collect();
        if d.is_empty() {
            return (self.time_base.den / self.time_base.num.max(1) / 25).max(1);
        }
        d.sort_unstable();
        d[d.len() / 2].max(1)
    }

    /// The index with `lead` frames before the first and `tail` after the
    /// last, one typical frame duration apart: the frames that hold the
    /// first picture while earlier sound plays, and the last while later
    /// sound plays. The first frame stays a keyframe.
    pub fn padded(&self, lead: u64, tail: u64) -> Self {
        let (Some(&first), Some(&last)) = (self.pts.first(), self.pts.last()) else {
            return self.clone();
        };
        let d = self.frame_duration();
        let lead_pts = (1..=lead as i64)
            .rev()
            .map(|k| first.saturating_sub(k.saturating_mul(d)));
        let tail_pts = (1..=tail as i64).map(|k| last.saturating_add(k.saturating_mul(d)));
        let pts: Vec<i64> = lead_pts
            .chain(self.pts.iter().copied())
            .chain(tail_pts)
            .collect();
        let mut key = vec![false; lead as usize];
        key.extend(self.key.iter().copied());
        key.extend(std::iter::repeat_n(false, tail as usize));
        if lead > 0 {
            key[0] = true;
        }
        let bytes = if self.bytes.is_empty() {
            Vec::new()
        } else {
            // A held picture is a copy: it costs (almost) nothing to decode.
            let mut b = vec![0; lead as usize];
            b.extend(self.bytes.iter().copied());
            b.extend(std::iter::repeat_n(0, tail as usize));
            b
        };
        Self {
            time_base: self.time_base,
            pts,
            key,
            bytes,
        }
    }

    /// Seconds from the first frame to the end of the last (0 when empty).
    /// Timestamps come from the file, so the difference saturates.
    pub fn span_s(&self) -> f64 {
        self.pts.first().map_or(0.0, |p| {
            self.end_pts().saturating_sub(*p) as f64 * self.time_base.as_f64()
        })
    }

    /// The timestamp just past the last frame (last pts + one frame duration).
    pub fn end_pts(&self) -> i64 {
        self.pts
            .last()
            .map_or(0, |p| p.saturating_add(self.frame_duration()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_index_at_the_ends_of_i64() {
        // Found by fuzzing: timestamps come from the file, and the delta and
        // the end overflowed.
        let tb = Rational::new(1, 90_000);
        let idx = FrameIndex::from_packets(tb, vec![(i64::MIN, true), (i64::MAX, false)]);
        assert_eq!(idx.frame_duration(), i64::MAX);
        assert_eq!(idx.end_pts(), i64::MAX);
        let idx =
            FrameIndex::from_packets(Rational::new(i64::MIN, i64::MIN), vec![(i64::MAX, true)]);
        assert_eq!(idx.end_pts(), i64::MAX);
    }

    #[test]
    fn rescale_rounds_to_nearest() {
        let tb24 = Rational::new(1, 24);
        let tb90k = Rational::new(1, 90_000);
        assert_eq!(rescale(1, tb24, tb90k), 3750);
        assert_eq!(
            rescale(1001, Rational::new(1, 24_000), Rational::new(1, 1000)),
            42
        );
        assert_eq!(rescale(-3, tb24, tb90k), -11_250);
    }

    #[test]
    fn display_size_applies_rotation_and_sar() {
        let mut v = VideoStream {
            index: 0,
            codec: "h264".into(),
            width: 1920,
            height: 1080,
            sample_aspect: Rational::new(1, 1),
            rotation: 90,
            frame_rate: None,
            avg_frame_rate: None,
            time_base: Rational::new(1, 90_000),
            pix_fmt: None,
            interlaced: false,
            transfer: Transfer::Sdr,
            full_range: false,
        };
        assert_eq!(v.display_size(), (1080, 1920));
        v.rotation = 0;
        v.width = 720;
        v.height = 576;
        v.sample_aspect = Rational::new(16, 15);
        assert_eq!(v.display_size(), (768, 576));
    }

    #[test]
    fn only_the_two_hdr_curves_are_hdr() {
        for (name, want) in [
            (Some("smpte2084"), Transfer::Pq),
            (Some("arib-std-b67"), Transfer::Hlg),
            (Some("bt709"), Transfer::Sdr),
            (Some("smpte170m"), Transfer::Sdr),
            (Some("unknown"), Transfer::Sdr),
            (Some("SMPTE2084"), Transfer::Sdr),
            (None, Transfer::Sdr),
        ] {
            assert_eq!(Transfer::from_ffprobe(name), want, "{name:?}");
            assert_eq!(want.is_hdr(), want != Transfer::Sdr);
        }
    }

    #[test]
    fn frame_index_sorts_and_dedups() {
        let idx = FrameIndex::from_packets(
            Rational::new(1, 10),
            vec![(2, false), (0, true), (1, false), (1, false)],
        );
        assert_eq!(idx.pts, vec![0, 1, 2]);
        assert_eq!(idx.key, vec![true, false, false]);
        assert_eq!(idx.end_pts(), 3);
    }
}

//! Limits on what one upload may ask of the transcoder, checked at probe time,
//! before any slice is planned or any worker invoked.

use crate::probe::ProbeError;
use slicecast_core::source_info::{FrameIndex, Probe};

/// Default longest source, seconds (6 h).
pub const DEFAULT_MAX_DURATION_SECONDS: f64 = 6.0 * 3600.0;
/// Default largest picture, pixels per frame (8192 × 8192).
pub const DEFAULT_MAX_PIXELS: u64 = 8192 * 8192;
/// Default highest frame rate, frames per second.
pub const DEFAULT_MAX_FPS: f64 = 240.0;

/// What one source may be at most.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Longest duration, seconds (`MAX_DURATION_SECONDS`).
    pub max_duration_s: f64,
    /// Most pixels in one frame (`MAX_PIXELS`).
    pub max_pixels: u64,
    /// Highest average frame rate (`MAX_FPS`).
    pub max_fps: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_duration_s: DEFAULT_MAX_DURATION_SECONDS,
            max_pixels: DEFAULT_MAX_PIXELS,
            max_fps: DEFAULT_MAX_FPS,
        }
    }
}

fn hours_minutes(s: f64) -> String {
    let m = (s / 60.0).round() as u64;
    match (m / 60, m % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

impl Limits {
    /// Checks what the container's header says (duration, picture size): cheap,
    /// and done before the frames are indexed, so a header that claims days of
    /// video is refused without reading them. The duration of a container
    /// whose timestamps may restart spans the restarts, so for those only the
    /// frames' span (after they are made continuous) is checked.
    pub fn check_header(&self, probe: &Probe) -> Result<(), ProbeError> {
        if !crate::normalize::timestamps_may_restart(&probe.format_name) {
            self.check_duration(probe.duration_s)?;
        }
        if let Some(v) = &probe.video {
            let pixels = u64::from(v.width) * u64::from(v.height);
            if pixels > self.max_pixels {
                return Err(ProbeError::OverLimit(format!(
                    "the picture is {}×{} ({:.1} megapixels); this service accepts at most {:.1} megapixels per frame",
                    v.width,
                    v.height,
                    pixels as f64 / 1e6,
                    self.max_pixels as f64 / 1e6
                )));
            }
        }
        Ok(())
    }

    /// Checks what the frames say: their span and their average rate.
    pub fn check_frames(&self, index: &FrameIndex) -> Result<(), ProbeError> {
        let span = index.span_s();
        self.check_duration(span)?;
        // The rate over at least one second: a short burst at a high rate is
        // fine, but more than `max_fps` frames packed into under a second
        // (a frame bomb) is not.
        let fps = index.pts.len() as f64 / span.max(1.0);
        if fps > self.max_fps {
            return Err(ProbeError::OverLimit(format!(
                "the video has {fps:.0} frames per second; this service accepts at most {:.0}",
                self.max_fps
            )));
        }
        Ok(())
    }

    fn check_duration(&self, duration_s: f64) -> Result<(), ProbeError> {
        if duration_s.is_finite() && duration_s > self.max_duration_s {
            return Err(ProbeError::OverLimit(format!(
                "the video is {} long; this service accepts at most {}",
                hours_minutes(duration_s),
                hours_minutes(self.max_duration_s)
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slicecast_core::source_info::{Rational, VideoStream};

    fn probe(duration_s: f64, w: u32, h: u32) -> Probe {
        Probe {
            format_name: "mov".into(),
            duration_s,
            start_time_s: 0.0,
            bit_rate: None,
            video: Some(VideoStream {
                index: 0,
                codec: "h264".into(),
                width: w,
                height: h,
                sample_aspect: Rational::new(1, 1),
                rotation: 0,
                frame_rate: None,
                avg_frame_rate: None,
                time_base: Rational::new(1, 1000),
                pix_fmt: None,
                interlaced: false,
                transfer: slicecast_core::source_info::Transfer::Sdr,
                full_range: false,
            }),
            audio: None,
        }
    }

    fn frames(n: i64, step_ms: i64) -> FrameIndex {
        FrameIndex::from_packets(
            Rational::new(1, 1000),
            (0..n).map(|i| (i * step_ms, i == 0)).collect(),
        )
    }

    #[test]
    fn header_limits() {
        let l = Limits::default();
        let cases: [(f64, u32, u32, Option<&str>); 5] = [
            (60.0, 1920, 1080, None),
            (21_600.0, 7680, 4320, None),
            (8192.0, 8192, 8192, None),
            (
                25_200.0,
                320,
                240,
                Some("the video is 7 h long; this service accepts at most 6 h"),
            ),
            (
                5.0,
                8200,
                8200,
                Some(
                    "the picture is 8200×8200 (67.2 megapixels); this service accepts at most 67.1 megapixels per frame",
                ),
            ),
        ];
        for (d, w, h, want) in cases {
            let got = l.check_header(&probe(d, w, h)).err().map(|e| e.to_string());
            assert_eq!(got.as_deref(), want, "{d} s {w}×{h}");
        }
        assert!(l.check_header(&probe(f64::NAN, 16, 16)).is_ok());
    }

    #[test]
    fn frame_limits() {
        let l = Limits {
            max_duration_s: 600.0,
            ..Limits::default()
        };
        assert!(
            l.check_frames(&frames(240, 4)).is_ok(),
            "a 1 s burst at 250 fps is < 1 s"
        );
        assert!(l.check_frames(&frames(2000, 4)).is_err(), "8 s at 250 fps");
        assert!(l.check_frames(&frames(1200, 8)).is_ok(), "120 fps");
        assert!(l.check_frames(&frames(1, 1)).is_ok());
        assert!(
            l.check_frames(&frames(1000, 1)).is_err(),
            "1000 frames in 1 s"
        );
        assert!(
            l.check_frames(&frames(500, 1)).is_err(),
            "500 frames in half a second"
        );
        let long = l.check_frames(&frames(700, 1000)).expect_err("700 s");
        assert_eq!(
            long.to_string(),
            "the video is 12 min long; this service accepts at most 10 min"
        );
        assert!(matches!(long, ProbeError::OverLimit(_)));
    }

    #[test]
    fn timestamps_at_the_ends_of_i64_are_over_the_limit() {
        // Found by fuzzing (tests/fuzz_probe.rs): the span overflowed.
        let index =
            FrameIndex::from_packets(Rational::new(1, 1), vec![(i64::MIN, true), (0, false)]);
        assert!(matches!(
            Limits::default().check_frames(&index),
            Err(ProbeError::OverLimit(_))
        ));
    }
}

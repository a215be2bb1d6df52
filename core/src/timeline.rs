//! The timeline rule: the output starts at the earliest presented sample of
//! any kept stream and ends at the latest. When the sound starts before the
//! picture, the first picture is held (its frame repeated) until the picture
//! starts; when the sound ends after it, the last picture is held. Holding a
//! picture, rather than black, keeps something meaningful on screen and needs
//! no guess about the source's colours; the A/V offset of the source is kept
//! to within one video frame, and no sound is dropped.

use crate::source_info::{FrameIndex, Probe, Rational};

/// A forward step of the decode timestamps larger than this, seconds, is a
/// discontinuity (a splice, a restarted capture), not a pause in the picture:
/// ffmpeg's own threshold for containers whose timestamps may restart.
pub const DISCONTINUITY_S: f64 = 10.0;

/// A backward step of the decode timestamps larger than this, seconds, is a
/// discontinuity too (valid streams never decode backwards; ffmpeg tolerates
/// the same 0.1 s of jitter).
pub const BACKSTEP_S: f64 = 0.1;

/// How many times the decode timestamps of one stream (in decode order)
/// jump forward by more than [`DISCONTINUITY_S`] or back by more than
/// [`BACKSTEP_S`]: the timestamps restart, as when two MPEG-TS captures are
/// concatenated or a broadcast is spliced.
pub fn discontinuities(dts: &[i64], time_base: Rational) -> u32 {
    let tb = time_base.as_f64();
    if !(tb > 0.0 && tb.is_finite()) {
        return 0;
    }
    let count = dts
        .windows(2)
        .filter(|w| {
            let step = w[1].saturating_sub(w[0]) as f64 * tb;
            !(-BACKSTEP_S..=DISCONTINUITY_S).contains(&step)
        })
        .count();
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// Samples of silence the AAC encoder puts before the first real sample of
/// sound (its priming, or encoder delay): 1024 for AAC-LC.
pub const AAC_PRIMING_SAMPLES: u64 = 1024;

/// The AAC priming in video ticks (`timescale` a second), rounded: how much
/// later than the sound's first (priming) sample the picture's time zero is
/// placed. Players decode the priming as sound (a fragmented MP4's edit list
/// is not honoured by ffmpeg nor by every MSE player), so instead of hiding
/// it the picture moves by it, and decoded sound and picture line up to
/// within a video tick.
pub fn priming_ticks(sample_rate: u32, timescale: u32) -> u64 {
    if sample_rate == 0 {
        return 0;
    }
    let r = u64::from(sample_rate);
    (AAC_PRIMING_SAMPLES * u64::from(timescale) + r / 2) / r
}

/// The smallest gap between sound and picture that is padded, seconds.
pub const MIN_GAP_S: f64 = 0.25;

/// How many frames to hold before the first picture and after the last, so
/// the video covers the sound (each a whole number of typical frame
/// durations, rounded to the nearest). Gaps under [`MIN_GAP_S`] (or one
/// frame) get none: ordinary files have such small offsets from B-frame delay
/// or the last audio frame, and keep their exact frame count; the picture
/// then starts the output and the sound before it (tens of milliseconds) is
/// not kept, while the A/V offset still is.
pub fn padding_frames(probe: &Probe, index: &FrameIndex) -> (u64, u64) {
    let (Some(audio), Some(&first)) = (&probe.audio, index.pts.first()) else {
        return (0, 0);
    };
    let tb = index.time_base.as_f64();
    let frame_s = index.frame_duration() as f64 * tb;
    if !(frame_s > 0.0 && frame_s.is_finite()) {
        return (0, 0);
    }
    let video_start = first as f64 * tb;
    let video_end = index.end_pts() as f64 * tb;
    let audio_start = audio.start_time_s.unwrap_or(video_start);
    let audio_end = match (audio.start_time_s, audio.duration_s) {
        (Some(s), Some(d)) if d.is_finite() => s + d,
        // Matroska gives no stream duration: the container's end is the
        // latest stream's end.
        _ => probe.start_time_s + probe.duration_s,
    };
    let frames = |gap_s: f64| -> u64 {
        if gap_s.is_finite() && gap_s >= frame_s.max(MIN_GAP_S) {
            (gap_s / frame_s).round() as u64
        } else {
            0
        }
    };
    (
        frames(video_start - audio_start),
        frames(audio_end - video_end),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source_info::AudioStream;

    fn probe(audio: Option<(f64, Option<f64>)>, container: (f64, f64)) -> Probe {
        Probe {
            format_name: "matroska,webm".into(),
            duration_s: container.1,
            start_time_s: container.0,
            bit_rate: None,
            video: None,
            audio: audio.map(|(start, duration)| AudioStream {
                index: 1,
                codec: "aac".into(),
                sample_rate: 48_000,
                channels: 2,
                duration_s: duration,
                start_time_s: Some(start),
            }),
        }
    }

    /// 25 fps frames from `from_s` to `to_s`.
    fn frames(from_s: f64, to_s: f64) -> FrameIndex {
        let tb = Rational::new(1, 1000);
        let (a, b) = ((from_s * 1000.0) as i64, (to_s * 1000.0) as i64);
        FrameIndex::from_packets(tb, (a..b).step_by(40).map(|p| (p, p == a)).collect())
    }

    #[test]
    fn priming_in_video_ticks() {
        // (sample rate, timescale, ticks)
        for (rate, ts, want) in [
            (48_000, 90_000, 1920),
            (44_100, 90_000, 2090),
            (48_000, 24_000, 512),
            (0, 90_000, 0),
        ] {
            assert_eq!(priming_ticks(rate, ts), want, "{rate} Hz at {ts}");
        }
    }

    #[test]
    fn restarted_timestamps_are_counted() {
        let tb = Rational::new(1, 90_000);
        let s = 90_000;
        // (decode timestamps, discontinuities)
        let cases: [(&[i64], u32); 7] = [
            (&[], 0),
            (&[0, 3600, 7200], 0),
            // A 5 s pause in the picture is not a discontinuity.
            (&[0, 3600, 5 * s, 5 * s + 3600], 0),
            // Two captures concatenated: 400 s later, then back to 10 s.
            (&[0, 3600, 400 * s, 400 * s + 3600], 1),
            (&[400 * s, 400 * s + 3600, 10 * s, 10 * s + 3600], 1),
            // Jitter of a few ms backwards is tolerated.
            (&[0, 3600, 3000, 7200], 0),
            (&[0, i64::MAX, i64::MIN], 2),
        ];
        for (dts, want) in cases {
            assert_eq!(discontinuities(dts, tb), want, "{dts:?}");
        }
        assert_eq!(discontinuities(&[0, 100 * s], Rational::new(0, 1)), 0);
    }

    #[test]
    fn the_video_is_held_to_cover_the_sound() {
        // (audio start, audio duration, container (start, duration), video span, padding)
        let cases = [
            (0.0, Some(6.0), (0.0, 6.0), (2.0, 6.0), (50, 0)),
            (0.0, None, (0.0, 6.02), (2.02, 6.02), (51, 0)),
            (0.0, Some(5.0), (0.0, 5.0), (0.0, 1.0), (0, 100)),
            (0.0, Some(2.0), (0.0, 6.0), (0.0, 6.0), (0, 0)),
            (1.5, Some(4.5), (0.0, 6.0), (0.0, 6.0), (0, 0)),
            (0.0, Some(6.01), (0.0, 6.01), (0.0, 6.0), (0, 0)),
            (0.0, Some(6.32), (0.0, 6.32), (0.0, 6.0), (0, 8)),
            // The deer clip: B-frame delay (83 ms) and a longer last audio frame.
            (0.0, Some(6.1), (0.0, 6.1), (0.083, 6.0), (0, 0)),
        ];
        for (a_start, a_dur, container, (v0, v1), want) in cases {
            let got = padding_frames(&probe(Some((a_start, a_dur)), container), &frames(v0, v1));
            assert_eq!(got, want, "audio {a_start}+{a_dur:?}, video {v0}..{v1}");
        }
        assert_eq!(
            padding_frames(&probe(None, (0.0, 6.0)), &frames(2.0, 6.0)),
            (0, 0)
        );
    }
}

//! Is the upload cut short? Decided from the file's data, not from streams of
//! different lengths.
//!
//! A file is truncated when the data of *every* stream stops well before the
//! duration its index declares (an upload cut off mid-way loses the end of all
//! its interleaved streams at once). A valid file whose picture starts after
//! its sound, or whose sound outlasts its picture, has a stream that reaches
//! the declared end, so it is not truncated. The video's end comes from the
//! frame index already made; the audio is scanned only when the video alone
//! falls short, so a complete file costs no extra read.

use crate::input;
use crate::probe::ProbeError;
use crate::process;
use slicecast_core::source_info::{FrameIndex, Probe};
use std::ffi::OsString;
use std::time::Duration;

/// Containers whose declared duration comes from an index, so a shortfall of
/// data means the data is missing rather than the duration being a guess.
fn declares_exact_duration(format_name: &str) -> bool {
    ["mov", "mp4", "matroska", "webm"]
        .iter()
        .any(|f| format_name.split(',').any(|n| n == *f))
}

/// Where the video's frames end, seconds on the container's clock (from its
/// start time, as the declared duration counts).
pub fn video_end_s(probe: &Probe, index: &FrameIndex) -> f64 {
    index.end_pts() as f64 * index.time_base.as_f64() - probe.start_time_s
}

/// Checks that the data ends (`data_end_s`, the latest end of any stream
/// read, on the container's clock) no further before the duration an indexed
/// container declares than [`shortfall_allowed_s`].
pub fn check_complete(probe: &Probe, data_end_s: f64) -> Result<(), ProbeError> {
    let declared = probe.duration_s;
    if declares_exact_duration(&probe.format_name)
        && declared.is_finite()
        && declared - data_end_s > shortfall_allowed_s(declared)
    {
        return Err(ProbeError::Truncated {
            data_ends_s: data_end_s.max(0.0),
            declared_s: Some(declared),
        });
    }
    Ok(())
}

/// How far short of a declared `declared_s` the data may end in a complete
/// file: 5 % of it, and at least 2 s, but never more than a quarter of it
/// (a clip of a few seconds that lost half its data is cut short too).
pub fn shortfall_allowed_s(declared_s: f64) -> f64 {
    (0.05 * declared_s).max(2.0_f64.min(0.25 * declared_s))
}

/// The latest `pts_time + duration_time` in ffprobe's packet csv, seconds.
pub fn parse_packet_ends(csv: &str) -> Option<f64> {
    csv.lines()
        .filter_map(|line| {
            let mut f = line.trim().split(',');
            let pts: f64 = f.next()?.trim().parse().ok()?;
            let dur: f64 = f.next().and_then(|d| d.trim().parse().ok()).unwrap_or(0.0);
            let end = pts + dur.max(0.0);
            end.is_finite().then_some(end)
        })
        .reduce(f64::max)
}

/// Where one stream's packets end, seconds on the container's clock.
pub async fn stream_end_s(
    location: &str,
    probe: &Probe,
    stream_index: u32,
    timeout: Duration,
) -> Result<Option<f64>, ProbeError> {
    let mut args: Vec<OsString> = [
        "-v",
        "error",
        "-select_streams",
        &stream_index.to_string(),
        "-show_entries",
        "packet=pts_time,duration_time",
        "-of",
        "csv=p=0",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    args.extend(input::input_args(location, Some(&probe.format_name)));
    let out = process::run(&crate::ffprobe_bin(), &args, timeout)
        .await
        .map_err(ProbeError::Process)?;
    Ok(parse_packet_ends(&String::from_utf8_lossy(&out.stdout)).map(|e| e - probe.start_time_s))
}

/// The whole rule: the video's end from its index, then, only if that falls
/// short, the audio's end read from the file.
pub async fn complete_or_truncated(
    location: &str,
    probe: &Probe,
    index: &FrameIndex,
    timeout: Duration,
) -> Result<(), ProbeError> {
    let video_end = video_end_s(probe, index);
    let short = check_complete(probe, video_end);
    let (Err(_), Some(audio)) = (&short, &probe.audio) else {
        return short;
    };
    let audio_end = stream_end_s(location, probe, audio.index, timeout).await?;
    check_complete(probe, audio_end.map_or(video_end, |a| a.max(video_end)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use slicecast_core::source_info::Rational;

    fn probe(format: &str, duration_s: f64, start_time_s: f64) -> Probe {
        Probe {
            format_name: format.into(),
            duration_s,
            start_time_s,
            bit_rate: None,
            video: None,
            audio: None,
        }
    }

    #[test]
    fn data_short_of_the_declared_duration_is_truncation() {
        // (format, declared, data end, truncated)
        let cases = [
            ("mov,mp4,m4a", 52.2, 52.2, false),
            ("mov,mp4,m4a", 52.2, 26.4, true),
            ("mov,mp4,m4a", 52.2, 50.5, false), // within 2 s
            ("mov,mp4,m4a", 3.08, 1.12, true),  // a quarter of a short clip
            ("mov,mp4,m4a", 3.0, 2.4, false),
            ("mov,mp4,m4a", 8.0, 6.1, false),
            ("matroska,webm", 600.0, 560.0, true),
            ("matroska,webm", 600.0, 580.0, false), // within 5 %
            ("avi", 52.2, 26.4, false),             // AVI durations are estimates
            ("mov", f64::NAN, 1.0, false),
        ];
        for (format, declared, end, truncated) in cases {
            let got = check_complete(&probe(format, declared, 0.0), end);
            assert_eq!(got.is_err(), truncated, "{format} {declared} {end}");
        }
        let err = check_complete(&probe("mov", 52.2, 0.0), 26.4).expect_err("short");
        assert_eq!(
            err.to_string(),
            "the file is truncated: its video data stops at 26.4 s of 52.2 s (was the upload interrupted?)"
        );
    }

    #[test]
    fn the_video_end_counts_from_the_container_start() {
        // A picture from 3.9 s to 23.9 s in a 23.9 s file starting at 0: complete.
        let tb = Rational::new(1, 10);
        let idx = FrameIndex::from_packets(tb, (39..239).map(|p| (p, p == 39)).collect());
        let p = probe("mov", 23.9, 0.0);
        assert!((video_end_s(&p, &idx) - 23.9).abs() < 1e-9);
        assert!(check_complete(&p, video_end_s(&p, &idx)).is_ok());
        // The same frames in a file that starts at 1.4 s (MPEG-TS style clocks).
        let p = probe("mov", 22.5, 1.4);
        assert!((video_end_s(&p, &idx) - 22.5).abs() < 1e-9);
    }

    #[test]
    fn packet_ends() {
        let end = parse_packet_ends("0.000000,0.021333\n4.978667,0.021333\n").expect("end");
        assert!((end - 5.0).abs() < 1e-9, "{end}");
        assert_eq!(parse_packet_ends("N/A,N/A\n1.5,N/A\n"), Some(1.5));
        assert_eq!(parse_packet_ends(""), None);
        assert_eq!(parse_packet_ends("x,y\n"), None);
    }
}

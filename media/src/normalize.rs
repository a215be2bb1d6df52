//! Continuous timestamps for sources whose timestamps restart.
//!
//! MPEG transport and program streams carry no global timeline: two captures
//! concatenated, or a broadcast splice, make the timestamps jump forward by
//! minutes or back to an earlier time. Slices seek and trim by timestamp, so
//! such a source is first copied (no re-encode) into a transport stream whose
//! timestamps are continuous: ffmpeg closes each jump by offsetting everything
//! after it by the same amount in every stream, which keeps picture and sound
//! together. Ordinary files are never copied.

use crate::args::ffmpeg_prelude;
use crate::input;
use crate::process::{self, ProcessError};
use slicecast_core::timeline::DISCONTINUITY_S;
use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

/// True for the containers whose timestamps may restart partway (and which
/// ffmpeg re-times across a restart): MPEG-TS and MPEG-PS. Their header
/// duration spans the restarts, so it says nothing about the content's length.
pub fn timestamps_may_restart(format_name: &str) -> bool {
    format_name.split(',').any(|n| n == "mpegts" || n == "mpeg")
}

/// The ffmpeg command line that copies the chosen video stream (and audio
/// stream) of `location` into an MPEG-TS at `out` with continuous timestamps.
pub fn normalize_args(
    location: &str,
    format_name: &str,
    video_stream: u32,
    audio_stream: Option<u32>,
    out: &Path,
) -> Vec<OsString> {
    let mut v = ffmpeg_prelude();
    v.extend([
        "-dts_delta_threshold".into(),
        format!("{DISCONTINUITY_S}").into(),
    ]);
    v.extend(input::input_args(location, Some(format_name)));
    v.extend(["-map".into(), format!("0:{video_stream}").into()]);
    if let Some(a) = audio_stream {
        v.extend(["-map".into(), format!("0:{a}").into()]);
    }
    v.extend(
        [
            "-c",
            "copy",
            "-sn",
            "-dn",
            "-map_metadata",
            "-1",
            "-f",
            "mpegts",
        ]
        .iter()
        .map(OsString::from),
    );
    v.push(out.as_os_str().to_owned());
    v
}

/// Runs [`normalize_args`].
pub async fn normalize(
    location: &str,
    format_name: &str,
    (video_stream, audio_stream): (u32, Option<u32>),
    out: &Path,
    timeout: Duration,
) -> Result<(), ProcessError> {
    let args = normalize_args(location, format_name, video_stream, audio_stream, out);
    process::run(&crate::ffmpeg_bin(), &args, timeout)
        .await
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transport_and_program_streams_restart() {
        for (format, want) in [
            ("mpegts", true),
            ("mpeg", true),
            ("mov,mp4,m4a,3gp,3g2,mj2", false),
            ("matroska,webm", false),
            ("flv", false),
            ("mpegvideo", false),
        ] {
            assert_eq!(timestamps_may_restart(format), want, "{format}");
        }
    }

    #[test]
    fn copies_the_chosen_streams_only() {
        let args: Vec<String> =
            normalize_args("/data/in.ts", "mpegts", 0, Some(2), Path::new("/tmp/n.ts"))
                .into_iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
        let joined = args.join(" ");
        assert!(joined.contains("-f mpegts -i file:/data/in.ts"), "{joined}");
        assert!(
            joined.contains("-map 0:0 -map 0:2 -c copy -sn -dn"),
            "{joined}"
        );
        assert!(joined.contains("-dts_delta_threshold 10"), "{joined}");
        assert_eq!(args.last().map(String::as_str), Some("/tmp/n.ts"));
    }
}

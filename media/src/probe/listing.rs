//! Every stream's packets, listed beside the probe. The frame index needs the
//! probe's answers (which stream is the picture, which demuxer reads the
//! file) before it can start, so on a short file the two ffprobe start-ups
//! and reads ran one after the other before anything was planned. A listing
//! of every stream needs neither answer: it starts with the probe, and once
//! the probe has spoken the video stream's lines are taken from it.
//!
//! It stands in for the video stream's own listing only where that listing
//! would be one whole read and the other streams cost little to list too
//! ([`serves`]); otherwise it is dropped, which stops its ffprobe.

use super::{ProbeError, a, intervals, unreadable};
use crate::{input, process};
use slicecast_core::source_info::Probe;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Longest source (seconds, as its header says) whose listing of every
/// stream stands in for the video stream's own.
pub const MAX_LISTED_S: f64 = 120.0;

/// The most of a listing kept: it runs before the header is checked against
/// the limits, so a file of countless packets must not fill memory. Two
/// minutes of 240 fps video with eight audio tracks list in about 2 MiB.
pub const MAX_LISTING_BYTES: usize = 16 << 20;

/// `stream_index,pts,dts,size,flags` for every packet of every stream, and
/// ffprobe's last words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    csv: String,
    stderr: String,
}

impl Listing {
    /// From ffprobe's output (see [`list_every_stream`]).
    pub fn new(csv: String, stderr: String) -> Self {
        Self { csv, stderr }
    }

    /// Stream `index`'s lines, as the video stream's own listing gives them
    /// (`pts,dts,size,flags`), and ffprobe's last words.
    pub fn stream(&self, index: u32) -> (String, String) {
        let prefix = format!("{index},");
        let mut out = String::new();
        for line in self.csv.lines() {
            if let Some(rest) = line.trim().strip_prefix(&prefix) {
                out.push_str(rest);
                out.push('\n');
            }
        }
        (out, self.stderr.clone())
    }
}

/// Whether a listing of every stream serves for `probe`'s file: one reader
/// would list it whole (see [`intervals::readers_for`]) and it is at most
/// [`MAX_LISTED_S`] long.
pub fn serves(probe: &Probe) -> bool {
    intervals::readers_for(&probe.format_name, probe.duration_s) == 1
        && probe.duration_s.is_finite()
        && probe.duration_s <= MAX_LISTED_S
}

/// Lists every packet of every stream of the file at `location`, under the
/// same input policy as the probe (the demuxer is not pinned: ffprobe picks
/// it from the same bytes as the probe does); `None` when the listing
/// outgrew [`MAX_LISTING_BYTES`] (the file is not one it serves).
pub async fn list_every_stream(
    location: &str,
    timeout: Duration,
) -> Result<Option<Listing>, ProbeError> {
    list_capped(location, timeout, MAX_LISTING_BYTES).await
}

async fn list_capped(
    location: &str,
    timeout: Duration,
    cap: usize,
) -> Result<Option<Listing>, ProbeError> {
    let mut args = a(&[
        "-v",
        "error",
        "-show_entries",
        "packet=stream_index,pts,dts,size,flags",
        "-of",
        "csv=p=0",
    ]);
    args.extend(input::input_args(location, None));
    let kept = Mutex::new(Some(String::new()));
    let keep = |line: &str| {
        let mut kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(csv) = kept.as_mut() {
            if csv.len() + line.len() >= cap {
                *kept = None;
            } else {
                csv.push_str(line);
                csv.push('\n');
            }
        }
    };
    let out = process::run_streaming(&crate::ffprobe_bin(), &args, timeout, &keep)
        .await
        .map_err(|e| unreadable(location, e))?;
    let csv = kept.into_inner().unwrap_or_else(PoisonError::into_inner);
    Ok(csv.map(|csv| Listing::new(csv, out.stderr_tail)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_stream_s_lines_as_its_own_listing_gives_them() {
        let l = Listing::new(
            "0,0,-1024,5120,K__\n1,0,0,371,K__\n0,1024,0,880,___\n10,5,5,9,K__\n 0,2048,1024,77,__D\n".into(),
            "last words".into(),
        );
        assert_eq!(
            l.stream(0),
            (
                "0,-1024,5120,K__\n1024,0,880,___\n2048,1024,77,__D\n".into(),
                "last words".into()
            )
        );
        assert_eq!(l.stream(1).0, "0,0,371,K__\n");
        assert_eq!(l.stream(10).0, "5,5,9,K__\n");
        assert_eq!(l.stream(2).0, "");
    }

    /// On every shared clip the listing serves (each container, a stream
    /// without pts, one with a cover picture), the index from it is the index.
    #[tokio::test]
    async fn the_index_from_the_listing_is_the_index() {
        use crate::probe::{frame_index, frame_index_listed, probe, require_video};
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/media");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("shared media")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x != "md"))
            .collect();
        files.sort();
        let t = Duration::from_secs(120);
        let mut served = 0;
        for f in files {
            let loc = f.to_string_lossy().into_owned();
            let Ok(p) = probe(&loc, t).await else {
                continue;
            };
            let Ok(v) = require_video(&p) else {
                continue;
            };
            if !serves(&p) {
                continue;
            }
            let listed = list_every_stream(&loc, t).await.expect("listing");
            assert!(
                listed.is_some(),
                "{loc}: a short file's listing is kept whole"
            );
            let from_listing = frame_index_listed(&loc, &p, v, t, listed)
                .await
                .expect("index from the listing");
            let own = frame_index(&loc, &p, v, t).await.expect("index");
            assert_eq!(from_listing.frames, own.frames, "{loc}");
            assert_eq!(from_listing.discontinuities, own.discontinuities, "{loc}");
            served += 1;
        }
        assert!(served >= 5, "only {served} clips were compared");
    }

    #[tokio::test]
    async fn a_listing_that_outgrows_its_cap_is_not_kept() {
        let clip = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/media/deer_1920x1080_1s_h264_aac_23976.mp4");
        let loc = clip.to_string_lossy().into_owned();
        let t = Duration::from_secs(60);
        let whole = list_capped(&loc, t, usize::MAX).await.expect("listing");
        let len = whole.expect("kept").csv.len();
        assert!(len > 100, "{len}");
        assert!(
            list_capped(&loc, t, len + 1)
                .await
                .expect("listing")
                .is_some()
        );
        assert!(
            list_capped(&loc, t, len / 2)
                .await
                .expect("listing")
                .is_none()
        );
    }

    #[test]
    fn serves_short_files_read_whole() {
        let probe = |format: &str, duration_s: f64| Probe {
            format_name: format.into(),
            duration_s,
            start_time_s: 0.0,
            bit_rate: None,
            video: None,
            audio: None,
        };
        for (format, duration, want) in [
            ("mov,mp4,m4a,3gp,3g2,mj2", 7.0, true),
            ("mpegts", 120.0, true),
            ("matroska,webm", 121.0, false),
            ("mov,mp4,m4a,3gp,3g2,mj2", 3600.0, false),
            ("mpeg", f64::NAN, false),
        ] {
            assert_eq!(
                serves(&probe(format, duration)),
                want,
                "{format} {duration}"
            );
        }
    }
}

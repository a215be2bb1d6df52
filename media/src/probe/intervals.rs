//! Indexing a long MP4 with several ffprobe readers at once. The frame index
//! lists every video packet, so one ffprobe reads the whole file: on Lambda,
//! over one connection to S3 (two hours of 1080p take about half a minute).
//! An MP4's sample table makes a seek exact, so each reader can start at its
//! own time (`-read_intervals`), read on its own connection, and run a little
//! past where the next one starts; the overlaps prove that the pieces join
//! into the one list a single reader gives, or the caller reads it whole.

/// One reader per this many seconds of media.
const SECONDS_PER_READER: f64 = 600.0;
/// At most this many readers.
const MAX_READERS: usize = 8;
/// Each reader reads this far past the next one's start.
const OVERLAP_S: f64 = 10.0;

/// How many readers index a source: one per ten minutes of an MP4/MOV (whose
/// index makes a seek land where a single reader would be), else one.
pub fn readers_for(format_name: &str, duration_s: f64) -> usize {
    let seekable = format_name.split(',').any(|f| f == "mov" || f == "mp4");
    if !seekable || !duration_s.is_finite() {
        return 1;
    }
    ((duration_s / SECONDS_PER_READER).floor() as usize).clamp(1, MAX_READERS)
}

/// The `-read_intervals` of each of `readers` over `duration_s` of media
/// starting at `start_s`: the first from the beginning, the last to the end,
/// each but the last reading [`OVERLAP_S`] into the next one's span.
pub fn intervals(start_s: f64, duration_s: f64, readers: usize) -> Vec<String> {
    let n = readers.max(1);
    let at = |k: usize| start_s + duration_s * k as f64 / n as f64;
    (0..n)
        .map(|k| {
            let from = if k == 0 {
                String::new()
            } else {
                format!("{:.3}", at(k))
            };
            let to = if k + 1 == n {
                String::new()
            } else {
                format!("{:.3}", at(k + 1) + OVERLAP_S)
            };
            format!("{from}%{to}")
        })
        .collect()
}

/// Joins the packet lists of consecutive readers into the list one reader
/// gives: each reader's lines up to where the next reader's first line
/// appears in them, provided every line after that point equals the next
/// reader's line at the same place (and at least one does). `None` when
/// they do not join: a reader that read nothing, stopped before the next
/// began, or saw other packets there.
pub fn join(parts: &[String]) -> Option<String> {
    let mut out = String::new();
    for (k, part) in parts.iter().enumerate() {
        let lines: Vec<&str> = part.lines().filter(|l| !l.trim().is_empty()).collect();
        if lines.is_empty() {
            return None;
        }
        let Some(next) = parts.get(k + 1) else {
            lines.iter().for_each(|l| {
                out.push_str(l);
                out.push('\n');
            });
            break;
        };
        let next: Vec<&str> = next.lines().filter(|l| !l.trim().is_empty()).collect();
        let first = *next.first()?;
        let at = lines.iter().position(|l| *l == first)?;
        let overlap = &lines[at..];
        if overlap.len() > next.len() || overlap.iter().zip(&next).any(|(a, b)| a != b) {
            return None;
        }
        lines[..at].iter().for_each(|l| {
            out.push_str(l);
            out.push('\n');
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(dts: std::ops::Range<i64>) -> String {
        dts.map(|d| {
            format!(
                "{},{d},100,{}\n",
                d + 2,
                if d % 10 == 0 { "K_" } else { "__" }
            )
        })
        .collect()
    }

    #[test]
    fn readers_by_format_and_length() {
        // (format, duration, readers)
        let cases = [
            ("mov,mp4,m4a,3gp,3g2,mj2", 300.0, 1),
            ("mov,mp4,m4a,3gp,3g2,mj2", 1200.0, 2),
            ("mov,mp4,m4a,3gp,3g2,mj2", 7200.0, 8),
            ("mov,mp4,m4a,3gp,3g2,mj2", 1e9, 8),
            ("mov,mp4,m4a,3gp,3g2,mj2", f64::NAN, 1),
            ("matroska,webm", 7200.0, 1),
            ("mpegts", 7200.0, 1),
        ];
        for (format, d, n) in cases {
            assert_eq!(readers_for(format, d), n, "{format} {d}");
        }
    }

    #[test]
    fn intervals_cover_the_span_with_overlaps() {
        assert_eq!(intervals(0.0, 100.0, 1), ["%"]);
        assert_eq!(
            intervals(0.5, 100.0, 3),
            ["%43.833", "33.833%77.167", "67.167%"]
        );
    }

    #[test]
    fn joins_overlapping_readers_into_one_list() {
        let whole = lines(0..100);
        // Readers that start on keyframes and overlap the next one.
        let parts = [lines(0..35), lines(30..75), lines(70..100)];
        assert_eq!(join(&parts).as_deref(), Some(whole.as_str()));
        assert_eq!(
            join(std::slice::from_ref(&whole)).as_deref(),
            Some(whole.as_str())
        );
        // The last reader's start sits exactly at the end of the overlap.
        let parts = [lines(0..31), lines(30..100)];
        assert_eq!(join(&parts).as_deref(), Some(whole.as_str()));
    }

    /// On real files (B-frames, 59.94 fps, a one-second clip with one
    /// keyframe): any number of readers joins into exactly the list one
    /// reader gives.
    #[tokio::test]
    async fn readers_join_into_the_whole_list_on_real_files() {
        use crate::probe::{PACKETS, probe, require_video, scan};
        use std::time::Duration;
        let media = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/media");
        for clip in [
            "sintel_trailer_1280x720_52s_h264_aac_dialogue.mp4",
            "highway_960x540_5994fps_30s_h264_noaudio.mp4",
            "deer_1920x1080_1s_h264_aac_23976.mp4",
        ] {
            let loc = media.join(clip).to_string_lossy().into_owned();
            let t = Duration::from_secs(60);
            let p = probe(&loc, t).await.expect("probe");
            let v = require_video(&p).expect("video");
            let (whole, _) = scan(&loc, &p.format_name, v, PACKETS, None, t)
                .await
                .expect("scan");
            assert!(whole.lines().count() > 20, "{clip}");
            for readers in [2, 3, 7] {
                let mut lists = Vec::new();
                for span in intervals(p.start_time_s, p.duration_s, readers) {
                    let (list, _) = scan(&loc, &p.format_name, v, PACKETS, Some(&span), t)
                        .await
                        .expect("scan");
                    lists.push(list);
                }
                assert_eq!(
                    join(&lists).as_deref(),
                    Some(whole.as_str()),
                    "{clip}, {readers} readers"
                );
            }
        }
    }

    /// A 21-minute MP4 is indexed by two readers, into the index one gives.
    #[tokio::test]
    async fn a_long_mp4_is_indexed_by_several_readers() {
        use crate::probe::{PACKETS, frame_index, parse_packets, probe, require_video, scan};
        use std::time::Duration;
        let dir = tempfile::tempdir().expect("tmp");
        let out = dir.path().join("long.mp4");
        let args: Vec<std::ffi::OsString> = [
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x64:rate=2",
            "-t",
            "1260",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "20",
            "-bf",
            "2",
        ]
        .iter()
        .map(Into::into)
        .chain([out.clone().into_os_string()])
        .collect();
        crate::process::run(&crate::ffmpeg_bin(), &args, Duration::from_secs(120))
            .await
            .expect("make the clip");
        let loc = out.to_string_lossy().into_owned();
        let t = Duration::from_secs(60);
        let p = probe(&loc, t).await.expect("probe");
        assert_eq!(readers_for(&p.format_name, p.duration_s), 2);
        let v = require_video(&p).expect("video");
        let (whole, _) = scan(&loc, &p.format_name, v, PACKETS, None, t)
            .await
            .expect("scan");
        // The two readers' lists join (frame_index does not fall back).
        let mut lists = Vec::new();
        for span in intervals(p.start_time_s, p.duration_s, 2) {
            let (list, _) = scan(&loc, &p.format_name, v, PACKETS, Some(&span), t)
                .await
                .expect("scan");
            lists.push(list);
        }
        assert_eq!(join(&lists).as_deref(), Some(whole.as_str()));
        let indexed = frame_index(&loc, &p, v, t).await.expect("index");
        let (one, _) = parse_packets(&whole, v.time_base);
        assert_eq!(indexed.frames.len(), 2520);
        assert_eq!(indexed.frames, one);
    }

    #[test]
    fn readers_that_do_not_join_are_refused() {
        let cases: Vec<(&str, Vec<String>)> = vec![
            ("a gap", vec![lines(0..30), lines(40..100)]),
            ("no overlap", vec![lines(0..30), lines(30..100)]),
            ("an empty reader", vec![lines(0..30), String::new()]),
            ("an empty first reader", vec![String::new(), lines(0..30)]),
            ("other packets in the overlap", {
                let mut a = lines(0..35);
                a = a.replace("33,31,100", "33,31,999");
                vec![a, lines(30..100)]
            }),
            (
                "a reader that read past the next one",
                vec![lines(0..50), lines(30..40)],
            ),
        ];
        for (why, parts) in cases {
            assert_eq!(join(&parts), None, "{why}");
        }
    }
}

//! The input policy: how every ffmpeg and ffprobe process opens an uploaded file.
//!
//! An upload is hostile until proven otherwise. ffmpeg picks a demuxer from the
//! content, not the name, and some demuxers open other files or URLs that the
//! file names (HLS and DASH playlists, concat lists, image sequences, SDP …).
//! So every read of a source goes through [`input_args`], which
//!
//! * limits the protocols to what the location needs (`file` for a local path,
//!   `https,tls,tcp` or `http,tcp` for the store's presigned URL): no `data:`,
//!   `concat:`, `subfile:`, `crypto:` or any other protocol is ever opened;
//! * allows only the demuxers in [`accepted_demuxers`] (`-format_whitelist`):
//!   single-file containers and elementary streams that never open anything
//!   the file names. ffmpeg refuses anything else *before* reading its header,
//!   so a playlist's segments are never opened;
//! * once the probe has accepted a format, pins that demuxer (`-f`), so later
//!   reads cannot be probed into another one.
//!
//! When ffmpeg refuses a format, [`refusal`] turns its word into a sentence a
//! person understands.

use std::ffi::OsString;

/// Container demuxers slicecast opens (ffmpeg's names). Each reads one file
/// and never opens another file or URL named in it (mov's external data
/// references are off by default and stay off).
const CONTAINER_DEMUXERS: &[&str] = &[
    "mov",      // MP4, MOV, M4V, 3GP, MJ2
    "matroska", // MKV, WebM
    "mpegts",   // TS, M2TS
    "mpeg",     // MPEG program stream (VOB, MPG)
    "avi",
    "flv",
    "ogg",
    "asf", // WMV
    "mxf",
    "dv",
    "nut",
    "ivf", // VP8, VP9, AV1 in IVF
    "yuv4mpegpipe",
    "gif",
    "apng",
    "rm",  // RealMedia
    "wtv", // Windows Media Center recordings
];

/// Demuxers of elementary video streams (no container): they carry no index
/// to seek by, and often no timestamps at all.
const ELEMENTARY_DEMUXERS: &[&str] = &[
    "h264",
    "hevc",
    "mpegvideo",
    "m4v",
    "mjpeg",
    "obu",
    "vc1",
    "h261",
    "h263",
    "cavsvideo",
];

/// Audio-only demuxers: read so that the verdict is "no video stream".
const AUDIO_DEMUXERS: &[&str] = &["wav", "mp3", "aac", "flac", "w64", "aiff", "caf"];

/// Every demuxer slicecast opens: the containers, elementary video streams
/// and audio-only files above, and nothing else.
pub fn accepted_demuxers() -> impl Iterator<Item = &'static str> {
    [CONTAINER_DEMUXERS, ELEMENTARY_DEMUXERS, AUDIO_DEMUXERS]
        .into_iter()
        .flatten()
        .copied()
}

/// True for the demuxers of elementary video streams.
pub fn is_elementary_stream(format_name: &str) -> bool {
    format_name
        .split(',')
        .any(|n| ELEMENTARY_DEMUXERS.contains(&n))
}

/// The demuxer to pin for a probed format (`mov,mp4,m4a,3gp,3g2,mj2` → `mov`),
/// when slicecast accepts it.
pub fn accepted_demuxer(format_name: &str) -> Option<&'static str> {
    let first = format_name.split(',').next()?.trim();
    accepted_demuxers().find(|d| *d == first)
}

/// The protocols a location may use, and the location as ffmpeg should be
/// given it. A URL keeps its own scheme only for http(s); anything else is a
/// local file, named with an explicit `file:` so that no part of it (a colon
/// in an upload's name, say) is read as a protocol.
pub fn protocols_for(location: &str) -> (&'static str, String) {
    let lower = location.get(..8).unwrap_or(location).to_ascii_lowercase();
    if lower.starts_with("https://") {
        ("https,tls,tcp", location.to_owned())
    } else if lower.starts_with("http://") {
        ("http,tcp", location.to_owned())
    } else {
        ("file", format!("file:{location}"))
    }
}

/// The input part of an ffmpeg/ffprobe command line for a source, ending with
/// `-i <location>`: the protocol and demuxer allow-lists, and the demuxer
/// pinned when the probe has accepted `format_name`. Input options such as
/// `-ss` go before it. With `None` (the first probe) ffmpeg picks the demuxer
/// from the content, among the accepted ones only.
pub fn input_args(location: &str, format_name: Option<&str>) -> Vec<OsString> {
    let (protocols, location) = protocols_for(location);
    let mut v: Vec<OsString> = vec![
        "-protocol_whitelist".into(),
        protocols.into(),
        "-format_whitelist".into(),
        accepted_demuxers().collect::<Vec<_>>().join(",").into(),
    ];
    if let Some(demuxer) = format_name.and_then(accepted_demuxer) {
        v.extend(["-f".into(), demuxer.into()]);
    }
    v.extend(["-i".into(), location.into()]);
    v
}

/// The demuxer ffmpeg refused, from its stderr (`[hls @ 0x…] Format not on
/// whitelist …`); `Some("")` when the refusal names none.
pub fn refused_demuxer(stderr: &str) -> Option<&str> {
    let line = stderr
        .lines()
        .find(|l| l.contains("Format not on whitelist"))?;
    let name = line
        .split_once('[')
        .and_then(|(_, rest)| rest.split_once(" @"))
        .map(|(name, _)| name.trim())
        .filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or("");
    Some(name)
}

/// Why a refused demuxer is refused, in words for the person who uploaded it.
pub fn refusal(demuxer: &str) -> String {
    const UPLOAD_VIDEO: &str = "upload the video file itself";
    let what = match demuxer {
        "hls" | "applehttp" => "an HLS playlist, which points to other files",
        "dash" | "webm_dash_manifest" => "a DASH manifest (MPD), which points to other files",
        "concat" => "a concat list, which names other files",
        "sdp" | "rtsp" | "rtp" | "sap" => "a description of a network stream, not a video",
        "ffmetadata" => "an ffmpeg metadata file, not a video",
        "image2" | "image2pipe" => "an image or image sequence, not a video",
        "tty" | "srt" | "ass" | "webvtt" | "subviewer" | "microdvd" | "sami" | "jacosub"
        | "mpl2" | "pjs" | "realtext" | "stl" | "vplayer" | "lrc" | "scc" | "mcc" => {
            "a text file, not a video"
        }
        d if d.ends_with("_pipe") => "a still image, not a video",
        _ => "",
    };
    if what.is_empty() {
        format!(
            "slicecast does not accept this kind of file{}; upload a video file (MP4, MOV, MKV, WebM, AVI, MPEG-TS, …)",
            if demuxer.is_empty() {
                String::new()
            } else {
                format!(" (ffmpeg reads it as '{demuxer}')")
            }
        )
    } else {
        format!("this file is {what}; {UPLOAD_VIDEO}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[OsString]) -> Vec<String> {
        v.iter().map(|s| s.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn elementary_streams_are_known() {
        for (format, want) in [
            ("h264", true),
            ("hevc", true),
            ("mpegvideo", true),
            ("mov,mp4,m4a,3gp,3g2,mj2", false),
            ("mpegts", false),
            ("mjpeg", true),
            ("mpeg", false),
        ] {
            assert_eq!(is_elementary_stream(format), want, "{format}");
        }
    }

    #[test]
    fn every_input_is_fenced() {
        let accepted = accepted_demuxers().collect::<Vec<_>>().join(",");
        let cases: [(&str, Option<&str>, Vec<&str>); 5] = [
            (
                "/data/uploads/a.mp4",
                None,
                vec![
                    "-protocol_whitelist",
                    "file",
                    "-format_whitelist",
                    &accepted,
                    "-i",
                    "file:/data/uploads/a.mp4",
                ],
            ),
            (
                "/data/uploads/con:cat.mp4",
                Some("mov,mp4,m4a,3gp,3g2,mj2"),
                vec![
                    "-protocol_whitelist",
                    "file",
                    "-format_whitelist",
                    &accepted,
                    "-f",
                    "mov",
                    "-i",
                    "file:/data/uploads/con:cat.mp4",
                ],
            ),
            (
                "https://b.s3.amazonaws.com/uploads/a.mkv?X-Amz-Signature=1",
                Some("matroska,webm"),
                vec![
                    "-protocol_whitelist",
                    "https,tls,tcp",
                    "-format_whitelist",
                    &accepted,
                    "-f",
                    "matroska",
                    "-i",
                    "https://b.s3.amazonaws.com/uploads/a.mkv?X-Amz-Signature=1",
                ],
            ),
            (
                "http://127.0.0.1:8014/b/uploads/a.ts",
                Some("mpegts"),
                vec![
                    "-protocol_whitelist",
                    "http,tcp",
                    "-format_whitelist",
                    &accepted,
                    "-f",
                    "mpegts",
                    "-i",
                    "http://127.0.0.1:8014/b/uploads/a.ts",
                ],
            ),
            (
                // A format that is not accepted is never pinned; the whitelist refuses it.
                "concat:/etc/passwd|/etc/hosts",
                Some("hls"),
                vec![
                    "-protocol_whitelist",
                    "file",
                    "-format_whitelist",
                    &accepted,
                    "-i",
                    "file:concat:/etc/passwd|/etc/hosts",
                ],
            ),
        ];
        for (location, format, want) in cases {
            assert_eq!(strings(&input_args(location, format)), want, "{location}");
        }
    }

    #[test]
    fn no_accepted_demuxer_opens_other_files() {
        let referencing = [
            "hls",
            "dash",
            "concat",
            "image2",
            "image2pipe",
            "sdp",
            "rtsp",
            "rtp",
            "lavfi",
            "data",
            "subfile",
            "tee",
            "webm_dash_manifest",
            "ffmetadata",
            "tty",
        ];
        for d in referencing {
            assert!(accepted_demuxers().all(|a| a != d), "{d}");
            assert_eq!(accepted_demuxer(d), None);
        }
        assert_eq!(accepted_demuxer("mov,mp4,m4a,3gp,3g2,mj2"), Some("mov"));
        assert_eq!(accepted_demuxer("matroska,webm"), Some("matroska"));
        assert_eq!(accepted_demuxer(""), None);
    }

    #[test]
    fn refusals_read_as_sentences() {
        let cases = [
            (
                "[hls @ 0x55ae4d9b5280] Format not on whitelist 'mov,matroska'\nholiday.mp4: Invalid argument",
                "this file is an HLS playlist, which points to other files; upload the video file itself",
            ),
            (
                "[dash @ 0x1] Format not on whitelist 'x'",
                "this file is a DASH manifest (MPD), which points to other files; upload the video file itself",
            ),
            (
                "[concat @ 0x1] Format not on whitelist 'x'",
                "this file is a concat list, which names other files; upload the video file itself",
            ),
            (
                "[png_pipe @ 0x1] Format not on whitelist 'x'",
                "this file is a still image, not a video; upload the video file itself",
            ),
            (
                "[wsvqa @ 0x1] Format not on whitelist 'x'",
                "slicecast does not accept this kind of file (ffmpeg reads it as 'wsvqa'); upload a video file (MP4, MOV, MKV, WebM, AVI, MPEG-TS, …)",
            ),
            (
                "Format not on whitelist 'x'",
                "slicecast does not accept this kind of file; upload a video file (MP4, MOV, MKV, WebM, AVI, MPEG-TS, …)",
            ),
        ];
        for (stderr, want) in cases {
            let d = refused_demuxer(stderr).expect("a refusal");
            assert_eq!(refusal(d), want, "{stderr}");
        }
        assert_eq!(refused_demuxer("moov atom not found"), None);
        assert_eq!(
            refused_demuxer("[a/b @ 0x1] Format not on whitelist"),
            Some("")
        );
    }
}

//! The object-key scheme, shared by every store and every role.
//!
//! ```text
//! uploads/<original name>
//! processed/<id>/manifest.json
//! processed/<id>/video/<rung>/init.mp4, seg_<n>.m4s
//! processed/<id>/audio/init.mp4, seg_<n>.m4s
//! processed/<id>/hls/master.m3u8, hls/<rung>.m3u8, hls/audio.m3u8
//! processed/<id>/dash/stream.mpd
//! processed/<id>/thumbnail/sprite_<i>.jpg, thumbnails.vtt, poster.jpg
//! processed/<id>/presentation.json           (what the playlists and MPD were rendered from)
//! processed/<id>/subtitles/<lang>.vtt, <lang>.srt, <lang>/seg_<n>.vtt, hls/subs_<lang>.m3u8
//! processed/<id>/transcripts/...             (speech audio and Amazon Transcribe's output)
//! processed/<id>/work/...
//! ```

use crate::VideoId;

/// Prefix of uploaded originals.
pub const UPLOADS: &str = "uploads/";
/// Prefix of everything slicecast produces.
pub const PROCESSED: &str = "processed/";

/// `uploads/<name>`.
pub fn upload(name: &str) -> String {
    format!("{UPLOADS}{name}")
}
/// `processed/<id>/`.
pub fn video_prefix(id: &VideoId) -> String {
    format!("{PROCESSED}{id}/")
}
/// `processed/<id>/manifest.json`.
pub fn manifest(id: &VideoId) -> String {
    format!("{PROCESSED}{id}/manifest.json")
}
/// `processed/<id>/video/<rung>/init.mp4`.
pub fn video_init(id: &VideoId, rung: &str) -> String {
    format!("{PROCESSED}{id}/video/{rung}/init.mp4")
}
/// `processed/<id>/video/<rung>/seg_<n>.m4s`.
pub fn video_segment(id: &VideoId, rung: &str, n: u32) -> String {
    format!("{PROCESSED}{id}/video/{rung}/{}", segment_file(n))
}
/// `processed/<id>/audio/init.mp4`.
pub fn audio_init(id: &VideoId) -> String {
    format!("{PROCESSED}{id}/audio/init.mp4")
}
/// `processed/<id>/audio/seg_<n>.m4s`.
pub fn audio_segment(id: &VideoId, n: u32) -> String {
    format!("{PROCESSED}{id}/audio/{}", segment_file(n))
}
/// File name of segment `n` (`seg_<n>.m4s`, n counted from 0).
pub fn segment_file(n: u32) -> String {
    format!("seg_{n}.m4s")
}
/// `processed/<id>/hls/<name>`.
pub fn hls(id: &VideoId, name: &str) -> String {
    format!("{PROCESSED}{id}/hls/{name}")
}
/// `processed/<id>/dash/stream.mpd`.
pub fn dash_mpd(id: &VideoId) -> String {
    format!("{PROCESSED}{id}/dash/stream.mpd")
}
/// `processed/<id>/thumbnail/<name>`.
pub fn thumbnail(id: &VideoId, name: &str) -> String {
    format!("{PROCESSED}{id}/thumbnail/{name}")
}
/// `processed/<id>/presentation.json`: the assembler's [`crate::presentation::Presentation`],
/// kept so playlists and MPD can be rendered again when subtitles arrive.
pub fn presentation(id: &VideoId) -> String {
    format!("{PROCESSED}{id}/presentation.json")
}
/// `processed/<id>/subtitles/<name>`.
pub fn subtitles(id: &VideoId, name: &str) -> String {
    format!("{PROCESSED}{id}/subtitles/{name}")
}
/// `processed/<id>/subtitles/<lang>/seg_<n>.vtt`: segment `n` of the HLS subtitle rendition.
pub fn subtitle_segment(id: &VideoId, lang: &str, n: u32) -> String {
    subtitles(id, &format!("{lang}/{}", subtitle_segment_file(n)))
}
/// File name of subtitle segment `n` (`seg_<n>.vtt`).
pub fn subtitle_segment_file(n: u32) -> String {
    format!("seg_{n}.vtt")
}
/// `processed/<id>/transcripts/`: speech audio for, and the output of, Amazon Transcribe.
pub fn transcripts(id: &VideoId) -> String {
    format!("{PROCESSED}{id}/transcripts/")
}
/// `processed/<id>/work/<name>`: per-slice results while encoding.
pub fn work(id: &VideoId, name: &str) -> String {
    format!("{PROCESSED}{id}/work/{name}")
}
/// `processed/<id>/work/slice_<i>.json`: the result of slice `i`.
pub fn slice_result(id: &VideoId, index: u32) -> String {
    work(id, &format!("slice_{index:05}.json"))
}
/// `processed/<id>/work/audio_<n>.json`: the result of the audio job (or
/// chunk) whose first segment is `n`.
pub fn audio_result(id: &VideoId, first_segment: u32) -> String {
    work(id, &format!("audio_{first_segment}.json"))
}
/// `processed/<id>/work/thumbs/<n>.jpg`: thumbnail `n` (global index, from 0).
pub fn work_thumb(id: &VideoId, n: u32) -> String {
    work(id, &format!("thumbs/{n:06}.jpg"))
}

/// The Content-Type of a served object, by extension.
pub fn content_type(key: &str) -> &'static str {
    match extension(key).as_str() {
        "m3u8" => "application/vnd.apple.mpegurl",
        "mpd" => "application/dash+xml",
        "m4s" => "video/iso.segment",
        "mp4" => "video/mp4",
        "m4a" => "audio/mp4",
        "vtt" => "text/vtt; charset=utf-8",
        "srt" => "application/x-subrip; charset=utf-8",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

/// The Cache-Control of a served object: media data never changes under its
/// key (immutable, a year); playlists, MPD and manifest are revalidated.
pub fn cache_control(key: &str) -> &'static str {
    match extension(key).as_str() {
        "m4s" | "mp4" | "m4a" | "jpg" | "jpeg" | "png" | "webp" => {
            "public, max-age=31536000, immutable"
        }
        "vtt" => "public, max-age=60",
        _ => "no-cache",
    }
}

fn extension(key: &str) -> String {
    let file = key.rsplit('/').next().unwrap_or(key);
    file.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

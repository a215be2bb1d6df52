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
/// Folder of the audio rendition's segments, under the video prefix.
pub const AUDIO_DIR: &str = "audio";
/// Folder of the subtitle files and segments, under the video prefix.
pub const SUBTITLES_DIR: &str = "subtitles";
/// File name of every rendition's CMAF initialization segment.
pub const INIT_FILE: &str = "init.mp4";
/// [`segment_file`] as a DASH `SegmentTemplate` (`seg_$Number$.m4s`).
pub const SEGMENT_TEMPLATE: &str = "seg_$Number$.m4s";

/// Folder of rung `rung`'s segments, under the video prefix: `video/<rung>`.
pub fn video_dir(rung: &str) -> String {
    format!("video/{rung}")
}
/// Folder of subtitle track `lang`'s HLS segments, under the video prefix:
/// `subtitles/<lang>`.
pub fn subtitle_dir(lang: &str) -> String {
    format!("{SUBTITLES_DIR}/{lang}")
}
/// `path` (under the video prefix) as the playlists in `hls/` and the MPD in
/// `dash/` reach it: both folders are one level below the prefix, so `../<path>`.
pub fn from_manifests(path: &str) -> String {
    format!("../{path}")
}
/// `processed/<id>/video/<rung>/init.mp4`.
pub fn video_init(id: &VideoId, rung: &str) -> String {
    format!("{PROCESSED}{id}/{}/{INIT_FILE}", video_dir(rung))
}
/// `processed/<id>/video/<rung>/seg_<n>.m4s`.
pub fn video_segment(id: &VideoId, rung: &str, n: u32) -> String {
    format!("{PROCESSED}{id}/{}/{}", video_dir(rung), segment_file(n))
}
/// `processed/<id>/audio/init.mp4`.
pub fn audio_init(id: &VideoId) -> String {
    format!("{PROCESSED}{id}/{AUDIO_DIR}/{INIT_FILE}")
}
/// `processed/<id>/audio/seg_<n>.m4s`.
pub fn audio_segment(id: &VideoId, n: u32) -> String {
    format!("{PROCESSED}{id}/{AUDIO_DIR}/{}", segment_file(n))
}
/// File name of segment `n` (`seg_<n>.m4s`, n counted from 0).
pub fn segment_file(n: u32) -> String {
    SEGMENT_TEMPLATE.replace("$Number$", &n.to_string())
}
/// `processed/<id>/hls/<name>`.
pub fn hls(id: &VideoId, name: &str) -> String {
    format!("{PROCESSED}{id}/hls/{name}")
}
/// `processed/<id>/dash/stream.mpd`.
pub fn dash_mpd(id: &VideoId) -> String {
    format!("{PROCESSED}{id}/dash/stream.mpd")
}
/// `processed/<id>/download/<name>`: the MP4 and M4A downloads.
pub fn download(id: &VideoId, name: &str) -> String {
    format!("{PROCESSED}{id}/download/{name}")
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
    format!("{PROCESSED}{id}/{SUBTITLES_DIR}/{name}")
}
/// File name of subtitle track `lang`'s whole WebVTT file (`<lang>.vtt`) in
/// [`SUBTITLES_DIR`]; the SRT beside it is `<lang>.srt`.
pub fn subtitle_file(lang: &str, extension: &str) -> String {
    format!("{lang}.{extension}")
}
/// `processed/<id>/subtitles/<lang>/seg_<n>.vtt`: segment `n` of the HLS subtitle rendition.
pub fn subtitle_segment(id: &VideoId, lang: &str, n: u32) -> String {
    format!(
        "{PROCESSED}{id}/{}/{}",
        subtitle_dir(lang),
        subtitle_segment_file(n)
    )
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
/// `processed/<id>/work/posters/<n>.jpg`: the full-size frame of thumbnail
/// `n`, when it is a poster candidate.
pub fn work_poster(id: &VideoId, n: u32) -> String {
    work(id, &format!("posters/{n:06}.jpg"))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Resolves a relative `uri` against the key of the playlist or MPD that holds it.
    fn resolve(base: &str, uri: &str) -> String {
        let mut parts: Vec<&str> = base.split('/').collect();
        parts.pop();
        for p in uri.split('/') {
            match p {
                ".." => {
                    parts.pop();
                }
                p => parts.push(p),
            }
        }
        parts.join("/")
    }

    #[test]
    fn manifest_relative_paths_reach_the_stored_keys() {
        let id = VideoId::parse("0123456789abcdef0123456789abcdef").expect("id");
        let playlist = hls(&id, "720p.m3u8");
        let mpd = dash_mpd(&id);
        let video = from_manifests(&video_dir("720p"));
        let audio = from_manifests(AUDIO_DIR);
        for base in [&playlist, &mpd] {
            assert_eq!(
                resolve(base, &format!("{video}/{INIT_FILE}")),
                video_init(&id, "720p")
            );
            assert_eq!(
                resolve(base, &format!("{video}/{}", segment_file(7))),
                video_segment(&id, "720p", 7)
            );
            assert_eq!(
                resolve(base, &format!("{audio}/{}", segment_file(3))),
                audio_segment(&id, 3)
            );
            assert_eq!(
                resolve(base, &format!("{audio}/{INIT_FILE}")),
                audio_init(&id)
            );
        }
        let subs = from_manifests(&subtitle_dir("en"));
        assert_eq!(
            resolve(&playlist, &format!("{subs}/{}", subtitle_segment_file(2))),
            subtitle_segment(&id, "en", 2)
        );
        assert_eq!(
            resolve(
                &mpd,
                &from_manifests(&format!("{SUBTITLES_DIR}/{}", subtitle_file("en", "vtt")))
            ),
            subtitles(&id, "en.vtt")
        );
    }

    #[test]
    fn the_dash_template_names_the_same_files() {
        for n in [0, 1, 42, 123_456] {
            assert_eq!(
                SEGMENT_TEMPLATE.replace("$Number$", &n.to_string()),
                segment_file(n)
            );
        }
        assert_eq!(segment_file(5), "seg_5.m4s");
    }
}

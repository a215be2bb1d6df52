//! The JSON bodies of the API (field names as in the service slicecast
//! replaces) and the pure functions that build them from manifests.

use crate::validate;
use serde::{Deserialize, Serialize};
use slicecast_core::manifest::{DownloadKind, Manifest, Stage, Status};
use utoipa::ToSchema;

/// `POST /create_multipart_upload` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateUploadRequest {
    /// Original file name (spaces, unicode, `+`, `%`, quotes are fine; no `/`).
    pub file_name: String,
    /// Size in bytes: 1 ..= `MAX_UPLOAD_BYTES`.
    #[schema(value_type = u64)]
    pub file_size: serde_json::Value,
}

/// `POST /create_multipart_upload` answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateUploadResponse {
    /// Id of the upload (for complete, abort and resume).
    pub upload_id: String,
    /// Key the object will have once completed (`uploads/<uploadId>/<fileName>`).
    pub key: String,
    /// Bytes per part; part `n` is bytes `(n-1)*partSize ..` of the file.
    pub part_size: u64,
    /// One URL per part, in order: `PUT` the part's bytes there and keep the
    /// answer's `ETag` header. Relative URLs are relative to this API.
    pub urls: Vec<String>,
}

/// One part as listed at completion.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CompletedPart {
    /// 1-based part number.
    #[serde(rename = "PartNumber", alias = "partNumber")]
    pub part_number: u32,
    /// The `ETag` header the part's `PUT` answered (quotes optional).
    #[serde(rename = "ETag", alias = "etag", alias = "Etag")]
    pub etag: String,
}

/// `POST /complete_multipart_upload` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CompleteUploadRequest {
    /// The name the upload was created with.
    #[serde(rename = "fileName")]
    pub file_name: String,
    /// The upload's id.
    #[serde(rename = "uploadId")]
    pub upload_id: String,
    /// Every part, ascending by `PartNumber`.
    pub parts: Vec<CompletedPart>,
}

/// `POST /complete_multipart_upload` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompleteUploadResponse {
    /// `processing`, or the existing status when the same bytes were processed before.
    pub status: String,
    /// The video id (MD5 of the bytes): poll `GET /status/<video_id>`.
    pub video_id: String,
    /// The file name.
    #[serde(rename = "fileName")]
    pub file_name: String,
}

/// `POST /abort_multipart_upload` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AbortUploadRequest {
    /// The upload's id.
    #[serde(rename = "uploadId")]
    pub upload_id: String,
}

/// `POST /abort_multipart_upload` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct AbortUploadResponse {
    /// `aborted`.
    pub status: String,
    /// The upload's id.
    #[serde(rename = "uploadId")]
    pub upload_id: String,
}

/// A part received so far.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceivedPart {
    /// 1-based part number.
    #[serde(rename = "PartNumber")]
    pub part_number: u32,
    /// Quoted MD5, as the part's `PUT` answered.
    #[serde(rename = "ETag")]
    pub etag: String,
    /// Bytes.
    #[serde(rename = "Size")]
    pub size: u64,
}

/// `GET /multipart_upload/<uploadId>` answer: what to resume from.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadStateResponse {
    /// The upload's id.
    pub upload_id: String,
    /// The file name.
    pub file_name: String,
    /// Declared size.
    pub file_size: u64,
    /// Bytes per part.
    pub part_size: u64,
    /// Parts received, ascending.
    pub parts: Vec<ReceivedPart>,
    /// Fresh URLs for every part (the earlier ones may have expired).
    pub urls: Vec<String>,
}

/// A subtitle track of a video.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubtitleItem {
    /// BCP 47 language tag (`en`, `en-US`).
    pub lang: String,
    /// Name for a track menu (`English`).
    pub name: String,
    /// WebVTT URL.
    pub url: String,
    /// SRT URL.
    pub srt_url: String,
}

/// A file of a video to download (remuxed from its stream: no second encode).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DownloadItem {
    /// `mp4` (the tallest rung up to 1080p, with the audio) or `m4a` (the audio).
    pub kind: String,
    /// Its URL (Range requests work, and the MP4 is `faststart`).
    pub url: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// One video in `GET /api/videos`: processed, or still processing with its
/// start already playable.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VideoItem {
    /// MD5 of the source bytes.
    pub video_id: String,
    /// `processing_complete`, or `processing` while the start already plays
    /// at `hls_url` (its media playlists grow, `EXT-X-PLAYLIST-TYPE:EVENT`,
    /// and become VOD at the same URLs once complete; DASH, sprites and the
    /// poster come at the end).
    pub status: String,
    /// Seconds from the start that play so far (the duration once complete).
    pub ready_until_s: Option<f64>,
    /// Original file name without its extension.
    pub base_name: String,
    /// Original file name.
    pub file_name: String,
    /// HLS master playlist URL.
    pub hls_url: Option<String>,
    /// DASH MPD URL (`null` without DASH).
    pub dash_url: Option<String>,
    /// Poster image URL.
    pub thumbnail_url: Option<String>,
    /// WebVTT thumbnails track URL (its cues point into the sprite sheets).
    pub sprite: Option<String>,
    /// Sprite sheet URLs.
    pub sprites: Vec<String>,
    /// Rung names, highest first (`1080p`, `720p`, ...).
    pub presets: Vec<String>,
    /// Duration in seconds.
    pub duration: Option<f64>,
    /// When processing began: ISO 8601 UTC (`2024-05-06T07:08:09Z`).
    pub uploaded_at: String,
    /// Width of the source as displayed.
    pub width: Option<u32>,
    /// Height of the source as displayed.
    pub height: Option<u32>,
    /// Subtitle tracks (also in the HLS master and the MPD).
    pub subtitles: Vec<SubtitleItem>,
    /// `not_requested`, `pending`, `in_progress`, `completed`, `failed` or `no_audio`;
    /// subtitles arrive after the video is playable.
    pub transcription_status: String,
    /// Why transcription failed, when it did.
    pub transcription_error: Option<String>,
    /// Files to download, once complete (none with `GENERATE_DOWNLOADS=false`).
    pub downloads: Vec<DownloadItem>,
}

/// Encoding progress.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgressItem {
    /// 0 ..= 1.
    pub fraction: f64,
    /// Slices encoded.
    pub slices_done: u32,
    /// Slices planned (0 until planned).
    pub slices_total: u32,
    /// Milliseconds since processing began.
    pub elapsed_ms: u64,
    /// Estimated milliseconds until every slice is encoded, once known.
    pub eta_ms: Option<u64>,
}

/// One video still processing in `GET /api/transcoding_status`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TranscodingItem {
    /// MD5 of the source bytes.
    pub video_id: String,
    /// Original file name without its extension.
    pub base_name: String,
    /// Original file name.
    pub file_name: String,
    /// `processing`, or `uploaded` while processing has not begun.
    pub status: String,
    /// `hashing`, `probing`, `encoding`, `assembling`, ...
    pub stage: String,
    /// Encoding progress.
    pub progress: ProgressItem,
    /// When processing began (or the upload completed): ISO 8601 UTC.
    pub uploaded_at: String,
    /// Whether the start already plays (at `hls_url`) while the rest encodes.
    pub playable: bool,
    /// HLS master playlist URL, once playable: its media playlists grow
    /// (`EXT-X-PLAYLIST-TYPE:EVENT`) until processing completes.
    pub hls_url: Option<String>,
    /// Seconds from the start that play so far.
    pub ready_until_s: Option<f64>,
}

/// `GET /status/<id>` while there is no manifest: `uploaded` (202) or `not_found` (404).
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusPlaceholder {
    /// `uploaded` or `not_found`.
    pub status: String,
    /// The video id, when known.
    pub video_id: Option<String>,
    /// `not_found` on 404.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A sentence for a person.
    pub message: String,
}

/// `DELETE /api/video/<id>` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeleteResponse {
    /// `deleted`.
    pub status: String,
    /// The video id.
    pub video_id: String,
    /// Objects removed from the store.
    pub objects_removed: usize,
}

/// `GET /healthz` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// The manifest as `GET /status/<id>` returns it (documentation only: the
/// body is `processed/<id>/manifest.json`, with more fields than listed).
#[derive(Debug, Serialize, ToSchema)]
pub struct ManifestDoc {
    /// Video id.
    pub video_id: String,
    /// `processing`, `processing_complete` or `processing_failed`.
    pub status: String,
    /// `hashing`, `probing`, `encoding`, `assembling`, `transcribing`, `done`.
    pub stage: String,
    /// Encoding progress.
    pub progress: ProgressItem,
    /// Why it failed, for a person.
    pub error: Option<String>,
    /// Asset keys (`hls_master`, `dash_mpd`, `thumbnails_vtt`, `sprites`, `poster`); serve them as `/stream/<key>`.
    #[schema(value_type = Object)]
    pub assets: serde_json::Value,
    /// Renditions.
    #[schema(value_type = Vec<Object>)]
    pub rungs: Vec<serde_json::Value>,
    /// `not_requested`, `pending`, `in_progress`, `completed`, `failed` or `no_audio`.
    pub transcription_status: String,
    /// Engine, job name, times and `error` of the transcription.
    #[schema(value_type = Object)]
    pub transcription: Option<serde_json::Value>,
    /// Subtitle tracks: `[{lang, name, vtt, srt, playlist}]` (keys; serve them as `/stream/<key>`).
    #[schema(value_type = Vec<Object>)]
    pub subtitles: Vec<serde_json::Value>,
    /// Downloads once complete: `[{kind, key, bytes}]`, `kind` `mp4` or `m4a` (serve them as `/stream/<key>`).
    #[schema(value_type = Vec<Object>)]
    pub downloads: Vec<serde_json::Value>,
    /// Present and true once the start plays (`assets.hls_master` is set
    /// then), while the rest still encodes, and after.
    pub playable: Option<bool>,
    /// Milliseconds from the start of processing until the video first played.
    pub playable_after_ms: Option<u64>,
    /// Seconds from the start that play so far (the duration once complete).
    pub ready_until_s: Option<f64>,
    /// With signed playback on, for callers allowed to play (the API key
    /// when one is set): a token, and the prefix to put before asset keys.
    pub playback: Option<PlaybackGrant>,
}

/// A playback token and the signed URLs of one video (`POST
/// /api/video/<id>/playback`; also in `/status` for callers allowed to play).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlaybackGrant {
    /// Video id.
    pub video_id: String,
    /// The token (`null` when signed playback is off: URLs need none).
    pub token: Option<String>,
    /// When the token stops working (ISO 8601, UTC).
    pub expires_at: Option<String>,
    /// Prefix for asset keys: `<stream_base><key>` is an object's URL
    /// (`/stream/t/<token>/`, or `/stream/` without signed playback).
    pub stream_base: String,
    /// The HLS master playlist, once the video plays.
    pub hls_url: Option<String>,
    /// The DASH MPD, once complete.
    pub dash_url: Option<String>,
}

/// The playback grant of `m` for a caller who gets `urls` (no token when
/// signed playback is off or the caller may not play).
pub fn playback_grant(
    m: &Manifest,
    urls: &crate::playback::Urls<'_>,
    config: &crate::ApiConfig,
) -> PlaybackGrant {
    let token = urls.token(&m.video_id);
    let stream_base = match &token {
        Some(t) => config.url(&format!("/stream/t/{}/", t.token)),
        None => config.url("/stream/"),
    };
    let asset = |k: &Option<String>| k.as_deref().map(|k| format!("{stream_base}{k}"));
    PlaybackGrant {
        video_id: m.video_id.to_string(),
        expires_at: token
            .as_ref()
            .map(|t| validate::iso8601(t.expires_s * 1000)),
        token: token.map(|t| t.token),
        hls_url: m.playable.then(|| asset(&m.assets.hls_master)).flatten(),
        dash_url: asset(&m.assets.dash_mpd),
        stream_base,
    }
}

/// The file name of a manifest's source.
pub fn source_name(m: &Manifest) -> String {
    match &m.source {
        Some(s) if !s.name.is_empty() => s.name.clone(),
        _ => m
            .upload_key
            .rsplit('/')
            .next()
            .unwrap_or(&m.upload_key)
            .to_owned(),
    }
}

/// A status or stage as its JSON string.
pub fn status_str(s: Status) -> &'static str {
    match s {
        Status::Processing => "processing",
        Status::ProcessingComplete => "processing_complete",
        Status::ProcessingFailed => "processing_failed",
    }
}

/// A stage as its JSON string.
pub fn stage_str(s: Stage) -> &'static str {
    match s {
        Stage::Hashing => "hashing",
        Stage::Probing => "probing",
        Stage::Encoding => "encoding",
        Stage::Assembling => "assembling",
        Stage::Transcribing => "transcribing",
        Stage::Done => "done",
    }
}

/// The `/stream/<key>` URL of an object key (keys under `processed/` hold no
/// characters that need escaping).
pub fn stream_path(key: &str) -> String {
    format!("/stream/{key}")
}

/// The list entry of a processed video; `url` turns a path into a URL.
pub fn video_item(m: &Manifest, url: &dyn Fn(&str) -> String) -> VideoItem {
    let asset = |k: &Option<String>| k.as_deref().map(|k| url(&stream_path(k)));
    let name = source_name(m);
    VideoItem {
        video_id: m.video_id.to_string(),
        status: status_str(m.status).to_owned(),
        ready_until_s: m.ready_until_s,
        base_name: validate::base_name(&name).to_owned(),
        hls_url: m.playable.then(|| asset(&m.assets.hls_master)).flatten(),
        dash_url: asset(&m.assets.dash_mpd),
        thumbnail_url: asset(&m.assets.poster),
        sprite: asset(&m.assets.thumbnails_vtt),
        sprites: m
            .assets
            .sprites
            .iter()
            .map(|k| url(&stream_path(k)))
            .collect(),
        presets: m.rungs.iter().map(|r| r.name.clone()).collect(),
        duration: m.duration_s,
        uploaded_at: validate::iso8601(m.created_ms),
        width: m.source.as_ref().map(|s| s.width),
        height: m.source.as_ref().map(|s| s.height),
        subtitles: m
            .subtitles
            .iter()
            .map(|t| SubtitleItem {
                lang: t.lang.clone(),
                name: t.name.clone(),
                url: url(&stream_path(&t.vtt)),
                srt_url: url(&stream_path(&t.srt)),
            })
            .collect(),
        transcription_status: serde_json::to_value(m.transcription_status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        transcription_error: m.transcription.as_ref().and_then(|t| t.error.clone()),
        downloads: m
            .downloads
            .iter()
            .map(|d| DownloadItem {
                kind: match d.kind {
                    DownloadKind::Mp4 => "mp4",
                    DownloadKind::M4a => "m4a",
                }
                .to_owned(),
                url: url(&stream_path(&d.key)),
                bytes: d.bytes,
            })
            .collect(),
        file_name: name,
    }
}

/// The entry of a video still processing.
pub fn transcoding_item(m: &Manifest, url: &dyn Fn(&str) -> String) -> TranscodingItem {
    let name = source_name(m);
    TranscodingItem {
        playable: m.playable,
        hls_url: m
            .playable
            .then(|| m.assets.hls_master.as_deref().map(|k| url(&stream_path(k))))
            .flatten(),
        ready_until_s: m.ready_until_s,
        video_id: m.video_id.to_string(),
        base_name: validate::base_name(&name).to_owned(),
        status: status_str(m.status).to_owned(),
        stage: stage_str(m.stage).to_owned(),
        progress: ProgressItem {
            fraction: m.progress.fraction,
            slices_done: m.progress.slices_done,
            slices_total: m.progress.slices_total,
            elapsed_ms: m.progress.elapsed_ms,
            eta_ms: m.progress.eta_ms,
        },
        uploaded_at: validate::iso8601(m.created_ms),
        file_name: name,
    }
}

/// Whether `GET /api/videos` lists a video: complete, or processing with its
/// start playable.
pub fn listed(m: &Manifest) -> bool {
    match m.status {
        Status::ProcessingComplete => true,
        Status::Processing => m.playable && m.assets.hls_master.is_some(),
        Status::ProcessingFailed => false,
    }
}

/// The list of videos that play (see [`listed`]), newest first.
pub fn video_list(manifests: &[&Manifest], url: &dyn Fn(&str) -> String) -> Vec<VideoItem> {
    let mut done: Vec<&Manifest> = manifests.iter().copied().filter(|m| listed(m)).collect();
    done.sort_by(|a, b| {
        b.created_ms
            .cmp(&a.created_ms)
            .then_with(|| a.video_id.cmp(&b.video_id))
    });
    done.into_iter().map(|m| video_item(m, url)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use slicecast_core::VideoId;
    use slicecast_core::manifest::{RungSummary, SourceSummary};

    fn manifest(c: char, created: u64, complete: bool) -> Manifest {
        let id = VideoId::parse(&c.to_string().repeat(32)).expect("id");
        let p = format!("processed/{id}");
        let mut m = Manifest::new(
            id,
            format!("uploads/u/clip {c}.v2.mp4"),
            created,
            created + 10,
        );
        m.source = Some(SourceSummary {
            name: format!("clip {c}.v2.mp4"),
            width: 1920,
            height: 1080,
            ..SourceSummary::default()
        });
        m.duration_s = Some(1.5);
        m.rungs = ["1080p", "720p"]
            .iter()
            .map(|n| RungSummary {
                name: (*n).into(),
                width: 0,
                height: 0,
                bitrate_kbps: 0,
                average_bitrate: 0,
                codecs: String::new(),
                playlist: format!("{p}/hls/{n}.m3u8"),
            })
            .collect();
        m.assets.hls_master = Some(format!("{p}/hls/master.m3u8"));
        m.assets.thumbnails_vtt = Some(format!("{p}/thumbnail/thumbnails.vtt"));
        m.assets.poster = Some(format!("{p}/thumbnail/poster.jpg"));
        m.assets.sprites = vec![format!("{p}/thumbnail/sprite_0.jpg")];
        if complete {
            m.completed(created + 5)
        } else {
            m
        }
    }

    #[test]
    fn video_items() {
        let m = manifest('a', 1_700_000_000_000, true);
        let item = video_item(&m, &|p| p.to_owned());
        let id = "a".repeat(32);
        assert_eq!(item.base_name, "clip a.v2");
        assert_eq!(item.file_name, "clip a.v2.mp4");
        assert_eq!(
            item.hls_url.as_deref(),
            Some(format!("/stream/processed/{id}/hls/master.m3u8").as_str())
        );
        assert_eq!(item.dash_url, None);
        assert_eq!(
            item.sprite.as_deref(),
            Some(format!("/stream/processed/{id}/thumbnail/thumbnails.vtt").as_str())
        );
        assert_eq!(item.presets, ["1080p", "720p"]);
        assert_eq!(item.uploaded_at, "2023-11-14T22:13:20Z");
        let json = serde_json::to_value(&item).expect("json");
        assert!(json["dash_url"].is_null());
        assert_eq!(json["subtitles"], serde_json::json!([]));
        let with_base = video_item(&m, &|p| format!("https://h{p}"));
        assert!(
            with_base
                .hls_url
                .unwrap_or_default()
                .starts_with("https://h/stream/")
        );
    }

    #[test]
    fn lists_complete_and_playable_newest_first() {
        let a = manifest('a', 1000, true);
        let b = manifest('b', 3000, true);
        let c = manifest('c', 2000, false);
        let failed = manifest('f', 4000, false).failed("no", 4001);
        let list = video_list(&[&a, &b, &c, &failed], &|p| p.to_owned());
        let ids: Vec<&str> = list.iter().map(|v| &v.video_id[..1]).collect();
        assert_eq!(ids, ["b", "a"]);
        assert_eq!(list[0].status, "processing_complete");
        assert_eq!(list[0].ready_until_s, Some(1.5));
        let playing = c
            .clone()
            .with_ready(8.0, "processed/c/hls/master.m3u8".into(), 2500);
        let list = video_list(&[&a, &b, &playing, &failed], &|p| p.to_owned());
        let ids: Vec<&str> = list.iter().map(|v| &v.video_id[..1]).collect();
        assert_eq!(ids, ["b", "c", "a"]);
        assert_eq!(list[1].status, "processing");
        assert_eq!(list[1].ready_until_s, Some(8.0));
        assert_eq!(
            list[1].hls_url.as_deref(),
            Some("/stream/processed/c/hls/master.m3u8")
        );
        assert_eq!(list[1].dash_url, None);
        let t = transcoding_item(&c, &|p| p.to_owned());
        assert_eq!(t.status, "processing");
        assert_eq!(t.stage, "probing");
        assert!(!t.playable && t.hls_url.is_none());
        let early = c.with_ready(8.0, "processed/c/hls/master.m3u8".into(), 2500);
        let t = transcoding_item(&early, &|p| format!("https://h{p}"));
        assert!(t.playable);
        assert_eq!(t.ready_until_s, Some(8.0));
        assert_eq!(
            t.hls_url.as_deref(),
            Some("https://h/stream/processed/c/hls/master.m3u8")
        );
    }
}

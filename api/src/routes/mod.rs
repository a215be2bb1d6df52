//! The handlers: thin glue between HTTP and the plain functions and traits
//! (the upload handlers in [`uploads`]).

use crate::AppState;
use crate::auth::authorised;
use crate::bodies::*;
use crate::error::{ApiError, ErrorBody};
use crate::index::UploadRecord;
use crate::playback::{Urls, now_s};
use crate::uploads::remove_upload_object;
use crate::validate;
use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use slicecast_coordinator::subtitles;
use slicecast_core::manifest::{Manifest, Status, TranscriptionStatus};
use slicecast_core::now_ms;
use slicecast_core::{VideoId, keys};
use std::collections::BTreeSet;
use std::time::Duration;

mod uploads;

pub use uploads::*;

/// `axum::Json` whose rejections answer `{error, message}`; a body over
/// [`crate::MAX_JSON_BYTES`] is 413.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::TooLarge(format!(
                    "the JSON body is larger than this server accepts ({} bytes)",
                    crate::MAX_JSON_BYTES
                )))
            }
            Err(r) => Err(r.into()),
        }
    }
}

/// `axum::extract::Path` whose rejections answer `{error, message}`.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// Resolves a video id or an original file name (its newest upload).
async fn resolve(s: &AppState, id_or_name: &str) -> Result<Option<VideoId>, ApiError> {
    let as_id = VideoId::parse(id_or_name).ok();
    if let Some(id) = &as_id
        && (s.store.head(&keys::manifest(id)).await.is_ok()
            || s.index.uploads_of(id).await?.is_some())
    {
        return Ok(as_id);
    }
    if let Some(rec) = s.index.newest_for_name(id_or_name).await? {
        return Ok(Some(rec.video_id));
    }
    Ok(as_id)
}

fn placeholder(code: StatusCode, status: &str, id: Option<&VideoId>, message: String) -> Response {
    let body = StatusPlaceholder {
        status: status.to_owned(),
        video_id: id.map(ToString::to_string),
        error: (code == StatusCode::NOT_FOUND).then(|| "not_found".to_owned()),
        message,
    };
    (code, Json(body)).into_response()
}

/// Why an upload nobody has claimed reads as failed, once it has waited
/// longer than a start can take: locally (`running == Some(false)`) the
/// heartbeat timeout, when processing runs elsewhere (`None`) the age limit of
/// the upload's event.
fn never_started(s: &AppState, u: &UploadRecord, running: Option<bool>) -> Option<String> {
    let (grace, reason) = match running {
        Some(false) => (
            s.config.heartbeat_timeout,
            "processing never started (the server stopped first); upload the file again to retry"
                .to_owned(),
        ),
        None => (
            s.config.remote_start_grace,
            format!(
                "processing never started: no coordinator picked the upload up within {} minutes; upload the file again to retry",
                s.config.remote_start_grace.as_secs() / 60
            ),
        ),
        Some(true) => return None,
    };
    (now_ms().saturating_sub(u.uploaded_ms) > grace.as_millis() as u64).then_some(reason)
}

/// A video's manifest, by id or by original file name.
#[utoipa::path(
    get,
    path = "/status/{video_id}",
    tag = "videos",
    params(("video_id" = String, Path, description = "video id (MD5) or original file name (then its newest upload)")),
    responses(
        (status = 200, description = "the manifest", body = ManifestDoc),
        (status = 202, description = "uploaded; processing has not begun", body = StatusPlaceholder),
        (status = 404, description = "`{status: \"not_found\"}`", body = StatusPlaceholder),
    )
)]
pub async fn status(
    State(s): State<AppState>,
    ApiPath(id_or_name): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let urls = Urls::new(&s.config, authorised(&s.config, &headers), now_s());
    let answer = |m: Manifest| manifest_answer(m, &urls, &s.config);
    let Some(id) = resolve(&s, &id_or_name).await? else {
        return Ok(placeholder(
            StatusCode::NOT_FOUND,
            "not_found",
            None,
            "no video with that id or file name".into(),
        ));
    };
    let hb = s.config.heartbeat_timeout;
    if let Some(m) = slicecast_coordinator::status(s.store.as_ref(), &id, hb).await? {
        // Fallback for a lost transcript event: ask the engine about a pending job.
        if let Some(t) = &s.transcriber
            && m.transcription_status == TranscriptionStatus::InProgress
            && m.transcription.as_ref().is_some_and(|t| t.job.is_some())
            && s.may_check_transcript(&id)
        {
            let checked = subtitles::check_pending(s.store.as_ref(), t.as_ref(), &id, None).await?;
            return answer(checked.unwrap_or(m));
        }
        return answer(m);
    }
    let running = s.processor.is_running(&id);
    let entry = s.index.uploads_of(&id).await?;
    let last = entry
        .as_ref()
        .and_then(|e| e.uploads.iter().max_by_key(|u| u.uploaded_ms));
    match (last, running) {
        (None, Some(false) | None) => Ok(placeholder(
            StatusCode::NOT_FOUND,
            "not_found",
            Some(&id),
            "no video with that id or file name".into(),
        )),
        // Uploaded, nobody has claimed it, and it has waited longer than a
        // start can take: record that as a failure.
        (Some(u), _) if let Some(reason) = never_started(&s, u, running) => {
            let now = now_ms();
            let m = Manifest::new(id.clone(), u.upload_key.clone(), now, now).failed(reason, now);
            let json = serde_json::to_vec_pretty(&m).map_err(ApiError::internal)?;
            s.store
                .put_if_absent(&keys::manifest(&id), bytes::Bytes::from(json))
                .await?;
            answer(m)
        }
        _ => Ok(placeholder(
            StatusCode::ACCEPTED,
            "uploaded",
            Some(&id),
            "uploaded; processing is about to begin".into(),
        )),
    }
}

/// A manifest as `/status` answers it: with a `playback` grant when signed
/// playback is on and the caller may play.
fn manifest_answer(
    m: Manifest,
    urls: &Urls<'_>,
    config: &crate::ApiConfig,
) -> Result<Response, ApiError> {
    if urls.token(&m.video_id).is_none() {
        return Ok(Json(m).into_response());
    }
    let grant = playback_grant(&m, urls, config);
    let mut doc = serde_json::to_value(&m).map_err(ApiError::internal)?;
    if let Some(o) = doc.as_object_mut() {
        o.insert(
            "playback".into(),
            serde_json::to_value(grant).map_err(ApiError::internal)?,
        );
    }
    Ok(Json(doc).into_response())
}

/// A playback token for one video, and its signed URLs: for servers that
/// hand videos to their own viewers when `SIGNED_PLAYBACK` is on (without
/// it the answer has no token, and the URLs need none).
#[utoipa::path(
    post,
    path = "/api/video/{video_id}/playback",
    tag = "videos",
    params(("video_id" = String, Path, description = "video id (MD5)")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, body = PlaybackGrant),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn playback(
    State(s): State<AppState>,
    ApiPath(video_id): ApiPath<String>,
) -> Result<Json<PlaybackGrant>, ApiError> {
    let not_found = || ApiError::NotFound("no video with that id".into());
    let id = VideoId::parse(&video_id).map_err(|_| not_found())?;
    let m = slicecast_coordinator::status(s.store.as_ref(), &id, s.config.heartbeat_timeout)
        .await?
        .ok_or_else(not_found)?;
    // The route sits behind the key check: the caller may play.
    let urls = Urls::new(&s.config, true, now_s());
    Ok(Json(playback_grant(&m, &urls, &s.config)))
}

/// Videos that play, newest first: processed ones, and those still
/// processing whose start already plays (`status: processing`).
#[utoipa::path(
    get,
    path = "/api/videos",
    tag = "videos",
    responses((status = 200, body = Vec<VideoItem>))
)]
pub async fn videos(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let urls = Urls::new(&s.config, authorised(&s.config, &headers), now_s());
    let json = s
        .catalog
        .videos_json(&|p| urls.url(p), urls.cache_salt())
        .await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        json,
    )
        .into_response())
}

/// Videos still processing (or uploaded and about to be), with progress.
#[utoipa::path(
    get,
    path = "/api/transcoding_status",
    tag = "videos",
    responses((status = 200, body = Vec<TranscodingItem>))
)]
pub async fn transcoding_status(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<TranscodingItem>>, ApiError> {
    let urls = Urls::new(&s.config, authorised(&s.config, &headers), now_s());
    let manifests = s.catalog.manifests().await?;
    let known: std::collections::HashSet<&VideoId> =
        manifests.iter().map(|m| &m.video_id).collect();
    let mut items = Vec::new();
    for m in manifests.iter().filter(|m| m.status == Status::Processing) {
        // Settle stale ones (deadline passed, heartbeat stopped) as failed.
        if let Some(m) =
            slicecast_coordinator::status(s.store.as_ref(), &m.video_id, s.config.heartbeat_timeout)
                .await?
            && m.status == Status::Processing
        {
            items.push(transcoding_item(&m, &|p| urls.url(p)));
        }
    }
    let hb_ms = s.config.heartbeat_timeout.as_millis() as u64;
    for id in s.index.ids().await? {
        if known.contains(&id) {
            continue;
        }
        let Some(entry) = s.index.uploads_of(&id).await? else {
            continue;
        };
        let Some(last) = entry.uploads.last() else {
            continue;
        };
        let running = s.processor.is_running(&id);
        if running == Some(false) && now_ms().saturating_sub(last.uploaded_ms) > hb_ms {
            continue;
        }
        items.push(TranscodingItem {
            video_id: id.to_string(),
            base_name: validate::base_name(&last.name).to_owned(),
            file_name: last.name.clone(),
            status: "uploaded".into(),
            stage: "hashing".into(),
            progress: ProgressItem {
                fraction: 0.0,
                slices_done: 0,
                slices_total: 0,
                elapsed_ms: now_ms().saturating_sub(last.uploaded_ms),
                eta_ms: None,
            },
            uploaded_at: validate::iso8601(last.uploaded_ms),
            playable: false,
            hls_url: None,
            ready_until_s: None,
        });
    }
    items.sort_by(|a, b| b.uploaded_at.cmp(&a.uploaded_at));
    Ok(Json(items))
}

/// Deletes a video: everything under `processed/<id>/`, its uploads and its
/// name entries. Processing still running here is stopped first.
#[utoipa::path(
    delete,
    path = "/api/video/{video_id}",
    tag = "videos",
    params(("video_id" = String, Path, description = "video id (MD5)")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, body = DeleteResponse),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn delete_video(
    State(s): State<AppState>,
    ApiPath(video_id): ApiPath<String>,
) -> Result<Json<DeleteResponse>, ApiError> {
    let not_found = || ApiError::NotFound(format!("no video {video_id:?}"));
    let id = VideoId::parse(&video_id).map_err(|_| not_found())?;
    let manifest: Option<Manifest> = match s.store.get(&keys::manifest(&id)).await {
        Ok(b) => serde_json::from_slice(&b).ok(),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e.into()),
    };
    let indexed = s.index.uploads_of(&id).await?;
    let had_dir = !s.store.list(&keys::video_prefix(&id)).await?.is_empty();
    if manifest.is_none() && indexed.is_none() && !had_dir {
        return Err(not_found());
    }
    let was_running = s.processor.cancel(&id).await;
    let prefix = keys::video_prefix(&id);
    let mut removed = s.store.delete_prefix(&prefix).await?;
    if was_running {
        // A cancelled coordinator's last heartbeat write may land just after.
        tokio::time::sleep(Duration::from_millis(300)).await;
        removed += s.store.delete_prefix(&prefix).await?;
    }
    let mut upload_keys: BTreeSet<String> = s
        .index
        .forget(&id)
        .await?
        .into_iter()
        .map(|u| u.upload_key)
        .collect();
    if let Some(m) = &manifest {
        upload_keys.insert(m.upload_key.clone());
    }
    for key in upload_keys {
        removed += remove_upload_object(s.store.as_ref(), &key).await?;
    }
    tracing::info!(video.id = %id, objects = removed, "video deleted");
    Ok(Json(DeleteResponse {
        status: "deleted".into(),
        video_id: id.to_string(),
        objects_removed: removed,
    }))
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// Unknown routes.
pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}

/// Known routes, wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

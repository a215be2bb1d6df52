//! The handlers: thin glue between HTTP and the plain functions and traits.

use crate::AppState;
use crate::bodies::*;
use crate::error::{ApiError, ErrorBody};
use crate::index::UploadRecord;
use crate::processor::StartRequest;
use crate::uploads::remove_upload_object;
use crate::validate::{self, MAX_PARTS};
use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use slicecast_coordinator::subtitles;
use slicecast_core::manifest::{Manifest, Status, TranscriptionStatus};
use slicecast_core::now_ms;
use slicecast_core::{VideoId, keys};
use std::collections::BTreeSet;
use std::time::Duration;

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

/// Starts a multipart upload.
#[utoipa::path(
    post,
    path = "/create_multipart_upload",
    tag = "upload",
    request_body = CreateUploadRequest,
    security((), ("bearer" = [])),
    responses(
        (status = 200, body = CreateUploadResponse),
        (status = 400, description = "bad JSON, missing fields, bad name (path separators, leading dot, invisible control or format characters), size below 1 or over MAX_UPLOAD_BYTES", body = ErrorBody),
        (status = 401, description = "API_KEY set and no matching bearer token", body = ErrorBody),
        (status = 413, description = "JSON body over 1 MiB", body = ErrorBody),
    )
)]
pub async fn create_upload(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<CreateUploadRequest>,
) -> Result<Json<CreateUploadResponse>, ApiError> {
    let name = validate::file_name(&req.file_name)?;
    let size = validate::file_size(&req.file_size, s.config.max_upload_bytes)?;
    let plan = validate::plan_parts(size, s.config.part_size, MAX_PARTS);
    let up = s.uploads.create(&name, size, plan).await?;
    Ok(Json(CreateUploadResponse {
        upload_id: up.upload_id,
        key: up.key,
        part_size: plan.part_size,
        urls: up.urls,
    }))
}

/// Receives one part (the URLs `create_multipart_upload` hands out).
#[utoipa::path(
    put,
    path = "/uploads/parts/{upload_id}/{part_number}",
    tag = "upload",
    params(
        ("upload_id" = String, Path, description = "the upload"),
        ("part_number" = u32, Path, description = "1-based part number"),
        ("expires" = u64, Query, description = "Unix time the URL expires"),
        ("signature" = String, Query, description = "hex HMAC-SHA256 over uploadId, partNumber, expires"),
    ),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the part's bytes"),
    responses(
        (status = 200, description = "stored", headers(("ETag" = String, description = "quoted hex MD5 of the part: send it back at completion"))),
        (status = 400, body = ErrorBody),
        (status = 403, description = "signature missing, wrong or expired", body = ErrorBody),
        (status = 404, description = "no such upload", body = ErrorBody),
        (status = 413, description = "larger than the part's planned size", body = ErrorBody),
    )
)]
pub async fn put_part(
    State(s): State<AppState>,
    ApiPath((upload_id, part)): ApiPath<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let part = validate::part_number(&part, MAX_PARTS)?;
    let content_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let md5 = s
        .uploads
        .receive_part(&upload_id, part, query.as_deref(), content_length, body)
        .await?;
    let etag = HeaderValue::from_str(&validate::etag_header(&md5)).map_err(ApiError::internal)?;
    Ok((StatusCode::OK, [(header::ETAG, etag)]).into_response())
}

/// What was received of an upload, and fresh part URLs (for resuming).
#[utoipa::path(
    get,
    path = "/multipart_upload/{upload_id}",
    tag = "upload",
    params(("upload_id" = String, Path, description = "the upload")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, body = UploadStateResponse),
        (status = 400, body = ErrorBody),
        (status = 401, description = "API_KEY set and no matching bearer token (fresh part URLs are a write capability)", body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn upload_state(
    State(s): State<AppState>,
    ApiPath(upload_id): ApiPath<String>,
) -> Result<Json<UploadStateResponse>, ApiError> {
    let id = validate::upload_id(&upload_id)?;
    let info = s.uploads.describe(&id).await?;
    Ok(Json(UploadStateResponse {
        upload_id: info.upload_id,
        file_name: info.file_name,
        file_size: info.file_size,
        part_size: info.part_size,
        parts: info
            .parts
            .into_iter()
            .map(|p| ReceivedPart {
                part_number: p.number,
                etag: validate::etag_header(&p.etag),
                size: p.size,
            })
            .collect(),
        urls: info.urls,
    }))
}

/// Completes an upload and starts processing it.
#[utoipa::path(
    post,
    path = "/complete_multipart_upload",
    tag = "upload",
    request_body = CompleteUploadRequest,
    security((), ("bearer" = [])),
    responses(
        (status = 200, body = CompleteUploadResponse),
        (status = 400, description = "bad JSON, missing or mismatching parts/ETags, parts not adding up to fileSize", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "no such upload", body = ErrorBody),
        (status = 409, description = "already being completed", body = ErrorBody),
        (status = 413, description = "the assembled object is larger than MAX_UPLOAD_BYTES (S3; it is deleted)", body = ErrorBody),
    )
)]
pub async fn complete_upload(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<CompleteUploadRequest>,
) -> Result<Json<CompleteUploadResponse>, ApiError> {
    let name = validate::file_name(&req.file_name)?;
    let upload_id = validate::upload_id(&req.upload_id)?;
    let parts: Vec<(u32, String)> = req
        .parts
        .into_iter()
        .map(|p| (p.part_number, p.etag))
        .collect();
    let parts = validate::completed_parts(&parts, MAX_PARTS)?;
    let done = s.uploads.complete(&upload_id, &name, &parts).await?;
    let id = done.video_id.clone();
    s.index
        .record(&UploadRecord {
            video_id: id.clone(),
            name: name.clone(),
            upload_key: done.key.clone(),
            uploaded_ms: now_ms(),
        })
        .await?;
    let existing =
        slicecast_coordinator::status(s.store.as_ref(), &id, s.config.heartbeat_timeout).await?;
    let status = match existing {
        Some(m) if m.status == Status::ProcessingComplete => {
            // Same bytes, already processed: nothing to do, the copy is not needed.
            if m.upload_key != done.key {
                remove_upload_object(s.store.as_ref(), &done.key).await?;
            }
            tracing::info!(video.id = %id, "same bytes already processed");
            Status::ProcessingComplete
        }
        Some(m) if m.status == Status::Processing && s.processor.is_running(&id) == Some(true) => {
            Status::Processing
        }
        _ => {
            s.processor.start(StartRequest {
                upload_key: done.key.clone(),
                video_id: id.clone(),
            });
            Status::Processing
        }
    };
    Ok(Json(CompleteUploadResponse {
        status: status_str(status).to_owned(),
        video_id: id.to_string(),
        file_name: name,
    }))
}

/// Discards an upload and its parts.
#[utoipa::path(
    post,
    path = "/abort_multipart_upload",
    tag = "upload",
    request_body = AbortUploadRequest,
    security((), ("bearer" = [])),
    responses(
        (status = 200, body = AbortUploadResponse),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn abort_upload(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<AbortUploadRequest>,
) -> Result<Json<AbortUploadResponse>, ApiError> {
    let id = validate::upload_id(&req.upload_id)?;
    s.uploads.abort(&id).await?;
    Ok(Json(AbortUploadResponse {
        status: "aborted".into(),
        upload_id: id,
    }))
}

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
) -> Result<Response, ApiError> {
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
            return Ok(Json(checked.unwrap_or(m)).into_response());
        }
        return Ok(Json(m).into_response());
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
            Ok(Json(m).into_response())
        }
        _ => Ok(placeholder(
            StatusCode::ACCEPTED,
            "uploaded",
            Some(&id),
            "uploaded; processing is about to begin".into(),
        )),
    }
}

/// Processed videos, newest first.
#[utoipa::path(
    get,
    path = "/api/videos",
    tag = "videos",
    responses((status = 200, body = Vec<VideoItem>))
)]
pub async fn videos(State(s): State<AppState>) -> Result<Response, ApiError> {
    let config = s.config.clone();
    let json = s.catalog.videos_json(&|p| config.url(p)).await?;
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
) -> Result<Json<Vec<TranscodingItem>>, ApiError> {
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
            items.push(transcoding_item(&m, &|p| s.config.url(p)));
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

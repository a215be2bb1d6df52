//! The multipart upload handlers: start, one part, resume, complete, abort.

use super::{ApiJson, ApiPath};
use crate::AppState;
use crate::bodies::*;
use crate::error::{ApiError, ErrorBody};
use crate::index::UploadRecord;
use crate::processor::StartRequest;
use crate::uploads::remove_upload_object;
use crate::validate::{self, MAX_PARTS};
use axum::Json;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use slicecast_core::manifest::Status;
use slicecast_core::now_ms;

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

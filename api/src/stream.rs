//! `GET /stream/<key>` and `GET /stream/t/<token>/<key>`: objects under
//! `processed/`, with HTTP Range; with signed playback on, only through a
//! token minted for the object's video ([`crate::playback`]).

use crate::AppState;
use crate::error::ApiError;
use crate::validate;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use bytes::Bytes;
use slicecast_storage::BlobStore;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Bytes read per chunk while streaming.
const CHUNK: usize = 64 * 1024;
/// Bytes fetched per `get_range` on stores without local files.
const REMOTE_CHUNK: u64 = 1024 * 1024;

/// Serves one object of a processed video.
#[utoipa::path(
    get,
    path = "/stream/{key}",
    tag = "stream",
    params(("key" = String, Path, description = "object key under `processed/<id>/`, as listed in a manifest's assets")),
    responses(
        (status = 200, description = "the whole object (Accept-Ranges: bytes)"),
        (status = 206, description = "the requested byte range (Content-Range)"),
        (status = 400, description = "malformed or traversing path", body = crate::error::ErrorBody),
        (status = 403, description = "signed playback is on and the path has no valid, unexpired token for this video", body = crate::error::ErrorBody),
        (status = 404, description = "no such object (or outside `processed/`)", body = crate::error::ErrorBody),
        (status = 416, description = "range outside the object", body = crate::error::ErrorBody),
    )
)]
pub async fn stream(
    State(s): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // The raw, still-encoded path: encoded traversal is refused before decoding.
    let raw = uri
        .path()
        .strip_prefix("/stream/")
        .ok_or_else(|| ApiError::NotFound("no such stream object".into()))?;
    let (token, raw) = crate::playback::split_token(raw);
    let key = validate::stream_key(raw)?;
    if let Some(signer) = &s.config.playback {
        // stream_key accepted only `processed/<valid id>/…`.
        let id = key
            .split('/')
            .nth(1)
            .and_then(|i| slicecast_core::VideoId::parse(i).ok())
            .ok_or_else(|| ApiError::NotFound("no such stream object".into()))?;
        signer
            .verify(token, &id, crate::playback::now_s())
            .map_err(|e| ApiError::Forbidden(e.to_string()))?;
    }
    let not_found = |e: slicecast_storage::StoreError| {
        if e.is_not_found() {
            ApiError::NotFound("no such stream object".into())
        } else {
            e.into()
        }
    };
    if s.store.local_path(&key).is_none() && !is_document(&key) {
        // An object store serves media bytes (and ranges) itself: redirect to a
        // presigned GET. Playlists, the MPD and WebVTT are served from here
        // instead, so the relative URIs inside them resolve against
        // `/stream/...` (each one then redirected and signed), not against an
        // S3 URL whose signature would not cover them.
        s.store.head(&key).await.map_err(not_found)?;
        let url = s.store.readable_location(&key).await?;
        return Response::builder()
            .status(StatusCode::TEMPORARY_REDIRECT)
            .header(header::LOCATION, url)
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::empty())
            .map_err(|e| ApiError::Internal(e.to_string()));
    }
    let meta = s.store.head(&key).await.map_err(|e| {
        if e.is_not_found() {
            ApiError::NotFound("no such stream object".into())
        } else {
            e.into()
        }
    })?;
    let size = meta.size;
    let range = parse_range(
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        size,
    );
    let (status, start, len) = match range {
        RangeRequest::Full => (StatusCode::OK, 0, size),
        RangeRequest::Partial { start, end } => {
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        RangeRequest::Unsatisfiable => return Err(ApiError::RangeNotSatisfiable { size }),
    };
    let body = open(&s.store, &key, start, len).await?;
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(validate::content_type(&key)),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(validate::cache_control(&key)),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if status == StatusCode::PARTIAL_CONTENT {
        let v = format!("bytes {start}-{}/{size}", start + len - 1);
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(resp)
}

/// A body streaming `len` bytes of `key` from `start`: from the local file
/// when there is one, otherwise in `get_range` chunks.
/// Small text documents that reference other objects by relative URI.
fn is_document(key: &str) -> bool {
    let ext = key.rsplit_once('.').map_or("", |(_, e)| e);
    matches!(ext, "m3u8" | "mpd" | "vtt" | "srt" | "json")
}

async fn open(
    store: &Arc<dyn BlobStore>,
    key: &str,
    start: u64,
    len: u64,
) -> Result<Body, ApiError> {
    if let Some(path) = store.local_path(key) {
        let mut f = tokio::fs::File::open(&path).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                ApiError::NotFound("no such stream object".into())
            } else {
                ApiError::Internal(format!("opening {key}: {e}"))
            }
        })?;
        if start > 0 {
            f.seek(std::io::SeekFrom::Start(start))
                .await
                .map_err(|e| ApiError::Internal(format!("seeking in {key}: {e}")))?;
        }
        let reader = f.take(len);
        return Ok(Body::from_stream(
            tokio_util::io::ReaderStream::with_capacity(reader, CHUNK),
        ));
    }
    let store = store.clone();
    let key = key.to_owned();
    let end = start + len;
    let chunks = futures::stream::try_unfold(start, move |pos| {
        let (store, key) = (store.clone(), key.clone());
        async move {
            if pos >= end {
                return Ok::<_, slicecast_storage::StoreError>(None);
            }
            let b: Bytes = store
                .get_range(&key, pos, REMOTE_CHUNK.min(end - pos))
                .await?;
            if b.is_empty() {
                return Ok(None);
            }
            let next = pos + b.len() as u64;
            Ok(Some((b, next)))
        }
    });
    Ok(Body::from_stream(chunks))
}

/// What a `Range` header asks of an object of a given size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// The whole object (no header, or one we may ignore: other units,
    /// several ranges, bad syntax).
    Full,
    /// Bytes `start ..= end` (inclusive, `end < size`).
    Partial {
        /// First byte.
        start: u64,
        /// Last byte, inclusive.
        end: u64,
    },
    /// No byte of the object is in the range (416).
    Unsatisfiable,
}

/// Parses a `Range` header value against an object of `size` bytes (RFC 9110:
/// one `bytes=` range; suffix ranges `-n`; open ranges `n-`).
pub fn parse_range(header: Option<&str>, size: u64) -> RangeRequest {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Full;
    };
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeRequest::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        // Suffix: the last n bytes.
        let Ok(n) = b.parse::<u64>() else {
            return RangeRequest::Full;
        };
        if n == 0 || size == 0 {
            return RangeRequest::Unsatisfiable;
        }
        return RangeRequest::Partial {
            start: size.saturating_sub(n),
            end: size - 1,
        };
    }
    let Ok(start) = a.parse::<u64>() else {
        return RangeRequest::Full;
    };
    let end = if b.is_empty() {
        u64::MAX
    } else {
        match b.parse::<u64>() {
            Ok(e) if e >= start => e,
            _ => return RangeRequest::Full,
        }
    };
    if start >= size {
        return RangeRequest::Unsatisfiable;
    }
    RangeRequest::Partial {
        start,
        end: end.min(size - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeRequest::*;
        let r = |h: &str| parse_range(Some(h), 100);
        assert_eq!(parse_range(None, 100), Full);
        assert_eq!(r("bytes=0-9"), Partial { start: 0, end: 9 });
        assert_eq!(r("bytes=90-"), Partial { start: 90, end: 99 });
        assert_eq!(r("bytes=90-500"), Partial { start: 90, end: 99 });
        assert_eq!(r("bytes=-10"), Partial { start: 90, end: 99 });
        assert_eq!(r("bytes=-500"), Partial { start: 0, end: 99 });
        assert_eq!(r("bytes=100-"), Unsatisfiable);
        assert_eq!(r("bytes=100-200"), Unsatisfiable);
        assert_eq!(r("bytes=-0"), Unsatisfiable);
        assert_eq!(r("bytes=5-1"), Full);
        assert_eq!(r("bytes=0-1,5-6"), Full);
        assert_eq!(r("items=0-1"), Full);
        assert_eq!(r("bytes=x-1"), Full);
        assert_eq!(parse_range(Some("bytes=0-"), 0), Unsatisfiable);
    }
}

//! The API's error type and its JSON shape (`{error, message}`).

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use slicecast_storage::StoreError;

/// Everything a request can fail with. Each variant maps to one status code;
/// the body is always `{"error": <code>, "message": <sentence>}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or asks for something impossible (400).
    #[error("{0}")]
    Invalid(String),
    /// No such upload, video, object or route (404).
    #[error("{0}")]
    NotFound(String),
    /// A mutating route without the right `Authorization: Bearer` key (401).
    #[error("this route needs `Authorization: Bearer <API_KEY>`")]
    Unauthorized,
    /// A part URL whose signature is wrong or expired (403).
    #[error("{0}")]
    Forbidden(String),
    /// The request conflicts with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// A body larger than allowed (413).
    #[error("{0}")]
    TooLarge(String),
    /// A JSON route called without `Content-Type: application/json` (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A `Range` outside the object (416); carries the object's size.
    #[error("the requested range is outside the object ({size} bytes)")]
    RangeNotSatisfiable {
        /// Object size in bytes.
        size: u64,
    },
    /// The route exists but not for this method (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The store failed (500, or 404/400 for missing or invalid keys).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything else that is our fault (500).
    #[error("{0}")]
    Internal(String),
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A short machine-readable code (`invalid_request`, `not_found`, `unauthorized`, ...).
    pub error: String,
    /// What went wrong, for a person.
    pub message: String,
}

impl ApiError {
    /// The HTTP status code.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Invalid(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Store(StoreError::NotFound(_)) => StatusCode::NOT_FOUND,
            Self::Store(StoreError::InvalidKey(_)) => StatusCode::BAD_REQUEST,
            Self::Store(StoreError::Io { .. }) | Self::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// The machine-readable code of the body.
    pub fn code(&self) -> &'static str {
        match self.status() {
            StatusCode::BAD_REQUEST => "invalid_request",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::CONFLICT => "conflict",
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::RANGE_NOT_SATISFIABLE => "range_not_satisfiable",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            _ => "internal_error",
        }
    }

    /// A 500 from anything displayable.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self::Internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            // Never show store paths or I/O details to clients; log them once here.
            Self::Store(StoreError::Io { .. }) | Self::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                "an internal error occurred; it has been logged".to_owned()
            }
            Self::Store(StoreError::NotFound(_)) => "no such object".to_owned(),
            Self::Store(StoreError::InvalidKey(_)) => "invalid object key".to_owned(),
            other => slicecast_core::public::public_text(&other.to_string()),
        };
        let body = ErrorBody {
            error: self.code().to_owned(),
            message,
        };
        let mut resp = (status, Json(body)).into_response();
        match &self {
            Self::Unauthorized => {
                resp.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::RangeNotSatisfiable { size } => {
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    resp.headers_mut().insert(header::CONTENT_RANGE, v);
                }
            }
            _ => {}
        }
        resp
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType(
                "send the body as JSON with `Content-Type: application/json`".into(),
            ),
            JsonRejection::JsonSyntaxError(e) => {
                Self::Invalid(format!("the body is not valid JSON: {}", e.body_text()))
            }
            JsonRejection::JsonDataError(e) => Self::Invalid(format!(
                "the JSON does not fit this request: {}",
                e.body_text()
            )),
            other => Self::Invalid(format!("could not read the body: {}", other.body_text())),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::Invalid(format!("bad path: {}", r.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_statuses() {
        assert_eq!(ApiError::Invalid("x".into()).code(), "invalid_request");
        assert_eq!(
            ApiError::Store(StoreError::NotFound("k".into())).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(ApiError::internal("boom").code(), "internal_error");
        assert_eq!(
            ApiError::RangeNotSatisfiable { size: 3 }.status(),
            StatusCode::RANGE_NOT_SATISFIABLE
        );
    }
}

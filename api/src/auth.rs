//! `API_KEY` bearer auth for mutating routes, and the CORS layer.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

/// True when `authorization` is `Bearer <key>` (scheme case-insensitive; the
/// key compared in constant time).
pub fn bearer_matches(authorization: Option<&str>, key: &str) -> bool {
    let Some(v) = authorization else {
        return false;
    };
    let Some((scheme, token)) = v.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return false;
    }
    let (a, b) = (token.trim().as_bytes(), key.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether a request may have what the key guards: always without `API_KEY`,
/// else only with the bearer key (playback tokens follow the same rule).
pub fn authorised(config: &crate::ApiConfig, headers: &axum::http::HeaderMap) -> bool {
    config.api_key.as_deref().is_none_or(|key| {
        bearer_matches(
            headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok()),
            key,
        )
    })
}

/// Middleware: with `API_KEY` set, answers 401 unless the bearer token matches.
pub async fn require_api_key(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if !authorised(&s.config, req.headers()) {
        return ApiError::Unauthorized.into_response();
    }
    next.run(req).await
}

/// The CORS layer for `origins` (`*` = any); `None` when the list is empty.
pub fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                Method::GET,
                Method::HEAD,
                Method::POST,
                Method::PUT,
                Method::DELETE,
                Method::OPTIONS,
            ])
            .allow_headers(Any)
            .expose_headers([
                header::ETAG,
                header::CONTENT_RANGE,
                header::CONTENT_LENGTH,
                header::ACCEPT_RANGES,
                HeaderName::from_static("x-request-id"),
            ])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens() {
        assert!(bearer_matches(Some("Bearer s3cret"), "s3cret"));
        assert!(bearer_matches(Some("bearer s3cret"), "s3cret"));
        assert!(!bearer_matches(Some("Bearer s3cre"), "s3cret"));
        assert!(!bearer_matches(Some("Bearer s3cretx"), "s3cret"));
        assert!(!bearer_matches(Some("Basic s3cret"), "s3cret"));
        assert!(!bearer_matches(Some("s3cret"), "s3cret"));
        assert!(!bearer_matches(None, "s3cret"));
    }

    #[test]
    fn cors_layers() {
        assert!(cors(&[]).is_none());
        assert!(cors(&["*".into()]).is_some());
        assert!(cors(&["http://a:1".into()]).is_some());
    }
}

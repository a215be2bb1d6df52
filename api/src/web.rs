//! The web page: `GET /` and `GET /web/*` from the web folder.

use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

/// Shown at `/` while the web folder has no `index.html`.
pub const PLACEHOLDER: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>slicecast</title></head>\n<body><h1>slicecast</h1><p>The API is running. The web page is not installed (no <code>index.html</code> in the web folder).</p>\n<p>See <a href=\"/api/openapi.json\">/api/openapi.json</a> and <a href=\"/api/videos\">/api/videos</a>.</p></body></html>\n";

/// `GET /`: `<web-dir>/index.html`, or a placeholder.
pub async fn index(State(s): State<AppState>) -> Response {
    let page = match &s.config.web_dir {
        Some(dir) => tokio::fs::read(dir.join("index.html")).await.ok(),
        None => None,
    };
    let mut resp = match page {
        Some(bytes) => Html(bytes).into_response(),
        None => Html(PLACEHOLDER).into_response(),
    };
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

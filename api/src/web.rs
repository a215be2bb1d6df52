//! The web page: `GET /` and `GET /web/*` from the web folder. Only the page's
//! own assets are served ([`ASSETS`]); every other file of the folder
//! (`package.json`, `install.sh`, the README, tests, the rest of
//! `node_modules`) answers 404.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use tower::ServiceExt;

/// Shown at `/` while the web folder has no `index.html`.
pub const PLACEHOLDER: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>slicecast</title></head>\n<body><h1>slicecast</h1><p>The API is running. The web page is not installed (no <code>index.html</code> in the web folder).</p>\n<p>See <a href=\"/api/openapi.json\">/api/openapi.json</a> and <a href=\"/api/videos\">/api/videos</a>.</p></body></html>\n";

/// Every file `/web/<path>` serves, relative to the web folder: the page
/// (`index.html`, `style.css`, and the ES modules under `js/` that `index.html`
/// loads from `js/main.js`) and the player libraries the page loads (with
/// their source maps).
pub const ASSETS: &[&str] = &[
    "index.html",
    "embed.html",
    "style.css",
    "js/main.js",
    "js/util.js",
    "js/format.js",
    "js/api.js",
    "js/toast.js",
    "js/settings.js",
    "js/upload.js",
    "js/upload-ui.js",
    "js/jobs.js",
    "js/stages.js",
    "js/library.js",
    "js/items.js",
    "js/vtt.js",
    "js/sniff.js",
    "js/share.js",
    "js/embed.js",
    "js/player/index.js",
    "js/player/engines.js",
    "js/player/seekbar.js",
    "js/player/subtitles.js",
    "js/player/layout.js",
    "js/player/share.js",
    "node_modules/hls.js/dist/hls.min.js",
    "node_modules/hls.js/dist/hls.min.js.map",
    "node_modules/shaka-player/dist/shaka-player.compiled.js",
    "node_modules/shaka-player/dist/shaka-player.compiled.map",
];

/// Whether `/web/<path>` may be served: an exact entry of [`ASSETS`].
pub fn is_asset(path: &str) -> bool {
    ASSETS.contains(&path)
}

/// `<web-dir>/<file>` as an HTML page (revalidated on every load), or
/// `placeholder` while the web folder lacks it.
async fn html_page(s: &AppState, file: &str, placeholder: &'static str) -> Response {
    let page = match &s.config.web_dir {
        Some(dir) => tokio::fs::read(dir.join(file)).await.ok(),
        None => None,
    };
    let mut resp = match page {
        Some(bytes) => Html(bytes).into_response(),
        None => Html(placeholder).into_response(),
    };
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// `GET /`: `<web-dir>/index.html`, or a placeholder.
pub async fn index(State(s): State<AppState>) -> Response {
    html_page(&s, "index.html", PLACEHOLDER).await
}

/// Shown at `/embed/<id>` while the web folder has no `embed.html`.
pub const EMBED_PLACEHOLDER: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>slicecast video</title></head>\n<body><h1>slicecast video</h1><p>The embed player is not installed (no <code>embed.html</code> in the web folder).</p></body></html>\n";

/// `GET /embed/<id>`: the embed player (`<web-dir>/embed.html`, which reads
/// the id from its own address), for a well-formed video id; 404 otherwise.
/// Whether the video exists and is ready is the player's to say.
pub async fn embed(
    State(s): State<AppState>,
    Path(video_id): Path<String>,
) -> Result<Response, ApiError> {
    if slicecast_core::VideoId::parse(&video_id).is_err() {
        return Err(ApiError::NotFound("no such video".into()));
    }
    Ok(html_page(&s, "embed.html", EMBED_PLACEHOLDER).await)
}

/// `GET /web/<path>`: one of [`ASSETS`] from the web folder (with ranges and
/// conditional requests); anything else is 404.
pub async fn asset(
    State(s): State<AppState>,
    Path(path): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound("no such file of the web page".into());
    let Some(dir) = &s.config.web_dir else {
        return Err(not_found());
    };
    if !is_asset(&path) {
        return Err(not_found());
    }
    let file = tower_http::services::ServeFile::new(dir.join(&path));
    let resp = file
        .oneshot(req)
        .await
        .map_err(|e| ApiError::Internal(format!("serving {path}: {e}")))?;
    if resp.status() == axum::http::StatusCode::NOT_FOUND {
        return Err(not_found());
    }
    let mut resp = resp.map(axum::body::Body::new);
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_pages_assets() {
        for ok in ASSETS {
            assert!(is_asset(ok), "{ok}");
        }
        for bad in [
            "package.json",
            "package-lock.json",
            "install.sh",
            "README.md",
            "tests/page.mjs",
            "node_modules/playwright-core/package.json",
            "node_modules/hls.js/package.json",
            "node_modules/hls.js/dist/hls.js",
            "../Cargo.toml",
            "app.js",
            "js/",
            "js",
            "./js/main.js",
            "js/main.js/",
            "js//main.js",
            "js/../js/main.js",
            "JS/MAIN.JS",
            "eslint.config.js",
            "tests/unit/format.test.mjs",
            "",
        ] {
            assert!(!is_asset(bad), "{bad}");
        }
    }
}

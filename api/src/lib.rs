//! slicecast-api: the REST API of slicecast as an axum [`Router`].
//!
//! [`app`] builds the router from an [`AppState`]; the same router runs under
//! `slicecast serve` (tokio + hyper) and, on AWS, as the `api` function behind
//! a Lambda Function URL (`slicecast-lambda`). The parts that differ between
//! the two deployments sit behind two small traits: [`UploadBackend`] (the
//! upload-URL scheme: [`LocalUploads`] hands out signed URLs of this API,
//! `S3Uploads` presigned S3 URLs) and [`Processor`] (the "start processing"
//! action: [`LocalProcessor`] runs the coordinator in background tasks over
//! one shared worker pool, [`EventProcessor`] leaves it to the upload's S3
//! event). The AWS parts build only with the `aws` feature.
//!
//! Routes (JSON field names as in the service slicecast replaces):
//!
//! | route | what |
//! | --- | --- |
//! | `POST /create_multipart_upload` | `{fileName, fileSize}` → `{uploadId, key, partSize, urls[]}` |
//! | `PUT /uploads/parts/<uploadId>/<n>?expires&signature` | one part; answers `ETag` |
//! | `GET /multipart_upload/<uploadId>` | parts received + fresh URLs (resume; needs the key when `API_KEY` is set) |
//! | `POST /complete_multipart_upload` | `{fileName, uploadId, parts[{PartNumber, ETag}]}` → `{status, video_id}` |
//! | `POST /abort_multipart_upload` | `{uploadId}` |
//! | `GET /status/<id or file name>` | the manifest; 202 `uploaded`; 404 `not_found` |
//! | `GET /api/videos` | videos that play (processed, or still processing with their start ready), newest first |
//! | `GET /api/transcoding_status` | videos still processing |
//! | `DELETE /api/video/<id>` | removes every object of a video |
//! | `GET /stream/<key>` | objects under `processed/`, with Range; `/stream/t/<token>/<key>` through a playback token (the only way with `SIGNED_PLAYBACK`) |
//! | `POST /api/video/<id>/playback` | a playback token and the video's signed URLs (needs the key when `API_KEY` is set) |
//! | `GET /api/openapi.json`, `GET /healthz` | description, liveness |
//! | `GET /`, `GET /web/*` | the web page (only its own assets) |
//! | `GET /embed/<id>` | the embed player page of a video (for an `<iframe>`) |
//!
//! [`serve_with`] runs the router over hyper with a header-read timeout, a
//! body idle timeout and a connection limit; [`sweep`] removes abandoned
//! multipart uploads and the uploads of failed videos.

mod auth;
pub mod bodies;
mod catalog;
mod config;
mod error;
mod index;
pub mod playback;
mod processor;
mod resume;
mod routes;
#[cfg(feature = "aws")]
mod s3_uploads;
mod server;
mod sign;
pub mod stream;
mod sweep;
mod uploads;
pub mod validate;
mod web;

pub use auth::bearer_matches;
pub use config::{ApiConfig, DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_PART_SIZE};
pub use error::{ApiError, ErrorBody};
pub use index::{IdEntry, NameEntry, UploadRecord, id_key, name_key};
pub use processor::{EventProcessor, LocalProcessor, Processor, StartRequest};
pub use resume::resume_interrupted;
#[cfg(feature = "aws")]
pub use s3_uploads::S3Uploads;
pub use server::{
    BodyIdleTimeout, DEFAULT_BODY_IDLE_TIMEOUT, DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    ServeOptions, is_body_idle_timeout, serve, serve_with,
};
pub use sign::{PartSigner, SignatureError};
pub use sweep::{SweepReport, sweep};
pub use uploads::{CompletedUpload, LocalUploads, NewUpload, PartInfo, UploadBackend, UploadInfo};
pub use web::ASSETS as WEB_ASSETS;

use axum::Router;
use axum::routing::{delete, get, post, put};
use slicecast_coordinator::subtitles::Transcriber;
use slicecast_coordinator::{Invoker, Settings};
use slicecast_core::VideoId;
#[cfg(feature = "aws")]
use slicecast_storage::S3Store;
use slicecast_storage::{BlobStore, FsStore};
use std::sync::{Arc, OnceLock};
use utoipa::OpenApi;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// Uploads, manifests and outputs (a folder locally, the bucket on AWS).
    pub store: Arc<dyn BlobStore>,
    /// Who hands out part URLs and completes multipart uploads.
    pub uploads: Arc<dyn UploadBackend>,
    /// What a completed upload starts.
    pub processor: Arc<dyn Processor>,
    pub config: Arc<ApiConfig>,
    /// The speech engine whose pending jobs status reads ask about (Amazon
    /// Transcribe on AWS; `None` locally, where engines answer at once).
    pub transcriber: Option<Arc<dyn Transcriber>>,
    transcript_checks:
        Arc<std::sync::Mutex<std::collections::HashMap<VideoId, std::time::Instant>>>,
    catalog: Arc<catalog::Catalog>,
    index: Arc<index::Index>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State from its parts.
    pub fn new(
        store: Arc<dyn BlobStore>,
        uploads: Arc<dyn UploadBackend>,
        processor: Arc<dyn Processor>,
        config: ApiConfig,
    ) -> Self {
        Self {
            catalog: Arc::new(catalog::Catalog::new(store.clone())),
            index: Arc::new(index::Index::new(store.clone())),
            store,
            uploads,
            processor,
            config: Arc::new(config),
            transcriber: None,
            transcript_checks: Arc::default(),
        }
    }

    /// With a speech engine whose pending jobs status reads ask about.
    pub fn with_transcriber(mut self, transcriber: Option<Arc<dyn Transcriber>>) -> Self {
        self.transcriber = transcriber;
        self
    }

    /// Whether a status read may ask the speech engine about `id` now: at most
    /// once per `ApiConfig::transcript_check_every` per video.
    pub(crate) fn may_check_transcript(&self, id: &VideoId) -> bool {
        let Ok(mut last) = self.transcript_checks.lock() else {
            return false;
        };
        let now = std::time::Instant::now();
        let every = self.config.transcript_check_every;
        last.retain(|_, t| now.duration_since(*t) < every);
        if last.contains_key(id) {
            return false;
        }
        last.insert(id.clone(), now);
        true
    }

    /// The local deployment: uploads and processing on a filesystem store,
    /// every video's jobs through `invoker` (one shared worker pool). Part
    /// URLs are signed with a fresh random key.
    pub fn local(
        store: FsStore,
        invoker: Arc<dyn Invoker>,
        settings: Settings,
        mut config: ApiConfig,
    ) -> Result<Self, ApiError> {
        config.heartbeat_timeout = settings.heartbeat_timeout;
        let signer = PartSigner::random()
            .map_err(|e| ApiError::Internal(format!("no randomness for the URL key: {e}")))?;
        let shared: Arc<dyn BlobStore> = Arc::new(store.clone());
        let uploads = Arc::new(LocalUploads::new(store, signer, config.clone()));
        let processor = Arc::new(LocalProcessor::new(shared.clone(), invoker, settings));
        Ok(Self::new(shared, uploads, processor, config))
    }
}

#[cfg(feature = "aws")]
impl AppState {
    /// The AWS deployment: objects in S3, browsers upload parts straight to
    /// presigned S3 URLs ([`S3Uploads`]), and the upload's S3 event starts
    /// the coordinator function ([`EventProcessor`]).
    pub fn aws(store: S3Store, config: ApiConfig) -> Self {
        let uploads =
            Arc::new(S3Uploads::new(store.clone()).with_max_upload_bytes(config.max_upload_bytes));
        Self::new(Arc::new(store), uploads, Arc::new(EventProcessor), config)
    }
}

/// The OpenAPI description of every route.
#[derive(OpenApi)]
#[openapi(
    info(title = "slicecast", description = "Chunk-parallel video transcoding: multipart uploads, status, listing, streaming."),
    paths(
        routes::create_upload,
        routes::put_part,
        routes::upload_state,
        routes::complete_upload,
        routes::abort_upload,
        routes::status,
        routes::videos,
        routes::transcoding_status,
        routes::delete_video,
        routes::playback,
        stream::stream,
        routes::healthz,
        openapi_json,
    ),
    components(schemas(
        ErrorBody,
        bodies::CreateUploadRequest,
        bodies::CreateUploadResponse,
        bodies::CompletedPart,
        bodies::CompleteUploadRequest,
        bodies::CompleteUploadResponse,
        bodies::AbortUploadRequest,
        bodies::AbortUploadResponse,
        bodies::ReceivedPart,
        bodies::UploadStateResponse,
        bodies::VideoItem,
        bodies::SubtitleItem,
        bodies::DownloadItem,
        bodies::ProgressItem,
        bodies::TranscodingItem,
        bodies::StatusPlaceholder,
        bodies::DeleteResponse,
        bodies::ManifestDoc,
        bodies::PlaybackGrant,
        bodies::Health,
    )),
    modifiers(&BearerScheme),
)]
pub struct ApiDoc;

struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// This description.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3 JSON")))]
async fn openapi_json() -> axum::response::Response {
    use axum::response::IntoResponse;
    static DOC: OnceLock<String> = OnceLock::new();
    let json = DOC.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_else(|_| "{}".into()));
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json.clone(),
    )
        .into_response()
}

/// Largest JSON request body (a completion listing 10 000 parts fits); larger
/// ones are answered 413.
pub const MAX_JSON_BYTES: usize = 1024 * 1024;

/// The router: every route of the API plus the web page.
pub fn app(state: AppState) -> Router {
    // Routes that change state, and the resume route (it hands out fresh
    // part URLs: a write capability).
    let keyed = Router::new()
        .route("/create_multipart_upload", post(routes::create_upload))
        .route("/complete_multipart_upload", post(routes::complete_upload))
        .route("/abort_multipart_upload", post(routes::abort_upload))
        .route("/multipart_upload/{upload_id}", get(routes::upload_state))
        .route("/api/video/{video_id}", delete(routes::delete_video))
        .route("/api/video/{video_id}/playback", post(routes::playback))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_api_key,
        ));
    let router = Router::new()
        .merge(keyed)
        .route(
            "/uploads/parts/{upload_id}/{part_number}",
            put(routes::put_part),
        )
        .route("/status/{video_id}", get(routes::status))
        .route("/api/videos", get(routes::videos))
        .route("/api/transcoding_status", get(routes::transcoding_status))
        .route("/stream/{*key}", get(stream::stream))
        .route("/api/openapi.json", get(openapi_json))
        .route("/healthz", get(routes::healthz))
        .route("/", get(web::index))
        .route("/embed/{video_id}", get(web::embed))
        .route("/web/{*path}", get(web::asset));
    let cors = auth::cors(&state.config.cors_origins);
    let router = router
        .layer(axum::extract::DefaultBodyLimit::max(MAX_JSON_BYTES))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .with_state(state);
    match cors {
        Some(layer) => router.layer(layer),
        None => router,
    }
}

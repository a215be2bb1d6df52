//! Shared helpers of the api tests: a real server on a real port over a
//! filesystem store in a temporary directory.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use anyhow::{Context, ensure};
use async_trait::async_trait;
use serde_json::{Value, json};
use slicecast_api::{
    ApiConfig, AppState, LocalUploads, PartSigner, Processor, ServeOptions, StartRequest,
    UploadBackend,
};
use slicecast_core::VideoId;
use slicecast_storage::{BlobStore, FsStore};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The key part URLs are signed with in tests (so a test can forge expired ones).
pub const KEY: [u8; 32] = [42; 32];

/// A shared test clip.
/// A config with 10-byte parts and a 1000-byte upload limit.
pub fn small() -> ApiConfig {
    ApiConfig {
        part_size: 10,
        max_upload_bytes: 1000,
        ..ApiConfig::default()
    }
}

/// Where a local multipart upload keeps its parts.
pub fn multipart_dir(s: &Server, id: &str) -> PathBuf {
    s.dir.path().join("store/multipart").join(id)
}

pub fn media(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/media")
        .join(name)
}

/// A processor that only records what it was asked to start.
#[derive(Default)]
pub struct Recorder {
    /// Every start request, in order.
    pub started: Mutex<Vec<StartRequest>>,
}

#[async_trait]
impl Processor for Recorder {
    fn start(&self, req: StartRequest) {
        if let Ok(mut s) = self.started.lock() {
            s.push(req);
        }
    }
    async fn cancel(&self, _id: &VideoId) -> bool {
        false
    }
    fn is_running(&self, _id: &VideoId) -> Option<bool> {
        None
    }
}

/// A running server.
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// `127.0.0.1:<port>`.
    pub addr: String,
    /// The store.
    pub store: FsStore,
    /// Its temporary directory (the store is `dir/store`).
    pub dir: tempfile::TempDir,
    /// A client.
    pub http: reqwest::Client,
    /// The recording processor, when the server has one.
    pub recorder: Option<Arc<Recorder>>,
}

async fn listen(state: AppState, opts: ServeOptions) -> anyhow::Result<(String, String)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    tokio::spawn(slicecast_api::serve_with(
        listener,
        state,
        opts,
        std::future::pending(),
    ));
    Ok((format!("http://{addr}"), addr))
}

fn new_store() -> anyhow::Result<(tempfile::TempDir, FsStore)> {
    let dir = tempfile::tempdir()?;
    let store = FsStore::new(dir.path().join("store"))?;
    Ok((dir, store))
}

/// A server whose processor only records (no ffmpeg).
pub async fn recording_server(config: ApiConfig) -> anyhow::Result<Server> {
    recording_server_with(config, ServeOptions::default()).await
}

/// A recording server with these connection limits and timeouts.
pub async fn recording_server_with(
    config: ApiConfig,
    opts: ServeOptions,
) -> anyhow::Result<Server> {
    let (dir, store) = new_store()?;
    let shared: Arc<dyn BlobStore> = Arc::new(store.clone());
    let uploads: Arc<dyn UploadBackend> = Arc::new(LocalUploads::new(
        store.clone(),
        PartSigner::with_key(KEY),
        config.clone(),
    ));
    let recorder = Arc::new(Recorder::default());
    let state = AppState::new(shared, uploads, recorder.clone(), config);
    let (base, addr) = listen(state, opts).await?;
    Ok(Server {
        base,
        addr,
        store,
        dir,
        http: reqwest::Client::new(),
        recorder: Some(recorder),
    })
}

/// A server that really processes (coordinator + one local worker pool).
pub async fn processing_server(config: ApiConfig) -> anyhow::Result<Server> {
    let (dir, store) = new_store()?;
    let shared: Arc<dyn BlobStore> = Arc::new(store.clone());
    let settings = slicecast_coordinator::Settings {
        workers: 2,
        threads_per_worker: 1,
        ..slicecast_coordinator::Settings::default()
    };
    let invoker = Arc::new(slicecast_coordinator::LocalInvoker::new(
        shared,
        settings.workers,
        slicecast_segment_worker::WorkerOptions::default(),
    ));
    let state = AppState::local(store.clone(), invoker, settings, config)?;
    let (base, addr) = listen(state, ServeOptions::default()).await?;
    Ok(Server {
        base,
        addr,
        store,
        dir,
        http: reqwest::Client::new(),
        recorder: None,
    })
}

impl Server {
    /// Polls `/status/<id>` until the video is complete or failed; returns its status.
    pub async fn wait_done(&self, id: &str, timeout: std::time::Duration) -> anyhow::Result<Value> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let (code, body) = self.get_json(&format!("/status/{id}")).await?;
            ensure!(code == 200 || code == 202, "status: HTTP {code}: {body}");
            match body["status"].as_str() {
                Some("processing_complete") | Some("processing_failed") => return Ok(body),
                _ if std::time::Instant::now() > deadline => {
                    anyhow::bail!("{id} not done after {timeout:?}: {body}")
                }
                _ => tokio::time::sleep(std::time::Duration::from_millis(250)).await,
            }
        }
    }

    /// Absolute URL of a path or of a relative URL the API handed out.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// POSTs JSON (with a bearer token when given); returns status and body.
    pub async fn post(
        &self,
        path: &str,
        body: &Value,
        token: Option<&str>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut r = self.http.post(self.url(path)).json(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let resp = r.send().await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }

    /// GETs JSON; returns status and body.
    pub async fn get_json(&self, path: &str) -> anyhow::Result<(u16, Value)> {
        let resp = self.http.get(self.url(path)).send().await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }

    /// Creates an upload; returns (uploadId, partSize, urls).
    pub async fn create(
        &self,
        name: &str,
        size: usize,
        token: Option<&str>,
    ) -> anyhow::Result<(String, usize, Vec<String>)> {
        let (status, body) = self
            .post(
                "/create_multipart_upload",
                &json!({"fileName": name, "fileSize": size}),
                token,
            )
            .await?;
        ensure!(status == 200, "create: HTTP {status}: {body}");
        let id = body["uploadId"].as_str().context("uploadId")?.to_owned();
        let part_size = body["partSize"].as_u64().context("partSize")? as usize;
        let urls = body["urls"]
            .as_array()
            .context("urls")?
            .iter()
            .filter_map(|u| u.as_str().map(str::to_owned))
            .collect();
        Ok((id, part_size, urls))
    }

    /// PUTs one part; returns its ETag.
    pub async fn put_part(&self, url: &str, data: Vec<u8>) -> anyhow::Result<String> {
        let resp = self.http.put(self.url(url)).body(data).send().await?;
        let status = resp.status();
        let etag = resp
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        ensure!(status.is_success(), "part PUT: HTTP {status}");
        etag.context("no ETag")
    }

    /// Uploads a whole file, every part in parallel; returns the completion's answer.
    pub async fn upload(
        &self,
        name: &str,
        data: &[u8],
        token: Option<&str>,
    ) -> anyhow::Result<Value> {
        let (id, part_size, urls) = self.create(name, data.len(), token).await?;
        let puts = urls.iter().enumerate().map(|(i, url)| {
            let start = (i * part_size).min(data.len());
            let end = ((i + 1) * part_size).min(data.len());
            let chunk = data[start..end].to_vec();
            async move {
                let etag = self.put_part(url, chunk).await?;
                Ok::<_, anyhow::Error>(json!({"PartNumber": i + 1, "ETag": etag}))
            }
        });
        let parts: Vec<Value> = futures::future::join_all(puts)
            .await
            .into_iter()
            .collect::<anyhow::Result<_>>()?;
        let (status, body) = self
            .post(
                "/complete_multipart_upload",
                &json!({"fileName": name, "uploadId": id, "parts": parts}),
                token,
            )
            .await?;
        ensure!(status == 200, "complete: HTTP {status}: {body}");
        Ok(body)
    }

    /// Sends a request line as is (no client-side path normalisation);
    /// returns the status code and the whole response text.
    pub async fn raw_get(&self, path: &str) -> anyhow::Result<(u16, String)> {
        let mut s = tokio::net::TcpStream::connect(&self.addr).await?;
        s.write_all(
            format!(
                "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                self.addr
            )
            .as_bytes(),
        )
        .await?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await?;
        let text = String::from_utf8_lossy(&buf).into_owned();
        let code = text
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .context("no status line")?;
        Ok((code, text))
    }
}

/// Hex MD5 of bytes (the video id of an upload).
pub fn md5_hex(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(data))
}

/// Percent-encodes a file name for a path segment.
pub fn encode(name: &str) -> String {
    percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).to_string()
}

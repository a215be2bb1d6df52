//! `slicecast load`: a load test against a running `slicecast serve`.
//!
//! Uploads N unique copies of a clip through the real multipart API with C
//! uploads in flight, waits for each to finish processing, and meanwhile probes
//! `GET /status/<id>` and `GET /api/videos` at a fixed rate to measure their
//! latency under load.

use anyhow::{Context, bail, ensure};
use clap::Args;
use serde::Serialize;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Arguments of `load`.
#[derive(Args, Debug)]
pub struct LoadArgs {
    /// Base URL of the server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub base: String,
    /// Videos to upload.
    #[arg(long, default_value_t = 8)]
    pub videos: usize,
    /// Uploads in flight at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// The clip to upload (repeat the flag to cycle through several clips).
    #[arg(long = "file", required = true)]
    pub files: Vec<PathBuf>,
    /// Latency probes per second (half `/status`, half `/api/videos`) while videos process.
    #[arg(long, default_value_t = 50.0)]
    pub probe_rps: f64,
    /// Give up on a video after this many seconds.
    #[arg(long, default_value_t = 900)]
    pub timeout_seconds: u64,
    /// Bearer token, when the server has `API_KEY` set.
    #[arg(long, env = "API_KEY")]
    pub api_key: Option<String>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Percentiles (ms) of a latency sample.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Latency {
    /// Requests measured.
    pub count: usize,
    /// Median.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Requests that failed (non-2xx or transport error).
    pub errors: usize,
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn latency(mut v: Vec<f64>, errors: usize) -> Latency {
    v.sort_by(f64::total_cmp);
    Latency {
        count: v.len(),
        p50_ms: percentile(&v, 50.0),
        p95_ms: percentile(&v, 95.0),
        p99_ms: percentile(&v, 99.0),
        errors,
    }
}

/// The load test's result.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    /// Videos uploaded.
    pub videos: usize,
    /// Videos that reached `processing_complete` with a playable master playlist.
    pub completed: usize,
    /// Videos that failed, with reasons.
    pub failures: Vec<String>,
    /// Uploads in flight.
    pub concurrency: usize,
    /// Whole run, seconds.
    pub wall_s: f64,
    /// Completed videos per minute of wall time.
    pub videos_per_minute: f64,
    /// Upload start to `processing_complete`, seconds: median.
    pub time_to_complete_p50_s: f64,
    /// ... 95th percentile.
    pub time_to_complete_p95_s: f64,
    /// `GET /status/<id>` latency during the run.
    pub status_latency: Latency,
    /// `GET /api/videos` latency during the run.
    pub videos_latency: Latency,
    /// Probe rate asked for.
    pub probe_rps: f64,
}

/// Makes copy `n` of a clip unique. MP4/MOV get a trailing `free` box (still a
/// valid file); other formats get a few trailing bytes, which demuxers ignore.
pub fn unique_copy(bytes: &[u8], name: &str, n: u64) -> Vec<u8> {
    let mut v = bytes.to_vec();
    let lower = name.to_ascii_lowercase();
    if [".mp4", ".mov", ".m4v"].iter().any(|e| lower.ends_with(e)) {
        let payload = [b"slicecast".as_slice(), &n.to_be_bytes()].concat();
        v.extend_from_slice(&(8 + payload.len() as u32).to_be_bytes());
        v.extend_from_slice(b"free");
        v.extend_from_slice(&payload);
    } else {
        v.extend_from_slice(&n.to_be_bytes());
    }
    v
}

/// Resolves a possibly relative URL against the base.
fn absolute(base: &str, url: &str) -> String {
    if url.starts_with("http://") || url.starts_with("https://") {
        url.to_owned()
    } else {
        format!(
            "{}/{}",
            base.trim_end_matches('/'),
            url.trim_start_matches('/')
        )
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
    api_key: Option<String>,
}

impl Client {
    fn post(&self, path: &str, body: Value) -> reqwest::RequestBuilder {
        let r = self.http.post(absolute(&self.base, path)).json(&body);
        match &self.api_key {
            Some(k) => r.bearer_auth(k),
            None => r,
        }
    }

    async fn json(&self, r: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        let resp = r.send().await?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        ensure!(status.is_success(), "HTTP {status}: {body}");
        Ok(body)
    }

    /// Uploads one file through the multipart API; returns the video id.
    async fn upload(&self, name: &str, data: Vec<u8>) -> anyhow::Result<String> {
        let created = self
            .json(self.post(
                "/create_multipart_upload",
                json!({"fileName": name, "fileSize": data.len()}),
            ))
            .await
            .context("create_multipart_upload")?;
        let upload_id = created["uploadId"].as_str().context("uploadId")?.to_owned();
        let part_size = created["partSize"].as_u64().context("partSize")? as usize;
        let urls: Vec<String> = created["urls"]
            .as_array()
            .context("urls")?
            .iter()
            .filter_map(|u| u.as_str().map(str::to_owned))
            .collect();
        let data = Arc::new(data);
        let mut parts = Vec::with_capacity(urls.len());
        let puts = urls.iter().enumerate().map(|(i, url)| {
            let data = data.clone();
            let url = absolute(&self.base, url);
            let http = self.http.clone();
            async move {
                let start = (i * part_size).min(data.len());
                let end = ((i + 1) * part_size).min(data.len());
                let resp = http.put(url).body(data[start..end].to_vec()).send().await?;
                ensure!(
                    resp.status().is_success(),
                    "part {} upload: HTTP {}",
                    i + 1,
                    resp.status()
                );
                let etag = resp
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .context("no ETag on a part response")?
                    .to_owned();
                Ok::<_, anyhow::Error>(json!({"PartNumber": i + 1, "ETag": etag}))
            }
        });
        for p in futures::future::join_all(puts).await {
            parts.push(p?);
        }
        let done = self
            .json(self.post(
                "/complete_multipart_upload",
                json!({"fileName": name, "uploadId": upload_id, "parts": parts}),
            ))
            .await
            .context("complete_multipart_upload")?;
        Ok(done["video_id"].as_str().context("video_id")?.to_owned())
    }

    /// Polls the status until the video finishes; returns the final manifest.
    async fn wait(&self, id: &str, timeout: Duration) -> anyhow::Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let resp = self
                .http
                .get(absolute(&self.base, &format!("/status/{id}")))
                .send()
                .await?;
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            match body["status"].as_str() {
                Some("processing_complete") | Some("processing_failed") => return Ok(body),
                _ if Instant::now() > deadline => {
                    bail!("video {id} did not finish within {timeout:?}")
                }
                _ => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    }

    /// One timed GET; returns milliseconds and whether it succeeded.
    async fn timed_get(&self, path: &str) -> (f64, bool) {
        let t = Instant::now();
        let ok = match self.http.get(absolute(&self.base, path)).send().await {
            Ok(r) => {
                let ok = r.status().is_success() || r.status().as_u16() == 202;
                ok && r.bytes().await.is_ok()
            }
            Err(_) => false,
        };
        (t.elapsed().as_secs_f64() * 1000.0, ok)
    }
}

#[derive(Default)]
struct Probes {
    status: Vec<f64>,
    status_errors: usize,
    videos: Vec<f64>,
    videos_errors: usize,
    ids: Vec<String>,
}

/// Runs the load test.
pub async fn run(args: LoadArgs) -> anyhow::Result<()> {
    let report = load(&args).await?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_table(&report);
    }
    ensure!(
        report.completed == report.videos,
        "{} of {} videos did not complete: {:?}",
        report.videos - report.completed,
        report.videos,
        report.failures
    );
    Ok(())
}

fn print_table(r: &LoadReport) {
    println!(
        "videos            {} ({} completed, concurrency {})",
        r.videos, r.completed, r.concurrency
    );
    println!("wall              {:.1} s", r.wall_s);
    println!("throughput        {:.2} videos/min", r.videos_per_minute);
    println!(
        "time to complete  p50 {:.1} s, p95 {:.1} s",
        r.time_to_complete_p50_s, r.time_to_complete_p95_s
    );
    for (name, l) in [
        ("GET /status", &r.status_latency),
        ("GET /api/videos", &r.videos_latency),
    ] {
        println!(
            "{name:<17} p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms ({} requests at ~{:.0}/s total, {} errors)",
            l.p50_ms, l.p95_ms, l.p99_ms, l.count, r.probe_rps, l.errors
        );
    }
    for f in &r.failures {
        println!("failed: {f}");
    }
}

/// Runs the load test and returns its report.
pub async fn load(args: &LoadArgs) -> anyhow::Result<LoadReport> {
    ensure!(
        args.videos > 0 && args.concurrency > 0,
        "--videos and --concurrency must be positive"
    );
    let mut clips = Vec::new();
    for f in &args.files {
        let name = f
            .file_name()
            .context("file name")?
            .to_string_lossy()
            .into_owned();
        clips.push((
            name,
            std::fs::read(f).with_context(|| format!("reading {}", f.display()))?,
        ));
    }
    let client = Arc::new(Client {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()?,
        base: args.base.clone(),
        api_key: args.api_key.clone(),
    });
    let probes = Arc::new(Mutex::new(Probes::default()));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let prober = {
        let (client, probes, done) = (client.clone(), probes.clone(), done.clone());
        let every = Duration::from_secs_f64(1.0 / args.probe_rps.max(0.1));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut n = 0u64;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                tick.tick().await;
                n += 1;
                let (client, probes) = (client.clone(), probes.clone());
                tokio::spawn(async move {
                    let id = { probes.lock().await.ids.last().cloned() };
                    if n.is_multiple_of(2) {
                        let Some(id) = id else { return };
                        let (ms, ok) = client.timed_get(&format!("/status/{id}")).await;
                        let mut p = probes.lock().await;
                        p.status.push(ms);
                        p.status_errors += usize::from(!ok);
                    } else {
                        let (ms, ok) = client.timed_get("/api/videos").await;
                        let mut p = probes.lock().await;
                        p.videos.push(ms);
                        p.videos_errors += usize::from(!ok);
                    }
                });
            }
        })
    };
    let started = Instant::now();
    let timeout = Duration::from_secs(args.timeout_seconds);
    let jobs = (0..args.videos).map(|i| {
        let (client, probes) = (client.clone(), probes.clone());
        let (name, bytes) = &clips[i % clips.len()];
        let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
        let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
        let name = format!("{stem} load {i}.{ext}");
        let data = unique_copy(bytes, &name, started.elapsed().as_nanos() as u64 ^ i as u64);
        async move {
            let t = Instant::now();
            let id = client
                .upload(&name, data)
                .await
                .with_context(|| format!("uploading {name}"))?;
            probes.lock().await.ids.push(id.clone());
            let m = client.wait(&id, timeout).await?;
            if m["status"] != "processing_complete" {
                bail!("{name} ({id}): {}", m["error"]);
            }
            let master = m["assets"]["hls_master"]
                .as_str()
                .context("no master playlist")?;
            let (_, ok) = client.timed_get(&format!("/stream/{master}")).await;
            ensure!(ok, "{name}: master playlist not served");
            Ok::<_, anyhow::Error>(t.elapsed().as_secs_f64())
        }
    });
    use futures::StreamExt;
    let results: Vec<anyhow::Result<f64>> = futures::stream::iter(jobs)
        .buffer_unordered(args.concurrency)
        .collect()
        .await;
    let wall_s = started.elapsed().as_secs_f64();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = prober.await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut ttc = Vec::new();
    let mut failures = Vec::new();
    for r in results {
        match r {
            Ok(t) => ttc.push(t),
            Err(e) => failures.push(format!("{e:#}")),
        }
    }
    ttc.sort_by(f64::total_cmp);
    let p = std::mem::take(&mut *probes.lock().await);
    Ok(LoadReport {
        videos: args.videos,
        completed: ttc.len(),
        failures,
        concurrency: args.concurrency,
        wall_s,
        videos_per_minute: ttc.len() as f64 / (wall_s / 60.0),
        time_to_complete_p50_s: percentile(&ttc, 50.0),
        time_to_complete_p95_s: percentile(&ttc, 95.0),
        status_latency: latency(p.status, p.status_errors),
        videos_latency: latency(p.videos, p.videos_errors),
        probe_rps: args.probe_rps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }

    #[test]
    fn copies_are_unique_and_mp4_stays_valid() {
        let a = unique_copy(b"abc", "x.mp4", 1);
        let b = unique_copy(b"abc", "x.mp4", 2);
        assert_ne!(a, b);
        assert_eq!(&a[3..7], &25u32.to_be_bytes());
        assert_eq!(&a[7..11], b"free");
        assert_eq!(a.len(), 3 + 25);
        assert_eq!(unique_copy(b"abc", "x.avi", 1).len(), 11);
    }

    #[test]
    fn urls() {
        assert_eq!(absolute("http://h:1/", "/a/b"), "http://h:1/a/b");
        assert_eq!(absolute("http://h:1", "a"), "http://h:1/a");
        assert_eq!(absolute("http://h:1", "https://s3/x"), "https://s3/x");
    }
}

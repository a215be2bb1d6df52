//! Test support shared by the Lambda crate's tests: S3 event documents,
//! moto's server (a real Transcribe and SSM API stand-in), clients for it, and a
//! tiny HTTP server that answers in Transcribe's JSON 1.1 wire format (for
//! what moto cannot do: failed jobs, throttling).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The bucket every test works in.
pub const BUCKET: &str = "videos";

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub use slicecast_tests::net::free_port;

pub mod bucket;

/// moto's server on a free loopback port; killed on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Starts a server, logging to `target/test-artifacts/transcribe/<test>.moto.log`.
    pub fn start(test: &str) -> Self {
        let exe = root().join("target/tools-venv/bin/moto_server");
        assert!(
            exe.is_file(),
            "moto_server is not installed at {}: run `bash scripts/install-deps.sh --test`",
            exe.display()
        );
        let logs = root().join("target/test-artifacts/transcribe");
        std::fs::create_dir_all(&logs).expect("artifacts dir");
        let port = free_port();
        let log = std::fs::File::create(logs.join(format!("{test}.moto.log"))).expect("log");
        let child = Command::new(&exe)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", exe.display()));
        let mut moto = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = moto.child.try_wait().expect("moto_server status") {
                panic!("moto_server exited ({status}); see target/test-artifacts/transcribe/");
            }
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }
}

/// A Transcribe client for `endpoint` with test credentials, without retries.
pub fn client(endpoint: &str) -> aws_sdk_transcribe::Client {
    let conf = aws_sdk_transcribe::config::Builder::new()
        .behavior_version(aws_sdk_transcribe::config::BehaviorVersion::latest())
        .region(aws_sdk_transcribe::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_transcribe::config::Credentials::new(
            "test",
            "testsecret",
            None,
            None,
            "test",
        ))
        .endpoint_url(endpoint)
        .retry_config(aws_sdk_transcribe::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_transcribe::Client::from_conf(conf)
}

/// Stores `value` as an SSM SecureString parameter `name` in moto at `endpoint`.
pub async fn put_secure_string(endpoint: &str, name: &str, value: &str) {
    let conf = aws_sdk_ssm::config::Builder::new()
        .behavior_version(aws_sdk_ssm::config::BehaviorVersion::latest())
        .region(aws_sdk_ssm::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ssm::config::Credentials::new(
            "test",
            "testsecret",
            None,
            None,
            "test",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_ssm::Client::from_conf(conf)
        .put_parameter()
        .name(name)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .value(value)
        .overwrite(true)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PutParameter {name}: {}",
                aws_sdk_ssm::error::DisplayErrorContext(e)
            )
        });
}

/// One canned reply of the stand-in server: HTTP status and JSON body.
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: serde_json::Value,
}

/// What the stand-in server saw of one request.
#[derive(Debug)]
pub struct Seen {
    /// `X-Amz-Target`.
    pub target: String,
    /// JSON body.
    pub body: serde_json::Value,
}

/// A local HTTP server that answers each connection with the next reply, in
/// Transcribe's JSON 1.1 wire format, and reports the requests it saw.
pub async fn serve(replies: Vec<Reply>) -> (String, tokio::task::JoinHandle<Vec<Seen>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let mut seen = Vec::new();
        for reply in replies {
            let (mut conn, _) = listener.accept().await.expect("accept");
            let request = tokio::time::timeout(Duration::from_secs(10), read_request(&mut conn))
                .await
                .expect("request in time");
            seen.push(request);
            let body = reply.body.to_string();
            let reason = if reply.status == 200 { "OK" } else { "Error" };
            let head = format!(
                "HTTP/1.1 {} {reason}\r\nContent-Type: application/x-amz-json-1.1\r\n\
                 x-amzn-RequestId: 6b1f3bd4-0000-4000-8000-000000000000\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                reply.status,
                body.len()
            );
            conn.write_all(head.as_bytes()).await.expect("write head");
            conn.write_all(body.as_bytes()).await.expect("write body");
            conn.shutdown().await.expect("close");
        }
        seen
    });
    (endpoint, task)
}

async fn read_request(conn: &mut tokio::net::TcpStream) -> Seen {
    let mut buf = Vec::new();
    let mut chunk = [0_u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = conn.read(&mut chunk).await.expect("read");
        assert!(n > 0, "connection closed mid-request");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = conn.read(&mut chunk).await.expect("read body");
        assert!(n > 0, "connection closed mid-body");
        buf.extend_from_slice(&chunk[..n]);
    }
    Seen {
        target: header("x-amz-target").unwrap_or_default(),
        body: serde_json::from_slice(&buf[head_end..head_end + length]).expect("JSON request"),
    }
}

/// An S3 `ObjectCreated` notification as S3 sends it (the key URL-encoded).
pub fn s3_event(key: &str, size: u64) -> serde_json::Value {
    let encoded: String = key
        .split('/')
        .map(|part| {
            percent_encoding::utf8_percent_encode(part, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
                .replace("%20", "+")
                .replace("%2E", ".")
                .replace("%5F", "_")
                .replace("%2D", "-")
        })
        .collect::<Vec<_>>()
        .join("/");
    serde_json::json!({
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-east-1",
            "eventTime": "2026-11-29T12:00:00.000Z",
            "eventName": "ObjectCreated:CompleteMultipartUpload",
            "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8"},
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "uploads",
                "bucket": {
                    "name": BUCKET,
                    "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                    "arn": format!("arn:aws:s3:::{BUCKET}")
                },
                "object": {"key": encoded, "size": size, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": "0A1B2C3D4E5F678901"}
            }
        }]
    })
}

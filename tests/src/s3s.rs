//! A real S3-compatible server for tests: s3s-fs on a free loopback port, with
//! a client and a bucket, for the storage, api and Lambda tests.
//! Install it with `cargo install s3s-fs@0.14.1 --features binary --locked`
//! (`scripts/install-deps.sh --test` does).

use crate::net::{free_port, wait_for_port};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The server and the directory it stores into (removed after the server stops).
pub struct S3sFs {
    child: Child,
    _root: tempfile::TempDir,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
}

impl Drop for S3sFs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts s3s-fs (access key `test`, secret `testsecret`) and waits until it listens.
pub fn start() -> S3sFs {
    let root = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let child = Command::new("s3s-fs")
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--access-key",
            "test",
            "--secret-key",
            "testsecret",
        ])
        .arg(root.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("s3s-fs (cargo install s3s-fs@0.14.1 --features binary --locked)");
    wait_for_port(port, Duration::from_secs(20));
    S3sFs {
        child,
        _root: root,
        endpoint: format!("http://127.0.0.1:{port}"),
    }
}

/// A path-style client for `endpoint` signing with `secret`.
pub fn client(endpoint: &str, secret: &str) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::new()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "test", secret, None, None, "test",
        ))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// Starts a server and creates `bucket`; returns the server and a client.
pub async fn with_bucket(bucket: &str) -> (S3sFs, aws_sdk_s3::Client) {
    let server = start();
    let c = client(&server.endpoint, "testsecret");
    c.create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("create bucket");
    (server, c)
}

//! The Lambda emulator for the end-to-end test: `cargo lambda watch
//! --only-lambda-apis` and the function binaries as runtime clients polling
//! it, started, killed and restarted by function name.

use aws_sdk_lambda::primitives::Blob;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::BUCKET;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn artifacts() -> PathBuf {
    let d = root().join("target/test-artifacts/lambda");
    std::fs::create_dir_all(&d).expect("artifacts dir");
    d
}

fn cargo_lambda() -> PathBuf {
    std::env::var_os("SLICECAST_CARGO_LAMBDA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/tools-venv/bin/cargo-lambda"))
}

use slicecast_tests::net::free_port;

/// The Lambda emulator and the function processes polling it; all killed on drop.
pub struct Lambda {
    /// (function name, process); the emulator itself is named `watch`.
    children: Vec<(String, Child)>,
    pub endpoint: String,
    port: u16,
    s3_endpoint: String,
    env: Vec<(String, String)>,
}

impl Drop for Lambda {
    fn drop(&mut self) {
        for (_, c) in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Lambda {
    /// Starts `cargo lambda watch --only-lambda-apis` and `instances` runtime
    /// processes per function, with `env` in every function's environment.
    pub fn start(s3_endpoint: &str, env: &[(&str, String)], instances: &[(&str, usize)]) -> Self {
        let port = free_port();
        let logs = artifacts();
        let watch_log = std::fs::File::create(logs.join("watch.log")).expect("log");
        let watch = Command::new(cargo_lambda())
            .args(["lambda", "watch", "--only-lambda-apis", "--ignore-changes"])
            .args(["-A", "127.0.0.1", "-P", &port.to_string()])
            .current_dir(root())
            .stdout(Stdio::null())
            .stderr(watch_log)
            .spawn()
            .expect("cargo-lambda (install with scripts/install-deps.sh --test)");
        let mut lambda = Self {
            children: vec![("watch".into(), watch)],
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
            s3_endpoint: s3_endpoint.to_owned(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "cargo lambda watch did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        for (name, count) in instances {
            lambda.spawn(name, *count, &[]);
        }
        lambda
    }

    /// Starts `count` more runtime processes of function `name`, with `extra`
    /// over the common environment; each logs to `<name>-<n>.log`.
    pub fn spawn(&mut self, name: &str, count: usize, extra: &[(&str, String)]) {
        let exe = match name {
            "coordinator" => env!("CARGO_BIN_EXE_coordinator"),
            "segment-worker" => env!("CARGO_BIN_EXE_segment-worker"),
            "assembler" => env!("CARGO_BIN_EXE_assembler"),
            "api" => env!("CARGO_BIN_EXE_api"),
            other => panic!("no function {other}"),
        };
        for _ in 0..count {
            let n = self.children.iter().filter(|(f, _)| f == name).count();
            let log =
                std::fs::File::create(artifacts().join(format!("{name}-{n}.log"))).expect("log");
            let child = Command::new(exe)
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env(
                    "AWS_LAMBDA_RUNTIME_API",
                    format!("http://127.0.0.1:{}/.rt/{name}", self.port),
                )
                .env("AWS_LAMBDA_FUNCTION_NAME", name)
                .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048")
                .env("AWS_REGION", "us-east-1")
                .env("AWS_ACCESS_KEY_ID", "test")
                .env("AWS_SECRET_ACCESS_KEY", "testsecret")
                .env("AWS_EC2_METADATA_DISABLED", "true")
                .env("AWS_ENDPOINT_URL_S3", &self.s3_endpoint)
                .env("AWS_ENDPOINT_URL_LAMBDA", &self.endpoint)
                .env("BUCKET_NAME", BUCKET)
                .env("LOG_LEVEL", "info")
                .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .envs(extra.iter().map(|(k, v)| (*k, v.as_str())))
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("start {name}: {e}"));
            self.children.push((name.to_owned(), child));
        }
    }

    /// Kills every runtime process of function `name` at once (`kill -9`,
    /// as a crashed or timed-out invocation ends), whatever it was doing.
    pub fn kill(&mut self, name: &str) {
        for (f, c) in &mut self.children {
            if f == name {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }

    pub fn client(&self) -> aws_sdk_lambda::Client {
        let conf = aws_sdk_lambda::config::Builder::new()
            .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
            .region(aws_sdk_lambda::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_lambda::config::Credentials::new(
                "test",
                "testsecret",
                None,
                None,
                "test",
            ))
            .endpoint_url(&self.endpoint)
            .build();
        aws_sdk_lambda::Client::from_conf(conf)
    }
}

pub async fn invoke(
    client: &aws_sdk_lambda::Client,
    function: &str,
    payload: &serde_json::Value,
) -> serde_json::Value {
    let out = client
        .invoke()
        .function_name(function)
        .payload(Blob::new(serde_json::to_vec(payload).expect("json")))
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "invoke {function}: {}",
                aws_sdk_lambda::error::DisplayErrorContext(e)
            )
        });
    assert!(
        out.function_error().is_none(),
        "{function}: {:?}",
        out.payload()
    );
    serde_json::from_slice(out.payload().map(|p| p.as_ref()).unwrap_or_default())
        .expect("JSON reply")
}

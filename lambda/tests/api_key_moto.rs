//! The api key from SSM Parameter Store, against moto's server (a real SSM
//! API stand-in: `GetParameter` with `WithDecryption` on a SecureString):
//! the key is read, every way of not having it fails closed with a sentence
//! that says what to do, and the router built with it answers 401 without
//! the bearer and 200 with it.

mod support;

use aws_sdk_ssm::types::ParameterType;
use clap::Parser;
use slicecast_api::{AppState, app};
use slicecast_coordinator::{LocalInvoker, Settings};
use slicecast_lambda::api_key::{self, ApiKey, ApiKeyError, KeySource};
use slicecast_lambda::config::ApiEnv;
use slicecast_segment_worker::WorkerOptions;
use slicecast_storage::FsStore;
use std::sync::Arc;
use support::Moto;

const KEY: &str = "0123456789abcdef-test-key";

/// The api's settings with nothing given on a command line.
fn defaults() -> ApiEnv {
    ApiEnv::try_parse_from(std::iter::empty::<String>()).expect("api settings")
}

/// The SDK configuration the api function would get, pointed at `endpoint`.
async fn aws(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ssm::config::Credentials::new(
            "test",
            "testsecret",
            None,
            None,
            "test",
        ))
        .endpoint_url(endpoint)
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await
}

async fn put(client: &aws_sdk_ssm::Client, name: &str, kind: ParameterType, value: &str) {
    client
        .put_parameter()
        .name(name)
        .r#type(kind)
        .value(value)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PutParameter {name}: {}",
                aws_sdk_ssm::error::DisplayErrorContext(e)
            )
        });
}

#[tokio::test]
async fn the_key_is_read_from_a_secure_string() {
    let moto = Moto::start("api_key_read");
    let conf = aws(&moto.endpoint).await;
    let ssm = aws_sdk_ssm::Client::new(&conf);
    // Written from a file, as the README shows: the newline is not part of the key.
    put(
        &ssm,
        "/slicecast/test/api-key",
        ParameterType::SecureString,
        &format!("{KEY}\n"),
    )
    .await;
    let key = api_key::load(&ssm, "/slicecast/test/api-key")
        .await
        .expect("the key");
    assert_eq!(key.expose(), KEY);
    assert!(!format!("{key:?}").contains(KEY), "Debug shows the key");

    // The way the function takes it: API_KEY_PARAMETER wins over API_KEY.
    let env = ApiEnv {
        api_key_parameter: Some("/slicecast/test/api-key".into()),
        api_key: Some("ignored".into()),
        ..defaults()
    };
    let source = env.key_source().expect("a source");
    assert_eq!(
        source,
        KeySource::Parameter("/slicecast/test/api-key".into())
    );
    let resolved = source.resolve(&conf).await.expect("resolved");
    assert_eq!(resolved, key);
}

#[tokio::test]
async fn no_readable_key_fails_closed() {
    let moto = Moto::start("api_key_fails_closed");
    let conf = aws(&moto.endpoint).await;
    let ssm = aws_sdk_ssm::Client::new(&conf);

    let missing = api_key::load(&ssm, "/slicecast/test/nothing-here")
        .await
        .expect_err("a missing parameter");
    assert!(missing.is_missing(), "{missing:?}");
    let message = missing.to_string();
    assert!(
        message.contains("/slicecast/test/nothing-here")
            && message.contains("aws ssm put-parameter --type SecureString"),
        "{message}"
    );

    put(
        &ssm,
        "/slicecast/test/plain",
        ParameterType::String,
        "0123456789abcdef0123",
    )
    .await;
    let plain = api_key::load(&ssm, "/slicecast/test/plain")
        .await
        .expect_err("a String parameter");
    assert!(matches!(plain, ApiKeyError::NotSecure { .. }), "{plain:?}");
    assert!(plain.to_string().contains("SecureString"), "{plain}");

    put(
        &ssm,
        "/slicecast/test/short",
        ParameterType::SecureString,
        "short",
    )
    .await;
    let short = api_key::load(&ssm, "/slicecast/test/short")
        .await
        .expect_err("a short key");
    assert!(matches!(short, ApiKeyError::TooShort { .. }), "{short:?}");

    // No parameter store at all (nothing listens there).
    let port = support::free_port();
    let nowhere = aws_sdk_ssm::Client::new(&aws(&format!("http://127.0.0.1:{port}")).await);
    let unreachable = api_key::load(&nowhere, "/slicecast/test/api-key")
        .await
        .expect_err("no store");
    assert!(
        matches!(unreachable, ApiKeyError::Unreadable { .. }),
        "{unreachable:?}"
    );
    assert!(
        unreachable
            .to_string()
            .starts_with("reading the parameter /slicecast/test/api-key failed: "),
        "{unreachable}"
    );

    // Neither variable set: the api does not start open.
    let env = ApiEnv {
        api_key_parameter: None,
        api_key: None,
        ..defaults()
    };
    assert!(matches!(env.key_source(), Err(ApiKeyError::NotConfigured)));
}

#[tokio::test]
async fn the_router_built_with_the_key_needs_the_bearer() {
    let moto = Moto::start("api_key_router");
    let conf = aws(&moto.endpoint).await;
    let ssm = aws_sdk_ssm::Client::new(&conf);
    put(
        &ssm,
        "/slicecast/test/api-key",
        ParameterType::SecureString,
        KEY,
    )
    .await;
    let key: ApiKey = api_key::load(&ssm, "/slicecast/test/api-key")
        .await
        .expect("the key");
    let env = ApiEnv {
        api_key_parameter: Some("/slicecast/test/api-key".into()),
        api_key: None,
        ..defaults()
    };

    // The function's router (over a local store: the auth layer is the same).
    let dir = tempfile::tempdir().expect("tmp");
    let store = FsStore::new(dir.path()).expect("store");
    let invoker = Arc::new(LocalInvoker::new(
        Arc::new(store.clone()),
        1,
        WorkerOptions::default(),
    ));
    let state = AppState::local(
        store,
        invoker,
        Settings::default(),
        env.config(&key).expect("config"),
    )
    .expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move { axum::serve(listener, app(state)).await });

    let http = reqwest::Client::new();
    let create = |auth: Option<String>| {
        let mut req = http
            .post(format!("{base}/create_multipart_upload"))
            .json(&serde_json::json!({"fileName": "clip.mp4", "fileSize": 1000}));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        async move { req.send().await.expect("request").status().as_u16() }
    };
    assert_eq!(create(None).await, 401, "no bearer");
    assert_eq!(
        create(Some("Bearer wrong-key".into())).await,
        401,
        "wrong key"
    );
    assert_eq!(create(Some(format!("Bearer {KEY}"))).await, 200, "the key");
    let health = http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status().as_u16(), 200, "reads stay public");
    server.abort();
}

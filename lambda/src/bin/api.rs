//! The `api` function: the REST API and web page behind a Lambda Function URL.
//! It reads its key once, at cold start (`API_KEY_PARAMETER`: an SSM
//! SecureString), and does not start without one.

use slicecast_api::{AppState, app};
use slicecast_lambda::config::{ApiEnv, bucket};
use slicecast_lambda::init_tracing;
use slicecast_storage::S3Store;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing("info");
    let env = ApiEnv::from_env()?;
    let aws = aws_config::load_from_env().await;
    let key = env.key_source()?.resolve(&aws).await.inspect_err(|e| {
        tracing::error!(error = %e, "no API key; the api refuses to start");
    })?;
    let bucket = bucket()?;
    let store = S3Store::from_env(bucket.clone()).await;
    let transcriber = env
        .subtitles
        .transcriber(&bucket, Arc::new(store.clone()))
        .await;
    let state = AppState::aws(store, env.config(&key)?).with_transcriber(transcriber);
    lambda_http::run(app(state)).await
}

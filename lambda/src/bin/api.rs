//! The `api` function: the REST API and web page behind a Lambda Function URL.

use slicecast_api::{AppState, app};
use slicecast_lambda::config::{ApiEnv, bucket};
use slicecast_lambda::init_tracing;
use slicecast_storage::S3Store;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing("info");
    let env = ApiEnv::from_env()?;
    let bucket = bucket()?;
    let store = S3Store::from_env(bucket.clone()).await;
    let transcriber = env
        .subtitles
        .transcriber(&bucket, Arc::new(store.clone()))
        .await;
    let state = AppState::aws(store, env.config()).with_transcriber(transcriber);
    lambda_http::run(app(state)).await
}

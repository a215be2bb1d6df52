//! The `api` function: the REST API and web page behind a Lambda Function URL.

use slicecast_api::{AppState, app};
use slicecast_lambda::config::{ApiEnv, bucket};
use slicecast_lambda::init_tracing;
use slicecast_storage::S3Store;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing("info");
    let config = ApiEnv::from_env()?.config();
    let store = S3Store::from_env(bucket()?).await;
    lambda_http::run(app(AppState::aws(store, config))).await
}

//! The `assembler` function: playlists, MPD, sprites and poster over a video's segments.

use lambda_runtime::{LambdaEvent, service_fn};
use slicecast_assembler::AssembleInput;
use slicecast_lambda::config::bucket;
use slicecast_lambda::{handlers, init_tracing};
use slicecast_storage::S3Store;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing("info");
    let store = Arc::new(S3Store::from_env(bucket()?).await);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<AssembleInput>| {
        let store = store.clone();
        async move { handlers::assemble(store.as_ref(), event.payload).await }
    }))
    .await
}

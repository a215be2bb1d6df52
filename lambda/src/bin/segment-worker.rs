//! The `segment-worker` function: one slice at every rung, or the audio track.

use lambda_runtime::{LambdaEvent, service_fn};
use slicecast_core::job::Job;
use slicecast_lambda::config::{WorkerEnv, bucket};
use slicecast_lambda::handlers::Worker;
use slicecast_lambda::init_tracing;
use slicecast_storage::S3Store;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing("info");
    let env = WorkerEnv::from_env()?;
    let worker = Arc::new(Worker {
        store: Arc::new(S3Store::from_env(bucket()?).await),
        options: env.options(),
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Job>| {
        let worker = worker.clone();
        async move { worker.handle(event.payload).await }
    }))
    .await
}

//! The `coordinator` function: S3 `ObjectCreated` events on `uploads/`.

use lambda_runtime::{LambdaEvent, service_fn};
use slicecast_lambda::config::{CoordinatorEnv, bucket};
use slicecast_lambda::handlers::Coordinator;
use slicecast_lambda::{LambdaInvoker, init_tracing};
use slicecast_storage::S3Store;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing("info");
    let env = CoordinatorEnv::from_env()?;
    let store = S3Store::from_env(bucket()?).await;
    let invoker = LambdaInvoker::from_env(&env.worker_function, &env.assembler_function).await;
    let coordinator = Arc::new(Coordinator {
        store: Arc::new(store),
        invoker: Arc::new(invoker),
        settings: env.settings(),
    });
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::s3::S3Event>| {
            let coordinator = coordinator.clone();
            async move { coordinator.handle(event.payload).await }
        },
    ))
    .await
}

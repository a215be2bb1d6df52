//! The `coordinator` function: S3 `ObjectCreated` events on `uploads/` (and on
//! Amazon Transcribe's transcripts, which publish a video's subtitles).

use lambda_runtime::{LambdaEvent, service_fn};
use slicecast_coordinator::Settings;
use slicecast_lambda::config::{CoordinatorEnv, bucket};
use slicecast_lambda::handlers::Coordinator;
use slicecast_lambda::{LambdaInvoker, api_key, init_tracing};
use slicecast_storage::{BlobStore, S3Store};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing("info");
    let mut env = CoordinatorEnv::from_env()?;
    if let Some(name) = env
        .webhook_secret_parameter
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let aws = aws_config::load_from_env().await;
        match api_key::load(&aws_sdk_ssm::Client::new(&aws), name).await {
            Ok(secret) => env.output.webhook_secret = Some(secret.expose().to_owned()),
            // Webhooks stay off (the settings log why); videos still process.
            Err(e) => tracing::error!(error = %e, "cannot read the webhook secret"),
        }
    }
    let bucket = bucket()?;
    let store: Arc<dyn BlobStore> = Arc::new(S3Store::from_env(bucket.clone()).await);
    let invoker = LambdaInvoker::from_env(&env.worker_function, &env.assembler_function)
        .await
        .with_progress(store.clone());
    let settings = Settings {
        transcriber: env.subtitles.transcriber(&bucket, store.clone()).await,
        ..env.settings()
    };
    let coordinator = Arc::new(Coordinator {
        store,
        invoker: Arc::new(invoker),
        settings,
    });
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::s3::S3Event>| {
            let coordinator = coordinator.clone();
            async move { coordinator.handle(event.payload).await }
        },
    ))
    .await
}

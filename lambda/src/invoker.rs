//! [`LambdaInvoker`]: jobs as synchronous Lambda invocations (aws-sdk-lambda
//! `Invoke`, `RequestResponse`).

use crate::handlers::PERMANENT_ERROR_TYPE;
use async_trait::async_trait;
use aws_sdk_lambda::Client;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use serde::Serialize;
use serde::de::DeserializeOwned;
use slicecast_assembler::{AssembleInput, Assembled};
use slicecast_coordinator::{InvokeError, Invoker, ProgressFn};
use slicecast_core::job::{Job, JobResult};
use slicecast_storage::{BlobStore, aws_errors};
use std::sync::Arc;

/// Largest synchronous invoke request Lambda accepts.
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// Runs slice and audio jobs on the `segment-worker` function and assembly on
/// the `assembler` function. The SDK's own retries are off: the coordinator
/// retries with its own backoff and counts tries per job, and throttling
/// (`TooManyRequestsException`) is reported as such so it does not use up a
/// job's tries. A failure comes back either as an SDK error or as a reply
/// with `FunctionError` set (how real Lambda reports a handler error or a
/// timeout); both end as an [`InvokeError`] carrying the handler's message.
#[derive(Clone)]
pub struct LambdaInvoker {
    client: Client,
    worker_function: String,
    assembler_function: String,
    /// Where workers store their slices' progress (see [`crate::progress`]).
    progress: Option<Arc<dyn BlobStore>>,
}

impl LambdaInvoker {
    /// An invoker over an existing client.
    pub fn new(
        client: Client,
        worker_function: impl Into<String>,
        assembler_function: impl Into<String>,
    ) -> Self {
        Self {
            client,
            worker_function: worker_function.into(),
            assembler_function: assembler_function.into(),
            progress: None,
        }
    }

    /// Reads the slices' progress objects from `store` while their invokes
    /// are in flight, and reports them.
    pub fn with_progress(mut self, store: Arc<dyn BlobStore>) -> Self {
        self.progress = Some(store);
        self
    }

    /// An invoker configured from the environment (region, credentials,
    /// `AWS_ENDPOINT_URL_LAMBDA`), with the SDK's retries turned off.
    pub async fn from_env(
        worker_function: impl Into<String>,
        assembler_function: impl Into<String>,
    ) -> Self {
        let conf = aws_config::load_from_env().await;
        let conf = aws_sdk_lambda::config::Builder::from(&conf)
            .retry_config(aws_sdk_lambda::config::retry::RetryConfig::disabled())
            .build();
        Self::new(Client::from_conf(conf), worker_function, assembler_function)
    }

    async fn call<P: Serialize + Sync, R: DeserializeOwned>(
        &self,
        function: &str,
        payload: &P,
    ) -> Result<R, InvokeError> {
        let body = serde_json::to_vec(payload)
            .map_err(|e| InvokeError::permanent(format!("could not encode the job: {e}")))?;
        if body.len() > MAX_PAYLOAD_BYTES {
            return Err(InvokeError::permanent(format!(
                "the job for {function} is {} bytes, over Lambda's {MAX_PAYLOAD_BYTES}-byte limit",
                body.len()
            )));
        }
        let reply = self
            .client
            .invoke()
            .function_name(function)
            .invocation_type(InvocationType::RequestResponse)
            .payload(Blob::new(body))
            .send()
            .await
            .map_err(|e| sdk_error(function, e))?;
        let payload = reply.payload().map(|p| p.as_ref()).unwrap_or_default();
        if let Some(kind) = reply.function_error() {
            let message = error_message(payload)
                .unwrap_or_else(|| String::from_utf8_lossy(payload).chars().take(500).collect());
            let message = format!("{function} failed ({kind}): {message}");
            return Err(
                if error_type(payload).as_deref() == Some(PERMANENT_ERROR_TYPE) {
                    InvokeError::permanent(message)
                } else {
                    InvokeError::failed(message)
                },
            );
        }
        serde_json::from_slice(payload).map_err(|e| {
            InvokeError::permanent(format!("{function} sent an unreadable reply: {e}"))
        })
    }
}

/// The `errorType` of a Lambda error document.
pub fn error_type(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    Some(v.get("errorType")?.as_str()?.to_owned())
}

/// The `errorMessage` of a Lambda error document (`{errorType, errorMessage}`).
pub fn error_message(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let message = v.get("errorMessage")?.as_str()?.to_owned();
    Some(message)
}

fn sdk_error<E>(function: &str, e: SdkError<E>) -> InvokeError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (code, status) = aws_errors::code_and_status(&e);
    // An emulator answers a handler error with a 500 and the error document.
    let handler_message = e
        .raw_response()
        .and_then(|r| r.body().bytes())
        .and_then(error_message);
    let detail = handler_message.unwrap_or_else(|| aws_errors::detail(&e));
    let message = format!("invoking {function} failed: {detail}");
    if aws_errors::is_throttling(code.as_deref(), status) {
        return InvokeError::throttled(message);
    }
    match code.as_deref() {
        // The function is still being created or its snapshot restored: later.
        Some("ResourceNotReadyException" | "SnapStartNotReadyException") => {
            InvokeError::throttled(message)
        }
        Some(
            "ResourceNotFoundException"
            | "InvalidRequestContentException"
            | "RequestTooLargeException"
            | "InvalidParameterValueException"
            | "UnsupportedMediaTypeException"
            | "AccessDeniedException"
            | "KMSAccessDeniedException",
        ) => InvokeError::permanent(message),
        _ if matches!(status, Some(400 | 401 | 403 | 404 | 413 | 415)) => {
            InvokeError::permanent(message)
        }
        _ => InvokeError::failed(message),
    }
}

#[async_trait]
impl Invoker for LambdaInvoker {
    async fn invoke(&self, job: Job) -> Result<JobResult, InvokeError> {
        self.call(&self.worker_function, &job).await
    }

    async fn invoke_reporting(
        &self,
        job: Job,
        progress: &ProgressFn,
    ) -> Result<JobResult, InvokeError> {
        let (Some(store), Job::Slice(slice)) = (&self.progress, &job) else {
            return self.invoke(job).await;
        };
        let (key, attempt) = (crate::progress::key(slice), slice.attempt);
        let call = self.call(&self.worker_function, &job);
        tokio::pin!(call);
        let mut tick = tokio::time::interval(crate::progress::POLL_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tokio::select! {
                r = &mut call => return r,
                _ = tick.tick() => {
                    if let Some(f) = crate::progress::read(store.as_ref(), &key, attempt).await {
                        progress(f);
                    }
                }
            }
        }
    }

    async fn assemble(&self, input: AssembleInput) -> Result<Assembled, InvokeError> {
        self.call(&self.assembler_function, &input).await
    }

    fn elastic(&self) -> bool {
        true
    }
}

impl std::fmt::Debug for LambdaInvoker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaInvoker")
            .field("worker_function", &self.worker_function)
            .field("assembler_function", &self.assembler_function)
            .field("progress", &self.progress.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_documents() {
        let table: [(&[u8], Option<&str>); 4] = [
            (
                br#"{"errorType":"&str","errorMessage":"ffmpeg could not encode slice 3"}"#,
                Some("ffmpeg could not encode slice 3"),
            ),
            (
                br#"{"errorMessage":"2026-11-29 Task timed out after 900.00 seconds"}"#,
                Some("2026-11-29 Task timed out after 900.00 seconds"),
            ),
            (b"not json", None),
            (br#"{"message":"x"}"#, None),
        ];
        for (body, want) in table {
            assert_eq!(error_message(body).as_deref(), want);
        }
    }

    #[test]
    fn a_permanent_worker_failure_stays_permanent_across_lambda() {
        let e = crate::handlers::HandlerError::from(InvokeError::permanent("ffmpeg is missing"));
        let d = lambda_runtime::Diagnostic::from(e);
        assert_eq!(d.error_type, PERMANENT_ERROR_TYPE);
        let body = serde_json::json!({"errorType": d.error_type, "errorMessage": d.error_message})
            .to_string();
        assert_eq!(
            error_type(body.as_bytes()).as_deref(),
            Some(PERMANENT_ERROR_TYPE)
        );
        let retry = lambda_runtime::Diagnostic::from(crate::handlers::HandlerError::from(
            InvokeError::failed("ffmpeg timed out"),
        ));
        assert_eq!(retry.error_type, "SlicecastError");
        assert_eq!(error_type(b"not json"), None);
    }
}

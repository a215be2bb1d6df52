//! How slicecast reads a failed AWS SDK call, the same way for every AWS
//! client it uses (S3 here; Lambda and Transcribe in the Lambda crate): one
//! list of throttling answers, the HTTP status, and a bounded description.
//! The SDKs share `SdkError` and `ProvideErrorMetadata`, so these take any.

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// Error codes AWS services answer when a caller is going too fast or a
/// resource is busy: wait and try again, not a failure of the request.
pub const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "LimitExceededException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "BandwidthLimitExceeded",
    "SlowDown",
    "EC2ThrottledException",
];

/// Whether a failed call was throttled: a [`THROTTLING_CODES`] code or HTTP 429.
pub fn is_throttling(code: Option<&str>, status: Option<u16>) -> bool {
    code.is_some_and(|c| THROTTLING_CODES.contains(&c)) || status == Some(429)
}

/// The error code and HTTP status of a failed call (each when it got that far).
pub fn code_and_status<E: ProvideErrorMetadata>(e: &SdkError<E>) -> (Option<String>, Option<u16>) {
    (
        e.code().map(str::to_owned),
        e.raw_response().map(|r| r.status().as_u16()),
    )
}

/// The SDK's description of what went wrong, at most 500 characters (for
/// logs and internal errors, never for a person-facing message).
pub fn detail<E>(e: &SdkError<E>) -> String
where
    E: std::error::Error + Send + Sync + 'static,
{
    DisplayErrorContext(e)
        .to_string()
        .chars()
        .take(500)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_by_code_or_status() {
        let cases: &[(Option<&str>, Option<u16>, bool)] = &[
            (Some("TooManyRequestsException"), Some(429), true),
            (Some("ThrottlingException"), Some(400), true),
            (Some("LimitExceededException"), Some(400), true),
            (Some("SlowDown"), Some(503), true),
            (Some("EC2ThrottledException"), Some(502), true),
            (None, Some(429), true),
            (Some("AccessDeniedException"), Some(403), false),
            (Some("InternalFailure"), Some(500), false),
            (None, None, false),
        ];
        for &(code, status, want) in cases {
            assert_eq!(is_throttling(code, status), want, "{code:?} {status:?}");
        }
    }
}

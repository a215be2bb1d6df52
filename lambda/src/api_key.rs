//! The api function's key: on AWS it is read once, at cold start, from an SSM
//! Parameter Store `SecureString` whose *name* is in `API_KEY_PARAMETER`
//! (never from a plaintext environment variable); a run outside AWS may give
//! the key itself in `API_KEY`. Without a key, or when the parameter cannot
//! be read, the function does not start: it fails closed, never open.

use aws_sdk_ssm::Client;
use aws_sdk_ssm::error::{DisplayErrorContext, SdkError};
use aws_sdk_ssm::operation::get_parameter::GetParameterError;
use aws_sdk_ssm::types::ParameterType;

/// The environment variable naming the SSM parameter that holds the key.
pub const PARAMETER_ENV: &str = "API_KEY_PARAMETER";

/// Shortest key accepted from the parameter store (a bearer key behind a
/// public URL must not be guessable; `openssl rand -hex 32` gives 64).
pub const MIN_KEY_CHARS: usize = 16;

/// The api key. Its `Debug` hides the value, so it never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// A key given directly (`API_KEY`).
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself, for the bearer check.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Where the key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// An SSM parameter, by name or ARN (`API_KEY_PARAMETER`; read at start).
    Parameter(String),
    /// The key itself (`API_KEY`; runs outside AWS).
    Plain(ApiKey),
}

/// The key could not be had: the api refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    /// Neither `API_KEY_PARAMETER` nor `API_KEY` is set.
    #[error(
        "no API key: set {PARAMETER_ENV} to the name of an SSM SecureString parameter \
         holding it (or API_KEY outside AWS); the api does not run without one"
    )]
    NotConfigured,
    /// The parameter does not exist (or is not visible to this account and region).
    #[error(
        "the parameter {name} does not exist; create it with \
         `aws ssm put-parameter --type SecureString --name {name} --value <secret>`"
    )]
    Missing {
        /// The parameter's name.
        name: String,
    },
    /// Reading the parameter failed (access denied, KMS, network, throttling).
    #[error("reading the parameter {name} failed: {}", DisplayErrorContext(source.as_ref()))]
    Unreadable {
        /// The parameter's name.
        name: String,
        /// What the SDK reported.
        #[source]
        source: Box<SdkError<GetParameterError>>,
    },
    /// The parameter is a plain `String` or `StringList`: the key would be stored unencrypted.
    #[error(
        "the parameter {name} is a {kind} parameter; store the secret as a SecureString \
         (`aws ssm put-parameter --type SecureString ...`)"
    )]
    NotSecure {
        /// The parameter's name.
        name: String,
        /// Its type as SSM reports it.
        kind: String,
    },
    /// The key is empty or too short to be a secret.
    #[error("the secret in parameter {name} is shorter than {MIN_KEY_CHARS} characters")]
    TooShort {
        /// The parameter's name.
        name: String,
    },
}

impl ApiKeyError {
    /// True when the parameter does not exist.
    pub fn is_missing(&self) -> bool {
        matches!(self, Self::Missing { .. })
    }
}

/// Reads a secret (the API key, the webhook secret) from the SecureString
/// parameter `name`, decrypted; at least [`MIN_KEY_CHARS`] characters.
pub async fn load(client: &Client, name: &str) -> Result<ApiKey, ApiKeyError> {
    let out = client
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| {
            if e.as_service_error()
                .is_some_and(GetParameterError::is_parameter_not_found)
            {
                ApiKeyError::Missing {
                    name: name.to_owned(),
                }
            } else {
                ApiKeyError::Unreadable {
                    name: name.to_owned(),
                    source: Box::new(e),
                }
            }
        })?;
    let Some(parameter) = out.parameter() else {
        return Err(ApiKeyError::Missing {
            name: name.to_owned(),
        });
    };
    match parameter.r#type() {
        Some(ParameterType::SecureString) => {}
        other => {
            return Err(ApiKeyError::NotSecure {
                name: name.to_owned(),
                kind: other.map_or_else(|| "untyped".to_owned(), |t| t.as_str().to_owned()),
            });
        }
    }
    // A key written from a file (`--value file://key.txt`) ends in a newline.
    let key = parameter.value().unwrap_or_default().trim();
    if key.chars().count() < MIN_KEY_CHARS {
        return Err(ApiKeyError::TooShort {
            name: name.to_owned(),
        });
    }
    Ok(ApiKey::new(key))
}

impl KeySource {
    /// The key: read from the parameter store with an SSM client made from
    /// `aws` (on Lambda: the function's role and region; `AWS_ENDPOINT_URL_SSM`
    /// is honoured), or the one given.
    pub async fn resolve(self, aws: &aws_config::SdkConfig) -> Result<ApiKey, ApiKeyError> {
        match self {
            Self::Plain(key) => Ok(key),
            Self::Parameter(name) => load(&Client::new(aws), &name).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_key() {
        let key = ApiKey::new("very-secret-value-123");
        assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
        let source = KeySource::Plain(key);
        assert!(!format!("{source:?}").contains("very-secret"));
    }

    #[test]
    fn errors_say_what_to_do() {
        let missing = ApiKeyError::Missing {
            name: "/slicecast/api-key".into(),
        };
        assert!(missing.is_missing());
        assert!(missing.to_string().contains("--type SecureString"));
        assert!(
            ApiKeyError::NotConfigured
                .to_string()
                .contains(PARAMETER_ENV)
        );
    }
}

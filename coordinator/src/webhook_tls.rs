//! The webhook's HTTP client: rustls over the aws-lc-rs provider the AWS
//! SDK already builds (no second crypto library), with the system's root
//! certificates.

use std::sync::Arc;
use std::time::Duration;

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TlsSetupError(String);

/// A reqwest client for http and https webhook URLs.
pub fn client(timeout: Duration) -> Result<reqwest::Client, TlsSetupError> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for cert in found.certs {
        let _ = roots.add(cert);
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| TlsSetupError(e.to_string()))
}

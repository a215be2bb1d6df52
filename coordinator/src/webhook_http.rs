//! The webhook's one HTTP exchange: a POST over HTTP/1.1 (hyper), through
//! TLS for `https://` (rustls on the aws-lc-rs provider the AWS SDK already
//! builds, with the system's root certificates). No redirects are followed.

use bytes::Bytes;
use http_body_util::Full;
use hyper::Uri;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use std::sync::Arc;
use std::time::Duration;

/// Posts JSON bodies to one URL.
#[derive(Clone)]
pub(crate) struct Poster {
    uri: Uri,
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
}

impl Poster {
    /// A poster for `url` (http or https); a sentence when it cannot be used.
    pub(crate) fn new(url: &str, timeout: Duration) -> Result<Self, String> {
        let uri: Uri = url
            .parse()
            .map_err(|_| "WEBHOOK_URL is not a valid URL".to_owned())?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err("WEBHOOK_URL must be an http:// or https:// URL with a host".into());
        }
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            uri,
            tls: Arc::new(tls),
            timeout,
        })
    }

    /// POSTs `body` with `headers`; the status code answered.
    pub(crate) async fn post(
        &self,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<u16, String> {
        tokio::time::timeout(self.timeout, self.exchange(headers, body))
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {:?}", self.timeout)))
    }

    async fn exchange(&self, headers: &[(&str, String)], body: Vec<u8>) -> Result<u16, String> {
        let host = self.uri.host().unwrap_or_default().trim_matches(['[', ']']);
        let https = self.uri.scheme_str() == Some("https");
        let port = self.uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let mut req = hyper::Request::post(
            self.uri
                .path_and_query()
                .map_or("/", hyper::http::uri::PathAndQuery::as_str),
        )
        .header(
            hyper::header::HOST,
            self.uri.authority().map_or(host, |a| a.as_str()),
        )
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(hyper::header::USER_AGENT, "slicecast-webhook");
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let tcp = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("connecting: {e}"))?;
        if https {
            let name = ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?;
            let tls = tokio_rustls::TlsConnector::from(self.tls.clone())
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS: {e}"))?;
            send(TokioIo::new(tls), req).await
        } else {
            send(TokioIo::new(tcp), req).await
        }
    }
}

async fn send<I>(io: I, req: hyper::Request<Full<Bytes>>) -> Result<u16, String>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(conn);
    let status = sender
        .send_request(req)
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| e.to_string());
    driver.abort();
    status
}

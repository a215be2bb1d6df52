//! The HTTP server of `slicecast serve`: an accept loop over hyper with a
//! header-read timeout, a body idle timeout, a connection limit and graceful
//! shutdown (`axum::serve` has none of the first three).

use crate::AppState;
use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

/// Default [`ServeOptions::header_read_timeout`] (`HEADER_TIMEOUT_SECONDS`).
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`ServeOptions::body_idle_timeout`] (`BODY_IDLE_TIMEOUT_SECONDS`).
pub const DEFAULT_BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Default [`ServeOptions::max_connections`] (`MAX_CONNECTIONS`).
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// Limits on connections of [`serve_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeOptions {
    /// Longest wait for a request's complete header, counted from the moment
    /// the connection is ready for one: a new connection that sends nothing,
    /// an idle keep-alive connection and a header sent byte by byte are all
    /// closed after this long.
    pub header_read_timeout: Duration,
    /// Longest pause between two pieces of a request body (a part PUT that
    /// stops sending fails after this long and its temporary file is removed).
    pub body_idle_timeout: Duration,
    /// Connections served at once; further ones wait in the listen backlog
    /// until one closes.
    pub max_connections: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            header_read_timeout: DEFAULT_HEADER_TIMEOUT,
            body_idle_timeout: DEFAULT_BODY_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// The error a request body yields after [`ServeOptions::body_idle_timeout`]
/// without a byte.
#[derive(Debug, thiserror::Error)]
#[error("the request body stopped arriving (no data for {} s)", .0.as_secs())]
pub struct BodyIdleTimeout(pub Duration);

/// A request body that fails with [`BodyIdleTimeout`] when its sender pauses
/// longer than `idle`. Only time spent waiting for the client counts: a
/// handler that reads slowly is not timed out.
struct IdleTimeoutBody<B> {
    inner: B,
    idle: Duration,
    sleep: Pin<Box<Sleep>>,
    waiting: bool,
}

impl<B> IdleTimeoutBody<B> {
    fn new(inner: B, idle: Duration) -> Self {
        Self {
            inner,
            idle,
            sleep: Box::pin(tokio::time::sleep(idle)),
            waiting: false,
        }
    }
}

impl<B> http_body::Body for IdleTimeoutBody<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.waiting = false;
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                if !this.waiting {
                    this.waiting = true;
                    let deadline = Instant::now() + this.idle;
                    this.sleep.as_mut().reset(deadline);
                }
                match this.sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyIdleTimeout(this.idle))))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// True when `e` (a body error as handlers see it) is a [`BodyIdleTimeout`].
pub fn is_body_idle_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<BodyIdleTimeout>() {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Serves [`crate::app`] on `listener` with the default [`ServeOptions`]
/// until `shutdown` resolves (then finishes the requests in flight).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, ServeOptions::default(), shutdown).await
}

/// Serves [`crate::app`] on `listener` with these limits until `shutdown`
/// resolves; then stops accepting, lets the requests in flight finish and
/// closes idle connections.
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    opts: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = crate::app(state);
    let permits = Arc::new(Semaphore::new(opts.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(opts.header_read_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        // Wait for a free slot before accepting: connections past the limit
        // stay in the kernel's backlog.
        let permit = tokio::select! {
            () = &mut shutdown => break,
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let idle = opts.body_idle_timeout;
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let req = req.map(|b| Body::new(IdleTimeoutBody::new(b, idle)));
            router.clone().oneshot(req)
        });
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(peer = %peer, error = %e, "connection closed with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    type Frames = tokio::sync::mpsc::Receiver<Result<Frame<Bytes>, axum::BoxError>>;

    /// A body fed by a channel.
    struct ChannelBody(Frames);

    impl http_body::Body for ChannelBody {
        type Data = Bytes;
        type Error = axum::BoxError;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            self.0.poll_recv(cx)
        }
    }

    async fn collect(mut b: IdleTimeoutBody<ChannelBody>) -> Result<Vec<u8>, axum::BoxError> {
        use http_body::Body as _;
        let mut out = Vec::new();
        while let Some(f) = std::future::poll_fn(|cx| Pin::new(&mut b).poll_frame(cx)).await {
            if let Ok(d) = f?.into_data() {
                out.extend_from_slice(&d);
            }
        }
        Ok(out)
    }

    #[tokio::test]
    async fn a_body_that_pauses_too_long_fails() {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let body = IdleTimeoutBody::new(ChannelBody(rx), Duration::from_millis(300));
        let feed = tokio::spawn(async move {
            let _ = tx.send(Ok(Frame::data(Bytes::from_static(b"a")))).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            let _ = tx.send(Ok(Frame::data(Bytes::from_static(b"b")))).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(tx);
        });
        let err = collect(body).await.expect_err("idle");
        assert!(is_body_idle_timeout(err.as_ref()), "{err}");
        feed.abort();
    }

    #[tokio::test]
    async fn a_body_with_short_pauses_arrives_whole() {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let body = IdleTimeoutBody::new(ChannelBody(rx), Duration::from_secs(5));
        tokio::spawn(async move {
            for c in [b"x", b"y", b"z"] {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let _ = tx.send(Ok(Frame::data(Bytes::from_static(c)))).await;
            }
        });
        assert_eq!(collect(body).await.expect("whole"), b"xyz");
    }
}

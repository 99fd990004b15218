//! One accepted connection, from the TLS handshake to its close: HTTP/1.1 or HTTP/2 (hyper decides
//! from the preface), the HTTP/2 limits, and the three ways netplane ends a connection itself —
//! no open call for `--idle-timeout`, older than `--max-connection-age`, or a drain — each first
//! gracefully (HTTP/2 GOAWAY, which tells the client which calls were taken, so it can retry the
//! others elsewhere; HTTP/1.1 closes once the call in hand is answered) and then, if the client
//! does not let go, by cutting it.

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Duration, Instant};
use tonic::body::Body;
use tower::ServiceExt;

use super::activity::{Activity, Counted};
use super::{Limits, Stack};
use crate::transport::CoalescingStream;

/// Streams a client may open and reset before the server has taken them (hyper's default).
const MAX_PENDING_ACCEPT_RESET_STREAMS: usize = 20;
/// Streams the server may reset for a client's errors before it closes the connection (hyper's
/// default).
const MAX_LOCAL_ERROR_RESET_STREAMS: usize = 1024;

/// The HTTP server settings every connection of a listener shares.
pub fn http_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // The transport's own head limits sit above the API's (`api::head`), which answer in the
    // API's dialect.
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).max_headers(200);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_concurrent_streams)
        // hyper's own defaults, which tonic turns off: a client that makes the server reset many
        // streams (Rapid Reset, MadeYouReset) has its connection closed.
        .max_pending_accept_reset_streams(Some(MAX_PENDING_ACCEPT_RESET_STREAMS))
        .max_local_error_reset_streams(Some(MAX_LOCAL_ERROR_RESET_STREAMS))
        .keep_alive_interval(limits.keepalive_interval)
        .keep_alive_timeout(limits.keepalive_timeout)
        .max_header_list_size(64 * 1024);
    builder
}

/// Serves one connection until it closes, is closed by netplane, or the drain ends it.
pub async fn serve(
    tcp: TcpStream,
    tls: Option<tokio_rustls::TlsAcceptor>,
    stack: Stack,
    http: Arc<auto::Builder<TokioExecutor>>,
    limits: Arc<Limits>,
    drain: watch::Receiver<bool>,
) {
    // Without TCP_NODELAY a response written in two segments waits for the client's delayed ACK:
    // 40 ms per call.
    let _ = tcp.set_nodelay(true);
    let stream = CoalescingStream::new(tcp);
    match tls {
        None => run(stream, stack, &http, &limits, drain).await,
        Some(acceptor) => match tokio::time::timeout(limits.header_read_timeout, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => run(stream, stack, &http, &limits, drain).await,
            Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
            Err(_) => tracing::debug!("TLS handshake not finished within the header read timeout; closed"),
        },
    }
}

async fn run<IO>(io: IO, stack: Stack, http: &auto::Builder<TokioExecutor>, limits: &Limits, mut drain: watch::Receiver<bool>)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Activity::new();
    let service = Counted::new(stack, activity.clone()).map_request(|req: http::Request<Incoming>| req.map(Body::new));
    let conn = http.serve_connection(TokioIo::new(io), TowerToHyperService::new(service));
    tokio::pin!(conn);

    let opened = Instant::now();
    let aged = async {
        match limits.max_connection_age {
            Some(age) => tokio::time::sleep_until(opened + age).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(aged);
    let idle = activity.idle_for(limits.idle_timeout);
    tokio::pin!(idle);
    // A drain tells a connection to go only once it is past its first moments: one accepted just
    // before the drain has a request on its way, and a graceful shutdown before hyper has read it
    // would close the connection unanswered (HTTP/1.1, or HTTP/2 before its preface is read).
    let drained = async {
        let _ = drain.wait_for(|draining| *draining).await;
        tokio::time::sleep_until(opened + DRAIN_MIN_AGE).await;
    };
    tokio::pin!(drained);
    // Whether netplane has asked the connection to close, and when it is cut if still open.
    let mut closing = false;
    let mut cut_at: Option<Instant> = None;

    loop {
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = &mut idle, if !closing => {
                tracing::debug!(idle_timeout = ?limits.idle_timeout, "closing a connection with no open call");
                conn.as_mut().graceful_shutdown();
                closing = true;
                // A client that has not let go after another idle period is cut.
                cut_at = Some(Instant::now() + limits.idle_timeout);
            }
            _ = &mut aged, if !closing => {
                tracing::debug!(max_connection_age = ?limits.max_connection_age, "closing a connection at its maximum age");
                conn.as_mut().graceful_shutdown();
                closing = true;
                cut_at = Some(Instant::now() + limits.max_connection_age_grace);
            }
            _ = &mut drained, if !closing => {
                // The server's --shutdown-grace bounds the drain as a whole.
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            _ = until(cut_at) => {
                tracing::debug!(open_calls = activity.open_calls(), "cutting a connection that did not close when asked");
                return;
            }
        }
    }
}

/// How long a connection is served before a drain tells it to go.
const DRAIN_MIN_AGE: Duration = Duration::from_millis(500);

/// Resolves at `at`, or never.
async fn until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

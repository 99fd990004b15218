//! netplane's own accept loop, in place of tonic's: it bounds what one client can hold open
//! (connections, streams per connection, reset streams, time spent sending headers or doing
//! nothing), backs off instead of spinning when the process runs out of file descriptors, and on
//! a drain closes the listening socket at once, so that a proxy's new connections are refused
//! (and retried on another replica) rather than left unanswered in the accept queue.

mod activity;
mod connection;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_util::task::TaskTracker;
use tonic::body::Body;

use crate::config::ServeArgs;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What every connection serves: the APIs behind their layers.
pub type Stack = tower::util::BoxCloneService<Request<Body>, Response<Body>, BoxError>;

/// The bounds on connections, from the command line (SECURITY.md lists them).
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_connections: usize,
    pub max_concurrent_streams: u32,
    pub idle_timeout: Duration,
    pub header_read_timeout: Duration,
    pub keepalive_interval: Option<Duration>,
    pub keepalive_timeout: Duration,
    pub max_connection_age: Option<Duration>,
    pub max_connection_age_grace: Duration,
}

impl Limits {
    pub fn from_args(args: &ServeArgs) -> Limits {
        let on = |d: Duration| (!d.is_zero()).then_some(d);
        Limits {
            max_connections: args.max_connections.max(1),
            max_concurrent_streams: args.max_concurrent_streams.max(1),
            idle_timeout: args.idle_timeout,
            header_read_timeout: args.header_read_timeout,
            keepalive_interval: on(args.keepalive_interval),
            keepalive_timeout: args.keepalive_timeout,
            max_connection_age: on(args.max_connection_age),
            max_connection_age_grace: args.max_connection_age_grace,
        }
    }
}

/// Connection slots shared by every listener of the process (`--max-connections`).
pub fn connection_slots(limits: &Limits) -> Arc<Semaphore> {
    Arc::new(Semaphore::new(limits.max_connections))
}

/// The longest pause after the process ran out of file descriptors or memory for a socket.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Accepts and serves connections on `listener` until the drain starts, then closes the listener
/// and waits for the connections it has to finish (each told to close).
pub async fn serve(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    stack: Stack,
    limits: Arc<Limits>,
    slots: Arc<Semaphore>,
    mut drain: watch::Receiver<bool>,
) {
    let http = Arc::new(connection::http_builder(&limits));
    let connections = TaskTracker::new();
    let mut backoff = Duration::ZERO;
    loop {
        // At the limit, new connections wait in the kernel's accept queue until one closes.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            _ = drain.wait_for(|draining| *draining) => break,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = drain.wait_for(|draining| *draining) => break,
        };
        match accepted {
            Ok((tcp, _)) => {
                backoff = Duration::ZERO;
                let serving = connection::serve(tcp, tls.clone(), stack.clone(), http.clone(), limits.clone(), drain.clone());
                connections.spawn(async move {
                    serving.await;
                    drop(slot);
                });
            }
            Err(e) if out_of_resources(&e) => {
                backoff = (backoff * 2).clamp(Duration::from_millis(5), MAX_ACCEPT_BACKOFF);
                tracing::warn!(error = %e, ?backoff, "cannot accept a connection: out of file descriptors or memory; pausing");
                tokio::time::sleep(backoff).await;
            }
            // The client went away before it was accepted, and the like: nothing to wait for.
            Err(e) => tracing::debug!(error = %e, "accept failed"),
        }
    }
    // Connections the kernel completed before the drain may carry a request already sent: they
    // are taken and served (and told to go), not reset with the socket. Then the socket is closed
    // now, not when the last connection ends: connections from here on are refused, which a proxy
    // retries elsewhere, instead of being reset when the process exits.
    let mut queued = 0;
    // Accepted with the system call itself: tokio's `accept` would not try while its readiness
    // (updated once per reactor turn) says nothing is waiting, and the connections that arrived
    // since would be reset.
    if let Ok(listener) = listener.into_std() {
        while let Ok((tcp, _)) = listener.accept() {
            let Ok(tcp) = tcp.set_nonblocking(true).and_then(|()| tokio::net::TcpStream::from_std(tcp)) else { continue };
            queued += 1;
            connections.spawn(connection::serve(tcp, tls.clone(), stack.clone(), http.clone(), limits.clone(), drain.clone()));
        }
    }
    if queued > 0 {
        tracing::info!(queued, "draining: served the connections already queued, then closed the listener");
    }
    connections.close();
    connections.wait().await;
}

/// Accept errors that waiting cures (EMFILE, ENFILE, ENOBUFS, ENOMEM), as opposed to ones about a
/// single client.
fn out_of_resources(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)) || e.kind() == io::ErrorKind::OutOfMemory
}

//! What a connection is doing: how many calls are open on it and since when it has had none, so
//! that a connection with no open call can be closed after `--idle-timeout` (gRPC's
//! `MAX_CONNECTION_IDLE`). A call is open from the moment its request arrives until its response
//! body is dropped, which covers streaming answers (health `Watch`, reflection) as well as unary
//! ones. Bytes alone (keep-alive pings, a request trickling in) do not make a connection busy: a
//! slow client that never completes a request is idle.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use http_body_util::BodyExt;
use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::time::Instant;
use tonic::body::Body;
use tower_service::Service;

use super::Stack;

/// Open calls on one connection.
#[derive(Debug)]
pub struct Activity {
    state: Mutex<State>,
    /// Woken when the last open call ends.
    became_idle: Notify,
}

#[derive(Debug)]
struct State {
    open: usize,
    idle_since: Instant,
}

impl Activity {
    pub fn new() -> Arc<Activity> {
        Arc::new(Activity { state: Mutex::new(State { open: 0, idle_since: Instant::now() }), became_idle: Notify::new() })
    }

    /// Counts a call as open until the returned guard is dropped.
    pub fn open_call(self: &Arc<Self>) -> OpenCall {
        self.state.lock().open += 1;
        OpenCall(self.clone())
    }

    pub fn open_calls(&self) -> usize {
        self.state.lock().open
    }

    /// Resolves once the connection has had no open call for `timeout`.
    pub async fn idle_for(&self, timeout: Duration) {
        loop {
            // Registered before the state is read, so an end of a call in between is not missed.
            let woken = self.became_idle.notified();
            let (open, idle_since) = {
                let state = self.state.lock();
                (state.open, state.idle_since)
            };
            if open > 0 {
                woken.await;
                continue;
            }
            let deadline = idle_since + timeout;
            if Instant::now() >= deadline {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => {}
                _ = woken => {}
            }
        }
    }
}

/// One open call; dropping it ends the call.
pub struct OpenCall(Arc<Activity>);

impl Drop for OpenCall {
    fn drop(&mut self) {
        let mut state = self.0.state.lock();
        state.open -= 1;
        if state.open == 0 {
            state.idle_since = Instant::now();
            drop(state);
            self.0.became_idle.notify_waiters();
        }
    }
}

/// The service one connection runs: counts each call open until its response body is dropped,
/// ends a gRPC call at the deadline its client sent (`grpc-timeout`) with DEADLINE_EXCEEDED, and
/// answers a service failure as a gRPC INTERNAL status rather than a reset stream, as tonic's own
/// server does.
#[derive(Clone)]
pub struct Counted {
    inner: Stack,
    activity: Arc<Activity>,
}

impl Counted {
    pub fn new(inner: Stack, activity: Arc<Activity>) -> Counted {
        Counted { inner, activity }
    }
}

impl Service<Request<Body>> for Counted {
    type Response = Response<Body>;
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, std::convert::Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // A failed readiness is reported on the call itself.
        let _ = std::task::ready!(self.inner.poll_ready(cx));
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let open = self.activity.open_call();
        let deadline = grpc_timeout(req.headers());
        let answer = self.inner.call(req);
        Box::pin(async move {
            let answered = match deadline {
                Some(deadline) => match tokio::time::timeout(deadline, answer).await {
                    Ok(answered) => answered,
                    Err(_) => return Ok(tonic::Status::deadline_exceeded("the deadline the client set (grpc-timeout) passed").into_http()),
                },
                None => answer.await,
            };
            let response = match answered {
                Ok(response) => response,
                Err(e) => {
                    tracing::error!(error = %e, "a call failed below the API layer");
                    tonic::Status::internal(format!("the call failed: {e}")).into_http()
                }
            };
            // The call stays open while its answer is being sent.
            Ok(response.map(|body| {
                Body::new(body.map_frame(move |frame| {
                    let _ = &open;
                    frame
                }))
            }))
        })
    }
}

/// The deadline of a gRPC call: `grpc-timeout` is at most eight digits and a unit.
fn grpc_timeout(headers: &http::HeaderMap) -> Option<Duration> {
    // A name, not a `&str`: looking up by `&str` parses the name again on every call.
    const GRPC_TIMEOUT: http::HeaderName = http::HeaderName::from_static("grpc-timeout");
    let value = headers.get(&GRPC_TIMEOUT)?.to_str().ok()?;
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_are_read_as_the_protocol_writes_them() {
        let timeout = |v: &'static str| {
            let mut headers = http::HeaderMap::new();
            headers.insert("grpc-timeout", http::HeaderValue::from_static(v));
            grpc_timeout(&headers)
        };
        assert_eq!(timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(timeout("99999999n"), Some(Duration::from_nanos(99_999_999)));
        for bad in ["", "S", "5", "123456789S", "5x", "-5S", "5 S"] {
            assert_eq!(timeout(bad), None, "{bad:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn idle_counts_from_the_end_of_the_last_call() {
        let activity = Activity::new();
        let call = activity.open_call();
        let idle = activity.idle_for(Duration::from_secs(10));
        tokio::pin!(idle);
        tokio::time::advance(Duration::from_secs(60)).await;
        assert!(futures_poll(&mut idle).is_pending(), "busy while a call is open, however long");
        drop(call);
        tokio::time::advance(Duration::from_secs(9)).await;
        assert!(futures_poll(&mut idle).is_pending());
        tokio::time::advance(Duration::from_secs(2)).await;
        idle.await;
        assert_eq!(activity.open_calls(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_with_no_call_yet_is_idle_from_its_start() {
        let activity = Activity::new();
        tokio::time::timeout(Duration::from_secs(6), activity.idle_for(Duration::from_secs(5))).await.expect("idle after 5 s");
    }

    fn futures_poll<F: Future>(f: &mut Pin<&mut F>) -> Poll<F::Output> {
        let waker = std::task::Waker::noop();
        f.as_mut().poll(&mut Context::from_waker(waker))
    }
}

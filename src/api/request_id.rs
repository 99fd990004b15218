//! Request identity for every call, whatever the protocol: the client's `x-request-id` is echoed
//! (or a new one minted), a server request id and trace id are added, all go into the response headers and into
//! a debug-level tracing span that every log line of the call carries when debug is on. At the
//! default level (info) the span is not made: formatting its eight fields cost a mixed call about
//! 8,000 instructions (BENCHMARKS.md, "The default log level"), so the error lines a call can write
//! at that level name its request id themselves.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderName, HeaderValue, Request, Response};
use tower_layer::Layer;
use tower_service::Service;
use tracing::Instrument;

use super::header_names::{CLIENT_REQUEST_ID, CLIENT_TRACE_ID, GRPC_STATUS, REQUEST_ID, SERVER_REQUEST_ID, SERVER_TRACE_ID};

/// The ids of the call being served, available to handlers through request extensions. Several
/// layers keep a copy for the answer (its headers, its error details), so the ids are shared, not
/// copied.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub request_id: Arc<str>,
    pub server_request_id: Arc<str>,
    pub server_trace_id: Arc<str>,
    /// Set by the REST gateway on its in-process gRPC call: the handler hands its answer over
    /// typed (`api::answer::TypedAnswer`) instead of encoded.
    pub answer_typed: bool,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct RequestIdLayer;

impl<S> Layer<S> for RequestIdLayer {
    type Service = RequestIdService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RequestIdService { inner }
    }
}

#[derive(Clone, Debug)]
pub struct RequestIdService<S> {
    inner: S,
}

fn header<'a, B>(req: &'a Request<B>, name: &HeaderName) -> &'a str {
    req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

impl<S, B, RB> Service<Request<B>> for RequestIdService<S>
where
    S: Service<Request<B>, Response = Response<RB>> + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response<RB>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let given = header(&req, &REQUEST_ID);
        // Only a sane, header-safe id is echoed; anything else gets a fresh one.
        let request_id = if !given.is_empty() && given.len() <= 128 && HeaderValue::from_str(given).is_ok() {
            Arc::from(given)
        } else if super::front::is_huawei_path(req.uri().path()) {
            // Huawei request ids are 32 hex digits.
            Arc::from(uuid::Uuid::new_v4().simple().to_string())
        } else {
            Arc::from(uuid::Uuid::new_v4().to_string())
        };
        let ctx = RequestContext {
            request_id,
            server_request_id: Arc::from(uuid::Uuid::new_v4().to_string()),
            server_trace_id: Arc::from(uuid::Uuid::new_v4().simple().to_string()),
            answer_typed: false,
        };
        let span = tracing::debug_span!(
            "request",
            method = %req.method(),
            path = %req.uri().path(),
            request_id = %ctx.request_id,
            server_request_id = %ctx.server_request_id,
            server_trace_id = %ctx.server_trace_id,
            client_request_id = %header(&req, &CLIENT_REQUEST_ID),
            client_trace_id = %header(&req, &CLIENT_TRACE_ID),
        );
        req.extensions_mut().insert(ctx.clone());
        let fut = self.inner.call(req);
        Box::pin(
            async move {
                let started = std::time::Instant::now();
                let mut res = fut.await?;
                let headers = res.headers_mut();
                for (name, value) in
                    [(REQUEST_ID, &ctx.request_id), (SERVER_REQUEST_ID, &ctx.server_request_id), (SERVER_TRACE_ID, &ctx.server_trace_id)]
                {
                    if let Ok(mut v) = HeaderValue::from_str(value) {
                        // Never indexed: each value is new, so HPACK's table would only churn
                        // (an insert and an eviction per header, and a search of the name's
                        // earlier values) on both sides of the connection.
                        v.set_sensitive(true);
                        headers.insert(name, v);
                    }
                }
                // The fields are only read when the line is logged.
                tracing::debug!(
                    status = %res.status().as_u16(),
                    grpc_status = res.headers().get(&GRPC_STATUS).and_then(|v| v.to_str().ok()).unwrap_or(""),
                    elapsed_us = started.elapsed().as_micros() as u64,
                    "served"
                );
                Ok(res)
            }
            .instrument(span),
        )
    }
}

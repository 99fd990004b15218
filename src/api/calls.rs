//! One record per API call, made at the front door (after request ids are given): protocol,
//! method, path, who called, status (gRPC code and HTTP status), duration, request id, the
//! operation it started and its request. Each record feeds the metrics and the request journal
//! (`/_netplane/requests`). Inner layers fill in what only they learn (the guard: the gRPC method,
//! the subject, the request message and the operation; the REST gateway: the gRPC code; the
//! Huawei router: its API name and subject) through `CallNotes` in the request's extensions; the
//! record is finished when the response's last byte (or its trailers) has gone, or when the
//! client goes away.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body::Frame;
use parking_lot::Mutex;
use tonic::body::Body;
use tower_layer::Layer;
use tower_service::Service;

use super::front::{Dialect, Mode};
use super::request_id::RequestContext;

/// The header the console (`/_netplane/ui/`) sends with its own API calls: they count in the
/// metrics but are kept out of the journal, so that a person watching the calls sees their
/// system's, not the console's polling.
pub const CONSOLE_HEADER: &str = "x-netplane-console";

/// The method of a call to no method netplane serves.
pub const UNKNOWN_METHOD: &str = "unknown";

/// gRPC methods served beside the contract's (health, reflection), by path.
const INFRASTRUCTURE_METHODS: [&str; 4] = [
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// The method a gRPC path names, if netplane serves it.
pub fn served_method(path: &str) -> Option<&'static str> {
    let known = crate::proto::METHODS.iter().map(|m| m.path).chain(INFRASTRUCTURE_METHODS).find(|known| *known == path)?;
    Some(known.trim_start_matches('/'))
}

/// What inner layers learn about a call.
#[derive(Default)]
pub struct Notes {
    /// The gRPC full method (`package.Service/Method`) or the Huawei API name: one of a fixed set,
    /// so recording it allocates nothing.
    pub method: Option<&'static str>,
    pub subject: Option<String>,
    pub request: Option<RawRequest>,
    /// Set by the use case that starts an operation.
    pub operation: Option<Arc<OnceLock<String>>>,
    /// The gRPC code of a REST call's in-process gRPC answer.
    pub grpc_code: Option<i32>,
}

/// A request as it arrived: rendered as JSON only when the journal is read.
#[derive(Clone, Debug)]
pub enum RawRequest {
    /// A gRPC request message (the frame's payload) of the method at `path`.
    Grpc {
        path: String,
        message: Bytes,
    },
    Json(Bytes),
    /// A request larger than the journal keeps (`MAX_KEPT_BYTES`): only its size.
    Omitted(usize),
}

/// The largest request the journal keeps, so that its memory stays bounded (1000 calls of at most
/// 64 KiB) whatever clients send.
pub const MAX_KEPT_BYTES: usize = 64 * 1024;

impl RawRequest {
    pub fn grpc(path: String, message: Bytes) -> RawRequest {
        if message.len() > MAX_KEPT_BYTES { RawRequest::Omitted(message.len()) } else { RawRequest::Grpc { path, message } }
    }

    pub fn json(body: Bytes) -> RawRequest {
        // A copy, not a slice: a slice would keep the whole received buffer alive.
        if body.len() > MAX_KEPT_BYTES { RawRequest::Omitted(body.len()) } else { RawRequest::Json(Bytes::copy_from_slice(&body)) }
    }
}

/// The notes of one call, shared by the layers it passes.
#[derive(Clone, Default)]
pub struct CallNotes(Arc<Mutex<Notes>>);

impl CallNotes {
    pub fn of<B>(request: &Request<B>) -> Option<CallNotes> {
        request.extensions().get::<CallNotes>().cloned()
    }

    pub fn note(&self, f: impl FnOnce(&mut Notes)) {
        f(&mut self.0.lock())
    }
}

/// A finished call.
#[derive(Clone, Debug)]
pub struct CallRecord {
    pub time: SystemTime,
    pub protocol: &'static str,
    pub method: String,
    pub http_method: String,
    pub path: String,
    pub subject: String,
    pub http_status: u16,
    pub grpc_code: Option<i32>,
    pub duration_us: u64,
    pub request_id: String,
    pub operation_id: Option<String>,
    pub request: Option<RawRequest>,
}

/// The last calls, oldest first; `capacity` 0 keeps none.
pub struct Journal {
    capacity: usize,
    records: Mutex<VecDeque<CallRecord>>,
}

impl Journal {
    pub fn new(capacity: usize) -> Journal {
        Journal { capacity, records: Mutex::new(VecDeque::with_capacity(capacity.min(4096))) }
    }

    fn push(&self, record: CallRecord) {
        if self.capacity == 0 {
            return;
        }
        let mut records = self.records.lock();
        if records.len() == self.capacity {
            records.pop_front();
        }
        records.push_back(record);
    }

    /// The last `limit` calls after the one with request id `since` (all kept, without it) that
    /// `filter` keeps, oldest first.
    pub fn read(&self, filter: &JournalFilter, since: Option<&str>, limit: usize) -> Vec<CallRecord> {
        let records = self.records.lock();
        let start = since.and_then(|id| records.iter().rposition(|r| r.request_id == id).map(|at| at + 1)).unwrap_or(0);
        let kept: Vec<&CallRecord> = records.iter().skip(start).filter(|r| filter.keeps(r)).collect();
        kept[kept.len().saturating_sub(limit)..].iter().map(|r| (*r).clone()).collect()
    }
}

/// Which calls a journal read keeps: each given field must equal the call's.
#[derive(Clone, Debug, Default)]
pub struct JournalFilter {
    pub method: Option<String>,
    /// A gRPC code name (`NOT_FOUND`), or for a Huawei call without one its HTTP status.
    pub code: Option<String>,
    pub request_id: Option<String>,
}

impl JournalFilter {
    fn keeps(&self, record: &CallRecord) -> bool {
        self.method.as_ref().is_none_or(|m| record.method == *m)
            && self.request_id.as_ref().is_none_or(|id| record.request_id == *id)
            && self.code.as_ref().is_none_or(|code| record.code_name() == *code)
    }
}

impl CallRecord {
    /// The call's outcome as one word: its gRPC code's name, or a Huawei call's HTTP status.
    pub fn code_name(&self) -> std::borrow::Cow<'static, str> {
        match self.grpc_code {
            Some(0) => "OK".into(),
            Some(code) => crate::error::Code::from_number(code).name().into(),
            None if self.protocol == "huawei" => self.http_status.to_string().into(),
            None => "OK".into(),
        }
    }
}

#[derive(Clone)]
pub struct CallLayer {
    journal: Arc<Journal>,
    mode: Mode,
}

impl CallLayer {
    pub fn new(journal: Arc<Journal>, mode: Mode) -> CallLayer {
        CallLayer { journal, mode }
    }
}

impl<S> Layer<S> for CallLayer {
    type Service = CallService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        CallService { inner, journal: self.journal.clone(), mode: self.mode }
    }
}

#[derive(Clone)]
pub struct CallService<S> {
    inner: S,
    journal: Arc<Journal>,
    mode: Mode,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S> Service<Request<Body>> for CallService<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        let protocol = match Dialect::of(&req, self.mode) {
            // netplane's own endpoints are not API calls.
            Dialect::Admin => return Box::pin(self.inner.call(req)),
            Dialect::Grpc if is_grpc_web(req.headers()) => "grpc-web",
            Dialect::Grpc => "grpc",
            Dialect::YandexRest => "rest",
            Dialect::HuaweiRest => "huawei",
        };
        let notes = CallNotes::default();
        req.extensions_mut().insert(notes.clone());
        let pending = Pending {
            started: Instant::now(),
            time: SystemTime::now(),
            protocol,
            http_method: req.method().to_string(),
            path: req.uri().path().to_string(),
            request_id: req.extensions().get::<RequestContext>().map(|c| c.request_id.to_string()).unwrap_or_default(),
            from_console: req.headers().contains_key(CONSOLE_HEADER),
            notes,
            journal: self.journal.clone(),
            http_status: 0,
            grpc_code: None,
        };
        let answer = self.inner.call(req);
        Box::pin(async move {
            let response = answer.await?;
            let (parts, body) = response.into_parts();
            let mut pending = pending;
            pending.http_status = parts.status.as_u16();
            pending.grpc_code = grpc_status(&parts.headers);
            Ok(Response::from_parts(parts, Body::new(RecordedBody { inner: body, pending: Some(pending) })))
        })
    }
}

fn is_grpc_web(headers: &HeaderMap) -> bool {
    headers.get(http::header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/grpc-web"))
}

fn grpc_status(headers: &HeaderMap) -> Option<i32> {
    headers.get(&super::header_names::GRPC_STATUS).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok())
}

/// A Huawei call's HTTP status as a metric label, from a fixed set.
fn status_label(status: u16) -> &'static str {
    const KNOWN: [&str; 18] =
        ["200", "201", "202", "204", "400", "401", "403", "404", "405", "408", "409", "413", "414", "429", "431", "500", "501", "503"];
    let text = status.to_string();
    KNOWN.iter().find(|k| **k == text).copied().unwrap_or("other")
}

/// A call whose response is still being sent.
struct Pending {
    started: Instant,
    time: SystemTime,
    protocol: &'static str,
    http_method: String,
    path: String,
    request_id: String,
    from_console: bool,
    notes: CallNotes,
    journal: Arc<Journal>,
    http_status: u16,
    grpc_code: Option<i32>,
}

impl Pending {
    fn finish(self) {
        let took = self.started.elapsed();
        let notes = std::mem::take(&mut *self.notes.0.lock());
        let grpc_code = self.grpc_code.or(notes.grpc_code);
        // Only methods netplane serves name a call: a client's made-up paths must not grow the
        // metrics without bound (the journal keeps the path).
        let method = notes.method.unwrap_or(UNKNOWN_METHOD);
        let code = match grpc_code {
            Some(0) => "OK",
            Some(code) => crate::error::Code::from_number(code).name(),
            None if self.protocol == "huawei" => status_label(self.http_status),
            None => "OK",
        };
        crate::metrics::metrics().call(self.protocol, method, code, took);
        if self.from_console {
            return;
        }
        self.journal.push(CallRecord {
            time: self.time,
            protocol: self.protocol,
            method: method.to_string(),
            http_method: self.http_method,
            path: self.path,
            subject: notes.subject.unwrap_or_default(),
            http_status: self.http_status,
            grpc_code,
            duration_us: u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            request_id: self.request_id,
            operation_id: notes.operation.and_then(|slot| slot.get().cloned()),
            request: notes.request,
        });
    }
}

/// The response body, passed through; the call's record is finished at its end (the trailers
/// carry a gRPC call's status) or when it is dropped unfinished (the client went away).
struct RecordedBody {
    inner: Body,
    pending: Option<Pending>,
}

impl http_body::Body for RecordedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(trailers), Some(pending)) = (frame.trailers_ref(), self.pending.as_mut()) {
                    pending.grpc_code = pending.grpc_code.or(grpc_status(trailers));
                }
            }
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => {
                if let Some(pending) = self.pending.take() {
                    pending.finish();
                }
            }
            Poll::Pending => {}
        }
        polled.map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for RecordedBody {
    fn drop(&mut self) {
        if let Some(pending) = self.pending.take() {
            pending.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, method: &str) -> CallRecord {
        CallRecord {
            time: SystemTime::UNIX_EPOCH,
            protocol: "grpc",
            method: method.into(),
            http_method: "POST".into(),
            path: format!("/{method}"),
            subject: String::new(),
            http_status: 200,
            grpc_code: Some(0),
            duration_us: 1,
            request_id: id.into(),
            operation_id: None,
            request: None,
        }
    }

    #[test]
    fn the_journal_keeps_the_last_calls_and_reads_after_a_request_id() {
        let journal = Journal::new(3);
        for (id, method) in [("a", "m1"), ("b", "m2"), ("c", "m1"), ("d", "m1")] {
            journal.push(record(id, method));
        }
        let ids = |records: Vec<CallRecord>| records.into_iter().map(|r| r.request_id).collect::<Vec<_>>();
        let all = JournalFilter::default();
        let method = |m: &str| JournalFilter { method: Some(m.into()), ..Default::default() };
        assert_eq!(ids(journal.read(&all, None, 10)), ["b", "c", "d"], "the oldest fell out");
        assert_eq!(ids(journal.read(&method("m1"), None, 10)), ["c", "d"]);
        assert_eq!(ids(journal.read(&all, Some("b"), 10)), ["c", "d"]);
        assert_eq!(ids(journal.read(&all, None, 1)), ["d"]);
        assert_eq!(ids(journal.read(&all, Some("gone"), 10)), ["b", "c", "d"]);
        let by_id = JournalFilter { request_id: Some("c".into()), code: Some("OK".into()), ..Default::default() };
        assert_eq!(ids(journal.read(&by_id, None, 10)), ["c"]);
        assert!(journal.read(&JournalFilter { code: Some("NOT_FOUND".into()), ..Default::default() }, None, 10).is_empty());
        let off = Journal::new(0);
        off.push(record("a", "m"));
        assert!(off.read(&all, None, 10).is_empty());
    }
}

//! The REST gateway: a tower layer in front of the gRPC services that answers HTTP/JSON requests by
//! calling those same services in process (so auth, idempotency, request ids and every rule are
//! shared), and hands gRPC and gRPC-Web requests straight through.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use prost::Message;
use tonic::body::Body;
use tower::ServiceExt;
use tower_layer::Layer;
use tower_service::Service;

use super::descriptor_pool;
use super::json;
use super::routes::{Lookup, Route, RouteTable};
use crate::api::admin::AdminRest;
use crate::api::answer::TypedAnswer;
use crate::api::body::{BodyReader, MAX_MESSAGE_BYTES};
use crate::api::calls::CallNotes;
use crate::api::framing;
use crate::api::front::{Dialect, Mode};
use crate::api::grpc::{rpc_status, to_status};
use crate::api::head;
use crate::api::huawei::HuaweiRest;
use crate::api::request_id::RequestContext;
use crate::error::{Code, Error, TransportError};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type BoxFuture = Pin<Box<dyn Future<Output = Result<Response<Body>, BoxError>> + Send>>;

/// What REST needs: the descriptors (for JSON) and the routes read from them, both built on the
/// first REST request, so that a server only ever called over gRPC does not hold them (the decoded
/// descriptors are the largest part of an idle server's heap, BENCHMARKS.md).
#[derive(Debug)]
pub struct Gateway {
    services: &'static [&'static str],
    routes: OnceLock<std::result::Result<RouteTable, String>>,
    bodies: BodyReader,
}

impl Gateway {
    pub fn new(services: &'static [&'static str], bodies: BodyReader) -> Gateway {
        Gateway { services, routes: OnceLock::new(), bodies }
    }

    /// The route table; a failure to build it (the descriptors lack a rule it needs) is a
    /// defect of the build, answered as INTERNAL on every REST call.
    fn routes(&self) -> Result<&RouteTable, Error> {
        self.routes
            .get_or_init(|| RouteTable::from_descriptors(descriptor_pool(), self.services))
            .as_ref()
            .map_err(|e| Error::Internal(format!("REST routes: {e}")))
    }

    /// Answers one REST request; every failure is a JSON error, never a bare status.
    async fn serve<S, RB>(&self, grpc: S, req: Request<Body>) -> Response<Body>
    where
        S: Service<Request<Body>, Response = Response<RB>>,
        S::Error: Into<BoxError>,
        RB: http_body::Body<Data = Bytes>,
        RB::Error: Into<BoxError>,
    {
        let ctx = req.extensions().get::<RequestContext>().cloned();
        match self.transcode(grpc, req).await {
            Ok(response) => response,
            Err(e) => self.refuse(&e, ctx.as_ref()),
        }
    }

    /// The JSON answer of a refused REST request.
    pub fn refuse(&self, e: &Error, ctx: Option<&RequestContext>) -> Response<Body> {
        let mut headers = HeaderMap::new();
        if let Error::Transport(TransportError::MethodNotAllowed { allowed, .. }) = e
            && let Ok(allowed) = HeaderValue::from_str(allowed)
        {
            headers.insert(header::ALLOW, allowed);
        }
        tracing::debug!(error = %e, "REST request refused");
        self.error_response(e.http_status(), &rpc_status(e, ctx).encode_to_vec(), headers)
    }

    async fn transcode<S, RB>(&self, grpc: S, req: Request<Body>) -> Result<Response<Body>, Error>
    where
        S: Service<Request<Body>, Response = Response<RB>>,
        S::Error: Into<BoxError>,
        RB: http_body::Body<Data = Bytes>,
        RB::Error: Into<BoxError>,
    {
        let (parts, body) = req.into_parts();
        let notes = parts.extensions.get::<CallNotes>().cloned();
        let path = parts.uri.path();
        let (route, vars) = match self.routes()?.lookup(&parts.method, path) {
            Lookup::Found(route, vars) => (route, vars),
            Lookup::WrongMethod(allowed) => {
                let allowed = allowed.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
                return Err(TransportError::MethodNotAllowed { method: parts.method.to_string(), path: path.to_string(), allowed }.into());
            }
            Lookup::NotFound => return Err(TransportError::NoRoute { method: parts.method.to_string(), path: path.to_string() }.into()),
        };
        let body = self.bodies.read_draining(&parts.headers, body, MAX_MESSAGE_BYTES, DRAIN_LIMIT_BYTES).await?;
        let message = json::request_encoded(route, &vars, parts.uri.query().unwrap_or(""), &body.bytes)?;

        let mut call = Request::new(Body::new(Full::new(framing::frame(&message))));
        *call.uri_mut() = route.grpc_uri.clone();
        *call.method_mut() = Method::POST;
        // A gRPC call is HTTP/2 whatever the REST call came over (gRPC-Web refuses others).
        *call.version_mut() = Version::HTTP_2;
        *call.headers_mut() = metadata_of(&parts.headers);
        *call.extensions_mut() = parts.extensions;
        if let Some(ctx) = call.extensions_mut().get_mut::<RequestContext>() {
            ctx.answer_typed = true;
        }
        let answer = grpc.oneshot(call).await.map_err(|e| Error::Internal(format!("calling {}: {}", route.grpc_path, e.into())))?;
        self.reply(route, answer, notes.as_ref()).await
    }

    /// Turns the gRPC answer (a message, or a status in trailers or trailers-only headers) into
    /// the HTTP response.
    async fn reply<RB>(&self, route: &Route, answer: Response<RB>, notes: Option<&CallNotes>) -> Result<Response<Body>, Error>
    where
        RB: http_body::Body<Data = Bytes>,
        RB::Error: Into<BoxError>,
    {
        let (mut parts, body) = answer.into_parts();
        if let Some(typed) = parts.extensions.remove::<TypedAnswer>() {
            // The handler succeeded and handed its answer over; the body holds an empty message.
            drop(body);
            if let Some(notes) = notes {
                notes.note(|n| n.grpc_code = Some(0));
            }
            return Ok(json_response(StatusCode::OK, json::render_answer(&route.output, &typed)?, passthrough_headers(&parts.headers)));
        }
        let collected = body.collect().await.map_err(|e| Error::Internal(format!("reading the gRPC answer: {}", e.into())))?;
        let trailers = collected.trailers().cloned().unwrap_or_default();
        let bytes = collected.to_bytes();
        let status = |name: &str| trailers.get(name).or_else(|| parts.headers.get(name)).cloned();
        let passed = passthrough_headers(&parts.headers);
        let code = status("grpc-status").and_then(|v| v.to_str().ok()?.parse::<i32>().ok());
        let code =
            code.ok_or_else(|| Error::Internal(format!("{} answered HTTP {} without a grpc-status", route.grpc_path, parts.status)))?;
        if let Some(notes) = notes {
            notes.note(|n| n.grpc_code = Some(code));
        }
        if code != 0 {
            let details = match status("grpc-status-details-bin") {
                Some(v) => base64_decode(v.as_bytes())?,
                None => {
                    let message =
                        status("grpc-message").map(|v| percent_encoding::percent_decode(v.as_bytes()).decode_utf8_lossy().into_owned());
                    crate::proto::google::rpc::Status { code, message: message.unwrap_or_default(), details: vec![] }.encode_to_vec()
                }
            };
            return Ok(self.error_response(Code::from_number(code).http_status(), &details, passed));
        }
        let payload =
            framing::unary(&bytes).ok_or_else(|| Error::Internal(format!("{} answered no plain gRPC message", route.grpc_path)))?;
        Ok(json_response(StatusCode::OK, json::render_encoded(&route.output, payload)?, passed))
    }

    /// The JSON body of a `google.rpc.Status` (`{"code", "message", "details": [{"@type", …}]}`).
    fn error_response(&self, http_status: u16, status: &[u8], headers: HeaderMap) -> Response<Body> {
        let status_code = StatusCode::from_u16(http_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let rendered = descriptor_pool()
            .get_message_by_name("google.rpc.Status")
            .ok_or_else(|| Error::Internal("google.rpc.Status is not in the descriptor set".into()))
            .and_then(|d| json::render_encoded(&d, status));
        match rendered {
            Ok(body) => json_response(status_code, body, headers),
            Err(e) => {
                tracing::error!(error = %e, "cannot render an error status");
                let body = serde_json::json!({"code": Code::Internal as i32, "message": e.to_string()});
                json_response(StatusCode::INTERNAL_SERVER_ERROR, body.to_string().into_bytes(), headers)
            }
        }
    }
}

/// REST bodies past the limit but under this are read to the end before the 413, so that clients
/// which do not read a response before they finish sending still see it; larger ones are cut off.
pub const DRAIN_LIMIT_BYTES: usize = 4 * MAX_MESSAGE_BYTES;

/// HTTP headers that are not gRPC metadata: they describe the HTTP exchange itself.
fn is_transport_header(name: &HeaderName) -> bool {
    const TRANSPORT: [HeaderName; 10] = [
        header::HOST,
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
        header::CONNECTION,
        header::ACCEPT,
        header::ACCEPT_ENCODING,
        header::TE,
        header::UPGRADE,
        header::USER_AGENT,
    ];
    TRANSPORT.contains(name) || name.as_str().starts_with("grpc-") || name.as_str() == "keep-alive"
}

/// The gRPC metadata of a REST call: its own headers (`Authorization`, `Idempotency-Key`,
/// `X-Request-Id`, …), which HTTP/1.1 and gRPC both carry as lowercase names.
fn metadata_of(headers: &HeaderMap) -> HeaderMap {
    let mut metadata: HeaderMap =
        headers.iter().filter(|(name, _)| !is_transport_header(name)).map(|(n, v)| (n.clone(), v.clone())).collect();
    metadata.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    metadata.insert(header::TE, HeaderValue::from_static("trailers"));
    metadata
}

/// Headers of the gRPC answer worth keeping on the HTTP one (say `x-operation-poll-interval`).
fn passthrough_headers(headers: &HeaderMap) -> HeaderMap {
    headers.iter().filter(|(name, _)| !is_transport_header(name)).map(|(n, v)| (n.clone(), v.clone())).collect()
}

fn json_response(status: StatusCode, body: Vec<u8>, headers: HeaderMap) -> Response<Body> {
    let mut response = Response::new(Body::new(Full::new(Bytes::from(body))));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn base64_decode(value: &[u8]) -> Result<Vec<u8>, Error> {
    use base64::Engine;
    // gRPC sends binary metadata unpadded, but tolerates padding.
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(value.strip_suffix(b"==").or_else(|| value.strip_suffix(b"=")).unwrap_or(value))
        .map_err(|e| Error::Internal(format!("grpc-status-details-bin: {e}")))
}

/// Puts the gateway (and Huawei's REST APIs) in front of the gRPC services.
#[derive(Clone)]
pub struct RestLayer {
    gateway: Arc<Gateway>,
    huawei: HuaweiRest,
    /// netplane's own endpoints; `None` when turned off.
    admin: Option<AdminRest>,
    mode: Mode,
}

impl RestLayer {
    pub fn new(gateway: Arc<Gateway>, huawei: HuaweiRest, admin: Option<AdminRest>, mode: Mode) -> RestLayer {
        RestLayer { gateway, huawei, admin, mode }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }
}

impl<S> Layer<S> for RestLayer {
    type Service = RestService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RestService { inner, gateway: self.gateway.clone(), huawei: self.huawei.clone(), admin: self.admin.clone(), mode: self.mode }
    }
}

#[derive(Clone)]
pub struct RestService<S> {
    inner: S,
    gateway: Arc<Gateway>,
    huawei: HuaweiRest,
    admin: Option<AdminRest>,
    mode: Mode,
}

impl<S, RB> Service<Request<Body>> for RestService<S>
where
    S: Service<Request<Body>, Response = Response<RB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    RB: http_body::Body<Data = Bytes> + Send + 'static,
    RB::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let dialect = Dialect::of(&req, self.mode);
        if let Err(e) = head::check(&req) {
            // Refused in the dialect of the API the request is for.
            let e = Error::from(e);
            let ctx = req.extensions().get::<RequestContext>().cloned();
            let refusal = match dialect {
                Dialect::Grpc => to_status(&e, ctx.as_ref()).into_http(),
                Dialect::HuaweiRest => self.huawei.refuse(req.uri().path(), ctx.as_ref(), &e).map(Body::new),
                Dialect::YandexRest => self.gateway.refuse(&e, ctx.as_ref()),
                Dialect::Admin => crate::api::admin::fail(&e).map(Body::new),
            };
            return Box::pin(async move { Ok(refusal) });
        }
        if dialect == Dialect::Admin {
            let admin = self.admin.clone();
            return Box::pin(async move {
                Ok(match admin {
                    Some(admin) => admin.serve(req).await.map(Body::new),
                    None => AdminRest::off().map(Body::new),
                })
            });
        }
        if dialect == Dialect::HuaweiRest {
            let huawei = self.huawei.clone();
            return Box::pin(async move { Ok(huawei.serve(req).await.map(Body::new)) });
        }
        // The service made ready by `poll_ready` serves this call; its clone serves the next.
        let clone = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, clone);
        if dialect == Dialect::Grpc {
            let answer = ready.oneshot(req);
            Box::pin(async move { answer.await.map(|r| r.map(Body::new)).map_err(Into::into) })
        } else {
            let gateway = self.gateway.clone();
            Box::pin(async move { Ok(gateway.serve(ready, req).await) })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_keeps_the_caller_headers_and_drops_http_ones() {
        let mut headers = HeaderMap::new();
        for (name, value) in
            [("authorization", "Bearer t"), ("idempotency-key", "k"), ("x-request-id", "r"), ("content-type", "application/json")]
        {
            headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
        }
        headers.insert(header::HOST, HeaderValue::from_static("localhost"));
        headers.insert(HeaderName::from_static("grpc-timeout"), HeaderValue::from_static("1S"));
        let metadata = metadata_of(&headers);
        assert_eq!(metadata["authorization"], "Bearer t");
        assert_eq!(metadata["idempotency-key"], "k");
        assert_eq!(metadata["x-request-id"], "r");
        assert_eq!(metadata["content-type"], "application/grpc");
        assert!(metadata.get("host").is_none() && metadata.get("grpc-timeout").is_none());
    }

    #[test]
    fn status_details_decode_with_or_without_padding() {
        assert_eq!(base64_decode(b"YWI").unwrap(), b"ab");
        assert_eq!(base64_decode(b"YWI=").unwrap(), b"ab");
    }
}

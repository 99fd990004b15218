//! Errors that tonic makes itself, completed to the shape of netplane's own: a request whose
//! message does not decode (tonic: INTERNAL, no details) becomes INVALID_ARGUMENT with a
//! `BadRequest`, and every error answer that lacks a `google.rpc.RequestInfo` (tonic's
//! UNIMPLEMENTED for an unknown method, a decode failure) gets one with the call's request id. It
//! sits right above the services, so gRPC, gRPC-Web and REST (which calls through it) all see the
//! completed status.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use base64::Engine;
use http::{Request, Response};
use prost::Message;
use tonic::body::Body;
use tower_layer::Layer;
use tower_service::Service;

use super::pack::pack;
use super::status::to_status;
use crate::api::header_names::{GRPC_MESSAGE, GRPC_STATUS, GRPC_STATUS_DETAILS};
use crate::api::request_id::RequestContext;
use crate::error::{Error, cut, echo};
use crate::proto::google::rpc;

/// How tonic's message for an undecodable request begins.
const DECODE_FAILURE: &str = "failed to decode Protobuf message";

#[derive(Clone, Copy, Debug, Default)]
pub struct CompleteStatusLayer;

impl<S> Layer<S> for CompleteStatusLayer {
    type Service = CompleteStatus<S>;
    fn layer(&self, inner: S) -> Self::Service {
        CompleteStatus { inner }
    }
}

#[derive(Clone, Debug)]
pub struct CompleteStatus<S> {
    inner: S,
}

impl<S> Service<Request<Body>> for CompleteStatus<S>
where
    S: Service<Request<Body>, Response = Response<Body>>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let ctx = req.extensions().get::<RequestContext>().cloned();
        let uri = req.uri().clone();
        let answer = self.inner.call(req);
        Box::pin(async move { answer.await.map(|response| complete(response, ctx.as_ref(), uri.path())) })
    }
}

/// The response, with its status completed when it is a trailers-only error that needs it.
fn complete(response: Response<Body>, ctx: Option<&RequestContext>, path: &str) -> Response<Body> {
    let headers = response.headers();
    let Some(code) = headers.get(&GRPC_STATUS).and_then(|v| v.to_str().ok()?.parse::<i32>().ok()) else {
        return response;
    };
    if code == 0 {
        return response;
    }
    let message = headers
        .get(&GRPC_MESSAGE)
        .map(|v| percent_encoding::percent_decode(v.as_bytes()).decode_utf8_lossy().into_owned())
        .unwrap_or_default();
    if code == tonic::Code::Internal as i32 && message.starts_with(DECODE_FAILURE) {
        let e = Error::invalid("body", format!("the request is not a valid message of {}: {}", echo(path), cut(&message, 200)));
        return to_status(&e, ctx).into_http();
    }
    let details = headers.get(&GRPC_STATUS_DETAILS).and_then(|v| decode_details(v.as_bytes()));
    if details.as_ref().is_some_and(has_request_info) {
        return response;
    }
    let Some(ctx) = ctx else { return response };
    let mut status = details.unwrap_or(rpc::Status { code, message: message.clone(), details: vec![] });
    status
        .details
        .push(pack("google.rpc.RequestInfo", &rpc::RequestInfo { request_id: ctx.request_id.to_string(), serving_data: String::new() }));
    let mut completed =
        tonic::Status::with_details(tonic::Code::from_i32(code), message, status.encode_to_vec().into()).into_http::<Body>();
    // Headers the answer already had (request ids, …) stay.
    for (name, value) in response.headers() {
        if !name.as_str().starts_with("grpc-") && !completed.headers().contains_key(name) {
            completed.headers_mut().insert(name.clone(), value.clone());
        }
    }
    completed
}

fn decode_details(value: &[u8]) -> Option<rpc::Status> {
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(value.strip_suffix(b"==").or_else(|| value.strip_suffix(b"=")).unwrap_or(value))
        .ok()?;
    rpc::Status::decode(bytes.as_slice()).ok()
}

fn has_request_info(status: &rpc::Status) -> bool {
    status.details.iter().any(|d| d.type_url.ends_with("/google.rpc.RequestInfo"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RequestContext {
        RequestContext { request_id: "req-1".into(), server_request_id: "s".into(), server_trace_id: "t".into(), answer_typed: false }
    }

    fn status_of(response: &Response<Body>) -> (i32, rpc::Status) {
        let code = response.headers()["grpc-status"].to_str().unwrap().parse().unwrap();
        let details = decode_details(response.headers()["grpc-status-details-bin"].as_bytes()).unwrap();
        (code, details)
    }

    #[test]
    fn an_undecodable_request_is_invalid_argument_with_a_bad_request() {
        let tonic = tonic::Status::internal("failed to decode Protobuf message: invalid wire type").into_http::<Body>();
        let (code, details) = status_of(&complete(tonic, Some(&ctx()), "/yandex.cloud.vpc.v1.NetworkService/Get"));
        assert_eq!(code, tonic::Code::InvalidArgument as i32);
        assert!(details.details.iter().any(|d| d.type_url.ends_with("google.rpc.BadRequest")));
        assert!(has_request_info(&details));
    }

    #[test]
    fn an_error_without_request_info_gets_one_and_keeps_its_details() {
        let bare = tonic::Status::unimplemented("").into_http::<Body>();
        let (code, details) = status_of(&complete(bare, Some(&ctx()), "/x.Y/Z"));
        assert_eq!(code, tonic::Code::Unimplemented as i32);
        assert!(has_request_info(&details));

        let ours = to_status(&Error::Unimplemented("x.Y/Z".into()), None).into_http::<Body>();
        let (_, details) = status_of(&complete(ours, Some(&ctx()), "/x.Y/Z"));
        assert_eq!(details.message, "Method x.Y/Z is not implemented by netplane");
        assert!(has_request_info(&details));
    }

    #[test]
    fn complete_answers_are_left_alone() {
        let done = to_status(&Error::Internal("x".into()), Some(&ctx())).into_http::<Body>();
        let before = done.headers().clone();
        assert_eq!(complete(done, Some(&ctx()), "/x.Y/Z").headers(), &before);
        let ok = Response::new(Body::empty());
        assert!(complete(ok, Some(&ctx()), "/x.Y/Z").headers().is_empty());
    }
}

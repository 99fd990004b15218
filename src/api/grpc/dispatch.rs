//! The gRPC services by name. A call's path is `/package.Service/Method`: the name between the
//! first two slashes finds its service in a table built once, which gets the request as it came
//! (the service answers UNIMPLEMENTED for a method it lacks). A name we do not serve is answered
//! UNIMPLEMENTED here, as tonic's `Routes` answers it.
//!
//! `Routes` does the same through an axum router, which for every call matched the path against
//! its patterns, percent-decoded the wildcard into a request extension, and wrapped the body in
//! axum's body type and then in tonic's again: about 3% of a served call's CPU time.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tonic::body::Body;
use tonic::server::NamedService;
use tower::ServiceExt;
use tower::util::{BoxCloneSyncService, Oneshot};
use tower_service::Service;

use super::encoded;

type Served = BoxCloneSyncService<Request<Body>, Response<Body>, Infallible>;

/// Every served gRPC service, by its full name (hashed with foldhash: looked up by every call,
/// and a fixed set).
#[derive(Clone, Default)]
pub struct GrpcServices {
    by_name: Arc<foldhash::HashMap<&'static str, Served>>,
}

impl GrpcServices {
    /// Adds `service` under its name (`NamedService::NAME`).
    pub fn with<S>(mut self, service: S) -> Self
    where
        S: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + NamedService + Clone + Send + Sync + 'static,
        S::Future: Send + 'static,
    {
        Arc::make_mut(&mut self.by_name).insert(S::NAME, BoxCloneSyncService::new(service));
        self
    }

    fn find(&self, path: &str) -> Option<&Served> {
        let (name, method) = path.strip_prefix('/')?.split_once('/')?;
        if method.is_empty() {
            return None;
        }
        self.by_name.get(name)
    }
}

impl Service<Request<Body>> for GrpcServices {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Each call readies its own service (`oneshot`).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Answer {
        match self.find(req.uri().path()) {
            Some(service) => Answer::Served(service.clone().oneshot(req)),
            None => Answer::Unknown(Some(unimplemented())),
        }
    }
}

/// tonic's answer to a path no service serves: UNIMPLEMENTED with no message, trailers only.
fn unimplemented() -> Response<Body> {
    let (parts, ()) = tonic::Status::unimplemented("").into_http::<()>().into_parts();
    Response::from_parts(parts, Body::empty())
}

/// The answer of `GrpcServices`: the service's, or UNIMPLEMENTED at once.
pub enum Answer {
    Served(Oneshot<Served, Request<Body>>),
    Unknown(Option<Response<Body>>),
}

impl Future for Answer {
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Answer::Served(call) => Pin::new(call).poll(cx).map(|answer| answer.map(encoded::into_body)),
            // Polled again after it was ready (which a caller must not do): the same answer again.
            Answer::Unknown(answer) => Poll::Ready(Ok(answer.take().unwrap_or_else(unimplemented))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::yandex::cloud::compute::v1::zone_service_server::ZoneServiceServer;

    fn call(services: &mut GrpcServices, path: &str) -> Response<Body> {
        // An empty message in one frame: a flag byte and a zero length.
        let frame = Body::new(http_body_util::Full::new(bytes::Bytes::from_static(&[0, 0, 0, 0, 0])));
        let req = Request::post(path).header("content-type", "application/grpc").body(frame).unwrap();
        let answer = services.call(req);
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(answer).unwrap()
    }

    fn grpc_status(response: &Response<Body>) -> Option<&str> {
        response.headers().get("grpc-status").and_then(|v| v.to_str().ok())
    }

    #[test]
    fn a_path_finds_its_service_by_name_and_an_unknown_one_is_unimplemented() {
        let mut services = GrpcServices::default().with(ZoneServiceServer::new(crate::api::grpc::ZoneApi));
        // A served method answers OK, its status in the trailers.
        let served = call(&mut services, "/yandex.cloud.compute.v1.ZoneService/List");
        assert_eq!((served.status(), grpc_status(&served)), (http::StatusCode::OK, None));
        // The service itself answers a method it lacks.
        let lacking = call(&mut services, "/yandex.cloud.compute.v1.ZoneService/Nothing");
        assert_eq!(grpc_status(&lacking), Some("12"));
        assert_eq!(lacking.status(), http::StatusCode::OK);
        for unknown in ["/yandex.cloud.compute.v1.NoService/Get", "/yandex.cloud.compute.v1.ZoneService/", "/", "/nothing"] {
            let answer = call(&mut services, unknown);
            assert_eq!(grpc_status(&answer), Some("12"), "{unknown}");
            assert_eq!(answer.headers().get("content-type").map(|v| v.as_bytes()), Some(&b"application/grpc"[..]), "{unknown}");
        }
    }
}

//! A gRPC service built on its first call rather than at start-up, for services that are large
//! in memory and seldom called: server reflection decodes every descriptor we serve into its own
//! index, about 0.6 MiB for each of its two versions, which an idle server need not hold.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::server::NamedService;
use tower_service::Service;

type Build<S> = fn() -> Result<S, String>;
type Answer = Pin<Box<dyn Future<Output = Result<http::Response<Body>, Infallible>> + Send>>;

/// Serves as `S` once `build` has made one; if `build` fails, every call answers INTERNAL.
pub struct Lazy<S> {
    built: Arc<OnceLock<Result<S, String>>>,
    build: Build<S>,
}

impl<S> Lazy<S> {
    pub fn new(build: Build<S>) -> Self {
        Lazy { built: Arc::new(OnceLock::new()), build }
    }
}

impl<S> Clone for Lazy<S> {
    fn clone(&self) -> Self {
        Lazy { built: self.built.clone(), build: self.build }
    }
}

impl<S: NamedService> NamedService for Lazy<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> Service<http::Request<Body>> for Lazy<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible> + NamedService + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Answer;

    /// Always ready: the services wrapped here (tonic's generated servers) are ready whenever
    /// asked, so the inner one is not polled before its call.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        match self.built.get_or_init(self.build) {
            Ok(service) => {
                let mut service = service.clone();
                Box::pin(async move { service.call(request).await })
            }
            Err(e) => {
                let status = tonic::Status::internal(format!("{} could not be built: {e}", S::NAME));
                Box::pin(std::future::ready(Ok(status.into_http())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    use crate::api::grpc::EndpointApi;
    use crate::proto::yandex::cloud::endpoint::api_endpoint_service_server::ApiEndpointServiceServer;

    type Endpoints = ApiEndpointServiceServer<EndpointApi>;

    fn list() -> http::Request<Body> {
        http::Request::post("/yandex.cloud.endpoint.ApiEndpointService/List")
            .header("content-type", "application/grpc")
            .body(Body::empty())
            .unwrap()
    }

    static BUILT: AtomicUsize = AtomicUsize::new(0);

    #[tokio::test]
    async fn builds_once_on_the_first_call() {
        let lazy: Lazy<Endpoints> = Lazy::new(|| {
            BUILT.fetch_add(1, Ordering::SeqCst);
            Ok(ApiEndpointServiceServer::new(EndpointApi::new("localhost:1".into())))
        });
        assert_eq!(BUILT.load(Ordering::SeqCst), 0);
        for mut copy in [lazy.clone(), lazy] {
            let answer = copy.call(list()).await.unwrap();
            assert_eq!(answer.status(), http::StatusCode::OK, "a gRPC answer from the built service");
        }
        assert_eq!(BUILT.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn answers_internal_when_it_cannot_be_built() {
        let mut lazy: Lazy<Endpoints> = Lazy::new(|| Err("no descriptors".into()));
        let answer = lazy.call(list()).await.unwrap();
        assert_eq!(answer.headers()["grpc-status"], "13");
        let message = answer.headers()["grpc-message"].to_str().unwrap();
        assert_eq!(
            message, "yandex.cloud.endpoint.ApiEndpointService%20could%20not%20be%20built:%20no%20descriptors",
            "percent-encoded, as gRPC sends messages"
        );
    }
}

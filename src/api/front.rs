//! The front door's first question, asked once per request from its path and content type alone:
//! which API is this for? Yandex gRPC (and gRPC-Web, which tonic-web turns into gRPC), Yandex
//! REST (transcoded onto the same gRPC services), or Huawei REST. Every layer that answers in an
//! API's dialect (request ids, head limits, the REST gateway) takes the answer from here.

use http::{Request, header};

/// Where netplane's own Huawei extensions live (freezing a gateway).
pub const NETPLANE_HUAWEI_PREFIX: &str = "/netplane/huawei/";

/// Where netplane's own endpoints live (`api/admin`).
pub const ADMIN_PREFIX: &str = "/_netplane/";
/// The Prometheus scrape path, also netplane's own.
pub const METRICS_PATH: &str = "/metrics";

/// Whether a path is one of netplane's own endpoints.
pub fn is_admin_path(path: &str) -> bool {
    path.starts_with(ADMIN_PREFIX) || path == METRICS_PATH
}

/// Which protocols a listener serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// gRPC (and gRPC-Web) and REST on one address, told apart by content type.
    Shared,
    GrpcOnly,
    RestOnly,
}

/// The API a request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// gRPC or gRPC-Web: answered by the gRPC services.
    Grpc,
    YandexRest,
    HuaweiRest,
    /// netplane's own endpoints (`/_netplane/…`, `/metrics`).
    Admin,
}

impl Dialect {
    pub fn of<B>(req: &Request<B>, mode: Mode) -> Dialect {
        let grpc = match mode {
            Mode::Shared => req.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/grpc")),
            Mode::GrpcOnly => true,
            Mode::RestOnly => false,
        };
        match () {
            _ if grpc => Dialect::Grpc,
            _ if is_admin_path(req.uri().path()) => Dialect::Admin,
            _ if is_huawei_path(req.uri().path()) => Dialect::HuaweiRest,
            _ => Dialect::YandexRest,
        }
    }
}

/// Whether a path belongs to the Huawei APIs: a version first (`/v1/`, `/v2.0/`, `/v3/`, …),
/// which Yandex REST paths never start with, so that Huawei paths netplane does not route are
/// still refused in Huawei's shape.
pub fn is_huawei_path(path: &str) -> bool {
    let versioned = path.strip_prefix("/v").is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
    versioned || path.starts_with(NETPLANE_HUAWEI_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str, content_type: &str) -> Request<()> {
        Request::post(path).header(header::CONTENT_TYPE, content_type).body(()).unwrap()
    }

    #[test]
    fn content_type_then_path_decide() {
        let grpc = request("/yandex.cloud.vpc.v1.NetworkService/Get", "application/grpc");
        let grpc_web = request("/yandex.cloud.vpc.v1.NetworkService/Get", "application/grpc-web+proto");
        let yandex = request("/vpc/v1/networks", "application/json");
        let huawei = request("/v3/0123/private-nat/gateways", "application/json");
        assert_eq!(Dialect::of(&grpc, Mode::Shared), Dialect::Grpc);
        assert_eq!(Dialect::of(&grpc_web, Mode::Shared), Dialect::Grpc);
        assert_eq!(Dialect::of(&yandex, Mode::Shared), Dialect::YandexRest);
        assert_eq!(Dialect::of(&huawei, Mode::Shared), Dialect::HuaweiRest);
        assert_eq!(Dialect::of(&huawei, Mode::GrpcOnly), Dialect::Grpc);
        assert_eq!(Dialect::of(&grpc, Mode::RestOnly), Dialect::YandexRest);
        assert_eq!(Dialect::of(&request("/_netplane/health", ""), Mode::Shared), Dialect::Admin);
        assert_eq!(Dialect::of(&request("/metrics", ""), Mode::RestOnly), Dialect::Admin);
        assert_eq!(Dialect::of(&request("/_netplane/health", ""), Mode::GrpcOnly), Dialect::Grpc);
        assert!(is_huawei_path("/netplane/huawei/p/gateways/g/status"));
        assert!(!is_huawei_path("/compute/v1/instances"));
        assert!(is_huawei_path("/v2.0/0123/subnets/s/tags"));
        assert!(!is_huawei_path("/vpc/v1/networks"));
    }
}

//! The transport's own errors: what the front ends (`api/`) refuse before a request reaches a
//! service — no route, a body too large, slow or not JSON, a URL or headers too long. Their own
//! table, built by the same macro; `Error::Transport` wraps them so every dialect renders them
//! like any other error. Services and the domain never construct them. The parent's table tests
//! render one of each of these too.

use super::echo::{MAX_DESCRIPTION_CHARS, cut, echo};
use super::{Code, Http, Row, Vendor::Is};

error_table! {
    #[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
    pub enum TransportError;
    NoRoute { method: String, path: String }
        => ["No REST method at {} {}", echo(.method), echo(.path)], NotFound, Http::OfCode, Is(404, "APIGW.0101"), Is(404, "APIGW.0101");
    MethodNotAllowed { method: String, path: String, allowed: String }
        => ["{} does not accept {method}; it accepts {allowed}", echo(.path)], Unimplemented, Http::Is(405), Is(404, "APIGW.0101"), Is(404, "APIGW.0101");
    BodyTooLarge { limit: usize }
        => ["Request body exceeds the limit of {limit} bytes"], ResourceExhausted, Http::Is(413), Is(413, "APIGW.0201"), Is(413, "APIGW.0201");
    UriTooLong { limit: usize }
        => ["Request URL is longer than {limit} bytes"], InvalidArgument, Http::Is(414), Is(414, "NETPLANE.0414"), Is(414, "NETPLANE.0414");
    HeadersTooLarge { fields: usize, bytes: usize }
        => ["Request headers exceed the limit of {fields} fields or {bytes} bytes"], InvalidArgument, Http::Is(431), Is(431, "NETPLANE.0431"), Is(431, "NETPLANE.0431");
    BodyTimeout { timeout: std::time::Duration }
        => ["Request body was not received within {}", humantime::format_duration(*.timeout)], DeadlineExceeded, Http::Is(408), Is(408, "NETPLANE.0408"), Is(408, "NETPLANE.0408");
    MalformedJson(String)
        => ["Request body is not valid JSON: {}", cut(.0, MAX_DESCRIPTION_CHARS)], InvalidArgument, Http::OfCode, Is(400, "NAT.1010"), Is(400, "VPC.0101");
}

impl From<TransportError> for super::Error {
    fn from(e: TransportError) -> Self {
        super::Error::Transport(e)
    }
}

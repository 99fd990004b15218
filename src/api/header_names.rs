//! The header names the call path reads or writes on every call, as `HeaderName` constants. A
//! lookup or insert by `&str` parses the name first (http's `parse_hdr`: a table lookup per byte
//! and a search of the standard names), a few hundred instructions each, and a gRPC call did a
//! dozen of them across the layers.

use http::HeaderName;

pub const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");
pub const GRPC_MESSAGE: HeaderName = HeaderName::from_static("grpc-message");
pub const GRPC_STATUS_DETAILS: HeaderName = HeaderName::from_static("grpc-status-details-bin");
pub const AUTHORIZATION: HeaderName = http::header::AUTHORIZATION;
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const SERVER_REQUEST_ID: HeaderName = HeaderName::from_static("x-server-request-id");
pub const SERVER_TRACE_ID: HeaderName = HeaderName::from_static("x-server-trace-id");
pub const CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("x-client-request-id");
pub const CLIENT_TRACE_ID: HeaderName = HeaderName::from_static("x-client-trace-id");

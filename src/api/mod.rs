//! Protocol front ends. They parse and validate requests into commands, call `service`, and
//! encode the results; no rule of the cloud lives here.

pub mod grpc;
pub mod request_id;

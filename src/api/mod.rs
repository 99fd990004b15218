//! Protocol front ends (gRPC, and REST/JSON transcoded onto it). They parse and validate requests into commands, call `service`, and
//! encode the results; no rule of the cloud lives here.

pub mod framing;
pub mod grpc;
pub mod guard;
pub mod request_id;
pub mod rest;

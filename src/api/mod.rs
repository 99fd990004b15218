//! Protocol front ends (gRPC, REST/JSON transcoded onto it, and Huawei's own REST APIs). They
//! parse and validate requests into commands, call `service`, and encode the results; no rule of
//! the cloud lives here.

pub mod admin;
pub mod answer;
pub mod body;
pub mod calls;
pub mod framing;
pub mod front;
pub mod grpc;
pub mod guard;
pub mod head;
pub mod header_names;
pub mod huawei;
pub mod json_keys;
pub mod request_id;
pub mod rest;

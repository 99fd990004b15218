//! netplane: a local, durable, wire-compatible implementation of cloud compute-networking
//! control-plane APIs. See README.md for the layout; the dependency rule is
//! api -> service -> domain, with service also using store and ops.
#![forbid(unsafe_code)]

pub mod api;
pub mod config;
pub mod domain;
pub mod error;
#[cfg(test)]
mod fuzz;
pub mod listener;
pub mod metrics;
pub mod ops;
pub mod proto;
pub mod server;
pub mod service;
pub mod state_cli;
pub mod store;
pub mod tls;
pub mod transport;

//! Command line and configuration of `netplane serve`.

use std::net::SocketAddr;

use clap::{Parser, Subcommand};
use ipnet::Ipv4Net;

use crate::ops::Progression;

#[derive(Debug, Parser)]
#[command(name = "netplane", version, about = "Local, durable, wire-compatible cloud compute-networking control plane")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the APIs until SIGINT or SIGTERM.
    Serve(ServeArgs),
}

#[derive(Clone, Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the log says which).
    #[arg(long, default_value = "127.0.0.1:50051", env = "NETPLANE_LISTEN")]
    pub listen: SocketAddr,

    /// Serve REST/JSON on this address instead of beside gRPC on `--listen` (then `--listen` is
    /// gRPC and gRPC-Web only).
    #[arg(long, env = "NETPLANE_REST_LISTEN")]
    pub rest_listen: Option<SocketAddr>,

    /// Where state lives: `sqlite:<path>` (durable) or `memory` (gone on exit).
    #[arg(long, default_value = "sqlite:.netplane/netplane.db", env = "NETPLANE_STORE")]
    pub store: String,

    /// How operations progress: `inline`, `delay=<duration>` or `polls=<n>`.
    #[arg(long, default_value = "delay=50ms", env = "NETPLANE_OPERATIONS")]
    pub operations: Progression,

    /// The pool ephemeral one-to-one NAT addresses come from.
    #[arg(long, default_value = "198.18.0.0/15", env = "NETPLANE_PUBLIC_POOL")]
    pub public_pool: Ipv4Net,

    /// How long a graceful shutdown waits for open connections to finish before it stops anyway.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration, env = "NETPLANE_SHUTDOWN_GRACE")]
    pub shutdown_grace: std::time::Duration,

    /// Log format: `text` or `json`.
    #[arg(long, default_value = "text", env = "NETPLANE_LOG_FORMAT")]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

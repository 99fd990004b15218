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
    Serve(Box<ServeArgs>),
    /// Export or import the whole state of a store (the format of `/_netplane/state`).
    #[command(subcommand)]
    State(StateCommand),
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// Write the store's state as JSON to standard output.
    Export {
        #[arg(long, default_value = "sqlite:.netplane/netplane.db", env = "NETPLANE_STORE")]
        store: String,
    },
    /// Replace the store's state with a state document (checked whole first).
    Import {
        #[arg(long, default_value = "sqlite:.netplane/netplane.db", env = "NETPLANE_STORE")]
        store: String,
        /// The document (`-` for standard input).
        file: std::path::PathBuf,
    },
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

    /// How operations progress: `inline`, `delay=<duration>`, `polls=<n>` or `manual` (pending until
    /// `POST /_netplane/operations/{id}:complete` or `:fail`).
    #[arg(long, default_value = "delay=50ms", env = "NETPLANE_OPERATIONS")]
    pub operations: Progression,

    /// The pool ephemeral one-to-one NAT addresses come from.
    #[arg(long, default_value = "198.18.0.0/15", env = "NETPLANE_PUBLIC_POOL")]
    pub public_pool: Ipv4Net,

    /// How long a graceful shutdown waits for open connections to finish before it stops anyway.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration, env = "NETPLANE_SHUTDOWN_GRACE")]
    pub shutdown_grace: std::time::Duration,

    /// After SIGINT/SIGTERM, how long to keep serving while health reports NOT_SERVING, before
    /// closing the listeners: time for a mesh's health checks to route new calls elsewhere.
    #[arg(long, default_value = "0s", value_parser = humantime::parse_duration, env = "NETPLANE_DRAIN_DELAY")]
    pub drain_delay: std::time::Duration,

    /// Principals file (JSON): who may call with which token, on which folders. Without it,
    /// development mode: every call is accepted, as one subject allowed every folder.
    #[arg(long, env = "NETPLANE_PRINCIPALS")]
    pub principals: Option<std::path::PathBuf>,

    /// How long IAM tokens issued by `IamTokenService.Create` stay valid.
    #[arg(long, default_value = "12h", value_parser = humantime::parse_duration, env = "NETPLANE_IAM_TOKEN_LIFETIME")]
    pub iam_token_lifetime: std::time::Duration,

    /// TLS on `--tls-listen`: `off`, or `auto` (a local CA and a localhost certificate, made once
    /// in `--tls-dir`). `--tls-cert` with `--tls-key` use given files instead.
    #[arg(long, default_value = "off", env = "NETPLANE_TLS")]
    pub tls: TlsMode,

    #[arg(long, env = "NETPLANE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,

    #[arg(long, env = "NETPLANE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,

    /// Where `--tls auto` keeps its CA and certificate (default: `tls/` beside the SQLite store, or
    /// `.netplane/tls` for a memory store).
    #[arg(long, env = "NETPLANE_TLS_DIR")]
    pub tls_dir: Option<std::path::PathBuf>,

    /// The TLS listener (gRPC, gRPC-Web and REST), when TLS is on.
    #[arg(long, default_value = "127.0.0.1:50052", env = "NETPLANE_TLS_LISTEN")]
    pub tls_listen: SocketAddr,

    /// The `host:port` endpoint discovery hands out for every service (default: the TLS listener
    /// when TLS is on, else `--listen`). Set it when clients reach netplane through a proxy or mesh.
    #[arg(long, env = "NETPLANE_ADVERTISE")]
    pub advertise: Option<String>,

    /// Connections served at once, over every listener; more wait in the kernel's accept queue.
    #[arg(long, default_value_t = 4096, env = "NETPLANE_MAX_CONNECTIONS")]
    pub max_connections: usize,

    /// HTTP/2 streams (calls) one connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS).
    #[arg(long, default_value_t = 200, env = "NETPLANE_MAX_CONCURRENT_STREAMS")]
    pub max_concurrent_streams: u32,

    /// A connection with no open call for this long is closed (HTTP/2 GOAWAY first); one that
    /// does not let go within another such period is cut.
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration, env = "NETPLANE_IDLE_TIMEOUT")]
    pub idle_timeout: std::time::Duration,

    /// How long a client may take to send an HTTP/1.1 request's headers, or to finish a TLS
    /// handshake.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration, env = "NETPLANE_HEADER_READ_TIMEOUT")]
    pub header_read_timeout: std::time::Duration,

    /// How long a client may take to send a request body once it has started; a body that stalls
    /// longer is refused (DEADLINE_EXCEEDED, HTTP 408).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, env = "NETPLANE_REQUEST_BODY_TIMEOUT")]
    pub request_body_timeout: std::time::Duration,

    /// Request bytes held in memory at once over all calls that are being read; a call that would
    /// pass it waits (its client is slowed by flow control) and, past the body timeout, is refused.
    #[arg(long, default_value = "64MiB", env = "NETPLANE_MAX_BODY_MEMORY")]
    pub max_body_memory: bytesize::ByteSize,

    /// HTTP/2 keep-alive: ping a connection that has been silent this long (`0s`: never).
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration, env = "NETPLANE_KEEPALIVE_INTERVAL")]
    pub keepalive_interval: std::time::Duration,

    /// How long a keep-alive ping may go unanswered before the connection is closed.
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration, env = "NETPLANE_KEEPALIVE_TIMEOUT")]
    pub keepalive_timeout: std::time::Duration,

    /// Close connections older than this (GOAWAY), so long-lived clients re-balance across
    /// replicas behind an L4 load balancer (`0s`: never).
    #[arg(long, default_value = "0s", value_parser = humantime::parse_duration, env = "NETPLANE_MAX_CONNECTION_AGE")]
    pub max_connection_age: std::time::Duration,

    /// How long a connection closed for its age may finish its calls before it is cut.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, env = "NETPLANE_MAX_CONNECTION_AGE_GRACE")]
    pub max_connection_age_grace: std::time::Duration,

    /// Log format: `text` or `json`.
    #[arg(long, default_value = "text", env = "NETPLANE_LOG_FORMAT")]
    pub log_format: LogFormat,

    /// A state document (`netplane state export`, `GET /_netplane/state`) loaded at start when the
    /// store holds no resource and no operation.
    #[arg(long, env = "NETPLANE_SEED")]
    pub seed: Option<std::path::PathBuf>,

    /// The emulator's own endpoints under `/_netplane/` and `/metrics`: `on` (with `--principals`,
    /// for principals marked `"admin": true` only) or `off`.
    #[arg(long, default_value = "on", env = "NETPLANE_ADMIN")]
    pub admin: Switch,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    On,
    Off,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TlsMode {
    Off,
    Auto,
}

impl ServeArgs {
    /// Where `--tls auto` keeps its files.
    pub fn tls_dir(&self) -> std::path::PathBuf {
        if let Some(dir) = &self.tls_dir {
            return dir.clone();
        }
        // A store file in the working directory has the empty path as its parent: `tls` beside it.
        let beside_store = self.store.strip_prefix("sqlite:").and_then(|p| std::path::Path::new(p).parent());
        beside_store.unwrap_or(std::path::Path::new(".netplane")).join("tls")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn serve(args: &[&str]) -> ServeArgs {
        let Command::Serve(args) = Cli::parse_from(["netplane", "serve"].iter().chain(args)).command else { panic!("not serve") };
        *args
    }

    #[test]
    fn automatic_tls_lives_beside_the_store() {
        assert_eq!(serve(&[]).tls_dir(), std::path::PathBuf::from(".netplane/tls"));
        assert_eq!(serve(&["--store", "sqlite:/var/lib/np/db.sqlite"]).tls_dir(), std::path::PathBuf::from("/var/lib/np/tls"));
        assert_eq!(serve(&["--store", "memory"]).tls_dir(), std::path::PathBuf::from(".netplane/tls"));
        assert_eq!(serve(&["--store", "sqlite:db.sqlite"]).tls_dir(), std::path::PathBuf::from("tls"));
        assert_eq!(serve(&["--tls-dir", "/certs"]).tls_dir(), std::path::PathBuf::from("/certs"));
    }

    #[test]
    fn a_certificate_needs_its_key() {
        let parsed = Cli::try_parse_from(["netplane", "serve", "--tls-cert", "c.pem"]);
        assert!(parsed.is_err());
    }
}

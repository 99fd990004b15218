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

    /// Log format: `text` or `json`.
    #[arg(long, default_value = "text", env = "NETPLANE_LOG_FORMAT")]
    pub log_format: LogFormat,
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
        let Command::Serve(args) = Cli::parse_from(["netplane", "serve"].iter().chain(args)).command;
        args
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

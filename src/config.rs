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
    /// A TOML file whose keys are these flags' names (`listen = "127.0.0.1:50051"`,
    /// `store = "sqlite:…"`); flags and environment variables given as well take precedence.
    #[arg(long, env = "NETPLANE_CONFIG")]
    pub config: Option<std::path::PathBuf>,

    /// Address to listen on; port 0 picks a free port (the log says which).
    #[arg(long, default_value = "127.0.0.1:50051", env = "NETPLANE_LISTEN")]
    pub listen: SocketAddr,

    /// Serve REST/JSON on this address instead of beside gRPC on `--listen` (then `--listen` is
    /// gRPC and gRPC-Web only).
    #[arg(long, env = "NETPLANE_REST_LISTEN")]
    pub rest_listen: Option<SocketAddr>,

    /// Where state lives: `sqlite:<path>` (durable; the state resident in memory, the file its
    /// log), `sqlite-direct:<path>` (the same file, served from SQLite), `postgres://…` or `memory`
    /// (gone on exit).
    #[arg(long, default_value = "sqlite:.netplane/netplane.db", env = "NETPLANE_STORE")]
    pub store: String,

    /// SQLite's `synchronous` for commits: `normal` (a commit survives the process being killed;
    /// a power loss may take the last ones) or `full` (an fsync per group commit: it survives
    /// that too).
    #[arg(long, value_enum, default_value_t = crate::store::Synchronous::Normal, env = "NETPLANE_SQLITE_SYNCHRONOUS")]
    pub sqlite_synchronous: crate::store::Synchronous,

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

    /// How long done operations are kept before they are pruned (expired idempotency keys and
    /// issued IAM tokens are pruned as they expire).
    #[arg(long, default_value = "7days", value_parser = humantime::parse_duration, env = "NETPLANE_OPERATION_RETENTION")]
    pub operation_retention: std::time::Duration,

    /// The most done operations a store whose state is in memory keeps (`memory` and the default
    /// `sqlite:`; the oldest go first); `sqlite-direct:` and PostgreSQL are bounded by
    /// `--operation-retention` alone.
    #[arg(long, default_value_t = 100_000, env = "NETPLANE_OPERATION_CAP")]
    pub operation_cap: usize,

    /// Calls the request journal (`GET /_netplane/requests`) keeps, the oldest dropped first (`0`:
    /// none).
    #[arg(long, default_value_t = 1000, env = "NETPLANE_JOURNAL_SIZE")]
    pub journal_size: usize,

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

impl Cli {
    /// The command line, with `serve --config <file>`'s keys added as the flags they name where
    /// neither the flag nor its environment variable is given. An unknown key or a bad value stops
    /// here with a message naming it and the file.
    pub fn load(args: Vec<std::ffi::OsString>) -> Result<Cli, String> {
        let expanded = with_config_file(args)?;
        Cli::try_parse_from(&expanded.args).map_err(|e| match &expanded.file {
            // `--help` and `--version` are answered, not refused.
            _ if matches!(e.kind(), clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion) => e.exit(),
            Some(file) if expanded.from_file.iter().any(|flag| e.to_string().contains(flag.as_str())) => {
                format!("{}: {e}", file.display())
            }
            _ => e.to_string(),
        })
    }
}

/// The command line after the config file's keys were added.
struct Expanded {
    args: Vec<std::ffi::OsString>,
    file: Option<std::path::PathBuf>,
    /// The flags the file gave (`--listen`).
    from_file: Vec<String>,
}

fn with_config_file(mut args: Vec<std::ffi::OsString>) -> Result<Expanded, String> {
    let text: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let given = |flag: &str| text.iter().any(|a| a == flag || a.starts_with(&format!("{flag}=")));
    let named = text.iter().position(|a| a == "--config").and_then(|i| text.get(i + 1).cloned());
    let named = named.or_else(|| text.iter().find_map(|a| a.strip_prefix("--config=").map(String::from)));
    let file = named.or_else(|| std::env::var("NETPLANE_CONFIG").ok()).filter(|_| text.get(1).is_some_and(|c| c == "serve"));
    let Some(file) = file.map(std::path::PathBuf::from) else { return Ok(Expanded { args, file: None, from_file: vec![] }) };
    let content = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let table: toml::Table = content.parse().map_err(|e| format!("{}: {e}", file.display()))?;
    let command = <Cli as clap::CommandFactory>::command();
    let serve = command.find_subcommand("serve").ok_or("no serve command")?;
    let mut from_file = Vec::new();
    for (key, value) in table {
        let long = key.replace('_', "-");
        let arg = serve
            .get_arguments()
            .find(|a| a.get_long() == Some(long.as_str()) && long != "config")
            .ok_or_else(|| format!("{}: unknown key {key:?}; the keys are `netplane serve`'s flags without the dashes", file.display()))?;
        let flag = format!("--{long}");
        let env_given = arg.get_env().is_some_and(|name| std::env::var_os(name).is_some());
        if given(&flag) || env_given {
            continue;
        }
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Boolean(b) => if b { "on" } else { "off" }.to_string(),
            other => return Err(format!("{}: key {key:?}: {other} is not a string, number or boolean", file.display())),
        };
        args.push(flag.clone().into());
        args.push(value.into());
        from_file.push(flag);
    }
    Ok(Expanded { args, file: Some(file), from_file })
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

    fn load(file: &str, flags: &[&str]) -> Result<ServeArgs, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("netplane.toml");
        std::fs::write(&path, file).unwrap();
        let mut args: Vec<std::ffi::OsString> = vec!["netplane".into(), "serve".into(), "--config".into(), path.clone().into()];
        args.extend(flags.iter().map(Into::into));
        match Cli::load(args)?.command {
            Command::Serve(args) => Ok(*args),
            Command::State(_) => unreachable!(),
        }
    }

    #[test]
    fn a_config_file_sets_flags_that_the_command_line_overrides() {
        let args = load("listen = \"127.0.0.1:7000\"\nstore = \"memory\"\nmax_connections = 12\noperations = \"manual\"\n", &[]).unwrap();
        assert_eq!((args.listen.to_string(), args.store.as_str(), args.max_connections), ("127.0.0.1:7000".into(), "memory", 12));
        assert_eq!(args.operations, Progression::Manual);
        let overridden = load("listen = \"127.0.0.1:7000\"\n", &["--listen", "127.0.0.1:7001"]).unwrap();
        assert_eq!(overridden.listen.to_string(), "127.0.0.1:7001");
        let unknown = load("colour = \"red\"\n", &[]).unwrap_err();
        assert!(unknown.contains("unknown key \"colour\"") && unknown.contains("netplane.toml"), "{unknown}");
        let bad = load("listen = \"nowhere\"\n", &[]).unwrap_err();
        assert!(bad.contains("netplane.toml") && bad.contains("--listen"), "{bad}");
        assert!(load("[section]\nkey = 1\n", &[]).is_err());
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

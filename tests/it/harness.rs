//! Starts the real `netplane` binary on an ephemeral port and gives tests clients for it; also the
//! Python virtualenv with the official SDKs and grpcurl, made once per test run.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::Duration;

use netplane::proto::yandex::cloud::compute::v1::instance_service_client::InstanceServiceClient;
use netplane::proto::yandex::cloud::operation::operation_service_client::OperationServiceClient;
use netplane::proto::yandex::cloud::operation::{GetOperationRequest, Operation};
use netplane::proto::yandex::cloud::vpc::v1::network_service_client::NetworkServiceClient;
use netplane::proto::yandex::cloud::vpc::v1::subnet_service_client::SubnetServiceClient;
use tonic::transport::Channel;

pub struct Server {
    child: Child,
    /// The gRPC address (REST too, unless the server was started with `--rest-listen`).
    pub addr: String,
    /// Where REST is served: `http://host:port`.
    pub rest: String,
    /// The TLS listener's address, when started with TLS.
    pub tls: Option<String>,
    _log: Arc<Mutex<Vec<String>>>,
    _dir: Arc<tempfile::TempDir>,
}

/// A fresh data directory for a SQLite store that outlives one server process.
pub fn data_dir() -> Arc<tempfile::TempDir> {
    Arc::new(tempfile::tempdir().expect("tempdir"))
}

pub fn sqlite_store(dir: &tempfile::TempDir) -> String {
    format!("sqlite:{}", dir.path().join("netplane.db").display())
}

impl Server {
    /// A server on a memory store with the given operations mode.
    pub fn start(operations: &str) -> Server {
        Server::start_with(data_dir(), "memory", operations)
    }

    pub fn start_with(dir: Arc<tempfile::TempDir>, store: &str, operations: &str) -> Server {
        Server::start_with_args(dir, store, operations, &[])
    }

    /// A memory-store server logging at `filter` (`RUST_LOG`) instead of the tests' own level.
    pub fn start_logging(filter: &str) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_netplane"));
        command.env("RUST_LOG", filter);
        Server::spawn(command, data_dir(), "memory", "inline", &[])
    }

    /// REST on an address of its own.
    pub fn start_split(operations: &str) -> Server {
        Server::start_with_args(data_dir(), "memory", operations, &["--rest-listen", "127.0.0.1:0"])
    }

    /// With any further `serve` flags (TLS, principals, …).
    pub fn start_with_args(dir: Arc<tempfile::TempDir>, store: &str, operations: &str, extra: &[&str]) -> Server {
        Server::spawn(Command::new(env!("CARGO_BIN_EXE_netplane")), dir, store, operations, extra)
    }

    /// A memory-store server that may open at most `limit` file descriptors (`ulimit -n`).
    pub fn start_with_fd_limit(limit: u32, extra: &[&str]) -> Server {
        let mut shell = Command::new("sh");
        shell.args(["-c", &format!("ulimit -n {limit} && exec \"$0\" \"$@\""), env!("CARGO_BIN_EXE_netplane")]);
        Server::spawn(shell, data_dir(), "memory", "inline", extra)
    }

    fn spawn(mut command: Command, dir: Arc<tempfile::TempDir>, store: &str, operations: &str, extra: &[&str]) -> Server {
        let split = extra.contains(&"--rest-listen");
        let secure = extra.contains(&"--tls") || extra.contains(&"--tls-cert");
        // The tests' log level, unless the caller's command sets its own (`start_logging`).
        if !command.get_envs().any(|(name, _)| name == "RUST_LOG") {
            command.env("RUST_LOG", "info,netplane=debug");
        }
        let mut child = command
            .arg("serve")
            // An ephemeral port unless the test names one (a restart on the same address).
            .args(if extra.contains(&"--listen") { &[][..] } else { &["--listen", "127.0.0.1:0"][..] })
            .args(["--store", store, "--operations", operations])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn netplane");
        let stdout = child.stdout.take().expect("stdout");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                for (what, marker) in
                    [("grpc", "netplane listening on "), ("rest", "netplane REST listening on "), ("tls", "netplane TLS listening on ")]
                {
                    if let Some(rest) = line.split(marker).nth(1) {
                        let _ = tx.send((what, rest.split_whitespace().next().unwrap_or_default().to_string()));
                    }
                }
                lines.lock().unwrap().push(line);
            }
        });
        let mut next = |expected: &str| match rx.recv_timeout(Duration::from_secs(30)) {
            Ok((what, addr)) if what == expected => addr,
            _ => {
                let _ = child.kill();
                panic!("netplane did not start; log:\n{}", log.lock().unwrap().join("\n"))
            }
        };
        let addr = next("grpc");
        let rest = format!("http://{}", if split { next("rest") } else { addr.clone() });
        let tls = secure.then(|| next("tls"));
        Server { child, addr, rest, tls, _log: log, _dir: dir }
    }

    /// A figure of the server process from `/proc/<pid>/status`, in KiB (`VmHWM`: peak resident
    /// set; `VmRSS`: resident now).
    pub fn memory_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("/proc status");
        let line = status.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("no {field}"));
        line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("a number of kB")
    }

    /// CPU time the server process has used (user and system), from `/proc/<pid>/stat`.
    pub fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).expect("/proc stat");
        let fields: Vec<&str> = stat.rsplit_once(')').expect("comm").1.split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        Duration::from_millis(ticks * 10)
    }

    /// The server's log as it grows, kept after the server is gone (for a failure's message).
    pub fn log(&self) -> Arc<Mutex<Vec<String>>> {
        self._log.clone()
    }

    /// Whether the server has logged a line containing `needle`.
    pub fn logged(&self, needle: &str) -> bool {
        self._log.lock().unwrap().iter().any(|line| line.contains(needle))
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr)).unwrap().connect().await.expect("connect")
    }

    pub async fn clients(&self) -> Clients {
        let ch = self.channel().await;
        Clients {
            instances: InstanceServiceClient::new(ch.clone()),
            operations: OperationServiceClient::new(ch.clone()),
            networks: NetworkServiceClient::new(ch.clone()),
            subnets: SubnetServiceClient::new(ch.clone()),
            channel: ch,
        }
    }

    /// SIGTERM, without waiting for the exit.
    pub fn terminate(&self) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().expect("kill -TERM");
    }

    /// SIGTERM, then waits for the exit on a blocking thread, so this runtime keeps serving the
    /// client side of open connections while the server drains them.
    pub async fn stop(mut self) -> std::process::ExitStatus {
        self.terminate();
        tokio::task::spawn_blocking(move || self.child.wait().expect("wait")).await.expect("join")
    }

    /// SIGKILL: a crash.
    pub async fn crash(mut self) {
        self.child.kill().expect("kill");
        tokio::task::spawn_blocking(move || self.child.wait().expect("wait")).await.expect("join");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone)]
pub struct Clients {
    pub instances: InstanceServiceClient<Channel>,
    pub operations: OperationServiceClient<Channel>,
    pub networks: NetworkServiceClient<Channel>,
    pub subnets: SubnetServiceClient<Channel>,
    channel: Channel,
}

impl Clients {
    pub fn addresses(&self) -> netplane::proto::yandex::cloud::vpc::v1::address_service_client::AddressServiceClient<Channel> {
        netplane::proto::yandex::cloud::vpc::v1::address_service_client::AddressServiceClient::new(self.channel.clone())
    }

    pub fn security_groups(
        &self,
    ) -> netplane::proto::yandex::cloud::vpc::v1::security_group_service_client::SecurityGroupServiceClient<Channel> {
        netplane::proto::yandex::cloud::vpc::v1::security_group_service_client::SecurityGroupServiceClient::new(self.channel.clone())
    }

    /// Polls `OperationService.Get` until the operation is done (10 s at most).
    pub async fn wait(&self, op: &Operation) -> Operation {
        let mut ops = self.operations.clone();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let got = ops.get(GetOperationRequest { operation_id: op.id.clone() }).await.expect("get operation").into_inner();
            if got.done {
                return got;
            }
            assert!(tokio::time::Instant::now() < deadline, "operation {} not done in time: {got:?}", op.id);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

fn python_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python")
}

/// The virtualenv's python with the official SDKs installed; made on first use.
pub fn python() -> PathBuf {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("venv");
        let python = venv.join("bin/python");
        let requirements = std::fs::read_to_string(python_dir().join("requirements.txt")).expect("requirements.txt");
        let marker = venv.join("netplane-requirements.txt");
        if std::fs::read_to_string(&marker).ok().as_deref() == Some(requirements.as_str()) && python.exists() {
            return python;
        }
        let system_python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        let ok = Command::new(&system_python).args(["-m", "venv"]).arg(&venv).status().expect("python3 -m venv").success();
        assert!(ok, "could not create the test virtualenv at {}", venv.display());
        let ok = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(python_dir().join("requirements.txt"))
            .status()
            .expect("pip install")
            .success();
        assert!(ok, "pip install of the official SDKs failed");
        std::fs::write(&marker, requirements).expect("marker");
        python
    })
    .clone()
}

/// A fresh database on the test PostgreSQL server (started once per test run by
/// `tests/postgres/start.sh`, stopped when the test process exits): its `postgres://` URL.
pub fn postgres_database(name: &str) -> String {
    static SERVER: OnceLock<(tempfile::TempDir, String)> = OnceLock::new();
    let (_, url) = SERVER.get_or_init(|| {
        let dir = tempfile::Builder::new().prefix("netplane-pg").tempdir().expect("tempdir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/postgres/start.sh");
        let out = Command::new("bash")
            .arg(script)
            .arg(dir.path().join("cluster"))
            .arg(std::process::id().to_string())
            .output()
            .expect("start.sh");
        assert!(out.status.success(), "PostgreSQL did not start: {}", String::from_utf8_lossy(&out.stderr));
        (dir, String::from_utf8_lossy(&out.stdout).trim().to_string())
    });
    // The blocking client runs a runtime of its own, so not on a test's.
    let (admin_url, database) = (url.clone(), name.to_string());
    std::thread::spawn(move || {
        let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls).expect("connect to the test server");
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {database}")).expect("drop database");
        admin.batch_execute(&format!("CREATE DATABASE {database}")).expect("create database");
    })
    .join()
    .expect("create the test database");
    format!("{}/{name}", url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base))
}

/// An nginx started by `nginx`, stopped when dropped.
pub struct Nginx {
    pub addr: String,
    pid: String,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// The end of nginx's error log (what it says about upstream failures).
    pub fn error_log(&self) -> String {
        let log = std::fs::read_to_string(self._dir.path().join("logs/error.log")).unwrap_or_default();
        // Refused connections are the retries a drain causes; the rest says what went wrong.
        let lines: Vec<&str> = log.lines().filter(|l| !l.contains("[notice]") && !l.contains("(111: Connection refused)")).collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(&self.pid).status();
    }
}

/// nginx proxying gRPC to `upstreams` with keep-alive connections (`tests/nginx/start.sh`).
pub fn nginx(upstreams: &[String]) -> Nginx {
    let dir = tempfile::Builder::new().prefix("netplane-nginx").tempdir().expect("tempdir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nginx/start.sh");
    let out =
        Command::new("bash").arg(script).arg(dir.path()).arg(std::process::id().to_string()).args(upstreams).output().expect("start.sh");
    assert!(out.status.success(), "nginx did not start: {}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    let (addr, pid) = printed.trim().split_once(' ').expect("address and pid");
    Nginx { addr: addr.to_string(), pid: pid.to_string(), _dir: dir }
}

/// The grpcurl binary the virtualenv's wrapper package ships.
pub fn grpcurl() -> PathBuf {
    python().parent().unwrap().join("grpcurl")
}

/// Runs `tests/python/<script>` with `args`; panics with its output unless it exits 0.
pub fn run_python(script: &str, args: &[&str]) -> String {
    let out = Command::new(python()).arg(python_dir().join(script)).args(args).output().expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{script} failed:\n--- stdout\n{stdout}\n--- stderr\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

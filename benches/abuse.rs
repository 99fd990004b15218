//! The abuse benchmark: starts the release `netplane` (memory store, pinned to core 0; the
//! generator on core 1) and runs the attacks of the hardening review one after another, each
//! bounded in count and time and sent to 127.0.0.1 only, while a well-behaved client keeps calling
//! `NetworkService.List` on a connection of its own. For each attack it prints the server's peak
//! resident set during the attack, its resident set after, and the latency and errors the
//! well-behaved client saw meanwhile.
//!
//! `cargo bench --bench abuse -- [--seconds 5]`

#[path = "common/process.rs"]
mod process;
#[path = "../tests/it/rawh2.rs"]
#[allow(dead_code)]
mod rawh2;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use netplane::proto::yandex::cloud::vpc::v1 as vpb;
use netplane::proto::yandex::cloud::vpc::v1::network_service_client::NetworkServiceClient;
use process::{Process, pinned};
use rawh2::RawH2;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const FOLDER: &str = "b1gabusefolder000000";
const LIST: &str = "/yandex.cloud.vpc.v1.NetworkService/List";

/// What the well-behaved client saw during one attack.
struct Probe {
    latencies_us: Vec<u64>,
    errors: usize,
}

impl Probe {
    fn percentile(&self, p: f64) -> f64 {
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us.get(i).copied().unwrap_or(0) as f64 / 1000.0
    }
}

/// Calls List in a loop until `stop`, on its own connection.
async fn probe(addr: String, stop: Arc<AtomicBool>) -> Probe {
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}")).unwrap().connect().await.expect("probe connects");
    let mut networks = NetworkServiceClient::new(channel);
    let (mut latencies_us, mut errors) = (Vec::new(), 0);
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let call = networks.list(vpb::ListNetworksRequest { folder_id: FOLDER.into(), ..Default::default() });
        match tokio::time::timeout(Duration::from_secs(5), call).await {
            Ok(Ok(_)) => latencies_us.push(started.elapsed().as_micros() as u64),
            _ => errors += 1,
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    latencies_us.sort_unstable();
    Probe { latencies_us, errors }
}

/// Runs `attack` for at most `seconds` with the probe beside it, sampling the server's RSS.
async fn measure<F: Future<Output = String>>(server: &Process, name: &str, seconds: u64, attack: F) {
    let stop = Arc::new(AtomicBool::new(false));
    // The probe runs on a thread and runtime of its own, so that the attack's own work (encoding
    // 64 MiB messages, writing frames in a tight loop) does not delay it in the generator.
    let probing = std::thread::spawn({
        let (addr, stop) = (server.addr.clone(), stop.clone());
        move || tokio::runtime::Builder::new_current_thread().enable_all().build().expect("probe runtime").block_on(probe(addr, stop))
    });
    let mut peak: f64 = server.rss_mib();
    let attack = tokio::time::timeout(Duration::from_secs(seconds), attack);
    tokio::pin!(attack);
    let outcome = loop {
        tokio::select! {
            done = &mut attack => break done.unwrap_or_else(|_| "ran for the whole time".to_string()),
            _ = tokio::time::sleep(Duration::from_millis(20)) => peak = peak.max(server.rss_mib()),
        }
    };
    peak = peak.max(server.rss_mib());
    stop.store(true, Ordering::Relaxed);
    let seen = tokio::task::spawn_blocking(move || probing.join().expect("probe")).await.expect("probe thread");
    // Give the server a moment to let go of what the attack held.
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!(
        "| {name} | {peak:.1} | {:.1} | {} | {:.2} | {:.2} | {:.2} | {} | {outcome} |",
        server.rss_mib(),
        seen.latencies_us.len(),
        seen.percentile(0.5),
        seen.percentile(0.99),
        seen.percentile(1.0),
        seen.errors,
    );
}

/// Four concurrent 64 MiB gRPC uploads with idempotency keys (which make the guard read bodies).
async fn big_uploads(addr: String) -> String {
    let uploads: Vec<_> = (0..4)
        .map(|i| {
            let addr = addr.clone();
            tokio::spawn(async move {
                let channel = tonic::transport::Channel::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap();
                let mut networks = NetworkServiceClient::new(channel).max_encoding_message_size(usize::MAX);
                let mut request = tonic::Request::new(vpb::CreateNetworkRequest {
                    folder_id: FOLDER.into(),
                    description: "x".repeat(64 << 20),
                    ..Default::default()
                });
                request.metadata_mut().insert("idempotency-key", format!("big-{i}").parse().unwrap());
                networks.create(request).await.err().map(|e| format!("{:?}", e.code())).unwrap_or_else(|| "accepted".into())
            })
        })
        .collect();
    let mut codes = Vec::new();
    for upload in uploads {
        codes.push(upload.await.unwrap_or_else(|e| e.to_string()));
    }
    format!("answers: {}", codes.join(", "))
}

/// Ten connections, each opening 1,000 streams with headers and no body.
async fn half_open_streams(addr: String) -> String {
    let mut connections = Vec::new();
    for _ in 0..10 {
        let mut raw = RawH2::connect(&addr).await;
        for i in 0..1000u32 {
            raw.open_grpc_stream(2 * i + 1, &addr, LIST).await;
        }
        connections.push(raw);
    }
    let mut refused = 0;
    for raw in &mut connections {
        while let Some(frame) = raw.next_frame(Duration::from_millis(300)).await {
            if frame.kind == rawh2::RST_STREAM && frame.error_code() == rawh2::REFUSED_STREAM {
                refused += 1;
            }
        }
    }
    format!("{refused} of 10,000 streams refused")
}

/// Streams opened and reset at once, as fast as possible (Rapid Reset).
async fn rapid_reset(addr: String) -> String {
    let mut raw = RawH2::connect(&addr).await;
    let mut sent = 0u32;
    for i in 0..20_000u32 {
        raw.open_grpc_stream(2 * i + 1, &addr, LIST).await;
        raw.send(rawh2::RST_STREAM, 0, 2 * i + 1, &8u32.to_be_bytes()).await;
        sent += 1;
    }
    let (frames, closed) = raw.frames_until_closed(Duration::from_secs(2)).await;
    let goaway = frames.iter().any(|f| f.kind == rawh2::GOAWAY);
    format!("{sent} streams reset; connection {}", if closed || goaway { "closed by the server" } else { "still open" })
}

/// 2,000 connections that send nothing, held for 3 s: how many the server has closed by then.
async fn idle_connections(addr: String) -> String {
    let mut held = Vec::new();
    for _ in 0..2000 {
        match TcpStream::connect(&addr).await {
            Ok(tcp) => held.push(tcp),
            Err(_) => break,
        }
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    // A connection the server closed reads end-of-stream; an open one would block.
    let closed = held.iter().filter(|tcp| matches!(tcp.try_read(&mut [0u8; 1]), Ok(0))).count();
    format!("{} connections opened; {closed} closed by the server after 3 s", held.len())
}

/// 300 HTTP/1.1 requests whose headers trickle in, a byte every 100 ms.
async fn slowloris(addr: String) -> String {
    let mut held = Vec::new();
    for _ in 0..300 {
        if let Ok(mut tcp) = TcpStream::connect(&addr).await {
            let _ = tcp.write_all(b"GET /vpc/v1/networks HTTP/1.1\r\nHost: x\r\nX-Slow: ").await;
            held.push(tcp);
        }
    }
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(4) && !held.is_empty() {
        let mut open = Vec::new();
        for mut tcp in held {
            if tcp.write_all(b"a").await.is_ok() {
                open.push(tcp);
            }
        }
        held = open;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    format!("{} of 300 still open after {:.1} s", held.len(), started.elapsed().as_secs_f64())
}

fn main() {
    let _ = std::process::Command::new("taskset").args(["-p", "-c", "1", &std::process::id().to_string()]).output();
    let seconds = std::env::args().skip_while(|a| a != "--seconds").nth(1).and_then(|s| s.parse().ok()).unwrap_or(5u64);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    runtime.block_on(async {
        let mut command = pinned(std::path::Path::new(env!("CARGO_BIN_EXE_netplane")), "0");
        // Short timeouts, so the timed attacks show their effect within the run.
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--store", "memory", "--operations", "inline"])
            .args(["--idle-timeout", "2s", "--header-read-timeout", "2s", "--request-body-timeout", "5s"])
            .env("RUST_LOG", "warn,netplane::server=info");
        let server = Process::start(command, "netplane listening on ");
        println!("netplane at {} (idle and header timeouts 2 s); RSS {:.1} MiB at start\n", server.addr, server.rss_mib());
        println!("| attack | peak RSS MiB | RSS after MiB | probe calls | p50 ms | p99 ms | max ms | probe errors | outcome |");
        println!("|---|---|---|---|---|---|---|---|---|");
        measure(&server, "none (baseline)", 2, async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            "-".to_string()
        })
        .await;
        measure(&server, "4 × 64 MiB uploads", seconds.max(10), big_uploads(server.addr.clone())).await;
        measure(&server, "10 × 1,000 half-open streams", seconds, half_open_streams(server.addr.clone())).await;
        measure(&server, "rapid reset, 20,000 streams", seconds, rapid_reset(server.addr.clone())).await;
        measure(&server, "2,000 idle connections", seconds.max(8), idle_connections(server.addr.clone())).await;
        measure(&server, "300 slowloris requests", seconds, slowloris(server.addr.clone())).await;
        println!("\npeak RSS over the whole run: {:.1} MiB", server.peak_rss_mib());
    });
}

//! What one abusive client can hold: request bodies (refused at the limit, counted against a
//! shared budget), HTTP/2 streams, connections and time (idle, slow, old connections), and what
//! the server does when it runs out of file descriptors or drains. Every attack is bounded, sent
//! to 127.0.0.1 only, and ends by itself.

use std::time::Duration;

use netplane::proto::yandex::cloud::vpc::v1 as vpb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::Code;

use crate::harness::{Server, data_dir};
use crate::rawh2::{self, RawH2, StalledCall};

const FOLDER: &str = "b1g-limits";

fn start(extra: &[&str]) -> Server {
    Server::start_with_args(data_dir(), "memory", "inline", extra)
}

/// A request served on a new connection, as any other client would send it.
async fn served(server: &Server) -> bool {
    let mut networks = server.clients().await.networks;
    networks.list(vpb::ListNetworksRequest { folder_id: FOLDER.into(), ..Default::default() }).await.is_ok()
}

/// The peak resident set must stay far below what buffering the attack would take.
fn assert_peak_below(server: &Server, mib: u64, what: &str) {
    let peak = server.memory_kib("VmHWM") / 1024;
    assert!(peak < mib, "{what}: peak RSS {peak} MiB, expected under {mib} MiB");
}

#[tokio::test]
async fn an_oversized_upload_is_refused_at_the_limit_without_being_buffered() {
    let server = start(&[]);
    let huge = "x".repeat(64 * 1024 * 1024);

    // gRPC with an idempotency key (which makes the guard read the body).
    let mut networks = server.clients().await.networks.max_encoding_message_size(usize::MAX);
    let mut request =
        tonic::Request::new(vpb::CreateNetworkRequest { folder_id: FOLDER.into(), description: huge.clone(), ..Default::default() });
    request.metadata_mut().insert("idempotency-key", "big-1".parse().unwrap());
    let refused = networks.create(request).await.expect_err("64 MiB is over the limit");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message().contains("limit"), "{}", refused.message());

    // gRPC-Web over HTTP/1.1 with a chunked body, which declares no length.
    let mut tcp = TcpStream::connect(&server.addr).await.unwrap();
    let head = "POST /yandex.cloud.vpc.v1.NetworkService/Create HTTP/1.1\r\nHost: localhost\r\n\
                Content-Type: application/grpc-web+proto\r\nTransfer-Encoding: chunked\r\nidempotency-key: big-2\r\n\r\n";
    tcp.write_all(head.as_bytes()).await.unwrap();
    let (mut read, mut write) = tcp.into_split();
    let upload = tokio::spawn(async move {
        let chunk = vec![b'x'; 1024 * 1024];
        for _ in 0..64 {
            let framed = [format!("{:x}\r\n", chunk.len()).into_bytes(), chunk.clone(), b"\r\n".to_vec()].concat();
            if write.write_all(&framed).await.is_err() {
                return;
            }
        }
        let _ = write.write_all(b"0\r\n\r\n").await;
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), read.read_to_end(&mut answer)).await;
    upload.abort();
    let answer = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    assert!(answer.contains("grpc-status: 8"), "{answer}");

    assert_peak_below(&server, 100, "after two 64 MiB uploads");
    assert!(served(&server).await);
}

#[tokio::test]
async fn a_stalled_upload_is_refused_at_the_body_timeout() {
    let server = start(&["--request-body-timeout", "1s"]);
    // Headers, then a body that never comes: DEADLINE_EXCEEDED.
    let call = StalledCall::start(&server.addr, "/yandex.cloud.vpc.v1.NetworkService/Get").await;
    assert_eq!(call.status(Duration::from_secs(20)).await.as_deref(), Some("4"));
    assert!(served(&server).await);
}

#[tokio::test]
async fn streams_past_the_limit_are_refused_and_others_are_served() {
    let server = start(&["--max-concurrent-streams", "50"]);
    let mut raw = RawH2::connect(&server.addr).await;
    let settings = loop {
        let frame = raw.next_frame(Duration::from_secs(10)).await.expect("the server's SETTINGS");
        if frame.kind == rawh2::SETTINGS && frame.flags & 1 == 0 {
            break frame.settings();
        }
    };
    assert!(settings.contains(&(rawh2::SETTINGS_MAX_CONCURRENT_STREAMS, 50)), "{settings:?}");

    // A client that ignores the setting: 1,000 half-open calls on one connection.
    for i in 0..1000u32 {
        raw.open_grpc_stream(2 * i + 1, &server.addr, "/yandex.cloud.vpc.v1.NetworkService/Get").await;
    }
    let mut refused = 0;
    while let Some(frame) = raw.next_frame(Duration::from_secs(2)).await {
        if frame.kind == rawh2::RST_STREAM && frame.error_code() == rawh2::REFUSED_STREAM {
            refused += 1;
        }
        if refused == 950 {
            break;
        }
    }
    assert_eq!(refused, 950, "every stream past the first 50 is refused");
    assert!(served(&server).await, "other clients are served meanwhile");
    assert_peak_below(&server, 100, "after 1,000 half-open streams");
}

#[tokio::test]
async fn idle_slow_and_silent_connections_are_closed() {
    let server = start(&["--idle-timeout", "1s", "--header-read-timeout", "1s", "--request-body-timeout", "4s"]);
    let wait = Duration::from_secs(15);
    assert!(rawh2::closed_within(&server.addr, b"", wait).await, "a connection that sends nothing");
    assert!(rawh2::closed_within(&server.addr, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", wait).await, "an HTTP/2 preface alone");
    assert!(rawh2::closed_within(&server.addr, b"GET /vpc/v1/networks HTTP/1.1\r\nHost: x\r\n", wait).await, "a partial request");

    // Slowloris: a header line trickling in a byte at a time is cut at the header read timeout.
    let mut tcp = TcpStream::connect(&server.addr).await.unwrap();
    tcp.write_all(b"GET /vpc/v1/networks HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();
    let deadline = tokio::time::Instant::now() + wait;
    let mut cut = false;
    while tokio::time::Instant::now() < deadline {
        if tcp.write_all(b"a").await.is_err() {
            cut = true;
            break;
        }
        let mut byte = [0u8; 1];
        if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(Duration::from_millis(200), tcp.read(&mut byte)).await {
            cut = true;
            break;
        }
    }
    assert!(cut, "a slowloris is cut");

    // A connection with a call open is not idle, however long the call takes: the stalled call
    // is answered (at the 4 s body timeout) on the connection the 1 s idle timeout did not close.
    let call = StalledCall::start(&server.addr, "/yandex.cloud.vpc.v1.NetworkService/Get").await;
    assert_eq!(call.status(Duration::from_secs(15)).await.as_deref(), Some("4"), "answered on its connection");
    assert!(served(&server).await);
}

#[tokio::test]
async fn connections_past_the_limit_wait_for_a_free_slot() {
    let server = start(&["--max-connections", "3"]);
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(RawH2::connect(&server.addr).await);
    }
    // Wait until the server has taken all three (each gets its SETTINGS).
    for raw in &mut held {
        raw.next_frame(Duration::from_secs(10)).await.expect("served");
    }
    let mut waiting = tokio::spawn({
        let addr = server.addr.clone();
        async move {
            let channel = tonic::transport::Channel::from_shared(format!("http://{addr}")).unwrap().connect_lazy();
            let mut networks = netplane::proto::yandex::cloud::vpc::v1::network_service_client::NetworkServiceClient::new(channel);
            networks.list(vpb::ListNetworksRequest { folder_id: FOLDER.into(), ..Default::default() }).await.is_ok()
        }
    });
    assert!(tokio::time::timeout(Duration::from_secs(1), &mut waiting).await.is_err(), "a fourth connection waits while three are held");
    held.pop();
    assert!(tokio::time::timeout(Duration::from_secs(10), waiting).await.expect("served once a slot is free").unwrap());
}

#[tokio::test]
async fn old_connections_are_asked_to_go_and_quiet_ones_are_pinged() {
    let server = start(&["--max-connection-age", "1s", "--max-connection-age-grace", "1s", "--keepalive-interval", "300ms"]);
    let mut raw = RawH2::connect(&server.addr).await;
    let (frames, closed) = raw.frames_until_closed(Duration::from_secs(15)).await;
    assert!(closed, "closed after its age and grace");
    assert!(frames.iter().any(|f| f.kind == rawh2::GOAWAY), "told with GOAWAY first");
    assert!(frames.iter().any(|f| f.kind == rawh2::PING && f.flags & 1 == 0), "pinged while quiet");
}

#[tokio::test]
async fn out_of_file_descriptors_the_server_pauses_instead_of_spinning() {
    let server = Server::start_with_fd_limit(64, &[]);
    // Far more connections than descriptors: the accept queue holds the rest.
    let mut held = Vec::new();
    for _ in 0..120 {
        if let Ok(tcp) = TcpStream::connect(&server.addr).await {
            held.push(tcp);
        }
    }
    let before = server.cpu_time();
    let started = tokio::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let busy = server.cpu_time() - before;
    assert!(busy < started.elapsed() / 2, "the accept loop used {busy:?} of CPU in {:?}", started.elapsed());
    assert!(server.logged("out of file descriptors"), "the pause is logged");
    held.clear();
    assert!(tokio::time::timeout(Duration::from_secs(20), served(&server)).await.expect("served once descriptors are free"));
}

#[tokio::test]
async fn a_drain_refuses_new_connections_at_once_and_finishes_open_calls() {
    let server = start(&["--request-body-timeout", "3s", "--shutdown-grace", "20s"]);
    let call = StalledCall::start(&server.addr, "/yandex.cloud.vpc.v1.NetworkService/Get").await;
    // The call has reached the server once a second connection's call is served after it.
    assert!(served(&server).await);
    server.terminate();
    // New connections are refused (not queued unanswered) from the start of the drain…
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match TcpStream::connect(&server.addr).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
            _ if tokio::time::Instant::now() > deadline => panic!("still accepting connections during the drain"),
            _ => tokio::task::yield_now().await,
        }
    }
    // …while the call already open is still answered.
    assert_eq!(call.status(Duration::from_secs(15)).await.as_deref(), Some("4"), "the open call is answered during the drain");
}

#[tokio::test]
async fn a_rapid_reset_client_is_disconnected() {
    let server = start(&[]);
    let mut raw = RawH2::connect(&server.addr).await;
    // Streams opened and reset at once, before the server can serve them (CVE-2023-44487).
    for i in 0..2000u32 {
        raw.open_grpc_stream(2 * i + 1, &server.addr, "/yandex.cloud.vpc.v1.NetworkService/List").await;
        raw.send(rawh2::RST_STREAM, 0, 2 * i + 1, &8u32.to_be_bytes()).await;
    }
    let (frames, closed) = raw.frames_until_closed(Duration::from_secs(15)).await;
    assert!(closed || frames.iter().any(|f| f.kind == rawh2::GOAWAY), "the connection is ended by the server");
    assert!(served(&server).await);
}

#[tokio::test]
async fn request_bodies_held_at_once_stay_within_the_memory_budget() {
    let server = start(&["--max-body-memory", "16MiB", "--request-body-timeout", "3s"]);
    let tcp = TcpStream::connect(&server.addr).await.unwrap();
    let (mut client, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    // 40 calls on one connection, each a 4 MiB message of which all but the last byte is sent:
    // 160 MiB if every body were held.
    let mut calls = Vec::new();
    for _ in 0..40 {
        let request = http::Request::post(format!("http://{}/yandex.cloud.vpc.v1.NetworkService/Create", server.addr))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(())
            .unwrap();
        let (response, mut body) = client.send_request(request, false).unwrap();
        let mut frame = vec![0u8, 0, 0x40, 0, 0];
        frame.resize(5 + 4 * 1024 * 1024 - 1, b'x');
        body.send_data(bytes::Bytes::from(frame), false).unwrap();
        calls.push((response, body));
    }
    let mut statuses = Vec::new();
    for (response, _body) in calls {
        let response = tokio::time::timeout(Duration::from_secs(30), response).await.expect("answered").expect("response");
        statuses.push(response.headers().get("grpc-status").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default());
    }
    assert!(statuses.iter().all(|s| s == "4"), "every stalled body is refused at the timeout: {statuses:?}");
    assert_peak_below(&server, 90, "40 bodies of 4 MiB held open");
    assert!(served(&server).await);
}

//! A raw HTTP/2 client for abuse tests: it writes frames itself, so it can do what well-behaved
//! client libraries refuse to (open more streams than the server allows, leave them half-open,
//! never answer), and reads the server's frames back one by one.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const HEADERS: u8 = 1;
pub const RST_STREAM: u8 = 3;
pub const SETTINGS: u8 = 4;
pub const PING: u8 = 6;
pub const GOAWAY: u8 = 7;

pub const END_HEADERS: u8 = 0x4;

pub const SETTINGS_MAX_CONCURRENT_STREAMS: u16 = 3;
pub const REFUSED_STREAM: u32 = 7;

#[derive(Debug)]
pub struct Frame {
    pub kind: u8,
    pub flags: u8,
    pub payload: Vec<u8>,
}

impl Frame {
    /// The settings of a SETTINGS frame.
    pub fn settings(&self) -> Vec<(u16, u32)> {
        self.payload.chunks_exact(6).map(|c| (u16::from_be_bytes([c[0], c[1]]), u32::from_be_bytes([c[2], c[3], c[4], c[5]]))).collect()
    }

    /// The error code of a RST_STREAM frame.
    pub fn error_code(&self) -> u32 {
        u32::from_be_bytes(self.payload[..4].try_into().unwrap())
    }
}

pub struct RawH2 {
    tcp: TcpStream,
    buffer: Vec<u8>,
}

impl RawH2 {
    /// Connects and sends the preface and an empty SETTINGS frame.
    pub async fn connect(addr: &str) -> RawH2 {
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
        let mut raw = RawH2 { tcp, buffer: Vec::new() };
        raw.send(SETTINGS, 0, 0, &[]).await;
        raw
    }

    pub async fn send(&mut self, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
        let mut frame = Vec::with_capacity(9 + payload.len());
        frame.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
        frame.push(kind);
        frame.push(flags);
        frame.extend_from_slice(&stream.to_be_bytes());
        frame.extend_from_slice(payload);
        // A server that closed the connection is what some tests wait for: writes may fail.
        let _ = self.tcp.write_all(&frame).await;
    }

    /// Opens stream `stream` with the headers of a gRPC call to `path` (HPACK literals, no
    /// indexing), without ending it: the request body never comes.
    pub async fn open_grpc_stream(&mut self, stream: u32, authority: &str, path: &str) {
        let mut block = vec![0x83, 0x86]; // :method POST, :scheme http (static table)
        literal(&mut block, ":path", path);
        literal(&mut block, ":authority", authority);
        literal(&mut block, "content-type", "application/grpc");
        literal(&mut block, "te", "trailers");
        self.send(HEADERS, END_HEADERS, stream, &block).await;
    }

    /// The next frame, or `None` when the server closed the connection or `wait` passed.
    pub async fn next_frame(&mut self, wait: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if self.buffer.len() >= 9 {
                let len = u32::from_be_bytes([0, self.buffer[0], self.buffer[1], self.buffer[2]]) as usize;
                if self.buffer.len() >= 9 + len {
                    let head: Vec<u8> = self.buffer.drain(..9 + len).collect();
                    return Some(Frame { kind: head[3], flags: head[4], payload: head[9..].to_vec() });
                }
            }
            let mut chunk = [0u8; 16 * 1024];
            match tokio::time::timeout_at(deadline, self.tcp.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return None,
                Ok(Ok(n)) => self.buffer.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Frames until the server closes the connection (or `wait` passes: then `false`).
    pub async fn frames_until_closed(&mut self, wait: Duration) -> (Vec<Frame>, bool) {
        let deadline = tokio::time::Instant::now() + wait;
        let mut frames = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return (frames, false);
            }
            match self.next_frame(left).await {
                Some(frame) => frames.push(frame),
                None => return (frames, tokio::time::Instant::now() < deadline),
            }
        }
    }
}

/// An HPACK "literal header field without indexing, new name" (RFC 7541 §6.2.2); names and values
/// here are short, so each length fits the 7-bit prefix.
fn literal(block: &mut Vec<u8>, name: &str, value: &str) {
    assert!(name.len() < 127 && value.len() < 127);
    block.push(0x00);
    block.push(name.len() as u8);
    block.extend_from_slice(name.as_bytes());
    block.push(value.len() as u8);
    block.extend_from_slice(value.as_bytes());
}

/// Whether a TCP connection is closed by the server within `wait` after sending `first`.
pub async fn closed_within(addr: &str, first: &[u8], wait: Duration) -> bool {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(first).await.unwrap();
    let deadline = tokio::time::Instant::now() + wait;
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, tcp.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// A well-behaved HTTP/2 client (the `h2` crate) that starts a gRPC call to `path` and never sends
/// its body: the call stays open until the server answers it. Gives the answer's `grpc-status`.
pub struct StalledCall {
    response: h2::client::ResponseFuture,
    _body: h2::SendStream<bytes::Bytes>,
    _connection: tokio::task::JoinHandle<()>,
}

impl StalledCall {
    pub async fn start(addr: &str, path: &str) -> StalledCall {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        let (mut client, connection) = h2::client::handshake(tcp).await.expect("handshake");
        let connection = tokio::spawn(async move {
            let _ = connection.await;
        });
        let request = http::Request::post(format!("http://{addr}{path}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(())
            .unwrap();
        let (response, body) = client.send_request(request, false).expect("send");
        StalledCall { response, _body: body, _connection: connection }
    }

    /// The `grpc-status` the server answers with, if it answers within `wait`.
    pub async fn status(self, wait: Duration) -> Option<String> {
        let response = tokio::time::timeout(wait, self.response).await.ok()?.ok()?;
        response.headers().get("grpc-status").map(|v| v.to_str().unwrap_or_default().to_string())
    }
}

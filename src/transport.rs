//! The connection the server hands to tonic: a TCP stream that gathers what h2 and hyper write
//! between two flushes into one buffer, and sends it with one `write` a scheduler turn later.
//!
//! h2 copies a DATA frame into its own write buffer only when the payload is under a threshold: 256
//! bytes on a connection with vectored writes, 1 KiB on one without. A larger frame is written from
//! its own buffer, and nothing more is buffered until it has been flushed. Most netplane answers (an
//! `Operation` holding an `Instance`, 400 to 700 bytes) fall between the two: on a plain
//! `TcpStream`, which has vectored writes, each cost two system calls (headers and data, then the
//! trailers). So this stream reports no vectored writes, which lets h2 gather answers up to 1 KiB,
//! and buffers what it is given, so that a larger frame still leaves in one `write` with the frames
//! before it.
//!
//! h2 flushes as soon as its connection task runs, and tokio runs a task woken by the task it is
//! running next: the connection task ran after every answer, one `write` per call. A flush with
//! bytes to send therefore first yields once (`yield_now`, which queues the task behind the ones
//! already ready), so that the answers of the calls already in hand join the same `write`. With
//! nothing else ready it runs again as soon as the runtime has polled for I/O: at 1 call in flight
//! latency did not move. On loopback a write also runs the receiver's TCP input in the writer's
//! time: these writes were the largest part of the kernel's share of a call (BENCHMARKS.md).
//!
//! An HTTP/1.1 connection has one call at a time, so there is nothing for the turn to gather: once
//! the first bytes read show HTTP/1.1 (anything but HTTP/2's preface or a TLS handshake), a flush
//! writes at once.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, BufWriter, ReadBuf};
use tonic::transport::server::Connected;

/// Room for a full-size HTTP/2 frame (16 KiB) and the small frames queued before it; a write
/// larger than this goes straight to the socket.
const WRITE_BUFFER_BYTES: usize = 32 * 1024;

/// HTTP/2's connection preface: a client's first bytes on an HTTP/2 connection without TLS.
const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n";

/// Whether a flush waits a turn of the scheduler to gather other calls' answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gather {
    /// Nothing read yet, or only the preface's first `matched` bytes: as for HTTP/2.
    Undecided { matched: usize },
    /// HTTP/2, or TLS, whose protocol this stream cannot see.
    Yes,
    /// HTTP/1.1: one call at a time, nothing to gather.
    No,
}

impl Gather {
    const UNREAD: Gather = Gather::Undecided { matched: 0 };

    /// What is decided once `bytes` are read next.
    fn after_reading(self, bytes: &[u8]) -> Gather {
        let Gather::Undecided { matched } = self else { return self };
        let Some(&next) = bytes.first() else { return self };
        let rest = &HTTP2_PREFACE[matched..];
        let n = rest.len().min(bytes.len());
        if bytes[..n] == rest[..n] {
            return if n == rest.len() { Gather::Yes } else { Gather::Undecided { matched: matched + n } };
        }
        // Request lines start with a method's upper-case letters (as the preface does); TLS starts
        // with 0x16.
        let first = if matched > 0 { HTTP2_PREFACE[0] } else { next };
        if first.is_ascii_uppercase() { Gather::No } else { Gather::Yes }
    }
}

/// `T` with writes buffered until a flush, reporting no vectored writes; reads are `T`'s own.
pub struct CoalescingStream<T> {
    inner: BufWriter<T>,
    /// Set while a flush waits for one turn of the scheduler.
    turn: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    gather: Gather,
}

impl<T: AsyncWrite> CoalescingStream<T> {
    pub fn new(inner: T) -> Self {
        CoalescingStream { inner: BufWriter::with_capacity(WRITE_BUFFER_BYTES, inner), turn: None, gather: Gather::UNREAD }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for CoalescingStream<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        self.gather = self.gather.after_reading(&buf.filled()[before..]);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for CoalescingStream<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.gather != Gather::No && !self.inner.buffer().is_empty() {
            let turn = self.turn.get_or_insert_with(|| Box::pin(tokio::task::yield_now()));
            ready!(turn.as_mut().poll(cx));
            self.turn = None;
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        false
    }
}

impl<T: Connected + AsyncWrite> Connected for CoalescingStream<T> {
    type ConnectInfo = T::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.get_ref().connect_info()
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn holds_writes_until_a_flush_and_then_sends_them_together() {
        let (a, mut b) = tokio::io::duplex(1024);
        let mut a = CoalescingStream::new(a);
        a.write_all(b"head").await.unwrap();
        a.write_all(b"body").await.unwrap();
        let mut got = [0u8; 8];
        assert!(tokio::time::timeout(std::time::Duration::ZERO, b.read(&mut got)).await.is_err(), "nothing is sent before the flush");
        a.flush().await.unwrap();
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"headbody");
    }

    /// Whether a flush with bytes to send, after the peer sent `first`, waits a turn.
    async fn flush_waits_a_turn_after(first: &[&[u8]]) -> bool {
        let (a, mut b) = tokio::io::duplex(1024);
        let mut a = CoalescingStream::new(a);
        for part in first {
            b.write_all(part).await.unwrap();
            let mut got = vec![0u8; part.len()];
            a.read_exact(&mut got).await.unwrap();
        }
        a.write_all(b"answer").await.unwrap();
        let mut cx = Context::from_waker(std::task::Waker::noop());
        Pin::new(&mut a).poll_flush(&mut cx).is_pending()
    }

    #[tokio::test]
    async fn a_flush_waits_a_turn_on_http2_and_tls_but_not_on_http1() {
        assert!(flush_waits_a_turn_after(&[]).await, "before anything is read");
        assert!(flush_waits_a_turn_after(&[b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"]).await, "HTTP/2");
        assert!(flush_waits_a_turn_after(&[b"PRI * HT", b"TP/2.0\r\n\r\nSM\r\n\r\n"]).await, "HTTP/2, its preface split");
        assert_eq!(Gather::UNREAD.after_reading(HTTP2_PREFACE), Gather::Yes, "the whole preface decides");
        assert!(flush_waits_a_turn_after(&[b"\x16\x03\x01\x02\x00"]).await, "a TLS handshake");
        assert!(!flush_waits_a_turn_after(&[b"GET /_netplane/health HTTP/1.1\r\n\r\n"]).await, "HTTP/1.1");
        assert!(!flush_waits_a_turn_after(&[b"P", b"OST /compute/v1/instances HTTP/1.1\r\n"]).await, "HTTP/1.1, split");
    }

    #[tokio::test]
    async fn passes_bytes_both_ways_and_reports_no_vectored_writes() {
        let (a, b) = tokio::io::duplex(64);
        let (mut a, mut b) = (CoalescingStream::new(a), CoalescingStream::new(b));
        assert!(!a.is_write_vectored());
        a.write_all(b"ping").await.unwrap();
        a.flush().await.unwrap();
        let mut got = [0u8; 4];
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"ping");
        b.write_all(b"pong").await.unwrap();
        b.shutdown().await.unwrap();
        let mut back = Vec::new();
        a.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"pong");
    }
}

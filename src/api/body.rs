//! The one reader of request bodies, for every layer that buffers one (the guard for gRPC and
//! gRPC-Web, the REST gateway, Huawei REST): it keeps at most the limit in memory and refuses the
//! rest at once, counts what it holds against a budget shared by every call in the process
//! (`--max-body-memory`; a call that would pass it waits, and its client is slowed by HTTP/2
//! flow control), and gives up on a body that is not complete within `--request-body-timeout`.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, header};
use http_body_util::BodyExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::error::{Error, TransportError};

/// The largest request accepted: a gRPC message of 4 MiB (tonic's decode limit) in its 5-byte frame,
/// or a REST body of 4 MiB.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// The bounds every buffered body is read within; cheap to clone (the budget is shared).
#[derive(Clone, Debug)]
pub struct BodyReader {
    budget: Arc<Semaphore>,
    timeout: Duration,
}

/// A body read whole, holding its share of the budget until dropped.
#[derive(Debug)]
pub struct Buffered {
    pub bytes: Bytes,
    _held: Option<OwnedSemaphorePermit>,
}

impl BodyReader {
    pub fn new(budget_bytes: usize, timeout: Duration) -> BodyReader {
        // The budget must hold at least one largest body, or such a body could never be read.
        let budget_bytes = budget_bytes.clamp(MAX_MESSAGE_BYTES + 5, Semaphore::MAX_PERMITS);
        BodyReader { budget: Arc::new(Semaphore::new(budget_bytes)), timeout }
    }

    /// Reads `body` whole, refusing it as soon as it passes `limit` bytes (or declares more in
    /// `Content-Length`), or when it is not complete within the body timeout.
    pub async fn read<B>(&self, headers: &HeaderMap, body: B, limit: usize) -> Result<Buffered, Error>
    where
        B: http_body::Body<Data = Bytes> + Unpin,
        B::Error: std::fmt::Display,
    {
        self.read_draining(headers, body, limit, limit).await
    }

    /// As `read`, but a body past `limit` and not past `drain_limit` is read to its end (and
    /// dropped) before it is refused: an HTTP/1.1 client that sends its whole body before it reads
    /// the answer then sees the refusal instead of a broken connection.
    pub async fn read_draining<B>(&self, headers: &HeaderMap, body: B, limit: usize, drain_limit: usize) -> Result<Buffered, Error>
    where
        B: http_body::Body<Data = Bytes> + Unpin,
        B::Error: std::fmt::Display,
    {
        let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > drain_limit.max(limit) as u64) {
            return Err(TransportError::BodyTooLarge { limit }.into());
        }
        let deadline = Instant::now() + self.timeout;
        match tokio::time::timeout_at(deadline, self.collect(body, limit, drain_limit, deadline)).await {
            Ok(read) => read,
            Err(_) => Err(TransportError::BodyTimeout { timeout: self.timeout }.into()),
        }
    }

    async fn collect<B>(&self, mut body: B, limit: usize, drain_limit: usize, deadline: Instant) -> Result<Buffered, Error>
    where
        B: http_body::Body<Data = Bytes> + Unpin,
        B::Error: std::fmt::Display,
    {
        let mut held: Option<OwnedSemaphorePermit> = None;
        let mut first: Option<Bytes> = None;
        let mut rest = BytesMut::new();
        let mut seen = 0usize;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| Error::invalid("body", format!("cannot read the request body: {e}")))?;
            let Ok(data) = frame.into_data() else { continue };
            if data.is_empty() {
                continue;
            }
            seen += data.len();
            if seen > limit {
                if seen > drain_limit {
                    return Err(TransportError::BodyTooLarge { limit }.into());
                }
                // Past the limit: read on to the end, keeping nothing.
                held = None;
                first = None;
                rest = BytesMut::new();
                continue;
            }
            let share = self.reserve(data.len(), deadline).await?;
            match &mut held {
                Some(held) => held.merge(share),
                None => held = Some(share),
            }
            // Most bodies are one frame: kept as it came, without a copy.
            match first.take() {
                None if rest.is_empty() => first = Some(data),
                None => rest.extend_from_slice(&data),
                Some(earlier) => {
                    rest.extend_from_slice(&earlier);
                    rest.extend_from_slice(&data);
                }
            }
        }
        if seen > limit {
            return Err(TransportError::BodyTooLarge { limit }.into());
        }
        let bytes = first.unwrap_or_else(|| rest.freeze());
        Ok(Buffered { bytes, _held: held })
    }

    /// Takes `bytes` of the budget, waiting for other calls to give theirs back.
    async fn reserve(&self, bytes: usize, deadline: Instant) -> Result<OwnedSemaphorePermit, Error> {
        let wanted = u32::try_from(bytes).map_err(|_| TransportError::BodyTooLarge { limit: MAX_MESSAGE_BYTES })?;
        match tokio::time::timeout_at(deadline, self.budget.clone().acquire_many_owned(wanted)).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(Error::Internal("the body budget was closed".into())),
            Err(_) => Err(TransportError::BodyTimeout { timeout: self.timeout }.into()),
        }
    }
}

impl Default for BodyReader {
    /// The command line's defaults: 64 MiB, 30 s.
    fn default() -> Self {
        BodyReader::new(64 * 1024 * 1024, Duration::from_secs(30))
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::{Full, StreamBody};

    use super::*;

    impl BodyReader {
        /// Bytes of the budget not held by any call.
        fn available(&self) -> usize {
            self.budget.available_permits()
        }
    }

    type Frames = tokio_stream::Iter<std::vec::IntoIter<Result<http_body::Frame<Bytes>, String>>>;

    fn chunks(parts: &[&'static [u8]]) -> StreamBody<Frames> {
        let frames: Vec<_> = parts.iter().map(|p| Ok(http_body::Frame::data(Bytes::from_static(p)))).collect();
        StreamBody::new(tokio_stream::iter(frames))
    }

    #[tokio::test]
    async fn a_body_within_the_limit_is_read_whole_and_holds_its_bytes() {
        let reader = BodyReader::new(0, Duration::from_secs(5));
        let budget = reader.available();
        let read = reader.read(&HeaderMap::new(), chunks(&[b"ab", b"cd", b"e"]), 5).await.unwrap();
        assert_eq!(&read.bytes[..], b"abcde");
        assert_eq!(reader.available(), budget - 5, "held while the call runs");
        drop(read);
        assert_eq!(reader.available(), budget);
    }

    #[tokio::test]
    async fn a_larger_body_is_refused_as_soon_as_it_passes_the_limit() {
        let reader = BodyReader::default();
        let budget = reader.available();
        let refused = reader.read(&HeaderMap::new(), chunks(&[b"abc", b"def"]), 4).await.unwrap_err();
        assert!(matches!(refused, Error::Transport(TransportError::BodyTooLarge { limit: 4 })));
        assert_eq!(reader.available(), budget, "nothing held after a refusal");
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, "209715200".parse().unwrap());
        let declared = reader.read(&headers, Full::new(Bytes::from_static(b"x")), 4).await.unwrap_err();
        assert!(matches!(declared, Error::Transport(TransportError::BodyTooLarge { .. })), "refused on its declared length, unread");
    }

    #[tokio::test]
    async fn a_draining_read_reads_a_larger_body_to_its_end_holding_none_of_it() {
        let reader = BodyReader::default();
        let budget = reader.available();
        let refused = reader.read_draining(&HeaderMap::new(), chunks(&[b"abc", b"def", b"g"]), 4, 10).await.unwrap_err();
        assert!(matches!(refused, Error::Transport(TransportError::BodyTooLarge { limit: 4 })));
        assert_eq!(reader.available(), budget);
        let cut = reader.read_draining(&HeaderMap::new(), chunks(&[b"abcdef", b"ghijkl"]), 4, 10).await.unwrap_err();
        assert!(matches!(cut, Error::Transport(TransportError::BodyTooLarge { limit: 4 })), "past the drain limit too");
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_stalls_is_refused_at_the_timeout() {
        let reader = BodyReader::new(0, Duration::from_secs(3));
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<http_body::Frame<Bytes>, String>>(1);
        tx.send(Ok(http_body::Frame::data(Bytes::from_static(b"start")))).await.unwrap();
        let body = StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(rx));
        let refused = reader.read(&HeaderMap::new(), body, 100).await.unwrap_err();
        assert!(matches!(refused, Error::Transport(TransportError::BodyTimeout { .. })), "{refused:?}");
        drop(tx);
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_waits_for_the_budget_and_gets_it_when_another_call_ends() {
        let reader = BodyReader::new(0, Duration::from_secs(3));
        let hog = reader.budget.clone().acquire_many_owned(reader.available() as u32).await.unwrap();
        let waiting = tokio::spawn({
            let reader = reader.clone();
            async move { reader.read(&HeaderMap::new(), chunks(&[b"abc"]), 10).await.map(|b| b.bytes) }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!waiting.is_finished(), "waits while the budget is taken");
        drop(hog);
        assert_eq!(&waiting.await.unwrap().unwrap()[..], b"abc");
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_that_never_gets_the_budget_is_refused_at_the_timeout() {
        let reader = BodyReader::new(0, Duration::from_secs(3));
        let _hog = reader.budget.clone().acquire_many_owned(reader.available() as u32).await.unwrap();
        let refused = reader.read(&HeaderMap::new(), chunks(&[b"abc"]), 10).await.unwrap_err();
        assert!(matches!(refused, Error::Transport(TransportError::BodyTimeout { .. })));
    }
}

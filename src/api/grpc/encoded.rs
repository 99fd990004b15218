//! Answers sent from encodings made before: a memo of shared values' wire encodings, keyed by the
//! `Arc` the store hands out, and the marker by which a handler hands such an answer to
//! `dispatch`, which sends it as the call's body.
//!
//! On the memory and default stores a Get or a List renders the very value its row holds
//! (`Body::shared`), and a value is read far more often than it changes (polling loops, Terraform
//! refreshes, a test's checks). Converting it to its contract message and encoding that was a
//! quarter of a read's CPU time (BENCHMARKS.md, "Reads from their encodings"). The Kubernetes API
//! server keeps its watch cache's objects with their serializations for the same reason.
//!
//! An entry answers only for the allocation it was made from: a changed row holds a new `Arc`, and
//! the entry's `Weak` keeps the old allocation from being reused while the entry lives, so an
//! equal address is the same, unchanged value. A backend that decodes a new value for every read
//! (`sqlite-direct:`, PostgreSQL) never hits; its entries die with the read and are dropped first.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, Response};
use http_body_util::{BodyExt, Full};
use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint};
use tonic::body::Body;

use super::status::to_status;
use crate::api::request_id::RequestContext;
use crate::error::Result;

/// Entries a memo keeps at most: about 5 MiB of encoded instances.
const CAPACITY: usize = 8192;

/// The wire encodings of values shared as `Arc<T>`, by the identity of their allocation.
pub struct EncodingMemo<T> {
    entries: Mutex<HashMap<usize, Entry<T>>>,
    capacity: usize,
}

struct Entry<T> {
    /// Keeps the allocation (not the value) while the entry lives; see the module's header.
    value: Weak<T>,
    encoded: Bytes,
}

impl<T> Default for EncodingMemo<T> {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl<T> EncodingMemo<T> {
    fn with_capacity(capacity: usize) -> Self {
        EncodingMemo { entries: Mutex::new(HashMap::new()), capacity }
    }

    /// `value`'s encoding: the one made before for this allocation, or `encode`'s, kept.
    pub fn get_or_encode(&self, value: &Arc<T>, encode: impl FnOnce(&T) -> Result<Vec<u8>>) -> Result<Bytes> {
        let key = Arc::as_ptr(value) as usize;
        if let Some(entry) = self.lock().get(&key) {
            return Ok(entry.encoded.clone());
        }
        // Encoded outside the lock: two callers may both encode a value once, never wrongly.
        let encoded = Bytes::from(encode(value)?);
        let mut entries = self.lock();
        if entries.len() >= self.capacity {
            // Values replaced or deleted since go first. If live ones still fill half of it, all
            // go: lists of more values than it holds then pay one scan per half a memo of
            // inserts, not one per insert, and encode as they did without a memo.
            entries.retain(|_, entry| entry.value.strong_count() > 0);
            if entries.len() >= self.capacity / 2 {
                entries.clear();
            }
        }
        entries.insert(key, Entry { value: Arc::downgrade(value), encoded: encoded.clone() });
        Ok(encoded)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<usize, Entry<T>>> {
        // The map is whole after any panic (an insert or a retain), so a poisoned lock is usable.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// The encoding of a list answer shaped as `ListInstancesResponse` is (its items as field 1, then
/// `next_page_token` as field 2, as most of the contract's lists are) from its items' encodings.
pub fn list_response(items: &[Bytes], next_page_token: &str) -> Bytes {
    let field = |len: usize| 1 + encoded_len_varint(len as u64) + len;
    let mut out = BytesMut::with_capacity(items.iter().map(|item| field(item.len())).sum::<usize>() + field(next_page_token.len()));
    let mut put = |tag: u32, bytes: &[u8]| {
        encode_key(tag, WireType::LengthDelimited, &mut out);
        encode_varint(bytes.len() as u64, &mut out);
        out.extend_from_slice(bytes);
    };
    for item in items {
        put(1, item);
    }
    // proto3 leaves an empty string out.
    if !next_page_token.is_empty() {
        put(2, next_page_token.as_bytes());
    }
    out.freeze()
}

/// A handler's answer as the encoding of its message, in the response's extensions; the typed
/// message the generated service encodes is the empty default, which `into_body` drops unsent.
#[derive(Clone, Debug)]
pub struct EncodedAnswer(pub Bytes);

/// `reply::respond` for an answer already encoded: the reply carries `encoded` as its message.
pub fn respond_encoded<T: Default>(
    ctx: Option<&RequestContext>,
    result: Result<Bytes>,
) -> std::result::Result<tonic::Response<T>, tonic::Status> {
    let encoded = result.map_err(|e| to_status(&e, ctx))?;
    let mut response = tonic::Response::new(T::default());
    response.extensions_mut().insert(EncodedAnswer(encoded));
    Ok(response)
}

/// A served call's response, its body the `EncodedAnswer` when it has one: one uncompressed frame
/// and tonic's own trailers for success, as tonic sends an answer it encodes.
pub fn into_body(response: Response<Body>) -> Response<Body> {
    let Some(EncodedAnswer(encoded)) = response.extensions().get::<EncodedAnswer>().cloned() else {
        return response;
    };
    // What tonic's trailers hold for a success (`Status::ok("")`): the code alone.
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    let (parts, _empty) = response.into_parts();
    let body = Full::new(crate::api::framing::frame(&encoded)).with_trailers(std::future::ready(Some(Ok(trailers))));
    Response::from_parts(parts, Body::new(body))
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use prost::Message;

    use super::*;
    use crate::proto::yandex::cloud::compute::v1 as pb;

    fn instance(id: &str) -> pb::Instance {
        pb::Instance { id: id.into(), name: format!("name-of-{id}"), ..Default::default() }
    }

    #[test]
    fn an_allocation_is_encoded_once_and_another_with_equal_content_again() {
        let memo = EncodingMemo::default();
        let encodes = Cell::new(0);
        let encode = |i: &pb::Instance| {
            encodes.set(encodes.get() + 1);
            Ok(i.encode_to_vec())
        };
        let first = Arc::new(instance("a"));
        let once = memo.get_or_encode(&first, encode).unwrap();
        let twice = memo.get_or_encode(&first.clone(), encode).unwrap();
        assert_eq!((once.clone(), encodes.get()), (twice, 1));
        assert_eq!(once, Bytes::from(instance("a").encode_to_vec()));
        // What a write leaves in the row: a new allocation, even with the same content.
        let replaced = Arc::new(instance("a"));
        memo.get_or_encode(&replaced, encode).unwrap();
        assert_eq!(encodes.get(), 2);
    }

    #[test]
    fn a_value_changed_after_its_old_one_was_dropped_is_never_answered_from_the_old_encoding() {
        let memo = EncodingMemo::default();
        let old = Arc::new(instance("old"));
        memo.get_or_encode(&old, |i| Ok(i.encode_to_vec())).unwrap();
        drop(old);
        // The entry's Weak keeps the old allocation, so the new value cannot take its address.
        let new = Arc::new(instance("new"));
        let encoded = memo.get_or_encode(&new, |i| Ok(i.encode_to_vec())).unwrap();
        assert_eq!(pb::Instance::decode(encoded).unwrap().id, "new");
    }

    #[test]
    fn a_full_memo_drops_dead_entries_first_then_everything() {
        let memo = EncodingMemo::with_capacity(4);
        let live: Vec<_> = (0..2).map(|i| Arc::new(instance(&i.to_string()))).collect();
        for value in &live {
            memo.get_or_encode(value, |i| Ok(i.encode_to_vec())).unwrap();
        }
        for i in 0..2 {
            // Read once and replaced: dead entries.
            memo.get_or_encode(&Arc::new(instance(&format!("dead{i}"))), |i| Ok(i.encode_to_vec())).unwrap();
        }
        assert_eq!(memo.len(), 4);
        let next = Arc::new(instance("next"));
        memo.get_or_encode(&next, |i| Ok(i.encode_to_vec())).unwrap();
        // The two dead ones went; the live ones (half the capacity) went with them.
        assert_eq!(memo.len(), 1);
        let more: Vec<_> = (0..3).map(|i| Arc::new(instance(&format!("more{i}")))).collect();
        for value in &more {
            memo.get_or_encode(value, |i| Ok(i.encode_to_vec())).unwrap();
        }
        assert_eq!(memo.len(), 4);
        // All four live: past the capacity it starts over rather than grow.
        memo.get_or_encode(&Arc::new(instance("last")), |i| Ok(i.encode_to_vec())).unwrap();
        assert_eq!(memo.len(), 1);
    }

    #[test]
    fn an_encoded_answer_becomes_one_frame_and_the_success_trailers() {
        let collect = |response: Response<Body>| {
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            runtime.block_on(response.into_body().collect()).unwrap()
        };
        let mut handed = http::Response::new(Body::empty());
        handed.extensions_mut().insert(EncodedAnswer(Bytes::from_static(b"abc")));
        let sent = collect(into_body(handed));
        assert_eq!(sent.trailers().and_then(|t| t.get("grpc-status")).map(|v| v.as_bytes()), Some(&b"0"[..]));
        assert_eq!(sent.to_bytes(), Bytes::from_static(b"\0\0\0\0\x03abc"));
        // Any other answer is sent as the service made it.
        let sent = collect(into_body(http::Response::new(Body::new(Full::new(Bytes::from_static(b"as made"))))));
        assert_eq!(sent.to_bytes(), Bytes::from_static(b"as made"));
    }

    #[test]
    fn a_list_response_from_its_items_encodings_is_what_prost_encodes() {
        let items = vec![instance("a"), instance("b"), pb::Instance::default()];
        let encodings: Vec<Bytes> = items.iter().map(|i| Bytes::from(i.encode_to_vec())).collect();
        for token in ["", "next-page"] {
            let expected = pb::ListInstancesResponse { instances: items.clone(), next_page_token: token.into() };
            assert_eq!(list_response(&encodings, token), Bytes::from(expected.encode_to_vec()), "token {token:?}");
        }
        assert_eq!(list_response(&[], ""), Bytes::new());
    }
}

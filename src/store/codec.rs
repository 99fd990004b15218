//! How domain values become row bodies: one format byte, then MessagePack (rmp-serde) with
//! structs as arrays of their fields in declaration order, enum variants by name.
//!
//! Fields by position, not name: a mixed call's log row (an instance and its operation, which
//! holds the instance again) is 2.25 KB with names and 1.06 KB without, and SQLite's cost of
//! appending it, the fold's and the checkpointer's all follow its size (BENCHMARKS.md, tenth
//! session: mixed gRPC on the default store 15,200 → 17,600 calls/s). The price is a rule for
//! stored types: fields are only ever appended, last, with `#[serde(default)]`; never removed,
//! moved or inserted before another, nor left out when written (`skip_serializing_if`).
//! `store::layouts` checks every stored type against the layouts already written
//! (`src/store/layouts.json`) and the source, and fails on a change that breaks the rule.
//! Variants are stored by name, so they may be added and reordered freely.
//!
//! Bodies written by earlier releases still decode: MessagePack with field names (format byte 1),
//! whose fields are read by name, and JSON (they start with `{`). A store needs no rewrite.

use std::any::Any;
use std::borrow::Cow;
use std::sync::Arc;

use serde::{Serialize, de::DeserializeOwned};

use crate::error::{Error, Result};

/// A row's domain value: as bytes, when read from a backend that persists rows, or as the value a
/// transaction wrote. The memory backend keeps the value and never encodes or decodes it; a
/// persistent backend encodes it when it writes the row (`bytes`).
#[derive(Clone)]
pub enum Body {
    Encoded(Vec<u8>),
    Value(Arc<dyn Stored>),
}

/// A value a `Body` can hold: any serializable domain type.
pub trait Stored: Any + Send + Sync {
    fn encode(&self) -> Result<Vec<u8>>;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Serialize + Any + Send + Sync> Stored for T {
    fn encode(&self) -> Result<Vec<u8>> {
        encode(self, std::any::type_name::<T>())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

impl Body {
    pub fn value<T: Serialize + Any + Send + Sync>(value: T) -> Body {
        Body::Value(Arc::new(value))
    }

    /// The encoded body, as a persistent backend stores it.
    pub fn bytes(&self) -> Result<Cow<'_, [u8]>> {
        match self {
            Body::Encoded(bytes) => Ok(Cow::Borrowed(bytes)),
            Body::Value(value) => value.encode().map(Cow::Owned),
        }
    }

    /// The value the body holds, as a `T`; `what` names it in errors (and is only called for
    /// one, so a successful read formats nothing).
    pub fn decode<T: DeserializeOwned + Clone + 'static>(&self, what: impl FnOnce() -> String) -> Result<T> {
        match self {
            Body::Encoded(bytes) => read(bytes).map_err(|e| undecodable(what, e)),
            Body::Value(value) => value.as_any().downcast_ref::<T>().cloned().ok_or_else(|| undecodable(what, ANOTHER_TYPE)),
        }
    }

    /// `decode`, sharing the value the row holds instead of copying it (a read that only
    /// renders the value needs no copy of its own); an encoded body is decoded into a new one.
    pub fn shared<T: DeserializeOwned + Send + Sync + 'static>(&self, what: impl FnOnce() -> String) -> Result<Arc<T>> {
        match self {
            Body::Encoded(bytes) => read(bytes).map(Arc::new).map_err(|e| undecodable(what, e)),
            Body::Value(value) => {
                let value: Arc<dyn Any + Send + Sync> = value.clone();
                value.downcast::<T>().map_err(|_| undecodable(what, ANOTHER_TYPE))
            }
        }
    }
}

const ANOTHER_TYPE: &str = "the row holds another type";

/// A body that could not be read as the type asked for; `what` names the row.
fn undecodable(what: impl FnOnce() -> String, cause: impl std::fmt::Display) -> Error {
    Error::Internal(format!("decoding {}: {cause}", what()))
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Body::Encoded(bytes)
    }
}

/// Bodies are equal when they encode alike, however each is held.
impl PartialEq for Body {
    fn eq(&self, other: &Self) -> bool {
        matches!((self.bytes(), other.bytes()), (Ok(a), Ok(b)) if a == b)
    }
}

impl Eq for Body {}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Encoded(bytes) => write!(f, "Body::Encoded({} bytes)", bytes.len()),
            Body::Value(_) => f.write_str("Body::Value(..)"),
        }
    }
}

/// The format byte of MessagePack bodies with field names, as releases before positional
/// bodies wrote them.
const MSGPACK_NAMED: u8 = 1;
/// The format byte of positional MessagePack bodies, as this release writes them.
const MSGPACK_POSITIONAL: u8 = 2;

/// A scratch buffer larger than this is not kept for the next encoding.
const KEPT_SCRATCH: usize = 64 * 1024;

thread_local! {
    /// Where bodies are written before they are copied out at their size. Written straight into
    /// a new `Vec`, a body of a few hundred bytes (an operation with its instance) grew it about
    /// eight times, each a reallocation and copy: about 3% of a mixed call's CPU time on the memory store.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `value` as a row body; `what` names it in errors.
pub fn encode<T: Serialize>(value: &T, what: &str) -> Result<Vec<u8>> {
    let written = |scratch: &mut Vec<u8>| {
        scratch.clear();
        scratch.push(MSGPACK_POSITIONAL);
        rmp_serde::encode::write(scratch, value).map_err(|e| Error::Internal(format!("encoding {what}: {e}")))?;
        Ok(scratch.to_vec())
    };
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => {
            let body = written(&mut scratch);
            if scratch.capacity() > KEPT_SCRATCH {
                *scratch = Vec::new();
            }
            body
        }
        // A value whose serialization encodes another body (none does today) gets a buffer of its own.
        Err(_) => written(&mut Vec::new()),
    })
}

/// The value a row body holds, in any of the formats (a struct decodes from an array of its
/// fields or from a map of them by name).
fn read<T: DeserializeOwned>(body: &[u8]) -> std::result::Result<T, String> {
    match body.split_first() {
        Some((&(MSGPACK_NAMED | MSGPACK_POSITIONAL), rest)) => rmp_serde::from_slice(rest).map_err(|e| e.to_string()),
        Some((b'{', _)) => serde_json::from_slice(body).map_err(|e| e.to_string()),
        _ => Err("unknown body format".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Row {
        id: String,
        ports: Vec<u16>,
        note: Option<String>,
    }

    #[test]
    fn round_trips_positionally_and_reads_the_rows_of_earlier_releases() {
        let row = Row { id: "a".into(), ports: vec![80, 443], note: None };
        let body = encode(&row, "row").unwrap();
        assert_eq!(body[0], MSGPACK_POSITIONAL);
        assert_eq!(read::<Row>(&body).unwrap(), row);
        let mut named = vec![MSGPACK_NAMED];
        rmp_serde::encode::write_named(&mut named, &row).unwrap();
        assert!(body.len() + "id".len() + "ports".len() + "note".len() <= named.len(), "no field names: {body:?}");
        assert_eq!(read::<Row>(&named).unwrap(), row, "rows stored with field names by earlier releases");
        let json = serde_json::to_vec(&row).unwrap();
        assert_eq!(read::<Row>(&json).unwrap(), row, "rows stored as JSON by earlier releases");
    }

    #[test]
    fn a_shared_read_hands_out_the_rows_own_value_and_decodes_an_encoded_one() {
        let row = Row { id: "a".into(), ports: vec![80], note: Some("n".into()) };
        let held = Body::value(row.clone());
        let (first, second) = (held.shared::<Row>(|| "row".into()).unwrap(), held.shared::<Row>(|| "row".into()).unwrap());
        assert!(Arc::ptr_eq(&first, &second), "both reads share the one value the row holds");
        assert_eq!(*first, row);
        let encoded = Body::Encoded(encode(&row, "row").unwrap());
        assert_eq!(*encoded.shared::<Row>(|| "row".into()).unwrap(), row);
        let wrong = held.shared::<String>(|| "row r1".into()).unwrap_err().to_string();
        assert!(wrong.contains("row r1") && wrong.contains("another type"), "{wrong}");
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    enum Then {
        Stopped,
        Running { since: u32 },
    }

    /// `Row` as a later release may declare it: a field appended, last, with a default.
    #[derive(Clone, Debug, PartialEq, serde::Deserialize)]
    struct Grown {
        id: String,
        ports: Vec<u16>,
        note: Option<String>,
        #[serde(default)]
        added: Vec<String>,
    }

    /// The same enum, as a later release may declare it: a variant added, the order changed.
    #[derive(Debug, PartialEq, serde::Deserialize)]
    enum Now {
        Provisioning,
        Running { since: u32 },
        Stopped,
    }

    /// `Row` with its fields in another order: what the rule forbids (`store::layouts` refuses it).
    #[derive(Clone, Debug, PartialEq, serde::Deserialize)]
    struct Reordered {
        ports: Vec<u16>,
        id: String,
        note: Option<String>,
    }

    #[test]
    fn stored_types_may_append_fields_and_change_variants_but_not_move_fields() {
        let body = encode(&Row { id: "a".into(), ports: vec![22], note: Some("n".into()) }, "row").unwrap();
        let later: Grown = read(&body).unwrap();
        assert_eq!(later, Grown { id: "a".into(), ports: vec![22], note: Some("n".into()), added: vec![] }, "an appended field defaulted");
        let body = encode(&vec![Then::Stopped, Then::Running { since: 7 }], "states").unwrap();
        assert_eq!(read::<Vec<Now>>(&body).unwrap(), [Now::Stopped, Now::Running { since: 7 }], "variants by name");
        let body = encode(&Row { id: "a".into(), ports: vec![22], note: None }, "row").unwrap();
        assert!(read::<Reordered>(&body).is_err(), "fields are read by their place");
        // Rows with field names, from earlier releases, are read by name whatever the order.
        let mut named = vec![MSGPACK_NAMED];
        rmp_serde::encode::write_named(&mut named, &Row { id: "a".into(), ports: vec![22], note: None }).unwrap();
        assert_eq!(read::<Reordered>(&named).unwrap(), Reordered { ports: vec![22], id: "a".into(), note: None });
    }

    #[test]
    fn a_body_holding_its_value_reads_back_as_an_encoded_one_does() {
        let row = Row { id: "a".into(), ports: vec![80], note: Some("n".into()) };
        let held = Body::value(row.clone());
        let encoded = Body::from(held.bytes().unwrap().into_owned());
        assert_eq!(held, encoded);
        assert_eq!(held.decode::<Row>(|| "row".into()).unwrap(), row);
        assert_eq!(encoded.decode::<Row>(|| "row".into()).unwrap(), row);
        assert!(held.decode::<Grown>(|| "row".into()).is_err(), "a held value is not read as another type");
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!(read::<Row>(b"").is_err());
        assert!(read::<Row>(&[9, 1, 2]).is_err());
        assert!(read::<Row>(&[MSGPACK_NAMED, 200]).is_err());
    }
}

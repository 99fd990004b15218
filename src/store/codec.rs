//! How domain values become row bodies: one format byte, then MessagePack with field and variant
//! names (rmp-serde), which is smaller and cheaper to write and read than the JSON earlier
//! versions stored. Those rows (they start with `{`) still decode, so a store needs no rewrite.
//!
//! Names, not positions, identify fields and variants, so stored types evolve as they did with
//! JSON: a new field needs `#[serde(default)]`, a removed one is ignored, variants may be
//! reordered. (A positional format such as postcard was faster still, 37 against 44 µs per call
//! in the benchmark, but would have made every such change a format migration.)

use serde::{Serialize, de::DeserializeOwned};

use crate::error::{Error, Result};

/// The format byte of named MessagePack bodies.
const MSGPACK_NAMED: u8 = 1;

/// `value` as a row body; `what` names it in errors.
pub fn encode<T: Serialize>(value: &T, what: &str) -> Result<Vec<u8>> {
    let mut body = vec![MSGPACK_NAMED];
    rmp_serde::encode::write_named(&mut body, value).map_err(|e| Error::Internal(format!("encoding {what}: {e}")))?;
    Ok(body)
}

/// The value a row body holds, in either format; `what` names it in errors.
pub fn decode<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T> {
    let decoded = match body.split_first() {
        Some((&MSGPACK_NAMED, rest)) => rmp_serde::from_slice(rest).map_err(|e| e.to_string()),
        Some((b'{', _)) => serde_json::from_slice(body).map_err(|e| e.to_string()),
        _ => Err("unknown body format".to_string()),
    };
    decoded.map_err(|e| Error::Internal(format!("decoding {what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Row {
        id: String,
        ports: Vec<u16>,
        note: Option<String>,
    }

    #[test]
    fn round_trips_and_reads_earlier_json_rows() {
        let row = Row { id: "a".into(), ports: vec![80, 443], note: None };
        let body = encode(&row, "row").unwrap();
        assert_eq!(body[0], MSGPACK_NAMED);
        assert_eq!(decode::<Row>(&body, "row").unwrap(), row);
        let json = serde_json::to_vec(&row).unwrap();
        assert!(body.len() < json.len());
        assert_eq!(decode::<Row>(&json, "row").unwrap(), row, "rows stored as JSON by earlier versions");
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    enum Then {
        Stopped,
        Running { since: u32 },
    }

    /// The same data, as a later version might declare it.
    #[derive(Debug, PartialEq, serde::Deserialize)]
    enum Now {
        Provisioning,
        Running { since: u32 },
        Stopped,
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Evolved {
        ports: Vec<u16>,
        id: String,
        #[serde(default)]
        added: Vec<String>,
    }

    #[test]
    fn stored_types_may_evolve_as_with_json() {
        let body = encode(&Row { id: "a".into(), ports: vec![22], note: Some("gone".into()) }, "row").unwrap();
        let later: Evolved = decode(&body, "row").unwrap();
        assert_eq!(later, Evolved { ports: vec![22], id: "a".into(), added: vec![] }, "fields by name, new ones defaulted");
        let body = encode(&vec![Then::Stopped, Then::Running { since: 7 }], "states").unwrap();
        assert_eq!(decode::<Vec<Now>>(&body, "states").unwrap(), [Now::Stopped, Now::Running { since: 7 }], "variants by name");
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!(decode::<Row>(b"", "row").is_err());
        assert!(decode::<Row>(&[9, 1, 2], "row").is_err());
        assert!(decode::<Row>(&[MSGPACK_NAMED, 200], "row").is_err());
    }
}

//! Page tokens: the keyset cursor of the last item, base64url-encoded JSON, opaque to clients.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_page_token: String,
}

pub fn encode<T: serde::Serialize>(cursor: &T) -> String {
    serde_json::to_vec(cursor).map(|j| URL_SAFE_NO_PAD.encode(j)).unwrap_or_default()
}

pub fn decode<T: serde::de::DeserializeOwned>(token: &str) -> Result<Option<T>> {
    if token.is_empty() {
        return Ok(None);
    }
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|j| serde_json::from_slice(&j).ok())
        .map(Some)
        .ok_or_else(|| Error::invalid("page_token", "not a page token this server issued"))
}

/// Cuts `rows` (fetched with one extra) to `size` and makes the token for the next page.
pub fn page<R, C: serde::Serialize, T>(
    mut rows: Vec<R>,
    size: usize,
    cursor: impl Fn(&R) -> C,
    convert: impl Fn(R) -> Result<T>,
) -> Result<Page<T>> {
    let more = rows.len() > size;
    rows.truncate(size);
    let next_page_token = match rows.last() {
        Some(last) if more => encode(&cursor(last)),
        _ => String::new(),
    };
    Ok(Page { items: rows.into_iter().map(convert).collect::<Result<_>>()?, next_page_token })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Cursor, SortValue};

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let c = Cursor { value: SortValue::Int(5), id: "x".into() };
        let t = encode(&c);
        assert_eq!(decode::<Cursor>(&t).unwrap(), Some(c));
        assert_eq!(decode::<Cursor>("").unwrap(), None);
        assert!(decode::<Cursor>("!!nope").is_err());
    }

    #[test]
    fn pages_know_when_there_is_more() {
        let cursor = |v: &i32| Cursor { value: SortValue::Int(i64::from(*v)), id: v.to_string() };
        let p = page(vec![1, 2, 3], 2, cursor, Ok).unwrap();
        assert_eq!(p.items, [1, 2]);
        assert!(!p.next_page_token.is_empty());
        let p = page(vec![1, 2], 2, cursor, Ok).unwrap();
        assert!(p.next_page_token.is_empty());
    }
}

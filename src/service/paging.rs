//! Page tokens: the keyset cursor of the last item and the list it belongs to, base64url-encoded
//! JSON, opaque to clients. A token is bound to its list (what is listed, the folder or parent,
//! the filter and the order), so one issued for folder a's list is refused in folder b's, as the
//! real API does, instead of silently starting b's list at a's cursor.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The list a page token belongs to, as a short digest of what identifies it (six bytes: the
/// contract allows tokens of 100 characters, and the cursor needs most of them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListScope([u8; 6]);

impl ListScope {
    /// The scope of the list named `what` over `parts` (folder or parent id, filter, order…).
    pub fn new(what: &str, parts: &[&str]) -> ListScope {
        let mut digest = Sha256::new();
        // Each part with its length first, so no part can be shifted into the next.
        for part in std::iter::once(what).chain(parts.iter().copied()) {
            digest.update((part.len() as u64).to_be_bytes());
            digest.update(part.as_bytes());
        }
        let mut scope = [0u8; 6];
        scope.copy_from_slice(&digest.finalize()[..6]);
        ListScope(scope)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_page_token: String,
}

/// The token: the list's scope, then the cursor as JSON.
pub fn encode<T: serde::Serialize>(cursor: &T, scope: &ListScope) -> String {
    let mut token = scope.0.to_vec();
    match serde_json::to_writer(&mut token, cursor) {
        Ok(()) => URL_SAFE_NO_PAD.encode(token),
        Err(_) => String::new(),
    }
}

pub fn decode<T: serde::de::DeserializeOwned>(token: &str, scope: &ListScope) -> Result<Option<T>> {
    if token.is_empty() {
        return Ok(None);
    }
    let not_issued = || Error::invalid("page_token", "not a page token this server issued");
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| not_issued())?;
    let (issued_for, cursor) = bytes.split_at_checked(scope.0.len()).ok_or_else(not_issued)?;
    if issued_for != scope.0 {
        return Err(Error::invalid("page_token", "the page token belongs to another list (another folder, parent, filter or order)"));
    }
    serde_json::from_slice(cursor).map(Some).map_err(|_| not_issued())
}

/// Cuts `rows` (fetched with one extra) to `size` and makes the token for the next page.
pub fn page<R, C: serde::Serialize, T>(
    mut rows: Vec<R>,
    size: usize,
    scope: &ListScope,
    cursor: impl Fn(&R) -> C,
    convert: impl Fn(R) -> Result<T>,
) -> Result<Page<T>> {
    let more = rows.len() > size;
    rows.truncate(size);
    let next_page_token = match rows.last() {
        Some(last) if more => encode(&cursor(last), scope),
        _ => String::new(),
    };
    Ok(Page { items: rows.into_iter().map(convert).collect::<Result<_>>()?, next_page_token })
}

/// `page` for rows lent one at a time (`Tx::list_each`, asked for one extra) instead of handed
/// over: each row is converted as it is lent, and the cursor is taken from the page's last one.
pub fn page_lent<R, C: serde::Serialize, T>(
    size: usize,
    scope: &ListScope,
    cursor: impl Fn(&R) -> C,
    convert: impl Fn(&R) -> Result<T>,
    lend: impl FnOnce(&mut dyn FnMut(&R) -> bool) -> Result<()>,
) -> Result<Page<T>> {
    let (mut items, mut last, mut more, mut failed) = (Vec::new(), None, false, None);
    lend(&mut |row| {
        if items.len() == size {
            more = true;
            return false;
        }
        match convert(row) {
            Ok(item) => items.push(item),
            Err(e) => failed = Some(e),
        }
        if items.len() == size {
            last = Some(cursor(row));
        }
        failed.is_none()
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    let next_page_token = match last {
        Some(last) if more => encode(&last, scope),
        _ => String::new(),
    };
    Ok(Page { items, next_page_token })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Cursor, SortValue};

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let scope = ListScope::new("instances", &["folder-a"]);
        let c = Cursor { value: SortValue::Int(5), id: "x".into() };
        let t = encode(&c, &scope);
        assert_eq!(decode::<Cursor>(&t, &scope).unwrap(), Some(c));
        assert_eq!(decode::<Cursor>("", &scope).unwrap(), None);
        assert!(decode::<Cursor>("!!nope", &scope).is_err());
    }

    #[test]
    fn a_token_works_only_for_the_list_that_issued_it() {
        let mine = ListScope::new("instances", &["folder-a", "", "name"]);
        let token = encode(&Cursor { value: SortValue::Int(5), id: "x".into() }, &mine);
        for other in [
            ListScope::new("instances", &["folder-b", "", "name"]),
            ListScope::new("instances", &["folder-a", "name=\"x\"", "name"]),
            ListScope::new("instances", &["folder-a", "", "id"]),
            ListScope::new("networks", &["folder-a", "", "name"]),
            // Parts are separated, so they cannot be shifted from one into the next.
            ListScope::new("instances", &["folder-a\0", "name"]),
        ] {
            assert_ne!(other, mine);
            let refused = decode::<Cursor>(&token, &other).unwrap_err();
            assert!(refused.to_string().contains("another list"), "{refused}");
        }
    }

    #[test]
    fn pages_know_when_there_is_more() {
        let scope = ListScope::new("numbers", &[]);
        let cursor = |v: &i32| Cursor { value: SortValue::Int(i64::from(*v)), id: v.to_string() };
        let p = page(vec![1, 2, 3], 2, &scope, cursor, Ok).unwrap();
        assert_eq!(p.items, [1, 2]);
        assert!(!p.next_page_token.is_empty());
        let p = page(vec![1, 2], 2, &scope, cursor, Ok).unwrap();
        assert!(p.next_page_token.is_empty());
        // Lent rows make the same pages.
        let lent = |rows: Vec<i32>| {
            move |each: &mut dyn FnMut(&i32) -> bool| {
                for row in &rows {
                    if !each(row) {
                        break;
                    }
                }
                Ok(())
            }
        };
        let p = page_lent(2, &scope, cursor, |v| Ok(*v), lent(vec![1, 2, 3])).unwrap();
        assert_eq!((p.items, p.next_page_token), (vec![1, 2], page(vec![1, 2, 3], 2, &scope, cursor, Ok).unwrap().next_page_token));
        let p = page_lent(2, &scope, cursor, |v| Ok(*v), lent(vec![1, 2])).unwrap();
        assert_eq!(p.items, [1, 2]);
        assert!(p.next_page_token.is_empty());
    }
}

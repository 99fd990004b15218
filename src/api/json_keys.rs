//! Duplicate keys in a JSON request body. serde_json keeps the last of two equal keys, so
//! `{"folderId": "a", "folderId": "b"}` would quietly mean folder b; proto3 JSON parsers (and so
//! the real REST gateways) refuse such a body, and netplane does the same, naming the key, on
//! Yandex REST and Huawei REST alike.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The path (`rule.port`, `items[2].name`) of the first key that appears twice in one object of
/// `body`, if any. A body that is not JSON has none: the real parser reports its syntax.
pub fn first_duplicate_key(body: &[u8]) -> Option<String> {
    let mut path = Vec::new();
    let mut found = None;
    let mut json = serde_json::Deserializer::from_slice(body);
    let _ = Walk { path: &mut path, found: &mut found }.deserialize(&mut json);
    found
}

/// One step of the path to a value: a key (borrowed from the body unless it holds an escape) or
/// an array index. Spelled out as text only for the key found twice: every REST and Huawei body
/// is walked, and a string per key and per array element was most of the walk.
enum Step<'de> {
    Key(Cow<'de, str>),
    Index(usize),
}

struct Walk<'p, 'de> {
    path: &'p mut Vec<Step<'de>>,
    found: &'p mut Option<String>,
}

impl<'de> Walk<'_, 'de> {
    fn at(&mut self, step: Step<'de>) -> Walk<'_, 'de> {
        self.path.push(step);
        Walk { path: self.path, found: self.found }
    }
}

fn joined(path: &[Step<'_>], key: &str) -> String {
    let mut text = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(k);
            }
            Step::Index(i) => text.push_str(&format!("[{i}]")),
        }
    }
    if !text.is_empty() {
        text.push('.');
    }
    text.push_str(key);
    text
}

/// The keys of one object so far. A handful (nearly every object) are searched in a list; past
/// `LISTED_KEYS` they move to a set, so that a body of many keys costs no quadratic search. The
/// set hashes with SipHash: the keys are the client's.
enum Seen<'de> {
    Listed(Vec<Cow<'de, str>>),
    Hashed(HashSet<Cow<'de, str>>),
}

const LISTED_KEYS: usize = 16;

impl<'de> Seen<'de> {
    fn contains(&self, key: &str) -> bool {
        match self {
            Seen::Listed(keys) => keys.iter().any(|k| k == key),
            Seen::Hashed(keys) => keys.contains(key),
        }
    }

    fn insert(&mut self, key: Cow<'de, str>) {
        match self {
            Seen::Listed(keys) if keys.len() < LISTED_KEYS => keys.push(key),
            Seen::Listed(keys) => {
                let mut hashed: HashSet<Cow<'de, str>> = keys.drain(..).collect();
                hashed.insert(key);
                *self = Seen::Hashed(hashed);
            }
            Seen::Hashed(keys) => {
                keys.insert(key);
            }
        }
    }
}

/// An object's key, borrowed from the body where the text holds no escape.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Cow<'de, str>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(key))
    }
    fn visit_str<E>(self, key: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(key.to_string()))
    }
    fn visit_string<E>(self, key: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(key))
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut seen = Seen::Listed(Vec::new());
        while let Some(key) = map.next_key_seed(Key)? {
            if self.found.is_some() {
                map.next_value::<IgnoredAny>()?;
            } else if seen.contains(&key) {
                *self.found = Some(joined(self.path, &key));
                map.next_value::<IgnoredAny>()?;
            } else {
                map.next_value_seed(self.at(Step::Key(key.clone())))?;
                self.path.pop();
                seen.insert(key);
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        while seq.next_element_seed(self.at(Step::Index(index)))?.is_some() {
            self.path.pop();
            index += 1;
        }
        self.path.pop();
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_repeated_key_is_named_by_its_path() {
        assert_eq!(first_duplicate_key(br#"{"folderId":"a","folderId":"b"}"#).as_deref(), Some("folderId"));
        assert_eq!(first_duplicate_key(br#"{"rule":{"port":1,"port":2}}"#).as_deref(), Some("rule.port"));
        assert_eq!(first_duplicate_key(br#"{"items":[{"a":1},{"b":1,"b":2}]}"#).as_deref(), Some("items[1].b"));
        assert_eq!(first_duplicate_key(br#"[[{"x":1,"x":1}]]"#).as_deref(), Some("[0][0].x"));
    }

    /// Past the keys searched in a list, the set finds the repeat; a key spelled with an escape is
    /// the same key as its plain spelling.
    #[test]
    fn a_repeat_is_found_among_many_keys_and_through_escapes() {
        let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        let body = format!("{{{},\"k3\":0}}", many.join(","));
        assert_eq!(first_duplicate_key(body.as_bytes()).as_deref(), Some("k3"));
        assert_eq!(first_duplicate_key(format!("{{{}}}", many.join(",")).as_bytes()), None);
        assert_eq!(first_duplicate_key(br#"{"ab":1,"a\u0062":2}"#).as_deref(), Some("ab"));
        assert_eq!(first_duplicate_key(br#"{"o":{"x\n":1,"x\n":2}}"#).as_deref(), Some("o.x\n"));
    }

    #[test]
    fn equal_keys_in_different_objects_are_fine() {
        assert_eq!(first_duplicate_key(br#"{"a":{"name":1},"b":{"name":2},"name":3}"#), None);
        assert_eq!(first_duplicate_key(br#"[{"a":1},{"a":2}]"#), None);
        assert_eq!(first_duplicate_key(b"not json"), None);
        assert_eq!(first_duplicate_key(b""), None);
    }

    proptest! {
        /// Any object serde_json writes (whose keys are unique) has no duplicate; the same object
        /// with one of its keys written twice has exactly that one.
        #[test]
        fn finds_exactly_the_repeated_key(keys in proptest::collection::btree_set("[a-z]{1,6}", 1..8), pick in any::<prop::sample::Index>()) {
            let object: serde_json::Map<String, serde_json::Value> = keys.iter().map(|k| (k.clone(), serde_json::json!(1))).collect();
            let text = serde_json::to_string(&object).unwrap();
            prop_assert_eq!(first_duplicate_key(text.as_bytes()), None);
            let key = pick.get(&keys.iter().collect::<Vec<_>>()).to_string();
            let repeated = format!("{},\"{key}\":2}}", &text[..text.len() - 1]);
            prop_assert_eq!(first_duplicate_key(repeated.as_bytes()), Some(key));
        }
    }
}

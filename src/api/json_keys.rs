//! Duplicate keys in a JSON request body. serde_json keeps the last of two equal keys, so
//! `{"folderId": "a", "folderId": "b"}` would quietly mean folder b; proto3 JSON parsers (and so
//! the real REST gateways) refuse such a body, and netplane does the same, naming the key, on
//! Yandex REST and Huawei REST alike.

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

struct Walk<'a> {
    path: &'a mut Vec<String>,
    found: &'a mut Option<String>,
}

impl Walk<'_> {
    fn at(&mut self, segment: String) -> Walk<'_> {
        self.path.push(segment);
        Walk { path: self.path, found: self.found }
    }
}

fn joined(path: &[String], key: &str) -> String {
    let mut text = String::new();
    for segment in path.iter().map(String::as_str).chain(std::iter::once(key)) {
        if !text.is_empty() && !segment.starts_with('[') {
            text.push('.');
        }
        text.push_str(segment);
    }
    text
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if self.found.is_some() {
                map.next_value::<IgnoredAny>()?;
            } else if seen.contains(&key) {
                *self.found = Some(joined(self.path, &key));
                map.next_value::<IgnoredAny>()?;
            } else {
                map.next_value_seed(self.at(key.clone()))?;
                self.path.pop();
                seen.insert(key);
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        while seq.next_element_seed(self.at(format!("[{index}]")))?.is_some() {
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

//! Huawei resource tags: the key/value pairs private NAT gateways, transit subnets and transit IPs
//! (NAT tag API, `/v3/{project_id}/<kind>/{id}/tags…`) and VPCs and subnets (VPC v2.0 tag API,
//! `/v2.0/{project_id}/<kind>/{id}/tags…`) carry, and the filter that finds resources by them
//! (`resource_instances/action`). The two APIs bound keys, values and filters differently; each
//! resource names its API's `TagRules`.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::Error;

/// A resource tag.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl Tag {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Tag {
        Tag { key: key.into(), value: value.into() }
    }
}

/// A resource that carries tags under one API's rules.
pub trait Tagged {
    const TAG_RULES: TagRules;
    fn tags(&self) -> &[Tag];
    fn tags_mut(&mut self) -> &mut Vec<Tag>;
    /// What `resource_instances/action` reports as `resource_name` and matches names against.
    fn tag_name(&self) -> String;
}

/// `Tagged` for types with a `tags` field, under one API's rules: `tagged!(RULES: Type => |it| name, …)`.
macro_rules! tagged {
    ($rules:ident: $($type:ty => |$it:ident| $name:expr),* $(,)?) => {
        $(impl $crate::domain::huawei::tags::Tagged for $type {
            const TAG_RULES: $crate::domain::huawei::tags::TagRules = $rules;
            fn tags(&self) -> &[$crate::domain::huawei::tags::Tag] {
                &self.tags
            }
            fn tags_mut(&mut self) -> &mut Vec<$crate::domain::huawei::tags::Tag> {
                &mut self.tags
            }
            fn tag_name(&self) -> String {
                let $it = self;
                $name
            }
        })*
    };
}
pub(crate) use tagged;

/// One API's bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TagRules {
    /// Tags one resource may carry.
    pub per_resource: usize,
    pub max_key_chars: usize,
    pub max_value_chars: usize,
    /// Keys in one filter list, and values per key.
    pub filter_keys: usize,
    pub filter_values: usize,
}

/// Private NAT's: 20 tags, keys 1–128 characters, values up to 255; filters of 20 keys × 20 values.
pub const NAT_TAGS: TagRules = TagRules { per_resource: 20, max_key_chars: 128, max_value_chars: 255, filter_keys: 20, filter_values: 20 };

/// VPC v2.0's: keys 1–36 characters and values up to 43 (VPC.1801's own wording), 20 tags per
/// resource (netplane's choice: Huawei's sources say 10 for v1 and v3 create bodies and 20 per batch),
/// filters of 10 keys × 10 values.
pub const VPC_TAGS: TagRules = TagRules { per_resource: 20, max_key_chars: 36, max_value_chars: 43, filter_keys: 10, filter_values: 10 };

impl TagRules {
    /// One tag's key and value.
    pub fn check(&self, tag: &Tag) -> Result<(), Error> {
        let key_chars = tag.key.chars().count();
        if key_chars == 0 || key_chars > self.max_key_chars || tag.value.chars().count() > self.max_value_chars {
            return Err(Error::TagInvalid(format!(
                "tag {:?}={:?}: keys are 1 to {} characters and values at most {}",
                tag.key, tag.value, self.max_key_chars, self.max_value_chars
            )));
        }
        Ok(())
    }

    /// A set of tags given at create time: each valid, no key twice, within the count.
    pub fn check_set(&self, tags: &[Tag]) -> Result<(), Error> {
        self.check_batch(tags)?;
        if tags.len() > self.per_resource {
            return Err(Error::TooManyTags { limit: self.per_resource });
        }
        Ok(())
    }

    /// A batch body: each valid and no key twice.
    fn check_batch(&self, tags: &[Tag]) -> Result<(), Error> {
        let mut keys = BTreeSet::new();
        for tag in tags {
            self.check(tag)?;
            if !keys.insert(tag.key.as_str()) {
                return Err(Error::TagInvalid(format!("tag key {:?} is given twice", tag.key)));
            }
        }
        Ok(())
    }

    /// Adds one tag, replacing the value of a key the resource already has.
    pub fn add(&self, tags: &mut Vec<Tag>, tag: Tag) -> Result<(), Error> {
        self.check(&tag)?;
        self.merge(tags, vec![tag])
    }

    /// `{"action": "create"}`: adds every tag (keys given twice are refused), replacing existing values.
    pub fn batch_create(&self, tags: &mut Vec<Tag>, new: Vec<Tag>) -> Result<(), Error> {
        if new.is_empty() {
            return Err(Error::TagInvalid("tags must not be empty".into()));
        }
        self.check_batch(&new)?;
        self.merge(tags, new)
    }

    /// `{"action": "delete"}`: removes the tags with the given keys; keys the resource does not have
    /// are ignored, as are the values given (netplane's choice: the key names the tag).
    pub fn batch_delete(&self, tags: &mut Vec<Tag>, gone: &[Tag]) -> Result<(), Error> {
        if gone.is_empty() {
            return Err(Error::TagInvalid("tags must not be empty".into()));
        }
        if gone.iter().any(|t| t.key.is_empty()) {
            return Err(Error::TagInvalid("a tag key must not be empty".into()));
        }
        tags.retain(|t| !gone.iter().any(|g| g.key == t.key));
        Ok(())
    }

    /// Removes the tag with `key`; a key the resource does not have is `TagNotFound`.
    pub fn delete(&self, tags: &mut Vec<Tag>, key: &str) -> Result<(), Error> {
        let before = tags.len();
        tags.retain(|t| t.key != key);
        if tags.len() == before {
            return Err(Error::TagNotFound(key.to_string()));
        }
        Ok(())
    }

    fn merge(&self, tags: &mut Vec<Tag>, new: Vec<Tag>) -> Result<(), Error> {
        let mut next = tags.clone();
        for tag in new {
            match next.iter_mut().find(|t| t.key == tag.key) {
                Some(existing) => existing.value = tag.value,
                None => next.push(tag),
            }
        }
        if next.len() > self.per_resource {
            return Err(Error::TooManyTags { limit: self.per_resource });
        }
        *tags = next;
        Ok(())
    }
}

/// Tags VPC v1 create bodies may give inline.
pub const MAX_INLINE_TAGS: usize = 10;

/// VPC v1's inline tags: `"key*value"` strings, at most ten.
pub fn parse_inline(texts: &[String]) -> Result<Vec<Tag>, Error> {
    if texts.len() > MAX_INLINE_TAGS {
        return Err(Error::TooManyTags { limit: MAX_INLINE_TAGS });
    }
    let tags: Vec<Tag> = texts
        .iter()
        .map(|text| {
            text.split_once('*')
                .map(|(key, value)| Tag::new(key, value))
                .ok_or_else(|| Error::TagInvalid(format!("{text:?} is not of the form key*value")))
        })
        .collect::<Result<_, _>>()?;
    VPC_TAGS.check_set(&tags)?;
    Ok(tags)
}

/// Every key used by some resource of a project, with the values it has (`GET …/tags`).
pub fn project_tags<'a>(resources: impl IntoIterator<Item = &'a [Tag]>) -> Vec<(String, Vec<String>)> {
    let mut keys: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for tags in resources {
        for tag in tags {
            keys.entry(tag.key.clone()).or_default().insert(tag.value.clone());
        }
    }
    keys.into_iter().map(|(key, values)| (key, values.into_iter().collect())).collect()
}

/// A key and the values that match it (none: any value).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TagMatch {
    pub key: String,
    pub values: Vec<String>,
}

impl TagMatch {
    fn matches(&self, tags: &[Tag]) -> bool {
        tags.iter().any(|t| t.key == self.key && (self.values.is_empty() || self.values.contains(&t.value)))
    }
}

/// The filter of `resource_instances/action`: `tags` (every key must match; values of one key
/// are alternatives), `tags_any` (some key matches), `not_tags` and `not_tags_any` (their
/// negations), and a case-insensitive substring of the resource's name. No filter: everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TagFilter {
    pub tags: Vec<TagMatch>,
    pub tags_any: Vec<TagMatch>,
    pub not_tags: Vec<TagMatch>,
    pub not_tags_any: Vec<TagMatch>,
    pub name_contains: Option<String>,
}

impl TagFilter {
    /// Each list within the API's bounds, with no key or value twice.
    pub fn check(&self, rules: &TagRules) -> Result<(), Error> {
        for (field, list) in
            [("tags", &self.tags), ("tags_any", &self.tags_any), ("not_tags", &self.not_tags), ("not_tags_any", &self.not_tags_any)]
        {
            if list.len() > rules.filter_keys {
                return Err(Error::TagInvalid(format!("{field} takes at most {} keys", rules.filter_keys)));
            }
            let mut keys = BTreeSet::new();
            for m in list {
                if m.key.is_empty() || m.key.chars().count() > rules.max_key_chars {
                    return Err(Error::TagInvalid(format!("{field}: key {:?} must be 1 to {} characters", m.key, rules.max_key_chars)));
                }
                if !keys.insert(m.key.as_str()) {
                    return Err(Error::TagInvalid(format!("{field}: key {:?} is given twice", m.key)));
                }
                if m.values.len() > rules.filter_values {
                    return Err(Error::TagInvalid(format!("{field}: key {:?} takes at most {} values", m.key, rules.filter_values)));
                }
                if m.values.iter().collect::<BTreeSet<_>>().len() != m.values.len() {
                    return Err(Error::TagInvalid(format!("{field}: key {:?} has a value twice", m.key)));
                }
            }
        }
        Ok(())
    }

    pub fn matches(&self, tags: &[Tag], name: &str) -> bool {
        let all = |list: &[TagMatch]| list.iter().all(|m| m.matches(tags));
        let any = |list: &[TagMatch]| list.iter().any(|m| m.matches(tags));
        (self.tags.is_empty() || all(&self.tags))
            && (self.tags_any.is_empty() || any(&self.tags_any))
            && (self.not_tags.is_empty() || !all(&self.not_tags))
            && (self.not_tags_any.is_empty() || !any(&self.not_tags_any))
            && self.name_contains.as_deref().is_none_or(|part| part.is_empty() || name.to_lowercase().contains(&part.to_lowercase()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Vec<Tag> {
        pairs.iter().map(|(k, v)| Tag::new(*k, *v)).collect()
    }

    #[test]
    fn adding_overwrites_and_counts() {
        let mut on = tags(&[("a", "1")]);
        NAT_TAGS.add(&mut on, Tag::new("a", "2")).unwrap();
        assert_eq!(on, tags(&[("a", "2")]));
        let mut full: Vec<Tag> = (0..20).map(|i| Tag::new(format!("k{i}"), "")).collect();
        assert_eq!(NAT_TAGS.add(&mut full, Tag::new("k21", "")), Err(Error::TooManyTags { limit: 20 }));
        assert_eq!(full.len(), 20, "a refused add changes nothing");
        NAT_TAGS.add(&mut full, Tag::new("k0", "replaced")).unwrap();
    }

    #[test]
    fn key_and_value_bounds_differ_by_api() {
        let long_key = Tag::new("k".repeat(37), "");
        assert!(NAT_TAGS.check(&long_key).is_ok());
        assert!(matches!(VPC_TAGS.check(&long_key), Err(Error::TagInvalid(_))));
        assert!(matches!(VPC_TAGS.check(&Tag::new("k", "v".repeat(44))), Err(Error::TagInvalid(_))));
        assert!(NAT_TAGS.check(&Tag::new("k", "v".repeat(255))).is_ok());
        assert!(NAT_TAGS.check(&Tag::new("", "v")).is_err());
        assert!(NAT_TAGS.check(&Tag::new("a b/ç", "")).is_ok());
    }

    #[test]
    fn batches_refuse_repeated_keys_and_deletes_ignore_missing_ones() {
        let mut on = tags(&[("a", "1"), ("b", "2")]);
        assert!(matches!(NAT_TAGS.batch_create(&mut on, tags(&[("c", "1"), ("c", "2")])), Err(Error::TagInvalid(_))));
        NAT_TAGS.batch_create(&mut on, tags(&[("b", "3"), ("c", "4")])).unwrap();
        assert_eq!(on, tags(&[("a", "1"), ("b", "3"), ("c", "4")]));
        NAT_TAGS.batch_delete(&mut on, &tags(&[("a", "other value"), ("zz", "")])).unwrap();
        assert_eq!(on, tags(&[("b", "3"), ("c", "4")]));
        assert!(NAT_TAGS.batch_delete(&mut on, &tags(&[("", "")])).is_err());
        assert_eq!(NAT_TAGS.delete(&mut on, "nope"), Err(Error::TagNotFound("nope".into())));
        NAT_TAGS.delete(&mut on, "b").unwrap();
        assert_eq!(on, tags(&[("c", "4")]));
    }

    #[test]
    fn inline_tags_are_key_star_value() {
        let texts = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_inline(&texts(&["env*prod", "k*"])).unwrap(), tags(&[("env", "prod"), ("k", "")]));
        assert!(matches!(parse_inline(&texts(&["nostar"])), Err(Error::TagInvalid(_))));
        assert!(matches!(parse_inline(&texts(&["a*1", "a*2"])), Err(Error::TagInvalid(_))));
        let eleven: Vec<String> = (0..11).map(|i| format!("k{i}*v")).collect();
        assert_eq!(parse_inline(&eleven), Err(Error::TooManyTags { limit: MAX_INLINE_TAGS }));
    }

    #[test]
    fn project_tags_gather_each_keys_values() {
        let a = tags(&[("env", "prod"), ("team", "x")]);
        let b = tags(&[("env", "dev"), ("env2", "")]);
        assert_eq!(
            project_tags([a.as_slice(), b.as_slice()]),
            vec![
                ("env".to_string(), vec!["dev".to_string(), "prod".to_string()]),
                ("env2".to_string(), vec![String::new()]),
                ("team".to_string(), vec!["x".to_string()])
            ]
        );
    }

    #[test]
    fn filters_combine_as_documented() {
        let m = |key: &str, values: &[&str]| TagMatch { key: key.into(), values: values.iter().map(|v| v.to_string()).collect() };
        let on = tags(&[("env", "prod"), ("team", "x")]);
        let all = TagFilter { tags: vec![m("env", &["dev", "prod"]), m("team", &[])], ..Default::default() };
        assert!(all.matches(&on, "gw"));
        let missing = TagFilter { tags: vec![m("env", &["prod"]), m("owner", &[])], ..Default::default() };
        assert!(!missing.matches(&on, "gw"));
        let any = TagFilter { tags_any: vec![m("owner", &[]), m("team", &["x"])], ..Default::default() };
        assert!(any.matches(&on, "gw"));
        let not = TagFilter { not_tags: vec![m("env", &["prod"])], ..Default::default() };
        assert!(!not.matches(&on, "gw"));
        let not_any = TagFilter { not_tags_any: vec![m("owner", &[])], ..Default::default() };
        assert!(not_any.matches(&on, "gw"));
        let named = TagFilter { name_contains: Some("GW-".into()), ..Default::default() };
        assert!(named.matches(&on, "my-gw-1"));
        assert!(!named.matches(&on, "other"));
        assert!(TagFilter::default().matches(&[], ""));
        let twice = TagFilter { tags: vec![m("a", &[]), m("a", &[])], ..Default::default() };
        assert!(twice.check(&NAT_TAGS).is_err());
        let many = TagFilter { tags: (0..11).map(|i| m(&format!("k{i}"), &[])).collect(), ..Default::default() };
        assert!(many.check(&NAT_TAGS).is_ok());
        assert!(many.check(&VPC_TAGS).is_err());
    }
}

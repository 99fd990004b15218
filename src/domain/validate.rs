//! Field rules of the contract (`yandex.cloud` validation options) as pure functions that collect
//! `FieldViolation`s, so one request reports every bad field at once.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::error::{Error, FieldViolation};

/// Collects violations while a request is checked; `finish` turns them into one error.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

fn anchored(pattern: &str) -> Regex {
    // The contract's patterns must match the whole value. They are constants, so a failure to
    // compile is a programming error caught by the unit tests below.
    Regex::new(&format!("^(?:{pattern})$")).unwrap_or_else(|e| panic!("bad pattern {pattern}: {e}"))
}

/// Compute resource names: lowercase, 1–63 characters, or empty.
pub static COMPUTE_NAME: LazyLock<Regex> = LazyLock::new(|| anchored("|[a-z]([-_a-z0-9]{0,61}[a-z0-9])?"));
/// VPC resource names: letters of either case, 1–63 characters, or empty.
pub static VPC_NAME: LazyLock<Regex> = LazyLock::new(|| anchored("|[a-zA-Z]([-_a-zA-Z0-9]{0,61}[a-zA-Z0-9])?"));
/// VPC gateway names: stricter than other VPC names (lowercase only).
pub static GATEWAY_NAME: LazyLock<Regex> = LazyLock::new(|| anchored("|[a-z]([-a-z0-9]{0,61}[a-z0-9])?"));
/// Image families.
pub static IMAGE_FAMILY: LazyLock<Regex> = LazyLock::new(|| anchored("|[a-z][-a-z0-9]{1,61}[a-z0-9]"));
pub static COMPUTE_LABEL_VALUE: LazyLock<Regex> = LazyLock::new(|| anchored(r"[-_./\\@0-9a-z]*"));
pub static COMPUTE_LABEL_KEY: LazyLock<Regex> = LazyLock::new(|| anchored(r"[a-z][-_./\\@0-9a-z]*"));
pub static VPC_LABEL_VALUE: LazyLock<Regex> = LazyLock::new(|| anchored("[-_0-9a-z]*"));
pub static VPC_LABEL_KEY: LazyLock<Regex> = LazyLock::new(|| anchored("[a-z][-_0-9a-z]*"));

/// Which label alphabet a service uses.
#[derive(Clone, Copy, Debug)]
pub enum LabelRules {
    Compute,
    Vpc,
}

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    pub fn required(&mut self, field: &str, value: &str) {
        if value.is_empty() {
            self.add(field, "required field is empty");
        }
    }

    pub fn max_len(&mut self, field: &str, value: &str, max: usize) {
        if value.chars().count() > max {
            self.add(field, format!("must be at most {max} characters long"));
        }
    }

    /// A required id: non-empty and at most 50 characters, as every `*_id` of the contract.
    pub fn id(&mut self, field: &str, value: &str) {
        self.required(field, value);
        self.max_len(field, value, 50);
    }

    pub fn pattern(&mut self, field: &str, value: &str, re: &Regex) {
        if !re.is_match(value) {
            self.add(field, format!("value \"{}\" does not match the pattern {}", crate::error::echo(value), pattern_text(re)));
        }
    }

    pub fn description(&mut self, field: &str, value: &str) {
        self.max_len(field, value, 256);
    }

    pub fn labels(&mut self, field: &str, labels: &HashMap<String, String>, rules: LabelRules) {
        let (key_re, value_re) = match rules {
            LabelRules::Compute => (&*COMPUTE_LABEL_KEY, &*COMPUTE_LABEL_VALUE),
            LabelRules::Vpc => (&*VPC_LABEL_KEY, &*VPC_LABEL_VALUE),
        };
        if labels.len() > 64 {
            self.add(field, "at most 64 labels are allowed");
        }
        let mut keys: Vec<_> = labels.keys().collect();
        keys.sort();
        for key in keys {
            let value = &labels[key];
            if key.is_empty() || key.chars().count() > 63 || !key_re.is_match(key) {
                self.add(format!("{field}[{key}]"), format!("label key must match {} and be 1-63 characters long", pattern_text(key_re)));
            }
            if value.chars().count() > 63 || !value_re.is_match(value) {
                self.add(
                    format!("{field}[{key}]"),
                    format!("label value must match {} and be at most 63 characters long", pattern_text(value_re)),
                );
            }
        }
    }

    /// `page_size` 0–1000 and a `page_token` of at most 100 characters.
    pub fn page(&mut self, page_size: i64, page_token: &str) {
        if !(0..=1000).contains(&page_size) {
            self.add("page_size", "must be between 0 and 1000");
        }
        self.max_len("page_token", page_token, 100);
    }

    pub fn zone(&mut self, field: &str, zone_id: &str) {
        self.required(field, zone_id);
        if !zone_id.is_empty() && !super::zone::is_known(zone_id) {
            self.add(field, format!("unknown zone \"{zone_id}\"; known zones: {}", super::zone::ZONES.join(", ")));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn finish(self) -> Result<(), Error> {
        if self.0.is_empty() { Ok(()) } else { Err(Error::InvalidArgument(self.0)) }
    }
}

fn pattern_text(re: &Regex) -> String {
    let s = re.as_str();
    s.strip_prefix("^(?:").and_then(|s| s.strip_suffix(")$")).unwrap_or(s).to_string()
}

/// The default page size when a request sends 0.
pub const DEFAULT_PAGE_SIZE: usize = 100;

pub fn page_size(requested: i64) -> usize {
    if requested <= 0 { DEFAULT_PAGE_SIZE } else { requested as usize }
}

/// A snake_case field name (or dotted path) in lowerCamelCase, the JSON form: each `_` dropped
/// and the character after it upper-cased.
pub fn to_lower_camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A lowerCamelCase field name (the JSON form) in the contract's snake_case; other characters,
/// dots between path segments included, are kept.
pub fn to_snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_turn_between_snake_and_lower_camel_case() {
        assert_eq!(to_lower_camel_case("resources_spec.core_fraction"), "resourcesSpec.coreFraction");
        assert_eq!(to_snake_case("resourcesSpec.coreFraction"), "resources_spec.core_fraction");
        assert_eq!(to_snake_case(&to_lower_camel_case("v4_cidr_blocks")), "v4_cidr_blocks");
    }

    #[test]
    fn compute_names() {
        for ok in ["", "a", "web-1", "a_b-c9", &format!("a{}", "b".repeat(62))] {
            assert!(COMPUTE_NAME.is_match(ok), "{ok}");
        }
        for bad in ["A", "1abc", "web-", "web_", "we b", &format!("a{}", "b".repeat(63))] {
            assert!(!COMPUTE_NAME.is_match(bad), "{bad}");
        }
    }

    #[test]
    fn vpc_names_allow_upper_case() {
        assert!(VPC_NAME.is_match("Net-1"));
        assert!(!VPC_NAME.is_match("-net"));
    }

    #[test]
    fn labels_report_each_bad_key_and_value() {
        let mut v = Violations::new();
        let labels = HashMap::from([
            ("env".to_string(), "prod".to_string()),
            ("Bad".to_string(), "x".to_string()),
            ("ok".to_string(), "UPPER".to_string()),
        ]);
        v.labels("labels", &labels, LabelRules::Compute);
        let err = v.finish().unwrap_err();
        let fields: Vec<_> = err.violations().iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["labels[Bad]", "labels[ok]"]);
    }

    #[test]
    fn too_many_labels() {
        let mut v = Violations::new();
        let labels = (0..65).map(|i| (format!("k{i}"), String::new())).collect();
        v.labels("labels", &labels, LabelRules::Vpc);
        assert!(!v.is_empty());
    }

    #[test]
    fn zones_and_pages() {
        let mut v = Violations::new();
        v.zone("zone_id", "ru-central1-a");
        v.page(1000, "");
        assert!(v.is_empty());
        v.zone("zone_id", "ru-central1-c");
        v.page(1001, &"x".repeat(101));
        assert_eq!(v.0.len(), 3);
        assert_eq!(page_size(0), 100);
        assert_eq!(page_size(7), 7);
    }

    #[test]
    fn required_and_lengths() {
        let mut v = Violations::new();
        v.id("folder_id", "");
        v.description("description", &"x".repeat(257));
        let err = v.finish().unwrap_err();
        assert_eq!(err.violations().len(), 2);
    }

    #[test]
    fn gateway_names_and_image_families() {
        assert!(GATEWAY_NAME.is_match("egress-1") && GATEWAY_NAME.is_match(""));
        assert!(!GATEWAY_NAME.is_match("Egress") && !GATEWAY_NAME.is_match("egress_1"));
        assert!(IMAGE_FAMILY.is_match("ubuntu-2204-lts") && IMAGE_FAMILY.is_match(""));
        assert!(!IMAGE_FAMILY.is_match("ab") && !IMAGE_FAMILY.is_match("Ubuntu") && !IMAGE_FAMILY.is_match("ubuntu-"));
    }
}

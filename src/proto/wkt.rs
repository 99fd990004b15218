//! The well-known types our messages hold (`Timestamp`, `Duration`, `Any`, `FieldMask`): the wire
//! form of `prost_types`' own, plus their canonical proto3 JSON form, which prost_types lacks and
//! the generated serde code (pbjson) needs. build.rs points the generated code here. `Any`'s JSON
//! form writes the message it packs through the table of messages, so it lives with that table
//! (`proto::json`).

use std::str::FromStr;

use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::validate::{to_lower_camel_case, to_snake_case};

/// `google.protobuf.Timestamp`, in JSON an RFC 3339 UTC time (`2024-05-01T10:00:00.500Z`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, ::prost::Message)]
pub struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// `google.protobuf.Duration`, in JSON seconds with a suffix (`1.5s`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, ::prost::Message)]
pub struct Duration {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// `google.protobuf.FieldMask`, in JSON its paths in lowerCamelCase joined by commas.
#[derive(Clone, PartialEq, Eq, Hash, ::prost::Message)]
pub struct FieldMask {
    #[prost(string, repeated, tag = "1")]
    pub paths: Vec<String>,
}

/// `google.protobuf.Any`, in JSON the packed message's own fields plus `@type` (or, for a
/// well-known type, its JSON form under `value`).
#[derive(Clone, PartialEq, Eq, Hash, ::prost::Message)]
pub struct Any {
    #[prost(string, tag = "1")]
    pub type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// The seconds from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z, the mapping's range (written).
const TIMESTAMP_SECONDS: std::ops::RangeInclusive<i64> = -62_135_596_800..=253_402_300_799;

/// About 10,000 years, the mapping's bound on a duration.
const MAX_DURATION_SECONDS: u64 = 315_576_000_000;

impl From<Timestamp> for prost_types::Timestamp {
    fn from(t: Timestamp) -> Self {
        prost_types::Timestamp { seconds: t.seconds, nanos: t.nanos }
    }
}

impl From<Duration> for prost_types::Duration {
    fn from(d: Duration) -> Self {
        prost_types::Duration { seconds: d.seconds, nanos: d.nanos }
    }
}

// The text forms are prost_types' (the same as prost-reflect's dynamic JSON, which REST fell back
// on): 0, 3, 6 or 9 fractional digits, `Z` for UTC.
impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut t = prost_types::Timestamp::from(*self);
        t.normalize();
        // RFC 3339 reaches from year 1 to 9999; past that prost_types would print a year the
        // mapping forbids.
        if !TIMESTAMP_SECONDS.contains(&t.seconds) {
            return Err(S::Error::custom(format!("timestamp {}s is outside years 1 to 9999", t.seconds)));
        }
        // From 1970 on (every time netplane writes), humantime puts the digits into a buffer one
        // by one: prost_types formats each field through `write!`, about 2,000 instructions a
        // timestamp, 5% of a REST answer's. Both write 0, 3, 6 or 9 fractional digits (unit test).
        if let Ok(seconds) = u64::try_from(t.seconds) {
            let nanos = t.nanos.unsigned_abs();
            let time = std::time::UNIX_EPOCH + std::time::Duration::new(seconds, nanos);
            let text = match nanos {
                0 => humantime::format_rfc3339_seconds(time),
                n if n % 1_000_000 == 0 => humantime::format_rfc3339_millis(time),
                n if n % 1_000 == 0 => humantime::format_rfc3339_micros(time),
                _ => humantime::format_rfc3339_nanos(time),
            };
            return serializer.collect_str(&text);
        }
        serializer.collect_str(&t)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        // Strict RFC 3339 in UTC (`Z`), from 1970 on: narrower than the mapping (which takes
        // offsets and earlier years), so that this never takes what the descriptors refuse; REST
        // reads anything else through them.
        let time = humantime::parse_rfc3339(&text).map_err(|e| D::Error::custom(format!("timestamp {text:?}: {e}")))?;
        let since_epoch = time.duration_since(std::time::UNIX_EPOCH).map_err(|e| D::Error::custom(format!("timestamp {text:?}: {e}")))?;
        let seconds = i64::try_from(since_epoch.as_secs()).map_err(|_| D::Error::custom("timestamp out of range"))?;
        Ok(Timestamp { seconds, nanos: since_epoch.subsec_nanos() as i32 })
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut d = prost_types::Duration::from(*self);
        d.normalize();
        serializer.collect_str(&d)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let d = prost_types::Duration::from_str(&text).map_err(|e| D::Error::custom(format!("duration {text:?}: {e}")))?;
        if d.seconds.unsigned_abs() > MAX_DURATION_SECONDS {
            return Err(D::Error::custom("duration out of range"));
        }
        Ok(Duration { seconds: d.seconds, nanos: d.nanos })
    }
}

impl Serialize for FieldMask {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let paths: Vec<String> = self.paths.iter().map(|p| to_lower_camel_case(p)).collect();
        serializer.serialize_str(&paths.join(","))
    }
}

impl<'de> Deserialize<'de> for FieldMask {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        // JSON paths are lowerCamelCase; one with `_` would not come back the same.
        if text.contains('_') {
            return Err(D::Error::custom("invalid field mask"));
        }
        let paths = text.split(',').filter(|p| !p.is_empty()).map(to_snake_case).collect();
        Ok(FieldMask { paths })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_durations_read_back_what_they_write() {
        assert!(serde_json::from_value::<Timestamp>("2024-01-01T00:00:00.90".into()).is_err());
        for (seconds, nanos, text) in [
            (0, 0, "1970-01-01T00:00:00Z"),
            (1_700_000_000, 5, "2023-11-14T22:13:20.000000005Z"),
            (1_700_000_000, 500_000_000, "2023-11-14T22:13:20.500Z"),
        ] {
            let t = Timestamp { seconds, nanos };
            assert_eq!(serde_json::to_value(t).unwrap(), text);
            assert_eq!(serde_json::from_value::<Timestamp>(text.into()).unwrap(), t);
        }
        let d = Duration { seconds: 1, nanos: 500_000_000 };
        assert_eq!(serde_json::to_value(d).unwrap(), "1.500s");
        assert_eq!(serde_json::from_value::<Duration>("1.500s".into()).unwrap(), d);
        assert!(serde_json::to_value(Timestamp { seconds: i64::MAX, nanos: 0 }).is_err());
    }

    /// The text is prost_types' (and so prost-reflect's) for every time in the mapping's range:
    /// days across leap years and centuries, the range's ends, and each count of fractional digits.
    #[test]
    fn timestamps_are_written_as_prost_types_writes_them() {
        let mut seconds =
            vec![-62_135_596_800, -1, 0, 1, 59, 86_399, 86_400, 951_782_399, 951_782_400, 951_868_800, 4_107_542_400, 253_402_300_799];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2_000 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            seconds.push((state >> 1) as i64 % 253_402_300_800);
        }
        for &s in &seconds {
            for nanos in [0, 1, 7, 120_000_000, 500_000_000, 123_000, 123_456_789, 999_999_999] {
                let t = Timestamp { seconds: s, nanos };
                let expected = prost_types::Timestamp::from(t).to_string();
                assert_eq!(serde_json::to_value(t).unwrap(), expected, "{s}s {nanos}ns");
            }
        }
    }

    #[test]
    fn a_field_mask_is_lower_camel_paths_joined_by_commas() {
        let mask = FieldMask { paths: vec!["network_interface_specs".into(), "labels".into(), "resources_spec.core_fraction".into()] };
        assert_eq!(serde_json::to_value(&mask).unwrap(), "networkInterfaceSpecs,labels,resourcesSpec.coreFraction");
        assert_eq!(serde_json::from_value::<FieldMask>("networkInterfaceSpecs,labels,resourcesSpec.coreFraction".into()).unwrap(), mask);
        assert!(serde_json::from_value::<FieldMask>("network_interface_specs".into()).is_err());
    }
}

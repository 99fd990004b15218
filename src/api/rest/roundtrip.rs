//! Property tests of the JSON mapping: for random valid messages of every type in our contract,
//! proto → JSON → proto gives back the same message; the typed rendering (generated serde code)
//! writes the same JSON as the dynamic one (descriptors); and the typed reading takes no JSON the
//! descriptors refuse, reading what they read.

use proptest::prelude::*;
use prost::Message;
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, ReflectMessage, Value};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::de::DeserializeSeed;

use super::descriptor_pool;

const MAX_DEPTH: usize = 3;

/// Every message of the contract (map entries are generated through their map fields).
fn contract_messages() -> Vec<MessageDescriptor> {
    descriptor_pool().all_messages().filter(|m| m.package_name().starts_with("yandex.cloud") && !m.is_map_entry()).collect()
}

fn random_string(rng: &mut StdRng) -> String {
    const CHARS: &[char] = &['a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\u{7f}', 'é', 'ж', '中', '🦀', '\u{0}'];
    (0..rng.random_range(0..8)).map(|_| CHARS[rng.random_range(0..CHARS.len())]).collect()
}

/// A field-mask path that survives the snake_case → lowerCamelCase → snake_case trip.
fn random_mask_path(rng: &mut StdRng) -> String {
    let word = |rng: &mut StdRng| (0..rng.random_range(1..5)).map(|_| rng.random_range(b'a'..=b'z') as char).collect::<String>();
    let segments: Vec<String> =
        (0..rng.random_range(1..3)).map(|_| (0..rng.random_range(1..3)).map(|_| word(rng)).collect::<Vec<_>>().join("_")).collect();
    segments.join(".")
}

fn well_known(descriptor: &MessageDescriptor, rng: &mut StdRng, depth: usize) -> Option<DynamicMessage> {
    let mut message = DynamicMessage::new(descriptor.clone());
    match descriptor.full_name() {
        "google.protobuf.Timestamp" => {
            // The canonical range, 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
            message.set_field_by_name("seconds", Value::I64(rng.random_range(-62_135_596_800..=253_402_300_799)));
            message.set_field_by_name("nanos", Value::I32(rng.random_range(0..1_000_000_000)));
        }
        "google.protobuf.Duration" => {
            let seconds: i64 = rng.random_range(-315_576_000_000..=315_576_000_000);
            let nanos: i32 = rng.random_range(0..1_000_000_000);
            message.set_field_by_name("seconds", Value::I64(seconds));
            message.set_field_by_name("nanos", Value::I32(if seconds < 0 { -nanos } else { nanos }));
        }
        "google.protobuf.FieldMask" => {
            let paths = (0..rng.random_range(0..3)).map(|_| Value::String(random_mask_path(rng))).collect();
            message.set_field_by_name("paths", Value::List(paths));
        }
        "google.protobuf.Any" => {
            let messages = contract_messages();
            let inner = random_message(&messages[rng.random_range(0..messages.len())], rng, depth + 1);
            message.set_field_by_name("type_url", Value::String(format!("type.googleapis.com/{}", inner.descriptor().full_name())));
            message.set_field_by_name("value", Value::Bytes(inner.encode_to_vec().into()));
        }
        "google.protobuf.Empty" => {}
        name if name.ends_with("Value") && descriptor.get_field_by_name("value").is_some() => {
            let field = descriptor.get_field_by_name("value")?;
            message.set_field(&field, random_value(&field, rng, depth));
        }
        _ => return None,
    }
    Some(message)
}

fn random_message(descriptor: &MessageDescriptor, rng: &mut StdRng, depth: usize) -> DynamicMessage {
    if descriptor.package_name() == "google.protobuf"
        && let Some(message) = well_known(descriptor, rng, depth)
    {
        return message;
    }
    let mut message = DynamicMessage::new(descriptor.clone());
    if depth > MAX_DEPTH {
        return message;
    }
    for field in descriptor.fields() {
        if rng.random_bool(0.4) {
            continue;
        }
        if let Kind::Message(m) = field.kind()
            && m.package_name() == "google.protobuf"
            && well_known(&m, rng, depth).is_none()
        {
            continue;
        }
        let value = if field.is_map() {
            let Kind::Message(entry) = field.kind() else { continue };
            let (key_field, value_field) = (entry.map_entry_key_field(), entry.map_entry_value_field());
            let entries = (0..rng.random_range(0..3)).filter_map(|_| {
                let key = match random_value(&key_field, rng, depth) {
                    Value::String(s) => MapKey::String(s),
                    Value::I32(n) => MapKey::I32(n),
                    Value::I64(n) => MapKey::I64(n),
                    Value::U32(n) => MapKey::U32(n),
                    Value::U64(n) => MapKey::U64(n),
                    Value::Bool(b) => MapKey::Bool(b),
                    _ => return None,
                };
                Some((key, random_value(&value_field, rng, depth)))
            });
            Value::Map(entries.collect())
        } else if field.is_list() {
            Value::List((0..rng.random_range(0..3)).map(|_| random_value(&field, rng, depth)).collect())
        } else {
            random_value(&field, rng, depth)
        };
        // Setting a oneof member clears its siblings, so the message stays valid.
        message.set_field(&field, value);
    }
    message
}

fn random_value(field: &FieldDescriptor, rng: &mut StdRng, depth: usize) -> Value {
    match field.kind() {
        Kind::Double => Value::F64(rng.random_range(-1e12..1e12)),
        Kind::Float => Value::F32(rng.random_range(-1e6f32..1e6)),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(rng.random()),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(rng.random()),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(rng.random()),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(rng.random()),
        Kind::Bool => Value::Bool(rng.random()),
        Kind::String => Value::String(random_string(rng)),
        Kind::Bytes => Value::Bytes((0..rng.random_range(0..6)).map(|_| rng.random::<u8>()).collect::<Vec<u8>>().into()),
        Kind::Enum(e) => {
            let values: Vec<i32> = e.values().map(|v| v.number()).collect();
            Value::EnumNumber(values[rng.random_range(0..values.len())])
        }
        Kind::Message(m) => Value::Message(random_message(&m, rng, depth + 1)),
    }
}

/// Equality as the wire sees it: fields at their default count as unset, and `Any` compares by
/// the message it packs (its bytes may order map entries differently).
fn same(a: &DynamicMessage, b: &DynamicMessage) -> bool {
    let descriptor = a.descriptor();
    if descriptor != b.descriptor() {
        return false;
    }
    if descriptor.full_name() == "google.protobuf.Any" {
        let unpack = |m: &DynamicMessage| -> Option<DynamicMessage> {
            let url = m.get_field_by_name("type_url")?;
            let inner = descriptor_pool().get_message_by_name(url.as_str()?.strip_prefix("type.googleapis.com/")?)?;
            DynamicMessage::decode(inner, m.get_field_by_name("value")?.as_bytes()?.clone()).ok()
        };
        return match (unpack(a), unpack(b)) {
            (Some(x), Some(y)) => same(&x, &y),
            _ => a == b,
        };
    }
    descriptor.fields().all(|field| same_value(&a.get_field(&field), &b.get_field(&field)))
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Message(x), Value::Message(y)) => same(x, y),
        (Value::List(x), Value::List(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_value(x, y)),
        (Value::Map(x), Value::Map(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w))),
        _ => a == b,
    }
}

/// A value of every JSON shape, and strings that look like what fields take.
fn junk(rng: &mut StdRng) -> serde_json::Value {
    use serde_json::json;
    let choices = [
        json!(null),
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(1e20),
        json!(4_294_967_296u64),
        json!(-2_147_483_649i64),
        json!("1"),
        json!("-0"),
        json!("1.0"),
        json!(""),
        json!("abc"),
        json!("x_y"),
        json!("IPV4"),
        json!("2024-01-01T00:00:00Z"),
        json!("2024-01-01T00:00:00+03:00"),
        json!("1.5s"),
        json!("aGk="),
        json!([]),
        json!([1, "a"]),
        json!({}),
        json!({"a": 1}),
    ];
    choices[rng.random_range(0..choices.len())].clone()
}

/// One random change somewhere in `json`: a value replaced, a key renamed (to its snake_case
/// form or to an unknown name), or a key added.
fn mutate(json: &mut serde_json::Value, rng: &mut StdRng) {
    use serde_json::Value as Json;
    match json {
        Json::Object(fields) if !fields.is_empty() && rng.random_bool(0.6) => {
            let i = rng.random_range(0..fields.len());
            let key = fields.keys().nth(i).cloned().unwrap_or_default();
            match rng.random_range(0..5) {
                0 | 1 => {
                    if let Some(value) = fields.get_mut(&key) {
                        mutate(value, rng);
                    }
                }
                2 => {
                    fields.insert(key, junk(rng));
                }
                3 => {
                    let value = fields.remove(&key).unwrap_or_default();
                    fields.insert(crate::domain::validate::to_snake_case(&key), value);
                }
                _ => {
                    let value = fields.remove(&key).unwrap_or_default();
                    fields.insert(format!("{key}X_"), value);
                }
            }
        }
        Json::Object(fields) => {
            fields.insert(if rng.random_bool(0.5) { "unknownField".into() } else { "@type".into() }, junk(rng));
        }
        Json::Array(items) if !items.is_empty() => {
            let i = rng.random_range(0..items.len());
            if rng.random_bool(0.5) { mutate(&mut items[i], rng) } else { items[i] = junk(rng) }
        }
        Json::String(text) if rng.random_bool(0.6) => {
            // A near miss of a valid value: a mask path, a time, an enum name off by a little.
            let at = text.char_indices().map(|(i, _)| i).nth(rng.random_range(0..=text.chars().count())).unwrap_or(text.len());
            match rng.random_range(0..3) {
                0 => text.insert(at, '_'),
                1 => text.insert(at, 'Z'),
                _ => text.truncate(at),
            }
        }
        other => *other = junk(rng),
    }
}

fn holds_a_time_before_1970(json: &serde_json::Value) -> bool {
    use serde_json::Value as Json;
    match json {
        Json::String(text) => {
            text.len() > 10
                && text.as_bytes()[4] == b'-'
                && text.as_bytes()[10] == b'T'
                && text[..4].parse::<u32>().is_ok_and(|year| year < 1970)
        }
        Json::Array(items) => items.iter().any(holds_a_time_before_1970),
        Json::Object(fields) => fields.values().any(holds_a_time_before_1970),
        _ => false,
    }
}

/// Writes a random `M` as a REST answer both ways, from the message a handler hands over and
/// from its wire bytes, and fails unless the texts are the same (as JSON, and in length); gives the
/// number of ways that wrote it.
fn written_both_ways<M: prost::Message + std::fmt::Debug + Default + Clone + PartialEq + Send + Sync + 'static>(
    name: &str,
    rng: &mut StdRng,
) -> Result<usize, TestCaseError> {
    let descriptor = descriptor_pool().get_message_by_name(name).ok_or_else(|| TestCaseError::fail(format!("no {name}")))?;
    let bytes = random_message(&descriptor, rng, 0).encode_to_vec();
    let from_bytes = super::render::typed(name, &bytes).ok_or_else(|| TestCaseError::fail(format!("{name}: no rendering from bytes")))?;
    let message = M::decode(bytes.as_slice()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let answer = crate::api::answer::TypedAnswer::new(message.clone());
    let from_value =
        super::render::answer(name, &answer).ok_or_else(|| TestCaseError::fail(format!("{name}: no rendering from the value")))?;
    // The same text but for the order of map entries (each decoded map has its own order).
    let parse = |text: &[u8]| serde_json::from_slice::<serde_json::Value>(text).ok();
    prop_assert_eq!(parse(&from_value), parse(&from_bytes), "{}", name);
    prop_assert_eq!(from_value.len(), from_bytes.len(), "{}", name);
    // Its bytes, for the descriptors' rendering, hold the same message (maps in another order).
    prop_assert_eq!(M::decode(answer.encode().as_slice()).ok(), Some(message));
    Ok(2)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn json_round_trip_is_the_identity(seed in any::<u64>()) {
        let mut rng = StdRng::seed_from_u64(seed);
        for descriptor in contract_messages() {
            let original = random_message(&descriptor, &mut rng, 0);
            let json = super::json::render(&original).map_err(|e| TestCaseError::fail(format!("{}: {e}", descriptor.full_name())))?;
            let mut de = serde_json::Deserializer::from_slice(&json);
            let back = descriptor.clone().deserialize(&mut de)
                .map_err(|e| TestCaseError::fail(format!("{}: {e}\n{}", descriptor.full_name(), String::from_utf8_lossy(&json))))?;
            let again = super::json::render(&back).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(
                same(&back, &original),
                "{}\nsent: {}\nback: {}", descriptor.full_name(), String::from_utf8_lossy(&json), String::from_utf8_lossy(&again)
            );
        }
    }

    #[test]
    fn typed_json_is_the_dynamic_json(seed in any::<u64>()) {
        let mut rng = StdRng::seed_from_u64(seed);
        for descriptor in contract_messages() {
            let original = random_message(&descriptor, &mut rng, 0);
            let name = descriptor.full_name();
            let dynamic = super::json::render(&original).map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
            let typed = super::render::typed(name, &original.encode_to_vec())
                .ok_or_else(|| TestCaseError::fail(format!("{name} has no typed rendering\n{}", String::from_utf8_lossy(&dynamic))))?;
            // Key order may differ (declaration against field-number order); the objects may not.
            let parse = |bytes: &[u8]| serde_json::from_slice::<serde_json::Value>(bytes).unwrap();
            prop_assert_eq!(
                parse(&typed), parse(&dynamic),
                "{}\ntyped: {}\ndynamic: {}", name, String::from_utf8_lossy(&typed), String::from_utf8_lossy(&dynamic)
            );
        }
    }

    #[test]
    fn an_answer_handed_over_typed_is_written_as_its_bytes_are(seed in any::<u64>()) {
        use crate::proto::yandex::cloud::{compute::v1 as compute, operation::Operation, vpc::v1 as vpc};
        let mut rng = StdRng::seed_from_u64(seed);
        prop_assert_eq!(written_both_ways::<Operation>("yandex.cloud.operation.Operation", &mut rng)?, 2);
        prop_assert_eq!(written_both_ways::<compute::Instance>("yandex.cloud.compute.v1.Instance", &mut rng)?, 2);
        prop_assert_eq!(written_both_ways::<compute::ListInstancesResponse>("yandex.cloud.compute.v1.ListInstancesResponse", &mut rng)?, 2);
        prop_assert_eq!(written_both_ways::<vpc::Network>("yandex.cloud.vpc.v1.Network", &mut rng)?, 2);
    }

    #[test]
    fn typed_json_reads_only_what_the_descriptors_read(seed in any::<u64>()) {
        let mut rng = StdRng::seed_from_u64(seed);
        for descriptor in contract_messages() {
            let name = descriptor.full_name();
            let original = random_message(&descriptor, &mut rng, 0);
            let mut json: serde_json::Value = serde_json::from_slice(&super::json::render(&original).unwrap()).unwrap();
            let unchanged = json.clone();
            for _ in 0..rng.random_range(0..4) {
                mutate(&mut json, &mut rng);
            }
            let typed = crate::proto::json::encode_from_json(name, &json);
            let dynamic = super::json::decode(&descriptor, json.clone());
            if let Some(bytes) = &typed {
                let read = DynamicMessage::decode(descriptor.clone(), bytes.as_slice()).unwrap();
                match &dynamic {
                    Ok(expected) => prop_assert!(same(&read, expected), "{name} read differently from {json}"),
                    Err(e) => prop_assert!(false, "{name}: the typed mapping took what the descriptors refuse ({e}): {json}"),
                }
            }
            // What the mapping itself wrote, the typed mapping reads, unless it holds an `Any`
            // (which only the descriptors resolve) or a time before 1970 (which the typed
            // `Timestamp` leaves to them).
            if json == unchanged && !unchanged.to_string().contains("\"@type\"") && !holds_a_time_before_1970(&unchanged) {
                prop_assert!(typed.is_some(), "{name}: the typed mapping refused its own JSON {json}");
            }
        }
    }
}

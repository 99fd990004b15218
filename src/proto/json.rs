//! The typed side of the canonical proto3 JSON mapping: every generated message (build.rs lists
//! them) decoded by its full name into a value that serializes itself, so that an `Any`, or a REST
//! answer known only by its descriptor, is written without walking descriptors; `Flatten`, which
//! writes a message's fields into an enclosing JSON object (an `Any` beside its `@type`); and
//! `Any`'s own JSON form, which dispatches through this table.

use std::sync::LazyLock;

use serde::de::DeserializeOwned;
use serde::ser::{self, Impossible, Serialize, SerializeMap};
use serde_json::ser::PrettyFormatter;

use super::wkt::Any;

/// A message decoded from its wire bytes, ready to write itself as JSON.
pub type Decoded = Box<dyn erased_serde::Serialize + Send + Sync>;

/// The one serializer REST writes answers with, by the formatter it continues with.
type Pretty = PrettyFormatter<'static>;

/// What the typed mapping can do with one message.
#[derive(Clone, Copy)]
struct Typed {
    decode: fn(&[u8]) -> Result<Decoded, prost::DecodeError>,
    from_json: fn(&serde_json::Value) -> Result<Vec<u8>, serde_json::Error>,
    write: fn(&[u8], &mut Vec<u8>, Pretty) -> Result<(), String>,
    write_value: fn(&dyn std::any::Any, &mut Vec<u8>, Pretty) -> Result<(), String>,
    write_in_any: fn(&[u8], &str, &mut Vec<u8>, Pretty) -> Result<(), String>,
    write_value_in_any: fn(&dyn std::any::Any, &str, &mut Vec<u8>, Pretty) -> Result<(), String>,
}

fn written<M: prost::Message + Default + Serialize>(bytes: &[u8], text: &mut Vec<u8>, formatter: Pretty) -> Result<(), String> {
    let message = M::decode(bytes).map_err(|e| e.to_string())?;
    message.serialize(&mut serde_json::Serializer::with_formatter(text, formatter)).map_err(|e| e.to_string())
}

fn written_value<M: Serialize + 'static>(message: &dyn std::any::Any, text: &mut Vec<u8>, formatter: Pretty) -> Result<(), String> {
    let message = message.downcast_ref::<M>().ok_or_else(|| format!("not a {}", std::any::type_name::<M>()))?;
    message.serialize(&mut serde_json::Serializer::with_formatter(text, formatter)).map_err(|e| e.to_string())
}

fn written_in_any<M: prost::Message + Default + Serialize>(
    bytes: &[u8],
    type_url: &str,
    text: &mut Vec<u8>,
    formatter: Pretty,
) -> Result<(), String> {
    let message = M::decode(bytes).map_err(|e| e.to_string())?;
    in_any(&message, type_url, text, formatter)
}

fn written_value_in_any<M: Serialize + 'static>(
    message: &dyn std::any::Any,
    type_url: &str,
    text: &mut Vec<u8>,
    formatter: Pretty,
) -> Result<(), String> {
    let message = message.downcast_ref::<M>().ok_or_else(|| format!("not a {}", std::any::type_name::<M>()))?;
    in_any(message, type_url, text, formatter)
}

/// `message` as the JSON of the `Any` that packs it: its fields beside `@type`.
fn in_any<M: Serialize>(message: &M, type_url: &str, text: &mut Vec<u8>, formatter: Pretty) -> Result<(), String> {
    let mut serializer = serde_json::Serializer::with_formatter(text, formatter);
    let mut map = ser::Serializer::serialize_map(&mut serializer, None).map_err(|e| e.to_string())?;
    map.serialize_entry("@type", type_url).map_err(|e| e.to_string())?;
    message.serialize(Flatten::into(&mut map)).map_err(|e| e.to_string())?;
    map.end().map_err(|e| e.to_string())
}

fn decoded<M: prost::Message + Default + Serialize + Send + Sync + 'static>(bytes: &[u8]) -> Result<Decoded, prost::DecodeError> {
    Ok(Box::new(M::decode(bytes)?))
}

fn encoded_from_json<M: prost::Message + DeserializeOwned>(json: &serde_json::Value) -> Result<Vec<u8>, serde_json::Error> {
    Ok(M::deserialize(json)?.encode_to_vec())
}

/// Every message of the `yandex.*` and `google.rpc` packages, by full name.
static MESSAGES: &[(&str, Typed)] = include!(concat!(env!("OUT_DIR"), "/json_messages.rs"));

/// Looked up for every REST request and answer, and for every `Any` in one: hashed with foldhash.
static TYPED: LazyLock<foldhash::HashMap<&'static str, Typed>> = LazyLock::new(|| MESSAGES.iter().copied().collect());

/// Decodes `bytes` as the message `full_name`.
pub fn decode(full_name: &str, bytes: &[u8]) -> Result<Decoded, String> {
    let typed = TYPED.get(full_name).ok_or_else(|| format!("no typed JSON mapping for {full_name}"))?;
    (typed.decode)(bytes).map_err(|e| format!("decoding {full_name}: {e}"))
}

/// Writes the message `full_name` in `bytes` as JSON through `formatter` (at its depth).
pub fn write(full_name: &str, bytes: &[u8], text: &mut Vec<u8>, formatter: PrettyFormatter<'static>) -> Result<(), String> {
    let typed = TYPED.get(full_name).ok_or_else(|| format!("no typed JSON mapping for {full_name}"))?;
    (typed.write)(bytes, text, formatter).map_err(|e| format!("writing {full_name}: {e}"))
}

/// Writes `message`, which must be the message `full_name`, as JSON through `formatter`.
pub fn write_value(
    full_name: &str,
    message: &dyn std::any::Any,
    text: &mut Vec<u8>,
    formatter: PrettyFormatter<'static>,
) -> Result<(), String> {
    let typed = TYPED.get(full_name).ok_or_else(|| format!("no typed JSON mapping for {full_name}"))?;
    (typed.write_value)(message, text, formatter).map_err(|e| format!("writing {full_name}: {e}"))
}

/// Writes the message packed in `any` as the JSON of the `Any`: its fields beside `@type` (a
/// well-known type's JSON under `value`; `Empty`'s is `{}`).
pub fn write_in_any(any: &Any, text: &mut Vec<u8>, formatter: PrettyFormatter<'static>) -> Result<(), String> {
    let name = type_url_name(&any.type_url)?;
    if name == "google.protobuf.Empty" {
        // `Any`'s own `Serialize` writes it, with nothing to decode or dispatch.
        return any.serialize(&mut serde_json::Serializer::with_formatter(text, formatter)).map_err(|e| e.to_string());
    }
    let typed = TYPED.get(name).ok_or_else(|| format!("no typed JSON mapping for {name}"))?;
    (typed.write_in_any)(&any.value, &any.type_url, text, formatter).map_err(|e| format!("writing {name}: {e}"))
}

/// Writes `message`, which must be the message `full_name` (not a well-known type), as the JSON of
/// the `Any` with `type_url` that packs it: what `write_in_any` writes from the `Any`'s bytes.
pub fn write_value_in_any(
    full_name: &str,
    message: &dyn std::any::Any,
    type_url: &str,
    text: &mut Vec<u8>,
    formatter: PrettyFormatter<'static>,
) -> Result<(), String> {
    let typed = TYPED.get(full_name).ok_or_else(|| format!("no typed JSON mapping for {full_name}"))?;
    (typed.write_value_in_any)(message, type_url, text, formatter).map_err(|e| format!("writing {full_name}: {e}"))
}

/// The wire bytes of the message `full_name` read from its JSON; `None` when the typed mapping
/// does not know the message or refuses the JSON (the caller then asks the descriptors, whose
/// errors name the field).
pub fn encode_from_json(full_name: &str, json: &serde_json::Value) -> Option<Vec<u8>> {
    (TYPED.get(full_name)?.from_json)(json).ok()
}

/// The message name of a type URL (`type.googleapis.com/yandex.cloud.vpc.v1.Network`).
pub fn type_url_name(type_url: &str) -> Result<&str, String> {
    match type_url.rsplit_once('/') {
        Some((_, name)) if !name.is_empty() => Ok(name),
        _ => Err(format!("type URL {type_url:?} names no message")),
    }
}

/// A serializer that takes a message and writes its fields as entries of `map`, the object it is
/// embedded in. It can also write a `false` field the mapping would leave out (an `Operation`'s
/// `done`, which the API reference always shows) after the message's own fields.
pub struct Flatten<'a, M> {
    map: &'a mut M,
    absent_false: Option<&'static str>,
    left_out: &'static [&'static str],
}

impl<'a, M: SerializeMap> Flatten<'a, M> {
    pub fn into(map: &'a mut M) -> Self {
        Flatten { map, absent_false: None, left_out: &[] }
    }

    /// Leaves the fields `keys` out (their caller writes them its own way).
    pub fn leaving_out(mut self, keys: &'static [&'static str]) -> Self {
        self.left_out = keys;
        self
    }

    /// Writes `key: false` after the message's fields unless the message writes `key` itself.
    pub fn writing_false(mut self, key: &'static str) -> Self {
        self.absent_false = Some(key);
        self
    }

    fn before(&mut self, key: &str) {
        if self.absent_false == Some(key) {
            self.absent_false = None;
        }
    }

    fn finish(mut self) -> Result<(), M::Error> {
        if let Some(absent) = self.absent_false.take() {
            self.map.serialize_entry(absent, &false)?;
        }
        Ok(())
    }
}

fn not_a_message<E: ser::Error>(what: &str) -> E {
    E::custom(format!("only a message's fields can be written into an enclosing object, not {what}"))
}

impl<'a, M: SerializeMap> ser::SerializeStruct for Flatten<'a, M> {
    type Ok = ();
    type Error = M::Error;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<(), M::Error> {
        if self.left_out.contains(&key) {
            return Ok(());
        }
        self.before(key);
        self.map.serialize_entry(key, value)
    }

    fn end(self) -> Result<(), M::Error> {
        self.finish()
    }
}

impl<'a, M: SerializeMap> ser::SerializeMap for Flatten<'a, M> {
    type Ok = ();
    type Error = M::Error;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), M::Error> {
        self.map.serialize_key(key)
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), M::Error> {
        self.map.serialize_value(value)
    }

    fn end(self) -> Result<(), M::Error> {
        self.finish()
    }
}

impl<'a, M: SerializeMap> ser::Serializer for Flatten<'a, M> {
    type Ok = ();
    type Error = M::Error;
    type SerializeSeq = Impossible<(), M::Error>;
    type SerializeTuple = Impossible<(), M::Error>;
    type SerializeTupleStruct = Impossible<(), M::Error>;
    type SerializeTupleVariant = Impossible<(), M::Error>;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), M::Error>;

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self, M::Error> {
        Ok(self)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self, M::Error> {
        Ok(self)
    }

    fn serialize_bool(self, _: bool) -> Result<(), M::Error> {
        Err(not_a_message("a bool"))
    }
    fn serialize_i8(self, _: i8) -> Result<(), M::Error> {
        Err(not_a_message("a number"))
    }
    fn serialize_i16(self, _: i16) -> Result<(), M::Error> {
        Err(not_a_message("a number"))
    }
    fn serialize_i32(self, _: i32) -> Result<(), M::Error> {
        Err(not_a_message("a number"))
    }
    fn serialize_i64(self, _: i64) -> Result<(), M::Error> {
        Err(not_a_message("a number"))
    }
    fn serialize_u8(self, _: u8) -> Result<(), M::Error> {
        Err(not_a_message("a number"))
    }
    fn serialize_u16(self, _: u16) -> Result<(), M::Error> {
        Err(not_a_message("a number"))
    }
    fn serialize_u32(self, _: u32) -> Result<(), M::Error> {
        Err(not_a_message("a number"))
    }
    fn serialize_u64(self, _: u64) -> Result<(), M::Error> {
        Err(not_a_message("a number"))
    }
    fn serialize_f32(self, _: f32) -> Result<(), M::Error> {
        Err(not_a_message("a number"))
    }
    fn serialize_f64(self, _: f64) -> Result<(), M::Error> {
        Err(not_a_message("a number"))
    }
    fn serialize_char(self, _: char) -> Result<(), M::Error> {
        Err(not_a_message("a string"))
    }
    fn serialize_str(self, _: &str) -> Result<(), M::Error> {
        Err(not_a_message("a string"))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), M::Error> {
        Err(not_a_message("bytes"))
    }
    fn serialize_none(self) -> Result<(), M::Error> {
        Err(not_a_message("null"))
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), M::Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), M::Error> {
        Err(not_a_message("null"))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), M::Error> {
        Err(not_a_message("null"))
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), M::Error> {
        Err(not_a_message("an enum"))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, value: &T) -> Result<(), M::Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(self, _: &'static str, _: u32, _: &'static str, _: &T) -> Result<(), M::Error> {
        Err(not_a_message("an enum"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, M::Error> {
        Err(not_a_message("a list"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, M::Error> {
        Err(not_a_message("a list"))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, M::Error> {
        Err(not_a_message("a list"))
    }
    fn serialize_tuple_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self::SerializeTupleVariant, M::Error> {
        Err(not_a_message("an enum"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, M::Error> {
        Err(not_a_message("an enum"))
    }
}

/// `Any`'s canonical JSON: `@type`, then the packed message's own fields (a well-known type's JSON
/// under `value`).
impl Serialize for Any {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let name = type_url_name(&self.type_url).map_err(<S::Error as ser::Error>::custom)?;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("@type", &self.type_url)?;
        if name == "google.protobuf.Empty" {
            // A well-known type sits under `value`; `Empty`'s JSON form is `{}`.
            map.serialize_entry("value", &serde_json::Map::new())?;
        } else {
            let message = decode(name, &self.value).map_err(<S::Error as ser::Error>::custom)?;
            erased_serde::serialize(&*message, Flatten::into(&mut map))?;
        }
        map.end()
    }
}

impl<'de> serde::Deserialize<'de> for Any {
    /// Refused, so that a REST request holding an `Any` is read through the descriptors instead
    /// (src/api/rest/json.rs falls back to them), which resolve its `@type`.
    fn deserialize<D: serde::Deserializer<'de>>(_deserializer: D) -> Result<Self, D::Error> {
        Err(<D::Error as serde::de::Error>::custom("google.protobuf.Any is read from JSON through the descriptors, not the typed messages"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::yandex::cloud::vpc::v1::Network;

    #[test]
    fn a_message_is_decoded_by_its_full_name() {
        let bytes = prost::Message::encode_to_vec(&Network { id: "enp1".into(), name: "n".into(), ..Default::default() });
        let json = serde_json::to_value(&*decode("yandex.cloud.vpc.v1.Network", &bytes).unwrap()).unwrap();
        assert_eq!(json, serde_json::json!({"id": "enp1", "name": "n"}));
        assert!(decode("google.rpc.BadRequest", &[]).is_ok() && decode("google.protobuf.Empty", &[]).is_err());
        assert!(decode("yandex.cloud.vpc.v1.Nowhere", &bytes).is_err());
        assert_eq!(type_url_name("type.googleapis.com/yandex.cloud.vpc.v1.Network").unwrap(), "yandex.cloud.vpc.v1.Network");
        assert!(type_url_name("no-slash").is_err());
    }

    #[test]
    fn flatten_writes_an_absent_false_after_the_fields() {
        let flattened = |network: &Network, key: &'static str| {
            let mut out = Vec::new();
            let mut serializer = serde_json::Serializer::new(&mut out);
            let mut map = ser::Serializer::serialize_map(&mut serializer, None).unwrap();
            map.serialize_entry("@type", "t").unwrap();
            network.serialize(Flatten::into(&mut map).writing_false(key)).unwrap();
            map.end().unwrap();
            String::from_utf8(out).unwrap()
        };
        let network = Network { id: "enp1".into(), name: "n".into(), ..Default::default() };
        assert_eq!(flattened(&network, "done"), r#"{"@type":"t","id":"enp1","name":"n","done":false}"#);
        assert_eq!(flattened(&network, "name"), r#"{"@type":"t","id":"enp1","name":"n"}"#);
    }
}

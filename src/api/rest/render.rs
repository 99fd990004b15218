//! The JSON text of a REST answer written from its typed message through one concrete serializer
//! (serde_json's pretty one), so that the answer and the message an `Operation` carries are
//! written without type-erased dispatch; an `Operation` is written field by field around its
//! `metadata` and `response`, which its own `Serialize` would write through the erased `Any`.

use prost::Message;
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::ser::{Formatter, PrettyFormatter};

use crate::api::answer::{Packed, TypedAnswer};
use crate::proto::json::{self as typed_json, Flatten};
use crate::proto::wkt::Any;
use crate::proto::yandex::cloud::operation::{Operation, operation::Result as Outcome};

pub(super) const OPERATION: &str = "yandex.cloud.operation.Operation";

/// The pretty JSON of the message `full_name` in `bytes`, with a newline; `None` where the typed
/// mapping cannot write it (no typed message, bytes that do not decode, an enum number the
/// contract lacks, an `Any` of a type it does not know), so that the caller asks the descriptors.
pub fn typed(full_name: &str, bytes: &[u8]) -> Option<Vec<u8>> {
    // Pretty JSON takes several times the wire bytes (names, quotes, indentation); sized for
    // that up front, the text is seldom copied as it grows.
    let mut text = Vec::with_capacity(4 * bytes.len() + 256);
    if full_name == OPERATION {
        operation(&Operation::decode(bytes).ok()?, None, &mut text).ok()?;
    } else {
        typed_json::write(full_name, bytes, &mut text, PrettyFormatter::new()).ok()?;
    }
    text.push(b'\n');
    Some(text)
}

/// The pretty JSON of `answer`, the message `full_name` a handler handed over typed, with a
/// newline; `None` where the typed mapping cannot write it (as `typed`).
pub fn answer(full_name: &str, answer: &TypedAnswer) -> Option<Vec<u8>> {
    let mut text = Vec::with_capacity(ANSWER_CAPACITY);
    if full_name == OPERATION {
        operation(answer.message::<Operation>()?, answer.packed(), &mut text).ok()?;
    } else {
        typed_json::write_value(full_name, answer.as_any(), &mut text, PrettyFormatter::new()).ok()?;
    }
    text.push(b'\n');
    Some(text)
}

/// Room for the usual answer, an `Operation` with an `Instance` (about 2 KiB of pretty JSON).
const ANSWER_CAPACITY: usize = 4096;

/// An `Operation` as the API reference shows it: `done` even while it is `false`, and its
/// `metadata` and `response` as their messages' fields beside `@type`; the response written from
/// `packed`, the message it packs kept typed, where that is the message the `Any` names.
fn operation(op: &Operation, packed: Option<&Packed>, text: &mut Vec<u8>) -> Result<(), String> {
    let mut object = Object::begin(text).map_err(text_error)?;
    // Every field but these comes before `done`'s place or is `done`; they follow.
    let written_after = Flatten::into(&mut object).writing_false("done").leaving_out(&["metadata", "error", "response"]);
    op.serialize(written_after).map_err(text_error)?;
    if let Some(metadata) = &op.metadata {
        object.any("metadata", metadata)?;
    }
    match &op.result {
        Some(Outcome::Error(status)) => object.serialize_entry("error", status).map_err(text_error)?,
        Some(Outcome::Response(response)) => match packed {
            Some(packed) if typed_json::type_url_name(&response.type_url).is_ok_and(|name| name == packed.full_name()) => {
                object.packed("response", &response.type_url, packed)?
            }
            _ => object.any("response", response)?,
        },
        None => {}
    }
    object.end().map_err(text_error)
}

fn text_error(e: serde_json::Error) -> String {
    format!("writing {OPERATION}: {e}")
}

/// A JSON object written entry by entry with the pretty formatter, each value through a
/// serializer that continues at the object's depth.
struct Object<'a> {
    text: &'a mut Vec<u8>,
    formatter: PrettyFormatter<'static>,
    first: bool,
}

impl<'a> Object<'a> {
    fn begin(text: &'a mut Vec<u8>) -> Result<Self, serde_json::Error> {
        let mut formatter = PrettyFormatter::new();
        formatter.begin_object(text).map_err(serde_json::Error::io)?;
        Ok(Object { text, formatter, first: true })
    }

    /// The entry `key` whose value is the message packed in `any`, written by its typed table entry.
    fn any(&mut self, key: &str, any: &Any) -> Result<(), String> {
        self.serialize_key(key).map_err(text_error)?;
        typed_json::write_in_any(any, self.text, self.formatter.clone())?;
        self.formatter.end_object_value(self.text).map_err(|e| text_error(serde_json::Error::io(e)))
    }

    /// The entry `key` whose value is the `Any` with `type_url` packing `packed`, written from the
    /// typed message.
    fn packed(&mut self, key: &str, type_url: &str, packed: &Packed) -> Result<(), String> {
        self.serialize_key(key).map_err(text_error)?;
        typed_json::write_value_in_any(packed.full_name(), packed.as_any(), type_url, self.text, self.formatter.clone())?;
        self.formatter.end_object_value(self.text).map_err(|e| text_error(serde_json::Error::io(e)))
    }
}

impl SerializeMap for Object<'_> {
    type Ok = ();
    type Error = serde_json::Error;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), serde_json::Error> {
        self.formatter.begin_object_key(self.text, self.first).map_err(serde_json::Error::io)?;
        self.first = false;
        key.serialize(&mut serde_json::Serializer::with_formatter(&mut *self.text, self.formatter.clone()))?;
        self.formatter.end_object_key(self.text).map_err(serde_json::Error::io)?;
        self.formatter.begin_object_value(self.text).map_err(serde_json::Error::io)
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), serde_json::Error> {
        value.serialize(&mut serde_json::Serializer::with_formatter(&mut *self.text, self.formatter.clone()))?;
        self.formatter.end_object_value(self.text).map_err(serde_json::Error::io)
    }

    fn end(mut self) -> Result<(), serde_json::Error> {
        self.formatter.end_object(self.text).map_err(serde_json::Error::io)
    }
}

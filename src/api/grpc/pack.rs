//! `google.protobuf.Any` and `Timestamp` helpers. Type URLs are always
//! `type.googleapis.com/<full name>`: the Go SDK refuses any other prefix.

use crate::proto::wkt::{Any, Timestamp as PbTimestamp};
use prost::Message;

use crate::domain::clock::Timestamp;

pub const TYPE_URL_PREFIX: &str = "type.googleapis.com/";

pub fn pack<M: Message>(full_name: &str, message: &M) -> Any {
    Any { type_url: [TYPE_URL_PREFIX, full_name].concat(), value: message.encode_to_vec() }
}

pub fn timestamp(t: Timestamp) -> Option<PbTimestamp> {
    Some(PbTimestamp { seconds: t.seconds(), nanos: t.subsec_nanos() })
}

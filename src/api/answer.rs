//! An answer handed over typed: the REST gateway calls the gRPC services in process, and a
//! handler it calls puts its answer message in the response's extensions instead of the body, so
//! that the gateway writes its JSON straight from the message. The message is not encoded for
//! tonic and decoded again by the gateway (BENCHMARKS.md, "The answer handed over typed").

use std::any::Any;
use std::sync::Arc;

/// The answer message of a call whose `RequestContext` asked for it typed; the body of such a
/// response carries the message's default (empty) value, which nobody reads.
#[derive(Clone)]
pub struct TypedAnswer {
    message: Arc<dyn Any + Send + Sync>,
    /// The message's wire bytes, for where its JSON is written from those (the descriptors).
    encode: fn(&dyn Any) -> Vec<u8>,
    /// The message an `Operation` answer's `response` packs, as the handler had it before packing
    /// it: the gateway writes the response's JSON from it instead of decoding the `Any` again.
    packed: Option<Packed>,
}

/// A message packed in an `Any`, kept typed beside it: its full name and the message.
#[derive(Clone)]
pub struct Packed {
    full_name: &'static str,
    message: Arc<dyn Any + Send + Sync>,
}

impl Packed {
    pub fn new<M: Send + Sync + 'static>(full_name: &'static str, message: M) -> Packed {
        Packed { full_name, message: Arc::new(message) }
    }

    pub fn full_name(&self) -> &'static str {
        self.full_name
    }

    /// The message, of whatever type.
    pub fn as_any(&self) -> &dyn Any {
        &*self.message
    }
}

fn encoded<M: prost::Message + 'static>(message: &dyn Any) -> Vec<u8> {
    message.downcast_ref::<M>().map(M::encode_to_vec).unwrap_or_default()
}

impl TypedAnswer {
    pub fn new<M: prost::Message + Send + Sync + 'static>(message: M) -> TypedAnswer {
        TypedAnswer { message: Arc::new(message), encode: encoded::<M>, packed: None }
    }

    /// The answer with the message its `Any` packs kept typed (an `Operation`'s response).
    pub fn with_packed(self, packed: Option<Packed>) -> TypedAnswer {
        TypedAnswer { packed, ..self }
    }

    /// The message the answer's `Any` packs, where the handler kept it typed.
    pub fn packed(&self) -> Option<&Packed> {
        self.packed.as_ref()
    }

    /// The message, of whatever type.
    pub fn as_any(&self) -> &dyn Any {
        &*self.message
    }

    /// The message by reference, if it is an `M`.
    pub fn message<M: Any>(&self) -> Option<&M> {
        self.message.downcast_ref::<M>()
    }

    /// The message's wire bytes.
    pub fn encode(&self) -> Vec<u8> {
        (self.encode)(self.as_any())
    }
}

impl std::fmt::Debug for TypedAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TypedAnswer(..)")
    }
}

//! Decoding an enum of enums from its flat encoding. `Action` groups its variants by resource
//! (`Action::Network(NetworkAction::Create { .. })`) but is stored exactly as the one flat enum
//! earlier releases wrote (`{"CreateNetwork": {..}}`), so stored operations decode unchanged.
//! Encoding needs only `#[serde(untagged)]`. Decoding cannot use serde's untagged support: it
//! buffers the value and then reports every format as human-readable, which misreads MessagePack
//! bodies (an `Ipv4Net` is a string in JSON but a tuple in MessagePack). Instead the variant name
//! is read once and offered to each group in turn: a group that does not know the name refuses
//! before it reads anything, so the next one gets the untouched value.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, VariantAccess, Visitor};

/// An enum whose variants each wrap an externally tagged enum, stored flat.
pub trait Grouped<'de>: Sized {
    /// Offers the variant to each group, in any order; `None` when no group knows its name.
    fn from_offer<V: VariantAccess<'de>>(offer: &mut Offer<'_, V>) -> Result<Option<Self>, V::Error>;
}

/// Decodes a `Grouped` enum from the flat encoding.
pub fn deserialize<'de, D: Deserializer<'de>, T: Grouped<'de>>(deserializer: D, name: &'static str) -> Result<T, D::Error> {
    deserializer.deserialize_enum(name, &[], FlatVisitor(name, PhantomData))
}

struct FlatVisitor<T>(&'static str, PhantomData<T>);

impl<'de, T: Grouped<'de>> Visitor<'de> for FlatVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a variant of {}", self.0)
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<T, A::Error> {
        let (name, variant): (String, A::Variant) = data.variant()?;
        let mut offer = Offer { name: &name, variant: Some(variant) };
        T::from_offer(&mut offer)?.ok_or_else(|| de::Error::unknown_variant(&name, &[]))
    }
}

/// A variant's name, read, and its content, not yet read.
pub struct Offer<'s, V> {
    name: &'s str,
    variant: Option<V>,
}

impl<'de, V: VariantAccess<'de>> Offer<'_, V> {
    /// The variant as a `G`, or `None` when `G` has no variant of that name (the content is then
    /// still unread, for the next group).
    pub fn take<G: de::Deserialize<'de>>(&mut self) -> Result<Option<G>, V::Error> {
        if self.variant.is_none() {
            return Ok(None);
        }
        match G::deserialize(Resumed { offer: self }) {
            Ok(value) => Ok(Some(value)),
            Err(_) if self.variant.is_some() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A deserializer that hands an inner enum the name already read and the content still unread.
struct Resumed<'o, 's, V> {
    offer: &'o mut Offer<'s, V>,
}

impl<'de, A: VariantAccess<'de>> Deserializer<'de> for Resumed<'_, '_, A> {
    type Error = A::Error;

    fn deserialize_any<W: Visitor<'de>>(self, visitor: W) -> Result<W::Value, A::Error> {
        visitor.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de, V: VariantAccess<'de>> EnumAccess<'de> for Resumed<'_, '_, V> {
    type Error = V::Error;
    type Variant = V;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, V), V::Error> {
        // An unknown name fails here, before the content is taken.
        let name = seed.deserialize(self.offer.name.into_deserializer())?;
        let variant = self.offer.variant.take().ok_or_else(|| de::Error::custom("variant content read twice"))?;
        Ok((name, variant))
    }
}

//! What the hand-written entry decoders (`detail_de.rs`, `cbr_de.rs`) share: keys read
//! without allocating unless unknown, timestamps as Cinder writes them, and the
//! derive's refusal of a field given twice.

use std::fmt;
use std::marker::PhantomData;

use jiff::Timestamp;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::detail::utc;

/// The keys of one entry type: the known ones matched from a borrowed name, any other
/// kept by name (it goes to `extra`).
pub(super) trait EntryKey: Sized {
    fn known(name: &str) -> Option<Self>;
    fn other(name: String) -> Self;
}

/// Reads a key of an entry, as the derive's field identifier did.
pub(super) fn deserialize_key<'de, K: EntryKey, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<K, D::Error> {
    deserializer.deserialize_identifier(KeyVisitor(PhantomData))
}

struct KeyVisitor<K>(PhantomData<K>);

impl<K: EntryKey> Visitor<'_> for KeyVisitor<K> {
    type Value = K;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field identifier")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<K, E> {
        Ok(K::known(name).unwrap_or_else(|| K::other(name.to_owned())))
    }

    fn visit_string<E: de::Error>(self, name: String) -> Result<K, E> {
        Ok(match K::known(&name) {
            Some(key) => key,
            None => K::other(name),
        })
    }
}

/// Timestamps as [`utc`] reads them.
pub(super) struct Utc(pub(super) Option<Timestamp>);

impl<'de> Deserialize<'de> for Utc {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        utc::deserialize(deserializer).map(Self)
    }
}

/// Reads the value of a field seen for the first time into `slot`; a field given twice
/// is an error, as with the derive.
pub(super) fn once<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

//! The lenient reading of `links` arrays, shared by the item types and the page decoder.
//! Hand-written visitors rather than derives: a malformed entry must be skipped, not fail
//! the page, and without a detour through serde's internal buffer (see [`lenient_links`]).

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::Link;

/// Links as servers send them: `null` for none, and now and then an entry without
/// `rel` or `href`. Neither is a reason to lose the items around them.
///
/// Read entry by entry as the parser goes: an `#[serde(untagged)]` enum would first
/// copy every entry into serde's internal buffer and then copy it again into the
/// `Link`, which for two links an item was most of the cost of decoding a page.
pub(super) fn lenient_links<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Link>, D::Error> {
    deserializer.deserialize_option(LinksVisitor)
}

/// `null` or an array of [`LinkEntry`]s, keeping the well-formed ones.
struct LinksVisitor;

impl<'de> Visitor<'de> for LinksVisitor {
    type Value = Vec<Link>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }

    #[inline]
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // Items have two links (`self` and `bookmark`).
        let mut links = Vec::with_capacity(2);
        while let Some(LinkEntry(entry)) = seq.next_element()? {
            links.extend(entry);
        }
        Ok(links)
    }
}

/// The `visit_*` methods of a lenient visitor for every value it has no use for:
/// each is consumed and read as `None`, so a stray value never fails the page.
macro_rules! none_for_other_values {
    () => {
        fn visit_some<D: Deserializer<'de>>(
            self,
            deserializer: D,
        ) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_any(self)
        }

        fn visit_newtype_struct<D: Deserializer<'de>>(
            self,
            deserializer: D,
        ) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_any(self)
        }

        fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
            de::IgnoredAny.visit_enum(data).map(|_| None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_i128<E: de::Error>(self, _: i128) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_u128<E: de::Error>(self, _: u128) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Self::Value, E> {
            Ok(None)
        }
    };
}

/// One entry of a links array: a link if it is an object whose `href` and `rel` are
/// strings (other fields ignored), nothing if it is anything else (a field missing,
/// `null`, not a string or given twice; a number, a string, an array, …).
struct LinkEntry(Option<Link>);

impl<'de> Deserialize<'de> for LinkEntry {
    #[inline]
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LinkEntryVisitor).map(Self)
    }
}

struct LinkEntryVisitor;

impl<'de> Visitor<'de> for LinkEntryVisitor {
    type Value = Option<Link>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    #[inline]
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut href, mut rel) = (Field::Absent, Field::Absent);
        while let Some(field) = map.next_key_seed(LinkFieldSeed)? {
            let slot = match field {
                LinkField::Href => &mut href,
                LinkField::Rel => &mut rel,
                LinkField::Other => {
                    map.next_value::<de::IgnoredAny>()?;
                    continue;
                }
            };
            let value = map.next_value::<MaybeString>()?.0;
            *slot = match (&*slot, value) {
                (Field::Absent, Some(value)) => Field::Given(value),
                _ => Field::Unusable,
            };
        }
        Ok(match (href, rel) {
            (Field::Given(href), Field::Given(rel)) => Some(Link { href, rel }),
            _ => None,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }

    none_for_other_values!();
}

/// What a link object said about one of its two fields.
enum Field {
    Absent,
    Given(String),
    /// `null`, not a string, or given twice.
    Unusable,
}

enum LinkField {
    Href,
    Rel,
    Other,
}

/// Classifies a key of a link object without allocating it.
struct LinkFieldSeed;

impl<'de> DeserializeSeed<'de> for LinkFieldSeed {
    type Value = LinkField;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for LinkFieldSeed {
    type Value = LinkField;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    #[inline]
    fn visit_str<E: de::Error>(self, field: &str) -> Result<Self::Value, E> {
        Ok(match field {
            "href" => LinkField::Href,
            "rel" => LinkField::Rel,
            _ => LinkField::Other,
        })
    }
}

/// A string, or `None` for any other value (which is consumed all the same).
struct MaybeString(Option<String>);

impl<'de> Deserialize<'de> for MaybeString {
    #[inline]
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MaybeStringVisitor).map(Self)
    }
}

struct MaybeStringVisitor;

impl<'de> Visitor<'de> for MaybeStringVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    #[inline]
    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Some(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        Ok(Some(value))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        de::IgnoredAny.visit_map(map).map(|_| None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        de::IgnoredAny.visit_seq(seq).map(|_| None)
    }

    none_for_other_values!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BackupSummary;

    #[test]
    fn only_objects_with_string_href_and_rel_are_links() {
        let backup: BackupSummary = serde_json::from_str(
            r#"{"id": "b", "links": [
                7, "self", null, true, [], ["h", "r"], {},
                {"href": null, "rel": "self"},
                {"href": 7, "rel": "self"},
                {"href": {"nested": ["x"]}, "rel": "self"},
                {"href": "a", "rel": "self", "rel": "bookmark"},
                {"href": "b", "rel": "self", "type": "application/json", "extra": {"k": [1, null]}},
                {"hr\u0065f": "c", "rel": "bookmark"}
            ]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            backup.links,
            [Link::new("self", "b"), Link::new("bookmark", "c")]
        );
        for bad in [
            r#"{"id": "b", "links": {}}"#,
            r#"{"id": "b", "links": "x"}"#,
        ] {
            let err = serde_json::from_str::<BackupSummary>(bad).expect_err(bad);
            assert!(
                err.to_string().contains("expected a sequence"),
                "{bad}: {err}"
            );
        }
    }
}

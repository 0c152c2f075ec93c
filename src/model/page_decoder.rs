//! [`decode_page`]: a page body straight into a [`Page`], driven by the collection key
//! at run time. The hot path of a listing, so no `serde_json::Value` in between.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::lenient::lenient_links;
use super::{Link, Listed, Page};

/// Decodes a page body: `{"<key>": [items], "<key>_links": [links], …}`.
///
/// Driven by the collection key at run time, without building a `serde_json::Value`
/// of the page; unknown fields are skipped and a missing item array is an error.
///
/// A body that is valid UTF-8 as a whole (every real page) is checked once, up front,
/// and then parsed as a `str`: `serde_json` would otherwise check each string it keeps
/// on its own, which took an eighth of the decode. A body that is not is parsed as
/// bytes, exactly as before: `serde_json` checks only the strings it keeps, so bad
/// bytes in a skipped field must not fail a page that decodes today.
pub(crate) fn decode_page<T: Listed>(
    body: &[u8],
    key: &str,
    number: u64,
    expected_items: usize,
) -> Result<Page<T>, String> {
    match std::str::from_utf8(body) {
        Ok(text) => decode_from(
            body,
            serde_json::Deserializer::from_str(text),
            key,
            number,
            expected_items,
        ),
        Err(_) => decode_page_from_bytes(body, key, number, expected_items),
    }
}

/// [`decode_page`] without the UTF-8 check up front: what it does with a body that
/// is not UTF-8, and what the differential fuzz target holds it to for every body.
pub(crate) fn decode_page_from_bytes<T: Listed>(
    body: &[u8],
    key: &str,
    number: u64,
    expected_items: usize,
) -> Result<Page<T>, String> {
    decode_from(
        body,
        serde_json::Deserializer::from_slice(body),
        key,
        number,
        expected_items,
    )
}

/// Decodes `body` with `json`, a parser over that same body, with room for
/// `expected_items` items from the start.
fn decode_from<'de, T: Listed, R: serde_json::de::Read<'de>>(
    body: &[u8],
    mut json: serde_json::Deserializer<R>,
    key: &str,
    number: u64,
    expected_items: usize,
) -> Result<Page<T>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(format!(
            "the response body is empty where a page of `{key}` was expected"
        ));
    }
    read_page(&mut json, key, number, expected_items)
        .and_then(|page| json.end().map(|()| page))
        .map_err(|err| format!("the response is not a page of `{key}`: {err}"))
}

/// Reads a page object from `deserializer`, with room for `expected_items` items from
/// the start; whatever follows the object is the caller's to check.
fn read_page<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
    key: &str,
    number: u64,
    expected_items: usize,
) -> Result<Page<T>, D::Error> {
    let links_key = format!("{key}_links");
    let seed = PageSeed::<T> {
        key,
        links_key: &links_key,
        expected_items,
        items: PhantomData,
    };
    let RawPage {
        items,
        links,
        count,
    } = seed.deserialize(deserializer)?;
    Ok(Page {
        items,
        next_link: links.into_iter().find(Link::is_next),
        count,
        number,
    })
}

/// The `href` of the `rel=next` link of a page body, found without decoding the page:
/// after the last `"{key}_links"` in the body, an array read as the decoder reads it.
///
/// A guess, a thousand times cheaper than the decode: a key of that name nested in
/// another object (or ending a key that contains an escaped quote) may be found
/// instead of the page's own, and the body may not be a page at all. What the decoder
/// then finds is what counts (see `pager/speculation.rs`).
pub(crate) fn guess_next_href(body: &[u8], key: &str) -> Option<String> {
    let needle = format!("\"{key}_links\"");
    let at = memchr::memmem::rfind(body, needle.as_bytes())?;
    let rest = body.get(at + needle.len()..)?;
    let rest = rest.trim_ascii_start().strip_prefix(b":")?;
    let mut json = serde_json::Deserializer::from_slice(rest);
    let LenientLinks(links) = LenientLinks::deserialize(&mut json).ok()?;
    links.into_iter().find(Link::is_next).map(|link| link.href)
}

/// The string after the last `"id":` before the last `"{key}_links"` of a page body:
/// in a well-formed page, its last item's id, which a next link's marker names. Found
/// as cheaply and with the same caveats as [`guess_next_href`]: an `id` key nested
/// in the last item (its metadata, say) is found instead, and the guess then fails.
pub(crate) fn guess_last_id(body: &[u8], key: &str) -> Option<String> {
    let needle = format!("\"{key}_links\"");
    let links = memchr::memmem::rfind(body, needle.as_bytes())?;
    let head = body.get(..links)?;
    let at = memchr::memmem::rfind(head, b"\"id\"")?;
    let rest = head.get(at + 4..)?.trim_ascii_start().strip_prefix(b":")?;
    let mut json = serde_json::Deserializer::from_slice(rest);
    String::deserialize(&mut json).ok()
}

struct PageSeed<'k, T> {
    key: &'k str,
    links_key: &'k str,
    /// Room for this many items from the start.
    expected_items: usize,
    items: PhantomData<T>,
}

enum PageField {
    Items,
    Links,
    Count,
    Other,
}

struct RawPage<T> {
    items: Vec<T>,
    links: Vec<Link>,
    count: Option<u64>,
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for PageSeed<'_, T> {
    type Value = RawPage<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for PageSeed<'_, T> {
    type Value = RawPage<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with a `{}` array", self.key)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut items = None;
        let mut links = Vec::new();
        let mut count = None;
        while let Some(field) = map.next_key_seed(FieldSeed {
            key: self.key,
            links_key: self.links_key,
        })? {
            match field {
                PageField::Items if items.is_some() => {
                    return Err(de::Error::duplicate_field("items"));
                }
                PageField::Items => {
                    let seed = ItemsSeed {
                        expected: self.expected_items,
                        items: PhantomData,
                    };
                    items = Some(map.next_value_seed(seed)?);
                }
                PageField::Links => {
                    links = map.next_value::<LenientLinks>()?.0;
                }
                PageField::Count => count = map.next_value::<Option<u64>>()?,
                PageField::Other => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let items = items.ok_or_else(|| {
            de::Error::custom(format_args!("no `{}` array in the object", self.key))
        })?;
        Ok(RawPage {
            items,
            links,
            count,
        })
    }
}

/// An item array read into a `Vec` with room for the items expected from the start,
/// where serde's would start empty and grow by doubling, copying the items each time.
struct ItemsSeed<T> {
    expected: usize,
    items: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for ItemsSeed<T> {
    type Value = Vec<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for ItemsSeed<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(self.expected);
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(items)
    }
}

/// A `*_links` array read with [`lenient_links`].
struct LenientLinks(Vec<Link>);

impl<'de> Deserialize<'de> for LenientLinks {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        lenient_links(deserializer).map(Self)
    }
}

/// Classifies an object key without allocating it.
struct FieldSeed<'k> {
    key: &'k str,
    links_key: &'k str,
}

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = PageField;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for FieldSeed<'_> {
    type Value = PageField;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, field: &str) -> Result<Self::Value, E> {
        Ok(if field == self.key {
            PageField::Items
        } else if field == self.links_key {
            PageField::Links
        } else if field == "count" {
            PageField::Count
        } else {
            PageField::Other
        })
    }
}

// The decoder of `decode_page`, reachable from the crate's benchmarks through the
// `bench-internals` feature. Not part of the API: it may change or go at any time.
#[cfg(feature = "bench-internals")]
impl<T: Listed> Page<T> {
    #[doc(hidden)]
    pub fn __decode_for_bench(body: &[u8]) -> Result<Self, String> {
        decode_page(body, T::ITEMS_KEY, 1, 1000)
    }

    /// The same page visitors driven by another parser's serde `Deserializer`: how the
    /// decode bench measures SIMD parsers (`sonic-rs`, `simd-json`) on these pages.
    #[doc(hidden)]
    pub fn __decode_with<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        read_page(deserializer, T::ITEMS_KEY, 1, 1000)
    }

    /// The same decode without the UTF-8 check up front (the decoder before issue 19).
    #[doc(hidden)]
    pub fn __decode_from_bytes_for_bench(body: &[u8]) -> Result<Self, String> {
        decode_page_from_bytes(body, T::ITEMS_KEY, 1, 1000)
    }
}

// The differential fuzz target's entry point (built with `--cfg fuzzing` only): the
// decoder against the byte parser it replaced, on the same bytes, for every shape of page.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    use super::*;
    use crate::model::{BackupDetail, BackupSummary, CbrBackup};

    /// Decodes `body` as a page of each item type, both ways; panics on any difference
    /// in the page or in the error.
    pub fn decode_matches_serde_json(body: &[u8]) {
        same::<BackupSummary>(body);
        same::<BackupDetail>(body);
        same::<CbrBackup>(body);
        detail_as_derived(body);
        cbr_as_derived(body);
    }

    /// A CBR entry decodes by hand exactly as the derive it replaced did.
    fn cbr_as_derived(body: &[u8]) {
        use crate::model::cbr_de::reference;
        let by_hand = serde_json::from_slice::<CbrBackup>(body).map_err(|e| e.to_string());
        let derived = serde_json::from_slice::<reference::CbrBackup>(body)
            .map(CbrBackup::from)
            .map_err(|e| e.to_string());
        assert_eq!(by_hand, derived, "the CBR decoders differ on {body:?}");
    }

    /// A detail entry decodes by hand exactly as the derive it replaced did: the same
    /// backup or the same error message.
    fn detail_as_derived(body: &[u8]) {
        use crate::model::detail_de::reference;
        let by_hand = serde_json::from_slice::<BackupDetail>(body).map_err(|e| e.to_string());
        let derived = serde_json::from_slice::<reference::BackupDetail>(body)
            .map(BackupDetail::from)
            .map_err(|e| e.to_string());
        assert_eq!(by_hand, derived, "the detail decoders differ on {body:?}");
    }

    fn same<T: Listed + PartialEq + fmt::Debug>(body: &[u8]) {
        // The walk's room for a page of 1000 up front, against none: only the
        // allocation may differ.
        let fast = decode_page::<T>(body, T::ITEMS_KEY, 1, 1000);
        let reference = decode_page_from_bytes::<T>(body, T::ITEMS_KEY, 1, 0);
        assert_eq!(fast, reference, "the decoders differ on {body:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BackupSummary;

    fn decode(body: &str) -> crate::Result<Page<BackupSummary>> {
        decode_page(body.as_bytes(), "backups", 1, 0).map_err(crate::Error::decode)
    }

    #[test]
    fn the_last_id_before_the_links_is_guessed_without_decoding() {
        let body = br#"{"backups": [{"id": "a", "name": "x"}, {"name": "y", "id" : "b\u00e9"}],
            "backups_links": [{"rel": "next", "href": "h?marker=b"}]}"#;
        assert_eq!(guess_last_id(body, "backups").as_deref(), Some("b\u{e9}"));
        assert_eq!(
            guess_last_id(br#"{"backups": [], "backups_links": []}"#, "backups"),
            None
        );
        assert_eq!(
            guess_last_id(
                br#"{"backups": [{"id": 7}], "backups_links": []}"#,
                "backups"
            ),
            None
        );
        assert_eq!(guess_last_id(br#"{"id": "x"}"#, "backups"), None);
    }

    #[test]
    fn decodes_items_and_the_next_link_ignoring_other_fields() {
        let page = decode(
            r#"{"count": 3, "backups": [{"id": "a", "name": "x", "links": []}, {"id": "b", "name": null}],
                "backups_links": [{"rel": "prev", "href": "p"}, {"href": "http://h/v2/p/backups?marker=b", "rel": "next"}]}"#,
        )
        .unwrap();
        assert_eq!(
            page.items.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(
            page.next_link,
            Some(Link::new("next", "http://h/v2/p/backups?marker=b"))
        );
        assert_eq!(page.number(), 1);
        assert_eq!(page.count, Some(3));
    }

    #[test]
    fn malformed_links_are_skipped_not_fatal() {
        let page = decode(
            r#"{"backups": [{"id": "a", "name": null, "links": null}, {"id": "b", "links": [{"href": "x"}, 7, {"rel": "self", "href": "s"}]}],
                "backups_links": [{"href": "no-rel"}, {"rel": "next", "href": "n?marker=b"}]}"#,
        )
        .unwrap();
        assert!(page.items[0].links.is_empty());
        assert_eq!(page.items[1].links, [Link::new("self", "s")]);
        assert_eq!(page.next_link, Some(Link::new("next", "n?marker=b")));
    }

    #[test]
    fn absent_or_null_links_mean_no_next_page() {
        assert_eq!(decode(r#"{"backups": []}"#).unwrap().next_link, None);
        assert_eq!(
            decode(r#"{"backups": [], "backups_links": null}"#)
                .unwrap()
                .next_link,
            None
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_fail_only_where_the_byte_parser_fails_them() {
        let skipped = b"{\"backups\": [{\"id\": \"a\", \"note\": \"\xff\"}], \"other\": \"\xfe\"}";
        let page = decode_page::<BackupSummary>(skipped, "backups", 1, 0).unwrap();
        assert_eq!(page.items, [BackupSummary::new("a", None)]);
        let kept = b"{\"backups\": [{\"id\": \"\xff\"}]}";
        let err = decode_page::<BackupSummary>(kept, "backups", 1, 0).unwrap_err();
        assert!(err.contains("invalid unicode"), "{err}");
    }

    #[test]
    fn the_str_and_byte_parsers_agree_on_every_shape_of_page() {
        let deep = format!(
            r#"{{"backups": [], "x": {}{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        for body in [
            r#"{"backups": [{"id": "a\u00e9\ud83d\ude00\n\"", "name": "caf\u00e9 😀", "links": [{"rel": "self", "href": "h\/x"}]}]}"#,
            r#"{"backups": [{"id": "a", "name": null, "links": null, "size": 1e999}]}"#,
            r#"{"backups": [{"id": "a"}], "count": 18446744073709551616}"#,
            r#"{"backups": [{"id": "a"}], "count": -1}"#,
            r#"{"backups": [{"id": "\ud800"}]}"#,
            "{\"backups\": [{\"id\": \"a\u{0}\"}]}",
            "{\"backups\": [{\"id\": \"tab\there\"}]}",
            r#"{"backups": [{"id": "a",}]}"#,
            r#"{"backups": [{"id": 7}]}"#,
            " \n{\"backups\": []}\n ",
            "\u{c}",
            &deep,
        ] {
            let by_str = decode_page::<BackupSummary>(body.as_bytes(), "backups", 1, 0);
            let by_bytes =
                decode_page_from_bytes::<BackupSummary>(body.as_bytes(), "backups", 1, 0);
            assert_eq!(by_str, by_bytes, "{body}");
        }
    }

    #[test]
    fn bodies_that_are_not_pages_are_decode_errors_naming_the_problem() {
        for (body, expected) in [
            ("", "empty"),
            (r#"{"volumes": []}"#, "no `backups` array"),
            (r#"{"backups": {}}"#, "expected a sequence"),
            (r#"{"backups": [{"name": "x"}]}"#, "missing field `id`"),
            (r#"{"backups": []} trailing"#, "trailing characters"),
            (r#"{"backups": [], "backups": []}"#, "duplicate field"),
            ("<html>oops</html>", "expected value"),
            (r#"[1]"#, "an object with a `backups` array"),
        ] {
            let err = decode(body).expect_err(body);
            assert_eq!(err.kind(), crate::ErrorKind::Decode, "{body}");
            assert!(err.to_string().contains(expected), "{body}: {err}");
        }
    }
}

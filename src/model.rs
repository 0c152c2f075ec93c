//! What the API returns: [`BackupSummary`], [`Link`], [`Page`], and the open set of
//! [`BackupStatus`] values.

mod detail;

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use detail::BackupDetail;

/// One entry of the backup list (`GET /v2/{project_id}/backups`): the backup's id,
/// its name and its links.
///
/// ```
/// use vbs_backups::BackupSummary;
///
/// let backup: BackupSummary = serde_json::from_str(
///     r#"{"id": "1d1139d8-8989-49d3-8aa1-83eb691e6db2", "name": null, "links": []}"#,
/// )?;
/// assert_eq!(backup.id, "1d1139d8-8989-49d3-8aa1-83eb691e6db2");
/// assert_eq!(backup.name, None);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BackupSummary {
    /// The backup id (a UUID on VBS and Cinder).
    pub id: String,
    /// The backup name; servers send `null` for unnamed backups.
    #[serde(default)]
    pub name: Option<String>,
    /// The `self` and `bookmark` links of the backup (malformed entries are skipped).
    #[serde(default, deserialize_with = "lenient_links")]
    pub links: Vec<Link>,
}

impl BackupSummary {
    /// Makes a summary, e.g. for tests of code that consumes the stream.
    ///
    /// ```
    /// let backup = vbs_backups::BackupSummary::new("b1", Some("weekly".into()));
    /// assert_eq!(backup.id, "b1");
    /// assert!(backup.links.is_empty());
    /// ```
    pub fn new(id: impl Into<String>, name: Option<String>) -> Self {
        Self {
            id: id.into(),
            name,
            links: Vec::new(),
        }
    }
}

/// Links as servers send them: `null` for none, and now and then an entry without
/// `rel` or `href`. Neither is a reason to lose the items around them.
///
/// Read entry by entry as the parser goes: an `#[serde(untagged)]` enum would first
/// copy every entry into serde's internal buffer and then copy it again into the
/// `Link`, which for two links an item was most of the cost of decoding a page.
fn lenient_links<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Link>, D::Error> {
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

/// A link as the API writes it: an `href` and its relation (`self`, `bookmark`, `next`).
///
/// ```
/// use vbs_backups::Link;
///
/// let link = Link::new("next", "http://vbs:8776/v2/p/backups?marker=m");
/// assert!(link.is_next());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Link {
    /// The target URL, exactly as the server sent it.
    pub href: String,
    /// The relation of the target to the current resource.
    pub rel: String,
}

impl Link {
    /// Makes a link from its relation and target.
    ///
    /// ```
    /// let link = vbs_backups::Link::new("self", "http://vbs/v2/p/backups/b");
    /// assert_eq!(link.rel, "self");
    /// ```
    pub fn new(rel: impl Into<String>, href: impl Into<String>) -> Self {
        Self {
            href: href.into(),
            rel: rel.into(),
        }
    }

    /// Whether this link points at the next page.
    ///
    /// ```
    /// assert!(!vbs_backups::Link::new("self", "http://vbs/x").is_next());
    /// ```
    pub fn is_next(&self) -> bool {
        self.rel == "next"
    }
}

/// Something that can be listed page by page: it has an id that serves as the
/// marker of the next page.
///
/// Implemented for the crate's item types ([`BackupSummary`]); the pager is generic
/// over it so other Cinder collections reuse the same walk. Sealed: the crate
/// decides which collections it walks.
///
/// ```
/// use vbs_backups::{BackupSummary, Listed};
///
/// let b: BackupSummary = serde_json::from_str(r#"{"id": "b1", "name": "n"}"#)?;
/// assert_eq!(b.marker(), "b1");
/// # Ok::<(), serde_json::Error>(())
/// ```
pub trait Listed: sealed::Sealed + serde::de::DeserializeOwned + Send + 'static {
    /// The collection path under the project, e.g. `backups` or `backups/detail`.
    const COLLECTION: &'static str;
    /// The key of the item array in a page body.
    const ITEMS_KEY: &'static str = "backups";

    /// The id to pass as `marker` to get the items after this one.
    fn marker(&self) -> &str;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::BackupSummary {}
}

impl Listed for BackupSummary {
    const COLLECTION: &'static str = "backups";

    fn marker(&self) -> &str {
        &self.id
    }
}

/// One page of a listing: its items in server order, and the `next` link the
/// server gave with them, if any.
///
/// Yielded by [`ListBackups::pages`](crate::ListBackups::pages).
///
/// ```no_run
/// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
/// use futures::StreamExt;
///
/// let mut pages = client.backups().page_size(100).pages();
/// while let Some(page) = pages.next().await {
///     let page = page?;
///     println!("page {} with {} backups", page.number(), page.len());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items of this page, in server order.
    pub items: Vec<T>,
    /// The `rel=next` link the server sent with this page, as sent.
    pub next_link: Option<Link>,
    /// The total number of matching items, when the server counts them (Cinder
    /// 3.45+ with [`ListBackups::with_count`](crate::ListBackups::with_count)).
    pub count: Option<u64>,
    pub(crate) number: u64,
}

impl<T> Page<T> {
    /// The 1-based position of this page in the walk.
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
    /// use futures::StreamExt;
    ///
    /// let mut pages = client.backups().pages();
    /// if let Some(first) = pages.next().await.transpose()? {
    ///     assert_eq!(first.number(), 1);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn number(&self) -> u64 {
        self.number
    }

    /// How many items the page holds.
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
    /// use futures::TryStreamExt;
    ///
    /// let sizes: Vec<usize> = client.backups().pages().map_ok(|page| page.len()).try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the page holds no items (a server may send such a page and still link on).
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
    /// use futures::TryStreamExt;
    ///
    /// let empty = client.backups().pages().try_filter(|page| futures::future::ready(page.is_empty()));
    /// # Ok(()) }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

// The decoder of `decode_page`, reachable from the crate's benchmarks through the
// `bench-internals` feature. Not part of the API: it may change or go at any time.
#[cfg(feature = "bench-internals")]
impl Page<BackupSummary> {
    #[doc(hidden)]
    pub fn __decode_for_bench(body: &[u8]) -> crate::Result<Self> {
        decode_page(body, "backups", 1)
    }
}

impl<T> IntoIterator for Page<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// The status of a backup, as the API spells it.
///
/// The set is open: any value not listed here (a newer server's) is kept in
/// [`BackupStatus::Unknown`], and a caller may filter by such a value too. Two
/// statuses are equal when they spell the same value.
///
/// ```
/// use vbs_backups::BackupStatus;
///
/// assert_eq!("error_restoring".parse::<BackupStatus>(), Ok(BackupStatus::ErrorRestoring));
/// assert_eq!(BackupStatus::Available.as_str(), "available");
/// let other: BackupStatus = "backing-up".parse().unwrap();
/// assert_eq!(other, BackupStatus::Unknown("backing-up".into()));
/// assert_eq!(other.to_string(), "backing-up");
/// assert_eq!(BackupStatus::Unknown("available".into()), BackupStatus::Available);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BackupStatus {
    /// `available`: the backup can be restored.
    Available,
    /// `error`: creating the backup failed.
    Error,
    /// `restoring`: the backup is being restored to a volume.
    Restoring,
    /// `creating`: the backup is being created.
    Creating,
    /// `deleting`: the backup is being deleted.
    Deleting,
    /// `error_restoring`: restoring the backup failed (VBS).
    ErrorRestoring,
    /// `error_deleting`: deleting the backup failed (Cinder).
    ErrorDeleting,
    /// Any other value, kept verbatim.
    Unknown(String),
}

impl BackupStatus {
    /// The value as the API writes it.
    ///
    /// ```
    /// assert_eq!(vbs_backups::BackupStatus::ErrorRestoring.as_str(), "error_restoring");
    /// ```
    pub fn as_str(&self) -> &str {
        match self {
            Self::Available => "available",
            Self::Error => "error",
            Self::Restoring => "restoring",
            Self::Creating => "creating",
            Self::Deleting => "deleting",
            Self::ErrorRestoring => "error_restoring",
            Self::ErrorDeleting => "error_deleting",
            Self::Unknown(other) => other,
        }
    }
}

impl From<&str> for BackupStatus {
    fn from(value: &str) -> Self {
        match value {
            "available" => Self::Available,
            "error" => Self::Error,
            "restoring" => Self::Restoring,
            "creating" => Self::Creating,
            "deleting" => Self::Deleting,
            "error_restoring" => Self::ErrorRestoring,
            "error_deleting" => Self::ErrorDeleting,
            other => Self::Unknown(other.to_owned()),
        }
    }
}

impl From<String> for BackupStatus {
    fn from(value: String) -> Self {
        match Self::from(value.as_str()) {
            Self::Unknown(_) => Self::Unknown(value),
            known => known,
        }
    }
}

impl PartialEq for BackupStatus {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for BackupStatus {}

impl std::hash::Hash for BackupStatus {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl FromStr for BackupStatus {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::from(s))
    }
}

impl fmt::Display for BackupStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for BackupStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for BackupStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from)
    }
}

/// Decodes a page body: `{"<key>": [items], "<key>_links": [links], …}`.
///
/// Driven by the collection key at run time, without building a `serde_json::Value`
/// of the page; unknown fields are skipped and a missing item array is an error.
pub(crate) fn decode_page<T: Listed>(
    body: &[u8],
    key: &str,
    number: u64,
) -> crate::Result<Page<T>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(crate::Error::decode(format!(
            "the response body is empty where a page of `{key}` was expected"
        )));
    }
    let links_key = format!("{key}_links");
    let seed = PageSeed::<T> {
        key,
        links_key: &links_key,
        items: PhantomData,
    };
    let mut json = serde_json::Deserializer::from_slice(body);
    let RawPage {
        items,
        links,
        count,
    } = seed
        .deserialize(&mut json)
        .and_then(|page| json.end().map(|()| page))
        .map_err(|err| {
            crate::Error::decode(format!("the response is not a page of `{key}`: {err}"))
        })?;
    Ok(Page {
        items,
        next_link: links.into_iter().find(Link::is_next),
        count,
        number,
    })
}

struct PageSeed<'k, T> {
    key: &'k str,
    links_key: &'k str,
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
                PageField::Items => items = Some(map.next_value::<Vec<T>>()?),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(body: &str) -> crate::Result<Page<BackupSummary>> {
        decode_page(body.as_bytes(), "backups", 1)
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

    #[test]
    fn status_round_trips_through_serde_including_unknown_values() {
        for text in [
            "available",
            "error",
            "restoring",
            "creating",
            "deleting",
            "error_restoring",
            "error_deleting",
            "",
        ] {
            let status: BackupStatus =
                serde_json::from_str(&format!("\"{text}\"")).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(status.as_str(), text);
            assert_eq!(
                serde_json::to_string(&status).ok(),
                Some(format!("\"{text}\""))
            );
        }
        assert_eq!(
            BackupStatus::from("ERROR".to_owned()),
            BackupStatus::Unknown("ERROR".into())
        );
    }

    #[test]
    fn summary_tolerates_missing_name_and_links_and_extra_fields() {
        let backup: BackupSummary =
            serde_json::from_str(r#"{"id": "b", "status": "available", "size": 1}"#)
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(backup.id, "b");
        assert_eq!(backup.name, None);
        assert!(backup.links.is_empty());
    }
}

//! What the API returns: [`BackupSummary`], [`Link`], [`Page`], and the open set of
//! [`BackupStatus`] values.

mod api_version;
mod cbr;
mod cbr_de;
mod detail;
mod detail_de;
mod entry_de;
mod hooks;
mod lenient;
mod page_decoder;
mod status;
mod volume;

use serde::{Deserialize, Serialize};

pub use api_version::ApiVersion;
pub use cbr::{CbrBackup, CbrBackupStatus};
pub use detail::BackupDetail;
pub(crate) use hooks::{Hooks, StopBound, WindowPlan};
use lenient::lenient_links;
#[cfg(fuzzing)]
pub use page_decoder::fuzzing as decode_fuzzing;
pub(crate) use page_decoder::{decode_page, guess_last_id, guess_next_href};
use status::open_status;
pub use volume::Volume;

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

/// An item of a collection the crate walks page by page: where the collection is, how
/// its pages are shaped and go on, and the id that serves as the marker of the next page.
///
/// The pager is generic over it, so every collection reuses the same walk. Sealed: the
/// crate decides which collections it walks.
///
/// ```
/// use vbs_backups::{BackupSummary, Listed, Pagination};
///
/// let b: BackupSummary = serde_json::from_str(r#"{"id": "b1", "name": "n"}"#)?;
/// assert_eq!(b.marker(), "b1");
/// assert_eq!(BackupSummary::COLLECTION, "backups");
/// assert_eq!(BackupSummary::PAGINATION, Pagination::NextLink);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub trait Listed: Hooks + serde::de::DeserializeOwned + Send + 'static {
    /// The collection path under the project, e.g. `backups` or `backups/detail`.
    const COLLECTION: &'static str;
    /// The key of the item array in a page body, e.g. `backups`.
    const ITEMS_KEY: &'static str;
    /// How a walk goes from one page to the next, and how it ends.
    const PAGINATION: Pagination;
    /// The collection's name in a [`Cursor`](crate::Cursor), which resumes only a
    /// listing of the same name: the path, unless two services share it (CBR's
    /// `backups` is `cbr/backups`).
    const CURSOR_NAME: &'static str = Self::COLLECTION;
    /// The largest page size the server accepts, where a larger `limit` is refused
    /// rather than capped (CBR: 1000); `None` where servers cap silently (Cinder).
    const MAX_PAGE_SIZE: Option<u32> = None;

    /// The id to pass as `marker` to get the items after this one.
    fn marker(&self) -> &str;
}

/// How a collection's walk goes from one page to the next, and how it ends.
///
/// ```
/// use vbs_backups::{BackupDetail, Listed, Pagination};
///
/// assert_eq!(BackupDetail::PAGINATION, Pagination::NextLink);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Pagination {
    /// Cinder's way: a page links to the next with a `rel=next` entry of
    /// `{items_key}_links` (its `marker`, or else the page's last id); no link ends the walk.
    NextLink,
    /// Pages carry no links (Huawei CBR): the walk goes on with `marker` = the last id
    /// and ends on an empty page, or on a short page once the page's `count` (the total
    /// of matches) is reached by the items seen since the walk started.
    LastIdUntilEmpty,
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

impl<T> IntoIterator for Page<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

open_status! {
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
    pub enum BackupStatus {
        /// `available`: the backup can be restored.
        Available => "available",
        /// `error`: creating the backup failed.
        Error => "error",
        /// `restoring`: the backup is being restored to a volume.
        Restoring => "restoring",
        /// `creating`: the backup is being created.
        Creating => "creating",
        /// `deleting`: the backup is being deleted.
        Deleting => "deleting",
        /// `error_restoring`: restoring the backup failed (VBS).
        ErrorRestoring => "error_restoring",
        /// `error_deleting`: deleting the backup failed (Cinder).
        ErrorDeleting => "error_deleting",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

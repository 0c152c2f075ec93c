//! [`Cursor`]: where a walk stands, in a form that outlives the process.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::model::{ApiVersion, BackupDetail, BackupStatus, Listed};
use crate::query::ListBackups;

/// The version of the serialized form, so a newer crate can read an older cursor.
const FORMAT: u32 = 1;

/// Where a walk stands: the id of the last item delivered plus everything that
/// defines the walk (project, API version, collection, filters, page size, and the
/// items still allowed by `max_items`).
///
/// Take one from a stream ([`ItemStream::cursor`](crate::ItemStream::cursor)) or
/// from the error a stream ended with ([`Error::cursor`]); store it as JSON; later,
/// perhaps in another process, [`Client::resume`] continues the walk: every item
/// not delivered yet comes exactly once, in order.
///
/// ```no_run
/// # async fn run(client: vbs_backups::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use futures::StreamExt;
///
/// let mut backups = client.backups().status("error").stream();
/// for _ in 0..100 {
///     if backups.next().await.transpose()?.is_none() {
///         break;
///     }
/// }
/// let saved = serde_json::to_string(&backups.cursor())?;
///
/// // Tomorrow:
/// let cursor: vbs_backups::Cursor = serde_json::from_str(&saved)?;
/// let mut rest = client.resume(cursor)?.stream();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    format: u32,
    project_id: String,
    api_version: ApiVersion,
    collection: String,
    filters: Vec<(String, String)>,
    page_size: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
    /// The ids delivered just before `after`, oldest first: where to step back to if
    /// `after` is deleted before the walk resumes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    earlier: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_items: Option<u64>,
}

/// How many of the last ids delivered a cursor keeps to step back to.
const EARLIER_IDS: usize = 16;

/// What a stream has delivered so far; with the walk's definition it makes a cursor.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// The last ids delivered, newest last, at most `EARLIER_IDS + 1` of them.
    recent: VecDeque<String>,
    delivered: u64,
}

impl Progress {
    pub(crate) fn record(&mut self, id: &str) {
        self.delivered += 1;
        // Reuses the oldest buffer: no allocation per item in a long walk.
        let mut buffer = if self.recent.len() > EARLIER_IDS {
            self.recent.pop_front().unwrap_or_default()
        } else {
            String::new()
        };
        buffer.clear();
        buffer.push_str(id);
        self.recent.push_back(buffer);
    }

    pub(crate) fn record_page<'a>(&mut self, ids: impl ExactSizeIterator<Item = &'a str>) {
        let count = ids.len();
        let kept = count.min(EARLIER_IDS + 1);
        for id in ids.skip(count - kept) {
            self.record(id);
        }
        self.delivered += (count - kept) as u64;
    }

    pub(crate) fn last_id(&self) -> Option<&str> {
        self.recent.back().map(String::as_str)
    }

    /// The ids delivered before the last one, oldest first.
    fn earlier_ids(&self) -> Vec<String> {
        let before_last = self.recent.len().saturating_sub(1);
        self.recent.iter().take(before_last).cloned().collect()
    }
}

impl Cursor {
    /// The cursor of a walk that has delivered `progress` so far.
    pub(crate) fn new(walk: &crate::pager::Walk, progress: &Progress) -> Self {
        let (after, earlier, offset) = match progress.last_id() {
            Some(last) => (Some(last.to_owned()), progress.earlier_ids(), None),
            // Nothing delivered: the walk starts over exactly as it was asked.
            None => (walk.after.clone(), walk.earlier.clone(), walk.offset),
        };
        Self {
            format: FORMAT,
            project_id: walk.client.project_id().to_owned(),
            api_version: walk.client.api_version(),
            collection: walk.collection.to_owned(),
            filters: walk
                .filters
                .iter()
                .map(|(key, value)| ((*key).to_owned(), value.clone()))
                .collect(),
            page_size: walk.page_size,
            after,
            earlier,
            offset,
            max_items: walk
                .max_items
                .map(|max| max.saturating_sub(progress.delivered)),
        }
    }

    /// The id the walk continues after, if any item was delivered (or `after` was set).
    ///
    /// ```no_run
    /// # fn f(stream: vbs_backups::ItemStream<vbs_backups::BackupSummary>) {
    /// println!("resume after {:?}", stream.cursor().after());
    /// # }
    /// ```
    pub fn after(&self) -> Option<&str> {
        self.after.as_deref()
    }
}

impl Client {
    /// Continues a walk of `/backups` from a [`Cursor`]: the listing it returns
    /// yields every item the original walk had not delivered, exactly once, in order.
    ///
    /// Fails with [`ErrorKind::Config`](crate::ErrorKind::Config) when the cursor
    /// belongs to another project, API version or collection (a detail walk resumes
    /// with [`resume_detail`](Self::resume_detail)), or was written by a newer
    /// version of this crate.
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client, saved: &str) -> Result<(), Box<dyn std::error::Error>> {
    /// use futures::TryStreamExt;
    ///
    /// let cursor: vbs_backups::Cursor = serde_json::from_str(saved)?;
    /// let rest: Vec<_> = client.resume(cursor)?.prefetch(2).stream().try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn resume(&self, cursor: Cursor) -> Result<ListBackups> {
        self.resume_as(cursor)
    }

    /// Continues a walk of `/backups/detail` from a [`Cursor`]; see [`resume`](Self::resume).
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client, cursor: vbs_backups::Cursor) -> vbs_backups::Result<()> {
    /// let rest = client.resume_detail(cursor)?.stream();
    /// # Ok(()) }
    /// ```
    pub fn resume_detail(&self, cursor: Cursor) -> Result<ListBackups<BackupDetail>> {
        self.resume_as(cursor)
    }

    fn resume_as<T: Listed>(&self, cursor: Cursor) -> Result<ListBackups<T>> {
        if cursor.format > FORMAT {
            return Err(Error::config(format!(
                "the cursor has format {}; this version of vbs-backups reads up to {FORMAT}",
                cursor.format
            )));
        }
        if cursor.project_id != self.project_id() {
            return Err(Error::config(format!(
                "the cursor is for project `{}`, the client for `{}`",
                cursor.project_id,
                self.project_id()
            )));
        }
        if cursor.api_version != self.api_version() {
            return Err(Error::config(format!(
                "the cursor is for API {}, the client speaks {}",
                cursor.api_version.path_segment(),
                self.api_version().path_segment()
            )));
        }
        if cursor.collection != T::COLLECTION {
            return Err(Error::config(format!(
                "the cursor walks `{}`, not `{}`",
                cursor.collection,
                T::COLLECTION
            )));
        }
        let mut listing = ListBackups::<T>::new(self.clone()).page_size(cursor.page_size);
        for (key, value) in cursor.filters {
            listing = match key.as_str() {
                "name" => listing.name(value),
                "status" => listing.status(BackupStatus::from(value)),
                "volume_id" => listing.volume_id(value),
                "sort" => listing.raw_sort(&value),
                "with_count" => listing.with_count(),
                other => {
                    return Err(Error::config(format!(
                        "the cursor has a parameter `{other}` this version cannot apply"
                    )));
                }
            };
        }
        if let Some(after) = cursor.after {
            listing = listing.after(after).earlier(cursor.earlier);
        }
        if let Some(offset) = cursor.offset {
            listing = listing.offset(offset);
        }
        if let Some(max_items) = cursor.max_items {
            listing = listing.max_items(max_items);
        }
        Ok(listing)
    }
}

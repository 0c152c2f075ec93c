//! The listing layer: [`Listing`], a query builder any collection shares (page size,
//! limits, starting point, prefetch; the filters as data), and one module per collection
//! with its filters and entry points ([`ListBackups`] for VBS / Cinder backups,
//! [`ListCbrBackups`] for Huawei CBR backups).

mod backups;
mod cbr;
mod volumes;

use std::fmt;
use std::marker::PhantomData;

use crate::client::Client;
use crate::cursor::{Cursor, FORMAT, Window};
use crate::error::{Error, Result};
use crate::model::{Listed, WindowPlan};
use crate::pager::{Collection, ItemStream, PageStream, Paging, Walk};

pub use backups::{ListBackups, SortKey, VolumeBackup};
pub use cbr::{CbrSortKey, ListCbrBackups};
pub use volumes::ListVolumes;

/// A listing of one collection: its filters, page size, limits and starting point,
/// then [`stream`](Self::stream) for items or [`pages`](Self::pages) for whole pages.
///
/// The paging settings here are the same for every collection; each collection adds
/// its filters ([`ListBackups`] for backups). Setters never fail; a bad setting (a page
/// size of 0, say) is the first item of the stream, as an error. The builder can be
/// cloned to run the same query again.
///
/// ```no_run
/// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
/// use futures::StreamExt;
///
/// let mut backups = client.backups().page_size(500).max_items(2_000).prefetch(2).stream();
/// while let Some(backup) = backups.next().await {
///     println!("{}", backup?.id);
/// }
/// # Ok(()) }
/// ```
#[must_use = "a listing does nothing until `stream()` or `pages()` is polled"]
pub struct Listing<T> {
    client: Client,
    /// Query parameters in the order they were set; the same key may repeat.
    filters: Vec<(String, String)>,
    /// The age window, checked on each item by the client (see `ListBackups::created_before`).
    window: Window,
    paging: Paging,
    items: PhantomData<fn() -> T>,
}

// By hand: a derive would ask `T: Clone` / `T: Debug`, which the builder never holds.
impl<T> Clone for Listing<T> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            filters: self.filters.clone(),
            window: self.window,
            paging: self.paging.clone(),
            items: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Listing<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listing")
            .field("items", &std::any::type_name::<T>())
            .field("filters", &self.filters)
            .field("window", &self.window)
            .field("paging", &self.paging)
            .finish_non_exhaustive()
    }
}

impl<T: Listed> Listing<T> {
    /// A listing with the defaults: no filters, pages of 1000, prefetch 1.
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            filters: Vec::new(),
            window: Window::default(),
            paging: Paging::default(),
            items: PhantomData,
        }
    }

    /// Continues a walk from `cursor`: its filters and paging come back as they were, as
    /// data, so the listing yields exactly the items the walk had not delivered.
    pub(crate) fn resume(client: &Client, cursor: Cursor) -> Result<Self> {
        if cursor.format > FORMAT {
            return Err(Error::config(format!(
                "the cursor has format {}; this version of vbs-backups reads up to {FORMAT}",
                cursor.format
            )));
        }
        if cursor.project_id != client.project_id() {
            return Err(Error::config(format!(
                "the cursor is for project `{}`, the client for `{}`",
                cursor.project_id,
                client.project_id()
            )));
        }
        if cursor.api_version != client.api_version() {
            return Err(Error::config(format!(
                "the cursor is for API {}, the client speaks {}",
                cursor.api_version.path_segment(),
                client.api_version().path_segment()
            )));
        }
        if cursor.collection != T::CURSOR_NAME {
            return Err(Error::config(format!(
                "the cursor walks `{}`, not `{}`",
                cursor.collection,
                T::CURSOR_NAME
            )));
        }
        let (after, earlier, after_created_at) = match cursor.after {
            Some(after) => (Some(after), cursor.earlier, cursor.after_created_at),
            None => (None, Vec::new(), None),
        };
        Ok(Self {
            client: client.clone(),
            filters: cursor.filters,
            window: cursor.window,
            paging: Paging {
                page_size: cursor.page_size,
                offset: cursor.offset,
                after,
                earlier,
                after_created_at,
                next: cursor.next,
                max_items: cursor.max_items,
                max_pages: cursor.max_pages,
                ..Paging::default()
            },
            items: PhantomData,
        })
    }

    /// Sets filter `key` to `value`, in place of any value it had.
    pub(crate) fn set_filter(mut self, key: &str, value: impl Into<String>) -> Self {
        let value = value.into();
        match self.filters.iter_mut().find(|(k, _)| k == key) {
            Some((_, old)) => *old = value,
            None => self.filters.push((key.to_owned(), value)),
        }
        self
    }

    /// Adds `value` to filter `key`, after any values it has: for filters a server takes
    /// more than once (CBR's `status=available&status=error`).
    pub(crate) fn add_filter(mut self, key: &str, value: impl Into<String>) -> Self {
        self.filters.push((key.to_owned(), value.into()));
        self
    }

    /// The current value of filter `key`, if set.
    pub(crate) fn filter(&self, key: &str) -> Option<&str> {
        self.filters
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, value)| value.as_str())
    }

    /// Adds `key:dir` to the `sort` filter (`sort=key:dir,key:dir`, the syntax Cinder and
    /// CBR share): later terms break the ties of earlier ones.
    pub(crate) fn sort_term(self, key: &str, dir: SortDir) -> Self {
        let dir = match dir {
            SortDir::Asc => "asc",
            SortDir::Desc => "desc",
        };
        let terms = match self.filter("sort") {
            Some(earlier) => format!("{earlier},{key}:{dir}"),
            None => format!("{key}:{dir}"),
        };
        self.set_filter("sort", terms)
    }

    /// The same listing over another item type of the same filters (summary → detail).
    pub(crate) fn retype<U: Listed>(self) -> Listing<U> {
        Listing {
            client: self.client,
            filters: self.filters,
            window: self.window,
            paging: self.paging,
            items: PhantomData,
        }
    }

    /// Skips this many items at the start of the listing.
    ///
    /// Sent with the first request only: Cinder applies `offset` after the marker,
    /// so repeating it on later pages would skip items again.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.backups().offset(100); }
    /// ```
    pub fn offset(mut self, offset: u64) -> Self {
        self.paging.offset = Some(offset);
        self
    }

    /// Items per request, sent as `limit` (default 1000, must be at least 1).
    /// Servers may cap it silently; the walk goes on regardless.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.backups().page_size(200); }
    /// ```
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.paging.page_size = page_size;
        self
    }

    /// Stops after this many items in all; the last request asks only for
    /// what is still missing.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.backups().max_items(10_000); }
    /// ```
    pub fn max_items(mut self, max_items: u64) -> Self {
        self.paging.max_items = Some(max_items);
        self
    }

    /// Starts after the item with this id (the server's `marker`): the way to
    /// resume a walk from [`ItemStream::last_id`] or [`Error::resume_after`].
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.backups().after("b3cf7a16-decc-4beb-8077-682737d94a58"); }
    /// ```
    pub fn after(mut self, id: impl Into<String>) -> Self {
        self.paging.after = Some(id.into());
        self.paging.earlier.clear();
        self.paging.after_created_at = None;
        self.paging.next = None;
        self
    }

    /// Ends the walk with an error instead of fetching more than this many pages:
    /// a guard against a server that links on forever with ever new markers.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.backups().max_pages(10_000); }
    /// ```
    pub fn max_pages(mut self, max_pages: u64) -> Self {
        self.paging.max_pages = Some(max_pages);
        self
    }

    /// How many pages may be fetched ahead of the consumer (default 1, at most 64).
    /// 0 requests a page only when the consumer needs it. Memory holds at most
    /// `1 + prefetch` pages, whatever the total.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.backups().prefetch(2); }
    /// ```
    pub fn prefetch(mut self, pages: usize) -> Self {
        self.paging.prefetch = pages;
        self
    }

    /// The items one by one, in server order, across every page.
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
    /// use futures::StreamExt;
    ///
    /// let mut backups = client.backups().stream();
    /// while let Some(backup) = backups.next().await {
    ///     println!("{}", backup?.id);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stream(self) -> ItemStream<T> {
        ItemStream::new(self.into_walk())
    }

    /// The items page by page, each with the next link the server sent.
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
    /// use futures::TryStreamExt;
    ///
    /// let sizes: Vec<usize> = client.backups().pages().map_ok(|page| page.len()).try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn pages(self) -> PageStream<T> {
        PageStream::new(self.into_walk())
    }

    pub(crate) fn into_walk(mut self) -> Walk {
        let mut stop = None;
        let mut unsendable_window = None;
        if !self.window.is_empty() {
            if !T::CREATED_AT {
                unsendable_window =
                    Some("an age window needs items that carry created_at: use the detail listing");
            }
            let after = self.window.created_after;
            let before = self.window.created_before;
            match T::window_plan(&self.filters, after, before) {
                WindowPlan::Filter => {}
                WindowPlan::StopAt { add, bound } => {
                    for (key, value) in add {
                        self = self.set_filter(&key, value);
                    }
                    stop = Some(bound);
                }
                // Set, not appended: a resumed listing has them already.
                WindowPlan::Server(params) => {
                    for (key, value) in params {
                        self = self.set_filter(&key, value);
                    }
                }
            }
        }
        let client = self
            .client
            .choosing_microversion(T::microversion_needed(&self.filters));
        let unsendable =
            unsendable_window.or_else(|| T::unsendable(&self.filters, client.microversion()));
        Walk {
            client,
            collection: Collection::of::<T>(),
            unsendable,
            filters: self.filters,
            window: self.window,
            stop,
            paging: self.paging,
        }
    }
}

/// A sort direction.
///
/// ```
/// assert_ne!(vbs_backups::SortDir::Asc, vbs_backups::SortDir::Desc);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortDir {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

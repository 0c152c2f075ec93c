//! [`ListBackups`]: the query builder for `GET /{v2|v3}/{project_id}/backups`
//! and `…/backups/detail`.

use std::fmt;
use std::marker::PhantomData;

use crate::client::Client;
use crate::model::{BackupDetail, BackupStatus, BackupSummary, Listed};
use crate::pager::{ItemStream, PageStream, Walk};

/// Items per request when the caller does not say: the API's own maximum.
const DEFAULT_PAGE_SIZE: u32 = 1000;

impl Client {
    /// Starts a listing of this project's backups.
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
    /// use futures::TryStreamExt;
    ///
    /// let all: Vec<_> = client.backups().stream().try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn backups(&self) -> ListBackups {
        ListBackups::new(self.clone())
    }
}

/// A listing of backups: filters, page size, limits and starting point, then
/// [`stream`](Self::stream) for items or [`pages`](Self::pages) for whole pages.
///
/// Setters never fail; a bad setting (a page size of 0, say) is the first item
/// of the stream, as an error. The builder can be cloned to run the same query
/// again.
///
/// ```no_run
/// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
/// use futures::StreamExt;
/// use vbs_backups::BackupStatus;
///
/// let mut backups = client
///     .backups()
///     .status(BackupStatus::Available)
///     .volume_id("7d7c6fbe-d7ee-4b4d-8bae-bdd08b5604bb")
///     .page_size(500)
///     .stream();
/// while let Some(backup) = backups.next().await {
///     let backup = backup?;
///     println!("{} {:?}", backup.id, backup.name);
/// }
/// # Ok(()) }
/// ```
///
/// [`detail`](Self::detail) turns it into a listing of [`BackupDetail`]s, with the
/// same filters and pagination.
#[must_use = "a listing does nothing until `stream()` or `pages()` is polled"]
pub struct ListBackups<T = BackupSummary> {
    client: Client,
    items: PhantomData<fn() -> T>,
    name: Option<String>,
    status: Option<BackupStatus>,
    volume_id: Option<String>,
    offset: Option<u64>,
    page_size: u32,
    max_items: Option<u64>,
    after: Option<String>,
    /// Ids delivered before `after` by an earlier run, to step back to (see `Cursor`).
    earlier: Vec<String>,
    max_pages: Option<u64>,
    /// `key:dir` terms, in order.
    sort: Vec<String>,
    with_count: bool,
    prefetch: usize,
}

// By hand: a derive would ask `T: Clone` / `T: Debug`, which the builder never holds.
impl<T> Clone for ListBackups<T> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            items: PhantomData,
            name: self.name.clone(),
            status: self.status.clone(),
            volume_id: self.volume_id.clone(),
            offset: self.offset,
            page_size: self.page_size,
            max_items: self.max_items,
            after: self.after.clone(),
            earlier: self.earlier.clone(),
            max_pages: self.max_pages,
            sort: self.sort.clone(),
            with_count: self.with_count,
            prefetch: self.prefetch,
        }
    }
}

impl<T> fmt::Debug for ListBackups<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListBackups")
            .field("collection", &std::any::type_name::<T>())
            .field("name", &self.name)
            .field("status", &self.status)
            .field("volume_id", &self.volume_id)
            .field("offset", &self.offset)
            .field("page_size", &self.page_size)
            .field("max_items", &self.max_items)
            .field("after", &self.after)
            .field("sort", &self.sort)
            .field("with_count", &self.with_count)
            .field("prefetch", &self.prefetch)
            .finish_non_exhaustive()
    }
}

/// What to sort a listing by (Cinder's `sort=key:dir`).
///
/// ```no_run
/// # fn f(client: vbs_backups::Client) {
/// use vbs_backups::{SortDir, SortKey};
///
/// let oldest_first = client.backups().sort(SortKey::CreatedAt, SortDir::Asc);
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SortKey {
    /// Creation time (the server's default, descending).
    CreatedAt,
    /// Last update time.
    UpdatedAt,
    /// Backup id.
    Id,
    /// Backup name; sent as `display_name`, which every Cinder version accepts
    /// (`name` needs microversion 3.37).
    Name,
    /// Status.
    Status,
    /// Size.
    Size,
    /// Volume id.
    VolumeId,
}

impl SortKey {
    fn as_str(self) -> &'static str {
        match self {
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
            Self::Id => "id",
            Self::Name => "display_name",
            Self::Status => "status",
            Self::Size => "size",
            Self::VolumeId => "volume_id",
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

impl<T> ListBackups<T> {
    /// A listing with the defaults: no filters, pages of 1000, prefetch 1.
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            items: PhantomData,
            name: None,
            status: None,
            volume_id: None,
            offset: None,
            page_size: DEFAULT_PAGE_SIZE,
            max_items: None,
            after: None,
            earlier: Vec::new(),
            max_pages: None,
            sort: Vec::new(),
            with_count: false,
            prefetch: 1,
        }
    }

    /// Only backups with exactly this name (the server's comparison; case-sensitive on Cinder).
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.backups().name("weekly"); }
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Only backups in this status. An unknown status matches nothing, as on the server.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) {
    /// let q = client.backups().status(vbs_backups::BackupStatus::Error);
    /// let q = client.backups().status("error_deleting");
    /// # }
    /// ```
    pub fn status(mut self, status: impl Into<BackupStatus>) -> Self {
        self.status = Some(status.into());
        self
    }

    /// Only backups of this volume (disk).
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.backups().volume_id("7d7c6fbe-d7ee-4b4d-8bae-bdd08b5604bb"); }
    /// ```
    pub fn volume_id(mut self, volume_id: impl Into<String>) -> Self {
        self.volume_id = Some(volume_id.into());
        self
    }

    /// Skips this many backups at the start of the listing.
    ///
    /// Sent with the first request only: Cinder applies `offset` after the marker,
    /// so repeating it on later pages would skip backups again.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.backups().offset(100); }
    /// ```
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Backups per request, sent as `limit` (default 1000, must be at least 1).
    /// Servers may cap it silently; the walk goes on by the next link regardless.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.backups().page_size(200); }
    /// ```
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size;
        self
    }

    /// Stops after this many backups in all; the last request asks only for
    /// what is still missing.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.backups().max_items(10_000); }
    /// ```
    pub fn max_items(mut self, max_items: u64) -> Self {
        self.max_items = Some(max_items);
        self
    }

    /// Starts after the backup with this id (the server's `marker`): the way to
    /// resume a walk from [`ItemStream::last_id`] or [`Error::resume_after`](crate::Error::resume_after).
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.backups().after("b3cf7a16-decc-4beb-8077-682737d94a58"); }
    /// ```
    pub fn after(mut self, backup_id: impl Into<String>) -> Self {
        self.after = Some(backup_id.into());
        self
    }

    /// Ids that came just before `after`, from a cursor.
    pub(crate) fn earlier(mut self, earlier: Vec<String>) -> Self {
        self.earlier = earlier;
        self
    }

    /// Sorts by `key` in direction `dir`; later calls add tie-breakers. Without it
    /// the server's default applies (Cinder: newest first, then id descending).
    /// Marker pagination stays exact under any sort.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) {
    /// use vbs_backups::{SortDir, SortKey};
    ///
    /// let q = client.backups().sort(SortKey::Size, SortDir::Desc).sort(SortKey::Id, SortDir::Asc);
    /// # }
    /// ```
    pub fn sort(mut self, key: SortKey, dir: SortDir) -> Self {
        let dir = match dir {
            SortDir::Asc => "asc",
            SortDir::Desc => "desc",
        };
        self.sort.push(format!("{}:{dir}", key.as_str()));
        self
    }

    /// Sort terms as a cursor recorded them.
    pub(crate) fn raw_sort(mut self, terms: &str) -> Self {
        self.sort = terms.split(',').map(str::to_owned).collect();
        self
    }

    /// Asks the server to count all matching backups (Cinder `with_count`, which
    /// needs microversion 3.45 or later: see
    /// [`ClientBuilder::microversion`](crate::ClientBuilder::microversion)). The total
    /// is then known from the first page on: [`ItemStream::total`], [`Page::count`](crate::Page::count).
    ///
    /// Refused (the first item of the stream is an error) on a client without a
    /// microversion of 3.45 or later, because older servers treat `with_count` as a
    /// filter and silently return nothing.
    ///
    /// ```no_run
    /// # async fn run() -> vbs_backups::Result<()> {
    /// use futures::StreamExt;
    ///
    /// let client = vbs_backups::Client::builder()
    ///     .endpoint("http://127.0.0.1:8776/v3/p")
    ///     .microversion("3.45")
    ///     .build()?;
    /// let mut backups = client.backups().with_count().stream();
    /// let _first = backups.next().await;
    /// println!("{:?} backups in all", backups.total());
    /// # Ok(()) }
    /// ```
    pub fn with_count(mut self) -> Self {
        self.with_count = true;
        self
    }

    /// Ends the walk with an error instead of fetching more than this many pages:
    /// a guard against a server that links on forever with ever new markers.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.backups().max_pages(10_000); }
    /// ```
    pub fn max_pages(mut self, max_pages: u64) -> Self {
        self.max_pages = Some(max_pages);
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
        self.prefetch = pages;
        self
    }

    /// The backups one by one, in server order, across every page.
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
    pub fn stream(self) -> ItemStream<T>
    where
        T: Listed,
    {
        ItemStream::new(self.into_walk())
    }

    /// The backups page by page, each with the next link the server sent.
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
    /// use futures::TryStreamExt;
    ///
    /// let sizes: Vec<usize> = client.backups().pages().map_ok(|page| page.len()).try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn pages(self) -> PageStream<T>
    where
        T: Listed,
    {
        PageStream::new(self.into_walk())
    }

    fn into_walk(self) -> Walk
    where
        T: Listed,
    {
        let sort = (!self.sort.is_empty()).then(|| self.sort.join(","));
        let with_count = self.with_count.then(|| "true".to_owned());
        let filters = [
            ("name", self.name),
            (
                "status",
                self.status.map(|status| status.as_str().to_owned()),
            ),
            ("volume_id", self.volume_id),
            ("sort", sort),
            ("with_count", with_count),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some((key, value?)))
        .collect();
        let refusal = (self.with_count && !self.client.supports_microversion(3, 45)).then_some(
            "with_count needs microversion 3.45 or later (ClientBuilder::microversion): \
             older servers take it for a filter and return nothing",
        );
        Walk {
            client: self.client,
            collection: T::COLLECTION,
            items_key: T::ITEMS_KEY,
            refusal,
            filters,
            page_size: self.page_size,
            offset: self.offset,
            after: self.after,
            earlier: self.earlier,
            max_items: self.max_items,
            max_pages: self.max_pages,
            prefetch: self.prefetch,
        }
    }
}

impl ListBackups<BackupSummary> {
    /// The same listing from `/backups/detail`: every field of each backup
    /// ([`BackupDetail`]), same filters, same pagination.
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
    /// use futures::TryStreamExt;
    ///
    /// let failed: Vec<vbs_backups::BackupDetail> =
    ///     client.backups().status("error").detail().stream().try_collect().await?;
    /// for backup in &failed {
    ///     println!("{} {:?}", backup.id, backup.fail_reason);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn detail(self) -> ListBackups<BackupDetail> {
        ListBackups {
            client: self.client,
            items: PhantomData,
            name: self.name,
            status: self.status,
            volume_id: self.volume_id,
            offset: self.offset,
            page_size: self.page_size,
            max_items: self.max_items,
            after: self.after,
            earlier: self.earlier,
            max_pages: self.max_pages,
            sort: self.sort,
            with_count: self.with_count,
            prefetch: self.prefetch,
        }
    }
}

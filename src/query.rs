//! [`ListBackups`]: the query builder for `GET /{v2|v3}/{project_id}/backups`.

use crate::client::Client;
use crate::model::{BackupStatus, BackupSummary};
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
        ListBackups {
            client: self.clone(),
            name: None,
            status: None,
            volume_id: None,
            offset: None,
            page_size: DEFAULT_PAGE_SIZE,
            max_items: None,
            after: None,
            earlier: Vec::new(),
            max_pages: None,
            prefetch: 1,
        }
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
#[must_use = "a listing does nothing until `stream()` or `pages()` is polled"]
#[derive(Debug, Clone)]
pub struct ListBackups {
    client: Client,
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
    prefetch: usize,
}

impl ListBackups {
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
    pub fn stream(self) -> ItemStream<BackupSummary> {
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
    pub fn pages(self) -> PageStream<BackupSummary> {
        PageStream::new(self.into_walk())
    }

    fn into_walk(self) -> Walk {
        let filters = [
            ("name", self.name),
            (
                "status",
                self.status.map(|status| status.as_str().to_owned()),
            ),
            ("volume_id", self.volume_id),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some((key, value?)))
        .collect();
        Walk {
            client: self.client,
            collection: "backups",
            items_key: "backups",
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

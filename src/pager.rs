//! The generic pager: the next-link / marker state machine, prefetch and
//! cancellation, for any Cinder-style `*_links` collection.
//!
//! A walk is one `async` loop ([`walk_pages`]) that reads top to bottom: ask for a
//! page, hand it out, work out the next request from the `next` link. The public
//! stream types put laziness, prefetch and cancellation around it.

use std::collections::HashSet;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::stream::{BoxStream, FusedStream, Stream, StreamExt};
use tokio::sync::mpsc;
use url::Url;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::model::{Listed, Page};

/// The most pages a stream may fetch ahead of its consumer.
pub(crate) const MAX_PREFETCH: usize = 64;

/// Everything that defines one walk over a collection.
#[derive(Debug, Clone)]
pub(crate) struct Walk {
    pub client: Client,
    /// The collection path under the project, e.g. `backups`.
    pub collection: &'static str,
    /// The key of the item array in a page body, e.g. `backups`.
    pub items_key: &'static str,
    /// The caller's filters, sent on every request.
    pub filters: Vec<(&'static str, String)>,
    pub page_size: u32,
    /// Applied to the first request only (see DESIGN.md, rule 3).
    pub offset: Option<u64>,
    /// Start after this item id.
    pub after: Option<String>,
    pub max_items: Option<u64>,
    pub prefetch: usize,
}

/// Query keys the pager owns: whatever a next link says about them is replaced.
const PAGER_KEYS: [&str; 3] = ["limit", "marker", "offset"];

impl Walk {
    fn check(&self) -> Result<()> {
        if self.page_size == 0 {
            return Err(Error::config("page_size must be at least 1"));
        }
        if self.prefetch > MAX_PREFETCH {
            return Err(Error::config(format!(
                "prefetch must be at most {MAX_PREFETCH} pages, not {}",
                self.prefetch
            )));
        }
        if self.after.as_deref().is_some_and(str::is_empty) {
            return Err(Error::config(
                "after() needs a backup id, not an empty string",
            ));
        }
        Ok(())
    }

    /// The URL of a page: the configured collection URL with `carried` parameters
    /// from a next link, then the caller's filters, `limit`, `offset` and `marker`.
    fn page_url(
        &self,
        carried: &[(String, String)],
        limit: u64,
        offset: Option<u64>,
        marker: Option<&str>,
    ) -> Url {
        let mut url = self.client.collection_url(self.collection);
        {
            let mut query = url.query_pairs_mut();
            for (key, value) in carried {
                query.append_pair(key, value);
            }
            for (key, value) in &self.filters {
                query.append_pair(key, value);
            }
            query.append_pair("limit", &limit.to_string());
            if let Some(offset) = offset {
                query.append_pair("offset", &offset.to_string());
            }
            if let Some(marker) = marker {
                query.append_pair("marker", marker);
            }
        }
        url
    }

    /// The parameters of a next link worth carrying: everything but the pager's own
    /// keys and the caller's filters, which are re-applied from the query itself.
    fn carried_params(&self, next: &Url) -> (Vec<(String, String)>, Option<String>) {
        let mut carried = Vec::new();
        let mut marker = None;
        for (key, value) in next.query_pairs() {
            if key == "marker" {
                marker = Some(value.into_owned()).filter(|m| !m.is_empty());
            } else if !PAGER_KEYS.contains(&key.as_ref())
                && !self.filters.iter().any(|(filter, _)| *filter == key)
            {
                carried.push((key.into_owned(), value.into_owned()));
            }
        }
        (carried, marker)
    }
}

/// Remembers every marker followed so a server that links back never loops the
/// walk. Fingerprints keep it at 8 bytes a page, whatever the page size.
#[derive(Default)]
struct FollowedMarkers {
    seen: HashSet<u64>,
}

impl FollowedMarkers {
    /// Records `marker`; false if it was followed before.
    fn insert(&mut self, marker: &str) -> bool {
        let fingerprint = BuildHasherDefault::<DefaultHasher>::default().hash_one(marker);
        self.seen.insert(fingerprint)
    }
}

/// The walk itself: every page of the listing, in order, then the end or one error.
pub(crate) fn walk_pages<T: Listed>(walk: Walk) -> BoxStream<'static, Result<Page<T>>> {
    async_stream::try_stream! {
        walk.check()?;
        let mut remaining = walk.max_items;
        let mut followed = FollowedMarkers::default();
        if let Some(after) = &walk.after {
            followed.insert(after);
        }
        let mut carried: Vec<(String, String)> = Vec::new();
        let mut marker = walk.after.clone();
        let mut offset = walk.offset;
        let mut number = 0;
        loop {
            let limit = match remaining {
                Some(0) => break,
                Some(left) => left.min(u64::from(walk.page_size)),
                None => u64::from(walk.page_size),
            };
            number += 1;
            let url = walk.page_url(&carried, limit, offset.take(), marker.as_deref());
            tracing::debug!(page = number, marker = marker.as_deref(), limit, "requesting page");
            let mut page: Page<T> = walk.client.get_page(url.clone(), walk.items_key, number).await?;
            if let Some(left) = remaining.as_mut() {
                let allowed = usize::try_from(*left).unwrap_or(usize::MAX);
                page.items.truncate(allowed);
                *left -= page.items.len() as u64;
            }
            let last_id = page.items.last().map(|item| item.marker().to_owned());
            let Some(next) = page.next_link.as_ref().map(|link| link.href.clone()) else {
                yield page;
                break;
            };
            let next = url.join(&next).map_err(|err| {
                Error::pagination(format!("the next link `{next}` is not a URL: {err}"))
            })?;
            let (next_carried, next_marker) = walk.carried_params(&next);
            let next_marker = next_marker.or(last_id).ok_or_else(|| {
                Error::pagination(format!(
                    "page {number} is empty and its next link has no marker: the walk cannot go on"
                ))
            })?;
            if !followed.insert(&next_marker) {
                Err(Error::pagination(format!(
                    "page {number} links to marker `{next_marker}` again: the server's next links loop"
                )))?;
            }
            if page.items.len() < usize::try_from(limit).unwrap_or(usize::MAX) {
                tracing::debug!(page = number, items = page.items.len(), limit, "short page with a next link");
            }
            yield page;
            carried = next_carried;
            marker = Some(next_marker);
        }
    }
    .boxed()
}

/// A stream of whole pages; see [`ListBackups::pages`](crate::ListBackups::pages).
///
/// `Unpin + Send + 'static`: it owns a clone of the client, can be moved into
/// `tokio::spawn`, and needs no pinning. Nothing is requested before the first
/// poll; after an error or the end it yields nothing more; dropping it cancels the
/// request in flight.
///
/// ```no_run
/// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
/// use futures::StreamExt;
///
/// let mut pages = client.backups().page_size(500).pages();
/// while let Some(page) = pages.next().await {
///     let page = page?;
///     println!("{} backups, next link: {:?}", page.len(), page.next_link);
/// }
/// # Ok(()) }
/// ```
pub struct PageStream<T> {
    source: Source<T>,
    last_id: Option<String>,
}

enum Source<T> {
    /// Not polled yet: nothing has been requested.
    Idle {
        pages: BoxStream<'static, Result<Page<T>>>,
        prefetch: usize,
    },
    /// Pages fetched on demand, inside `poll_next`.
    OnDemand(BoxStream<'static, Result<Page<T>>>),
    /// Pages fetched ahead by a task; the channel's capacity is the prefetch depth.
    Prefetching {
        receiver: mpsc::Receiver<Result<Page<T>>>,
        _task: AbortOnDrop,
    },
    Ended,
}

/// Aborts the prefetch task, and with it the request in flight, when the stream goes.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T: Listed> PageStream<T> {
    pub(crate) fn new(walk: Walk) -> Self {
        let prefetch = walk.prefetch;
        Self {
            source: Source::Idle {
                pages: walk_pages(walk),
                prefetch,
            },
            last_id: None,
        }
    }

    /// The id of the last item of the last page yielded: pass it to
    /// [`ListBackups::after`](crate::ListBackups::after) to resume the walk.
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
    /// use futures::StreamExt;
    ///
    /// let mut pages = client.backups().pages();
    /// let _first = pages.next().await;
    /// let resume_from = pages.last_id().map(str::to_owned);
    /// # Ok(()) }
    /// ```
    pub fn last_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }

    fn start(pages: BoxStream<'static, Result<Page<T>>>, prefetch: usize) -> Result<Source<T>> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            Error::config("the stream must be polled inside a Tokio runtime (reqwest needs one)")
        })?;
        if prefetch == 0 {
            return Ok(Source::OnDemand(pages));
        }
        let (sender, receiver) = mpsc::channel(prefetch);
        let task = runtime.spawn(fetch_ahead(pages, sender));
        Ok(Source::Prefetching {
            receiver,
            _task: AbortOnDrop(task),
        })
    }
}

/// Fetches pages into `sender`, taking a slot before each request so that at most
/// the channel's capacity of pages is ever fetched ahead of the consumer.
async fn fetch_ahead<T>(
    mut pages: BoxStream<'static, Result<Page<T>>>,
    sender: mpsc::Sender<Result<Page<T>>>,
) {
    while let Ok(slot) = sender.reserve().await {
        match pages.next().await {
            Some(page) => slot.send(page),
            None => return,
        }
    }
}

impl<T: Listed> Stream for PageStream<T> {
    type Item = Result<Page<T>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Source::Idle { .. } = this.source {
            let Source::Idle { pages, prefetch } =
                std::mem::replace(&mut this.source, Source::Ended)
            else {
                return Poll::Ready(None);
            };
            match Self::start(pages, prefetch) {
                Ok(source) => this.source = source,
                Err(err) => return Poll::Ready(Some(Err(err))),
            }
        }
        let polled = match &mut this.source {
            Source::OnDemand(pages) => ready!(pages.poll_next_unpin(cx)),
            Source::Prefetching { receiver, .. } => ready!(receiver.poll_recv(cx)),
            Source::Idle { .. } | Source::Ended => None,
        };
        match polled {
            Some(Ok(page)) => {
                if let Some(last) = page.items.last() {
                    self.last_id = Some(last.marker().to_owned());
                }
                Poll::Ready(Some(Ok(page)))
            }
            Some(Err(err)) => {
                self.source = Source::Ended;
                Poll::Ready(Some(Err(err.with_resume_after(self.last_id.as_deref()))))
            }
            None => {
                self.source = Source::Ended;
                Poll::Ready(None)
            }
        }
    }
}

// Nothing inside is ever pinned in place (the walk itself is boxed), so the
// streams move freely whatever the item type.
impl<T> Unpin for PageStream<T> {}
impl<T> Unpin for ItemStream<T> {}

impl<T: Listed> FusedStream for PageStream<T> {
    fn is_terminated(&self) -> bool {
        matches!(self.source, Source::Ended)
    }
}

impl<T> std::fmt::Debug for PageStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.source {
            Source::Idle { .. } => "idle",
            Source::OnDemand(_) => "on demand",
            Source::Prefetching { .. } => "prefetching",
            Source::Ended => "ended",
        };
        f.debug_struct("PageStream")
            .field("state", &state)
            .field("last_id", &self.last_id)
            .finish()
    }
}

/// A stream of single items, page after page; see
/// [`ListBackups::stream`](crate::ListBackups::stream).
///
/// `Unpin + Send + 'static`, lazy, fused and cancelled on drop, like [`PageStream`].
/// It holds at most one page being handed out plus the pages fetched ahead.
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
pub struct ItemStream<T> {
    pages: PageStream<T>,
    current: std::vec::IntoIter<T>,
    last_id: Option<String>,
}

impl<T: Listed> ItemStream<T> {
    pub(crate) fn new(walk: Walk) -> Self {
        Self {
            pages: PageStream::new(walk),
            current: Vec::new().into_iter(),
            last_id: None,
        }
    }

    /// The id of the last item yielded, if any: a walk restarted with
    /// [`ListBackups::after`](crate::ListBackups::after) and this id yields exactly
    /// the items not seen yet.
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
    /// use futures::StreamExt;
    ///
    /// let mut backups = client.backups().stream();
    /// let _first = backups.next().await;
    /// if let Some(id) = backups.last_id() {
    ///     let rest = client.backups().after(id).stream();
    /// }
    /// # Ok(()) }
    /// ```
    pub fn last_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }
}

impl<T: Listed> Stream for ItemStream<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.current.next() {
                let last_id = this.last_id.get_or_insert_with(String::new);
                last_id.clear();
                last_id.push_str(item.marker());
                return Poll::Ready(Some(Ok(item)));
            }
            match ready!(this.pages.poll_next_unpin(cx)) {
                Some(Ok(page)) => this.current = page.items.into_iter(),
                Some(Err(err)) => {
                    return Poll::Ready(Some(Err(err.with_resume_after(this.last_id.as_deref()))));
                }
                None => return Poll::Ready(None),
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let buffered = self.current.len();
        if self.pages.is_terminated() {
            (buffered, Some(buffered))
        } else {
            (buffered, None)
        }
    }
}

impl<T: Listed> FusedStream for ItemStream<T> {
    fn is_terminated(&self) -> bool {
        self.current.len() == 0 && self.pages.is_terminated()
    }
}

impl<T> std::fmt::Debug for ItemStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItemStream")
            .field("pages", &self.pages)
            .field("buffered", &self.current.len())
            .field("last_id", &self.last_id)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(filters: &[(&'static str, &str)]) -> Walk {
        let client = Client::builder()
            .endpoint("http://127.0.0.1:8776/v2/p")
            .build()
            .expect("valid client");
        Walk {
            client,
            collection: "backups",
            items_key: "backups",
            filters: filters.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
            page_size: 10,
            offset: None,
            after: None,
            max_items: None,
            prefetch: 1,
        }
    }

    fn next_url(href: &str) -> Url {
        Url::parse("http://127.0.0.1:8776/v2/p/backups?limit=10")
            .and_then(|base| base.join(href))
            .expect("joinable href")
    }

    #[test]
    fn first_url_has_filters_limit_offset_and_marker_with_reserved_characters_escaped() {
        let walk = walk(&[("name", "spécial & name=1"), ("status", "available")]);
        let url = walk.page_url(&[], 10, Some(5), Some("m1"));
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8776/v2/p/backups?name=sp%C3%A9cial+%26+name%3D1&status=available&limit=10&offset=5&marker=m1"
        );
    }

    #[test]
    fn next_links_keep_only_their_query_and_lose_offset_limit_and_stale_filters() {
        let walk = walk(&[("status", "error")]);
        for href in [
            "http://192.0.2.1:8776/v2/p/backups?limit=5000&offset=2&status=available&sort=created_at%3Adesc&marker=m9",
            "https://proxy.example.com/p/backups?offset=2&limit=5000&sort=created_at:desc&status=available&marker=m9",
            "/v2/p/backups?sort=created_at%3Adesc&marker=m9",
            "backups?sort=created_at%3Adesc&marker=m9&marker=",
        ] {
            let (carried, marker) = walk.carried_params(&next_url(href));
            assert_eq!(
                carried,
                [("sort".to_owned(), "created_at:desc".to_owned())],
                "{href}"
            );
            let expected = if href.ends_with("marker=") {
                None
            } else {
                Some("m9")
            };
            assert_eq!(marker.as_deref(), expected, "{href}");
            let url = walk.page_url(&carried, 10, None, Some("m9"));
            assert_eq!(
                url.as_str(),
                "http://127.0.0.1:8776/v2/p/backups?sort=created_at%3Adesc&status=error&limit=10&marker=m9",
                "{href}"
            );
        }
    }

    #[test]
    fn followed_markers_detect_repeats() {
        let mut followed = FollowedMarkers::default();
        assert!(followed.insert("a"));
        assert!(followed.insert("b"));
        assert!(!followed.insert("a"));
    }

    #[test]
    fn bad_settings_are_config_errors() {
        let mut zero = walk(&[]);
        zero.page_size = 0;
        assert!(zero.check().is_err());
        let mut greedy = walk(&[]);
        greedy.prefetch = MAX_PREFETCH + 1;
        assert!(greedy.check().is_err());
        let mut empty_after = walk(&[]);
        empty_after.after = Some(String::new());
        assert!(empty_after.check().is_err());
        assert!(walk(&[]).check().is_ok());
    }
}

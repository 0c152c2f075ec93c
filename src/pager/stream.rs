//! The public streams around a walk: [`PageStream`] (whole pages) and [`ItemStream`]
//! (single items). They add what a consumer sees: nothing requested before the first
//! poll, pages fetched ahead by a task up to the prefetch depth, the request in flight
//! cancelled on drop, and a [`Cursor`] of what was handed out.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use futures::stream::{BoxStream, FusedStream, Stream, StreamExt};
use tokio::sync::mpsc;

use super::state::Walked;
use super::{Room, Walk, walk_pages};
use crate::cursor::{Cursor, FORMAT, FORMAT_PLAIN, Progress};
use crate::error::{Error, Result};
use crate::model::{Listed, Page};

/// Where a walk stands after `progress` (with `pages_done` pages handed out whole): its
/// definition, the items it still owes, and the pages it may still fetch. `next` is the
/// first item not handed out when the consumer is inside a page.
fn cursor(walk: &Walk, progress: &Progress, pages_done: u64, next: Option<&str>) -> Cursor {
    let paging = &walk.paging;
    let (after, earlier, after_created_at, offset) = match progress.last_id() {
        Some(last) => (
            Some(last.to_owned()),
            progress.earlier_ids(),
            progress.last_created_at(),
            None,
        ),
        // Nothing handed out: the walk starts over exactly as it was asked.
        None => (
            paging.after.clone(),
            paging.earlier.clone(),
            paging.after_created_at,
            paging.offset,
        ),
    };
    let next = match (next.or(progress.next()), progress.last_id()) {
        (Some(next), _) => Some(next.to_owned()),
        (None, Some(_)) => None,
        (None, None) => paging.next.clone(),
    };
    Cursor {
        format: if walk.window.is_empty() {
            FORMAT_PLAIN
        } else {
            FORMAT
        },
        project_id: walk.client.project_id().to_owned(),
        api_version: walk.client.api_version(),
        collection: walk.collection.cursor_name.to_owned(),
        filters: walk.filters.clone(),
        page_size: paging.page_size,
        after,
        earlier,
        after_created_at,
        next,
        offset,
        max_items: paging
            .max_items
            .map(|max| max.saturating_sub(progress.delivered)),
        max_pages: paging.max_pages.map(|max| max.saturating_sub(pages_done)),
        window: walk.window,
    }
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
#[must_use = "streams do nothing unless polled"]
pub struct PageStream<T> {
    source: Source<T>,
    walk: Walk,
    progress: Progress,
    total: Option<u64>,
    /// Set while an [`ItemStream`] waits for its next page: it then holds no page of
    /// its own, so the page the walk is decoding for it is not one ahead of it, and the
    /// prefetch depth has room for the next (see [`Room`]). `None` for a consumer of
    /// whole pages, who may keep the pages it was given.
    consumer_waiting: Option<Arc<AtomicBool>>,
}

enum Source<T> {
    /// Not polled yet: nothing has been requested.
    Idle,
    /// Pages fetched on demand, inside `poll_next`.
    OnDemand(BoxStream<'static, Result<Walked<T>>>),
    /// Pages fetched ahead by a task; the channel's capacity is the prefetch depth.
    Prefetching {
        receiver: mpsc::Receiver<Fetched<T>>,
        _task: AbortOnDrop,
    },
    Ended,
}

/// What the prefetch task sends. The end is said explicitly, so a task that died
/// (its runtime shut down) is not mistaken for a walk that finished.
enum Fetched<T> {
    Page(Result<Walked<T>>),
    End,
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
        Self {
            source: Source::Idle,
            walk,
            progress: Progress::default(),
            total: None,
            consumer_waiting: None,
        }
    }

    /// The total number of matching items, once a page has said it (Cinder 3.45+
    /// with [`ListBackups::with_count`](crate::ListBackups::with_count)).
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
    /// use futures::StreamExt;
    ///
    /// let mut pages = client.backups().with_count().pages();
    /// while let Some(page) = pages.next().await.transpose()? {
    ///     println!("{} of {:?}", page.len(), pages.total());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn total(&self) -> Option<u64> {
        self.total
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
        self.progress.last_id()
    }

    /// Where the walk stands after the pages yielded so far; see [`Cursor`].
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
    /// use futures::StreamExt;
    ///
    /// let mut pages = client.backups().pages();
    /// let _first = pages.next().await;
    /// let rest = client.resume(pages.cursor())?.pages();
    /// # Ok(()) }
    /// ```
    pub fn cursor(&self) -> Cursor {
        cursor(&self.walk, &self.progress, self.progress.pages, None)
    }

    fn start(walk: &Walk, consumer_waiting: Option<Arc<AtomicBool>>) -> Result<Source<T>> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            Error::config("the stream must be polled inside a Tokio runtime (reqwest needs one)")
        })?;
        let prefetch = walk.paging.prefetch;
        if prefetch == 0 {
            return Ok(Source::OnDemand(walk_pages(walk.clone(), None)));
        }
        let (sender, receiver) = mpsc::channel(prefetch);
        // The free slots of the channel, beyond the one the walk holds for its page, and
        // one more while an item consumer waits with no page in hand: with one page
        // ahead, that is when the next request may go out while the page decodes.
        let slots = sender.downgrade();
        let waiting = consumer_waiting.clone();
        let room: Room = Arc::new(move || {
            let free = slots.upgrade().map_or(0, |sender| sender.capacity());
            let idle = waiting
                .as_ref()
                .is_some_and(|waiting| waiting.load(Ordering::Acquire));
            free + usize::from(idle)
        });
        let pages = walk_pages(walk.clone(), Some(room));
        let task = runtime.spawn(fetch_ahead(pages, sender, consumer_waiting));
        Ok(Source::Prefetching {
            receiver,
            _task: AbortOnDrop(task),
        })
    }
}

/// The next message of the prefetch task, saying meanwhile whether the consumer waits.
fn receive<T>(
    receiver: &mut mpsc::Receiver<Fetched<T>>,
    consumer_waiting: Option<&AtomicBool>,
    cx: &mut Context<'_>,
) -> Poll<Option<Fetched<T>>> {
    // Said before looking, so that a page sent meanwhile (which clears it) is not
    // followed by a stale `true`.
    if let Some(waiting) = consumer_waiting {
        waiting.store(true, Ordering::Release);
    }
    let polled = receiver.poll_recv(cx);
    if let (Some(waiting), Poll::Ready(_)) = (consumer_waiting, &polled) {
        waiting.store(false, Ordering::Release);
    }
    polled
}

/// Fetches pages into `sender`, taking a slot before each request so that at most
/// the channel's capacity of pages is ever fetched ahead of the consumer.
async fn fetch_ahead<T>(
    mut pages: BoxStream<'static, Result<Walked<T>>>,
    sender: mpsc::Sender<Fetched<T>>,
    consumer_waiting: Option<Arc<AtomicBool>>,
) {
    while let Ok(slot) = sender.reserve().await {
        let fetched = match pages.next().await {
            Some(page) => Fetched::Page(page),
            None => Fetched::End,
        };
        let end = matches!(fetched, Fetched::End);
        slot.send(fetched);
        // The consumer has a page to take now: it waits no more.
        if let Some(waiting) = &consumer_waiting {
            waiting.store(false, Ordering::Release);
        }
        if end {
            return;
        }
    }
}

impl<T: Listed> PageStream<T> {
    /// The next page as the walk hands it out; an error or the end ends the source.
    fn poll_walked(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Walked<T>>>> {
        if let Source::Idle = self.source {
            self.source = match Self::start(&self.walk, self.consumer_waiting.clone()) {
                Ok(source) => source,
                Err(err) => {
                    self.source = Source::Ended;
                    return Poll::Ready(Some(Err(err)));
                }
            };
        }
        let polled = match &mut self.source {
            Source::OnDemand(pages) => ready!(pages.poll_next_unpin(cx)),
            Source::Prefetching { receiver, .. } => {
                match ready!(receive(receiver, self.consumer_waiting.as_deref(), cx)) {
                    Some(Fetched::Page(page)) => Some(page),
                    Some(Fetched::End) => None,
                    None => Some(Err(Error::runtime(
                        "the task fetching pages ahead stopped before the walk ended (was its Tokio runtime shut down?)",
                    ))),
                }
            }
            Source::Idle | Source::Ended => None,
        };
        if !matches!(polled, Some(Ok(_))) {
            self.source = Source::Ended;
        }
        if let Some(Ok(walked)) = &polled {
            self.total = walked.page.count.or(self.total);
        }
        Poll::Ready(polled)
    }
}

impl<T: Listed> Stream for PageStream<T> {
    type Item = Result<Page<T>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match ready!(this.poll_walked(cx)) {
            Some(Ok(Walked { page, passed, held })) => {
                this.progress.record_page(
                    page.items
                        .iter()
                        .map(|item| (item.marker(), item.created_at())),
                );
                if let Some((id, created_at)) = passed {
                    this.progress.pass(&id, created_at);
                }
                this.progress.set_next(held.as_deref());
                Poll::Ready(Some(Ok(page)))
            }
            Some(Err(err)) => {
                let err = err
                    .with_resume_after(this.progress.last_id())
                    .with_cursor(this.cursor());
                Poll::Ready(Some(Err(err)))
            }
            None => Poll::Ready(None),
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
            Source::Idle => "idle",
            Source::OnDemand(_) => "on demand",
            Source::Prefetching { .. } => "prefetching",
            Source::Ended => "ended",
        };
        f.debug_struct("PageStream")
            .field("state", &state)
            .field("progress", &self.progress)
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
#[must_use = "streams do nothing unless polled"]
pub struct ItemStream<T> {
    pages: PageStream<T>,
    current: std::vec::IntoIter<T>,
    /// What the walk passed after the current page's last item (an age window left it
    /// out), recorded once that item is handed out.
    passed: Option<(String, Option<jiff::Timestamp>)>,
    progress: Progress,
}

impl<T: Listed> ItemStream<T> {
    /// The current page is handed out whole: the walk stands after what it passed.
    fn pass_page_end(&mut self) {
        if let Some((id, created_at)) = self.passed.take() {
            self.progress.pass(&id, created_at);
        }
    }

    pub(crate) fn new(walk: Walk) -> Self {
        Self {
            pages: PageStream {
                consumer_waiting: Some(Arc::default()),
                ..PageStream::new(walk)
            },
            current: Vec::new().into_iter(),
            passed: None,
            progress: Progress::default(),
        }
    }

    /// The id of the last item yielded, if any: a walk restarted with
    /// [`ListBackups::after`](crate::ListBackups::after) and this id (and the same
    /// filters, without `offset`, which Cinder would apply again after the marker)
    /// yields exactly the items not seen yet. [`cursor`](Self::cursor) does all of
    /// that for you.
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
        self.progress.last_id()
    }

    /// Where the walk stands after the items yielded so far, serializable to resume
    /// it later, in this process or another; see [`Cursor`].
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use futures::StreamExt;
    ///
    /// let mut backups = client.backups().max_items(500).stream();
    /// let _first = backups.next().await;
    /// std::fs::write("walk.json", serde_json::to_vec(&backups.cursor())?)?;
    /// # Ok(()) }
    /// ```
    pub fn cursor(&self) -> Cursor {
        // The page being handed out is not done until its last item is.
        let next = self.current.as_slice().first().map(Listed::marker);
        let in_page = u64::from(next.is_some());
        let pages_done = self.pages.progress.pages.saturating_sub(in_page);
        cursor(&self.pages.walk, &self.progress, pages_done, next)
    }

    /// Whether every item fetched so far has been handed out: the walk stands between
    /// two pages (a checkpoint taken now repeats nothing of the page just handed out).
    pub(crate) fn between_pages(&self) -> bool {
        self.current.len() == 0
    }

    /// The total number of matching items, once the first page has said it (Cinder
    /// 3.45+ with [`ListBackups::with_count`](crate::ListBackups::with_count)): for
    /// a progress display.
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
    /// use futures::StreamExt;
    ///
    /// let mut backups = client.backups().with_count().stream();
    /// let mut done = 0;
    /// while let Some(backup) = backups.next().await.transpose()? {
    ///     done += 1;
    ///     if let Some(total) = backups.total() {
    ///         eprint!("\r{done}/{total}");
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn total(&self) -> Option<u64> {
        self.pages.total()
    }
}

impl<T: Listed> Stream for ItemStream<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.current.next() {
                this.progress.record(item.marker(), item.created_at());
                if this.current.len() == 0 {
                    this.pass_page_end();
                }
                return Poll::Ready(Some(Ok(item)));
            }
            // Every item of the page is handed out: free its buffer now rather than
            // keep it while the next page is received and decoded.
            this.current = Vec::new().into_iter();
            match ready!(this.pages.poll_walked(cx)) {
                Some(Ok(Walked { page, passed, held })) => {
                    this.pages.progress.pages += 1;
                    this.progress.set_next(held.as_deref());
                    this.passed = passed;
                    this.current = page.items.into_iter();
                    if this.current.len() == 0 {
                        this.pass_page_end();
                    }
                }
                Some(Err(err)) => {
                    let err = err
                        .with_resume_after(this.progress.last_id())
                        .with_cursor(this.cursor());
                    return Poll::Ready(Some(Err(err)));
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
            .field("progress", &self.progress)
            .finish()
    }
}

//! The generic pager: the next-link / marker state machine, prefetch and
//! cancellation, for any collection: it knows a collection only by its path, its items
//! key and how its pages go on ([`Pagination`]).
//!
//! A walk is one `async` loop ([`walk_pages`]) that reads top to bottom: ask for a
//! page, hand it out, work out the next request from the `next` link. The public
//! stream types put laziness, prefetch and cancellation around it.

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::stream::{BoxStream, FusedStream, Stream, StreamExt};
use jiff::Timestamp;
use tokio::sync::mpsc;
use tracing::Instrument;
use url::Url;

use crate::client::Client;
use crate::cursor::{Cursor, EARLIER_IDS, FORMAT, FORMAT_PLAIN, Progress, Window};
use crate::error::{Error, Result};
use crate::model::{Edge, Listed, Page, Pagination};

/// The most pages a stream may fetch ahead of its consumer.
pub(crate) const MAX_PREFETCH: usize = 64;

/// Items per request when the caller does not say: the Cinder API's own maximum.
const DEFAULT_PAGE_SIZE: u32 = 1000;

/// The paging settings every collection shares: how much each request asks for, where
/// the walk starts, when it stops, how far it fetches ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Paging {
    pub page_size: u32,
    /// Applied to the first request only (see DESIGN.md, rule 3).
    pub offset: Option<u64>,
    /// Start after this item id.
    pub after: Option<String>,
    /// Ids delivered before `after` by an earlier run, oldest first.
    pub earlier: Vec<String>,
    pub max_items: Option<u64>,
    /// Ends the walk with an error rather than fetch more pages than this.
    pub max_pages: Option<u64>,
    pub prefetch: usize,
}

impl Default for Paging {
    /// Pages of 1000, one fetched ahead, no limits.
    fn default() -> Self {
        Self {
            page_size: DEFAULT_PAGE_SIZE,
            offset: None,
            after: None,
            earlier: Vec::new(),
            max_items: None,
            max_pages: None,
            prefetch: 1,
        }
    }
}

/// A collection as the pager knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Collection {
    /// The path under the project, e.g. `backups`.
    pub path: &'static str,
    /// The key of the item array in a page body, e.g. `backups`.
    pub items_key: &'static str,
    pub pagination: Pagination,
    /// The largest `limit` the server accepts (see [`Listed::MAX_PAGE_SIZE`]).
    pub max_page_size: Option<u32>,
    /// The name cursors give the collection (see [`Listed::CURSOR_NAME`]).
    pub cursor_name: &'static str,
}

impl Collection {
    pub(crate) fn of<T: Listed>() -> Self {
        Self {
            path: T::COLLECTION,
            items_key: T::ITEMS_KEY,
            pagination: T::PAGINATION,
            max_page_size: T::MAX_PAGE_SIZE,
            cursor_name: T::CURSOR_NAME,
        }
    }
}

/// Everything that defines one walk over a collection.
#[derive(Debug, Clone)]
pub(crate) struct Walk {
    pub client: Client,
    pub collection: Collection,
    /// Why the query cannot be sent as configured, found when it was built.
    pub refusal: Option<&'static str>,
    /// The caller's filters, sent on every request, in the order they were set.
    pub filters: Vec<(String, String)>,
    /// Only items created in this window are handed out.
    pub window: Window,
    /// The bound of `window` that ends the walk at the first item past it, when the
    /// filters order the items by creation time towards it.
    pub stop: Option<Edge>,
    pub paging: Paging,
}

/// Query parameters carried from a next link to the next request, in order.
type Carried = Vec<(String, String)>;

/// Query keys the pager owns: whatever a next link says about them is replaced.
const PAGER_KEYS: [&str; 3] = ["limit", "marker", "offset"];

impl Walk {
    fn check(&self) -> Result<()> {
        if let Some(refusal) = self.refusal {
            return Err(Error::config(refusal));
        }
        if self.paging.page_size == 0 {
            return Err(Error::config("page_size must be at least 1"));
        }
        if let Some(max) = self
            .collection
            .max_page_size
            .filter(|max| self.paging.page_size > *max)
        {
            return Err(Error::config(format!(
                "page_size must be at most {max} for `{}` (the server refuses larger pages), not {}",
                self.collection.path, self.paging.page_size
            )));
        }
        if self.paging.prefetch > MAX_PREFETCH {
            return Err(Error::config(format!(
                "prefetch must be at most {MAX_PREFETCH} pages, not {}",
                self.paging.prefetch
            )));
        }
        if self.paging.after.as_deref().is_some_and(str::is_empty) {
            return Err(Error::config(
                "after() needs an item id, not an empty string",
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
        let mut url = self.client.collection_url(self.collection.path);
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

    /// Where a page's next link leads: the parameters to carry and the marker to send.
    /// Fails rather than loop or repeat items: a marker followed before, a marker
    /// inside the page (not its last item), or no marker at all on an empty page.
    fn next_step(
        &self,
        url: &Url,
        href: &str,
        page_ids: &[String],
        followed: &mut FollowedMarkers,
        number: u64,
    ) -> Result<(Carried, String)> {
        let (carried, marker) = self.follow(url, href)?;
        let marker = marker.or_else(|| page_ids.last().cloned()).ok_or_else(|| {
            Error::pagination(format!(
                "page {number} is empty and its next link has no marker: the walk cannot go on"
            ))
        })?;
        if page_ids.iter().rev().skip(1).any(|id| *id == marker) {
            return Err(Error::pagination(format!(
                "page {number} links on from `{marker}`, inside the page: following it would repeat items"
            )));
        }
        if !followed.insert(&marker) {
            return Err(Error::pagination(format!(
                "page {number} links to marker `{marker}` again: the server's next links loop"
            )));
        }
        Ok((carried, marker))
    }

    /// What to carry from a next link `href` (relative to the page's `url`), and the
    /// marker it names, if any.
    fn follow(&self, url: &Url, href: &str) -> Result<(Carried, Option<String>)> {
        let next = url.join(href).map_err(|err| {
            Error::pagination(format!("the next link `{href}` is not a URL: {err}"))
        })?;
        Ok(self.carried_params(&next))
    }

    /// The parameters of a next link worth carrying: everything but the pager's own
    /// keys and the caller's filters, which are re-applied from the query itself.
    fn carried_params(&self, next: &Url) -> (Carried, Option<String>) {
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

/// How many of the most recent markers the loop guard compares each new one with.
pub(crate) const RECENT_MARKERS: usize = 1024;

/// Catches a server whose next links loop, in bounded memory whatever the length of
/// the walk: the last [`RECENT_MARKERS`] markers (8 bytes each, as fingerprints) catch
/// a loop of up to that many pages at its first repeat; one checkpoint, moved to the
/// current marker after 1024, 2048, 4096, … pages (Brent's cycle detection), catches a
/// longer loop within about twice its length. About 8 KiB for a walk of any length.
struct FollowedMarkers {
    recent: VecDeque<u64>,
    checkpoint: Option<u64>,
    since_checkpoint: u64,
    next_checkpoint: u64,
}

impl Default for FollowedMarkers {
    fn default() -> Self {
        Self {
            recent: VecDeque::with_capacity(RECENT_MARKERS),
            checkpoint: None,
            since_checkpoint: 0,
            next_checkpoint: RECENT_MARKERS as u64,
        }
    }
}

impl FollowedMarkers {
    /// Records `marker`; false if it repeats a recent marker or the checkpoint.
    fn insert(&mut self, marker: &str) -> bool {
        let fingerprint = BuildHasherDefault::<DefaultHasher>::default().hash_one(marker);
        if self.checkpoint == Some(fingerprint) || self.recent.contains(&fingerprint) {
            return false;
        }
        if self.recent.len() == RECENT_MARKERS {
            self.recent.pop_front();
        }
        self.recent.push_back(fingerprint);
        self.since_checkpoint += 1;
        if self.since_checkpoint >= self.next_checkpoint {
            self.checkpoint = Some(fingerprint);
            self.since_checkpoint = 0;
            self.next_checkpoint = self.next_checkpoint.saturating_mul(2);
        }
        true
    }
}

/// Where a page of a collection without next links leads: after its last item. Fails
/// rather than loop when that id was followed before (a server that repeats a page).
fn last_id_step(
    page_ids: &[String],
    followed: &mut FollowedMarkers,
    number: u64,
) -> Result<(Carried, String)> {
    let marker = page_ids.last().cloned().ok_or_else(|| {
        Error::pagination(format!("page {number} is empty: the walk cannot go on"))
    })?;
    if !followed.insert(&marker) {
        return Err(Error::pagination(format!(
            "page {number} ends on `{marker}` again: the server repeats its pages"
        )));
    }
    Ok((Carried::new(), marker))
}

/// Where a walk stands after `progress` (with `pages_done` pages handed out whole): its
/// definition, the items it still owes, and the pages it may still fetch.
fn cursor(walk: &Walk, progress: &Progress, pages_done: u64) -> Cursor {
    let paging = &walk.paging;
    let (after, earlier, offset) = match progress.last_id() {
        Some(last) => (Some(last.to_owned()), progress.earlier_ids(), None),
        // Nothing delivered: the walk starts over exactly as it was asked.
        None => (paging.after.clone(), paging.earlier.clone(), paging.offset),
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
        offset,
        max_items: paging
            .max_items
            .map(|max| max.saturating_sub(progress.delivered)),
        max_pages: paging.max_pages.map(|max| max.saturating_sub(pages_done)),
        window: walk.window,
    }
}

/// The walk itself: every page of the listing, in order, then the end or one error.
pub(crate) fn walk_pages<T: Listed>(walk: Walk) -> BoxStream<'static, Result<Page<T>>> {
    async_stream::try_stream! {
        walk.check()?;
        let paging = &walk.paging;
        let mut window = WindowCheck::new(&walk.window, walk.stop);
        if window.as_ref().is_some_and(WindowCheck::is_empty_range) {
            // Nothing can be created at or after a time and before an earlier one.
            return;
        }
        let mut remaining = paging.max_items;
        let mut followed = FollowedMarkers::default();
        if let Some(after) = &paging.after {
            followed.insert(after);
        }
        let mut carried = Carried::new();
        let mut marker = paging.after.clone();
        let mut offset = paging.offset;
        // Items the server had before the current position: what `count` is checked against.
        let mut passed = paging.offset.unwrap_or(0);
        let mut number = 0;
        // Ids of the last page that had any, newest last: where to step back to if
        // the marker vanishes. One page of ids, whatever the total.
        let mut recent_ids: Vec<String> = paging.earlier.clone();
        if !recent_ids.is_empty() {
            recent_ids.extend(paging.after.clone());
        }
        // Items delivered before a step back, to be skipped when they come again.
        let mut redelivered: HashSet<String> = HashSet::new();
        let mut noticed_capping = false;
        loop {
            let limit = match remaining {
                Some(0) => break,
                // A window drops items, so the page asks for its full size.
                Some(_) if window.is_some() => u64::from(paging.page_size),
                Some(left) => left.min(u64::from(paging.page_size)),
                None => u64::from(paging.page_size),
            };
            if paging.max_pages.is_some_and(|max| number >= max) {
                Err(Error::pagination(format!(
                    "the walk reached its limit of {number} pages (max_pages)"
                )))?;
            }
            number += 1;
            let url = walk.page_url(&carried, limit, offset.take(), marker.as_deref());
            let mut page: Page<T> = match walk.fetch(&url, number, marker.as_deref(), limit).await {
                Err(err)
                    if !recent_ids.is_empty()
                        && marker.as_deref().is_some_and(|m| err.is_missing_marker(m)) =>
                {
                    let vanished = marker.as_deref().unwrap_or_default();
                    let stepped = match walk.unstable_sort(&carried) {
                        Some(sort) => Err(Error::pagination(format!(
                            "marker `{vanished}` vanished (deleted?) and the listing is sorted by \
                             `{sort}`, an order in which items move when they change: stepping back \
                             could skip or repeat backups, so the walk stops here"
                        ))
                        .with_source(err)),
                        None => {
                            walk.step_back(&carried, limit, vanished, &recent_ids, number, err)
                                .await
                        }
                    };
                    let (page, skip) = stepped?;
                    redelivered = skip;
                    page
                }
                fetched => fetched?,
            };
            let unhonoured = page.items.iter().find_map(|item| item.unhonoured(&walk.filters));
            if let Some(problem) = unhonoured {
                Err(problem.with_context(format!("page {number}")))?;
            }
            let received = page.items.len();
            if received > 0 {
                overwrite_ids(&mut recent_ids, page.items.iter().map(Listed::marker));
            }
            if !redelivered.is_empty() {
                skip_redelivered(&mut page.items, &mut redelivered);
            }
            // Items seen for the first time: those a step back brings again were counted.
            let fresh = page.items.len() as u64;
            let past_window = match window.as_mut() {
                Some(window) => window.keep(&mut page.items, number)?,
                None => false,
            };
            if let Some(left) = remaining.as_mut() {
                page.items.truncate(usize::try_from(*left).unwrap_or(usize::MAX));
                *left -= page.items.len() as u64;
            }
            if past_window {
                tracing::debug!(page = number, "the walk reached the end of its age window");
                yield page;
                break;
            }
            passed = passed.saturating_add(fresh);
            let short = received < usize::try_from(limit).unwrap_or(usize::MAX);
            let page_ids = if received > 0 { recent_ids.as_slice() } else { &[] };
            let next = match walk.collection.pagination {
                Pagination::NextLink => {
                    let next_link = page.next_link.as_ref().map(|link| link.href.clone());
                    let Some(next_link) = next_link.filter(|_| remaining != Some(0)) else {
                        yield page;
                        break;
                    };
                    if short && !noticed_capping {
                        noticed_capping = true;
                        tracing::info!(
                            page = number, received, limit,
                            "the server sent fewer items than asked for and links on: it caps the page size"
                        );
                    }
                    walk.next_step(&url, &next_link, page_ids, &mut followed, number)
                }
                Pagination::LastIdUntilEmpty => {
                    let counted_out = short && page.count.is_some_and(|count| passed >= count);
                    if received == 0 || remaining == Some(0) || counted_out {
                        yield page;
                        break;
                    }
                    last_id_step(page_ids, &mut followed, number)
                }
            };
            // The page is good whatever its link says: hand it out before failing.
            yield page;
            let (next_carried, next_marker) = next?;
            carried = next_carried;
            marker = Some(next_marker);
        }
    }
    .boxed()
}

/// An age window as a walk checks it.
struct WindowCheck {
    /// Inclusive.
    after: Option<Timestamp>,
    /// Exclusive.
    before: Option<Timestamp>,
    /// The bound the walk's order goes towards, if it does.
    stop: Option<Edge>,
    /// The creation time of the last item seen, to check the order the stop relies on.
    last: Option<Timestamp>,
}

impl WindowCheck {
    /// The check for `window`; none for a walk without one.
    fn new(window: &Window, stop: Option<Edge>) -> Option<Self> {
        if window.is_empty() {
            return None;
        }
        Some(Self {
            after: window.created_after,
            before: window.created_before,
            stop,
            last: None,
        })
    }

    /// Whether no time can be in the window (`after` at or past `before`).
    fn is_empty_range(&self) -> bool {
        matches!((self.after, self.before), (Some(after), Some(before)) if after >= before)
    }

    fn contains(&self, created: Timestamp) -> bool {
        self.after.is_none_or(|after| created >= after)
            && self.before.is_none_or(|before| created < before)
    }

    /// Whether `created` is past the bound the walk goes towards.
    fn past(&self, edge: Edge, created: Timestamp) -> bool {
        match edge {
            Edge::Before => self.before.is_some_and(|before| created >= before),
            Edge::After => self.after.is_some_and(|after| created < after),
        }
    }

    /// Keeps the items of a page that are in the window; true when the walk is over:
    /// an item is past the bound its order goes towards, so every later one is too.
    /// Fails when the items are not in the order the stop relies on (a server that
    /// ignored the sort): stopping there could miss backups of the window.
    fn keep<T: Listed>(&mut self, items: &mut Vec<T>, number: u64) -> Result<bool> {
        let mut end = None;
        if let Some(edge) = self.stop {
            for (index, item) in items.iter().enumerate() {
                let Some(created) = item.created_at() else {
                    continue;
                };
                let out_of_order = self.last.is_some_and(|last| match edge {
                    Edge::Before => created < last,
                    Edge::After => created > last,
                });
                if out_of_order {
                    let order = match edge {
                        Edge::Before => "created_at:asc",
                        Edge::After => "created_at:desc",
                    };
                    return Err(Error::pagination(format!(
                        "page {number}: the backups do not come in `{order}` order (the server \
                         ignored the sort?), so the age window cannot end the walk early without \
                         missing some: add a sort of your own to read every page and filter"
                    )));
                }
                self.last = Some(created);
                if end.is_none() && self.past(edge, created) {
                    end = Some(index);
                }
            }
        }
        if let Some(end) = end {
            items.truncate(end);
        }
        items.retain(|item| {
            item.created_at()
                .is_some_and(|created| self.contains(created))
        });
        Ok(end.is_some())
    }
}

/// Makes `ids` hold `new` ids, reusing its strings: after the first page a walk copies
/// each page's ids into buffers it already has instead of allocating one per item.
fn overwrite_ids<'a>(ids: &mut Vec<String>, new: impl Iterator<Item = &'a str>) {
    let mut kept = 0;
    for id in new {
        match ids.get_mut(kept) {
            Some(buffer) => {
                buffer.clear();
                buffer.push_str(id);
            }
            None => ids.push(id.to_owned()),
        }
        kept += 1;
    }
    ids.truncate(kept);
}

/// Drops items delivered before a step back. Server order is stable, so once an
/// item that was not delivered before shows up, no more repeats can follow.
fn skip_redelivered<T: Listed>(items: &mut Vec<T>, redelivered: &mut HashSet<String>) {
    let repeats = items
        .iter()
        .take_while(|item| redelivered.contains(item.marker()))
        .count();
    if repeats < items.len() {
        redelivered.clear();
    } else {
        for item in items.iter() {
            redelivered.remove(item.marker());
        }
    }
    items.drain(..repeats);
}

impl Walk {
    /// One page request, in a span that says which page, from where, and how it went.
    async fn fetch<T: Listed>(
        &self,
        url: &Url,
        number: u64,
        marker: Option<&str>,
        limit: u64,
    ) -> Result<Page<T>> {
        let span = tracing::debug_span!(
            "page",
            number,
            marker,
            limit,
            items = tracing::field::Empty,
            attempt = tracing::field::Empty,
        );
        let page: Page<T> = self
            .client
            .get_page(url, self.collection.items_key, number)
            .instrument(span.clone())
            .await?;
        span.record("items", page.items.len());
        Ok(page)
    }

    /// The marker was deleted between two requests: asks again after each earlier
    /// id of the last page, newest first, at most [`EARLIER_IDS`] of them, and returns
    /// the first page that comes back with the ids it will repeat. Without any such id
    /// the walk cannot go on.
    async fn step_back<T: Listed>(
        &self,
        carried: &[(String, String)],
        limit: u64,
        vanished: &str,
        recent_ids: &[String],
        number: u64,
        missing: Error,
    ) -> Result<(Page<T>, HashSet<String>)> {
        let earlier = recent_ids
            .iter()
            .rposition(|id| id == vanished)
            .unwrap_or(recent_ids.len());
        let candidates = recent_ids[..earlier]
            .iter()
            .enumerate()
            .rev()
            .take(EARLIER_IDS);
        for (index, candidate) in candidates {
            tracing::warn!(
                vanished,
                candidate,
                "the marker no longer exists; stepping back"
            );
            let url = self.page_url(carried, limit, None, Some(candidate));
            match self.fetch::<T>(&url, number, Some(candidate), limit).await {
                Ok(page) => {
                    let repeats = recent_ids[index + 1..].iter().cloned().collect();
                    return Ok((page, repeats));
                }
                Err(err) if err.is_missing_marker(candidate) => continue,
                Err(err) => return Err(err),
            }
        }
        Err(Error::pagination(format!(
            "marker `{vanished}` vanished and none of the {EARLIER_IDS} items delivered before it \
             exists any more: the walk cannot go on (deleting backups while listing them? see \
             \"Cleanup jobs\" in the README)"
        ))
        .with_source(missing))
    }

    /// The sort term that makes stepping back unsafe, if any. Stepping back after an
    /// earlier id is exact only when items never move relative to each other while the
    /// walk goes on: when every term of the order up to the first `id` term (which is
    /// unique and settles the rest) is `created_at` or `id`. No sort at all is the
    /// server's default (`created_at`, then `id`), which is stable; so is `created_at`
    /// alone, which Cinder breaks ties in by `id`. Any other key (`updated_at`,
    /// `status`, `size`, `name`, …) changes when a backup is being deleted or updated,
    /// which moves it. Both `sort=key:dir,…` and the older `sort_key=key,…` are read,
    /// from the caller's filters and from what a next link carries.
    fn unstable_sort<'a>(&'a self, carried: &'a [(String, String)]) -> Option<&'a str> {
        self.filters
            .iter()
            .chain(carried)
            .filter(|(key, _)| key == "sort" || key == "sort_key")
            .map(|(_, value)| value.as_str())
            .find(|value| !is_stable_order(value))
    }
}

/// Whether the sort terms of `value` (`created_at:desc,id:asc`) keep items in place; see
/// [`Walk::unstable_sort`].
fn is_stable_order(value: &str) -> bool {
    for term in value.split(',') {
        let key = term.split(':').next().unwrap_or_default().trim();
        match key {
            "id" => return true,
            "created_at" | "" => {}
            _ => return false,
        }
    }
    true
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
        receiver: mpsc::Receiver<Fetched<T>>,
        _task: AbortOnDrop,
    },
    Ended,
}

/// What the prefetch task sends. The end is said explicitly, so a task that died
/// (its runtime shut down) is not mistaken for a walk that finished.
enum Fetched<T> {
    Page(Result<Page<T>>),
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
            source: Source::Idle {
                pages: walk_pages(walk.clone()),
                prefetch: walk.paging.prefetch,
            },
            walk,
            progress: Progress::default(),
            total: None,
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
        cursor(&self.walk, &self.progress, self.progress.pages)
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
    sender: mpsc::Sender<Fetched<T>>,
) {
    while let Ok(slot) = sender.reserve().await {
        match pages.next().await {
            Some(page) => slot.send(Fetched::Page(page)),
            None => return slot.send(Fetched::End),
        }
    }
}

impl<T: Listed> Stream for PageStream<T> {
    type Item = Result<Page<T>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Source::Idle { .. } = this.source {
            this.source = match std::mem::replace(&mut this.source, Source::Ended) {
                Source::Idle { pages, prefetch } => match Self::start(pages, prefetch) {
                    Ok(source) => source,
                    Err(err) => return Poll::Ready(Some(Err(err))),
                },
                other => other,
            };
        }
        let polled = match &mut this.source {
            Source::OnDemand(pages) => ready!(pages.poll_next_unpin(cx)),
            Source::Prefetching { receiver, .. } => match ready!(receiver.poll_recv(cx)) {
                Some(Fetched::Page(page)) => Some(page),
                Some(Fetched::End) => None,
                None => Some(Err(Error::runtime(
                    "the task fetching pages ahead stopped before the walk ended (was its Tokio runtime shut down?)",
                ))),
            },
            Source::Idle { .. } | Source::Ended => None,
        };
        match polled {
            Some(Ok(page)) => {
                this.progress
                    .record_page(page.items.iter().map(Listed::marker));
                this.total = page.count.or(this.total);
                Poll::Ready(Some(Ok(page)))
            }
            Some(Err(err)) => {
                this.source = Source::Ended;
                let err = err
                    .with_resume_after(this.progress.last_id())
                    .with_cursor(this.cursor());
                Poll::Ready(Some(Err(err)))
            }
            None => {
                this.source = Source::Ended;
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
    progress: Progress,
}

impl<T: Listed> ItemStream<T> {
    pub(crate) fn new(walk: Walk) -> Self {
        Self {
            pages: PageStream::new(walk),
            current: Vec::new().into_iter(),
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
        let in_page = u64::from(self.current.len() > 0);
        let pages_done = self.pages.progress.pages.saturating_sub(in_page);
        cursor(&self.pages.walk, &self.progress, pages_done)
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
                this.progress.record(item.marker());
                return Poll::Ready(Some(Ok(item)));
            }
            // Every item of the page is handed out: free its buffer now rather than
            // keep it while the next page is received and decoded.
            this.current = Vec::new().into_iter();
            match ready!(this.pages.poll_next_unpin(cx)) {
                Some(Ok(page)) => this.current = page.items.into_iter(),
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

/// Entry points for `cargo fuzz` (built with `--cfg fuzzing` only).
#[cfg(fuzzing)]
pub mod fuzzing {
    use std::sync::OnceLock;

    use super::*;
    use crate::model::{BackupSummary, decode_page};

    /// Decodes `body` as a page of backups and as an error body, and, if the page
    /// links on, builds the next request the way a walk does. Panics if that
    /// request could leave the configured collection or repeat `offset`.
    pub fn page_and_next_link(body: &[u8]) {
        static WALK: OnceLock<Option<Walk>> = OnceLock::new();
        let Some(walk) = WALK.get_or_init(|| {
            let client = Client::builder()
                .endpoint("https://vbs.example.com:8776/volume/v2/p")
                .build()
                .ok()?;
            Some(Walk {
                client,
                collection: Collection::of::<BackupSummary>(),
                refusal: None,
                filters: vec![("status".to_owned(), "error".to_owned())],
                window: Window::default(),
                stop: None,
                paging: Paging {
                    page_size: 50,
                    offset: Some(3),
                    ..Paging::default()
                },
            })
        }) else {
            return;
        };
        let _ = Error::from_response(500, None, body).to_string();
        let Ok(page) = decode_page::<BackupSummary>(body, "backups", 1) else {
            return;
        };
        let Some(next) = page.next_link else {
            return;
        };
        let current = walk.page_url(&[], 50, Some(3), None);
        let Ok((carried, marker)) = walk.follow(&current, &next.href) else {
            return;
        };
        let url = walk.page_url(&carried, 50, None, marker.as_deref());
        assert_eq!(
            url.origin(),
            current.origin(),
            "next request left the origin"
        );
        assert_eq!(
            url.path(),
            current.path(),
            "next request left the collection"
        );
        let pairs: Vec<_> = url.query_pairs().collect();
        assert!(pairs.iter().all(|(k, _)| k != "offset"), "offset repeated");
        assert_eq!(pairs.iter().filter(|(k, _)| k == "limit").count(), 1);
        assert_eq!(pairs.iter().filter(|(k, _)| k == "status").count(), 1);
        assert!(pairs.iter().filter(|(k, _)| k == "marker").count() <= 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BackupSummary;

    fn walk(filters: &[(&'static str, &str)]) -> Walk {
        let client = Client::builder()
            .endpoint("http://127.0.0.1:8776/v2/p")
            .build()
            .expect("valid client");
        Walk {
            client,
            collection: Collection::of::<BackupSummary>(),
            refusal: None,
            filters: filters
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            window: Window::default(),
            stop: None,
            paging: Paging {
                page_size: 10,
                ..Paging::default()
            },
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
    fn overwritten_ids_are_exactly_the_new_ones_whatever_was_there() {
        let mut ids = vec!["a".to_owned(), "longer id".to_owned()];
        overwrite_ids(&mut ids, ["x", "y", "z"].into_iter());
        assert_eq!(ids, ["x", "y", "z"]);
        overwrite_ids(&mut ids, ["p"].into_iter());
        assert_eq!(ids, ["p"]);
    }

    #[test]
    fn followed_markers_stay_bounded_and_catch_loops_of_any_length() {
        let mut followed = FollowedMarkers::default();
        for page in 0..200_000 {
            assert!(followed.insert(&format!("m{page}")), "page {page}");
        }
        assert!(followed.recent.len() <= RECENT_MARKERS);
        assert!(followed.recent.capacity() <= 2 * RECENT_MARKERS);
        // A short loop is caught at its first repeat.
        assert!(!followed.insert("m199990"));
        // A loop longer than the window: caught within about twice its length.
        for period in [RECENT_MARKERS + 1, 5_000, 70_000] {
            let mut followed = FollowedMarkers::default();
            let caught = (0..)
                .take(20 * period)
                .position(|step| !followed.insert(&format!("m{}", step % period)));
            let caught =
                caught.unwrap_or_else(|| panic!("a loop of {period} pages is never caught"));
            assert!(
                caught <= 4 * period,
                "a loop of {period} pages caught after {caught}"
            );
        }
    }

    #[test]
    fn only_created_at_and_id_orders_are_stable() {
        for stable in [
            "",
            "created_at",
            "created_at:desc",
            "id:asc",
            "created_at:asc,id:desc",
            "id,status",
            "created_at:desc,id:desc,size",
        ] {
            assert!(is_stable_order(stable), "{stable}");
        }
        for unstable in [
            "status",
            "updated_at:desc",
            "size:asc,id",
            "created_at,display_name",
            "display_name:asc,created_at",
        ] {
            assert!(!is_stable_order(unstable), "{unstable}");
        }
        let walk = walk(&[("sort", "created_at:desc,id:asc")]);
        assert_eq!(walk.unstable_sort(&[]), None);
        let carried = [("sort_key".to_owned(), "status".to_owned())];
        assert_eq!(walk.unstable_sort(&carried), Some("status"));
    }

    fn details(minutes: &[u32]) -> Vec<crate::model::BackupDetail> {
        minutes
            .iter()
            .enumerate()
            .map(|(index, minute)| {
                serde_json::from_value(serde_json::json!({
                    "id": format!("b{index}"),
                    "status": "available",
                    "created_at": format!("2024-01-01T00:{minute:02}:00.000000"),
                }))
                .expect("a backup")
            })
            .collect()
    }

    fn at(minute: u32) -> Timestamp {
        format!("2024-01-01T00:{minute:02}:00Z")
            .parse()
            .expect("a timestamp")
    }

    #[test]
    fn a_window_keeps_its_items_and_ends_at_the_first_past_the_bound() {
        let window = Window {
            created_after: None,
            created_before: Some(at(3)),
        };
        let mut check = WindowCheck::new(&window, Some(Edge::Before)).expect("a window");
        let mut items = details(&[1, 2, 2, 3, 3, 4]);
        assert_eq!(check.keep(&mut items, 1).ok(), Some(true));
        let ids: Vec<_> = items.iter().map(Listed::marker).collect();
        assert_eq!(ids, ["b0", "b1", "b2"]);
        // Without a stop, the same window filters and never ends the walk.
        let mut filter = WindowCheck::new(&window, None).expect("a window");
        let mut items = details(&[4, 1, 3, 2]);
        assert_eq!(filter.keep(&mut items, 1).ok(), Some(false));
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn a_server_that_ignored_the_sort_ends_the_walk_instead_of_stopping_early() {
        let window = Window {
            created_after: None,
            created_before: Some(at(3)),
        };
        let mut check = WindowCheck::new(&window, Some(Edge::Before)).expect("a window");
        // Newest first, as a server that ignored `sort=created_at:asc` would send.
        let mut items = details(&[5, 4, 2, 1]);
        let err = check.keep(&mut items, 1).expect_err("out of order");
        assert!(err.to_string().contains("created_at:asc"), "{err}");
        // Across pages too.
        let mut check = WindowCheck::new(&window, Some(Edge::Before)).expect("a window");
        assert!(check.keep(&mut details(&[1, 2]), 1).is_ok());
        assert!(check.keep(&mut details(&[1]), 2).is_err());
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
        zero.paging.page_size = 0;
        assert!(zero.check().is_err());
        let mut greedy = walk(&[]);
        greedy.paging.prefetch = MAX_PREFETCH + 1;
        assert!(greedy.check().is_err());
        let mut empty_after = walk(&[]);
        empty_after.paging.after = Some(String::new());
        assert!(empty_after.check().is_err());
        assert!(walk(&[]).check().is_ok());
    }
}

//! The generic pager: how a walk goes through any collection's pages. It knows a
//! collection only by its path, its items key and how its pages go on ([`Pagination`]).
//!
//! - [`state`]: the walk's state and its step (which request next, what a page changes,
//!   how a vanished marker is recovered), without HTTP;
//! - [`loop_guard`], [`window`], [`order`]: the checks a step relies on;
//! - this file: what defines a walk ([`Walk`], [`Paging`]), the URLs it sends, and the
//!   loop that sends them ([`walk_pages`]);
//! - [`stream`]: the public streams around that loop: laziness, prefetch, cancellation,
//!   and what a consumer has been handed ([`Cursor`](crate::Cursor)).

mod loop_guard;
mod order;
mod speculation;
mod state;
mod stream;
mod window;

#[cfg(fuzzing)]
pub mod fuzzing;

use futures::stream::{BoxStream, StreamExt};
use jiff::Timestamp;
use tracing::Instrument;
use url::Url;

use crate::client::{Client, PageBody};
use crate::cursor::Window;
use crate::error::{Error, Result};
use crate::model::{Listed, Page, Pagination, StopBound, decode_page};

use loop_guard::FollowedMarkers;
pub(crate) use speculation::Room;
use speculation::{Answer, Speculation};
use state::{Next, PageRequest, WalkState, Walked};
pub use stream::{ItemStream, PageStream};

/// The most pages a stream may fetch ahead of its consumer.
pub(crate) const MAX_PREFETCH: usize = 64;

/// Items per request when the caller does not say: the Cinder API's own maximum.
const DEFAULT_PAGE_SIZE: u32 = 1000;

/// The paging settings every collection shares: how much each request asks for, where
/// the walk starts, when it stops, how far it fetches ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Paging {
    pub page_size: u32,
    /// Applied to the first request only: Cinder applies it again after a marker.
    pub offset: Option<u64>,
    /// Start after this item id.
    pub after: Option<String>,
    /// Ids delivered before `after` by an earlier run, oldest first.
    pub earlier: Vec<String>,
    /// When `after` was created, where an earlier run saw it.
    pub after_created_at: Option<Timestamp>,
    /// The first item an earlier run had not handed out, where it knew it.
    pub next: Option<String>,
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
            after_created_at: None,
            next: None,
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
    pub unsendable: Option<&'static str>,
    /// The caller's filters, sent on every request, in the order they were set.
    pub filters: Vec<(String, String)>,
    /// Only items created in this window are handed out.
    pub window: Window,
    /// The bound of `window` that ends the walk at the first item past it, when the
    /// filters order the items by creation time towards it.
    pub stop: Option<StopBound>,
    pub paging: Paging,
}

/// Query parameters link_params from a next link to the next request, in order.
type LinkParams = Vec<(String, String)>;

/// Query keys the pager owns: whatever a next link says about them is replaced.
const PAGER_KEYS: [&str; 3] = ["limit", "marker", "offset"];
impl Walk {
    fn check(&self) -> Result<()> {
        if let Some(why) = self.unsendable {
            return Err(Error::config(why));
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

    /// The URL of a page: the configured collection URL with `link_params` parameters
    /// from a next link, then the caller's filters, `limit`, `offset` and `marker`.
    fn page_url(
        &self,
        link_params: &[(String, String)],
        limit: u64,
        offset: Option<u64>,
        marker: Option<&str>,
    ) -> Url {
        let mut url = self.client.collection_url(self.collection.path);
        {
            let mut query = url.query_pairs_mut();
            for (key, value) in link_params {
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
    ) -> Result<(LinkParams, String)> {
        let (link_params, marker) = self.follow(url, href)?;
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
        Ok((link_params, marker))
    }

    /// What to carry from a next link `href` (relative to the page's `url`), and the
    /// marker it names, if any.
    fn follow(&self, url: &Url, href: &str) -> Result<(LinkParams, Option<String>)> {
        let next = url.join(href).map_err(|err| {
            Error::pagination(format!("the next link `{href}` is not a URL: {err}"))
        })?;
        Ok(self.link_params_of(&next))
    }

    /// The parameters of a next link worth carrying: everything but the pager's own
    /// keys and the caller's filters, which are re-applied from the query itself.
    fn link_params_of(&self, next: &Url) -> (LinkParams, Option<String>) {
        let mut link_params = Vec::new();
        let mut marker = None;
        for (key, value) in next.query_pairs() {
            if key == "marker" {
                marker = Some(value.into_owned()).filter(|m| !m.is_empty());
            } else if !PAGER_KEYS.contains(&key.as_ref())
                && !self.filters.iter().any(|(filter, _)| *filter == key)
            {
                link_params.push((key.into_owned(), value.into_owned()));
            }
        }
        (link_params, marker)
    }

    /// The body of one page request, not decoded yet, with the span that says which
    /// page, from where, and how it went.
    async fn fetch_body(&self, request: &PageRequest) -> Result<Received> {
        let span = tracing::debug_span!(
            "page",
            number = request.number,
            marker = request.marker.as_deref(),
            limit = request.limit,
            items = tracing::field::Empty,
            attempt = tracing::field::Empty,
        );
        let body = self
            .client
            .get_page_body(&request.url)
            .instrument(span.clone())
            .await?;
        Ok(Received { body, span })
    }

    /// Decodes the body of the page `request` asked for.
    fn decode<T: Listed>(&self, request: &PageRequest, received: Received) -> Result<Page<T>> {
        let Received { body, span } = received;
        let key = self.collection.items_key;
        // Room for the items asked for, up front (serde's `Vec` would start empty and
        // copy the items at every doubling): at most the servers' largest page, as a
        // server may answer with fewer, and a larger page simply grows.
        let expected =
            usize::try_from(request.limit.min(u64::from(DEFAULT_PAGE_SIZE))).unwrap_or_default();
        let page = decode_page::<T>(&body.bytes, key, request.number, expected)
            .map_err(|err| Error::decode(err).with_request_id(body.request_id))?;
        span.record("items", page.items.len());
        Ok(page)
    }
}

/// A page's body, with the span of the request that brought it.
struct Received {
    body: PageBody,
    span: tracing::Span,
}

/// The walk itself: every page of the listing, in order, then the end or one error.
/// The state decides; this loop only sends what it asks for, and, where `room` allows,
/// sends the next request while a page decodes (see [`speculation`]).
pub(crate) fn walk_pages<T: Listed>(
    walk: Walk,
    room: Option<Room>,
) -> BoxStream<'static, Result<Walked<T>>> {
    async_stream::try_stream! {
        let mut state = WalkState::<T>::new(walk)?;
        let mut ahead: Option<Speculation> = None;
        while let Some(request) = state.next_request()? {
            let early = ahead.take().and_then(|sent| sent.answers(&request));
            let (request, received) = fetch_or_recover(&mut state, request, early).await?;
            if room.as_ref().is_some_and(|room| room() == 0) {
                // The consumer may not have had a turn to take the last page yet: a tight
                // loop takes it now, and makes room for the speculation.
                tokio::task::yield_now().await;
            }
            ahead = Speculation::start(&state, &request, &received.body, room.as_ref());
            if ahead.is_some() {
                // One turn for the runtime to write the request out; then the server
                // answers while this thread decodes.
                tokio::task::yield_now().await;
            }
            let page = state.walk().decode(&request, received)?;
            let (walked, next) = state.advance(&request, page)?;
            yield walked;
            match next {
                Next::Continue => {}
                Next::End => break,
                Next::Fail(err) => Err(err)?,
            }
        }
    }
    .boxed()
}

/// Fetches the page `request` asks for (or takes the `early` answer a speculation got
/// for it); if its marker vanished (deleted while the walk went on), steps back to an
/// earlier id, or else restarts at the top, as the state says.
async fn fetch_or_recover<T: Listed>(
    state: &mut WalkState<T>,
    request: PageRequest,
    early: Option<Answer>,
) -> Result<(PageRequest, Received)> {
    let first = match early {
        Some(answer) => answer.received().await,
        None => state.walk().fetch_body(&request).await,
    };
    let missing = match first {
        Ok(received) => return Ok((request, received)),
        Err(err) => err,
    };
    let (vanished, candidates, missing) = state.lost_marker(&request, missing)?;
    let mut tried = 0;
    for candidate in &candidates {
        tried += 1;
        let step = state.step_back(&request, candidate);
        match state.walk().fetch_body(&step).await {
            Ok(received) => {
                state.stepped_back(candidate);
                return Ok((step, received));
            }
            Err(err) if err.is_missing_marker(candidate) => continue,
            Err(err) => return Err(err),
        }
    }
    let restart = state.restart(&request, &vanished, tried, missing)?;
    let received = state.walk().fetch_body(&restart).await?;
    Ok((restart, received))
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
            unsendable: None,
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
            let (link_params, marker) = walk.link_params_of(&next_url(href));
            assert_eq!(
                link_params,
                [("sort".to_owned(), "created_at:desc".to_owned())],
                "{href}"
            );
            let expected = if href.ends_with("marker=") {
                None
            } else {
                Some("m9")
            };
            assert_eq!(marker.as_deref(), expected, "{href}");
            let url = walk.page_url(&link_params, 10, None, Some("m9"));
            assert_eq!(
                url.as_str(),
                "http://127.0.0.1:8776/v2/p/backups?sort=created_at%3Adesc&status=error&limit=10&marker=m9",
                "{href}"
            );
        }
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

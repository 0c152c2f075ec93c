//! The walk's state and its step: which request comes next ([`WalkState::next_request`]),
//! what a page changes ([`WalkState::advance`]), and how a walk whose marker vanished
//! finds its place again ([`WalkState::step_back`], [`WalkState::restart`]). No HTTP and
//! no `async` here: [`walk_pages`](super::walk_pages) sends the requests this state asks
//! for and feeds it the answers, so every rule is unit-tested on pages made in a test.
//!
//! Two rules keep a walk on its feet while its consumer deletes what it is handed:
//! - **Hold back the marker.** The item whose id the next request sends as `marker` is
//!   handed out only once that request has been answered, so a consumer that deletes
//!   everything it receives never deletes the marker in flight.
//! - **Remember the position.** Under an order by creation time and id, the walk knows
//!   where it stands (the creation time and id of the last item it passed), so when
//!   every id it remembers is gone it restarts at the top and skips, by comparing, exactly
//!   what it already handed out.

use std::cmp::Ordering;
use std::collections::HashSet;

use jiff::Timestamp;
use url::Url;

use super::loop_guard::FollowedMarkers;
use super::order::{KeyOrder, Position, unstable_sort};
use super::window::{Verdict, WindowCheck};
use super::{LinkParams, Walk};
use crate::cursor::EARLIER_IDS;
use crate::error::{Error, Result};
use crate::model::{Listed, Page, Pagination};

/// How often in a row a walk may restart at the top without passing a single item in
/// between: a listing that loses its items faster than the walk can read it is a failure.
const RESTARTS_WITHOUT_PROGRESS: u32 = 3;

/// One page request, as the state asks for it.
#[derive(Debug, Clone)]
pub(super) struct PageRequest {
    pub(super) url: Url,
    /// 1-based; a step back or a restart asks again for the same page number.
    pub(super) number: u64,
    pub(super) marker: Option<String>,
    pub(super) limit: u64,
}

/// What follows a page.
#[derive(Debug)]
pub(super) enum Next {
    /// Ask for the next page.
    Continue,
    /// The walk is over.
    End,
    /// The page is handed out, but the walk cannot go on.
    Fail(Error),
}

/// A page as the walk hands it out, with where the walk stands after it.
#[derive(Debug)]
pub(crate) struct Walked<T> {
    /// The items to hand out: the one held back from the page before, then this page's,
    /// less those already handed out, outside the age window, past `max_items`, or held
    /// back for the next.
    pub(crate) page: Page<T>,
    /// The last item read from this page that is not held back, when the window left it
    /// out: a cursor taken after the page resumes after it, not before the items the
    /// window dropped.
    pub(crate) passed: Option<(String, Option<Timestamp>)>,
    /// The id of the item held back: the first of the next page handed out.
    pub(crate) held: Option<String>,
}

/// What the first items of the pages after a step back or a restart are, that were
/// handed out already.
#[derive(Debug)]
enum Skip {
    Nothing,
    /// After stepping back to an earlier id in a walk without creation times: the ids
    /// after it that were handed out, in order.
    Ids(HashSet<String>),
    /// Items at or before the walk's position, in an order by creation time and id.
    UpToPosition,
    /// Items before this one, the first not handed out by an earlier run (a resumed walk
    /// without creation times).
    UntilId(String),
}

/// Where a walk stands, and everything it remembers to go on.
#[derive(Debug)]
pub(super) struct WalkState<T> {
    walk: Walk,
    order: Option<KeyOrder>,
    window: Option<WindowCheck>,
    link_params: LinkParams,
    marker: Option<String>,
    offset: Option<u64>,
    remaining: Option<u64>,
    number: u64,
    /// Items the server had before the current position: what `count` is checked against.
    passed_count: u64,
    followed: FollowedMarkers,
    /// Ids of the last page that had any, newest last: where to step back to.
    page_ids: Vec<String>,
    /// The last item passed, not counting the one held back.
    position: Option<Position>,
    skip: Skip,
    held: Option<T>,
    /// The first item an earlier run had not handed out, until this run passes any.
    resume_next: Option<String>,
    /// The held-back item whose id the last request sent as a marker the server says is
    /// gone: never handed out, so not skipped if a step back brings it after all.
    dropped: Option<String>,
    noticed_capping: bool,
    restarts_without_progress: u32,
}

impl<T: Listed> WalkState<T> {
    /// The state before the first request; fails on settings no request can be made of.
    pub(super) fn new(walk: Walk) -> Result<Self> {
        walk.check()?;
        let paging = &walk.paging;
        let mut followed = FollowedMarkers::default();
        let mut page_ids = paging.earlier.clone();
        if let Some(after) = &paging.after {
            followed.insert(after);
            page_ids.push(after.clone());
        }
        let position = paging
            .after
            .clone()
            .zip(paging.after_created_at)
            .map(|(id, created_at)| Position { created_at, id });
        Ok(Self {
            order: KeyOrder::of(walk.filters.iter()).filter(|_| T::ORDERED_BY_CREATION),
            window: WindowCheck::new(&walk.window, walk.stop),
            link_params: LinkParams::new(),
            marker: paging.after.clone(),
            offset: paging.offset,
            remaining: paging.max_items,
            number: 0,
            passed_count: paging.offset.unwrap_or(0),
            followed,
            page_ids,
            position,
            skip: Skip::Nothing,
            held: None,
            resume_next: paging.next.clone(),
            dropped: None,
            noticed_capping: false,
            restarts_without_progress: 0,
            walk,
        })
    }

    pub(super) fn walk(&self) -> &Walk {
        &self.walk
    }

    /// The next page to ask for; `None` when the walk is over.
    pub(super) fn next_request(&mut self) -> Result<Option<PageRequest>> {
        if self
            .window
            .as_ref()
            .is_some_and(WindowCheck::is_empty_range)
        {
            // Nothing can be created at or after a time and before an earlier one.
            return Ok(None);
        }
        let page_size = u64::from(self.walk.paging.page_size);
        let limit = match self.remaining {
            Some(0) => return Ok(None),
            // Items will be dropped, so the page asks for its full size.
            Some(_) if self.window.is_some() || !matches!(self.skip, Skip::Nothing) => page_size,
            Some(left) => left.min(page_size),
            None => page_size,
        };
        if let Some(max) = self.walk.paging.max_pages.filter(|max| self.number >= *max) {
            return Err(Error::pagination(format!(
                "the walk reached its limit of {max} pages (max_pages)"
            )));
        }
        self.number += 1;
        let offset = self.offset.take();
        Ok(Some(self.request(limit, offset, self.marker.clone())))
    }

    fn request(&self, limit: u64, offset: Option<u64>, marker: Option<String>) -> PageRequest {
        PageRequest {
            url: self
                .walk
                .page_url(&self.link_params, limit, offset, marker.as_deref()),
            number: self.number,
            marker,
            limit,
        }
    }

    /// The request the next link `href` of the page `request` asked for leads to, when
    /// the walk will certainly send it once that page is taken in, read as
    /// [`next_request`](Self::next_request) will read it: `None` whenever the page
    /// itself could end the walk or change the request (an age window, `max_items`,
    /// `max_pages`, items to skip after a step back, a collection without next links,
    /// a link without a marker or to a marker followed before).
    pub(super) fn likely_next(&self, request: &PageRequest, href: &str) -> Option<PageRequest> {
        let paging = &self.walk.paging;
        let certain = self.walk.collection.pagination == Pagination::NextLink
            && self.window.is_none()
            && self.remaining.is_none()
            && self.offset.is_none()
            && matches!(self.skip, Skip::Nothing)
            && request.number == self.number
            && paging.max_pages.is_none_or(|max| request.number < max);
        if !certain {
            return None;
        }
        let (link_params, marker) = self.walk.follow(&request.url, href).ok()?;
        let marker = marker.filter(|marker| !self.followed.contains(marker))?;
        let limit = u64::from(paging.page_size);
        Some(PageRequest {
            url: self.walk.page_url(&link_params, limit, None, Some(&marker)),
            number: request.number + 1,
            marker: Some(marker),
            limit,
        })
    }

    /// Takes in the answer to `request`: what to hand out, and what comes next. Fails
    /// before handing anything out when the page cannot be trusted (it repeats items
    /// handed out already, breaks the order an age window relies on, or proves a
    /// filter was ignored).
    pub(super) fn advance(
        &mut self,
        request: &PageRequest,
        page: Page<T>,
    ) -> Result<(Walked<T>, Next)> {
        let number = request.number;
        let filters = &self.walk.filters;
        if let Some(problem) = page
            .items
            .iter()
            .find_map(|item| item.ignored_filter(filters))
        {
            return Err(problem.with_context(format!("page {number}")));
        }
        let Page {
            mut items,
            next_link,
            count,
            ..
        } = page;
        let received = items.len();
        if matches!(self.skip, Skip::Nothing) {
            self.refuse_repeat(&items, request)?;
        }
        if received > 0 {
            overwrite_ids(&mut self.page_ids, items.iter().map(Listed::marker));
        }
        self.skip_handed_out(&mut items);
        self.passed_count = self.passed_count.saturating_add(items.len() as u64);
        let tail = Tail::of(&items);
        let verdict = match self.window.as_mut() {
            Some(window) => window.keep(&mut items, number)?,
            None => Verdict::GoOn,
        };
        let kept = items.len();
        if let Some(left) = self.remaining.as_mut() {
            items.truncate(usize::try_from(*left).unwrap_or(usize::MAX));
            *left -= items.len() as u64;
        }
        let truncated = items.len() < kept;
        let next = match verdict {
            Verdict::Done => {
                tracing::debug!(page = number, "the walk reached the end of its age window");
                Next::End
            }
            Verdict::GoOn => self.follow(request, next_link.as_ref(), received, count),
        };
        let next = self.still_skipping(next);
        let walked = self.hand_out(
            Page {
                items,
                next_link,
                count,
                number,
            },
            &next,
            tail,
            truncated,
        );
        Ok((walked, next))
    }

    /// What of a page taken in reaches the consumer: the item held back for the last
    /// request first, then the page's, less the one the next request names (it must not
    /// reach the consumer before that request is sent; when `max_pages` forbids that
    /// request, nothing is held back for it). Moves the walk's position past the page.
    fn hand_out(
        &mut self,
        mut page: Page<T>,
        next: &Next,
        tail: Tail,
        truncated: bool,
    ) -> Walked<T> {
        let will_ask = self
            .walk
            .paging
            .max_pages
            .is_none_or(|max| self.number < max);
        let held_now = match (next, page.items.last()) {
            (Next::Continue, Some(last))
                if will_ask && self.marker.as_deref() == Some(last.marker()) =>
            {
                page.items.pop()
            }
            _ => None,
        };
        let passed = tail.passed(held_now.is_some()).filter(|_| !truncated);
        if let Some((id, created_at)) = &passed {
            self.move_position(id, *created_at);
        }
        let passed =
            passed.filter(|(id, _)| page.items.last().is_none_or(|last| last.marker() != id));
        if !page.items.is_empty() || held_now.is_some() || passed.is_some() {
            self.restarts_without_progress = 0;
            self.resume_next = None;
        }
        if let Some(earlier) = self.held.take() {
            page.items.insert(0, earlier);
        }
        let held = held_now.as_ref().map(|item| item.marker().to_owned());
        self.held = held_now;
        Walked { page, passed, held }
    }

    /// Fails on a page that holds items handed out already: a server that answered a
    /// marker it did not know with the top of the listing again, or repeats a page.
    /// Nothing of such a page is handed out, so a cursor resumes after the last item
    /// handed out before it.
    fn refuse_repeat(&self, items: &[T], request: &PageRequest) -> Result<()> {
        let (Some(first), Some(last)) = (items.first(), items.last()) else {
            return Ok(());
        };
        // By ids, not by position: a server that ignores the caller's `sort` still lists
        // every backup once in its own order, and that walk must go on.
        let seen = self.page_ids.iter().any(|id| id == first.marker())
            || self.followed.contains(last.marker());
        if !seen {
            return Ok(());
        }
        let asked = match &request.marker {
            Some(marker) => format!("the backups after `{marker}`"),
            None => "the first page".to_owned(),
        };
        Err(Error::pagination(format!(
            "page {} starts at `{}`, a backup the walk had passed already, where {asked} \
             were asked for: the server restarted the listing or ignored the marker, so the \
             walk stops rather than hand backups out twice",
            request.number,
            first.marker()
        )))
    }

    /// Drops the items a step back or a restart brings again.
    fn skip_handed_out(&mut self, items: &mut Vec<T>) {
        let repeats = match &mut self.skip {
            Skip::Nothing => return,
            Skip::Ids(ids) => items
                .iter()
                .take_while(|item| ids.remove(item.marker()))
                .count(),
            Skip::UpToPosition => match (&self.order, &self.position) {
                (Some(order), Some(position)) => items
                    .iter()
                    .take_while(|item| {
                        item.created_at().is_some_and(|created_at| {
                            order.compare(created_at, item.marker(), position) != Ordering::Greater
                        })
                    })
                    .count(),
                _ => 0,
            },
            Skip::UntilId(next) => items
                .iter()
                .position(|item| item.marker() == next)
                .unwrap_or(items.len()),
        };
        let done = repeats < items.len() || matches!(&self.skip, Skip::Ids(ids) if ids.is_empty());
        if done {
            self.skip = Skip::Nothing;
        }
        items.drain(..repeats);
    }

    /// A walk that ends while still looking for where an earlier run stopped has lost it.
    fn still_skipping(&mut self, next: Next) -> Next {
        match (&next, &self.skip) {
            (Next::End, Skip::UntilId(id)) => Next::Fail(Error::pagination(format!(
                "the walk restarted at the top to find `{id}`, the first backup an earlier run \
                 had not handed out, and the listing ended without it (deleted too?): the \
                 place where the walk stopped is lost"
            ))),
            _ => next,
        }
    }

    /// Where a page leads, read from its next link or its last id, and remembered for
    /// the next request.
    fn follow(
        &mut self,
        request: &PageRequest,
        next_link: Option<&crate::model::Link>,
        received: usize,
        count: Option<u64>,
    ) -> Next {
        let number = request.number;
        let short = received < usize::try_from(request.limit).unwrap_or(usize::MAX);
        let step = match self.walk.collection.pagination {
            Pagination::NextLink => {
                let Some(link) = next_link.filter(|_| self.remaining != Some(0)) else {
                    return Next::End;
                };
                if short && !self.noticed_capping {
                    self.noticed_capping = true;
                    tracing::info!(
                        page = number,
                        received,
                        limit = request.limit,
                        "the server sent fewer items than asked for and links on: it caps the page size"
                    );
                }
                let page_ids = if received > 0 {
                    &self.page_ids[..]
                } else {
                    &[]
                };
                self.walk.next_step(
                    &request.url,
                    &link.href,
                    page_ids,
                    &mut self.followed,
                    number,
                )
            }
            Pagination::LastIdUntilEmpty => {
                let counted_out = short && count.is_some_and(|count| self.passed_count >= count);
                if received == 0 || self.remaining == Some(0) || counted_out {
                    return Next::End;
                }
                last_id_step(&self.page_ids, &mut self.followed, number)
            }
        };
        match step {
            Ok((link_params, marker)) => {
                self.link_params = link_params;
                self.marker = Some(marker);
                Next::Continue
            }
            Err(err) => Next::Fail(err),
        }
    }

    /// Moves the walk's position to the last item it passed, if that is further on.
    fn move_position(&mut self, id: &str, created_at: Option<Timestamp>) {
        let Some(created_at) = created_at else {
            return;
        };
        let further = match (&self.order, &self.position) {
            (Some(order), Some(position)) => {
                order.compare(created_at, id, position) == Ordering::Greater
            }
            (Some(_), None) => true,
            (None, _) => false,
        };
        if further {
            let position = self.position.get_or_insert_with(|| Position {
                created_at,
                id: String::new(),
            });
            position.created_at = created_at;
            position.id.clear();
            position.id.push_str(id);
        }
    }

    /// The marker of `request` vanished: whether the walk may look for its place again,
    /// and the earlier ids to step back to, newest first. The item held back for that
    /// marker is gone with it and is not handed out.
    pub(super) fn lost_marker(
        &mut self,
        request: &PageRequest,
        missing: Error,
    ) -> Result<(String, Vec<String>, Error)> {
        let Some(vanished) = request
            .marker
            .clone()
            .filter(|marker| missing.is_missing_marker(marker))
        else {
            return Err(missing);
        };
        if self
            .held
            .as_ref()
            .is_some_and(|held| held.marker() == vanished)
        {
            self.held = None;
            self.dropped = Some(vanished.clone());
            if let Some(left) = self.remaining.as_mut() {
                *left += 1;
            }
        }
        if let Some(sort) = unstable_sort(self.walk.filters.iter().chain(&self.link_params)) {
            return Err(Error::pagination(format!(
                "marker `{vanished}` vanished (deleted?) and the listing is sorted by `{sort}`, \
                 an order in which items move when they change: finding the place again could \
                 skip or repeat backups, so the walk stops here"
            ))
            .with_source(missing));
        }
        let before = self
            .page_ids
            .iter()
            .rposition(|id| *id == vanished)
            .unwrap_or(self.page_ids.len());
        let candidates = self.page_ids[..before]
            .iter()
            .rev()
            .take(EARLIER_IDS)
            .cloned()
            .collect();
        Ok((vanished, candidates, missing))
    }

    /// The request that steps back to `candidate`, an earlier id than the vanished marker.
    pub(super) fn step_back(&self, request: &PageRequest, candidate: &str) -> PageRequest {
        tracing::warn!(
            vanished = request.marker.as_deref(),
            candidate,
            "the marker no longer exists; stepping back"
        );
        self.request(request.limit, None, Some(candidate.to_owned()))
    }

    /// The step back to `candidate` was answered: what it brings again is skipped.
    pub(super) fn stepped_back(&mut self, candidate: &str) {
        self.marker = Some(candidate.to_owned());
        self.skip = if self.order.is_some() && self.position.is_some() {
            Skip::UpToPosition
        } else {
            let after = self
                .page_ids
                .iter()
                .rposition(|id| id == candidate)
                .map_or(self.page_ids.len(), |index| index + 1);
            let dropped = self.dropped.take();
            Skip::Ids(
                self.page_ids[after..]
                    .iter()
                    .filter(|id| dropped.as_ref() != Some(*id))
                    .cloned()
                    .collect(),
            )
        };
    }

    /// Every id the walk remembers is gone: the request that starts again at the top of
    /// the listing, skipping what was handed out, where the walk can tell what that was.
    pub(super) fn restart(
        &mut self,
        request: &PageRequest,
        vanished: &str,
        tried: usize,
        missing: Error,
    ) -> Result<PageRequest> {
        let skip = if self.order.is_some() && self.position.is_some() {
            Skip::UpToPosition
        } else if let Some(next) = self.resume_next.take() {
            Skip::UntilId(next)
        } else if request.number == 1 && tried == 0 {
            // The caller's own `after` names nothing: the server's answer says it best.
            return Err(missing);
        } else {
            return Err(Error::pagination(format!(
                "marker `{vanished}` vanished (deleted?) and {} the walk cannot tell where it \
                 stood: this listing shows no creation times (the detail listing does; see \
                 \"Cleanup jobs\" in the README)",
                match tried {
                    0 => "with no earlier backup to step back to,".to_owned(),
                    1 => "the one backup handed out before it is gone too, so".to_owned(),
                    n =>
                        format!("none of the {n} backups handed out before it exists any more, so"),
                }
            ))
            .with_source(missing));
        };
        if self.restarts_without_progress >= RESTARTS_WITHOUT_PROGRESS {
            return Err(Error::pagination(format!(
                "marker `{vanished}` vanished and the walk restarted {RESTARTS_WITHOUT_PROGRESS} \
                 times in a row without getting any further: backups are deleted faster than \
                 the listing can be read"
            ))
            .with_source(missing));
        }
        self.restarts_without_progress += 1;
        tracing::warn!(
            vanished,
            tried,
            "no remembered id exists any more; restarting at the top and skipping what was handed out"
        );
        self.skip = skip;
        self.marker = None;
        // A deliberate re-read: the pages it passes again are not a loop.
        self.followed = FollowedMarkers::default();
        Ok(self.request(request.limit, None, None))
    }
}

/// The last two items of a page that are new to the walk: the position the page leaves
/// the walk at, whatever the window and the hold-back then do with them.
struct Tail {
    last: Option<(String, Option<Timestamp>)>,
    before_last: Option<(String, Option<Timestamp>)>,
}

impl Tail {
    fn of<T: Listed>(items: &[T]) -> Self {
        let at = |index: Option<usize>| {
            index
                .and_then(|index| items.get(index))
                .map(|item| (item.marker().to_owned(), item.created_at()))
        };
        Self {
            last: at(items.len().checked_sub(1)),
            before_last: at(items.len().checked_sub(2)),
        }
    }

    /// The last item passed: the last one, or the one before it when the last is held
    /// back.
    fn passed(self, holding: bool) -> Option<(String, Option<Timestamp>)> {
        if holding { self.before_last } else { self.last }
    }
}

/// Where a page of a collection without next links leads: after its last item. Fails
/// rather than loop when that id was followed before (a server that repeats a page).
fn last_id_step(
    page_ids: &[String],
    followed: &mut FollowedMarkers,
    number: u64,
) -> Result<(LinkParams, String)> {
    let marker = page_ids.last().cloned().ok_or_else(|| {
        Error::pagination(format!("page {number} is empty: the walk cannot go on"))
    })?;
    if !followed.insert(&marker) {
        return Err(Error::pagination(format!(
            "page {number} ends on `{marker}` again: the server repeats its pages"
        )));
    }
    Ok((LinkParams::new(), marker))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overwritten_ids_are_exactly_the_new_ones_whatever_was_there() {
        let mut ids = vec!["a".to_owned(), "longer id".to_owned()];
        overwrite_ids(&mut ids, ["x", "y", "z"].into_iter());
        assert_eq!(ids, ["x", "y", "z"]);
        overwrite_ids(&mut ids, ["p"].into_iter());
        assert_eq!(ids, ["p"]);
    }

    use crate::client::Client;
    use crate::cursor::Window;
    use crate::error::ErrorKind;
    use crate::model::{BackupDetail, BackupSummary, Link};
    use crate::pager::{Collection, Paging, Walk};

    fn walk_of<T: Listed>(paging: Paging) -> Walk {
        Walk {
            client: Client::builder()
                .endpoint("http://127.0.0.1:8776/v3/p")
                .build()
                .expect("a client"),
            collection: Collection::of::<T>(),
            unsendable: None,
            filters: Vec::new(),
            window: Window::default(),
            stop: None,
            paging,
        }
    }

    fn paging(page_size: u32) -> Paging {
        Paging {
            page_size,
            ..Paging::default()
        }
    }

    /// A page of summaries with these ids, linking on after its last one if `more`.
    fn summaries(ids: &[&str], more: bool) -> Page<BackupSummary> {
        Page {
            items: ids.iter().map(|id| BackupSummary::new(*id, None)).collect(),
            next_link: more.then(|| {
                Link::new(
                    "next",
                    format!("backups?marker={}", ids.last().unwrap_or(&"")),
                )
            }),
            count: None,
            number: 0,
        }
    }

    /// A page of details, `(id, minute)` each, newest first as Cinder sends them.
    fn details(items: &[(&str, u32)], more: bool) -> Page<BackupDetail> {
        Page {
            items: items
                .iter()
                .map(|(id, minute)| {
                    serde_json::from_value(serde_json::json!({
                        "id": id,
                        "status": "available",
                        "created_at": format!("2024-01-01T00:{minute:02}:00.000000"),
                    }))
                    .expect("a backup")
                })
                .collect(),
            next_link: items
                .last()
                .filter(|_| more)
                .map(|(id, _)| Link::new("next", format!("backups/detail?marker={id}"))),
            count: None,
            number: 0,
        }
    }

    fn ids<T: Listed>(walked: &Walked<T>) -> Vec<&str> {
        walked.page.items.iter().map(Listed::marker).collect()
    }

    #[test]
    fn the_marker_of_the_next_request_comes_with_the_next_page() {
        let mut state =
            WalkState::<BackupSummary>::new(walk_of::<BackupSummary>(paging(3))).expect("a walk");
        let first = state.next_request().expect("ok").expect("a request");
        assert_eq!(first.marker, None);
        let (walked, next) = state
            .advance(&first, summaries(&["a", "b", "c"], true))
            .expect("a page");
        assert_eq!(ids(&walked), ["a", "b"]);
        assert_eq!(walked.held.as_deref(), Some("c"));
        assert!(matches!(next, Next::Continue));
        let second = state.next_request().expect("ok").expect("a request");
        assert_eq!(second.marker.as_deref(), Some("c"));
        assert!(
            second.url.as_str().ends_with("limit=3&marker=c"),
            "{}",
            second.url
        );
        let (walked, next) = state
            .advance(&second, summaries(&["d"], false))
            .expect("a page");
        assert_eq!(
            ids(&walked),
            ["c", "d"],
            "the held item first, then the last page whole"
        );
        assert!(matches!(next, Next::End));
    }

    #[test]
    fn the_likely_next_request_is_the_one_the_rules_then_derive() {
        let mut state =
            WalkState::<BackupSummary>::new(walk_of::<BackupSummary>(paging(3))).expect("a walk");
        let first = state.next_request().expect("ok").expect("a request");
        let page = summaries(&["a", "b", "c"], true);
        let href = page.next_link.clone().expect("a next link").href;
        let likely = state
            .likely_next(&first, &href)
            .expect("a certain next request");
        state.advance(&first, page).expect("a page");
        let second = state.next_request().expect("ok").expect("a request");
        assert_eq!(likely.url, second.url);
        assert_eq!(likely.number, second.number);
        // Page 2 links back to `c`, followed already: nothing is guessed from it.
        assert!(state.likely_next(&second, "backups?marker=c").is_none());
        // Nor from a link without a marker (the page's last id decides).
        assert!(state.likely_next(&second, "backups?sort=id").is_none());
    }

    #[test]
    fn nothing_is_guessed_where_the_page_could_end_or_change_the_walk() {
        let capped = Paging {
            max_items: Some(10),
            ..paging(3)
        };
        let last_page = Paging {
            max_pages: Some(1),
            ..paging(3)
        };
        for paging in [capped, last_page] {
            let mut state =
                WalkState::<BackupSummary>::new(walk_of::<BackupSummary>(paging)).expect("a walk");
            let first = state.next_request().expect("ok").expect("a request");
            assert!(state.likely_next(&first, "backups?marker=c").is_none());
        }
        let mut windowed = walk_of::<BackupDetail>(paging(3));
        windowed.window = Window {
            created_after: Some(Timestamp::UNIX_EPOCH),
            created_before: None,
        };
        let mut state = WalkState::<BackupDetail>::new(windowed).expect("a walk");
        let first = state.next_request().expect("ok").expect("a request");
        assert!(
            state
                .likely_next(&first, "backups/detail?marker=c")
                .is_none()
        );
        let mut cbr = WalkState::<crate::model::CbrBackup>::new(
            walk_of::<crate::model::CbrBackup>(paging(3)),
        )
        .expect("a walk");
        let first = cbr.next_request().expect("ok").expect("a request");
        assert!(cbr.likely_next(&first, "backups?marker=c").is_none());
    }

    #[test]
    fn a_page_repeating_what_was_handed_out_is_refused_before_anything_of_it() {
        let mut state =
            WalkState::<BackupSummary>::new(walk_of::<BackupSummary>(paging(2))).expect("a walk");
        let first = state.next_request().expect("ok").expect("a request");
        state
            .advance(&first, summaries(&["a", "b"], true))
            .expect("a page");
        let second = state.next_request().expect("ok").expect("a request");
        // A server that does not know marker `b` and starts over.
        let err = state
            .advance(&second, summaries(&["a", "b"], true))
            .expect_err("a repeat");
        assert_eq!(err.kind(), ErrorKind::Pagination);
        assert!(err.to_string().contains("passed already"), "{err}");
    }

    #[test]
    fn a_lost_marker_steps_back_then_restarts_at_the_top_skipping_by_position() {
        let mut state =
            WalkState::<BackupDetail>::new(walk_of::<BackupDetail>(paging(3))).expect("a walk");
        let first = state.next_request().expect("ok").expect("a request");
        let (walked, _) = state
            .advance(&first, details(&[("a", 9), ("b", 8), ("c", 7)], true))
            .expect("a page");
        assert_eq!(ids(&walked), ["a", "b"]);
        let second = state.next_request().expect("ok").expect("a request");
        let missing = Error::from_response(
            404,
            None,
            br#"{"itemNotFound": {"code": 404, "message": "Backup c could not be found."}}"#,
        );
        let (vanished, candidates, missing) =
            state.lost_marker(&second, missing).expect("recoverable");
        assert_eq!(vanished, "c");
        assert_eq!(candidates, ["b", "a"], "newest first");
        // Both are gone too (deleted by whoever deleted `c`): back to the top.
        let restart = state
            .restart(&second, &vanished, 2, missing)
            .expect("a restart");
        assert_eq!(restart.marker, None);
        // The top of the listing: what was handed out and survived is skipped by position;
        // `c`, held back and deleted, is not handed out.
        let (walked, next) = state
            .advance(
                &restart,
                details(&[("new", 10), ("b", 8), ("d", 6), ("e", 5)], false),
            )
            .expect("a page");
        assert_eq!(ids(&walked), ["d", "e"]);
        assert!(matches!(next, Next::End));
    }

    #[test]
    fn a_summary_walk_that_lost_every_id_says_it_cannot_tell_where_it_stood() {
        let mut state =
            WalkState::<BackupSummary>::new(walk_of::<BackupSummary>(paging(3))).expect("a walk");
        let first = state.next_request().expect("ok").expect("a request");
        state
            .advance(&first, summaries(&["a", "b", "c"], true))
            .expect("a page");
        let second = state.next_request().expect("ok").expect("a request");
        let missing = Error::from_response(
            404,
            None,
            br#"{"itemNotFound": {"code": 404, "message": "Backup c could not be found."}}"#,
        );
        let (vanished, candidates, missing) =
            state.lost_marker(&second, missing).expect("recoverable");
        let err = state
            .restart(&second, &vanished, candidates.len(), missing)
            .expect_err("no position");
        assert!(err.to_string().contains("none of the 2 backups"), "{err}");
        assert!(!err.to_string().contains("  "), "one clean line: {err}");
    }
}

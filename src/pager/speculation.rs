//! Speculation: the next request sent while a page decodes.
//!
//! A page's next request comes from the decoded page (its next link, checked against
//! its ids and the markers followed before), so a walk that sends it only then leaves
//! the server idle while the page decodes. Instead, once a page's body is in, a cheap
//! search finds its `rel=next` link ([`guess_next_href`]); when the walk will certainly
//! follow it ([`WalkState::likely_next`]) and the prefetch depth has room for one more
//! page ([`Room`]), the request it leads to is sent at once, in a task of its own, and
//! written out before the page decodes: the server works on it, and its answer travels,
//! while this thread decodes. The state then derives the next request by its rules as
//! always: if it is the one sent, that answer is used (it is the same request, sent
//! earlier); if not, the speculative one is dropped, cancelled if still in flight, and
//! the right one sent.
//!
//! The decode stays on the walk's thread. On a blocking thread it overlapped the
//! client's own reading of the answer too, but every item was then allocated on one
//! thread and freed by the consumer on another, and the hand-over woke threads twice a
//! page: on 2 cores that cost more than it won (see the README's performance notes).
//!
//! What a wrong guess costs: one request the server may have answered for nothing
//! (counted by a [`RequestBudget`](crate::RequestBudget) like any other). Guesses are
//! wrong only on bodies a page decode then refuses or reads differently (a nested
//! `*_links` key, a link into the page, a page repeating earlier ones), never on a
//! well-formed page.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use tokio::task::JoinHandle;

use super::state::{PageRequest, WalkState};
use super::{Received, Walk};
use crate::client::PageBody;
use crate::error::{Error, Result};
use crate::model::{Listed, guess_last_id, guess_next_href};

/// How many more pages the walk may request ahead of its consumer right now, beyond the
/// one it is working on: speculation sends a request only when this is at least 1, so a
/// walk never runs further ahead than its prefetch depth allows.
pub(crate) type Room = Arc<dyn Fn() -> usize + Send + Sync>;

/// A request sent before the walk asked for it.
pub(super) struct Speculation {
    request: PageRequest,
    answer: AbortOnDrop,
}

/// Cancels the speculative request when its guess turns out wrong or the walk goes.
struct AbortOnDrop(JoinHandle<Result<Received>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Speculation {
    /// Sends the request `body`'s next link leads to, if the walk will certainly send
    /// it next and `room` allows one more page ahead.
    pub(super) fn start<T: Listed>(
        state: &WalkState<T>,
        request: &PageRequest,
        body: &PageBody,
        room: Option<&Room>,
    ) -> Option<Self> {
        // Not from the first page: its decode is where a server that ignores what the
        // walk asked (a filter, `all_tenants`) is found out and the walk ends.
        if request.number == 1 || room.is_none_or(|room| room() == 0) {
            return None;
        }
        let walk = state.walk();
        let key = walk.collection.items_key;
        let href = guess_next_href(&body.bytes, key)?;
        let request = state.likely_next(request, &href)?;
        // A next link names the page's last item as its marker; one that names another
        // (a server repeating a marker inside the page) ends the walk once decoded, and a
        // request sent for it would be wasted.
        if let Some(marker) = &request.marker {
            if guess_last_id(&body.bytes, key).as_ref() != Some(marker) {
                return None;
            }
        }
        tracing::trace!(
            page = request.number,
            marker = request.marker.as_deref(),
            "sending the next request while the page decodes"
        );
        // Polled once here, before the page decodes: by the time the decode starts, the
        // request is authorized and handed to the connection, whatever the runtime does
        // with the task next. The task's own polls then wake it as usual.
        let mut answer = Box::pin(fetch_body(walk.clone(), request.clone()));
        let answer = match answer
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(done) => tokio::spawn(std::future::ready(done)),
            Poll::Pending => tokio::spawn(answer),
        };
        Some(Self {
            request,
            answer: AbortOnDrop(answer),
        })
    }

    /// The answer to `request`, if it is the request sent; otherwise the speculative
    /// request is cancelled (dropped) and `None` returned.
    pub(super) fn answers(self, request: &PageRequest) -> Option<Answer> {
        (self.request.url == request.url).then_some(Answer(self.answer))
    }
}

/// The answer to a speculative request that turned out right.
pub(super) struct Answer(AbortOnDrop);

impl Answer {
    pub(super) async fn received(mut self) -> Result<Received> {
        match (&mut self.0.0).await {
            Ok(answer) => answer,
            Err(err) => Err(Error::runtime(format!(
                "the task sending the next page's request stopped: {err}"
            ))),
        }
    }
}

async fn fetch_body(walk: Walk, request: PageRequest) -> Result<Received> {
    walk.fetch_body(&request).await
}

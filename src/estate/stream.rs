//! [`EstateStream`]: every scope's walk merged into one stream, a bounded number at a
//! time, items handed out as they arrive.

use std::collections::HashSet;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::Stream;
use futures::stream::FusedStream;

use crate::cursor::Cursor;
use crate::error::{Error, Result};

use super::checkpoint::{Checkpoint, ScopeCheckpoint, ScopeState};
use super::outcome::{ScopeOutcome, ScopeResult};
use super::set::{Entry, Resume, ScopeSet};
use super::walk::{ScopeStream, Start};
use super::{Scope, Scoped};

/// What an estate stream yields: an item with its scope, or a scope's failure.
type EstateItem<T> = Result<Scoped<T>, Scoped<Arc<Error>>>;

/// Every scope of a [`ScopeSet`] walked as one stream; see [`ScopeSet::stream`].
///
/// Items come as `Ok(Scoped { scope, item })`, interleaved across the scopes walked at
/// once, in each scope's own order, each exactly once. A scope that fails yields one
/// `Err(Scoped { scope, item: error })` and the stream goes on with the others (so do
/// not stop at the first error unless that is what you want); a scope added twice is not
/// walked twice: its second entry's outcome says so, without an `Err` item. When the stream ends,
/// [`outcomes`](Self::outcomes) has one [`ScopeOutcome`] per scope; at any moment,
/// [`checkpoint`](Self::checkpoint) says where every scope stands.
///
/// The stream is pull-based: a scope fetches ahead at most its listing's `prefetch`
/// pages, so a slow consumer slows every scope and memory stays bounded.
/// `Unpin + Send + 'static`; dropping it cancels every walk.
///
/// ```no_run
/// # async fn run(set: vbs_backups::ScopeSet<vbs_backups::BackupDetail>) -> Result<(), Box<dyn std::error::Error>> {
/// use futures::StreamExt;
///
/// let mut estate = set.stream();
/// while let Some(next) = estate.next().await {
///     if let Ok(backup) = next {
///         println!("{} {}", backup.scope.project_id, backup.item.id);
///     }
///     std::fs::write("estate.json", serde_json::to_vec(&estate.checkpoint())?)?;
/// }
/// # Ok(()) }
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct EstateStream<T> {
    slots: Vec<Slot<T>>,
    /// Indexes of the slots being walked, at most `concurrency` of them.
    active: Vec<usize>,
    /// The next slot that may start.
    next_waiting: usize,
    concurrency: usize,
    /// Where the next poll starts among the active walks, so no scope starves another.
    rotor: usize,
    /// Whether the item handed out last ended what its scope had fetched.
    page_ended: bool,
}

struct Slot<T> {
    scope: Arc<Scope>,
    delivered: u64,
    /// A second entry of a scope already in the set: never walked, and left out of the
    /// checkpoint (the first entry stands for the scope there, so that the checkpoint
    /// can complete).
    duplicate: bool,
    state: SlotState<T>,
}

enum SlotState<T> {
    Waiting {
        start: Start<T>,
        /// Where the walk resumes; `None` to start it afresh with its listing.
        cursor: Option<Box<Cursor>>,
        /// What the checkpoint records: `cursor`, or the cursor of the fresh listing,
        /// which carries its filters and paging. Without it a rerun would build a
        /// never-started scope from whatever the rerun's caller asks, and the same
        /// estate would be walked under two sets of filters.
        recorded: Option<Box<Cursor>>,
    },
    /// A scope whose client could not be made: it fails when its turn comes, keeping
    /// the cursor an earlier run left.
    Unreachable {
        error: Arc<Error>,
        cursor: Option<Box<Cursor>>,
    },
    Walking(Box<dyn ScopeStream<T>>),
    Ended(Box<ScopeResult>),
}

impl<T> SlotState<T> {
    fn ended(result: ScopeResult) -> Self {
        Self::Ended(Box::new(result))
    }
}

impl<T: Send + 'static> EstateStream<T> {
    pub(super) fn new(set: ScopeSet<T>) -> Self {
        let mut seen: HashSet<(String, String, String, Option<String>)> = HashSet::new();
        let slots = set
            .entries
            .into_iter()
            .map(|entry| {
                let key = (
                    entry.scope.service.as_str().to_owned(),
                    entry.scope.region.clone(),
                    entry.scope.project_id.clone(),
                    entry.scope.cloud.clone(),
                );
                let duplicate = !seen.insert(key);
                slot(entry, duplicate)
            })
            .collect();
        Self {
            slots,
            active: Vec::new(),
            next_waiting: 0,
            concurrency: set.concurrency,
            rotor: 0,
            page_ended: false,
        }
    }

    /// One outcome per scope that has ended, in the order the scopes were added; every
    /// scope once the stream has ended.
    ///
    /// ```no_run
    /// # async fn run(set: vbs_backups::ScopeSet<vbs_backups::BackupDetail>) {
    /// use futures::StreamExt;
    /// let mut estate = set.stream();
    /// while estate.next().await.is_some() {}
    /// let failed = estate.outcomes().iter().filter(|outcome| !outcome.is_complete()).count();
    /// # }
    /// ```
    pub fn outcomes(&self) -> Vec<ScopeOutcome> {
        self.slots
            .iter()
            .filter_map(|slot| match &slot.state {
                SlotState::Ended(result) => Some(ScopeOutcome {
                    scope: slot.scope.clone(),
                    delivered: slot.delivered,
                    result: result.as_ref().clone(),
                }),
                _ => None,
            })
            .collect()
    }

    /// Where every scope stands after the items handed out so far: done, or its cursor.
    /// Save it (it is serde data) and resume with [`ScopeSet::resume`]; a failed scope is
    /// saved with its cursor, so a resumed walk tries it again.
    ///
    /// ```no_run
    /// # fn f(estate: &vbs_backups::EstateStream<vbs_backups::BackupDetail>) -> Result<(), Box<dyn std::error::Error>> {
    /// std::fs::write("estate.json", serde_json::to_vec(&estate.checkpoint())?)?;
    /// # Ok(()) }
    /// ```
    pub fn checkpoint(&self) -> Checkpoint {
        let scopes = self
            .slots
            .iter()
            .filter(|slot| !slot.duplicate)
            .map(|slot| ScopeCheckpoint {
                scope: slot.scope.as_ref().clone(),
                delivered: slot.delivered,
                state: match &slot.state {
                    SlotState::Waiting { recorded, .. } => ScopeState::Walking {
                        cursor: recorded.clone(),
                    },
                    SlotState::Unreachable { cursor, .. } => ScopeState::Walking {
                        cursor: cursor.clone(),
                    },
                    SlotState::Walking(stream) => ScopeState::Walking {
                        cursor: Some(Box::new(stream.cursor())),
                    },
                    SlotState::Ended(result) => match result.as_ref() {
                        ScopeResult::Complete { server_total, .. } => ScopeState::Done {
                            server_total: *server_total,
                        },
                        ScopeResult::Failed { cursor, .. } => ScopeState::Walking {
                            cursor: cursor.clone().map(Box::new),
                        },
                    },
                },
            })
            .collect();
        Checkpoint::new(scopes)
    }

    /// Whether the item handed out last was the last its scope had fetched: the end of
    /// a page. Saving the [`checkpoint`](Self::checkpoint) at every such moment (and
    /// whenever no item is ready) bounds what a rerun repeats to about a page a scope,
    /// whatever page size the servers chose.
    ///
    /// ```no_run
    /// # async fn run(mut estate: vbs_backups::EstateStream<vbs_backups::BackupDetail>) -> Result<(), Box<dyn std::error::Error>> {
    /// use futures::StreamExt;
    ///
    /// while let Some(next) = estate.next().await {
    ///     if let Ok(backup) = next {
    ///         println!("{}", backup.item.id);
    ///     }
    ///     if estate.at_page_end() {
    ///         std::fs::write("estate.json", serde_json::to_vec(&estate.checkpoint())?)?;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn at_page_end(&self) -> bool {
        self.page_ended
    }

    /// Starts waiting scopes until `concurrency` are walked at once. A scope that cannot
    /// start (its project could not be connected to, or its client refuses its cursor)
    /// ends at once, failed, and its failure is returned.
    fn fill(&mut self) -> Option<Scoped<Arc<Error>>> {
        while self.active.len() < self.concurrency && self.next_waiting < self.slots.len() {
            let index = self.next_waiting;
            self.next_waiting += 1;
            let slot = &mut self.slots[index];
            let (error, cursor) = match &slot.state {
                SlotState::Unreachable { error, cursor } => {
                    (error.clone(), cursor.as_deref().cloned())
                }
                SlotState::Waiting { start, cursor, .. } => {
                    match start(cursor.as_deref().cloned()) {
                        Ok(stream) => {
                            slot.state = SlotState::Walking(stream);
                            self.active.push(index);
                            continue;
                        }
                        Err(error) => (Arc::new(error), cursor.as_deref().cloned()),
                    }
                }
                _ => continue,
            };
            slot.state = SlotState::ended(ScopeResult::Failed {
                error: error.clone(),
                cursor,
            });
            return Some(Scoped {
                scope: slot.scope.clone(),
                item: error,
            });
        }
        None
    }

    /// Polls the active walks once each, from the rotor on, until one has something.
    fn poll_active(&mut self, cx: &mut Context<'_>) -> Poll<Option<EstateItem<T>>> {
        let count = self.active.len();
        for step in 0..count {
            let position = (self.rotor + step) % count;
            let index = self.active[position];
            let slot = &mut self.slots[index];
            let SlotState::Walking(stream) = &mut slot.state else {
                continue;
            };
            match stream.poll_item(cx) {
                Poll::Pending => continue,
                Poll::Ready(Some(Ok(item))) => {
                    slot.delivered += 1;
                    self.rotor = position + 1;
                    self.page_ended = stream.between_pages();
                    return Poll::Ready(Some(Ok(Scoped {
                        scope: slot.scope.clone(),
                        item,
                    })));
                }
                Poll::Ready(Some(Err(error))) => {
                    let cursor = Some(error.cursor().cloned().unwrap_or_else(|| stream.cursor()));
                    let error = Arc::new(error);
                    slot.state = SlotState::ended(ScopeResult::Failed {
                        error: error.clone(),
                        cursor,
                    });
                    let scope = slot.scope.clone();
                    self.active.remove(position);
                    return Poll::Ready(Some(Err(Scoped { scope, item: error })));
                }
                Poll::Ready(None) => {
                    let total = stream.total();
                    let outcome = ScopeOutcome::complete(slot.scope.clone(), slot.delivered, total);
                    slot.state = SlotState::ended(outcome.result);
                    self.active.remove(position);
                    // A slot is free: start the next scope and poll again.
                    return Poll::Ready(None);
                }
            }
        }
        Poll::Pending
    }
}

fn slot<T>(entry: Entry<T>, duplicate: bool) -> Slot<T> {
    let state = if duplicate {
        SlotState::ended(ScopeResult::Failed {
            error: Arc::new(Error::config(format!(
                "the scope {} was added twice",
                entry.scope
            ))),
            cursor: None,
        })
    } else {
        match (entry.resume, entry.start) {
            (Resume::Walk(cursor), Err(error)) => SlotState::Unreachable { error, cursor },
            (Resume::Walk(cursor), Ok(start)) => {
                let recorded = match &cursor {
                    Some(cursor) => Some(cursor.clone()),
                    // Building a stream sends nothing: it only fixes the listing.
                    None => start(None).ok().map(|fresh| Box::new(fresh.cursor())),
                };
                SlotState::Waiting {
                    start,
                    cursor,
                    recorded,
                }
            }
            (Resume::Done { server_total }, _) => SlotState::ended(
                ScopeOutcome::complete(entry.scope.clone(), entry.delivered, server_total).result,
            ),
        }
    };
    Slot {
        scope: entry.scope,
        delivered: entry.delivered,
        duplicate,
        state,
    }
}

impl<T: Send + 'static> Stream for EstateStream<T> {
    type Item = EstateItem<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(failed) = this.fill() {
                return Poll::Ready(Some(Err(failed)));
            }
            if this.active.is_empty() {
                return Poll::Ready(None);
            }
            match this.poll_active(cx) {
                // A scope ended: fill its place and go round again.
                Poll::Ready(None) => continue,
                other => return other,
            }
        }
    }
}

impl<T: Send + 'static> FusedStream for EstateStream<T> {
    fn is_terminated(&self) -> bool {
        self.active.is_empty() && self.next_waiting >= self.slots.len()
    }
}

impl<T> Unpin for EstateStream<T> {}

impl<T> fmt::Debug for EstateStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EstateStream")
            .field("scopes", &self.slots.len())
            .field("active", &self.active.len())
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

//! The age window as a walk checks it: which items of a page are in the window, and
//! whether the walk may end early because its order goes past the window's bound.

use jiff::Timestamp;

use crate::cursor::Window;
use crate::error::{Error, Result};
use crate::model::{Listed, StopBound};

/// What a page tells about the rest of a walk with an age window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Later pages may hold items of the window.
    GoOn,
    /// No later item can be in the window: the walk is over.
    Done,
}

/// An age window as a walk checks it.
#[derive(Debug)]
pub(super) struct WindowCheck {
    /// Inclusive.
    after: Option<Timestamp>,
    /// Exclusive.
    before: Option<Timestamp>,
    /// The bound the walk's order goes towards, if it does.
    stop: Option<StopBound>,
    /// The creation time of the last item seen, to check the order the stop relies on.
    last: Option<Timestamp>,
    /// Whether two items seen so far were strictly in the order the stop relies on: a
    /// server that ignored the sort cannot show that, so until then an early end is not
    /// trusted.
    order_seen: bool,
    /// An item past the bound was seen before the order was: the walk reads on until the
    /// order shows (then it ends) or is broken (then it fails).
    confirming: bool,
}

impl WindowCheck {
    /// The check for `window`; none for a walk without one.
    pub(super) fn new(window: &Window, stop: Option<StopBound>) -> Option<Self> {
        if window.is_empty() {
            return None;
        }
        Some(Self {
            after: window.created_after,
            before: window.created_before,
            stop,
            last: None,
            order_seen: false,
            confirming: false,
        })
    }

    /// Whether no time can be in the window (`after` at or past `before`).
    pub(super) fn is_empty_range(&self) -> bool {
        matches!((self.after, self.before), (Some(after), Some(before)) if after >= before)
    }

    fn contains(&self, created: Timestamp) -> bool {
        self.after.is_none_or(|after| created >= after)
            && self.before.is_none_or(|before| created < before)
    }

    /// Whether `created` is past the bound the walk goes towards.
    fn past(&self, bound: StopBound, created: Timestamp) -> bool {
        match bound {
            StopBound::Before => self.before.is_some_and(|before| created >= before),
            StopBound::After => self.after.is_some_and(|after| created < after),
        }
    }

    /// Keeps the items of a page that are in the window, and says whether the walk is
    /// over: an item is past the bound its order goes towards, so every later one is
    /// too, once two items have shown that order. Fails when the items are not in the
    /// order the stop relies on (a server that ignored the sort): stopping there could
    /// miss backups of the window.
    pub(super) fn keep<T: Listed>(&mut self, items: &mut Vec<T>, number: u64) -> Result<Verdict> {
        let mut end = None;
        if let Some(bound) = self.stop {
            for (index, item) in items.iter().enumerate() {
                let Some(created) = item.created_at() else {
                    continue;
                };
                self.follow(bound, created, number)?;
                if end.is_none() && self.past(bound, created) {
                    end = Some(index);
                }
            }
        }
        if self.confirming {
            items.clear();
        } else if let Some(end) = end {
            items.truncate(end);
            self.confirming = true;
        }
        items.retain(|item| {
            item.created_at()
                .is_some_and(|created| self.contains(created))
        });
        Ok(if self.confirming && self.order_seen {
            Verdict::Done
        } else {
            Verdict::GoOn
        })
    }

    /// Checks that `created` keeps the order the stop relies on, after the last item.
    fn follow(&mut self, bound: StopBound, created: Timestamp, number: u64) -> Result<()> {
        if let Some(last) = self.last {
            let (forward, backward) = match bound {
                StopBound::Before => (created > last, created < last),
                StopBound::After => (created < last, created > last),
            };
            if backward {
                let order = match bound {
                    StopBound::Before => "created_at:asc",
                    StopBound::After => "created_at:desc",
                };
                return Err(Error::pagination(format!(
                    "page {number}: the backups do not come in `{order}` order (the server \
                     ignored the sort?), so the age window cannot end the walk early without \
                     missing some: add a sort of your own to read every page and filter"
                )));
            }
            self.order_seen |= forward;
        }
        self.last = Some(created);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BackupDetail;

    fn details(minutes: &[u32]) -> Vec<BackupDetail> {
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

    fn before(minute: u32) -> WindowCheck {
        let window = Window {
            created_after: None,
            created_before: Some(at(minute)),
        };
        WindowCheck::new(&window, Some(StopBound::Before)).expect("a window")
    }

    #[test]
    fn a_window_keeps_its_items_and_ends_at_the_first_past_the_bound() {
        let mut check = before(3);
        let mut items = details(&[1, 2, 2, 3, 3, 4]);
        assert_eq!(check.keep(&mut items, 1).ok(), Some(Verdict::Done));
        let ids: Vec<_> = items.iter().map(Listed::marker).collect();
        assert_eq!(ids, ["b0", "b1", "b2"]);
        // Without a stop, the same window filters and never ends the walk.
        let window = Window {
            created_after: None,
            created_before: Some(at(3)),
        };
        let mut filter = WindowCheck::new(&window, None).expect("a window");
        let mut items = details(&[4, 1, 3, 2]);
        assert_eq!(filter.keep(&mut items, 1).ok(), Some(Verdict::GoOn));
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn a_server_that_ignored_the_sort_ends_the_walk_instead_of_stopping_early() {
        // Newest first, as a server that ignored `sort=created_at:asc` would send.
        let err = before(3)
            .keep(&mut details(&[5, 4, 2, 1]), 1)
            .expect_err("out of order");
        assert!(err.to_string().contains("created_at:asc"), "{err}");
        // Across pages too.
        let mut check = before(3);
        assert!(check.keep(&mut details(&[1, 2]), 1).is_ok());
        assert!(check.keep(&mut details(&[1]), 2).is_err());
    }

    #[test]
    fn an_early_end_waits_until_the_order_is_seen() {
        // One item a page, past the bound at once: the order is unknown, so read on.
        let mut check = before(3);
        let mut first = details(&[5]);
        assert_eq!(check.keep(&mut first, 1).ok(), Some(Verdict::GoOn));
        assert!(first.is_empty());
        // The next page shows the server ignores the sort: an error, not an early end.
        assert!(check.keep(&mut details(&[4]), 2).is_err());

        // Ties past the bound prove nothing; a later item shows the order, and ends it.
        let mut check = before(3);
        assert_eq!(
            check.keep(&mut details(&[4, 4]), 1).ok(),
            Some(Verdict::GoOn)
        );
        assert_eq!(check.keep(&mut details(&[4]), 2).ok(), Some(Verdict::GoOn));
        let mut last = details(&[6]);
        assert_eq!(check.keep(&mut last, 3).ok(), Some(Verdict::Done));
        assert!(last.is_empty());
    }
}

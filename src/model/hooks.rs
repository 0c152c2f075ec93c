//! What a walk needs of a collection beyond what the collection is: the crate-private
//! side of [`Listed`](super::Listed). `Hooks` is its supertrait and cannot be named outside
//! the crate, which also seals `Listed` to the crate's own collections.

use jiff::Timestamp;

use crate::error::Error;

/// The walk's questions to a collection; every answer has a default for collections
/// that need none of it.
pub trait Hooks {
    /// Why a walk with these filters cannot be sent to a server of this microversion,
    /// if it cannot (a filter an older server would misread, say).
    fn unsendable(
        _filters: &[(String, String)],
        _microversion: Option<(u32, u32)>,
    ) -> Option<&'static str> {
        None
    }

    /// The v3 microversion a walk with these filters needs, if any: asked for when the
    /// caller asked for none (see `Client::choosing_microversion`).
    fn microversion_needed(_filters: &[(String, String)]) -> Option<(u32, u32)> {
        None
    }

    /// Why the walk with these filters must end at this item, if it must: the server
    /// ignored a filter the walk cannot do without (Cinder's `all_tenants` for a
    /// non-admin caller), so the item proves the listing is not what was asked for.
    fn ignored_filter(&self, _filters: &[(String, String)]) -> Option<Error> {
        None
    }

    /// Whether the items carry their creation time ([`created_at`](Self::created_at)),
    /// so that an age window can be checked on them.
    const CREATED_AT: bool = false;

    /// Whether the server orders the items by creation time and then id, as Cinder
    /// documents it (by default newest first; `sort=created_at:asc` oldest first), so
    /// that a walk can tell from an item's creation time and id whether it was passed
    /// already: what lets it find its place again when every id it remembers is gone.
    const ORDERED_BY_CREATION: bool = false;

    /// When the item was created, if it says: what an age window checks.
    fn created_at(&self) -> Option<Timestamp> {
        None
    }

    /// How a walk with an age window (`created_after` inclusive, `created_before`
    /// exclusive) goes on this collection, given the caller's `filters`. The default:
    /// every page is read and each item checked.
    fn window_plan(
        _filters: &[(String, String)],
        _created_after: Option<Timestamp>,
        _created_before: Option<Timestamp>,
    ) -> WindowPlan {
        WindowPlan::Filter
    }
}

/// How a walk applies an age window; see [`Hooks::window_plan`]. Whatever the plan, the
/// client checks every item against the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowPlan {
    /// The server can neither filter nor order by creation time in a way the walk can
    /// use: every page is read.
    Filter,
    /// Send `add` (an order by creation time), and end the walk at the first item past
    /// `bound`: the items after it can only be further past.
    StopAt {
        /// Filters to add to the caller's, e.g. `sort=created_at:asc`.
        add: Vec<(String, String)>,
        /// The bound the order walks towards.
        bound: StopBound,
    },
    /// The server filters by creation time itself: send these parameters (Huawei CBR's
    /// `start_time` / `end_time`). The walk reads every page it is given.
    Server(Vec<(String, String)>),
}

/// The bound of an age window that ends a walk in creation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopBound {
    /// Oldest first: the walk ends at the first item created at or after `created_before`.
    Before,
    /// Newest first: the walk ends at the first item created before `created_after`.
    After,
}

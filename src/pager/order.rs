//! The order a walk's items come in, as far as the walk relies on it: whether items keep
//! their places while others change (what makes stepping back after a vanished marker
//! exact), and, where the order is by creation time and id, where an item stands
//! relative to a remembered position (what lets a walk restart at the top and skip
//! exactly what it handed out).

use std::cmp::Ordering;

use jiff::Timestamp;

/// Where an item stands in a walk ordered by creation time and id: the last item a
/// walk passed, or any item it compares with that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Position {
    pub(crate) created_at: Timestamp,
    pub(crate) id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Asc,
    Desc,
}

impl Direction {
    fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "asc" => Some(Self::Asc),
            "desc" => Some(Self::Desc),
            _ => None,
        }
    }

    fn apply(self, ordering: Ordering) -> Ordering {
        match self {
            Self::Asc => ordering,
            Self::Desc => ordering.reverse(),
        }
    }
}

/// An order by `created_at`, then `id`, each in its own direction: Cinder's default
/// (`created_at:desc,id:desc`) and the orders the age windows send. Cinder completes a
/// `sort` that lacks `created_at` or `id` with them, in the direction of the first term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyOrder {
    created_at: Direction,
    id: Direction,
}

impl KeyOrder {
    /// The order of a walk sending these parameters, if it is by creation time and id;
    /// `None` for any other order, or one the walk cannot read (`sort_key` / `sort_dir`).
    pub(crate) fn of<'a>(params: impl Iterator<Item = &'a (String, String)>) -> Option<Self> {
        let mut sort = None;
        for (key, value) in params {
            match key.as_str() {
                "sort" => sort = Some(value.as_str()),
                "sort_key" | "sort_dir" => return None,
                _ => {}
            }
        }
        let Some(sort) = sort.filter(|sort| !sort.trim().is_empty()) else {
            return Some(Self {
                created_at: Direction::Desc,
                id: Direction::Desc,
            });
        };
        let mut terms = sort.split(',').map(|term| {
            let (key, dir) = term.split_once(':').unwrap_or((term, "desc"));
            Some((key.trim(), Direction::parse(dir)?))
        });
        let (first_key, first_dir) = terms.next().flatten()?;
        if first_key != "created_at" {
            return None;
        }
        let id = match terms.next() {
            None => first_dir,
            Some(Some(("id", dir))) => dir,
            Some(_) => return None,
        };
        Some(Self {
            created_at: first_dir,
            id,
        })
    }

    /// How `item` compares with `position` in the walk's order: `Greater` when it comes
    /// after it.
    pub(crate) fn compare(&self, created_at: Timestamp, id: &str, position: &Position) -> Ordering {
        self.created_at
            .apply(created_at.cmp(&position.created_at))
            .then_with(|| self.id.apply(id.as_bytes().cmp(position.id.as_bytes())))
    }
}

/// The sort term that makes stepping back after an earlier id unsafe, if any: the step
/// is exact only when items never move relative to each other while the walk goes on,
/// when every term of the order up to the first `id` term (which is unique and settles
/// the rest) is `created_at` or `id`. No sort at all is the server's default
/// (`created_at`, then `id`), which is stable; so is `created_at` alone, which Cinder
/// breaks ties in by `id`. Any other key (`updated_at`, `status`, `size`, `name`, …)
/// changes when a backup is being deleted or updated, which moves it. Both
/// `sort=key:dir,…` and the older `sort_key=key,…` are read.
pub(crate) fn unstable_sort<'a>(
    mut params: impl Iterator<Item = &'a (String, String)>,
) -> Option<&'a str> {
    params
        .find(|(key, value)| (key == "sort" || key == "sort_key") && !is_stable_order(value))
        .map(|(_, value)| value.as_str())
}

/// Whether the sort terms of `value` (`created_at:desc,id:asc`) keep items in place.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn params(sort: &str) -> Vec<(String, String)> {
        vec![("sort".to_owned(), sort.to_owned())]
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
        assert_eq!(unstable_sort(params("created_at:desc,id:asc").iter()), None);
        let legacy = [("sort_key".to_owned(), "status".to_owned())];
        assert_eq!(unstable_sort(legacy.iter()), Some("status"));
    }

    fn at(second: u32) -> Timestamp {
        format!("2024-01-01T00:00:{second:02}Z")
            .parse()
            .expect("a timestamp")
    }

    #[test]
    fn key_orders_follow_cinder_and_compare_ties_by_id() {
        let default = KeyOrder::of(std::iter::empty()).expect("the default order");
        let position = Position {
            created_at: at(10),
            id: "m".to_owned(),
        };
        // Newest first: older items, and same-time items with smaller ids, come after.
        assert_eq!(default.compare(at(9), "z", &position), Ordering::Greater);
        assert_eq!(default.compare(at(10), "a", &position), Ordering::Greater);
        assert_eq!(default.compare(at(10), "m", &position), Ordering::Equal);
        assert_eq!(default.compare(at(10), "z", &position), Ordering::Less);
        assert_eq!(default.compare(at(11), "a", &position), Ordering::Less);

        let oldest_first = KeyOrder::of(params("created_at:asc").iter()).expect("an order");
        assert_eq!(
            oldest_first.compare(at(10), "z", &position),
            Ordering::Greater
        );
        assert_eq!(
            oldest_first.compare(at(11), "a", &position),
            Ordering::Greater
        );
        let mixed = KeyOrder::of(params("created_at:asc,id:desc").iter()).expect("an order");
        assert_eq!(mixed.compare(at(10), "a", &position), Ordering::Greater);

        for other in ["status", "id:asc", "created_at:up", "created_at,size"] {
            assert_eq!(KeyOrder::of(params(other).iter()), None, "{other}");
        }
        let legacy = [("sort_dir".to_owned(), "asc".to_owned())];
        assert_eq!(KeyOrder::of(legacy.iter()), None);
    }
}

//! Cinder's `sort`, `sort_key` and `sort_dir`: which requests are refused, and the order the
//! others ask for.
//!
//! The steps are Cinder's (the API's `get_sort_params`, then the database layer's
//! `process_sort_params` and `paginate_query`), each with its own 400, in this order:
//!
//! 1. [`sort_params`]: `sort=key[:dir][,key[:dir]…]` (a term without a direction is `desc`), or
//!    the legacy `sort_key` and `sort_dir` (defaults `created_at` and `desc`); `sort` together
//!    with either legacy one is refused.
//! 2. [`resolve`]: from microversion 3.37 the first `name` key means `display_name`; every
//!    direction must be exactly `asc` or `desc`; `created_at` and then `id`, unless asked for
//!    already, are appended in the direction of the *first* term. So `sort=size:asc` orders by
//!    size, then `created_at`, then `id`, all ascending, and every order is total.
//! 3. [`terms`]: every key must name a column the fake models (see [`Field::from_column`]);
//!    Cinder checks this only after looking the marker up.
//!
//! Values compare as SQLite does: strings bytewise, numbers numerically, and `NULL` below
//! everything (first ascending, last descending). The page after a marker starts strictly
//! after the marker's position in the sorted order, so markers stay exact under any sort, also
//! when the marker's sort value is `NULL` (where Cinder's SQL criteria would skip rows).

use std::cmp::Ordering;
use std::fmt;

use crate::backup::FakeBackup;
use crate::row::Row;

/// The message of every refused sort key.
const INVALID_KEY: &str = "Invalid input received: Invalid sort key";

/// A column a listing can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    CreatedAt,
    UpdatedAt,
    DataTimestamp,
    Id,
    DisplayName,
    DisplayDescription,
    Status,
    Size,
    ObjectCount,
    VolumeId,
    SnapshotId,
    AvailabilityZone,
    Container,
    FailReason,
    UserId,
    /// The same for every backup of the one project: sorting by it changes nothing.
    ProjectId,
    EncryptionKeyId,
}

impl Field {
    /// The field stored in Cinder's `backups` column `column`, if the fake models it.
    fn from_column(column: &str) -> Option<Self> {
        Some(match column {
            "created_at" => Self::CreatedAt,
            "updated_at" => Self::UpdatedAt,
            "data_timestamp" => Self::DataTimestamp,
            "id" => Self::Id,
            "display_name" => Self::DisplayName,
            "display_description" => Self::DisplayDescription,
            "status" => Self::Status,
            "size" => Self::Size,
            "object_count" => Self::ObjectCount,
            "volume_id" => Self::VolumeId,
            "snapshot_id" => Self::SnapshotId,
            "availability_zone" => Self::AvailabilityZone,
            "container" => Self::Container,
            "fail_reason" => Self::FailReason,
            "user_id" => Self::UserId,
            "project_id" => Self::ProjectId,
            "encryption_key_id" => Self::EncryptionKeyId,
            _ => return None,
        })
    }

    /// Ascending order of this field.
    fn compare(self, a: &FakeBackup, b: &FakeBackup) -> Ordering {
        match self {
            Self::CreatedAt => a.created_at.cmp(&b.created_at),
            Self::UpdatedAt => a.updated_at.cmp(&b.updated_at),
            Self::DataTimestamp => a.data_timestamp.cmp(&b.data_timestamp),
            Self::Id => a.id.cmp(&b.id),
            Self::DisplayName => a.name.cmp(&b.name),
            Self::DisplayDescription => a.description.cmp(&b.description),
            Self::Status => a.status.cmp(&b.status),
            Self::Size => a.size.cmp(&b.size),
            Self::ObjectCount => a.object_count.cmp(&b.object_count),
            Self::VolumeId => a.volume_id.cmp(&b.volume_id),
            Self::SnapshotId => a.snapshot_id.cmp(&b.snapshot_id),
            Self::AvailabilityZone => a.availability_zone.cmp(&b.availability_zone),
            Self::Container => a.container.cmp(&b.container),
            Self::FailReason => a.fail_reason.cmp(&b.fail_reason),
            Self::UserId => a.user_id.cmp(&b.user_id),
            Self::ProjectId => Ordering::Equal,
            Self::EncryptionKeyId => a.encryption_key_id.cmp(&b.encryption_key_id),
        }
    }
}

/// One sort term: a field and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Term {
    field: Field,
    descending: bool,
}

/// Cinder's default order, `created_at desc, id desc`: the order rows are kept in.
const DEFAULT_ORDER: [Term; 2] = [
    Term {
        field: Field::CreatedAt,
        descending: true,
    },
    Term {
        field: Field::Id,
        descending: true,
    },
];

/// Whether `terms` is the order rows are kept in, so that no sorting is needed.
pub(super) fn is_default(terms: &[Term]) -> bool {
    terms == DEFAULT_ORDER
}

/// Cinder's `get_sort_params`: the keys and directions asked for, each trimmed, in order.
///
/// Takes the first `sort`, `sort_key` or `sort_dir` (repeats are left to the caller, for which
/// they are unknown filters). Fails when `sort` comes with `sort_key` or `sort_dir`.
pub(super) fn sort_params(pairs: &[(String, String)]) -> Result<Vec<(&str, &str)>, String> {
    let first = |key: &str| {
        pairs
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    };
    let Some(sort) = first("sort") else {
        let key = first("sort_key").unwrap_or("created_at").trim();
        let dir = first("sort_dir").unwrap_or("desc").trim();
        return Ok(vec![(key, dir)]);
    };
    if first("sort_key").is_some() || first("sort_dir").is_some() {
        return Err(
            "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be \
                    used with the 'sort' parameter."
                .to_owned(),
        );
    }
    Ok(sort
        .trim()
        .split(',')
        .map(|term| {
            let (key, dir) = term.split_once(':').unwrap_or((term, ""));
            // Python checks for an empty direction before trimming it.
            let dir = if dir.is_empty() { "desc" } else { dir.trim() };
            (key.trim(), dir)
        })
        .collect())
}

/// Cinder's `process_sort_params` (and, from 3.37, the renaming of `name`): the keys to sort
/// by with their directions, tie-breakers appended. Fails on a direction other than `asc` or
/// `desc`. Keys are checked later, by [`terms`].
pub(super) fn resolve<'a>(
    mut params: Vec<(&'a str, &'a str)>,
    name_sorts: bool,
) -> Result<Vec<(&'a str, bool)>, String> {
    if name_sorts {
        if let Some(term) = params.iter_mut().find(|(key, _)| *key == "name") {
            term.0 = "display_name";
        }
    }
    let mut keys = params
        .iter()
        .map(|&(key, dir)| match dir {
            "asc" => Ok((key, false)),
            "desc" => Ok((key, true)),
            _ => Err(
                "Invalid input received: Unknown sort direction, must be 'desc' or 'asc'."
                    .to_owned(),
            ),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let tie_break_descending = keys.first().is_none_or(|&(_, descending)| descending);
    for default in ["created_at", "id"] {
        if !keys.iter().any(|(key, _)| *key == default) {
            keys.push((default, tie_break_descending));
        }
    }
    Ok(keys)
}

/// The terms of resolved sort keys; fails on a key that names no column. A field repeated
/// after its first term cannot change the order, so it is dropped.
pub(super) fn terms(keys: &[(&str, bool)]) -> Result<Vec<Term>, String> {
    let mut terms: Vec<Term> = Vec::with_capacity(keys.len());
    for &(key, descending) in keys {
        let field = Field::from_column(key).ok_or_else(|| INVALID_KEY.to_owned())?;
        if !terms.iter().any(|term| term.field == field) {
            terms.push(Term { field, descending });
        }
    }
    Ok(terms)
}

/// The terms of the order a listing with `sort=…` asks for, as from microversion 3.37 (`name`
/// means `display_name`); an empty or blank `sort` asks for the default order. Fails with
/// Cinder's 400 message where Cinder would refuse the request.
pub(super) fn parse(sort: &str) -> Result<Vec<Term>, String> {
    if sort.trim().is_empty() {
        return Ok(DEFAULT_ORDER.to_vec());
    }
    let pairs = [("sort".to_owned(), sort.to_owned())];
    let keys = resolve(sort_params(&pairs)?, true)?;
    terms(&keys)
}

/// How `terms` order two backups.
fn compare(terms: &[Term], a: &FakeBackup, b: &FakeBackup) -> Ordering {
    terms
        .iter()
        .map(|term| {
            let ascending = term.field.compare(a, b);
            if term.descending {
                ascending.reverse()
            } else {
                ascending
            }
        })
        .find(|ordering| ordering.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// A permutation of the rows: their order under some sort, and each row's place in it.
#[derive(Debug)]
pub(super) struct SortedOrder {
    /// Row indices, in sorted order.
    order: Vec<usize>,
    /// For each row index, its position in `order`.
    positions: Vec<usize>,
}

impl SortedOrder {
    /// Sorts `rows` by `terms`: `O(n log n)`.
    pub(super) fn new(rows: &[Row], terms: &[Term]) -> Self {
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_unstable_by(|&a, &b| match (rows.get(a), rows.get(b)) {
            (Some(a), Some(b)) => compare(terms, &a.backup, &b.backup),
            _ => Ordering::Equal,
        });
        let mut positions = vec![0; order.len()];
        for (position, &row) in order.iter().enumerate() {
            if let Some(slot) = positions.get_mut(row) {
                *slot = position;
            }
        }
        Self { order, positions }
    }

    /// The rows in this order; `rows` must be the rows it was made from.
    pub(super) fn rows<'a>(&'a self, rows: &'a [Row]) -> impl Iterator<Item = &'a Row> + 'a {
        self.order.iter().filter_map(|&index| rows.get(index))
    }
}

/// The rows as one request sees them: in the server's own order, or in a sorted one.
#[derive(Debug, Clone, Copy)]
pub(super) struct View<'a> {
    rows: &'a [Row],
    order: Option<&'a SortedOrder>,
}

impl<'a> View<'a> {
    /// `order` must have been made from `rows`; `None` is the order they are kept in.
    pub(super) fn new(rows: &'a [Row], order: Option<&'a SortedOrder>) -> Self {
        Self { rows, order }
    }

    /// The number of rows.
    pub(super) fn len(self) -> usize {
        self.rows.len()
    }

    /// The row at `position` in this order.
    pub(super) fn at(self, position: usize) -> Option<&'a Row> {
        match self.order {
            None => self.rows.get(position),
            Some(sorted) => sorted
                .order
                .get(position)
                .and_then(|&index| self.rows.get(index)),
        }
    }

    /// The position in this order of the row kept at `index`.
    pub(super) fn position(self, index: usize) -> Option<usize> {
        match self.order {
            None => Some(index),
            Some(sorted) => sorted.positions.get(index).copied(),
        }
    }

    /// The rows from `start` on, in this order.
    pub(super) fn starting_at(self, start: usize) -> impl Iterator<Item = &'a Row> + 'a {
        (start..self.len()).map_while(move |position| self.at(position))
    }
}

/// A sort [`FakeServer::backups_sorted`](crate::FakeServer::backups_sorted) cannot say the order
/// of, because Cinder refuses it with a 400 (an unknown key, a direction other than `asc` or `desc`).
///
/// ```
/// use vbs_backups_testing::FakeServer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let server = FakeServer::builder().start().await?;
/// let err = server.backups_sorted("size:upwards").unwrap_err();
/// assert!(err.message().contains("Unknown sort direction"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSort(pub(crate) String);

impl InvalidSort {
    /// The message Cinder's 400 for this sort carries.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InvalidSort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid sort: {}", self.0)
    }
}

impl std::error::Error for InvalidSort {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect()
    }

    /// The resolved keys of `query` at a version with or without `name` sorting.
    fn resolved(query: &str, name_sorts: bool) -> Result<Vec<(String, bool)>, String> {
        let pairs = pairs(query);
        let keys = resolve(sort_params(&pairs)?, name_sorts)?;
        Ok(keys
            .into_iter()
            .map(|(key, descending)| (key.to_owned(), descending))
            .collect())
    }

    /// Resolved keys: each with whether it is descending.
    type Keys<'a> = &'a [(&'a str, bool)];

    fn keys(list: Keys<'_>) -> Vec<(String, bool)> {
        list.iter()
            .map(|&(key, descending)| (key.to_owned(), descending))
            .collect()
    }

    #[test]
    fn parameters_resolve_like_cinder() {
        let cases: [(&str, bool, Keys<'_>); 11] = [
            ("", false, &[("created_at", true), ("id", true)]),
            (
                "sort=created_at:asc",
                false,
                &[("created_at", false), ("id", false)],
            ),
            (
                "sort_dir=asc",
                false,
                &[("created_at", false), ("id", false)],
            ),
            (
                "sort_key=size",
                false,
                &[("size", true), ("created_at", true), ("id", true)],
            ),
            (
                "sort=size:asc,status:desc",
                false,
                &[
                    ("size", false),
                    ("status", true),
                    ("created_at", false),
                    ("id", false),
                ],
            ),
            (
                "sort=%20id:%20asc%20",
                false,
                &[("id", false), ("created_at", false)],
            ),
            ("sort=id:", false, &[("id", true), ("created_at", true)]),
            ("sort=id:%20", false, &[("id", true), ("created_at", true)]),
            (
                "sort=name:asc",
                false,
                &[("name", false), ("created_at", false), ("id", false)],
            ),
            (
                "sort=name:asc,name",
                true,
                &[
                    ("display_name", false),
                    ("name", true),
                    ("created_at", false),
                    ("id", false),
                ],
            ),
            (
                "sort=bogus&sort=id:asc",
                false,
                &[("bogus", true), ("created_at", true), ("id", true)],
            ),
        ];
        for (query, name_sorts, expected) in cases {
            assert_eq!(resolved(query, name_sorts), Ok(keys(expected)), "{query}");
        }
    }

    #[test]
    fn refusals_carry_cinder_messages() {
        let direction = "Invalid input received: Unknown sort direction, must be 'desc' or 'asc'.";
        let conflict = "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.";
        for (query, message) in [
            ("sort_dir=sideways", direction),
            ("sort=id:ASC", direction),
            ("sort=id:%20,size", direction),
            ("sort=id:asc:x", direction),
            ("sort_dir=", direction),
            ("sort_key=id&sort=id", conflict),
            ("sort=id&sort_dir=asc", conflict),
        ] {
            assert_eq!(resolved(query, true), Err(message.to_owned()), "{query}");
        }
        for query in ["sort=bogus", "sort=name", "sort_key=", "sort=id:asc,"] {
            let keys = resolved(query, false).unwrap();
            let borrowed: Vec<(&str, bool)> =
                keys.iter().map(|(key, dir)| (key.as_str(), *dir)).collect();
            assert_eq!(terms(&borrowed), Err(INVALID_KEY.to_owned()), "{query}");
        }
    }

    #[test]
    fn repeated_fields_and_the_default_order() {
        let keys = [("created_at", true), ("created_at", false), ("id", true)];
        assert!(is_default(&terms(&keys).unwrap()));
        assert!(is_default(&parse("").unwrap()));
        assert!(is_default(&parse("created_at:desc").unwrap()));
        let sized = parse("size:asc,name:desc");
        let expected = terms(&[
            ("size", false),
            ("display_name", true),
            ("created_at", false),
            ("id", false),
        ]);
        assert_eq!(sized, expected);
    }
}

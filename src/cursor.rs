//! [`Cursor`]: where a walk stands, in a form that outlives the process. Plain data:
//! the pager fills it in, the listing layer turns it back into a listing.

use std::collections::VecDeque;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};

use crate::model::ApiVersion;

/// The newest version of the serialized form this crate reads and writes, so a newer
/// crate can read an older cursor and an older one refuses a newer cursor. A cursor
/// without an age window is written as format 1, which every version reads; one with a
/// window as format 2, which versions that would ignore the window refuse.
pub(crate) const FORMAT: u32 = 2;

/// The format of a cursor without an age window.
pub(crate) const FORMAT_PLAIN: u32 = 1;

/// An age window on the items of a walk, as data: only items created at or after
/// `created_after` and strictly before `created_before` are delivered. Which of the two
/// bounds, if any, ends the walk early follows from the sort the walk sends (see
/// `Listing::created_before`), so it is not stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Window {
    /// The lower bound, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) created_after: Option<Timestamp>,
    /// The upper bound, exclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) created_before: Option<Timestamp>,
}

impl Window {
    /// No bound at all: every item passes.
    pub(crate) fn is_empty(&self) -> bool {
        self.created_after.is_none() && self.created_before.is_none()
    }
}

/// Where a walk stands: the id of the last item delivered plus everything that
/// defines the walk (project, API version, collection, filters, page size, and the
/// items still allowed by `max_items`).
///
/// Take one from a stream ([`ItemStream::cursor`](crate::ItemStream::cursor)) or
/// from the error a stream ended with ([`Error::cursor`](crate::Error::cursor)); store it as JSON; later,
/// perhaps in another process, [`Client::resume`](crate::Client::resume) continues the walk: every item
/// not delivered yet comes exactly once, in order.
///
/// ```no_run
/// # async fn run(client: vbs_backups::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use futures::StreamExt;
///
/// let mut backups = client.backups().status("error").stream();
/// for _ in 0..100 {
///     if backups.next().await.transpose()?.is_none() {
///         break;
///     }
/// }
/// let saved = serde_json::to_string(&backups.cursor())?;
///
/// // Tomorrow:
/// let cursor: vbs_backups::Cursor = serde_json::from_str(&saved)?;
/// let mut rest = client.resume(cursor)?.stream();
/// # Ok(()) }
/// ```
///
/// It also has a compact, URL-safe string form, for a command line or a log line:
/// [`Display`](fmt::Display) writes it, [`FromStr`](std::str::FromStr) reads it back (see
/// [`Cursor::to_token`]).
///
/// A cursor survives the deletion of what it points at: besides the last id it keeps the
/// ids handed out just before it (at most 16, whatever it was read from), the creation
/// time of the last item where the listing shows it (the detail listing), and the id of
/// the first item not handed out yet. A walk resumed after all of those ids were deleted
/// (a cleanup job that deleted everything it listed) restarts at the top of the listing
/// and skips exactly what was handed out, by comparing creation times and ids; see
/// "Cleanup jobs" in the README for what that costs. It also carries the pages still allowed by
/// [`max_pages`](crate::ListBackups::max_pages) and the age window
/// ([`created_before`](crate::ListBackups::created_before) /
/// [`created_after`](crate::ListBackups::created_after)), so a resumed walk still stops
/// where the original would have. Cursors written by older versions (without a window)
/// are read as they were; a cursor with a window says format 2, which versions of this
/// crate that know no windows refuse instead of listing every backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub(crate) format: u32,
    pub(crate) project_id: String,
    pub(crate) api_version: ApiVersion,
    pub(crate) collection: String,
    pub(crate) filters: Vec<(String, String)>,
    pub(crate) page_size: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) after: Option<String>,
    /// The ids delivered just before `after`, oldest first: where to step back to if
    /// `after` is deleted before the walk resumes.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "last_earlier_ids"
    )]
    pub(crate) earlier: Vec<String>,
    /// When `after` was created, where the listing shows it: the position a walk whose
    /// remembered ids were all deleted restarts from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) after_created_at: Option<Timestamp>,
    /// The first item not handed out yet, where the walk had seen it: a walk without
    /// creation times restarts by skipping to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) next: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_items: Option<u64>,
    /// The pages the walk may still fetch under its `max_pages`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_pages: Option<u64>,
    /// The age window (format 2); absent in older cursors, which had none.
    #[serde(default, skip_serializing_if = "Window::is_empty")]
    pub(crate) window: Window,
}

/// How many earlier ids a walk may step back to when its marker vanished, and how many
/// of the last ids delivered a cursor keeps for that: one bound for both.
pub(crate) const EARLIER_IDS: usize = 16;

/// Reads `earlier` keeping only the last [`EARLIER_IDS`] ids, whatever the input holds:
/// a cursor read from a file or a command line stays small.
fn last_earlier_ids<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    struct Last;
    impl<'de> serde::de::Visitor<'de> for Last {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of ids")
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut last = VecDeque::with_capacity(EARLIER_IDS);
            while let Some(id) = seq.next_element::<String>()? {
                if last.len() == EARLIER_IDS {
                    last.pop_front();
                }
                last.push_back(id);
            }
            Ok(last.into())
        }
    }
    deserializer.deserialize_seq(Last)
}

impl Cursor {
    /// The id the walk continues after, if any item was delivered (or `after` was set).
    ///
    /// ```no_run
    /// # fn f(stream: vbs_backups::ItemStream<vbs_backups::BackupSummary>) {
    /// println!("resume after {:?}", stream.cursor().after());
    /// # }
    /// ```
    pub fn after(&self) -> Option<&str> {
        self.after.as_deref()
    }
}

/// What a stream has handed out so far; with the walk's definition it makes a cursor.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// The last ids passed (handed out, or read and left out by an age window), newest
    /// last, at most `EARLIER_IDS + 1` of them, each with its creation time where known.
    recent: VecDeque<(String, Option<Timestamp>)>,
    /// The first item not handed out yet, where known.
    next: Option<String>,
    pub(crate) delivered: u64,
    /// Pages handed out whole (by a page stream).
    pub(crate) pages: u64,
}

impl Progress {
    /// Records an item handed out.
    pub(crate) fn record(&mut self, id: &str, created_at: Option<Timestamp>) {
        self.delivered += 1;
        self.pass(id, created_at);
    }

    /// Records an item the walk went past without handing it out.
    pub(crate) fn pass(&mut self, id: &str, created_at: Option<Timestamp>) {
        // Reuses the oldest buffer: no allocation per item in a long walk.
        let mut buffer = if self.recent.len() > EARLIER_IDS {
            self.recent
                .pop_front()
                .map(|(id, _)| id)
                .unwrap_or_default()
        } else {
            String::new()
        };
        buffer.clear();
        buffer.push_str(id);
        self.recent.push_back((buffer, created_at));
    }

    /// Records a whole page handed out: the last few items are remembered, the rest
    /// counted.
    pub(crate) fn record_page<'a>(
        &mut self,
        items: impl ExactSizeIterator<Item = (&'a str, Option<Timestamp>)>,
    ) {
        self.pages += 1;
        let count = items.len();
        let kept = count.min(EARLIER_IDS + 1);
        for (id, created_at) in items.skip(count - kept) {
            self.record(id, created_at);
        }
        self.delivered += (count - kept) as u64;
    }

    /// Says which item comes next, where the walk knows it.
    pub(crate) fn set_next(&mut self, next: Option<&str>) {
        match (next, &mut self.next) {
            (Some(id), Some(buffer)) => {
                buffer.clear();
                buffer.push_str(id);
            }
            (next, slot) => *slot = next.map(str::to_owned),
        }
    }

    pub(crate) fn last_id(&self) -> Option<&str> {
        self.recent.back().map(|(id, _)| id.as_str())
    }

    pub(crate) fn last_created_at(&self) -> Option<Timestamp> {
        self.recent.back().and_then(|(_, created_at)| *created_at)
    }

    pub(crate) fn next(&self) -> Option<&str> {
        self.next.as_deref()
    }

    /// The ids passed before the last one, oldest first.
    pub(crate) fn earlier_ids(&self) -> Vec<String> {
        let before_last = self.recent.len().saturating_sub(1);
        self.recent
            .iter()
            .take(before_last)
            .map(|(id, _)| id.clone())
            .collect()
    }
}

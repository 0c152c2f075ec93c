//! [`Cursor`]: where a walk stands, in a form that outlives the process. Plain data:
//! the pager fills it in, the listing layer turns it back into a listing.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};
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
/// [`Display`](fmt::Display) writes it, [`FromStr`] reads it back (see
/// [`Cursor::to_token`]).
///
/// A cursor keeps at most 16 earlier ids whatever it was read from (the step-back
/// bound of a walk, see `ListBackups::sort`), and carries the pages still allowed by
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

/// What the string form of a cursor starts with: its format, so that a later version can
/// read it and anything else is told apart at once.
const TOKEN_PREFIX: &str = "vbs1.";

/// What a stream has delivered so far; with the walk's definition it makes a cursor.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// The last ids delivered, newest last, at most `EARLIER_IDS + 1` of them.
    recent: VecDeque<String>,
    pub(crate) delivered: u64,
    /// Pages handed out whole (by a page stream).
    pub(crate) pages: u64,
}

impl Progress {
    pub(crate) fn record(&mut self, id: &str) {
        self.delivered += 1;
        // Reuses the oldest buffer: no allocation per item in a long walk.
        let mut buffer = if self.recent.len() > EARLIER_IDS {
            self.recent.pop_front().unwrap_or_default()
        } else {
            String::new()
        };
        buffer.clear();
        buffer.push_str(id);
        self.recent.push_back(buffer);
    }

    pub(crate) fn record_page<'a>(&mut self, ids: impl ExactSizeIterator<Item = &'a str>) {
        self.pages += 1;
        let count = ids.len();
        let kept = count.min(EARLIER_IDS + 1);
        for id in ids.skip(count - kept) {
            self.record(id);
        }
        self.delivered += (count - kept) as u64;
    }

    pub(crate) fn last_id(&self) -> Option<&str> {
        self.recent.back().map(String::as_str)
    }

    /// The ids delivered before the last one, oldest first.
    pub(crate) fn earlier_ids(&self) -> Vec<String> {
        let before_last = self.recent.len().saturating_sub(1);
        self.recent.iter().take(before_last).cloned().collect()
    }
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

    /// The compact, URL-safe string form: `vbs1.` and the base64url (no padding) of the
    /// cursor's JSON. Only letters, digits, `-`, `_` and `.`: safe to paste in a shell
    /// without quoting. The same as `to_string()`; read it back with [`str::parse`].
    ///
    /// ```
    /// # fn f(cursor: vbs_backups::Cursor) -> vbs_backups::Result<()> {
    /// let token = cursor.to_token();
    /// assert!(token.starts_with("vbs1."));
    /// let again: vbs_backups::Cursor = token.parse()?;
    /// assert_eq!(again, cursor);
    /// # Ok(()) }
    /// ```
    pub fn to_token(&self) -> String {
        // Serializing plain strings and numbers cannot fail.
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(json))
    }
}

/// The largest cursor token read: a cursor is a few hundred bytes; this leaves room for
/// long filters and ids without letting a pasted file exhaust memory.
const MAX_TOKEN_BYTES: usize = 64 * 1024;

impl fmt::Display for Cursor {
    /// The string form of [`to_token`](Cursor::to_token).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_token())
    }
}

impl FromStr for Cursor {
    type Err = Error;

    /// Reads the string form of [`to_token`](Cursor::to_token) (surrounding white space
    /// is ignored); a [`ErrorKind::Config`](crate::ErrorKind::Config) error otherwise.
    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        let refused = |why: &str| Error::config(format!("not a vbs-backups resume token: {why}"));
        if text.len() > MAX_TOKEN_BYTES {
            return Err(refused("too long"));
        }
        let Some(encoded) = text.strip_prefix(TOKEN_PREFIX) else {
            return Err(refused("it does not start with `vbs1.`"));
        };
        let json = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| refused("it is not base64url"))?;
        serde_json::from_slice(&json).map_err(|_| refused("its content is not a cursor"))
    }
}

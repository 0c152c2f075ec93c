//! [`Cursor`]: where a walk stands, in a form that outlives the process. Plain data:
//! the pager fills it in, the listing layer turns it back into a listing.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::model::ApiVersion;

/// The version of the serialized form, so a newer crate can read an older cursor.
pub(crate) const FORMAT: u32 = 1;

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
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) earlier: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_items: Option<u64>,
}

/// How many of the last ids delivered a cursor keeps to step back to.
const EARLIER_IDS: usize = 16;

/// What a stream has delivered so far; with the walk's definition it makes a cursor.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// The last ids delivered, newest last, at most `EARLIER_IDS + 1` of them.
    recent: VecDeque<String>,
    pub(crate) delivered: u64,
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
}

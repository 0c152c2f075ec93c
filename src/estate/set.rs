//! [`ScopeSet`]: the scopes of an estate, each with the client and listing that walk it.

use std::fmt;
use std::sync::Arc;

use crate::client::Client;
use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::query::Listing;

use super::Scope;
use super::checkpoint::{Checkpoint, ScopeCheckpoint, ScopeState};
use super::stream::EstateStream;
use super::walk::{Resumable, Start, starter};

/// Scopes walked at once unless [`ScopeSet::concurrency`] says otherwise.
pub(super) const DEFAULT_CONCURRENCY: usize = 4;

/// The scopes of an estate: for each, the client that reaches it and the listing that
/// walks it. Build it by hand from clients you have, or from credentials
/// (`HuaweiConfig::estate`, feature `huawei`); then [`stream`](Self::stream) walks
/// them all as one stream.
///
/// `T` is the item type of the merged stream: each scope's items are turned into it
/// with `Into`, so VBS and CBR scopes can share one stream of
/// [`EstateBackup`](crate::EstateBackup).
///
/// ```no_run
/// # async fn run(cn_north: vbs_backups::Client, eu_west: vbs_backups::Client) {
/// use futures::StreamExt;
/// use vbs_backups::{BackupDetail, BackupService, Scope, ScopeSet};
///
/// let mut estate = ScopeSet::<BackupDetail>::new()
///     .add(Scope::new(BackupService::Vbs, "cn-north-4", cn_north.project_id()), cn_north, |c| c.backups().detail())
///     .add(Scope::new(BackupService::Vbs, "eu-west-0", eu_west.project_id()), eu_west, |c| c.backups().detail())
///     .concurrency(2)
///     .stream();
/// while let Some(next) = estate.next().await {
///     match next {
///         Ok(backup) => println!("{} {}", backup.scope.region, backup.item.id),
///         Err(failed) => eprintln!("{} failed: {}", failed.scope, failed.item),
///     }
/// }
/// for outcome in estate.outcomes() {
///     println!("{}: {} backups", outcome.scope, outcome.delivered);
/// }
/// # }
/// ```
#[must_use = "a scope set does nothing until `stream()` is polled"]
pub struct ScopeSet<T> {
    pub(super) entries: Vec<Entry<T>>,
    pub(super) concurrency: usize,
}

/// One scope and how to walk it, with where an earlier run left it.
pub(super) struct Entry<T> {
    pub(super) scope: Arc<Scope>,
    /// How to walk it, or why it cannot be reached (its client could not be made).
    pub(super) start: std::result::Result<Start<T>, Arc<Error>>,
    pub(super) delivered: u64,
    pub(super) resume: Resume,
}

/// Where a scope's walk begins.
pub(super) enum Resume {
    /// From its cursor, or the start when there is none.
    Walk(Option<Box<Cursor>>),
    /// Not at all: an earlier run finished it.
    Done { server_total: Option<u64> },
}

impl<T: Send + 'static> Default for ScopeSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Send + 'static> ScopeSet<T> {
    /// No scopes yet; 4 walked at once.
    ///
    /// ```
    /// let set = vbs_backups::ScopeSet::<vbs_backups::BackupDetail>::new();
    /// assert!(set.is_empty());
    /// ```
    pub fn new() -> Self {
        Self {
            entries: Vec::new(),
            concurrency: DEFAULT_CONCURRENCY,
        }
    }

    /// Adds `scope`, walked by `listing(&client)` (your filters, page size, prefetch;
    /// `with_count()` to have the server's total checked). A resumed walk continues with
    /// the listing's filters and paging, from the checkpoint's cursor.
    ///
    /// ```
    /// use vbs_backups::{BackupService, Client, Scope, ScopeSet};
    ///
    /// let client = Client::builder().endpoint("http://127.0.0.1:8776/v3/p1").build()?;
    /// let set = ScopeSet::<vbs_backups::BackupSummary>::new()
    ///     .add(Scope::new(BackupService::Vbs, "RegionOne", "p1"), client, |c| c.backups().status("error"));
    /// assert_eq!(set.len(), 1);
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    pub fn add<U>(
        mut self,
        scope: Scope,
        client: Client,
        listing: impl Fn(&Client) -> Listing<U> + Send + Sync + 'static,
    ) -> Self
    where
        U: Resumable + Into<T>,
    {
        self.entries.push(Entry {
            scope: Arc::new(scope),
            start: Ok(starter(client, listing)),
            delivered: 0,
            resume: Resume::Walk(None),
        });
        self
    }

    /// Adds a scope that could not be reached: its client could not be made (for
    /// example Keystone refused a token scoped to its project). The stream yields its
    /// error, in turn, as it would a walk's; its outcome says failed; a checkpoint keeps
    /// whatever an earlier run left for it, so that a later run may walk it.
    ///
    /// ```no_run
    /// # async fn run(config: vbs_backups::OpenStackConfig) {
    /// use vbs_backups::{BackupDetail, BackupService, Scope, ScopeSet};
    ///
    /// let scope = Scope::new(BackupService::Vbs, "RegionOne", "p-2");
    /// let set = match config.connect().await {
    ///     Ok(client) => ScopeSet::<BackupDetail>::new().add(scope, client, |c| c.backups().detail()),
    ///     Err(error) => ScopeSet::new().add_unreachable(scope, error),
    /// };
    /// # }
    /// ```
    pub fn add_unreachable(mut self, scope: Scope, error: Error) -> Self {
        self.entries.push(Entry {
            scope: Arc::new(scope),
            start: Err(Arc::new(error)),
            delivered: 0,
            resume: Resume::Walk(None),
        });
        self
    }

    /// How many scopes are walked at once (default 4; 0 is taken as 1). Each holds at
    /// most its listing's `1 + prefetch` pages, so memory stays bounded.
    ///
    /// ```
    /// let set = vbs_backups::ScopeSet::<vbs_backups::BackupDetail>::new().concurrency(8);
    /// ```
    pub fn concurrency(mut self, scopes: usize) -> Self {
        self.concurrency = scopes.max(1);
        self
    }

    /// How many scopes the set holds.
    ///
    /// ```
    /// assert_eq!(vbs_backups::ScopeSet::<vbs_backups::BackupDetail>::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the set holds no scope.
    ///
    /// ```
    /// assert!(vbs_backups::ScopeSet::<vbs_backups::BackupDetail>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The scopes, in the order they were added.
    ///
    /// ```
    /// # let set = vbs_backups::ScopeSet::<vbs_backups::BackupDetail>::new();
    /// for scope in set.scopes() {
    ///     println!("{scope}");
    /// }
    /// ```
    pub fn scopes(&self) -> impl Iterator<Item = &Scope> {
        self.entries.iter().map(|entry| entry.scope.as_ref())
    }

    /// Continues from `checkpoint`: scopes it says are done are not walked again (their
    /// outcome says complete), the others go on from their cursors.
    ///
    /// A scope of the checkpoint that this set does not hold is dropped when nothing of it
    /// was handed out and it is not done (it never started, or could not be reached): a
    /// rerun loses nothing by it.
    ///
    /// # Errors
    ///
    /// A checkpoint of a newer format, or one that names a scope this set does not hold
    /// and that had handed out items or was done (a different estate: resuming it would
    /// leave that scope out unnoticed).
    ///
    /// ```no_run
    /// # fn f(set: vbs_backups::ScopeSet<vbs_backups::BackupDetail>, checkpoint: vbs_backups::Checkpoint) -> vbs_backups::Result<()> {
    /// let rest = set.resume(&checkpoint)?.stream();
    /// # Ok(()) }
    /// ```
    pub fn resume(mut self, checkpoint: &Checkpoint) -> Result<Self> {
        checkpoint.check_format()?;
        let untouched = |saved: &ScopeCheckpoint| {
            saved.delivered == 0 && matches!(saved.state, ScopeState::Walking { .. })
        };
        if let Some(stranger) = checkpoint.scopes.iter().find(|saved| {
            !untouched(saved)
                && !self
                    .entries
                    .iter()
                    .any(|entry| entry.scope.same_as(&saved.scope))
        }) {
            return Err(Error::config(format!(
                "the checkpoint holds the scope {}, which this estate does not: it is from another estate",
                stranger.scope
            )));
        }
        for entry in &mut self.entries {
            let Some(saved) = checkpoint.find(&entry.scope) else {
                continue;
            };
            entry.delivered = saved.delivered;
            entry.resume = match &saved.state {
                ScopeState::Done { server_total } => Resume::Done {
                    server_total: *server_total,
                },
                ScopeState::Walking { cursor } => Resume::Walk(cursor.clone()),
            };
        }
        Ok(self)
    }

    /// Walks every scope, [`concurrency`](Self::concurrency) at a time, as one stream.
    ///
    /// ```no_run
    /// # async fn run(set: vbs_backups::ScopeSet<vbs_backups::BackupDetail>) {
    /// use futures::StreamExt;
    /// let first = set.stream().next().await;
    /// # }
    /// ```
    pub fn stream(self) -> EstateStream<T> {
        EstateStream::new(self)
    }
}

impl<T> fmt::Debug for ScopeSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopeSet")
            .field(
                "scopes",
                &self
                    .entries
                    .iter()
                    .map(|entry| entry.scope.to_string())
                    .collect::<Vec<_>>(),
            )
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

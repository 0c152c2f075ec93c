//! [`Checkpoint`]: the state of an estate walk that outlives the process: every scope
//! done, or where it stands.

use serde::{Deserialize, Serialize};

use crate::cursor::Cursor;
use crate::error::{Error, Result};

use super::Scope;

/// The newest checkpoint format this version reads and writes.
const FORMAT: u32 = 1;

/// Where an estate walk stands: for every scope, done or its cursor (none when it has
/// not started). Serializable; [`EstateStream::checkpoint`](crate::EstateStream::checkpoint)
/// takes one at any moment, [`ScopeSet::resume`](crate::ScopeSet::resume) continues from
/// it: finished scopes are not walked again, the others go on from their cursors.
///
/// Every unfinished scope has a cursor, even one that has not started: the cursor of its
/// listing, with its filters and page size. A resumed estate is therefore walked under
/// the filters it began with, whatever listings the resuming set was built with (its
/// clients are used; its listings serve only scopes the checkpoint does not name).
///
/// ```no_run
/// # async fn run(scopes: vbs_backups::ScopeSet<vbs_backups::BackupDetail>) -> Result<(), Box<dyn std::error::Error>> {
/// let saved = std::fs::read("estate.json")?;
/// let checkpoint: vbs_backups::Checkpoint = serde_json::from_slice(&saved)?;
/// let rest = scopes.resume(&checkpoint)?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    format: u32,
    pub(super) scopes: Vec<ScopeCheckpoint>,
}

/// One scope in a [`Checkpoint`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ScopeCheckpoint {
    pub(super) scope: Scope,
    /// Items delivered so far, by every run.
    pub(super) delivered: u64,
    #[serde(flatten)]
    pub(super) state: ScopeState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub(super) enum ScopeState {
    Done {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        server_total: Option<u64>,
    },
    Walking {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cursor: Option<Box<Cursor>>,
    },
}

impl Checkpoint {
    pub(super) fn new(scopes: Vec<ScopeCheckpoint>) -> Self {
        Self {
            format: FORMAT,
            scopes,
        }
    }

    /// Whether every scope is done: nothing is left to resume.
    ///
    /// ```no_run
    /// # fn f(checkpoint: vbs_backups::Checkpoint) {
    /// if checkpoint.is_complete() {
    ///     let _ = std::fs::remove_file("estate.json");
    /// }
    /// # }
    /// ```
    pub fn is_complete(&self) -> bool {
        self.scopes
            .iter()
            .all(|scope| matches!(scope.state, ScopeState::Done { .. }))
    }

    /// The scopes not done yet.
    ///
    /// ```no_run
    /// # fn f(checkpoint: vbs_backups::Checkpoint) {
    /// for scope in checkpoint.unfinished() {
    ///     println!("still to walk: {scope}");
    /// }
    /// # }
    /// ```
    pub fn unfinished(&self) -> impl Iterator<Item = &Scope> {
        self.scopes
            .iter()
            .filter(|scope| matches!(scope.state, ScopeState::Walking { .. }))
            .map(|scope| &scope.scope)
    }

    pub(super) fn check_format(&self) -> Result<()> {
        if self.format > FORMAT {
            return Err(Error::config(format!(
                "the checkpoint has format {}; this version of vbs-backups reads up to {FORMAT}",
                self.format
            )));
        }
        Ok(())
    }

    pub(super) fn find(&self, scope: &Scope) -> Option<&ScopeCheckpoint> {
        self.scopes.iter().find(|entry| entry.scope.same_as(scope))
    }
}

//! The estate: many scopes (service, region, project) walked as one stream.
//!
//! A [`ScopeSet`] holds the scopes, each with the client that reaches it and the
//! listing that walks it; [`ScopeSet::stream`] walks them a bounded number at a time and
//! hands out every item with its [`Scope`] as it arrives. Inside a scope every rule of a
//! single walk holds. Across scopes: a failing scope does not end the others, each scope
//! ends with a [`ScopeOutcome`], and a [`Checkpoint`] (every scope done, or its cursor)
//! lets a later run walk only what is left. Give every client the same
//! [`RequestBudget`](crate::RequestBudget) to keep the whole estate under one rate.
//!
//! ```no_run
//! # async fn run(vbs: vbs_backups::Client, cbr: vbs_backups::Client) {
//! use futures::StreamExt;
//! use vbs_backups::{BackupService, EstateBackup, Scope, ScopeSet};
//!
//! let mut estate = ScopeSet::<EstateBackup>::new()
//!     .add(Scope::new(BackupService::Vbs, "cn-north-4", vbs.project_id()), vbs, |c| c.backups().detail())
//!     .add(Scope::new(BackupService::Cbr, "cn-north-4", cbr.project_id()), cbr, |c| c.cbr_backups())
//!     .stream();
//! while let Some(Ok(backup)) = estate.next().await {
//!     println!("{} {}", backup.scope, backup.item.id());
//! }
//! # }
//! ```

mod checkpoint;
mod outcome;
mod scope;
mod set;
mod stream;
mod walk;

use crate::model::{BackupDetail, CbrBackup};

pub use checkpoint::Checkpoint;
pub use outcome::{ScopeOutcome, ScopeResult};
pub use scope::{BackupService, Scope, Scoped};
pub use set::ScopeSet;
pub use stream::EstateStream;
pub use walk::Resumable;

/// A backup of either service, for estates that walk VBS and CBR scopes together.
///
/// ```
/// # fn f(backup: vbs_backups::EstateBackup) {
/// println!("{}", backup.id());
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EstateBackup {
    /// From VBS or Cinder (the detail listing).
    Vbs(BackupDetail),
    /// From CBR.
    Cbr(CbrBackup),
}

impl EstateBackup {
    /// The backup's id.
    ///
    /// ```
    /// # fn f(backup: vbs_backups::EstateBackup) { let id: &str = backup.id(); }
    /// ```
    pub fn id(&self) -> &str {
        match self {
            Self::Vbs(backup) => &backup.id,
            Self::Cbr(backup) => &backup.id,
        }
    }
}

impl From<BackupDetail> for EstateBackup {
    fn from(backup: BackupDetail) -> Self {
        Self::Vbs(backup)
    }
}

impl From<CbrBackup> for EstateBackup {
    fn from(backup: CbrBackup) -> Self {
        Self::Cbr(backup)
    }
}

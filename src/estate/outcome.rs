//! [`ScopeOutcome`]: how each scope of an estate walk ended.

use std::sync::Arc;

use crate::cursor::Cursor;
use crate::error::Error;

use super::Scope;

/// How one scope of an estate walk ended.
///
/// ```no_run
/// # fn f(outcomes: &[vbs_backups::ScopeOutcome]) {
/// use vbs_backups::ScopeResult;
///
/// for outcome in outcomes {
///     match &outcome.result {
///         ScopeResult::Complete { warning: Some(warning), .. } => eprintln!("{}: {warning}", outcome.scope),
///         ScopeResult::Complete { .. } => eprintln!("{}: {} backups", outcome.scope, outcome.delivered),
///         ScopeResult::Failed { error, .. } => eprintln!("{}: failed: {error}", outcome.scope),
///         _ => {}
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ScopeOutcome {
    /// The scope.
    pub scope: Arc<Scope>,
    /// Items delivered from this scope, by this walk and the walks it resumed.
    pub delivered: u64,
    /// Complete or failed.
    pub result: ScopeResult,
}

/// Whether a scope was walked to its end.
#[derive(Debug, Clone)]
#[non_exhaustive]
// One per scope, never in a hot path: a plain cursor reads better than a boxed one.
#[allow(clippy::large_enum_variant)]
pub enum ScopeResult {
    /// Walked to the end (perhaps by an earlier run, per the checkpoint).
    Complete {
        /// The total the server gave (`count`, Cinder's `with_count`), if it gave one.
        server_total: Option<u64>,
        /// Set when the server's total and the items delivered differ: backups may have
        /// been created or deleted during the walk, so it is not a failure.
        warning: Option<String>,
    },
    /// Ended by an error; the cursor continues it. Items delivered before the error
    /// stay delivered.
    Failed {
        /// What ended it (shared with the `Err` item the stream yielded).
        error: Arc<Error>,
        /// Where to continue; `None` to start the scope over (it failed before its walk
        /// could begin).
        cursor: Option<Cursor>,
    },
}

impl ScopeOutcome {
    /// Whether the scope was walked to its end.
    ///
    /// ```no_run
    /// # fn f(outcomes: Vec<vbs_backups::ScopeOutcome>) {
    /// let all_done = outcomes.iter().all(|outcome| outcome.is_complete());
    /// # }
    /// ```
    pub fn is_complete(&self) -> bool {
        matches!(self.result, ScopeResult::Complete { .. })
    }

    pub(super) fn complete(scope: Arc<Scope>, delivered: u64, server_total: Option<u64>) -> Self {
        let warning = server_total
            .filter(|&total| total != delivered)
            .map(|total| {
                format!(
                    "the server counted {total} backups, {delivered} were listed (backups created or deleted during the walk?)"
                )
            });
        Self {
            scope,
            delivered,
            result: ScopeResult::Complete {
                server_total,
                warning,
            },
        }
    }
}

//! Reads every listing of the planned scopes (each scope's volumes once, then its backups
//! once per service), up to `--concurrency` scopes at once, into one `Coverage`: items
//! are judged as they arrive, so memory holds one entry per volume and per orphan, never
//! a listing.

use std::time::{Duration, SystemTime};

use futures::stream::{self, BoxStream};
use futures::{Stream, StreamExt};
use vbs_backups::coverage::{BackupService, Coverage, CoverageReport, Scope, ScopeListing};
use vbs_backups::{BackupDetail, CbrBackup, Error, Volume};

use super::plan::{AuditScope, Unreachable};

/// A listing that did not complete: its scope, which listing (`None`: the scope could
/// not be connected to, so none of its listings began), and why.
pub struct Failure {
    pub scope: Scope,
    pub listing: Option<ScopeListing>,
    pub error: Error,
}

/// What one listing hands the accumulator: an item of scope `usize`, or its end.
enum Event {
    Volume(usize, Volume),
    Backup(usize, BackupDetail),
    CbrBackup(usize, CbrBackup),
    End(usize, ScopeListing, Result<(), Error>),
}

/// Walks every listing of `scopes`, at most `concurrency` scopes at once, and judges; every
/// listing of an unreachable scope is failed.
pub async fn audit(
    scopes: &[AuditScope],
    unreachable: Vec<Unreachable>,
    max_age: Duration,
    concurrency: usize,
) -> (CoverageReport, Vec<Failure>) {
    let mut coverage = Coverage::new(max_age, SystemTime::now());
    let mut failures = Vec::new();
    for unreached in unreachable {
        let reason = crate::report::one_line(&unreached.error);
        for listing in &unreached.listings {
            coverage.fail(&unreached.scope, *listing, reason.clone());
        }
        failures.push(Failure {
            scope: unreached.scope,
            listing: None,
            error: unreached.error,
        });
    }
    let mut events = stream::iter(listings(scopes)).flatten_unordered(concurrency.max(1));
    while let Some(event) = events.next().await {
        match event {
            Event::Volume(index, volume) => coverage.add_volume(&scopes[index].scope, &volume),
            Event::Backup(index, backup) => coverage.add_backup(&scopes[index].scope, &backup),
            Event::CbrBackup(index, backup) => {
                coverage.add_cbr_backup(&scopes[index].scope, &backup);
            }
            Event::End(index, listing, walked) => {
                let scope = &scopes[index].scope;
                match walked {
                    Ok(()) => coverage.complete(scope, listing),
                    Err(error) => {
                        coverage.fail(scope, listing, crate::report::one_line(&error));
                        failures.push(Failure {
                            scope: scope.clone(),
                            listing: Some(listing),
                            error,
                        });
                    }
                }
            }
        }
    }
    (coverage.finish(), failures)
}

/// Every scope's listings as one stream each: its volumes first, then its backups in
/// every service at once. Volumes first, because a backup whose volume is not known yet
/// must be held as a possible orphan: in this order the accumulator holds one entry per
/// volume and per orphan, never one per backup. Nothing is sent until a stream is
/// polled.
fn listings(scopes: &[AuditScope]) -> Vec<BoxStream<'static, Event>> {
    let mut listings = Vec::new();
    for (index, planned) in scopes.iter().enumerate() {
        let volumes = planned.volumes.volumes().stream();
        let volumes = events(index, ScopeListing::Volumes, volumes, Event::Volume);
        let backups = planned.backups.iter().map(|(service, client)| {
            let listing = ScopeListing::Backups(*service);
            match service {
                BackupService::Cbr => {
                    let backups = client.cbr_backups().stream();
                    events(index, listing, backups, Event::CbrBackup)
                }
                _ => {
                    let backups = client.backups().detail().stream();
                    events(index, listing, backups, Event::Backup)
                }
            }
        });
        listings.push(volumes.chain(stream::select_all(backups)).boxed());
    }
    listings
}

/// A listing's items as events, then its end: complete, or its first error.
fn events<T: Send + 'static>(
    index: usize,
    listing: ScopeListing,
    items: impl Stream<Item = vbs_backups::Result<T>> + Unpin + Send + 'static,
    wrap: fn(usize, T) -> Event,
) -> BoxStream<'static, Event> {
    stream::unfold(Some(items), move |items| async move {
        let mut items = items?;
        Some(match items.next().await {
            Some(Ok(item)) => (wrap(index, item), Some(items)),
            Some(Err(err)) => (Event::End(index, listing, Err(err)), None),
            None => (Event::End(index, listing, Ok(())), None),
        })
    })
    .boxed()
}

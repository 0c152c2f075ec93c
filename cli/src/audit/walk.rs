//! Reads every listing of the planned scopes (each scope's volumes once, its backups once
//! per service), up to `--concurrency` at once, into one `Coverage`: items are judged as
//! they arrive, so memory holds one entry per volume and per orphan, never a listing.

use std::time::{Duration, SystemTime};

use futures::stream::{self, BoxStream};
use futures::{Stream, StreamExt};
use vbs_backups::coverage::{BackupService, Coverage, CoverageReport, Scope, ScopeListing};
use vbs_backups::{BackupDetail, CbrBackup, Error, Volume};

use super::plan::AuditScope;

/// A listing that did not complete: its scope, which listing, and why.
pub struct Failure {
    pub scope: Scope,
    pub listing: ScopeListing,
    pub error: Error,
}

/// What one listing hands the accumulator: an item of scope `usize`, or its end.
enum Event {
    Volume(usize, Volume),
    Backup(usize, BackupDetail),
    CbrBackup(usize, CbrBackup),
    End(usize, ScopeListing, Result<(), Error>),
}

/// Walks every listing of `scopes`, at most `concurrency` at once, and judges.
pub async fn audit(
    scopes: &[AuditScope],
    max_age: Duration,
    concurrency: usize,
) -> (CoverageReport, Vec<Failure>) {
    let mut coverage = Coverage::new(max_age, SystemTime::now());
    let mut failures = Vec::new();
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
                            listing,
                            error,
                        });
                    }
                }
            }
        }
    }
    (coverage.finish(), failures)
}

/// Every listing, scope by scope: its volumes, then its backups in each service. Nothing
/// is sent until a listing is polled.
fn listings(scopes: &[AuditScope]) -> Vec<BoxStream<'static, Event>> {
    let mut listings = Vec::new();
    for (index, planned) in scopes.iter().enumerate() {
        let volumes = planned.volumes.volumes().stream();
        listings.push(events(index, ScopeListing::Volumes, volumes, Event::Volume));
        for (service, client) in &planned.backups {
            let listing = ScopeListing::Backups(*service);
            listings.push(match service {
                BackupService::Cbr => {
                    let backups = client.cbr_backups().stream();
                    events(index, listing, backups, Event::CbrBackup)
                }
                _ => {
                    let backups = client.backups().detail().stream();
                    events(index, listing, backups, Event::Backup)
                }
            });
        }
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

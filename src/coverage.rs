//! Is every volume protected? [`Coverage`] joins volumes with their backups, from any
//! number of scopes and both backup services, and gives each volume a [`Verdict`] against a
//! maximum age; backups whose volume is gone are [`OrphanedBackup`]s.
//!
//! The accumulator does no I/O: the caller walks each scope's volumes
//! ([`Client::volumes`](crate::Client::volumes)) and backups
//! ([`ListBackups::detail`](crate::ListBackups::detail),
//! [`Client::cbr_backups`](crate::Client::cbr_backups)), feeds every item, and says for each
//! listing whether it [completed](Coverage::complete) or [failed](Coverage::fail).
//!
//! ```no_run
//! # async fn run(cinder: vbs_backups::Client) -> vbs_backups::Result<()> {
//! use std::time::{Duration, SystemTime};
//! use futures::StreamExt;
//! use vbs_backups::coverage::{BackupService, Coverage, Scope, ScopeListing};
//!
//! let scope = Scope::new("RegionOne", cinder.project_id());
//! let mut coverage = Coverage::new(Duration::from_secs(86_400), SystemTime::now());
//!
//! let mut volumes = cinder.volumes().stream();
//! let mut outcome = Ok(());
//! while let Some(volume) = volumes.next().await {
//!     match volume {
//!         Ok(volume) => coverage.add_volume(&scope, &volume),
//!         Err(err) => { outcome = Err(err); break; }
//!     }
//! }
//! match outcome {
//!     Ok(()) => coverage.complete(&scope, ScopeListing::Volumes),
//!     Err(err) => coverage.fail(&scope, ScopeListing::Volumes, err),
//! }
//! // … the same for `cinder.backups().detail()`, with `add_backup` and
//! // `ScopeListing::Backups(BackupService::Vbs)` …
//!
//! let report = coverage.finish();
//! for volume in report.volumes.iter().filter(|v| !v.verdict.is_protected()) {
//!     println!("{} is {}", volume.id, volume.verdict);
//! }
//! # Ok(()) }
//! ```

mod report;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::{Duration, SystemTime};

use jiff::{SignedDuration, Timestamp};

/// The backup services, as the estate names them.
pub use crate::estate::BackupService;
pub use report::{
    BackupCount, BackupRef, CoverageReport, OrphanedBackup, Scope, ScopeListing, ScopeOutcome,
    Summary, Verdict, VolumeCoverage,
};

use crate::model::{BackupDetail, CbrBackup, Volume};

/// CBR's resource type of a disk: the only CBR backups that protect (or orphan) a volume.
const CINDER_VOLUME: &str = "OS::Cinder::Volume";

/// The accumulator of a coverage audit.
///
/// Fed volumes and backups in any order, from several scopes and services, it judges each
/// volume at [`finish`](Self::finish):
///
/// - a backup **protects** when its status is `available` (or `restoring`: a good backup
///   being read); `creating`, `deleting`, `error_restoring` and any other status do not;
/// - [`Protected`](Verdict::Protected): a protecting backup created within the maximum age
///   (at the bound included), found by a listing that completed, in any service;
/// - otherwise [`Unknown`](Verdict::Unknown) when a backup listing of the volume's scope did
///   not complete (failed, or never said complete): the audit never guesses;
/// - otherwise [`Stale`](Verdict::Stale): a protecting backup, none that recent (or none
///   that says when it was made);
/// - [`Failing`](Verdict::Failing): no protecting backup, at least one in `error`;
/// - [`Unprotected`](Verdict::Unprotected): no protecting backup and none in `error`.
///
/// A backup whose volume is not among the listed volumes of its scope is an
/// [`OrphanedBackup`], reported only where that scope's volume listing completed. CBR
/// backups of other resource types (servers) are counted, and neither protect nor orphan.
///
/// Memory is one entry per volume plus one per orphan, whatever the number of backups,
/// when each scope's volumes are fed before its backups; a backup fed before its volume is
/// held as a possible orphan until the volume comes or the volume listing ends.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use vbs_backups::{BackupDetail, Volume};
/// use vbs_backups::coverage::{BackupService, Coverage, Scope, ScopeListing, Verdict};
///
/// let scope = Scope::new("RegionOne", "p");
/// let now = SystemTime::now();
/// let mut coverage = Coverage::new(Duration::from_secs(7 * 86_400), now);
/// coverage.add_volume(&scope, &Volume::new("v1", "in-use", Some(10)));
/// coverage.add_volume(&scope, &Volume::new("v2", "available", Some(20)));
/// coverage.complete(&scope, ScopeListing::Volumes);
/// let backup: BackupDetail = serde_json::from_value(serde_json::json!({
///     "id": "b1", "status": "error", "volume_id": "v1", "size": 10,
///     "created_at": "2024-01-01T00:00:00"
/// }))?;
/// coverage.add_backup(&scope, &backup);
/// coverage.complete(&scope, ScopeListing::Backups(BackupService::Vbs));
///
/// let report = coverage.finish();
/// let verdicts: Vec<(&str, Verdict)> =
///     report.volumes.iter().map(|v| (v.id.as_str(), v.verdict)).collect();
/// assert_eq!(verdicts, [("v1", Verdict::Failing), ("v2", Verdict::Unprotected)]);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub struct Coverage {
    max_age: Duration,
    audited_at: Timestamp,
    /// Backups created at or after it are recent.
    horizon: Timestamp,
    scopes: Vec<ScopeState>,
    scope_index: HashMap<Scope, usize>,
    /// Keyed by scope index and volume id.
    volumes: HashMap<(usize, String), VolumeEntry>,
    orphans: Vec<OrphanedBackup>,
    backup_counts: BTreeMap<(usize, BackupService, String), u64>,
}

impl fmt::Debug for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Coverage")
            .field("max_age", &self.max_age)
            .field("audited_at", &self.audited_at)
            .field("scopes", &self.scopes.len())
            .field("volumes", &self.volumes.len())
            .field("orphans", &self.orphans.len())
            .finish_non_exhaustive()
    }
}

/// Where one listing of a scope stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Pending,
    Complete,
    Failed(String),
}

#[derive(Debug)]
struct ScopeState {
    scope: Scope,
    listings: BTreeMap<ScopeListing, Outcome>,
}

impl ScopeState {
    fn outcome(&self, listing: ScopeListing) -> Option<&Outcome> {
        self.listings.get(&listing)
    }

    fn volumes_outcome(&self) -> &Outcome {
        self.outcome(ScopeListing::Volumes)
            .unwrap_or(&Outcome::Pending)
    }

    /// Whether every backup listing of the scope completed.
    fn backups_complete(&self) -> bool {
        self.listings
            .iter()
            .filter(|(listing, _)| matches!(listing, ScopeListing::Backups(_)))
            .all(|(_, outcome)| *outcome == Outcome::Complete)
    }

    fn complete(&self, service: BackupService) -> bool {
        self.outcome(ScopeListing::Backups(service)) == Some(&Outcome::Complete)
    }
}

/// What one service's backups say of a volume.
#[derive(Debug, Default)]
struct Evidence {
    /// Whether any backup protects it.
    protecting: bool,
    /// The newest protecting backup with a creation time.
    newest: Option<(Timestamp, String)>,
}

/// One volume, or, while its volume is not yet listed, the backups of an id.
#[derive(Debug, Default)]
struct VolumeEntry {
    volume: Option<VolumeFacts>,
    /// By [`service_index`].
    evidence: [Evidence; 2],
    errors: u64,
    statuses: BTreeMap<String, u64>,
    /// Backups held until the volume is listed (then dropped) or its scope's volume
    /// listing ends (then orphans, if it completed).
    maybe_orphans: Vec<OrphanedBackup>,
}

#[derive(Debug)]
struct VolumeFacts {
    name: Option<String>,
    status: String,
    size: Option<u64>,
}

/// What the accumulator reads of a backup, whatever its service.
struct BackupFacts<'a> {
    id: &'a str,
    volume_id: Option<&'a str>,
    status: &'a str,
    created_at: Option<Timestamp>,
    size: Option<u64>,
    service: BackupService,
}

impl Coverage {
    /// An audit whose protecting backups may be at most `max_age` old at `audited_at`.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    ///
    /// let coverage = vbs_backups::coverage::Coverage::new(Duration::from_secs(86_400), SystemTime::now());
    /// ```
    pub fn new(max_age: Duration, audited_at: SystemTime) -> Self {
        let audited_at = Timestamp::try_from(audited_at).unwrap_or(Timestamp::MAX);
        let horizon = SignedDuration::try_from(max_age)
            .ok()
            .and_then(|age| audited_at.checked_sub(age).ok())
            .unwrap_or(Timestamp::MIN);
        Self {
            max_age,
            audited_at,
            horizon,
            scopes: Vec::new(),
            scope_index: HashMap::new(),
            volumes: HashMap::new(),
            orphans: Vec::new(),
            backup_counts: BTreeMap::new(),
        }
    }

    fn scope(&mut self, scope: &Scope) -> usize {
        if let Some(index) = self.scope_index.get(scope) {
            return *index;
        }
        let index = self.scopes.len();
        self.scopes.push(ScopeState {
            scope: scope.clone(),
            listings: BTreeMap::new(),
        });
        self.scope_index.insert(scope.clone(), index);
        index
    }

    /// Marks `listing` of `scope` as started, if nothing was said of it yet: a listing
    /// that never completes makes its scope's volumes [`Unknown`](Verdict::Unknown).
    fn touch(&mut self, scope: usize, listing: ScopeListing) {
        if let Some(state) = self.scopes.get_mut(scope) {
            state.listings.entry(listing).or_insert(Outcome::Pending);
        }
    }

    /// Feeds one volume of `scope`.
    ///
    /// ```
    /// # fn f(coverage: &mut vbs_backups::coverage::Coverage, scope: &vbs_backups::coverage::Scope) {
    /// coverage.add_volume(scope, &vbs_backups::Volume::new("v1", "in-use", Some(10)));
    /// # }
    /// ```
    pub fn add_volume(&mut self, scope: &Scope, volume: &Volume) {
        let index = self.scope(scope);
        self.touch(index, ScopeListing::Volumes);
        let entry = self.volumes.entry((index, volume.id.clone())).or_default();
        entry.maybe_orphans = Vec::new();
        entry.volume = Some(VolumeFacts {
            name: volume.name.clone(),
            status: volume.status.clone(),
            size: volume.size,
        });
    }

    /// Feeds one VBS / Cinder backup of `scope` (from the detail listing: it needs
    /// `volume_id`, `status`, `created_at` and `size`).
    ///
    /// ```
    /// # fn f(coverage: &mut vbs_backups::coverage::Coverage, scope: &vbs_backups::coverage::Scope, backup: vbs_backups::BackupDetail) {
    /// coverage.add_backup(scope, &backup);
    /// # }
    /// ```
    pub fn add_backup(&mut self, scope: &Scope, backup: &BackupDetail) {
        self.add(
            scope,
            &BackupFacts {
                id: &backup.id,
                volume_id: backup.volume_id.as_deref(),
                status: backup.status.as_str(),
                created_at: backup.created_at,
                size: backup.size,
                service: BackupService::Vbs,
            },
        );
    }

    /// Feeds one Huawei CBR backup of `scope`: a backup of resource type
    /// `OS::Cinder::Volume` is one of the volume `resource_id`, of size `resource_size`;
    /// others are only counted.
    ///
    /// ```
    /// # fn f(coverage: &mut vbs_backups::coverage::Coverage, scope: &vbs_backups::coverage::Scope, backup: vbs_backups::CbrBackup) {
    /// coverage.add_cbr_backup(scope, &backup);
    /// # }
    /// ```
    pub fn add_cbr_backup(&mut self, scope: &Scope, backup: &CbrBackup) {
        let of_volume = backup.resource_type.as_deref() == Some(CINDER_VOLUME);
        self.add(
            scope,
            &BackupFacts {
                id: &backup.id,
                volume_id: backup.resource_id.as_deref().filter(|_| of_volume),
                status: backup.status.as_str(),
                created_at: backup.created_at,
                size: backup.resource_size,
                service: BackupService::Cbr,
            },
        );
    }

    fn add(&mut self, scope: &Scope, backup: &BackupFacts<'_>) {
        let index = self.scope(scope);
        self.touch(index, ScopeListing::Backups(backup.service));
        *self
            .backup_counts
            .entry((index, backup.service, backup.status.to_owned()))
            .or_default() += 1;
        let Some(volume_id) = backup.volume_id else {
            return;
        };
        let key = (index, volume_id.to_owned());
        let state = &self.scopes[index];
        if !self.volumes.contains_key(&key) {
            match state.volumes_outcome() {
                Outcome::Complete => {
                    self.orphans
                        .push(orphan_of(&state.scope, volume_id, backup));
                    return;
                }
                // Whether the volume exists cannot be known: no orphan, no verdict.
                Outcome::Failed(_) => return,
                Outcome::Pending => {}
            }
        }
        let entry = self.volumes.entry(key).or_default();
        record(entry, backup);
        if entry.volume.is_none() {
            entry
                .maybe_orphans
                .push(orphan_of(&state.scope, volume_id, backup));
        }
    }

    /// Says that `listing` of `scope` was read to its end.
    ///
    /// ```
    /// # fn f(coverage: &mut vbs_backups::coverage::Coverage, scope: &vbs_backups::coverage::Scope) {
    /// use vbs_backups::coverage::ScopeListing;
    ///
    /// coverage.complete(scope, ScopeListing::Volumes);
    /// # }
    /// ```
    pub fn complete(&mut self, scope: &Scope, listing: ScopeListing) {
        self.settle(scope, listing, Outcome::Complete);
    }

    /// Says that `listing` of `scope` ended early with `error`: the scope's volumes not
    /// proven protected by another listing are [`Unknown`](Verdict::Unknown); after a failed
    /// volume listing, its scope has no orphans.
    ///
    /// ```
    /// # fn f(coverage: &mut vbs_backups::coverage::Coverage, scope: &vbs_backups::coverage::Scope) {
    /// use vbs_backups::coverage::{BackupService, ScopeListing};
    ///
    /// coverage.fail(scope, ScopeListing::Backups(BackupService::Cbr), "403 Forbidden");
    /// # }
    /// ```
    pub fn fail(&mut self, scope: &Scope, listing: ScopeListing, error: impl fmt::Display) {
        self.settle(scope, listing, Outcome::Failed(error.to_string()));
    }

    fn settle(&mut self, scope: &Scope, listing: ScopeListing, outcome: Outcome) {
        let index = self.scope(scope);
        if listing == ScopeListing::Volumes {
            self.settle_unlisted(index, outcome == Outcome::Complete);
        }
        if let Some(state) = self.scopes.get_mut(index) {
            state.listings.insert(listing, outcome);
        }
    }

    /// The ids whose backups came but whose volume did not: orphans if the scope's volume
    /// listing completed, unknowable if it failed.
    fn settle_unlisted(&mut self, index: usize, complete: bool) {
        let orphans = &mut self.orphans;
        self.volumes.retain(|(scope, _), entry| {
            if *scope != index || entry.volume.is_some() {
                return true;
            }
            if complete {
                orphans.append(&mut entry.maybe_orphans);
            }
            false
        });
    }

    /// Judges every volume and closes the audit. A listing neither
    /// [completed](Self::complete) nor [failed](Self::fail) counts as not completed.
    ///
    /// A scope's volumes are judged against the backup listings known for that scope: one
    /// is known once an item of it is fed or its end is said. Say the end of an empty
    /// listing too: a scope with no backup listing known has nothing that could protect
    /// its volumes, and they are judged unprotected, not unknown.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    ///
    /// let report = vbs_backups::coverage::Coverage::new(Duration::from_secs(60), SystemTime::now()).finish();
    /// assert!(report.volumes.is_empty());
    /// assert!(report.is_complete());
    /// ```
    pub fn finish(mut self) -> CoverageReport {
        for index in 0..self.scopes.len() {
            if *self.scopes[index].volumes_outcome() == Outcome::Pending {
                self.settle_unlisted(index, false);
            }
        }
        let mut summary = Summary::default();
        let mut volumes: Vec<VolumeCoverage> = Vec::with_capacity(self.volumes.len());
        for ((index, id), entry) in self.volumes {
            let state = &self.scopes[index];
            let Some(facts) = entry.volume.as_ref() else {
                continue;
            };
            let verdict = verdict(&entry, state, self.horizon);
            summary.add(verdict);
            volumes.push(VolumeCoverage {
                newest_available_backup: newest(&entry),
                id,
                name: facts.name.clone(),
                region: state.scope.region.clone(),
                project_id: state.scope.project_id.clone(),
                status: facts.status.clone(),
                size: facts.size,
                verdict,
                backups: entry.statuses,
            });
        }
        volumes.sort_by(|a, b| {
            (a.verdict, &a.region, &a.project_id, &a.id).cmp(&(
                b.verdict,
                &b.region,
                &b.project_id,
                &b.id,
            ))
        });
        let mut orphans = self.orphans;
        orphans.sort_by(|a, b| {
            (&a.region, &a.project_id, &a.volume_id, &a.id).cmp(&(
                &b.region,
                &b.project_id,
                &b.volume_id,
                &b.id,
            ))
        });
        summary.orphaned_backups = orphans.len() as u64;
        summary.orphaned_gib = orphans.iter().filter_map(|orphan| orphan.size).sum();
        let scopes = outcomes(&self.scopes);
        let backup_counts = self
            .backup_counts
            .into_iter()
            .map(|((index, service, status), count)| BackupCount {
                region: self.scopes[index].scope.region.clone(),
                project_id: self.scopes[index].scope.project_id.clone(),
                service,
                status,
                count,
            })
            .collect();
        CoverageReport {
            max_age_seconds: self.max_age.as_secs(),
            audited_at: self.audited_at,
            volumes,
            orphaned_backups: orphans,
            summary,
            scopes,
            backup_counts,
        }
    }
}

/// Whether a backup in this status protects its volume.
fn protects(status: &str) -> bool {
    matches!(status, "available" | "restoring")
}

fn record(entry: &mut VolumeEntry, backup: &BackupFacts<'_>) {
    *entry.statuses.entry(backup.status.to_owned()).or_default() += 1;
    if backup.status == "error" {
        entry.errors += 1;
    }
    if !protects(backup.status) {
        return;
    }
    let evidence = &mut entry.evidence[service_index(backup.service)];
    evidence.protecting = true;
    if let Some(created_at) = backup.created_at {
        let newer = evidence
            .newest
            .as_ref()
            .is_none_or(|(newest, id)| (created_at, backup.id) > (*newest, id.as_str()));
        if newer {
            evidence.newest = Some((created_at, backup.id.to_owned()));
        }
    }
}

fn orphan_of(scope: &Scope, volume_id: &str, backup: &BackupFacts<'_>) -> OrphanedBackup {
    OrphanedBackup {
        id: backup.id.to_owned(),
        volume_id: volume_id.to_owned(),
        region: scope.region.clone(),
        project_id: scope.project_id.clone(),
        service: backup.service,
        status: backup.status.to_owned(),
        size: backup.size,
        created_at: backup.created_at,
    }
}

const SERVICES: [BackupService; 2] = [BackupService::Vbs, BackupService::Cbr];

fn verdict(entry: &VolumeEntry, state: &ScopeState, horizon: Timestamp) -> Verdict {
    let proven = SERVICES.iter().any(|service| {
        state.complete(*service)
            && entry.evidence[service_index(*service)]
                .newest
                .as_ref()
                .is_some_and(|(created_at, _)| *created_at >= horizon)
    });
    if proven {
        Verdict::Protected
    } else if !state.backups_complete() {
        Verdict::Unknown
    } else if entry.evidence.iter().any(|evidence| evidence.protecting) {
        Verdict::Stale
    } else if entry.errors > 0 {
        Verdict::Failing
    } else {
        Verdict::Unprotected
    }
}

/// The newest protecting backup of any service.
fn newest(entry: &VolumeEntry) -> Option<BackupRef> {
    SERVICES
        .iter()
        .filter_map(|service| {
            let (created_at, id) = entry.evidence[service_index(*service)].newest.as_ref()?;
            Some(BackupRef {
                id: id.clone(),
                created_at: *created_at,
                service: *service,
            })
        })
        .max_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)))
}

fn outcomes(scopes: &[ScopeState]) -> Vec<ScopeOutcome> {
    scopes
        .iter()
        .flat_map(|state| {
            state
                .listings
                .iter()
                .map(|(listing, outcome)| ScopeOutcome {
                    region: state.scope.region.clone(),
                    project_id: state.scope.project_id.clone(),
                    service: *listing,
                    complete: *outcome == Outcome::Complete,
                    error: match outcome {
                        Outcome::Complete => None,
                        Outcome::Failed(error) => Some(error.clone()),
                        Outcome::Pending => Some("the listing did not finish".to_owned()),
                    },
                })
        })
        .collect()
}

#[cfg(test)]
mod tests;

/// Where a service's evidence is kept in a volume's entry.
fn service_index(service: BackupService) -> usize {
    match service {
        BackupService::Vbs => 0,
        BackupService::Cbr => 1,
    }
}

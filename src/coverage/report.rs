//! What a coverage audit finds: [`CoverageReport`] and its parts, serialized in the shape the
//! command's `--format json` writes.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::{Serialize, Serializer};

use crate::estate::BackupService;

/// Where volumes and their backups live: one region's project. The accumulator joins a
/// backup only with the volumes of its own scope.
///
/// ```
/// let scope = vbs_backups::coverage::Scope::new("RegionOne", "b23b579f08c84228b9b4673c46f0c442");
/// assert_eq!(scope.region, "RegionOne");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub struct Scope {
    /// The region (empty where the cloud has no region name).
    pub region: String,
    /// The project.
    pub project_id: String,
}

impl Scope {
    /// A scope of this region and project.
    ///
    /// ```
    /// let scope = vbs_backups::coverage::Scope::new("", "p");
    /// assert_eq!(scope.project_id, "p");
    /// ```
    pub fn new(region: impl Into<String>, project_id: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            project_id: project_id.into(),
        }
    }
}

/// One listing an audit reads in a scope: its volumes, or its backups in one service.
///
/// ```
/// use vbs_backups::coverage::{BackupService, ScopeListing};
///
/// assert_eq!(ScopeListing::Volumes.as_str(), "volumes");
/// assert_eq!(ScopeListing::Backups(BackupService::Cbr).as_str(), "cbr");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ScopeListing {
    /// The scope's volumes.
    Volumes,
    /// The scope's backups in this service.
    Backups(BackupService),
}

impl ScopeListing {
    /// The listing's name in reports: `volumes`, `vbs` or `cbr`.
    ///
    /// ```
    /// assert_eq!(vbs_backups::coverage::ScopeListing::Volumes.as_str(), "volumes");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Volumes => "volumes",
            Self::Backups(service) => service.as_str(),
        }
    }
}

impl fmt::Display for ScopeListing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ScopeListing {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// How well a volume is protected; see [`Coverage`](super::Coverage) for the rules.
///
/// ```
/// use vbs_backups::coverage::Verdict;
///
/// assert_eq!(Verdict::Stale.as_str(), "stale");
/// assert!(!Verdict::Unknown.is_protected());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Verdict {
    /// No protecting backup, and at least one in `error`.
    Failing,
    /// No protecting backup and none in `error`: no backup at all, or only ones in progress.
    Unprotected,
    /// A protecting backup, but none within the maximum age.
    Stale,
    /// Not proven protected, while a backup listing of its scope did not complete.
    Unknown,
    /// A protecting backup created within the maximum age.
    Protected,
}

impl Verdict {
    /// Every verdict, the worst first (the order reports list volumes in).
    ///
    /// ```
    /// assert_eq!(vbs_backups::coverage::Verdict::ALL.len(), 5);
    /// ```
    pub const ALL: [Self; 5] = [
        Self::Failing,
        Self::Unprotected,
        Self::Stale,
        Self::Unknown,
        Self::Protected,
    ];

    /// The verdict's name: `protected`, `stale`, `failing`, `unprotected`, `unknown`.
    ///
    /// ```
    /// assert_eq!(vbs_backups::coverage::Verdict::Failing.as_str(), "failing");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Protected => "protected",
            Self::Stale => "stale",
            Self::Failing => "failing",
            Self::Unprotected => "unprotected",
            Self::Unknown => "unknown",
        }
    }

    /// Whether the volume is protected.
    ///
    /// ```
    /// assert!(vbs_backups::coverage::Verdict::Protected.is_protected());
    /// ```
    pub fn is_protected(self) -> bool {
        self == Self::Protected
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Verdict {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A backup that protects a volume: its id, when it was made, and by which service.
///
/// ```
/// # fn f(report: vbs_backups::coverage::CoverageReport) {
/// for volume in &report.volumes {
///     if let Some(newest) = &volume.newest_available_backup {
///         println!("{}: {} from {} at {}", volume.id, newest.id, newest.service, newest.created_at);
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct BackupRef {
    /// The backup id.
    pub id: String,
    /// When the backup was created.
    pub created_at: Timestamp,
    /// The service keeping it.
    pub service: BackupService,
}

/// One volume and its verdict.
///
/// ```
/// # fn f(report: vbs_backups::coverage::CoverageReport) {
/// for volume in report.volumes.iter().filter(|v| !v.verdict.is_protected()) {
///     println!("{} {:?} {}: {:?}", volume.id, volume.name, volume.verdict, volume.backups);
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct VolumeCoverage {
    /// The volume id.
    pub id: String,
    /// The volume name.
    pub name: Option<String>,
    /// The volume's region.
    pub region: String,
    /// The volume's project.
    pub project_id: String,
    /// The volume's status.
    pub status: String,
    /// The volume's size in GiB.
    pub size: Option<u64>,
    /// The verdict.
    pub verdict: Verdict,
    /// The newest protecting backup (`available` or `restoring`) listed, in any service.
    pub newest_available_backup: Option<BackupRef>,
    /// How many of the volume's backups were listed, by status (both services together).
    pub backups: BTreeMap<String, u64>,
}

/// A backup whose volume is not among the listed volumes of its scope: a deleted volume's
/// backup, which still costs money.
///
/// ```
/// # fn f(report: vbs_backups::coverage::CoverageReport) {
/// for orphan in &report.orphaned_backups {
///     println!("{} of gone volume {}: {:?} GiB", orphan.id, orphan.volume_id, orphan.size);
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct OrphanedBackup {
    /// The backup id.
    pub id: String,
    /// The volume it was taken of (CBR's `resource_id`).
    pub volume_id: String,
    /// The backup's region.
    pub region: String,
    /// The backup's project.
    pub project_id: String,
    /// The service keeping it.
    pub service: BackupService,
    /// Its status.
    pub status: String,
    /// Its size in GiB (CBR: `resource_size`).
    pub size: Option<u64>,
    /// When it was created.
    pub created_at: Option<Timestamp>,
}

/// The counts of a report.
///
/// ```
/// # fn f(report: vbs_backups::coverage::CoverageReport) {
/// let s = &report.summary;
/// println!("{}/{} protected, {} orphans ({} GiB)", s.protected, s.volumes, s.orphaned_backups, s.orphaned_gib);
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Summary {
    /// Volumes audited.
    pub volumes: u64,
    /// Of them, protected.
    pub protected: u64,
    /// Stale.
    pub stale: u64,
    /// Failing.
    pub failing: u64,
    /// Unprotected.
    pub unprotected: u64,
    /// Unknown.
    pub unknown: u64,
    /// Orphaned backups.
    pub orphaned_backups: u64,
    /// Their total size in GiB.
    pub orphaned_gib: u64,
}

impl Summary {
    /// How many volumes got `verdict`.
    ///
    /// ```
    /// use vbs_backups::coverage::{Summary, Verdict};
    ///
    /// assert_eq!(Summary::default().count(Verdict::Stale), 0);
    /// ```
    pub fn count(&self, verdict: Verdict) -> u64 {
        match verdict {
            Verdict::Protected => self.protected,
            Verdict::Stale => self.stale,
            Verdict::Failing => self.failing,
            Verdict::Unprotected => self.unprotected,
            Verdict::Unknown => self.unknown,
        }
    }

    pub(super) fn add(&mut self, verdict: Verdict) {
        self.volumes += 1;
        let count = match verdict {
            Verdict::Protected => &mut self.protected,
            Verdict::Stale => &mut self.stale,
            Verdict::Failing => &mut self.failing,
            Verdict::Unprotected => &mut self.unprotected,
            Verdict::Unknown => &mut self.unknown,
        };
        *count += 1;
    }
}

/// Whether one listing of one scope completed.
///
/// ```
/// # fn f(report: vbs_backups::coverage::CoverageReport) {
/// for failed in report.scopes.iter().filter(|s| !s.complete) {
///     eprintln!("{} {} {}: {:?}", failed.region, failed.project_id, failed.service, failed.error);
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ScopeOutcome {
    /// The region.
    pub region: String,
    /// The project.
    pub project_id: String,
    /// The listing: `volumes`, `vbs` or `cbr`.
    pub service: ScopeListing,
    /// Whether it was read to its end.
    pub complete: bool,
    /// Why not, for a listing that did not complete.
    pub error: Option<String>,
}

/// How many backups of one status one service listed in one scope.
///
/// ```
/// # fn f(report: vbs_backups::coverage::CoverageReport) {
/// let errors: u64 = report.backup_counts.iter().filter(|c| c.status == "error").map(|c| c.count).sum();
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackupCount {
    /// The region.
    pub region: String,
    /// The project.
    pub project_id: String,
    /// The service.
    pub service: BackupService,
    /// The status.
    pub status: String,
    /// How many.
    pub count: u64,
}

/// What a coverage audit found: every volume with its verdict (the worst first), the
/// orphaned backups, the counts, and which listings completed. Serialized, it is the
/// command's `--format json` document (without [`backup_counts`](Self::backup_counts)).
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use vbs_backups::coverage::{Coverage, Scope, ScopeListing};
///
/// let scope = Scope::new("r", "p");
/// let mut coverage = Coverage::new(Duration::from_secs(86_400), SystemTime::now());
/// coverage.add_volume(&scope, &vbs_backups::Volume::new("v1", "in-use", Some(10)));
/// coverage.complete(&scope, ScopeListing::Volumes);
/// let report = coverage.finish();
/// let json = serde_json::to_value(&report)?;
/// assert_eq!(json["volumes"][0]["verdict"], "unprotected");
/// assert_eq!(json["summary"]["unprotected"], 1);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CoverageReport {
    /// The maximum age a protecting backup may have, in seconds.
    pub max_age_seconds: u64,
    /// When the audit judged ages from.
    pub audited_at: Timestamp,
    /// Every volume listed, the worst verdicts first, then by region, project and id.
    pub volumes: Vec<VolumeCoverage>,
    /// The orphaned backups, by region, project, volume and id.
    pub orphaned_backups: Vec<OrphanedBackup>,
    /// The counts.
    pub summary: Summary,
    /// Every listing of every scope, and whether it completed.
    pub scopes: Vec<ScopeOutcome>,
    /// Every backup listed, counted by scope, service and status.
    #[serde(skip)]
    pub backup_counts: Vec<BackupCount>,
}

impl CoverageReport {
    /// Whether every listing of every scope completed.
    ///
    /// ```
    /// # fn f(report: vbs_backups::coverage::CoverageReport) {
    /// if !report.is_complete() {
    ///     eprintln!("some volumes could not be judged");
    /// }
    /// # }
    /// ```
    pub fn is_complete(&self) -> bool {
        self.scopes.iter().all(|scope| scope.complete)
    }

    /// Whether every volume is protected (orphans do not count against it).
    ///
    /// ```
    /// # fn f(report: vbs_backups::coverage::CoverageReport) {
    /// let exit_code = if !report.is_complete() { 1 } else if report.all_protected() { 0 } else { 3 };
    /// # }
    /// ```
    pub fn all_protected(&self) -> bool {
        self.summary.protected == self.summary.volumes
    }
}

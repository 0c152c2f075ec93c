//! [`Scope`]: one service of one project in one region, and [`Scoped`]: an item with
//! the scope it came from.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, write_printable};

/// Which backup service a scope lists.
///
/// ```
/// use vbs_backups::BackupService;
///
/// assert_eq!(BackupService::Cbr.as_str(), "cbr");
/// assert_eq!("vbs".parse::<BackupService>()?, BackupService::Vbs);
/// # Ok::<(), vbs_backups::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum BackupService {
    /// Huawei VBS, or any OpenStack Cinder-compatible block storage backup API.
    Vbs,
    /// Huawei Cloud Backup and Recovery.
    Cbr,
}

impl BackupService {
    /// The lower-case name: `vbs` or `cbr`.
    ///
    /// ```
    /// assert_eq!(vbs_backups::BackupService::Vbs.as_str(), "vbs");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vbs => "vbs",
            Self::Cbr => "cbr",
        }
    }
}

impl fmt::Display for BackupService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for BackupService {
    type Err = crate::Error;

    fn from_str(text: &str) -> crate::Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "vbs" | "cinder" => Ok(Self::Vbs),
            "cbr" => Ok(Self::Cbr),
            _ => Err(crate::Error::config(format!(
                "unknown backup service `{}`: expected vbs or cbr",
                text.escape_debug()
            ))),
        }
    }
}

/// Where a walk of an estate goes: one service of one project in one region (and, for
/// OpenStack, of one cloud of `clouds.yaml`).
///
/// Two scopes are the same scope when service, cloud, region and project id agree; the
/// project name is for display.
///
/// ```
/// use vbs_backups::{BackupService, Scope};
///
/// let scope = Scope::new(BackupService::Vbs, "cn-north-4", "0f7c…").project_name("cn-north-4_prod");
/// assert_eq!(scope.region, "cn-north-4");
/// assert_eq!(scope.to_string(), "vbs cn-north-4 0f7c… (cn-north-4_prod)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Scope {
    /// The service listed.
    pub service: BackupService,
    /// The region (empty when the cloud has none to say).
    pub region: String,
    /// The project id.
    pub project_id: String,
    /// The project name, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_name: Option<String>,
    /// The `clouds.yaml` cloud, for estates over several clouds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<String>,
}

impl Scope {
    /// A scope of `service` for `project_id` in `region`.
    ///
    /// ```
    /// let scope = vbs_backups::Scope::new(vbs_backups::BackupService::Cbr, "eu-west-0", "p1");
    /// assert_eq!(scope.project_id, "p1");
    /// ```
    pub fn new(
        service: BackupService,
        region: impl Into<String>,
        project_id: impl Into<String>,
    ) -> Self {
        Self {
            service,
            region: region.into(),
            project_id: project_id.into(),
            project_name: None,
            cloud: None,
        }
    }

    /// Names the project, for display.
    ///
    /// ```
    /// let scope = vbs_backups::Scope::new(vbs_backups::BackupService::Vbs, "r", "p").project_name("prod");
    /// assert_eq!(scope.project_name.as_deref(), Some("prod"));
    /// ```
    #[must_use]
    pub fn project_name(mut self, name: impl Into<String>) -> Self {
        self.project_name = Some(name.into());
        self
    }

    /// Names the `clouds.yaml` cloud the scope belongs to.
    ///
    /// ```
    /// let scope = vbs_backups::Scope::new(vbs_backups::BackupService::Vbs, "RegionOne", "p").cloud("lab");
    /// assert_eq!(scope.cloud.as_deref(), Some("lab"));
    /// ```
    #[must_use]
    pub fn cloud(mut self, cloud: impl Into<String>) -> Self {
        self.cloud = Some(cloud.into());
        self
    }

    /// Whether `other` is the same scope (the project name aside).
    ///
    /// ```
    /// use vbs_backups::{BackupService, Scope};
    /// let a = Scope::new(BackupService::Vbs, "r", "p");
    /// assert!(a.same_as(&a.clone().project_name("shown")));
    /// ```
    pub fn same_as(&self, other: &Self) -> bool {
        self.service == other.service
            && self.region == other.region
            && self.project_id == other.project_id
            && self.cloud == other.cloud
    }
}

/// `service cloud/region project (name)`, as errors name a scope. Its texts come from
/// servers (IAM's and Keystone's project names, say), so control characters are shown
/// escaped, as in [`Error`]'s `Display`: printed, a scope cannot drive a terminal.
///
/// ```
/// use vbs_backups::{BackupService, Scope};
///
/// let scope = Scope::new(BackupService::Vbs, "eu-west-0", "p1").project_name("\u{1b}[2Jprod");
/// assert_eq!(scope.to_string(), "vbs eu-west-0 p1 (\\u{1b}[2Jprod)");
/// ```
impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.service)?;
        if let Some(cloud) = &self.cloud {
            write_printable(f, cloud)?;
            f.write_str("/")?;
        }
        write_printable(f, &self.region)?;
        f.write_str(" ")?;
        write_printable(f, &self.project_id)?;
        if let Some(name) = &self.project_name {
            f.write_str(" (")?;
            write_printable(f, name)?;
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// An item of an estate walk, with the scope it came from.
///
/// ```no_run
/// # async fn run(estate: vbs_backups::EstateStream<vbs_backups::BackupDetail>) {
/// use futures::StreamExt;
///
/// let mut estate = estate;
/// while let Some(Ok(backup)) = estate.next().await {
///     println!("{} {} {}", backup.scope.region, backup.scope.project_id, backup.item.id);
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Scoped<T> {
    /// Where the item came from (shared by every item of the scope).
    pub scope: Arc<Scope>,
    /// The item itself.
    pub item: T,
}

/// A scope's failure reads as its error, prefixed with the scope, so that a walk that
/// stops at the first failure can use `?`.
///
/// ```no_run
/// # async fn run(mut estate: vbs_backups::EstateStream<vbs_backups::BackupDetail>) -> Result<(), Box<dyn std::error::Error>> {
/// use futures::StreamExt;
///
/// while let Some(next) = estate.next().await {
///     let backup = next?; // "vbs cn-north-4 0acc…: …"
///     println!("{}", backup.item.id);
/// }
/// # Ok(()) }
/// ```
impl fmt::Display for Scoped<Arc<Error>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.scope, self.item)
    }
}

impl std::error::Error for Scoped<Arc<Error>> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.item.as_ref())
    }
}

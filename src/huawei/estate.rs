//! The account's estate from credentials alone: every project IAM lists for the access
//! key (`GET {iam}/v3/auth/projects`), the ones in a region chosen, each with a client
//! for each service at the region's endpoint.

use serde::Deserialize;

use super::config::HuaweiConfig;
use super::discovery::iam_url;
use super::region::{self, Service};
use crate::Client;
use crate::auth::huawei::AkSkSigner;
use crate::error::{Error, Result};
use crate::estate::{BackupService, EstateBackup, Scope, ScopeSet};
use crate::http::{Pipeline, Request};

/// A project of the account, as IAM lists it.
///
/// ```
/// use vbs_backups::huawei::AccountProject;
///
/// let project = AccountProject::new("0f7c", "cn-north-4_prod", true);
/// assert_eq!(project.region(), Some("cn-north-4"));
/// assert_eq!(AccountProject::new("1a2b", "MOS", true).region(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct AccountProject {
    /// The project id.
    pub id: String,
    /// The project name: a region (`cn-north-4`), a sub-project (`cn-north-4_prod`), or
    /// something else (`MOS`).
    #[serde(default)]
    pub name: String,
    /// Whether the project is enabled.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

impl AccountProject {
    /// A project, as a test or a caller with its own list makes one.
    ///
    /// ```
    /// let project = vbs_backups::huawei::AccountProject::new("p1", "eu-west-0", false);
    /// assert!(!project.enabled);
    /// ```
    pub fn new(id: impl Into<String>, name: impl Into<String>, enabled: bool) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            enabled,
        }
    }

    /// The region the project is in: its name, or the part before `_` of a sub-project's
    /// name; `None` when that is not a region name (`MOS`).
    ///
    /// ```
    /// let project = vbs_backups::huawei::AccountProject::new("p", "ap-southeast-1_dev", true);
    /// assert_eq!(project.region(), Some("ap-southeast-1"));
    /// ```
    pub fn region(&self) -> Option<&str> {
        let region = self.name.split('_').next().unwrap_or_default();
        let looks_like_region = region.contains('-')
            && region
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
        looks_like_region.then_some(region)
    }
}

/// Why a project of the account is not part of the estate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// Its name names no region (`MOS`): it has no regional endpoints.
    NotInARegion,
    /// IAM lists it as disabled.
    Disabled,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::NotInARegion => "not in a region",
            Self::Disabled => "disabled",
        })
    }
}

/// A project left out of the estate, and why: reported, never dropped silently.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SkippedProject {
    /// The project.
    pub project: AccountProject,
    /// Why it was left out.
    pub reason: SkipReason,
}

/// The projects of an estate, chosen from the account's: see [`select_projects`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProjectSelection {
    /// The enabled projects in the chosen regions, with their region, in IAM's order.
    pub chosen: Vec<(String, AccountProject)>,
    /// The projects left out, and why.
    pub skipped: Vec<SkippedProject>,
}

/// Chooses the estate's projects among the account's: every enabled project in a region
/// (`regions` empty), or those of the named regions: the project named after each and its
/// `{region}_…` sub-projects. Projects in no region and disabled projects are reported
/// as skipped (of the named regions only, when regions are named).
///
/// # Errors
///
/// A named region with no enabled project, named in the error, before anything is walked.
///
/// ```
/// use vbs_backups::huawei::{AccountProject, select_projects};
///
/// let projects = [
///     AccountProject::new("p1", "cn-north-4", true),
///     AccountProject::new("p2", "cn-north-4_prod", true),
///     AccountProject::new("p3", "eu-west-0", true),
///     AccountProject::new("p4", "MOS", true),
/// ];
/// let chosen = select_projects(&projects, &["cn-north-4".to_owned()])?;
/// assert_eq!(chosen.chosen.len(), 2);
/// assert!(select_projects(&projects, &["af-south-1".to_owned()]).is_err());
/// # Ok::<(), vbs_backups::Error>(())
/// ```
pub fn select_projects(
    projects: &[AccountProject],
    regions: &[String],
) -> Result<ProjectSelection> {
    let regions: Vec<&str> = regions.iter().map(|region| region.trim()).collect();
    for region in &regions {
        region::check_region(region)?;
    }
    let mut selection = ProjectSelection::default();
    for project in projects {
        let Some(region) = project.region() else {
            if regions.is_empty() {
                selection.skipped.push(SkippedProject {
                    project: project.clone(),
                    reason: SkipReason::NotInARegion,
                });
            }
            continue;
        };
        if !regions.is_empty() && !regions.contains(&region) {
            continue;
        }
        if project.enabled {
            selection.chosen.push((region.to_owned(), project.clone()));
        } else {
            selection.skipped.push(SkippedProject {
                project: project.clone(),
                reason: SkipReason::Disabled,
            });
        }
    }
    let empty: Vec<&str> = regions
        .iter()
        .copied()
        .filter(|region| !selection.chosen.iter().any(|(chosen, _)| chosen == region))
        .collect();
    if !empty.is_empty() {
        return Err(Error::config(format!(
            "no enabled project of this account is in the region{} {}",
            if empty.len() == 1 { "" } else { "s" },
            empty.join(", ")
        )));
    }
    Ok(selection)
}

/// An account's estate: a client for each scope (service × chosen project), and the
/// projects left out; see [`HuaweiConfig::estate`].
#[derive(Debug)]
#[non_exhaustive]
pub struct HuaweiEstate {
    /// Each scope with the client that walks it, signing for its project.
    pub scopes: Vec<(Scope, Client)>,
    /// The account's projects left out, and why.
    pub skipped: Vec<SkippedProject>,
}

impl HuaweiEstate {
    /// The scopes as a [`ScopeSet`] with the default listings: VBS's detail listing and
    /// CBR's backups.
    ///
    /// ```no_run
    /// # async fn run() -> vbs_backups::Result<()> {
    /// use vbs_backups::huawei::{HuaweiConfig, Service};
    ///
    /// let estate = HuaweiConfig::load()?.estate(&[], &[Service::Vbs, Service::Cbr]).await?;
    /// let stream = estate.scope_set().concurrency(8).stream();
    /// # Ok(()) }
    /// ```
    pub fn scope_set(self) -> ScopeSet<EstateBackup> {
        self.scopes
            .into_iter()
            .fold(ScopeSet::new(), |set, (scope, client)| {
                match scope.service {
                    BackupService::Cbr => set.add(scope, client, |client| client.cbr_backups()),
                    _ => set.add(scope, client, |client| client.backups().detail()),
                }
            })
    }
}

#[derive(Deserialize)]
struct Projects {
    #[serde(default)]
    projects: Vec<AccountProject>,
}

impl HuaweiConfig {
    /// Every project IAM lists for these credentials: one signed
    /// `GET {iam}/v3/auth/projects` (or, where IAM refuses that with 403 or 404, the
    /// account's `GET {iam}/v3/projects`). IAM is the one set, else the region's, else the global
    /// `https://iam.myhuaweicloud.com`.
    ///
    /// # Errors
    ///
    /// Missing credentials, and IAM's own errors.
    ///
    /// ```no_run
    /// # async fn run() -> vbs_backups::Result<()> {
    /// for project in vbs_backups::huawei::HuaweiConfig::load()?.account_projects().await? {
    ///     println!("{} {} {:?}", project.id, project.name, project.region());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn account_projects(&self) -> Result<Vec<AccountProject>> {
        let pipeline = self.pipeline()?;
        let signer = AkSkSigner::new(self.credentials()?);
        account_projects(&pipeline, &signer, &self.estate_iam()).await
    }

    /// The estate of the account: the projects of `regions` (every region when empty,
    /// chosen as [`select_projects`] says), and for each a client per service in
    /// `services`, at the region's endpoint (`HUAWEICLOUD_SDK_REGION_{SERVICE}_{REGION}`
    /// overrides included). Every client and IAM share one connection pool and the
    /// configuration's HTTP settings, so a [`RequestBudget`](crate::RequestBudget) set with
    /// [`budget`](Self::budget) holds over the whole estate.
    ///
    /// # Errors
    ///
    /// Missing credentials; [`Service::Evs`] among `services` (it holds volumes, not
    /// backups: [`project_clients`](Self::project_clients) gives its clients); a named
    /// region with no enabled project; an explicit [`endpoint`](Self::endpoint) while the
    /// estate spans more than one region or service (it can only be one of them: use the
    /// override variables); IAM's own errors.
    ///
    /// ```no_run
    /// # async fn run() -> vbs_backups::Result<()> {
    /// use vbs_backups::huawei::{HuaweiConfig, Service};
    ///
    /// let estate = HuaweiConfig::load()?
    ///     .estate(&["cn-north-4".into(), "eu-west-0".into()], &[Service::Cbr])
    ///     .await?;
    /// for skipped in &estate.skipped {
    ///     eprintln!("skipped {} ({})", skipped.project.name, skipped.reason);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn estate(&self, regions: &[String], services: &[Service]) -> Result<HuaweiEstate> {
        let kinds = services
            .iter()
            .map(|service| {
                estate_service(*service).ok_or_else(|| {
                    Error::config(format!(
                        "{} holds no backups: an estate walks VBS and CBR (for volumes \
                         beside backups, see HuaweiConfig::project_clients)",
                        service.name().to_uppercase()
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let found = self.project_clients(regions, services).await?;
        let mut scopes = Vec::new();
        for chosen in found.projects {
            // A project's clients come in the order the services were asked.
            for ((_, client), kind) in chosen.clients.into_iter().zip(&kinds) {
                let scope = Scope::new(*kind, &chosen.region, &chosen.project.id)
                    .project_name(&chosen.project.name);
                scopes.push((scope, client));
            }
        }
        Ok(HuaweiEstate {
            scopes,
            skipped: found.skipped,
        })
    }

    /// The account's projects in `regions` (every region when empty, chosen as
    /// [`select_projects`] says), each with a client per service in `services`, EVS
    /// included: from one IAM listing, what an audit that joins a project's volumes with
    /// its backups needs. The clients are built as [`estate`](Self::estate) builds them
    /// (regional endpoints, overrides, one connection pool and budget).
    ///
    /// # Errors
    ///
    /// Those of [`estate`](Self::estate).
    ///
    /// ```no_run
    /// # async fn run() -> vbs_backups::Result<()> {
    /// use vbs_backups::huawei::{HuaweiConfig, Service};
    ///
    /// let found = HuaweiConfig::load()?
    ///     .project_clients(&[], &[Service::Evs, Service::Vbs, Service::Cbr])
    ///     .await?;
    /// for chosen in &found.projects {
    ///     let volumes = chosen.client(Service::Evs).map(|client| client.volumes());
    ///     println!("{} {}", chosen.region, chosen.project.id);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn project_clients(
        &self,
        regions: &[String],
        services: &[Service],
    ) -> Result<HuaweiProjects> {
        let pipeline = self.pipeline()?;
        let signer = AkSkSigner::new(self.credentials()?);
        let projects = account_projects(&pipeline, &signer, &self.estate_iam()).await?;
        let selection = select_projects(&projects, regions)?;
        if self.has_explicit_endpoint() && selection.chosen.len() * services.len() > 1 {
            return Err(Error::config(
                "an explicit endpoint is one region's service, and this estate spans several: \
                 leave the endpoint out, or set HUAWEICLOUD_SDK_REGION_{SERVICE}_{REGION} per region",
            ));
        }
        let mut found = HuaweiProjects {
            projects: Vec::new(),
            skipped: selection.skipped,
        };
        for (region, project) in selection.chosen {
            let mut clients = Vec::new();
            for &service in services {
                let config = self.clone().region(&region).service(service);
                let client = Client::builder()
                    .endpoint(config.service_endpoint()?)
                    .project_id(&project.id)
                    .api_version(service.api_version())
                    .authorizer(signer.clone().project_id(&project.id))
                    .inherit_pipeline(pipeline.clone())
                    .build()?;
                clients.push((service, client));
            }
            found.projects.push(ProjectClients {
                region,
                project,
                clients,
            });
        }
        Ok(found)
    }
}

/// One chosen project of the account, with a client per service asked for; see
/// [`HuaweiConfig::project_clients`].
///
/// ```no_run
/// # fn f(chosen: vbs_backups::huawei::ProjectClients) {
/// use vbs_backups::huawei::Service;
///
/// if let Some(evs) = chosen.client(Service::Evs) {
///     let volumes = evs.volumes();
/// }
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct ProjectClients {
    /// The region the project is in.
    pub region: String,
    /// The project, as IAM lists it.
    pub project: AccountProject,
    /// Each service asked for, with its client signing for the project, in the order asked.
    pub clients: Vec<(Service, Client)>,
}

impl ProjectClients {
    /// The client of `service`, if it was asked for.
    ///
    /// ```no_run
    /// # fn f(chosen: vbs_backups::huawei::ProjectClients) {
    /// let cbr = chosen.client(vbs_backups::huawei::Service::Cbr);
    /// # }
    /// ```
    pub fn client(&self, service: Service) -> Option<&Client> {
        self.clients
            .iter()
            .find(|(asked, _)| *asked == service)
            .map(|(_, client)| client)
    }
}

/// The account's chosen projects with their clients, and the projects left out; see
/// [`HuaweiConfig::project_clients`].
///
/// ```no_run
/// # fn f(found: vbs_backups::huawei::HuaweiProjects) {
/// for skipped in &found.skipped {
///     eprintln!("skipped {} ({})", skipped.project.name, skipped.reason);
/// }
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct HuaweiProjects {
    /// The chosen projects, in IAM's order.
    pub projects: Vec<ProjectClients>,
    /// The account's projects left out, and why.
    pub skipped: Vec<SkippedProject>,
}

/// The backup service a Huawei service is; `None` for one that holds no backups (EVS).
fn estate_service(service: Service) -> Option<BackupService> {
    match service {
        Service::Vbs => Some(BackupService::Vbs),
        Service::Cbr => Some(BackupService::Cbr),
        Service::Evs => None,
    }
}

/// The account's projects, asked of IAM at `iam` without `X-Project-Id`: the projects
/// the user may use (`GET /v3/auth/projects`), or, where IAM refuses that (403, 404),
/// the account's project list (`GET /v3/projects`), which a user with the
/// `iam:projects:list` permission may read instead.
async fn account_projects(
    pipeline: &Pipeline,
    signer: &AkSkSigner,
    iam: &str,
) -> Result<Vec<AccountProject>> {
    let signer = signer.without_project();
    let listed = match project_list(pipeline, &signer, iam, &["auth", "projects"]).await {
        Err(err) if matches!(err.status(), Some(403 | 404)) => {
            project_list(pipeline, &signer, iam, &["projects"]).await
        }
        listed => listed,
    };
    listed.map_err(|err| {
        err.with_context(format_args!(
            "IAM at {iam} could not list the account's projects"
        ))
    })
}

async fn project_list(
    pipeline: &Pipeline,
    signer: &AkSkSigner,
    iam: &str,
    path: &[&str],
) -> Result<Vec<AccountProject>> {
    let request = Request::get(iam_url(iam, path)?, "IAM project list request");
    let projects = pipeline
        .send(&request, Some(signer), |response| {
            serde_json::from_slice::<Projects>(response.body).map_err(|err| {
                Error::decode(format!(
                    "IAM's project list is not of the expected shape: {err}"
                ))
            })
        })
        .await?;
    Ok(projects.projects)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn account() -> Vec<AccountProject> {
        vec![
            AccountProject::new("p1", "cn-north-4", true),
            AccountProject::new("p2", "cn-north-4_prod", true),
            AccountProject::new("p3", "cn-north-4_old", false),
            AccountProject::new("p4", "eu-west-0", true),
            AccountProject::new("p5", "MOS", true),
            AccountProject::new("p6", "cn-north-40", true),
        ]
    }

    fn ids(selection: &ProjectSelection) -> Vec<&str> {
        selection
            .chosen
            .iter()
            .map(|(_, p)| p.id.as_str())
            .collect()
    }

    #[test]
    fn every_region_project_and_sub_project_skipping_mos_and_disabled_ones() {
        let selection = select_projects(&account(), &[]).unwrap();
        assert_eq!(ids(&selection), ["p1", "p2", "p4", "p6"]);
        let skipped: Vec<_> = selection
            .skipped
            .iter()
            .map(|s| (s.project.id.as_str(), s.reason))
            .collect();
        assert_eq!(
            skipped,
            [
                ("p3", SkipReason::Disabled),
                ("p5", SkipReason::NotInARegion)
            ]
        );
    }

    #[test]
    fn a_named_region_takes_its_project_and_sub_projects_only() {
        let selection = select_projects(&account(), &["cn-north-4".into()]).unwrap();
        assert_eq!(ids(&selection), ["p1", "p2"], "not cn-north-40");
        assert_eq!(selection.skipped.len(), 1);
        let err =
            select_projects(&account(), &["eu-west-0".into(), "af-south-1".into()]).unwrap_err();
        assert!(err.to_string().contains("af-south-1"), "{err}");
        assert!(!err.to_string().contains("eu-west-0"), "{err}");
        assert!(select_projects(&account(), &["Bad/Region".into()]).is_err());
    }
}

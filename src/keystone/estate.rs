//! Every project OpenStack credentials reach: Keystone's `GET /v3/auth/projects`, then a
//! client per project with a token scoped to it, from the same credentials.

use serde::Deserialize;

use super::auth::KeystoneAuth;
use super::settings::OpenStackConfig;
use crate::Client;
use crate::auth::AuthSource;
use crate::error::{Error, Result};
use crate::estate::{BackupService, Scope};
use crate::http::Request;

/// A project the credentials can be scoped to, as Keystone lists it.
///
/// ```no_run
/// # async fn run(auth: vbs_backups::KeystoneAuth) -> vbs_backups::Result<()> {
/// for project in auth.projects().await? {
///     println!("{} {} enabled={}", project.id, project.name, project.enabled);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct KeystoneProject {
    /// The project id.
    pub id: String,
    /// The project name.
    #[serde(default)]
    pub name: String,
    /// Whether the project is enabled.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

#[derive(Deserialize)]
struct Projects {
    #[serde(default)]
    projects: Vec<KeystoneProject>,
}

impl KeystoneAuth {
    /// The projects this authentication's user may scope a token to: one
    /// `GET {auth_url}/v3/auth/projects` with the current token (authenticating first if
    /// needed).
    ///
    /// # Errors
    ///
    /// Keystone's errors, and an answer that is not a project list.
    ///
    /// ```no_run
    /// # async fn run(auth: vbs_backups::KeystoneAuth) -> vbs_backups::Result<()> {
    /// let reachable = auth.projects().await?.len();
    /// # Ok(()) }
    /// ```
    pub async fn projects(&self) -> Result<Vec<KeystoneProject>> {
        let token = self.token().await?.unwrap_or_default();
        let (pipeline, base) = self.keystone_endpoint();
        let url = url::Url::parse(&format!("{base}/auth/projects"))
            .map_err(|err| Error::config(format!("auth URL {base} is not usable: {err}")))?;
        let request = Request::get(url, "Keystone project list request")
            .no_redirects()
            .secret_header("x-auth-token", &token)?;
        let projects = pipeline
            .send(&request, None, |response| {
                serde_json::from_slice::<Projects>(response.body).map_err(|err| {
                    Error::decode(format!(
                        "Keystone's project list is not of the expected shape: {err}"
                    ))
                })
            })
            .await?;
        Ok(projects.projects)
    }
}

impl OpenStackConfig {
    /// A client for every enabled project these credentials reach, each with a token of
    /// its own scoped to its project (renewed on its own), from the same credentials;
    /// with its [`Scope`] (service `vbs`, this configuration's region and cloud). Skipped
    /// (disabled) projects are returned apart, and so are projects Keystone lists but
    /// that cannot be connected to (a token scoped to one refused, no volume endpoint in
    /// its catalog): one such project does not take the others down with it.
    ///
    /// An application credential is bound to one project: its estate is that project.
    ///
    /// # Errors
    ///
    /// Those of [`keystone_auth`](Self::keystone_auth), Keystone's project listing, and
    /// [`connect`](Self::connect) for an application credential's one project.
    ///
    /// ```no_run
    /// # async fn run() -> vbs_backups::Result<()> {
    /// let estate = vbs_backups::OpenStackConfig::load()?.estate().await?;
    /// for (scope, _client) in &estate.scopes {
    ///     println!("{scope}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn estate(&self) -> Result<OpenStackEstate> {
        let unscoped = OpenStackConfig {
            project_id: None,
            project_name: None,
            project_domain_id: None,
            project_domain_name: None,
            ..self.clone()
        };
        let bound_to_one_project = self.application_credential_id.is_some()
            || self.application_credential_secret.is_some();
        let projects = if bound_to_one_project {
            let client = self.connect().await?;
            let scope = self.scope(client.project_id(), None);
            return Ok(OpenStackEstate {
                scopes: vec![(scope, client)],
                ..OpenStackEstate::default()
            });
        } else {
            unscoped.keystone_auth()?.projects().await?
        };
        let mut estate = OpenStackEstate::default();
        for project in projects {
            if !project.enabled {
                estate.skipped.push(project);
                continue;
            }
            let scoped = OpenStackConfig {
                project_id: Some(project.id.clone()),
                ..unscoped.clone()
            };
            let scope = self.scope(&project.id, Some(&project.name));
            match scoped.connect().await {
                Ok(client) => estate.scopes.push((scope, client)),
                Err(error) => estate.unreachable.push((scope, error)),
            }
        }
        Ok(estate)
    }

    fn scope(&self, project_id: &str, name: Option<&str>) -> Scope {
        let mut scope = Scope::new(
            BackupService::Vbs,
            self.region_name.clone().unwrap_or_default(),
            project_id,
        );
        if let Some(name) = name.filter(|name| !name.is_empty()) {
            scope = scope.project_name(name);
        }
        if let Some(cloud) = &self.cloud {
            scope = scope.cloud(cloud);
        }
        scope
    }
}

/// Every project OpenStack credentials reach, each with its client; see
/// [`OpenStackConfig::estate`].
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct OpenStackEstate {
    /// Each scope with the client that walks it.
    pub scopes: Vec<(Scope, Client)>,
    /// Projects Keystone lists as disabled, left out.
    pub skipped: Vec<KeystoneProject>,
    /// Enabled projects that could not be connected to, each with why; give them to
    /// [`ScopeSet::add_unreachable`](crate::ScopeSet::add_unreachable) so that the
    /// estate's outcome counts them as failed.
    pub unreachable: Vec<(Scope, Error)>,
}

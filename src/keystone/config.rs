//! OpenStack client configuration: `OS_*` environment variables and `clouds.yaml`, layered
//! the way the `openstack` command layers them, and what a configuration means for
//! authentication and the endpoint. Reading `clouds.yaml` is in `clouds_yaml.rs`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use super::catalog::{EndpointFilter, Interface, substitute_project};
use super::clouds_yaml::SearchDirs;
use super::{Domain, KeystoneAuth, KeystoneAuthBuilder, Project, Secret, User};
use crate::error::{Error, Result};
use crate::{ApiVersion, Client, ClientBuilder, HttpOptions};

/// Where to reach an OpenStack cloud and how to authenticate: every field optional, filled
/// from `OS_*` environment variables ([`from_env`](Self::from_env)), a `clouds.yaml` entry
/// ([`from_clouds_yaml`](Self::from_clouds_yaml)) or by hand, and layered with
/// [`merge`](Self::merge) so that explicit values beat the environment, which beats
/// `clouds.yaml`.
///
/// [`connect`](Self::connect) turns it into a [`Client`]: it authenticates with Keystone
/// (password, application credential or token), finds the block storage endpoint in the
/// token's catalog (by API version, interface and region) and hands the client a
/// [`KeystoneAuth`] that renews the token as needed.
///
/// Which way to authenticate: `auth_type` when set (`password` / `v3password`,
/// `v3applicationcredential`, `token` / `v3token`, `token_endpoint` / `admin_token` for a
/// token sent straight to [`endpoint_override`](Self::endpoint_override), `none` for a
/// service without auth); otherwise a token if there is one, else an application
/// credential, else a password, as the `openstack` command decides. Ids win over names
/// when both are set.
///
/// A command-line tool layers its flags on top of the environment:
///
/// ```no_run
/// use futures::TryStreamExt;
/// use vbs_backups::OpenStackConfig;
///
/// # async fn run(os_cloud_flag: Option<String>, project_flag: Option<String>)
/// #     -> vbs_backups::Result<()> {
/// let mut flags = OpenStackConfig::default();
/// flags.cloud = os_cloud_flag; // --os-cloud
/// flags.project_id = project_flag; // --project-id
///
/// let config = OpenStackConfig::from_env() // OS_* variables, OS_CLOUD included
///     .merge(flags) // flags win
///     .with_clouds_yaml()?; // the chosen cloud's clouds.yaml entry underneath
/// let client = config.connect().await?;
/// let backups: Vec<_> = client.backups().stream().try_collect().await?;
/// # Ok(()) }
/// ```
///
/// `Debug` output shows secrets as `Secret(<redacted>)`:
///
/// ```
/// use vbs_backups::OpenStackConfig;
///
/// let config = OpenStackConfig::from_env_vars([("OS_PASSWORD", "hunter2"), ("OS_USERNAME", "alice")]);
/// assert_eq!(config.username.as_deref(), Some("alice"));
/// assert!(!format!("{config:?}").contains("hunter2"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenStackConfig {
    /// The `clouds.yaml` entry to read (`OS_CLOUD`, `--os-cloud`); see
    /// [`with_clouds_yaml`](Self::with_clouds_yaml).
    pub cloud: Option<String>,
    /// A `clouds.yaml` to read before the usual search path (`OS_CLIENT_CONFIG_FILE`).
    pub client_config_file: Option<PathBuf>,
    /// A `secure.yaml` whose entries are laid over `clouds.yaml`'s
    /// (`OS_CLIENT_SECURE_FILE`).
    pub client_secure_file: Option<PathBuf>,
    /// How to authenticate (`OS_AUTH_TYPE`, `auth_type`); see the type's documentation.
    pub auth_type: Option<String>,
    /// Keystone's URL, with or without `/v3` (`OS_AUTH_URL`, `auth.auth_url`).
    pub auth_url: Option<String>,
    /// The user name (`OS_USERNAME`, `auth.username`); needs a user domain.
    pub username: Option<String>,
    /// The user id (`OS_USER_ID`, `auth.user_id`).
    pub user_id: Option<String>,
    /// The password (`OS_PASSWORD`, `auth.password`).
    pub password: Option<Secret>,
    /// The user's domain by name (`OS_USER_DOMAIN_NAME`, `auth.user_domain_name`).
    pub user_domain_name: Option<String>,
    /// The user's domain by id (`OS_USER_DOMAIN_ID`, `auth.user_domain_id`).
    pub user_domain_id: Option<String>,
    /// The project id (`OS_PROJECT_ID` or `OS_TENANT_ID`, `auth.project_id`).
    pub project_id: Option<String>,
    /// The project name (`OS_PROJECT_NAME` or `OS_TENANT_NAME`, `auth.project_name`);
    /// needs a project domain.
    pub project_name: Option<String>,
    /// The project's domain by name (`OS_PROJECT_DOMAIN_NAME`, `auth.project_domain_name`).
    pub project_domain_name: Option<String>,
    /// The project's domain by id (`OS_PROJECT_DOMAIN_ID`, `auth.project_domain_id`).
    pub project_domain_id: Option<String>,
    /// The application credential's id (`OS_APPLICATION_CREDENTIAL_ID`).
    pub application_credential_id: Option<String>,
    /// The application credential's name, used with a user when there is no id
    /// (`OS_APPLICATION_CREDENTIAL_NAME`).
    pub application_credential_name: Option<String>,
    /// The application credential's secret (`OS_APPLICATION_CREDENTIAL_SECRET`).
    pub application_credential_secret: Option<Secret>,
    /// A pre-issued token (`OS_AUTH_TOKEN` or `OS_TOKEN`, `auth.token`).
    pub token: Option<Secret>,
    /// The region of the endpoint (`OS_REGION_NAME`, `region_name`).
    pub region_name: Option<String>,
    /// `public` (default), `internal` or `admin` (`OS_INTERFACE` or `OS_ENDPOINT_TYPE`,
    /// `interface`).
    pub interface: Option<String>,
    /// A PEM file of extra CAs to trust, for Keystone and the volume service alike
    /// (`OS_CACERT`, `cacert`).
    pub cacert: Option<PathBuf>,
    /// `2`, `3`, or a microversion such as `3.45` (`OS_VOLUME_API_VERSION`,
    /// `volume_api_version` or `block_storage_api_version`).
    pub volume_api_version: Option<String>,
    /// A block storage endpoint to use instead of the catalog's; may hold
    /// `%(project_id)s` (`OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE`,
    /// `block_storage_endpoint_override`, or their `volume` forms).
    pub endpoint_override: Option<String>,
    /// The limit on each request, to Keystone and to the volume service (`api_timeout`, in
    /// seconds, in `clouds.yaml`).
    pub api_timeout: Option<Duration>,
    /// The request budget every request draws from, Keystone's included; see
    /// [`RequestBudget`](crate::RequestBudget). Not read from any file or variable.
    pub budget: Option<crate::RequestBudget>,
    /// The home and XDG directories seen by `from_env_vars`, for the search path.
    pub(super) dirs: Option<SearchDirs>,
}

/// How a configuration authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Password,
    ApplicationCredential,
    Token,
    TokenEndpoint,
    NoAuth,
}

/// What [`OpenStackConfig::connect`] will do.
enum Plan {
    Keystone(Box<KeystoneAuthBuilder>),
    Direct {
        endpoint: String,
        token: Option<Secret>,
    },
}

impl Plan {
    fn keystone(builder: KeystoneAuthBuilder) -> Self {
        Self::Keystone(Box::new(builder))
    }
}

impl OpenStackConfig {
    /// Reads the `OS_*` variables of this process's environment; see
    /// [`from_env_vars`](Self::from_env_vars). Variables that are not valid UTF-8 are
    /// ignored.
    ///
    /// ```no_run
    /// let config = vbs_backups::OpenStackConfig::from_env();
    /// println!("authenticating at {:?}", config.auth_url);
    /// ```
    pub fn from_env() -> Self {
        Self::from_env_vars(
            std::env::vars_os().filter_map(|(key, value)| {
                Some((key.into_string().ok()?, value.into_string().ok()?))
            }),
        )
    }

    /// Reads `OS_*` variables from `vars` (as from [`std::env::vars`]), without touching
    /// the process environment: `OS_CLOUD`, `OS_CLIENT_CONFIG_FILE`, `OS_CLIENT_SECURE_FILE`,
    /// `OS_AUTH_TYPE`, `OS_AUTH_URL`, `OS_USERNAME`, `OS_USER_ID`, `OS_PASSWORD`,
    /// `OS_USER_DOMAIN_NAME`, `OS_USER_DOMAIN_ID`, `OS_PROJECT_ID` (or `OS_TENANT_ID`),
    /// `OS_PROJECT_NAME` (or `OS_TENANT_NAME`), `OS_PROJECT_DOMAIN_NAME`,
    /// `OS_PROJECT_DOMAIN_ID`, `OS_APPLICATION_CREDENTIAL_ID`,
    /// `OS_APPLICATION_CREDENTIAL_NAME`, `OS_APPLICATION_CREDENTIAL_SECRET`,
    /// `OS_AUTH_TOKEN` (or `OS_TOKEN`), `OS_REGION_NAME`, `OS_INTERFACE` (or
    /// `OS_ENDPOINT_TYPE`), `OS_CACERT`, `OS_VOLUME_API_VERSION` and
    /// `OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE` (or `OS_VOLUME_ENDPOINT_OVERRIDE`). `HOME` and
    /// `XDG_CONFIG_HOME` are kept for the `clouds.yaml` search path.
    ///
    /// Empty values count as unset; a later duplicate replaces an earlier one. Values are
    /// checked when they are used, by [`connect`](Self::connect).
    ///
    /// ```
    /// use vbs_backups::OpenStackConfig;
    ///
    /// let config = OpenStackConfig::from_env_vars([
    ///     ("OS_AUTH_URL", "https://keystone.example.com:5000/v3"),
    ///     ("OS_TENANT_NAME", "demo"),
    ///     ("OS_PROJECT_NAME", "ops"),
    ///     ("OS_REGION_NAME", ""),
    ///     ("PATH", "/usr/bin"),
    /// ]);
    /// assert_eq!(config.project_name.as_deref(), Some("ops")); // OS_PROJECT_NAME wins
    /// assert_eq!(config.region_name, None);
    /// ```
    pub fn from_env_vars<I, K, V>(vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let vars: HashMap<String, String> = vars
            .into_iter()
            .filter(|(key, _)| {
                let key = key.as_ref();
                key.starts_with("OS_") || key == "HOME" || key == "XDG_CONFIG_HOME"
            })
            .map(|(key, value)| (key.as_ref().to_owned(), value.as_ref().to_owned()))
            .collect();
        let raw = |names: &[&str]| {
            names
                .iter()
                .filter_map(|name| vars.get(*name))
                .find(|value| !value.trim().is_empty())
                .cloned()
        };
        let text = |names: &[&str]| raw(names).map(|value| value.trim().to_owned());
        let secret = |names: &[&str]| raw(names).map(Secret::from);
        let path = |names: &[&str]| text(names).map(PathBuf::from);
        Self {
            cloud: text(&["OS_CLOUD"]),
            client_config_file: path(&["OS_CLIENT_CONFIG_FILE"]),
            client_secure_file: path(&["OS_CLIENT_SECURE_FILE"]),
            auth_type: text(&["OS_AUTH_TYPE"]),
            auth_url: text(&["OS_AUTH_URL"]),
            username: text(&["OS_USERNAME"]),
            user_id: text(&["OS_USER_ID"]),
            password: secret(&["OS_PASSWORD"]),
            user_domain_name: text(&["OS_USER_DOMAIN_NAME"]),
            user_domain_id: text(&["OS_USER_DOMAIN_ID"]),
            project_id: text(&["OS_PROJECT_ID", "OS_TENANT_ID"]),
            project_name: text(&["OS_PROJECT_NAME", "OS_TENANT_NAME"]),
            project_domain_name: text(&["OS_PROJECT_DOMAIN_NAME"]),
            project_domain_id: text(&["OS_PROJECT_DOMAIN_ID"]),
            application_credential_id: text(&["OS_APPLICATION_CREDENTIAL_ID"]),
            application_credential_name: text(&["OS_APPLICATION_CREDENTIAL_NAME"]),
            application_credential_secret: secret(&["OS_APPLICATION_CREDENTIAL_SECRET"]),
            token: secret(&["OS_AUTH_TOKEN", "OS_TOKEN"]),
            region_name: text(&["OS_REGION_NAME"]),
            interface: text(&["OS_INTERFACE", "OS_ENDPOINT_TYPE"]),
            cacert: path(&["OS_CACERT"]),
            volume_api_version: text(&["OS_VOLUME_API_VERSION"]),
            endpoint_override: text(&[
                "OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE",
                "OS_VOLUME_ENDPOINT_OVERRIDE",
            ]),
            api_timeout: None,
            budget: None,
            dirs: Some(SearchDirs {
                home: path(&["HOME"]),
                xdg_config_home: path(&["XDG_CONFIG_HOME"]),
            }),
        }
    }

    /// Reads the environment over `clouds.yaml`, as the `openstack` command does:
    /// `OpenStackConfig::from_env().with_clouds_yaml()`.
    ///
    /// # Errors
    ///
    /// As for [`with_clouds_yaml`](Self::with_clouds_yaml).
    ///
    /// ```no_run
    /// # async fn run() -> vbs_backups::Result<()> {
    /// let client = vbs_backups::OpenStackConfig::load()?.connect().await?;
    /// # Ok(()) }
    /// ```
    pub fn load() -> Result<Self> {
        Self::from_env().with_clouds_yaml()
    }

    /// [`load`](Self::load) with the variables given instead of the process environment:
    /// `OpenStackConfig::from_env_vars(vars).with_clouds_yaml()`.
    ///
    /// # Errors
    ///
    /// As for [`with_clouds_yaml`](Self::with_clouds_yaml).
    ///
    /// ```
    /// let config = vbs_backups::OpenStackConfig::load_from_env_vars([("OS_AUTH_URL", "http://ks:5000")])?;
    /// assert_eq!(config.auth_url.as_deref(), Some("http://ks:5000"));
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    pub fn load_from_env_vars<I, K, V>(vars: I) -> Result<Self>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        Self::from_env_vars(vars).with_clouds_yaml()
    }

    /// This configuration with every value that `overrides` sets replaced by it: the
    /// layering of flags over the environment over `clouds.yaml`.
    ///
    /// Credentials in `overrides` also decide the way to authenticate, unless it names an
    /// `auth_type` itself: a token given on the command line beats a password from
    /// `clouds.yaml`.
    ///
    /// ```
    /// use vbs_backups::OpenStackConfig;
    ///
    /// let env = OpenStackConfig::from_env_vars([("OS_PROJECT_ID", "p-env"), ("OS_REGION_NAME", "r1")]);
    /// let mut flags = OpenStackConfig::default();
    /// flags.project_id = Some("p-flag".into());
    ///
    /// let merged = env.merge(flags);
    /// assert_eq!(merged.project_id.as_deref(), Some("p-flag"));
    /// assert_eq!(merged.region_name.as_deref(), Some("r1"));
    /// ```
    pub fn merge(self, overrides: Self) -> Self {
        let auth_type = overrides
            .auth_type
            .clone()
            .or_else(|| overrides.implied_auth_type().map(str::to_owned))
            .or(self.auth_type.clone());
        Self {
            auth_type,
            ..self.layer(overrides)
        }
    }

    /// Field by field, `overrides` where it has a value.
    pub(super) fn layer(self, overrides: Self) -> Self {
        Self {
            cloud: overrides.cloud.or(self.cloud),
            client_config_file: overrides.client_config_file.or(self.client_config_file),
            client_secure_file: overrides.client_secure_file.or(self.client_secure_file),
            auth_type: overrides.auth_type.or(self.auth_type),
            auth_url: overrides.auth_url.or(self.auth_url),
            username: overrides.username.or(self.username),
            user_id: overrides.user_id.or(self.user_id),
            password: overrides.password.or(self.password),
            user_domain_name: overrides.user_domain_name.or(self.user_domain_name),
            user_domain_id: overrides.user_domain_id.or(self.user_domain_id),
            project_id: overrides.project_id.or(self.project_id),
            project_name: overrides.project_name.or(self.project_name),
            project_domain_name: overrides.project_domain_name.or(self.project_domain_name),
            project_domain_id: overrides.project_domain_id.or(self.project_domain_id),
            application_credential_id: overrides
                .application_credential_id
                .or(self.application_credential_id),
            application_credential_name: overrides
                .application_credential_name
                .or(self.application_credential_name),
            application_credential_secret: overrides
                .application_credential_secret
                .or(self.application_credential_secret),
            token: overrides.token.or(self.token),
            region_name: overrides.region_name.or(self.region_name),
            interface: overrides.interface.or(self.interface),
            cacert: overrides.cacert.or(self.cacert),
            volume_api_version: overrides.volume_api_version.or(self.volume_api_version),
            endpoint_override: overrides.endpoint_override.or(self.endpoint_override),
            api_timeout: overrides.api_timeout.or(self.api_timeout),
            budget: overrides.budget.or(self.budget),
            dirs: overrides.dirs.or(self.dirs),
        }
    }

    /// The way to authenticate that this layer's credentials point to, if any.
    fn implied_auth_type(&self) -> Option<&'static str> {
        if self.token.is_some() {
            Some("token")
        } else if self.application_credential_secret.is_some()
            || self.application_credential_id.is_some()
            || self.application_credential_name.is_some()
        {
            Some("v3applicationcredential")
        } else if self.password.is_some() || self.username.is_some() || self.user_id.is_some() {
            Some("password")
        } else {
            None
        }
    }

    fn kind(&self) -> Result<Kind> {
        let Some(auth_type) = self.auth_type.as_deref() else {
            return match self.implied_auth_type() {
                Some("token") => Ok(Kind::Token),
                Some("v3applicationcredential") => Ok(Kind::ApplicationCredential),
                Some(_) => Ok(Kind::Password),
                None => Err(Error::config(
                    "no credentials: set OS_PASSWORD with OS_USERNAME or OS_USER_ID, \
                     OS_APPLICATION_CREDENTIAL_ID with OS_APPLICATION_CREDENTIAL_SECRET, or \
                     OS_AUTH_TOKEN (or OS_CLOUD to use a clouds.yaml entry)",
                )),
            };
        };
        match auth_type.trim().to_ascii_lowercase().as_str() {
            "password" | "v3password" => Ok(Kind::Password),
            "v3applicationcredential" | "applicationcredential" | "application_credential" => {
                Ok(Kind::ApplicationCredential)
            }
            "token" | "v3token" => Ok(Kind::Token),
            "token_endpoint" | "admin_token" => Ok(Kind::TokenEndpoint),
            "none" | "noauth" => Ok(Kind::NoAuth),
            other => Err(Error::config(format!(
                "OS_AUTH_TYPE / auth_type `{other}` is not supported: use password, \
                 v3applicationcredential, token, token_endpoint or none"
            ))),
        }
    }

    fn require_auth_url(&self, what: &str) -> Result<&str> {
        self.auth_url.as_deref().ok_or_else(|| {
            Error::config(format!(
                "no OS_AUTH_URL / auth_url: Keystone's address is needed for {what}"
            ))
        })
    }

    fn user(&self, what: &str) -> Result<Option<User>> {
        if let Some(id) = &self.user_id {
            return Ok(Some(User::id(id)));
        }
        let Some(name) = &self.username else {
            return Ok(None);
        };
        let domain = domain(&self.user_domain_id, &self.user_domain_name).ok_or_else(|| {
            Error::config(format!(
                "{what} names user `{name}` without a domain: set OS_USER_DOMAIN_NAME or \
                 OS_USER_DOMAIN_ID (user_domain_name / user_domain_id)"
            ))
        })?;
        Ok(Some(User::name(name, domain)))
    }

    fn project(&self) -> Result<Option<Project>> {
        if let Some(id) = &self.project_id {
            return Ok(Some(Project::id(id)));
        }
        let Some(name) = &self.project_name else {
            return Ok(None);
        };
        let domain =
            domain(&self.project_domain_id, &self.project_domain_name).ok_or_else(|| {
                Error::config(format!(
                    "project `{name}` needs a domain: set OS_PROJECT_DOMAIN_NAME or \
                     OS_PROJECT_DOMAIN_ID (project_domain_name / project_domain_id)"
                ))
            })?;
        Ok(Some(Project::name(name, domain)))
    }

    /// What [`connect`](Self::connect) will do. The way to authenticate decides; each way
    /// checks its own pieces, so that a missing one is named before anything is sent.
    fn plan(&self) -> Result<Plan> {
        match self.kind()? {
            Kind::Password => self.password_auth().map(Plan::keystone),
            Kind::ApplicationCredential => self.application_credential_auth().map(Plan::keystone),
            Kind::Token => self.token_plan(),
            Kind::TokenEndpoint => self.token_endpoint_plan(),
            Kind::NoAuth => Ok(Plan::Direct {
                endpoint: self.endpoint("auth_type none")?,
                token: None,
            }),
        }
    }

    /// A Keystone builder for `auth_url`, with the settings Keystone shares with the volume
    /// service so that one `api_timeout` and one `cacert` cover both.
    fn keystone(&self, auth_url: &str) -> KeystoneAuthBuilder {
        KeystoneAuth::builder(auth_url).http(self.http_options(HttpOptions::new()))
    }

    /// Password and token auth ask Keystone for the configured project, if there is one;
    /// application credentials never do (they carry their own).
    fn project_scoped(&self, builder: KeystoneAuthBuilder) -> Result<KeystoneAuthBuilder> {
        Ok(match self.project()? {
            Some(project) => builder.project(project),
            None => builder,
        })
    }

    fn password_auth(&self) -> Result<KeystoneAuthBuilder> {
        let auth_url = self.require_auth_url("password auth")?;
        let user = self.user("password auth")?.ok_or_else(|| {
            Error::config(
                "password auth needs a user name or id: set OS_USERNAME (with \
                 OS_USER_DOMAIN_NAME) or OS_USER_ID (username / user_id)",
            )
        })?;
        let password = self.password.clone().ok_or_else(|| {
            Error::config("password auth needs a password: set OS_PASSWORD (password)")
        })?;
        self.project_scoped(self.keystone(auth_url).password(user, password))
    }

    /// By id, or by name with its user; never project-scoped, as Keystone binds an
    /// application credential to the project it was made in.
    fn application_credential_auth(&self) -> Result<KeystoneAuthBuilder> {
        let auth_url = self.require_auth_url("application credential auth")?;
        let secret = self.application_credential_secret.clone().ok_or_else(|| {
            Error::config(
                "application credential auth needs a secret: set \
                 OS_APPLICATION_CREDENTIAL_SECRET (application_credential_secret)",
            )
        })?;
        if self.project_id.is_some() || self.project_name.is_some() {
            tracing::debug!(
                "the project is ignored: an application credential is bound to its own"
            );
        }
        match (
            &self.application_credential_id,
            &self.application_credential_name,
        ) {
            (Some(id), _) => Ok(self.keystone(auth_url).application_credential(id, secret)),
            (None, Some(name)) => {
                let user = self.user("application credential auth")?.ok_or_else(|| {
                    Error::config(format!(
                        "application credential `{name}` is named without its user: \
                         set OS_USER_ID or OS_USERNAME, or use \
                         OS_APPLICATION_CREDENTIAL_ID"
                    ))
                })?;
                Ok(self
                    .keystone(auth_url)
                    .application_credential_by_name(name, user, secret))
            }
            (None, None) => Err(Error::config(
                "application credential auth needs an id: set \
                 OS_APPLICATION_CREDENTIAL_ID (application_credential_id)",
            )),
        }
    }

    /// Through Keystone when there is an auth URL (it gives the catalog and the project
    /// scope); without one the token goes straight to the endpoint override.
    fn token_plan(&self) -> Result<Plan> {
        let token = self
            .token
            .clone()
            .ok_or_else(|| Error::config("token auth needs a token: set OS_AUTH_TOKEN (token)"))?;
        match (&self.auth_url, &self.endpoint_override) {
            (Some(auth_url), _) => self
                .project_scoped(self.keystone(auth_url).token(token))
                .map(Plan::keystone),
            (None, Some(endpoint)) => Ok(Plan::Direct {
                endpoint: endpoint.clone(),
                token: Some(token),
            }),
            (None, None) => Err(Error::config(
                "no OS_AUTH_URL / auth_url: Keystone's address is needed to find \
                 the volume endpoint for the token (or give the endpoint itself)",
            )),
        }
    }

    fn token_endpoint_plan(&self) -> Result<Plan> {
        let token = self.token.clone().ok_or_else(|| {
            Error::config("auth_type token_endpoint needs a token: set OS_AUTH_TOKEN")
        })?;
        Ok(Plan::Direct {
            endpoint: self.endpoint("auth_type token_endpoint")?,
            token: Some(token),
        })
    }

    fn endpoint(&self, what: &str) -> Result<String> {
        self.endpoint_override.clone().ok_or_else(|| {
            Error::config(format!(
                "{what} needs the volume endpoint: set OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE \
                 (block_storage_endpoint_override)"
            ))
        })
    }

    /// The API version and microversion `volume_api_version` asks for.
    fn volume_version(&self) -> Result<(Option<ApiVersion>, Option<String>)> {
        let Some(text) = self.volume_api_version.as_deref().map(str::trim) else {
            return Ok((None, None));
        };
        let bare = text.strip_prefix(['v', 'V']).unwrap_or(text);
        match bare.split_once('.') {
            None if bare == "2" => Ok((Some(ApiVersion::V2), None)),
            None if bare == "3" => Ok((Some(ApiVersion::V3), None)),
            Some(("2", "0")) => Ok((Some(ApiVersion::V2), None)),
            Some(("3", minor)) if minor.parse::<u32>().is_ok() => {
                Ok((Some(ApiVersion::V3), Some(format!("3.{minor}"))))
            }
            _ => Err(Error::config(format!(
                "OS_VOLUME_API_VERSION / volume_api_version `{text}` is not 2, 3 or a 3.N \
                 microversion such as 3.45"
            ))),
        }
    }

    /// The catalog search this configuration asks for: the API version of
    /// `volume_api_version`, the interface and the region.
    ///
    /// # Errors
    ///
    /// A [`Config`](crate::ErrorKind::Config) error when `volume_api_version` or
    /// `interface` has a value that means nothing.
    ///
    /// ```
    /// use vbs_backups::{ApiVersion, OpenStackConfig};
    /// use vbs_backups::keystone::Interface;
    ///
    /// let config = OpenStackConfig::from_env_vars([
    ///     ("OS_VOLUME_API_VERSION", "3.45"),
    ///     ("OS_INTERFACE", "internal"),
    ///     ("OS_REGION_NAME", "RegionOne"),
    /// ]);
    /// let filter = config.endpoint_filter()?;
    /// assert_eq!(filter.get_api_version(), Some(ApiVersion::V3));
    /// assert_eq!(filter.get_interface(), Interface::Internal);
    /// assert_eq!(filter.get_region(), Some("RegionOne"));
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    pub fn endpoint_filter(&self) -> Result<EndpointFilter> {
        let mut filter = EndpointFilter::new();
        if let (Some(version), _) = self.volume_version()? {
            filter = filter.api_version(version);
        }
        if let Some(interface) = &self.interface {
            let interface: Interface = interface.parse().map_err(|_| {
                Error::config(format!(
                    "OS_INTERFACE / interface `{interface}` is not public, internal or admin"
                ))
            })?;
            filter = filter.interface(interface);
        }
        if let Some(region) = &self.region_name {
            filter = filter.region(region);
        }
        Ok(filter)
    }

    /// The [`KeystoneAuth`] this configuration describes (nothing is sent yet), for a
    /// program that wants the token or the catalog itself.
    ///
    /// # Errors
    ///
    /// A [`Config`](crate::ErrorKind::Config) error naming what is missing ("no
    /// OS_AUTH_URL / auth_url", "password auth needs a user name or id", …), or when the
    /// configuration uses no Keystone (`token_endpoint`, `none`).
    ///
    /// ```
    /// use vbs_backups::OpenStackConfig;
    ///
    /// let config = OpenStackConfig::from_env_vars([
    ///     ("OS_AUTH_URL", "https://keystone.example.com:5000"),
    ///     ("OS_APPLICATION_CREDENTIAL_ID", "21dced0fd20347869b93710d2b98aae0"),
    ///     ("OS_APPLICATION_CREDENTIAL_SECRET", "app-secret"),
    /// ]);
    /// let auth = config.keystone_auth()?;
    /// assert_eq!(auth.auth_url(), "https://keystone.example.com:5000/v3");
    ///
    /// let err = OpenStackConfig::from_env_vars([("OS_PASSWORD", "pw")]).keystone_auth().unwrap_err();
    /// assert!(err.to_string().contains("no OS_AUTH_URL / auth_url"));
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    pub fn keystone_auth(&self) -> Result<KeystoneAuth> {
        match self.plan()? {
            Plan::Keystone(builder) => builder.build(),
            Plan::Direct { .. } => Err(Error::config(
                "this configuration sends its token straight to the volume endpoint: it uses \
                 no Keystone",
            )),
        }
    }

    /// Authenticates and returns a [`Client`] for the block storage endpoint of the
    /// token's catalog (or [`endpoint_override`](Self::endpoint_override)), with the API
    /// version, microversion, CA file and timeout of this configuration; see
    /// [`connect_with`](Self::connect_with).
    ///
    /// # Errors
    ///
    /// Configuration errors as for [`keystone_auth`](Self::keystone_auth) and
    /// [`endpoint_filter`](Self::endpoint_filter), and those of
    /// [`KeystoneAuth::connect`].
    ///
    /// ```no_run
    /// # async fn run() -> vbs_backups::Result<()> {
    /// let client = vbs_backups::OpenStackConfig::load()?.connect().await?;
    /// println!("listing project {}", client.project_id());
    /// # Ok(()) }
    /// ```
    pub async fn connect(&self) -> Result<Client> {
        self.connect_with(Client::builder()).await
    }

    /// Like [`connect`](Self::connect), starting from a [`ClientBuilder`] with settings of
    /// your own (retry policy, user agent, …). The configuration's microversion, CA file
    /// and `api_timeout` are applied on top of it, then the endpoint, project and auth.
    ///
    /// With `auth_type` `token_endpoint` (or a token, an endpoint override and no auth
    /// URL) the token is sent straight to the endpoint; with `none`, no token is sent.
    ///
    /// # Errors
    ///
    /// As for [`connect`](Self::connect).
    ///
    /// ```
    /// use vbs_backups::{Client, OpenStackConfig, RetryPolicy};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> vbs_backups::Result<()> {
    /// // No Keystone involved: a token and an endpoint, as with `--token` and `--endpoint`.
    /// let config = OpenStackConfig::from_env_vars([
    ///     ("OS_AUTH_TOKEN", "gAAAAAB…"),
    ///     ("OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE", "https://volume.example.com/v3/%(project_id)s"),
    ///     ("OS_PROJECT_ID", "b23b579f08c84228b9b4673c46f0c442"),
    ///     ("OS_VOLUME_API_VERSION", "3.45"),
    /// ]);
    /// let client = config.connect_with(Client::builder().retry_policy(RetryPolicy::disabled())).await?;
    /// assert_eq!(client.project_id(), "b23b579f08c84228b9b4673c46f0c442");
    /// assert_eq!(client.microversion(), Some((3, 45)));
    /// # Ok(()) }
    /// ```
    pub async fn connect_with(&self, builder: ClientBuilder) -> Result<Client> {
        let (version, microversion) = self.volume_version()?;
        let filter = self.endpoint_filter()?;
        // Without HTTP settings of the caller's, a client made through Keystone shares
        // its session's (made from this configuration), connections included.
        let own_http = builder.has_own_http();
        let mut builder = builder;
        if own_http {
            let options = self.http_options(builder.http_options());
            builder = builder.http(options);
        }
        if let Some(microversion) = microversion {
            builder = builder.microversion(microversion);
        }
        if let Some(version) = version {
            builder = builder.api_version(version);
        }
        match self.plan()? {
            Plan::Direct { endpoint, token } => {
                let endpoint = substitute_project(&endpoint, self.project_id.as_deref())?;
                if let Some(project_id) = &self.project_id {
                    builder = builder.project_id(project_id);
                }
                if let Some(token) = token {
                    builder = builder.token(token.expose());
                }
                if !own_http {
                    builder = builder.http(self.http_options(HttpOptions::new()));
                }
                builder.endpoint(endpoint).build()
            }
            Plan::Keystone(keystone) => {
                let auth = keystone.build()?;
                match &self.endpoint_override {
                    Some(endpoint) => auth.connect_to(endpoint, builder).await,
                    None => auth.connect_with(&filter, builder).await,
                }
            }
        }
    }

    /// `options` with this configuration's timeout and CA file (`api_timeout`, `cacert`).
    fn http_options(&self, options: HttpOptions) -> HttpOptions {
        let mut options = options;
        if let Some(timeout) = self.api_timeout {
            options = options.timeout(timeout);
        }
        if let Some(cacert) = &self.cacert {
            options = options.trust_additional_ca_file(cacert);
        }
        if let Some(budget) = &self.budget {
            options = options.budget(budget.clone());
        }
        options
    }
}

/// A domain from an id or a name; the id wins.
fn domain(id: &Option<String>, name: &Option<String>) -> Option<Domain> {
    id.clone()
        .map(Domain::Id)
        .or_else(|| name.clone().map(Domain::Name))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn config(vars: &[(&str, &str)]) -> OpenStackConfig {
        OpenStackConfig::from_env_vars(vars.iter().copied())
    }

    fn plan_error(vars: &[(&str, &str)]) -> String {
        match config(vars).plan() {
            Ok(_) => panic!("expected an error for {vars:?}"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn missing_pieces_are_named() {
        let url = ("OS_AUTH_URL", "http://ks:5000");
        assert!(
            plan_error(&[("OS_PASSWORD", "pw"), ("OS_USERNAME", "u")])
                .contains("no OS_AUTH_URL / auth_url")
        );
        assert!(
            plan_error(&[url, ("OS_PASSWORD", "pw")])
                .contains("password auth needs a user name or id")
        );
        assert!(plan_error(&[url, ("OS_USER_ID", "u")]).contains("needs a password"));
        assert!(
            plan_error(&[url, ("OS_USERNAME", "alice"), ("OS_PASSWORD", "pw")])
                .contains("user `alice` without a domain")
        );
        assert!(
            plan_error(&[
                url,
                ("OS_USER_ID", "u"),
                ("OS_PASSWORD", "pw"),
                ("OS_PROJECT_NAME", "demo")
            ])
            .contains("project `demo` needs a domain")
        );
        assert!(plan_error(&[url]).contains("no credentials"));
        assert!(
            plan_error(&[url, ("OS_APPLICATION_CREDENTIAL_ID", "a")]).contains("needs a secret")
        );
        assert!(
            plan_error(&[
                url,
                ("OS_APPLICATION_CREDENTIAL_NAME", "a"),
                ("OS_APPLICATION_CREDENTIAL_SECRET", "s")
            ])
            .contains("without its user")
        );
        assert!(plan_error(&[("OS_AUTH_TOKEN", "t")]).contains("no OS_AUTH_URL"));
        assert!(
            plan_error(&[url, ("OS_AUTH_TYPE", "kerberos"), ("OS_PASSWORD", "x")])
                .contains("`kerberos` is not supported")
        );
        assert!(plan_error(&[("OS_AUTH_TYPE", "none")]).contains("needs the volume endpoint"));
    }

    #[test]
    fn volume_versions() {
        let version = |text: &str| {
            config(&[("OS_VOLUME_API_VERSION", text)])
                .volume_version()
                .map_err(|err| err.to_string())
        };
        assert_eq!(version("2").unwrap(), (Some(ApiVersion::V2), None));
        assert_eq!(version("v3").unwrap(), (Some(ApiVersion::V3), None));
        assert_eq!(
            version(" 3.45 ").unwrap(),
            (Some(ApiVersion::V3), Some("3.45".to_owned()))
        );
        assert!(version("4").unwrap_err().contains("not 2, 3"));
        assert!(version("3.x").is_err());
        assert!(version("2.1").is_err());
    }

    #[test]
    fn interfaces_are_checked() {
        let err = config(&[("OS_INTERFACE", "private")])
            .endpoint_filter()
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("OS_INTERFACE / interface `private`")
        );
        let filter = config(&[("OS_ENDPOINT_TYPE", "adminURL")])
            .endpoint_filter()
            .unwrap();
        assert_eq!(filter.get_interface(), Interface::Admin);
    }

    #[test]
    fn inferred_methods_follow_the_openstack_client() {
        let url = ("OS_AUTH_URL", "http://ks");
        let kind = |vars: &[(&str, &str)]| config(vars).kind().unwrap();
        assert_eq!(kind(&[url, ("OS_PASSWORD", "p")]), Kind::Password);
        assert_eq!(
            kind(&[
                url,
                ("OS_PASSWORD", "p"),
                ("OS_APPLICATION_CREDENTIAL_SECRET", "s")
            ]),
            Kind::ApplicationCredential
        );
        assert_eq!(
            kind(&[url, ("OS_PASSWORD", "p"), ("OS_TOKEN", "t")]),
            Kind::Token
        );
        assert_eq!(
            kind(&[("OS_AUTH_TYPE", "V3Password"), ("OS_TOKEN", "t")]),
            Kind::Password
        );
        // A token from a higher layer beats a password from a lower one ...
        let yaml = config(&[url, ("OS_USER_ID", "u"), ("OS_PASSWORD", "p")]);
        let flags = OpenStackConfig {
            token: Some("t".into()),
            ..OpenStackConfig::default()
        };
        assert_eq!(yaml.clone().merge(flags).kind().unwrap(), Kind::Token);
        // ... and a password from a higher layer beats a token from a lower one.
        let env = config(&[("OS_AUTH_TOKEN", "t")]);
        let flags = OpenStackConfig {
            password: Some("p".into()),
            ..OpenStackConfig::default()
        };
        assert_eq!(env.merge(flags).kind().unwrap(), Kind::Password);
    }
}

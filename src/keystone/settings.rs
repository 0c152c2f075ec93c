//! The settings of an OpenStack client as data: [`OpenStackConfig`], one layer of them
//! (flags, `OS_*` variables, a `clouds.yaml` entry), how layers combine, and the layer the
//! environment makes. What a configuration means for authentication and the endpoint is
//! in `config.rs`; reading `clouds.yaml` into a layer is in `clouds_yaml.rs`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use super::Secret;

/// Where to reach an OpenStack cloud and how to authenticate: every field optional, filled
/// from `OS_*` environment variables ([`from_env`](Self::from_env)), a `clouds.yaml` entry
/// ([`from_clouds_yaml`](Self::from_clouds_yaml)) or by hand, and layered with
/// [`merge`](Self::merge) so that explicit values beat the environment, which beats
/// `clouds.yaml`.
///
/// [`connect`](Self::connect) turns it into a [`Client`](crate::Client): it authenticates with Keystone
/// (password, application credential or token), finds the block storage endpoint in the
/// token's catalog (by API version, interface and region) and hands the client a
/// [`KeystoneAuth`](super::KeystoneAuth) that renews the token as needed.
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

/// The environment's say in where `clouds.yaml` is looked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct SearchDirs {
    pub(super) home: Option<PathBuf>,
    pub(super) xdg_config_home: Option<PathBuf>,
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
        Self::from_env_vars(crate::environment::variables())
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
    pub(super) fn implied_auth_type(&self) -> Option<&'static str> {
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
}

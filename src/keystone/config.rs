//! What an OpenStack client configuration means: which way to authenticate, the Keystone
//! authentication and endpoint filter it makes, and the client it connects. The settings
//! themselves (a layer, and the environment's) are in `settings.rs`; `clouds.yaml` in
//! `clouds_yaml.rs`.

use super::catalog::{EndpointFilter, Interface, substitute_project};
use super::settings::OpenStackConfig;
use super::{Domain, KeystoneAuth, KeystoneAuthBuilder, Project, Secret, User};
use crate::error::{Error, Result};
use crate::{ApiVersion, Client, ClientBuilder, HttpOptions};

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

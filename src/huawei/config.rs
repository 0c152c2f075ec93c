//! Huawei Cloud configuration: `HUAWEICLOUD_SDK_*` variables and the credentials file as
//! Huawei's SDKs read them (huaweicloud-sdk-python-v3 `huaweicloudsdkcore/auth/provider.py`,
//! huaweicloud-sdk-go-v3 `core/auth/provider/env_provider.go` and `profile_provider.go`,
//! `core/region/env_region.go`), a region, and [`HuaweiConfig::connect`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use super::credentials_file;
use super::discovery;
use super::region::{self, Service};
use crate::Client;
use crate::auth::huawei::{AkSkSigner, Credentials};
use crate::error::{Error, Result};
use crate::http::{HttpOptions, Pipeline};

/// Where a Huawei Cloud user's backups are and how to sign for them: AK/SK (and a
/// security token for temporary credentials), a region, the service (VBS or CBR), and
/// optionally the project id and endpoints. [`connect`](Self::connect) turns it into a
/// [`Client`] that signs every request with an [`AkSkSigner`].
///
/// Read from the environment as Huawei's SDKs read it ([`from_env_vars`](Self::from_env_vars)):
/// `HUAWEICLOUD_SDK_AK`, `HUAWEICLOUD_SDK_SK`, `HUAWEICLOUD_SDK_SECURITY_TOKEN`,
/// `HUAWEICLOUD_SDK_PROJECT_ID`, `HUAWEICLOUD_SDK_DOMAIN_ID`, `HUAWEICLOUD_SDK_IAM_ENDPOINT`,
/// the endpoint overrides `HUAWEICLOUD_SDK_REGION_{SERVICE}_{REGION_ID}`, and
/// `HUAWEICLOUD_SDK_CREDENTIALS_FILE`. The SDKs have no region variable; the region falls
/// back to `HW_REGION_NAME`, then `OS_REGION_NAME`, as Huawei's Terraform provider does.
/// Without AK and SK in the environment, [`with_credentials_file`](Self::with_credentials_file)
/// reads them from the `[basic]` section of `~/.huaweicloud/credentials` (`ak`, `sk`,
/// `security_token`, `project_id`, `iam_endpoint`), as the SDKs' provider chain does.
/// Setters called afterwards win over both.
///
/// - **Endpoint**: [`endpoint`](Self::endpoint) if set, else the override variable of the
///   service and region (its first endpoint), else `https://{vbs|cbr}.{region}.myhuaweicloud.com`.
/// - **Project**: the project id if set, else IAM's one project named after the region,
///   found with one signed `GET {iam}/v3/projects?name={region}`; IAM is
///   [`iam_endpoint`](Self::iam_endpoint) if set (the credentials file's `iam_endpoint`
///   beats `HUAWEICLOUD_SDK_IAM_ENDPOINT`, as in the Python SDK), else the region's IAM
///   ([`iam_endpoint`](super::iam_endpoint)), else `https://iam.myhuaweicloud.com`.
///
/// ```no_run
/// use futures::TryStreamExt;
/// use vbs_backups::huawei::HuaweiConfig;
///
/// # async fn run() -> vbs_backups::Result<()> {
/// // HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK, or ~/.huaweicloud/credentials.
/// let client = HuaweiConfig::load()?.region("cn-north-4").connect().await?;
/// let backups: Vec<_> = client.backups().stream().try_collect().await?;
/// println!("{} backups in project {}", backups.len(), client.project_id());
/// # Ok(()) }
/// ```
///
/// `Debug` output hides the secret key and the security token:
///
/// ```
/// use vbs_backups::huawei::HuaweiConfig;
///
/// let config = HuaweiConfig::from_env_vars([
///     ("HUAWEICLOUD_SDK_AK", "HPUAEXAMPLE"),
///     ("HUAWEICLOUD_SDK_SK", "s3cr3t"),
///     ("HW_REGION_NAME", "cn-north-4"),
/// ]);
/// assert_eq!(config.region_name(), Some("cn-north-4"));
/// assert_eq!(config.service_endpoint()?, "https://vbs.cn-north-4.myhuaweicloud.com");
/// assert!(!format!("{config:?}").contains("s3cr3t"));
/// # Ok::<(), vbs_backups::Error>(())
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct HuaweiConfig {
    access_key: Option<String>,
    secret_key: Option<String>,
    security_token: Option<String>,
    project_id: Option<String>,
    domain_id: Option<String>,
    iam_endpoint: Option<String>,
    region: Option<String>,
    service: Service,
    endpoint: Option<String>,
    /// `HUAWEICLOUD_SDK_REGION_*` variables seen, by name.
    endpoint_overrides: BTreeMap<String, String>,
    credentials_file: Option<PathBuf>,
    home: Option<PathBuf>,
    http: Option<HttpOptions>,
}

impl HuaweiConfig {
    /// An empty configuration, to fill with the setters.
    ///
    /// ```
    /// use vbs_backups::huawei::{HuaweiConfig, Service};
    ///
    /// let config = HuaweiConfig::new()
    ///     .access_key("HPUAEXAMPLE")
    ///     .secret_key("secret")
    ///     .region("ap-southeast-1")
    ///     .service(Service::Cbr);
    /// assert_eq!(config.service_endpoint()?, "https://cbr.ap-southeast-1.myhuaweicloud.com");
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads this process's environment; see [`from_env_vars`](Self::from_env_vars).
    /// Variables that are not valid UTF-8 are ignored.
    ///
    /// ```
    /// let config = vbs_backups::huawei::HuaweiConfig::from_env();
    /// ```
    pub fn from_env() -> Self {
        Self::from_env_vars(crate::environment::variables())
    }

    /// Reads the variables `vars` (as from [`std::env::vars`]) without touching the
    /// process environment or any file; blank values count as unset.
    ///
    /// ```
    /// use vbs_backups::huawei::HuaweiConfig;
    ///
    /// let config = HuaweiConfig::from_env_vars([
    ///     ("HUAWEICLOUD_SDK_AK", "HPUAEXAMPLE"),
    ///     ("HUAWEICLOUD_SDK_SK", "secret"),
    ///     ("HUAWEICLOUD_SDK_PROJECT_ID", "b23b579f08c84228b9b4673c46f0c442"),
    ///     ("HUAWEICLOUD_SDK_REGION_VBS_CN_NORTH_4", "https://vbs.internal.example.com,https://vbs2.example.com"),
    ///     ("OS_REGION_NAME", "cn-north-4"),
    /// ]);
    /// assert_eq!(config.project_id_setting(), Some("b23b579f08c84228b9b4673c46f0c442"));
    /// assert_eq!(config.service_endpoint()?, "https://vbs.internal.example.com");
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    pub fn from_env_vars<I, K, V>(vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let vars: BTreeMap<String, String> = vars
            .into_iter()
            .filter(|(_, value)| !value.as_ref().trim().is_empty())
            .map(|(key, value)| (key.as_ref().to_owned(), value.as_ref().trim().to_owned()))
            .filter(|(key, _)| {
                key.starts_with("HUAWEICLOUD_SDK_")
                    || ["HW_REGION_NAME", "OS_REGION_NAME", "HOME"].contains(&key.as_str())
            })
            .collect();
        let get = |name: &str| vars.get(name).cloned();
        Self {
            access_key: get("HUAWEICLOUD_SDK_AK"),
            secret_key: get("HUAWEICLOUD_SDK_SK"),
            security_token: get("HUAWEICLOUD_SDK_SECURITY_TOKEN"),
            project_id: get("HUAWEICLOUD_SDK_PROJECT_ID"),
            domain_id: get("HUAWEICLOUD_SDK_DOMAIN_ID"),
            iam_endpoint: get("HUAWEICLOUD_SDK_IAM_ENDPOINT"),
            region: get("HW_REGION_NAME").or_else(|| get("OS_REGION_NAME")),
            service: Service::default(),
            endpoint: None,
            endpoint_overrides: vars
                .iter()
                .filter(|(key, _)| key.starts_with("HUAWEICLOUD_SDK_REGION_"))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
            credentials_file: get("HUAWEICLOUD_SDK_CREDENTIALS_FILE").map(PathBuf::from),
            home: get("HOME").map(PathBuf::from),
            http: None,
        }
    }

    /// The environment, then the credentials file where the environment has no AK/SK:
    /// `HuaweiConfig::from_env().with_credentials_file()`.
    ///
    /// # Errors
    ///
    /// As [`with_credentials_file`](Self::with_credentials_file).
    ///
    /// ```no_run
    /// let config = vbs_backups::huawei::HuaweiConfig::load()?.region("cn-north-4");
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    pub fn load() -> Result<Self> {
        Self::from_env().with_credentials_file()
    }

    /// [`load`](Self::load) with the variables given instead of the process environment.
    ///
    /// # Errors
    ///
    /// As [`with_credentials_file`](Self::with_credentials_file).
    ///
    /// ```
    /// use vbs_backups::huawei::HuaweiConfig;
    ///
    /// let config = HuaweiConfig::load_from_env_vars([
    ///     ("HUAWEICLOUD_SDK_AK", "HPUAEXAMPLE"),
    ///     ("HUAWEICLOUD_SDK_SK", "secret"),
    /// ])?;
    /// assert_eq!(config.credentials()?.access_key(), "HPUAEXAMPLE");
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    pub fn load_from_env_vars<I, K, V>(vars: I) -> Result<Self>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        Self::from_env_vars(vars).with_credentials_file()
    }

    /// Fills the AK/SK from the credentials file when they are not both set: its `[basic]`
    /// section's `ak`, `sk` and `security_token` replace them, `project_id` fills in a
    /// missing one, and `iam_endpoint` replaces the environment's. The file is
    /// `HUAWEICLOUD_SDK_CREDENTIALS_FILE` (or [`credentials_file`](Self::credentials_file)),
    /// else `~/.huaweicloud/credentials`; a missing default file is no error.
    ///
    /// # Errors
    ///
    /// A [`Config`](crate::ErrorKind::Config) error when a named file cannot be read or has
    /// no `[basic]` section, when the file is not INI, or when its `[basic]` section lacks
    /// `ak` or `sk`.
    ///
    /// ```no_run
    /// use vbs_backups::huawei::HuaweiConfig;
    ///
    /// let config = HuaweiConfig::new()
    ///     .credentials_file("/etc/backup-auditor/huaweicloud-credentials")
    ///     .with_credentials_file()?
    ///     .region("cn-north-4");
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    pub fn with_credentials_file(mut self) -> Result<Self> {
        if self.access_key.is_some() && self.secret_key.is_some() {
            return Ok(self);
        }
        let named = self.credentials_file.is_some();
        let Some(path) =
            credentials_file::path(self.credentials_file.as_deref(), self.home.as_deref())
        else {
            return Ok(self);
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && !named => return Ok(self),
            Err(err) => {
                return Err(Error::config(format!(
                    "cannot read the Huawei Cloud credentials file {}: {err}",
                    path.display()
                )));
            }
        };
        let Some(keys) = credentials_file::parse(&text, &path)? else {
            if named {
                return Err(Error::config(format!(
                    "the Huawei Cloud credentials file {} has no [basic] section",
                    path.display()
                )));
            }
            return Ok(self);
        };
        let value = |key: &str| keys.get(key).filter(|value| !value.is_empty()).cloned();
        let (Some(access_key), Some(secret_key)) = (value("ak"), value("sk")) else {
            return Err(Error::config(format!(
                "the [basic] section of the Huawei Cloud credentials file {} needs both ak and sk",
                path.display()
            )));
        };
        self.access_key = Some(access_key);
        self.secret_key = Some(secret_key);
        self.security_token = value("security_token");
        self.project_id = self.project_id.or_else(|| value("project_id"));
        if let Some(iam) = value("iam_endpoint") {
            self.iam_endpoint = Some(iam);
        }
        Ok(self)
    }

    /// The access key (AK).
    ///
    /// ```
    /// let config = vbs_backups::huawei::HuaweiConfig::new().access_key("HPUAEXAMPLE");
    /// ```
    pub fn access_key(mut self, access_key: impl Into<String>) -> Self {
        self.access_key = Some(access_key.into());
        self
    }

    /// The secret key (SK); never printed.
    ///
    /// ```
    /// let config = vbs_backups::huawei::HuaweiConfig::new().secret_key("secret");
    /// ```
    pub fn secret_key(mut self, secret_key: impl Into<String>) -> Self {
        self.secret_key = Some(secret_key.into());
        self
    }

    /// The security token of temporary credentials, sent as `X-Security-Token`; never printed.
    ///
    /// ```
    /// let config = vbs_backups::huawei::HuaweiConfig::new().security_token("gQpjbi1ub3J0aC00…");
    /// ```
    pub fn security_token(mut self, token: impl Into<String>) -> Self {
        self.security_token = Some(token.into());
        self
    }

    /// The project id; without one, [`connect`](Self::connect) asks IAM.
    ///
    /// ```
    /// let config = vbs_backups::huawei::HuaweiConfig::new().project_id("b23b579f08c84228b9b4673c46f0c442");
    /// ```
    pub fn project_id(mut self, project_id: impl Into<String>) -> Self {
        self.project_id = Some(project_id.into());
        self
    }

    /// The region, such as `cn-north-4` or `ap-southeast-1`.
    ///
    /// ```
    /// let config = vbs_backups::huawei::HuaweiConfig::new().region("cn-north-4");
    /// ```
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The service to list: [`Service::Vbs`] (the default) or [`Service::Cbr`] for
    /// backups, [`Service::Evs`] for volumes ([`Client::volumes`]).
    ///
    /// ```
    /// use vbs_backups::huawei::{HuaweiConfig, Service};
    ///
    /// let config = HuaweiConfig::new().service(Service::Cbr);
    /// ```
    pub fn service(mut self, service: Service) -> Self {
        self.service = service;
        self
    }

    /// The service endpoint to use whatever the region (any form
    /// [`ClientBuilder::endpoint`](crate::ClientBuilder::endpoint) takes).
    ///
    /// ```
    /// let config = vbs_backups::huawei::HuaweiConfig::new().endpoint("http://127.0.0.1:8776");
    /// ```
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// IAM's endpoint for project discovery, used as given (`http://` included; without a
    /// scheme, `https://`).
    ///
    /// ```
    /// let config = vbs_backups::huawei::HuaweiConfig::new().iam_endpoint("https://iam.cn-north-4.myhuaweicloud.com");
    /// ```
    pub fn iam_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.iam_endpoint = Some(endpoint.into());
        self
    }

    /// The credentials file to read (instead of `HUAWEICLOUD_SDK_CREDENTIALS_FILE` or
    /// `~/.huaweicloud/credentials`); see [`with_credentials_file`](Self::with_credentials_file).
    ///
    /// ```
    /// let config = vbs_backups::huawei::HuaweiConfig::new().credentials_file("/run/secrets/huaweicloud");
    /// ```
    pub fn credentials_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.credentials_file = Some(path.into());
        self
    }

    /// The HTTP settings of IAM's request and of the client; see [`HttpOptions`].
    ///
    /// ```
    /// use vbs_backups::HttpOptions;
    ///
    /// let config = vbs_backups::huawei::HuaweiConfig::new().http(HttpOptions::new().no_proxy());
    /// ```
    pub fn http(mut self, options: HttpOptions) -> Self {
        self.http = Some(options);
        self
    }

    /// Draws every request (IAM's and the client's) from `budget`; shorthand for
    /// [`HttpOptions::budget`] on the settings made so far.
    ///
    /// ```
    /// let config = vbs_backups::huawei::HuaweiConfig::new()
    ///     .budget(vbs_backups::RequestBudget::with_max_rate(10));
    /// ```
    pub fn budget(mut self, budget: crate::RequestBudget) -> Self {
        self.http = Some(self.http.take().unwrap_or_default().budget(budget));
        self
    }

    /// The region set, if any.
    ///
    /// ```
    /// let config = vbs_backups::huawei::HuaweiConfig::from_env_vars([("HW_REGION_NAME", "cn-east-3")]);
    /// assert_eq!(config.region_name(), Some("cn-east-3"));
    /// ```
    pub fn region_name(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The project id set, if any (else [`connect`](Self::connect) asks IAM).
    ///
    /// ```
    /// let config = vbs_backups::huawei::HuaweiConfig::new();
    /// assert_eq!(config.project_id_setting(), None);
    /// ```
    pub fn project_id_setting(&self) -> Option<&str> {
        self.project_id.as_deref()
    }

    /// The account's domain id (`HUAWEICLOUD_SDK_DOMAIN_ID`), if set. VBS and CBR are
    /// project-scoped, so it is not sent; it is kept for callers that need it.
    ///
    /// ```
    /// let config = vbs_backups::huawei::HuaweiConfig::from_env_vars([("HUAWEICLOUD_SDK_DOMAIN_ID", "d1")]);
    /// assert_eq!(config.domain_id(), Some("d1"));
    /// ```
    pub fn domain_id(&self) -> Option<&str> {
        self.domain_id.as_deref()
    }

    /// The credentials to sign with.
    ///
    /// # Errors
    ///
    /// A [`Config`](crate::ErrorKind::Config) error naming the variables and the file when
    /// the AK or the SK is missing.
    ///
    /// ```
    /// use vbs_backups::huawei::HuaweiConfig;
    ///
    /// let err = HuaweiConfig::new().access_key("AK").credentials().unwrap_err();
    /// assert!(err.to_string().contains("HUAWEICLOUD_SDK_SK"));
    /// ```
    pub fn credentials(&self) -> Result<Credentials> {
        fn set(value: &Option<String>) -> Option<&str> {
            value
                .as_deref()
                .map(str::trim)
                .filter(|value| !value.is_empty())
        }
        match (set(&self.access_key), set(&self.secret_key)) {
            (Some(access_key), Some(secret_key)) => {
                let credentials = Credentials::new(access_key, secret_key);
                Ok(match set(&self.security_token) {
                    Some(token) => credentials.security_token(token),
                    None => credentials,
                })
            }
            (access_key, _) => {
                let missing = if access_key.is_none() {
                    "access key (HUAWEICLOUD_SDK_AK)"
                } else {
                    "secret key (HUAWEICLOUD_SDK_SK)"
                };
                Err(Error::config(format!(
                    "no Huawei Cloud {missing}: set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK, \
                     or ak and sk in the [basic] section of ~/.huaweicloud/credentials \
                     (HUAWEICLOUD_SDK_CREDENTIALS_FILE)"
                )))
            }
        }
    }

    fn region_checked(&self) -> Result<&str> {
        let region = self.region.as_deref().ok_or_else(|| {
            Error::config(
                "no Huawei Cloud region: call HuaweiConfig::region (such as cn-north-4), or set \
                 HW_REGION_NAME or OS_REGION_NAME",
            )
        })?;
        region::check_region(region)
    }

    /// The service endpoint [`connect`](Self::connect) uses: the explicit one, else the
    /// override variable's first endpoint, else the region's public one.
    ///
    /// # Errors
    ///
    /// A [`Config`](crate::ErrorKind::Config) error when there is neither an endpoint nor a
    /// valid region.
    ///
    /// ```
    /// use vbs_backups::huawei::HuaweiConfig;
    ///
    /// let config = HuaweiConfig::new().region("cn-north-4").endpoint("http://127.0.0.1:8776");
    /// assert_eq!(config.service_endpoint()?, "http://127.0.0.1:8776");
    /// assert!(HuaweiConfig::new().service_endpoint().is_err());
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    pub fn service_endpoint(&self) -> Result<String> {
        if let Some(endpoint) = &self.endpoint {
            return Ok(endpoint.trim().to_owned());
        }
        let region = self.region_checked()?;
        let overridden = self
            .endpoint_overrides
            .get(&self.service.override_variable(region))
            .and_then(|value| {
                value
                    .split(',')
                    .map(str::trim)
                    .find(|endpoint| !endpoint.is_empty())
            });
        match overridden {
            Some(endpoint) => Ok(endpoint.to_owned()),
            None => self.service.endpoint(region),
        }
    }

    /// The IAM endpoint project discovery asks: the one set (or read), else the region's.
    ///
    /// # Errors
    ///
    /// A [`Config`](crate::ErrorKind::Config) error when neither is known.
    ///
    /// ```
    /// use vbs_backups::huawei::HuaweiConfig;
    ///
    /// let config = HuaweiConfig::new().region("cn-north-4");
    /// assert_eq!(config.iam_endpoint_url()?, "https://iam.cn-north-4.myhuaweicloud.com");
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    pub fn iam_endpoint_url(&self) -> Result<String> {
        match &self.iam_endpoint {
            Some(iam) => Ok(iam.trim().to_owned()),
            None => Ok(region::iam_endpoint(self.region_checked()?)),
        }
    }

    /// Builds a [`Client`] that signs every request with these credentials: finds the
    /// endpoint, asks IAM for the project when none is set (one signed request, without
    /// `X-Project-Id`), and sends `X-Project-Id` on every listing request. The project id
    /// found is the client's for its life ([`Client::project_id`]).
    ///
    /// # Errors
    ///
    /// [`Config`](crate::ErrorKind::Config) errors for missing credentials or region and
    /// for a region with no or several projects (naming them); IAM's own errors (a refused
    /// signature with its hint, say) otherwise.
    ///
    /// ```no_run
    /// # async fn run() -> vbs_backups::Result<()> {
    /// use vbs_backups::huawei::{HuaweiConfig, Service};
    ///
    /// let client = HuaweiConfig::load()?
    ///     .region("ap-southeast-1")
    ///     .service(Service::Vbs)
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(&self) -> Result<Client> {
        let credentials = self.credentials()?;
        let endpoint = self.service_endpoint()?;
        let pipeline = self.pipeline()?;
        let signer = AkSkSigner::new(credentials);
        let project_id = match self.project_id.as_deref().map(str::trim) {
            Some(project_id) if !project_id.is_empty() => project_id.to_owned(),
            _ => {
                let region = self.region_checked()?;
                let iam = self.iam_endpoint_url()?;
                discovery::project_id(&pipeline, &signer, &iam, region).await?
            }
        };
        Client::builder()
            .endpoint(endpoint)
            .project_id(&project_id)
            .api_version(self.service.api_version())
            .authorizer(signer.project_id(&project_id))
            .inherit_pipeline(pipeline)
            .build()
    }
}

impl HuaweiConfig {
    /// The pipeline IAM's requests and the clients' share.
    pub(super) fn pipeline(&self) -> Result<Pipeline> {
        Pipeline::new(self.http.clone().unwrap_or_default(), None)
    }

    /// IAM for an estate: the one set, else the region's, else the global one.
    pub(super) fn estate_iam(&self) -> String {
        match (&self.iam_endpoint, self.region_checked()) {
            (Some(iam), _) => iam.trim().to_owned(),
            (None, Ok(region)) => region::iam_endpoint(region),
            (None, Err(_)) => region::GLOBAL_IAM.to_owned(),
        }
    }

    pub(super) fn has_explicit_endpoint(&self) -> bool {
        self.endpoint.is_some()
    }
}

impl fmt::Debug for HuaweiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |value: &Option<String>| value.as_ref().map(|_| "<redacted>");
        f.debug_struct("HuaweiConfig")
            .field(
                "access_key",
                &self
                    .access_key
                    .as_ref()
                    .map(|key| format!("{}…", key.chars().take(4).collect::<String>())),
            )
            .field("secret_key", &hidden(&self.secret_key))
            .field("security_token", &hidden(&self.security_token))
            .field("project_id", &self.project_id)
            .field("domain_id", &self.domain_id)
            .field("iam_endpoint", &self.iam_endpoint)
            .field("region", &self.region)
            .field("service", &self.service)
            .field("endpoint", &self.endpoint)
            .field("endpoint_overrides", &self.endpoint_overrides)
            .field("credentials_file", &self.credentials_file)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn overrides_follow_the_service_and_region() {
        let vars = [
            (
                "HUAWEICLOUD_SDK_REGION_CBR_CN_NORTH_4",
                " http://cbr.local:1 , http://cbr2.local ",
            ),
            ("HUAWEICLOUD_SDK_REGION_VBS_CN_NORTH_1", "http://vbs.other"),
            ("OS_REGION_NAME", "cn-north-4"),
        ];
        let config = HuaweiConfig::from_env_vars(vars);
        assert_eq!(
            config.service_endpoint().unwrap(),
            "https://vbs.cn-north-4.myhuaweicloud.com"
        );
        let cbr = config.clone().service(Service::Cbr);
        assert_eq!(cbr.service_endpoint().unwrap(), "http://cbr.local:1");
        assert_eq!(
            cbr.endpoint("http://explicit").service_endpoint().unwrap(),
            "http://explicit"
        );
        // HW_REGION_NAME wins over OS_REGION_NAME.
        let config =
            HuaweiConfig::from_env_vars([("OS_REGION_NAME", "a-1"), ("HW_REGION_NAME", "b-2")]);
        assert_eq!(config.region_name(), Some("b-2"));
    }

    #[test]
    fn iam_endpoint_order() {
        let config = HuaweiConfig::from_env_vars([(
            "HUAWEICLOUD_SDK_IAM_ENDPOINT",
            "http://127.0.0.1:5000",
        )]);
        assert_eq!(config.iam_endpoint_url().unwrap(), "http://127.0.0.1:5000");
        let config = HuaweiConfig::new().region("ap-southeast-1");
        assert_eq!(
            config.iam_endpoint_url().unwrap(),
            "https://iam.ap-southeast-1.myhuaweicloud.com"
        );
        let config = HuaweiConfig::new().region("cn-south-4");
        assert_eq!(
            config.iam_endpoint_url().unwrap(),
            "https://iam.myhuaweicloud.com"
        );
        assert!(HuaweiConfig::new().iam_endpoint_url().is_err());
    }

    #[test]
    fn missing_credentials_name_what_to_set() {
        let err = HuaweiConfig::new().credentials().unwrap_err();
        assert!(err.to_string().contains("HUAWEICLOUD_SDK_AK"), "{err}");
        let config = HuaweiConfig::from_env_vars([
            ("HUAWEICLOUD_SDK_AK", "AK"),
            ("HUAWEICLOUD_SDK_SK", "SK"),
            ("HUAWEICLOUD_SDK_SECURITY_TOKEN", "t0k3n-xyz"),
        ]);
        let credentials = config.credentials().unwrap();
        assert!(credentials.is_temporary());
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("\"SK\"") && !shown.contains("t0k3n"),
            "{shown}"
        );
    }
}

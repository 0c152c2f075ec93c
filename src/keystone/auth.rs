//! Keystone v3 authentication as an [`AuthSource`]: one token, shared, renewed before it
//! expires and after a 401.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use jiff::Timestamp;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue, LOCATION};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;
use url::Url;

use super::catalog::{Catalog, EndpointFilter, substitute_project};
use crate::client::{HttpSettings, request_id, retry_after, token_header};
use crate::error::{Error, ErrorKind, Result};
use crate::{AuthSource, Client, ClientBuilder, RetryPolicy};

/// The header Keystone returns the new token in.
const SUBJECT_TOKEN: &str = "x-subject-token";
/// The header a token is presented in.
const AUTH_TOKEN: &str = "x-auth-token";

/// Renew this long before the token expires (at most half its lifetime).
const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// A token body with a large catalog is some hundred KiB.
const MAX_TOKEN_BODY: usize = 8 * 1024 * 1024;
const MAX_ERROR_BODY: usize = 64 * 1024;

/// A password, application credential secret or token: kept out of `Debug` output, logs
/// and error messages.
///
/// ```
/// use vbs_backups::keystone::Secret;
///
/// let secret = Secret::from("hunter2");
/// assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
/// assert_eq!(secret.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    ///
    /// ```
    /// let password = vbs_backups::keystone::Secret::new(String::from("hunter2"));
    /// ```
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for sending it where it belongs.
    ///
    /// ```
    /// assert_eq!(vbs_backups::keystone::Secret::from("s3cret").expose(), "s3cret");
    /// ```
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Self(secret)
    }
}

impl From<&str> for Secret {
    fn from(secret: &str) -> Self {
        Self(secret.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A Keystone domain, by id (`default`) or by name (`Default`).
///
/// ```
/// use vbs_backups::keystone::Domain;
///
/// assert_eq!(Domain::id("default"), Domain::Id("default".into()));
/// assert_eq!(Domain::name("Default"), Domain::Name("Default".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Domain {
    /// The domain's id.
    Id(String),
    /// The domain's name (on Huawei Cloud, the account name).
    Name(String),
}

impl Domain {
    /// A domain by id.
    ///
    /// ```
    /// let domain = vbs_backups::keystone::Domain::id("default");
    /// ```
    pub fn id(id: impl Into<String>) -> Self {
        Self::Id(id.into())
    }

    /// A domain by name.
    ///
    /// ```
    /// let domain = vbs_backups::keystone::Domain::name("Default");
    /// ```
    pub fn name(name: impl Into<String>) -> Self {
        Self::Name(name.into())
    }

    fn to_json(&self) -> Value {
        match self {
            Self::Id(id) => json!({ "id": id }),
            Self::Name(name) => json!({ "name": name }),
        }
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Id(id) => write!(f, "domain id `{id}`"),
            Self::Name(name) => write!(f, "domain `{name}`"),
        }
    }
}

/// A Keystone user, by id or by name within a domain.
///
/// ```
/// use vbs_backups::keystone::{Domain, User};
///
/// let by_id = User::id("0ae4f6c5e4c64b0f9f4cf1d6b1d2e3f4");
/// let by_name = User::name("alice", Domain::name("Default"));
/// assert_eq!(by_name.to_string(), "user `alice` in domain `Default`");
/// # let _ = by_id;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum User {
    /// The user's id, unique across domains.
    Id(String),
    /// The user's name, unique within its domain.
    Name {
        /// The user name.
        name: String,
        /// The domain the user belongs to.
        domain: Domain,
    },
}

impl User {
    /// A user by id.
    ///
    /// ```
    /// let user = vbs_backups::keystone::User::id("0ae4f6c5e4c64b0f9f4cf1d6b1d2e3f4");
    /// ```
    pub fn id(id: impl Into<String>) -> Self {
        Self::Id(id.into())
    }

    /// A user by name within a domain.
    ///
    /// ```
    /// use vbs_backups::keystone::{Domain, User};
    /// let user = User::name("alice", Domain::id("default"));
    /// ```
    pub fn name(name: impl Into<String>, domain: Domain) -> Self {
        Self::Name {
            name: name.into(),
            domain,
        }
    }

    fn to_json(&self) -> serde_json::Map<String, Value> {
        let mut user = serde_json::Map::new();
        match self {
            Self::Id(id) => {
                user.insert("id".into(), json!(id));
            }
            Self::Name { name, domain } => {
                user.insert("name".into(), json!(name));
                user.insert("domain".into(), domain.to_json());
            }
        }
        user
    }
}

impl fmt::Display for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Id(id) => write!(f, "user id `{id}`"),
            Self::Name { name, domain } => write!(f, "user `{name}` in {domain}"),
        }
    }
}

/// The project a token is scoped to, by id or by name within a domain.
///
/// ```
/// use vbs_backups::keystone::{Domain, Project};
///
/// let by_id = Project::id("b23b579f08c84228b9b4673c46f0c442");
/// let by_name = Project::name("demo", Domain::id("default"));
/// assert_eq!(by_name.to_string(), "project `demo` in domain id `default`");
/// # let _ = by_id;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Project {
    /// The project's id.
    Id(String),
    /// The project's name, unique within its domain.
    Name {
        /// The project name.
        name: String,
        /// The domain the project belongs to.
        domain: Domain,
    },
}

impl Project {
    /// A project by id.
    ///
    /// ```
    /// let project = vbs_backups::keystone::Project::id("b23b579f08c84228b9b4673c46f0c442");
    /// ```
    pub fn id(id: impl Into<String>) -> Self {
        Self::Id(id.into())
    }

    /// A project by name within a domain.
    ///
    /// ```
    /// use vbs_backups::keystone::{Domain, Project};
    /// let project = Project::name("demo", Domain::name("Default"));
    /// ```
    pub fn name(name: impl Into<String>, domain: Domain) -> Self {
        Self::Name {
            name: name.into(),
            domain,
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Self::Id(id) => json!({ "project": { "id": id } }),
            Self::Name { name, domain } => {
                json!({ "project": { "name": name, "domain": domain.to_json() } })
            }
        }
    }
}

impl fmt::Display for Project {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Id(id) => write!(f, "project id `{id}`"),
            Self::Name { name, domain } => write!(f, "project `{name}` in {domain}"),
        }
    }
}

/// How to prove who we are.
#[derive(Clone)]
enum Method {
    Password {
        user: User,
        password: Secret,
    },
    ApplicationCredential {
        id: Option<String>,
        name: Option<String>,
        user: Option<User>,
        secret: Secret,
    },
    Token(Secret),
}

impl Method {
    fn secret(&self) -> &Secret {
        match self {
            Self::Password { password, .. } => password,
            Self::ApplicationCredential { secret, .. } => secret,
            Self::Token(token) => token,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Password { user, .. } => write!(f, "password auth as {user}"),
            Self::ApplicationCredential { id: Some(id), .. } => {
                write!(f, "application credential `{id}`")
            }
            Self::ApplicationCredential { name, user, .. } => {
                write!(
                    f,
                    "application credential `{}`",
                    name.as_deref().unwrap_or("")
                )?;
                match user {
                    Some(user) => write!(f, " of {user}"),
                    None => Ok(()),
                }
            }
            Self::Token(_) => f.write_str("token auth"),
        }
    }
}

/// What a Keystone token says about itself (everything but the token).
///
/// ```no_run
/// # async fn run(auth: vbs_backups::KeystoneAuth) -> vbs_backups::Result<()> {
/// let info = auth.token_info().await?;
/// println!("project {:?}, expires {:?}", info.project_id, info.expires_at);
/// for service in &info.catalog.services {
///     println!("{}", service.service_type);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TokenInfo {
    /// When the token stops working, if Keystone said.
    pub expires_at: Option<Timestamp>,
    /// When the token was issued, if Keystone said.
    pub issued_at: Option<Timestamp>,
    /// The auth methods behind it (`password`, `application_credential`, `token`).
    pub methods: Vec<String>,
    /// The user's id.
    pub user_id: Option<String>,
    /// The user's name.
    pub user_name: Option<String>,
    /// The id of the project the token is scoped to, if it is.
    pub project_id: Option<String>,
    /// The name of that project.
    pub project_name: Option<String>,
    /// The services the token may use, and where they are.
    pub catalog: Catalog,
}

/// Keystone v3 authentication (also what Huawei Cloud IAM speaks), as an [`AuthSource`]
/// for [`ClientBuilder::auth_source`], and the service catalog that comes with it.
///
/// The first request authenticates (`POST {auth_url}/v3/auth/tokens`); the token
/// (`X-Subject-Token`) is then shared by every request and every clone. It is renewed
/// when less than the [refresh margin](KeystoneAuthBuilder::refresh_margin) of its
/// lifetime is left, and when a service rejects it with 401. Concurrent callers wait for
/// the one renewal in progress instead of starting their own, so a burst of requests
/// never becomes a burst of logins. Secrets never appear in `Debug` output, logs or
/// errors.
///
/// A pre-issued token with a project is exchanged for a token scoped to that project
/// (and renewed that way while the original is valid); without a project it is
/// validated once (`GET /v3/auth/tokens`) to learn its expiry and catalog, and used as it
/// is.
///
/// Most programs get one through [`OpenStackConfig::connect`](super::OpenStackConfig::connect);
/// build one directly for full control:
///
/// ```no_run
/// use futures::TryStreamExt;
/// use vbs_backups::keystone::{Domain, EndpointFilter, KeystoneAuth, Project, User};
///
/// # async fn run() -> vbs_backups::Result<()> {
/// let auth = KeystoneAuth::builder("https://keystone.example.com:5000/v3")
///     .password(User::name("alice", Domain::name("Default")), "s3cret")
///     .project(Project::name("demo", Domain::name("Default")))
///     .build()?;
///
/// // One authentication gives the token and the catalog the client is built from.
/// let client = auth.connect(&EndpointFilter::new()).await?;
/// let backups: Vec<_> = client.backups().stream().try_collect().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct KeystoneAuth {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// `{auth_url}/v3`, without a trailing slash.
    base: Url,
    /// `{base}/auth/tokens`.
    tokens_url: Url,
    method: Method,
    project: Option<Project>,
    margin: Duration,
    retry: RetryPolicy,
    state: tokio::sync::Mutex<State>,
    /// Bumped (under the state lock) after every authentication, whether it succeeded or
    /// not, so callers that waited for the lock can tell that someone else just tried,
    /// and take the outcome instead of trying again.
    generation: AtomicU64,
}

/// The token in use, and how the last authentication went.
#[derive(Default)]
struct State {
    current: Option<Arc<Current>>,
    failure: Option<Failure>,
}

/// An authentication failure, kept to hand to the callers that waited for it.
struct Failure {
    kind: ErrorKind,
    status: Option<u16>,
    request_id: Option<String>,
    message: String,
}

impl Failure {
    fn of(err: &Error) -> Self {
        Self {
            kind: err.kind(),
            status: err.status(),
            request_id: err.request_id().map(str::to_owned),
            message: err.message().to_owned(),
        }
    }

    fn to_error(&self) -> Error {
        match self.status {
            Some(status) => Error::api(status, self.request_id.clone(), self.message.clone()),
            None => Error::new(self.kind, self.message.clone()),
        }
    }
}

/// The token in use.
struct Current {
    token: Secret,
    info: TokenInfo,
    /// When to renew proactively; `None` for a token that cannot be renewed.
    renew_at: Option<Instant>,
}

impl KeystoneAuth {
    /// Starts configuring authentication against `auth_url`: Keystone's root
    /// (`https://keystone.example.com:5000`) or its v3 URL (`…/v3`), with or without a
    /// trailing slash and under any path prefix (`https://cloud.example.com/identity`).
    ///
    /// ```
    /// use vbs_backups::keystone::KeystoneAuth;
    ///
    /// let auth = KeystoneAuth::builder("https://iam.example.com/v3")
    ///     .application_credential("21dced0fd20347869b93710d2b98aae0", "app-secret")
    ///     .build()?;
    /// assert_eq!(auth.auth_url(), "https://iam.example.com/v3");
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    pub fn builder(auth_url: impl Into<String>) -> KeystoneAuthBuilder {
        KeystoneAuthBuilder {
            auth_url: auth_url.into(),
            method: None,
            project: None,
            timeout: None,
            connect_timeout: None,
            user_agent: None,
            ca_files: Vec::new(),
            refresh_margin: None,
            retry: None,
            http_client: None,
        }
    }

    /// Keystone's v3 URL that tokens are asked from (`{auth_url}/v3`).
    ///
    /// ```
    /// use vbs_backups::keystone::KeystoneAuth;
    ///
    /// let auth = KeystoneAuth::builder("http://127.0.0.1:5000/").token("gAAAA…").build()?;
    /// assert_eq!(auth.auth_url(), "http://127.0.0.1:5000/v3");
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    pub fn auth_url(&self) -> &str {
        self.inner.base.as_str()
    }

    /// What the current token says about itself, authenticating first if there is no
    /// token yet (or it is due for renewal).
    ///
    /// # Errors
    ///
    /// Those of authentication: see [`connect`](Self::connect).
    ///
    /// ```no_run
    /// # async fn run(auth: vbs_backups::KeystoneAuth) -> vbs_backups::Result<()> {
    /// let info = auth.token_info().await?;
    /// assert!(info.project_id.is_some());
    /// # Ok(()) }
    /// ```
    pub async fn token_info(&self) -> Result<TokenInfo> {
        Ok(self.current(false).await?.info.clone())
    }

    /// Authenticates (unless a valid token is at hand), finds the block storage endpoint
    /// in the token's catalog and returns a [`Client`] for the token's project that takes
    /// its tokens from this `KeystoneAuth`: the token and the catalog come from one
    /// authentication.
    ///
    /// # Errors
    ///
    /// [`Api`](crate::ErrorKind::Api) with Keystone's status and message when it refuses
    /// the credentials; [`Transport`](crate::ErrorKind::Transport) or
    /// [`Timeout`](crate::ErrorKind::Timeout) when it cannot be reached;
    /// [`Config`](crate::ErrorKind::Config) when the token has no project or the catalog
    /// no matching endpoint (the message lists what it offers).
    ///
    /// ```no_run
    /// use vbs_backups::ApiVersion;
    /// use vbs_backups::keystone::{EndpointFilter, Interface, KeystoneAuth};
    ///
    /// # async fn run(auth: KeystoneAuth) -> vbs_backups::Result<()> {
    /// let filter = EndpointFilter::new()
    ///     .api_version(ApiVersion::V3)
    ///     .interface(Interface::Internal)
    ///     .region("RegionOne");
    /// let client = auth.connect(&filter).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(&self, filter: &EndpointFilter) -> Result<Client> {
        self.connect_with(filter, Client::builder()).await
    }

    /// Like [`connect`](Self::connect), starting from a [`ClientBuilder`] with settings of
    /// your own (timeouts, retries, microversion, extra CA files, …). Its endpoint,
    /// project, API version and auth are set from the catalog and this `KeystoneAuth`.
    ///
    /// # Errors
    ///
    /// Those of [`connect`](Self::connect) and of [`ClientBuilder::build`].
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use vbs_backups::{Client, keystone::{EndpointFilter, KeystoneAuth}};
    ///
    /// # async fn run(auth: KeystoneAuth) -> vbs_backups::Result<()> {
    /// let builder = Client::builder().timeout(Duration::from_secs(20)).microversion("3.45");
    /// let client = auth.connect_with(&EndpointFilter::new(), builder).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect_with(
        &self,
        filter: &EndpointFilter,
        builder: ClientBuilder,
    ) -> Result<Client> {
        let current = self.current(false).await?;
        let project_id = current.info.project_id.as_deref().ok_or_else(|| {
            Error::config(format!(
                "the token from {} is not scoped to a project, so it has no block storage \
                 endpoint to list from: set OS_PROJECT_ID or OS_PROJECT_NAME (project_id / \
                 project_name)",
                self.inner.base
            ))
        })?;
        let endpoint = current
            .info
            .catalog
            .volume_endpoint(filter, Some(project_id))?;
        tracing::debug!(
            url = %endpoint.url,
            service_type = %endpoint.service_type,
            interface = %endpoint.interface,
            region = endpoint.region.as_deref(),
            "block storage endpoint from the Keystone catalog"
        );
        builder
            .endpoint(endpoint.url)
            .project_id(project_id)
            .api_version(endpoint.api_version)
            .auth_source(self.clone())
            .build()
    }

    /// Like [`connect_with`](Self::connect_with), but with a block storage endpoint given
    /// instead of the catalog's (an endpoint override). Project placeholders in it
    /// (`%(project_id)s`, `$(project_id)s`) are filled in from the token; a root endpoint
    /// gets the token's project, and the builder's API version or the default.
    ///
    /// # Errors
    ///
    /// Those of authentication, and of [`ClientBuilder::build`] (for instance when the
    /// endpoint names another project than the token's).
    ///
    /// ```no_run
    /// use vbs_backups::{ApiVersion, Client, keystone::KeystoneAuth};
    ///
    /// # async fn run(auth: KeystoneAuth) -> vbs_backups::Result<()> {
    /// let builder = Client::builder().api_version(ApiVersion::V2);
    /// let client = auth
    ///     .connect_to("https://vbs.eu-de.example.com/v2/%(project_id)s", builder)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect_to(&self, endpoint: &str, builder: ClientBuilder) -> Result<Client> {
        let current = self.current(false).await?;
        let project_id = current.info.project_id.as_deref();
        let url = substitute_project(endpoint, project_id)?;
        let mut builder = builder.endpoint(url).auth_source(self.clone());
        if let Some(project_id) = project_id {
            builder = builder.project_id(project_id);
        }
        builder.build()
    }

    /// The current token, or a new one when there is none, it is due for renewal or
    /// `force` is set. One authentication at a time: callers that waited for one take
    /// its outcome, token or error, instead of authenticating again.
    async fn current(&self, force: bool) -> Result<Arc<Current>> {
        let inner = &self.inner;
        let seen = inner.generation.load(Ordering::SeqCst);
        let mut state = inner.state.lock().await;
        if inner.generation.load(Ordering::SeqCst) != seen {
            if let Some(failure) = &state.failure {
                return Err(failure.to_error());
            }
            if let Some(current) = &state.current {
                return Ok(Arc::clone(current));
            }
        }
        if let Some(current) = &state.current {
            let fresh = current
                .renew_at
                .is_none_or(|renew_at| Instant::now() < renew_at);
            if fresh && !force {
                return Ok(Arc::clone(current));
            }
        }
        // Dropped mid-way (a cancelled request), this leaves the state as it was.
        let outcome = inner.authenticate(force).await;
        inner.generation.fetch_add(1, Ordering::SeqCst);
        match outcome {
            Ok(current) => {
                let current = Arc::new(current);
                state.current = Some(Arc::clone(&current));
                state.failure = None;
                Ok(current)
            }
            Err(err) => {
                state.failure = Some(Failure::of(&err));
                Err(err)
            }
        }
    }

    /// After a 401: a new token, or `None` when there is none to be had (a pre-issued
    /// token without a project, which Keystone still accepts: the 401 is the service's
    /// own verdict).
    async fn renewed(&self) -> Result<Option<String>> {
        if self.validates_only() {
            // Re-validating tells a revoked or expired token (Keystone's error) from a
            // service that refuses a good one (its 401 is reported as is).
            self.current(true).await?;
            return Ok(None);
        }
        tracing::info!(auth_url = %self.inner.base, "token rejected; authenticating again");
        Ok(Some(self.current(true).await?.token.expose().to_owned()))
    }

    /// Whether this is a pre-issued token used as is (validated, never exchanged).
    fn validates_only(&self) -> bool {
        matches!(self.inner.method, Method::Token(_)) && self.inner.project.is_none()
    }
}

impl AuthSource for KeystoneAuth {
    fn token(&self) -> BoxFuture<'_, Result<Option<String>>> {
        Box::pin(async move { Ok(Some(self.current(false).await?.token.expose().to_owned())) })
    }

    fn refresh(&self) -> BoxFuture<'_, Result<Option<String>>> {
        Box::pin(self.renewed())
    }
}

impl fmt::Debug for KeystoneAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeystoneAuth")
            .field("auth_url", &self.inner.base.as_str())
            .field("method", &self.inner.method.to_string())
            .field("project", &self.inner.project)
            .field("refresh_margin", &self.inner.margin)
            .finish_non_exhaustive()
    }
}

impl Inner {
    /// Authenticates, retrying transient failures per the retry policy.
    async fn authenticate(&self, force: bool) -> Result<Current> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = if matches!(self.method, Method::Token(_)) && self.project.is_none() {
                self.validate().await
            } else {
                self.issue().await
            };
            let err = match result {
                Ok(current) => return Ok(current),
                Err(err) => err,
            };
            if !err.is_retryable() || attempt >= self.retry.attempts() {
                return Err(err);
            }
            let delay = self.retry.delay(attempt, err.retry_after());
            tracing::warn!(attempt, force, ?delay, reason = %err, "Keystone request failed; retrying");
            tokio::time::sleep(delay).await;
        }
    }

    /// `POST /v3/auth/tokens`: a new token.
    async fn issue(&self) -> Result<Current> {
        let body = serde_json::to_vec(&self.request_body())
            .map_err(|err| Error::config("cannot encode the auth request").with_source(err))?;
        let sent = Instant::now();
        let response = self
            .http
            .post(self.tokens_url.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body)
            .send()
            .await
            .map_err(|err| self.transport(err))?;
        let response = self.check(response).await?;
        let token = response
            .headers()
            .get(SUBJECT_TOKEN)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .map(Secret::from)
            .ok_or_else(|| {
                Error::decode(format!(
                    "Keystone at {} issued no token: its answer has no X-Subject-Token header",
                    self.base
                ))
            })?;
        let info = self.read_token_body(response).await?;
        let renew_at = Some(self.renew_at(sent, &info));
        tracing::debug!(
            auth_url = %self.base,
            method = %self.method,
            project_id = info.project_id.as_deref(),
            expires_at = ?info.expires_at,
            "Keystone issued a token"
        );
        Ok(Current {
            token,
            info,
            renew_at,
        })
    }

    /// `GET /v3/auth/tokens` of a pre-issued token: its expiry and catalog.
    async fn validate(&self) -> Result<Current> {
        let token = self.method.secret().clone();
        let header = token_header(token.expose())?;
        let response = self
            .http
            .get(self.tokens_url.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .header(AUTH_TOKEN, header.clone())
            .header(SUBJECT_TOKEN, header)
            .send()
            .await
            .map_err(|err| self.transport(err))?;
        let response = self.check(response).await?;
        let info = self.read_token_body(response).await?;
        tracing::debug!(
            auth_url = %self.base,
            project_id = info.project_id.as_deref(),
            expires_at = ?info.expires_at,
            "Keystone validated the token"
        );
        Ok(Current {
            token,
            info,
            renew_at: None,
        })
    }

    /// The JSON of `POST /v3/auth/tokens`.
    fn request_body(&self) -> Value {
        let identity = match &self.method {
            Method::Password { user, password } => {
                let mut user = user.to_json();
                user.insert("password".into(), json!(password.expose()));
                json!({ "methods": ["password"], "password": { "user": user } })
            }
            Method::ApplicationCredential {
                id,
                name,
                user,
                secret,
            } => {
                let mut credential = serde_json::Map::new();
                if let Some(id) = id {
                    credential.insert("id".into(), json!(id));
                } else {
                    if let Some(name) = name {
                        credential.insert("name".into(), json!(name));
                    }
                    if let Some(user) = user {
                        credential.insert("user".into(), Value::Object(user.to_json()));
                    }
                }
                credential.insert("secret".into(), json!(secret.expose()));
                json!({
                    "methods": ["application_credential"],
                    "application_credential": credential,
                })
            }
            Method::Token(token) => {
                json!({ "methods": ["token"], "token": { "id": token.expose() } })
            }
        };
        let mut auth = serde_json::Map::new();
        auth.insert("identity".into(), identity);
        if let Some(project) = &self.project {
            auth.insert("scope".into(), project.to_json());
        }
        json!({ "auth": auth })
    }

    /// When to renew a token issued at `sent`: the margin before it expires, the margin
    /// being at most half the lifetime so a short-lived token is still used a while.
    /// The lifetime is measured on Keystone's clock (`expires_at - issued_at`) and timed on
    /// ours, so clock skew does not matter.
    fn renew_at(&self, sent: Instant, info: &TokenInfo) -> Instant {
        let Some(expires_at) = info.expires_at else {
            return sent + Duration::from_secs(365 * 24 * 3600);
        };
        let issued_at = info.issued_at.unwrap_or_else(Timestamp::now);
        let lifetime =
            Duration::try_from(expires_at.duration_since(issued_at)).unwrap_or(Duration::ZERO);
        let margin = self.margin.min(lifetime / 2);
        sent + (lifetime - margin)
    }

    /// Turns a non-success answer into an error naming Keystone and what it refused.
    async fn check(&self, response: reqwest::Response) -> Result<reqwest::Response> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let request_id = request_id(response.headers());
        let secret = self.method.secret().expose().to_owned();
        if status.is_redirection() {
            let target = response
                .headers()
                .get(LOCATION)
                .and_then(|location| location.to_str().ok())
                .unwrap_or("nowhere")
                .to_owned();
            return Err(Error::api(
                status.as_u16(),
                request_id,
                format!(
                    "Keystone at {} redirects to {target}: credentials are not sent after \
                     a redirect, set auth_url to the address Keystone really serves",
                    self.base
                ),
            ));
        }
        let retry_after = retry_after(response.headers());
        let body = read_limited(response, MAX_ERROR_BODY)
            .await
            .unwrap_or_default();
        let what = match &self.project {
            Some(project) => format!("{} for {project}", self.method),
            None => self.method.to_string(),
        };
        Err(Error::from_response(status.as_u16(), request_id, &body)
            .redact(&secret)
            .with_context(format!("Keystone at {} refused {what}", self.base))
            .with_retry_after(retry_after))
    }

    async fn read_token_body(&self, response: reqwest::Response) -> Result<TokenInfo> {
        let request_id = request_id(response.headers());
        let body = read_limited(response, MAX_TOKEN_BODY)
            .await
            .map_err(|err| {
                err.with_context(format!("reading Keystone's token from {}", self.base))
            })?;
        parse_token_body(&body)
            .map_err(|err| err.with_context(format!("Keystone at {}", self.base)))
            .map_err(|err| err.with_request_id(request_id))
    }

    fn transport(&self, err: reqwest::Error) -> Error {
        Error::transport(err).with_context(format!("Keystone at {}", self.base))
    }
}

/// Reads a body, refusing more than `limit` bytes.
async fn read_limited(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Error::transport)? {
        if body.len() + chunk.len() > limit {
            return Err(Error::decode(format!(
                "the response is larger than {limit} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[derive(Deserialize)]
struct TokenBody {
    token: RawToken,
}

#[derive(Deserialize)]
struct RawToken {
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default)]
    issued_at: Option<String>,
    #[serde(default)]
    methods: Option<Vec<String>>,
    #[serde(default)]
    user: Option<Named>,
    #[serde(default)]
    project: Option<Named>,
    #[serde(default)]
    catalog: Option<Catalog>,
}

#[derive(Deserialize)]
struct Named {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// Reads Keystone's `{"token": {...}}`.
fn parse_token_body(body: &[u8]) -> Result<TokenInfo> {
    let TokenBody { token } = serde_json::from_slice(body).map_err(|err| {
        Error::decode(format!(
            "the token body is not Keystone's {{\"token\": …}}: {err}"
        ))
    })?;
    let expires_at = token
        .expires_at
        .as_deref()
        .map(|text| parse_time("expires_at", text))
        .transpose()?;
    let issued_at = token
        .issued_at
        .as_deref()
        .map(|text| parse_time("issued_at", text))
        .transpose()?;
    let (user_id, user_name) = token.user.map_or((None, None), |user| (user.id, user.name));
    let (project_id, project_name) = token
        .project
        .map_or((None, None), |project| (project.id, project.name));
    Ok(TokenInfo {
        expires_at,
        issued_at,
        methods: token.methods.unwrap_or_default(),
        user_id,
        user_name,
        project_id: project_id.filter(|id| !id.is_empty()),
        project_name,
        catalog: token.catalog.unwrap_or_default(),
    })
}

/// Keystone's times: RFC 3339 (`2015-11-06T15:32:17.893769Z`), or without an offset,
/// meaning UTC.
fn parse_time(field: &str, text: &str) -> Result<Timestamp> {
    text.parse::<Timestamp>()
        .or_else(|_| {
            text.parse::<jiff::civil::DateTime>()
                .and_then(|naive| jiff::tz::Offset::UTC.to_timestamp(naive))
        })
        .map_err(|err| Error::decode(format!("token.{field} `{text}` is not a time: {err}")))
}

/// Configures and builds a [`KeystoneAuth`]; created by [`KeystoneAuth::builder`].
///
/// Exactly one way to authenticate is needed: [`password`](Self::password),
/// [`application_credential`](Self::application_credential) (or
/// [`application_credential_by_name`](Self::application_credential_by_name)) or
/// [`token`](Self::token); a later call replaces an earlier one.
///
/// ```
/// use std::time::Duration;
/// use vbs_backups::keystone::{Domain, KeystoneAuth, Project, User};
///
/// let auth = KeystoneAuth::builder("https://keystone.example.com:5000")
///     .password(User::id("0ae4f6c5e4c64b0f9f4cf1d6b1d2e3f4"), "s3cret")
///     .project(Project::id("b23b579f08c84228b9b4673c46f0c442"))
///     .timeout(Duration::from_secs(30))
///     .build()?;
/// assert!(!format!("{auth:?}").contains("s3cret"));
/// # Ok::<(), vbs_backups::Error>(())
/// ```
#[must_use]
pub struct KeystoneAuthBuilder {
    auth_url: String,
    method: Option<Method>,
    project: Option<Project>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    user_agent: Option<String>,
    ca_files: Vec<PathBuf>,
    refresh_margin: Option<Duration>,
    retry: Option<RetryPolicy>,
    http_client: Option<reqwest::ClientBuilder>,
}

impl KeystoneAuthBuilder {
    /// Password auth as `user`.
    ///
    /// ```
    /// use vbs_backups::keystone::{Domain, KeystoneAuth, User};
    ///
    /// let builder = KeystoneAuth::builder("https://keystone.example.com:5000")
    ///     .password(User::name("alice", Domain::name("Default")), "s3cret");
    /// ```
    pub fn password(mut self, user: User, password: impl Into<Secret>) -> Self {
        self.method = Some(Method::Password {
            user,
            password: password.into(),
        });
        self
    }

    /// Application credential auth by the credential's id. Application credentials are
    /// bound to a project, so no [`project`](Self::project) may be set.
    ///
    /// ```
    /// let builder = vbs_backups::keystone::KeystoneAuth::builder("https://keystone.example.com:5000")
    ///     .application_credential("21dced0fd20347869b93710d2b98aae0", "app-secret");
    /// ```
    pub fn application_credential(
        mut self,
        id: impl Into<String>,
        secret: impl Into<Secret>,
    ) -> Self {
        self.method = Some(Method::ApplicationCredential {
            id: Some(id.into()),
            name: None,
            user: None,
            secret: secret.into(),
        });
        self
    }

    /// Application credential auth by the credential's name and its owner.
    ///
    /// ```
    /// use vbs_backups::keystone::{Domain, KeystoneAuth, User};
    ///
    /// let builder = KeystoneAuth::builder("https://keystone.example.com:5000")
    ///     .application_credential_by_name("backup-audit", User::name("alice", Domain::id("default")), "app-secret");
    /// ```
    pub fn application_credential_by_name(
        mut self,
        name: impl Into<String>,
        user: User,
        secret: impl Into<Secret>,
    ) -> Self {
        self.method = Some(Method::ApplicationCredential {
            id: None,
            name: Some(name.into()),
            user: Some(user),
            secret: secret.into(),
        });
        self
    }

    /// A token issued earlier (`OS_AUTH_TOKEN`). With a [`project`](Self::project) it is
    /// exchanged for a token scoped to it; without, it is used as it is, after Keystone
    /// has validated it and told its catalog.
    ///
    /// ```
    /// let builder = vbs_backups::keystone::KeystoneAuth::builder("https://keystone.example.com:5000")
    ///     .token("gAAAAABlc…");
    /// ```
    pub fn token(mut self, token: impl Into<Secret>) -> Self {
        self.method = Some(Method::Token(token.into()));
        self
    }

    /// The project to scope tokens to. Without one, Keystone decides (a user's default
    /// project, or an unscoped token that lists no services).
    ///
    /// ```
    /// use vbs_backups::keystone::{Domain, KeystoneAuth, Project};
    ///
    /// let builder = KeystoneAuth::builder("https://keystone.example.com:5000")
    ///     .project(Project::name("demo", Domain::name("Default")));
    /// ```
    pub fn project(mut self, project: Project) -> Self {
        self.project = Some(project);
        self
    }

    /// The limit on each Keystone request (default 60 s).
    ///
    /// ```
    /// let builder = vbs_backups::keystone::KeystoneAuth::builder("https://keystone.example.com:5000")
    ///     .timeout(std::time::Duration::from_secs(15));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The limit on opening a connection to Keystone (default 10 s).
    ///
    /// ```
    /// let builder = vbs_backups::keystone::KeystoneAuth::builder("https://keystone.example.com:5000")
    ///     .connect_timeout(std::time::Duration::from_secs(3));
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The `User-Agent` header (default `vbs-backups/<version>`).
    ///
    /// ```
    /// let builder = vbs_backups::keystone::KeystoneAuth::builder("https://keystone.example.com:5000")
    ///     .user_agent("backup-auditor/2.1");
    /// ```
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Trusts the certificate authorities in this PEM file in addition to the system's
    /// (`OS_CACERT`); read by [`build`](Self::build).
    ///
    /// ```
    /// let builder = vbs_backups::keystone::KeystoneAuth::builder("https://keystone.example.com:5000")
    ///     .trust_additional_ca_file("/etc/openstack/ca.pem");
    /// ```
    pub fn trust_additional_ca_file(mut self, pem_file: impl Into<PathBuf>) -> Self {
        self.ca_files.push(pem_file.into());
        self
    }

    /// Renew the token when less than this is left of its lifetime (default 60 s; at most
    /// half the lifetime is used, so short-lived tokens still serve a while).
    ///
    /// ```
    /// let builder = vbs_backups::keystone::KeystoneAuth::builder("https://keystone.example.com:5000")
    ///     .refresh_margin(std::time::Duration::from_secs(300));
    /// ```
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = Some(margin);
        self
    }

    /// How failed Keystone requests are retried: connection failures, timeouts, 429 and
    /// 5xx (default [`RetryPolicy::default`]); refused credentials never are.
    ///
    /// ```
    /// let builder = vbs_backups::keystone::KeystoneAuth::builder("https://keystone.example.com:5000")
    ///     .retry_policy(vbs_backups::RetryPolicy::disabled());
    /// ```
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Starts from a `reqwest::ClientBuilder` of your own (proxies, client certificates,
    /// …). Timeouts, user agent and extra CA files are applied on top, and redirects are
    /// never followed: credentials go to `auth_url` only.
    ///
    /// ```
    /// let builder = vbs_backups::keystone::KeystoneAuth::builder("http://127.0.0.1:5000")
    ///     .http_client_builder(reqwest::Client::builder().no_proxy());
    /// ```
    pub fn http_client_builder(mut self, builder: reqwest::ClientBuilder) -> Self {
        self.http_client = Some(builder);
        self
    }

    /// Checks the configuration and makes the [`KeystoneAuth`]; nothing is sent yet.
    ///
    /// # Errors
    ///
    /// A [`Config`](crate::ErrorKind::Config) error when the auth URL is not an
    /// `http(s)` URL (or a Keystone v2.0 one), no way to authenticate was given, a secret is
    /// empty, an application credential is combined with a project, or a CA file cannot be
    /// read.
    ///
    /// ```
    /// use vbs_backups::keystone::KeystoneAuth;
    ///
    /// let err = KeystoneAuth::builder("https://keystone.example.com/v2.0")
    ///     .token("t")
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("v2.0"));
    /// ```
    pub fn build(self) -> Result<KeystoneAuth> {
        let base = parse_auth_url(&self.auth_url)?;
        let tokens_url = Url::parse(&format!("{base}/auth/tokens"))
            .map_err(|err| Error::config(format!("auth URL {base} is not usable: {err}")))?;
        let method = self.method.ok_or_else(|| {
            Error::config(
                "no way to authenticate: give a password, an application credential or a token",
            )
        })?;
        if method.secret().expose().trim().is_empty() {
            return Err(Error::config(match &method {
                Method::Password { .. } => "the password is empty",
                Method::ApplicationCredential { .. } => {
                    "the application credential secret is empty"
                }
                Method::Token(_) => "the token is empty",
            }));
        }
        if let Method::Token(token) = &method {
            token_header(token.expose())?;
        }
        if let (Method::ApplicationCredential { .. }, Some(project)) = (&method, &self.project) {
            return Err(Error::config(format!(
                "an application credential is bound to its own project: leave {project} out"
            )));
        }
        if let Method::ApplicationCredential {
            id: None,
            name,
            user,
            ..
        } = &method
        {
            if name.as_deref().is_none_or(str::is_empty) || user.is_none() {
                return Err(Error::config(
                    "an application credential needs an id, or a name and its user",
                ));
            }
        }
        let http = HttpSettings {
            base: self.http_client,
            user_agent: self.user_agent,
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            ca_files: &self.ca_files,
            // Credentials go to `auth_url` only.
            redirect: reqwest::redirect::Policy::none(),
        }
        .build()?;
        Ok(KeystoneAuth {
            inner: Arc::new(Inner {
                http,
                base,
                tokens_url,
                method,
                project: self.project,
                margin: self.refresh_margin.unwrap_or(DEFAULT_REFRESH_MARGIN),
                retry: self.retry.unwrap_or_default(),
                state: tokio::sync::Mutex::new(State::default()),
                generation: AtomicU64::new(0),
            }),
        })
    }
}

impl fmt::Debug for KeystoneAuthBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeystoneAuthBuilder")
            .field("auth_url", &self.auth_url)
            .field("method", &self.method.as_ref().map(ToString::to_string))
            .field("project", &self.project)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// `auth_url` as Keystone's v3 URL, without a trailing slash.
fn parse_auth_url(auth_url: &str) -> Result<Url> {
    let text = auth_url.trim();
    let mut url = Url::parse(text)
        .map_err(|err| Error::config(format!("auth URL `{text}` is not a URL: {err}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(Error::config(format!(
            "auth URL `{text}` must be an http or https URL with a host"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config("the auth URL must not carry credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(format!(
            "auth URL `{text}` must not have a query or fragment"
        )));
    }
    let mut segments: Vec<String> = url
        .path_segments()
        .into_iter()
        .flatten()
        .filter(|segment| !segment.is_empty())
        .map(str::to_owned)
        .collect();
    match segments.last().map(String::as_str) {
        Some("v3") => {}
        Some("v2.0" | "v2") => {
            return Err(Error::config(format!(
                "auth URL `{text}` is Keystone v2.0, which is not supported: use its v3 URL"
            )));
        }
        _ => segments.push("v3".to_owned()),
    }
    url.set_path(&segments.join("/"));
    Ok(url)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn auth_urls_with_and_without_v3() {
        for (given, expected) in [
            ("http://ks:5000", "http://ks:5000/v3"),
            ("http://ks:5000/", "http://ks:5000/v3"),
            ("http://ks:5000/v3", "http://ks:5000/v3"),
            ("http://ks:5000/v3/", "http://ks:5000/v3"),
            (
                " https://cloud.example.com/identity ",
                "https://cloud.example.com/identity/v3",
            ),
            (
                "https://cloud.example.com/identity/v3",
                "https://cloud.example.com/identity/v3",
            ),
        ] {
            assert_eq!(parse_auth_url(given).unwrap().as_str(), expected, "{given}");
        }
        for bad in [
            "ks:5000",
            "ftp://ks",
            "http://u:p@ks",
            "http://ks/v2.0",
            "http://ks/?a=b",
        ] {
            assert!(parse_auth_url(bad).is_err(), "{bad}");
        }
    }

    fn auth(builder: KeystoneAuthBuilder) -> KeystoneAuth {
        builder.build().unwrap()
    }

    #[test]
    fn request_bodies_follow_keystone_v3() {
        let base = || KeystoneAuth::builder("http://ks");
        let by_name = auth(
            base()
                .password(User::name("alice", Domain::name("Default")), "pw")
                .project(Project::name("demo", Domain::id("default"))),
        );
        assert_eq!(
            by_name.inner.request_body(),
            json!({"auth": {
                "identity": {"methods": ["password"], "password": {"user": {
                    "name": "alice", "domain": {"name": "Default"}, "password": "pw"}}},
                "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}}})
        );
        let by_id = auth(
            base()
                .password(User::id("u1"), "pw")
                .project(Project::id("p1")),
        );
        assert_eq!(
            by_id.inner.request_body(),
            json!({"auth": {
                "identity": {"methods": ["password"], "password": {"user": {"id": "u1", "password": "pw"}}},
                "scope": {"project": {"id": "p1"}}}})
        );
        let app = auth(base().application_credential("ac1", "s"));
        assert_eq!(
            app.inner.request_body(),
            json!({"auth": {"identity": {"methods": ["application_credential"],
                "application_credential": {"id": "ac1", "secret": "s"}}}})
        );
        let app_name = auth(base().application_credential_by_name("mon", User::id("u1"), "s"));
        assert_eq!(
            app_name.inner.request_body(),
            json!({"auth": {"identity": {"methods": ["application_credential"],
                "application_credential": {"name": "mon", "user": {"id": "u1"}, "secret": "s"}}}})
        );
        let token = auth(base().token("t0k").project(Project::id("p1")));
        assert_eq!(
            token.inner.request_body(),
            json!({"auth": {"identity": {"methods": ["token"], "token": {"id": "t0k"}},
                "scope": {"project": {"id": "p1"}}}})
        );
    }

    #[test]
    fn builder_refusals() {
        let base = || KeystoneAuth::builder("http://ks");
        let message = |builder: KeystoneAuthBuilder| builder.build().unwrap_err().to_string();
        assert!(message(base()).contains("no way to authenticate"));
        assert!(message(base().password(User::id("u"), " ")).contains("password is empty"));
        assert!(
            message(
                base()
                    .application_credential("a", "s")
                    .project(Project::id("p"))
            )
            .contains("bound to its own project")
        );
        assert!(message(base().token("a\nb")).contains("not allowed"));
    }

    #[test]
    fn token_bodies() {
        let info = parse_token_body(
            br#"{"token": {"expires_at": "2030-01-01T00:00:00.000000Z", "issued_at": "2029-12-31T23:00:00.000000",
                "methods": ["password"], "user": {"id": "u", "name": "alice"},
                "project": {"id": "p", "name": "demo"}, "catalog": []}}"#,
        )
        .unwrap();
        assert_eq!(info.project_id.as_deref(), Some("p"));
        assert_eq!(
            info.expires_at
                .unwrap()
                .duration_since(info.issued_at.unwrap()),
            jiff::SignedDuration::from_secs(3600)
        );
        assert!(parse_token_body(b"{}").is_err());
        let err = parse_token_body(br#"{"token": {"expires_at": "soon"}}"#).unwrap_err();
        assert!(err.to_string().contains("expires_at"), "{err}");
    }

    #[test]
    fn renewal_margin_is_at_most_half_the_lifetime() {
        let keystone = auth(KeystoneAuth::builder("http://ks").token("t"));
        let sent = Instant::now();
        let info = |seconds: i64| {
            let issued_at: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
            TokenInfo {
                issued_at: Some(issued_at),
                expires_at: Some(issued_at + jiff::SignedDuration::from_secs(seconds)),
                ..TokenInfo::default()
            }
        };
        assert_eq!(
            keystone.inner.renew_at(sent, &info(3600)),
            sent + Duration::from_secs(3540)
        );
        assert_eq!(
            keystone.inner.renew_at(sent, &info(2)),
            sent + Duration::from_secs(1)
        );
        assert_eq!(keystone.inner.renew_at(sent, &info(-5)), sent);
    }

    #[test]
    fn debug_output_has_no_secrets() {
        let keystone = KeystoneAuth::builder("http://ks")
            .password(User::id("u"), "hunter2")
            .project(Project::id("p"));
        assert!(!format!("{keystone:?}").contains("hunter2"));
        assert!(!format!("{:?}", auth(keystone)).contains("hunter2"));
    }
}

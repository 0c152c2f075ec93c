//! A fake OpenStack Keystone (identity v3) on loopback: issues tokens with an expiry and a
//! service catalog whose block storage endpoints point at a [`FakeServer`].

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::builder::DEFAULT_PROJECT_ID;
use crate::recorded::{self, RecordedRequest};
use crate::server_handle::FakeServer;

/// The id of the user a [`FakeKeystone`] knows unless told otherwise.
pub const DEFAULT_USER_ID: &str = "5f1e4b0c9a8d4c7e8b6a5d4c3b2a1f0e";
/// The name of that user.
pub const DEFAULT_USER_NAME: &str = "admin";
/// The password of that user.
pub const DEFAULT_PASSWORD: &str = "fake-password";
/// The id of the domain users and projects are in unless told otherwise.
pub const DEFAULT_DOMAIN_ID: &str = "default";
/// The name of that domain.
pub const DEFAULT_DOMAIN_NAME: &str = "Default";
/// The name of the default project, whose id is [`DEFAULT_PROJECT_ID`] (the project a
/// [`FakeServer`] serves by default).
pub const DEFAULT_PROJECT_NAME: &str = "demo";
/// The region of catalog endpoints unless told otherwise.
pub const DEFAULT_REGION: &str = "RegionOne";
/// How long issued tokens are valid unless told otherwise.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// The largest request body read.
const MAX_BODY: usize = 64 * 1024;

/// A callback told about every token issued.
type OnIssued = Arc<dyn Fn(&FakeIssuedToken) + Send + Sync>;

/// A running fake Keystone v3 server on `127.0.0.1`, for testing code that authenticates.
///
/// It serves `POST {prefix}/v3/auth/tokens` with Keystone's semantics for password auth
/// (user by id, or by name and domain id or name), application credentials (by id, or by
/// name and user) and token auth, each optionally scoped to a project by id or by name and
/// domain; and `GET {prefix}/v3/auth/tokens` (token validation). Issued tokens come in the
/// `X-Subject-Token` header with a body holding `expires_at` (the [token
/// lifetime](FakeKeystoneBuilder::token_lifetime) from now, in whole seconds as fernet
/// tokens have them: `….000000Z`), the user, the project and the service catalog. Without a
/// scope, a password or token auth token is scoped to the user's [default
/// project](FakeUser::default_project), if any. Wrong credentials get Keystone's JSON 401
/// (`{"error": {"code": 401, "title": "Unauthorized", "message": …}}`); an application
/// credential id it does not know, its 404. Where it follows real Keystone 30 is written
/// down in `scripts/real_keystone/FINDINGS.md`.
///
/// The catalog lists the identity service (this server) and the block storage endpoints
/// added with [`volume_server`](FakeKeystoneBuilder::volume_server),
/// [`volume_endpoints`](FakeKeystoneBuilder::volume_endpoints) or
/// [`endpoint`](FakeKeystoneBuilder::endpoint), with the project id substituted (as
/// Keystone does) or left as a `%(project_id)s` or `$(project_id)s` template
/// ([`CatalogUrlStyle`]); a service whose endpoints are all
/// [disabled](FakeEndpoint::disabled) is listed with none.
///
/// A [`FakeServer`] accepts a single token. With
/// [`volume_server`](FakeKeystoneBuilder::volume_server), every token issued becomes the one
/// it accepts (before the answer is sent), so earlier tokens are really refused, as when
/// tokens expire or are revoked; [`on_token_issued`](FakeKeystoneBuilder::on_token_issued)
/// does the same for any callback.
///
/// ```
/// use std::sync::Arc;
/// use serde_json::{Value, json};
/// use vbs_backups_testing::{DEFAULT_PASSWORD, FakeKeystone, FakeServer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let volume = Arc::new(FakeServer::builder().backups(5).start().await?);
/// let keystone = FakeKeystone::builder().volume_server(Arc::clone(&volume)).start().await?;
///
/// // What a client does with a user's openrc: a password token scoped to the project ...
/// let http = reqwest::Client::builder().no_proxy().build()?;
/// let request = json!({"auth": {
///     "identity": {"methods": ["password"], "password": {"user": {
///         "name": "admin", "domain": {"name": "Default"}, "password": DEFAULT_PASSWORD,
///     }}},
///     "scope": {"project": {"name": "demo", "domain": {"id": "default"}}},
/// }});
/// let response = http
///     .post(format!("{}/auth/tokens", keystone.auth_url()))
///     .header("Content-Type", "application/json")
///     .body(request.to_string())
///     .send()
///     .await?;
/// assert_eq!(response.status(), 201);
/// let token = response.headers()["x-subject-token"].to_str()?.to_owned();
/// let body: Value = serde_json::from_str(&response.text().await?)?;
///
/// // ... whose catalog names the volume service ...
/// let volumev3 = body["token"]["catalog"].as_array().into_iter().flatten()
///     .find(|service| service["type"] == "volumev3")
///     .and_then(|service| service["endpoints"].as_array()?.iter().find(|e| e["interface"] == "public"))
///     .and_then(|endpoint| endpoint["url"].as_str())
///     .ok_or("no volumev3 endpoint")?
///     .to_owned();
/// // Templated, as Keystone stores it (see `CatalogUrlStyle`).
/// let volumev3 = volumev3.replace("%(project_id)s", &body["token"]["project"]["id"].as_str().unwrap_or_default());
/// assert_eq!(volumev3, format!("{}/v3/{}", volume.endpoint(), volume.project_id()));
///
/// // ... which accepts the token just issued.
/// let page = http.get(format!("{volumev3}/backups")).header("X-Auth-Token", &token).send().await?;
/// let page: Value = serde_json::from_str(&page.text().await?)?;
/// assert_eq!(page["backups"].as_array().map(Vec::len), Some(5));
/// assert_eq!(keystone.tokens_issued(), 1);
/// # Ok(())
/// # }
/// ```
///
/// The server stops when the `FakeKeystone` is dropped. It must be started from inside a
/// Tokio runtime, on which it then runs.
pub struct FakeKeystone {
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl FakeKeystone {
    /// A builder with the defaults: user [`DEFAULT_USER_NAME`] (id [`DEFAULT_USER_ID`],
    /// password [`DEFAULT_PASSWORD`]) and project [`DEFAULT_PROJECT_NAME`] (id
    /// [`DEFAULT_PROJECT_ID`]), both in domain [`DEFAULT_DOMAIN_NAME`] (id
    /// [`DEFAULT_DOMAIN_ID`]); tokens valid for [`DEFAULT_TOKEN_LIFETIME`]; region
    /// [`DEFAULT_REGION`]; templated catalog URLs; no block storage endpoints.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let keystone = vbs_backups_testing::FakeKeystone::builder().start().await?;
    /// assert!(keystone.auth_url().ends_with("/v3"));
    /// # Ok(()) }
    /// ```
    pub fn builder() -> FakeKeystoneBuilder {
        FakeKeystoneBuilder::default()
    }

    /// Keystone's v3 URL to authenticate against (`OS_AUTH_URL`):
    /// `http://127.0.0.1:PORT{prefix}/v3`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let keystone = vbs_backups_testing::FakeKeystone::builder().path_prefix("identity").start().await?;
    /// assert!(keystone.auth_url().starts_with("http://127.0.0.1:"));
    /// assert!(keystone.auth_url().ends_with("/identity/v3"));
    /// # Ok(()) }
    /// ```
    pub fn auth_url(&self) -> String {
        format!("{}/v3", self.root_url())
    }

    /// Keystone's root, without `/v3`: `http://127.0.0.1:PORT{prefix}`. Clients accept it as
    /// an auth URL too.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let keystone = vbs_backups_testing::FakeKeystone::builder().start().await?;
    /// assert_eq!(format!("{}/v3", keystone.root_url()), keystone.auth_url());
    /// # Ok(()) }
    /// ```
    pub fn root_url(&self) -> String {
        format!("http://{}{}", self.shared.addr, self.shared.settings.prefix)
    }

    /// The address the server listens on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let keystone = vbs_backups_testing::FakeKeystone::builder().start().await?;
    /// assert!(keystone.addr().ip().is_loopback());
    /// # Ok(()) }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// How many tokens were issued so far (by `POST /v3/auth/tokens`; validations issue
    /// none).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let keystone = vbs_backups_testing::FakeKeystone::builder().start().await?;
    /// assert_eq!(keystone.tokens_issued(), 0);
    /// # Ok(()) }
    /// ```
    pub fn tokens_issued(&self) -> usize {
        self.shared.lock().issued.len()
    }

    /// Every token issued so far, oldest first.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let keystone = vbs_backups_testing::FakeKeystone::builder().start().await?;
    /// assert!(keystone.issued_tokens().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn issued_tokens(&self) -> Vec<FakeIssuedToken> {
        self.shared
            .lock()
            .issued
            .iter()
            .map(|issued| issued.token.clone())
            .collect()
    }

    /// Every request received so far, in arrival order (bodies are not kept: they hold
    /// passwords).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let keystone = vbs_backups_testing::FakeKeystone::builder().start().await?;
    /// assert_eq!(keystone.requests().len(), 0);
    /// # Ok(()) }
    /// ```
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().log.clone()
    }

    /// Changes the lifetime of tokens issued from now on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let keystone = vbs_backups_testing::FakeKeystone::builder().start().await?;
    /// keystone.set_token_lifetime(std::time::Duration::from_millis(500));
    /// # Ok(()) }
    /// ```
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.shared.lock().lifetime = lifetime;
    }

    /// Revokes every token issued so far and every pre-issued one: token auth and
    /// validation with them fail from now on (already rotated [`FakeServer`] tokens are not
    /// affected).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let keystone = vbs_backups_testing::FakeKeystone::builder().pre_issued_token("t").start().await?;
    /// keystone.revoke_tokens();
    /// # Ok(()) }
    /// ```
    pub fn revoke_tokens(&self) {
        let mut state = self.shared.lock();
        for issued in &mut state.issued {
            issued.revoked = true;
        }
        state.pre_issued.clear();
    }
}

impl fmt::Debug for FakeKeystone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeKeystone")
            .field("auth_url", &self.auth_url())
            .field("tokens_issued", &self.tokens_issued())
            .finish_non_exhaustive()
    }
}

impl Drop for FakeKeystone {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            // The server task may already be gone with its runtime.
            let _ = shutdown.send(());
        }
    }
}

/// A user a [`FakeKeystone`] knows.
///
/// ```
/// use vbs_backups_testing::FakeUser;
///
/// let bob = FakeUser::new("0b0b0b0b0b0b4b0b8b0b0b0b0b0b0b0b", "bob", "bobs-password")
///     .domain("d-ops", "Ops");
/// assert_eq!(bob.domain_name, "Ops");
/// assert!(!format!("{bob:?}").contains("bobs-password"));
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FakeUser {
    /// The user id.
    pub id: String,
    /// The user name, unique in its domain.
    pub name: String,
    /// The password.
    pub password: String,
    /// The id of the user's domain.
    pub domain_id: String,
    /// The name of the user's domain.
    pub domain_name: String,
    /// The project a token asked for without a scope is scoped to, as Keystone does with
    /// a user's `default_project_id`; `None` (the default) gives an unscoped token.
    pub default_project_id: Option<String>,
}

impl FakeUser {
    /// A user in the default domain.
    ///
    /// ```
    /// let user = vbs_backups_testing::FakeUser::new("u-1", "alice", "pw");
    /// assert_eq!(user.domain_id, "default");
    /// ```
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            password: password.into(),
            domain_id: DEFAULT_DOMAIN_ID.to_owned(),
            domain_name: DEFAULT_DOMAIN_NAME.to_owned(),
            default_project_id: None,
        }
    }

    /// Gives the user a default project: password or token auth without a scope then gets
    /// a token scoped to it, as real Keystone does.
    ///
    /// ```
    /// let user = vbs_backups_testing::FakeUser::new("u-1", "alice", "pw").default_project("p-1");
    /// assert_eq!(user.default_project_id.as_deref(), Some("p-1"));
    /// ```
    pub fn default_project(mut self, project_id: impl Into<String>) -> Self {
        self.default_project_id = Some(project_id.into());
        self
    }

    /// Puts the user in another domain.
    ///
    /// ```
    /// let user = vbs_backups_testing::FakeUser::new("u-1", "alice", "pw").domain("d1", "Lab");
    /// assert_eq!(user.domain_id, "d1");
    /// ```
    pub fn domain(mut self, id: impl Into<String>, name: impl Into<String>) -> Self {
        self.domain_id = id.into();
        self.domain_name = name.into();
        self
    }

    fn domain_matches(&self, domain: Option<&Value>) -> bool {
        domain_matches(domain, &self.domain_id, &self.domain_name)
    }
}

impl fmt::Debug for FakeUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeUser")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("password", &"<redacted>")
            .field("domain_id", &self.domain_id)
            .field("domain_name", &self.domain_name)
            .finish()
    }
}

/// A project a [`FakeKeystone`] scopes tokens to. Every user may use every project.
///
/// ```
/// use vbs_backups_testing::FakeProject;
///
/// let ops = FakeProject::new("0123456789abcdef0123456789abcdef", "ops").domain("d-ops", "Ops");
/// assert_eq!(ops.name, "ops");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FakeProject {
    /// The project id (the one in block storage URLs).
    pub id: String,
    /// The project name, unique in its domain.
    pub name: String,
    /// The id of the project's domain.
    pub domain_id: String,
    /// The name of the project's domain.
    pub domain_name: String,
}

impl FakeProject {
    /// A project in the default domain.
    ///
    /// ```
    /// let project = vbs_backups_testing::FakeProject::new("p-1", "lab");
    /// assert_eq!(project.domain_name, "Default");
    /// ```
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            domain_id: DEFAULT_DOMAIN_ID.to_owned(),
            domain_name: DEFAULT_DOMAIN_NAME.to_owned(),
        }
    }

    /// Puts the project in another domain.
    ///
    /// ```
    /// let project = vbs_backups_testing::FakeProject::new("p-1", "lab").domain("d1", "Lab");
    /// assert_eq!(project.domain_id, "d1");
    /// ```
    pub fn domain(mut self, id: impl Into<String>, name: impl Into<String>) -> Self {
        self.domain_id = id.into();
        self.domain_name = name.into();
        self
    }
}

/// An application credential a [`FakeKeystone`] accepts: it authenticates as its user,
/// scoped to its project.
///
/// ```
/// use vbs_backups_testing::FakeApplicationCredential;
///
/// let credential = FakeApplicationCredential::new("ac-1", "backup-audit", "app-secret");
/// assert_eq!(credential.user_id, vbs_backups_testing::DEFAULT_USER_ID);
/// assert!(!format!("{credential:?}").contains("app-secret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FakeApplicationCredential {
    /// The credential id.
    pub id: String,
    /// The credential name, unique for its user.
    pub name: String,
    /// The secret.
    pub secret: String,
    /// The id of the user it belongs to.
    pub user_id: String,
    /// The id of the project it is bound to.
    pub project_id: String,
}

impl FakeApplicationCredential {
    /// A credential of the default user, bound to the default project.
    ///
    /// ```
    /// let credential = vbs_backups_testing::FakeApplicationCredential::new("ac-1", "audit", "s");
    /// assert_eq!(credential.project_id, vbs_backups_testing::DEFAULT_PROJECT_ID);
    /// ```
    pub fn new(id: impl Into<String>, name: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            secret: secret.into(),
            user_id: DEFAULT_USER_ID.to_owned(),
            project_id: DEFAULT_PROJECT_ID.to_owned(),
        }
    }

    /// The user it belongs to.
    ///
    /// ```
    /// let credential = vbs_backups_testing::FakeApplicationCredential::new("ac-1", "a", "s").user_id("u-2");
    /// assert_eq!(credential.user_id, "u-2");
    /// ```
    pub fn user_id(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = user_id.into();
        self
    }

    /// The project it is bound to.
    ///
    /// ```
    /// let credential = vbs_backups_testing::FakeApplicationCredential::new("ac-1", "a", "s").project_id("p-2");
    /// assert_eq!(credential.project_id, "p-2");
    /// ```
    pub fn project_id(mut self, project_id: impl Into<String>) -> Self {
        self.project_id = project_id.into();
        self
    }
}

impl fmt::Debug for FakeApplicationCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeApplicationCredential")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("secret", &"<redacted>")
            .field("user_id", &self.user_id)
            .field("project_id", &self.project_id)
            .finish()
    }
}

/// An endpoint in a [`FakeKeystone`]'s catalog. `%(project_id)s` in the URL is rendered
/// per [`CatalogUrlStyle`].
///
/// ```
/// use vbs_backups_testing::FakeEndpoint;
///
/// let endpoint = FakeEndpoint::new("volumev3", "internal", "http://127.0.0.1:8776/v3/%(project_id)s")
///     .region("RegionTwo");
/// assert_eq!(endpoint.region.as_deref(), Some("RegionTwo"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FakeEndpoint {
    /// The service type, such as `volumev3`.
    pub service_type: String,
    /// `public`, `internal` or `admin`.
    pub interface: String,
    /// The region; `None` means the server's [region](FakeKeystoneBuilder::region).
    pub region: Option<String>,
    /// The URL, usually with `%(project_id)s`.
    pub url: String,
    /// Whether Keystone lists it. A disabled endpoint is left out of token catalogs, but
    /// its service stays, with `"endpoints": []` if it has no other, as real Keystone does.
    pub enabled: bool,
}

impl FakeEndpoint {
    /// An endpoint in the server's region.
    ///
    /// ```
    /// let endpoint = vbs_backups_testing::FakeEndpoint::new("volumev2", "public", "http://127.0.0.1:1/v2/%(project_id)s");
    /// assert_eq!(endpoint.region, None);
    /// ```
    pub fn new(
        service_type: impl Into<String>,
        interface: impl Into<String>,
        url: impl Into<String>,
    ) -> Self {
        Self {
            service_type: service_type.into(),
            interface: interface.into(),
            region: None,
            url: url.into(),
            enabled: true,
        }
    }

    /// Disables the endpoint (see [`enabled`](Self::enabled)).
    ///
    /// ```
    /// let endpoint = vbs_backups_testing::FakeEndpoint::new("volumev2", "public", "http://127.0.0.1:1/v2").disabled();
    /// assert!(!endpoint.enabled);
    /// ```
    pub fn disabled(mut self) -> Self {
        self.enabled = false;
        self
    }

    /// Puts the endpoint in this region.
    ///
    /// ```
    /// let endpoint = vbs_backups_testing::FakeEndpoint::new("volumev3", "public", "http://127.0.0.1:1").region("r2");
    /// assert_eq!(endpoint.region.as_deref(), Some("r2"));
    /// ```
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }
}

/// How the project id appears in the catalog URLs of a [`FakeKeystone`].
///
/// ```
/// use vbs_backups_testing::{CatalogUrlStyle, FakeKeystone};
///
/// let builder = FakeKeystone::builder().catalog_url_style(CatalogUrlStyle::Substituted);
/// assert_eq!(CatalogUrlStyle::default(), CatalogUrlStyle::Substituted);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CatalogUrlStyle {
    /// `…/v3/%(project_id)s`, as endpoints are registered (and as some other identity
    /// services list them).
    PercentTemplate,
    /// `…/v3/$(project_id)s`, the older template form.
    DollarTemplate,
    /// `…/v3/b23b579f…`: the token's project filled in, as Keystone does for scoped tokens
    /// (both template forms; seen on Keystone 30, `scripts/real_keystone/FINDINGS.md`).
    #[default]
    Substituted,
}

/// A token a [`FakeKeystone`] issued.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let keystone = vbs_backups_testing::FakeKeystone::builder().start().await?;
/// for token in keystone.issued_tokens() {
///     println!("{} for {:?} via {:?}", token.token, token.project_id, token.methods);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FakeIssuedToken {
    /// The token, as sent in `X-Subject-Token`.
    pub token: String,
    /// The auth method used: `password`, `application_credential` or `token`.
    pub methods: Vec<String>,
    /// The user it was issued to.
    pub user_id: String,
    /// The project it is scoped to, if any.
    pub project_id: Option<String>,
    /// Its `expires_at`, as sent.
    pub expires_at: String,
    /// How long it is valid.
    pub lifetime: Duration,
}

/// Configures and starts a [`FakeKeystone`]; created by [`FakeKeystone::builder`].
///
/// ```
/// use std::time::Duration;
/// use vbs_backups_testing::{FakeKeystone, FakeProject, FakeUser};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let keystone = FakeKeystone::builder()
///     .user(FakeUser::new("u-2", "bob", "bobs-password"))
///     .project(FakeProject::new("p-2", "lab"))
///     .token_lifetime(Duration::from_secs(2))
///     .region("eu-de")
///     .start()
///     .await?;
/// # Ok(()) }
/// ```
#[must_use]
#[derive(Clone)]
pub struct FakeKeystoneBuilder {
    users: Vec<FakeUser>,
    projects: Vec<FakeProject>,
    credentials: Vec<FakeApplicationCredential>,
    pre_issued: Vec<String>,
    lifetime: Duration,
    region: String,
    style: CatalogUrlStyle,
    endpoints: Vec<FakeEndpoint>,
    on_issued: Vec<OnIssued>,
    prefix: String,
}

impl Default for FakeKeystoneBuilder {
    fn default() -> Self {
        Self {
            users: vec![FakeUser::new(
                DEFAULT_USER_ID,
                DEFAULT_USER_NAME,
                DEFAULT_PASSWORD,
            )],
            projects: vec![FakeProject::new(DEFAULT_PROJECT_ID, DEFAULT_PROJECT_NAME)],
            credentials: Vec::new(),
            pre_issued: Vec::new(),
            lifetime: DEFAULT_TOKEN_LIFETIME,
            region: DEFAULT_REGION.to_owned(),
            style: CatalogUrlStyle::default(),
            endpoints: Vec::new(),
            on_issued: Vec::new(),
            prefix: String::new(),
        }
    }
}

impl fmt::Debug for FakeKeystoneBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeKeystoneBuilder")
            .field("users", &self.users)
            .field("projects", &self.projects)
            .field("lifetime", &self.lifetime)
            .field("region", &self.region)
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

impl FakeKeystoneBuilder {
    /// Adds a user (the default one stays).
    ///
    /// ```
    /// let builder = vbs_backups_testing::FakeKeystone::builder()
    ///     .user(vbs_backups_testing::FakeUser::new("u-2", "bob", "pw"));
    /// ```
    pub fn user(mut self, user: FakeUser) -> Self {
        self.users.push(user);
        self
    }

    /// Adds a project (the default one stays).
    ///
    /// ```
    /// let builder = vbs_backups_testing::FakeKeystone::builder()
    ///     .project(vbs_backups_testing::FakeProject::new("p-2", "lab"));
    /// ```
    pub fn project(mut self, project: FakeProject) -> Self {
        self.projects.push(project);
        self
    }

    /// Adds an application credential.
    ///
    /// ```
    /// let builder = vbs_backups_testing::FakeKeystone::builder()
    ///     .application_credential(vbs_backups_testing::FakeApplicationCredential::new("ac-1", "audit", "s"));
    /// ```
    pub fn application_credential(mut self, credential: FakeApplicationCredential) -> Self {
        self.credentials.push(credential);
        self
    }

    /// Accepts this token for token auth and validation, as if issued earlier to the
    /// default user for the default project; it does not expire (until
    /// [`FakeKeystone::revoke_tokens`]).
    ///
    /// ```
    /// let builder = vbs_backups_testing::FakeKeystone::builder().pre_issued_token("gAAAA-pre");
    /// ```
    pub fn pre_issued_token(mut self, token: impl Into<String>) -> Self {
        self.pre_issued.push(token.into());
        self
    }

    /// How long issued tokens are valid (default [`DEFAULT_TOKEN_LIFETIME`]). As with
    /// Keystone's fernet tokens, `issued_at` and `expires_at` are whole seconds
    /// (`….000000Z`, both rounded down), and a token is refused from its `expires_at` on: a
    /// lifetime of 2 s lasts between 1 and 2 s, a sub-second one may end at once.
    ///
    /// ```
    /// let builder = vbs_backups_testing::FakeKeystone::builder()
    ///     .token_lifetime(std::time::Duration::from_millis(800));
    /// ```
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// The region of endpoints that name none (default [`DEFAULT_REGION`]).
    ///
    /// ```
    /// let builder = vbs_backups_testing::FakeKeystone::builder().region("eu-de");
    /// ```
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// How catalog URLs carry the project id (default
    /// [`CatalogUrlStyle::PercentTemplate`]).
    ///
    /// ```
    /// use vbs_backups_testing::{CatalogUrlStyle, FakeKeystone};
    /// let builder = FakeKeystone::builder().catalog_url_style(CatalogUrlStyle::DollarTemplate);
    /// ```
    pub fn catalog_url_style(mut self, style: CatalogUrlStyle) -> Self {
        self.style = style;
        self
    }

    /// Adds a catalog endpoint.
    ///
    /// ```
    /// use vbs_backups_testing::{FakeEndpoint, FakeKeystone};
    /// let builder = FakeKeystone::builder()
    ///     .endpoint(FakeEndpoint::new("volumev3", "admin", "http://127.0.0.1:9/v3/%(project_id)s"));
    /// ```
    pub fn endpoint(mut self, endpoint: FakeEndpoint) -> Self {
        self.endpoints.push(endpoint);
        self
    }

    /// Adds `server` to the catalog as `block-storage` and `volumev3` (`{endpoint}/v3/…`)
    /// and `volumev2` (`{endpoint}/v2/…`), each as public, internal and admin endpoint in
    /// the server's region. The server's tokens are not touched: see
    /// [`volume_server`](Self::volume_server).
    ///
    /// ```
    /// use vbs_backups_testing::{FakeKeystone, FakeServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let volume = FakeServer::builder().no_auth().start().await?;
    /// let keystone = FakeKeystone::builder().volume_endpoints(&volume).start().await?;
    /// # Ok(()) }
    /// ```
    pub fn volume_endpoints(mut self, server: &FakeServer) -> Self {
        let root = server.endpoint();
        for (service_type, version) in [
            ("block-storage", "v3"),
            ("volumev3", "v3"),
            ("volumev2", "v2"),
        ] {
            for interface in ["public", "internal", "admin"] {
                self.endpoints.push(FakeEndpoint::new(
                    service_type,
                    interface,
                    format!("{root}/{version}/%(project_id)s"),
                ));
            }
        }
        self
    }

    /// [`volume_endpoints`](Self::volume_endpoints), and every token issued becomes the one
    /// token `server` accepts ([`FakeServer::set_token`]) before the answer is sent: the
    /// server then refuses every earlier token with its 401.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use vbs_backups_testing::{FakeKeystone, FakeServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let volume = Arc::new(FakeServer::builder().start().await?);
    /// let keystone = FakeKeystone::builder().volume_server(Arc::clone(&volume)).start().await?;
    /// # Ok(()) }
    /// ```
    pub fn volume_server(self, server: Arc<FakeServer>) -> Self {
        self.volume_endpoints(&server)
            .on_token_issued(move |issued| server.set_token(issued.token.clone()))
    }

    /// Calls `callback` with every token issued, before the answer is sent (so whatever it
    /// sets up is in place when the client gets the token). Callbacks run in the order they
    /// were added.
    ///
    /// ```
    /// use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
    ///
    /// let seen = Arc::new(AtomicUsize::new(0));
    /// let counter = Arc::clone(&seen);
    /// let builder = vbs_backups_testing::FakeKeystone::builder()
    ///     .on_token_issued(move |_| { counter.fetch_add(1, Ordering::SeqCst); });
    /// ```
    pub fn on_token_issued(
        mut self,
        callback: impl Fn(&FakeIssuedToken) + Send + Sync + 'static,
    ) -> Self {
        self.on_issued.push(Arc::new(callback));
        self
    }

    /// Serves under this path, like a gateway that mounts Keystone at `/identity`.
    /// `"identity"`, `"/identity"` and `"/identity/"` are the same prefix.
    ///
    /// ```
    /// let builder = vbs_backups_testing::FakeKeystone::builder().path_prefix("/identity");
    /// ```
    pub fn path_prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        let trimmed = prefix.trim_matches('/');
        self.prefix = if trimmed.is_empty() {
            String::new()
        } else {
            format!("/{trimmed}")
        };
        self
    }

    /// Binds a free port on `127.0.0.1` and spawns the server on the current Tokio runtime.
    ///
    /// # Errors
    ///
    /// Fails if there is no current Tokio runtime or the port cannot be bound.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let keystone = vbs_backups_testing::FakeKeystone::builder().start().await?;
    /// # Ok(()) }
    /// ```
    pub async fn start(self) -> io::Result<FakeKeystone> {
        let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let region = self.region;
        let endpoints = self
            .endpoints
            .into_iter()
            .map(|mut endpoint| {
                endpoint.region.get_or_insert_with(|| region.clone());
                endpoint
            })
            .collect();
        let shared = Arc::new(Shared {
            addr,
            settings: Settings {
                users: self.users,
                projects: self.projects,
                credentials: self.credentials,
                region,
                style: self.style,
                endpoints,
                on_issued: self.on_issued,
                prefix: self.prefix,
            },
            state: Mutex::new(LiveState {
                issued: Vec::new(),
                pre_issued: self.pre_issued,
                lifetime: self.lifetime,
                log: Vec::new(),
            }),
        });
        let (shutdown, stopped) = oneshot::channel();
        runtime.spawn(run(listener, Arc::clone(&shared), stopped));
        Ok(FakeKeystone {
            shared,
            shutdown: Some(shutdown),
        })
    }
}

/// What is fixed at start.
struct Settings {
    users: Vec<FakeUser>,
    projects: Vec<FakeProject>,
    credentials: Vec<FakeApplicationCredential>,
    region: String,
    style: CatalogUrlStyle,
    endpoints: Vec<FakeEndpoint>,
    on_issued: Vec<OnIssued>,
    prefix: String,
}

/// What changes while the server runs.
struct LiveState {
    issued: Vec<Issued>,
    pre_issued: Vec<String>,
    lifetime: Duration,
    log: Vec<RecordedRequest>,
}

/// A token issued, with what the server needs to judge it later.
struct Issued {
    token: FakeIssuedToken,
    issued_at: String,
    valid_until: Instant,
    revoked: bool,
}

struct Shared {
    addr: SocketAddr,
    settings: Settings,
    state: Mutex<LiveState>,
}

/// Who a request authenticated as.
struct Identity {
    user: FakeUser,
    methods: Vec<String>,
    /// Set by an application credential, which brings its own project.
    bound_project: Option<String>,
    application_credential: Option<(String, String)>,
}

/// A refusal: status and Keystone's error body.
struct Refusal {
    status: StatusCode,
    title: &'static str,
    message: String,
}

impl Refusal {
    fn unauthorized() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            title: "Unauthorized",
            message: "The request you have made requires authentication.".to_owned(),
        }
    }

    fn unauthorized_because(message: &str) -> Self {
        Self {
            message: message.to_owned(),
            ..Self::unauthorized()
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            title: "Bad Request",
            message: message.into(),
        }
    }

    fn not_found(message: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            title: "Not Found",
            message: message.to_owned(),
        }
    }

    fn into_response(self, root: &str) -> Response {
        let body = json!({"error": {
            "code": self.status.as_u16(),
            "title": self.title,
            "message": self.message,
        }});
        let mut response = json_response(self.status, &body);
        if self.status == StatusCode::UNAUTHORIZED {
            if let Ok(value) = HeaderValue::from_str(&format!("Keystone uri=\"{root}/v3\"")) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, LiveState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn root(&self) -> String {
        format!("http://{}{}", self.addr, self.settings.prefix)
    }

    /// `POST /v3/auth/tokens`.
    fn issue(&self, body: &[u8]) -> Result<Response, Refusal> {
        let request: Value = serde_json::from_slice(body)
            .map_err(|err| Refusal::bad_request(format!("Invalid JSON body: {err}")))?;
        let auth = request
            .get("auth")
            .ok_or_else(|| Refusal::bad_request("'auth' is a required property"))?;
        let identity = self.identify(auth.get("identity"))?;
        let scope = auth.get("scope").filter(|scope| !scope.is_null());
        let project = match (&identity.bound_project, scope) {
            (Some(_), Some(_)) => {
                return Err(Refusal::unauthorized_because(
                    "Error authenticating with application credential: Application \
                     credentials cannot request a scope.",
                ));
            }
            (Some(bound), None) => Some(
                self.settings
                    .projects
                    .iter()
                    .find(|project| &project.id == bound)
                    .cloned()
                    .unwrap_or_else(|| FakeProject::new(bound.clone(), bound.clone())),
            ),
            (None, Some(scope)) => Some(self.scoped_project(scope)?),
            // Keystone scopes a token asked without a scope (password or token auth) to
            // the user's default project, if it has one.
            (None, None) => identity
                .user
                .default_project_id
                .as_deref()
                .and_then(|id| self.project_by_id(id)),
        };
        let (issued, body) = {
            let mut state = self.lock();
            let serial = state.issued.len() + 1;
            let lifetime = state.lifetime;
            // Fernet tokens carry whole seconds: both times are rounded down, and the
            // token is good until its rounded expires_at.
            let now = jiff::Timestamp::now();
            let issued_at = stamp(now);
            let expires = whole_seconds(
                now.checked_add(jiff::SignedDuration::try_from(lifetime).unwrap_or_default())
                    .unwrap_or(now),
            );
            let expires_at = stamp(expires);
            let valid_for =
                Duration::try_from(expires.duration_since(now)).unwrap_or(Duration::ZERO);
            let token = FakeIssuedToken {
                token: format!("fake-ks-{:05}-{serial:06}", self.addr.port()),
                methods: identity.methods.clone(),
                user_id: identity.user.id.clone(),
                project_id: project.as_ref().map(|project| project.id.clone()),
                expires_at,
                lifetime,
            };
            let body = self.token_body(&token, &issued_at, &identity, project.as_ref());
            state.issued.push(Issued {
                token: token.clone(),
                issued_at,
                valid_until: Instant::now() + valid_for,
                revoked: false,
            });
            (token, body)
        };
        for callback in &self.settings.on_issued {
            callback(&issued);
        }
        let mut response = json_response(StatusCode::CREATED, &body);
        if let Ok(value) = HeaderValue::from_str(&issued.token) {
            response.headers_mut().insert("x-subject-token", value);
        }
        Ok(response)
    }

    /// `GET /v3/auth/tokens`: the body of a valid subject token.
    fn validate(&self, parts: &Parts) -> Result<Response, Refusal> {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::trim)
        };
        let caller = header("x-auth-token").ok_or_else(Refusal::unauthorized)?;
        self.token_identity(caller)
            .ok_or_else(Refusal::unauthorized)?;
        let subject = header("x-subject-token")
            .ok_or_else(|| Refusal::not_found("Failed to validate token"))?;
        let state = self.lock();
        let body = if let Some(issued) = state.issued.iter().find(|issued| {
            issued.token.token == subject && !issued.revoked && Instant::now() < issued.valid_until
        }) {
            let user = self
                .user_by_id(&issued.token.user_id)
                .ok_or_else(|| Refusal::not_found("Failed to validate token"))?;
            let project = issued
                .token
                .project_id
                .as_deref()
                .and_then(|id| self.project_by_id(id));
            let identity = Identity {
                user,
                methods: issued.token.methods.clone(),
                bound_project: None,
                application_credential: None,
            };
            self.token_body(
                &issued.token,
                &issued.issued_at,
                &identity,
                project.as_ref(),
            )
        } else if state.pre_issued.iter().any(|token| token == subject) {
            let (identity, project) = self.pre_issued_identity()?;
            let now = jiff::Timestamp::now();
            let token = FakeIssuedToken {
                token: subject.to_owned(),
                methods: vec!["password".to_owned()],
                user_id: identity.user.id.clone(),
                project_id: project.as_ref().map(|project| project.id.clone()),
                expires_at: stamp(
                    now.checked_add(jiff::SignedDuration::from_hours(24))
                        .unwrap_or(now),
                ),
                lifetime: Duration::from_secs(24 * 3600),
            };
            self.token_body(&token, &stamp(now), &identity, project.as_ref())
        } else {
            return Err(Refusal::not_found("Failed to validate token"));
        };
        drop(state);
        let mut response = json_response(StatusCode::OK, &body);
        if let Ok(value) = HeaderValue::from_str(subject) {
            response.headers_mut().insert("x-subject-token", value);
        }
        Ok(response)
    }

    fn user_by_id(&self, id: &str) -> Option<FakeUser> {
        self.settings
            .users
            .iter()
            .find(|user| user.id == id)
            .cloned()
    }

    fn project_by_id(&self, id: &str) -> Option<FakeProject> {
        self.settings
            .projects
            .iter()
            .find(|project| project.id == id)
            .cloned()
    }

    /// The default user and project, whom pre-issued tokens belong to.
    fn pre_issued_identity(&self) -> Result<(Identity, Option<FakeProject>), Refusal> {
        let user = self
            .settings
            .users
            .first()
            .cloned()
            .ok_or_else(Refusal::unauthorized)?;
        let project = self.settings.projects.first().cloned();
        Ok((
            Identity {
                user,
                methods: vec!["token".to_owned()],
                bound_project: None,
                application_credential: None,
            },
            project,
        ))
    }

    /// The user behind a valid token (issued or pre-issued).
    fn token_identity(&self, token: &str) -> Option<FakeUser> {
        let state = self.lock();
        if state.pre_issued.iter().any(|known| known == token) {
            return self.settings.users.first().cloned();
        }
        let issued = state.issued.iter().find(|issued| {
            issued.token.token == token && !issued.revoked && Instant::now() < issued.valid_until
        })?;
        self.user_by_id(&issued.token.user_id)
    }

    /// Checks `auth.identity`.
    fn identify(&self, identity: Option<&Value>) -> Result<Identity, Refusal> {
        let identity =
            identity.ok_or_else(|| Refusal::bad_request("'identity' is a required property"))?;
        let methods: Vec<&str> = identity
            .get("methods")
            .and_then(Value::as_array)
            .map(|methods| methods.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let Some(method) = methods.first().copied() else {
            return Err(Refusal::bad_request("'methods' is a required property"));
        };
        let details = identity
            .get(method)
            .ok_or_else(|| Refusal::bad_request(format!("'{method}' is a required property")))?;
        match method {
            "password" => {
                let user = details.get("user").ok_or_else(Refusal::unauthorized)?;
                let password = user.get("password").and_then(Value::as_str);
                let found = self.find_user(user).ok_or_else(Refusal::unauthorized)?;
                if password != Some(found.password.as_str()) {
                    return Err(Refusal::unauthorized());
                }
                Ok(Identity {
                    user: found,
                    methods: vec!["password".to_owned()],
                    bound_project: None,
                    application_credential: None,
                })
            }
            "application_credential" => {
                let secret = details.get("secret").and_then(Value::as_str);
                let credential = match details.get("id").and_then(Value::as_str) {
                    // Keystone answers an unknown id with 404, not 401.
                    Some(id) => Some(
                        self.settings
                            .credentials
                            .iter()
                            .find(|c| c.id == id)
                            .ok_or_else(|| {
                                Refusal::not_found(&format!(
                                    "Could not find Application Credential: {id}."
                                ))
                            })?,
                    ),
                    None => {
                        let name = details.get("name").and_then(Value::as_str);
                        let owner = details
                            .get("user")
                            .and_then(|user| self.find_user(user))
                            .ok_or_else(Refusal::unauthorized)?;
                        self.settings
                            .credentials
                            .iter()
                            .find(|c| Some(c.name.as_str()) == name && c.user_id == owner.id)
                    }
                }
                .ok_or_else(Refusal::unauthorized)?;
                if secret != Some(credential.secret.as_str()) {
                    return Err(Refusal::unauthorized());
                }
                let user = self
                    .user_by_id(&credential.user_id)
                    .ok_or_else(Refusal::unauthorized)?;
                Ok(Identity {
                    user,
                    methods: vec!["application_credential".to_owned()],
                    bound_project: Some(credential.project_id.clone()),
                    application_credential: Some((credential.id.clone(), credential.name.clone())),
                })
            }
            "token" => {
                let token = details
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(Refusal::unauthorized)?;
                let user = self
                    .token_identity(token)
                    .ok_or_else(Refusal::unauthorized)?;
                Ok(Identity {
                    user,
                    methods: vec!["token".to_owned()],
                    bound_project: None,
                    application_credential: None,
                })
            }
            other => Err(Refusal::unauthorized_because(&format!(
                "Attempted to authenticate with an unsupported method: {other}."
            ))),
        }
    }

    /// A user by `{"id"}` or `{"name", "domain": {"id" | "name"}}`.
    fn find_user(&self, user: &Value) -> Option<FakeUser> {
        if let Some(id) = user.get("id").and_then(Value::as_str) {
            return self.user_by_id(id);
        }
        let name = user.get("name").and_then(Value::as_str)?;
        self.settings
            .users
            .iter()
            .find(|candidate| {
                candidate.name == name && candidate.domain_matches(user.get("domain"))
            })
            .cloned()
    }

    /// The project of `{"project": {"id"} | {"name", "domain"}}`.
    fn scoped_project(&self, scope: &Value) -> Result<FakeProject, Refusal> {
        let project = scope
            .get("project")
            .ok_or_else(|| Refusal::unauthorized_because("Only project scope is supported."))?;
        let found = if let Some(id) = project.get("id").and_then(Value::as_str) {
            self.project_by_id(id)
        } else {
            let name = project.get("name").and_then(Value::as_str);
            self.settings
                .projects
                .iter()
                .find(|candidate| {
                    Some(candidate.name.as_str()) == name
                        && domain_matches(
                            project.get("domain"),
                            &candidate.domain_id,
                            &candidate.domain_name,
                        )
                })
                .cloned()
        };
        found.ok_or_else(Refusal::unauthorized)
    }

    /// Keystone's `{"token": …}`.
    fn token_body(
        &self,
        token: &FakeIssuedToken,
        issued_at: &str,
        identity: &Identity,
        project: Option<&FakeProject>,
    ) -> Value {
        let user = &identity.user;
        let mut body = json!({
            "methods": token.methods,
            "user": {
                "id": user.id,
                "name": user.name,
                "domain": {"id": user.domain_id, "name": user.domain_name},
                "password_expires_at": null,
            },
            "audit_ids": [format!("audit-{}", token.token)],
            "expires_at": token.expires_at,
            "issued_at": issued_at,
        });
        if let Some(project) = project {
            body["project"] = json!({
                "id": project.id,
                "name": project.name,
                "domain": {"id": project.domain_id, "name": project.domain_name},
            });
            body["is_domain"] = json!(false);
            // Implied roles are listed too: member implies reader.
            body["roles"] = json!([
                {"id": "member-role", "name": "member"},
                {"id": "reader-role", "name": "reader"},
            ]);
            body["catalog"] = self.catalog(&project.id);
        }
        if let Some((id, name)) = &identity.application_credential {
            body["application_credential"] = json!({"id": id, "name": name, "restricted": true});
        }
        json!({ "token": body })
    }

    /// The catalog for a token scoped to `project_id`.
    fn catalog(&self, project_id: &str) -> Value {
        let root = self.root();
        let mut services: Vec<(String, Vec<Value>)> = vec![(
            "identity".to_owned(),
            ["public", "internal", "admin"]
                .iter()
                .map(|interface| {
                    endpoint_json(interface, &self.settings.region, &format!("{root}/v3"))
                })
                .collect(),
        )];
        for endpoint in &self.settings.endpoints {
            let url = match self.settings.style {
                CatalogUrlStyle::PercentTemplate => endpoint.url.clone(),
                CatalogUrlStyle::DollarTemplate => {
                    endpoint.url.replace("%(project_id)s", "$(project_id)s")
                }
                CatalogUrlStyle::Substituted => endpoint.url.replace("%(project_id)s", project_id),
            };
            let region = endpoint.region.as_deref().unwrap_or(&self.settings.region);
            let json = endpoint
                .enabled
                .then(|| endpoint_json(&endpoint.interface, region, &url));
            match services
                .iter_mut()
                .find(|(kind, _)| *kind == endpoint.service_type)
            {
                Some((_, endpoints)) => endpoints.extend(json),
                None => services.push((endpoint.service_type.clone(), json.into_iter().collect())),
            }
        }
        Value::Array(
            services
                .into_iter()
                .enumerate()
                .map(|(index, (service_type, endpoints))| {
                    json!({
                        "type": service_type,
                        "name": service_name(&service_type),
                        "id": format!("service-{index}"),
                        "endpoints": endpoints,
                    })
                })
                .collect(),
        )
    }
}

fn endpoint_json(interface: &str, region: &str, url: &str) -> Value {
    json!({
        "id": format!("{interface}-{url}"),
        "interface": interface,
        "region": region,
        "region_id": region,
        "url": url,
    })
}

fn service_name(service_type: &str) -> &str {
    match service_type {
        "identity" => "keystone",
        "volumev3" => "cinderv3",
        "volumev2" => "cinderv2",
        "block-storage" | "volume" => "cinder",
        other => other,
    }
}

/// Whether `{"id"}` / `{"name"}` names the domain.
fn domain_matches(domain: Option<&Value>, id: &str, name: &str) -> bool {
    let Some(domain) = domain else {
        return false;
    };
    match (
        domain.get("id").and_then(Value::as_str),
        domain.get("name").and_then(Value::as_str),
    ) {
        (Some(given), _) => given == id,
        (None, Some(given)) => given == name,
        (None, None) => false,
    }
}

/// Keystone's time format for fernet tokens: whole seconds, `2026-12-04T15:37:22.000000Z`.
fn stamp(time: jiff::Timestamp) -> String {
    whole_seconds(time)
        .strftime("%Y-%m-%dT%H:%M:%S.%6fZ")
        .to_string()
}

/// `time` rounded down to the second.
fn whole_seconds(time: jiff::Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_second(time.as_second()).unwrap_or(time)
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(Body::from(serde_json::to_vec(body).unwrap_or_default()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Serves `shared` on `listener` until `stopped` fires or its sender is dropped.
async fn run(listener: TcpListener, shared: Arc<Shared>, stopped: oneshot::Receiver<()>) {
    let app = Router::new().fallback(respond).with_state(shared);
    let serving = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stopped.await;
    });
    if let Err(error) = serving.await {
        tracing::warn!(%error, "fake Keystone stopped with an error");
    }
}

async fn respond(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    shared.lock().log.push(recorded::record(&parts));
    let root = shared.root();
    let tokens_path = format!("{}/v3/auth/tokens", shared.settings.prefix);
    let path = parts.uri.path().trim_end_matches('/');
    let result = if path != tokens_path {
        Err(Refusal::not_found("The resource could not be found."))
    } else if parts.method == Method::POST {
        match axum::body::to_bytes(body, MAX_BODY).await {
            Ok(bytes) => shared.issue(&bytes),
            Err(_) => Err(Refusal::bad_request("The request body is too large.")),
        }
    } else if parts.method == Method::GET {
        shared.validate(&parts)
    } else {
        Err(Refusal {
            status: StatusCode::METHOD_NOT_ALLOWED,
            title: "Method Not Allowed",
            message: "The method is not allowed for the requested URL.".to_owned(),
        })
    };
    let mut response = result.unwrap_or_else(|refusal| refusal.into_response(&root));
    if let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(b"x-openstack-request-id"),
        HeaderValue::from_str(&format!("req-ks-{}", shared.lock().log.len())),
    ) {
        response.headers_mut().insert(name, value);
    }
    response
}

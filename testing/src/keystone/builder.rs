//! [`FakeKeystoneBuilder`]: what a [`FakeKeystone`] knows and how it answers, and its start.

use std::fmt;
use std::io;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::directory::{
    CatalogUrlStyle, DEFAULT_PASSWORD, DEFAULT_PROJECT_NAME, DEFAULT_USER_ID, DEFAULT_USER_NAME,
    FakeApplicationCredential, FakeEndpoint, FakeProject, FakeUser,
};
use super::handle::FakeKeystone;
use super::handler::{self, KeystoneSettings, KeystoneState, LiveState, OnIssued};
use super::token::FakeIssuedToken;
use crate::builder::DEFAULT_PROJECT_ID;
use crate::server_handle::FakeServer;

/// The region of catalog endpoints unless told otherwise.
pub const DEFAULT_REGION: &str = "RegionOne";
/// How long issued tokens are valid unless told otherwise.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

impl FakeKeystone {
    /// A builder with the defaults: user [`DEFAULT_USER_NAME`] (id [`DEFAULT_USER_ID`],
    /// password [`DEFAULT_PASSWORD`]) and project [`DEFAULT_PROJECT_NAME`] (id
    /// [`DEFAULT_PROJECT_ID`]), both in domain [`DEFAULT_DOMAIN_NAME`](crate::DEFAULT_DOMAIN_NAME)
    /// (id [`DEFAULT_DOMAIN_ID`](crate::DEFAULT_DOMAIN_ID)); tokens valid for
    /// [`DEFAULT_TOKEN_LIFETIME`]; region [`DEFAULT_REGION`]; templated catalog URLs; no block storage endpoints.
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
        let shared = Arc::new(KeystoneState {
            addr,
            settings: KeystoneSettings {
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
        runtime.spawn(handler::run(listener, Arc::clone(&shared), stopped));
        Ok(FakeKeystone {
            shared,
            shutdown: Some(shutdown),
        })
    }
}

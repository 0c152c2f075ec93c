//! What a [`FakeKeystone`](crate::FakeKeystone) knows: its users, projects, application
//! credentials and catalog endpoints, and the defaults they start from.

use std::fmt;

use serde_json::Value;

use crate::builder::DEFAULT_PROJECT_ID;

/// The id of the user a [`FakeKeystone`](crate::FakeKeystone) knows unless told otherwise.
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
/// [`FakeServer`](crate::FakeServer) serves by default).
pub const DEFAULT_PROJECT_NAME: &str = "demo";

/// A user a [`FakeKeystone`](crate::FakeKeystone) knows.
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

    pub(super) fn domain_matches(&self, domain: Option<&Value>) -> bool {
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

/// A project a [`FakeKeystone`](crate::FakeKeystone) scopes tokens to. Every user may use every
/// project.
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
    /// Whether a token may be scoped to it; see [`FakeProject::unscopable`].
    pub scopable: bool,
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
            scopable: true,
        }
    }

    /// Listed by `GET /v3/auth/projects`, but a token scoped to it is refused with 401, as
    /// Keystone refuses when the user's role in it went away after the listing.
    ///
    /// ```
    /// let project = vbs_backups_testing::FakeProject::new("p-1", "lab").unscopable();
    /// assert!(!project.scopable);
    /// ```
    pub fn unscopable(mut self) -> Self {
        self.scopable = false;
        self
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

/// An application credential a [`FakeKeystone`](crate::FakeKeystone) accepts: it authenticates as
/// its user, scoped to its project.
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

/// An endpoint in a [`FakeKeystone`](crate::FakeKeystone)'s catalog. `%(project_id)s` in the URL is
/// rendered per [`CatalogUrlStyle`].
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
    /// The region; `None` means the server's [region](crate::FakeKeystoneBuilder::region).
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

/// How the project id appears in the catalog URLs of a [`FakeKeystone`](crate::FakeKeystone).
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

/// Whether `{"id"}` / `{"name"}` names the domain.
pub(super) fn domain_matches(domain: Option<&Value>, id: &str, name: &str) -> bool {
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

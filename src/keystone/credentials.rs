//! Who is authenticating: secrets, domains, users, projects, the auth method, and the
//! body of Keystone's token request they make.

use std::fmt;

use serde_json::{Value, json};

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
pub(super) enum Method {
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
    pub(super) fn secret(&self) -> &Secret {
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

/// The JSON of `POST /v3/auth/tokens` for `method`, scoped to `project` if given.
pub(super) fn request_body(method: &Method, project: Option<&Project>) -> Value {
    let identity = match method {
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
    if let Some(project) = project {
        auth.insert("scope".into(), project.to_json());
    }
    json!({ "auth": auth })
}

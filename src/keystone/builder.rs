//! [`KeystoneAuthBuilder`]: what to authenticate with, and where.

use std::fmt;
use std::time::Duration;

use reqwest::header::HeaderValue;
use url::Url;

use super::auth::KeystoneAuth;
use super::credentials::{Method, Project, Secret, User};
use crate::error::{Error, Result, url_for_message};
use crate::http::{HttpOptions, Pipeline, parse_service_url};

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
///     .refresh_margin(Duration::from_secs(300))
///     .build()?;
/// assert!(!format!("{auth:?}").contains("s3cret"));
/// # Ok::<(), vbs_backups::Error>(())
/// ```
#[must_use]
pub struct KeystoneAuthBuilder {
    auth_url: String,
    method: Option<Method>,
    project: Option<Project>,
    refresh_margin: Option<Duration>,
    http: HttpOptions,
    #[cfg(feature = "reqwest-builder")]
    http_client: Option<reqwest::ClientBuilder>,
}

impl KeystoneAuthBuilder {
    pub(super) fn new(auth_url: String) -> Self {
        Self {
            auth_url,
            method: None,
            project: None,
            refresh_margin: None,
            http: HttpOptions::default(),
            #[cfg(feature = "reqwest-builder")]
            http_client: None,
        }
    }

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

    /// How Keystone is reached: timeouts, user agent, CAs (`OS_CACERT`), proxy, retries
    /// (connection failures, timeouts, 429 and 5xx; refused credentials never are); see
    /// [`HttpOptions`]. A client made by [`KeystoneAuth::connect`] sends with the same
    /// settings, over the same connections.
    ///
    /// ```
    /// use std::time::Duration;
    /// use vbs_backups::{HttpOptions, RetryPolicy};
    ///
    /// let builder = vbs_backups::keystone::KeystoneAuth::builder("https://keystone.example.com:5000")
    ///     .http(HttpOptions::new().timeout(Duration::from_secs(15)).retry_policy(RetryPolicy::disabled()));
    /// ```
    pub fn http(mut self, options: HttpOptions) -> Self {
        self.http = options;
        self
    }

    /// Starts from a `reqwest::ClientBuilder` of your own (feature `reqwest-builder`; see
    /// [`ClientBuilder::http_client_builder`](crate::ClientBuilder::http_client_builder)
    /// for what that costs). Redirects are never followed: credentials go to `auth_url` only.
    ///
    /// ```
    /// let builder = vbs_backups::keystone::KeystoneAuth::builder("http://127.0.0.1:5000")
    ///     .http_client_builder(reqwest::Client::builder().tcp_nodelay(true));
    /// ```
    #[cfg(feature = "reqwest-builder")]
    #[cfg_attr(docsrs, doc(cfg(feature = "reqwest-builder")))]
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
            if HeaderValue::from_str(token.expose().trim()).is_err() {
                return Err(Error::config(
                    "the token contains characters not allowed in an HTTP header",
                ));
            }
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
        #[cfg(feature = "reqwest-builder")]
        let own_builder = self.http_client;
        #[cfg(not(feature = "reqwest-builder"))]
        let own_builder = None;
        let pipeline = Pipeline::new(self.http, own_builder)?;
        Ok(KeystoneAuth::new(
            pipeline,
            base,
            tokens_url,
            method,
            self.project,
            self.refresh_margin.unwrap_or(DEFAULT_REFRESH_MARGIN),
        ))
    }
}

/// Renew this long before the token expires (at most half its lifetime).
const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);

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
        KeystoneAuthBuilder::new(auth_url.into())
    }
}

impl fmt::Debug for KeystoneAuthBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeystoneAuthBuilder")
            .field("auth_url", &self.auth_url)
            .field("method", &self.method.as_ref().map(ToString::to_string))
            .field("project", &self.project)
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

/// `auth_url` as Keystone's v3 URL, without a trailing slash.
pub(super) fn parse_auth_url(auth_url: &str) -> Result<Url> {
    let (mut url, mut segments) = parse_service_url(auth_url, "auth URL")?;
    let text = url_for_message(auth_url.trim());
    let text = text.as_str();
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
}

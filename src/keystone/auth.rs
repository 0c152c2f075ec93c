//! [`KeystoneAuth`]: Keystone v3 authentication as an [`AuthSource`]: one token,
//! shared, renewed before it expires and after a 401.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use jiff::Timestamp;
use tokio::time::Instant;
use url::Url;

use super::catalog::{EndpointFilter, substitute_project};
use super::credentials::{Method, Project, Secret, request_body};
use super::token::{TokenInfo, parse_token_body};
use crate::auth::AuthSource;
use crate::client::{Client, ClientBuilder};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{Pipeline, Request};

/// The header Keystone returns the new token in.
const SUBJECT_TOKEN: &str = "x-subject-token";
/// The header a token is presented in.
const AUTH_TOKEN_HEADER: &str = "x-auth-token";

/// Keystone v3 authentication (also what Huawei Cloud IAM speaks), as an [`AuthSource`]
/// for [`ClientBuilder::auth_source`], and the service catalog that comes with it.
///
/// The first request authenticates (`POST {auth_url}/v3/auth/tokens`); the token
/// (`X-Subject-Token`) is then shared by every request and every clone. It is renewed
/// when less than the [refresh margin](super::KeystoneAuthBuilder::refresh_margin) of its
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
    pipeline: Pipeline,
    /// `{auth_url}/v3`, without a trailing slash.
    base: Url,
    /// `{base}/auth/tokens`.
    tokens_url: Url,
    method: Method,
    project: Option<Project>,
    /// Renew this long before the token expires (at most half its lifetime).
    margin: Duration,
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
    /// Keystone's code (`Unauthorized`…), which callers branch on as they would on the
    /// first caller's error.
    code: Option<String>,
    request_id: Option<String>,
    message: String,
    hint: Option<String>,
}

impl Failure {
    fn of(err: &Error) -> Self {
        Self {
            kind: err.kind(),
            status: err.status(),
            code: err.code().map(str::to_owned),
            request_id: err.request_id().map(str::to_owned),
            message: err.message().to_owned(),
            hint: err.hint().map(str::to_owned),
        }
    }

    /// The error again, for a caller that waited for the authentication that failed.
    fn to_error(&self) -> Error {
        let err = match self.status {
            Some(status) => Error::api(status, self.request_id.clone(), self.message.clone()),
            None => Error::new(self.kind, self.message.clone()),
        };
        err.with_code(self.code.clone())
            .with_hint(self.hint.clone())
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
    /// The pipeline and Keystone's v3 URL, for other requests to Keystone (the project list).
    pub(super) fn keystone_endpoint(&self) -> (&Pipeline, &Url) {
        (&self.inner.pipeline, &self.inner.base)
    }

    /// Authentication by `method` at `base` (`{auth_url}/v3`), checked by the builder.
    pub(super) fn new(
        pipeline: Pipeline,
        base: Url,
        tokens_url: Url,
        method: Method,
        project: Option<Project>,
        margin: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                pipeline,
                base,
                tokens_url,
                method,
                project,
                margin,
                state: tokio::sync::Mutex::new(State::default()),
                generation: AtomicU64::new(0),
            }),
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
            .inherit_pipeline(self.inner.pipeline.clone())
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
        let mut builder = builder
            .endpoint(url)
            .inherit_pipeline(self.inner.pipeline.clone())
            .auth_source(self.clone());
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
        let outcome = inner.authenticate().await;
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
    #[cfg(test)]
    fn scoped_request_body(&self) -> serde_json::Value {
        request_body(&self.method, self.project.as_ref())
    }

    /// Authenticates: a new token, or the pre-issued one validated. The pipeline retries
    /// what may succeed next time; refused credentials are asked once.
    async fn authenticate(&self) -> Result<Current> {
        let outcome = if matches!(self.method, Method::Token(_)) && self.project.is_none() {
            self.validate().await
        } else {
            self.issue().await
        };
        outcome.map_err(|err| self.explain(err))
    }

    /// `POST /v3/auth/tokens`: a new token.
    async fn issue(&self) -> Result<Current> {
        let body = serde_json::to_vec(&request_body(&self.method, self.project.as_ref()))
            .map_err(|err| Error::config("cannot encode the auth request").with_source(err))?;
        let request = Request::post_json(self.tokens_url.clone(), body, "Keystone request")
            .secret(self.method.secret().expose());
        let sent = Instant::now();
        let (token, info) = self
            .pipeline
            .send(&request, None, |response| {
                let token = response
                    .headers
                    .get(SUBJECT_TOKEN)
                    .and_then(|value| value.to_str().ok())
                    .map(str::trim)
                    .filter(|token| !token.is_empty())
                    .map(Secret::from)
                    .ok_or_else(|| {
                        Error::decode(
                            "Keystone issued no token: its answer has no X-Subject-Token header",
                        )
                    })?;
                Ok((token, parse_token_body(response.body)?))
            })
            .await?;
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
        let request = Request::get(self.tokens_url.clone(), "Keystone request")
            .no_redirects()
            .secret_header(AUTH_TOKEN_HEADER, token.expose())?
            .secret_header(SUBJECT_TOKEN, token.expose())?;
        let info = self
            .pipeline
            .send(&request, None, |response| parse_token_body(response.body))
            .await?;
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

    /// Says that Keystone, and what of it, is behind an error: a refusal names the
    /// credentials refused (never their secret), anything else the auth URL.
    fn explain(&self, err: Error) -> Error {
        if err.kind() == ErrorKind::Api {
            let what = match &self.project {
                Some(project) => format!("{} for {project}", self.method),
                None => self.method.to_string(),
            };
            err.with_context(format!("Keystone at {} refused {what}", self.base))
        } else {
            err.with_context(format!("Keystone at {}", self.base))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde_json::json;

    use super::*;
    use crate::keystone::{Domain, User};

    fn auth(builder: crate::keystone::KeystoneAuthBuilder) -> KeystoneAuth {
        builder.build().unwrap()
    }

    #[test]
    fn a_kept_failure_gives_waiting_callers_the_same_error() {
        let body = br#"{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}"#;
        let first = Error::from_response(401, Some("req-1".into()), body)
            .with_hint(Some("check the password".into()));
        let again = Failure::of(&first).to_error();
        assert_eq!(again.code(), Some("Unauthorized"));
        assert_eq!(again.code(), first.code());
        assert_eq!(again.status(), Some(401));
        assert_eq!(again.request_id(), Some("req-1"));
        assert_eq!(again.message(), first.message());
        assert_eq!(again.hint(), Some("check the password"));
        assert_eq!(again.kind(), first.kind());
        let local = Failure::of(&Error::config("no auth_url")).to_error();
        assert_eq!((local.kind(), local.code()), (ErrorKind::Config, None));
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
            by_name.inner.scoped_request_body(),
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
            by_id.inner.scoped_request_body(),
            json!({"auth": {
                "identity": {"methods": ["password"], "password": {"user": {"id": "u1", "password": "pw"}}},
                "scope": {"project": {"id": "p1"}}}})
        );
        let app = auth(base().application_credential("ac1", "s"));
        assert_eq!(
            app.inner.scoped_request_body(),
            json!({"auth": {"identity": {"methods": ["application_credential"],
                "application_credential": {"id": "ac1", "secret": "s"}}}})
        );
        let app_name = auth(base().application_credential_by_name("mon", User::id("u1"), "s"));
        assert_eq!(
            app_name.inner.scoped_request_body(),
            json!({"auth": {"identity": {"methods": ["application_credential"],
                "application_credential": {"name": "mon", "user": {"id": "u1"}, "secret": "s"}}}})
        );
        let token = auth(base().token("t0k").project(Project::id("p1")));
        assert_eq!(
            token.inner.scoped_request_body(),
            json!({"auth": {"identity": {"methods": ["token"], "token": {"id": "t0k"}},
                "scope": {"project": {"id": "p1"}}}})
        );
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

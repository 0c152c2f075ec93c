//! [`FakeKeystone`]: the handle of a running fake Keystone, through which a test reads what
//! it issued and changes how it answers.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use super::handler::KeystoneState;
use super::token::FakeIssuedToken;
use crate::recorded::RecordedRequest;

/// A running fake Keystone v3 server on `127.0.0.1`, for testing code that authenticates.
///
/// It serves `POST {prefix}/v3/auth/tokens` with Keystone's semantics for password auth
/// (user by id, or by name and domain id or name), application credentials (by id, or by
/// name and user) and token auth, each optionally scoped to a project by id or by name and
/// domain; and `GET {prefix}/v3/auth/tokens` (token validation). Issued tokens come in the
/// `X-Subject-Token` header with a body holding `expires_at` (the [token
/// lifetime](crate::FakeKeystoneBuilder::token_lifetime) from now, in whole seconds as fernet
/// tokens have them: `….000000Z`), the user, the project and the service catalog. Without a
/// scope, a password or token auth token is scoped to the user's [default
/// project](crate::FakeUser::default_project), if any. Wrong credentials get Keystone's JSON 401
/// (`{"error": {"code": 401, "title": "Unauthorized", "message": …}}`); an application
/// credential id it does not know, its 404. Where it follows real Keystone 30 is written
/// down in `scripts/real_keystone/FINDINGS.md`.
///
/// The catalog lists the identity service (this server) and the block storage endpoints
/// added with [`volume_server`](crate::FakeKeystoneBuilder::volume_server),
/// [`volume_endpoints`](crate::FakeKeystoneBuilder::volume_endpoints) or
/// [`endpoint`](crate::FakeKeystoneBuilder::endpoint), with the project id substituted (as
/// Keystone does) or left as a `%(project_id)s` or `$(project_id)s` template
/// ([`CatalogUrlStyle`](crate::CatalogUrlStyle)); a service whose endpoints are all
/// [disabled](crate::FakeEndpoint::disabled) is listed with none.
///
/// A [`FakeServer`](crate::FakeServer) accepts a single token. With
/// [`volume_server`](crate::FakeKeystoneBuilder::volume_server), every token issued becomes the one
/// it accepts (before the answer is sent), so earlier tokens are really refused, as when
/// tokens expire or are revoked; [`on_token_issued`](crate::FakeKeystoneBuilder::on_token_issued)
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
    pub(super) shared: Arc<KeystoneState>,
    pub(super) shutdown: Option<oneshot::Sender<()>>,
}

impl FakeKeystone {
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
    /// validation with them fail from now on (already rotated [`FakeServer`](crate::FakeServer)
    /// tokens are not affected).
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

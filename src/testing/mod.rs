//! An embedded fake VBS / Cinder backup-list server, for the quickstart and for your own tests.
//!
//! [`FakeServer`] is a real HTTP/1.1 server on `127.0.0.1` (a random free port) that serves
//! `GET {prefix}/v2/{project_id}/backups` and `GET {prefix}/v3/{project_id}/backups` with the
//! pagination semantics of OpenStack Cinder, as observed on a real deployment:
//!
//! - `limit` defaults to and is silently capped at `max_limit` (1000), while the next link keeps
//!   the value that was asked for; `limit=0` gives an empty list; bad values give Cinder's 400s.
//! - `marker` must be an existing id (404 `itemNotFound` otherwise) and the page starts strictly
//!   after it; `offset` is applied *after* the marker and is copied into the next link, so a
//!   client that follows next links verbatim after `offset=k` skips `k` items on every page.
//! - The `name`, `status` and `volume_id` filters match exactly (the last value wins);
//!   `sort`, `sort_key`, `sort_dir`, `with_count` and `all_tenants` are accepted and ignored; any
//!   other key, or a repeated `limit`, `offset` or `marker`, gives an empty list (Cinder's
//!   behaviour for an admin caller).
//! - A page gets `backups_links` (rel `next`) exactly when it is full, so an exactly full last
//!   page is followed by an empty page without the `backups_links` key.
//! - Next links are absolute, built from the request's `Host` (or `X-Forwarded-Host`) header,
//!   and carry every request parameter in request order with `marker` replaced and last.
//! - Without the right `X-Auth-Token` the answer is keystonemiddleware's JSON 401; another
//!   project in the path gets 400 `Malformed request url`; any other path or method gets
//!   Cinder's HTML 404. Every response has an `X-Openstack-Request-Id`, and `/v3` responses
//!   have `Openstack-Api-Version: volume 3.0`. Bodies are formatted like Python's `json`
//!   (`", "` separators, non-ASCII as `\u00e9`).
//!
//! On top of that, [`Quirk`]s reproduce what real deployments get wrong (next links to another
//! host or scheme, without a version prefix, without filters or marker, looping markers, empty
//! pages that still link on), [`CannedResponse`]s inject arbitrary answers (errors, throttling,
//! garbage) or break single pages (slow, reset or truncated mid-body; see
//! [`CannedResponse::passthrough`]), and [`FakeServer::set_latency`] slows pages down. While a
//! client pages, backups can be deleted ([`FakeServer::delete_backup`]: their marker then gets
//! the 404) or created ([`FakeServer::create_backups`]), and the token can be rotated
//! ([`FakeServer::set_token`]). Every request is recorded, so tests can assert on what a client
//! actually sent.
//!
//! ```
//! use futures::TryStreamExt;
//! use vbs_backups::Client;
//! use vbs_backups::testing::{FakeServer, Quirk};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // 10 seeded backups; next links name a host the client cannot reach.
//! let server = FakeServer::builder()
//!     .backups(10)
//!     .quirk(Quirk::OtherHost("vbs-internal.invalid:8776".into()))
//!     .start()
//!     .await?;
//!
//! // Point the code under test at the server.
//! let client = Client::builder()
//!     .endpoint(server.endpoint())
//!     .project_id(server.project_id())
//!     .token(server.token().unwrap_or_default())
//!     .build()?;
//! let backups: Vec<_> = client.backups().page_size(4).stream().try_collect().await?;
//!
//! // The server's data is the truth to assert against ...
//! let expected: Vec<_> = server.backups().into_iter().map(|b| b.id).collect();
//! assert_eq!(backups.into_iter().map(|b| b.id).collect::<Vec<_>>(), expected);
//!
//! // ... and so is what it received: 4 + 4 + 2, each on the configured endpoint.
//! let requests = server.requests();
//! assert_eq!(requests.len(), 3);
//! assert_eq!(requests[1].param("limit").as_deref(), Some("4"));
//! # Ok(())
//! # }
//! ```
//!
//! The server stops when the [`FakeServer`] is dropped. It must be started from inside a Tokio
//! runtime, on which it then runs.

mod data;
mod keystone;
pub use keystone::*;
mod render;
mod server;
#[cfg(test)]
mod tests;

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use self::data::Dataset;
use self::server::{Settings, Shared};

/// The project id a [`FakeServer`] serves unless [`FakeServerBuilder::project_id`] says otherwise.
pub const DEFAULT_PROJECT_ID: &str = "b23b579f08c84228b9b4673c46f0c442";

/// The token a [`FakeServer`] expects in `X-Auth-Token` unless configured otherwise.
pub const DEFAULT_TOKEN: &str = "fake-token";

/// The number of backups a [`FakeServer`] holds unless [`FakeServerBuilder::backups`] says
/// otherwise.
pub const DEFAULT_BACKUPS: usize = 25;

/// The seed used unless [`FakeServerBuilder::seed`] says otherwise.
pub const DEFAULT_SEED: u64 = 0x5EED_0000_C1DE_0001;

/// Cinder's default `osapi_max_limit`: the default and maximum page size.
pub const DEFAULT_MAX_LIMIT: usize = 1000;

/// A running fake backup-list server on `127.0.0.1`.
///
/// Create one with [`FakeServer::builder`]. All methods take `&self`; behaviour can be switched
/// while a client is talking to it. Dropping it shuts the server down gracefully.
pub struct FakeServer {
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl FakeServer {
    /// A builder with the defaults: [`DEFAULT_BACKUPS`] backups from [`DEFAULT_SEED`], project
    /// [`DEFAULT_PROJECT_ID`], token [`DEFAULT_TOKEN`], `max_limit` [`DEFAULT_MAX_LIMIT`], no
    /// path prefix, no quirks, no latency.
    pub fn builder() -> FakeServerBuilder {
        FakeServerBuilder::default()
    }

    /// The service root to configure a client with: `http://127.0.0.1:PORT` followed by the path
    /// prefix, if any, without a trailing slash.
    pub fn endpoint(&self) -> String {
        format!("http://{}{}", self.shared.addr, self.shared.settings.prefix)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// The only project id the server accepts in the path.
    pub fn project_id(&self) -> &str {
        &self.shared.settings.project_id
    }

    /// The token currently required in `X-Auth-Token`, or `None` if any or no token is
    /// accepted; see [`set_token`](Self::set_token).
    pub fn token(&self) -> Option<&str> {
        self.shared.tokens.current()
    }

    /// From now on, accepts only this token in `X-Auth-Token` (also on a server started with
    /// [`no_auth`](FakeServerBuilder::no_auth)): requests with the old one get the 401, as when
    /// a token expires and a client must fetch a new one. Requests that arrived earlier are
    /// judged by the token current at their arrival.
    ///
    /// ```
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let server = FakeServer::builder().token("first").start().await?;
    /// server.set_token("second");
    /// assert_eq!(server.token(), Some("second"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_token(&self, token: impl Into<String>) {
        self.shared.tokens.replace(token.into());
    }

    /// Every backup the server holds now, in server order (`created_at` descending, then `id`
    /// descending): what a complete, correct walk over unchanging data must yield.
    pub fn backups(&self) -> Vec<FakeBackup> {
        self.shared.data().backups()
    }

    /// Deletes the backup with this id, as if it were deleted while a client is paging; returns
    /// whether it existed. Later pages no longer hold it, and a request with it as `marker` gets
    /// Cinder's 404 `itemNotFound` (`Backup <id> could not be found.`).
    ///
    /// ```
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let server = FakeServer::builder().backups(3).start().await?;
    /// let gone = server.backups()[1].id.clone();
    /// assert!(server.delete_backup(&gone));
    /// assert!(!server.delete_backup(&gone));
    /// assert_eq!(server.backups().len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn delete_backup(&self, id: &str) -> bool {
        self.shared.data_mut().remove(id)
    }

    /// Creates `count` backups newer than all the others, as if they were made while a client
    /// is paging: they sort first, so a walk that is already past the first page never sees
    /// them. Returns them in server order.
    ///
    /// The new backups continue the seeded sequence (the same seed and the same calls give the
    /// same backups), their ids were never used on this server, and like the initial ones they
    /// come in pairs sharing a `created_at`.
    ///
    /// ```
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let server = FakeServer::builder().backups(3).start().await?;
    /// let created = server.create_backups(2);
    /// assert_eq!(server.backups()[..2], created[..]);
    /// assert_eq!(server.backups().len(), 5);
    /// # Ok(())
    /// # }
    /// ```
    pub fn create_backups(&self, count: usize) -> Vec<FakeBackup> {
        self.shared.data_mut().create(count)
    }

    /// Every request received so far, on any path (404s included), in arrival order. Requests
    /// are recorded on arrival, before any latency.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().log.clone()
    }

    /// The number of requests received so far, on any path.
    pub fn request_count(&self) -> usize {
        self.shared.lock().log.len()
    }

    /// How many requests were abandoned: their client went away (a dropped stream,
    /// a timeout) while the server was still delaying or building the answer, so the
    /// handler was cancelled. Proof that a client really cancels what it no longer needs.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let server = vbs_backups::testing::FakeServer::builder().start().await?;
    /// assert_eq!(server.abandoned_requests(), 0);
    /// # Ok(()) }
    /// ```
    pub fn abandoned_requests(&self) -> u64 {
        self.shared
            .abandoned
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Forgets the requests recorded so far.
    pub fn clear_requests(&self) {
        self.shared.lock().log.clear();
    }

    /// Replaces the active quirks; an empty iterator restores Cinder's behaviour.
    pub fn set_quirks(&self, quirks: impl IntoIterator<Item = Quirk>) {
        self.shared.lock().quirks = quirks.into_iter().collect();
    }

    /// Delays every later request on a listing route by `per_page` before it is answered
    /// (canned responses and errors included; requests that get the 404 page are not delayed).
    pub fn set_latency(&self, per_page: Duration) {
        self.shared.lock().latency = per_page;
    }

    /// Queues a response: each request on a listing route takes the oldest queued response, if
    /// any, and gets it instead of what the server would answer, before authentication or any
    /// validation (unless it is a [`passthrough`](CannedResponse::passthrough)). The request is
    /// still recorded and delayed by the latency.
    ///
    /// ```
    /// use vbs_backups::testing::{CannedResponse, FakeServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let server = FakeServer::builder().start().await?;
    /// // The first two pages are served, the third fails twice, then paging goes on.
    /// server.push_response(CannedResponse::passthrough());
    /// server.push_response(CannedResponse::passthrough());
    /// for _ in 0..2 {
    ///     server.push_response(CannedResponse::json(503, "{}").header("Retry-After", "1"));
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn push_response(&self, response: CannedResponse) {
        self.shared.lock().canned.push_back(response);
    }
}

impl fmt::Debug for FakeServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeServer")
            .field("endpoint", &self.endpoint())
            .field("project_id", &self.project_id())
            .field("auth", &self.token().is_some())
            .field("backups", &self.shared.data().len())
            .finish_non_exhaustive()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            // The server task may already be gone with its runtime: nothing left to stop.
            let _ = shutdown.send(());
        }
    }
}

/// Configures and starts a [`FakeServer`]; created by [`FakeServer::builder`].
///
/// Setters never fail; out-of-range values are adjusted as documented on each setter.
#[must_use]
#[derive(Debug, Clone)]
pub struct FakeServerBuilder {
    backups: usize,
    seed: u64,
    project_id: String,
    token: Option<String>,
    max_limit: usize,
    prefix: String,
    quirks: Vec<Quirk>,
    latency: Duration,
}

impl Default for FakeServerBuilder {
    fn default() -> Self {
        Self {
            backups: DEFAULT_BACKUPS,
            seed: DEFAULT_SEED,
            project_id: DEFAULT_PROJECT_ID.to_owned(),
            token: Some(DEFAULT_TOKEN.to_owned()),
            max_limit: DEFAULT_MAX_LIMIT,
            prefix: String::new(),
            quirks: Vec::new(),
            latency: Duration::ZERO,
        }
    }
}

impl FakeServerBuilder {
    /// The number of backups to generate (default [`DEFAULT_BACKUPS`]). Hundreds of thousands
    /// are fine: pages are cut in time proportional to their size.
    pub fn backups(mut self, count: usize) -> Self {
        self.backups = count;
        self
    }

    /// The seed of the generated data (default [`DEFAULT_SEED`]): the same seed and count always
    /// give the same backups.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The project id the server serves (default [`DEFAULT_PROJECT_ID`]). Requests for any other
    /// project get Cinder's 400 `Malformed request url`.
    pub fn project_id(mut self, id: impl Into<String>) -> Self {
        self.project_id = id.into();
        self
    }

    /// The token required in `X-Auth-Token` (default [`DEFAULT_TOKEN`]). Overrides an earlier
    /// [`no_auth`](Self::no_auth).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Accepts requests with any token or none. Overrides an earlier [`token`](Self::token).
    pub fn no_auth(mut self) -> Self {
        self.token = None;
        self
    }

    /// Cinder's `osapi_max_limit`: the page size when no `limit` is given and the cap on larger
    /// ones (default [`DEFAULT_MAX_LIMIT`]; 0 is treated as 1).
    pub fn max_limit(mut self, max: usize) -> Self {
        self.max_limit = max.max(1);
        self
    }

    /// Serves the routes under this path, like a gateway that mounts the service at `/volume`.
    /// Slashes are normalised: `"volume"`, `"/volume"` and `"/volume/"` are the same prefix, and
    /// `""` or `"/"` means none (the default).
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

    /// Turns a quirk on; call it once per quirk. See also [`FakeServer::set_quirks`].
    pub fn quirk(mut self, quirk: Quirk) -> Self {
        self.quirks.push(quirk);
        self
    }

    /// The initial delay of each listing request (default none); see
    /// [`FakeServer::set_latency`].
    pub fn latency(mut self, per_page: Duration) -> Self {
        self.latency = per_page;
        self
    }

    /// Binds a free port on `127.0.0.1` and spawns the server on the current Tokio runtime.
    ///
    /// # Errors
    ///
    /// Fails if there is no current Tokio runtime or the port cannot be bound.
    pub async fn start(self) -> io::Result<FakeServer> {
        let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let settings = Settings {
            project_id: self.project_id,
            max_limit: self.max_limit,
            prefix: self.prefix,
        };
        let data = Dataset::generate(self.backups, self.seed);
        let shared = Arc::new(Shared::new(
            settings,
            data,
            addr,
            self.seed,
            self.token,
            self.quirks,
            self.latency,
        ));
        let (shutdown, stopped) = oneshot::channel();
        runtime.spawn(server::run(listener, Arc::clone(&shared), stopped));
        Ok(FakeServer {
            shared,
            shutdown: Some(shutdown),
        })
    }
}

/// One backup held by a [`FakeServer`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FakeBackup {
    /// Lowercase UUID, unique on the server.
    pub id: String,
    /// The backup name; `None` is served as JSON `null` and matches no `name` filter.
    pub name: Option<String>,
    /// One of `available`, `error`, `creating`, `restoring`, `deleting`, `error_restoring`.
    pub status: String,
    /// One of four fixed volume ids.
    pub volume_id: String,
    /// Creation time without timezone, like Cinder's `2024-01-01T20:49:00.000000`; backups come
    /// in pairs sharing a timestamp.
    pub created_at: String,
}

/// A request as the [`FakeServer`] received it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The HTTP method, like `GET`.
    pub method: String,
    /// The path as sent (still percent-encoded), prefix included.
    pub path: String,
    /// The query string as sent, without `?`; `None` if the URL had no `?`.
    pub raw_query: Option<String>,
    /// The `X-Auth-Token` header, if any.
    pub auth_token: Option<String>,
    /// The `Host` header, if any.
    pub host: Option<String>,
    /// Every header, names in lowercase, in the order received (values decoded lossily).
    pub headers: Vec<(String, String)>,
}

impl RecordedRequest {
    /// The decoded query parameters in request order, duplicates included.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.raw_query
            .as_deref()
            .map(|query| {
                url::form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The decoded value of query parameter `key`; the last one if it is repeated.
    pub fn param(&self, key: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .rev()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
    }

    /// The first value of header `name` (case-insensitive), if any.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// A real-world deviation from Cinder's behaviour; several can be active at once.
///
/// All quirks except [`EmptyPagesLinkOn`](Quirk::EmptyPagesLinkOn) change only the `next`
/// link, never which items a page holds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Quirk {
    /// The next link has no version segment, like the Huawei API reference's example:
    /// `http://host{prefix}/{project_id}/backups?…`.
    NoVersionPrefix,
    /// The next link's authority is replaced by this `host:port`, like an internal address
    /// leaking through a gateway (point it at a second loopback listener to catch a client that
    /// follows it).
    OtherHost(String),
    /// The next link says `https` although the server speaks plain HTTP, like a TLS-terminating
    /// proxy in front of it.
    HttpsScheme,
    /// The next link is path-absolute, without scheme and authority:
    /// `{prefix}/v3/{project_id}/backups?…`. Takes precedence over `OtherHost` and `HttpsScheme`.
    RelativeLink,
    /// The next link loses the `name`, `status`, `volume_id` and `limit` parameters (it keeps
    /// `marker`, `offset` and everything else).
    DropFilters,
    /// The next link has no `marker` parameter. Takes precedence over `RepeatMarker`.
    NoMarker,
    /// The next link's marker is always the id of the first backup in server order: a broken
    /// server whose walk would never end.
    RepeatMarker,
    /// Filters are applied after the page is cut, as some backends do: a page takes `limit` rows
    /// after marker and offset ignoring the filters, links on (with the marker of the last of
    /// those rows) if it took `limit` rows, and only then drops rows that do not match. Pages can
    /// be short or even empty, yet link on.
    EmptyPagesLinkOn,
}

/// A response served instead of a listing page, or the page itself with a fault; see
/// [`FakeServer::push_response`].
///
/// The server adds only an `X-Openstack-Request-Id` header (unless one is given here).
///
/// ```
/// use std::time::Duration;
/// use vbs_backups::testing::CannedResponse;
///
/// // A throttling answer.
/// let busy = CannedResponse::json(429, r#"{"message": "slow down"}"#).header("Retry-After", "1");
/// // The real page, slow and then cut off by a connection reset after 200 bytes.
/// let reset = CannedResponse::passthrough()
///     .delay(Duration::from_millis(50))
///     .reset_after(200);
/// # let _ = (busy, reset);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CannedResponse {
    /// The HTTP status code; anything outside `100..=999` is served as 500. Ignored for a
    /// passthrough.
    pub status: u16,
    /// The `Content-Type` header; empty for none. Ignored for a passthrough.
    pub content_type: String,
    /// The body, sent as is. Ignored for a passthrough.
    pub body: String,
    /// Extra headers, in order; invalid names or values are skipped with a warning. On a
    /// passthrough they replace the page's headers of the same names.
    pub headers: Vec<(String, String)>,
    /// Whether the request gets the server's own answer instead of `status`, `content_type`
    /// and `body` (with `headers`, `delay` and `fault` still applied); see
    /// [`passthrough`](Self::passthrough).
    pub passthrough: bool,
    /// Extra wait before this response is sent, on top of the server's latency.
    pub delay: Duration,
    /// How the body is broken, if it is; see [`reset_after`](Self::reset_after) and
    /// [`truncate_to`](Self::truncate_to).
    pub fault: Option<BodyFault>,
}

impl CannedResponse {
    /// An `application/json` response, e.g.
    /// `CannedResponse::json(503, r#"{"error": {"code": 503, "message": "busy"}}"#)`.
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self::text(status, "application/json", body)
    }

    /// A response with any content type, e.g. a proxy's `text/html` error page.
    pub fn text(status: u16, content_type: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            status,
            content_type: content_type.into(),
            body: body.into(),
            headers: Vec::new(),
            passthrough: false,
            delay: Duration::ZERO,
            fault: None,
        }
    }

    /// A placeholder in the queue: the request that takes it gets what the server would have
    /// answered anyway (the real page, or a 401, 404 ...). Queue passthroughs before a fault to
    /// let that many listing requests through first, or combine one with
    /// [`delay`](Self::delay), [`reset_after`](Self::reset_after) or
    /// [`truncate_to`](Self::truncate_to) to break the real page.
    ///
    /// ```
    /// use vbs_backups::testing::CannedResponse;
    ///
    /// // Fail only the 3rd listing request.
    /// let queue = [
    ///     CannedResponse::passthrough(),
    ///     CannedResponse::passthrough(),
    ///     CannedResponse::json(503, "{}"),
    /// ];
    /// # let _ = queue;
    /// ```
    pub fn passthrough() -> Self {
        Self {
            passthrough: true,
            ..Self::text(200, "", "")
        }
    }

    /// Adds a header, e.g. `.header("Retry-After", "1")`.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Waits this much longer before sending the response (a slow page), on top of the
    /// server's latency. Replaces an earlier delay.
    ///
    /// ```
    /// use std::time::Duration;
    /// use vbs_backups::testing::CannedResponse;
    ///
    /// let slow = CannedResponse::passthrough().delay(Duration::from_secs(2));
    /// assert_eq!(slow.delay, Duration::from_secs(2));
    /// ```
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Sends the status, the headers and the first `bytes` bytes of the body, then aborts the
    /// connection: a connection reset mid-body. See [`BodyFault::ResetAfter`]. Replaces an
    /// earlier fault.
    ///
    /// ```
    /// use vbs_backups::testing::{BodyFault, CannedResponse};
    ///
    /// let reset = CannedResponse::passthrough().reset_after(200);
    /// assert_eq!(reset.fault, Some(BodyFault::ResetAfter(200)));
    /// ```
    pub fn reset_after(mut self, bytes: usize) -> Self {
        self.fault = Some(BodyFault::ResetAfter(bytes));
        self
    }

    /// Declares the full `Content-Length` but sends only the first `bytes` bytes of the body,
    /// then closes the connection: a truncated body. See [`BodyFault::TruncateTo`]. Replaces an
    /// earlier fault.
    ///
    /// ```
    /// use vbs_backups::testing::{BodyFault, CannedResponse};
    ///
    /// let truncated = CannedResponse::json(200, r#"{"backups": []}"#).truncate_to(5);
    /// assert_eq!(truncated.fault, Some(BodyFault::TruncateTo(5)));
    /// ```
    pub fn truncate_to(mut self, bytes: usize) -> Self {
        self.fault = Some(BodyFault::TruncateTo(bytes));
        self
    }
}

/// How a [`CannedResponse`] breaks its body. Clients see the status and headers as usual, and
/// then an error while reading the body.
///
/// ```
/// use vbs_backups::testing::{BodyFault, CannedResponse};
///
/// let mut response = CannedResponse::passthrough();
/// response.fault = Some(BodyFault::TruncateTo(100));
/// # let _ = response;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyFault {
    /// The body is sent chunked (without `Content-Length`); after its first `n` bytes (all of
    /// them if it is shorter) the connection is aborted before the final chunk, so reading the
    /// body always fails.
    ResetAfter(usize),
    /// The response declares the full `Content-Length`, sends only the first `n` bytes and
    /// closes the connection, so reading the body fails. A body of at most `n` bytes is sent
    /// whole.
    TruncateTo(usize),
}

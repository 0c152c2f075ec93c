//! An embedded fake VBS / Cinder backup-list server, for the quickstart and for your own tests.
//!
//! [`FakeServer`] is a real HTTP/1.1 server on `127.0.0.1` (a random free port) that serves
//! `GET {prefix}/{v2|v3}/{project_id}/backups` and `…/backups/detail` with the pagination
//! semantics of OpenStack Cinder, as observed on a real deployment:
//!
//! - `limit` defaults to and is silently capped at `max_limit` (1000), while the next link keeps
//!   the value that was asked for; `limit=0` gives an empty list; bad values give Cinder's 400s.
//! - `marker` must be an existing id (404 `itemNotFound` otherwise) and the page starts strictly
//!   after it; `offset` is applied *after* the marker and is copied into the next link, so a
//!   client that follows next links verbatim after `offset=k` skips `k` items on every page.
//! - The `name`, `status` and `volume_id` filters match exactly (the last value wins);
//!   `all_tenants` is accepted and ignored; any other key, or a repeated `limit`, `offset`,
//!   `marker`, `sort`, `sort_key`, `sort_dir` or `with_count`, gives an empty list (Cinder's
//!   behaviour for an admin caller).
//! - The order is Cinder's default, `created_at` then `id`, both descending, unless `sort`
//!   (`sort=size:asc,display_name:desc`) or the legacy `sort_key` / `sort_dir` ask for another:
//!   by `created_at`, `updated_at`, `data_timestamp`, `id`, `display_name` (`name` from
//!   microversion 3.37), `display_description`, `status`, `size`, `object_count`, `volume_id`,
//!   `snapshot_id`, `availability_zone`, `container`, `fail_reason`, `user_id`, `project_id` or
//!   `encryption_key_id`. As in Cinder, `created_at` and `id` break ties in the direction of the
//!   first term; bad keys, bad directions and `sort` with `sort_key` get Cinder's 400s.
//!   [`FakeServer::backups_sorted`] gives the truth for a sort.
//! - A page gets `backups_links` (rel `next`) exactly when it is full, so an exactly full last
//!   page is followed by an empty page without the `backups_links` key.
//! - Next links are absolute, built from the request's `Host` (or `X-Forwarded-Host`) header,
//!   and carry every request parameter in request order with `marker` replaced and last.
//! - Detail entries carry Cinder 3.0's fields (see [`FakeBackup`]), and on `/v3` from their
//!   microversions on `os-backup-project-attr:project_id` (3.18), `metadata` (3.43), `user_id`
//!   (3.56) and `encryption_key_id` (3.64, when set). Timestamps have no zone, like
//!   `2024-01-01T20:50:00.000000`.
//! - `/v3` negotiates the `OpenStack-API-Version: volume X.Y` header (none means 3.0, `latest`
//!   3.71) and echoes the version in `Openstack-Api-Version`; a version outside 3.0–3.71 gets
//!   Cinder's 406 and a malformed one its 400. `/v2` ignores the header and speaks 3.0.
//! - From 3.45, `with_count=true` adds `"count"` (all matches of the filters) to every page, and
//!   then, as in Cinder, a page links on whenever `limit` is at most that count, so even a
//!   partial last page links on (to an empty page). A value that is not a boolean gets Cinder's
//!   400; below 3.45 `with_count` is a filter that matches nothing.
//! - Without the right `X-Auth-Token` the answer is keystonemiddleware's JSON 401; another
//!   project in the path gets 400 `Malformed request url`; any other path or method gets
//!   Cinder's HTML 404. Every response has an `X-Openstack-Request-Id`. Bodies are formatted
//!   like Python's `json` (`", "` separators, non-ASCII as `\u00e9`).
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
//! With [`FakeServerBuilder::tls`] the server speaks HTTPS with a certificate you provide, to
//! test certificate verification and private CAs (see
//! [`ClientBuilder::trust_additional_ca_file`](crate::ClientBuilder::trust_additional_ca_file)).
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
//! The detail listing, microversions, `with_count` and sorting, driven by the crate's client:
//!
//! ```
//! use futures::StreamExt;
//! use vbs_backups::{ApiVersion, Client, SortDir, SortKey};
//! use vbs_backups::testing::FakeServer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = FakeServer::builder().backups(12).start().await?;
//! let client = Client::builder()
//!     .endpoint(server.endpoint())
//!     .project_id(server.project_id())
//!     .token(server.token().unwrap_or_default())
//!     .api_version(ApiVersion::V3)
//!     .microversion("3.64")
//!     .build()?;
//! let mut backups = client.backups().sort(SortKey::Size, SortDir::Desc).with_count().detail().page_size(5).stream();
//! let mut listed = Vec::new();
//! while let Some(backup) = backups.next().await.transpose()? {
//!     assert_eq!(backups.total(), Some(12)); // from `count`, on every page
//!     assert!(backup.user_id.is_some() && backup.project_id.is_some()); // 3.56 and 3.18
//!     listed.push(backup.id);
//! }
//! let truth = server.backups_sorted(&[(SortKey::Size, SortDir::Desc)]);
//! assert_eq!(listed, truth.into_iter().map(|b| b.id).collect::<Vec<_>>());
//! assert_eq!(server.request_count(), 4); // 5 + 5 + 2, and the empty page `with_count` links to
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
mod sort;
#[cfg(test)]
mod tests;
mod tls;
mod versions;

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use self::data::Dataset;
use self::server::{Settings, Shared};
use self::tls::TlsPems;

/// The project id a [`FakeServer`] serves unless [`FakeServerBuilder::project_id`] says otherwise.
///
/// ```
/// use futures::TryStreamExt;
/// use vbs_backups::Client;
/// use vbs_backups::testing::{DEFAULT_PROJECT_ID, DEFAULT_TOKEN, FakeServer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = FakeServer::builder().backups(3).start().await?;
/// assert_eq!(server.project_id(), DEFAULT_PROJECT_ID);
///
/// // A catalog URL names the project itself.
/// let client = Client::builder()
///     .endpoint(format!("{}/v2/{DEFAULT_PROJECT_ID}", server.endpoint()))
///     .token(DEFAULT_TOKEN)
///     .build()?;
/// let backups: Vec<_> = client.backups().stream().try_collect().await?;
/// assert_eq!(backups.len(), 3);
/// # Ok(())
/// # }
/// ```
pub const DEFAULT_PROJECT_ID: &str = "b23b579f08c84228b9b4673c46f0c442";

/// The token a [`FakeServer`] expects in `X-Auth-Token` unless configured otherwise.
///
/// ```
/// use futures::TryStreamExt;
/// use vbs_backups::Client;
/// use vbs_backups::testing::{DEFAULT_TOKEN, FakeServer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = FakeServer::builder().backups(3).start().await?;
/// let client = |token: &str| {
///     Client::builder()
///         .endpoint(server.endpoint())
///         .project_id(server.project_id())
///         .token(token)
///         .build()
/// };
/// let walk = client("expired")?.backups().stream().try_collect::<Vec<_>>().await;
/// assert_eq!(walk.map_err(|err| err.status()).err(), Some(Some(401)));
///
/// let backups: Vec<_> = client(DEFAULT_TOKEN)?.backups().stream().try_collect().await?;
/// assert_eq!(backups.len(), 3);
/// # Ok(())
/// # }
/// ```
pub const DEFAULT_TOKEN: &str = "fake-token";

/// The number of backups a [`FakeServer`] holds unless [`FakeServerBuilder::backups`] says
/// otherwise.
///
/// ```
/// use futures::TryStreamExt;
/// use vbs_backups::Client;
/// use vbs_backups::testing::{DEFAULT_BACKUPS, FakeServer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = FakeServer::builder().start().await?;
/// let client = Client::builder()
///     .endpoint(server.endpoint())
///     .project_id(server.project_id())
///     .token(server.token().unwrap_or_default())
///     .build()?;
/// let backups: Vec<_> = client.backups().page_size(10).stream().try_collect().await?;
/// assert_eq!(backups.len(), DEFAULT_BACKUPS);
/// assert_eq!(server.request_count(), 3); // 10 + 10 + 5
/// # Ok(())
/// # }
/// ```
pub const DEFAULT_BACKUPS: usize = 25;

/// The seed used unless [`FakeServerBuilder::seed`] says otherwise.
///
/// ```
/// use vbs_backups::testing::{DEFAULT_SEED, FakeServer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let default = FakeServer::builder().start().await?;
/// let seeded = FakeServer::builder().seed(DEFAULT_SEED).start().await?;
/// let other = FakeServer::builder().seed(DEFAULT_SEED + 1).start().await?;
/// assert_eq!(default.backups(), seeded.backups());
/// assert_ne!(default.backups(), other.backups());
/// # Ok(())
/// # }
/// ```
pub const DEFAULT_SEED: u64 = 0x5EED_0000_C1DE_0001;

/// Cinder's default `osapi_max_limit`: the default and maximum page size.
///
/// ```
/// use futures::TryStreamExt;
/// use vbs_backups::Client;
/// use vbs_backups::testing::{DEFAULT_MAX_LIMIT, FakeServer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = FakeServer::builder().backups(1500).start().await?;
/// let client = Client::builder()
///     .endpoint(server.endpoint())
///     .project_id(server.project_id())
///     .token(server.token().unwrap_or_default())
///     .build()?;
/// // Asking for more than the cap gets pages of the cap.
/// let sizes: Vec<usize> = client.backups().page_size(5000).pages().map_ok(|page| page.len()).try_collect().await?;
/// assert_eq!(sizes, [DEFAULT_MAX_LIMIT, 500]);
/// # Ok(())
/// # }
/// ```
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
    ///
    /// ```
    /// use vbs_backups::testing::{DEFAULT_BACKUPS, FakeServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// assert_eq!(server.backups().len(), DEFAULT_BACKUPS);
    /// assert_eq!(server.request_count(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder() -> FakeServerBuilder {
        FakeServerBuilder::default()
    }

    /// The service root to configure a client with: `http://127.0.0.1:PORT`, or
    /// `https://localhost:PORT` for a server started with [`tls`](FakeServerBuilder::tls),
    /// followed by the path prefix, if any, without a trailing slash.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::Client;
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().path_prefix("volume").start().await?;
    /// assert_eq!(server.endpoint(), format!("http://{}/volume", server.addr()));
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .build()?;
    /// let backups: Vec<_> = client.backups().stream().try_collect().await?;
    /// assert_eq!(backups.len(), server.backups().len());
    /// assert!(server.requests()[0].path.starts_with("/volume/v2/"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn endpoint(&self) -> String {
        let settings = &self.shared.settings;
        let addr = self.shared.addr;
        if settings.tls {
            format!("https://localhost:{}{}", addr.port(), settings.prefix)
        } else {
            format!("http://{addr}{}", settings.prefix)
        }
    }

    /// The address the server listens on.
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// assert_eq!(server.addr().ip(), Ipv4Addr::LOCALHOST);
    ///
    /// // Any HTTP client can talk to it; here, Cinder's 404 page for an unknown path.
    /// let root = reqwest::get(format!("http://{}/", server.addr())).await?;
    /// assert_eq!(root.status(), 404);
    /// # Ok(())
    /// # }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// The only project id the server accepts in the path.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::Client;
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().project_id("p-1234").start().await?;
    /// assert_eq!(server.project_id(), "p-1234");
    ///
    /// // A client configured for another project gets Cinder's 400.
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id("someone-else")
    ///     .token(server.token().unwrap_or_default())
    ///     .build()?;
    /// let walk = client.backups().stream().try_collect::<Vec<_>>().await;
    /// assert_eq!(walk.map_err(|err| err.status()).err(), Some(Some(400)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn project_id(&self) -> &str {
        &self.shared.settings.project_id
    }

    /// The token currently required in `X-Auth-Token`, or `None` if any or no token is
    /// accepted; see [`set_token`](Self::set_token).
    ///
    /// ```
    /// use vbs_backups::testing::{DEFAULT_TOKEN, FakeServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let guarded = FakeServer::builder().start().await?;
    /// assert_eq!(guarded.token(), Some(DEFAULT_TOKEN));
    ///
    /// let open = FakeServer::builder().no_auth().start().await?;
    /// assert_eq!(open.token(), None);
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::Client;
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(7).start().await?;
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .build()?;
    /// let listed: Vec<_> = client.backups().page_size(3).stream().try_collect().await?;
    ///
    /// let expected: Vec<_> = server.backups().into_iter().map(|b| b.id).collect();
    /// assert_eq!(listed.into_iter().map(|b| b.id).collect::<Vec<_>>(), expected);
    /// # Ok(())
    /// # }
    /// ```
    pub fn backups(&self) -> Vec<FakeBackup> {
        self.shared.data().backups()
    }

    /// Every backup the server holds now, in the order a listing sorted with these
    /// [`ListBackups::sort`](crate::ListBackups::sort) terms yields them (no terms: the order of
    /// [`backups`](Self::backups)).
    ///
    /// Like Cinder, the server breaks ties by `created_at` and then `id` (those of them not
    /// sorted by already), both in the direction of the *first* term, so every order is total.
    /// [`SortKey::Name`](crate::SortKey::Name) sorts unnamed backups first ascending and last
    /// descending; strings compare bytewise.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::{Client, SortDir, SortKey};
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(30).start().await?;
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .build()?;
    /// let terms = [(SortKey::Size, SortDir::Desc), (SortKey::Name, SortDir::Asc)];
    /// let listed: Vec<_> = client
    ///     .backups()
    ///     .sort(terms[0].0, terms[0].1)
    ///     .sort(terms[1].0, terms[1].1)
    ///     .page_size(7)
    ///     .stream()
    ///     .try_collect()
    ///     .await?;
    ///
    /// let expected = server.backups_sorted(&terms);
    /// assert!(expected.windows(2).all(|pair| pair[0].size >= pair[1].size));
    /// let expected: Vec<_> = expected.into_iter().map(|b| b.id).collect();
    /// assert_eq!(listed.into_iter().map(|b| b.id).collect::<Vec<_>>(), expected);
    /// # Ok(())
    /// # }
    /// ```
    pub fn backups_sorted(&self, terms: &[(crate::SortKey, crate::SortDir)]) -> Vec<FakeBackup> {
        let terms = sort::client_terms(terms);
        let data = self.shared.data();
        if sort::is_default(&terms) {
            data.backups()
        } else {
            data.backups_sorted(&terms)
        }
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
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::{BackupStatus, Client};
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(5).start().await?;
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .build()?;
    /// let _: Vec<_> = client.backups().status(BackupStatus::Available).stream().try_collect().await?;
    ///
    /// let first = &server.requests()[0];
    /// assert_eq!(first.path, format!("/v2/{}/backups", server.project_id()));
    /// assert_eq!(first.param("status").as_deref(), Some("available"));
    /// assert_eq!(first.auth_token.as_deref(), server.token());
    /// # Ok(())
    /// # }
    /// ```
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().log.clone()
    }

    /// The number of requests received so far, on any path.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::Client;
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(25).start().await?;
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .build()?;
    /// let _: Vec<_> = client.backups().page_size(10).stream().try_collect().await?;
    /// assert_eq!(server.request_count(), 3); // 10 + 10 + 5
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::Client;
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(5).start().await?;
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .build()?;
    /// let _: Vec<_> = client.backups().page_size(2).stream().try_collect().await?;
    /// server.clear_requests();
    /// assert_eq!(server.request_count(), 0);
    ///
    /// // Only what comes next is recorded.
    /// let _: Vec<_> = client.backups().stream().try_collect().await?;
    /// assert_eq!(server.request_count(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn clear_requests(&self) {
        self.shared.lock().log.clear();
    }

    /// Replaces the active quirks; an empty iterator restores Cinder's behaviour.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::Client;
    /// use vbs_backups::testing::{FakeServer, Quirk};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(6).start().await?;
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .build()?;
    /// server.set_quirks([Quirk::NoVersionPrefix, Quirk::DropFilters]);
    /// let backups: Vec<_> = client.backups().page_size(2).stream().try_collect().await?;
    /// assert_eq!(backups.len(), 6);
    ///
    /// server.set_quirks([]); // Cinder's own behaviour again
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_quirks(&self, quirks: impl IntoIterator<Item = Quirk>) {
        self.shared.lock().quirks = quirks.into_iter().collect();
    }

    /// Delays every later request on a listing route by `per_page` before it is answered
    /// (canned responses and errors included; requests that get the 404 page are not delayed).
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures::TryStreamExt;
    /// use vbs_backups::Client;
    /// use vbs_backups::testing::{DEFAULT_BACKUPS, FakeServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().latency(Duration::from_secs(3600)).start().await?;
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .build()?;
    /// let stuck = client.backups().stream().try_collect::<Vec<_>>();
    /// assert!(tokio::time::timeout(Duration::from_millis(50), stuck).await.is_err());
    ///
    /// server.set_latency(Duration::ZERO);
    /// let backups: Vec<_> = client.backups().stream().try_collect().await?;
    /// assert_eq!(backups.len(), DEFAULT_BACKUPS);
    /// # Ok(())
    /// # }
    /// ```
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
    tls: Option<TlsPems>,
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
            tls: None,
        }
    }
}

impl FakeServerBuilder {
    /// The number of backups to generate (default [`DEFAULT_BACKUPS`]). Hundreds of thousands
    /// are fine: pages are cut in time proportional to their size.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::Client;
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(2_500).start().await?;
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .build()?;
    /// let sizes: Vec<usize> = client.backups().pages().map_ok(|page| page.len()).try_collect().await?;
    /// assert_eq!(sizes, [1000, 1000, 500]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn backups(mut self, count: usize) -> Self {
        self.backups = count;
        self
    }

    /// The seed of the generated data (default [`DEFAULT_SEED`]): the same seed and count always
    /// give the same backups.
    ///
    /// ```
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let a = FakeServer::builder().backups(10).seed(42).start().await?;
    /// let b = FakeServer::builder().backups(10).seed(42).start().await?;
    /// let c = FakeServer::builder().backups(10).seed(43).start().await?;
    /// assert_eq!(a.backups(), b.backups());
    /// assert_ne!(a.backups(), c.backups());
    /// # Ok(())
    /// # }
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The project id the server serves (default [`DEFAULT_PROJECT_ID`]). Requests for any other
    /// project get Cinder's 400 `Malformed request url`.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::Client;
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().project_id("p-1234").backups(3).start().await?;
    /// let client = Client::builder()
    ///     .endpoint(format!("{}/v3/p-1234", server.endpoint())) // a catalog URL
    ///     .token(server.token().unwrap_or_default())
    ///     .build()?;
    /// let backups: Vec<_> = client.backups().stream().try_collect().await?;
    /// assert_eq!(backups.len(), 3);
    /// assert_eq!(server.requests()[0].path, "/v3/p-1234/backups");
    /// # Ok(())
    /// # }
    /// ```
    pub fn project_id(mut self, id: impl Into<String>) -> Self {
        self.project_id = id.into();
        self
    }

    /// The token required in `X-Auth-Token` (default [`DEFAULT_TOKEN`]). Overrides an earlier
    /// [`no_auth`](Self::no_auth).
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::Client;
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().token("s3cret").start().await?;
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token("s3cret")
    ///     .build()?;
    /// let _: Vec<_> = client.backups().stream().try_collect().await?;
    /// assert_eq!(server.requests()[0].auth_token.as_deref(), Some("s3cret"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Accepts requests with any token or none. Overrides an earlier [`token`](Self::token).
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::Client;
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().no_auth().backups(3).start().await?;
    /// // No token configured at all.
    /// let client = Client::builder().endpoint(server.endpoint()).project_id(server.project_id()).build()?;
    /// let backups: Vec<_> = client.backups().stream().try_collect().await?;
    /// assert_eq!(backups.len(), 3);
    /// assert_eq!(server.requests()[0].auth_token, None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn no_auth(mut self) -> Self {
        self.token = None;
        self
    }

    /// Cinder's `osapi_max_limit`: the page size when no `limit` is given and the cap on larger
    /// ones (default [`DEFAULT_MAX_LIMIT`]; 0 is treated as 1).
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::Client;
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(25).max_limit(10).start().await?;
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .build()?;
    /// let sizes: Vec<usize> = client.backups().page_size(50).pages().map_ok(|page| page.len()).try_collect().await?;
    /// assert_eq!(sizes, [10, 10, 5]);
    /// // Silently capped: every request still asked for 50.
    /// assert!(server.requests().iter().all(|r| r.param("limit").as_deref() == Some("50")));
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_limit(mut self, max: usize) -> Self {
        self.max_limit = max.max(1);
        self
    }

    /// Serves the routes under this path, like a gateway that mounts the service at `/volume`.
    /// Slashes are normalised: `"volume"`, `"/volume"` and `"/volume/"` are the same prefix, and
    /// `""` or `"/"` means none (the default).
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::Client;
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().path_prefix("/volume/").backups(3).start().await?;
    /// assert!(server.endpoint().ends_with("/volume"));
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .build()?;
    /// let backups: Vec<_> = client.backups().stream().try_collect().await?;
    /// assert_eq!(backups.len(), 3);
    /// assert!(server.requests()[0].path.starts_with("/volume/v2/"));
    /// # Ok(())
    /// # }
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

    /// Turns a quirk on; call it once per quirk. See also [`FakeServer::set_quirks`].
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::Client;
    /// use vbs_backups::testing::{FakeServer, Quirk};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder()
    ///     .backups(9)
    ///     .quirk(Quirk::RelativeLink)
    ///     .quirk(Quirk::NoMarker)
    ///     .start()
    ///     .await?;
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .build()?;
    /// let backups: Vec<_> = client.backups().page_size(4).stream().try_collect().await?;
    /// assert_eq!(backups.len(), 9);
    /// # Ok(())
    /// # }
    /// ```
    pub fn quirk(mut self, quirk: Quirk) -> Self {
        self.quirks.push(quirk);
        self
    }

    /// The initial delay of each listing request (default none); see
    /// [`FakeServer::set_latency`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures::TryStreamExt;
    /// use vbs_backups::{Client, RetryPolicy};
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // A server far slower than the client is willing to wait.
    /// let server = FakeServer::builder().latency(Duration::from_secs(3600)).start().await?;
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .timeout(Duration::from_millis(100))
    ///     .retry_policy(RetryPolicy::disabled())
    ///     .build()?;
    /// let walk = client.backups().stream().try_collect::<Vec<_>>().await;
    /// assert!(walk.is_err_and(|err| err.is_timeout()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn latency(mut self, per_page: Duration) -> Self {
        self.latency = per_page;
        self
    }

    /// Serves HTTPS (HTTP/1.1 over TLS) with this certificate chain (leaf first) and its
    /// private key (PKCS#8, PKCS#1 or SEC1), both as PEM text, instead of plain HTTP.
    ///
    /// The server still listens on `127.0.0.1` only, but its [`endpoint`](FakeServer::endpoint)
    /// and links name `localhost`, so the certificate must be valid for `localhost`. Clients
    /// must trust its issuer, e.g. with
    /// [`ClientBuilder::trust_additional_ca_file`](crate::ClientBuilder::trust_additional_ca_file);
    /// to keep them off other loopback addresses, pin `localhost` to
    /// [`addr`](FakeServer::addr) with `reqwest::ClientBuilder::resolve`. The PEMs are checked
    /// by [`start`](Self::start).
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::Client;
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let key = rcgen::KeyPair::generate()?;
    /// let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])?.self_signed(&key)?;
    /// let server = FakeServer::builder().backups(3).tls(cert.pem(), key.serialize_pem()).start().await?;
    /// assert!(server.endpoint().starts_with("https://localhost:"));
    ///
    /// let ca_file = std::env::temp_dir().join(format!("fake-server-{}.pem", server.addr().port()));
    /// std::fs::write(&ca_file, cert.pem())?;
    /// let client = Client::builder().endpoint(server.endpoint()).project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default()).trust_additional_ca_file(&ca_file)
    ///     .http_client_builder(reqwest::Client::builder().resolve("localhost", server.addr()))
    ///     .build();
    /// std::fs::remove_file(&ca_file)?;
    /// let backups: Vec<_> = client?.backups().stream().try_collect().await?;
    /// assert_eq!(backups.len(), 3);
    /// # Ok(())
    /// # }
    /// ```
    pub fn tls(
        mut self,
        cert_chain_pem: impl Into<String>,
        private_key_pem: impl Into<String>,
    ) -> Self {
        self.tls = Some(TlsPems {
            cert_chain: cert_chain_pem.into(),
            private_key: private_key_pem.into(),
        });
        self
    }

    /// Binds a free port on `127.0.0.1` and spawns the server on the current Tokio runtime.
    ///
    /// # Errors
    ///
    /// Fails if there is no current Tokio runtime or the port cannot be bound, and with
    /// [`io::ErrorKind::InvalidInput`] if the [`tls`](Self::tls) certificate chain or key is not
    /// PEM, holds nothing usable, or the key does not match the certificate.
    ///
    /// ```
    /// use std::io;
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// assert!(server.endpoint().starts_with("http://127.0.0.1:"));
    ///
    /// let err = FakeServer::builder().tls("not a certificate", "not a key").start().await.unwrap_err();
    /// assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start(self) -> io::Result<FakeServer> {
        let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        let acceptor = self.tls.as_ref().map(TlsPems::acceptor).transpose()?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let settings = Settings {
            project_id: self.project_id,
            max_limit: self.max_limit,
            prefix: self.prefix,
            tls: acceptor.is_some(),
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
        match acceptor {
            Some(acceptor) => runtime.spawn(tls::run(
                listener,
                server::router(Arc::clone(&shared)),
                acceptor,
                stopped,
            )),
            None => runtime.spawn(server::run(listener, Arc::clone(&shared), stopped)),
        };
        Ok(FakeServer {
            shared,
            shutdown: Some(shutdown),
        })
    }
}

/// One backup held by a [`FakeServer`]: every field the summary and detail listings show,
/// generated from the seed.
///
/// The fields only the detail listing shows come from a generator of their own, so a seed
/// gives the same `id`, `name`, `status`, `volume_id` and `created_at` as before they existed.
/// The first few backups created cover every variant of each field (a `null` description, a
/// snapshot, an encryption key, …).
///
/// ```
/// use futures::TryStreamExt;
/// use vbs_backups::Client;
/// use vbs_backups::testing::FakeServer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = FakeServer::builder().backups(4).start().await?;
/// let client = Client::builder()
///     .endpoint(server.endpoint())
///     .project_id(server.project_id())
///     .token(server.token().unwrap_or_default())
///     .build()?;
/// let listed: Vec<_> = client.backups().stream().try_collect().await?;
/// for (summary, truth) in listed.iter().zip(server.backups()) {
///     assert_eq!((&summary.id, &summary.name), (&truth.id, &truth.name));
///     assert_eq!(truth.created_at.len(), "2024-01-01T20:49:00.000000".len());
/// }
///
/// // The detail listing shows the rest.
/// let details: Vec<_> = client.backups().detail().stream().try_collect().await?;
/// for (detail, truth) in details.iter().zip(server.backups()) {
///     assert_eq!(detail.size, Some(truth.size));
///     assert_eq!(detail.description, truth.description);
///     assert_eq!(detail.snapshot_id, truth.snapshot_id);
/// }
/// # Ok(())
/// # }
/// ```
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
    /// The size in GiB: that of the volume, so one of four values.
    pub size: u64,
    /// How many objects the backup is stored as; 0 while `creating` and in `error`.
    pub object_count: u64,
    /// The volume's availability zone: `nova` or `az-2`.
    pub availability_zone: String,
    /// The object store container: `volumebackups`, or `None` while `creating`.
    pub container: Option<String>,
    /// Last update, like `created_at` but to the second, between one second and two hours
    /// after it.
    pub updated_at: String,
    /// The description: `None`, empty, plain, or with quotes, a backslash, a tab and non-ASCII
    /// characters (served escaped like Python's `json`).
    pub description: Option<String>,
    /// Why it failed, for backups in `error` and `error_restoring`; `None` for the others.
    pub fail_reason: Option<String>,
    /// Whether the backup is incremental.
    pub is_incremental: bool,
    /// Whether incremental backups depend on this one (never for an incremental one).
    pub has_dependent_backups: bool,
    /// The snapshot the backup was taken from, for about one backup in four.
    pub snapshot_id: Option<String>,
    /// The time of the data: the snapshot's time (before `created_at`) for a snapshot backup,
    /// `created_at` for the others.
    pub data_timestamp: String,
    /// User metadata, served from microversion 3.43: empty, or one or two entries.
    pub metadata: std::collections::BTreeMap<String, String>,
    /// The user who created the backup (one of three), served from microversion 3.56.
    pub user_id: String,
    /// The encryption key, for about one backup in four, served from microversion 3.64 and only
    /// when set.
    pub encryption_key_id: Option<String>,
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
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::Client;
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .build()?;
    /// let _: Vec<_> = client.backups().name("nightly db").page_size(2).stream().try_collect().await?;
    ///
    /// let pairs = server.requests()[0].query_pairs(); // decoded, in request order
    /// assert!(pairs.contains(&("name".to_owned(), "nightly db".to_owned())));
    /// assert!(pairs.contains(&("limit".to_owned(), "2".to_owned())));
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::Client;
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(3).start().await?;
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .build()?;
    /// let _: Vec<_> = client.backups().page_size(2).stream().try_collect().await?;
    ///
    /// // The second page starts after the last backup of the first.
    /// let requests = server.requests();
    /// assert_eq!(requests[0].param("marker"), None);
    /// assert_eq!(requests[1].param("marker"), Some(server.backups()[1].id.clone()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn param(&self, key: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .rev()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
    }

    /// The first value of header `name` (case-insensitive), if any.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::Client;
    /// use vbs_backups::testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .user_agent("backup-auditor/2.1")
    ///     .build()?;
    /// let _: Vec<_> = client.backups().stream().try_collect().await?;
    ///
    /// let request = &server.requests()[0];
    /// assert_eq!(request.header("User-Agent"), Some("backup-auditor/2.1"));
    /// assert_eq!(request.header("accept"), Some("application/json"));
    /// # Ok(())
    /// # }
    /// ```
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
///
/// ```
/// use futures::TryStreamExt;
/// use vbs_backups::Client;
/// use vbs_backups::testing::{FakeServer, Quirk};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = FakeServer::builder()
///     .backups(9)
///     .quirk(Quirk::NoVersionPrefix)
///     .quirk(Quirk::OtherHost("vbs-internal.invalid:8776".into()))
///     .start()
///     .await?;
/// let client = Client::builder()
///     .endpoint(server.endpoint())
///     .project_id(server.project_id())
///     .token(server.token().unwrap_or_default())
///     .build()?;
/// // The client keeps to its endpoint and takes only the query of each next link.
/// let backups: Vec<_> = client.backups().page_size(4).stream().try_collect().await?;
/// assert_eq!(backups.len(), 9);
/// assert!(server.requests().iter().all(|r| r.host == Some(server.addr().to_string())));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Quirk {
    /// The next link has no version segment, like the Huawei API reference's example:
    /// `http://host{prefix}/{project_id}/backups?…`.
    ///
    /// ```
    /// use vbs_backups::testing::{FakeServer, Quirk};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().no_auth().quirk(Quirk::NoVersionPrefix).start().await?;
    /// let (endpoint, project) = (server.endpoint(), server.project_id());
    /// let first = &server.backups()[0].id;
    /// let page = reqwest::get(format!("{endpoint}/v3/{project}/backups?limit=1")).await?.text().await?;
    /// let page: serde_json::Value = serde_json::from_str(&page)?;
    /// assert_eq!(page["backups_links"][0]["href"], format!("{endpoint}/{project}/backups?limit=1&marker={first}"));
    /// # Ok(())
    /// # }
    /// ```
    NoVersionPrefix,
    /// The next link's authority is replaced by this `host:port`, like an internal address
    /// leaking through a gateway (point it at a second loopback listener to catch a client that
    /// follows it).
    ///
    /// ```
    /// use vbs_backups::testing::{FakeServer, Quirk};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().no_auth().quirk(Quirk::OtherHost("vbs-internal.invalid:8776".into())).start().await?;
    /// let (endpoint, project) = (server.endpoint(), server.project_id());
    /// let first = &server.backups()[0].id;
    /// let page = reqwest::get(format!("{endpoint}/v3/{project}/backups?limit=1")).await?.text().await?;
    /// let page: serde_json::Value = serde_json::from_str(&page)?;
    /// assert_eq!(page["backups_links"][0]["href"], format!("http://vbs-internal.invalid:8776/v3/{project}/backups?limit=1&marker={first}"));
    /// # Ok(())
    /// # }
    /// ```
    OtherHost(String),
    /// The next link says `https` although the server speaks plain HTTP, like a TLS-terminating
    /// proxy in front of it. No change on a server that speaks HTTPS.
    ///
    /// ```
    /// use vbs_backups::testing::{FakeServer, Quirk};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().no_auth().quirk(Quirk::HttpsScheme).start().await?;
    /// let (endpoint, project) = (server.endpoint(), server.project_id());
    /// let first = &server.backups()[0].id;
    /// let page = reqwest::get(format!("{endpoint}/v3/{project}/backups?limit=1")).await?.text().await?;
    /// let page: serde_json::Value = serde_json::from_str(&page)?;
    /// assert_eq!(page["backups_links"][0]["href"], format!("https://{}/v3/{project}/backups?limit=1&marker={first}", server.addr()));
    /// # Ok(())
    /// # }
    /// ```
    HttpsScheme,
    /// The next link is path-absolute, without scheme and authority:
    /// `{prefix}/v3/{project_id}/backups?…`. Takes precedence over `OtherHost` and `HttpsScheme`.
    ///
    /// ```
    /// use vbs_backups::testing::{FakeServer, Quirk};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().no_auth().quirk(Quirk::RelativeLink).start().await?;
    /// let (endpoint, project) = (server.endpoint(), server.project_id());
    /// let first = &server.backups()[0].id;
    /// let page = reqwest::get(format!("{endpoint}/v3/{project}/backups?limit=1")).await?.text().await?;
    /// let page: serde_json::Value = serde_json::from_str(&page)?;
    /// assert_eq!(page["backups_links"][0]["href"], format!("/v3/{project}/backups?limit=1&marker={first}"));
    /// # Ok(())
    /// # }
    /// ```
    RelativeLink,
    /// The next link loses the `name`, `status`, `volume_id` and `limit` parameters (it keeps
    /// `marker`, `offset` and everything else).
    ///
    /// ```
    /// use vbs_backups::testing::{FakeServer, Quirk};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().no_auth().quirk(Quirk::DropFilters).start().await?;
    /// let (endpoint, project) = (server.endpoint(), server.project_id());
    /// let first = server.backups().into_iter().find(|b| b.status == "available").map(|b| b.id).unwrap_or_default();
    /// let page = reqwest::get(format!("{endpoint}/v3/{project}/backups?status=available&limit=1")).await?.text().await?;
    /// let page: serde_json::Value = serde_json::from_str(&page)?;
    /// assert_eq!(page["backups_links"][0]["href"], format!("{endpoint}/v3/{project}/backups?marker={first}"));
    /// # Ok(())
    /// # }
    /// ```
    DropFilters,
    /// The next link has no `marker` parameter. Takes precedence over `RepeatMarker`.
    ///
    /// ```
    /// use vbs_backups::testing::{FakeServer, Quirk};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().no_auth().quirk(Quirk::NoMarker).start().await?;
    /// let (endpoint, project) = (server.endpoint(), server.project_id());
    /// let page = reqwest::get(format!("{endpoint}/v3/{project}/backups?limit=1&offset=0")).await?.text().await?;
    /// let page: serde_json::Value = serde_json::from_str(&page)?;
    /// assert_eq!(page["backups_links"][0]["href"], format!("{endpoint}/v3/{project}/backups?limit=1&offset=0"));
    /// # Ok(())
    /// # }
    /// ```
    NoMarker,
    /// The next link's marker is always the id of the first backup in the listing's order (the
    /// server's, or the one `sort` asks for): a broken server whose walk would never end.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::{Client, ErrorKind};
    /// use vbs_backups::testing::{FakeServer, Quirk};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(5).quirk(Quirk::RepeatMarker).start().await?;
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .build()?;
    /// // The client notices that the walk would never end.
    /// let err = client.backups().page_size(1).stream().try_collect::<Vec<_>>().await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Pagination);
    /// # Ok(())
    /// # }
    /// ```
    RepeatMarker,
    /// Filters are applied after the page is cut, as some backends do: a page takes `limit` rows
    /// after marker and offset ignoring the filters, links on (with the marker of the last of
    /// those rows) if it took `limit` rows, and only then drops rows that do not match. Pages can
    /// be short or even empty, yet link on.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::{BackupStatus, Client};
    /// use vbs_backups::testing::{FakeServer, Quirk};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(40).quirk(Quirk::EmptyPagesLinkOn).start().await?;
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .build()?;
    /// // Short and empty pages along the way, yet every match, once.
    /// let listed: Vec<_> = client.backups().status(BackupStatus::Error).page_size(3).stream().try_collect().await?;
    /// let expected: Vec<_> = server.backups().into_iter().filter(|b| b.status == "error").map(|b| b.id).collect();
    /// assert_eq!(listed.into_iter().map(|b| b.id).collect::<Vec<_>>(), expected);
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::Client;
    /// use vbs_backups::testing::{CannedResponse, FakeServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// server.push_response(CannedResponse::json(
    ///     403,
    ///     r#"{"forbidden": {"code": 403, "message": "Policy doesn't allow backup:get_all."}}"#,
    /// ));
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .build()?;
    /// let err = client.backups().stream().try_collect::<Vec<_>>().await.unwrap_err();
    /// assert_eq!((err.status(), err.code()), (Some(403), Some("forbidden")));
    /// assert!(err.message().contains("Policy"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self::text(status, "application/json", body)
    }

    /// A response with any content type, e.g. a proxy's `text/html` error page.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::Client;
    /// use vbs_backups::testing::{CannedResponse, DEFAULT_BACKUPS, FakeServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// // A gateway's error page once, then the real page.
    /// server.push_response(CannedResponse::text(502, "text/html", "<h1>502 Bad Gateway</h1>"));
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .build()?;
    /// let backups: Vec<_> = client.backups().stream().try_collect().await?;
    /// assert_eq!(backups.len(), DEFAULT_BACKUPS);
    /// assert_eq!(server.request_count(), 2); // the 502 was retried
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures::TryStreamExt;
    /// use vbs_backups::{Client, RetryPolicy};
    /// use vbs_backups::testing::{CannedResponse, FakeServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// server.push_response(CannedResponse::json(429, r#"{"message": "slow down"}"#).header("Retry-After", "7"));
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .retry_policy(RetryPolicy::disabled())
    ///     .build()?;
    /// let err = client.backups().stream().try_collect::<Vec<_>>().await.unwrap_err();
    /// assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::{Client, ErrorKind, RetryPolicy};
    /// use vbs_backups::testing::{CannedResponse, FakeServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// server.push_response(CannedResponse::passthrough().reset_after(100));
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .retry_policy(RetryPolicy::disabled())
    ///     .build()?;
    /// let err = client.backups().stream().try_collect::<Vec<_>>().await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Transport);
    /// # Ok(())
    /// # }
    /// ```
    ResetAfter(usize),
    /// The response declares the full `Content-Length`, sends only the first `n` bytes and
    /// closes the connection, so reading the body fails. A body of at most `n` bytes is sent
    /// whole.
    ///
    /// ```
    /// use futures::TryStreamExt;
    /// use vbs_backups::Client;
    /// use vbs_backups::testing::{CannedResponse, DEFAULT_BACKUPS, FakeServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// server.push_response(CannedResponse::passthrough().truncate_to(100));
    /// let client = Client::builder()
    ///     .endpoint(server.endpoint())
    ///     .project_id(server.project_id())
    ///     .token(server.token().unwrap_or_default())
    ///     .build()?;
    /// // The cut page is fetched again, so nothing is lost.
    /// let backups: Vec<_> = client.backups().stream().try_collect().await?;
    /// assert_eq!(backups.len(), DEFAULT_BACKUPS);
    /// assert_eq!(server.request_count(), 2);
    /// # Ok(())
    /// # }
    /// ```
    TruncateTo(usize),
}

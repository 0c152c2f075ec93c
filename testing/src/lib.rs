//! An embedded fake Huawei Cloud VBS / OpenStack Cinder backup-list server (and a fake
//! Keystone), for the `vbs-backups` quickstart and tests, and for your own tests of any client.
//!
//! The fake speaks HTTP only: it knows nothing of the `vbs-backups` client library, so it can
//! test any client, in Rust or not. The examples here use plain `reqwest` and `serde_json`;
//! with `vbs-backups`, point `Client::builder().endpoint(…)`, `.project_id(…)` and `.token(…)`
//! at [`FakeServer::endpoint`], [`FakeServer::project_id`] and [`FakeServer::token`]. The
//! `vbs-fake-server` binary of this crate runs the server on its own, for scripts and other
//! languages: `vbs-fake-server --backups 5000 --port 0` prints `endpoint=…`, `project_id=…` and
//! `token=…` and serves until Ctrl-C or SIGTERM.
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
//!   `all_tenants=1` lists every project's backups to an admin caller (then `project_id=…`
//!   picks one), and is silently ignored for a non-admin (see
//!   [`FakeServerBuilder::other_projects`] and [`FakeServerBuilder::non_admin`]); any other key, or a repeated `limit`, `offset`,
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
//! client pages, backups can be deleted ([`FakeServer::delete_backup`], or Cinder's own
//! `DELETE /{v2|v3}/{project_id}/backups/{id}`, which answers 202 and removes the backup at
//! once: a deleted backup's marker then gets the 404) or created ([`FakeServer::create_backups`]), and the token can be rotated
//! ([`FakeServer::set_token`]). Every request is recorded, so tests can assert on what a client
//! actually sent.
//!
//! With [`FakeServerBuilder::tls`] the server speaks HTTPS with a certificate you provide, to
//! test certificate verification and private CAs (for `vbs-backups`, see
//! `ClientBuilder::trust_additional_ca_file`).
//!
//! ```
//! use vbs_backups_testing::{FakeServer, Quirk};
//!
//! # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // 10 seeded backups; next links name a host the client cannot reach.
//! let server = FakeServer::builder()
//!     .backups(10)
//!     .quirk(Quirk::OtherHost("vbs-internal.invalid:8776".into()))
//!     .start()
//!     .await?;
//!
//! // Point the code under test at the server; here, plain reqwest (see `walk` below).
//! let first = format!("{}/v2/{}/backups?limit=4", server.endpoint(), server.project_id());
//! let (status, page) = get(&server, &first).await?;
//! assert_eq!(status, 200);
//! let next = page["backups_links"][0]["href"].as_str().unwrap_or_default();
//! assert!(next.starts_with("http://vbs-internal.invalid:8776/"));
//!
//! // A client that keeps to its endpoint gets every backup, in server order ...
//! let pages = walk(&server, first).await?;
//! let expected: Vec<_> = server.backups().into_iter().map(|b| b.id).collect();
//! assert_eq!(ids(&pages), expected);
//!
//! // ... and the server recorded what it received: 4 + 4 + 2, each on the endpoint.
//! let requests = server.requests();
//! assert_eq!(requests.len(), 4); // the first page twice
//! assert_eq!(requests[2].param("limit").as_deref(), Some("4"));
//! # Ok(())
//! # }
//! ```
//!
//! The detail listing, microversions, `with_count` and sorting:
//!
//! ```
//! use vbs_backups_testing::FakeServer;
//!
//! # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = FakeServer::builder().backups(12).start().await?;
//! let http = reqwest::Client::builder().no_proxy().build()?;
//! let url = format!(
//!     "{}/v3/{}/backups/detail?sort=size:desc&with_count=true&limit=5",
//!     server.endpoint(),
//!     server.project_id()
//! );
//! let response = http
//!     .get(&url)
//!     .header("X-Auth-Token", server.token().unwrap_or_default())
//!     .header("OpenStack-API-Version", "volume 3.64")
//!     .send()
//!     .await?;
//! assert_eq!(response.headers()["openstack-api-version"], "volume 3.64");
//! let page: Value = serde_json::from_str(&response.text().await?)?;
//! assert_eq!(page["count"], 12); // `with_count`, from 3.45
//! let first = &page["backups"][0];
//! assert!(first["user_id"].is_string()); // from 3.56
//! assert!(first["os-backup-project-attr:project_id"].is_string()); // from 3.18
//!
//! // The truth for a sort, in `sort=`'s own syntax.
//! let truth = server.backups_sorted("size:desc")?;
//! assert_eq!(first["id"], truth[0].id.as_str());
//! assert_eq!(first["size"], truth[0].size);
//! # Ok(())
//! # }
//! ```
//!
//! The server stops when the [`FakeServer`] is dropped. It must be started from inside a Tokio
//! runtime, on which it then runs.

#![deny(missing_docs, missing_debug_implementations)]

mod account;
pub use account::{
    ACCOUNT_ACCESS_KEY, ACCOUNT_REGIONS, ACCOUNT_SECRET_KEY, AccountLimit, AccountProjectInfo,
    AccountScope, FakeAccount, FakeAccountBuilder, ProjectRouter,
};
mod cbr;
pub use cbr::{CBR_MAX_LIMIT, CBR_VAULTS, FakeCbrBackup};
mod dataset;
mod deletion;
#[doc(hidden)]
pub mod doc_support;
mod huawei;
pub use huawei::{DEFAULT_HUAWEI_REGION, HuaweiGateway};
mod keystone;
pub use keystone::*;
mod render;
mod row;
mod server;
mod sort;
mod tls;
mod versions;
mod volumes;
pub use volumes::{DELETED_VOLUME_ID, FakeVolume};

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use self::dataset::Dataset;
use self::server::{Settings, Shared};
use self::tls::TlsPems;

/// The project id a [`FakeServer`] serves unless [`FakeServerBuilder::project_id`] says otherwise.
///
/// ```
/// use vbs_backups_testing::{DEFAULT_PROJECT_ID, FakeServer};
///
/// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = FakeServer::builder().backups(3).start().await?;
/// assert_eq!(server.project_id(), DEFAULT_PROJECT_ID);
///
/// let pages = walk(&server, format!("{}/v2/{DEFAULT_PROJECT_ID}/backups", server.endpoint())).await?;
/// assert_eq!(ids(&pages).len(), 3);
/// # Ok(())
/// # }
/// ```
pub const DEFAULT_PROJECT_ID: &str = "b23b579f08c84228b9b4673c46f0c442";

/// The token a [`FakeServer`] expects in `X-Auth-Token` unless configured otherwise.
///
/// ```
/// use vbs_backups_testing::{DEFAULT_TOKEN, FakeServer};
///
/// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = FakeServer::builder().backups(3).start().await?;
/// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
/// let http = reqwest::Client::builder().no_proxy().build()?;
/// let expired = http.get(&url).header("X-Auth-Token", "expired").send().await?;
/// assert_eq!(expired.status(), 401);
///
/// let ok = http.get(&url).header("X-Auth-Token", DEFAULT_TOKEN).send().await?;
/// let page: Value = serde_json::from_str(&ok.text().await?)?;
/// assert_eq!(page["backups"].as_array().map(Vec::len), Some(3));
/// # Ok(())
/// # }
/// ```
pub const DEFAULT_TOKEN: &str = "fake-token";

/// The number of backups a [`FakeServer`] holds unless [`FakeServerBuilder::backups`] says
/// otherwise.
///
/// ```
/// use vbs_backups_testing::{DEFAULT_BACKUPS, FakeServer};
///
/// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = FakeServer::builder().start().await?;
/// let url = format!("{}/v2/{}/backups?limit=10", server.endpoint(), server.project_id());
/// let pages = walk(&server, url).await?;
/// assert_eq!(ids(&pages).len(), DEFAULT_BACKUPS);
/// assert_eq!(server.request_count(), 3); // 10 + 10 + 5
/// # Ok(())
/// # }
/// ```
pub const DEFAULT_BACKUPS: usize = 25;

/// The seed used unless [`FakeServerBuilder::seed`] says otherwise.
///
/// ```
/// use vbs_backups_testing::{DEFAULT_SEED, FakeServer};
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
/// use vbs_backups_testing::{DEFAULT_MAX_LIMIT, FakeServer};
///
/// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = FakeServer::builder().backups(1500).start().await?;
/// // Asking for more than the cap gets pages of the cap.
/// let url = format!("{}/v2/{}/backups?limit=5000", server.endpoint(), server.project_id());
/// assert_eq!(sizes(&walk(&server, url).await?), [DEFAULT_MAX_LIMIT, 500]);
/// # Ok(())
/// # }
/// ```
pub const DEFAULT_MAX_LIMIT: usize = 1000;

/// How many volumes without backups a server lists by default
/// ([`FakeServerBuilder::volumes_without_backups`]).
pub const DEFAULT_SPARE_VOLUMES: usize = 2;

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
    /// use vbs_backups_testing::{DEFAULT_BACKUPS, FakeServer};
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
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().path_prefix("volume").start().await?;
    /// assert_eq!(server.endpoint(), format!("http://{}/volume", server.addr()));
    /// let pages = walk(&server, format!("{}/v2/{}/backups", server.endpoint(), server.project_id())).await?;
    /// assert_eq!(ids(&pages).len(), server.backups().len());
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
    /// use vbs_backups_testing::FakeServer;
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
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().project_id("p-1234").start().await?;
    /// assert_eq!(server.project_id(), "p-1234");
    ///
    /// // Another project in the path gets Cinder's 400.
    /// let (status, body) = get(&server, &format!("{}/v2/someone-else/backups", server.endpoint())).await?;
    /// assert_eq!(status, 400);
    /// assert_eq!(body["badRequest"]["message"], "Malformed request url");
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
    /// use vbs_backups_testing::{DEFAULT_TOKEN, FakeServer};
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
    /// use vbs_backups_testing::FakeServer;
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
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(7).start().await?;
    /// let url = format!("{}/v2/{}/backups?limit=3", server.endpoint(), server.project_id());
    /// let listed = ids(&walk(&server, url).await?);
    ///
    /// let expected: Vec<_> = server.backups().into_iter().map(|b| b.id).collect();
    /// assert_eq!(listed, expected);
    /// # Ok(())
    /// # }
    /// ```
    pub fn backups(&self) -> Vec<FakeBackup> {
        let mut backups = self.shared.data().backups();
        backups.retain(|backup| backup.project_id == self.project_id());
        backups
    }

    /// Every project's backups in server order (newest first): what an admin lists with
    /// `all_tenants=1`. The same as [`backups`](Self::backups) without
    /// [`FakeServerBuilder::other_projects`].
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let server = FakeServer::builder().backups(4).other_projects(2, 3).start().await?;
    /// assert_eq!(server.backups().len(), 4);
    /// assert_eq!(server.all_backups().len(), 10);
    /// assert_eq!(server.other_project_ids().len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn all_backups(&self) -> Vec<FakeBackup> {
        self.shared.data().backups()
    }

    /// The served project's volumes in server order (newest first); see
    /// [`FakeServerBuilder::volumes_without_backups`].
    ///
    /// ```
    /// use vbs_backups_testing::{DELETED_VOLUME_ID, FakeServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let server = FakeServer::builder().backups(40).start().await?;
    /// let volumes = server.volumes();
    /// assert_eq!(volumes.len(), 5);
    /// // Some backups belong to a volume that is gone.
    /// assert!(volumes.iter().all(|volume| volume.id != DELETED_VOLUME_ID));
    /// assert!(server.backups().iter().any(|backup| backup.volume_id == DELETED_VOLUME_ID));
    /// # Ok(())
    /// # }
    /// ```
    pub fn volumes(&self) -> Vec<FakeVolume> {
        self.shared.settings.volumes.clone()
    }

    /// The ids of the other projects ([`FakeServerBuilder::other_projects`]), in order.
    pub fn other_project_ids(&self) -> &[String] {
        &self.shared.settings.other_projects
    }

    /// The backups as the CBR mode ([`FakeServerBuilder::cbr`]) serves them, in its default
    /// order (the data set's: newest first).
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let server = FakeServer::builder().backups(3).cbr().start().await?;
    /// let cbr = server.cbr_backups();
    /// assert_eq!(cbr.len(), 3);
    /// assert_eq!(cbr[0].resource_type, "OS::Cinder::Volume");
    /// # Ok(())
    /// # }
    /// ```
    pub fn cbr_backups(&self) -> Vec<FakeCbrBackup> {
        self.shared
            .data()
            .rows()
            .iter()
            .map(|row| FakeCbrBackup::of(&row.backup))
            .collect()
    }

    /// Every backup the server holds now, in the order a listing with `sort={sort}` yields it:
    /// `sort` in Cinder's own syntax, `key[:dir][,key[:dir]…]` (a term without a direction is
    /// `desc`; `name` means `display_name`, as from microversion 3.37), like
    /// `"size:desc,id:asc"`, which is what `vbs-backups`' `ListBackups::sort` sends. An empty
    /// `sort` gives the order of [`backups`](Self::backups).
    ///
    /// Like Cinder, the server breaks ties by `created_at` and then `id` (those of them not
    /// sorted by already), both in the direction of the *first* term, so every order is total.
    /// Sorting by `display_name` puts unnamed backups first ascending and last descending;
    /// strings compare bytewise.
    ///
    /// # Errors
    ///
    /// [`InvalidSort`] with Cinder's 400 message for a sort Cinder refuses (an unknown key, a
    /// direction other than `asc` or `desc`).
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(30).start().await?;
    /// let sort = "size:desc,display_name:asc";
    /// let url = format!("{}/v3/{}/backups?sort={sort}&limit=7", server.endpoint(), server.project_id());
    /// let listed = ids(&walk(&server, url).await?);
    ///
    /// let expected = server.backups_sorted(sort)?;
    /// assert!(expected.windows(2).all(|pair| pair[0].size >= pair[1].size));
    /// let expected: Vec<_> = expected.into_iter().map(|b| b.id).collect();
    /// assert_eq!(listed, expected);
    ///
    /// // What Cinder refuses has no order.
    /// assert!(server.backups_sorted("size:upwards").is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn backups_sorted(&self, sort: &str) -> Result<Vec<FakeBackup>, InvalidSort> {
        let terms = sort::parse(sort).map_err(InvalidSort)?;
        let data = self.shared.data();
        let mut backups = if sort::is_default(&terms) {
            data.backups()
        } else {
            data.backups_sorted(&terms)
        };
        backups.retain(|backup| backup.project_id == self.project_id());
        Ok(backups)
    }

    /// Deletes the backup with this id, as if it were deleted while a client is paging; returns
    /// whether it existed. Later pages no longer hold it, and a request with it as `marker` gets
    /// Cinder's 404 `itemNotFound` (`Backup <id> could not be found.`).
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
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
    /// use vbs_backups_testing::FakeServer;
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
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(5).start().await?;
    /// let url = format!("{}/v2/{}/backups?status=available", server.endpoint(), server.project_id());
    /// walk(&server, url).await?;
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
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(25).start().await?;
    /// walk(&server, format!("{}/v2/{}/backups?limit=10", server.endpoint(), server.project_id())).await?;
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
    /// let server = vbs_backups_testing::FakeServer::builder().start().await?;
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
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(5).start().await?;
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// walk(&server, format!("{url}?limit=2")).await?;
    /// server.clear_requests();
    /// assert_eq!(server.request_count(), 0);
    ///
    /// // Only what comes next is recorded.
    /// walk(&server, url).await?;
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
    /// use vbs_backups_testing::{FakeServer, Quirk};
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(6).start().await?;
    /// let url = format!("{}/v2/{}/backups?limit=2", server.endpoint(), server.project_id());
    /// server.set_quirks([Quirk::NoVersionPrefix, Quirk::DropFilters]);
    /// let (_, page) = get(&server, &url).await?;
    /// let next = page["backups_links"][0]["href"].as_str().unwrap_or_default();
    /// assert!(!next.contains("/v2/") && !next.contains("limit="), "{next}");
    ///
    /// server.set_quirks([]); // Cinder's own behaviour again
    /// let (_, page) = get(&server, &url).await?;
    /// let next = page["backups_links"][0]["href"].as_str().unwrap_or_default();
    /// assert!(next.contains("/v2/") && next.contains("limit=2"), "{next}");
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
    /// use vbs_backups_testing::{DEFAULT_BACKUPS, FakeServer};
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().latency(Duration::from_secs(3600)).start().await?;
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// let stuck = get(&server, &url);
    /// assert!(tokio::time::timeout(Duration::from_millis(50), stuck).await.is_err());
    ///
    /// server.set_latency(Duration::ZERO);
    /// assert_eq!(ids(&walk(&server, url).await?).len(), DEFAULT_BACKUPS);
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
    /// use vbs_backups_testing::{CannedResponse, FakeServer};
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

    /// Sets how many seconds the Huawei gateway's clock runs ahead of the machine's
    /// (negative: behind); see [`HuaweiGateway::clock_offset_secs`]. No effect without
    /// [`FakeServerBuilder::huawei`].
    ///
    /// ```
    /// use vbs_backups_testing::{FakeServer, HuaweiGateway};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().huawei(HuaweiGateway::new("AK", "SK")).start().await?;
    /// server.set_clock_offset_secs(-3600); // an hour behind: fresh signatures look stale
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_clock_offset_secs(&self, offset: i64) {
        if let Some(gateway) = &self.shared.settings.huawei {
            gateway.set_offset(offset);
        }
    }

    /// Has the Huawei gateway throttle the next `requests` correctly signed requests: `429`
    /// with `{"error_code": "APIGW.0308", …}`. No effect without [`FakeServerBuilder::huawei`].
    ///
    /// ```
    /// use vbs_backups_testing::{FakeServer, HuaweiGateway};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().huawei(HuaweiGateway::new("AK", "SK")).start().await?;
    /// server.throttle_next(2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn throttle_next(&self, requests: u64) {
        if let Some(gateway) = &self.shared.settings.huawei {
            gateway.throttle(requests);
        }
    }

    /// How many requests the Huawei gateway found correctly signed (throttled ones included).
    ///
    /// ```
    /// use vbs_backups_testing::{FakeServer, HuaweiGateway};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().huawei(HuaweiGateway::new("AK", "SK")).start().await?;
    /// assert_eq!(server.signatures_verified(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn signatures_verified(&self) -> u64 {
        self.shared.settings.huawei.as_ref().map_or(0, |gateway| {
            gateway.verified.load(std::sync::atomic::Ordering::SeqCst)
        })
    }

    /// How many requests the Huawei gateway refused with `401 APIGW.0301` (bad, missing or
    /// stale signature, unknown key, wrong project or security token).
    ///
    /// ```
    /// use vbs_backups_testing::{FakeServer, HuaweiGateway};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().huawei(HuaweiGateway::new("AK", "SK")).start().await?;
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// let response = reqwest::Client::builder().no_proxy().build()?.get(&url).send().await?;
    /// assert_eq!(response.status(), 401);
    /// assert!(response.headers().contains_key("date"));
    /// assert!(response.text().await?.contains("APIGW.0301"));
    /// assert_eq!(server.signatures_refused(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn signatures_refused(&self) -> u64 {
        self.shared.settings.huawei.as_ref().map_or(0, |gateway| {
            gateway.refused.load(std::sync::atomic::Ordering::SeqCst)
        })
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
    port: u16,
    verifier: Option<server::Verifier>,
    huawei: Option<HuaweiGateway>,
    cbr: bool,
    other_projects: (usize, usize),
    non_admin: bool,
    spare_volumes: usize,
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
            port: 0,
            verifier: None,
            huawei: None,
            cbr: false,
            other_projects: (0, 0),
            non_admin: false,
            spare_volumes: DEFAULT_SPARE_VOLUMES,
        }
    }
}

impl FakeServerBuilder {
    /// The number of backups to generate (default [`DEFAULT_BACKUPS`]). Hundreds of thousands
    /// are fine: pages are cut in time proportional to their size.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(2_500).start().await?;
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// assert_eq!(sizes(&walk(&server, url).await?), [1000, 1000, 500]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn backups(mut self, count: usize) -> Self {
        self.backups = count;
        self
    }

    /// Adds `projects` other projects holding `each` backups apiece, created over the same
    /// time as the served project's (default none). They are listed only as Cinder lists
    /// them: to an admin caller with `all_tenants=1` (then `project_id=…` picks one project);
    /// every other listing shows the served project alone. Their ids are
    /// [`FakeServer::other_project_ids`], their backups in [`FakeServer::all_backups`].
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{get, ids};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(3).other_projects(2, 4).start().await?;
    /// let url = format!("{}/v3/{}/backups", server.endpoint(), server.project_id());
    /// assert_eq!(ids(&[get(&server, &url).await?.1]).len(), 3);
    /// assert_eq!(ids(&[get(&server, &format!("{url}?all_tenants=1")).await?.1]).len(), 11);
    /// let other = &server.other_project_ids()[1];
    /// let one = format!("{url}?all_tenants=1&project_id={other}");
    /// assert_eq!(ids(&[get(&server, &one).await?.1]).len(), 4);
    /// # Ok(())
    /// # }
    /// ```
    pub fn other_projects(mut self, projects: usize, each: usize) -> Self {
        self.other_projects = (projects, each);
        self
    }

    /// Makes the caller a non-admin, as the keystone-validated real Cinder does (default: an
    /// admin, as noauth Cinder makes every caller). Like Cinder for a non-admin,
    /// `all_tenants` is then accepted and silently ignored (the caller's own project is
    /// listed), `os-backup-project-attr:project_id` is left out of detail entries, and the
    /// `project_id` filter is dropped below microversion 3.31 and refused with a 400 from it.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{get, ids};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(3).other_projects(2, 4).non_admin().start().await?;
    /// let url = format!("{}/v3/{}/backups?all_tenants=1", server.endpoint(), server.project_id());
    /// assert_eq!(ids(&[get(&server, &url).await?.1]).len(), 3);
    /// # Ok(())
    /// # }
    /// ```
    pub fn non_admin(mut self) -> Self {
        self.non_admin = true;
        self
    }

    /// How many volumes without any backup the server lists beside the data set's
    /// (default 2). The data set's backups belong to four volumes: three are listed
    /// ([`FakeServer::volumes`]); the fourth, [`DELETED_VOLUME_ID`], was deleted, so its
    /// backups are orphans. Volumes are served as Cinder's
    /// `GET {prefix}/{v2|v3}/{project_id}/volumes/detail` in every mode (Huawei's EVS
    /// behind the gateway too): `limit` capped at [`max_limit`](Self::max_limit), `marker`,
    /// `volumes_links`, and the filters `status`, `name` and `metadata`
    /// (`metadata={"team": "db"}`).
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().volumes_without_backups(5).start().await?;
    /// assert_eq!(server.volumes().len(), 8);
    /// let url = format!("{}/v3/{}/volumes/detail?limit=4", server.endpoint(), server.project_id());
    /// let (status, page) = get(&server, &url).await?;
    /// assert_eq!(status, 200);
    /// assert_eq!(page["volumes"].as_array().map(Vec::len), Some(4));
    /// assert!(page["volumes_links"][0]["href"].as_str().unwrap_or_default().contains("marker="));
    /// # Ok(())
    /// # }
    /// ```
    pub fn volumes_without_backups(mut self, count: usize) -> Self {
        self.spare_volumes = count;
        self
    }

    /// The seed of the generated data (default [`DEFAULT_SEED`]): the same seed and count always
    /// give the same backups.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
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
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().project_id("p-1234").backups(3).start().await?;
    /// let pages = walk(&server, format!("{}/v3/p-1234/backups", server.endpoint())).await?;
    /// assert_eq!(ids(&pages).len(), 3);
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
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().token("s3cret").start().await?;
    /// walk(&server, format!("{}/v2/{}/backups", server.endpoint(), server.project_id())).await?;
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
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().no_auth().backups(3).start().await?;
    /// // No token sent at all.
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// let page: Value = serde_json::from_str(&reqwest::get(url).await?.text().await?)?;
    /// assert_eq!(page["backups"].as_array().map(Vec::len), Some(3));
    /// assert_eq!(server.requests()[0].auth_token, None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn no_auth(mut self) -> Self {
        self.token = None;
        self
    }

    /// Puts Huawei Cloud's API gateway in front: every request must be signed with
    /// `SDK-HMAC-SHA256` by the gateway's AK/SK (the signature is recomputed from the
    /// request as received: raw path and query, the signed headers, the body), carry an
    /// `X-Sdk-Date` within 15 minutes of the gateway's clock and, except IAM's, an
    /// `X-Project-Id` naming the server's project; anything else is refused like the real
    /// gateway refuses it, `401` with `{"error_code": "APIGW.0301", "error_msg": …,
    /// "request_id": …}`. Every answer carries the gateway's clock in `Date`. IAM's
    /// `GET /v3/projects?name=` is served on the same address. No token is asked for
    /// (as with [`no_auth`](Self::no_auth)). Canned responses come before the gateway,
    /// except [`CannedResponse::passthrough`] ones, which it judges like any other.
    ///
    /// ```
    /// use vbs_backups_testing::{FakeServer, HuaweiGateway};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder()
    ///     .huawei(HuaweiGateway::new("HPUAFAKEACCESSKEY", "fake-secret-key"))
    ///     .start()
    ///     .await?;
    /// let unsigned = reqwest::Client::builder().no_proxy().build()?
    ///     .get(format!("{}/v3/projects?name=cn-north-4", server.endpoint()))
    ///     .send()
    ///     .await?;
    /// assert_eq!(unsigned.status(), 401);
    /// assert_eq!(server.token(), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn huawei(mut self, gateway: HuaweiGateway) -> Self {
        self.token = None;
        self.huawei = Some(gateway);
        self
    }

    /// Serves the data set as Huawei CBR's backup list instead of Cinder's:
    /// `GET /v3/{project_id}/backups` answers `{"backups": […], "count": N}` without links,
    /// with CBR's `limit` (1 to 1000, otherwise a 400 `{"error_code": "BackupService.…",
    /// "error_msg": …}`), `marker` (the id to start after), `offset` (after the marker) and
    /// filters (`status` may repeat; `vault_id`, `resource_id`, `resource_type`, `name`,
    /// `start_time` / `end_time` as `2018-02-01T12:00:00Z`, `image_type`, `own_type`,
    /// `enterprise_project_id`, `sort=key[:dir],…`); `count` is the total of matches.
    /// Unknown or repeated parameters (but `status`) are refused with a 400. Each backup is
    /// the data set's, seen as CBR would show it ([`FakeServer::cbr_backups`]). Combines with
    /// [`huawei`](Self::huawei) (signed requests) and the token check.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::get;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(5).cbr().start().await?;
    /// let url = format!("{}/v3/{}/backups?limit=2", server.endpoint(), server.project_id());
    /// let (status, page) = get(&server, &url).await?;
    /// assert_eq!(status, 200);
    /// assert_eq!(page["backups"].as_array().map(Vec::len), Some(2));
    /// assert_eq!(page["count"], 5);
    /// assert!(page.get("backups_links").is_none());
    /// let (status, refused) = get(&server, &format!("{url}0000")).await?; // limit=20000
    /// assert_eq!(status, 400);
    /// assert!(refused["error_code"].as_str().is_some_and(|code| code.starts_with("BackupService.")));
    /// # Ok(())
    /// # }
    /// ```
    pub fn cbr(mut self) -> Self {
        self.cbr = true;
        self
    }

    /// Judges every listing request as it was received, before anything else (the
    /// token check included): `Err(message)` refuses it with a 401 carrying `message`.
    /// For testing signed requests: recompute the signature from the
    /// [`RecordedRequest`] (method, raw path and query, headers) and compare. Canned
    /// responses are served before it, as a gateway in front would.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder()
    ///     .no_auth()
    ///     .verify_requests(|request| match request.headers.iter().any(|(name, _)| name == "x-signature") {
    ///         true => Ok(()),
    ///         false => Err("the request is not signed".into()),
    ///     })
    ///     .start()
    ///     .await?;
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// let http = reqwest::Client::builder().no_proxy().build()?;
    /// assert_eq!(http.get(&url).send().await?.status(), 401);
    /// assert_eq!(http.get(&url).header("x-signature", "s").send().await?.status(), 200);
    /// # Ok(())
    /// # }
    /// ```
    pub fn verify_requests(
        mut self,
        verifier: impl Fn(&RecordedRequest) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.verifier = Some(server::Verifier(Arc::new(verifier)));
        self
    }

    /// Cinder's `osapi_max_limit`: the page size when no `limit` is given and the cap on larger
    /// ones (default [`DEFAULT_MAX_LIMIT`]; 0 is treated as 1).
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(25).max_limit(10).start().await?;
    /// let url = format!("{}/v2/{}/backups?limit=50", server.endpoint(), server.project_id());
    /// assert_eq!(sizes(&walk(&server, url).await?), [10, 10, 5]);
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
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().path_prefix("/volume/").backups(3).start().await?;
    /// assert!(server.endpoint().ends_with("/volume"));
    /// let pages = walk(&server, format!("{}/v2/{}/backups", server.endpoint(), server.project_id())).await?;
    /// assert_eq!(ids(&pages).len(), 3);
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
    /// use vbs_backups_testing::{FakeServer, Quirk};
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder()
    ///     .backups(9)
    ///     .quirk(Quirk::RelativeLink)
    ///     .quirk(Quirk::NoMarker)
    ///     .start()
    ///     .await?;
    /// let url = format!("{}/v2/{}/backups?limit=4", server.endpoint(), server.project_id());
    /// let (_, page) = get(&server, &url).await?;
    /// let next = page["backups_links"][0]["href"].as_str().unwrap_or_default();
    /// assert!(next.starts_with('/') && !next.contains("marker="), "{next}");
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
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // A server far slower than the client is willing to wait.
    /// let server = FakeServer::builder().latency(Duration::from_secs(3600)).start().await?;
    /// let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_millis(100)).build()?;
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// let answer = http.get(url).header("X-Auth-Token", server.token().unwrap_or_default()).send().await;
    /// assert!(answer.is_err_and(|err| err.is_timeout()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn latency(mut self, per_page: Duration) -> Self {
        self.latency = per_page;
        self
    }

    /// Listens on this port of `127.0.0.1` instead of a random free one (`0`, the default);
    /// [`start`](Self::start) fails if it is taken. Tests should keep the default.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let first = FakeServer::builder().start().await?;
    /// let taken = FakeServer::builder().port(first.addr().port()).start().await;
    /// assert_eq!(taken.err().map(|err| err.kind()), Some(std::io::ErrorKind::AddrInUse));
    /// # Ok(())
    /// # }
    /// ```
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Serves HTTPS (HTTP/1.1 over TLS) with this certificate chain (leaf first) and its
    /// private key (PKCS#8, PKCS#1 or SEC1), both as PEM text, instead of plain HTTP.
    ///
    /// The server still listens on `127.0.0.1` only, but its [`endpoint`](FakeServer::endpoint)
    /// and links name `localhost`, so the certificate must be valid for `localhost`. Clients
    /// must trust its issuer (with `vbs-backups`, `ClientBuilder::trust_additional_ca_file`);
    /// to keep them off other loopback addresses, pin `localhost` to
    /// [`addr`](FakeServer::addr) with `reqwest::ClientBuilder::resolve`. The PEMs are checked
    /// by [`start`](Self::start).
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let key = rcgen::KeyPair::generate()?;
    /// let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])?.self_signed(&key)?;
    /// let server = FakeServer::builder().backups(3).tls(cert.pem(), key.serialize_pem()).start().await?;
    /// assert!(server.endpoint().starts_with("https://localhost:"));
    ///
    /// let http = reqwest::Client::builder()
    ///     .no_proxy()
    ///     .tls_certs_only([reqwest::Certificate::from_pem(cert.pem().as_bytes())?])
    ///     .resolve("localhost", server.addr())
    ///     .build()?;
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// let response = http.get(url).header("X-Auth-Token", server.token().unwrap_or_default()).send().await?;
    /// let page: Value = serde_json::from_str(&response.text().await?)?;
    /// assert_eq!(page["backups"].as_array().map(Vec::len), Some(3));
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
    /// use vbs_backups_testing::FakeServer;
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
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, self.port)).await?;
        let addr = listener.local_addr()?;
        let settings = Settings {
            project_id: self.project_id,
            max_limit: self.max_limit,
            prefix: self.prefix,
            tls: acceptor.is_some(),
            verifier: self.verifier,
            huawei: self.huawei.map(huawei::Gateway::new),
            cbr: self.cbr,
            other_projects: (0..self.other_projects.0)
                .map(|index| other_project_id(self.seed, index))
                .collect(),
            admin: !self.non_admin,
            volumes: volumes::generate(self.seed, self.spare_volumes),
        };
        let mut data = Dataset::generate(self.backups, self.seed, &settings.project_id);
        if !settings.other_projects.is_empty() {
            data.add_other_projects(&settings.other_projects, self.other_projects.1);
        }
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

/// The id of another project: 32 hex digits, like Keystone's, the same for a seed.
fn other_project_id(seed: u64, index: usize) -> String {
    let high = dataset::mix(seed ^ 0x07E4_0000_0000_0000 ^ index as u64);
    format!("{high:016x}{:016x}", dataset::mix(high))
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
/// use vbs_backups_testing::FakeServer;
///
/// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = FakeServer::builder().backups(4).start().await?;
/// let collection = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
/// let (_, page) = get(&server, &collection).await?;
/// let listed = page["backups"].as_array().cloned().unwrap_or_default();
/// for (summary, truth) in listed.iter().zip(server.backups()) {
///     assert_eq!(summary["id"], truth.id.as_str());
///     assert_eq!(summary["name"].as_str(), truth.name.as_deref());
///     assert_eq!(truth.created_at.len(), "2024-01-01T20:49:00.000000".len());
/// }
///
/// // The detail listing shows the rest.
/// let (_, page) = get(&server, &format!("{collection}/detail")).await?;
/// let details = page["backups"].as_array().cloned().unwrap_or_default();
/// for (detail, truth) in details.iter().zip(server.backups()) {
///     assert_eq!(detail["size"], truth.size);
///     assert_eq!(detail["description"].as_str(), truth.description.as_deref());
///     assert_eq!(detail["snapshot_id"].as_str(), truth.snapshot_id.as_deref());
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
    /// The project owning the backup: the served one ([`FakeServer::project_id`]), or one of
    /// [`FakeServer::other_project_ids`]. Served as `os-backup-project-attr:project_id` from
    /// microversion 3.18, to an admin caller only.
    pub project_id: String,
}

/// A sort [`FakeServer::backups_sorted`] cannot say the order of, because Cinder refuses it
/// with a 400 (an unknown key, a direction other than `asc` or `desc`).
///
/// ```
/// use vbs_backups_testing::FakeServer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let server = FakeServer::builder().start().await?;
/// let err = server.backups_sorted("size:upwards").unwrap_err();
/// assert!(err.message().contains("Unknown sort direction"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSort(String);

impl InvalidSort {
    /// The message Cinder's 400 for this sort carries.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InvalidSort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid sort: {}", self.0)
    }
}

impl std::error::Error for InvalidSort {}

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
    /// When the server received it: for counting requests per second.
    pub received: std::time::Instant,
}

impl RecordedRequest {
    /// The decoded query parameters in request order, duplicates included.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// let url = format!("{}/v2/{}/backups?name=nightly%20db&limit=2", server.endpoint(), server.project_id());
    /// get(&server, &url).await?;
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
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(3).start().await?;
    /// walk(&server, format!("{}/v2/{}/backups?limit=2", server.endpoint(), server.project_id())).await?;
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
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// let http = reqwest::Client::builder().no_proxy().user_agent("backup-auditor/2.1").build()?;
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// http.get(url).header("Accept", "application/json").send().await?;
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
/// use vbs_backups_testing::{FakeServer, Quirk};
///
/// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = FakeServer::builder()
///     .backups(9)
///     .quirk(Quirk::NoVersionPrefix)
///     .quirk(Quirk::OtherHost("vbs-internal.invalid:8776".into()))
///     .start()
///     .await?;
/// let url = format!("{}/v2/{}/backups?limit=4", server.endpoint(), server.project_id());
/// let (_, page) = get(&server, &url).await?;
/// let next = page["backups_links"][0]["href"].as_str().unwrap_or_default();
/// assert!(next.starts_with(&format!("http://vbs-internal.invalid:8776/{}/backups?", server.project_id())));
///
/// // A client that keeps to its endpoint and takes only the query of each next link gets all.
/// assert_eq!(ids(&walk(&server, url).await?).len(), 9);
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
    /// use vbs_backups_testing::{FakeServer, Quirk};
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
    /// use vbs_backups_testing::{FakeServer, Quirk};
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
    /// use vbs_backups_testing::{FakeServer, Quirk};
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
    /// use vbs_backups_testing::{FakeServer, Quirk};
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
    /// use vbs_backups_testing::{FakeServer, Quirk};
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
    /// use vbs_backups_testing::{FakeServer, Quirk};
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
    /// use vbs_backups_testing::{FakeServer, Quirk};
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(5).quirk(Quirk::RepeatMarker).start().await?;
    /// let url = format!("{}/v2/{}/backups?limit=1", server.endpoint(), server.project_id());
    /// let (_, first) = get(&server, &url).await?;
    /// let next = first["backups_links"][0]["href"].as_str().unwrap_or_default().to_owned();
    /// let (_, second) = get(&server, &next).await?;
    /// // The same next link again: a client must notice that the walk would never end.
    /// assert_eq!(second["backups_links"][0]["href"].as_str(), Some(next.as_str()));
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
    /// use vbs_backups_testing::{FakeServer, Quirk};
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(40).quirk(Quirk::EmptyPagesLinkOn).start().await?;
    /// let url = format!("{}/v2/{}/backups?status=error&limit=3", server.endpoint(), server.project_id());
    /// // Short and empty pages along the way, yet every match, once.
    /// let pages = walk(&server, url).await?;
    /// assert!(sizes(&pages).contains(&0));
    /// let expected: Vec<_> = server.backups().into_iter().filter(|b| b.status == "error").map(|b| b.id).collect();
    /// assert_eq!(ids(&pages), expected);
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
/// use vbs_backups_testing::CannedResponse;
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
    /// use vbs_backups_testing::{CannedResponse, FakeServer};
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// server.push_response(CannedResponse::json(
    ///     403,
    ///     r#"{"forbidden": {"code": 403, "message": "Policy doesn't allow backup:get_all."}}"#,
    /// ));
    /// let (status, body) = get(&server, &format!("{}/v2/{}/backups", server.endpoint(), server.project_id())).await?;
    /// assert_eq!(status, 403);
    /// assert!(body["forbidden"]["message"].as_str().unwrap_or_default().contains("Policy"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self::text(status, "application/json", body)
    }

    /// A response with any content type, e.g. a proxy's `text/html` error page.
    ///
    /// ```
    /// use vbs_backups_testing::{CannedResponse, DEFAULT_BACKUPS, FakeServer};
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// // A gateway's error page once, then the real page.
    /// server.push_response(CannedResponse::text(502, "text/html", "<h1>502 Bad Gateway</h1>"));
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// let gateway = reqwest::get(&url).await?;
    /// assert_eq!(gateway.status(), 502);
    /// assert_eq!(gateway.headers()["content-type"], "text/html");
    /// assert_eq!(gateway.text().await?, "<h1>502 Bad Gateway</h1>");
    /// assert_eq!(ids(&walk(&server, url).await?).len(), DEFAULT_BACKUPS);
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
    /// use vbs_backups_testing::CannedResponse;
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
    /// use vbs_backups_testing::{CannedResponse, FakeServer};
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// server.push_response(CannedResponse::json(429, r#"{"message": "slow down"}"#).header("Retry-After", "7"));
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// let response = reqwest::get(url).await?;
    /// assert_eq!(response.status(), 429);
    /// assert_eq!(response.headers()["retry-after"], "7");
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
    /// use vbs_backups_testing::CannedResponse;
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
    /// use vbs_backups_testing::{BodyFault, CannedResponse};
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
    /// use vbs_backups_testing::{BodyFault, CannedResponse};
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
/// use vbs_backups_testing::{BodyFault, CannedResponse};
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
    /// use vbs_backups_testing::{CannedResponse, FakeServer};
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// server.push_response(CannedResponse::passthrough().reset_after(100));
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// // The status and headers arrive; the body breaks off after 100 bytes.
    /// let response = reqwest::Client::builder().no_proxy().build()?.get(url)
    ///     .header("X-Auth-Token", server.token().unwrap_or_default()).send().await?;
    /// assert_eq!(response.status(), 200);
    /// assert!(response.bytes().await.is_err());
    /// # Ok(())
    /// # }
    /// ```
    ResetAfter(usize),
    /// The response declares the full `Content-Length`, sends only the first `n` bytes and
    /// closes the connection, so reading the body fails. A body of at most `n` bytes is sent
    /// whole.
    ///
    /// ```
    /// use vbs_backups_testing::{CannedResponse, DEFAULT_BACKUPS, FakeServer};
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// server.push_response(CannedResponse::passthrough().truncate_to(100));
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// // The body stops short of its `Content-Length`: reading it fails ...
    /// assert!(get(&server, &url).await.is_err());
    /// // ... and fetching the page again gets it whole.
    /// assert_eq!(ids(&walk(&server, url).await?).len(), DEFAULT_BACKUPS);
    /// assert_eq!(server.request_count(), 2);
    /// # Ok(())
    /// # }
    /// ```
    TruncateTo(usize),
}

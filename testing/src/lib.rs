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
    ACCOUNT_ACCESS_KEY, ACCOUNT_REGIONS, ACCOUNT_SECRET_KEY, AccountProjectInfo, AccountScope,
    FakeAccount, FakeAccountBuilder, LAST_BACKUP_DAYS, ProjectRouter,
};
mod account_limit;
pub use account_limit::AccountLimit;
mod backup;
pub use backup::FakeBackup;
mod builder;
pub use builder::{
    DEFAULT_BACKUPS, DEFAULT_MAX_LIMIT, DEFAULT_PROJECT_ID, DEFAULT_SEED, DEFAULT_SPARE_VOLUMES,
    DEFAULT_TOKEN, FakeServerBuilder,
};
mod canned;
pub use canned::{BodyFault, CannedResponse};
mod cbr;
pub use cbr::{CBR_MAX_LIMIT, CBR_VAULTS, FakeCbrBackup};
mod dataset;
mod deletion;
#[doc(hidden)]
pub mod doc_support;
mod huawei;
pub use huawei::{DEFAULT_HUAWEI_REGION, HuaweiGateway};
mod keystone;
pub use keystone::{
    CatalogUrlStyle, DEFAULT_DOMAIN_ID, DEFAULT_DOMAIN_NAME, DEFAULT_PASSWORD,
    DEFAULT_PROJECT_NAME, DEFAULT_REGION, DEFAULT_TOKEN_LIFETIME, DEFAULT_USER_ID,
    DEFAULT_USER_NAME, FakeApplicationCredential, FakeEndpoint, FakeIssuedToken, FakeKeystone,
    FakeKeystoneBuilder, FakeProject, FakeUser,
};
mod quirk;
pub use quirk::Quirk;
mod recorded;
pub use recorded::RecordedRequest;
mod render;
mod row;
mod server;
mod server_handle;
pub use server_handle::FakeServer;
mod sort;
pub use sort::InvalidSort;
mod tls;
mod versions;
mod volumes;
pub use volumes::{DELETED_VOLUME_ID, FakeVolume};

//! List every volume backup of a Huawei Cloud VBS or OpenStack Cinder project as one
//! async stream that pages by itself.
//!
//! ```no_run
//! use futures::{StreamExt, TryStreamExt};
//! use vbs_backups::{BackupStatus, Client};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder()
//!     .endpoint("https://vbs.example.com:8776") // or a catalog URL ending in /v2/{project_id}
//!     .project_id("b23b579f08c84228b9b4673c46f0c442")
//!     .token(std::env::var("OS_AUTH_TOKEN")?) // sent as X-Auth-Token, never logged
//!     .build()?;
//!
//! // Every backup, one at a time; pages are fetched as the loop goes.
//! let mut backups = client.backups().status(BackupStatus::Available).page_size(500).stream();
//! while let Some(backup) = backups.next().await {
//!     let backup = backup?;
//!     println!("{} {:?}", backup.id, backup.name);
//! }
//!
//! // Or all at once, bounded.
//! let all: Vec<_> = client.backups().max_items(10_000).stream().try_collect().await?;
//! # Ok(()) }
//! ```
//!
//! # How the walk goes
//!
//! The first request goes to `{endpoint}/{v2|v3}/{project_id}/backups` with the filters,
//! `limit` (the page size) and `offset` / `marker` if set. Each next page follows the
//! `rel=next` link of `backups_links`, taking only its *query* and sending it to the
//! configured endpoint (servers emit internal hosts, wrong schemes and version-less
//! paths); `offset` is dropped after the first request (Cinder would skip again after
//! the marker); the filters and page size are re-applied on every page. A link without
//! a marker continues after the page's last item; no link ends the walk; a marker seen
//! twice, or an empty page with nowhere to go, ends it with an error. The token is
//! never sent to another origin, not even through a redirect.
//!
//! # Backpressure
//!
//! Streams are pull-based, `Unpin + Send + 'static`, and lazy: nothing is requested
//! before the first poll. [`Listing::prefetch`] sets how many pages may be fetched
//! ahead (default 1), so memory stays at `1 + prefetch` pages. Dropping a stream
//! cancels its request in flight.
//!
//! # Age windows
//!
//! On the detail listing, [`created_before`](ListBackups::created_before) and
//! [`created_after`](ListBackups::created_after) keep the backups created in a window;
//! since Cinder cannot filter by time, the walk goes in `created_at` order and ends at
//! the first backup past the bound, so a window reads only its own pages (a 60-day
//! window over a year of backups: 13 requests instead of 74).
//!
//! # Errors
//!
//! One [`Error`] type, with the HTTP [`status`](Error::status), the server's
//! [`code`](Error::code) and [`message`](Error::message) (Cinder, Keystone and Huawei
//! body shapes, or a snippet of an HTML page), the [`request_id`](Error::request_id),
//! and [`resume_after`](Error::resume_after) to continue with [`Listing::after`].
//!
//! # The parts
//!
//! Each part depends only on those above it.
//!
//! | part | what it holds |
//! | --- | --- |
//! | model | what the API returns: [`BackupSummary`], [`BackupDetail`], [`Link`], [`Page`], [`BackupStatus`], [`ApiVersion`]; Huawei CBR's [`CbrBackup`] and [`CbrBackupStatus`]; [`Volume`] (Cinder / EVS); [`Listed`] and [`Pagination`] say how a collection is walked |
//! | cursor | [`Cursor`]: plain, serializable data saying where a walk stands |
//! | error | [`Error`], [`ErrorKind`], and the parsing of server error bodies |
//! | auth | the seam every request is authorized through: [`Authorizer`] (sees each attempt as sent, [`OutgoingRequest`]; is told of a 401, [`Rejection`]), [`AuthSource`] for tokens |
//! | http | the one request pipeline (crate-private): retries ([`RetryPolicy`]), redirects within the origin, capped reads, request ids, redaction; its settings are [`HttpOptions`] |
//! | client | [`Client`] and [`ClientBuilder`]: endpoint, project, API version, credentials |
//! | huawei | (feature `huawei`) [`AkSkSigner`] (an [`Authorizer`] signing as Huawei's SDKs do) and [`HuaweiConfig`]: credentials from `HUAWEICLOUD_SDK_*` and `~/.huaweicloud/credentials`, endpoints by region, IAM project discovery |
//! | keystone | (feature `keystone`) [`KeystoneAuth`] and [`OpenStackConfig`]: tokens and endpoints from Keystone, `OS_*` and `clouds.yaml` |
//! | pager | the generic walk: next links or last ids, loop guard, the marker held back until its request is answered, vanished markers (step back, or restart at the top and skip by position), prefetch, cancellation; [`ItemStream`], [`PageStream`] |
//! | query | the listing layer: [`Listing`] (paging settings shared by every collection, filters and the age window as data), and per collection its filters: [`ListBackups`] (VBS / Cinder, `client.backups()`, with age windows: [`created_before`](ListBackups::created_before), [`created_after`](ListBackups::created_after)), [`ListCbrBackups`] (Huawei CBR, `client.cbr_backups()`: `marker` = the last id until an empty page, no next links), [`ListVolumes`] (Cinder / Huawei EVS volumes, `client.volumes()`) |
//! | coverage | [`coverage`]: which volumes a recent good backup protects, fed by any walks |
//! | estate | many scopes as one walk: [`ScopeSet`] of [`Scope`]s (service, region, project), [`EstateStream`] of [`Scoped`] items, one [`ScopeOutcome`] per scope, a serde [`Checkpoint`]; one [`RequestBudget`] over every client |
//! | blocking | (feature `blocking`) [`BlockingIter`]: [`Listing::blocking`], a plain iterator over any listing, owning its runtime |
//!
//! # Features
//!
//! | feature | what it adds |
//! | --- | --- |
//! | `blocking` | [`blocking`]: `client.backups().blocking()`, a plain `Iterator` for programs without an async runtime (in the manner of `reqwest::blocking`), owning a one-thread Tokio runtime; adds tokio's `rt-multi-thread` |
//! | `huawei` | [`huawei`]: Huawei Cloud AK/SK request signing (`SDK-HMAC-SHA256`), endpoints by region, IAM project discovery, and `HUAWEICLOUD_SDK_*` / `~/.huaweicloud/credentials` configuration: `HuaweiConfig::load()?.region("cn-north-4").connect().await?` |
//! | `keystone` | [`keystone`]: Keystone v3 authentication (password, application credential, token) that renews its token, endpoint discovery from the service catalog, and `OS_*` / `clouds.yaml` configuration: `OpenStackConfig::load()?.connect().await?` |
//! | `reqwest-builder` | `ClientBuilder::http_client_builder`: start from your own `reqwest::ClientBuilder` (this ties your code to the crate's reqwest version) |
//!
//! To test against a fake VBS / Cinder / Keystone server (a real HTTP server on 127.0.0.1
//! with Cinder's pagination semantics and switchable real-world quirks), use the companion
//! crate `vbs-backups-testing` as a dev-dependency.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
#[cfg(feature = "blocking")]
#[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
pub mod blocking;
mod client;
pub mod coverage;
mod cursor;
#[cfg(any(feature = "keystone", feature = "huawei"))]
mod environment;
mod error;
mod estate;
mod http;
#[cfg(feature = "huawei")]
#[cfg_attr(docsrs, doc(cfg(feature = "huawei")))]
pub mod huawei;
#[cfg(feature = "keystone")]
#[cfg_attr(docsrs, doc(cfg(feature = "keystone")))]
pub mod keystone;
mod model;
mod pager;
mod query;
mod token;

pub use auth::{AuthSource, Authorizer, OutgoingRequest, Rejection};
#[cfg(feature = "blocking")]
#[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
pub use blocking::BlockingIter;
pub use client::{Client, ClientBuilder};
pub use cursor::Cursor;
pub use error::{Error, ErrorKind, Result};
pub use estate::{
    BackupService, Checkpoint, EstateBackup, EstateStream, Resumable, Scope, ScopeOutcome,
    ScopeResult, ScopeSet, Scoped,
};
pub use http::{HttpOptions, RequestBudget, RetryPolicy};
#[cfg(feature = "huawei")]
#[cfg_attr(docsrs, doc(cfg(feature = "huawei")))]
pub use huawei::{AkSkSigner, HuaweiConfig};
#[cfg(feature = "keystone")]
#[cfg_attr(docsrs, doc(cfg(feature = "keystone")))]
pub use keystone::{KeystoneAuth, OpenStackConfig};
pub use model::{
    ApiVersion, BackupDetail, BackupStatus, BackupSummary, CbrBackup, CbrBackupStatus, Link,
    Listed, Page, Pagination, Volume,
};
pub use pager::{ItemStream, PageStream};
pub use query::{
    CbrSortKey, ListBackups, ListCbrBackups, ListVolumes, Listing, SortDir, SortKey, VolumeBackup,
};

#[cfg(fuzzing)]
#[doc(hidden)]
pub use model::decode_fuzzing;
#[cfg(fuzzing)]
#[doc(hidden)]
pub use pager::fuzzing;

/// Compiles the README's examples as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

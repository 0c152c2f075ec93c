//! Huawei Cloud native access (feature `huawei`): AK/SK-signed requests, endpoints by
//! region, IAM project discovery, and configuration read as Huawei's SDKs read it.
//!
//! - [`HuaweiConfig`] reads `HUAWEICLOUD_SDK_AK`, `HUAWEICLOUD_SDK_SK` (and the rest of the
//!   SDKs' variables) or `~/.huaweicloud/credentials`, takes a region and a [`Service`], and
//!   [`connect`](HuaweiConfig::connect)s: a [`Client`](crate::Client) whose requests are
//!   signed by an [`AkSkSigner`].
//! - [`AkSkSigner`] is the [`Authorizer`](crate::Authorizer) that signs
//!   (`SDK-HMAC-SHA256`), usable with [`Client::builder`](crate::Client::builder) directly.
//! - [`Service::endpoint`] and [`iam_endpoint`] say where each region's services are.
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use vbs_backups::huawei::HuaweiConfig;
//!
//! # async fn run() -> vbs_backups::Result<()> {
//! let client = HuaweiConfig::load()?.region("cn-north-4").connect().await?;
//! let backups: Vec<_> = client.backups().stream().try_collect().await?;
//! # Ok(()) }
//! ```
//!
//! The companion crate `vbs-backups-testing` has an API gateway to test against: a fake
//! server that verifies the signatures (`FakeServerBuilder::huawei`).

mod config;
mod credentials_file;
mod discovery;
mod estate;
mod region;

pub use crate::auth::huawei::{AkSkSigner, Credentials};
pub use config::HuaweiConfig;
pub use estate::{
    AccountProject, HuaweiEstate, HuaweiProjects, ProjectClients, ProjectSelection, SkipReason,
    SkippedProject, select_projects,
};
pub use region::{Service, iam_endpoint};

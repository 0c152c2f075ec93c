//! OpenStack Keystone v3 authentication (feature `keystone`): tokens that renew
//! themselves, block storage endpoints found in the service catalog, and configuration
//! read from `OS_*` variables and `clouds.yaml` the way the `openstack` command reads it.
//!
//! - [`OpenStackConfig`] holds what the `openstack` command would use: from the
//!   environment ([`OpenStackConfig::from_env`]), from `clouds.yaml`
//!   ([`OpenStackConfig::with_clouds_yaml`]), layered with [`OpenStackConfig::merge`].
//!   [`OpenStackConfig::connect`] gives a ready [`Client`](crate::Client).
//! - [`KeystoneAuth`] is the [`AuthSource`](crate::AuthSource) behind it: password,
//!   application credential or token auth against `POST /v3/auth/tokens`, one token shared
//!   by all requests, renewed before it expires and after a 401, one renewal at a time.
//! - [`Catalog`] and [`EndpointFilter`] find the block storage endpoint (`block-storage`,
//!   `volumev3`, `volume`, `volumev2`) by API version, interface and region.
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use vbs_backups::OpenStackConfig;
//!
//! # async fn run() -> vbs_backups::Result<()> {
//! // OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, … or OS_CLOUD with a clouds.yaml.
//! let client = OpenStackConfig::load()?.connect().await?;
//! let backups: Vec<_> = client.backups().stream().try_collect().await?;
//! println!("{} backups in project {}", backups.len(), client.project_id());
//! # Ok(()) }
//! ```
//!
//! The companion crate `vbs-backups-testing` has a fake Keystone to test against:
//! `vbs_backups_testing::FakeKeystone`.

mod auth;
mod builder;
mod catalog;
mod clouds_yaml;
mod config;
mod credentials;
mod estate;
mod settings;
mod token;

pub use auth::KeystoneAuth;
pub use builder::KeystoneAuthBuilder;
pub use catalog::{
    Catalog, CatalogEndpoint, CatalogService, EndpointFilter, Interface, VolumeEndpoint,
};
pub use credentials::{Domain, Project, Secret, User};
pub use estate::{KeystoneProject, OpenStackEstate};
pub use settings::OpenStackConfig;
pub use token::TokenInfo;

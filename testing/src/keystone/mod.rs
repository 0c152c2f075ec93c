//! A fake OpenStack Keystone (identity v3) on loopback: issues tokens with an expiry and a
//! service catalog whose block storage endpoints point at a [`FakeServer`](crate::FakeServer).

mod builder;
pub use builder::{DEFAULT_REGION, DEFAULT_TOKEN_LIFETIME, FakeKeystoneBuilder};
mod directory;
pub use directory::{
    CatalogUrlStyle, DEFAULT_DOMAIN_ID, DEFAULT_DOMAIN_NAME, DEFAULT_PASSWORD,
    DEFAULT_PROJECT_NAME, DEFAULT_USER_ID, DEFAULT_USER_NAME, FakeApplicationCredential,
    FakeEndpoint, FakeProject, FakeUser,
};
mod handle;
pub use handle::FakeKeystone;
mod handler;
mod token;
pub use token::FakeIssuedToken;

//! [`FakeIssuedToken`]: a token as a [`FakeKeystone`](crate::FakeKeystone) issued it.

use std::time::Duration;

/// A token a [`FakeKeystone`](crate::FakeKeystone) issued.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let keystone = vbs_backups_testing::FakeKeystone::builder().start().await?;
/// for token in keystone.issued_tokens() {
///     println!("{} for {:?} via {:?}", token.token, token.project_id, token.methods);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FakeIssuedToken {
    /// The token, as sent in `X-Subject-Token`.
    pub token: String,
    /// The auth method used: `password`, `application_credential` or `token`.
    pub methods: Vec<String>,
    /// The user it was issued to.
    pub user_id: String,
    /// The project it is scoped to, if any.
    pub project_id: Option<String>,
    /// Its `expires_at`, as sent.
    pub expires_at: String,
    /// How long it is valid.
    pub lifetime: Duration,
}

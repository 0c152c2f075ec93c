//! Where the `X-Auth-Token` comes from, and how a rejected one is replaced.

use std::fmt;

use futures::future::{self, BoxFuture};

use crate::error::Result;

/// Supplies the token sent as `X-Auth-Token`, and a fresh one when the server
/// rejects it.
///
/// The client asks [`token`](Self::token) before each request. When the server
/// answers `401 Unauthorized`, it calls [`refresh`](Self::refresh) once and, if that
/// gives a token, retries the request once with it; a second 401 is reported as an
/// error. A static token ([`ClientBuilder::token`](crate::ClientBuilder::token)) is
/// one implementation; a Keystone session that re-authenticates is another.
///
/// ```
/// use std::sync::Mutex;
/// use futures::future::{self, BoxFuture};
/// use vbs_backups::{AuthSource, Client};
///
/// /// Reads the token from a file that a sidecar keeps fresh.
/// struct TokenFile(std::path::PathBuf);
///
/// impl AuthSource for TokenFile {
///     fn token(&self) -> BoxFuture<'_, vbs_backups::Result<Option<String>>> {
///         let token = std::fs::read_to_string(&self.0).ok().map(|t| t.trim().to_owned());
///         Box::pin(future::ready(Ok(token)))
///     }
///
///     fn refresh(&self) -> BoxFuture<'_, vbs_backups::Result<Option<String>>> {
///         self.token() // the sidecar may have rotated it meanwhile
///     }
/// }
///
/// let client = Client::builder()
///     .endpoint("http://127.0.0.1:8776/v3/p")
///     .auth_source(TokenFile("/run/secrets/os-token".into()))
///     .build()?;
/// # Ok::<(), vbs_backups::Error>(())
/// ```
pub trait AuthSource: Send + Sync + 'static {
    /// The token for the next request; `None` sends none.
    fn token(&self) -> BoxFuture<'_, Result<Option<String>>>;

    /// A new token after the server rejected the current one with 401, or `None`
    /// when there is no better token to be had (the 401 is then reported).
    fn refresh(&self) -> BoxFuture<'_, Result<Option<String>>>;
}

/// A token that never changes; it cannot be refreshed.
pub(crate) struct StaticToken(pub(crate) String);

impl AuthSource for StaticToken {
    fn token(&self) -> BoxFuture<'_, Result<Option<String>>> {
        Box::pin(future::ready(Ok(Some(self.0.clone()))))
    }

    fn refresh(&self) -> BoxFuture<'_, Result<Option<String>>> {
        Box::pin(future::ready(Ok(None)))
    }
}

impl fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticToken(<redacted>)")
    }
}

//! Credentials that are one token, sent as `X-Auth-Token`: the static token, and the
//! [`AuthSource`] trait for tokens that change (Keystone's is one).

use std::fmt;

use futures::future::{self, BoxFuture};

use super::{Authorizer, OutgoingRequest, Rejection};
use crate::error::Result;

/// The header that carries a token (Keystone, Huawei IAM).
pub(crate) const AUTH_TOKEN_HEADER: &str = "x-auth-token";

/// Supplies the token sent as `X-Auth-Token`, and a fresh one when the server
/// rejects it. Every `AuthSource` is an [`Authorizer`].
///
/// Before each request attempt the token comes from [`token`](Self::token). When the
/// server answers `401 Unauthorized`, [`refresh`](Self::refresh) is called once and, if
/// it gives a token, the request is retried once with it; a second 401 is reported as an
/// error. A static token ([`ClientBuilder::token`](crate::ClientBuilder::token)) is one
/// implementation; a Keystone session that re-authenticates is another.
///
/// ```
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

/// A token source authorizes a request by putting its current token in `X-Auth-Token`.
/// The token a refresh gives is the one the next attempt asks for, so sources keep the
/// refreshed token as their current one (Keystone does; a static token cannot refresh).
impl<S: AuthSource + ?Sized> Authorizer for S {
    fn authorize<'a>(&'a self, request: &'a mut OutgoingRequest) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if let Some(token) = self.token().await? {
                request.set_secret_header(AUTH_TOKEN_HEADER, &token)?;
            }
            Ok(())
        })
    }

    fn unauthorized<'a>(&'a self, _rejection: &'a Rejection<'a>) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let refreshed = self.refresh().await?.is_some();
            if refreshed {
                tracing::info!("token rejected with 401; retrying once with a refreshed token");
            }
            Ok(refreshed)
        })
    }
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

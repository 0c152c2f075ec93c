//! The authentication seam: how each request attempt gets its credentials.
//!
//! [`Authorizer`] sees one attempt of one request exactly as it will be sent (method,
//! full URL, headers, body) and adds what the server needs: a token header, or a
//! signature computed over the request. The request pipeline calls it on every attempt,
//! so a retried or redirected request is authorized afresh, and tells it about a
//! `401 Unauthorized` so it can refresh once.
//!
//! [`AuthSource`] is the simpler trait for credentials that are one token
//! (`X-Auth-Token`): every `AuthSource` is an `Authorizer`.

#[cfg(feature = "huawei")]
pub(crate) mod huawei;
mod request;
mod token;

use futures::future::BoxFuture;

use crate::error::Result;

pub use request::{OutgoingRequest, Rejection};
pub use token::AuthSource;
pub(crate) use token::StaticToken;

/// Authorizes each outgoing request attempt: adds a token, or signs the request.
///
/// The pipeline calls [`authorize`](Self::authorize) before every attempt (first try,
/// retries, redirects within the origin), with the request exactly as it will be sent:
/// the URL's query is final, so a signature over it is what the server receives. When
/// the server answers `401 Unauthorized`, [`unauthorized`](Self::unauthorized) is told,
/// once per request; if it returns `true`, the request is sent again, authorized afresh.
///
/// Implementations are shared by every request of a client (and its clones), possibly
/// concurrently; keep their state behind a lock or atomics.
///
/// ```
/// use futures::future::{self, BoxFuture};
/// use vbs_backups::{Authorizer, Client, OutgoingRequest, Rejection};
///
/// /// Signs the method, path and query with a shared key, as an in-house gateway wants.
/// struct Signer {
///     key: String,
/// }
///
/// impl Authorizer for Signer {
///     fn authorize<'a>(
///         &'a self,
///         request: &'a mut OutgoingRequest,
///     ) -> BoxFuture<'a, vbs_backups::Result<()>> {
///         let text = format!("{}\n{}\n{}", request.method(), request.path(), request.query());
///         let signature = format!("{:x}", fake_mac(&self.key, &text));
///         Box::pin(future::ready(request.set_secret_header("x-signature", &signature)))
///     }
///
///     fn unauthorized<'a>(
///         &'a self,
///         _rejection: &'a Rejection<'a>,
///     ) -> BoxFuture<'a, vbs_backups::Result<bool>> {
///         Box::pin(future::ready(Ok(false))) // a static key cannot get any better
///     }
/// }
/// # fn fake_mac(key: &str, text: &str) -> u64 { (key.len() + text.len()) as u64 }
///
/// let client = Client::builder()
///     .endpoint("http://127.0.0.1:8776/v3/p")
///     .authorizer(Signer { key: "k".into() })
///     .build()?;
/// # Ok::<(), vbs_backups::Error>(())
/// ```
pub trait Authorizer: Send + Sync + 'static {
    /// Adds the credentials of one attempt to `request` (headers only: the method,
    /// URL and body are final).
    ///
    /// # Errors
    ///
    /// Whatever keeps the credentials from being had (a token service that refused,
    /// say); the request is then not sent and the error is the request's.
    fn authorize<'a>(&'a self, request: &'a mut OutgoingRequest) -> BoxFuture<'a, Result<()>>;

    /// The server refused a request this authorized with `401 Unauthorized`. Return
    /// `true` to have it sent once more (after refreshing a token, correcting a clock),
    /// `false` to report the 401.
    ///
    /// # Errors
    ///
    /// An error to report instead of the 401 (for example, the refresh itself failed).
    fn unauthorized<'a>(&'a self, rejection: &'a Rejection<'a>) -> BoxFuture<'a, Result<bool>>;

    /// A `401 Unauthorized` is about to be reported (the authorizer declined another try,
    /// or the one more try was refused too): what the user should check, added to the
    /// error as its [`hint`](crate::Error::hint). Never put a secret in it. `None` (the
    /// default) adds nothing.
    ///
    /// ```
    /// # use futures::future::{self, BoxFuture};
    /// # use vbs_backups::{OutgoingRequest, Rejection};
    /// struct ApiKey(String);
    ///
    /// impl vbs_backups::Authorizer for ApiKey {
    /// #   fn authorize<'a>(&'a self, r: &'a mut OutgoingRequest) -> BoxFuture<'a, vbs_backups::Result<()>> {
    /// #       Box::pin(future::ready(r.set_secret_header("x-api-key", &self.0)))
    /// #   }
    /// #   fn unauthorized<'a>(&'a self, _: &'a Rejection<'a>) -> BoxFuture<'a, vbs_backups::Result<bool>> {
    /// #       Box::pin(future::ready(Ok(false)))
    /// #   }
    ///     // …
    ///     fn hint(&self, _rejection: &Rejection<'_>) -> Option<String> {
    ///         Some("check the API key in API_KEY".into())
    ///     }
    /// }
    /// ```
    fn hint(&self, rejection: &Rejection<'_>) -> Option<String> {
        let _ = rejection;
        None
    }
}

//! What an [`Authorizer`](super::Authorizer) sees: the request it authorizes and the
//! response that refused it. Views over the pipeline's own types, so no HTTP library's
//! type is part of the seam.

use std::fmt;

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use crate::error::{Error, Result};

/// One attempt of a request, exactly as it will be sent.
///
/// The method, URL and body are final; an [`Authorizer`](super::Authorizer) adds
/// headers. Values set with [`set_secret_header`](Self::set_secret_header) are kept out
/// of logs and `Debug` output, and removed from error messages if a server echoes them.
///
/// ```
/// # fn show(request: &mut vbs_backups::OutgoingRequest) -> vbs_backups::Result<()> {
/// assert_eq!(request.method(), "GET");
/// println!("{} {}?{}", request.host(), request.path(), request.query());
/// request.set_header("x-project-id", "b23b579f08c84228b9b4673c46f0c442")?;
/// # Ok(()) }
/// ```
pub struct OutgoingRequest {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    /// Values to remove from error messages: secret headers and secrets in the body.
    pub(crate) secrets: Vec<String>,
}

impl OutgoingRequest {
    pub(crate) fn new(method: Method, url: Url) -> Self {
        Self {
            method,
            url,
            headers: HeaderMap::new(),
            body: Vec::new(),
            secrets: Vec::new(),
        }
    }

    /// The method, such as `GET`.
    ///
    /// ```
    /// # fn f(request: &vbs_backups::OutgoingRequest) {
    /// let is_read = request.method() == "GET";
    /// # }
    /// ```
    pub fn method(&self) -> &str {
        self.method.as_str()
    }

    /// The whole URL as it will be sent, percent-encoding included.
    ///
    /// ```
    /// # fn f(request: &vbs_backups::OutgoingRequest) {
    /// assert!(request.url().starts_with("http"));
    /// # }
    /// ```
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// The `Host` header the request will carry: the host, and the port unless it is the
    /// scheme's default.
    ///
    /// ```
    /// # fn f(request: &vbs_backups::OutgoingRequest) {
    /// let host = request.host(); // "vbs.cn-north-4.myhuaweicloud.com" or "127.0.0.1:8776"
    /// # }
    /// ```
    pub fn host(&self) -> &str {
        let url = self.url.as_str();
        let start = self.url.host_str().map_or(0, |_| {
            // `scheme://[userinfo@]host[:port]`; the URLs sent carry no userinfo.
            self.url.scheme().len() + "://".len()
        });
        let end = url[start..]
            .find(['/', '?', '#'])
            .map_or(url.len(), |offset| start + offset);
        &url[start..end]
    }

    /// The path as sent, percent-encoded (`/v3/p/backups`).
    ///
    /// ```
    /// # fn f(request: &vbs_backups::OutgoingRequest) {
    /// assert!(request.path().starts_with('/'));
    /// # }
    /// ```
    pub fn path(&self) -> &str {
        self.url.path()
    }

    /// The query as sent, percent-encoded, without the `?` (empty when there is none).
    ///
    /// ```
    /// # fn f(request: &vbs_backups::OutgoingRequest) {
    /// let pairs: Vec<&str> = request.query().split('&').collect();
    /// # }
    /// ```
    pub fn query(&self) -> &str {
        self.url.query().unwrap_or("")
    }

    /// The value of header `name` (any case), if it is set and is text.
    ///
    /// ```
    /// # fn f(request: &vbs_backups::OutgoingRequest) {
    /// assert_eq!(request.header("Accept"), Some("application/json"));
    /// # }
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// Every header set so far, names in lower case, in no particular order.
    ///
    /// ```
    /// # fn f(request: &vbs_backups::OutgoingRequest) {
    /// for (name, value) in request.headers() {
    ///     println!("{name}: {} bytes", value.len());
    /// }
    /// # }
    /// ```
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()))
    }

    /// The body (empty for a `GET`).
    ///
    /// ```
    /// # fn f(request: &vbs_backups::OutgoingRequest) {
    /// let empty = request.body().is_empty();
    /// # }
    /// ```
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Replaces the query (without the `?`; empty removes it), keeping the origin and path:
    /// for a signer whose scheme wants the query sent in a canonical form, so that what it
    /// signs is what is sent.
    ///
    /// # Errors
    ///
    /// A [`Config`](crate::ErrorKind::Config) error when the URL would not carry `query`
    /// byte for byte (a character that must be percent-encoded, a `#`).
    ///
    /// ```
    /// # fn f(request: &mut vbs_backups::OutgoingRequest) -> vbs_backups::Result<()> {
    /// request.set_query("limit=10&name=a%20b")?;
    /// assert_eq!(request.query(), "limit=10&name=a%20b");
    /// # Ok(()) }
    /// ```
    pub fn set_query(&mut self, query: &str) -> Result<()> {
        let mut url = self.url.clone();
        url.set_query((!query.is_empty()).then_some(query));
        if url.query().unwrap_or("") != query {
            return Err(Error::config(
                "the query to send contains characters a URL cannot carry as they are",
            ));
        }
        self.url = url;
        Ok(())
    }

    /// Sets header `name` to `value`, replacing an earlier value.
    ///
    /// # Errors
    ///
    /// A [`Config`](crate::ErrorKind::Config) error when the name or value cannot be sent
    /// in an HTTP header.
    ///
    /// ```
    /// # fn f(request: &mut vbs_backups::OutgoingRequest) -> vbs_backups::Result<()> {
    /// request.set_header("x-sdk-date", "20261204T101500Z")?;
    /// # Ok(()) }
    /// ```
    pub fn set_header(&mut self, name: &str, value: &str) -> Result<()> {
        let (name, value) = header(name, value)?;
        self.headers.insert(name, value);
        Ok(())
    }

    /// Sets header `name` to a secret `value` (a token, a signature): marked sensitive so
    /// it is never printed, and removed from any error message a server echoes it in.
    ///
    /// # Errors
    ///
    /// As [`set_header`](Self::set_header).
    ///
    /// ```
    /// # fn f(request: &mut vbs_backups::OutgoingRequest) -> vbs_backups::Result<()> {
    /// request.set_secret_header("x-auth-token", "gAAAAAB…")?;
    /// # Ok(()) }
    /// ```
    pub fn set_secret_header(&mut self, name: &str, value: &str) -> Result<()> {
        let (name, mut value) = header(name, value)?;
        if let Ok(text) = value.to_str() {
            self.secrets.push(text.to_owned());
        }
        value.set_sensitive(true);
        self.headers.insert(name, value);
        Ok(())
    }

    /// Marks `secret` (a password in the body, say) as a value to remove from error messages.
    #[cfg(feature = "keystone")]
    pub(crate) fn add_secret(&mut self, secret: &str) {
        self.secrets.push(secret.to_owned());
    }
}

fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue)> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::config(format!("`{name}` is not a valid HTTP header name")))?;
    let value = HeaderValue::from_str(value.trim()).map_err(|_| {
        Error::config(format!(
            "the value of header `{name}` contains characters not allowed in an HTTP header"
        ))
    })?;
    Ok((name, value))
}

impl fmt::Debug for OutgoingRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingRequest")
            .field("method", &self.method.as_str())
            .field("url", &self.url.as_str())
            // `http` prints sensitive values as `Sensitive`.
            .field("headers", &self.headers)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// The `401 Unauthorized` answer to a request, as [`Authorizer::unauthorized`] sees it.
///
/// [`Authorizer::unauthorized`]: super::Authorizer::unauthorized
///
/// ```
/// # fn f(rejection: &vbs_backups::Rejection<'_>) {
/// if rejection.status() == 401 && rejection.header("date").is_some() {
///     println!("the server's clock says {:?}", rejection.header("date"));
/// }
/// # }
/// ```
pub struct Rejection<'a> {
    pub(crate) status: u16,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
}

impl Rejection<'_> {
    /// The HTTP status (401).
    ///
    /// ```
    /// # fn f(rejection: &vbs_backups::Rejection<'_>) { assert_eq!(rejection.status(), 401); }
    /// ```
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The value of response header `name` (any case), if it is set and is text.
    ///
    /// ```
    /// # fn f(rejection: &vbs_backups::Rejection<'_>) { let date = rejection.header("Date"); }
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// The start of the response body (error bodies are read up to 64 KiB).
    ///
    /// ```
    /// # fn f(rejection: &vbs_backups::Rejection<'_>) { let text = String::from_utf8_lossy(rejection.body()); }
    /// ```
    pub fn body(&self) -> &[u8] {
        self.body
    }
}

impl fmt::Debug for Rejection<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejection")
            .field("status", &self.status)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn request(url: &str) -> OutgoingRequest {
        OutgoingRequest::new(Method::GET, Url::parse(url).unwrap())
    }

    #[test]
    fn host_path_and_query_are_as_sent() {
        let request = request("http://127.0.0.1:8776/v3/p/backups?name=sp%C3%A9cial%20x&limit=2");
        assert_eq!(request.host(), "127.0.0.1:8776");
        assert_eq!(request.path(), "/v3/p/backups");
        assert_eq!(request.query(), "name=sp%C3%A9cial%20x&limit=2");
        let default_port = self::request("https://vbs.example.com:443/v2/p/backups");
        assert_eq!(default_port.host(), "vbs.example.com");
        assert_eq!(default_port.query(), "");
        assert_eq!(self::request("http://[::1]:9/x").host(), "[::1]:9");
    }

    #[test]
    fn set_query_replaces_the_query_byte_for_byte_or_refuses() {
        let mut request = request("http://h:1/v2/p/backups?name=a+b");
        request.set_query("limit=1&name=a%20b").unwrap();
        assert_eq!(request.url(), "http://h:1/v2/p/backups?limit=1&name=a%20b");
        request.set_query("").unwrap();
        assert_eq!(request.url(), "http://h:1/v2/p/backups");
        assert!(request.set_query("a=b c").is_err());
        assert!(request.set_query("a=#").is_err());
        assert_eq!(request.url(), "http://h:1/v2/p/backups");
    }

    #[test]
    fn secret_headers_are_hidden_and_remembered_for_redaction() {
        let mut request = request("http://h/x");
        request.set_header("x-plain", "visible").unwrap();
        request
            .set_secret_header("x-auth-token", " t0ken ")
            .unwrap();
        assert_eq!(request.header("X-Auth-Token"), Some("t0ken"));
        assert_eq!(request.secrets, ["t0ken"]);
        let shown = format!("{request:?}");
        assert!(
            shown.contains("visible") && !shown.contains("t0ken"),
            "{shown}"
        );
        assert!(request.set_header("bad name", "v").is_err());
        assert!(request.set_secret_header("x-a", "a\nb").is_err());
    }
}

//! The [`Client`]: where the service is, who is asking, and the one HTTP client
//! every request goes through.

mod auth;
mod retry;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, HeaderMap, HeaderValue, LOCATION};
use url::{Origin, Url};

use crate::error::{Error, Result};
use crate::model::{Listed, Page};

pub use auth::AuthSource;
use auth::StaticToken;
pub use retry::RetryPolicy;
#[cfg(feature = "keystone")]
pub(crate) use retry::retry_after;

/// The header that carries the auth token (Keystone / Huawei IAM).
const AUTH_HEADER: &str = "x-auth-token";
/// The header that asks an OpenStack service for a microversion.
const MICROVERSION_HEADER: &str = "openstack-api-version";

/// Headers in which OpenStack services and gateways report their request id.
const REQUEST_ID_HEADERS: [&str; 3] = [
    "x-openstack-request-id",
    "x-compute-request-id",
    "x-request-id",
];

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A 1000-item detail page is under 1 MiB; 32 MiB leaves room without letting
/// a broken server exhaust memory.
const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
const MAX_REDIRECTS: usize = 10;
/// How much of an error body is read: messages are short, proxy pages are not.
const ERROR_BODY_BYTES: usize = 64 * 1024;

/// Which version of the block storage API to speak.
///
/// Huawei Cloud VBS serves `/v2`; upstream OpenStack Cinder serves only `/v3`.
///
/// ```
/// use vbs_backups::ApiVersion;
///
/// assert_eq!(ApiVersion::default(), ApiVersion::V2);
/// assert_eq!(ApiVersion::V3.path_segment(), "v3");
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[non_exhaustive]
pub enum ApiVersion {
    /// `/v2/{project_id}/…`: Huawei Cloud VBS and older Cinder deployments.
    #[default]
    #[serde(rename = "v2")]
    V2,
    /// `/v3/{project_id}/…`: current OpenStack Cinder.
    #[serde(rename = "v3")]
    V3,
}

impl ApiVersion {
    /// The path segment of this version (`v2` or `v3`).
    ///
    /// ```
    /// assert_eq!(vbs_backups::ApiVersion::V2.path_segment(), "v2");
    /// ```
    pub fn path_segment(self) -> &'static str {
        match self {
            Self::V2 => "v2",
            Self::V3 => "v3",
        }
    }

    fn from_path_segment(segment: &str) -> Option<Self> {
        match segment {
            "v2" => Some(Self::V2),
            "v3" => Some(Self::V3),
            _ => None,
        }
    }
}

/// A client for one project of one VBS / Cinder endpoint.
///
/// Cheap to clone (it wraps an `Arc`); clones share the connection pool. Streams
/// hold a clone, so they never borrow the client.
///
/// ```
/// use vbs_backups::{ApiVersion, Client};
///
/// let client = Client::builder()
///     .endpoint("https://vbs.example.com:8776")
///     .project_id("b23b579f08c84228b9b4673c46f0c442")
///     .token("gAAAAAB…")
///     .build()?;
/// assert_eq!(client.api_version(), ApiVersion::V2);
/// assert_eq!(client.project_id(), "b23b579f08c84228b9b4673c46f0c442");
/// # Ok::<(), vbs_backups::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    http: reqwest::Client,
    /// `{root}/{v2|v3}/{project_id}/`, with a trailing slash so collections join onto it.
    project_url: Url,
    origin: Origin,
    api_version: ApiVersion,
    project_id: String,
    auth: Option<Arc<dyn AuthSource>>,
    retry: RetryPolicy,
    max_response_bytes: usize,
    /// The v3 microversion asked for, and its `OpenStack-API-Version` header.
    microversion: Option<((u32, u32), HeaderValue)>,
}

impl Client {
    /// Starts configuring a client.
    ///
    /// ```
    /// let builder = vbs_backups::Client::builder().endpoint("http://127.0.0.1:8776");
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The API version this client speaks.
    ///
    /// ```
    /// # let client = vbs_backups::Client::builder().endpoint("http://h/v3/p").build()?;
    /// assert_eq!(client.api_version(), vbs_backups::ApiVersion::V3);
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    pub fn api_version(&self) -> ApiVersion {
        self.inner.api_version
    }

    /// The project whose backups this client lists.
    ///
    /// ```
    /// # let client = vbs_backups::Client::builder().endpoint("http://h/v3/p1").build()?;
    /// assert_eq!(client.project_id(), "p1");
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    pub fn project_id(&self) -> &str {
        &self.inner.project_id
    }

    /// The v3 microversion this client asks for (`OpenStack-API-Version: volume X.Y`), if any.
    ///
    /// ```
    /// let client = vbs_backups::Client::builder()
    ///     .endpoint("http://127.0.0.1:8776/v3/p")
    ///     .microversion("3.45")
    ///     .build()?;
    /// assert_eq!(client.microversion(), Some((3, 45)));
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    pub fn microversion(&self) -> Option<(u32, u32)> {
        self.inner
            .microversion
            .as_ref()
            .map(|(version, _)| *version)
    }

    /// Whether the requests ask for at least microversion `major.minor`.
    pub(crate) fn supports_microversion(&self, major: u32, minor: u32) -> bool {
        self.microversion()
            .is_some_and(|version| version >= (major, minor))
    }

    /// The URL of a collection of this project, such as `backups` or `backups/detail`.
    pub(crate) fn collection_url(&self, collection: &str) -> Url {
        let mut url = self.inner.project_url.clone();
        let path = format!("{}{collection}", url.path());
        url.set_path(&path);
        url
    }

    /// Fetches and decodes one page of `collection_key` items, retrying transient
    /// failures per the retry policy and a 401 once with a refreshed token.
    ///
    /// The URL must be on the configured origin: the token goes nowhere else.
    pub(crate) async fn get_page<T: Listed>(
        &self,
        url: &Url,
        collection_key: &str,
        number: u64,
    ) -> Result<Page<T>> {
        if url.origin() != self.inner.origin {
            return Err(Error::config(format!(
                "refusing to send the token to {}: not the configured endpoint",
                url.origin().ascii_serialization()
            )));
        }
        let policy = &self.inner.retry;
        let mut token = self.token(false).await?;
        let mut refreshed = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            tracing::Span::current().record("attempt", attempt);
            let err = match self
                .get_page_once(url, token.as_ref(), collection_key, number)
                .await
            {
                Ok(page) => return Ok(page),
                Err(err) => err,
            };
            if err.status() == Some(401) && token.is_some() && !refreshed {
                refreshed = true;
                match self.token(true).await? {
                    Some(fresh) => {
                        tracing::info!(
                            attempt,
                            "token rejected with 401; retrying once with a refreshed token"
                        );
                        token = Some(fresh);
                        continue;
                    }
                    None => return Err(err),
                }
            }
            if !err.is_retryable() || attempt >= policy.attempts() {
                return Err(err);
            }
            let delay = policy.delay(attempt, err.retry_after());
            tracing::warn!(attempt, ?delay, reason = %err, "page request failed; retrying");
            tokio::time::sleep(delay).await;
        }
    }

    /// The token header from the auth source: the current token, or a refreshed one.
    async fn token(&self, refresh: bool) -> Result<Option<HeaderValue>> {
        let Some(source) = &self.inner.auth else {
            return Ok(None);
        };
        let token = if refresh {
            source.refresh().await?
        } else {
            source.token().await?
        };
        token.map(|token| token_header(&token)).transpose()
    }

    async fn get_page_once<T: Listed>(
        &self,
        url: &Url,
        token: Option<&HeaderValue>,
        collection_key: &str,
        number: u64,
    ) -> Result<Page<T>> {
        let mut request = self
            .inner
            .http
            .get(url.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(token) = token {
            request = request.header(AUTH_HEADER, token.clone());
        }
        if let Some((_, header)) = &self.inner.microversion {
            request = request.header(MICROVERSION_HEADER, header.clone());
        }
        let response = request.send().await.map_err(Error::transport)?;
        let status = response.status();
        let request_id = request_id(response.headers());
        if status.is_redirection() {
            // Only reached when the redirect policy refused to follow it.
            let target = response
                .headers()
                .get(LOCATION)
                .and_then(|location| location.to_str().ok())
                .unwrap_or("nowhere");
            return Err(Error::api(
                status.as_u16(),
                request_id,
                format!(
                    "redirect to {target} not followed: the token is only sent to the configured endpoint"
                ),
            ));
        }
        if !status.is_success() {
            let retry_after = retry::retry_after(response.headers());
            let body = read_error_body(response).await;
            let mut err = Error::from_response(status.as_u16(), request_id, &body)
                .with_retry_after(retry_after);
            if let Some(token) = token.and_then(|token| token.to_str().ok()) {
                // Some proxies echo the request headers in their error pages.
                err = err.redact(token);
            }
            return Err(err);
        }
        read_body(response, self.inner.max_response_bytes, |body| {
            crate::model::decode_page(body, collection_key, number)
        })
        .await
        .map_err(|err| err.with_request_id(request_id))
    }
}

/// A token as a header value marked sensitive, so `http` never prints it.
pub(crate) fn token_header(token: &str) -> Result<HeaderValue> {
    let mut value = HeaderValue::from_str(token.trim()).map_err(|_| {
        Error::config("the token contains characters not allowed in an HTTP header")
    })?;
    value.set_sensitive(true);
    Ok(value)
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("project_url", &self.inner.project_url.as_str())
            .field("api_version", &self.inner.api_version)
            .field("auth", &self.inner.auth.as_ref().map(|_| "<redacted>"))
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    REQUEST_ID_HEADERS
        .iter()
        .find_map(|name| headers.get(*name)?.to_str().ok())
        .map(str::to_owned)
}

/// Reads the whole body, refusing more than `limit` bytes so a broken or hostile
/// server cannot exhaust memory, and hands it to `use_body`.
///
/// A body that arrives in one chunk (the usual case) is used where it lies; one in
/// several is copied once, into a buffer of the announced size.
async fn read_body<R>(
    mut response: reqwest::Response,
    limit: usize,
    use_body: impl FnOnce(&[u8]) -> Result<R>,
) -> Result<R> {
    let too_large = || {
        Error::decode(format!(
            "response body exceeds the limit of {limit} bytes (see ClientBuilder::max_response_bytes)"
        ))
    };
    let announced = response.content_length().unwrap_or(0);
    if announced > limit as u64 {
        return Err(too_large());
    }
    let mut first = None;
    let mut joined: Option<Vec<u8>> = None;
    let mut received = 0_usize;
    while let Some(chunk) = response.chunk().await.map_err(Error::transport)? {
        received = received.saturating_add(chunk.len());
        if received > limit {
            return Err(too_large());
        }
        match (&mut joined, first.take()) {
            (Some(joined), _) => joined.extend_from_slice(&chunk),
            (None, None) => first = Some(chunk),
            (None, Some(earlier)) => {
                let size = usize::try_from(announced).unwrap_or(0).max(received);
                let mut buffer = Vec::with_capacity(size);
                buffer.extend_from_slice(&earlier);
                buffer.extend_from_slice(&chunk);
                joined = Some(buffer);
            }
        }
    }
    match (joined, first) {
        (Some(joined), _) => use_body(&joined),
        (None, Some(only)) => use_body(&only),
        (None, None) => use_body(&[]),
    }
}

/// Reads the start of an error body: enough for any server message, and never a
/// reason to lose the status (a body that breaks off is read as far as it goes).
async fn read_error_body(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = ERROR_BODY_BYTES - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == ERROR_BODY_BYTES {
            break;
        }
    }
    body
}

/// Configures a [`Client`]. Setters never fail; [`build`](Self::build) reports the
/// first problem.
///
/// ```
/// use std::time::Duration;
/// use vbs_backups::{ApiVersion, Client};
///
/// let client = Client::builder()
///     .endpoint("http://127.0.0.1:8776")
///     .project_id("b23b579f08c84228b9b4673c46f0c442")
///     .token("secret")
///     .api_version(ApiVersion::V3)
///     .timeout(Duration::from_secs(30))
///     .build()?;
/// assert!(!format!("{client:?}").contains("secret"));
/// # Ok::<(), vbs_backups::Error>(())
/// ```
#[must_use]
#[derive(Default)]
pub struct ClientBuilder {
    endpoint: Option<String>,
    project_id: Option<String>,
    auth: Option<Credentials>,
    retry: Option<RetryPolicy>,
    extra_ca_files: Vec<PathBuf>,
    api_version: Option<ApiVersion>,
    microversion: Option<String>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    user_agent: Option<String>,
    max_response_bytes: Option<usize>,
    http_client: Option<reqwest::ClientBuilder>,
}

impl ClientBuilder {
    /// The service endpoint: a root (`http://host:8776`), a root with a path prefix
    /// (`https://cloud.example.com/volume`), or a catalog URL that already ends in
    /// `/v2/{project_id}` or `/v3/{project_id}` (its version and project are used).
    ///
    /// ```
    /// let client = vbs_backups::Client::builder()
    ///     .endpoint("https://evs.example.com/v2/b23b579f08c84228b9b4673c46f0c442")
    ///     .build()?;
    /// assert_eq!(client.project_id(), "b23b579f08c84228b9b4673c46f0c442");
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The project (tenant) id whose backups are listed.
    ///
    /// ```
    /// let builder = vbs_backups::Client::builder().project_id("b23b579f08c84228b9b4673c46f0c442");
    /// ```
    pub fn project_id(mut self, project_id: impl Into<String>) -> Self {
        self.project_id = Some(project_id.into());
        self
    }

    /// The auth token, sent as `X-Auth-Token` to the configured endpoint only.
    /// Replaces an earlier [`auth_source`](Self::auth_source).
    ///
    /// ```
    /// let builder = vbs_backups::Client::builder().token("gAAAAAB…");
    /// ```
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.auth = Some(Credentials::Token(token.into()));
        self
    }

    /// Where tokens come from when they expire or are rejected; see [`AuthSource`].
    /// Replaces an earlier [`token`](Self::token).
    ///
    /// ```
    /// # use futures::future::{self, BoxFuture};
    /// # struct Vault;
    /// # impl vbs_backups::AuthSource for Vault {
    /// #     fn token(&self) -> BoxFuture<'_, vbs_backups::Result<Option<String>>> { Box::pin(future::ready(Ok(None))) }
    /// #     fn refresh(&self) -> BoxFuture<'_, vbs_backups::Result<Option<String>>> { Box::pin(future::ready(Ok(None))) }
    /// # }
    /// let builder = vbs_backups::Client::builder().auth_source(Vault);
    /// ```
    pub fn auth_source(mut self, source: impl AuthSource) -> Self {
        self.auth = Some(Credentials::Source(Arc::new(source)));
        self
    }

    /// How failed requests are retried (default: [`RetryPolicy::default`]);
    /// [`RetryPolicy::disabled`] turns retries off.
    ///
    /// ```
    /// let builder = vbs_backups::Client::builder().retry_policy(vbs_backups::RetryPolicy::disabled());
    /// ```
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Trusts the certificate authorities in this PEM file *in addition to* the
    /// system's, for clouds whose endpoints use a private CA (`OS_CACERT`).
    /// Certificates are always verified; this only widens whom to trust.
    /// The file is read by [`build`](Self::build).
    ///
    /// ```no_run
    /// let client = vbs_backups::Client::builder()
    ///     .endpoint("https://volume.internal.example.com:8776/v3/p")
    ///     .trust_additional_ca_file("/etc/openstack/ca.pem")
    ///     .build()?;
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    pub fn trust_additional_ca_file(mut self, pem_file: impl Into<PathBuf>) -> Self {
        self.extra_ca_files.push(pem_file.into());
        self
    }

    /// The API version; [`ApiVersion::V2`] unless the endpoint names one.
    ///
    /// ```
    /// let builder = vbs_backups::Client::builder().api_version(vbs_backups::ApiVersion::V3);
    /// ```
    pub fn api_version(mut self, api_version: ApiVersion) -> Self {
        self.api_version = Some(api_version);
        self
    }

    /// Asks for a v3 microversion such as `"3.45"`, sent as
    /// `OpenStack-API-Version: volume 3.45` on every request. Newer microversions add
    /// detail fields and `with_count`. Only for [`ApiVersion::V3`]; without it the
    /// server speaks 3.0.
    ///
    /// ```
    /// let builder = vbs_backups::Client::builder().microversion("3.64");
    /// ```
    pub fn microversion(mut self, version: impl Into<String>) -> Self {
        self.microversion = Some(version.into());
        self
    }

    /// The limit on each request, from sending to the end of the body (default 60 s).
    ///
    /// ```
    /// let builder = vbs_backups::Client::builder().timeout(std::time::Duration::from_secs(10));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The limit on opening a connection (default 10 s).
    ///
    /// ```
    /// let builder = vbs_backups::Client::builder().connect_timeout(std::time::Duration::from_secs(3));
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The `User-Agent` header (default `vbs-backups/<version>`).
    ///
    /// ```
    /// let builder = vbs_backups::Client::builder().user_agent("backup-auditor/2.1");
    /// ```
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// The largest response body accepted, in bytes (default 32 MiB); a larger
    /// one ends the walk with an error instead of exhausting memory.
    ///
    /// ```
    /// let builder = vbs_backups::Client::builder().max_response_bytes(8 << 20);
    /// ```
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = Some(limit);
        self
    }

    /// Starts from a `reqwest::ClientBuilder` of your own (proxies, client
    /// certificates, local address, …) instead of a default one.
    ///
    /// The crate's settings are applied on top of it: timeouts, user agent, extra CA
    /// files and, always, the same-origin redirect policy, so that `X-Auth-Token`
    /// can never follow a redirect to another host (reqwest's default policy would
    /// carry it along).
    ///
    /// ```
    /// let http = reqwest::Client::builder().no_proxy().tcp_nodelay(true);
    /// let client = vbs_backups::Client::builder()
    ///     .endpoint("http://127.0.0.1:8776/v3/p")
    ///     .http_client_builder(http)
    ///     .build()?;
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    pub fn http_client_builder(mut self, builder: reqwest::ClientBuilder) -> Self {
        self.http_client = Some(builder);
        self
    }

    /// Checks the configuration and makes the client.
    ///
    /// Fails with [`ErrorKind::Config`](crate::ErrorKind::Config) when the endpoint is
    /// missing or not an `http(s)` URL, when no project id is given anywhere, when the
    /// endpoint's version or project contradicts an explicit one, or when the token
    /// cannot be sent as a header.
    ///
    /// ```
    /// use vbs_backups::{ApiVersion, Client};
    ///
    /// let err = Client::builder()
    ///     .endpoint("http://h/v3/p")
    ///     .api_version(ApiVersion::V2)
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("v3"));
    /// ```
    pub fn build(self) -> Result<Client> {
        let endpoint = self
            .endpoint
            .as_deref()
            .ok_or_else(|| Error::config("no endpoint set: call ClientBuilder::endpoint"))?;
        let resolved = ResolvedEndpoint::parse(endpoint, self.project_id, self.api_version)?;
        let microversion = self
            .microversion
            .as_deref()
            .map(|text| parse_microversion(text, resolved.api_version))
            .transpose()?;
        let auth: Option<Arc<dyn AuthSource>> = match self.auth {
            Some(Credentials::Token(token)) => {
                if token.trim().is_empty() {
                    return Err(Error::config(
                        "the token is empty: leave ClientBuilder::token out to send none",
                    ));
                }
                token_header(&token)?;
                Some(Arc::new(StaticToken(token.trim().to_owned())))
            }
            Some(Credentials::Source(source)) => Some(source),
            None => None,
        };
        let origin = resolved.project_url.origin();
        let http = HttpSettings {
            base: self.http_client,
            user_agent: self.user_agent,
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            ca_files: &self.extra_ca_files,
            redirect: same_origin_redirects(origin.clone()),
        }
        .build()?;
        Ok(Client {
            inner: Arc::new(ClientInner {
                http,
                project_url: resolved.project_url,
                origin,
                api_version: resolved.api_version,
                project_id: resolved.project_id,
                auth,
                retry: self.retry.unwrap_or_default(),
                max_response_bytes: self
                    .max_response_bytes
                    .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
                microversion,
            }),
        })
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("endpoint", &self.endpoint)
            .field("project_id", &self.project_id)
            .field("auth", &self.auth.as_ref().map(|_| "<redacted>"))
            .field("api_version", &self.api_version)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The crate's HTTP settings, applied on top of a caller's `reqwest::ClientBuilder`
/// (or a default one): shared by the volume client and the Keystone session.
pub(crate) struct HttpSettings<'a> {
    pub(crate) base: Option<reqwest::ClientBuilder>,
    pub(crate) user_agent: Option<String>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) ca_files: &'a [PathBuf],
    pub(crate) redirect: reqwest::redirect::Policy,
}

impl HttpSettings<'_> {
    pub(crate) fn build(self) -> Result<reqwest::Client> {
        let mut extra_roots = Vec::new();
        for file in self.ca_files {
            extra_roots.extend(read_ca_file(file)?);
        }
        let user_agent = self
            .user_agent
            .unwrap_or_else(|| concat!("vbs-backups/", env!("CARGO_PKG_VERSION")).into());
        self.base
            .unwrap_or_default()
            .user_agent(user_agent)
            .timeout(self.timeout.unwrap_or(DEFAULT_TIMEOUT))
            .connect_timeout(self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT))
            .redirect(self.redirect)
            .tls_certs_merge(extra_roots)
            .build()
            .map_err(|err| Error::config("could not build the HTTP client").with_source(err))
    }
}

/// Reads `"3.45"` as (3, 45) with its header; microversions exist only in v3.
fn parse_microversion(text: &str, api_version: ApiVersion) -> Result<((u32, u32), HeaderValue)> {
    let text = text.trim();
    if api_version != ApiVersion::V3 {
        return Err(Error::config(format!(
            "microversion {text} needs the v3 API, but the client speaks {}",
            api_version.path_segment()
        )));
    }
    let version = text
        .split_once('.')
        .and_then(|(major, minor)| Some((major.parse().ok()?, minor.parse().ok()?)))
        .filter(|(major, _)| *major == 3)
        .ok_or_else(|| {
            Error::config(format!(
                "microversion `{text}` is not of the form 3.N (e.g. 3.45)"
            ))
        })?;
    let header = HeaderValue::from_str(&format!("volume {}.{}", version.0, version.1))
        .map_err(|_| Error::config(format!("microversion `{text}` cannot be sent as a header")))?;
    Ok((version, header))
}

/// What the builder was given to authenticate with.
#[derive(Clone)]
enum Credentials {
    Token(String),
    Source(Arc<dyn AuthSource>),
}

/// The certificates of a PEM bundle; a file without any is a mistake worth reporting.
pub(crate) fn read_ca_file(file: &std::path::Path) -> Result<Vec<reqwest::Certificate>> {
    let shown = file.display();
    let pem = std::fs::read(file).map_err(|err| {
        Error::config(format!("cannot read the CA file {shown}")).with_source(err)
    })?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|err| {
        Error::config(format!("the CA file {shown} is not a PEM bundle")).with_source(err)
    })?;
    if certificates.is_empty() {
        return Err(Error::config(format!(
            "the CA file {shown} holds no PEM certificate"
        )));
    }
    Ok(certificates)
}

/// Follows redirects that stay on the configured origin; any other is handed back
/// as the 3xx response, so the token never travels to another host.
fn same_origin_redirects(origin: Origin) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
        } else if attempt.url().origin() == origin {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// An endpoint string turned into the project URL the listings hang off.
#[derive(Debug, PartialEq, Eq)]
struct ResolvedEndpoint {
    project_url: Url,
    api_version: ApiVersion,
    project_id: String,
}

impl ResolvedEndpoint {
    fn parse(
        endpoint: &str,
        project_id: Option<String>,
        api_version: Option<ApiVersion>,
    ) -> Result<Self> {
        let endpoint = endpoint.trim();
        let mut url = Url::parse(endpoint)
            .map_err(|err| Error::config(format!("endpoint `{endpoint}` is not a URL: {err}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::config(format!(
                "endpoint `{endpoint}` must use http or https, not `{}`",
                url.scheme()
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(Error::config(format!("endpoint `{endpoint}` has no host")));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::config(
                "the endpoint must not carry credentials: pass the token with ClientBuilder::token",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::config(format!(
                "endpoint `{endpoint}` must not have a query or fragment"
            )));
        }
        let mut segments: Vec<String> = url
            .path_segments()
            .into_iter()
            .flatten()
            .filter(|segment| !segment.is_empty())
            .map(str::to_owned)
            .collect();

        // A catalog URL ends in `/v2/{project_id}`; a versioned root in `/v2`.
        let mut from_url: Option<(ApiVersion, Option<String>)> = None;
        if let Some(version) = segments
            .last()
            .and_then(|s| ApiVersion::from_path_segment(s))
        {
            segments.pop();
            from_url = Some((version, None));
        } else if let [.., version, project] = segments.as_slice() {
            if let Some(version) = ApiVersion::from_path_segment(version) {
                from_url = Some((version, Some(project.clone())));
                segments.truncate(segments.len() - 2);
            }
        }

        let (url_version, url_project) =
            from_url.unwrap_or((api_version.unwrap_or_default(), None));
        if let Some(explicit) = api_version.filter(|explicit| *explicit != url_version) {
            return Err(Error::config(format!(
                "endpoint `{endpoint}` is a {} URL but api_version is {}",
                url_version.path_segment(),
                explicit.path_segment()
            )));
        }
        let project_id = match (project_id, url_project) {
            (Some(explicit), Some(in_url)) if explicit.trim() != in_url => {
                return Err(Error::config(format!(
                    "endpoint `{endpoint}` names project `{in_url}` but project_id is `{}`",
                    explicit.trim()
                )));
            }
            (Some(explicit), _) => explicit.trim().to_owned(),
            (None, Some(in_url)) => in_url,
            (None, None) => {
                return Err(Error::config(
                    "no project id: call ClientBuilder::project_id or use an endpoint ending in /v2/{project_id}",
                ));
            }
        };
        validate_project_id(&project_id)?;

        let mut path = String::new();
        for segment in &segments {
            path.push('/');
            path.push_str(segment);
        }
        path.push('/');
        path.push_str(url_version.path_segment());
        path.push('/');
        path.push_str(&project_id);
        path.push('/');
        url.set_path(&path);
        Ok(Self {
            project_url: url,
            api_version: url_version,
            project_id,
        })
    }
}

/// Project ids are Keystone ids (32 hex digits) or admin-chosen names; anything
/// that would change the URL's meaning is refused rather than escaped.
fn validate_project_id(project_id: &str) -> Result<()> {
    if project_id.is_empty() {
        return Err(Error::config("the project id is empty"));
    }
    if project_id.chars().all(|c| c == '.') {
        return Err(Error::config(format!(
            "project id `{project_id}` would be read as a path step, not a project"
        )));
    }
    if let Some(bad) = project_id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~')))
    {
        return Err(Error::config(format!(
            "project id `{project_id}` contains `{bad}`: only letters, digits, `-`, `_`, `.` and `~` are allowed"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn resolve(
        endpoint: &str,
        project: Option<&str>,
        version: Option<ApiVersion>,
    ) -> Result<(String, ApiVersion, String)> {
        ResolvedEndpoint::parse(endpoint, project.map(str::to_owned), version)
            .map(|r| (r.project_url.to_string(), r.api_version, r.project_id))
    }

    fn ok(
        endpoint: &str,
        project: Option<&str>,
        version: Option<ApiVersion>,
    ) -> (String, ApiVersion, String) {
        resolve(endpoint, project, version).unwrap_or_else(|e| panic!("{endpoint}: {e}"))
    }

    fn config_error(endpoint: &str, project: Option<&str>, version: Option<ApiVersion>) -> String {
        let err = resolve(endpoint, project, version).expect_err(endpoint);
        assert_eq!(err.kind(), ErrorKind::Config);
        err.to_string()
    }

    #[test]
    fn service_roots_with_and_without_trailing_slash_or_prefix() {
        for (endpoint, expected) in [
            ("http://host:8776", "http://host:8776/v2/p1/"),
            ("http://host:8776/", "http://host:8776/v2/p1/"),
            (
                "https://cloud.example.com/volume",
                "https://cloud.example.com/volume/v2/p1/",
            ),
            (
                "https://cloud.example.com/volume/",
                "https://cloud.example.com/volume/v2/p1/",
            ),
            (
                "  https://cloud.example.com//a/b//  ",
                "https://cloud.example.com/a/b/v2/p1/",
            ),
        ] {
            assert_eq!(
                ok(endpoint, Some("p1"), None),
                (expected.to_owned(), ApiVersion::V2, "p1".into())
            );
        }
        assert_eq!(
            ok("http://h", Some("p1"), Some(ApiVersion::V3)).0,
            "http://h/v3/p1/"
        );
    }

    #[test]
    fn catalog_urls_provide_version_and_project() {
        assert_eq!(
            ok("https://evs.example.com/v2/abc", None, None),
            (
                "https://evs.example.com/v2/abc/".into(),
                ApiVersion::V2,
                "abc".into()
            )
        );
        assert_eq!(
            ok(
                "http://h:8776/volume/v3/abc/",
                Some("abc"),
                Some(ApiVersion::V3)
            ),
            (
                "http://h:8776/volume/v3/abc/".into(),
                ApiVersion::V3,
                "abc".into()
            )
        );
        assert_eq!(ok("http://h/v3", Some("p"), None).0, "http://h/v3/p/");
    }

    #[test]
    fn contradictions_and_bad_endpoints_are_config_errors() {
        assert!(
            config_error("http://h/v3/abc", Some("other"), None).contains("names project `abc`")
        );
        assert!(config_error("http://h/v3/abc", None, Some(ApiVersion::V2)).contains("v3 URL"));
        assert!(config_error("not a url", Some("p"), None).contains("not a URL"));
        assert!(config_error("ftp://h", Some("p"), None).contains("http or https"));
        assert!(config_error("http://h", None, None).contains("no project id"));
        assert!(config_error("http://h", Some(""), None).contains("empty"));
        assert!(config_error("http://h", Some("a/b"), None).contains("contains `/`"));
        assert!(config_error("http://h?x=1", Some("p"), None).contains("query"));
        assert!(config_error("http://u:pw@h", Some("p"), None).contains("credentials"));
        assert!(config_error("http://h/v2/%(project_id)s", None, None).contains("contains `%`"));
    }

    #[test]
    fn microversions_are_v3_only_and_of_the_form_3_n() {
        let v3 = || Client::builder().endpoint("http://h/v3/p");
        assert_eq!(
            v3().microversion(" 3.45 ").build().unwrap().microversion(),
            Some((3, 45))
        );
        assert_eq!(v3().build().unwrap().microversion(), None);
        for bad in ["3", "3.x", "latest", "2.1", "3.45.1", ""] {
            let err = v3().microversion(bad).build().expect_err(bad);
            assert!(err.to_string().contains("3.N"), "{bad}: {err}");
        }
        let err = Client::builder()
            .endpoint("http://h/v2/p")
            .microversion("3.45")
            .build()
            .expect_err("v2");
        assert!(err.to_string().contains("v3"), "{err}");
    }

    #[test]
    fn builder_requires_endpoint_and_rejects_header_breaking_tokens() {
        let err = Client::builder()
            .project_id("p")
            .build()
            .expect_err("no endpoint");
        assert!(err.to_string().contains("no endpoint"));
        let err = Client::builder()
            .endpoint("http://h")
            .project_id("p")
            .token("abc\ndef")
            .build()
            .expect_err("bad token");
        assert!(err.to_string().contains("token"));
        assert!(!err.to_string().contains("abc"));
    }

    #[test]
    fn collection_urls_join_onto_the_project() {
        let client = Client::builder()
            .endpoint("http://h:1/prefix")
            .project_id("p")
            .token("t0ken")
            .build()
            .expect("valid");
        assert_eq!(
            client.collection_url("backups").as_str(),
            "http://h:1/prefix/v2/p/backups"
        );
        assert_eq!(
            client.collection_url("backups/detail").as_str(),
            "http://h:1/prefix/v2/p/backups/detail"
        );
        assert!(!format!("{client:?}").contains("t0ken"));
    }
}

//! The [`Client`]: where the service is, who is asking, and the request pipeline its
//! requests go through.

mod endpoint;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;
use url::{Origin, Url};

use crate::auth::{AuthSource, Authorizer, StaticToken};
use crate::error::{Error, Result};
use crate::http::{HttpOptions, Pipeline, Request, RequestBudget, RetryPolicy};
use crate::model::ApiVersion;
use endpoint::{ResolvedEndpoint, parse_microversion};

/// The header that asks an OpenStack service for a microversion.
const MICROVERSION_HEADER: &str = "openstack-api-version";

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
    /// The v3 microversion asked for, and its `OpenStack-API-Version` header: the
    /// caller's, or, for one walk, the one its listing needs (see
    /// [`choosing_microversion`](Self::choosing_microversion)).
    microversion: Option<Microversion>,
}

/// A microversion and its `OpenStack-API-Version` header value.
type Microversion = ((u32, u32), HeaderValue);

struct ClientInner {
    pipeline: Pipeline,
    /// `{root}/{v2|v3}/{project_id}/`, with a trailing slash so collections join onto it.
    project_url: Url,
    origin: Origin,
    api_version: ApiVersion,
    project_id: String,
    auth: Option<Arc<dyn Authorizer>>,
    /// Whether the caller asked for a microversion: a walk then never picks its own.
    microversion_chosen: bool,
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
        self.microversion.as_ref().map(|(version, _)| *version)
    }

    /// The client a walk that needs microversion `needed` goes with: on v3, when the
    /// caller asked for no microversion, one that asks for `needed` (as the `openstack`
    /// command picks what a request needs); otherwise this one, whose own choice the
    /// listing then judges (an explicit lower version, or v2, is refused clearly).
    pub(crate) fn choosing_microversion(&self, needed: Option<(u32, u32)>) -> Self {
        let chosen = self.inner.microversion_chosen || self.inner.api_version != ApiVersion::V3;
        let Some((major, minor)) = needed.filter(|_| !chosen) else {
            return self.clone();
        };
        let Ok(microversion) = parse_microversion(&format!("{major}.{minor}"), ApiVersion::V3)
        else {
            return self.clone();
        };
        Self {
            inner: Arc::clone(&self.inner),
            microversion: Some(microversion),
        }
    }

    /// The URL of a collection of this project, such as `backups` or `backups/detail`.
    pub(crate) fn collection_url(&self, collection: &str) -> Url {
        let mut url = self.inner.project_url.clone();
        let path = format!("{}{collection}", url.path());
        url.set_path(&path);
        url
    }

    /// Fetches the body of one page through the request pipeline (retries, the
    /// authorizer, redirects within the origin); the pager decodes it.
    ///
    /// The URL must be on the configured origin: credentials go nowhere else.
    pub(crate) async fn get_page_body(&self, url: &Url) -> Result<PageBody> {
        if url.origin() != self.inner.origin {
            return Err(Error::config(format!(
                "refusing to send credentials to {}: not the configured endpoint",
                url.origin().ascii_serialization()
            )));
        }
        let mut request = Request::get(url.clone(), "page request");
        if let Some((_, header)) = &self.microversion {
            request = request.header(MICROVERSION_HEADER, header.clone());
        }
        self.inner
            .pipeline
            .send(&request, self.inner.auth.as_deref(), |response| {
                Ok(PageBody {
                    bytes: response.body.clone(),
                    request_id: crate::http::request_id(response.headers),
                })
            })
            .await
    }
}

/// A page's body as it arrived, not decoded yet.
#[derive(Debug, Clone)]
pub(crate) struct PageBody {
    pub(crate) bytes: bytes::Bytes,
    /// The service's id of the request, for a decode error to name.
    pub(crate) request_id: Option<String>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("project_url", &self.inner.project_url.as_str())
            .field("api_version", &self.inner.api_version)
            .field("auth", &self.inner.auth.as_ref().map(|_| "<redacted>"))
            .field("retry", self.inner.pipeline.retry_policy())
            .finish_non_exhaustive()
    }
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
    api_version: Option<ApiVersion>,
    microversion: Option<String>,
    /// `None` until a setting is made: a client made from a Keystone session then
    /// shares the session's pipeline (same settings, same connections).
    http: Option<HttpOptions>,
    inherited: Option<Pipeline>,
    #[cfg(feature = "reqwest-builder")]
    http_client: Option<reqwest::ClientBuilder>,
}

/// What the builder was given to authenticate with.
#[derive(Clone)]
enum Credentials {
    Token(String),
    Authorizer(Arc<dyn Authorizer>),
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
    /// Replaces an earlier [`auth_source`](Self::auth_source) or
    /// [`authorizer`](Self::authorizer).
    ///
    /// ```
    /// let builder = vbs_backups::Client::builder().token("gAAAAAB…");
    /// ```
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.auth = Some(Credentials::Token(token.into()));
        self
    }

    /// Where tokens come from when they expire or are rejected; see [`AuthSource`].
    /// Replaces an earlier [`token`](Self::token) or [`authorizer`](Self::authorizer).
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
    pub fn auth_source(self, source: impl AuthSource) -> Self {
        self.authorizer(source)
    }

    /// Authorizes every request attempt with `authorizer`: a signer, or any other
    /// scheme; see [`Authorizer`]. Replaces an earlier [`token`](Self::token) or
    /// [`auth_source`](Self::auth_source).
    ///
    /// ```
    /// # use futures::future::{self, BoxFuture};
    /// # use vbs_backups::{OutgoingRequest, Rejection};
    /// # struct Signer;
    /// # impl vbs_backups::Authorizer for Signer {
    /// #     fn authorize<'a>(&'a self, _: &'a mut OutgoingRequest) -> BoxFuture<'a, vbs_backups::Result<()>> { Box::pin(future::ready(Ok(()))) }
    /// #     fn unauthorized<'a>(&'a self, _: &'a Rejection<'a>) -> BoxFuture<'a, vbs_backups::Result<bool>> { Box::pin(future::ready(Ok(false))) }
    /// # }
    /// let builder = vbs_backups::Client::builder().authorizer(Signer);
    /// ```
    pub fn authorizer(mut self, authorizer: impl Authorizer) -> Self {
        self.auth = Some(Credentials::Authorizer(Arc::new(authorizer)));
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

    /// The HTTP settings: timeouts, user agent, CAs, proxy, retries, body limit; see
    /// [`HttpOptions`]. Replaces the settings made so far (the shorthands below change
    /// one setting each).
    ///
    /// ```
    /// use vbs_backups::{HttpOptions, RetryPolicy};
    ///
    /// let builder = vbs_backups::Client::builder()
    ///     .http(HttpOptions::new().no_proxy().retry_policy(RetryPolicy::disabled()));
    /// ```
    pub fn http(mut self, options: HttpOptions) -> Self {
        self.http = Some(options);
        self
    }

    fn with_http(mut self, change: impl FnOnce(HttpOptions) -> HttpOptions) -> Self {
        self.http = Some(change(self.http.take().unwrap_or_default()));
        self
    }

    /// Shorthand for [`HttpOptions::retry_policy`].
    ///
    /// ```
    /// let builder = vbs_backups::Client::builder().retry_policy(vbs_backups::RetryPolicy::disabled());
    /// ```
    pub fn retry_policy(self, policy: RetryPolicy) -> Self {
        self.with_http(|http| http.retry_policy(policy))
    }

    /// Shorthand for [`HttpOptions::budget`]: every request of this client draws from
    /// `budget`, shared with every other client holding it.
    ///
    /// ```
    /// let builder = vbs_backups::Client::builder().budget(vbs_backups::RequestBudget::with_max_rate(10));
    /// ```
    pub fn budget(self, budget: RequestBudget) -> Self {
        self.with_http(|http| http.budget(budget))
    }

    /// Shorthand for [`HttpOptions::trust_additional_ca_file`]; the file is read by
    /// [`build`](Self::build).
    ///
    /// ```no_run
    /// let client = vbs_backups::Client::builder()
    ///     .endpoint("https://volume.internal.example.com:8776/v3/p")
    ///     .trust_additional_ca_file("/etc/openstack/ca.pem")
    ///     .build()?;
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    pub fn trust_additional_ca_file(self, pem_file: impl Into<PathBuf>) -> Self {
        self.with_http(|http| http.trust_additional_ca_file(pem_file))
    }

    /// Shorthand for [`HttpOptions::timeout`] (default 60 s).
    ///
    /// ```
    /// let builder = vbs_backups::Client::builder().timeout(std::time::Duration::from_secs(10));
    /// ```
    pub fn timeout(self, timeout: Duration) -> Self {
        self.with_http(|http| http.timeout(timeout))
    }

    /// Shorthand for [`HttpOptions::connect_timeout`] (default 10 s).
    ///
    /// ```
    /// let builder = vbs_backups::Client::builder().connect_timeout(std::time::Duration::from_secs(3));
    /// ```
    pub fn connect_timeout(self, timeout: Duration) -> Self {
        self.with_http(|http| http.connect_timeout(timeout))
    }

    /// Shorthand for [`HttpOptions::user_agent`] (default `vbs-backups/<version>`).
    ///
    /// ```
    /// let builder = vbs_backups::Client::builder().user_agent("backup-auditor/2.1");
    /// ```
    pub fn user_agent(self, user_agent: impl Into<String>) -> Self {
        self.with_http(|http| http.user_agent(user_agent))
    }

    /// Shorthand for [`HttpOptions::max_response_bytes`] (default 32 MiB); a larger
    /// page ends the walk with an error instead of exhausting memory.
    ///
    /// ```
    /// let builder = vbs_backups::Client::builder().max_response_bytes(8 << 20);
    /// ```
    pub fn max_response_bytes(self, limit: usize) -> Self {
        self.with_http(|http| http.max_response_bytes(limit))
    }

    /// Starts from a `reqwest::ClientBuilder` of your own (client certificates, local
    /// address, DNS overrides, …) instead of a default one (feature `reqwest-builder`).
    ///
    /// This puts reqwest's type in the crate's API, so the feature ties your code to the
    /// reqwest version this crate uses; prefer [`HttpOptions`] where it covers the need.
    /// The crate's settings are applied on top of the builder, and reqwest's redirect
    /// handling is always turned off: the crate follows redirects itself, within the
    /// configured origin only, so credentials never travel to another host.
    ///
    /// ```
    /// let http = reqwest::Client::builder().tcp_nodelay(true);
    /// let client = vbs_backups::Client::builder()
    ///     .endpoint("http://127.0.0.1:8776/v3/p")
    ///     .http_client_builder(http)
    ///     .build()?;
    /// # Ok::<(), vbs_backups::Error>(())
    /// ```
    #[cfg(feature = "reqwest-builder")]
    #[cfg_attr(docsrs, doc(cfg(feature = "reqwest-builder")))]
    pub fn http_client_builder(mut self, builder: reqwest::ClientBuilder) -> Self {
        self.http_client = Some(builder);
        self
    }

    /// Sends through `pipeline` unless settings of the builder's own say otherwise.
    #[cfg(any(feature = "keystone", feature = "huawei"))]
    pub(crate) fn inherit_pipeline(mut self, pipeline: Pipeline) -> Self {
        self.inherited = Some(pipeline);
        self
    }

    /// The HTTP settings made on this builder so far.
    #[cfg(feature = "keystone")]
    pub(crate) fn http_options(&self) -> HttpOptions {
        self.http.clone().unwrap_or_default()
    }

    /// Whether HTTP settings were made on this builder (else it may inherit a pipeline).
    #[cfg(feature = "keystone")]
    pub(crate) fn has_own_http(&self) -> bool {
        #[cfg(feature = "reqwest-builder")]
        if self.http_client.is_some() {
            return true;
        }
        self.http.is_some()
    }

    /// Checks the configuration and makes the client.
    ///
    /// Fails with [`ErrorKind::Config`](crate::ErrorKind::Config) when the endpoint is
    /// missing or not an `http(s)` URL, when no project id is given anywhere, when the
    /// endpoint's version or project contradicts an explicit one, when the token
    /// cannot be sent as a header, or when an HTTP setting is unusable.
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
        let auth: Option<Arc<dyn Authorizer>> = match self.auth {
            Some(Credentials::Token(token)) => Some(Arc::new(static_token(&token)?)),
            Some(Credentials::Authorizer(authorizer)) => Some(authorizer),
            None => None,
        };
        #[cfg(feature = "reqwest-builder")]
        let base = self.http_client;
        #[cfg(not(feature = "reqwest-builder"))]
        let base = None;
        let pipeline = match (self.http, self.inherited) {
            (None, Some(inherited)) if base.is_none() => inherited,
            (http, _) => Pipeline::new(http.unwrap_or_default(), base)?,
        };
        Ok(Client {
            inner: Arc::new(ClientInner {
                pipeline,
                origin: resolved.project_url.origin(),
                project_url: resolved.project_url,
                api_version: resolved.api_version,
                project_id: resolved.project_id,
                auth,
                microversion_chosen: microversion.is_some(),
            }),
            microversion,
        })
    }
}

/// A static token, checked: not blank, and fit for a header.
fn static_token(token: &str) -> Result<StaticToken> {
    let token = token.trim();
    if token.is_empty() {
        return Err(Error::config(
            "the token is empty: leave ClientBuilder::token out to send none",
        ));
    }
    HeaderValue::from_str(token).map_err(|_| {
        Error::config("the token contains characters not allowed in an HTTP header")
    })?;
    Ok(StaticToken(token.to_owned()))
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("endpoint", &self.endpoint)
            .field("project_id", &self.project_id)
            .field("auth", &self.auth.as_ref().map(|_| "<redacted>"))
            .field("api_version", &self.api_version)
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

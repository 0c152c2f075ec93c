//! [`HttpOptions`]: the HTTP settings every request of the library is sent with,
//! shared by the volume client and Keystone.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{RequestBudget, RetryPolicy};
use crate::error::{Error, Result};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A 1000-item detail page is under 1 MiB, a token with a large catalog some hundred
/// KiB; 32 MiB leaves room without letting a broken server exhaust memory.
const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// How requests are sent: timeouts, user agent, trusted CAs, proxy, retries and the
/// largest body accepted. One value configures both the volume client
/// ([`ClientBuilder::http`](crate::ClientBuilder::http)) and Keystone
/// (`KeystoneAuthBuilder::http`, feature `keystone`), so they never disagree.
///
/// Setters never fail; problems (a CA file that cannot be read, a proxy that is not a
/// URL) are reported by the `build()` of the client that uses them.
///
/// ```
/// use std::time::Duration;
/// use vbs_backups::{Client, HttpOptions, RetryPolicy};
///
/// let http = HttpOptions::new()
///     .timeout(Duration::from_secs(20))
///     .retry_policy(RetryPolicy::default().max_attempts(8))
///     .user_agent("backup-auditor/2.1");
/// let client = Client::builder()
///     .endpoint("http://127.0.0.1:8776/v3/p")
///     .http(http)
///     .build()?;
/// # Ok::<(), vbs_backups::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct HttpOptions {
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    user_agent: Option<String>,
    ca_files: Vec<PathBuf>,
    proxy: Proxy,
    retry: RetryPolicy,
    max_response_bytes: Option<usize>,
    budget: Option<RequestBudget>,
}

/// Where requests go through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Proxy {
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`, as curl reads them.
    #[default]
    FromEnvironment,
    Direct,
    Url(String),
}

impl HttpOptions {
    /// The defaults: 60 s per request, 10 s to connect, `vbs-backups/<version>`, the
    /// system's CAs, the proxy from the environment, [`RetryPolicy::default`], 32 MiB.
    ///
    /// ```
    /// let http = vbs_backups::HttpOptions::new();
    /// assert_eq!(http, vbs_backups::HttpOptions::default());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The limit on each request, from sending to the end of the body (default 60 s).
    ///
    /// ```
    /// let http = vbs_backups::HttpOptions::new().timeout(std::time::Duration::from_secs(10));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The limit on opening a connection (default 10 s).
    ///
    /// ```
    /// let http = vbs_backups::HttpOptions::new().connect_timeout(std::time::Duration::from_secs(3));
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The `User-Agent` header (default `vbs-backups/<version>`).
    ///
    /// ```
    /// let http = vbs_backups::HttpOptions::new().user_agent("backup-auditor/2.1");
    /// ```
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Trusts the certificate authorities in this PEM file *in addition to* the
    /// system's, for clouds whose endpoints use a private CA (`OS_CACERT`).
    /// Certificates are always verified; this only widens whom to trust.
    ///
    /// ```
    /// let http = vbs_backups::HttpOptions::new().trust_additional_ca_file("/etc/openstack/ca.pem");
    /// ```
    pub fn trust_additional_ca_file(mut self, pem_file: impl Into<PathBuf>) -> Self {
        self.ca_files.push(pem_file.into());
        self
    }

    /// Sends every request through this proxy (`http://proxy.example.com:3128`),
    /// whatever the environment says.
    ///
    /// ```
    /// let http = vbs_backups::HttpOptions::new().proxy("http://proxy.example.com:3128");
    /// ```
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Proxy::Url(url.into());
        self
    }

    /// Connects directly, ignoring any proxy of the environment (`HTTPS_PROXY`, …).
    ///
    /// ```
    /// let http = vbs_backups::HttpOptions::new().no_proxy();
    /// ```
    pub fn no_proxy(mut self) -> Self {
        self.proxy = Proxy::Direct;
        self
    }

    /// How failed requests are retried (default: [`RetryPolicy::default`]);
    /// [`RetryPolicy::disabled`] turns retries off.
    ///
    /// ```
    /// let http = vbs_backups::HttpOptions::new().retry_policy(vbs_backups::RetryPolicy::disabled());
    /// ```
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The largest response body accepted, in bytes (default 32 MiB); a larger one is
    /// an error instead of exhausted memory.
    ///
    /// ```
    /// let http = vbs_backups::HttpOptions::new().max_response_bytes(8 << 20);
    /// ```
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = Some(limit);
        self
    }

    /// Draws every request from `budget`, shared with every other holder: a maximum
    /// rate, and a slow-down for all when one is throttled; see [`RequestBudget`].
    ///
    /// ```
    /// let http = vbs_backups::HttpOptions::new().budget(vbs_backups::RequestBudget::with_max_rate(10));
    /// ```
    pub fn budget(mut self, budget: RequestBudget) -> Self {
        self.budget = Some(budget);
        self
    }

    pub(crate) fn request_budget(&self) -> Option<&RequestBudget> {
        self.budget.as_ref()
    }

    pub(crate) fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    pub(crate) fn body_limit(&self) -> usize {
        self.max_response_bytes
            .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES)
    }

    /// The HTTP client these options describe, started from `base` (a caller's own
    /// reqwest builder) or a default one. Redirects are never followed by it: the
    /// pipeline follows those it may itself, authorizing each new URL afresh.
    pub(crate) fn build_client(
        &self,
        base: Option<reqwest::ClientBuilder>,
    ) -> Result<reqwest::Client> {
        let mut extra_roots = Vec::new();
        for file in &self.ca_files {
            extra_roots.extend(read_ca_file(file)?);
        }
        let user_agent = self
            .user_agent
            .clone()
            .unwrap_or_else(|| concat!("vbs-backups/", env!("CARGO_PKG_VERSION")).into());
        let mut builder = base
            .unwrap_or_default()
            .user_agent(user_agent)
            .timeout(self.timeout.unwrap_or(DEFAULT_TIMEOUT))
            .connect_timeout(self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT))
            .redirect(reqwest::redirect::Policy::none())
            .tls_certs_merge(extra_roots);
        match &self.proxy {
            Proxy::FromEnvironment => {}
            Proxy::Direct => builder = builder.no_proxy(),
            Proxy::Url(url) => {
                let proxy = reqwest::Proxy::all(url.as_str()).map_err(|_| {
                    Error::config("the proxy is not a URL (e.g. http://proxy.example.com:3128)")
                })?;
                builder = builder.proxy(proxy);
            }
        }
        builder
            .build()
            .map_err(|err| Error::config("could not build the HTTP client").with_source(err))
    }
}

/// The certificates of a PEM bundle; a file without any is a mistake worth reporting.
fn read_ca_file(file: &Path) -> Result<Vec<reqwest::Certificate>> {
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

//! [`RecordedRequest`]: a request as the server received it, kept for tests to assert on.

use axum::http::request::Parts;
use axum::http::{HeaderValue, header};

/// A request as the [`FakeServer`](crate::FakeServer) received it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The HTTP method, like `GET`.
    pub method: String,
    /// The path as sent (still percent-encoded), prefix included.
    pub path: String,
    /// The query string as sent, without `?`; `None` if the URL had no `?`.
    pub raw_query: Option<String>,
    /// The `X-Auth-Token` header, if any.
    pub auth_token: Option<String>,
    /// The `Host` header, if any.
    pub host: Option<String>,
    /// Every header, names in lowercase, in the order received (values decoded lossily).
    pub headers: Vec<(String, String)>,
    /// When the server received it: for counting requests per second.
    pub received: std::time::Instant,
}

impl RecordedRequest {
    /// The decoded query parameters in request order, duplicates included.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// let url = format!("{}/v2/{}/backups?name=nightly%20db&limit=2", server.endpoint(), server.project_id());
    /// get(&server, &url).await?;
    ///
    /// let pairs = server.requests()[0].query_pairs(); // decoded, in request order
    /// assert!(pairs.contains(&("name".to_owned(), "nightly db".to_owned())));
    /// assert!(pairs.contains(&("limit".to_owned(), "2".to_owned())));
    /// # Ok(())
    /// # }
    /// ```
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.raw_query
            .as_deref()
            .map(|query| {
                url::form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The decoded value of query parameter `key`; the last one if it is repeated.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(3).start().await?;
    /// walk(&server, format!("{}/v2/{}/backups?limit=2", server.endpoint(), server.project_id())).await?;
    ///
    /// // The second page starts after the last backup of the first.
    /// let requests = server.requests();
    /// assert_eq!(requests[0].param("marker"), None);
    /// assert_eq!(requests[1].param("marker"), Some(server.backups()[1].id.clone()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn param(&self, key: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .rev()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
    }

    /// The first value of header `name` (case-insensitive), if any.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// let http = reqwest::Client::builder().no_proxy().user_agent("backup-auditor/2.1").build()?;
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// http.get(url).header("Accept", "application/json").send().await?;
    ///
    /// let request = &server.requests()[0];
    /// assert_eq!(request.header("User-Agent"), Some("backup-auditor/2.1"));
    /// assert_eq!(request.header("accept"), Some("application/json"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// A request as the fake servers log it.
pub(crate) fn record(parts: &Parts) -> RecordedRequest {
    let text = |value: &HeaderValue| String::from_utf8_lossy(value.as_bytes()).into_owned();
    RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        raw_query: parts.uri.query().map(str::to_owned),
        auth_token: parts.headers.get("x-auth-token").map(text),
        host: parts.headers.get(header::HOST).map(text),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), text(value)))
            .collect(),
        received: std::time::Instant::now(),
    }
}

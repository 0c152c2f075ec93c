//! [`CannedResponse`] and [`BodyFault`]: answers queued to replace the server's own, and
//! how they break their body.

use std::time::Duration;

/// A response served instead of a listing page, or the page itself with a fault; see
/// [`FakeServer::push_response`](crate::FakeServer::push_response).
///
/// The server adds only an `X-Openstack-Request-Id` header (unless one is given here).
///
/// ```
/// use std::time::Duration;
/// use vbs_backups_testing::CannedResponse;
///
/// // A throttling answer.
/// let busy = CannedResponse::json(429, r#"{"message": "slow down"}"#).header("Retry-After", "1");
/// // The real page, slow and then cut off by a connection reset after 200 bytes.
/// let reset = CannedResponse::passthrough()
///     .delay(Duration::from_millis(50))
///     .reset_after(200);
/// # let _ = (busy, reset);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CannedResponse {
    /// The HTTP status code; anything outside `100..=999` is served as 500. Ignored for a
    /// passthrough.
    pub status: u16,
    /// The `Content-Type` header; empty for none. Ignored for a passthrough.
    pub content_type: String,
    /// The body, sent as is. Ignored for a passthrough.
    pub body: String,
    /// Extra headers, in order; invalid names or values are skipped with a warning. On a
    /// passthrough they replace the page's headers of the same names.
    pub headers: Vec<(String, String)>,
    /// Whether the request gets the server's own answer instead of `status`, `content_type`
    /// and `body` (with `headers`, `delay` and `fault` still applied); see
    /// [`passthrough`](Self::passthrough).
    pub passthrough: bool,
    /// Extra wait before this response is sent, on top of the server's latency.
    pub delay: Duration,
    /// How the body is broken, if it is; see [`reset_after`](Self::reset_after) and
    /// [`truncate_to`](Self::truncate_to).
    pub fault: Option<BodyFault>,
}

impl CannedResponse {
    /// An `application/json` response, e.g.
    /// `CannedResponse::json(503, r#"{"error": {"code": 503, "message": "busy"}}"#)`.
    ///
    /// ```
    /// use vbs_backups_testing::{CannedResponse, FakeServer};
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// server.push_response(CannedResponse::json(
    ///     403,
    ///     r#"{"forbidden": {"code": 403, "message": "Policy doesn't allow backup:get_all."}}"#,
    /// ));
    /// let (status, body) = get(&server, &format!("{}/v2/{}/backups", server.endpoint(), server.project_id())).await?;
    /// assert_eq!(status, 403);
    /// assert!(body["forbidden"]["message"].as_str().unwrap_or_default().contains("Policy"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self::text(status, "application/json", body)
    }

    /// A response with any content type, e.g. a proxy's `text/html` error page.
    ///
    /// ```
    /// use vbs_backups_testing::{CannedResponse, DEFAULT_BACKUPS, FakeServer};
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// // A gateway's error page once, then the real page.
    /// server.push_response(CannedResponse::text(502, "text/html", "<h1>502 Bad Gateway</h1>"));
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// let gateway = reqwest::get(&url).await?;
    /// assert_eq!(gateway.status(), 502);
    /// assert_eq!(gateway.headers()["content-type"], "text/html");
    /// assert_eq!(gateway.text().await?, "<h1>502 Bad Gateway</h1>");
    /// assert_eq!(ids(&walk(&server, url).await?).len(), DEFAULT_BACKUPS);
    /// # Ok(())
    /// # }
    /// ```
    pub fn text(status: u16, content_type: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            status,
            content_type: content_type.into(),
            body: body.into(),
            headers: Vec::new(),
            passthrough: false,
            delay: Duration::ZERO,
            fault: None,
        }
    }

    /// A placeholder in the queue: the request that takes it gets what the server would have
    /// answered anyway (the real page, or a 401, 404 ...). Queue passthroughs before a fault to
    /// let that many listing requests through first, or combine one with
    /// [`delay`](Self::delay), [`reset_after`](Self::reset_after) or
    /// [`truncate_to`](Self::truncate_to) to break the real page.
    ///
    /// ```
    /// use vbs_backups_testing::CannedResponse;
    ///
    /// // Fail only the 3rd listing request.
    /// let queue = [
    ///     CannedResponse::passthrough(),
    ///     CannedResponse::passthrough(),
    ///     CannedResponse::json(503, "{}"),
    /// ];
    /// # let _ = queue;
    /// ```
    pub fn passthrough() -> Self {
        Self {
            passthrough: true,
            ..Self::text(200, "", "")
        }
    }

    /// Adds a header, e.g. `.header("Retry-After", "1")`.
    ///
    /// ```
    /// use vbs_backups_testing::{CannedResponse, FakeServer};
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// server.push_response(CannedResponse::json(429, r#"{"message": "slow down"}"#).header("Retry-After", "7"));
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// let response = reqwest::get(url).await?;
    /// assert_eq!(response.status(), 429);
    /// assert_eq!(response.headers()["retry-after"], "7");
    /// # Ok(())
    /// # }
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Waits this much longer before sending the response (a slow page), on top of the
    /// server's latency. Replaces an earlier delay.
    ///
    /// ```
    /// use std::time::Duration;
    /// use vbs_backups_testing::CannedResponse;
    ///
    /// let slow = CannedResponse::passthrough().delay(Duration::from_secs(2));
    /// assert_eq!(slow.delay, Duration::from_secs(2));
    /// ```
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Sends the status, the headers and the first `bytes` bytes of the body, then aborts the
    /// connection: a connection reset mid-body. See [`BodyFault::ResetAfter`]. Replaces an
    /// earlier fault.
    ///
    /// ```
    /// use vbs_backups_testing::{BodyFault, CannedResponse};
    ///
    /// let reset = CannedResponse::passthrough().reset_after(200);
    /// assert_eq!(reset.fault, Some(BodyFault::ResetAfter(200)));
    /// ```
    pub fn reset_after(mut self, bytes: usize) -> Self {
        self.fault = Some(BodyFault::ResetAfter(bytes));
        self
    }

    /// Declares the full `Content-Length` but sends only the first `bytes` bytes of the body,
    /// then closes the connection: a truncated body. See [`BodyFault::TruncateTo`]. Replaces an
    /// earlier fault.
    ///
    /// ```
    /// use vbs_backups_testing::{BodyFault, CannedResponse};
    ///
    /// let truncated = CannedResponse::json(200, r#"{"backups": []}"#).truncate_to(5);
    /// assert_eq!(truncated.fault, Some(BodyFault::TruncateTo(5)));
    /// ```
    pub fn truncate_to(mut self, bytes: usize) -> Self {
        self.fault = Some(BodyFault::TruncateTo(bytes));
        self
    }
}

/// How a [`CannedResponse`] breaks its body. Clients see the status and headers as usual, and
/// then an error while reading the body.
///
/// ```
/// use vbs_backups_testing::{BodyFault, CannedResponse};
///
/// let mut response = CannedResponse::passthrough();
/// response.fault = Some(BodyFault::TruncateTo(100));
/// # let _ = response;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyFault {
    /// The body is sent chunked (without `Content-Length`); after its first `n` bytes (all of
    /// them if it is shorter) the connection is aborted before the final chunk, so reading the
    /// body always fails.
    ///
    /// ```
    /// use vbs_backups_testing::{CannedResponse, FakeServer};
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// server.push_response(CannedResponse::passthrough().reset_after(100));
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// // The status and headers arrive; the body breaks off after 100 bytes.
    /// let response = reqwest::Client::builder().no_proxy().build()?.get(url)
    ///     .header("X-Auth-Token", server.token().unwrap_or_default()).send().await?;
    /// assert_eq!(response.status(), 200);
    /// assert!(response.bytes().await.is_err());
    /// # Ok(())
    /// # }
    /// ```
    ResetAfter(usize),
    /// The response declares the full `Content-Length`, sends only the first `n` bytes and
    /// closes the connection, so reading the body fails. A body of at most `n` bytes is sent
    /// whole.
    ///
    /// ```
    /// use vbs_backups_testing::{CannedResponse, DEFAULT_BACKUPS, FakeServer};
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// server.push_response(CannedResponse::passthrough().truncate_to(100));
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// // The body stops short of its `Content-Length`: reading it fails ...
    /// assert!(get(&server, &url).await.is_err());
    /// // ... and fetching the page again gets it whole.
    /// assert_eq!(ids(&walk(&server, url).await?).len(), DEFAULT_BACKUPS);
    /// assert_eq!(server.request_count(), 2);
    /// # Ok(())
    /// # }
    /// ```
    TruncateTo(usize),
}

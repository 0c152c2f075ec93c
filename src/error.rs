//! The crate's one error type, and the parsing of server error bodies.
//!
//! [`Error`] is opaque: callers branch on [`Error::kind`], [`Error::status`],
//! [`Error::is_retryable`] and friends rather than on dependency types, which
//! stay private so that upgrading `reqwest` or `serde_json` is not a breaking change.

use std::fmt;
use std::time::Duration;

use crate::cursor::Cursor;

/// What a secret in an error body is replaced with before the body is parsed, folded and
/// cut: a character that is text in JSON and HTML alike (`<redacted>` itself would be
/// read as a tag), shown as `<redacted>` in the message.
pub(crate) const REDACTED_MARK: &str = "\u{FFFC}";

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong while configuring the client or walking a listing.
///
/// `Display` is one short line; the underlying cause, when there is one, is
/// available through [`std::error::Error::source`]. The auth token never appears
/// in either.
///
/// ```
/// use vbs_backups::{Client, ErrorKind};
///
/// let err = Client::builder().endpoint("ftp://example.com").project_id("p").build().unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Config);
/// assert!(err.to_string().contains("http or https"));
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    status: Option<u16>,
    code: Option<String>,
    request_id: Option<String>,
    resume_after: Option<String>,
    cursor: Option<Cursor>,
    retry_after: Option<Duration>,
    hint: Option<String>,
    source: Option<BoxError>,
}

/// What kind of failure an [`Error`] is.
///
/// New kinds may be added in minor releases, so matches need a wildcard arm.
///
/// ```
/// use vbs_backups::ErrorKind;
///
/// fn advice(kind: ErrorKind) -> &'static str {
///     match kind {
///         ErrorKind::Config => "fix the client configuration",
///         ErrorKind::Api => "read the server's message",
///         _ => "try again later",
///     }
/// }
/// assert_eq!(advice(ErrorKind::Config), "fix the client configuration");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The client or the query was configured wrongly; caught before any request, except
    /// for a whole-cloud listing ([`all_projects`](crate::ListBackups::all_projects)) whose
    /// credentials turn out not to be an admin's, found on its first page.
    Config,
    /// The request could not be sent or the response could not be read.
    Transport,
    /// The request took longer than the configured timeout.
    Timeout,
    /// The server answered with an error status (its message is kept).
    Api,
    /// The server answered 2xx but the body is not a page of the expected shape.
    Decode,
    /// The server's TLS certificate could not be verified; trying again will not help.
    Tls,
    /// The server's next links would make the walk loop or stall.
    Pagination,
    /// The Tokio runtime cannot carry the walk: the task fetching pages ahead stopped
    /// (its runtime shut down), or the runtime has no time driver
    /// (`Builder::enable_time`), which timeouts and retries need; or (feature
    /// `blocking`) the blocking iterator was used inside a Tokio runtime, or could not
    /// start its own. Not retryable: the same runtime fails the same way.
    Runtime,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                status: None,
                code: None,
                request_id: None,
                resume_after: None,
                cursor: None,
                retry_after: None,
                hint: None,
                source: None,
            }),
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    pub(crate) fn decode(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Decode, message)
    }

    pub(crate) fn pagination(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Pagination, message)
    }

    pub(crate) fn runtime(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Runtime, message)
    }

    pub(crate) fn transport(err: reqwest::Error) -> Self {
        let kind = if err.is_timeout() {
            ErrorKind::Timeout
        } else if is_certificate_failure(&err) {
            ErrorKind::Tls
        } else {
            ErrorKind::Transport
        };
        let message = if err.is_timeout() {
            "request timed out"
        } else if kind == ErrorKind::Tls {
            "the server's TLS certificate is not trusted (a private CA? see ClientBuilder::trust_additional_ca_file)"
        } else if err.is_connect() {
            "could not connect to the endpoint"
        } else if err.is_body() || err.is_decode() {
            "failed to read the response body"
        } else {
            "request failed"
        };
        // reqwest puts the URL in its own message; strip it so nothing leaks twice.
        Self::new(kind, message).with_source(err.without_url())
    }

    /// Builds the error for a non-success response from its status, headers and body.
    /// Secrets were replaced by [`REDACTED_MARK`] in the raw body; they read
    /// `<redacted>` in the message.
    pub(crate) fn from_response(status: u16, request_id: Option<String>, body: &[u8]) -> Self {
        let ServerMessage {
            code,
            message,
            request_id: body_request_id,
        } = ServerMessage::parse(body);
        let message = if message.contains(REDACTED_MARK) {
            message.replace(REDACTED_MARK, "<redacted>")
        } else {
            message
        };
        // The API gateway puts its request id in the body; a header wins.
        let mut err = Self::api(status, request_id.or(body_request_id), message);
        err.inner.code = code;
        err
    }

    /// An error status with a message of the client's own.
    pub(crate) fn api(status: u16, request_id: Option<String>, message: impl Into<String>) -> Self {
        let mut err = Self::new(ErrorKind::Api, message);
        err.inner.status = Some(status);
        err.inner.request_id = request_id;
        err
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    pub(crate) fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.inner.request_id = request_id;
        self
    }

    pub(crate) fn with_resume_after(mut self, last_id: Option<&str>) -> Self {
        self.inner.resume_after = last_id.map(str::to_owned);
        self
    }

    /// Puts `context` (what was being done, e.g. "Keystone at … refused password auth")
    /// in front of the message, keeping the kind, status, code and source.
    pub(crate) fn with_context(mut self, context: impl fmt::Display) -> Self {
        self.inner.message = format!("{context}: {}", self.inner.message);
        self
    }

    pub(crate) fn with_cursor(mut self, cursor: Cursor) -> Self {
        self.inner.cursor = Some(cursor);
        self
    }

    /// Sets the server's error code, as [`from_response`](Self::from_response) read it
    /// (for an error rebuilt from a kept one).
    #[cfg(feature = "keystone")]
    pub(crate) fn with_code(mut self, code: Option<String>) -> Self {
        self.inner.code = code;
        self
    }

    /// Sets what the user should check (an authorizer's advice after a 401), if any.
    pub(crate) fn with_hint(mut self, hint: Option<String>) -> Self {
        if hint.is_some() {
            self.inner.hint = hint;
        }
        self
    }

    pub(crate) fn with_retry_after(mut self, delay: Option<Duration>) -> Self {
        self.inner.retry_after = delay;
        self
    }

    /// Whether this is the server saying that `marker` does not exist (any more):
    /// Cinder's 404 `itemNotFound` `"Backup <marker> could not be found."`, or the
    /// 400 `"Marker <marker> could not be found"` of other implementations.
    pub(crate) fn is_missing_marker(&self, marker: &str) -> bool {
        let message = self.inner.message.to_ascii_lowercase();
        let names_marker = message.contains(&marker.to_ascii_lowercase());
        match self.inner.status {
            Some(404) => self.code() == Some("itemNotFound") || names_marker,
            Some(400) => {
                message.contains("marker")
                    && (message.contains("not found") || message.contains("not be found"))
            }
            _ => false,
        }
    }

    /// What kind of failure this is.
    ///
    /// ```
    /// use vbs_backups::{Client, ErrorKind};
    ///
    /// let err = Client::builder().endpoint("http://h").build().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Config);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The HTTP status of the response, for [`ErrorKind::Api`] errors.
    ///
    /// ```
    /// # use vbs_backups::Client;
    /// let err = Client::builder().endpoint("http://h").build().unwrap_err();
    /// assert_eq!(err.status(), None);
    /// ```
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }

    /// The server's error code, when its body carried one: Cinder's fault name
    /// (`badRequest`, `itemNotFound`, `computeFault`, …) or Huawei's `error_code`.
    ///
    /// ```
    /// # use vbs_backups::Client;
    /// let err = Client::builder().endpoint("http://h").build().unwrap_err();
    /// assert_eq!(err.code(), None);
    /// ```
    pub fn code(&self) -> Option<&str> {
        self.inner.code.as_deref()
    }

    /// The human-readable message: the server's own for API errors.
    ///
    /// ```
    /// # use vbs_backups::Client;
    /// let err = Client::builder().endpoint("http://h").build().unwrap_err();
    /// assert!(err.message().contains("project id"));
    /// ```
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The request id the server assigned (`X-Openstack-Request-Id` and similar),
    /// to quote when asking the operator of the cloud.
    ///
    /// ```
    /// # use vbs_backups::Client;
    /// let err = Client::builder().endpoint("http://h").build().unwrap_err();
    /// assert_eq!(err.request_id(), None);
    /// ```
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// The id of the last item the stream yielded before failing, if any: pass it to
    /// [`ListBackups::after`](crate::ListBackups::after) to continue where the walk stopped.
    ///
    /// ```
    /// # use vbs_backups::Client;
    /// let err = Client::builder().endpoint("http://h").build().unwrap_err();
    /// assert_eq!(err.resume_after(), None);
    /// ```
    pub fn resume_after(&self) -> Option<&str> {
        self.inner.resume_after.as_deref()
    }

    /// Where the walk stood when it failed: everything needed to continue it with
    /// [`Client::resume`](crate::Client::resume), even in another process (it
    /// serializes with serde). Set on errors yielded by listing streams.
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
    /// use futures::TryStreamExt;
    ///
    /// match client.backups().stream().try_collect::<Vec<_>>().await {
    ///     Ok(all) => println!("{} backups", all.len()),
    ///     Err(err) => {
    ///         if let Some(cursor) = err.cursor() {
    ///             std::fs::write("resume.json", serde_json::to_vec(cursor).unwrap_or_default()).ok();
    ///         }
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn cursor(&self) -> Option<&Cursor> {
        self.inner.cursor.as_ref()
    }

    /// How long the server asked to wait before trying again (`Retry-After`), if it did.
    ///
    /// ```
    /// # use vbs_backups::Client;
    /// let err = Client::builder().endpoint("http://h").build().unwrap_err();
    /// assert_eq!(err.retry_after(), None);
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// What to check to fix this error, when the client knows: for example "check the
    /// AK/SK", or the two clocks of a clock skew, after a refused Huawei Cloud signature.
    /// `Display` shows it after the message.
    ///
    /// ```
    /// # use vbs_backups::Client;
    /// let err = Client::builder().endpoint("http://h").build().unwrap_err();
    /// assert_eq!(err.hint(), None);
    /// ```
    pub fn hint(&self) -> Option<&str> {
        self.inner.hint.as_deref()
    }

    /// Whether the request timed out.
    ///
    /// ```
    /// # use vbs_backups::Client;
    /// let err = Client::builder().endpoint("http://h").build().unwrap_err();
    /// assert!(!err.is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }

    /// Whether sending the same request again may succeed: transport failures,
    /// timeouts, `429 Too Many Requests`, `5xx` statuses, and the Huawei API gateway's
    /// throttling (`APIGW.0308`) whatever its status.
    ///
    /// ```
    /// # use vbs_backups::Client;
    /// let err = Client::builder().endpoint("http://h").build().unwrap_err();
    /// assert!(!err.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self.inner.kind {
            ErrorKind::Transport | ErrorKind::Timeout => true,
            ErrorKind::Api => {
                matches!(self.inner.status, Some(429 | 500..=599))
                    || self.code() == Some(GATEWAY_THROTTLED)
            }
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        if let Some(status) = inner.status {
            write!(f, "HTTP {status}")?;
            if let Some(code) = &inner.code {
                f.write_str(" ")?;
                write_printable(f, code)?;
            }
            write!(f, ": ")?;
        }
        write_printable(f, &inner.message)?;
        if let Some(request_id) = &inner.request_id {
            f.write_str(" (request id ")?;
            write_printable(f, request_id)?;
            f.write_str(")")?;
        }
        if let Some(hint) = &inner.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        let mut debug = f.debug_struct("Error");
        debug.field("kind", &inner.kind);
        debug.field("message", &inner.message);
        if let Some(status) = inner.status {
            debug.field("status", &status);
        }
        if let Some(code) = &inner.code {
            debug.field("code", code);
        }
        if let Some(request_id) = &inner.request_id {
            debug.field("request_id", request_id);
        }
        if let Some(resume_after) = &inner.resume_after {
            debug.field("resume_after", resume_after);
        }
        if let Some(hint) = &inner.hint {
            debug.field("hint", hint);
        }
        if let Some(source) = &inner.source {
            debug.field("source", source);
        }
        debug.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

/// Writes `text` with every character that could drive a terminal escaped: C0 and C1
/// controls, DEL (ESC and BEL above all: `\u{1b}]52;c;…\u{7}` rewrites the clipboard)
/// and the bidirectional overrides that reorder what is shown. They read `\u{1b}`; plain
/// spaces and everything else stay. Messages carry server text (error bodies, ids,
/// markers and next links), so `Display` never lets it reach a terminal raw.
pub(crate) fn write_printable(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    let hidden =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(hidden) {
        return f.write_str(text);
    }
    for c in text.chars() {
        if hidden(c) {
            write!(f, "\\u{{{:x}}}", u32::from(c))?;
        } else {
            write!(f, "{c}")?;
        }
    }
    Ok(())
}

/// Whether the TLS handshake failed on the certificate. rustls does not reach us as
/// a type, only through reqwest's source chain, so its message is what tells.
fn is_certificate_failure(err: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(cause) = source {
        if cause.to_string().contains("certificate") {
            return true;
        }
        source = cause.source();
    }
    false
}

/// A URL the user gave, as it may be shown in a message: without the user info
/// (`user:password@`) and without the query and fragment, which can carry credentials
/// (`?X-Auth-Token=…`). Works on the text, so a URL that does not parse is shown safely
/// too.
///
/// ```text
/// https://u:s3cret@h:8776/v2/p?token=x  →  https://<redacted>@h:8776/v2/p?<redacted>
/// ```
pub(crate) fn url_for_message(text: &str) -> String {
    let (before_query, hidden) = match text.find(['?', '#']) {
        Some(at) => (&text[..at], Some(&text[at..at + 1])),
        None => (text, None),
    };
    let (scheme, rest) = match before_query.find("://") {
        Some(at) => before_query.split_at(at + 3),
        None => ("", before_query),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let mut shown = String::with_capacity(text.len());
    shown.push_str(scheme);
    match authority.rfind('@') {
        Some(at) => {
            shown.push_str("<redacted>@");
            shown.push_str(&authority[at + 1..]);
        }
        None => shown.push_str(authority),
    }
    shown.push_str(path);
    if let Some(mark) = hidden {
        shown.push_str(mark);
        shown.push_str("<redacted>");
    }
    shown
}

/// The Huawei API gateway's code for a throttled request ("the request is over the
/// flow control limit"), sent with 429 and sometimes other statuses.
const GATEWAY_THROTTLED: &str = "APIGW.0308";

/// The longest excerpt of a non-JSON error body kept in a message.
const SNIPPET_CHARS: usize = 200;

/// The code and message a server put in an error body, whatever its dialect.
#[derive(Debug, PartialEq, Eq)]
struct ServerMessage {
    code: Option<String>,
    message: String,
    /// The request id in the body (Huawei's API gateway: `request_id`).
    request_id: Option<String>,
}

impl ServerMessage {
    fn parse(body: &[u8]) -> Self {
        match serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|json| Self::from_json(&json))
        {
            // Messages in JSON can carry HTML and line breaks too (webob's 404s do).
            Some(Self {
                code,
                message,
                request_id,
            }) => Self {
                code,
                message: snippet(message.as_bytes()),
                request_id,
            },
            None => Self {
                code: None,
                message: snippet(body),
                request_id: None,
            },
        }
    }

    /// Recognises Huawei's flat `{"error_code", "error_msg"}`, and the nested
    /// `{"<fault>": {"code", "message"}}` used by Cinder (fault names such as
    /// `itemNotFound`) and by Keystone and Huawei gateways (`error`).
    fn from_json(json: &serde_json::Value) -> Option<Self> {
        let object = json.as_object()?;
        let text = |value: &serde_json::Value| match value {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        if let Some(message) = object.get("error_msg").and_then(text) {
            let code = object.get("error_code").and_then(text);
            let request_id = object
                .get("request_id")
                .and_then(text)
                .filter(|id| !id.trim().is_empty());
            return Some(Self {
                code,
                message,
                request_id,
            });
        }
        if let Some(message) = object.get("message").and_then(text) {
            // webob puts the status line in `code` ("404 Not Found"): its title says it.
            let code = object
                .get("code")
                .and_then(text)
                .filter(|code| !code.starts_with(|c: char| c.is_ascii_digit()))
                .or_else(|| object.get("title").and_then(text));
            return Some(Self {
                code,
                message,
                request_id: None,
            });
        }
        let (fault, detail) = object.iter().find(|(_, v)| v.is_object())?;
        let detail = detail.as_object()?;
        let message = detail
            .get("message")
            .or_else(|| detail.get("title"))
            .and_then(text)?;
        // A textual code (Huawei's `VBS.0001`) says most; Cinder's numeric code only
        // repeats the status, so its fault name does; Keystone's `error` key says
        // nothing, so its title does.
        let code = match detail.get("code") {
            Some(serde_json::Value::String(code)) => Some(code.clone()),
            _ if fault == "error" => detail.get("title").and_then(text).or(Some(fault.clone())),
            _ => Some(fault.clone()),
        };
        Some(Self {
            code,
            message,
            request_id: None,
        })
    }
}

/// A short, single-line excerpt of a body that is not JSON (a proxy's HTML
/// page, say): tags dropped, white space folded, cut at a character boundary.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut visible = String::with_capacity(text.len().min(4 * SNIPPET_CHARS));
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => {
                in_tag = true;
                visible.push(' ');
            }
            '>' => in_tag = false,
            _ if !in_tag => visible.push(c),
            _ => {}
        }
    }
    let mut words = visible.split_whitespace().peekable();
    if words.peek().is_none() {
        return "empty error body".to_owned();
    }
    let folded = words.collect::<Vec<_>>().join(" ");
    match folded.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &folded[..cut]),
        None => folded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(body: &str) -> (Option<String>, String) {
        let m = ServerMessage::parse(body.as_bytes());
        (m.code, m.message)
    }

    #[test]
    fn cinder_fault_bodies_keep_fault_name_and_message() {
        let (code, message) =
            parsed(r#"{"itemNotFound": {"code": 404, "message": "Backup x could not be found."}}"#);
        assert_eq!(code.as_deref(), Some("itemNotFound"));
        assert_eq!(message, "Backup x could not be found.");
    }

    #[test]
    fn keystone_error_body_uses_title_as_code() {
        let (code, message) = parsed(
            r#"{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}"#,
        );
        assert_eq!(code.as_deref(), Some("Unauthorized"));
        assert_eq!(
            message,
            "The request you have made requires authentication."
        );
    }

    #[test]
    fn webob_json_404_is_folded_to_one_line_with_its_title() {
        let (code, message) = parsed(
            r#"{"message": "The resource could not be found.<br /><br />\n\n\n", "code": "404 Not Found", "title": "Not Found"}"#,
        );
        assert_eq!(code.as_deref(), Some("Not Found"));
        assert_eq!(message, "The resource could not be found.");
    }

    #[test]
    fn huawei_flat_body() {
        let (code, message) =
            parsed(r#"{"error_code": "VBS.0001", "error_msg": "Invalid parameter"}"#);
        assert_eq!(code.as_deref(), Some("VBS.0001"));
        assert_eq!(message, "Invalid parameter");
    }

    #[test]
    fn api_gateway_body_gives_code_message_and_request_id() {
        let body = br#"{"error_msg":"Incorrect IAM authentication information: verify aksk signature fail","error_code":"APIGW.0301","request_id":"6a2b4f6b2ba1d5e0c2f5b8e5d6e5a4f1"}"#;
        let err = Error::from_response(401, None, body);
        assert_eq!(err.code(), Some("APIGW.0301"));
        assert_eq!(
            err.message(),
            "Incorrect IAM authentication information: verify aksk signature fail"
        );
        assert_eq!(err.request_id(), Some("6a2b4f6b2ba1d5e0c2f5b8e5d6e5a4f1"));
        assert!(!err.is_retryable());
        // A request id header wins over the body's.
        let err = Error::from_response(401, Some("req-h".into()), body);
        assert_eq!(err.request_id(), Some("req-h"));
        let hinted = err.with_hint(Some("check the AK/SK".into()));
        assert_eq!(hinted.hint(), Some("check the AK/SK"));
        assert!(
            hinted
                .to_string()
                .ends_with("(request id req-h); check the AK/SK")
        );
    }

    #[test]
    fn api_gateway_throttling_is_retryable_whatever_the_status() {
        let body = br#"{"error_msg":"The throttling threshold has been reached: policy user over ratelimit,limit:100,time:1 minute","error_code":"APIGW.0308","request_id":"r"}"#;
        for status in [429, 403, 400] {
            let err = Error::from_response(status, None, body);
            assert!(err.is_retryable(), "{status}");
        }
    }

    #[test]
    fn html_body_becomes_a_folded_snippet() {
        let (code, message) = parsed(
            "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  The resource could not be found.<br /><br />\n </body>\n</html>",
        );
        assert_eq!(code, None);
        assert_eq!(
            message,
            "404 Not Found 404 Not Found The resource could not be found."
        );
    }

    #[test]
    fn long_and_empty_bodies() {
        let long = "é".repeat(1000);
        let (_, message) = parsed(&long);
        assert_eq!(message.chars().count(), SNIPPET_CHARS + 1);
        assert_eq!(parsed("").1, "empty error body");
        assert_eq!(parsed("  \n").1, "empty error body");
    }

    #[test]
    fn json_without_a_known_shape_falls_back_to_a_snippet() {
        assert_eq!(parsed(r#"[1, 2]"#).1, "[1, 2]");
        assert_eq!(parsed(r#"{"a": 1}"#).1, r#"{"a": 1}"#);
    }

    #[test]
    fn an_error_is_one_pointer_wide() {
        // Results on the hot path stay small: the details live behind the box.
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn display_escapes_terminal_controls_from_the_server() {
        let err = Error::from_response(
            404,
            Some("req-\u{1b}[2J".into()),
            "{\"itemNotFound\": {\"code\": \"x\\u001b]52;c;AAAA\\u0007\", \"message\": \"Backup \\u001b]52;c;AAAA\\u0007 \\u009b31m\\u007f \\u202e could not be found.\"}}".as_bytes(),
        );
        assert_eq!(
            err.to_string(),
            "HTTP 404 x\\u{1b}]52;c;AAAA\\u{7}: Backup \\u{1b}]52;c;AAAA\\u{7} \\u{9b}31m\\u{7f} \\u{202e} could not be found. (request id req-\\u{1b}[2J)"
        );
        let pagination = Error::pagination("page 2 links to marker `\u{1b}]52;c;AAAA\u{7}` again");
        assert_eq!(
            pagination.to_string(),
            "page 2 links to marker `\\u{1b}]52;c;AAAA\\u{7}` again"
        );
    }

    #[test]
    fn urls_in_messages_lose_user_info_query_and_fragment() {
        for (given, shown) in [
            ("https://h:8776/v2/p", "https://h:8776/v2/p"),
            (
                "https://u:s3cret@h:8776/v2/p?X-Auth-Token=abc",
                "https://<redacted>@h:8776/v2/p?<redacted>",
            ),
            ("ftp://u:s3cret@h", "ftp://<redacted>@h"),
            ("http://h/x#s3cret", "http://h/x#<redacted>"),
            (
                "http://a:b@c@h:bad port/p",
                "http://<redacted>@h:bad port/p",
            ),
            ("u:s3cret@h", "<redacted>@h"),
            ("not a url", "not a url"),
        ] {
            assert_eq!(url_for_message(given), shown, "{given}");
        }
    }

    #[test]
    fn display_is_one_line_with_status_code_and_request_id() {
        let err = Error::from_response(
            404,
            Some("req-1".into()),
            br#"{"itemNotFound": {"code": 404, "message": "Backup m could not be found."}}"#,
        );
        assert_eq!(
            err.to_string(),
            "HTTP 404 itemNotFound: Backup m could not be found. (request id req-1)"
        );
        assert!(!err.is_retryable());
        let busy = Error::from_response(503, None, b"");
        assert!(busy.is_retryable());
    }
}

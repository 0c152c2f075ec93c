//! Response bodies, byte for byte like Cinder's (Python's `json.dumps` defaults).
//!
//! Error bodies go through serde with a Python-style formatter. Listing pages are assembled
//! from pieces escaped once (names when the data is generated, origins once per request),
//! because serde_json in the unoptimised builds tests run in needs over 10 ms per
//! 1000-item page; pasting pre-escaped pieces needs well under 1 ms.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;

use super::data::Row;
use super::{BodyFault, CannedResponse};

/// The body of Cinder's routing 404 (webob's `HTTPNotFound` page).
const NOT_FOUND_HTML: &str = "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  The resource could not be found.<br /><br />\n\n\n\n </body>\n</html>";

/// How long a broken body waits after its last bytes before failing or ending, so that hyper
/// flushes them first (see [`with_fault`]).
const FLUSH_GRACE: Duration = Duration::from_millis(20);

/// Appends `value` as a JSON string literal, escaped like Python's `json.dumps`: only printable
/// ASCII stays as is, everything else becomes `\n`-style or `\uXXXX` escapes.
pub(super) fn push_json_string(out: &mut String, value: &str) {
    out.push('"');
    push_json_string_contents(out, value);
    out.push('"');
}

/// Appends `value` escaped for use inside a JSON string literal (see [`push_json_string`]).
fn push_json_string_contents(out: &mut String, value: &str) {
    for ch in value.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(ch),
            _ => {
                let mut units = [0_u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    // Writing to a String cannot fail.
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
}

/// The parts of item links shared by a whole page, already escaped for a JSON string.
pub(super) struct ItemLinks {
    /// `http://{host}{prefix}/{version}/{project}/backups/`, escaped, without quotes.
    self_base: String,
    /// `http://{host}{prefix}/{project}/backups/`, escaped, without quotes.
    bookmark_base: String,
}

impl ItemLinks {
    /// `origin` is `http://{host}{prefix}`.
    pub(super) fn new(origin: &str, version: &str, project: &str) -> Self {
        let escaped = |text: String| {
            let mut contents = String::with_capacity(text.len());
            push_json_string_contents(&mut contents, &text);
            contents
        };
        Self {
            self_base: escaped(format!("{origin}/{version}/{project}/backups/")),
            bookmark_base: escaped(format!("{origin}/{project}/backups/")),
        }
    }
}

/// A listing page: `{"backups": [...]}` plus `backups_links` only when there is a next link.
pub(super) fn page(rows: &[&Row], links: &ItemLinks, next_href: Option<&str>) -> Response {
    let per_row = 120 + 2 * 36 + links.self_base.len() + links.bookmark_base.len();
    let mut out = String::with_capacity(64 + rows.len() * per_row);
    out.push_str("{\"backups\": [");
    for (index, row) in rows.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        // Ids are generated as lowercase UUIDs: nothing in them needs escaping.
        let id = row.backup.id.as_str();
        for piece in [
            "{\"id\": \"",
            id,
            "\", \"name\": ",
            &row.name_json,
            ", \"links\": [{\"rel\": \"self\", \"href\": \"",
            &links.self_base,
            id,
            "\"}, {\"rel\": \"bookmark\", \"href\": \"",
            &links.bookmark_base,
            id,
            "\"}]}",
        ] {
            out.push_str(piece);
        }
    }
    out.push(']');
    if let Some(href) = next_href {
        out.push_str(", \"backups_links\": [{\"rel\": \"next\", \"href\": ");
        push_json_string(&mut out, href);
        out.push_str("}]");
    }
    out.push('}');
    plain(StatusCode::OK, "application/json", out)
}

/// `{"backups": []}`.
pub(super) fn empty_page() -> Response {
    plain(StatusCode::OK, "application/json", "{\"backups\": []}")
}

#[derive(Serialize)]
struct Fault<'a> {
    code: u16,
    message: &'a str,
}

#[derive(Serialize)]
struct KeystoneError {
    code: u16,
    title: &'static str,
    message: &'static str,
}

/// Cinder's error body: `{"<name>": {"code": N, "message": "..."}}`.
pub(super) fn fault(status: StatusCode, name: &str, message: &str) -> Response {
    let code = status.as_u16();
    json(status, &BTreeMap::from([(name, Fault { code, message })]))
}

/// keystonemiddleware's 401 body.
pub(super) fn unauthorized() -> Response {
    let error = KeystoneError {
        code: 401,
        title: "Unauthorized",
        message: "The request you have made requires authentication.",
    };
    json(
        StatusCode::UNAUTHORIZED,
        &BTreeMap::from([("error", error)]),
    )
}

/// Cinder's routing 404: an HTML page, not JSON.
pub(super) fn not_found() -> Response {
    plain(
        StatusCode::NOT_FOUND,
        "text/html; charset=UTF-8",
        NOT_FOUND_HTML,
    )
}

/// Serializes `value` like Python's `json.dumps`.
fn json(status: StatusCode, value: &impl Serialize) -> Response {
    let mut body = Vec::with_capacity(128);
    let mut serializer = serde_json::Serializer::with_formatter(&mut body, PythonStyle);
    match value.serialize(&mut serializer) {
        Ok(()) => plain(status, "application/json", body),
        Err(error) => {
            tracing::warn!(%error, "fake server could not render a response");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain",
                "rendering failed",
            )
        }
    }
}

fn plain(status: StatusCode, content_type: &'static str, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A canned response as given; invalid headers are skipped with a warning.
pub(super) fn canned(canned: CannedResponse) -> Response {
    let mut response = Response::new(Body::from(canned.body));
    *response.status_mut() =
        StatusCode::from_u16(canned.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let content_type = Some(("content-type".to_owned(), canned.content_type))
        .filter(|(_, value)| !value.is_empty());
    let headers = content_type.into_iter().chain(canned.headers);
    for (name, value) in valid_headers(headers) {
        response.headers_mut().append(name, value);
    }
    response
}

/// Sets `headers` on a response the server made, replacing any it has of the same names
/// (names repeated in `headers` all get their values); invalid ones are skipped with a warning.
pub(super) fn override_headers(response: &mut Response, headers: &[(String, String)]) {
    let headers = valid_headers(headers.iter().cloned());
    for (name, _) in &headers {
        response.headers_mut().remove(name);
    }
    for (name, value) in headers {
        response.headers_mut().append(name, value);
    }
}

/// The headers that are valid, in order; the others are logged and dropped.
fn valid_headers(
    headers: impl IntoIterator<Item = (String, String)>,
) -> Vec<(HeaderName, HeaderValue)> {
    headers
        .into_iter()
        .filter_map(|(name, value)| {
            match (
                HeaderName::try_from(name.as_str()),
                HeaderValue::try_from(value.as_str()),
            ) {
                (Ok(name), Ok(value)) => Some((name, value)),
                _ => {
                    tracing::warn!(%name, %value, "fake server skipped an invalid canned header");
                    None
                }
            }
        })
        .collect()
}

/// Breaks `response`'s body as `fault` says; status and headers stay.
///
/// hyper drops the connection without flushing what it has buffered when a body fails or
/// falls short of its `Content-Length`, so the body pauses for [`FLUSH_GRACE`] after the bytes
/// it does send, letting hyper hand them (and the head) to the socket first.
pub(super) async fn with_fault(response: Response, fault: BodyFault) -> Response {
    let (mut parts, body) = response.into_parts();
    let full = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(full) => full,
        Err(error) => {
            tracing::warn!(%error, "fake server could not buffer a body to break");
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain",
                "buffering failed",
            );
        }
    };
    let (sent, reset) = match fault {
        BodyFault::ResetAfter(bytes) => (bytes, true),
        BodyFault::TruncateTo(bytes) if bytes < full.len() => {
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(full.len()));
            (bytes, false)
        }
        BodyFault::TruncateTo(_) => return Response::from_parts(parts, Body::from(full)),
    };
    let prefix = full.slice(..sent.min(full.len()));
    let stream = async_stream::stream! {
        if !prefix.is_empty() {
            yield Ok(prefix);
        }
        tokio::time::sleep(FLUSH_GRACE).await;
        if reset {
            yield Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "fake server reset the connection mid-body",
            ));
        }
    };
    Response::from_parts(parts, Body::from_stream(stream))
}

/// `json.dumps` defaults: `", "` and `": "` separators, non-ASCII escaped as `\uXXXX`.
struct PythonStyle;

impl serde_json::ser::Formatter for PythonStyle {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut escaped = String::with_capacity(fragment.len());
        push_json_string_contents(&mut escaped, fragment);
        writer.write_all(escaped.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn strings_are_escaped_like_python() {
        let cases = [
            ("weekly", r#""weekly""#),
            ("spécial & name=1", r#""sp\u00e9cial & name=1""#),
            ("a\"b\\c\nd\te\u{1}\u{7f}", r#""a\"b\\c\nd\te\u0001\u007f""#),
            ("🦀", r#""\ud83e\udd80""#),
            ("", r#""""#),
        ];
        for (input, expected) in cases {
            let mut out = String::new();
            push_json_string(&mut out, input);
            assert_eq!(out, expected);
            assert_eq!(serde_json::from_str::<String>(&out).unwrap(), input);
        }
    }

    #[test]
    fn error_bodies_use_python_separators() {
        let mut body = Vec::new();
        let mut serializer = serde_json::Serializer::with_formatter(&mut body, PythonStyle);
        BTreeMap::from([(
            "a",
            Fault {
                code: 1,
                message: "é\"",
            },
        )])
        .serialize(&mut serializer)
        .unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"a": {"code": 1, "message": "\u00e9\""}}"#
        );
    }
}

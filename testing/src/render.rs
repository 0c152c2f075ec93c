//! Response bodies, byte for byte like Cinder's (Python's `json.dumps` defaults).
//!
//! Error bodies go through serde with a Python-style formatter. Listing pages are assembled
//! from pieces escaped once (names and the detail fields' free text when the data is generated,
//! origins once per request), because serde_json in the unoptimised builds tests run in needs
//! over 10 ms per 1000-item page; pasting pre-escaped pieces needs well under 1 ms (a
//! 1000-item detail page takes about 0.3 ms in a release build).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;

use crate::canned::{BodyFault, CannedResponse};
use crate::row::{Row, push_json_option, push_json_string, push_json_string_contents};

/// The body of Cinder's routing 404 (webob's `HTTPNotFound` page).
const NOT_FOUND_HTML: &str = "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  The resource could not be found.<br /><br />\n\n\n\n </body>\n</html>";

/// How long a broken body waits after its last bytes before failing or ending, so that hyper
/// flushes them first (see [`with_fault`]).
const FLUSH_GRACE: Duration = Duration::from_millis(20);

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

/// Appends the `self` and `bookmark` links of the backup with this id.
fn push_item_links(out: &mut String, links: &ItemLinks, id: &str) {
    for piece in [
        "{\"rel\": \"self\", \"href\": \"",
        &links.self_base,
        id,
        "\"}, {\"rel\": \"bookmark\", \"href\": \"",
        &links.bookmark_base,
        id,
        "\"}",
    ] {
        out.push_str(piece);
    }
}

/// Appends `row`'s detail entry: Cinder 3.0's fields in Cinder's order, then those `fields`
/// asks for.
fn push_detail_entry(out: &mut String, row: &Row, links: &ItemLinks, fields: &DetailFields) {
    let backup = &row.backup;
    out.push_str("{\"id\": ");
    push_json_string(out, &backup.id);
    out.push_str(", \"status\": ");
    push_json_string(out, &backup.status);
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        ", \"size\": {}, \"object_count\": {}, \"availability_zone\": ",
        backup.size, backup.object_count
    );
    push_json_string(out, &backup.availability_zone);
    out.push_str(", \"container\": ");
    push_json_option(out, backup.container.as_deref());
    out.push_str(", \"created_at\": ");
    push_json_string(out, &backup.created_at);
    out.push_str(", \"updated_at\": ");
    push_json_string(out, &backup.updated_at);
    for piece in [
        ", \"name\": ",
        &row.name_json,
        ", \"description\": ",
        row.free_text.description(),
        ", \"fail_reason\": ",
        row.free_text.fail_reason(),
        ", \"volume_id\": ",
    ] {
        out.push_str(piece);
    }
    push_json_string(out, &backup.volume_id);
    out.push_str(", \"links\": [");
    push_item_links(out, links, &backup.id);
    out.push_str("], \"is_incremental\": ");
    out.push_str(if backup.is_incremental {
        "true"
    } else {
        "false"
    });
    out.push_str(", \"has_dependent_backups\": ");
    out.push_str(if backup.has_dependent_backups {
        "true"
    } else {
        "false"
    });
    out.push_str(", \"snapshot_id\": ");
    push_json_option(out, backup.snapshot_id.as_deref());
    out.push_str(", \"data_timestamp\": ");
    push_json_string(out, &backup.data_timestamp);
    if let Some(key) = backup
        .encryption_key_id
        .as_deref()
        .filter(|_| fields.encryption_key_id)
    {
        out.push_str(", \"encryption_key_id\": ");
        push_json_string(out, key);
    }
    if fields.metadata {
        out.push_str(", \"metadata\": ");
        out.push_str(row.free_text.metadata());
    }
    if fields.user_id {
        out.push_str(", \"user_id\": ");
        push_json_string(out, &backup.user_id);
    }
    if fields.project_attribute {
        out.push_str(", \"os-backup-project-attr:project_id\": ");
        push_json_string(out, &backup.project_id);
    }
    out.push('}');
}

/// Which optional fields detail entries carry, by microversion.
#[derive(Debug, Default)]
pub(super) struct DetailFields {
    /// `encryption_key_id`, for backups that have one (3.64).
    pub(super) encryption_key_id: bool,
    /// `metadata` (3.43).
    pub(super) metadata: bool,
    /// `user_id` (3.56).
    pub(super) user_id: bool,
    /// `os-backup-project-attr:project_id`, the backup's project (3.18, admins only).
    pub(super) project_attribute: bool,
}

/// What the entries of a listing page hold.
#[derive(Debug)]
pub(super) enum Entries<'a> {
    /// `id`, `name` and `links` (`/backups`).
    Summary,
    /// Every field (`/backups/detail`).
    Detail(&'a DetailFields),
}

/// A listing page: `{"backups": [...]}`, then `backups_links` only when there is a next link,
/// then `count` when it was asked for.
pub(super) fn page(
    rows: &[&Row],
    entries: &Entries<'_>,
    links: &ItemLinks,
    next_href: Option<&str>,
    count: Option<usize>,
) -> Response {
    let links_len = 60 + 2 * 36 + links.self_base.len() + links.bookmark_base.len();
    let per_row = match entries {
        Entries::Summary => 60 + links_len,
        Entries::Detail(_) => 700 + links_len,
    };
    let mut out = String::with_capacity(96 + rows.len() * per_row);
    out.push_str("{\"backups\": [");
    for (index, row) in rows.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        // Ids are generated as lowercase UUIDs: nothing in them needs escaping.
        let id = row.backup.id.as_str();
        match entries {
            Entries::Summary => {
                for piece in [
                    "{\"id\": \"",
                    id,
                    "\", \"name\": ",
                    &row.name_json,
                    ", \"links\": [",
                ] {
                    out.push_str(piece);
                }
                push_item_links(&mut out, links, id);
                out.push_str("]}");
            }
            Entries::Detail(fields) => push_detail_entry(&mut out, row, links, fields),
        }
    }
    out.push(']');
    if let Some(href) = next_href {
        out.push_str(", \"backups_links\": [{\"rel\": \"next\", \"href\": ");
        push_json_string(&mut out, href);
        out.push_str("}]");
    }
    if let Some(count) = count {
        // Writing to a String cannot fail.
        let _ = write!(out, ", \"count\": {count}");
    }
    out.push('}');
    plain(StatusCode::OK, "application/json", out)
}

/// `{"backups": []}`, with `"count": 0` when it was asked for.
pub(super) fn empty_page(count: bool) -> Response {
    let body = if count {
        "{\"backups\": [], \"count\": 0}"
    } else {
        "{\"backups\": []}"
    };
    plain(StatusCode::OK, "application/json", body)
}

#[derive(Serialize)]
struct Fault<'a> {
    code: u16,
    message: &'a str,
}

#[derive(Serialize)]
struct KeystoneError<'a> {
    code: u16,
    title: &'static str,
    message: &'a str,
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

/// A 401 in Keystone's shape with a message of the verifier's own.
pub(super) fn refused(message: &str) -> Response {
    let error = KeystoneError {
        code: 401,
        title: "Unauthorized",
        message,
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
pub(super) fn json(status: StatusCode, value: &impl Serialize) -> Response {
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

//! Reading response bodies within bounds: a page or token body up to the configured
//! limit, an error body up to 64 KiB.

use crate::error::{Error, REDACTED_MARK, Result};

/// How much of an error body is read: messages are short, proxy pages are not.
pub(crate) const ERROR_BODY_BYTES: usize = 64 * 1024;

/// Reads the whole body, refusing more than `limit` bytes so a broken or hostile
/// server cannot exhaust memory, and hands it to `use_body`.
///
/// A body that arrives in one chunk (the usual case) is used where it lies; one in
/// several is copied once, into a buffer of the announced size.
pub(crate) async fn read_body<R>(
    mut response: reqwest::Response,
    limit: usize,
    use_body: impl FnOnce(&[u8]) -> Result<R>,
) -> Result<R> {
    let too_large = || {
        Error::decode(format!(
            "response body exceeds the limit of {limit} bytes (see HttpOptions::max_response_bytes)"
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
/// reason to lose the status (a body that breaks off is read as far as it goes, a
/// longer one is cut).
pub(crate) async fn read_error_body(mut response: reqwest::Response) -> Vec<u8> {
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

/// Replaces every occurrence of each secret in `body` by [`REDACTED_MARK`], before the
/// body is parsed or cut: some proxies echo the request's headers in their error pages.
pub(crate) fn redact(body: &mut Vec<u8>, secrets: &[String]) {
    for secret in secrets.iter().filter(|secret| !secret.is_empty()) {
        let secret = secret.as_bytes();
        if find(body, secret).is_none() {
            continue;
        }
        let mut redacted = Vec::with_capacity(body.len());
        let mut rest = body.as_slice();
        while let Some(at) = find(rest, secret) {
            redacted.extend_from_slice(&rest[..at]);
            redacted.extend_from_slice(REDACTED_MARK.as_bytes());
            rest = &rest[at + secret.len()..];
        }
        redacted.extend_from_slice(rest);
        *body = redacted;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn secrets_are_redacted_from_the_raw_body() {
        let mut body = b"token t0k3n in t0k3nt0k3n".to_vec();
        redact(&mut body, &["t0k3n".into(), String::new()]);
        let shown = String::from_utf8(body)
            .unwrap()
            .replace(REDACTED_MARK, "<redacted>");
        assert_eq!(shown, "token <redacted> in <redacted><redacted>");
        let mut untouched = b"nothing here".to_vec();
        redact(&mut untouched, &["secret".into()]);
        assert_eq!(untouched, b"nothing here");
    }
}

//! Reading response bodies within bounds: a page or token body up to the configured
//! limit, an error body up to 64 KiB.

use bytes::Bytes;

use crate::error::{Error, REDACTED_MARK, Result};

/// How much of an error body is read: messages are short, proxy pages are not.
pub(crate) const ERROR_BODY_BYTES: usize = 64 * 1024;

/// The most a body buffer is sized up front from the server's `Content-Length`: the
/// announcement is the server's word, not a fact, so a larger body grows the buffer as
/// its bytes actually arrive (a response announcing 2^50 bytes must not make the
/// process try to allocate them).
const PREALLOCATE_BYTES: usize = 4 * 1024 * 1024;

/// Reads the whole body, refusing more than `limit` bytes so a broken or hostile
/// server cannot exhaust memory, and hands it to `use_body`.
///
/// A body that arrives in one chunk is used where it lies; one in several is copied
/// once, into a buffer of the announced size (at most 4 MiB up front; beyond that it
/// grows with what really arrives).
pub(crate) async fn read_body<R>(
    mut response: reqwest::Response,
    limit: usize,
    use_body: impl FnOnce(&Bytes) -> Result<R>,
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
                let size = usize::try_from(announced)
                    .unwrap_or(0)
                    .max(received)
                    .min(PREALLOCATE_BYTES.max(received));
                let mut buffer = Vec::with_capacity(size);
                buffer.extend_from_slice(&earlier);
                buffer.extend_from_slice(&chunk);
                joined = Some(buffer);
            }
        }
    }
    // Shared, not copied: a page body may be decoded on another thread.
    let body = match (joined, first) {
        (Some(joined), _) => Bytes::from(joined),
        (None, Some(only)) => only,
        (None, None) => Bytes::new(),
    };
    use_body(&body)
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

/// Secrets at least this long are redacted wherever they appear; shorter ones only
/// where they stand as a whole word. A random token of this length cannot turn up in a
/// server's message by chance, while a short one (`--token t`) would otherwise mangle
/// every word that contains it (`ups<redacted>ream`).
pub(crate) const REDACT_ANYWHERE_CHARS: usize = 8;

/// Replaces each secret in `body` by [`REDACTED_MARK`], before the body is parsed or
/// cut: some proxies echo the request's headers in their error pages.
///
/// A secret of [`REDACT_ANYWHERE_CHARS`] or more bytes is replaced wherever it occurs.
/// A shorter one is replaced only where it is not part of a longer word: the bytes just
/// before and after it (or after a run of it repeated) are not ASCII letters, digits,
/// `-` or `_`. So `t` is redacted from `token t rejected`, but `upstream` stays whole.
pub(crate) fn redact(body: &mut Vec<u8>, secrets: &[String]) {
    for secret in secrets.iter().filter(|secret| !secret.is_empty()) {
        let secret = secret.as_bytes();
        if find(body, secret).is_none() {
            continue;
        }
        let anywhere = secret.len() >= REDACT_ANYWHERE_CHARS;
        let mut redacted = Vec::with_capacity(body.len());
        let mut at = 0;
        while at < body.len() {
            let Some(found) = find(&body[at..], secret).map(|found| at + found) else {
                break;
            };
            // A run of the secret repeated back to back counts as one word.
            let mut end = found + secret.len();
            while body[end..].starts_with(secret) {
                end += secret.len();
            }
            let whole = anywhere
                || (!found
                    .checked_sub(1)
                    .is_some_and(|before| is_word_byte(body[before]))
                    && !body.get(end).is_some_and(|after| is_word_byte(*after)));
            if whole {
                redacted.extend_from_slice(&body[at..found]);
                for _ in 0..(end - found) / secret.len() {
                    redacted.extend_from_slice(REDACTED_MARK.as_bytes());
                }
                at = end;
            } else {
                redacted.extend_from_slice(&body[at..=found]);
                at = found + 1;
            }
        }
        redacted.extend_from_slice(&body[at.min(body.len())..]);
        *body = redacted;
    }
}

/// Whether `byte` may be part of a word (or of a token) next to a secret.
fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
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

    fn shown(body: &str, secret: &str) -> String {
        let mut body = body.as_bytes().to_vec();
        redact(&mut body, &[secret.to_owned()]);
        String::from_utf8(body)
            .unwrap()
            .replace(REDACTED_MARK, "<redacted>")
    }

    #[test]
    fn short_secrets_are_redacted_as_whole_words_only() {
        assert_eq!(shown("upstream died", "t"), "upstream died");
        assert_eq!(
            shown("t: token t, \"t\" and t", "t"),
            "<redacted>: token <redacted>, \"<redacted>\" and <redacted>"
        );
        assert_eq!(
            shown("X-Auth-Token: abc\r\n", "abc"),
            "X-Auth-Token: <redacted>\r\n"
        );
        assert_eq!(shown("token=abc&x=abcd", "abc"), "token=<redacted>&x=abcd");
        assert_eq!(
            shown("my-abc abc_1 abcabc", "abc"),
            "my-abc abc_1 <redacted><redacted>"
        );
    }

    #[test]
    fn long_secrets_are_redacted_anywhere() {
        assert_eq!(
            shown("prefix0123456789suffix", "0123456789"),
            "prefix<redacted>suffix"
        );
    }
}

//! The compact string form of a [`Cursor`] (`vbs1.` + base64url of its JSON), for a
//! command line or a log line. Apart from the cursor itself, which is plain data that
//! needs nothing of the crate's errors.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::cursor::Cursor;
use crate::error::{Error, Result};

/// What the string form of a cursor starts with: its format, so that a later version can
/// read it and anything else is told apart at once.
const TOKEN_PREFIX: &str = "vbs1.";

impl Cursor {
    /// The compact, URL-safe string form: `vbs1.` and the base64url (no padding) of the
    /// cursor's JSON. Only letters, digits, `-`, `_` and `.`: safe to paste in a shell
    /// without quoting. The same as `to_string()`; read it back with [`str::parse`].
    ///
    /// ```
    /// # fn f(cursor: vbs_backups::Cursor) -> vbs_backups::Result<()> {
    /// let token = cursor.to_token();
    /// assert!(token.starts_with("vbs1."));
    /// let again: vbs_backups::Cursor = token.parse()?;
    /// assert_eq!(again, cursor);
    /// # Ok(()) }
    /// ```
    pub fn to_token(&self) -> String {
        // Serializing plain strings and numbers cannot fail.
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(json))
    }
}

/// The largest cursor token read: a cursor is a few hundred bytes; this leaves room for
/// long filters and ids without letting a pasted file exhaust memory.
const MAX_TOKEN_BYTES: usize = 64 * 1024;

impl fmt::Display for Cursor {
    /// The string form of [`to_token`](Cursor::to_token).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_token())
    }
}

impl FromStr for Cursor {
    type Err = Error;

    /// Reads the string form of [`to_token`](Cursor::to_token) (surrounding white space
    /// is ignored); a [`ErrorKind::Config`](crate::ErrorKind::Config) error otherwise.
    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        let refused = |why: &str| Error::config(format!("not a vbs-backups resume token: {why}"));
        if text.len() > MAX_TOKEN_BYTES {
            return Err(refused("too long"));
        }
        let Some(encoded) = text.strip_prefix(TOKEN_PREFIX) else {
            return Err(refused("it does not start with `vbs1.`"));
        };
        let json = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| refused("it is not base64url"))?;
        serde_json::from_slice(&json).map_err(|_| refused("its content is not a cursor"))
    }
}

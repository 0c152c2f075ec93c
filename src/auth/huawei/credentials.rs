//! Who signs: an access key, its secret key and, for temporary credentials, a security
//! token. `Debug` shows neither secret, and only the start of the access key.

use std::fmt;

/// Huawei Cloud AK/SK credentials, permanent or temporary (with a security token).
///
/// `Debug` output shows the first characters of the access key and never the secret key
/// or the token.
///
/// ```
/// use vbs_backups::huawei::Credentials;
///
/// let permanent = Credentials::new("HPUAEXAMPLEAK", "s3cr3t-sk");
/// let temporary = Credentials::new("HST.EXAMPLE", "sk").security_token("gQpjbi1ub3J0aC00…");
/// assert!(temporary.is_temporary() && !permanent.is_temporary());
/// assert_eq!(permanent.access_key(), "HPUAEXAMPLEAK");
/// let shown = format!("{permanent:?} {temporary:?}");
/// assert!(!shown.contains("s3cr3t") && !shown.contains("gQpj") && !shown.contains("HPUAEXAMPLEAK"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    access_key: String,
    secret_key: String,
    security_token: Option<String>,
}

impl Credentials {
    /// Permanent credentials: an access key (AK) and its secret key (SK).
    ///
    /// ```
    /// let credentials = vbs_backups::huawei::Credentials::new("AK", "SK");
    /// ```
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self {
            access_key: access_key.into().trim().to_owned(),
            secret_key: secret_key.into().trim().to_owned(),
            security_token: None,
        }
    }

    /// Makes these temporary credentials: the security token issued with the AK/SK, sent
    /// (and signed) as `X-Security-Token`. A blank token is ignored.
    ///
    /// ```
    /// let credentials = vbs_backups::huawei::Credentials::new("AK", "SK").security_token("token");
    /// assert!(credentials.is_temporary());
    /// ```
    #[must_use]
    pub fn security_token(mut self, token: impl Into<String>) -> Self {
        let token = token.into().trim().to_owned();
        self.security_token = (!token.is_empty()).then_some(token);
        self
    }

    /// The access key (it travels in the `Authorization` header; the secret key never does).
    ///
    /// ```
    /// assert_eq!(vbs_backups::huawei::Credentials::new("AK", "SK").access_key(), "AK");
    /// ```
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// Whether these are temporary credentials (a security token is set).
    ///
    /// ```
    /// assert!(!vbs_backups::huawei::Credentials::new("AK", "SK").is_temporary());
    /// ```
    pub fn is_temporary(&self) -> bool {
        self.security_token.is_some()
    }

    pub(crate) fn secret_key(&self) -> &str {
        &self.secret_key
    }

    pub(crate) fn token(&self) -> Option<&str> {
        self.security_token.as_deref()
    }

    /// The access key shortened for messages and `Debug`: its first four characters.
    pub(crate) fn masked_access_key(&self) -> String {
        let start: String = self.access_key.chars().take(4).collect();
        format!("{start}…")
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.masked_access_key())
            .field("secret_key", &"<redacted>")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

//! What Keystone says about a token: [`TokenInfo`], read from its `{"token": …}` body.

use jiff::Timestamp;
use serde::Deserialize;

use super::catalog::Catalog;
use crate::error::{Error, Result};

/// What a Keystone token says about itself (everything but the token).
///
/// ```no_run
/// # async fn run(auth: vbs_backups::KeystoneAuth) -> vbs_backups::Result<()> {
/// let info = auth.token_info().await?;
/// println!("project {:?}, expires {:?}", info.project_id, info.expires_at);
/// for service in &info.catalog.services {
///     println!("{}", service.service_type);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TokenInfo {
    /// When the token stops working, if Keystone said.
    pub expires_at: Option<Timestamp>,
    /// When the token was issued, if Keystone said.
    pub issued_at: Option<Timestamp>,
    /// The auth methods behind it (`password`, `application_credential`, `token`).
    pub methods: Vec<String>,
    /// The user's id.
    pub user_id: Option<String>,
    /// The user's name.
    pub user_name: Option<String>,
    /// The id of the project the token is scoped to, if it is.
    pub project_id: Option<String>,
    /// The name of that project.
    pub project_name: Option<String>,
    /// The services the token may use, and where they are.
    pub catalog: Catalog,
}

#[derive(Deserialize)]
struct TokenBody {
    token: RawToken,
}

#[derive(Deserialize)]
struct RawToken {
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default)]
    issued_at: Option<String>,
    #[serde(default)]
    methods: Option<Vec<String>>,
    #[serde(default)]
    user: Option<Named>,
    #[serde(default)]
    project: Option<Named>,
    #[serde(default)]
    catalog: Option<Catalog>,
}

#[derive(Deserialize)]
struct Named {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// Reads Keystone's `{"token": {...}}`.
pub(super) fn parse_token_body(body: &[u8]) -> Result<TokenInfo> {
    let TokenBody { token } = serde_json::from_slice(body).map_err(|err| {
        Error::decode(format!(
            "the token body is not Keystone's {{\"token\": …}}: {err}"
        ))
    })?;
    let expires_at = token
        .expires_at
        .as_deref()
        .map(|text| parse_time("expires_at", text))
        .transpose()?;
    let issued_at = token
        .issued_at
        .as_deref()
        .map(|text| parse_time("issued_at", text))
        .transpose()?;
    let (user_id, user_name) = token.user.map_or((None, None), |user| (user.id, user.name));
    let (project_id, project_name) = token
        .project
        .map_or((None, None), |project| (project.id, project.name));
    Ok(TokenInfo {
        expires_at,
        issued_at,
        methods: token.methods.unwrap_or_default(),
        user_id,
        user_name,
        project_id: project_id.filter(|id| !id.is_empty()),
        project_name,
        catalog: token.catalog.unwrap_or_default(),
    })
}

/// Keystone's times: RFC 3339 (`2015-11-06T15:32:17.893769Z`), or without an offset,
/// meaning UTC.
fn parse_time(field: &str, text: &str) -> Result<Timestamp> {
    text.parse::<Timestamp>()
        .or_else(|_| {
            text.parse::<jiff::civil::DateTime>()
                .and_then(|naive| jiff::tz::Offset::UTC.to_timestamp(naive))
        })
        .map_err(|err| Error::decode(format!("token.{field} `{text}` is not a time: {err}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn token_bodies() {
        let info = parse_token_body(
            br#"{"token": {"expires_at": "2030-01-01T00:00:00.000000Z", "issued_at": "2029-12-31T23:00:00.000000",
                "methods": ["password"], "user": {"id": "u", "name": "alice"},
                "project": {"id": "p", "name": "demo"}, "catalog": []}}"#,
        )
        .unwrap();
        assert_eq!(info.project_id.as_deref(), Some("p"));
        assert_eq!(
            info.expires_at
                .unwrap()
                .duration_since(info.issued_at.unwrap()),
            jiff::SignedDuration::from_secs(3600)
        );
        assert!(parse_token_body(b"{}").is_err());
        let err = parse_token_body(br#"{"token": {"expires_at": "soon"}}"#).unwrap_err();
        assert!(err.to_string().contains("expires_at"), "{err}");
    }
}

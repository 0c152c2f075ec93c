//! Microversion negotiation on `/v3`, as Cinder does it (with `microversion_parse`).
//!
//! The version comes from the `OpenStack-API-Version` header (all of them, joined with `,`): of
//! its comma-separated `<service> <version>` entries the last one for service `volume` (in any
//! case) counts; entries of another shape are skipped. No such entry means 3.0, `latest` means
//! [`Microversion::MAX`]. A version must look like `MajorNum.MinorNum` (no leading zeros, no
//! sign, no spaces) and lie between 3.0 and 3.71. The legacy `X-OpenStack-Volume-API-Version`
//! header is ignored, as Cinder ignores it.

use std::fmt;

use axum::http::HeaderMap;

/// A microversion: `major.minor`, compared numerically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Microversion {
    major: u64,
    minor: u64,
}

impl Microversion {
    /// What a request without a version gets, and what `/v2` always speaks.
    pub(super) const MIN: Self = Self::new(3, 0);
    /// The newest version Cinder 29 speaks, and what `latest` means.
    pub(super) const MAX: Self = Self::new(3, 71);
    /// Detail entries carry `os-backup-project-attr:project_id`.
    pub(super) const PROJECT_ATTRIBUTE: Self = Self::new(3, 18);
    /// Non-admin filters are checked against the allowed ones (Cinder's `resource_filters`).
    pub(super) const FILTER_VALIDATION: Self = Self::new(3, 31);
    /// `sort=name` means `display_name`.
    pub(super) const NAME_SORT: Self = Self::new(3, 37);
    /// Detail entries carry `metadata`.
    pub(super) const METADATA: Self = Self::new(3, 43);
    /// `with_count` counts instead of filtering.
    pub(super) const WITH_COUNT: Self = Self::new(3, 45);
    /// Detail entries carry `user_id`.
    pub(super) const USER_ID: Self = Self::new(3, 56);
    /// Detail entries carry `encryption_key_id`, when it is set.
    pub(super) const ENCRYPTION_KEY_ID: Self = Self::new(3, 64);

    const fn new(major: u64, minor: u64) -> Self {
        Self { major, minor }
    }

    /// Parses `MajorNum.MinorNum` like Cinder's `^([1-9]\d*)\.([1-9]\d*|0)$`; numbers beyond
    /// `u64` saturate (they are out of range either way).
    fn parse(text: &str) -> Option<Self> {
        let number = |digits: &str| {
            let valid = !digits.is_empty()
                && digits.bytes().all(|byte| byte.is_ascii_digit())
                && (digits == "0" || !digits.starts_with('0'));
            valid.then(|| {
                digits.bytes().fold(0_u64, |total, digit| {
                    total
                        .saturating_mul(10)
                        .saturating_add(u64::from(digit - b'0'))
                })
            })
        };
        let (major, minor) = text.split_once('.')?;
        let major = number(major).filter(|major| *major > 0)?;
        Some(Self::new(major, number(minor)?))
    }
}

impl fmt::Display for Microversion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Why a request's version was refused.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Refused {
    /// Not of the form `MajorNum.MinorNum`: Cinder's 400, without a version header.
    Format(String),
    /// Outside 3.0–3.71: Cinder's 406, whose response still names the version asked for (as
    /// asked: a valid version has no leading zeros, so this is how Cinder prints it too).
    Unsupported(String),
}

impl Refused {
    /// Cinder's message.
    pub(super) fn message(&self) -> String {
        match self {
            Self::Format(text) => format!(
                "API Version String {text} is of invalid format. Must be of format MajorNum.MinorNum."
            ),
            Self::Unsupported(text) => format!(
                "Version {text} is not supported by the API. Minimum is {} and maximum is {}.",
                Microversion::MIN,
                Microversion::MAX
            ),
        }
    }
}

/// The version a `/v3` request asks for.
pub(super) fn negotiate(headers: &HeaderMap) -> Result<Microversion, Refused> {
    let folded = headers
        .get_all("openstack-api-version")
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()).trim().to_owned())
        .collect::<Vec<_>>()
        .join(",");
    let asked = folded.split(',').rev().find_map(|entry| {
        let (service, version) = entry.trim().split_once(char::is_whitespace)?;
        service
            .eq_ignore_ascii_case("volume")
            .then(|| version.trim())
    });
    match asked {
        None => Ok(Microversion::MIN),
        Some("latest") => Ok(Microversion::MAX),
        Some(text) => {
            let version =
                Microversion::parse(text).ok_or_else(|| Refused::Format(text.to_owned()))?;
            if (Microversion::MIN..=Microversion::MAX).contains(&version) {
                Ok(version)
            } else {
                Err(Refused::Unsupported(text.to_owned()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use axum::http::HeaderValue;

    use super::*;

    fn asked(values: &[&str]) -> Result<String, Refused> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                "openstack-api-version",
                HeaderValue::from_str(value).unwrap(),
            );
        }
        negotiate(&headers).map(|version| version.to_string())
    }

    #[test]
    fn headers_negotiate_like_microversion_parse() {
        let cases: [(&[&str], &str); 10] = [
            (&[], "3.0"),
            (&["volume 3.45"], "3.45"),
            (&["VOLUME   3.45 "], "3.45"),
            (&["volume latest"], "3.71"),
            (&["volume 3.71"], "3.71"),
            (&["compute 2.1"], "3.0"),
            (&["compute 2.1, volume 3.50"], "3.50"),
            (&["volume 3.50, volume 3.20"], "3.20"),
            (&["volume 3.50", "volume 3.30"], "3.30"),
            (&["volume 3.40, garbage, "], "3.40"),
        ];
        for (values, expected) in cases {
            assert_eq!(asked(values), Ok(expected.to_owned()), "{values:?}");
        }
    }

    #[test]
    fn bad_versions_are_refused_with_cinder_messages() {
        for text in [
            "abc", "3.05", "03.1", "3", "3.", ".5", "3.4.5", "-3.1", "3.1 beta", "Latest",
        ] {
            let refused = asked(&[&format!("volume {text}")]).unwrap_err();
            assert_eq!(refused, Refused::Format(text.to_owned()));
        }
        assert_eq!(
            Refused::Format("abc".to_owned()).message(),
            "API Version String abc is of invalid format. Must be of format MajorNum.MinorNum."
        );
        for text in ["3.72", "4.0", "2.9", "99999999999999999999999.1"] {
            let refused = asked(&[&format!("volume {text}")]).unwrap_err();
            assert_eq!(refused, Refused::Unsupported(text.to_owned()));
        }
        assert_eq!(
            asked(&["volume 3.72"]).unwrap_err().message(),
            "Version 3.72 is not supported by the API. Minimum is 3.0 and maximum is 3.71."
        );
    }
}

//! [`ApiVersion`]: which version of the block storage API a client speaks.

/// Which version of the block storage API to speak.
///
/// Huawei Cloud VBS serves `/v2`; upstream OpenStack Cinder serves only `/v3`.
///
/// ```
/// use vbs_backups::ApiVersion;
///
/// assert_eq!(ApiVersion::default(), ApiVersion::V2);
/// assert_eq!(ApiVersion::V3.path_segment(), "v3");
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[non_exhaustive]
pub enum ApiVersion {
    /// `/v2/{project_id}/…`: Huawei Cloud VBS and older Cinder deployments.
    #[default]
    #[serde(rename = "v2")]
    V2,
    /// `/v3/{project_id}/…`: current OpenStack Cinder.
    #[serde(rename = "v3")]
    V3,
}

impl ApiVersion {
    /// The path segment of this version (`v2` or `v3`).
    ///
    /// ```
    /// assert_eq!(vbs_backups::ApiVersion::V2.path_segment(), "v2");
    /// ```
    pub fn path_segment(self) -> &'static str {
        match self {
            Self::V2 => "v2",
            Self::V3 => "v3",
        }
    }

    /// The version a path segment names: `v2` and `v2.0`, `v3` and `v3.0`. The one
    /// reading of version segments, shared by endpoint parsing and catalog search, so
    /// a URL the catalog takes for v3 (`…/v3.0/{project}`) is v3 to the client too.
    pub(crate) fn from_path_segment(segment: &str) -> Option<Self> {
        match segment {
            "v2" | "v2.0" => Some(Self::V2),
            "v3" | "v3.0" => Some(Self::V3),
            _ => None,
        }
    }

    /// Whether a path segment has the shape of an API version (`v1`, `v3.0`, `v10.2`),
    /// whether or not this crate speaks it.
    #[cfg_attr(not(feature = "keystone"), allow(dead_code))]
    pub(crate) fn is_version_segment(segment: &str) -> bool {
        let Some(number) = segment.strip_prefix('v') else {
            return false;
        };
        let mut parts = number.splitn(2, '.');
        let digits = |part: Option<&str>| {
            part.is_some_and(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        };
        let major = parts.next();
        digits(major) && parts.next().is_none_or(|minor| digits(Some(minor)))
    }
}

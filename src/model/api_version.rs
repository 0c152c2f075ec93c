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

    pub(crate) fn from_path_segment(segment: &str) -> Option<Self> {
        match segment {
            "v2" => Some(Self::V2),
            "v3" => Some(Self::V3),
            _ => None,
        }
    }
}

//! Where Huawei Cloud's services are, by region: the service endpoints and IAM's.

use crate::error::{Error, Result};
use crate::model::ApiVersion;

/// IAM's global endpoint, for regions without one of their own.
pub(crate) const GLOBAL_IAM: &str = "https://iam.myhuaweicloud.com";

/// Regions with an IAM endpoint of their own: the table of huaweicloud-sdk-go-v3
/// `core/auth/internal/iam_endpoint.go` (the same as huaweicloud-sdk-python-v3
/// `huaweicloudsdkcore/auth/endpoint.py`), all `https://iam.{region}.myhuaweicloud.com`.
const REGIONAL_IAM: [&str; 27] = [
    "cn-north-2",
    "cn-north-4",
    "cn-north-1",
    "cn-east-2",
    "cn-east-3",
    "cn-south-1",
    "cn-south-2",
    "cn-southwest-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "af-south-1",
    "sa-brazil-1",
    "la-south-2",
    "na-mexico-1",
    "la-north-2",
    "cn-north-9",
    "eu-west-0",
    "my-kualalumpur-1",
    "ru-moscow-1",
    "me-east-1",
    "ap-southeast-4",
    "ae-ad-1",
    "cn-east-4",
    "cn-east-5",
    "tr-west-1",
    "cn-north-12",
];

/// Regions whose IAM is in another domain: huaweicloud-sdk-go-v3
/// `services/iam/v3/region/region.go` (the core table above leaves them to the global IAM).
const OTHER_DOMAIN_IAM: [(&str, &str); 1] =
    [("eu-west-101", "https://iam.eu-west-101.myhuaweicloud.eu")];

/// A Huawei Cloud service the crate lists: one that keeps volume backups (VBS, CBR), or
/// the volumes themselves (EVS).
///
/// ```
/// use vbs_backups::huawei::Service;
///
/// assert_eq!(Service::Vbs.endpoint("cn-north-4")?, "https://vbs.cn-north-4.myhuaweicloud.com");
/// assert_eq!(Service::Evs.endpoint("cn-north-4")?, "https://evs.cn-north-4.myhuaweicloud.com");
/// assert_eq!(Service::Cbr.endpoint("ap-southeast-1")?, "https://cbr.ap-southeast-1.myhuaweicloud.com");
/// assert_eq!(Service::Cbr.override_variable("cn-north-4"), "HUAWEICLOUD_SDK_REGION_CBR_CN_NORTH_4");
/// # Ok::<(), vbs_backups::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Service {
    /// Volume Backup Service, the OpenStack Cinder backup API (`/v2/{project_id}/backups`);
    /// deprecated by Huawei in favour of CBR.
    #[default]
    Vbs,
    /// Cloud Backup and Recovery, VBS's successor (`/v3/{project_id}/backups`).
    Cbr,
    /// Elastic Volume Service, the disks, through its OpenStack Cinder API
    /// (`/v3/{project_id}/volumes/detail`): what a coverage audit lists the volumes from.
    Evs,
}

impl Service {
    /// The service's name in host names and variables: `vbs`, `cbr`, `evs`.
    ///
    /// ```
    /// assert_eq!(vbs_backups::huawei::Service::Cbr.name(), "cbr");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Self::Vbs => "vbs",
            Self::Cbr => "cbr",
            Self::Evs => "evs",
        }
    }

    /// The service's public endpoint in `region`: `https://{service}.{region}.myhuaweicloud.com`.
    ///
    /// # Errors
    ///
    /// A [`Config`](crate::ErrorKind::Config) error when `region` is not a region name
    /// (lower-case letters, digits and `-`).
    ///
    /// ```
    /// use vbs_backups::huawei::Service;
    ///
    /// assert!(Service::Vbs.endpoint("cn-north-4").is_ok());
    /// assert!(Service::Vbs.endpoint("evil.example.com/").is_err());
    /// ```
    pub fn endpoint(self, region: &str) -> Result<String> {
        let region = check_region(region)?;
        Ok(format!(
            "https://{}.{region}.myhuaweicloud.com",
            self.name()
        ))
    }

    /// The variable Huawei's SDKs read an endpoint override from:
    /// `HUAWEICLOUD_SDK_REGION_{SERVICE}_{REGION_ID}`, the region upper-cased with `-` as
    /// `_` (huaweicloud-sdk-go-v3 `core/region/env_region.go`). Its value is an endpoint,
    /// or several separated by commas (the first is used).
    ///
    /// ```
    /// use vbs_backups::huawei::Service;
    ///
    /// assert_eq!(Service::Vbs.override_variable("ap-southeast-1"), "HUAWEICLOUD_SDK_REGION_VBS_AP_SOUTHEAST_1");
    /// ```
    pub fn override_variable(self, region: &str) -> String {
        format!(
            "HUAWEICLOUD_SDK_REGION_{}_{}",
            self.name().to_ascii_uppercase(),
            region.trim().replace('-', "_").to_ascii_uppercase()
        )
    }

    /// The API version segment of the service's project URL.
    pub(crate) fn api_version(self) -> ApiVersion {
        match self {
            Self::Vbs => ApiVersion::V2,
            Self::Cbr | Self::Evs => ApiVersion::V3,
        }
    }
}

/// IAM's endpoint for `region` as Huawei's SDKs choose it without configuration: the
/// region's own where the SDKs list one, else the global `https://iam.myhuaweicloud.com`.
///
/// ```
/// use vbs_backups::huawei::iam_endpoint;
///
/// assert_eq!(iam_endpoint("cn-north-4"), "https://iam.cn-north-4.myhuaweicloud.com");
/// assert_eq!(iam_endpoint("eu-west-101"), "https://iam.eu-west-101.myhuaweicloud.eu");
/// assert_eq!(iam_endpoint("cn-south-4"), "https://iam.myhuaweicloud.com");
/// ```
pub fn iam_endpoint(region: &str) -> String {
    let region = region.trim();
    if let Some((_, endpoint)) = OTHER_DOMAIN_IAM.iter().find(|(name, _)| *name == region) {
        return (*endpoint).to_owned();
    }
    if REGIONAL_IAM.contains(&region) {
        return format!("https://iam.{region}.myhuaweicloud.com");
    }
    GLOBAL_IAM.to_owned()
}

/// `region`, trimmed, if it can be part of a host name.
pub(crate) fn check_region(region: &str) -> Result<&str> {
    let region = region.trim();
    let valid = !region.is_empty()
        && region
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
    if valid {
        Ok(region)
    } else {
        Err(Error::config(format!(
            "`{region}` is not a Huawei Cloud region name such as cn-north-4 (lower-case letters, digits and -)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_region_has_its_own_iam() {
        for region in REGIONAL_IAM {
            assert_eq!(
                iam_endpoint(region),
                format!("https://iam.{region}.myhuaweicloud.com")
            );
        }
        assert_eq!(
            iam_endpoint(" cn-north-4 "),
            "https://iam.cn-north-4.myhuaweicloud.com"
        );
        assert_eq!(iam_endpoint("xx-nowhere-1"), GLOBAL_IAM);
    }

    #[test]
    fn endpoints_and_versions_per_service() {
        assert_eq!(
            Service::Vbs.endpoint(" cn-north-4").ok().as_deref(),
            Some("https://vbs.cn-north-4.myhuaweicloud.com")
        );
        assert_eq!(Service::Vbs.api_version(), ApiVersion::V2);
        assert_eq!(Service::Cbr.api_version(), ApiVersion::V3);
        assert_eq!(Service::Evs.api_version(), ApiVersion::V3);
        assert_eq!(
            Service::Evs.override_variable("ap-southeast-1"),
            "HUAWEICLOUD_SDK_REGION_EVS_AP_SOUTHEAST_1"
        );
        for bad in ["", "CN-NORTH-4", "a.b", "a/b", "a b"] {
            assert!(Service::Vbs.endpoint(bad).is_err(), "{bad}");
        }
    }
}

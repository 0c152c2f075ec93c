//! [`Volume`]: one entry of the Cinder-compatible `GET /{v2|v3}/{project_id}/volumes/detail`,
//! as OpenStack Cinder and Huawei EVS serve it.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};

use super::Link;
use super::detail::utc;
use super::lenient::lenient_links;

/// A volume (a disk) as the detail listing describes it.
///
/// The fields an inventory is usually read for are typed; timestamps are UTC (Cinder and
/// EVS send them without a zone). Every other field the server sends (`attachments`,
/// `bootable`, `encrypted`, `os-vol-tenant-attr:tenant_id`, EVS's `wwn`, newer
/// microversions' fields…) is kept in [`extra`](Self::extra), as sent, so nothing is lost
/// when the record is written out again.
///
/// ```
/// use vbs_backups::Volume;
///
/// let volume: Volume = serde_json::from_str(r#"{
///     "id": "6ba4a1a0-5f2e-4c1b-9d3e-0b7c2a1f4e58", "name": "data", "status": "in-use",
///     "size": 40, "availability_zone": "nova", "volume_type": "ssd",
///     "created_at": "2024-01-01T00:00:00.000000", "metadata": {"team": "db"},
///     "bootable": "false", "attachments": []
/// }"#)?;
/// assert_eq!(volume.status, "in-use");
/// assert_eq!(volume.size, Some(40));
/// assert_eq!(volume.metadata["team"], "db");
/// assert_eq!(volume.extra["bootable"], "false");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Volume {
    /// The volume id (a UUID).
    pub id: String,
    /// The volume name; `None` for unnamed volumes.
    #[serde(default)]
    pub name: Option<String>,
    /// The volume status as the server spells it: `available`, `in-use`, `creating`,
    /// `error`, `backing-up`, `deleting`… (an open set: kept verbatim).
    pub status: String,
    /// The size in GiB.
    #[serde(default)]
    pub size: Option<u64>,
    /// When the volume was created.
    #[serde(default, with = "utc")]
    pub created_at: Option<Timestamp>,
    /// When the volume was last updated.
    #[serde(default, with = "utc")]
    pub updated_at: Option<Timestamp>,
    /// The availability zone of the volume.
    #[serde(default)]
    pub availability_zone: Option<String>,
    /// The volume type's name (`SSD`, `GPSSD`, `__DEFAULT__`…).
    #[serde(default)]
    pub volume_type: Option<String>,
    /// The volume description.
    #[serde(default)]
    pub description: Option<String>,
    /// User metadata (what [`metadata`](crate::ListVolumes::metadata) filters on).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub metadata: BTreeMap<String, String>,
    /// The `self` and `bookmark` links of the volume (malformed entries are skipped).
    #[serde(default, deserialize_with = "lenient_links")]
    pub links: Vec<Link>,
    /// Every other field the server sent, as sent.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Volume {
    /// Makes a volume of this id, status and size, e.g. for tests of code that consumes a
    /// listing or of a coverage audit.
    ///
    /// ```
    /// let volume = vbs_backups::Volume::new("v1", "available", Some(10));
    /// assert_eq!(volume.id, "v1");
    /// assert_eq!(volume.name, None);
    /// ```
    pub fn new(id: impl Into<String>, status: impl Into<String>, size: Option<u64>) -> Self {
        Self {
            id: id.into(),
            name: None,
            status: status.into(),
            size,
            created_at: None,
            updated_at: None,
            availability_zone: None,
            volume_type: None,
            description: None,
            metadata: BTreeMap::new(),
            links: Vec::new(),
            extra: serde_json::Map::new(),
        }
    }
}

fn null_as_empty<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(Option::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cinder_volume_decodes_and_keeps_every_other_field() {
        let json = r#"{"id": "v", "name": null, "status": "available", "size": 1,
            "availability_zone": "nova", "created_at": "2024-01-01T20:50:00.000000",
            "updated_at": null, "volume_type": "__DEFAULT__", "description": null,
            "metadata": null, "links": [{"rel": "self", "href": "http://h/v3/p/volumes/v"}],
            "bootable": "false", "encrypted": false, "attachments": [],
            "os-vol-tenant-attr:tenant_id": "p", "multiattach": false}"#;
        let volume: Volume = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(volume.name, None);
        assert!(volume.metadata.is_empty());
        assert_eq!(volume.links.len(), 1);
        assert_eq!(volume.extra.len(), 5);
        assert_eq!(volume.extra["os-vol-tenant-attr:tenant_id"], "p");
        let written = serde_json::to_value(&volume).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(written["created_at"], "2024-01-01T20:50:00Z");
        assert_eq!(written["encrypted"], false);
        let again: Volume = serde_json::from_value(written).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again, volume);
    }

    #[test]
    fn a_volume_without_a_status_is_refused() {
        assert!(serde_json::from_str::<Volume>(r#"{"id": "v"}"#).is_err());
    }
}

//! [`BackupDetail`]: one entry of `GET /{v2|v3}/{project_id}/backups/detail`.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{BackupStatus, Link};

/// Everything the detail listing says about a backup.
///
/// The fields common to VBS and Cinder are typed; timestamps are UTC (Cinder sends
/// them without a zone). Every other field a server sends (newer microversions,
/// VBS's own such as `service_metadata`) is kept in [`extra`](Self::extra), so
/// nothing is lost when the record is written out again.
///
/// ```
/// use vbs_backups::{BackupDetail, BackupStatus};
///
/// let backup: BackupDetail = serde_json::from_str(r#"{
///     "id": "1d30b4ae-765a-5c4b-b790-481b0bdfc265", "name": "weekly", "status": "available",
///     "size": 10, "created_at": "2024-01-01T20:50:00.000000", "service_metadata": "{}"
/// }"#)?;
/// assert_eq!(backup.status, BackupStatus::Available);
/// assert_eq!(backup.created_at.map(|t| t.to_string()).as_deref(), Some("2024-01-01T20:50:00Z"));
/// assert_eq!(backup.extra["service_metadata"], "{}");
/// # Ok::<(), serde_json::Error>(())
/// ```
// `Deserialize` is written by hand (`detail_de.rs`): absent fields read as none (the
// id and the status are required), `null` metadata as empty, links leniently.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BackupDetail {
    /// The backup id.
    pub id: String,
    /// The backup name; `None` for unnamed backups.
    pub name: Option<String>,
    /// The backup status.
    pub status: BackupStatus,
    /// The size of the backed-up volume, in GiB.
    pub size: Option<u64>,
    /// How many objects the backup is stored as.
    pub object_count: Option<u64>,
    /// The volume (disk) the backup was taken of.
    pub volume_id: Option<String>,
    /// The snapshot the backup was taken from, if any.
    pub snapshot_id: Option<String>,
    /// The storage container holding the backup.
    pub container: Option<String>,
    /// The availability zone of the backup.
    pub availability_zone: Option<String>,
    /// The backup description.
    pub description: Option<String>,
    /// Why the backup failed, for backups in an error status.
    pub fail_reason: Option<String>,
    /// Whether the backup is incremental.
    pub is_incremental: Option<bool>,
    /// Whether incremental backups depend on this one.
    pub has_dependent_backups: Option<bool>,
    /// When the backup was created.
    #[serde(serialize_with = "utc::serialize")]
    pub created_at: Option<Timestamp>,
    /// When the backup was last updated.
    #[serde(serialize_with = "utc::serialize")]
    pub updated_at: Option<Timestamp>,
    /// The time of the data the backup holds (the snapshot's time for a snapshot backup).
    #[serde(serialize_with = "utc::serialize")]
    pub data_timestamp: Option<Timestamp>,
    /// User metadata (Cinder 3.43+).
    pub metadata: BTreeMap<String, String>,
    /// The user who created the backup (Cinder 3.56+).
    pub user_id: Option<String>,
    /// The project owning the backup (Cinder 3.18+, admin only).
    #[serde(
        rename = "os-backup-project-attr:project_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub project_id: Option<String>,
    /// The `self` and `bookmark` links of the backup.
    pub links: Vec<Link>,
    /// Every other field the server sent, as sent.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Timestamps as Cinder writes them (`2024-01-01T20:50:00.000000`, no zone: UTC)
/// or with a zone (`…Z`, `…+08:00`); written out as RFC 3339.
pub(super) mod utc {
    use super::*;

    pub(in crate::model) fn serialize<S: Serializer>(
        value: &Option<Timestamp>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(serializer)
    }

    pub(in crate::model) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Timestamp>, D::Error> {
        let Some(text) = Option::<String>::deserialize(deserializer)? else {
            return Ok(None);
        };
        parse(&text).map(Some).map_err(|err| {
            serde::de::Error::custom(format_args!("`{text}` is not a timestamp: {err}"))
        })
    }

    pub(in crate::model) fn parse(text: &str) -> Result<Timestamp, jiff::Error> {
        let text = text.trim();
        text.parse::<Timestamp>().or_else(|with_zone_error| {
            // No zone designator: Cinder's UTC.
            text.parse::<jiff::civil::DateTime>()
                .and_then(|naive| jiff::tz::Offset::UTC.to_timestamp(naive))
                .map_err(|_| with_zone_error)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_with_and_without_zone() {
        for (text, expected) in [
            ("2024-01-01T20:50:00.000000", "2024-01-01T20:50:00Z"),
            ("2024-01-01T20:50:00", "2024-01-01T20:50:00Z"),
            ("2024-01-01T20:50:00.5Z", "2024-01-01T20:50:00.5Z"),
            ("2024-01-02T04:50:00+08:00", "2024-01-01T20:50:00Z"),
        ] {
            assert_eq!(utc::parse(text).unwrap().to_string(), expected, "{text}");
        }
        assert!(utc::parse("yesterday").is_err());
    }

    #[test]
    fn a_cinder_detail_entry_decodes_and_keeps_unknown_fields() {
        let json = r#"{"id": "b", "status": "error_deleting", "size": 1, "object_count": 0,
            "availability_zone": "nova", "container": null, "created_at": "2024-01-01T20:50:00.000000",
            "updated_at": null, "name": null, "description": "d", "fail_reason": "boom",
            "volume_id": "v", "links": [], "is_incremental": false, "has_dependent_backups": false,
            "snapshot_id": null, "data_timestamp": "2024-01-01T20:50:00.000000",
            "metadata": null, "os-backup-project-attr:project_id": "p", "user_id": "u",
            "encryption_key_id": "k"}"#;
        let backup: BackupDetail = serde_json::from_str(json).unwrap();
        assert_eq!(backup.status, BackupStatus::ErrorDeleting);
        assert_eq!(backup.project_id.as_deref(), Some("p"));
        assert_eq!(backup.updated_at, None);
        assert!(backup.metadata.is_empty());
        assert_eq!(backup.extra.len(), 1);
        assert_eq!(backup.extra["encryption_key_id"], "k");
        let written = serde_json::to_value(&backup).unwrap();
        assert_eq!(written["created_at"], "2024-01-01T20:50:00Z");
        assert_eq!(written["encryption_key_id"], "k");
        assert_eq!(written["os-backup-project-attr:project_id"], "p");
    }

    #[test]
    fn a_bad_timestamp_is_an_error_naming_it() {
        let err = serde_json::from_str::<BackupDetail>(
            r#"{"id": "b", "status": "available", "created_at": "soon"}"#,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("`soon` is not a timestamp"),
            "{err}"
        );
    }
}

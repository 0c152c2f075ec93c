//! [`CbrBackup`]: one entry of Huawei CBR's `GET /v3/{project_id}/backups`, and its open
//! set of statuses, [`CbrBackupStatus`].
//!
//! The fields follow CBR's `BackupResp` as Huawei's SDKs declare it
//! (huaweicloud-sdk-go-v3 `services/cbr/v1/model/model_backup_resp.go`).

use std::fmt;

use jiff::Timestamp;
use serde::de::{self, Visitor};
use serde::{Deserializer, Serialize};

use super::detail::utc;
use super::status::open_status;

/// One backup of Huawei CBR (Cloud Backup and Recovery), as its backup list returns it.
///
/// The fields a listing is usually read for are typed; timestamps are UTC (CBR writes
/// them without a zone, `2020-02-05T10:38:34.209782`). Every other field CBR sends
/// (`extend_info`, `replication_records`, `checkpoint_id`, newer ones…) is kept in
/// [`extra`](Self::extra), as sent, so nothing is lost when the record is written out again.
///
/// ```
/// use vbs_backups::{CbrBackup, CbrBackupStatus};
///
/// let backup: CbrBackup = serde_json::from_str(r#"{
///     "id": "6df2b54c-dd62-4059-a07c-1b8f24f2725d", "name": "autobk_a61d",
///     "status": "available", "resource_id": "94eba8b2-acc9-4d82-badc-127144cc5526",
///     "resource_type": "OS::Cinder::Volume", "resource_name": "data-disk",
///     "vault_id": "3b5816b5-f29c-4172-9d9a-76c719a659ce", "image_type": "backup",
///     "created_at": "2020-02-05T10:38:34.209782", "expired_at": null,
///     "resource_size": 40, "provider_id": "d1603440-187d-4516-af25-121250c7cc97",
///     "extend_info": {"incremental": true}
/// }"#)?;
/// assert_eq!(backup.status, CbrBackupStatus::Available);
/// assert_eq!(backup.resource_size, Some(40));
/// assert_eq!(
///     backup.created_at.map(|t| t.to_string()).as_deref(),
///     Some("2020-02-05T10:38:34.209782Z")
/// );
/// assert_eq!(backup.extra["extend_info"]["incremental"], true);
/// # Ok::<(), serde_json::Error>(())
/// ```
// `Deserialize` is written by hand (`cbr_de.rs`): absent fields read as none (the id
// and the status are required), `resource_size` leniently.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CbrBackup {
    /// The backup id.
    pub id: String,
    /// The backup name (`None` if the server sends none or `null`).
    pub name: Option<String>,
    /// The backup status.
    pub status: CbrBackupStatus,
    /// The backed-up resource: a server or a disk id.
    pub resource_id: Option<String>,
    /// The kind of resource: `OS::Nova::Server`, `OS::Cinder::Volume`,
    /// `OS::Sfs::Turbo`, `OS::Workspace::DesktopV2`…
    pub resource_type: Option<String>,
    /// The name of the backed-up resource.
    pub resource_name: Option<String>,
    /// The availability zone of the backed-up resource.
    pub resource_az: Option<String>,
    /// The size of the backed-up resource, in GB. Older servers send it as a string;
    /// both read as a number.
    pub resource_size: Option<u64>,
    /// The vault (CBR's storage) holding the backup.
    pub vault_id: Option<String>,
    /// `backup`, or `replication` for a copy replicated from another region.
    pub image_type: Option<String>,
    /// The backup provider (the kind of backup: cloud server, cloud disk, SFS Turbo…).
    pub provider_id: Option<String>,
    /// The project owning the backup.
    pub project_id: Option<String>,
    /// The enterprise project of the backup (`0`: the default one).
    pub enterprise_project_id: Option<String>,
    /// The backup description.
    pub description: Option<String>,
    /// The backup this one is incremental from, if any.
    pub parent_id: Option<String>,
    /// When the backup was created.
    #[serde(serialize_with = "utc::serialize")]
    pub created_at: Option<Timestamp>,
    /// When the backup was last updated.
    #[serde(serialize_with = "utc::serialize")]
    pub updated_at: Option<Timestamp>,
    /// When the backup expires under its retention policy; `None` if it is kept.
    #[serde(serialize_with = "utc::serialize")]
    pub expired_at: Option<Timestamp>,
    /// Every other field the server sent, as sent.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// `resource_size` as a number, a numeric string (older CBR), or `null`.
pub(super) fn lenient_size<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    struct Size;

    impl<'de> Visitor<'de> for Size {
        type Value = Option<u64>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a size in GB, as a number or a string")
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
            Ok(Some(value))
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
            u64::try_from(value)
                .map(Some)
                .map_err(|_| E::custom(format_args!("a negative size: {value}")))
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
            let value = value.trim();
            if value.is_empty() {
                return Ok(None);
            }
            value
                .parse()
                .map(Some)
                .map_err(|_| E::custom(format_args!("`{value}` is not a size")))
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    }

    deserializer.deserialize_any(Size)
}

open_status! {
    /// The status of a CBR backup, as CBR spells it.
    ///
    /// The set is open: a value not listed here is kept in [`CbrBackupStatus::Unknown`],
    /// and can be filtered by too. Two statuses are equal when they spell the same value.
    ///
    /// ```
    /// use vbs_backups::CbrBackupStatus;
    ///
    /// assert_eq!("waiting_protect".parse::<CbrBackupStatus>(), Ok(CbrBackupStatus::WaitingProtect));
    /// assert_eq!(CbrBackupStatus::Protecting.as_str(), "protecting");
    /// let other = CbrBackupStatus::from("frozen");
    /// assert_eq!(other, CbrBackupStatus::Unknown("frozen".into()));
    /// assert_eq!(CbrBackupStatus::Unknown("error".into()), CbrBackupStatus::Error);
    /// ```
    pub enum CbrBackupStatus {
        /// `available`: the backup can be restored.
        Available => "available",
        /// `protecting`: the backup is being made.
        Protecting => "protecting",
        /// `deleting`: the backup is being deleted.
        Deleting => "deleting",
        /// `restoring`: the backup is being restored.
        Restoring => "restoring",
        /// `error`: the backup failed.
        Error => "error",
        /// `waiting_protect`: the backup is queued to be made.
        WaitingProtect => "waiting_protect",
        /// `waiting_delete`: the backup is queued to be deleted.
        WaitingDelete => "waiting_delete",
        /// `waiting_restore`: the backup is queued to be restored.
        WaitingRestore => "waiting_restore",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_including_unknown_ones() {
        for text in [
            "available",
            "protecting",
            "deleting",
            "restoring",
            "error",
            "waiting_protect",
            "waiting_delete",
            "waiting_restore",
            "frozen",
        ] {
            let status: CbrBackupStatus =
                serde_json::from_str(&format!("\"{text}\"")).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(status.as_str(), text);
            assert_eq!(status.to_string(), text);
            assert_eq!(
                serde_json::to_string(&status).ok(),
                Some(format!("\"{text}\""))
            );
        }
    }

    #[test]
    fn a_full_entry_decodes_and_keeps_every_other_field() {
        let json = r#"{"checkpoint_id": "c", "created_at": "2020-02-05T10:38:34.209782",
            "description": "", "expired_at": "2020-03-05T10:38:34+08:00",
            "extend_info": {"auto_trigger": true, "snapshot_id": "s"}, "id": "b",
            "image_type": "replication", "name": "n", "parent_id": null, "project_id": "p",
            "protected_at": "2020-02-05T10:38:34.209782", "resource_az": "az1",
            "resource_id": "r", "resource_name": "disk", "resource_size": "40",
            "resource_type": "OS::Cinder::Volume", "status": "waiting_restore",
            "updated_at": "2020-02-05T10:40:00.000000", "vault_id": "v",
            "replication_records": [], "enterprise_project_id": "0", "provider_id": "pr"}"#;
        let backup: CbrBackup = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(backup.status, CbrBackupStatus::WaitingRestore);
        assert_eq!(backup.resource_size, Some(40));
        assert_eq!(backup.parent_id, None);
        assert_eq!(
            backup.expired_at.map(|t| t.to_string()).as_deref(),
            Some("2020-03-05T02:38:34Z")
        );
        let mut kept: Vec<&str> = backup.extra.keys().map(String::as_str).collect();
        kept.sort_unstable();
        assert_eq!(
            kept,
            [
                "checkpoint_id",
                "extend_info",
                "protected_at",
                "replication_records"
            ]
        );
        let written = serde_json::to_value(&backup).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(written["created_at"], "2020-02-05T10:38:34.209782Z");
        assert_eq!(written["extend_info"]["snapshot_id"], "s");
        let again: CbrBackup = serde_json::from_value(written).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again, backup);
    }

    #[test]
    fn sizes_as_numbers_strings_or_nothing() {
        for (json, size) in [
            (
                r#"{"id": "b", "status": "error", "resource_size": 7}"#,
                Some(7),
            ),
            (
                r#"{"id": "b", "status": "error", "resource_size": " 7 "}"#,
                Some(7),
            ),
            (
                r#"{"id": "b", "status": "error", "resource_size": ""}"#,
                None,
            ),
            (
                r#"{"id": "b", "status": "error", "resource_size": null}"#,
                None,
            ),
            (r#"{"id": "b", "status": "error"}"#, None),
        ] {
            let backup: CbrBackup = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(backup.resource_size, size, "{json}");
        }
        assert!(
            serde_json::from_str::<CbrBackup>(
                r#"{"id": "b", "status": "error", "resource_size": "big"}"#
            )
            .is_err()
        );
    }
}

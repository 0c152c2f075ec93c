//! How a [`BackupDetail`] is decoded: by hand, to the letter of what
//! `#[derive(Deserialize)]` with `#[serde(flatten)] extra` did (the same fields,
//! defaults, duplicate and missing field errors, and every other field kept in
//! `extra`), without its cost: the derive reads each unknown field into serde's
//! internal buffer first and converts it afterwards, and classifies every key through a
//! visitor able to keep any of them. Here known keys are matched without allocating and
//! unknown values go straight into `extra`. A test holds this to the derive it replaced.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::entry_de::{EntryKey, Utc, deserialize_key, once};
use super::lenient::lenient_links;
use super::{BackupDetail, BackupStatus, Link};

impl<'de> Deserialize<'de> for BackupDetail {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(DetailVisitor)
    }
}

/// A key of a detail entry.
enum Key {
    Id,
    Name,
    Status,
    Size,
    ObjectCount,
    VolumeId,
    SnapshotId,
    Container,
    AvailabilityZone,
    Description,
    FailReason,
    IsIncremental,
    HasDependentBackups,
    CreatedAt,
    UpdatedAt,
    DataTimestamp,
    Metadata,
    UserId,
    ProjectId,
    Links,
    Other(String),
}

impl EntryKey for Key {
    fn other(name: String) -> Self {
        Self::Other(name)
    }

    fn known(name: &str) -> Option<Self> {
        Some(match name {
            "id" => Self::Id,
            "name" => Self::Name,
            "status" => Self::Status,
            "size" => Self::Size,
            "object_count" => Self::ObjectCount,
            "volume_id" => Self::VolumeId,
            "snapshot_id" => Self::SnapshotId,
            "container" => Self::Container,
            "availability_zone" => Self::AvailabilityZone,
            "description" => Self::Description,
            "fail_reason" => Self::FailReason,
            "is_incremental" => Self::IsIncremental,
            "has_dependent_backups" => Self::HasDependentBackups,
            "created_at" => Self::CreatedAt,
            "updated_at" => Self::UpdatedAt,
            "data_timestamp" => Self::DataTimestamp,
            "metadata" => Self::Metadata,
            "user_id" => Self::UserId,
            "os-backup-project-attr:project_id" => Self::ProjectId,
            "links" => Self::Links,
            _ => return None,
        })
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_key(deserializer)
    }
}

/// Links as [`lenient_links`] reads them.
struct Links(Vec<Link>);

impl<'de> Deserialize<'de> for Links {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        lenient_links(deserializer).map(Self)
    }
}

/// User metadata, `null` read as none.
struct Metadata(BTreeMap<String, String>);

impl<'de> Deserialize<'de> for Metadata {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self(Option::deserialize(deserializer)?.unwrap_or_default()))
    }
}

struct DetailVisitor;

impl<'de> Visitor<'de> for DetailVisitor {
    type Value = BackupDetail;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct BackupDetail")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<BackupDetail, A::Error> {
        let mut fields = Fields::default();
        while let Some(key) = map.next_key::<Key>()? {
            fields.read(key, &mut map)?;
        }
        fields.finish()
    }
}

/// The fields of an entry as they are read: each at most once.
#[derive(Default)]
struct Fields {
    id: Option<String>,
    name: Option<Option<String>>,
    status: Option<BackupStatus>,
    size: Option<Option<u64>>,
    object_count: Option<Option<u64>>,
    volume_id: Option<Option<String>>,
    snapshot_id: Option<Option<String>>,
    container: Option<Option<String>>,
    availability_zone: Option<Option<String>>,
    description: Option<Option<String>>,
    fail_reason: Option<Option<String>>,
    is_incremental: Option<Option<bool>>,
    has_dependent_backups: Option<Option<bool>>,
    created_at: Option<Utc>,
    updated_at: Option<Utc>,
    data_timestamp: Option<Utc>,
    metadata: Option<Metadata>,
    user_id: Option<Option<String>>,
    project_id: Option<Option<String>>,
    links: Option<Links>,
    extra: serde_json::Map<String, serde_json::Value>,
}

impl Fields {
    /// Reads the value of `key`.
    fn read<'de, A: MapAccess<'de>>(&mut self, key: Key, map: &mut A) -> Result<(), A::Error> {
        match key {
            Key::Id => once(map, &mut self.id, "id")?,
            Key::Name => once(map, &mut self.name, "name")?,
            Key::Status => once(map, &mut self.status, "status")?,
            Key::Size => once(map, &mut self.size, "size")?,
            Key::ObjectCount => once(map, &mut self.object_count, "object_count")?,
            Key::VolumeId => once(map, &mut self.volume_id, "volume_id")?,
            Key::SnapshotId => once(map, &mut self.snapshot_id, "snapshot_id")?,
            Key::Container => once(map, &mut self.container, "container")?,
            Key::AvailabilityZone => {
                once(map, &mut self.availability_zone, "availability_zone")?;
            }
            Key::Description => once(map, &mut self.description, "description")?,
            Key::FailReason => once(map, &mut self.fail_reason, "fail_reason")?,
            Key::IsIncremental => once(map, &mut self.is_incremental, "is_incremental")?,
            Key::HasDependentBackups => {
                once(
                    map,
                    &mut self.has_dependent_backups,
                    "has_dependent_backups",
                )?;
            }
            Key::CreatedAt => once(map, &mut self.created_at, "created_at")?,
            Key::UpdatedAt => once(map, &mut self.updated_at, "updated_at")?,
            Key::DataTimestamp => once(map, &mut self.data_timestamp, "data_timestamp")?,
            Key::Metadata => once(map, &mut self.metadata, "metadata")?,
            Key::UserId => once(map, &mut self.user_id, "user_id")?,
            Key::ProjectId => once(
                map,
                &mut self.project_id,
                "os-backup-project-attr:project_id",
            )?,
            Key::Links => once(map, &mut self.links, "links")?,
            Key::Other(key) => {
                let value = map.next_value()?;
                self.extra.insert(key, value);
            }
        }
        Ok(())
    }

    /// The entry read, or the first required field missing.
    fn finish<E: de::Error>(self) -> Result<BackupDetail, E> {
        let id = self.id.ok_or_else(|| de::Error::missing_field("id"))?;
        let status = self
            .status
            .ok_or_else(|| de::Error::missing_field("status"))?;
        Ok(BackupDetail {
            id,
            name: self.name.flatten(),
            status,
            size: self.size.flatten(),
            object_count: self.object_count.flatten(),
            volume_id: self.volume_id.flatten(),
            snapshot_id: self.snapshot_id.flatten(),
            container: self.container.flatten(),
            availability_zone: self.availability_zone.flatten(),
            description: self.description.flatten(),
            fail_reason: self.fail_reason.flatten(),
            is_incremental: self.is_incremental.flatten(),
            has_dependent_backups: self.has_dependent_backups.flatten(),
            created_at: self.created_at.and_then(|at| at.0),
            updated_at: self.updated_at.and_then(|at| at.0),
            data_timestamp: self.data_timestamp.and_then(|at| at.0),
            metadata: self.metadata.map(|m| m.0).unwrap_or_default(),
            user_id: self.user_id.flatten(),
            project_id: self.project_id.flatten(),
            links: self.links.map(|l| l.0).unwrap_or_default(),
            extra: self.extra,
        })
    }
}

/// The derive this decoder replaced, attribute for attribute (and by name: the name is
/// in its messages): what the tests and the differential fuzz target hold it to.
#[cfg(any(test, fuzzing))]
pub(crate) mod reference {
    use jiff::Timestamp;

    use super::*;
    use crate::model::detail::utc;

    #[derive(Deserialize)]
    pub(crate) struct BackupDetail {
        pub(crate) id: String,
        #[serde(default)]
        pub(crate) name: Option<String>,
        pub(crate) status: BackupStatus,
        #[serde(default)]
        pub(crate) size: Option<u64>,
        #[serde(default)]
        pub(crate) object_count: Option<u64>,
        #[serde(default)]
        pub(crate) volume_id: Option<String>,
        #[serde(default)]
        pub(crate) snapshot_id: Option<String>,
        #[serde(default)]
        pub(crate) container: Option<String>,
        #[serde(default)]
        pub(crate) availability_zone: Option<String>,
        #[serde(default)]
        pub(crate) description: Option<String>,
        #[serde(default)]
        pub(crate) fail_reason: Option<String>,
        #[serde(default)]
        pub(crate) is_incremental: Option<bool>,
        #[serde(default)]
        pub(crate) has_dependent_backups: Option<bool>,
        #[serde(default, deserialize_with = "utc::deserialize")]
        pub(crate) created_at: Option<Timestamp>,
        #[serde(default, deserialize_with = "utc::deserialize")]
        pub(crate) updated_at: Option<Timestamp>,
        #[serde(default, deserialize_with = "utc::deserialize")]
        pub(crate) data_timestamp: Option<Timestamp>,
        #[serde(default, deserialize_with = "null_as_empty")]
        pub(crate) metadata: BTreeMap<String, String>,
        #[serde(default)]
        pub(crate) user_id: Option<String>,
        #[serde(default, rename = "os-backup-project-attr:project_id")]
        pub(crate) project_id: Option<String>,
        #[serde(default, deserialize_with = "lenient_links")]
        pub(crate) links: Vec<Link>,
        #[serde(flatten)]
        pub(crate) extra: serde_json::Map<String, serde_json::Value>,
    }

    fn null_as_empty<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<String, String>, D::Error> {
        Ok(Option::deserialize(deserializer)?.unwrap_or_default())
    }

    impl From<BackupDetail> for super::BackupDetail {
        fn from(d: BackupDetail) -> Self {
            Self {
                id: d.id,
                name: d.name,
                status: d.status,
                size: d.size,
                object_count: d.object_count,
                volume_id: d.volume_id,
                snapshot_id: d.snapshot_id,
                container: d.container,
                availability_zone: d.availability_zone,
                description: d.description,
                fail_reason: d.fail_reason,
                is_incremental: d.is_incremental,
                has_dependent_backups: d.has_dependent_backups,
                created_at: d.created_at,
                updated_at: d.updated_at,
                data_timestamp: d.data_timestamp,
                metadata: d.metadata,
                user_id: d.user_id,
                project_id: d.project_id,
                links: d.links,
                extra: d.extra,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use reference::BackupDetail as Derived;

    /// Decodes `json` both ways: the same backup, or the same error message.
    fn same(json: &str) {
        let by_hand = serde_json::from_str::<BackupDetail>(json).map_err(|e| e.to_string());
        let derived = serde_json::from_str::<Derived>(json)
            .map(BackupDetail::from)
            .map_err(|e| e.to_string());
        assert_eq!(by_hand, derived, "{json}");
        let value = serde_json::from_str::<serde_json::Value>(json);
        if let Ok(value) = value {
            let by_hand =
                serde_json::from_value::<BackupDetail>(value.clone()).map_err(|e| e.to_string());
            let derived = serde_json::from_value::<Derived>(value)
                .map(BackupDetail::from)
                .map_err(|e| e.to_string());
            assert_eq!(by_hand, derived, "from a Value: {json}");
        }
    }

    #[test]
    fn decodes_exactly_as_the_derive_it_replaced() {
        for json in [
            r#"{"id": "b", "status": "available"}"#,
            r#"{"id": "b", "status": "error_deleting", "size": 1, "object_count": 0,
                "availability_zone": "nova", "container": null, "created_at": "2024-01-01T20:50:00.000000",
                "updated_at": null, "name": null, "description": "d", "fail_reason": "boom",
                "volume_id": "v", "links": [{"rel": "self", "href": "h"}, 7], "is_incremental": false,
                "has_dependent_backups": false, "snapshot_id": null,
                "data_timestamp": "2024-01-01T20:50:00.000000", "metadata": {"k": "v"},
                "os-backup-project-attr:project_id": "p", "user_id": "u",
                "encryption_key_id": "k", "nested": {"a": [1, -2, 3.5, 1e300, 18446744073709551616, null, true]}}"#,
            r#"{"id": "b", "status": "new-status", "x": 1, "x": 2, "extra": {"y": "\u00e9\n"}}"#,
            r#"{"status": "available"}"#,
            r#"{"id": "b"}"#,
            r#"{}"#,
            r#"{"id": "b", "id": "c", "status": "available"}"#,
            r#"{"id": "b", "status": "available", "status": "error"}"#,
            r#"{"id": "b", "status": "available", "os-backup-project-attr:project_id": "p", "os-backup-project-attr:project_id": "q"}"#,
            r#"{"id": "b", "status": "available", "links": null, "links": []}"#,
            r#"{"id": "b", "status": "available", "metadata": null}"#,
            r#"{"id": "b", "status": "available", "metadata": {"k": 1}}"#,
            r#"{"id": "b", "status": "available", "created_at": "soon"}"#,
            r#"{"id": "b", "status": "available", "created_at": 5}"#,
            r#"{"id": "b", "status": "available", "size": -1}"#,
            r#"{"id": "b", "status": "available", "size": "1"}"#,
            r#"{"id": 7, "status": "available"}"#,
            r#"{"id": "b", "status": null}"#,
            r#"{"id": "b", "status": "available", "is_incremental": "yes"}"#,
            r#"{"id": "b", "status": "available", "other": 1e999}"#,
            r#"{"id": "b", "status": "available", "other": [[[[]]]]}"#,
            r#"{"id": "b", "status": "available",}"#,
            r#"{"id": "b" "status": "available"}"#,
            r#"["b", "available"]"#,
            r#"7"#,
            r#"null"#,
            r#""b""#,
        ] {
            same(json);
        }
    }
}

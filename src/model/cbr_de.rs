//! How a [`CbrBackup`] is decoded: by hand, to the letter of what
//! `#[derive(Deserialize)]` with `#[serde(flatten)] extra` did, as `detail_de.rs` does
//! for [`BackupDetail`](super::BackupDetail). CBR's entries carry large unknown fields
//! (`extend_info`, `replication_records`): the derive read each into serde's internal
//! buffer and converted it afterwards, a quarter of a CBR page's decode. A test holds
//! this to the derive it replaced.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::cbr::lenient_size;
use super::entry_de::{EntryKey, Utc, deserialize_key, once};
use super::{CbrBackup, CbrBackupStatus};

impl<'de> Deserialize<'de> for CbrBackup {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(CbrVisitor)
    }
}

/// A key of a CBR entry.
enum Key {
    Id,
    Name,
    Status,
    ResourceId,
    ResourceType,
    ResourceName,
    ResourceAz,
    ResourceSize,
    VaultId,
    ImageType,
    ProviderId,
    ProjectId,
    EnterpriseProjectId,
    Description,
    ParentId,
    CreatedAt,
    UpdatedAt,
    ExpiredAt,
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
            "resource_id" => Self::ResourceId,
            "resource_type" => Self::ResourceType,
            "resource_name" => Self::ResourceName,
            "resource_az" => Self::ResourceAz,
            "resource_size" => Self::ResourceSize,
            "vault_id" => Self::VaultId,
            "image_type" => Self::ImageType,
            "provider_id" => Self::ProviderId,
            "project_id" => Self::ProjectId,
            "enterprise_project_id" => Self::EnterpriseProjectId,
            "description" => Self::Description,
            "parent_id" => Self::ParentId,
            "created_at" => Self::CreatedAt,
            "updated_at" => Self::UpdatedAt,
            "expired_at" => Self::ExpiredAt,
            _ => return None,
        })
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_key(deserializer)
    }
}

/// `resource_size` as [`lenient_size`] reads it.
struct Size(Option<u64>);

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        lenient_size(deserializer).map(Self)
    }
}

struct CbrVisitor;

impl<'de> Visitor<'de> for CbrVisitor {
    type Value = CbrBackup;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct CbrBackup")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CbrBackup, A::Error> {
        let mut id: Option<String> = None;
        let mut name: Option<Option<String>> = None;
        let mut status: Option<CbrBackupStatus> = None;
        let mut resource_id: Option<Option<String>> = None;
        let mut resource_type: Option<Option<String>> = None;
        let mut resource_name: Option<Option<String>> = None;
        let mut resource_az: Option<Option<String>> = None;
        let mut resource_size: Option<Size> = None;
        let mut vault_id: Option<Option<String>> = None;
        let mut image_type: Option<Option<String>> = None;
        let mut provider_id: Option<Option<String>> = None;
        let mut project_id: Option<Option<String>> = None;
        let mut enterprise_project_id: Option<Option<String>> = None;
        let mut description: Option<Option<String>> = None;
        let mut parent_id: Option<Option<String>> = None;
        let mut created_at: Option<Utc> = None;
        let mut updated_at: Option<Utc> = None;
        let mut expired_at: Option<Utc> = None;
        let mut extra = serde_json::Map::new();
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Id => once(&mut map, &mut id, "id")?,
                Key::Name => once(&mut map, &mut name, "name")?,
                Key::Status => once(&mut map, &mut status, "status")?,
                Key::ResourceId => once(&mut map, &mut resource_id, "resource_id")?,
                Key::ResourceType => once(&mut map, &mut resource_type, "resource_type")?,
                Key::ResourceName => once(&mut map, &mut resource_name, "resource_name")?,
                Key::ResourceAz => once(&mut map, &mut resource_az, "resource_az")?,
                Key::ResourceSize => once(&mut map, &mut resource_size, "resource_size")?,
                Key::VaultId => once(&mut map, &mut vault_id, "vault_id")?,
                Key::ImageType => once(&mut map, &mut image_type, "image_type")?,
                Key::ProviderId => once(&mut map, &mut provider_id, "provider_id")?,
                Key::ProjectId => once(&mut map, &mut project_id, "project_id")?,
                Key::EnterpriseProjectId => once(
                    &mut map,
                    &mut enterprise_project_id,
                    "enterprise_project_id",
                )?,
                Key::Description => once(&mut map, &mut description, "description")?,
                Key::ParentId => once(&mut map, &mut parent_id, "parent_id")?,
                Key::CreatedAt => once(&mut map, &mut created_at, "created_at")?,
                Key::UpdatedAt => once(&mut map, &mut updated_at, "updated_at")?,
                Key::ExpiredAt => once(&mut map, &mut expired_at, "expired_at")?,
                Key::Other(key) => {
                    let value = map.next_value()?;
                    extra.insert(key, value);
                }
            }
        }
        let id = id.ok_or_else(|| de::Error::missing_field("id"))?;
        let status = status.ok_or_else(|| de::Error::missing_field("status"))?;
        Ok(CbrBackup {
            id,
            name: name.flatten(),
            status,
            resource_id: resource_id.flatten(),
            resource_type: resource_type.flatten(),
            resource_name: resource_name.flatten(),
            resource_az: resource_az.flatten(),
            resource_size: resource_size.and_then(|value| value.0),
            vault_id: vault_id.flatten(),
            image_type: image_type.flatten(),
            provider_id: provider_id.flatten(),
            project_id: project_id.flatten(),
            enterprise_project_id: enterprise_project_id.flatten(),
            description: description.flatten(),
            parent_id: parent_id.flatten(),
            created_at: created_at.and_then(|value| value.0),
            updated_at: updated_at.and_then(|value| value.0),
            expired_at: expired_at.and_then(|value| value.0),
            extra,
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
    pub(crate) struct CbrBackup {
        pub(crate) id: String,
        #[serde(default)]
        pub(crate) name: Option<String>,
        pub(crate) status: CbrBackupStatus,
        #[serde(default)]
        pub(crate) resource_id: Option<String>,
        #[serde(default)]
        pub(crate) resource_type: Option<String>,
        #[serde(default)]
        pub(crate) resource_name: Option<String>,
        #[serde(default)]
        pub(crate) resource_az: Option<String>,
        #[serde(default, deserialize_with = "lenient_size")]
        pub(crate) resource_size: Option<u64>,
        #[serde(default)]
        pub(crate) vault_id: Option<String>,
        #[serde(default)]
        pub(crate) image_type: Option<String>,
        #[serde(default)]
        pub(crate) provider_id: Option<String>,
        #[serde(default)]
        pub(crate) project_id: Option<String>,
        #[serde(default)]
        pub(crate) enterprise_project_id: Option<String>,
        #[serde(default)]
        pub(crate) description: Option<String>,
        #[serde(default)]
        pub(crate) parent_id: Option<String>,
        #[serde(default, deserialize_with = "utc::deserialize")]
        pub(crate) created_at: Option<Timestamp>,
        #[serde(default, deserialize_with = "utc::deserialize")]
        pub(crate) updated_at: Option<Timestamp>,
        #[serde(default, deserialize_with = "utc::deserialize")]
        pub(crate) expired_at: Option<Timestamp>,
        #[serde(flatten)]
        pub(crate) extra: serde_json::Map<String, serde_json::Value>,
    }

    impl From<CbrBackup> for super::CbrBackup {
        fn from(d: CbrBackup) -> Self {
            Self {
                id: d.id,
                name: d.name,
                status: d.status,
                resource_id: d.resource_id,
                resource_type: d.resource_type,
                resource_name: d.resource_name,
                resource_az: d.resource_az,
                resource_size: d.resource_size,
                vault_id: d.vault_id,
                image_type: d.image_type,
                provider_id: d.provider_id,
                project_id: d.project_id,
                enterprise_project_id: d.enterprise_project_id,
                description: d.description,
                parent_id: d.parent_id,
                created_at: d.created_at,
                updated_at: d.updated_at,
                expired_at: d.expired_at,
                extra: d.extra,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `json` both ways: the same backup, or the same error message.
    fn same(json: &str) {
        let by_hand = serde_json::from_str::<CbrBackup>(json).map_err(|e| e.to_string());
        let derived = serde_json::from_str::<reference::CbrBackup>(json)
            .map(CbrBackup::from)
            .map_err(|e| e.to_string());
        assert_eq!(by_hand, derived, "{json}");
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(json) {
            let by_hand =
                serde_json::from_value::<CbrBackup>(value.clone()).map_err(|e| e.to_string());
            let derived = serde_json::from_value::<reference::CbrBackup>(value)
                .map(CbrBackup::from)
                .map_err(|e| e.to_string());
            assert_eq!(by_hand, derived, "from a Value: {json}");
        }
    }

    #[test]
    fn decodes_exactly_as_the_derive_it_replaced() {
        for json in [
            r#"{"id": "b", "status": "available"}"#,
            r#"{"id": "6df2", "name": "autobk", "status": "available", "resource_id": "94eb",
                "resource_type": "OS::Cinder::Volume", "resource_name": "data-disk", "resource_az": "az1",
                "vault_id": "3b58", "image_type": "backup", "created_at": "2020-02-05T10:38:34.209782",
                "updated_at": null, "expired_at": null, "resource_size": 40, "provider_id": "d160",
                "project_id": "p", "enterprise_project_id": "0", "description": "", "parent_id": null,
                "extend_info": {"incremental": true, "os_images_data": [{"id": "i"}], "size": 1e300},
                "replication_records": [], "checkpoint_id": "c"}"#,
            r#"{"id": "b", "status": "available", "resource_size": "40"}"#,
            r#"{"id": "b", "status": "available", "resource_size": "forty"}"#,
            r#"{"id": "b", "status": "available", "resource_size": -1}"#,
            r#"{"id": "b", "status": "available", "resource_size": 1.5}"#,
            r#"{"id": "b", "status": "available", "resource_size": [1]}"#,
            r#"{"id": "b", "status": "frozen", "x": 1, "x": 2}"#,
            r#"{"status": "available"}"#,
            r#"{"id": "b"}"#,
            r#"{}"#,
            r#"{"id": "b", "id": "c", "status": "available"}"#,
            r#"{"id": "b", "status": "available", "resource_size": 1, "resource_size": 2}"#,
            r#"{"id": "b", "status": "available", "expired_at": "never"}"#,
            r#"{"id": "b", "status": "available", "vault_id": 5}"#,
            r#"{"id": null, "status": "available"}"#,
            r#"{"id": "b", "status": "available", "other": 1e999}"#,
            r#"{"id": "b", "status": "available",}"#,
            r#"["b", "available"]"#,
            r#"7"#,
            r#"null"#,
        ] {
            same(json);
        }
    }
}

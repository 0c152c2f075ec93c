//! The volumes beside the backups: Cinder's `GET {prefix}/{v2|v3}/{project_id}/volumes/detail`
//! (also what Huawei EVS serves, behind the gateway), in every mode of the server.
//!
//! The volumes are fixed at start: three of the data set's four volumes (the fourth,
//! [`DELETED_VOLUME_ID`], was deleted, so its backups are orphans), then
//! [`FakeServerBuilder::volumes_without_backups`](crate::FakeServerBuilder::volumes_without_backups)
//! volumes no backup was ever taken of. Listing semantics follow Cinder's volume list: newest
//! first (`created_at`, then `id`, descending), `limit` capped at the server's `max_limit`,
//! `marker` an existing volume (404 `itemNotFound` otherwise) after which the page starts, a
//! `volumes_links` next link exactly when the page is full, and the filters `status`, `name`
//! (exact) and `metadata` (a dictionary literal, `{"key": "value"}`, matched by every pair).
//! Any other parameter gets the 400 Cinder gives a non-admin for a filter it does not allow.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use serde_json::{Value, json};
use url::form_urlencoded;

use super::dataset::{VOLUME_IDS, VOLUME_SIZES, VOLUME_ZONES, format_uuid, mix};
use super::render;

/// The data set's volume that no longer exists: its backups are orphans.
pub const DELETED_VOLUME_ID: &str = VOLUME_IDS[3];

/// The parameters the fake's volume list takes.
const KNOWN: [&str; 5] = ["limit", "marker", "status", "name", "metadata"];

/// How one of the data set's volumes that still exist looks: name, status, type, metadata.
type Kept = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// The data set's volumes that still exist, in the order of its volume ids.
const KEPT: [Kept; 3] = [
    ("db-data", "in-use", "SSD", &[("team", "db")]),
    (
        "web-root",
        "available",
        "SAS",
        &[("team", "web"), ("tier", "gold")],
    ),
    ("logs", "in-use", "SSD", &[]),
];

/// The statuses of the volumes without backups, in turn.
const SPARE_STATUSES: [&str; 4] = ["available", "in-use", "error", "creating"];

/// One volume a [`FakeServer`](crate::FakeServer) serves; see [`FakeServer::volumes`](crate::FakeServer::volumes).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FakeVolume {
    /// Lowercase UUID.
    pub id: String,
    /// The name; `None` is served as `null`.
    pub name: Option<String>,
    /// `available`, `in-use`, `error` or `creating`.
    pub status: &'static str,
    /// The size in GiB (for the data set's volumes, their backups' size).
    pub size: u64,
    /// `nova` or `az-2`.
    pub availability_zone: &'static str,
    /// `SSD` or `SAS`.
    pub volume_type: &'static str,
    /// Creation time without timezone, like Cinder's `2023-12-01T08:00:00.000000`: before
    /// every backup.
    pub created_at: String,
    /// User metadata.
    pub metadata: BTreeMap<String, String>,
}

/// The volumes of `project`, newest first: the data set's three that still exist, then
/// `spare` without backups, their ids from `seed`.
pub(super) fn generate(seed: u64, spare: usize) -> Vec<FakeVolume> {
    let kept = KEPT
        .iter()
        .enumerate()
        .map(|(index, (name, status, kind, metadata))| FakeVolume {
            id: VOLUME_IDS[index].to_owned(),
            name: Some((*name).to_owned()),
            status,
            size: VOLUME_SIZES[index],
            availability_zone: VOLUME_ZONES[index],
            volume_type: kind,
            created_at: format!("2023-12-0{}T08:00:00.000000", index + 1),
            metadata: metadata
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                .collect(),
        });
    let spares = (0..spare as u64).map(|index| {
        let high = mix(seed ^ 0x0051_DE00_0000_0000 ^ index);
        let id = format_uuid((u128::from(high) << 64) | u128::from(mix(high)));
        let minutes = index % 1440;
        let day = 1 + index / 1440 % 28;
        FakeVolume {
            id,
            name: (index % 3 != 2).then(|| format!("scratch-{index}")),
            status: SPARE_STATUSES[(index % 4) as usize],
            size: 1 + index % 50,
            availability_zone: if index % 2 == 0 { "nova" } else { "az-2" },
            volume_type: "SAS",
            created_at: format!(
                "2023-11-{day:02}T{:02}:{:02}:00.000000",
                minutes / 60,
                minutes % 60
            ),
            metadata: BTreeMap::new(),
        }
    });
    let mut volumes: Vec<FakeVolume> = kept.chain(spares).collect();
    volumes.sort_by(|a, b| (&b.created_at, &b.id).cmp(&(&a.created_at, &a.id)));
    volumes
}

/// Where the request came in: what links are built on.
#[derive(Debug)]
pub(super) struct Origin<'a> {
    /// `{scheme}://{host}{prefix}`.
    pub(super) base: &'a str,
    /// `v2` or `v3`.
    pub(super) version: &'a str,
    /// The project of the path.
    pub(super) project: &'a str,
}

/// Answers `GET …/volumes/detail` of the served project like Cinder.
pub(super) fn list(
    volumes: &[FakeVolume],
    served_project: &str,
    max_limit: usize,
    parts: &Parts,
    origin: &Origin<'_>,
) -> Response {
    if origin.project != served_project {
        return bad_request("Malformed request url");
    }
    let pairs: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|query| {
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let query = match VolumeQuery::parse(&pairs, max_limit) {
        Ok(query) => query,
        Err(message) => return bad_request(&message),
    };
    let start = match query.marker {
        None => 0,
        Some(marker) => match volumes.iter().position(|volume| volume.id == marker) {
            Some(index) => index + 1,
            None => {
                return render::fault(
                    StatusCode::NOT_FOUND,
                    "itemNotFound",
                    &format!("Volume {marker} could not be found."),
                );
            }
        },
    };
    let page: Vec<&FakeVolume> = volumes
        .iter()
        .skip(start)
        .filter(|volume| query.matches(volume))
        .take(query.limit)
        .collect();
    let mut body = serde_json::Map::new();
    let entries = page.iter().map(|volume| entry(volume, origin)).collect();
    body.insert("volumes".to_owned(), Value::Array(entries));
    if let Some(last) = page.last().filter(|_| page.len() == query.limit) {
        body.insert(
            "volumes_links".to_owned(),
            json!([{"rel": "next", "href": next_href(origin, &pairs, &last.id)}]),
        );
    }
    render::json(StatusCode::OK, &body)
}

fn bad_request(message: &str) -> Response {
    render::fault(StatusCode::BAD_REQUEST, "badRequest", message)
}

/// The request's parameters in order, `marker` replaced and last, as Cinder writes them.
fn next_href(origin: &Origin<'_>, pairs: &[(String, String)], marker: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs.iter().filter(|(key, _)| key != "marker") {
        query.append_pair(key, value);
    }
    query.append_pair("marker", marker);
    format!(
        "{}/{}/{}/volumes/detail?{}",
        origin.base,
        origin.version,
        origin.project,
        query.finish()
    )
}

/// A volume as Cinder 3.0's detail view shows it to a non-admin.
fn entry(volume: &FakeVolume, origin: &Origin<'_>) -> Value {
    let link = |rel: &str, href: String| json!({"rel": rel, "href": href});
    let path = format!("{}/volumes/{}", origin.project, volume.id);
    json!({
        "id": volume.id,
        "name": volume.name,
        "status": volume.status,
        "size": volume.size,
        "availability_zone": volume.availability_zone,
        "created_at": volume.created_at,
        "updated_at": volume.created_at,
        "volume_type": volume.volume_type,
        "description": null,
        "metadata": volume.metadata,
        "bootable": "false",
        "encrypted": false,
        "multiattach": false,
        "attachments": [],
        "snapshot_id": null,
        "source_volid": null,
        "consistencygroup_id": null,
        "replication_status": null,
        "user_id": "6f3b1d5e2a9c4b7d8e0f1a2b3c4d5e6f",
        "links": [
            link("self", format!("{}/{}/{path}", origin.base, origin.version)),
            link("bookmark", format!("{}/{path}", origin.base)),
        ],
    })
}

/// The validated query of a volume list request.
#[derive(Debug)]
struct VolumeQuery<'a> {
    limit: usize,
    marker: Option<&'a str>,
    status: Option<&'a str>,
    name: Option<&'a str>,
    metadata: BTreeMap<String, String>,
}

impl<'a> VolumeQuery<'a> {
    fn parse(pairs: &'a [(String, String)], max_limit: usize) -> Result<Self, String> {
        if let Some((key, _)) = pairs.iter().find(|(key, _)| !KNOWN.contains(&key.as_str())) {
            return Err(format!("Invalid filters {key} are found in query options."));
        }
        let last = |key: &str| {
            pairs
                .iter()
                .rev()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value.as_str())
        };
        let limit = match last("limit") {
            None => max_limit,
            Some(raw) => match raw.trim().parse::<i64>() {
                Err(_) => return Err("limit param must be an integer".to_owned()),
                Ok(limit) if limit < 0 => return Err("limit param must be positive".to_owned()),
                Ok(limit) => usize::try_from(limit).unwrap_or(usize::MAX).min(max_limit),
            },
        };
        let metadata = match last("metadata") {
            None => BTreeMap::new(),
            Some(raw) => {
                serde_json::from_str(raw).map_err(|_| format!("Invalid metadata filter: {raw}"))?
            }
        };
        Ok(Self {
            limit,
            marker: last("marker"),
            status: last("status"),
            name: last("name"),
            metadata,
        })
    }

    fn matches(&self, volume: &FakeVolume) -> bool {
        self.status.is_none_or(|status| status == volume.status)
            && self
                .name
                .is_none_or(|name| volume.name.as_deref() == Some(name))
            && self
                .metadata
                .iter()
                .all(|(key, value)| volume.metadata.get(key) == Some(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deleted_volume_is_not_listed_and_the_order_is_newest_first() {
        let volumes = generate(7, 10);
        assert_eq!(volumes.len(), 13);
        assert!(volumes.iter().all(|volume| volume.id != DELETED_VOLUME_ID));
        assert!(
            volumes
                .windows(2)
                .all(|pair| pair[0].created_at >= pair[1].created_at)
        );
        assert_eq!(volumes[0].id, VOLUME_IDS[2]);
    }
}

//! Huawei CBR mode: the data set served as CBR's backup list, `GET /v3/{project_id}/backups`
//! (see [`FakeServerBuilder::cbr`](crate::FakeServerBuilder::cbr)).
//!
//! CBR's semantics as Huawei's API reference and SDKs describe `ListBackups`: `limit` 1 to 1000
//! (anything else a 400), `marker` the id to start after, `offset` applied after it, filters
//! (`status` may repeat and matches any of its values), `{"backups": […], "count": N}` with `count`
//! the total of matches, and no links. Error bodies are CBR's shape,
//! `{"error_code": "BackupService.…", "error_msg": "…"}`; the codes are the fake's own.

use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};
use url::form_urlencoded;

use crate::backup::FakeBackup;
use crate::dataset::Dataset;
use crate::render;
use crate::sort::{self, View};

/// The largest `limit` CBR accepts.
pub const CBR_MAX_LIMIT: usize = 1000;

/// The vaults the fake's backups are kept in (each volume's backups in one of them).
pub const CBR_VAULTS: [&str; 2] = [
    "3b5816b5-f29c-4172-9d9a-76c719a659ce",
    "ad7627ae-5b0b-492e-b6bd-cd809b745c3b",
];

/// CBR's provider id of cloud disk backups.
const DISK_PROVIDER: &str = "d1603440-187d-4516-af25-121250c7cc97";

/// The parameters CBR's list takes; any other is refused.
const KNOWN: [&str; 23] = [
    "limit",
    "offset",
    "marker",
    "sort",
    "status",
    "vault_id",
    "resource_id",
    "resource_type",
    "resource_name",
    "resource_az",
    "name",
    "start_time",
    "end_time",
    "image_type",
    "own_type",
    "enterprise_project_id",
    "checkpoint_id",
    "dec",
    "member_status",
    "parent_id",
    "used_percent",
    "show_replication",
    "incremental",
];

/// A backup as the CBR mode serves it, derived from a [`FakeBackup`] of the data set; see
/// [`FakeServer::cbr_backups`](crate::FakeServer::cbr_backups).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FakeCbrBackup {
    /// The backup id (the data set's).
    pub id: String,
    /// The backup name (the data set's; `None` is served as `null`).
    pub name: Option<String>,
    /// CBR's status: `available`, `error`, `protecting` (a Cinder backup `creating`),
    /// `restoring`, `deleting`, or `waiting_restore` (for `error_restoring`).
    pub status: &'static str,
    /// The backed-up disk: the data set's `volume_id`.
    pub resource_id: String,
    /// Always `OS::Cinder::Volume`.
    pub resource_type: &'static str,
    /// One of [`CBR_VAULTS`], by disk.
    pub vault_id: &'static str,
    /// `backup`, or `replication` for about one backup in five.
    pub image_type: &'static str,
    /// Creation time, CBR's way: `2024-01-01T20:49:00.000000` (UTC, no zone).
    pub created_at: String,
    /// The disk size in GB.
    pub resource_size: u64,
}

impl FakeCbrBackup {
    pub(super) fn of(backup: &FakeBackup) -> Self {
        Self {
            id: backup.id.clone(),
            name: backup.name.clone(),
            status: status(backup),
            resource_id: backup.volume_id.clone(),
            resource_type: "OS::Cinder::Volume",
            vault_id: vault(backup),
            image_type: image_type(backup),
            created_at: backup.created_at.clone(),
            resource_size: backup.size,
        }
    }
}

/// CBR's status for a Cinder one.
fn status(backup: &FakeBackup) -> &'static str {
    match backup.status.as_str() {
        "available" => "available",
        "creating" => "protecting",
        "restoring" => "restoring",
        "deleting" => "deleting",
        "error_restoring" => "waiting_restore",
        _ => "error",
    }
}

fn vault(backup: &FakeBackup) -> &'static str {
    let last = backup.volume_id.bytes().last().unwrap_or_default();
    if last % 2 == 0 {
        CBR_VAULTS[0]
    } else {
        CBR_VAULTS[1]
    }
}

fn image_type(backup: &FakeBackup) -> &'static str {
    match backup.id.bytes().next() {
        Some(b'0'..=b'2') => "replication",
        _ => "backup",
    }
}

/// Cinder's naive UTC timestamps as instants.
fn instant(naive: &str) -> Option<Timestamp> {
    naive
        .parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|time| jiff::tz::Offset::UTC.to_timestamp(time).ok())
}

#[derive(Serialize)]
struct CbrError<'a> {
    error_code: &'a str,
    error_msg: &'a str,
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    render::json(
        status,
        &CbrError {
            error_code: code,
            error_msg: message,
        },
    )
}

/// A request CBR refuses as invalid, with the message of its 400.
#[derive(Debug)]
struct Invalid(String);

impl Invalid {
    fn response(&self) -> Response {
        error(StatusCode::BAD_REQUEST, "BackupService.0005", &self.0)
    }
}

fn invalid(message: &str) -> Invalid {
    Invalid(message.to_owned())
}

/// A CBR time filter: `2018-02-01T12:00:00Z` exactly.
fn time_filter(key: &str, value: &str) -> Result<Timestamp, Invalid> {
    let well_formed =
        value.len() == 20 && value.ends_with('Z') && value.as_bytes().get(10) == Some(&b'T');
    well_formed
        .then(|| value.parse::<Timestamp>().ok())
        .flatten()
        .ok_or_else(|| {
            invalid(&format!(
                "Invalid parameter: {key} must be %YYYY-%mm-%ddT%HH:%MM:%SSZ, not `{value}`"
            ))
        })
}

/// The validated query of a CBR list request.
#[derive(Debug, Default)]
struct CbrQuery<'a> {
    limit: usize,
    offset: usize,
    marker: Option<&'a str>,
    statuses: Vec<&'a str>,
    single: Vec<(&'a str, &'a str)>,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    /// `own_type=shared` or an enterprise project other than the default: nothing of this
    /// project's matches.
    nothing: bool,
    sort: Option<&'a str>,
}

impl<'a> CbrQuery<'a> {
    fn parse(pairs: &'a [(String, String)]) -> Result<Self, Invalid> {
        let mut query = Self {
            limit: CBR_MAX_LIMIT,
            ..Self::default()
        };
        for (index, (key, value)) in pairs.iter().enumerate() {
            let key = key.as_str();
            if !KNOWN.contains(&key) {
                return Err(invalid(&format!("Invalid parameter: unknown `{key}`")));
            }
            if key != "status" && pairs[..index].iter().any(|(earlier, _)| earlier == key) {
                return Err(invalid(&format!("Invalid parameter: `{key}` given twice")));
            }
            match key {
                "limit" => {
                    query.limit = value
                        .parse::<usize>()
                        .ok()
                        .filter(|limit| (1..=CBR_MAX_LIMIT).contains(limit))
                        .ok_or_else(|| {
                            invalid(&format!(
                                "Invalid parameter: limit must be an integer from 1 to \
                                 {CBR_MAX_LIMIT}, not `{value}`"
                            ))
                        })?;
                }
                "offset" => {
                    query.offset = value.parse().map_err(|_| {
                        invalid(&format!(
                            "Invalid parameter: offset must be a non-negative integer, not `{value}`"
                        ))
                    })?;
                }
                "marker" => query.marker = Some(value),
                "sort" => query.sort = Some(value),
                "status" => query.statuses.push(value),
                "start_time" => query.start = Some(time_filter(key, value)?),
                "end_time" => query.end = Some(time_filter(key, value)?),
                "own_type" => match value.as_str() {
                    "private" | "all_granted" => {}
                    "shared" => query.nothing = true,
                    _ => return Err(invalid(&format!("Invalid parameter: own_type `{value}`"))),
                },
                "image_type" if value != "backup" && value != "replication" => {
                    return Err(invalid(&format!("Invalid parameter: image_type `{value}`")));
                }
                "enterprise_project_id" => {
                    if value != "0" && value != "all_granted_eps" {
                        query.nothing = true;
                    }
                }
                _ => query.single.push((key, value)),
            }
        }
        Ok(query)
    }

    fn matches(&self, backup: &FakeBackup) -> bool {
        if self.nothing {
            return false;
        }
        if !self.statuses.is_empty() && !self.statuses.contains(&status(backup)) {
            return false;
        }
        if self.start.is_some() || self.end.is_some() {
            let Some(created) = instant(&backup.created_at) else {
                return false;
            };
            if self.start.is_some_and(|start| created < start)
                || self.end.is_some_and(|end| created > end)
            {
                return false;
            }
        }
        self.single.iter().all(|&(key, value)| match key {
            "vault_id" => vault(backup) == value,
            "resource_id" => backup.volume_id == value,
            "resource_type" => value == "OS::Cinder::Volume",
            "name" => backup.name.as_deref() == Some(value),
            "image_type" => image_type(backup) == value,
            "resource_az" => backup.availability_zone == value,
            // Accepted, and true of every backup here (no shares, no replication
            // records, no parents…), or not filters at all (`dec`).
            _ => true,
        })
    }
}

/// The sort terms of CBR's `sort` (`key[:asc|desc],…`, descending by default).
fn sort_terms(sort: &str) -> Result<Vec<sort::Term>, Invalid> {
    let mut cinder = Vec::new();
    for term in sort.split(',') {
        let (key, dir) = term.split_once(':').unwrap_or((term, "desc"));
        let key = match key.trim() {
            "protected_at" => "created_at",
            key @ ("created_at" | "updated_at" | "name" | "status" | "id") => key,
            other => return Err(invalid(&format!("Invalid parameter: sort key `{other}`"))),
        };
        cinder.push(format!("{key}:{}", dir.trim()));
    }
    sort::parse(&cinder.join(",")).map_err(|message| invalid(&message))
}

/// CBR's answer to `GET /v3/{project}/backups` (the request already admitted), from the
/// backups of `data`, of which the server serves `served_project`.
pub(super) fn list(data: &Dataset, served_project: &str, parts: &Parts, project: &str) -> Response {
    if project != served_project {
        return error(
            StatusCode::FORBIDDEN,
            "BackupService.0003",
            "The project id in the URL is not the token's",
        );
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
    let query = match CbrQuery::parse(&pairs) {
        Ok(query) => query,
        Err(invalid) => return invalid.response(),
    };
    let terms = match query.sort.map(sort_terms).transpose() {
        Ok(terms) => terms,
        Err(invalid) => return invalid.response(),
    };
    let order = terms
        .filter(|terms| !sort::is_default(terms))
        .map(|terms| data.order(&terms));
    let view = View::new(data.rows(), order.as_deref());
    let start = match query.marker {
        None => 0,
        Some(marker) => match data.position(marker).and_then(|index| view.position(index)) {
            Some(position) => position + 1,
            None => {
                return error(
                    StatusCode::NOT_FOUND,
                    "BackupService.6201",
                    &format!("Backup {marker} could not be found."),
                );
            }
        },
    };
    let count = data
        .rows()
        .iter()
        .filter(|row| query.matches(&row.backup))
        .count();
    let backups: Vec<Value> = view
        .starting_at(start)
        .filter(|row| query.matches(&row.backup))
        .skip(query.offset)
        .take(query.limit)
        .map(|row| render_backup(&row.backup, project))
        .collect();
    render::json(
        StatusCode::OK,
        &json!({ "backups": backups, "count": count }),
    )
}

/// One entry of CBR's list, every field of its `BackupResp`.
fn render_backup(backup: &FakeBackup, project: &str) -> Value {
    let cbr = FakeCbrBackup::of(backup);
    let expired_at = (cbr.status == "available" && !backup.is_incremental)
        .then(|| {
            backup
                .created_at
                .parse::<jiff::civil::DateTime>()
                .ok()
                .and_then(|time| time.checked_add(jiff::Span::new().days(30)).ok())
                .map(|time| time.strftime("%Y-%m-%dT%H:%M:%S%.6f").to_string())
        })
        .flatten();
    json!({
        "checkpoint_id": format!("c{}", backup.id.get(1..).unwrap_or_default()),
        "created_at": cbr.created_at,
        "description": backup.description.clone().unwrap_or_default(),
        "enterprise_project_id": "0",
        "expired_at": expired_at,
        "extend_info": {
            "auto_trigger": backup.name.as_deref().is_some_and(|name| name.starts_with("auto")),
            "bootable": false,
            "incremental": backup.is_incremental,
            "snapshot_id": backup.snapshot_id,
            "support_lld": true,
            "supported_restore_mode": "backup",
            "os_images_data": [],
            "contain_system_disk": false,
            "encrypted": backup.encryption_key_id.is_some(),
            "system_disk": false
        },
        "id": cbr.id,
        "image_type": cbr.image_type,
        "name": cbr.name,
        "parent_id": null,
        "project_id": project,
        "protected_at": backup.data_timestamp,
        "provider_id": DISK_PROVIDER,
        "replication_records": [],
        "resource_az": backup.availability_zone,
        "resource_id": cbr.resource_id,
        "resource_name": format!("disk-{}", backup.volume_id.get(..8).unwrap_or(&backup.volume_id)),
        "resource_size": cbr.resource_size,
        "resource_type": cbr.resource_type,
        "status": cbr.status,
        "updated_at": backup.updated_at,
        "vault_id": cbr.vault_id
    })
}

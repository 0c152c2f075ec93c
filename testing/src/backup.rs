//! [`FakeBackup`]: one backup the server holds, as a test sees it.

/// One backup held by a [`FakeServer`](crate::FakeServer): every field the summary and detail
/// listings show, generated from the seed.
///
/// The fields only the detail listing shows come from a generator of their own, so a seed
/// gives the same `id`, `name`, `status`, `volume_id` and `created_at` as before they existed.
/// The first few backups created cover every variant of each field (a `null` description, a
/// snapshot, an encryption key, …).
///
/// ```
/// use vbs_backups_testing::FakeServer;
///
/// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = FakeServer::builder().backups(4).start().await?;
/// let collection = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
/// let (_, page) = get(&server, &collection).await?;
/// let listed = page["backups"].as_array().cloned().unwrap_or_default();
/// for (summary, truth) in listed.iter().zip(server.backups()) {
///     assert_eq!(summary["id"], truth.id.as_str());
///     assert_eq!(summary["name"].as_str(), truth.name.as_deref());
///     assert_eq!(truth.created_at.len(), "2024-01-01T20:49:00.000000".len());
/// }
///
/// // The detail listing shows the rest.
/// let (_, page) = get(&server, &format!("{collection}/detail")).await?;
/// let details = page["backups"].as_array().cloned().unwrap_or_default();
/// for (detail, truth) in details.iter().zip(server.backups()) {
///     assert_eq!(detail["size"], truth.size);
///     assert_eq!(detail["description"].as_str(), truth.description.as_deref());
///     assert_eq!(detail["snapshot_id"].as_str(), truth.snapshot_id.as_deref());
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FakeBackup {
    /// Lowercase UUID, unique on the server.
    pub id: String,
    /// The backup name; `None` is served as JSON `null` and matches no `name` filter.
    pub name: Option<String>,
    /// One of `available`, `error`, `creating`, `restoring`, `deleting`, `error_restoring`.
    pub status: String,
    /// One of four fixed volume ids.
    pub volume_id: String,
    /// Creation time without timezone, like Cinder's `2024-01-01T20:49:00.000000`; backups come
    /// in pairs sharing a timestamp.
    pub created_at: String,
    /// The size in GiB: that of the volume, so one of four values.
    pub size: u64,
    /// How many objects the backup is stored as; 0 while `creating` and in `error`.
    pub object_count: u64,
    /// The volume's availability zone: `nova` or `az-2`.
    pub availability_zone: String,
    /// The object store container: `volumebackups`, or `None` while `creating`.
    pub container: Option<String>,
    /// Last update, like `created_at` but to the second, between one second and two hours
    /// after it.
    pub updated_at: String,
    /// The description: `None`, empty, plain, or with quotes, a backslash, a tab and non-ASCII
    /// characters (served escaped like Python's `json`).
    pub description: Option<String>,
    /// Why it failed, for backups in `error` and `error_restoring`; `None` for the others.
    pub fail_reason: Option<String>,
    /// Whether the backup is incremental.
    pub is_incremental: bool,
    /// Whether incremental backups depend on this one (never for an incremental one).
    pub has_dependent_backups: bool,
    /// The snapshot the backup was taken from, for about one backup in four.
    pub snapshot_id: Option<String>,
    /// The time of the data: the snapshot's time (before `created_at`) for a snapshot backup,
    /// `created_at` for the others.
    pub data_timestamp: String,
    /// User metadata, served from microversion 3.43: empty, or one or two entries.
    pub metadata: std::collections::BTreeMap<String, String>,
    /// The user who created the backup (one of three), served from microversion 3.56.
    pub user_id: String,
    /// The encryption key, for about one backup in four, served from microversion 3.64 and only
    /// when set.
    pub encryption_key_id: Option<String>,
    /// The project owning the backup: the served one
    /// ([`FakeServer::project_id`](crate::FakeServer::project_id)), or one of
    /// [`FakeServer::other_project_ids`](crate::FakeServer::other_project_ids). Served as
    /// `os-backup-project-attr:project_id` from microversion 3.18, to an admin caller only.
    pub project_id: String,
}

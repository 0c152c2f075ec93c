//! Huawei CBR's backups collection: `GET /v3/{project_id}/backups` on the CBR endpoint,
//! its filters, and the client's entry points to it.
//!
//! The filters and their formats follow CBR's `ListBackups` request as Huawei's SDKs and
//! API reference describe it (huaweicloud-sdk-go-v3
//! `services/cbr/v1/model/model_list_backups_request.go`): `status` may repeat
//! (`status=available&status=error`), times are `%Y-%m-%dT%H:%M:%SZ`, `sort` is
//! `key[:asc|desc],…`, `limit` is 1 to 1000.

use std::time::SystemTime;

use jiff::{SignedDuration, Timestamp};

use super::backups::timestamp;
use super::{Listing, SortDir};
use crate::client::Client;
use crate::cursor::Cursor;
use crate::error::Result;
use crate::model::{CbrBackup, CbrBackupStatus, Hooks, Listed, Pagination, WindowPlan};

/// The largest `limit` CBR accepts; it answers a larger one with a 400.
const CBR_MAX_LIMIT: u32 = 1000;

/// A listing of Huawei CBR backups: [`Listing`] with CBR's filters (`vault_id`,
/// `resource_id`, `resource_type`, `status`, `name`, `start_time` / `end_time`,
/// `image_type`, `own_type`, `enterprise_project_id`, `sort`).
///
/// CBR pages carry no next link: the walk goes on with `marker` = the last id and ends
/// on an empty page, or on a short page once the page's `count` is reached. The total
/// is known from the first page on ([`ItemStream::total`](crate::ItemStream::total)).
/// The page size is 1 to 1000 (CBR refuses larger pages, so a larger
/// [`page_size`](Listing::page_size) is the stream's first item, as an error).
///
/// ```no_run
/// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
/// use futures::StreamExt;
/// use vbs_backups::CbrBackupStatus;
///
/// let mut backups = client
///     .cbr_backups()
///     .vault_id("3b5816b5-f29c-4172-9d9a-76c719a659ce")
///     .status(CbrBackupStatus::Available)
///     .status(CbrBackupStatus::Error)
///     .page_size(500)
///     .stream();
/// while let Some(backup) = backups.next().await {
///     let backup = backup?;
///     println!("{} {} {:?}", backup.id, backup.status, backup.resource_name);
/// }
/// # Ok(()) }
/// ```
pub type ListCbrBackups = Listing<CbrBackup>;

impl Listed for CbrBackup {
    const COLLECTION: &'static str = "backups";
    const ITEMS_KEY: &'static str = "backups";
    const PAGINATION: Pagination = Pagination::LastIdUntilEmpty;
    const CURSOR_NAME: &'static str = "cbr/backups";
    const MAX_PAGE_SIZE: Option<u32> = Some(CBR_MAX_LIMIT);

    fn marker(&self) -> &str {
        &self.id
    }
}

/// CBR documents no order a walk could find its place by, so its walks remember ids
/// only (`ORDERED_BY_CREATION` stays false).
impl Hooks for CbrBackup {
    const CREATED_AT: bool = true;

    fn created_at(&self) -> Option<Timestamp> {
        self.created_at
    }

    /// CBR filters by time itself, but to the second and with `end_time` inclusive: it is
    /// asked for the whole seconds around the window, and the walk drops the rest.
    fn window_plan(
        _filters: &[(String, String)],
        created_after: Option<Timestamp>,
        created_before: Option<Timestamp>,
    ) -> WindowPlan {
        let mut params = Vec::new();
        if let Some(after) = created_after {
            params.push(("start_time".to_owned(), cbr_time(after)));
        }
        if let Some(before) = created_before {
            params.push(("end_time".to_owned(), cbr_time(ceil_to_second(before))));
        }
        WindowPlan::Server(params)
    }
}

/// `time`, or the next whole second if it falls between two.
fn ceil_to_second(time: Timestamp) -> Timestamp {
    if time.subsec_nanosecond() == 0 {
        return time;
    }
    time.checked_add(SignedDuration::from_secs(1))
        .unwrap_or(time)
}

impl Client {
    /// Starts a listing of this project's Huawei CBR backups. The client's endpoint
    /// must be CBR's (`https://cbr.{region}.myhuaweicloud.com`, API `v3`): see
    /// `HuaweiConfig::service(Service::Cbr)` (feature `huawei`).
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
    /// use futures::TryStreamExt;
    ///
    /// let all: Vec<vbs_backups::CbrBackup> = client.cbr_backups().stream().try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn cbr_backups(&self) -> ListCbrBackups {
        Listing::new(self.clone())
    }

    /// Continues a walk of CBR backups from a [`Cursor`]: the listing it returns yields
    /// every backup the original walk had not delivered, exactly once, in order.
    ///
    /// Fails with [`ErrorKind::Config`](crate::ErrorKind::Config) when the cursor
    /// belongs to another project, API version or collection (a VBS / Cinder walk
    /// resumes with [`resume`](Self::resume)), or was written by a newer version of
    /// this crate.
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client, saved: &str) -> Result<(), Box<dyn std::error::Error>> {
    /// use futures::TryStreamExt;
    ///
    /// let cursor: vbs_backups::Cursor = saved.parse()?;
    /// let rest: Vec<_> = client.resume_cbr(cursor)?.stream().try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn resume_cbr(&self, cursor: Cursor) -> Result<ListCbrBackups> {
        Listing::resume(self, cursor)
    }
}

/// CBR's time filters: UTC, to the second (the fraction dropped), `2018-02-01T12:00:00Z`.
fn cbr_time(time: Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Listing<CbrBackup> {
    /// Only backups in this vault.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.cbr_backups().vault_id("3b5816b5-f29c-4172-9d9a-76c719a659ce"); }
    /// ```
    pub fn vault_id(self, vault_id: impl Into<String>) -> Self {
        self.set_filter("vault_id", vault_id)
    }

    /// Only backups of this resource (a server or a disk id).
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.cbr_backups().resource_id("94eba8b2-acc9-4d82-badc-127144cc5526"); }
    /// ```
    pub fn resource_id(self, resource_id: impl Into<String>) -> Self {
        self.set_filter("resource_id", resource_id)
    }

    /// Only backups of this kind of resource: `OS::Cinder::Volume` (disks),
    /// `OS::Nova::Server` (servers), `OS::Sfs::Turbo`, `OS::Workspace::DesktopV2`…
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.cbr_backups().resource_type("OS::Cinder::Volume"); }
    /// ```
    pub fn resource_type(self, resource_type: impl Into<String>) -> Self {
        self.set_filter("resource_type", resource_type)
    }

    /// Only backups in this status; called again, in any of the statuses given
    /// (sent as `status=available&status=error`, as CBR takes them).
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) {
    /// use vbs_backups::CbrBackupStatus;
    ///
    /// let failed_or_stuck = client
    ///     .cbr_backups()
    ///     .status(CbrBackupStatus::Error)
    ///     .status("waiting_delete");
    /// # }
    /// ```
    pub fn status(self, status: impl Into<CbrBackupStatus>) -> Self {
        self.add_filter("status", status.into().as_str())
    }

    /// Only backups with this name.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.cbr_backups().name("autobk_a61d"); }
    /// ```
    pub fn name(self, name: impl Into<String>) -> Self {
        self.set_filter("name", name)
    }

    /// Only backups made at or after this time (sent as CBR writes times,
    /// `2018-02-01T12:00:00Z`: UTC, whole seconds).
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) -> Result<(), jiff::Error> {
    /// let q = client.cbr_backups().start_time("2024-05-01T00:00:00Z".parse()?);
    /// # Ok(()) }
    /// ```
    pub fn start_time(self, time: Timestamp) -> Self {
        self.set_filter("start_time", cbr_time(time))
    }

    /// Only backups made at or before this time (sent like
    /// [`start_time`](Self::start_time)): CBR's own bound, which takes in the second it
    /// names. For a window that splits backups without overlap, use
    /// [`created_before`](Self::created_before) / [`created_after`](Self::created_after).
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) -> Result<(), jiff::Error> {
    /// let q = client.cbr_backups().end_time("2024-06-01T00:00:00Z".parse()?);
    /// # Ok(()) }
    /// ```
    pub fn end_time(self, time: Timestamp) -> Self {
        self.set_filter("end_time", cbr_time(time))
    }

    /// Only backups created strictly before `time`, as
    /// [`ListBackups::created_before`](crate::ListBackups::created_before): the window is
    /// half-open, so `created_before(t)` and `created_after(t)` split the backups in two
    /// without gap or overlap. CBR is sent the `end_time` of the second at or after
    /// `time` (its bound is inclusive and whole seconds), and the walk drops backups at
    /// or after `time`; it replaces an [`end_time`](Self::end_time) of the caller's. A
    /// backup without a creation time is in no window.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) {
    /// use std::time::{Duration, SystemTime};
    ///
    /// let cutoff = SystemTime::now() - Duration::from_secs(60 * 86_400);
    /// let old = client.cbr_backups().created_before(cutoff);
    /// # }
    /// ```
    pub fn created_before(mut self, time: SystemTime) -> Self {
        self.window.created_before = Some(timestamp(time));
        self
    }

    /// Only backups created at or after `time` (see
    /// [`created_before`](Self::created_before)). CBR is sent the `start_time` of the
    /// second `time` falls in, and the walk drops backups before `time`; it replaces a
    /// [`start_time`](Self::start_time) of the caller's.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) {
    /// use std::time::{Duration, SystemTime};
    ///
    /// let last_day = client.cbr_backups().created_after(SystemTime::now() - Duration::from_secs(86_400));
    /// # }
    /// ```
    pub fn created_after(mut self, time: SystemTime) -> Self {
        self.window.created_after = Some(timestamp(time));
        self
    }

    /// Only backups of this type: `backup`, or `replication` (copies replicated from
    /// another region).
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.cbr_backups().image_type("replication"); }
    /// ```
    pub fn image_type(self, image_type: impl Into<String>) -> Self {
        self.set_filter("image_type", image_type)
    }

    /// Whose backups: `private` (CBR's default, the project's own), `shared` (shared
    /// with it), or `all_granted` (both).
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.cbr_backups().own_type("all_granted"); }
    /// ```
    pub fn own_type(self, own_type: impl Into<String>) -> Self {
        self.set_filter("own_type", own_type)
    }

    /// Only backups of this enterprise project (`0` is the default one;
    /// `all_granted_eps`: every enterprise project the user may see).
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.cbr_backups().enterprise_project_id("all_granted_eps"); }
    /// ```
    pub fn enterprise_project_id(self, id: impl Into<String>) -> Self {
        self.set_filter("enterprise_project_id", id)
    }

    /// Sorts by `key` in direction `dir`; later calls add tie-breakers (sent as CBR's
    /// `sort=key:dir,key:dir`). Without it CBR's default applies.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) {
    /// use vbs_backups::{CbrSortKey, SortDir};
    ///
    /// let oldest_first = client
    ///     .cbr_backups()
    ///     .sort(CbrSortKey::CreatedAt, SortDir::Asc)
    ///     .sort(CbrSortKey::Id, SortDir::Asc);
    /// # }
    /// ```
    pub fn sort(self, key: CbrSortKey, dir: SortDir) -> Self {
        self.sort_term(key.as_str(), dir)
    }
}

/// What CBR can sort backups by (its `sort` keys).
///
/// ```
/// use vbs_backups::CbrSortKey;
///
/// assert_ne!(CbrSortKey::CreatedAt, CbrSortKey::ProtectedAt);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CbrSortKey {
    /// Creation time.
    CreatedAt,
    /// Last update time.
    UpdatedAt,
    /// Backup name.
    Name,
    /// Status.
    Status,
    /// The time of the data the backup holds.
    ProtectedAt,
    /// Backup id.
    Id,
}

impl CbrSortKey {
    fn as_str(self) -> &'static str {
        match self {
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
            Self::Name => "name",
            Self::Status => "status",
            Self::ProtectedAt => "protected_at",
            Self::Id => "id",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_sent_as_cbr_writes_them() {
        let time: Timestamp = "2024-05-01T08:09:10.987654+08:00"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cbr_time(time), "2024-05-01T00:09:10Z");
    }

    #[test]
    fn a_window_asks_cbr_for_the_whole_seconds_around_it() {
        let at = |text: &str| text.parse::<Timestamp>().unwrap_or_else(|e| panic!("{e}"));
        let plan = CbrBackup::window_plan(
            &[],
            Some(at("2024-05-01T00:00:10.5Z")),
            Some(at("2024-05-01T00:00:20.5Z")),
        );
        let params = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        assert_eq!(
            plan,
            WindowPlan::Server(params(&[
                ("start_time", "2024-05-01T00:00:10Z"),
                ("end_time", "2024-05-01T00:00:21Z"),
            ]))
        );
        let plan = CbrBackup::window_plan(&[], None, Some(at("2024-05-01T00:00:20Z")));
        assert_eq!(
            plan,
            WindowPlan::Server(params(&[("end_time", "2024-05-01T00:00:20Z")]))
        );
    }
}

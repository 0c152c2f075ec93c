//! The VBS / Cinder backups collection: `GET /{v2|v3}/{project_id}/backups` and
//! `…/backups/detail`, their filters, and the client's entry points to them.

use std::time::SystemTime;

use jiff::Timestamp;

use super::{Listing, SortDir};
use crate::client::Client;
use crate::cursor::Cursor;
use crate::error::{Error, Result};
use crate::model::{
    BackupDetail, BackupStatus, BackupSummary, Hooks, Listed, Pagination, StopBound, WindowPlan,
};

/// A listing of backups: [`Listing`] with the backup filters (`name`, `status`,
/// `volume_id`, `sort`, `with_count`). `T` is [`BackupSummary`] (`/backups`) or, after
/// [`detail`](Listing::detail), [`BackupDetail`] (`/backups/detail`).
///
/// ```no_run
/// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
/// use futures::StreamExt;
/// use vbs_backups::BackupStatus;
///
/// let mut backups = client
///     .backups()
///     .status(BackupStatus::Available)
///     .volume_id("7d7c6fbe-d7ee-4b4d-8bae-bdd08b5604bb")
///     .page_size(500)
///     .stream();
/// while let Some(backup) = backups.next().await {
///     let backup = backup?;
///     println!("{} {:?}", backup.id, backup.name);
/// }
/// # Ok(()) }
/// ```
pub type ListBackups<T = BackupSummary> = Listing<T>;

/// The items of the VBS / Cinder backup listings: [`BackupSummary`] and [`BackupDetail`].
/// Sealed.
///
/// ```
/// fn is_backup_listing<T: vbs_backups::VolumeBackup>() {}
/// is_backup_listing::<vbs_backups::BackupDetail>();
/// ```
pub trait VolumeBackup: Listed {}

/// The two views of one collection: the same items key, links, filters and window
/// plan, at two paths; only the detail view carries `created_at`.
macro_rules! backups_collection {
    ($item:ty, $path:literal, $created_at:expr) => {
        impl VolumeBackup for $item {}

        impl Listed for $item {
            const COLLECTION: &'static str = $path;
            const ITEMS_KEY: &'static str = "backups";
            const PAGINATION: Pagination = Pagination::NextLink;

            fn marker(&self) -> &str {
                &self.id
            }
        }

        impl Hooks for $item {
            const CREATED_AT: bool = $created_at;
            const ORDERED_BY_CREATION: bool = $created_at;

            fn microversion_needed(filters: &[(String, String)]) -> Option<(u32, u32)> {
                spans_projects(filters).then_some(PROJECT_ATTRIBUTE)
            }

            fn unsendable(
                filters: &[(String, String)],
                microversion: Option<(u32, u32)>,
            ) -> Option<&'static str> {
                with_count_refusal(filters, microversion)
                    .or_else(|| all_projects_refusal(filters, microversion, $created_at))
            }

            fn ignored_filter(&self, filters: &[(String, String)]) -> Option<Error> {
                <$item as ProjectOf>::ignored_filter(self, filters)
            }

            fn created_at(&self) -> Option<Timestamp> {
                <$item as CreatedAt>::created_at(self)
            }

            fn window_plan(
                filters: &[(String, String)],
                created_after: Option<Timestamp>,
                created_before: Option<Timestamp>,
            ) -> WindowPlan {
                window_plan(filters, created_after.is_some(), created_before.is_some())
            }
        }
    };
}

backups_collection!(BackupSummary, "backups", false);
backups_collection!(BackupDetail, "backups/detail", true);

/// The creation time of a backup, where its view has one.
trait CreatedAt {
    fn created_at(&self) -> Option<Timestamp>;
}

impl CreatedAt for BackupSummary {
    fn created_at(&self) -> Option<Timestamp> {
        None
    }
}

impl CreatedAt for BackupDetail {
    fn created_at(&self) -> Option<Timestamp> {
        self.created_at
    }
}

/// The project a backup belongs to, where its view says (the detail view, to admins, from
/// microversion 3.18).
trait ProjectOf {
    fn ignored_filter(&self, filters: &[(String, String)]) -> Option<Error>;
}

impl ProjectOf for BackupSummary {
    fn ignored_filter(&self, _filters: &[(String, String)]) -> Option<Error> {
        // Refused before any request (`all_projects_refusal`).
        None
    }
}

impl ProjectOf for BackupDetail {
    /// An admin's whole-cloud listing at 3.18 or later gives every backup its project: a
    /// backup without one means the caller is not an admin and Cinder listed the
    /// caller's own project instead (it ignores `all_tenants` for non-admins, silently).
    fn ignored_filter(&self, filters: &[(String, String)]) -> Option<Error> {
        let value = |key: &str| {
            filters
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        value(ALL_TENANTS)?;
        let Some(project) = self.project_id.as_deref() else {
            return Some(ignored_all_tenants(&self.id));
        };
        match value(PROJECT_ID) {
            Some(wanted) if wanted != project => Some(
                Error::config(format!(
                    "the server ignored the project_id filter: backup `{}` belongs to project \
                     `{project}`, not `{wanted}`",
                    self.id
                ))
                .with_hint(Some(ADMIN_HINT.to_owned())),
            ),
            _ => None,
        }
    }
}

/// What to do when Cinder answered a whole-cloud listing with the caller's own project.
const ADMIN_HINT: &str = "listing every project (all_projects, project_id; the command's \
    --all-projects, --project-filter) needs credentials with Cinder's admin role; without \
    them, list your own project";

/// The error for a backup that came without its project in a whole-cloud listing.
fn ignored_all_tenants(id: &str) -> Error {
    Error::config(format!(
        "the server ignored all_tenants: backup `{id}` came without its project \
         (os-backup-project-attr:project_id), which Cinder shows only to admins, so the caller \
         is not an admin and the server listed the caller's own project instead of the whole \
         cloud"
    ))
    .with_hint(Some(ADMIN_HINT.to_owned()))
}

const ALL_TENANTS: &str = "all_tenants";
const PROJECT_ID: &str = "project_id";

/// A whole-cloud listing is refused where the walk could not tell it from the caller's
/// own project: on the summary view, which never says a backup's project, and below
/// microversion 3.18, where the detail view does not either.
fn all_projects_refusal(
    filters: &[(String, String)],
    microversion: Option<(u32, u32)>,
    detail: bool,
) -> Option<&'static str> {
    if !spans_projects(filters) {
        return None;
    }
    if !detail {
        return Some(
            "all_projects / project_id need the detail listing (detail()): Cinder silently \
             ignores all_tenants for a non-admin caller, and only the detail view says which \
             project a backup belongs to, which is how the walk tells the whole cloud from the \
             caller's own project",
        );
    }
    microversion
        .is_none_or(|version| version < PROJECT_ATTRIBUTE)
        .then_some(
            "all_projects / project_id need microversion 3.18 or later of the v3 API (asked for \
         by itself when the client names no microversion): below it no backup says its \
         project, so a non-admin caller's own project (Cinder silently ignores all_tenants \
         for non-admins) could not be told from the whole cloud",
        )
}

/// The microversion from which Cinder says each backup's project (to admins):
/// `os-backup-project-attr:project_id`.
const PROJECT_ATTRIBUTE: (u32, u32) = (3, 18);

/// Whether the filters reach beyond the client's project.
fn spans_projects(filters: &[(String, String)]) -> bool {
    filters
        .iter()
        .any(|(key, _)| key == ALL_TENANTS || key == PROJECT_ID)
}

/// Cinder / VBS cannot filter backups by time, but can sort by `created_at`: with no
/// sort of the caller's, walk towards a bound and stop there (newest first when there
/// is a lower bound, oldest first for an upper bound alone). A caller's sort that starts
/// with `created_at` in the direction of a bound still stops there; any other sort
/// makes the window a plain filter.
fn window_plan(filters: &[(String, String)], after: bool, before: bool) -> WindowPlan {
    let sorts = |key: &str| filters.iter().any(|(k, _)| k == key);
    if sorts("sort_key") || sorts("sort_dir") {
        return WindowPlan::Filter;
    }
    let Some((_, sort)) = filters.iter().find(|(k, _)| k == "sort") else {
        let (dir, bound) = if after {
            ("desc", StopBound::After)
        } else {
            ("asc", StopBound::Before)
        };
        return WindowPlan::StopAt {
            add: vec![("sort".to_owned(), format!("created_at:{dir}"))],
            bound,
        };
    };
    let first = sort.split(',').next().unwrap_or_default();
    let (key, dir) = first.split_once(':').unwrap_or((first, "desc"));
    if key.trim() != "created_at" {
        return WindowPlan::Filter;
    }
    match dir.trim() {
        // Cinder's default direction is `desc`.
        "desc" | "" if after => WindowPlan::StopAt {
            add: Vec::new(),
            bound: StopBound::After,
        },
        "asc" if before => WindowPlan::StopAt {
            add: Vec::new(),
            bound: StopBound::Before,
        },
        _ => WindowPlan::Filter,
    }
}

/// Older servers take `with_count` for a filter and silently return nothing.
fn with_count_refusal(
    filters: &[(String, String)],
    microversion: Option<(u32, u32)>,
) -> Option<&'static str> {
    let counts = filters.iter().any(|(key, _)| key == "with_count");
    (counts && microversion.is_none_or(|version| version < (3, 45))).then_some(
        "with_count needs microversion 3.45 or later (ClientBuilder::microversion): \
         older servers take it for a filter and return nothing",
    )
}

impl Client {
    /// Starts a listing of this project's backups.
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
    /// use futures::TryStreamExt;
    ///
    /// let all: Vec<_> = client.backups().stream().try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn backups(&self) -> ListBackups {
        Listing::new(self.clone())
    }

    /// Continues a walk of `/backups` from a [`Cursor`]: the listing it returns
    /// yields every item the original walk had not delivered, exactly once, in order.
    ///
    /// Fails with [`ErrorKind::Config`](crate::ErrorKind::Config) when the cursor
    /// belongs to another project, API version or collection (a detail walk resumes
    /// with [`resume_detail`](Self::resume_detail)), or was written by a newer
    /// version of this crate.
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client, saved: &str) -> Result<(), Box<dyn std::error::Error>> {
    /// use futures::TryStreamExt;
    ///
    /// let cursor: vbs_backups::Cursor = serde_json::from_str(saved)?;
    /// let rest: Vec<_> = client.resume(cursor)?.prefetch(2).stream().try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn resume(&self, cursor: Cursor) -> Result<ListBackups> {
        Listing::resume(self, cursor)
    }

    /// Continues a walk of `/backups/detail` from a [`Cursor`]; see [`resume`](Self::resume).
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client, cursor: vbs_backups::Cursor) -> vbs_backups::Result<()> {
    /// let rest = client.resume_detail(cursor)?.stream();
    /// # Ok(()) }
    /// ```
    pub fn resume_detail(&self, cursor: Cursor) -> Result<ListBackups<BackupDetail>> {
        Listing::resume(self, cursor)
    }
}

impl<T: VolumeBackup> Listing<T> {
    /// Only backups with exactly this name (the server's comparison; case-sensitive on Cinder).
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.backups().name("weekly"); }
    /// ```
    pub fn name(self, name: impl Into<String>) -> Self {
        self.set_filter("name", name)
    }

    /// Only backups in this status. An unknown status matches nothing, as on the server.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) {
    /// let q = client.backups().status(vbs_backups::BackupStatus::Error);
    /// let q = client.backups().status("error_deleting");
    /// # }
    /// ```
    pub fn status(self, status: impl Into<BackupStatus>) -> Self {
        self.set_filter("status", status.into().as_str())
    }

    /// Only backups of this volume (disk).
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.backups().volume_id("7d7c6fbe-d7ee-4b4d-8bae-bdd08b5604bb"); }
    /// ```
    pub fn volume_id(self, volume_id: impl Into<String>) -> Self {
        self.set_filter("volume_id", volume_id)
    }

    /// Sorts by `key` in direction `dir`; later calls add tie-breakers. Without it
    /// the server's default applies (Cinder: newest first, then id descending).
    ///
    /// Marker pagination is exact under any sort while the backups stay as they are.
    /// When they change during the walk, only orders by [`SortKey::CreatedAt`] and
    /// [`SortKey::Id`] keep it exact: a backup being deleted is saved with status
    /// `deleting`, which moves it under `Status`, `UpdatedAt`, `Size`, `Name`… So if the
    /// marker vanishes (its backup was deleted), the walk steps back to an earlier item
    /// only when every sort term up to the first `Id` term is `CreatedAt` or `Id` (or
    /// there is no sort); under any other order it ends with a
    /// [`Pagination`](crate::ErrorKind::Pagination) error and a cursor instead of
    /// guessing.
    ///
    /// With an age window ([`created_before`](Listing::created_before) /
    /// [`created_after`](Listing::created_after)), a sort of your own makes the window a
    /// plain filter over every page, unless it starts with `CreatedAt` in the direction
    /// of a bound.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) {
    /// use vbs_backups::{SortDir, SortKey};
    ///
    /// let q = client.backups().sort(SortKey::Size, SortDir::Desc).sort(SortKey::Id, SortDir::Asc);
    /// # }
    /// ```
    pub fn sort(self, key: SortKey, dir: SortDir) -> Self {
        self.sort_term(key.as_str(), dir)
    }

    /// Asks the server to count all matching backups (Cinder `with_count`, which
    /// needs microversion 3.45 or later: see
    /// [`ClientBuilder::microversion`](crate::ClientBuilder::microversion)). The total
    /// is then known from the first page on: [`ItemStream::total`](crate::ItemStream::total),
    /// [`Page::count`](crate::Page::count).
    ///
    /// Refused (the first item of the stream is an error) on a client without a
    /// microversion of 3.45 or later, because older servers treat `with_count` as a
    /// filter and silently return nothing.
    ///
    /// ```no_run
    /// # async fn run() -> vbs_backups::Result<()> {
    /// use futures::StreamExt;
    ///
    /// let client = vbs_backups::Client::builder()
    ///     .endpoint("http://127.0.0.1:8776/v3/p")
    ///     .microversion("3.45")
    ///     .build()?;
    /// let mut backups = client.backups().with_count().stream();
    /// let _first = backups.next().await;
    /// println!("{:?} backups in all", backups.total());
    /// # Ok(()) }
    /// ```
    pub fn with_count(self) -> Self {
        self.set_filter("with_count", "true")
    }
}

/// Whole-cloud listings, for administrators: every project's backups
/// ([`all_projects`](Self::all_projects), Cinder's `all_tenants=1`), or one other
/// project's ([`project_id`](Self::project_id)). Each backup then says its project in
/// [`BackupDetail::project_id`] (`os-backup-project-attr:project_id`).
///
/// Cinder **silently ignores** `all_tenants` and `project_id` for a caller who is not an
/// admin, and lists the caller's own project instead. The walk never passes that off as
/// the whole cloud:
///
/// - It needs the detail listing (these setters exist only there) and microversion 3.18
///   or later, where Cinder gives each backup its project, to admins only. A v3 client
///   that names no microversion asks for 3.18 on these walks by itself (its other
///   listings are unchanged); one that names a lower
///   [`microversion`](crate::ClientBuilder::microversion), or speaks v2, gets an
///   [`ErrorKind::Config`](crate::ErrorKind::Config) error as the first item of the
///   stream, and nothing is sent.
/// - A backup without its project on the page means the caller is not an admin: the
///   walk ends with an [`ErrorKind::Config`](crate::ErrorKind::Config) error ("the server
///   ignored all_tenants: …") before handing out any item of that page. So does a
///   backup of another project than [`project_id`](Self::project_id) asked for.
/// - A non-admin whose own project holds no backups gets an empty page, which says
///   nothing either way: the walk ends with no items and no error.
/// - The check relies on Cinder's default policy, which shows a backup's project to
///   admins only (`backup:backup_project_attribute`). Where a deployment shows it to
///   members too, a non-admin's [`all_projects`](Self::all_projects) walk yields its
///   own project's backups, each with its project, and cannot be told from an admin's
///   walk of a cloud whose backups all live in the admin's project. A
///   [`project_id`](Self::project_id) walk of another project is still caught.
///
/// ```no_run
/// # async fn run() -> vbs_backups::Result<()> {
/// use futures::StreamExt;
///
/// let client = vbs_backups::Client::builder()
///     .endpoint("http://127.0.0.1:8776/v3/admin-project")
///     .build()?;
/// // Sent with `OpenStack-API-Version: volume 3.18`.
/// let mut backups = client.backups().detail().all_projects().stream();
/// while let Some(backup) = backups.next().await {
///     let backup = backup?;
///     println!("{} {:?}", backup.id, backup.project_id);
/// }
/// # Ok(()) }
/// ```
impl Listing<BackupDetail> {
    /// Every project's backups (`all_tenants=1`); admins only, see above.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) { let q = client.backups().detail().all_projects(); }
    /// ```
    pub fn all_projects(self) -> Self {
        self.set_filter(ALL_TENANTS, "1")
    }

    /// Only this project's backups (`all_tenants=1&project_id=…`: Cinder looks at the
    /// filter only in a whole-cloud listing); admins only, see above.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) {
    /// let q = client.backups().detail().project_id("ffffffffffffffffffffffffffffffff");
    /// # }
    /// ```
    pub fn project_id(self, project_id: impl Into<String>) -> Self {
        self.set_filter(ALL_TENANTS, "1")
            .set_filter(PROJECT_ID, project_id)
    }

    /// Whether the listing reaches beyond the client's project
    /// ([`all_projects`](Self::all_projects) or [`project_id`](Self::project_id), also
    /// when resumed from a [`Cursor`]).
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) {
    /// assert!(client.backups().detail().all_projects().spans_projects());
    /// assert!(!client.backups().detail().spans_projects());
    /// # }
    /// ```
    pub fn spans_projects(&self) -> bool {
        self.filter(ALL_TENANTS).is_some()
    }
}

impl Listing<BackupSummary> {
    /// The same listing from `/backups/detail`: every field of each backup
    /// ([`BackupDetail`]), same filters, same pagination.
    ///
    /// ```no_run
    /// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
    /// use futures::TryStreamExt;
    ///
    /// let failed: Vec<vbs_backups::BackupDetail> =
    ///     client.backups().status("error").detail().stream().try_collect().await?;
    /// for backup in &failed {
    ///     println!("{} {:?}", backup.id, backup.fail_reason);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn detail(self) -> ListBackups<BackupDetail> {
        self.retype()
    }
}

/// Age windows. They need each backup's `created_at`, which only the detail listing
/// carries, so they are set on [`detail`](Listing::detail) listings: a window on a
/// summary listing does not compile.
///
/// Only backups created at or after [`created_after`](Self::created_after) and
/// strictly before [`created_before`](Self::created_before) are yielded: the window is
/// half-open, so `created_before(t)` and `created_after(t)` split a project's backups
/// in two without gap or overlap. A backup without a creation time is in no window.
///
/// Cinder and VBS cannot filter backups by time, so the client checks every backup;
/// what it can save is requests:
///
/// - **No sort of yours** (the usual case): the walk goes in `created_at` order towards
///   the bound and **ends at the first backup past it**, without requesting more pages:
///   `sort=created_at:asc` (oldest first) for `created_before` alone, and
///   `sort=created_at:desc` (newest first) for `created_after`, alone or with
///   `created_before` (then backups newer than `created_before` are read and dropped
///   until the walk reaches the window). A 60-day cleanup of a project with a year of
///   backups fetches about 60 days of pages.
/// - **Your own [`sort`](Self::sort)**: the window is a plain filter, every page is
///   read; except that a sort starting with `created_at` in the direction of a bound
///   (`CreatedAt, Asc` with `created_before`, `CreatedAt, Desc` with `created_after`)
///   still ends at that bound.
/// - **A server that ignores `sort`** (some older v2 deployments): the walk notices that
///   the backups do not come in `created_at` order and ends with a
///   [`Pagination`](crate::ErrorKind::Pagination) error rather than stop at the wrong
///   place; add a sort of your own (say `.sort(SortKey::Id, SortDir::Desc)`) to read
///   every page with the window as a plain filter.
///
/// The window is part of the walk's [`Cursor`]: a resumed walk keeps it, and stops
/// where the original would have. `max_items` counts the backups yielded, those in
/// the window.
///
/// ```no_run
/// # async fn run(client: vbs_backups::Client) -> vbs_backups::Result<()> {
/// use std::time::{Duration, SystemTime};
/// use futures::StreamExt;
///
/// // Backups older than 60 days, oldest first: the walk ends at the first newer one.
/// let cutoff = SystemTime::now() - Duration::from_secs(60 * 86_400);
/// let mut old = client.backups().detail().created_before(cutoff).stream();
/// while let Some(backup) = old.next().await {
///     let backup = backup?;
///     println!("{} {:?}", backup.id, backup.created_at);
/// }
/// # Ok(()) }
/// ```
impl Listing<BackupDetail> {
    /// Only backups created strictly before `time`. See the window rules above.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) {
    /// use std::time::{Duration, SystemTime};
    ///
    /// let cutoff = SystemTime::now() - Duration::from_secs(60 * 86_400);
    /// let q = client.backups().detail().created_before(cutoff);
    /// # }
    /// ```
    pub fn created_before(mut self, time: SystemTime) -> Self {
        self.window.created_before = Some(timestamp(time));
        self
    }

    /// Only backups created at or after `time`. See the window rules above.
    ///
    /// ```no_run
    /// # fn f(client: vbs_backups::Client) {
    /// use std::time::{Duration, SystemTime};
    ///
    /// let last_day = SystemTime::now() - Duration::from_secs(86_400);
    /// let q = client.backups().detail().created_after(last_day);
    /// # }
    /// ```
    pub fn created_after(mut self, time: SystemTime) -> Self {
        self.window.created_after = Some(timestamp(time));
        self
    }
}

/// `time` as a timestamp; one beyond the range of years -9999 to 9999 (far beyond any
/// backup) is clamped to its end, which selects the same backups.
pub(super) fn timestamp(time: SystemTime) -> Timestamp {
    Timestamp::try_from(time).unwrap_or(if time > SystemTime::UNIX_EPOCH {
        Timestamp::MAX
    } else {
        Timestamp::MIN
    })
}

/// What to sort a listing by (Cinder's `sort=key:dir`).
///
/// ```no_run
/// # fn f(client: vbs_backups::Client) {
/// use vbs_backups::{SortDir, SortKey};
///
/// let oldest_first = client.backups().sort(SortKey::CreatedAt, SortDir::Asc);
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SortKey {
    /// Creation time (the server's default, descending).
    CreatedAt,
    /// Last update time.
    UpdatedAt,
    /// Backup id.
    Id,
    /// Backup name; sent as `display_name`, which every Cinder version accepts
    /// (`name` needs microversion 3.37).
    Name,
    /// Status.
    Status,
    /// Size.
    Size,
    /// Volume id.
    VolumeId,
}

impl SortKey {
    fn as_str(self) -> &'static str {
        match self {
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
            Self::Id => "id",
            Self::Name => "display_name",
            Self::Status => "status",
            Self::Size => "size",
            Self::VolumeId => "volume_id",
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn filters(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn one_clean_line(message: &str) {
        assert!(
            !message.contains("  ") && !message.contains('\n'),
            "not one clean line: {message:?}"
        );
    }

    #[test]
    fn every_refusal_and_ignored_filter_reads_as_one_clean_line() {
        let tenants = filters(&[(ALL_TENANTS, "1")]);
        let refusals = [
            all_projects_refusal(&tenants, Some((3, 18)), false),
            all_projects_refusal(&tenants, Some((3, 17)), true),
            all_projects_refusal(&tenants, None, true),
            with_count_refusal(&filters(&[("with_count", "true")]), None),
        ];
        for refusal in refusals {
            one_clean_line(refusal.unwrap());
        }
        let backup = |project: Option<&str>| -> BackupDetail {
            let mut json = serde_json::json!({"id": "b1", "status": "available"});
            if let Some(project) = project {
                json["os-backup-project-attr:project_id"] = project.into();
            }
            serde_json::from_value(json).unwrap()
        };
        let errors = [
            Hooks::ignored_filter(&backup(None), &tenants),
            Hooks::ignored_filter(
                &backup(Some("p2")),
                &filters(&[(ALL_TENANTS, "1"), (PROJECT_ID, "p1")]),
            ),
        ];
        for err in errors {
            let err = err.unwrap();
            one_clean_line(&err.to_string());
            // A hint about admin credentials, not about settings.
            assert!(err.hint().unwrap().contains("admin role"), "{err}");
        }
    }
}

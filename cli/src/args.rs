//! The command line: `vbs-backups [global flags] list|demo|completions|man [flags]`.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::RangedU64ValueParser;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::when::When;

/// The most backups `demo` will generate: enough to watch a long walk, little enough to
/// keep the fake server's memory in bounds.
pub const MAX_DEMO_BACKUPS: u64 = 1_000_000;

/// List the volume backups of a Huawei Cloud VBS or OpenStack Cinder project.
///
/// Connection settings come from the flags below, then the OS_* variables of an openrc
/// file (OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME, OS_AUTH_TOKEN, …), then the
/// clouds.yaml entry named by --os-cloud or OS_CLOUD, in that order of precedence.
///
/// Huawei Cloud AK/SK: every request is signed (SDK-HMAC-SHA256) when HUAWEICLOUD_SDK_AK
/// and HUAWEICLOUD_SDK_SK are set (HUAWEICLOUD_SDK_SECURITY_TOKEN too for temporary
/// credentials), or HUAWEICLOUD_SDK_CREDENTIALS_FILE names a credentials file, unless
/// --token or --os-cloud is given; without either, the OS_* variables (OS_AUTH_URL,
/// OS_AUTH_TOKEN, OS_CLOUD) come first, then the [basic] section of
/// ~/.huaweicloud/credentials. With AK/SK, --region (or HW_REGION_NAME, OS_REGION_NAME)
/// picks the endpoints, --project-id (or HUAWEICLOUD_SDK_PROJECT_ID) the project, else IAM
/// finds the project named after the region; --endpoint (or
/// HUAWEICLOUD_SDK_REGION_VBS_{REGION}, or _CBR_ with --service cbr) and HUAWEICLOUD_SDK_IAM_ENDPOINT override.
#[derive(Parser)]
#[command(name = "vbs-backups", version, propagate_version = true)]
#[command(
    after_help = "Exit status: 0 done, 1 failed, 2 bad command line, 3 an audit found \
                        volumes not protected, 130 interrupted (Ctrl-C).\nTry it without a \
                        cloud: vbs-backups demo"
)]
pub struct Cli {
    /// Flags that apply to every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Where the service is, how to authenticate, and how much to say.
#[derive(Args, Clone, Default)]
pub struct GlobalArgs {
    /// The block storage endpoint, instead of the one in Keystone's catalog: a service root
    /// (https://vbs.example.com), or a catalog URL ending in /v2/{project_id} or
    /// /v3/%(project_id)s [env: OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE]
    #[arg(long, global = true, help_heading = "Connection", value_name = "URL")]
    pub endpoint: Option<String>,

    /// The project (tenant) whose backups to list [env: OS_PROJECT_ID; with AK/SK:
    /// HUAWEICLOUD_SDK_PROJECT_ID, else found by IAM]
    #[arg(long, global = true, help_heading = "Connection", value_name = "ID")]
    pub project_id: Option<String>,

    /// The region (cn-north-4, ap-southeast-1, …): with AK/SK it picks the Huawei Cloud
    /// endpoints and the project; otherwise the catalog's region
    /// [env: HW_REGION_NAME (AK/SK only), OS_REGION_NAME]
    #[arg(
        long,
        global = true,
        help_heading = "Connection",
        value_name = "REGION"
    )]
    pub region: Option<String>,

    /// The backup service to list: vbs (volume backups, or any OpenStack Cinder), or cbr
    /// (Huawei Cloud Backup and Recovery, VBS's successor); vbs,cbr walks both
    #[arg(
        long,
        global = true,
        help_heading = "Connection",
        value_enum,
        value_name = "SERVICE",
        value_delimiter = ',',
        default_value = "vbs"
    )]
    pub service: Vec<Service>,

    /// A token to send as X-Auth-Token. With --endpoint it goes straight to the endpoint;
    /// prefer OS_AUTH_TOKEN, which other users cannot see in the process list
    /// [env: OS_AUTH_TOKEN]
    #[arg(long, global = true, help_heading = "Connection", value_name = "TOKEN")]
    pub token: Option<String>,

    /// The API: v2 (VBS), v3 (Cinder), or a v3 microversion such as 3.45
    /// [env: OS_VOLUME_API_VERSION]
    #[arg(long, global = true, help_heading = "Connection", value_name = "VERSION", value_parser = parse_api_version)]
    pub api_version: Option<String>,

    /// The clouds.yaml entry to use (./clouds.yaml, ~/.config/openstack/clouds.yaml or
    /// /etc/openstack/clouds.yaml, or the file in OS_CLIENT_CONFIG_FILE); given several
    /// times, every cloud is walked as one estate [env: OS_CLOUD]
    #[arg(long, global = true, help_heading = "Connection", value_name = "CLOUD", action = ArgAction::Append)]
    pub os_cloud: Vec<String>,

    /// The limit on each request, in seconds (or with a unit: 500ms, 30s, 2m); default 60
    #[arg(long, global = true, help_heading = "Connection", value_name = "SECONDS", value_parser = parse_timeout)]
    pub timeout: Option<Timeout>,

    /// No progress line and no narration on stderr; errors are still reported
    #[arg(short, long, global = true, help_heading = "Messages")]
    pub quiet: bool,

    /// Log to stderr what the client does: -v retries and anomalies, -vv every page
    /// request, -vvv HTTP connections too; replaces the progress line
    #[arg(short, long, global = true, help_heading = "Messages", action = ArgAction::Count)]
    pub verbose: u8,

    /// The scope flags: regions, projects, clouds, concurrency, rate, checkpoint.
    #[command(flatten)]
    pub estate: crate::estate::EstateArgs,
}

impl GlobalArgs {
    /// The service of a walk of one scope: the first `--service`.
    pub fn service(&self) -> Service {
        self.service.first().copied().unwrap_or_default()
    }

    /// The cloud of a walk of one scope: the first `--os-cloud`.
    pub fn os_cloud(&self) -> Option<&String> {
        self.os_cloud.first()
    }

    /// Whether the command walks an estate: several scopes.
    pub fn is_estate(&self) -> bool {
        self.estate.active(self.os_cloud.len(), self.service.len())
    }

    /// The services of an estate, each once (clap keeps `--service vbs,vbs`): a scope
    /// planned twice would fail as added twice on every run.
    pub fn services(&self) -> Vec<Service> {
        first_seen(&self.service)
    }

    /// The clouds of an estate, each once, as [`GlobalArgs::services`].
    pub fn os_clouds(&self) -> Vec<String> {
        first_seen(&self.os_cloud)
    }
}

/// `values` without repeats, in the order first given.
pub fn first_seen<T: PartialEq + Clone>(values: &[T]) -> Vec<T> {
    let mut kept: Vec<T> = Vec::with_capacity(values.len());
    for value in values {
        if !kept.contains(value) {
            kept.push(value.clone());
        }
    }
    kept
}

/// A `--timeout`, and how it was typed (to repeat it in a resume hint).
#[derive(Clone, Debug, PartialEq)]
pub struct Timeout {
    /// The limit on each request.
    pub duration: Duration,
    /// The flag's value as typed.
    pub text: String,
}

/// The commands.
#[derive(Subcommand)]
pub enum Command {
    /// List backups, page after page, as they arrive
    List(ListArgs),
    /// Start an embedded fake VBS server on 127.0.0.1 and list its backups: the tool at
    /// work with nothing set up
    Demo(DemoArgs),
    /// Print a shell completion script to stdout, generated from this command's own
    /// definition: `vbs-backups completions bash > /etc/bash_completion.d/vbs-backups`
    Completions {
        /// The shell to complete in
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print this command's man page (roff) to stdout: `vbs-backups man | man -l -`
    Man,
    /// Sum up the backups: count and size, by status, oldest and newest, the largest
    /// volumes, backups per volume, and a histogram of creation times
    Stats(StatsArgs),
    /// Is every volume protected? Each volume's verdict (protected, stale, failing,
    /// unprotected, unknown) against --max-age, and the backups of deleted volumes
    #[command(after_help = crate::audit::EXIT_CODES)]
    Audit(crate::audit::AuditArgs),
}

/// `stats`: the filters of `list`, and how to print the figures.
///
/// One walk over the detail listing, aggregated as the pages come in: memory holds one
/// counter per distinct status, volume, project and day of creation (at most 366 a year
/// of history) and one page, however many backups. Volumes without any backup listed
/// are not counted: a backup listing does not see them.
#[derive(Args, Clone, Default)]
pub struct StatsArgs {
    /// Only backups in this status
    #[arg(long, value_name = "STATUS")]
    pub status: Option<String>,

    /// Only backups with exactly this name
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Only backups of this volume
    #[arg(long, value_name = "ID")]
    pub volume_id: Option<String>,

    /// Only backups created strictly before T (as list --created-before: RFC 3339 or an
    /// age such as 60d); the walk stops at the first newer backup
    #[arg(long, value_name = "T", value_parser = crate::when::parse, help_heading = "Age window")]
    pub created_before: Option<When>,

    /// Only backups created at or after T (as list --created-after); the walk stops at
    /// the first older backup
    #[arg(long, value_name = "T", value_parser = crate::when::parse, help_heading = "Age window")]
    pub created_after: Option<When>,

    /// Administrators: every project's backups, with figures per project (as list
    /// --all-projects; needs the v3 API, at 3.18 or later, which v3 asks for by itself)
    #[arg(long, help_heading = "Whole cloud (administrators)")]
    pub all_projects: bool,

    /// Administrators: only this project's backups (as list --project-filter)
    #[arg(long, value_name = "ID", help_heading = "Whole cloud (administrators)")]
    pub project_filter: Option<String>,

    /// Backups per request (the server may cap it; default 1000)
    #[arg(long, value_name = "N", value_parser = RangedU64ValueParser::<u32>::new().range(1..=u64::from(u32::MAX)))]
    pub page_size: Option<u32>,

    /// Pages fetched ahead while earlier ones are counted (0 to 64; default 1)
    #[arg(long, value_name = "PAGES", value_parser = RangedU64ValueParser::<usize>::new().range(0..=64))]
    pub prefetch: Option<usize>,

    /// text: figures, tables and bars for people; json: the same figures as one object
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = StatsFormat::Text)]
    pub format: StatsFormat,
}

impl StatsArgs {
    /// The listing `stats` walks over an estate: its filters (and its window and
    /// whole-cloud flags, which an estate refuses) as `list`'s.
    pub fn as_listing(&self) -> ListArgs {
        ListArgs {
            status: self.status.clone().into_iter().collect(),
            name: self.name.clone(),
            volume_id: self.volume_id.clone(),
            created_before: self.created_before,
            created_after: self.created_after,
            all_projects: self.all_projects,
            project_filter: self.project_filter.clone(),
            page_size: self.page_size,
            prefetch: self.prefetch,
            ..ListArgs::default()
        }
    }
}

/// How `stats` prints its figures.
#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StatsFormat {
    /// For people, with an age histogram in bars
    #[default]
    Text,
    /// One JSON object
    Json,
}

/// What to list and how to print it.
#[derive(Args, Clone, Default)]
pub struct ListArgs {
    /// Only backups in this status (available, error, creating, restoring, deleting,
    /// error_restoring, …); once for VBS, repeatable for CBR
    #[arg(long, value_name = "STATUS", action = ArgAction::Append)]
    pub status: Vec<String>,

    /// Only backups with exactly this name
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Only backups of this volume
    #[arg(long, value_name = "ID")]
    pub volume_id: Option<String>,

    /// Skip this many backups at the start
    #[arg(long, value_name = "N")]
    pub offset: Option<u64>,

    /// Backups per request (the server may cap it; default 1000)
    #[arg(long, value_name = "N", value_parser = RangedU64ValueParser::<u32>::new().range(1..=u64::from(u32::MAX)))]
    pub page_size: Option<u32>,

    /// Stop after this many backups
    #[arg(long, value_name = "N")]
    pub max_items: Option<u64>,

    /// Start after the backup with this id (to resume an earlier listing)
    #[arg(long, value_name = "ID")]
    pub after: Option<String>,

    /// Continue an interrupted listing from the token its `resume with:` line printed;
    /// the filters, the projects (--all-projects, --project-filter), page size and what
    /// --max-items still allows come from the token, and it works even if the last backup
    /// listed was deleted since
    #[arg(long, value_name = "TOKEN", conflicts_with_all = RESUME_CONFLICTS, conflicts_with = "resume_file")]
    pub resume: Option<String>,

    /// Like --resume, with the token read from a file (or a cursor saved as JSON by a
    /// program using the library)
    #[arg(long, value_name = "PATH", conflicts_with_all = RESUME_CONFLICTS)]
    pub resume_file: Option<PathBuf>,

    /// Pages fetched ahead while earlier ones are printed (0 to 64; default 1)
    #[arg(long, value_name = "PAGES", value_parser = RangedU64ValueParser::<usize>::new().range(0..=64))]
    pub prefetch: Option<usize>,

    /// Every field of each backup (GET …/backups/detail) instead of id and name
    #[arg(long)]
    pub detail: bool,

    /// Only backups created strictly before T: an RFC 3339 time (2026-10-01T00:00:00Z) or
    /// an age counted back from now (60d, 12h, 30m, 2w). VBS / Cinder: walks the detail
    /// listing oldest first and stops at the first newer backup (the output keeps the id
    /// and name columns unless --detail or --fields says otherwise); CBR: sent as end_time,
    /// and backups CBR lets through at T dropped
    #[arg(long, value_name = "T", value_parser = crate::when::parse, help_heading = "Age window")]
    pub created_before: Option<When>,

    /// Only backups created at or after T (same forms as --created-before). VBS / Cinder:
    /// walks the detail listing newest first and stops at the first older backup; CBR:
    /// sent as start_time
    #[arg(long, value_name = "T", value_parser = crate::when::parse, help_heading = "Age window")]
    pub created_after: Option<When>,

    /// The columns to print, comma-separated, in that order (id,name,status,size,…; a bad
    /// name lists the valid ones). VBS: any field but id and name reads the detail listing
    #[arg(long, value_name = "FIELDS", value_delimiter = ',')]
    pub fields: Option<Vec<String>>,
    /// Administrators: every project's backups (Cinder's all_tenants=1), with a PROJECT
    /// column; implies --detail and needs the v3 API at microversion 3.18 or later (asked
    /// for by itself unless --api-version names one), where Cinder says each backup's
    /// project. A non-admin's request, which Cinder silently answers with
    /// the caller's own project, is an error instead
    #[arg(long, help_heading = "Whole cloud (administrators)")]
    pub all_projects: bool,

    /// Administrators: only this project's backups (all_tenants=1&project_id=ID); as
    /// --all-projects
    #[arg(long, value_name = "ID", help_heading = "Whole cloud (administrators)")]
    pub project_filter: Option<String>,

    /// Ask the server for the total, for a percentage in the progress line (needs
    /// --api-version 3.45 or later)
    #[arg(long)]
    pub count: bool,

    /// Output format; default: table on a terminal, ndjson otherwise
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,

    /// CBR: only backups in this vault
    #[arg(long, value_name = "ID", help_heading = "CBR (--service cbr)")]
    pub vault_id: Option<String>,

    /// CBR: only backups of this resource (a volume, server, file system…)
    #[arg(long, value_name = "ID", help_heading = "CBR (--service cbr)")]
    pub resource_id: Option<String>,

    /// CBR: only backups of this resource type (OS::Cinder::Volume, OS::Nova::Server, …)
    #[arg(long, value_name = "TYPE", help_heading = "CBR (--service cbr)")]
    pub resource_type: Option<String>,

    /// CSV: write cells exactly as the server sent them. By default a cell starting with
    /// = + - @, a tab or a carriage return gets a leading ' so that a spreadsheet opening
    /// the file shows it as text instead of running it as a formula (CSV injection);
    /// machine consumers may want the raw values
    #[arg(long)]
    pub csv_raw: bool,
}

impl ListArgs {
    /// Whether the listing is `/backups/detail`: `--detail`, or a whole-cloud listing,
    /// which needs each backup's project.
    pub fn wants_detail(&self) -> bool {
        self.detail || self.whole_cloud()
    }

    /// Whether the listing spans projects (`--all-projects`, `--project-filter`).
    pub fn whole_cloud(&self) -> bool {
        self.all_projects || self.project_filter.is_some()
    }
}

/// What `--resume` replaces: the listing is the token's.
/// (Conflicts are mutual in clap, so `--resume` and `--resume-file` share the list and
/// `--resume` alone names the other.)
const RESUME_CONFLICTS: [&str; 15] = [
    "created_before",
    "created_after",
    "status",
    "name",
    "volume_id",
    "vault_id",
    "resource_id",
    "resource_type",
    "offset",
    "page_size",
    "max_items",
    "after",
    "count",
    // The token says whether the walk is of the caller's project, of one project, or of
    // every project; a flag beside it would silently list something else than it says.
    "all_projects",
    "project_filter",
];

/// `demo`'s own flags, and a listing's.
#[derive(Args, Clone)]
pub struct DemoArgs {
    /// How many backups the fake server holds
    #[arg(long, value_name = "N", default_value_t = 2500, value_parser = RangedU64ValueParser::<usize>::new().range(0..=MAX_DEMO_BACKUPS))]
    pub backups: usize,

    /// Keep serving after the listing, until Ctrl-C, to try `vbs-backups list` against it
    #[arg(long)]
    pub serve: bool,

    /// The listing to run against the fake server.
    #[command(flatten)]
    pub list: ListArgs,
}

/// How backups are written to stdout.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns, for people
    Table,
    /// One JSON array
    Json,
    /// One JSON object per line
    Ndjson,
    /// Comma-separated values with a header row
    Csv,
}

impl Format {
    /// The value as typed on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Table => "table",
            Self::Json => "json",
            Self::Ndjson => "ndjson",
            Self::Csv => "csv",
        }
    }
}

/// The backup service `--service` lists.
#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Service {
    /// Volume Backup Service (Huawei Cloud VBS, OpenStack Cinder)
    #[default]
    Vbs,
    /// Cloud Backup and Recovery (Huawei Cloud CBR), VBS's successor
    Cbr,
}

impl Service {
    /// The value as typed on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vbs => "vbs",
            Self::Cbr => "cbr",
        }
    }
}

/// Checks that the listing's flags fit `--service`: the CBR-only flags (and `--status`
/// more than once) need CBR, and what only VBS / Cinder has is refused for CBR. An
/// estate checks every service it walks: a filter one of them does not take would
/// silently list that service's backups unfiltered.
pub fn check_service(global: &GlobalArgs, list: &ListArgs) -> Result<(), String> {
    if !global.is_estate() {
        let service = global.service();
        return match foreign_flags(global, list, service).find(|flag| flag.given) {
            Some(flag) => Err(format!("{} applies to {}", flag.name, elsewhere(service))),
            None => Ok(()),
        };
    }
    let services = global.services();
    for service in &services {
        for flag in foreign_flags(global, list, *service).filter(|flag| flag.given) {
            // What is no filter (--detail, --api-version) serves the other service's
            // scopes and is refused only when no walked service takes it.
            let taken_elsewhere = !flag.filter
                && services.iter().any(|other| {
                    !foreign_flags(global, list, *other).any(|foreign| foreign.name == flag.name)
                });
            if !taken_elsewhere {
                return Err(format!(
                    "{} applies to {}, and the walk includes {}: walk each service in its \
                     own run, or leave {} out",
                    flag.name,
                    elsewhere(*service),
                    service.as_str(),
                    flag.name
                ));
            }
        }
    }
    Ok(())
}

/// A flag of `list` that a service does not take.
struct ForeignFlag {
    name: &'static str,
    given: bool,
    /// Whether it narrows the listing (rather than shaping the request or output).
    filter: bool,
}

/// The flags `service` does not take.
fn foreign_flags(
    global: &GlobalArgs,
    list: &ListArgs,
    service: Service,
) -> impl Iterator<Item = ForeignFlag> {
    let flag = |name, given, filter| ForeignFlag {
        name,
        given,
        filter,
    };
    let flags = match service {
        Service::Vbs => vec![
            flag("--vault-id", list.vault_id.is_some(), true),
            flag("--resource-id", list.resource_id.is_some(), true),
            flag("--resource-type", list.resource_type.is_some(), true),
            flag("--status given more than once", list.status.len() > 1, true),
        ],
        Service::Cbr => vec![
            flag("--volume-id", list.volume_id.is_some(), true),
            flag("--detail", list.detail, false),
            flag("--api-version", global.api_version.is_some(), false),
            flag("--all-projects", list.all_projects, true),
            flag("--project-filter", list.project_filter.is_some(), true),
        ],
    };
    flags.into_iter()
}

/// What the flags `service` does not take apply to.
fn elsewhere(service: Service) -> &'static str {
    match service {
        Service::Vbs => "CBR backups only (--service cbr)",
        Service::Cbr => {
            "VBS / Cinder backups only (--service vbs): CBR pages always carry every field"
        }
    }
}

/// `stats` sums up the VBS / Cinder detail listing; CBR is not summed up yet, but an
/// estate's figures count CBR backups too (their resource as the volume), under the
/// filters every walked service takes.
pub fn check_stats(global: &GlobalArgs, stats: &StatsArgs) -> Result<(), String> {
    if global.is_estate() {
        let listing = stats.as_listing();
        check_service(global, &listing)?;
        return crate::estate::check_stats(global, &listing);
    }
    match global.service() {
        Service::Vbs => Ok(()),
        Service::Cbr => {
            Err("stats applies to VBS / Cinder backups only (--service vbs)".to_owned())
        }
    }
}

/// Reports a usage error found after parsing, the way clap does, and exits with status 2.
pub fn usage_error(message: impl std::fmt::Display) -> ! {
    <Cli as clap::CommandFactory>::command()
        .error(clap::error::ErrorKind::ArgumentConflict, message)
        .exit()
}

/// `v2`, `2`, `v3`, `3`, `3.45`, `v3.45` → `2`, `3`, `3.45`.
fn parse_api_version(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    let bare = trimmed.strip_prefix(['v', 'V']).unwrap_or(trimmed);
    match bare.split_once('.') {
        None if bare == "2" || bare == "3" => Ok(bare.to_owned()),
        Some(("2", "0")) => Ok("2".to_owned()),
        Some(("3", minor)) if !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(format!("3.{minor}"))
        }
        _ => Err("expected v2, v3 or a v3 microversion such as 3.45".to_owned()),
    }
}

/// `30`, `1.5`, `30s`, `500ms`, `2m` → a positive duration, at most a day.
fn parse_timeout(text: &str) -> Result<Timeout, String> {
    let trimmed = text.trim();
    let (number, scale) = if let Some(number) = trimmed.strip_suffix("ms") {
        (number, 0.001)
    } else if let Some(number) = trimmed.strip_suffix('s') {
        (number, 1.0)
    } else if let Some(number) = trimmed.strip_suffix('m') {
        (number, 60.0)
    } else {
        (trimmed, 1.0)
    };
    number
        .trim()
        .parse::<f64>()
        .ok()
        .map(|value| value * scale)
        .filter(|seconds| seconds.is_finite() && *seconds > 0.0 && *seconds <= 86_400.0)
        .map(|seconds| Timeout {
            duration: Duration::from_secs_f64(seconds),
            text: trimmed.to_owned(),
        })
        .ok_or_else(|| "expected a number of seconds such as 30, 1.5, 500ms or 2m".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions() {
        assert_eq!(parse_api_version("v2").as_deref(), Ok("2"));
        assert_eq!(parse_api_version("3").as_deref(), Ok("3"));
        assert_eq!(parse_api_version("V3.45").as_deref(), Ok("3.45"));
        assert_eq!(parse_api_version("2.0").as_deref(), Ok("2"));
        for bad in ["4", "v", "3.", "3.x", "2.1", ""] {
            assert!(parse_api_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timeouts() {
        let duration = |text| parse_timeout(text).map(|timeout| timeout.duration);
        assert_eq!(duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(duration(" 1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(
            parse_timeout(" 2m ").map(|timeout| timeout.text).as_deref(),
            Ok("2m")
        );
        for bad in ["0", "-1", "soon", "inf", "NaN", "1h"] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }
}

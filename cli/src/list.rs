//! `vbs-backups list`: connect as the flags, `OS_*` variables and clouds.yaml say, then
//! walk the listing page by page into the chosen output format.

use vbs_backups::{BackupDetail, BackupSummary, CbrBackup, Client, Cursor, Listed, Listing};

use crate::args::{GlobalArgs, ListArgs, Service};
use crate::connect;
use crate::numbers::plural;
use crate::output::{self, Record};
use crate::report;
use crate::ui::{Exit, Ui};
use crate::walk::{Plan, Walked, walk};

/// Runs `vbs-backups list`.
pub async fn run(global: &GlobalArgs, args: &ListArgs, ui: &Ui) -> Exit {
    let client = match connect::client(global, ui).await {
        Ok(client) => client,
        Err(exit) => return exit,
    };
    let plan = Plan {
        format: args.format.unwrap_or(ui.default_format()),
        resume: Some((global, args)),
        after: args.after.as_deref(),
        csv_raw: args.csv_raw,
    };
    let walked = list(&client, global.service(), args, &plan, ui).await;
    if walked.exit == Exit::Ok && !walked.reader_gone && ui.progress_enabled() {
        ui.say(format_args!(
            "listed {} in {} in {:.1?}",
            plural(walked.items, "backup"),
            plural(walked.pages, "page"),
            walked.elapsed
        ));
    }
    walked.exit
}

/// The cursor of `--resume` / `--resume-file`, if one was given.
fn resume_cursor(args: &ListArgs) -> Result<Option<Cursor>, String> {
    if let Some(token) = &args.resume {
        return token
            .parse()
            .map(Some)
            .map_err(|err: vbs_backups::Error| format!("--resume: {err}"));
    }
    let Some(path) = &args.resume_file else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("--resume-file {}: {err}", path.display()))?;
    let text = text.trim();
    let parsed = if text.starts_with('{') {
        serde_json::from_str(text).map_err(|err| err.to_string())
    } else {
        text.parse()
            .map_err(|err: vbs_backups::Error| err.to_string())
    };
    parsed
        .map(Some)
        .map_err(|err| format!("--resume-file {}: {err}", path.display()))
}

/// Checks what parsing alone cannot: `--fields` names fields of the service's backups.
pub fn check(global: &GlobalArgs, args: &ListArgs) -> Result<(), String> {
    let Some(fields) = &args.fields else {
        return Ok(());
    };
    match global.service() {
        Service::Vbs => output::check_fields::<BackupDetail>(fields, "VBS / Cinder backups"),
        Service::Cbr => output::check_fields::<CbrBackup>(fields, "CBR backups"),
    }
}

/// The summary's own columns, shown from a detail walk that only a window or `--fields`
/// asked for, so that the output keeps the shape of a plain `list`.
fn summary_view() -> Vec<String> {
    BackupSummary::CSV_HEADER
        .iter()
        .map(|field| (*field).to_owned())
        .collect()
}

/// VBS / Cinder: whether the walk reads `/backups/detail`: `--detail`, an age window
/// (which needs each backup's `created_at`), or `--fields` beyond id and name.
fn detail_walk(args: &ListArgs) -> bool {
    let detail_fields = args
        .fields
        .iter()
        .flatten()
        .any(|field| !BackupSummary::CSV_HEADER.contains(&field.as_str()));
    args.wants_detail()
        || args.created_before.is_some()
        || args.created_after.is_some()
        || detail_fields
}

/// The columns to print: `--fields`, else the summary's when the walk reads the detail
/// listing without `--detail`, else the item type's own (`None`).
fn view(args: &ListArgs, detail_walk: bool) -> Option<Vec<String>> {
    args.fields
        .clone()
        .or_else(|| (detail_walk && !args.wants_detail()).then(summary_view))
}

/// A walk that failed before it began, its error reported.
fn refused(message: &str) -> Walked {
    report::stderr_line(format_args!("error: {}", output::printable(message)));
    Walked::refused()
}

fn with_prefetch<T: Listed>(query: Listing<T>, args: &ListArgs) -> Listing<T> {
    match args.prefetch {
        Some(prefetch) => query.prefetch(prefetch),
        None => query,
    }
}

/// Builds the listing `args` describe on `client` (or continues the one of `--resume`)
/// and walks it.
pub async fn list(
    client: &Client,
    service: Service,
    args: &ListArgs,
    plan: &Plan<'_>,
    ui: &Ui,
) -> Walked {
    let cursor = match resume_cursor(args) {
        Ok(cursor) => cursor,
        Err(message) => return refused(&message),
    };
    match (service, cursor) {
        (Service::Cbr, cursor) => list_cbr(client, cursor, args, plan, ui).await,
        (Service::Vbs, Some(cursor)) => resume_vbs(client, cursor, args, plan, ui).await,
        (Service::Vbs, None) => list_vbs(client, args, plan, ui).await,
    }
}

/// Continues the VBS / Cinder walk of `cursor`: the token says which listing (ids and
/// names, or details); `--detail` or detail `--fields` only choose how a detail walk is
/// shown, and cannot turn a walk of ids and names into one of details.
async fn resume_vbs(
    client: &Client,
    cursor: Cursor,
    args: &ListArgs,
    plan: &Plan<'_>,
    ui: &Ui,
) -> Walked {
    let detail = detail_walk(args);
    if detail {
        return match client.resume_detail(cursor.clone()) {
            Ok(query) => walk(with_prefetch(query, args), plan, view(args, true), ui).await,
            Err(_) if client.resume(cursor.clone()).is_ok() => {
                report::stderr_line(
                    "error: --resume: the token continues a listing of ids and names, which \
                     has none of the other fields --detail or --fields asks for",
                );
                report::stderr_line(
                    "hint: resume without --detail and with at most --fields id,name (the token \
                     decides which listing continues), or start a new listing with --detail",
                );
                Walked::refused()
            }
            Err(err) => {
                report::error(&err, None);
                Walked::refused()
            }
        };
    }
    // A token from a walk of the detail listing that only a window asked for resumes
    // that walk, shown as the summary was.
    let resumed = match client.resume(cursor.clone()) {
        Ok(query) => Ok(walk(with_prefetch(query, args), plan, view(args, false), ui).await),
        Err(err) => match client.resume_detail(cursor) {
            Ok(query) => Ok(walk(with_prefetch(query, args), plan, view(args, true), ui).await),
            Err(_) => Err(err),
        },
    };
    resumed.unwrap_or_else(|err| {
        report::error(&err, None);
        Walked::refused()
    })
}

/// Lists VBS / Cinder backups as the flags say: ids and names, or details when
/// [`detail_walk`] asks for them.
async fn list_vbs(client: &Client, args: &ListArgs, plan: &Plan<'_>, ui: &Ui) -> Walked {
    let mut query = client.backups();
    // More than one is refused before connecting (`args::check_service`): VBS takes one.
    if let Some(status) = args.status.first() {
        query = query.status(status.as_str());
    }
    if let Some(name) = &args.name {
        query = query.name(name);
    }
    if let Some(volume_id) = &args.volume_id {
        query = query.volume_id(volume_id);
    }
    query = paged(query, args);
    if args.count {
        if client.microversion() >= Some((3, 45)) {
            query = query.with_count();
        } else {
            ui.say(
                "warning: --count needs microversion 3.45 or later (--api-version 3.45); \
                 listing without a total",
            );
        }
    }
    if !detail_walk(args) {
        return walk(query, plan, view(args, false), ui).await;
    }
    let mut query = query.detail();
    if let Some(before) = args.created_before {
        query = query.created_before(before.system_time());
    }
    if let Some(after) = args.created_after {
        query = query.created_after(after.system_time());
    }
    if args.whole_cloud() {
        query = match whole_cloud(client, query, args) {
            Ok(query) => query,
            Err(message) => return refused(&message),
        };
    }
    walk(query, plan, view(args, true), ui).await
}

/// `--all-projects` / `--project-filter` on a detail listing, or why not: on v3 without
/// `--api-version` the library asks for 3.18 itself; a lower version, or v2, it refuses
/// too, and this says so in the command's terms.
pub fn whole_cloud(
    client: &Client,
    query: Listing<vbs_backups::BackupDetail>,
    args: &ListArgs,
) -> Result<Listing<vbs_backups::BackupDetail>, String> {
    let too_low = match client.microversion() {
        Some(version) => version < (3, 18),
        None => client.api_version() != vbs_backups::ApiVersion::V3,
    };
    if too_low {
        return Err(
            "--all-projects and --project-filter need the v3 API at microversion 3.18 or \
             later (--api-version 3 asks for 3.18 by itself; --api-version 3.18 or later works \
             too): Cinder says which project a backup belongs to only from 3.18 (and only to \
             admins), and without it a non-admin's own project, which Cinder lists instead of \
             the whole cloud, could not be told apart"
                .to_owned(),
        );
    }
    Ok(match &args.project_filter {
        Some(project) => query.project_id(project),
        None => query.all_projects(),
    })
}

/// Lists Huawei CBR backups: the CBR filters (`--status` repeatable), or the walk of
/// `--resume`. CBR pages always say the total, so the progress line has a percentage.
async fn list_cbr(
    client: &Client,
    cursor: Option<Cursor>,
    args: &ListArgs,
    plan: &Plan<'_>,
    ui: &Ui,
) -> Walked {
    if let Some(cursor) = cursor {
        return match client.resume_cbr(cursor) {
            Ok(query) => walk(with_prefetch(query, args), plan, args.fields.clone(), ui).await,
            Err(err) => {
                report::error(&err, None);
                Walked::refused()
            }
        };
    }
    let mut query = client.cbr_backups();
    for status in &args.status {
        query = query.status(status.as_str());
    }
    if let Some(name) = &args.name {
        query = query.name(name);
    }
    if let Some(vault_id) = &args.vault_id {
        query = query.vault_id(vault_id);
    }
    if let Some(resource_id) = &args.resource_id {
        query = query.resource_id(resource_id);
    }
    if let Some(resource_type) = &args.resource_type {
        query = query.resource_type(resource_type);
    }
    // CBR filters by time itself, to the second and inclusively; the library's window
    // keeps --created-before strict, so the two flags never overlap.
    if let Some(after) = args.created_after {
        query = query.created_after(after.system_time());
    }
    if let Some(before) = args.created_before {
        query = query.created_before(before.system_time());
    }
    walk(paged(query, args), plan, args.fields.clone(), ui).await
}

/// The paging flags every collection takes: offset, page size, `--max-items`, `--after`
/// and prefetch.
fn paged<T: Listed>(query: Listing<T>, args: &ListArgs) -> Listing<T> {
    let mut query = query;
    if let Some(offset) = args.offset {
        query = query.offset(offset);
    }
    if let Some(page_size) = args.page_size {
        query = query.page_size(page_size);
    }
    if let Some(max_items) = args.max_items {
        query = query.max_items(max_items);
    }
    if let Some(after) = &args.after {
        query = query.after(after);
    }
    with_prefetch(query, args)
}

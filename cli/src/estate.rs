//! `list` over an estate: every region, project and service the scope flags name, walked
//! concurrently under one request budget, with a checkpoint file and a summary per scope.

use std::io::{self, BufWriter};
use std::path::PathBuf;

use clap::Args;
use clap::builder::RangedU64ValueParser;
use futures::{FutureExt, StreamExt};
use vbs_backups::huawei::Service as HuaweiService;
use vbs_backups::{
    BackupService, Client, EstateBackup, EstateStream, RequestBudget, Scope, ScopeSet,
};

use crate::args::{Format, GlobalArgs, ListArgs, Service};
use crate::estate_output::{EstateWriter, load_checkpoint, save_checkpoint, summary_line};
use crate::report;
use crate::ui::{Exit, Ui};
use crate::{clouds, connect};

/// The scope flags: which regions, projects and clouds to walk, how many at once, and
/// how fast.
#[derive(Args, Clone, Default, Debug)]
pub struct EstateArgs {
    /// Huawei Cloud: every project of these regions (R1,R2,…), sub-projects included,
    /// from IAM
    #[arg(
        long,
        global = true,
        help_heading = "Estate",
        value_name = "R1,R2",
        value_delimiter = ','
    )]
    pub regions: Vec<String>,

    /// Huawei Cloud: every project of the account that is in a region
    #[arg(long, global = true, help_heading = "Estate")]
    pub all_regions: bool,

    /// OpenStack: every project the credentials reach, each with its own token
    /// (Huawei Cloud: the same as --all-regions)
    #[arg(long, global = true, help_heading = "Estate")]
    pub every_project: bool,

    /// Scopes walked at once (default 4)
    #[arg(long, global = true, help_heading = "Estate", value_name = "N", value_parser = RangedU64ValueParser::<usize>::new().range(1..=256))]
    pub concurrency: Option<usize>,

    /// At most R requests a second over every scope (without it, the pace only slows
    /// when a server throttles)
    #[arg(long, global = true, help_heading = "Estate", value_name = "R", value_parser = RangedU64ValueParser::<u32>::new().range(1..=100_000))]
    pub max_rate: Option<u32>,

    /// Where the walk's state is kept: written after every page printed, read by a rerun
    /// (finished scopes are skipped, the others resume), removed when every scope is done;
    /// list only (stats and audit are not resumable)
    #[arg(long, global = true, help_heading = "Estate", value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
}

impl EstateArgs {
    /// Whether the command walks an estate rather than one scope.
    pub fn active(&self, clouds: usize, services: usize) -> bool {
        !self.regions.is_empty()
            || self.all_regions
            || self.every_project
            || clouds > 1
            || services > 1
            || self.checkpoint.is_some()
    }
}

/// Refuses what a walk of one scope has and an estate does not (yet): a starting point,
/// limits, a window, columns of the caller's choosing, whole-cloud listings, CBR-only
/// filters. Silently ignoring them would list something else than was asked. `resumable`:
/// whether the command takes `--checkpoint` (`list`), for the hint.
pub fn check(global: &GlobalArgs, args: &ListArgs, resumable: bool) -> Result<(), String> {
    if global.estate.every_project && !global.estate.regions.is_empty() {
        return Err("--every-project and --regions exclude each other".to_owned());
    }
    if global.project_id.is_some() || global.endpoint.is_some() {
        return Err(
            "--project-id and --endpoint name one scope: leave them out of an estate walk"
                .to_owned(),
        );
    }
    let unsupported = [
        ("--offset", args.offset.is_some()),
        ("--max-items", args.max_items.is_some()),
        ("--after", args.after.is_some()),
        ("--resume", args.resume.is_some()),
        ("--resume-file", args.resume_file.is_some()),
        ("--created-before", args.created_before.is_some()),
        ("--created-after", args.created_after.is_some()),
        ("--fields", args.fields.is_some()),
        ("--all-projects", args.all_projects),
        ("--project-filter", args.project_filter.is_some()),
        ("--count", args.count),
        ("--vault-id", args.vault_id.is_some()),
        ("--resource-id", args.resource_id.is_some()),
        ("--resource-type", args.resource_type.is_some()),
    ];
    let hint = if resumable {
        "; rerun with --checkpoint FILE to resume an estate"
    } else {
        ""
    };
    match unsupported.iter().find(|(_, given)| *given) {
        Some((flag, _)) => Err(format!(
            "{flag} applies to one scope, not to an estate walk (--regions, --all-regions, \
             --every-project, several --os-cloud or --service, --checkpoint){hint}"
        )),
        None => Ok(()),
    }
}

/// `stats` over an estate: the checks of `list`, and no `--checkpoint`, which it would
/// neither read nor write.
pub fn check_stats(global: &GlobalArgs, args: &ListArgs) -> Result<(), String> {
    if global.estate.checkpoint.is_some() {
        return Err(
            "--checkpoint: stats is not resumable (its figures sum up one whole walk, and \
             a rerun is as cheap): leave it out"
                .to_owned(),
        );
    }
    check(global, args, false)
}

/// The scopes to walk, and the projects left out (with why).
pub struct Planned {
    pub set: ScopeSet<EstateBackup>,
    pub skipped: Vec<String>,
}

/// Runs `list` over the estate.
pub async fn run_list(
    global: &GlobalArgs,
    estate: &EstateArgs,
    clouds: &[String],
    services: &[Service],
    args: &ListArgs,
    ui: &Ui,
) -> Exit {
    let Some(mut set) = scopes(global, estate, clouds, services, args, ui).await else {
        return Exit::Failed;
    };
    if let Some(path) = &estate.checkpoint {
        match load_checkpoint(path) {
            Ok(Some(checkpoint)) => match set.resume(&checkpoint) {
                Ok(resumed) => set = resumed,
                Err(err) => {
                    report::error(&err, None);
                    return Exit::Failed;
                }
            },
            Ok(None) => {}
            Err(message) => {
                report::stderr_line(format_args!("error: {message}"));
                return Exit::Failed;
            }
        }
    }
    let format = args.format.unwrap_or(ui.default_format());
    let mut stream = set.stream();
    let walked = walk(&mut stream, estate, format, services.len() > 1, ui).await;
    finish(&stream, estate, walked, ui)
}

/// The scope set the flags name, with `list`'s filters, under one budget; the projects
/// left out said on stderr. `None` when it cannot be made (the error reported).
pub async fn scopes(
    global: &GlobalArgs,
    estate: &EstateArgs,
    clouds: &[String],
    services: &[Service],
    args: &ListArgs,
    ui: &Ui,
) -> Option<ScopeSet<EstateBackup>> {
    let budget = estate
        .max_rate
        .map_or_else(RequestBudget::adaptive, RequestBudget::with_max_rate);
    let planned = match plan(global, estate, clouds, services, &budget, args).await {
        Ok(Ok(planned)) => planned,
        Ok(Err(message)) => {
            report::stderr_line(format_args!("error: {message}"));
            return None;
        }
        Err(err) => {
            report::error(&err, None);
            return None;
        }
    };
    say_skipped(ui, &planned.skipped);
    if planned.set.is_empty() {
        report::stderr_line(nothing_to_walk(&planned.skipped));
        return None;
    }
    Some(planned.set.concurrency(estate.concurrency.unwrap_or(4)))
}

/// The error of an estate whose every project was left out: a walk of nothing that
/// succeeded would hide that the flags (or the account) name no project.
pub fn nothing_to_walk(skipped: &[String]) -> String {
    let why = if skipped.is_empty() {
        "none found".to_owned()
    } else {
        format!("skipped {}", skipped.join("; "))
    };
    format!(
        "error: no project to walk ({})",
        crate::output::printable(&why)
    )
}

/// `project NAME (ID): why` for each project of an account that its estate left out.
pub fn skipped_lines(skipped: &[vbs_backups::huawei::SkippedProject]) -> Vec<String> {
    skipped
        .iter()
        .map(|s| {
            format!(
                "project {} ({}): {}",
                s.project.name, s.project.id, s.reason
            )
        })
        .collect()
}

/// Names on stderr, escaped, the projects an estate left out.
pub fn say_skipped(ui: &Ui, skipped: &[String]) {
    for skipped in skipped {
        ui.say(format_args!(
            "skipped {}",
            crate::output::printable(skipped)
        ));
    }
}

/// How the walk of the merged stream ended.
enum Walked {
    Done,
    ReaderGone,
    Interrupted,
    Failed(String),
}

/// Prints every backup as it arrives; whenever no backup is ready at once, and after
/// the last backup of every page, flushes stdout and then saves the checkpoint, so that
/// the checkpoint never claims a backup that was not written and a rerun repeats at most
/// the page each scope was in.
async fn walk(
    stream: &mut EstateStream<EstateBackup>,
    estate: &EstateArgs,
    format: Format,
    services: bool,
    ui: &Ui,
) -> Walked {
    let mut writer = EstateWriter::new(BufWriter::new(io::stdout().lock()), format, services);
    let mut interrupt = ui.interrupt();
    loop {
        let next = match stream.next().now_or_never() {
            Some(next) => next,
            None => {
                if let Err(walked) = save(&mut writer, stream, estate) {
                    return walked;
                }
                tokio::select! {
                    biased;
                    () = interrupt.wait() => {
                        let _ = writer.finish();
                        return Walked::Interrupted;
                    }
                    next = stream.next() => next,
                }
            }
        };
        let Some(next) = next else { break };
        if let Ok(backup) = next {
            if let Err(err) = writer.item(&backup) {
                return io_end(err);
            }
            if stream.at_page_end() {
                if let Err(walked) = save(&mut writer, stream, estate) {
                    return walked;
                }
            }
        }
    }
    if let Err(err) = writer.finish() {
        return io_end(err);
    }
    match save(&mut writer, stream, estate) {
        Ok(()) => Walked::Done,
        Err(walked) => walked,
    }
}

fn save<W: io::Write>(
    writer: &mut EstateWriter<W>,
    stream: &EstateStream<EstateBackup>,
    estate: &EstateArgs,
) -> Result<(), Walked> {
    writer.flush().map_err(io_end)?;
    let Some(path) = &estate.checkpoint else {
        return Ok(());
    };
    save_checkpoint(path, &stream.checkpoint())
        .map_err(|err| Walked::Failed(format!("--checkpoint {}: {err}", path.display())))
}

fn io_end(err: io::Error) -> Walked {
    if err.kind() == io::ErrorKind::BrokenPipe {
        Walked::ReaderGone
    } else {
        Walked::Failed(format!("cannot write to stdout: {err}"))
    }
}

/// The summary per scope, the checkpoint's fate, and the exit status.
fn finish(
    stream: &EstateStream<EstateBackup>,
    estate: &EstateArgs,
    walked: Walked,
    ui: &Ui,
) -> Exit {
    let outcomes = stream.outcomes();
    for outcome in &outcomes {
        ui.say(summary_line(outcome));
    }
    let complete = stream.checkpoint().is_complete();
    match walked {
        Walked::ReaderGone => return Exit::Ok,
        Walked::Failed(message) => {
            report::stderr_line(format_args!(
                "error: {}",
                crate::output::printable(&message)
            ));
            return Exit::Failed;
        }
        Walked::Interrupted => {
            resume_hint(estate);
            return Exit::Interrupted;
        }
        Walked::Done => {}
    }
    if complete {
        if let Some(path) = &estate.checkpoint {
            let _ = std::fs::remove_file(path);
        }
        return Exit::Ok;
    }
    let failed = outcomes.iter().filter(|o| !o.is_complete()).count();
    report::stderr_line(format_args!(
        "error: {failed} of {} scopes failed",
        outcomes.len()
    ));
    resume_hint(estate);
    Exit::Failed
}

fn resume_hint(estate: &EstateArgs) {
    if estate.checkpoint.is_some() {
        report::stderr_line(format_args!(
            "resume with: {}",
            crate::output::printable(&rerun_command(std::env::args_os()))
        ));
    } else {
        report::stderr_line(
            "hint: run with --checkpoint FILE to resume later with only what is left",
        );
    }
}

/// What stands for a `--token`'s value in a printed command: the token is a secret
/// (stderr ends up in logs), and the single-scope resume line leaves it out too; the
/// shell reads it back from where `--help` says to keep it.
const TOKEN_PLACEHOLDER: &str = "\"$OS_AUTH_TOKEN\"";

/// The command line as typed, quoted for a POSIX shell, but a `--token`'s value; a word
/// that is not UTF-8 shown lossily (`std::env::args` would panic on it).
fn rerun_command(words: impl IntoIterator<Item = std::ffi::OsString>) -> String {
    let mut shown = Vec::new();
    let mut token_follows = false;
    for word in words {
        let word = word.to_string_lossy();
        if std::mem::take(&mut token_follows) {
            shown.push(TOKEN_PLACEHOLDER.to_owned());
        } else if word == "--token" {
            token_follows = true;
            shown.push(word.into_owned());
        } else if word.starts_with("--token=") {
            shown.push(format!("--token={TOKEN_PLACEHOLDER}"));
        } else {
            shown.push(report::quote(&word));
        }
    }
    shown.join(" ")
}

/// The scope set the flags name: a Huawei account's regions, or OpenStack clouds and
/// their projects.
async fn plan(
    global: &GlobalArgs,
    estate: &EstateArgs,
    clouds: &[String],
    services: &[Service],
    budget: &RequestBudget,
    args: &ListArgs,
) -> vbs_backups::Result<Result<Planned, &'static str>> {
    let vars = connect::environment();
    if clouds.is_empty() {
        if let Some(config) = connect::huawei_config(global, &vars)? {
            let regions = if estate.regions.is_empty() {
                match global.region.as_deref() {
                    Some(region) if !estate.all_regions && !estate.every_project => {
                        vec![region.to_owned()]
                    }
                    _ => Vec::new(),
                }
            } else {
                estate.regions.clone()
            };
            let services: Vec<HuaweiService> = services
                .iter()
                .map(|service| match service {
                    Service::Vbs => HuaweiService::Vbs,
                    Service::Cbr => HuaweiService::Cbr,
                })
                .collect();
            let found = config
                .budget(budget.clone())
                .estate(&regions, &services)
                .await?;
            return Ok(Ok(Planned {
                set: scope_set(found.scopes, args),
                skipped: skipped_lines(&found.skipped),
            }));
        }
    }
    if services.contains(&Service::Cbr) {
        return Ok(Err(
            "CBR is Huawei Cloud's: walk it with AK/SK (HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK)",
        ));
    }
    openstack_plan(global, estate, clouds, budget, args)
        .await
        .map(Ok)
}

async fn openstack_plan(
    global: &GlobalArgs,
    estate: &EstateArgs,
    clouds: &[String],
    budget: &RequestBudget,
    args: &ListArgs,
) -> vbs_backups::Result<Planned> {
    let reached = clouds::reach(global, clouds, estate.every_project, budget).await?;
    let set = reached
        .unreachable
        .into_iter()
        .fold(scope_set(reached.scopes, args), |set, (scope, error)| {
            set.add_unreachable(scope, error)
        });
    Ok(Planned {
        set,
        skipped: reached.skipped,
    })
}

/// The first Cinder microversion that counts a listing (`with_count`).
const COUNT_MICROVERSION: (u32, u32) = (3, 45);

/// Each scope walked with `list`'s filters: VBS's detail listing, CBR's backups. Where
/// the server can count (CBR always; Cinder from microversion 3.45, asked for with
/// `OS_VOLUME_API_VERSION=3.45` or `--api-version 3.45`), the count is asked for, so
/// that each scope's summary compares it with what was listed. It costs Cinder one
/// request a scope: with `with_count` a partial last page still links to a next one.
fn scope_set(scopes: Vec<(Scope, Client)>, args: &ListArgs) -> ScopeSet<EstateBackup> {
    let mut set = ScopeSet::new();
    for (scope, client) in scopes {
        let args = args.clone();
        set = match scope.service {
            BackupService::Cbr => set.add(scope, client, move |client| {
                let mut query = client.cbr_backups();
                for status in &args.status {
                    query = query.status(status.as_str());
                }
                if let Some(name) = &args.name {
                    query = query.name(name);
                }
                paged(query, &args)
            }),
            _ => set.add(scope, client, move |client| {
                let mut query = client.backups().detail();
                if let Some(status) = args.status.first() {
                    query = query.status(status.as_str());
                }
                if let Some(name) = &args.name {
                    query = query.name(name);
                }
                if let Some(volume_id) = &args.volume_id {
                    query = query.volume_id(volume_id);
                }
                if client.microversion() >= Some(COUNT_MICROVERSION) {
                    query = query.with_count();
                }
                paged(query, &args)
            }),
        };
    }
    set
}

fn paged<T: vbs_backups::Listed>(
    query: vbs_backups::Listing<T>,
    args: &ListArgs,
) -> vbs_backups::Listing<T> {
    let query = match args.page_size {
        Some(size) => query.page_size(size),
        None => query,
    };
    match args.prefetch {
        Some(prefetch) => query.prefetch(prefetch),
        None => query,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rerun_command_hides_the_token_and_quotes_the_rest() {
        let words = [
            "vbs-backups",
            "--token",
            "secret-1",
            "--os-cloud",
            "lab",
            "--token=secret-2",
            "--checkpoint",
            "my state.json",
            "list",
        ]
        .map(std::ffi::OsString::from);
        let shown = rerun_command(words);
        assert!(!shown.contains("secret"), "{shown}");
        assert_eq!(
            shown,
            "vbs-backups --token \"$OS_AUTH_TOKEN\" --os-cloud lab \
             --token=\"$OS_AUTH_TOKEN\" --checkpoint 'my state.json' list"
        );
    }
}

//! `vbs-backups audit --max-age DURATION`: is every volume protected by a recent, good
//! backup? One pass over the scope's volumes and one over its backups in each service,
//! joined by the library's `coverage` accumulator, written as a table, JSON, NDJSON or
//! Prometheus' text format.

mod plan;
mod prometheus;
mod render;
mod walk;

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use vbs_backups::RequestBudget;
use vbs_backups::coverage::CoverageReport;

use crate::args::{GlobalArgs, Service};
use crate::connect;
use crate::report;
use crate::ui::{Exit, Ui};

/// `audit`: the age a protecting backup may have, the services, and the output.
#[derive(Args, Clone, Debug)]
pub struct AuditArgs {
    /// The age a protecting backup may have: 24h, 7d, 2w, 90m, 3600s
    #[arg(long, value_name = "DURATION", value_parser = parse_max_age)]
    pub max_age: Duration,

    /// The backup services that may protect a volume, comma-separated: vbs, cbr or
    /// vbs,cbr (a volume is protected when either protects it); default: --service.
    /// CBR needs Huawei Cloud AK/SK (EVS, VBS and CBR are three endpoints)
    #[arg(long, value_enum, value_delimiter = ',', value_name = "SERVICES")]
    pub services: Vec<Service>,

    /// How to write the report: table (default on a terminal, volumes not protected
    /// first, then a summary), json (one document, the default otherwise and with
    /// --output), ndjson (one
    /// object per volume, per orphaned backup, then the summary) or prometheus (the text
    /// format, for node_exporter's textfile collector)
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<AuditFormat>,

    /// Write the report to this file instead of stdout, atomically (a temporary file in
    /// the same folder, then renamed), as the textfile collector needs
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// How the report is written.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditFormat {
    /// Aligned columns, for people
    Table,
    /// One JSON document
    Json,
    /// One JSON object per line
    Ndjson,
    /// Prometheus' text exposition format
    Prometheus,
}

/// The scopes, and the exit codes, as `--help` and the README document them.
pub const EXIT_CODES: &str = "Scopes: one project (--region, --project-id), or an estate: \
                              --regions R1,R2, --all-regions, --every-project, several \
                              --os-cloud. Each project's volumes are read once and its backups \
                              once per service, at most --concurrency listings at once, \
                              --max-rate over every request (IAM and Keystone included). \
                              --checkpoint does not apply: an audit is cheap to rerun.\n\n\
                              Exit status: 0 every volume protected (orphaned backups are \
                              reported, not failed on), 3 the audit completed and some volume \
                              is stale, failing or unprotected, 1 a listing failed (its \
                              volumes are unknown unless proven protected; the report is \
                              still written), 2 bad command line, 130 interrupted.";

/// `24h`, `7d`, `2w`, `90m`, `3600s`: a whole number and one unit.
fn parse_max_age(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => {
            return Err("expected a duration such as 24h, 7d or 2w \
                        (a whole number and one of s, m, h, d, w)"
                .to_owned());
        }
    };
    let count: u64 = digits
        .parse()
        .map_err(|_| format!("`{digits}` is not a whole number"))?;
    count
        .checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{text} is too long"))
}

/// The services audited: `--services`, else the global `--service` (`vbs`, `cbr` or
/// `vbs,cbr`), each once: a service named twice would have its backups counted twice.
pub fn services(global: &GlobalArgs, args: &AuditArgs) -> Vec<Service> {
    if args.services.is_empty() {
        global.services()
    } else {
        crate::args::first_seen(&args.services)
    }
}

/// Checks what clap cannot: the estate's flags that go together, and CBR (alone or
/// beside VBS) needs Huawei Cloud AK/SK: an OpenStack endpoint would be sent CBR's
/// listing and fail late, with every volume unknown.
pub fn check(global: &GlobalArgs, args: &AuditArgs) -> Result<(), String> {
    plan::check(global)?;
    if !services(global, args).contains(&Service::Cbr) {
        return Ok(());
    }
    match connect::huawei_config(global, &connect::environment()) {
        Ok(None) => Err(
            "CBR is Huawei Cloud's: audit it with AK/SK (HUAWEICLOUD_SDK_AK and \
             HUAWEICLOUD_SDK_SK, without --token or --os-cloud); an OpenStack endpoint \
             serves its volumes and Cinder backups only (--services vbs)"
                .to_owned(),
        ),
        // Credentials named but unreadable: the plan reports why.
        Ok(Some(_)) | Err(_) => Ok(()),
    }
}

/// Runs the audit and writes the report; the exit says what it found.
pub async fn run(global: &GlobalArgs, args: &AuditArgs, ui: &Ui) -> Exit {
    let services = services(global, args);
    let format = report_format(args, ui.default_format() == crate::args::Format::Table);
    let mut interrupt = ui.interrupt();
    let audited = tokio::select! {
        biased;
        () = interrupt.wait() => {
            report::stderr_line("interrupted: no report written");
            return Exit::Interrupted;
        }
        audited = audit(global, &services, args.max_age, ui) => audited,
    };
    let Some((report, failures)) = audited else {
        return Exit::Failed;
    };
    for failure in &failures {
        let what = match failure.listing {
            Some(listing) => format!("the {} listing did not complete", listing.as_str()),
            None => "could not connect".to_owned(),
        };
        report::stderr_line(format_args!(
            "error: {what} ({}): {}",
            crate::output::printable(&scope_place(&failure.scope)),
            crate::output::printable(&report::one_line(&failure.error))
        ));
    }
    let text = render::render(&report, format);
    if let Err(message) = write(args.output.as_deref(), &text) {
        report::stderr_line(format_args!("error: {message}"));
        return Exit::Failed;
    }
    if !report.is_complete() {
        Exit::Failed
    } else if report.all_protected() {
        Exit::Ok
    } else {
        Exit::NotProtected
    }
}

/// `--format`, else a table for people on a terminal and JSON for programs; a file
/// (`--output`) is for programs whatever stdout is.
fn report_format(args: &AuditArgs, stdout_terminal: bool) -> AuditFormat {
    match args.format {
        Some(format) => format,
        None if stdout_terminal && args.output.is_none() => AuditFormat::Table,
        None => AuditFormat::Json,
    }
}

/// Plans the scopes (every request, IAM and Keystone included, under one budget), walks
/// their listings and judges; `None` when no scope could be planned (the error said).
async fn audit(
    global: &GlobalArgs,
    services: &[Service],
    max_age: Duration,
    ui: &Ui,
) -> Option<(CoverageReport, Vec<walk::Failure>)> {
    let budget = global
        .estate
        .max_rate
        .map_or_else(RequestBudget::adaptive, RequestBudget::with_max_rate);
    // A cloud named twice is one scope: planned twice, its volumes would be judged twice.
    let global = GlobalArgs {
        os_cloud: global.os_clouds(),
        ..global.clone()
    };
    let planned = match plan::plan(&global, services, &budget).await {
        Ok(planned) => planned,
        Err(err) => {
            report::error(&err, None);
            return None;
        }
    };
    crate::estate::say_skipped(ui, &planned.skipped);
    if planned.scopes.is_empty() && planned.unreachable.is_empty() {
        report::stderr_line(crate::estate::nothing_to_walk(&planned.skipped));
        return None;
    }
    let concurrency = global.estate.concurrency.unwrap_or(4);
    Some(walk::audit(&planned.scopes, planned.unreachable, max_age, concurrency).await)
}

/// `region cn-north-4, project 0acc…`, or the project alone where the cloud has no region.
fn scope_place(scope: &vbs_backups::coverage::Scope) -> String {
    if scope.region.is_empty() {
        format!("project {}", scope.project_id)
    } else {
        format!("region {}, project {}", scope.region, scope.project_id)
    }
}

/// Writes `text` to stdout, or atomically to `path`: a temporary file beside it, then a
/// rename, so that a reader (the textfile collector) never sees half a report.
fn write(path: Option<&Path>, text: &str) -> Result<(), String> {
    use std::io::Write as _;

    let Some(path) = path else {
        let mut stdout = std::io::stdout().lock();
        return match stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
        {
            // A reader that went away early is no failure.
            Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(format!("cannot write to stdout: {err}"))
            }
            _ => Ok(()),
        };
    };
    let name = path
        .file_name()
        .ok_or_else(|| format!("--output {}: not a file name", path.display()))?;
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(name);
    temporary_name.push(format!(".{}.tmp", std::process::id()));
    let temporary = path.with_file_name(temporary_name);
    let written = std::fs::File::create(&temporary)
        .and_then(|mut file| {
            file.write_all(text.as_bytes())?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temporary, path));
    written.map_err(|err| {
        let _ = std::fs::remove_file(&temporary);
        format!("--output {}: {err}", path.display())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_gets_json_unless_told_otherwise() {
        let args = |format, output: Option<&str>| AuditArgs {
            max_age: Duration::from_secs(60),
            services: Vec::new(),
            format,
            output: output.map(PathBuf::from),
        };
        assert_eq!(report_format(&args(None, None), true), AuditFormat::Table);
        assert_eq!(report_format(&args(None, None), false), AuditFormat::Json);
        assert_eq!(
            report_format(&args(None, Some("audit.json")), true),
            AuditFormat::Json
        );
        assert_eq!(
            report_format(&args(Some(AuditFormat::Table), Some("audit.txt")), true),
            AuditFormat::Table
        );
    }

    #[test]
    fn max_ages() {
        assert_eq!(parse_max_age("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_max_age("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_max_age("2w"), Ok(Duration::from_secs(1_209_600)));
        assert_eq!(parse_max_age("90s"), Ok(Duration::from_secs(90)));
        for bad in ["", "d", "7", "7 d", "7D", "-1d", "1.5d", "1month"] {
            assert!(parse_max_age(bad).is_err(), "{bad}");
        }
        assert!(parse_max_age("99999999999999999999w").is_err());
    }
}

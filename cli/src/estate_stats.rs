//! `stats` over an estate: the figures of every scope together, with a breakdown per
//! region and project (the `by project` table, keyed `{region}/{project_id}`).

use std::io::{self, Write};

use futures::StreamExt;
use vbs_backups::{BackupDetail, EstateBackup, Scoped};

use crate::args::{GlobalArgs, StatsArgs, StatsFormat};
use crate::estate;
use crate::estate_output::summary_line;
use crate::report;
use crate::stats::Stats;
use crate::ui::{Exit, Ui};

/// Runs `stats` over the estate the scope flags name.
pub async fn run(global: &GlobalArgs, args: &StatsArgs, ui: &Ui) -> Exit {
    let filters = args.as_listing();
    let Some(set) = estate::scopes(
        global,
        &global.estate,
        &global.os_clouds(),
        &global.services(),
        &filters,
        ui,
    )
    .await
    else {
        return Exit::Failed;
    };
    let mut stream = set.stream();
    let mut stats = Stats::default();
    let mut interrupt = ui.interrupt();
    loop {
        let next = tokio::select! {
            biased;
            () = interrupt.wait() => {
                report::stderr_line("interrupted: no statistics of a partial walk");
                return Exit::Interrupted;
            }
            next = stream.next() => next,
        };
        match next {
            None => break,
            Some(Ok(backup)) => {
                if let Some(detail) = as_detail(backup) {
                    stats.add(&detail);
                }
            }
            Some(Err(_)) => {} // Said in the scope's summary line.
        }
    }
    let outcomes = stream.outcomes();
    for outcome in &outcomes {
        ui.say(summary_line(outcome));
    }
    let failed = outcomes.iter().filter(|o| !o.is_complete()).count();
    if let Err(err) = print(stats, args.format) {
        if err.kind() != io::ErrorKind::BrokenPipe {
            report::stderr_line(format_args!("error: cannot write the output: {err}"));
            return Exit::Failed;
        }
    }
    if failed > 0 {
        report::stderr_line(format_args!(
            "error: {failed} of {} scopes failed: the figures leave out what they did not list",
            outcomes.len()
        ));
        return Exit::Failed;
    }
    Exit::Ok
}

fn print(stats: Stats, format: StatsFormat) -> io::Result<()> {
    let summary = stats.summary();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match format {
        StatsFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &summary)?;
            out.write_all(b"\n")?;
        }
        StatsFormat::Text => out.write_all(summary.text().as_bytes())?,
    }
    out.flush()
}

/// The backup as `stats` counts it: a detail record whose project is
/// `{region}/{project_id}`, so that the per-project table breaks the estate down by region
/// and project. A CBR backup counts its resource as its volume.
fn as_detail(backup: Scoped<EstateBackup>) -> Option<BackupDetail> {
    let project = format!("{}/{}", backup.scope.region, backup.scope.project_id);
    let mut detail = match backup.item {
        EstateBackup::Vbs(detail) => detail,
        EstateBackup::Cbr(cbr) => {
            let shape = serde_json::json!({
                "id": cbr.id,
                "name": cbr.name,
                "status": cbr.status.as_str(),
                "size": cbr.resource_size,
                "volume_id": cbr.resource_id,
            });
            let mut detail: BackupDetail = serde_json::from_value(shape).ok()?;
            detail.created_at = cbr.created_at;
            detail
        }
        _ => return None,
    };
    detail.project_id = Some(project);
    Some(detail)
}

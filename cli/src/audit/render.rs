//! The report as a table, one JSON document, or NDJSON.

use std::fmt::Write as _;

use jiff::Timestamp;
use serde::Serialize;
use vbs_backups::coverage::{CoverageReport, Verdict, VolumeCoverage};

use super::AuditFormat;
use crate::output::printable;

/// The whole report in `format`, ending with a newline.
pub fn render(report: &CoverageReport, format: AuditFormat) -> String {
    match format {
        AuditFormat::Table => table(report),
        AuditFormat::Json => json(report),
        AuditFormat::Ndjson => ndjson(report),
        AuditFormat::Prometheus => super::prometheus::render(report),
    }
}

fn json(report: &CoverageReport) -> String {
    let mut text = serde_json::to_string_pretty(report).unwrap_or_default();
    text.push('\n');
    text
}

/// An item of the NDJSON stream: its `type` first, then its fields.
#[derive(Serialize)]
struct Tagged<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    item: &'a T,
}

fn ndjson(report: &CoverageReport) -> String {
    let mut text = String::new();
    for volume in &report.volumes {
        push_tagged(&mut text, "volume", volume);
    }
    for orphan in &report.orphaned_backups {
        push_tagged(&mut text, "orphaned_backup", orphan);
    }
    push_tagged(&mut text, "summary", &report.summary);
    text
}

fn push_tagged<T: Serialize>(text: &mut String, kind: &'static str, item: &T) {
    text.push_str(&serde_json::to_string(&Tagged { kind, item }).unwrap_or_default());
    text.push('\n');
}

/// Volumes not protected first (the report's order), then the orphans, then a summary;
/// REGION and PROJECT columns when the audit spans more than one project.
fn table(report: &CoverageReport) -> String {
    let first = report.scopes.first();
    let many = report.scopes.iter().any(|scope| {
        first.is_some_and(|first| {
            (&first.region, &first.project_id) != (&scope.region, &scope.project_id)
        })
    });
    let placed = |mut row: Vec<String>, region: &str, project: &str| {
        if many {
            row.splice(1..1, [printable(region), printable(project)]);
        }
        row
    };
    let mut rows = vec![placed(
        vec![
            "VERDICT".to_owned(),
            "VOLUME".to_owned(),
            "NAME".to_owned(),
            "GIB".to_owned(),
            "STATUS".to_owned(),
            "NEWEST AVAILABLE BACKUP".to_owned(),
            "BACKUPS".to_owned(),
        ],
        "REGION",
        "PROJECT",
    )];
    rows.extend(report.volumes.iter().map(|volume| {
        placed(
            volume_row(volume, report.audited_at),
            &volume.region,
            &volume.project_id,
        )
    }));
    let mut text = String::new();
    push_table(&mut text, &rows);
    if !report.orphaned_backups.is_empty() {
        let mut rows = vec![placed(
            vec![
                "ORPHANED BACKUP".to_owned(),
                "OF GONE VOLUME".to_owned(),
                "SERVICE".to_owned(),
                "STATUS".to_owned(),
                "GIB".to_owned(),
                "CREATED".to_owned(),
            ],
            "REGION",
            "PROJECT",
        )];
        rows.extend(report.orphaned_backups.iter().map(|orphan| {
            let row = vec![
                printable(&orphan.id),
                printable(&orphan.volume_id),
                orphan.service.to_string(),
                printable(&orphan.status),
                size(orphan.size),
                orphan
                    .created_at
                    .map_or_else(|| "-".to_owned(), |at| at.to_string()),
            ];
            placed(row, &orphan.region, &orphan.project_id)
        }));
        text.push('\n');
        push_table(&mut text, &rows);
    }
    text.push('\n');
    push_summary(&mut text, report);
    text
}

fn volume_row(volume: &VolumeCoverage, now: Timestamp) -> Vec<String> {
    let newest = volume.newest_available_backup.as_ref().map_or_else(
        || "-".to_owned(),
        |newest| {
            format!(
                "{} ({} ago, {})",
                newest.created_at.strftime("%Y-%m-%d %H:%M"),
                age(newest.created_at, now),
                newest.service
            )
        },
    );
    let backups = if volume.backups.is_empty() {
        "none".to_owned()
    } else {
        volume
            .backups
            .iter()
            .map(|(status, count)| format!("{count} {}", printable(status)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    vec![
        volume.verdict.to_string(),
        printable(&volume.id),
        volume
            .name
            .as_deref()
            .map_or_else(|| "-".to_owned(), printable),
        size(volume.size),
        printable(&volume.status),
        newest,
        backups,
    ]
}

fn size(size: Option<u64>) -> String {
    size.map_or_else(|| "-".to_owned(), |size| size.to_string())
}

/// `3d`, `5h`, `12m`: the largest whole unit of the time between `then` and `now`.
fn age(then: Timestamp, now: Timestamp) -> String {
    let seconds = now.as_second().saturating_sub(then.as_second()).max(0);
    match seconds {
        s if s >= 86_400 => format!("{}d", s / 86_400),
        s if s >= 3_600 => format!("{}h", s / 3_600),
        s => format!("{}m", s / 60),
    }
}

/// `7d`, `36h`, `90m`, `45s`: the largest unit that divides `seconds` evenly.
fn duration(seconds: u64) -> String {
    match seconds {
        0 => "0s".to_owned(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn push_table(text: &mut String, rows: &[Vec<String>]) {
    let columns = rows.first().map_or(0, Vec::len);
    let mut widths = vec![0; columns];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in rows {
        let mut line = String::new();
        for (index, (cell, width)) in row.iter().zip(&widths).enumerate() {
            let width = *width;
            if index + 1 == columns {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:width$}  ");
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
}

fn push_summary(text: &mut String, report: &CoverageReport) {
    let summary = &report.summary;
    let counts: Vec<String> = Verdict::ALL
        .iter()
        .map(|verdict| format!("{} {verdict}", summary.count(*verdict)))
        .collect();
    let _ = writeln!(
        text,
        "{} volumes: {} (protected: an available backup at most {} old)",
        summary.volumes,
        counts.join(", "),
        duration(report.max_age_seconds)
    );
    let _ = writeln!(
        text,
        "{} orphaned backups of deleted volumes, {} GiB",
        summary.orphaned_backups, summary.orphaned_gib
    );
    for scope in report.scopes.iter().filter(|scope| !scope.complete) {
        let _ = writeln!(
            text,
            "incomplete: {} of region {} project {}: {}",
            scope.service.as_str(),
            printable(&scope.region),
            printable(&scope.project_id),
            printable(scope.error.as_deref().unwrap_or_default())
        );
    }
}

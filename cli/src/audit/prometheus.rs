//! The report in Prometheus' text exposition format (version 0.0.4), for node_exporter's
//! textfile collector and for pushing: `# HELP` and `# TYPE` on every family, label values
//! escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::Timestamp;
use vbs_backups::coverage::{CoverageReport, ScopeListing, Verdict};

/// Bytes in a GiB: sizes are reported in GiB, the metric in bytes.
const GIB: u64 = 1 << 30;

/// One family being written: its samples follow its `# HELP` and `# TYPE` lines.
struct Family<'a> {
    text: &'a mut String,
    name: &'static str,
}

impl<'a> Family<'a> {
    fn gauge(text: &'a mut String, name: &'static str, help: &str) -> Self {
        let _ = writeln!(text, "# HELP {name} {help}");
        let _ = writeln!(text, "# TYPE {name} gauge");
        Self { text, name }
    }

    fn sample(&mut self, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.text.push_str(self.name);
        if !labels.is_empty() {
            self.text.push('{');
            for (index, (label, value)) in labels.iter().enumerate() {
                if index > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{label}=\"{}\"", escape(value));
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {value}");
    }
}

/// A label value as the format needs it: `\`, `"` and line feeds escaped.
fn escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// Seconds since the Unix epoch, with the milliseconds there are.
fn seconds(time: Timestamp) -> String {
    let millis = time.as_millisecond();
    if millis % 1000 == 0 {
        (millis / 1000).to_string()
    } else {
        format!("{:.3}", millis as f64 / 1000.0)
    }
}

pub fn render(report: &CoverageReport) -> String {
    let mut text = String::new();
    volumes(&mut text, report);
    counts(&mut text, report);
    orphans(&mut text, report);
    let mut family = Family::gauge(
        &mut text,
        "vbs_backups_scope_complete",
        "Whether a listing of the audit (service volumes, vbs or cbr) was read to its end.",
    );
    for scope in &report.scopes {
        family.sample(
            &[
                ("region", &scope.region),
                ("project_id", &scope.project_id),
                ("service", scope.service.as_str()),
            ],
            u8::from(scope.complete),
        );
    }
    let mut family = Family::gauge(
        &mut text,
        "vbs_backups_audit_timestamp_seconds",
        "When the audit judged the ages of the backups, as a Unix time.",
    );
    family.sample(&[], seconds(report.audited_at));
    text
}

fn volumes(text: &mut String, report: &CoverageReport) {
    let mut family = Family::gauge(
        text,
        "vbs_backups_volume_newest_available_backup_timestamp_seconds",
        "When the newest protecting backup (available or restoring) of a volume was created, as a Unix time.",
    );
    for volume in &report.volumes {
        if let Some(newest) = &volume.newest_available_backup {
            family.sample(
                &[
                    ("region", &volume.region),
                    ("project_id", &volume.project_id),
                    ("volume_id", &volume.id),
                ],
                seconds(newest.created_at),
            );
        }
    }
    let mut family = Family::gauge(
        text,
        "vbs_backups_volume_verdict",
        "The verdict of a volume: 1 for its verdict (protected, stale, failing, unprotected, unknown).",
    );
    for volume in &report.volumes {
        family.sample(
            &[
                ("region", &volume.region),
                ("project_id", &volume.project_id),
                ("volume_id", &volume.id),
                ("verdict", volume.verdict.as_str()),
            ],
            1,
        );
    }
}

/// The scopes of the report, each once, in order.
fn scopes(report: &CoverageReport) -> Vec<(&str, &str)> {
    let mut scopes: Vec<(&str, &str)> = report
        .scopes
        .iter()
        .map(|scope| (scope.region.as_str(), scope.project_id.as_str()))
        .collect();
    scopes.dedup();
    scopes
}

fn counts(text: &mut String, report: &CoverageReport) {
    let mut by_verdict: BTreeMap<(&str, &str, Verdict), u64> = BTreeMap::new();
    for volume in &report.volumes {
        *by_verdict
            .entry((&volume.region, &volume.project_id, volume.verdict))
            .or_default() += 1;
    }
    let mut family = Family::gauge(
        text,
        "vbs_backups_volumes",
        "How many volumes got each verdict.",
    );
    for (region, project_id) in scopes(report) {
        for verdict in Verdict::ALL {
            let count = by_verdict
                .get(&(region, project_id, verdict))
                .copied()
                .unwrap_or(0);
            family.sample(
                &[
                    ("region", region),
                    ("project_id", project_id),
                    ("verdict", verdict.as_str()),
                ],
                count,
            );
        }
    }
    let mut family = Family::gauge(
        text,
        "vbs_backups_backups",
        "How many backups were listed, by service and status.",
    );
    for count in &report.backup_counts {
        family.sample(
            &[
                ("region", &count.region),
                ("project_id", &count.project_id),
                ("service", count.service.as_str()),
                ("status", &count.status),
            ],
            count.count,
        );
    }
}

/// Orphans per scope, where the scope's volume listing completed (elsewhere they are not
/// known).
fn orphans(text: &mut String, report: &CoverageReport) {
    let listed: Vec<(&str, &str)> = report
        .scopes
        .iter()
        .filter(|scope| scope.service == ScopeListing::Volumes && scope.complete)
        .map(|scope| (scope.region.as_str(), scope.project_id.as_str()))
        .collect();
    let mut found: BTreeMap<(&str, &str), (u64, u64)> = BTreeMap::new();
    for orphan in &report.orphaned_backups {
        let entry = found
            .entry((&orphan.region, &orphan.project_id))
            .or_default();
        entry.0 += 1;
        entry.1 += orphan.size.unwrap_or(0).saturating_mul(GIB);
    }
    let mut family = Family::gauge(
        text,
        "vbs_backups_orphaned_backups",
        "How many backups belong to a volume that is not listed (deleted).",
    );
    for scope in &listed {
        family.sample(
            &[("region", scope.0), ("project_id", scope.1)],
            found.get(scope).map_or(0, |found| found.0),
        );
    }
    let mut family = Family::gauge(
        text,
        "vbs_backups_orphaned_bytes",
        "The size of the orphaned backups (GiB of the volume each was taken of, times 2^30).",
    );
    for scope in &listed {
        family.sample(
            &[("region", scope.0), ("project_id", scope.1)],
            found.get(scope).map_or(0, |found| found.1),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
        assert_eq!(escape("plain-région"), "plain-région");
    }
}

//! `vbs-backups stats`: one walk over the detail listing, aggregated as the pages come
//! in, then a summary for people (with an age histogram drawn in bars) or one JSON
//! object for scripts.
//!
//! Memory: one counter per distinct status, volume, project and calendar day of creation
//! (at most 366 a year of history), and the current page; never the backups themselves.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::{self, Write};

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use vbs_backups::{BackupDetail, Client, Listing};

use crate::args::{GlobalArgs, ListArgs, StatsArgs, StatsFormat};
use crate::connect;
use crate::histogram::{Histogram, Tally, histogram};
use crate::list;
use crate::numbers::{grouped, plural};
use crate::output::printable;
use crate::pages::{self, End};
use crate::progress::Progress;
use crate::report;
use crate::ui::{Exit, Ui};

/// How many volumes the "largest volumes" list shows.
const LARGEST: usize = 10;
/// The width of the longest histogram bar.
const BAR_WIDTH: usize = 40;

/// Runs `vbs-backups stats`.
pub async fn run(global: &GlobalArgs, args: &StatsArgs, ui: &Ui) -> Exit {
    match summarise(global, args, ui).await {
        Ok(summary) => print(&summary, args.format),
        Err(exit) => exit,
    }
}

/// Walks the listing and sums it up; a failure is reported and comes back as the exit.
async fn summarise(global: &GlobalArgs, args: &StatsArgs, ui: &Ui) -> Result<Summary, Exit> {
    let client = connect::client(global, ui).await?;
    let query = query(&client, args).map_err(|message| {
        report::stderr_line(format_args!("error: {}", printable(&message)));
        Exit::Failed
    })?;
    let mut stats = Stats::default();
    let mut progress = Progress::new(ui.progress_enabled());
    let mut pages = query.pages();
    let read = pages::read(&mut pages, ui, &mut progress, |items| {
        items.iter().for_each(|backup| stats.add(backup));
        Ok(())
    })
    .await;
    drop(pages);
    progress.clear();
    match read.end {
        End::Done => Ok(stats.summary()),
        End::Failed(err) => {
            report::error(&err, None);
            Err(Exit::Failed)
        }
        End::Interrupted => {
            report::stderr_line(format_args!(
                "interrupted after {}: no statistics of a partial walk",
                plural(stats.backups, "backup")
            ));
            Err(Exit::Interrupted)
        }
        End::Output(err) => {
            report::stderr_line(format_args!("error: {err}"));
            Err(Exit::Failed)
        }
    }
}

/// Writes the figures to stdout in `format`.
fn print(summary: &Summary, format: StatsFormat) -> Exit {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let written = match format {
        StatsFormat::Json => serde_json::to_writer_pretty(&mut out, summary)
            .map_err(|err| match err.io_error_kind() {
                Some(kind) => io::Error::new(kind, err),
                None => io::Error::other(err),
            })
            .and_then(|()| out.write_all(b"\n")),
        StatsFormat::Text => out.write_all(summary.text().as_bytes()),
    }
    .and_then(|()| out.flush());
    match written {
        Ok(()) => Exit::Ok,
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Exit::Ok,
        Err(err) => {
            report::stderr_line(format_args!("error: cannot write the output: {err}"));
            Exit::Failed
        }
    }
}

/// The detail listing of `args`' filters: those of `list`.
fn query(client: &Client, args: &StatsArgs) -> Result<Listing<BackupDetail>, String> {
    let mut query = client.backups();
    if let Some(status) = &args.status {
        query = query.status(status.as_str());
    }
    if let Some(name) = &args.name {
        query = query.name(name);
    }
    if let Some(volume_id) = &args.volume_id {
        query = query.volume_id(volume_id);
    }
    if let Some(page_size) = args.page_size {
        query = query.page_size(page_size);
    }
    if let Some(prefetch) = args.prefetch {
        query = query.prefetch(prefetch);
    }
    let mut query = query.detail();
    if let Some(before) = args.created_before {
        query = query.created_before(before.system_time());
    }
    if let Some(after) = args.created_after {
        query = query.created_after(after.system_time());
    }
    let whole = ListArgs {
        all_projects: args.all_projects,
        project_filter: args.project_filter.clone(),
        ..ListArgs::default()
    };
    if whole.whole_cloud() {
        list::whole_cloud(client, query, &whole)
    } else {
        Ok(query)
    }
}

/// What the walk has seen so far.
#[derive(Debug, Default)]
pub struct Stats {
    backups: u64,
    size_gib: u128,
    without_size: u64,
    by_status: BTreeMap<String, Tally>,
    by_volume: HashMap<String, Tally>,
    without_volume: u64,
    by_project: BTreeMap<String, Tally>,
    oldest: Option<(Timestamp, String)>,
    newest: Option<(Timestamp, String)>,
    without_created_at: u64,
    /// Backups created on each UTC day.
    by_day: BTreeMap<Date, Tally>,
}

impl Stats {
    pub fn add(&mut self, backup: &BackupDetail) {
        let size = backup.size.unwrap_or(0);
        self.backups += 1;
        self.size_gib += u128::from(size);
        if backup.size.is_none() {
            self.without_size += 1;
        }
        tally(&mut self.by_status, backup.status.as_str(), size);
        match &backup.volume_id {
            Some(volume) => match self.by_volume.get_mut(volume) {
                Some(counts) => counts.add(size),
                None => {
                    let mut counts = Tally::default();
                    counts.add(size);
                    self.by_volume.insert(volume.clone(), counts);
                }
            },
            None => self.without_volume += 1,
        }
        if let Some(project) = &backup.project_id {
            tally(&mut self.by_project, project, size);
        }
        let Some(created) = backup.created_at else {
            self.without_created_at += 1;
            return;
        };
        // Ties (backups created in the same instant) go to the smallest id for the oldest
        // and the largest for the newest, whatever order the pages came in.
        let key = (created, backup.id.as_str());
        let older = self
            .oldest
            .as_ref()
            .is_none_or(|(at, id)| key < (*at, id.as_str()));
        if older {
            self.oldest = Some((created, backup.id.clone()));
        }
        let newer = self
            .newest
            .as_ref()
            .is_none_or(|(at, id)| key > (*at, id.as_str()));
        if newer {
            self.newest = Some((created, backup.id.clone()));
        }
        let day = jiff::tz::Offset::UTC.to_datetime(created).date();
        self.by_day.entry(day).or_default().add(size);
    }

    pub fn summary(self) -> Summary {
        let mut largest: Vec<VolumeTally> = self
            .by_volume
            .iter()
            .map(|(volume_id, tally)| VolumeTally {
                volume_id: volume_id.clone(),
                backups: tally.backups,
                size_gib: tally.size_gib,
            })
            .collect();
        largest.sort_by(|a, b| {
            b.size_gib
                .cmp(&a.size_gib)
                .then(b.backups.cmp(&a.backups))
                .then_with(|| a.volume_id.cmp(&b.volume_id))
        });
        largest.truncate(LARGEST);
        let mut per_volume: Vec<u64> = self.by_volume.values().map(|t| t.backups).collect();
        per_volume.sort_unstable();
        let backups_per_volume = (!per_volume.is_empty()).then(|| PerVolume {
            min: per_volume.first().copied().unwrap_or(0),
            median: median(&per_volume),
            max: per_volume.last().copied().unwrap_or(0),
        });
        let histogram = histogram(&self.by_day);
        Summary {
            backups: self.backups,
            size_gib: self.size_gib,
            without_size: self.without_size,
            by_status: self.by_status,
            by_project: (!self.by_project.is_empty()).then_some(self.by_project),
            oldest: self.oldest.map(|(at, id)| Dated { id, created_at: at }),
            newest: self.newest.map(|(at, id)| Dated { id, created_at: at }),
            without_created_at: self.without_created_at,
            volumes: self.by_volume.len() as u64,
            without_volume: self.without_volume,
            backups_per_volume,
            largest_volumes: largest,
            histogram,
        }
    }
}

fn tally(map: &mut BTreeMap<String, Tally>, key: &str, size: u64) {
    match map.get_mut(key) {
        Some(counts) => counts.add(size),
        None => {
            let mut counts = Tally::default();
            counts.add(size);
            map.insert(key.to_owned(), counts);
        }
    }
}

/// The median of sorted `values`: the lower middle one for an even count, so that it is
/// always a count that occurs.
fn median(sorted: &[u64]) -> u64 {
    sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0)
}

/// Every figure of `stats`, as printed and as JSON.
#[derive(Debug, Serialize)]
pub struct Summary {
    backups: u64,
    size_gib: u128,
    /// Backups the server gave no size for (counted as 0 GiB).
    without_size: u64,
    by_status: BTreeMap<String, Tally>,
    /// Per project, when the server said (an admin's whole-cloud listing).
    #[serde(skip_serializing_if = "Option::is_none")]
    by_project: Option<BTreeMap<String, Tally>>,
    oldest: Option<Dated>,
    newest: Option<Dated>,
    without_created_at: u64,
    /// Distinct volumes with at least one backup listed.
    volumes: u64,
    without_volume: u64,
    backups_per_volume: Option<PerVolume>,
    largest_volumes: Vec<VolumeTally>,
    histogram: Histogram,
}

#[derive(Debug, Serialize)]
struct Dated {
    id: String,
    created_at: Timestamp,
}

#[derive(Debug, Serialize)]
struct PerVolume {
    min: u64,
    median: u64,
    max: u64,
}

#[derive(Debug, Serialize)]
struct VolumeTally {
    volume_id: String,
    backups: u64,
    size_gib: u128,
}

impl Summary {
    /// The summary for people: figures, tables and the histogram's bars. Server text
    /// (ids, statuses) is escaped so that it cannot drive the terminal.
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.write_totals(&mut out);
        self.write_tables(&mut out);
        self.write_volumes(&mut out);
        write_histogram(&mut out, &self.histogram);
        out
    }

    /// The total, the oldest and the newest backup.
    fn write_totals(&self, out: &mut String) {
        let count = |n: u64| plural(n, "backup");
        let _ = writeln!(
            out,
            "total     {}, {} GiB",
            count(self.backups),
            grouped(self.size_gib)
        );
        if self.without_size > 0 {
            let _ = writeln!(
                out,
                "          ({} without a size)",
                count(self.without_size)
            );
        }
        for (label, dated) in [("oldest", &self.oldest), ("newest", &self.newest)] {
            if let Some(dated) = dated {
                let _ = writeln!(
                    out,
                    "{label}    {}  {}",
                    dated.created_at,
                    printable(&dated.id)
                );
            }
        }
    }

    /// By status, by project, and the largest volumes.
    fn write_tables(&self, out: &mut String) {
        let escaped = |map: &BTreeMap<String, Tally>| -> Vec<(String, Tally)> {
            map.iter()
                .map(|(name, tally)| (printable(name), *tally))
                .collect()
        };
        let _ = writeln!(out, "\nby status");
        tallies(out, &escaped(&self.by_status));
        if let Some(projects) = &self.by_project {
            let _ = writeln!(out, "\nby project");
            tallies(out, &escaped(projects));
        }
        let _ = writeln!(out, "\nlargest volumes, by backup size");
        let volumes: Vec<(String, Tally)> = self
            .largest_volumes
            .iter()
            .map(|volume| {
                let tally = Tally {
                    backups: volume.backups,
                    size_gib: volume.size_gib,
                };
                (printable(&volume.volume_id), tally)
            })
            .collect();
        tallies(out, &volumes);
    }

    /// How many volumes, and backups per volume.
    fn write_volumes(&self, out: &mut String) {
        let number = |n: u64| grouped(u128::from(n));
        let _ = write!(
            out,
            "\nbackups per volume: {} volumes",
            number(self.volumes)
        );
        if let Some(per) = &self.backups_per_volume {
            let _ = write!(
                out,
                ", min {}, median {}, max {}",
                number(per.min),
                number(per.median),
                number(per.max)
            );
        }
        if self.without_volume > 0 {
            let _ = write!(
                out,
                "; {} without a volume",
                plural(self.without_volume, "backup")
            );
        }
        let _ = writeln!(out);
    }
}

/// The histogram's bars, and the backups it counts apart.
fn write_histogram(out: &mut String, histogram: &Histogram) {
    let _ = writeln!(out, "\ncreated per {}", histogram.unit);
    let widest = histogram
        .buckets
        .iter()
        .map(|bucket| bucket.backups)
        .max()
        .unwrap_or(0);
    for bucket in &histogram.buckets {
        let bar = if widest == 0 {
            0
        } else {
            let scaled = u128::from(bucket.backups) * BAR_WIDTH as u128 / u128::from(widest);
            // A bucket with any backup shows at least one mark.
            usize::try_from(scaled)
                .unwrap_or(BAR_WIDTH)
                .max(usize::from(bucket.backups > 0))
        };
        let _ = writeln!(
            out,
            "  {}  {:<width$}  {}",
            bucket.start,
            "#".repeat(bar),
            grouped(u128::from(bucket.backups)),
            width = BAR_WIDTH
        );
    }
    for (side, apart) in [("earlier", &histogram.earlier), ("later", &histogram.later)] {
        if let Some(apart) = apart {
            let _ = writeln!(
                out,
                "  not drawn: {} created {side}, from {} to {}, {} GiB",
                plural(apart.backups, "backup"),
                apart.first,
                apart.last,
                grouped(apart.size_gib)
            );
        }
    }
}

/// Rows of `name  backups  size`, aligned.
fn tallies(out: &mut String, rows: &[(String, Tally)]) {
    let name_width = rows.iter().map(|(name, _)| name.chars().count()).max();
    let count = |tally: &Tally| grouped(u128::from(tally.backups));
    let count_width = rows.iter().map(|(_, t)| count(t).len()).max();
    let size_width = rows.iter().map(|(_, t)| grouped(t.size_gib).len()).max();
    for (name, tally) in rows {
        let _ = writeln!(
            out,
            "  {name:<nw$}  {:>cw$} backups  {:>sw$} GiB",
            count(tally),
            grouped(tally.size_gib),
            nw = name_width.unwrap_or(0),
            cw = count_width.unwrap_or(0),
            sw = size_width.unwrap_or(0),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_a_count_that_occurs() {
        assert_eq!(median(&[]), 0);
        assert_eq!(median(&[3]), 3);
        assert_eq!(median(&[1, 2, 9, 10]), 2);
        assert_eq!(median(&[1, 2, 9]), 2);
    }
}

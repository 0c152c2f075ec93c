//! `vbs-backups stats`: one walk over the detail listing, aggregated as the pages come
//! in, then a summary for people (with an age histogram drawn in bars) or one JSON
//! object for scripts.
//!
//! Memory: one counter per distinct status, volume, project and calendar day of creation
//! (at most 366 a year of history), and the current page; never the backups themselves.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::{self, Write};

use futures::StreamExt;
use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use serde::Serialize;
use vbs_backups::{BackupDetail, Client, Listing};

use crate::args::{GlobalArgs, ListArgs, StatsArgs, StatsFormat};
use crate::list;
use crate::output::printable;
use crate::progress::Progress;
use crate::report;
use crate::ui::{Exit, Ui};

/// How many volumes the "largest volumes" list shows.
const LARGEST: usize = 10;
/// The width of the longest histogram bar.
const BAR_WIDTH: usize = 40;

/// Runs `vbs-backups stats`.
pub async fn run(global: &GlobalArgs, args: &StatsArgs, ui: &Ui) -> Exit {
    let mut interrupt = ui.interrupt();
    let connected = tokio::select! {
        biased;
        () = interrupt.wait() => {
            report::stderr_line("interrupted while connecting");
            return Exit::Interrupted;
        }
        connected = list::connect(global) => connected,
    };
    let client = match connected {
        Ok(client) => client,
        Err(err) => {
            report::error(&err, None);
            return Exit::Failed;
        }
    };
    let query = match query(&client, args) {
        Ok(query) => query,
        Err(message) => {
            report::stderr_line(format_args!("error: {}", printable(&message)));
            return Exit::Failed;
        }
    };
    let mut stats = Stats::default();
    let mut progress = Progress::new(ui.progress_enabled());
    let mut pages = query.pages();
    let end = loop {
        let next = tokio::select! {
            biased;
            () = interrupt.wait() => break Err(None),
            next = pages.next() => next,
        };
        match next {
            None => break Ok(()),
            Some(Err(err)) => break Err(Some(err)),
            Some(Ok(page)) => {
                progress.page(page.len(), pages.total());
                for backup in &page.items {
                    stats.add(backup);
                }
            }
        }
    };
    drop(pages);
    progress.clear();
    match end {
        Ok(()) => {}
        Err(Some(err)) => {
            report::error(&err, None);
            return Exit::Failed;
        }
        Err(None) => {
            report::stderr_line(format_args!(
                "interrupted after {}: no statistics of a partial walk",
                list::plural(stats.backups, "backup")
            ));
            return Exit::Interrupted;
        }
    }
    let summary = stats.summary();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let written = match args.format {
        StatsFormat::Json => serde_json::to_writer_pretty(&mut out, &summary)
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

/// A count and a total size.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Backups.
    pub backups: u64,
    /// Their sizes added up, in GiB (a backup without a size counts 0).
    pub size_gib: u64,
}

impl Tally {
    fn add(&mut self, size: u64) {
        self.backups += 1;
        self.size_gib = self.size_gib.saturating_add(size);
    }
}

/// What the walk has seen so far.
#[derive(Debug, Default)]
pub struct Stats {
    backups: u64,
    size_gib: u64,
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
        self.size_gib = self.size_gib.saturating_add(size);
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
        let histogram = histogram(&self.by_day, self.oldest.as_ref(), self.newest.as_ref());
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
    size_gib: u64,
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
    size_gib: u64,
}

/// Backups by creation time, in buckets of one unit from the oldest's to the newest's,
/// empty buckets included.
#[derive(Debug, Serialize)]
struct Histogram {
    /// `day` for a span up to 60 days, `week` (starting on Monday) up to a year, else
    /// `month`.
    unit: &'static str,
    buckets: Vec<Bucket>,
}

#[derive(Debug, Serialize)]
struct Bucket {
    /// The first day of the bucket (UTC).
    start: Date,
    backups: u64,
    size_gib: u64,
}

/// Groups the per-day counts into days, weeks or months, as the span asks.
fn histogram(
    by_day: &BTreeMap<Date, Tally>,
    oldest: Option<&(Timestamp, String)>,
    newest: Option<&(Timestamp, String)>,
) -> Histogram {
    let (Some((first, _)), Some((last, _))) = (oldest, newest) else {
        return Histogram {
            unit: "day",
            buckets: Vec::new(),
        };
    };
    let span_days = last.duration_since(*first).as_secs() / 86_400;
    let unit = match span_days {
        0..=60 => "day",
        61..=366 => "week",
        _ => "month",
    };
    let start_of = |day: Date| -> Date {
        match unit {
            "day" => day,
            "week" => {
                let back = i64::from(day.weekday().since(Weekday::Monday));
                day.checked_sub(jiff::Span::new().days(back)).unwrap_or(day)
            }
            _ => day.first_of_month(),
        }
    };
    let next_of = |start: Date| -> Option<Date> {
        match unit {
            "day" => start.tomorrow().ok(),
            "week" => start.checked_add(jiff::Span::new().days(7)).ok(),
            _ => start.last_of_month().tomorrow().ok(),
        }
    };
    let mut grouped: BTreeMap<Date, Tally> = BTreeMap::new();
    for (day, tally) in by_day {
        let bucket = grouped.entry(start_of(*day)).or_default();
        bucket.backups += tally.backups;
        bucket.size_gib = bucket.size_gib.saturating_add(tally.size_gib);
    }
    let mut buckets = Vec::new();
    let (Some(first), Some(last)) = (
        grouped.keys().next().copied(),
        grouped.keys().next_back().copied(),
    ) else {
        return Histogram { unit, buckets };
    };
    let mut at = Some(first);
    while let Some(start) = at.filter(|start| *start <= last) {
        let tally = grouped.get(&start).copied().unwrap_or_default();
        buckets.push(Bucket {
            start,
            backups: tally.backups,
            size_gib: tally.size_gib,
        });
        at = next_of(start);
    }
    Histogram { unit, buckets }
}

impl Summary {
    /// The summary for people: figures, tables and the histogram's bars. Server text
    /// (ids, statuses) is escaped so that it cannot drive the terminal.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let count = |n: u64| list::plural(n, "backup");
        let _ = writeln!(
            out,
            "total     {}, {} GiB",
            count(self.backups),
            group(self.size_gib)
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
        let _ = writeln!(out, "\nby status");
        let statuses: Vec<(String, &Tally)> = self
            .by_status
            .iter()
            .map(|(status, tally)| (printable(status), tally))
            .collect();
        tallies(&mut out, &statuses);
        if let Some(projects) = &self.by_project {
            let _ = writeln!(out, "\nby project");
            let projects: Vec<(String, &Tally)> = projects
                .iter()
                .map(|(project, tally)| (printable(project), tally))
                .collect();
            tallies(&mut out, &projects);
        }
        let _ = writeln!(out, "\nlargest volumes, by backup size");
        let volumes: Vec<(String, Tally)> = self
            .largest_volumes
            .iter()
            .map(|volume| {
                (
                    printable(&volume.volume_id),
                    Tally {
                        backups: volume.backups,
                        size_gib: volume.size_gib,
                    },
                )
            })
            .collect();
        let volumes: Vec<(String, &Tally)> = volumes.iter().map(|(v, t)| (v.clone(), t)).collect();
        tallies(&mut out, &volumes);
        let _ = write!(out, "\nbackups per volume: {} volumes", group(self.volumes));
        if let Some(per) = &self.backups_per_volume {
            let _ = write!(
                out,
                ", min {}, median {}, max {}",
                group(per.min),
                group(per.median),
                group(per.max)
            );
        }
        if self.without_volume > 0 {
            let _ = write!(out, "; {} without a volume", count(self.without_volume));
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "\ncreated per {}", self.histogram.unit);
        let widest = self
            .histogram
            .buckets
            .iter()
            .map(|bucket| bucket.backups)
            .max()
            .unwrap_or(0);
        for bucket in &self.histogram.buckets {
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
                group(bucket.backups),
                width = BAR_WIDTH
            );
        }
        out
    }
}

/// Rows of `name  backups  size`, aligned.
fn tallies(out: &mut String, rows: &[(String, &Tally)]) {
    let name_width = rows.iter().map(|(name, _)| name.chars().count()).max();
    let count_width = rows.iter().map(|(_, t)| group(t.backups).len()).max();
    let size_width = rows.iter().map(|(_, t)| group(t.size_gib).len()).max();
    for (name, tally) in rows {
        let _ = writeln!(
            out,
            "  {name:<nw$}  {:>cw$} backups  {:>sw$} GiB",
            group(tally.backups),
            group(tally.size_gib),
            nw = name_width.unwrap_or(0),
            cw = count_width.unwrap_or(0),
            sw = size_width.unwrap_or(0),
        );
    }
}

/// `12345` → `12,345`.
fn group(n: u64) -> String {
    let plural = list::plural(n, "x");
    plural
        .trim_end_matches(" xs")
        .trim_end_matches(" x")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(group(0), "0");
        assert_eq!(group(1), "1");
        assert_eq!(group(12_345), "12,345");
    }

    #[test]
    fn the_median_is_a_count_that_occurs() {
        assert_eq!(median(&[]), 0);
        assert_eq!(median(&[3]), 3);
        assert_eq!(median(&[1, 2, 9, 10]), 2);
        assert_eq!(median(&[1, 2, 9]), 2);
    }

    fn day(text: &str) -> Date {
        text.parse().unwrap_or_else(|err| panic!("{text}: {err}"))
    }

    fn at(text: &str) -> (Timestamp, String) {
        (
            text.parse().unwrap_or_else(|err| panic!("{text}: {err}")),
            String::new(),
        )
    }

    #[test]
    fn the_histogram_unit_follows_the_span_and_empty_buckets_stay() {
        let one = Tally {
            backups: 1,
            size_gib: 2,
        };
        let days = BTreeMap::from([(day("2024-01-01"), one), (day("2024-01-03"), one)]);
        let h = histogram(
            &days,
            Some(&at("2024-01-01T10:00:00Z")),
            Some(&at("2024-01-03T10:00:00Z")),
        );
        assert_eq!(h.unit, "day");
        let counts: Vec<u64> = h.buckets.iter().map(|b| b.backups).collect();
        assert_eq!(counts, [1, 0, 1]);

        let days = BTreeMap::from([(day("2024-01-03"), one), (day("2024-04-10"), one)]);
        let h = histogram(
            &days,
            Some(&at("2024-01-03T00:00:00Z")),
            Some(&at("2024-04-10T00:00:00Z")),
        );
        assert_eq!(h.unit, "week");
        // 2024-01-03 is a Wednesday: its week starts on Monday the 1st.
        assert_eq!(h.buckets[0].start, day("2024-01-01"));
        assert_eq!(h.buckets.iter().map(|b| b.backups).sum::<u64>(), 2);

        let days = BTreeMap::from([(day("2023-01-15"), one), (day("2024-03-02"), one)]);
        let h = histogram(
            &days,
            Some(&at("2023-01-15T00:00:00Z")),
            Some(&at("2024-03-02T00:00:00Z")),
        );
        assert_eq!(h.unit, "month");
        assert_eq!(h.buckets.len(), 15);
        assert_eq!(h.buckets[0].start, day("2023-01-01"));
        assert_eq!(h.buckets[14].start, day("2024-03-01"));
    }
}

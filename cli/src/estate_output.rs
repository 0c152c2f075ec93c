//! How an estate walk is written: each backup with its region, project (and service),
//! the checkpoint file, and the summary line of each scope.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use vbs_backups::{Checkpoint, EstateBackup, ScopeOutcome, ScopeResult, Scoped};

use crate::args::Format;
use crate::output::{csv_cell, printable};

/// Table column widths, in the order of [`COLUMNS`]: wide enough for the usual region
/// names, project ids, UUIDs and timestamps, so rows line up without waiting for the
/// whole listing; a longer value pushes its row out.
const WIDTHS: [usize; 8] = [14, 32, 7, 36, 10, 6, 20, 0];

/// The columns of an estate in a table or CSV: the scope's, then what both services'
/// backups have.
const COLUMNS: [&str; 8] = [
    "REGION",
    "PROJECT",
    "SERVICE",
    "ID",
    "STATUS",
    "SIZE",
    "CREATED_AT",
    "NAME",
];

/// Writes an estate's backups in one format, the scope's columns first.
pub struct EstateWriter<W: Write> {
    out: W,
    format: Format,
    /// Whether more than one service is walked, so that the service is worth a column.
    services: bool,
    written: u64,
}

impl<W: Write> EstateWriter<W> {
    pub fn new(out: W, format: Format, services: bool) -> Self {
        Self {
            out,
            format,
            services,
            written: 0,
        }
    }

    /// The columns shown, for the header.
    fn columns(&self) -> Vec<&'static str> {
        COLUMNS
            .iter()
            .copied()
            .filter(|column| self.services || *column != "SERVICE")
            .collect()
    }

    /// Writes one backup (and the header or the array's opening before the first).
    pub fn item(&mut self, backup: &Scoped<EstateBackup>) -> io::Result<()> {
        if self.written == 0 {
            self.start()?;
        }
        match self.format {
            Format::Json | Format::Ndjson => {
                if self.format == Format::Json && self.written > 0 {
                    self.out.write_all(b",\n")?;
                }
                let json = self.json(backup)?;
                serde_json::to_writer(&mut self.out, &json)?;
                if self.format == Format::Ndjson {
                    self.out.write_all(b"\n")?;
                }
            }
            Format::Csv => {
                let cells: Vec<String> = self.cells(backup).into_iter().map(csv_cell).collect();
                writeln!(self.out, "{}", csv_line(&cells))?;
            }
            Format::Table => {
                let cells: Vec<String> = self.cells(backup).iter().map(|c| printable(c)).collect();
                writeln!(self.out, "{}", self.table_line(&cells))?;
            }
        }
        self.written += 1;
        Ok(())
    }

    fn start(&mut self) -> io::Result<()> {
        match self.format {
            Format::Json => self.out.write_all(b"[\n"),
            Format::Ndjson => Ok(()),
            Format::Csv => {
                let header: Vec<String> = self
                    .columns()
                    .iter()
                    .map(|column| column.to_ascii_lowercase())
                    .map(|column| {
                        if column == "project" {
                            "project_id".to_owned()
                        } else {
                            column
                        }
                    })
                    .collect();
                writeln!(self.out, "{}", header.join(","))
            }
            Format::Table => {
                let header: Vec<String> = self
                    .columns()
                    .iter()
                    .map(|column| (*column).to_owned())
                    .collect();
                let line = self.table_line(&header);
                writeln!(self.out, "{line}")
            }
        }
    }

    /// A table row: each cell padded to its column's width (SIZE to the right).
    fn table_line(&self, cells: &[String]) -> String {
        let widths: Vec<usize> = COLUMNS
            .iter()
            .zip(WIDTHS)
            .filter(|(column, _)| self.services || **column != "SERVICE")
            .map(|(_, width)| width)
            .collect();
        let titles = self.columns();
        let padded: Vec<String> = cells
            .iter()
            .zip(widths.iter().zip(titles))
            .map(|(cell, (width, title))| match title {
                "SIZE" => format!("{cell:>width$}"),
                _ => format!("{cell:<width$}"),
            })
            .collect();
        padded.join("  ").trim_end().to_owned()
    }

    /// Flushes what was written: before a checkpoint may say it was delivered.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Closes the JSON array (an empty one when nothing was written) and flushes.
    pub fn finish(&mut self) -> io::Result<()> {
        match (self.format, self.written) {
            (Format::Json, 0) => self.out.write_all(b"[]\n")?,
            (Format::Json, _) => self.out.write_all(b"\n]\n")?,
            _ => {}
        }
        self.out.flush()
    }

    /// The backup as JSON, with `region`, `project_id`, (for several services) `service`
    /// and (for a clouds.yaml cloud) `cloud` from its scope.
    fn json(&self, backup: &Scoped<EstateBackup>) -> io::Result<Value> {
        let value = match &backup.item {
            EstateBackup::Vbs(detail) => serde_json::to_value(detail),
            EstateBackup::Cbr(cbr) => serde_json::to_value(cbr),
            _ => Ok(Value::Null),
        }?;
        let mut object = match value {
            Value::Object(object) => object,
            other => Map::from_iter([("backup".to_owned(), other)]),
        };
        object.insert("region".to_owned(), backup.scope.region.clone().into());
        object.insert(
            "project_id".to_owned(),
            backup.scope.project_id.clone().into(),
        );
        if self.services {
            object.insert("service".to_owned(), backup.scope.service.as_str().into());
        }
        if let Some(cloud) = &backup.scope.cloud {
            object.insert("cloud".to_owned(), cloud.clone().into());
        }
        Ok(Value::Object(object))
    }

    fn cells(&self, backup: &Scoped<EstateBackup>) -> Vec<String> {
        let (id, status, size, created, name) = match &backup.item {
            EstateBackup::Vbs(b) => (
                b.id.clone(),
                b.status.as_str().to_owned(),
                b.size.map(|size| size.to_string()),
                b.created_at.map(|at| at.to_string()),
                b.name.clone(),
            ),
            EstateBackup::Cbr(b) => (
                b.id.clone(),
                b.status.as_str().to_owned(),
                b.resource_size.map(|size| size.to_string()),
                b.created_at.map(|at| at.to_string()),
                b.name.clone(),
            ),
            _ => Default::default(),
        };
        let mut cells = vec![backup.scope.region.clone(), backup.scope.project_id.clone()];
        if self.services {
            cells.push(backup.scope.service.as_str().to_owned());
        }
        cells.extend([
            id,
            status,
            size.unwrap_or_default(),
            created.unwrap_or_default(),
            name.unwrap_or_default(),
        ]);
        cells
    }
}

/// A CSV line of already-guarded cells, quoted where needed.
fn csv_line(cells: &[String]) -> String {
    cells
        .iter()
        .map(|cell| {
            if cell.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", cell.replace('"', "\"\""))
            } else {
                cell.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Writes `checkpoint` to `path` atomically: a temporary file beside it, then a rename,
/// so a run killed at any moment leaves the old checkpoint or the new one, never half.
pub fn save_checkpoint(path: &Path, checkpoint: &Checkpoint) -> io::Result<()> {
    let json = serde_json::to_vec_pretty(checkpoint)?;
    let temporary = temporary_path(path);
    {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(&json)?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

/// The checkpoint saved at `path`, if there is one.
pub fn load_checkpoint(path: &Path) -> Result<Option<Checkpoint>, String> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|err| format!("--checkpoint {}: not a checkpoint: {err}", path.display())),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(format!("--checkpoint {}: {err}", path.display())),
    }
}

/// One line for a scope's outcome: where, how many, and complete or why not.
pub fn summary_line(outcome: &ScopeOutcome) -> String {
    let scope = &outcome.scope;
    let name = scope
        .project_name
        .as_deref()
        .map(|name| format!(" ({})", printable(name)))
        .unwrap_or_default();
    let cloud = scope
        .cloud
        .as_deref()
        .map(|cloud| format!("{}/", printable(cloud)))
        .unwrap_or_default();
    let state = match &outcome.result {
        ScopeResult::Complete {
            warning: Some(warning),
            ..
        } => format!("complete, warning: {}", printable(warning)),
        ScopeResult::Complete {
            server_total: Some(total),
            ..
        } => format!("complete, as the server counted ({total})"),
        ScopeResult::Complete { .. } => "complete".to_owned(),
        ScopeResult::Failed { error, .. } => {
            format!("failed: {}", printable(&crate::report::one_line(error)))
        }
        _ => "unknown".to_owned(),
    };
    format!(
        "{cloud}{} {}{name} {}: {} backups, {state}",
        printable(&scope.region),
        printable(&scope.project_id),
        scope.service,
        outcome.delivered
    )
}

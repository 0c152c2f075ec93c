//! Writing backups to stdout, a page at a time: table, JSON array, NDJSON and CSV.
//!
//! Every format writes each page as it arrives and flushes once per page, so a reader at
//! the other end of a pipe sees lines as soon as a page has come in, and a closed pipe is
//! noticed at the next page at the latest.

use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;
use vbs_backups::{BackupDetail, BackupSummary, CbrBackup, Listed, Listing};

use crate::args::Format;

/// An item the command can print: a summary or a detail record.
///
/// Its fields, for `--fields`, are the columns of its CSV header.
pub trait Record: Listed + Serialize {
    /// The table's column titles; the last column is not padded.
    const TABLE_HEADER: &'static [&'static str];
    /// Columns whose values are aligned to the right.
    const TABLE_RIGHT: &'static [bool];
    /// The CSV header row.
    const CSV_HEADER: &'static [&'static str];

    /// The table cells, in the order of [`TABLE_HEADER`](Self::TABLE_HEADER).
    fn table_row(&self) -> Vec<String>;
    /// The CSV fields, in the order of [`CSV_HEADER`](Self::CSV_HEADER); nulls are empty.
    fn csv_row(&self) -> Vec<String>;
    /// Writes the item as one line of JSON (no newline).
    fn write_json(&self, out: &mut dyn Write) -> serde_json::Result<()>;

    /// The project the item belongs to, where the server said (an admin's detail listing).
    fn project(&self) -> Option<&str> {
        None
    }

    /// Whether `query` lists several projects' items, so that a table needs their project.
    fn spans_projects(_query: &Listing<Self>) -> bool {
        false
    }
}

/// What `list` prints of a summary: its id and name, nothing else.
#[derive(Serialize)]
struct SummaryJson<'a> {
    id: &'a str,
    name: Option<&'a str>,
}

impl Record for BackupSummary {
    const TABLE_HEADER: &'static [&'static str] = &["ID", "NAME"];
    const TABLE_RIGHT: &'static [bool] = &[false, false];
    const CSV_HEADER: &'static [&'static str] = &["id", "name"];

    fn table_row(&self) -> Vec<String> {
        vec![printable(&self.id), optional(self.name.as_deref())]
    }

    fn csv_row(&self) -> Vec<String> {
        vec![self.id.clone(), self.name.clone().unwrap_or_default()]
    }

    fn write_json(&self, out: &mut dyn Write) -> serde_json::Result<()> {
        let json = SummaryJson {
            id: &self.id,
            name: self.name.as_deref(),
        };
        serde_json::to_writer(out, &json)
    }
}

impl Record for BackupDetail {
    fn project(&self) -> Option<&str> {
        self.project_id.as_deref()
    }

    fn spans_projects(query: &Listing<Self>) -> bool {
        query.spans_projects()
    }

    const TABLE_HEADER: &'static [&'static str] = &["ID", "STATUS", "SIZE", "CREATED_AT", "NAME"];
    const TABLE_RIGHT: &'static [bool] = &[false, false, true, false, false];
    const CSV_HEADER: &'static [&'static str] = &[
        "id",
        "name",
        "status",
        "size",
        "object_count",
        "volume_id",
        "snapshot_id",
        "container",
        "availability_zone",
        "description",
        "fail_reason",
        "is_incremental",
        "has_dependent_backups",
        "created_at",
        "updated_at",
        "data_timestamp",
        "user_id",
        "project_id",
        "metadata",
    ];

    fn table_row(&self) -> Vec<String> {
        vec![
            printable(&self.id),
            printable(self.status.as_str()),
            self.size.map(|size| size.to_string()).unwrap_or_default(),
            self.created_at
                .map(|at| at.to_string())
                .unwrap_or_else(|| "-".to_owned()),
            optional(self.name.as_deref()),
        ]
    }

    fn csv_row(&self) -> Vec<String> {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        vec![
            self.id.clone(),
            text(&self.name),
            self.status.as_str().to_owned(),
            shown(self.size),
            shown(self.object_count),
            text(&self.volume_id),
            text(&self.snapshot_id),
            text(&self.container),
            text(&self.availability_zone),
            text(&self.description),
            text(&self.fail_reason),
            shown(self.is_incremental),
            shown(self.has_dependent_backups),
            shown(self.created_at),
            shown(self.updated_at),
            shown(self.data_timestamp),
            text(&self.user_id),
            text(&self.project_id),
            if self.metadata.is_empty() {
                String::new()
            } else {
                serde_json::to_string(&self.metadata).unwrap_or_default()
            },
        ]
    }

    fn write_json(&self, out: &mut dyn Write) -> serde_json::Result<()> {
        serde_json::to_writer(out, self)
    }
}

impl Record for CbrBackup {
    const TABLE_HEADER: &'static [&'static str] = &[
        "ID",
        "STATUS",
        "SIZE",
        "RESOURCE_TYPE",
        "RESOURCE",
        "CREATED_AT",
        "NAME",
    ];
    const TABLE_RIGHT: &'static [bool] = &[false, false, true, false, false, false, false];
    const CSV_HEADER: &'static [&'static str] = &[
        "id",
        "name",
        "status",
        "resource_id",
        "resource_type",
        "resource_name",
        "resource_size",
        "vault_id",
        "image_type",
        "created_at",
        "expired_at",
    ];

    fn table_row(&self) -> Vec<String> {
        vec![
            printable(&self.id),
            printable(self.status.as_str()),
            shown(self.resource_size),
            optional(self.resource_type.as_deref()),
            optional(
                self.resource_name
                    .as_deref()
                    .or(self.resource_id.as_deref()),
            ),
            self.created_at
                .map(|at| at.to_string())
                .unwrap_or_else(|| "-".to_owned()),
            optional(self.name.as_deref()),
        ]
    }

    fn csv_row(&self) -> Vec<String> {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        vec![
            self.id.clone(),
            text(&self.name),
            self.status.as_str().to_owned(),
            text(&self.resource_id),
            text(&self.resource_type),
            text(&self.resource_name),
            shown(self.resource_size),
            text(&self.vault_id),
            text(&self.image_type),
            shown(self.created_at),
            shown(self.expired_at),
        ]
    }

    fn write_json(&self, out: &mut dyn Write) -> serde_json::Result<()> {
        serde_json::to_writer(out, self)
    }
}

/// Fields whose table cells are aligned to the right.
const NUMERIC_FIELDS: [&str; 3] = ["size", "object_count", "resource_size"];

/// Checks `--fields` against the fields of `T` (the columns of its CSV header), for the
/// usage error that names the valid ones.
pub fn check_fields<T: Record>(fields: &[String], service: &str) -> Result<(), String> {
    if fields.is_empty() {
        return Err(format!(
            "--fields needs at least one field; valid fields for {service}: {}",
            T::CSV_HEADER.join(",")
        ));
    }
    match fields
        .iter()
        .find(|field| !T::CSV_HEADER.contains(&field.as_str()))
    {
        Some(bad) => Err(format!(
            "--fields: no field `{}` for {service}; valid fields: {}",
            printable(bad),
            T::CSV_HEADER.join(",")
        )),
        None => no_field_twice(fields),
    }
}

/// A field named twice would be one JSON key with two values: refused rather than
/// printed as something else.
fn no_field_twice(fields: &[String]) -> Result<(), String> {
    for (index, field) in fields.iter().enumerate() {
        if fields[..index].contains(field) {
            return Err(format!(
                "--fields: `{}` is named twice; name each field once",
                printable(field)
            ));
        }
    }
    Ok(())
}

/// The chosen fields of `item`, as its CSV row has them (nulls are empty).
fn chosen_cells<T: Record>(item: &T, fields: &[String]) -> Vec<String> {
    let row = item.csv_row();
    fields
        .iter()
        .map(|field| {
            T::CSV_HEADER
                .iter()
                .position(|name| name == field)
                .and_then(|index| row.get(index).cloned())
                .unwrap_or_default()
        })
        .collect()
}

/// The chosen fields of `item` as one JSON object, values keeping their JSON types.
fn write_chosen_json<T: Record>(
    item: &T,
    fields: &[String],
    out: &mut dyn Write,
) -> serde_json::Result<()> {
    let mut whole = match serde_json::to_value(item)? {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    let mut chosen = serde_json::Map::new();
    for field in fields {
        let value = whole
            .remove(field.as_str())
            // The detail record serializes its project as Cinder names it.
            .or_else(|| {
                (field == "project_id")
                    .then(|| whole.remove("os-backup-project-attr:project_id"))
                    .flatten()
            })
            .unwrap_or(serde_json::Value::Null);
        chosen.insert(field.clone(), value);
    }
    serde_json::to_writer(out, &chosen)
}

/// A value for CSV: empty when there is none.
fn shown<V: std::fmt::Display>(value: Option<V>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

/// A name for the table: `-` when there is none.
fn optional(name: Option<&str>) -> String {
    name.map(printable).unwrap_or_else(|| "-".to_owned())
}

/// Text safe to put on a terminal: control characters (line breaks, escape sequences a
/// server could use to rewrite the screen) and the invisible characters that reorder or
/// hide text (bidi overrides, zero-width spaces) are shown escaped, like `\n`,
/// `\u{1b}` and `\u{202e}`. Every place where server text meets a terminal goes
/// through here.
pub fn printable(text: &str) -> String {
    if !text.chars().any(needs_escaping) {
        return text.to_owned();
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escaping(c) {
            let _ = write!(shown, "{}", c.escape_default());
        } else {
            shown.push(c);
        }
    }
    shown
}

/// Characters a terminal would not show as themselves: controls (Cc), Unicode's format
/// characters (Cf: bidi embeddings, overrides, isolates and marks, zero-width spaces
/// and joiners, the byte order mark, invisible operators, tags) and the line and
/// paragraph separators, which some terminals break lines at. An id `x\u{202e}gnp.exe`
/// would otherwise show as `xexe.png`.
fn needs_escaping(c: char) -> bool {
    /// Unicode 16's format characters (general category Cf).
    const FORMAT: [(char, char); 21] = [
        ('\u{00AD}', '\u{00AD}'),
        ('\u{0600}', '\u{0605}'),
        ('\u{061C}', '\u{061C}'),
        ('\u{06DD}', '\u{06DD}'),
        ('\u{070F}', '\u{070F}'),
        ('\u{0890}', '\u{0891}'),
        ('\u{08E2}', '\u{08E2}'),
        ('\u{180E}', '\u{180E}'),
        ('\u{200B}', '\u{200F}'),
        ('\u{202A}', '\u{202E}'),
        ('\u{2060}', '\u{2064}'),
        ('\u{2066}', '\u{206F}'),
        ('\u{FEFF}', '\u{FEFF}'),
        ('\u{FFF9}', '\u{FFFB}'),
        ('\u{110BD}', '\u{110BD}'),
        ('\u{110CD}', '\u{110CD}'),
        ('\u{13430}', '\u{1343F}'),
        ('\u{1BCA0}', '\u{1BCA3}'),
        ('\u{1D173}', '\u{1D17A}'),
        ('\u{E0001}', '\u{E0001}'),
        ('\u{E0020}', '\u{E007F}'),
    ];
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}')
        || FORMAT
            .iter()
            .any(|(first, last)| (*first..=*last).contains(&c))
}

/// Where the items of a listing go, page by page.
pub trait Sink<T> {
    /// Writes one page's items and flushes.
    fn page(&mut self, items: &[T]) -> io::Result<()>;
    /// Ends the output (closes the JSON array) and flushes; also after an error or Ctrl-C,
    /// so what was written stays well-formed.
    fn finish(&mut self) -> io::Result<()>;
}

/// A sink writing `format` to `out`, CSV cells guarded against formula injection.
#[cfg(test)]
pub fn sink<'a, T: Record, W: Write + 'a>(format: Format, out: W) -> Box<dyn Sink<T> + 'a> {
    sink_with(format, out, true, None)
}

/// A sink writing `format` to `out`; with `guard_csv`, CSV cells that a spreadsheet would
/// run as a formula are written as text (see [`csv_cell`]). With `fields` (checked with
/// [`check_fields`]), only those fields are written, in that order, in every format;
/// without, the item type's own columns.
#[cfg(test)]
pub fn sink_with<'a, T: Record, W: Write + 'a>(
    format: Format,
    out: W,
    guard_csv: bool,
    fields: Option<Vec<String>>,
) -> Box<dyn Sink<T> + 'a> {
    sink_for(format, out, guard_csv, fields, false)
}

/// [`sink_with`], with a PROJECT column first in a table when `projects` (a listing of
/// several projects; CSV and JSON always carry the project of a detail record) and no
/// `fields` were chosen.
pub fn sink_for<'a, T: Record, W: Write + 'a>(
    format: Format,
    out: W,
    guard_csv: bool,
    fields: Option<Vec<String>>,
    projects: bool,
) -> Box<dyn Sink<T> + 'a> {
    match format {
        Format::Ndjson => Box::new(Ndjson { out, fields }),
        Format::Json => Box::new(JsonArray {
            out,
            items: 0,
            fields,
        }),
        Format::Csv => Box::new(Csv {
            out: csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(out),
            header_written: false,
            guard: guard_csv,
            fields,
        }),
        Format::Table => Box::new(Table {
            out,
            widths: Vec::new(),
            fields,
            project: projects,
        }),
    }
}

/// Writes `item` as one line of JSON: all of it, or the chosen fields.
fn write_json_item<T: Record>(
    item: &T,
    fields: Option<&[String]>,
    out: &mut dyn Write,
) -> io::Result<()> {
    match fields {
        Some(fields) => write_chosen_json(item, fields, out),
        None => item.write_json(out),
    }
    .map_err(json_error)
}

fn json_error(err: serde_json::Error) -> io::Error {
    // Writing to stdout is the only I/O; anything else is a bug worth reporting as is.
    match err.io_error_kind() {
        Some(kind) => io::Error::new(kind, err),
        None => io::Error::other(err),
    }
}

struct Ndjson<W> {
    out: W,
    fields: Option<Vec<String>>,
}

impl<T: Record, W: Write> Sink<T> for Ndjson<W> {
    fn page(&mut self, items: &[T]) -> io::Result<()> {
        for item in items {
            write_json_item(item, self.fields.as_deref(), &mut self.out)?;
            self.out.write_all(b"\n")?;
        }
        self.out.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// `[`, the items one per line separated by commas, `]`: valid JSON that is never held
/// in memory as a whole.
struct JsonArray<W> {
    out: W,
    items: u64,
    fields: Option<Vec<String>>,
}

impl<T: Record, W: Write> Sink<T> for JsonArray<W> {
    fn page(&mut self, items: &[T]) -> io::Result<()> {
        for item in items {
            let separator: &[u8] = if self.items == 0 { b"[\n  " } else { b",\n  " };
            self.out.write_all(separator)?;
            write_json_item(item, self.fields.as_deref(), &mut self.out)?;
            self.items += 1;
        }
        self.out.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        let end: &[u8] = if self.items == 0 { b"[]\n" } else { b"\n]\n" };
        self.out.write_all(end)?;
        self.out.flush()
    }
}

struct Csv<W: Write> {
    out: csv::Writer<W>,
    header_written: bool,
    /// Whether cells are guarded against formula injection.
    guard: bool,
    /// `--fields`, or the item type's CSV header.
    fields: Option<Vec<String>>,
}

/// A CSV cell as a spreadsheet should read it: one starting with `=`, `+`, `-`, `@`, a
/// tab or a carriage return would be run as a formula (`=HYPERLINK(…)` in a backup's
/// name), so it gets a leading `'`, which spreadsheets take for "this is text"; OWASP's
/// advice for CSV injection. Other cells are left as they are.
pub fn csv_cell(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

impl<W: Write> Csv<W> {
    fn header(&mut self, header: &[&str]) -> io::Result<()> {
        if !self.header_written {
            match &self.fields {
                Some(fields) => self.out.write_record(fields),
                None => self.out.write_record(header),
            }
            .map_err(csv_error)?;
            self.header_written = true;
        }
        Ok(())
    }
}

fn csv_error(err: csv::Error) -> io::Error {
    match err.into_kind() {
        csv::ErrorKind::Io(err) => err,
        other => io::Error::other(format!("{other:?}")),
    }
}

impl<T: Record, W: Write> Sink<T> for Csv<W> {
    fn page(&mut self, items: &[T]) -> io::Result<()> {
        self.header(T::CSV_HEADER)?;
        for item in items {
            let mut row = match &self.fields {
                Some(fields) => chosen_cells(item, fields),
                None => item.csv_row(),
            };
            if self.guard {
                row = row.into_iter().map(csv_cell).collect();
            }
            self.out.write_record(row).map_err(csv_error)?;
        }
        self.out.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        // A listing with no backups still gets its header.
        self.header(T::CSV_HEADER)?;
        self.out.flush()
    }
}

/// Aligned columns. The widths come from the first page and only grow, so one page at a
/// time is held; the last column (the name, the one cell of varying width) is not padded.
struct Table<W> {
    out: W,
    widths: Vec<usize>,
    /// `--fields`, or the item type's table columns.
    fields: Option<Vec<String>>,
    /// Whether a PROJECT column comes first (without `--fields`).
    project: bool,
}

impl<W: Write> Table<W> {
    fn line(&mut self, cells: &[String], right: &[bool]) -> io::Result<()> {
        let mut line = String::new();
        let last = cells.len().saturating_sub(1);
        for (index, cell) in cells.iter().enumerate() {
            if index > 0 {
                line.push_str("  ");
            }
            let width = self.widths.get(index).copied().unwrap_or(0);
            let pad = width.saturating_sub(cell.chars().count());
            let right_aligned = right.get(index).copied().unwrap_or(false);
            if right_aligned {
                line.extend(std::iter::repeat_n(' ', pad));
            }
            line.push_str(cell);
            if !right_aligned && index < last {
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        line.push('\n');
        self.out.write_all(line.as_bytes())
    }
}

impl<W: Write> Table<W> {
    /// The header, which columns align right, and the cells of `items`: the `--fields`
    /// chosen, else the item type's columns (after a PROJECT column, if wanted).
    fn layout<T: Record>(&self, items: &[T]) -> (Vec<String>, Vec<bool>, Vec<Vec<String>>) {
        if let Some(fields) = &self.fields {
            let (header, right) = fields
                .iter()
                .map(|field| {
                    (
                        field.to_uppercase(),
                        NUMERIC_FIELDS.contains(&field.as_str()),
                    )
                })
                .unzip();
            let cell = |cell: String| {
                if cell.is_empty() {
                    "-".to_owned()
                } else {
                    printable(&cell)
                }
            };
            let rows = items
                .iter()
                .map(|item| chosen_cells(item, fields).into_iter().map(cell).collect())
                .collect();
            return (header, right, rows);
        }
        let project = self.project;
        let rows = items
            .iter()
            .map(|item| {
                let row = item.table_row();
                if project {
                    let cell = item.project().map_or_else(|| "-".to_owned(), printable);
                    std::iter::once(cell).chain(row).collect()
                } else {
                    row
                }
            })
            .collect();
        let header = project
            .then_some("PROJECT")
            .into_iter()
            .chain(T::TABLE_HEADER.iter().copied())
            .map(str::to_owned)
            .collect();
        let right = project
            .then_some(false)
            .into_iter()
            .chain(T::TABLE_RIGHT.iter().copied())
            .collect();
        (header, right, rows)
    }
}

impl<T: Record, W: Write> Sink<T> for Table<W> {
    fn page(&mut self, items: &[T]) -> io::Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let (header, right, rows) = self.layout(items);
        let first = self.widths.is_empty();
        if first {
            self.widths = header.iter().map(|title| title.chars().count()).collect();
        }
        for row in &rows {
            for (width, cell) in self.widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        if first {
            self.line(&header, &right)?;
        }
        for row in &rows {
            self.line(row, &right)?;
        }
        self.out.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn summaries() -> Vec<BackupSummary> {
        vec![
            BackupSummary::new("b1", Some("weekly, \"full\"".to_owned())),
            BackupSummary::new("b22", None),
        ]
    }

    fn render(format: Format, pages: &[Vec<BackupSummary>]) -> String {
        let mut out = Vec::new();
        {
            let mut sink = sink::<BackupSummary, _>(format, &mut out);
            for page in pages {
                sink.page(page).unwrap();
            }
            sink.finish().unwrap();
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn ndjson_is_one_object_per_line() {
        assert_eq!(
            render(Format::Ndjson, &[summaries()]),
            "{\"id\":\"b1\",\"name\":\"weekly, \\\"full\\\"\"}\n{\"id\":\"b22\",\"name\":null}\n"
        );
    }

    #[test]
    fn json_is_one_array_across_pages_and_empty_when_nothing_came() {
        let text = render(Format::Json, &[summaries(), vec![], summaries()]);
        let parsed: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed.len(), 4);
        assert_eq!(parsed[1]["name"], serde_json::Value::Null);
        assert_eq!(render(Format::Json, &[]), "[]\n");
    }

    #[test]
    fn csv_has_a_header_quotes_and_empty_nulls() {
        assert_eq!(
            render(Format::Csv, &[summaries()]),
            "id,name\nb1,\"weekly, \"\"full\"\"\"\nb22,\n"
        );
        assert_eq!(render(Format::Csv, &[]), "id,name\n");
    }

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_are_written_as_text_unless_raw() {
        let evil = vec![
            BackupSummary::new("b1", Some("=HYPERLINK(\"http://x\",\"y\")".to_owned())),
            BackupSummary::new("b2", Some("+1".to_owned())),
            BackupSummary::new("-b3", Some("@SUM(A1)".to_owned())),
            BackupSummary::new("b4", Some("\tcmd".to_owned())),
            BackupSummary::new("b5", Some("\rcmd".to_owned())),
            BackupSummary::new("b6", Some("plain = text, a-b".to_owned())),
        ];
        assert_eq!(
            render(Format::Csv, std::slice::from_ref(&evil)),
            "id,name\nb1,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\nb2,'+1\n'-b3,'@SUM(A1)\n\
             b4,'\tcmd\nb5,\"'\rcmd\"\nb6,\"plain = text, a-b\"\n"
        );
        let mut raw = Vec::new();
        {
            let mut sink = sink_with::<BackupSummary, _>(Format::Csv, &mut raw, false, None);
            sink.page(&evil[..2]).unwrap();
            sink.finish().unwrap();
        }
        assert_eq!(
            String::from_utf8(raw).unwrap(),
            "id,name\nb1,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\nb2,+1\n"
        );
    }

    #[test]
    fn table_aligns_and_escapes_control_characters() {
        let pages = [
            summaries(),
            vec![BackupSummary::new(
                "b333",
                Some("evil\u{1b}[2J\nname".to_owned()),
            )],
        ];
        assert_eq!(
            render(Format::Table, &pages),
            "ID   NAME\nb1   weekly, \"full\"\nb22  -\nb333  evil\\u{1b}[2J\\nname\n"
        );
        assert_eq!(render(Format::Table, &[]), "");
    }

    #[test]
    fn detail_columns_match_their_headers() {
        let detail: BackupDetail = serde_json::from_str(
            r#"{"id": "d1", "name": null, "status": "available", "size": 10,
                "created_at": "2024-01-01T20:50:00.000000", "metadata": {"k": "v"}}"#,
        )
        .unwrap();
        let row = detail.csv_row();
        assert_eq!(row.len(), BackupDetail::CSV_HEADER.len());
        assert_eq!(row[3], "10");
        assert_eq!(row[13], "2024-01-01T20:50:00Z");
        assert_eq!(row[18], r#"{"k":"v"}"#);
        assert_eq!(detail.table_row().len(), BackupDetail::TABLE_HEADER.len());
        assert_eq!(
            BackupDetail::TABLE_RIGHT.len(),
            BackupDetail::TABLE_HEADER.len()
        );
    }
}

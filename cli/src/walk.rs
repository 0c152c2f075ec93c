//! One listing walked into stdout in the chosen format, and what the command says when it
//! ends: how many, the error, or the command that continues it.

use std::io::{self, BufWriter};
use std::time::Duration;

use vbs_backups::{Cursor, Listing};

use crate::args::{Format, GlobalArgs, ListArgs};
use crate::numbers::plural;
use crate::output::{self, Record};
use crate::pages::{self, End, Read};
use crate::progress::Progress;
use crate::report;
use crate::ui::{Exit, Ui};

/// How a listing is printed and reported.
pub struct Plan<'a> {
    /// The output format.
    pub format: Format,
    /// The command line, to print `resume with: …` when the walk stops midway; `None`
    /// where resuming makes no sense (the demo's server is gone when it exits).
    pub resume: Option<(&'a GlobalArgs, &'a ListArgs)>,
    /// `--after`, to explain a marker the server does not know.
    pub after: Option<&'a str>,
    /// `--csv-raw`: CSV cells as the server sent them, without the formula guard.
    pub csv_raw: bool,
}

/// What a walk did.
pub struct Walked {
    /// Backups written.
    pub items: u64,
    /// Pages received.
    pub pages: u64,
    /// From the first request to the end.
    pub elapsed: Duration,
    /// Whether the reader of stdout went away before the end (`| head`).
    pub reader_gone: bool,
    /// How the command should exit.
    pub exit: Exit,
}

impl Walked {
    /// A walk that failed before it began, its error already reported.
    pub fn refused() -> Self {
        Self {
            items: 0,
            pages: 0,
            elapsed: Duration::ZERO,
            reader_gone: false,
            exit: Exit::Failed,
        }
    }
}

/// Walks `query` page by page, writing each page to stdout as it arrives, until the end,
/// an error, Ctrl-C, or a closed stdout.
/// `fields`: the columns to print (see [`output::sink_with`]).
pub async fn walk<T: Record>(
    query: Listing<T>,
    plan: &Plan<'_>,
    fields: Option<Vec<String>>,
    ui: &Ui,
) -> Walked {
    let stdout = io::stdout();
    let mut sink = output::sink_for::<T, _>(
        plan.format,
        BufWriter::with_capacity(64 * 1024, stdout.lock()),
        !plan.csv_raw,
        fields,
        T::spans_projects(&query),
    );
    let mut progress = Progress::new(ui.progress_enabled());
    let mut pages = query.pages();
    let read = pages::read(&mut pages, ui, &mut progress, |items| sink.page(items)).await;
    let cursor = pages.cursor();
    // Cancels the request in flight and the pages fetched ahead.
    drop(pages);
    // Closing the output matters for a complete listing; after an error or Ctrl-C it is
    // done as well (a JSON array is closed), but that failure is the one reported.
    let end = match read.end {
        End::Done => match progress.suspend(|| sink.finish()) {
            Ok(()) => End::Done,
            Err(err) => End::Output(err),
        },
        End::Output(err) => End::Output(err),
        end => {
            let _ = progress.suspend(|| sink.finish());
            end
        }
    };
    drop(sink);
    progress.clear();
    let read = Read { end, ..read };
    let exit = report_end(&read, cursor, plan, ui);
    Walked {
        items: read.items,
        pages: read.pages,
        elapsed: progress.elapsed(),
        reader_gone: is_reader_gone(&read.end),
        exit,
    }
}

/// Whether stdout's reader went away (`| head`): what it wanted, it got.
fn is_reader_gone(end: &End) -> bool {
    matches!(end, End::Output(err) if err.kind() == io::ErrorKind::BrokenPipe)
}

/// Says how the walk ended, and the command that continues it where there is more.
fn report_end(read: &Read, cursor: Cursor, plan: &Plan<'_>, ui: &Ui) -> Exit {
    match &read.end {
        End::Done => {
            if read.items == 0 && plan.format == Format::Table {
                ui.say("no backups");
            }
            Exit::Ok
        }
        end if is_reader_gone(end) => Exit::Ok,
        End::Output(err) => {
            report::stderr_line(format_args!("error: cannot write the output: {err}"));
            Exit::Failed
        }
        End::Failed(err) => {
            report::error(err, plan.after);
            say_resume(plan, read.items, err.cursor().cloned().unwrap_or(cursor));
            Exit::Failed
        }
        End::Interrupted => {
            report::stderr_line(format_args!(
                "interrupted after {}",
                plural(read.items, "backup")
            ));
            say_resume(plan, read.items, cursor);
            Exit::Interrupted
        }
    }
}

/// `resume with: …`, once the walk has listed something or was itself resumed: a resumed
/// run that fails before its first backup still has the rest to list.
fn say_resume(plan: &Plan<'_>, items: u64, cursor: Cursor) {
    let Some((global, args)) = plan.resume else {
        return;
    };
    let resumed = args.resume.is_some() || args.resume_file.is_some();
    if items > 0 || resumed {
        report::stderr_line(format_args!(
            "resume with: {}",
            output::printable(&report::resume_command(global, args, &cursor))
        ));
    }
}

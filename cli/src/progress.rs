//! The progress line on stderr: backups, pages, rate, and a percentage once the total is
//! known. Drawn only on a terminal; otherwise every call is a no-op.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

const COUNTING: &str = "{spinner} {human_pos} backups · {msg} · {per_sec:0} · {elapsed}";
const TOTAL_KNOWN: &str = "{spinner} [{bar:24}] {human_pos}/{human_len} backups ({percent}%) · {msg} · {per_sec:0} · {elapsed}";

/// A progress line, or nothing.
pub struct Progress {
    bar: ProgressBar,
    pages: u64,
    total_known: bool,
}

impl Progress {
    /// A line drawn on stderr if `enabled`, else a hidden one.
    pub fn new(enabled: bool) -> Self {
        let bar = if enabled {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(COUNTING) {
                bar.set_style(style);
            }
            bar.set_message("0 pages");
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        } else {
            ProgressBar::hidden()
        };
        Self {
            bar,
            pages: 0,
            total_known: false,
        }
    }

    /// Counts a page of `items` backups; `total` is the server's count, when it gave one.
    pub fn page(&mut self, items: usize, total: Option<u64>) {
        self.pages += 1;
        if let (Some(total), false) = (total, self.total_known) {
            self.total_known = true;
            self.bar.set_length(total);
            if let Ok(style) = ProgressStyle::with_template(TOTAL_KNOWN) {
                self.bar.set_style(style.progress_chars("=> "));
            }
        }
        self.bar.inc(u64::try_from(items).unwrap_or(u64::MAX));
        let plural = if self.pages == 1 { "" } else { "s" };
        self.bar.set_message(format!("{} page{plural}", self.pages));
    }

    /// Runs `write` with the line cleared, so output to the same terminal is not garbled.
    pub fn suspend<R>(&self, write: impl FnOnce() -> R) -> R {
        self.bar.suspend(write)
    }

    /// Removes the line.
    pub fn clear(&self) {
        self.bar.finish_and_clear();
    }

    /// How long the walk has taken so far.
    pub fn elapsed(&self) -> Duration {
        self.bar.elapsed()
    }
}

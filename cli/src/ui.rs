//! What the command knows about where it runs: terminals, `--quiet`, `--verbose`, Ctrl-C,
//! and how it exits.

use std::io::IsTerminal;
use std::process::ExitCode;

use tokio::sync::watch;

use crate::args::{Format, GlobalArgs};
use crate::report;

/// How the command ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Done (also when the reader of stdout went away early).
    Ok,
    /// A runtime error, reported on stderr.
    Failed,
    /// Stopped by Ctrl-C.
    Interrupted,
    /// An audit that completed and found volumes not protected.
    NotProtected,
}

impl Exit {
    /// 0, 1, 3 (an audit's volumes not all protected), or 130 (128 + SIGINT, as shells
    /// report a process stopped by Ctrl-C).
    pub fn code(self) -> ExitCode {
        match self {
            Self::Ok => ExitCode::SUCCESS,
            Self::Failed => ExitCode::from(1),
            Self::Interrupted => ExitCode::from(130),
            Self::NotProtected => ExitCode::from(3),
        }
    }
}

/// The terminal, the flags about talking, and Ctrl-C.
pub struct Ui {
    quiet: bool,
    verbose: u8,
    stdout_terminal: bool,
    stderr_terminal: bool,
    interrupt: Interrupt,
}

impl Ui {
    /// Looks at stdout and stderr and starts listening for Ctrl-C (inside a Tokio runtime).
    pub fn new(global: &GlobalArgs) -> Self {
        Self {
            quiet: global.quiet,
            verbose: global.verbose,
            stdout_terminal: std::io::stdout().is_terminal(),
            stderr_terminal: std::io::stderr().is_terminal(),
            interrupt: Interrupt::listen(),
        }
    }

    /// A table for people, NDJSON for programs.
    pub fn default_format(&self) -> Format {
        if self.stdout_terminal {
            Format::Table
        } else {
            Format::Ndjson
        }
    }

    /// The progress line is drawn on a terminal, unless `--quiet`, or `--verbose` logs
    /// would tear it.
    pub fn progress_enabled(&self) -> bool {
        self.stderr_terminal && !self.quiet && self.verbose == 0
    }

    /// Says something on stderr, unless `--quiet`.
    pub fn say(&self, line: impl std::fmt::Display) {
        if !self.quiet {
            report::stderr_line(line);
        }
    }

    /// A handle that resolves at Ctrl-C.
    pub fn interrupt(&self) -> Interrupt {
        self.interrupt.clone()
    }
}

/// Ctrl-C: the first one asks the command to stop cleanly (it finishes the page it is
/// writing, flushes, and says how to resume); a second one exits at once with 130, for
/// when the command is stuck writing to a reader that does not read.
#[derive(Clone)]
pub struct Interrupt(watch::Receiver<bool>);

impl Interrupt {
    /// Installs the handler, before returning, so that a Ctrl-C from now on is caught.
    fn listen() -> Self {
        let (sender, receiver) = watch::channel(false);
        match Presses::install() {
            Ok(mut presses) => {
                tokio::spawn(async move {
                    if presses.next().await {
                        let _ = sender.send(true);
                    }
                    if presses.next().await {
                        std::process::exit(130);
                    }
                });
            }
            Err(err) => {
                // Ctrl-C keeps its default effect: the process ends at once.
                tracing::debug!(%err, "cannot catch Ctrl-C");
            }
        }
        Self(receiver)
    }

    /// Resolves once Ctrl-C has been pressed (never, if signals cannot be caught).
    pub async fn wait(&mut self) {
        loop {
            if *self.0.borrow_and_update() {
                return;
            }
            if self.0.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

/// Ctrl-C presses, caught from the moment of [`install`](Self::install).
struct Presses {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
}

impl Presses {
    #[cfg(unix)]
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            signal: signal(SignalKind::interrupt())?,
        })
    }

    #[cfg(not(unix))]
    fn install() -> std::io::Result<Self> {
        Ok(Self {})
    }

    /// Waits for the next press; `false` if no more can come.
    #[cfg(unix)]
    async fn next(&mut self) -> bool {
        self.signal.recv().await.is_some()
    }

    #[cfg(not(unix))]
    async fn next(&mut self) -> bool {
        tokio::signal::ctrl_c().await.is_ok()
    }
}

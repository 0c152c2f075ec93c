//! `vbs-backups completions SHELL` and `vbs-backups man`: generated from the command's own
//! clap definition, so they never fall behind its flags.

use std::io::{self, Write};

use clap::CommandFactory;

use crate::args::{Cli, Command};
use crate::report;
use crate::ui::Exit;

/// Writes the completion script or the man page to stdout, for those two commands;
/// `None` for the others.
pub fn run(command: &Command) -> Option<Exit> {
    let written = match command {
        Command::Completions { shell } => completions(*shell, &mut io::stdout().lock()),
        Command::Man => man(&mut io::stdout().lock()),
        _ => return None,
    };
    Some(match written {
        Ok(()) => Exit::Ok,
        // `| head` and the like: what was wanted was written.
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Exit::Ok,
        Err(err) => {
            report::stderr_line(format_args!("error: cannot write the output: {err}"));
            Exit::Failed
        }
    })
}

/// The completion script for `shell`.
fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> io::Result<()> {
    let mut command = Cli::command();
    let name = command.get_name().to_owned();
    clap_complete::generate(shell, &mut command, name, out);
    out.flush()
}

/// The man page, in roff.
fn man(out: &mut dyn Write) -> io::Result<()> {
    clap_mangen::Man::new(Cli::command()).render(out)?;
    out.flush()
}

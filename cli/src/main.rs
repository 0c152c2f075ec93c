//! `vbs-backups`: list the volume backups of a Huawei Cloud VBS or OpenStack Cinder project
//! from the command line, with the same `OS_*` variables and clouds.yaml as the `openstack`
//! command.
//!
//! ```text
//! vbs-backups demo --backups 30                      # nothing to set up
//! vbs-backups list --status available --format csv   # with an openrc sourced, or --os-cloud
//! ```
//!
//! Exit status: 0 done (also when the reader of stdout stops early, as `head` does),
//! 1 runtime error, 2 bad command line, 3 an audit that found volumes not protected,
//! 130 stopped by Ctrl-C.

mod args;
mod audit;
mod clouds;
mod connect;
mod demo;
mod estate;
mod estate_output;
mod estate_stats;
mod generate;
mod histogram;
mod list;
mod numbers;
mod output;
mod pages;
mod progress;
mod report;
mod stats;
mod ui;
mod walk;
mod when;

use std::process::ExitCode;

use args::Command;
use ui::{Exit, Ui};

fn main() -> ExitCode {
    let cli = <args::Cli as clap::Parser>::parse();
    if let Some(exit) = generate::run(&cli.command) {
        return exit.code();
    }
    if let Command::Demo(_) = &cli.command {
        if let Err(message) = demo::check(&cli.global) {
            args::usage_error(message);
        }
    }
    let listing = match &cli.command {
        Command::List(list) => Some(list),
        Command::Demo(demo) => Some(&demo.list),
        Command::Stats(_) | Command::Audit(_) => None,
        Command::Completions { .. } | Command::Man => return Exit::Ok.code(),
    };
    let checked = match (listing, &cli.command) {
        (Some(listing), _) => args::check_service(&cli.global, listing),
        (None, Command::Audit(audit)) => audit::check(&cli.global, audit),
        (None, Command::Stats(stats)) => args::check_stats(&cli.global, stats),
        (None, _) => Ok(()),
    };
    if let Err(message) = checked {
        args::usage_error(message);
    }
    if let Some(listing) = listing.filter(|_| cli.global.is_estate()) {
        if let Err(message) = estate::check(&cli.global, listing, true) {
            args::usage_error(message);
        }
    }
    if let Some(listing) = listing {
        if let Err(message) = list::check(&cli.global, listing) {
            args::usage_error(message);
        }
    }
    init_logging(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            report::stderr_line(format_args!("error: cannot start the async runtime: {err}"));
            return Exit::Failed.code();
        }
    };
    let exit = runtime.block_on(async {
        let ui = Ui::new(&cli.global);
        match &cli.command {
            Command::List(list) if cli.global.is_estate() => {
                estate::run_list(
                    &cli.global,
                    &cli.global.estate,
                    &cli.global.os_clouds(),
                    &cli.global.services(),
                    list,
                    &ui,
                )
                .await
            }
            Command::List(list) => list::run(&cli.global, list, &ui).await,
            Command::Demo(demo) => demo::run(&cli.global, demo, &ui).await,
            Command::Completions { .. } | Command::Man => Exit::Ok,
            Command::Stats(stats) if cli.global.is_estate() => {
                estate_stats::run(&cli.global, stats, &ui).await
            }
            Command::Stats(stats) => stats::run(&cli.global, stats, &ui).await,
            Command::Audit(audit) => audit::run(&cli.global, audit, &ui).await,
        }
    });
    // Whatever is still running (a request being cancelled) is not waited for.
    runtime.shutdown_background();
    exit.code()
}

/// `-v`: retries, token refreshes, capped pages; `-vv`: a line per page request (its
/// number, marker, limit, items, attempt and time); `-vvv`: every library's debug output
/// too (HTTP connections, TLS). Nothing without `-v`.
fn init_logging(verbose: u8) {
    use tracing::level_filters::LevelFilter;
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::fmt::format::FmtSpan;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let (ours, others) = match verbose {
        0 => return,
        1 => (LevelFilter::INFO, LevelFilter::WARN),
        2 => (LevelFilter::DEBUG, LevelFilter::WARN),
        _ => (LevelFilter::TRACE, LevelFilter::DEBUG),
    };
    let filter = Targets::new()
        .with_target("vbs_backups", ours)
        .with_default(others);
    let span_events = if verbose > 1 {
        FmtSpan::CLOSE
    } else {
        FmtSpan::NONE
    };
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(verbose > 1)
        .with_span_events(span_events);
    // Fails only if a subscriber is already set, which nothing here does.
    let _ = tracing_subscriber::registry()
        .with(layer)
        .with(filter)
        .try_init();
}

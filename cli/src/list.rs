//! `vbs-backups list`: connect as the flags, `OS_*` variables and clouds.yaml say, then
//! walk the listing page by page into the chosen output format.

use std::io::{self, BufWriter};
use std::time::Duration;

use futures::StreamExt;
use vbs_backups::{Client, Cursor, ListBackups, Listed, OpenStackConfig};

use crate::args::{Format, GlobalArgs, ListArgs};
use crate::output::{self, Record};
use crate::progress::Progress;
use crate::report;
use crate::ui::{Exit, Ui};

/// Runs `vbs-backups list`.
pub async fn run(global: &GlobalArgs, args: &ListArgs, ui: &Ui) -> Exit {
    let mut interrupt = ui.interrupt();
    let connected = tokio::select! {
        biased;
        () = interrupt.wait() => {
            report::stderr_line("interrupted while connecting");
            return Exit::Interrupted;
        }
        connected = connect(global) => connected,
    };
    let client = match connected {
        Ok(client) => client,
        Err(err) => {
            report::error(&err, args.after.as_deref());
            return Exit::Failed;
        }
    };
    let plan = Plan {
        format: args.format.unwrap_or(ui.default_format()),
        resume: Some((global, args)),
        after: args.after.as_deref(),
        csv_raw: args.csv_raw,
    };
    let walked = list(&client, args, &plan, ui).await;
    if walked.exit == Exit::Ok && !walked.reader_gone && ui.progress_enabled() {
        ui.say(format_args!(
            "listed {} in {} in {:.1?}",
            plural(walked.items, "backup"),
            plural(walked.pages, "page"),
            walked.elapsed
        ));
    }
    walked.exit
}

/// The configuration the command runs with: the flags over `OS_*` variables over the
/// clouds.yaml entry of `--os-cloud` / `OS_CLOUD`.
///
/// `--token` with `--endpoint` sends the token straight to the endpoint (the `openstack`
/// command's `token_endpoint`), whatever Keystone the environment names.
pub fn config(global: &GlobalArgs) -> vbs_backups::Result<OpenStackConfig> {
    OpenStackConfig::from_env()
        .merge(flags(global))
        .with_clouds_yaml()
}

/// The flags as a configuration layer.
pub fn flags(global: &GlobalArgs) -> OpenStackConfig {
    let mut flags = OpenStackConfig::default();
    flags.cloud = global.os_cloud.clone();
    flags.endpoint_override = global.endpoint.clone();
    flags.project_id = global.project_id.clone();
    flags.token = global.token.clone().map(Into::into);
    flags.volume_api_version = global.api_version.clone();
    flags.api_timeout = global.timeout.as_ref().map(|timeout| timeout.duration);
    if flags.token.is_some() && flags.endpoint_override.is_some() {
        flags.auth_type = Some("token_endpoint".to_owned());
    }
    flags
}

/// Authenticates as `global` and the environment say and returns the client.
async fn connect(global: &GlobalArgs) -> vbs_backups::Result<Client> {
    let config = config(global)?;
    tracing::debug!(?config, "configuration");
    connect_with(&config).await
}

/// The client for `config`, introducing itself as this command.
pub async fn connect_with(config: &OpenStackConfig) -> vbs_backups::Result<Client> {
    let builder = Client::builder().user_agent(concat!("vbs-backups/", env!("CARGO_PKG_VERSION")));
    config.connect_with(builder).await
}

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

/// The cursor of `--resume` / `--resume-file`, if one was given.
fn resume_cursor(args: &ListArgs) -> Result<Option<Cursor>, String> {
    if let Some(token) = &args.resume {
        return token
            .parse()
            .map(Some)
            .map_err(|err: vbs_backups::Error| format!("--resume: {err}"));
    }
    let Some(path) = &args.resume_file else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("--resume-file {}: {err}", path.display()))?;
    let text = text.trim();
    let parsed = if text.starts_with('{') {
        serde_json::from_str(text).map_err(|err| err.to_string())
    } else {
        text.parse()
            .map_err(|err: vbs_backups::Error| err.to_string())
    };
    parsed
        .map(Some)
        .map_err(|err| format!("--resume-file {}: {err}", path.display()))
}

/// A walk that failed before it began, its error reported.
fn refused(message: &str) -> Walked {
    report::stderr_line(format_args!("error: {}", output::printable(message)));
    refused_quietly()
}

fn with_prefetch<T: Listed>(query: ListBackups<T>, args: &ListArgs) -> ListBackups<T> {
    match args.prefetch {
        Some(prefetch) => query.prefetch(prefetch),
        None => query,
    }
}

/// Builds the listing `args` describe on `client` (or continues the one of `--resume`)
/// and walks it.
pub async fn list(client: &Client, args: &ListArgs, plan: &Plan<'_>, ui: &Ui) -> Walked {
    let cursor = match resume_cursor(args) {
        Ok(cursor) => cursor,
        Err(message) => return refused(&message),
    };
    if let Some(cursor) = cursor {
        let resumed = if args.detail {
            match client.resume_detail(cursor) {
                Ok(query) => Ok(walk(with_prefetch(query, args), plan, ui).await),
                Err(err) => Err(err),
            }
        } else {
            match client.resume(cursor) {
                Ok(query) => Ok(walk(with_prefetch(query, args), plan, ui).await),
                Err(err) => Err(err),
            }
        };
        return resumed.unwrap_or_else(|err| {
            report::error(&err, None);
            refused_quietly()
        });
    }
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
    if let Some(offset) = args.offset {
        query = query.offset(offset);
    }
    if let Some(page_size) = args.page_size {
        query = query.page_size(page_size);
    }
    if let Some(max_items) = args.max_items {
        query = query.max_items(max_items);
    }
    if let Some(after) = &args.after {
        query = query.after(after);
    }
    if let Some(prefetch) = args.prefetch {
        query = query.prefetch(prefetch);
    }
    if args.count {
        if client.microversion() >= Some((3, 45)) {
            query = query.with_count();
        } else {
            ui.say(
                "warning: --count needs microversion 3.45 or later (--api-version 3.45); \
                 listing without a total",
            );
        }
    }
    if args.detail {
        walk(query.detail(), plan, ui).await
    } else {
        walk(query, plan, ui).await
    }
}

/// How the loop over the pages ended.
enum End {
    Done,
    Failed(vbs_backups::Error),
    Interrupted,
    Output(io::Error),
}

/// Walks `query` page by page, writing each page to stdout as it arrives, until the end,
/// an error, Ctrl-C, or a closed stdout.
async fn walk<T: Record>(query: ListBackups<T>, plan: &Plan<'_>, ui: &Ui) -> Walked {
    let stdout = io::stdout();
    let mut sink = output::sink_with::<T, _>(
        plan.format,
        BufWriter::with_capacity(64 * 1024, stdout.lock()),
        !plan.csv_raw,
    );
    let mut progress = Progress::new(ui.progress_enabled());
    let mut interrupt = ui.interrupt();
    let mut pages = query.pages();
    let mut items = 0_u64;
    let mut page_count = 0_u64;
    let end = loop {
        let next = tokio::select! {
            biased;
            () = interrupt.wait() => break End::Interrupted,
            next = pages.next() => next,
        };
        match next {
            None => break End::Done,
            Some(Err(err)) => break End::Failed(err),
            Some(Ok(page)) => {
                page_count += 1;
                progress.page(page.len(), pages.total());
                if let Err(err) = progress.suspend(|| sink.page(&page.items)) {
                    break End::Output(err);
                }
                items += u64::try_from(page.len()).unwrap_or(u64::MAX);
            }
        }
    };
    let cursor = pages.cursor();
    // Cancels the request in flight and the pages fetched ahead.
    drop(pages);
    // Closing the output matters for a complete listing; after an error or Ctrl-C it is
    // done as well (a JSON array is closed), but that failure is the one reported.
    let end = match end {
        End::Output(err) => End::Output(err),
        End::Done => match progress.suspend(|| sink.finish()) {
            Ok(()) => End::Done,
            Err(err) => End::Output(err),
        },
        end => {
            let _ = progress.suspend(|| sink.finish());
            end
        }
    };
    drop(sink);
    progress.clear();
    let elapsed = progress.elapsed();
    let reader_gone = matches!(&end, End::Output(err) if err.kind() == io::ErrorKind::BrokenPipe);
    let walked = |exit| Walked {
        items,
        pages: page_count,
        elapsed,
        reader_gone,
        exit,
    };
    let resume = |cursor: Cursor| {
        if let (Some((global, args)), true) = (plan.resume, items > 0) {
            report::stderr_line(format_args!(
                "resume with: {}",
                output::printable(&report::resume_command(global, args, &cursor))
            ));
        }
    };
    match end {
        End::Done => {
            if items == 0 && plan.format == Format::Table {
                ui.say("no backups");
            }
            walked(Exit::Ok)
        }
        // The reader has gone (`| head`): what it wanted, it got.
        End::Output(err) if err.kind() == io::ErrorKind::BrokenPipe => walked(Exit::Ok),
        End::Output(err) => {
            report::stderr_line(format_args!("error: cannot write the output: {err}"));
            walked(Exit::Failed)
        }
        End::Failed(err) => {
            report::error(&err, plan.after);
            resume(err.cursor().cloned().unwrap_or(cursor));
            walked(Exit::Failed)
        }
        End::Interrupted => {
            report::stderr_line(format_args!(
                "interrupted after {}",
                plural(items, "backup")
            ));
            resume(cursor);
            walked(Exit::Interrupted)
        }
    }
}

/// A walk that failed before it began, its error already reported.
fn refused_quietly() -> Walked {
    Walked {
        items: 0,
        pages: 0,
        elapsed: Duration::ZERO,
        reader_gone: false,
        exit: Exit::Failed,
    }
}

/// `1 backup`, `2,500 backups`.
pub fn plural(count: u64, noun: &str) -> String {
    let digits = count.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let s = if count == 1 { "" } else { "s" };
    format!("{grouped} {noun}{s}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_well() {
        assert_eq!(plural(0, "backup"), "0 backups");
        assert_eq!(plural(1, "page"), "1 page");
        assert_eq!(plural(2500, "backup"), "2,500 backups");
        assert_eq!(plural(1_234_567, "backup"), "1,234,567 backups");
    }

    #[test]
    fn flags_layer_over_the_environment_and_a_token_with_an_endpoint_goes_direct() {
        let global = GlobalArgs {
            endpoint: Some("http://127.0.0.1:1".into()),
            token: Some("t".into()),
            project_id: Some("p-flag".into()),
            ..GlobalArgs::default()
        };
        let env = OpenStackConfig::from_env_vars([
            ("OS_AUTH_URL", "http://keystone.invalid:5000"),
            ("OS_PROJECT_ID", "p-env"),
            ("OS_REGION_NAME", "r1"),
        ]);
        let merged = env.merge(flags(&global));
        assert_eq!(merged.project_id.as_deref(), Some("p-flag"));
        assert_eq!(merged.region_name.as_deref(), Some("r1"));
        assert_eq!(merged.auth_type.as_deref(), Some("token_endpoint"));
        assert!(merged.keystone_auth().is_err(), "no Keystone involved");
    }
}

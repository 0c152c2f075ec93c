//! `vbs-backups list`: connect as the flags, `OS_*` variables and clouds.yaml say, then
//! walk the listing page by page into the chosen output format.

use std::io::{self, BufWriter};
use std::time::Duration;

use futures::StreamExt;
use vbs_backups::huawei::{HuaweiConfig, Service as HuaweiService};
use vbs_backups::{
    BackupDetail, BackupSummary, CbrBackup, Client, Cursor, HttpOptions, Listed, Listing,
    OpenStackConfig,
};

use crate::args::{Format, GlobalArgs, ListArgs, Service};
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
    let walked = list(&client, global.service(), args, &plan, ui).await;
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
    flags.cloud = global.os_cloud().cloned();
    flags.endpoint_override = global.endpoint.clone();
    flags.project_id = global.project_id.clone();
    flags.token = global.token.clone().map(Into::into);
    flags.region_name = global.region.clone();
    flags.volume_api_version = global.api_version.clone();
    flags.api_timeout = global.timeout.as_ref().map(|timeout| timeout.duration);
    flags.budget = global
        .estate
        .max_rate
        .map(vbs_backups::RequestBudget::with_max_rate);
    if flags.token.is_some() && flags.endpoint_override.is_some() {
        flags.auth_type = Some("token_endpoint".to_owned());
    }
    flags
}

/// Authenticates as `global` and the environment say and returns the client: signed
/// with Huawei Cloud AK/SK when [`huawei_config`] finds them, else through Keystone or a
/// token.
pub async fn connect(global: &GlobalArgs) -> vbs_backups::Result<Client> {
    let vars: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)))
        .collect();
    if let Some(config) = huawei_config(global, &vars)? {
        tracing::debug!(?config, "Huawei Cloud AK/SK configuration");
        return config.connect().await;
    }
    let config = config(global)?;
    tracing::debug!(?config, "configuration");
    connect_with(&config).await
}

/// The Huawei Cloud AK/SK configuration, when the command signs with AK/SK:
///
/// 1. `--token` or `--os-cloud` on the command line: never (the flags choose OpenStack).
/// 2. `HUAWEICLOUD_SDK_AK` and `HUAWEICLOUD_SDK_SK` set, or a credentials file named by
///    `HUAWEICLOUD_SDK_CREDENTIALS_FILE`: AK/SK (a named file that cannot be read is an
///    error).
/// 3. OpenStack settings in the environment (`OS_AUTH_URL`, `OS_AUTH_TOKEN`, `OS_CLOUD`):
///    never.
/// 4. AK and SK in the `[basic]` section of `~/.huaweicloud/credentials`: AK/SK.
///
/// The flags then win: `--region` over `HW_REGION_NAME` over `OS_REGION_NAME`,
/// `--project-id` over `HUAWEICLOUD_SDK_PROJECT_ID` (and the file's `project_id`), and
/// `--endpoint` over `HUAWEICLOUD_SDK_REGION_{VBS,CBR}_{REGION}` and the region's endpoint.
pub fn huawei_config(
    global: &GlobalArgs,
    vars: &[(String, String)],
) -> vbs_backups::Result<Option<HuaweiConfig>> {
    if global.token.is_some() || global.os_cloud().is_some() {
        return Ok(None);
    }
    let set = |name: &str| {
        vars.iter()
            .any(|(key, value)| key == name && !value.trim().is_empty())
    };
    let env = HuaweiConfig::from_env_vars(vars.iter().map(|(k, v)| (k, v)));
    let named = env.credentials().is_ok() || set("HUAWEICLOUD_SDK_CREDENTIALS_FILE");
    if !named
        && ["OS_AUTH_URL", "OS_AUTH_TOKEN", "OS_CLOUD"]
            .into_iter()
            .any(set)
    {
        return Ok(None);
    }
    let config = env.with_credentials_file()?;
    if config.credentials().is_err() {
        return Ok(None);
    }
    let mut config = config.service(match global.service() {
        Service::Vbs => HuaweiService::Vbs,
        Service::Cbr => HuaweiService::Cbr,
    });
    if let Some(region) = &global.region {
        config = config.region(region);
    }
    if let Some(project_id) = &global.project_id {
        config = config.project_id(project_id);
    }
    if let Some(endpoint) = &global.endpoint {
        config = config.endpoint(endpoint);
    }
    let mut http = HttpOptions::new().user_agent(USER_AGENT);
    if let Some(timeout) = &global.timeout {
        http = http.timeout(timeout.duration);
    }
    if let Some(rate) = global.estate.max_rate {
        http = http.budget(vbs_backups::RequestBudget::with_max_rate(rate));
    }
    Ok(Some(config.http(http)))
}

/// How the command introduces itself.
const USER_AGENT: &str = concat!("vbs-backups/", env!("CARGO_PKG_VERSION"));

/// The client for `config`, introducing itself as this command.
pub async fn connect_with(config: &OpenStackConfig) -> vbs_backups::Result<Client> {
    let builder = Client::builder().user_agent(USER_AGENT);
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

/// Checks what parsing alone cannot: `--fields` names fields of the service's backups.
pub fn check(global: &GlobalArgs, args: &ListArgs) -> Result<(), String> {
    let Some(fields) = &args.fields else {
        return Ok(());
    };
    match global.service() {
        Service::Vbs => output::check_fields::<BackupDetail>(fields, "VBS / Cinder backups"),
        Service::Cbr => output::check_fields::<CbrBackup>(fields, "CBR backups"),
    }
}

/// The summary's own columns, shown from a detail walk that only a window or `--fields`
/// asked for, so that the output keeps the shape of a plain `list`.
fn summary_view() -> Vec<String> {
    BackupSummary::CSV_HEADER
        .iter()
        .map(|field| (*field).to_owned())
        .collect()
}

/// VBS / Cinder: whether the walk reads `/backups/detail`: `--detail`, an age window
/// (which needs each backup's `created_at`), or `--fields` beyond id and name.
fn detail_walk(args: &ListArgs) -> bool {
    let detail_fields = args
        .fields
        .iter()
        .flatten()
        .any(|field| !BackupSummary::CSV_HEADER.contains(&field.as_str()));
    args.wants_detail()
        || args.created_before.is_some()
        || args.created_after.is_some()
        || detail_fields
}

/// The columns to print: `--fields`, else the summary's when the walk reads the detail
/// listing without `--detail`, else the item type's own (`None`).
fn view(args: &ListArgs, detail_walk: bool) -> Option<Vec<String>> {
    args.fields
        .clone()
        .or_else(|| (detail_walk && !args.wants_detail()).then(summary_view))
}

/// A walk that failed before it began, its error reported.
fn refused(message: &str) -> Walked {
    report::stderr_line(format_args!("error: {}", output::printable(message)));
    refused_quietly()
}

fn with_prefetch<T: Listed>(query: Listing<T>, args: &ListArgs) -> Listing<T> {
    match args.prefetch {
        Some(prefetch) => query.prefetch(prefetch),
        None => query,
    }
}

/// Builds the listing `args` describe on `client` (or continues the one of `--resume`)
/// and walks it.
pub async fn list(
    client: &Client,
    service: Service,
    args: &ListArgs,
    plan: &Plan<'_>,
    ui: &Ui,
) -> Walked {
    let cursor = match resume_cursor(args) {
        Ok(cursor) => cursor,
        Err(message) => return refused(&message),
    };
    if service == Service::Cbr {
        return list_cbr(client, cursor, args, plan, ui).await;
    }
    let detail = detail_walk(args);
    if let Some(cursor) = cursor {
        // A token from a walk of the detail listing that only a window asked for resumes
        // that walk, shown as the summary was.
        let resumed = if detail {
            match client.resume_detail(cursor) {
                Ok(query) => {
                    Ok(walk(with_prefetch(query, args), plan, view(args, detail), ui).await)
                }
                Err(err) => Err(err),
            }
        } else {
            match client.resume(cursor.clone()) {
                Ok(query) => {
                    Ok(walk(with_prefetch(query, args), plan, view(args, false), ui).await)
                }
                Err(err) => match client.resume_detail(cursor) {
                    Ok(query) => {
                        Ok(walk(with_prefetch(query, args), plan, view(args, true), ui).await)
                    }
                    Err(_) => Err(err),
                },
            }
        };
        return resumed.unwrap_or_else(|err| {
            report::error(&err, None);
            refused_quietly()
        });
    }
    let mut query = client.backups();
    // More than one is refused before connecting (`args::check_service`): VBS takes one.
    if let Some(status) = args.status.first() {
        query = query.status(status.as_str());
    }
    if let Some(name) = &args.name {
        query = query.name(name);
    }
    if let Some(volume_id) = &args.volume_id {
        query = query.volume_id(volume_id);
    }
    query = paged(query, args);
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
    if detail {
        let mut query = query.detail();
        if let Some(before) = args.created_before {
            query = query.created_before(before.system_time());
        }
        if let Some(after) = args.created_after {
            query = query.created_after(after.system_time());
        }
        if args.whole_cloud() {
            query = match whole_cloud(client, query, args) {
                Ok(query) => query,
                Err(message) => return refused(&message),
            };
        }
        walk(query, plan, view(args, true), ui).await
    } else {
        walk(query, plan, view(args, false), ui).await
    }
}

/// `--all-projects` / `--project-filter` on a detail listing, or why not: the library
/// refuses them below microversion 3.18 too; this says it in the command's terms.
pub fn whole_cloud(
    client: &Client,
    query: Listing<vbs_backups::BackupDetail>,
    args: &ListArgs,
) -> Result<Listing<vbs_backups::BackupDetail>, String> {
    if client
        .microversion()
        .is_none_or(|version| version < (3, 18))
    {
        return Err("--all-projects and --project-filter need --api-version 3.18 or later:              Cinder says which project a backup belongs to only from 3.18 (and only to              admins), and without it a non-admin's own project, which Cinder lists instead              of the whole cloud, could not be told apart"
            .to_owned());
    }
    Ok(match &args.project_filter {
        Some(project) => query.project_id(project),
        None => query.all_projects(),
    })
}

/// Lists Huawei CBR backups: the CBR filters (`--status` repeatable), or the walk of
/// `--resume`. CBR pages always say the total, so the progress line has a percentage.
async fn list_cbr(
    client: &Client,
    cursor: Option<Cursor>,
    args: &ListArgs,
    plan: &Plan<'_>,
    ui: &Ui,
) -> Walked {
    if let Some(cursor) = cursor {
        return match client.resume_cbr(cursor) {
            Ok(query) => walk(with_prefetch(query, args), plan, args.fields.clone(), ui).await,
            Err(err) => {
                report::error(&err, None);
                refused_quietly()
            }
        };
    }
    let mut query = client.cbr_backups();
    for status in &args.status {
        query = query.status(status.as_str());
    }
    if let Some(name) = &args.name {
        query = query.name(name);
    }
    if let Some(vault_id) = &args.vault_id {
        query = query.vault_id(vault_id);
    }
    if let Some(resource_id) = &args.resource_id {
        query = query.resource_id(resource_id);
    }
    if let Some(resource_type) = &args.resource_type {
        query = query.resource_type(resource_type);
    }
    // CBR filters by time itself. Its end_time includes the second it names, where
    // --created-before excludes it: the server's own rule, at one-second resolution.
    if let Some(after) = args.created_after {
        query = query.start_time(after.0);
    }
    if let Some(before) = args.created_before {
        query = query.end_time(before.0);
    }
    walk(paged(query, args), plan, args.fields.clone(), ui).await
}

/// The paging flags every collection takes: offset, page size, `--max-items`, `--after`
/// and prefetch.
fn paged<T: Listed>(query: Listing<T>, args: &ListArgs) -> Listing<T> {
    let mut query = query;
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
    with_prefetch(query, args)
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
/// `fields`: the columns to print (see [`output::sink_with`]).
async fn walk<T: Record>(
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

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn ak_sk_signing_is_chosen_as_documented() {
        let ak_sk = [
            ("HUAWEICLOUD_SDK_AK", "HPUAEXAMPLE"),
            ("HUAWEICLOUD_SDK_SK", "secret"),
            ("HOME", "/nonexistent"),
        ];
        let openstack = [
            ("OS_AUTH_URL", "http://keystone.invalid:5000/v3"),
            ("HOME", "/nonexistent"),
        ];
        let none = GlobalArgs::default();
        let chosen = |global: &GlobalArgs, pairs: &[(&str, &str)]| {
            huawei_config(global, &vars(pairs)).unwrap().is_some()
        };
        // AK and SK in the environment sign, even beside OS_* variables.
        assert!(chosen(&none, &ak_sk));
        assert!(chosen(&none, &[&ak_sk[..], &openstack[..]].concat()));
        // --token or --os-cloud on the command line choose OpenStack.
        let token = GlobalArgs {
            token: Some("t".into()),
            ..GlobalArgs::default()
        };
        let cloud = GlobalArgs {
            os_cloud: vec!["c".into()],
            ..GlobalArgs::default()
        };
        assert!(!chosen(&token, &ak_sk));
        assert!(!chosen(&cloud, &ak_sk));
        // An AK alone does not sign; nor does nothing at all.
        assert!(!chosen(&none, &ak_sk[..1]));
        assert!(!chosen(&none, &openstack));

        // The default credentials file signs only without OS_* settings; a named one always.
        let home = tempfile_dir();
        std::fs::create_dir_all(home.join(".huaweicloud")).unwrap();
        let file = home.join(".huaweicloud/credentials");
        std::fs::write(&file, "[basic]\nak = HPUAFILE\nsk = file-secret\n").unwrap();
        let home_var = ("HOME", home.to_str().unwrap());
        assert!(chosen(&none, &[home_var]));
        assert!(!chosen(&none, &[home_var, openstack[0]]));
        assert!(!chosen(&none, &[home_var, ("OS_CLOUD", "c")]));
        let named = ("HUAWEICLOUD_SDK_CREDENTIALS_FILE", file.to_str().unwrap());
        assert!(chosen(
            &none,
            &[named, openstack[0], ("HOME", "/nonexistent")]
        ));
        let missing = (
            "HUAWEICLOUD_SDK_CREDENTIALS_FILE",
            "/nonexistent/credentials",
        );
        assert!(huawei_config(&none, &vars(&[missing])).is_err());
        std::fs::remove_dir_all(&home).unwrap();
    }

    /// A fresh directory under the system's temporary one.
    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "vbs-backups-cli-unit-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn flags_win_over_the_huawei_environment() {
        let global = GlobalArgs {
            region: Some("ap-southeast-1".into()),
            project_id: Some("p-flag".into()),
            ..GlobalArgs::default()
        };
        let env = vars(&[
            ("HUAWEICLOUD_SDK_AK", "HPUAEXAMPLE"),
            ("HUAWEICLOUD_SDK_SK", "secret"),
            ("HUAWEICLOUD_SDK_PROJECT_ID", "p-env"),
            ("HW_REGION_NAME", "cn-north-4"),
            ("HOME", "/nonexistent"),
        ]);
        let config = huawei_config(&global, &env).unwrap().unwrap();
        assert_eq!(config.region_name(), Some("ap-southeast-1"));
        assert_eq!(config.project_id_setting(), Some("p-flag"));
        assert_eq!(
            config.service_endpoint().unwrap(),
            "https://vbs.ap-southeast-1.myhuaweicloud.com"
        );
        let global = GlobalArgs {
            endpoint: Some("http://127.0.0.1:1".into()),
            ..GlobalArgs::default()
        };
        let config = huawei_config(&global, &env).unwrap().unwrap();
        assert_eq!(config.region_name(), Some("cn-north-4"));
        assert_eq!(config.project_id_setting(), Some("p-env"));
        assert_eq!(config.service_endpoint().unwrap(), "http://127.0.0.1:1");
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

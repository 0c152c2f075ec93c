//! `vbs-fake-server`: the fake VBS / Cinder backup-list server of `vbs-backups-testing` as a
//! command, for scripts and for clients in other languages.
//!
//! ```text
//! vbs-fake-server --backups 5000 --port 0
//! ```
//!
//! starts the server on `127.0.0.1` (port 0: any free port), prints `endpoint=…`,
//! `project_id=…` and `token=…` (one `key=value` per line; with `--keystone` also
//! `auth_url=…` and the credentials; with `--huawei` the AK/SK, region and IAM endpoint
//! of its Huawei API gateway) and serves until Ctrl-C or SIGTERM.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;

use vbs_backups_testing::{
    ACCOUNT_REGIONS, DEFAULT_BACKUPS, DEFAULT_DOMAIN_NAME, DEFAULT_HUAWEI_REGION,
    DEFAULT_MAX_LIMIT, DEFAULT_PASSWORD, DEFAULT_PROJECT_NAME, DEFAULT_SEED, DEFAULT_SPARE_VOLUMES,
    DEFAULT_USER_NAME, FakeAccount, FakeKeystone, FakeServer, HuaweiGateway,
};

/// The access key the `--huawei` gateway accepts.
const HUAWEI_AK: &str = "HPUAFAKEACCESSKEY0001";
/// The secret key the `--huawei` gateway accepts.
const HUAWEI_SK: &str = "fake-secret-key";

const USAGE: &str = "\
Serves a fake Huawei Cloud VBS / OpenStack Cinder backup list on 127.0.0.1 until Ctrl-C or SIGTERM.

Usage: vbs-fake-server [OPTIONS]

Options:
  --backups <N>        backups to generate [default: 25]
  --seed <N>           seed of the generated backups
  --port <PORT>        port on 127.0.0.1; 0 is any free port [default: 0]
  --page-limit <N>     Cinder's osapi_max_limit: the default and largest page [default: 1000]
  --project-id <ID>    the only project id served
  --token <TOKEN>      the token required in X-Auth-Token [default: fake-token]
  --no-auth            accept any request, with or without a token
  --keystone           also start a fake Keystone whose catalog lists the server
  --huawei             put Huawei Cloud's API gateway in front: AK/SK-signed requests only
                       (verified), and IAM's project list on the same address
  --clock-offset <S>   with --huawei: the gateway's clock runs S seconds ahead (negative:
                       behind) [default: 0]
  --cbr                serve Huawei CBR's backup list (GET /v3/{project_id}/backups, marker
                       = the last id, backups and count, no links) instead of Cinder's
  --other-projects <N> also hold N other projects of --backups backups each, listed to an
                       admin with all_tenants=1 (Cinder's whole-cloud listing)
  --non-admin          the caller is not an admin: all_tenants is silently ignored and
                       detail entries have no os-backup-project-attr:project_id
  --volumes <N>        volumes never backed up, listed (GET /{v2|v3}/{project_id}/volumes/detail)
                       beside three of the backups' four volumes (the fourth was deleted)
                       [default: 2]
  --regions <N>        with --huawei: a whole account instead: IAM listing a project in
                       each of N regions (1 to 8), a sub-project, MOS and a disabled
                       project, and each region's VBS and CBR endpoints
  --account-limit <R>  with --regions: throttle (APIGW.0308) requests over R a second,
                       counted over the whole account
  -h, --help           print this help

Prints one key=value per line: endpoint, project_id, token (empty with --no-auth), and with
--keystone auth_url, username, password, user_domain_name, project_name; with --huawei
ak, sk, region and iam_endpoint (token is then empty: the gateway checks signatures).";

/// What the command line asks for.
#[derive(Debug)]
struct Args {
    backups: usize,
    seed: u64,
    port: u16,
    page_limit: usize,
    project_id: Option<String>,
    token: Option<String>,
    no_auth: bool,
    keystone: bool,
    huawei: bool,
    clock_offset: i64,
    cbr: bool,
    other_projects: usize,
    non_admin: bool,
    spare_volumes: usize,
    regions: usize,
    account_limit: Option<u32>,
}

/// What to do after parsing.
#[derive(Debug)]
enum Parsed {
    Serve(Args),
    Help,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Parsed, String> {
    let mut parsed = Args {
        backups: DEFAULT_BACKUPS,
        seed: DEFAULT_SEED,
        port: 0,
        page_limit: DEFAULT_MAX_LIMIT,
        project_id: None,
        token: None,
        no_auth: false,
        keystone: false,
        huawei: false,
        clock_offset: 0,
        cbr: false,
        other_projects: 0,
        non_admin: false,
        spare_volumes: DEFAULT_SPARE_VOLUMES,
        regions: 0,
        account_limit: None,
    };
    while let Some(arg) = args.next() {
        // `--flag=value` or `--flag value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        fn number<T: std::str::FromStr>(name: &str, text: String) -> Result<T, String> {
            text.parse()
                .map_err(|_| format!("{name}: not a valid number: {text:?}"))
        }
        match flag.as_str() {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--backups" => parsed.backups = number("--backups", value("--backups")?)?,
            "--seed" => parsed.seed = number("--seed", value("--seed")?)?,
            "--port" => parsed.port = number("--port", value("--port")?)?,
            "--page-limit" | "--max-limit" => {
                parsed.page_limit = number("--page-limit", value("--page-limit")?)?;
            }
            "--project-id" => parsed.project_id = Some(value("--project-id")?),
            "--token" => parsed.token = Some(value("--token")?),
            "--no-auth" => parsed.no_auth = true,
            "--keystone" => parsed.keystone = true,
            "--huawei" => parsed.huawei = true,
            "--cbr" => parsed.cbr = true,
            "--other-projects" => {
                parsed.other_projects = number("--other-projects", value("--other-projects")?)?;
            }
            "--non-admin" => parsed.non_admin = true,
            "--volumes" => parsed.spare_volumes = number("--volumes", value("--volumes")?)?,
            "--regions" => parsed.regions = number("--regions", value("--regions")?)?,
            "--account-limit" => {
                parsed.account_limit = Some(number("--account-limit", value("--account-limit")?)?);
            }
            "--clock-offset" => {
                parsed.clock_offset = number("--clock-offset", value("--clock-offset")?)?;
            }
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    if parsed.no_auth && parsed.token.is_some() {
        return Err("--no-auth and --token exclude each other".to_owned());
    }
    if parsed.huawei && (parsed.no_auth || parsed.token.is_some()) {
        return Err("--huawei checks AK/SK signatures: no --token or --no-auth".to_owned());
    }
    if parsed.regions > 0 && !parsed.huawei {
        return Err("--regions is a Huawei account: add --huawei".to_owned());
    }
    if parsed.regions > ACCOUNT_REGIONS.len() {
        return Err(format!("--regions: at most {}", ACCOUNT_REGIONS.len()));
    }
    if parsed.account_limit.is_some() && parsed.regions == 0 {
        return Err("--account-limit is the limit of a --regions account".to_owned());
    }
    if parsed.clock_offset != 0 && !parsed.huawei {
        return Err("--clock-offset is the clock of the --huawei gateway".to_owned());
    }
    Ok(Parsed::Serve(parsed))
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Parsed::Serve(args)) => args,
        Ok(Parsed::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("vbs-fake-server: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("vbs-fake-server: cannot start a runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("vbs-fake-server: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> io::Result<()> {
    if args.regions > 0 {
        return serve_account(&args).await;
    }
    let mut builder = FakeServer::builder()
        .backups(args.backups)
        .seed(args.seed)
        .port(args.port)
        .max_limit(args.page_limit)
        .volumes_without_backups(args.spare_volumes);
    if let Some(project_id) = args.project_id {
        builder = builder.project_id(project_id);
    }
    if let Some(token) = args.token {
        builder = builder.token(token);
    }
    if args.no_auth {
        builder = builder.no_auth();
    }
    if args.cbr {
        builder = builder.cbr();
    }
    if args.other_projects > 0 {
        builder = builder.other_projects(args.other_projects, args.backups);
    }
    if args.non_admin {
        builder = builder.non_admin();
    }
    if args.huawei {
        builder = builder
            .huawei(HuaweiGateway::new(HUAWEI_AK, HUAWEI_SK).clock_offset_secs(args.clock_offset));
    }
    let server = Arc::new(builder.start().await?);
    let mut lines = vec![
        format!("endpoint={}", server.endpoint()),
        format!("project_id={}", server.project_id()),
        format!("token={}", server.token().unwrap_or_default()),
    ];
    if args.huawei {
        lines.extend([
            format!("ak={HUAWEI_AK}"),
            format!("sk={HUAWEI_SK}"),
            format!("region={DEFAULT_HUAWEI_REGION}"),
            format!("iam_endpoint={}", server.endpoint()),
        ]);
    }
    // Kept alive until the end of the function: dropping it stops it.
    let _keystone = if args.keystone {
        let keystone = FakeKeystone::builder()
            .volume_server(Arc::clone(&server))
            .start()
            .await?;
        lines.extend([
            format!("auth_url={}", keystone.auth_url()),
            format!("username={DEFAULT_USER_NAME}"),
            format!("password={DEFAULT_PASSWORD}"),
            format!("user_domain_name={DEFAULT_DOMAIN_NAME}"),
            format!("project_name={DEFAULT_PROJECT_NAME}"),
        ]);
        Some(keystone)
    } else {
        None
    };
    let mut stdout = io::stdout().lock();
    for line in lines {
        writeln!(stdout, "{line}")?;
    }
    stdout.flush()?;
    drop(stdout);
    shutdown_signal().await
}

/// A whole Huawei account: prints its variables, one `NAME=value` a line, and the
/// `vbs-backups` command that walks its estate.
async fn serve_account(args: &Args) -> io::Result<()> {
    let mut builder = FakeAccount::builder()
        .regions(args.regions)
        .backups(args.backups)
        .failing_volume();
    if let Some(limit) = args.account_limit {
        builder = builder.limit(limit);
    }
    let account = builder.start().await?;
    let env = account.env();
    let mut stdout = io::stdout().lock();
    for (name, value) in &env {
        writeln!(stdout, "{name}={value}")?;
    }
    let assignments: Vec<String> = env
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    writeln!(
        stdout,
        "command=env {} vbs-backups --all-regions --service vbs,cbr list",
        assignments.join(" ")
    )?;
    stdout.flush()?;
    drop(stdout);
    shutdown_signal().await
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() -> io::Result<()> {
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;

    fn args(line: &str) -> Result<Parsed, String> {
        parse(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn flags_parse_with_and_without_equals() {
        let Parsed::Serve(parsed) =
            args("--backups 5000 --port=0 --page-limit 50 --token t --keystone").unwrap()
        else {
            panic!("not a serve");
        };
        assert_eq!(
            (parsed.backups, parsed.port, parsed.page_limit),
            (5000, 0, 50)
        );
        assert_eq!(parsed.token.as_deref(), Some("t"));
        assert!(parsed.keystone && !parsed.no_auth);
        assert!(matches!(args("--help"), Ok(Parsed::Help)));
    }

    #[test]
    fn bad_arguments_are_refused() {
        for line in [
            "--backups",
            "--backups many",
            "--port 70000",
            "--frobnicate",
            "--no-auth --token t",
            "--huawei --token t",
            "--clock-offset 60",
            "--regions 2",
            "--huawei --regions 9",
            "--huawei --account-limit 5",
            "--huawei --clock-offset soon",
        ] {
            assert!(args(line).is_err(), "{line}");
        }
    }
}

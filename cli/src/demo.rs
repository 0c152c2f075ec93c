//! `vbs-backups demo`: the embedded fake server on 127.0.0.1 and a listing against it,
//! narrated on stderr, so a new user sees the tool work with nothing set up.

use vbs_backups::OpenStackConfig;
use vbs_backups_testing::FakeServer;

use crate::args::{DemoArgs, GlobalArgs, Service};
use crate::connect;
use crate::list;
use crate::numbers::plural;
use crate::report;
use crate::ui::{Exit, Ui};
use crate::walk::{Plan, Walked};

/// Refuses, as a usage error, the flags that point elsewhere: the demo has its own server.
pub fn check(global: &GlobalArgs) -> Result<(), String> {
    let elsewhere = [
        ("--endpoint", global.endpoint.is_some()),
        ("--project-id", global.project_id.is_some()),
        ("--token", global.token.is_some()),
        ("--os-cloud", global.os_cloud().is_some()),
        ("--region", global.region.is_some()),
        ("--service cbr", global.service() == Service::Cbr),
    ];
    match elsewhere.iter().find(|(_, given)| *given) {
        Some((flag, _)) => Err(format!(
            "demo lists its own fake server, so {flag} does not apply; for a real cloud use \
             `vbs-backups list {flag} …`"
        )),
        None => Ok(()),
    }
}

/// Runs `vbs-backups demo`.
pub async fn run(global: &GlobalArgs, args: &DemoArgs, ui: &Ui) -> Exit {
    ui.say(format_args!(
        "demo: starting a fake VBS / Cinder server on 127.0.0.1 with {}",
        plural(u64::try_from(args.backups).unwrap_or(u64::MAX), "backup")
    ));
    let server = match FakeServer::builder().backups(args.backups).start().await {
        Ok(server) => server,
        Err(err) => {
            report::stderr_line(format_args!("error: cannot start the fake server: {err}"));
            return Exit::Failed;
        }
    };
    let token = server.token().unwrap_or_default().to_owned();
    let pointed = GlobalArgs {
        endpoint: Some(server.endpoint()),
        project_id: Some(server.project_id().to_owned()),
        ..global.clone()
    };
    ui.say(format_args!(
        "demo: {}",
        report::command_line(&pointed, Some(&token), &args.list)
    ));
    let client = match connect::connect_with(&config(&server, global)).await {
        Ok(client) => client,
        Err(err) => {
            report::error(&err, args.list.after.as_deref());
            return Exit::Failed;
        }
    };
    let plan = Plan {
        format: args.list.format.unwrap_or(ui.default_format()),
        resume: None,
        after: args.list.after.as_deref(),
        csv_raw: args.list.csv_raw,
    };
    let walked = list::list(&client, Service::Vbs, &args.list, &plan, ui).await;
    if walked.exit != Exit::Ok {
        return walked.exit;
    }
    say_walked(&walked, &server, ui);
    if !args.serve {
        return Exit::Ok;
    }
    serve(&server, pointed, &token, ui).await
}

/// The client configuration for the demo's own server. The environment is left out: the
/// demo must not pick up a real cloud's OS_AUTH_URL.
fn config(server: &FakeServer, global: &GlobalArgs) -> OpenStackConfig {
    let mut config = OpenStackConfig::default();
    config.endpoint_override = Some(server.endpoint());
    config.project_id = Some(server.project_id().to_owned());
    config.token = server.token().map(|token| token.to_owned().into());
    config.auth_type = Some("token_endpoint".to_owned());
    config.volume_api_version = global.api_version.clone();
    config.api_timeout = global.timeout.as_ref().map(|timeout| timeout.duration);
    config
}

/// What the walk did, and what it cost the server.
fn say_walked(walked: &Walked, server: &FakeServer, ui: &Ui) {
    let requests = plural(
        u64::try_from(server.request_count()).unwrap_or(u64::MAX),
        "request",
    );
    if walked.reader_gone {
        ui.say(format_args!(
            "demo: stdout was closed, so the walk stopped after {} ({requests})",
            plural(walked.pages, "page"),
        ));
    } else {
        ui.say(format_args!(
            "demo: listed {} in {} ({requests}) in {:.1?}",
            plural(walked.items, "backup"),
            plural(walked.pages, "page"),
            walked.elapsed
        ));
    }
}

/// `--serve`: keeps the server up until Ctrl-C and says how to list it meanwhile.
async fn serve(server: &FakeServer, pointed: GlobalArgs, token: &str, ui: &Ui) -> Exit {
    // The point of --serve is these lines: said even with --quiet.
    let example = GlobalArgs {
        api_version: None,
        timeout: None,
        ..pointed
    };
    let ndjson = crate::args::ListArgs {
        format: Some(crate::args::Format::Ndjson),
        ..crate::args::ListArgs::default()
    };
    report::stderr_line(format_args!(
        "demo: serving {} until Ctrl-C; in another terminal, try:",
        server.endpoint()
    ));
    report::stderr_line(format_args!(
        "  {} | head -3",
        report::command_line(&example, Some(token), &ndjson)
    ));
    ui.interrupt().wait().await;
    ui.say("demo: stopped");
    Exit::Ok
}

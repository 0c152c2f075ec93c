//! `list` over a Huawei account's estate: every region's projects and both services, each
//! backup with its region, project and service; a summary per scope; a checkpoint that a
//! run killed with SIGKILL resumes from, losing nothing.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use vbs_backups_testing::{CannedResponse, FakeAccount, FakeAccountBuilder};

const BIN: &str = env!("CARGO_BIN_EXE_vbs-backups");

struct Account {
    account: FakeAccount,
    _runtime: tokio::runtime::Runtime,
}

fn account(builder: FakeAccountBuilder) -> Account {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let account = runtime.block_on(builder.start()).unwrap();
    Account {
        account,
        _runtime: runtime,
    }
}

/// `(service, project_id, id)` of every backup of the account.
fn truth(account: &FakeAccount) -> BTreeSet<(String, String, String)> {
    let mut all = BTreeSet::new();
    for scope in account.scopes() {
        let ids: Vec<String> = if scope.service == "cbr" {
            scope
                .server
                .cbr_backups()
                .into_iter()
                .map(|b| b.id)
                .collect()
        } else {
            scope.server.backups().into_iter().map(|b| b.id).collect()
        };
        for id in ids {
            all.insert((scope.service.to_owned(), scope.project.id.clone(), id));
        }
    }
    all
}

fn key(line: &Value) -> (String, String, String) {
    let text = |name: &str| line[name].as_str().unwrap_or_default().to_owned();
    (text("service"), text("project_id"), text("id"))
}

fn estate_command(account: &FakeAccount, extra: &[&str]) -> assert_cmd::Command {
    let mut command = common::vbs();
    command.envs(account.env());
    command.args(["--all-regions", "--service", "vbs,cbr"]);
    command.args(extra);
    command.args(["list", "--format", "ndjson"]);
    command
}

#[test]
fn every_backup_of_every_region_project_and_service_once_with_where_it_came_from() {
    let served = account(FakeAccount::builder().regions(3).backups(6));
    let output = estate_command(&served.account, &["--concurrency", "3"])
        .args(["--page-size", "4"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let lines: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let keys: BTreeSet<_> = lines.iter().map(key).collect();
    assert_eq!(keys.len(), lines.len(), "no backup twice");
    assert_eq!(keys, truth(&served.account));
    for line in &lines {
        assert!(
            line["region"].as_str().is_some_and(|r| r.contains('-')),
            "{line}"
        );
    }
    // One line per scope (4 projects x 2 services), and the projects left out.
    assert_eq!(stderr.matches("6 backups, complete").count(), 8, "{stderr}");
    assert!(
        stderr.contains("MOS") && stderr.contains("not in a region"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cn-north-4_old") && stderr.contains("disabled"),
        "{stderr}"
    );
}

#[test]
fn a_region_without_a_project_is_an_error_that_names_it() {
    let served = account(FakeAccount::builder().regions(1));
    let mut command = common::vbs();
    command.envs(served.account.env());
    let output = command
        .args(["--regions", "cn-north-4,af-south-1", "list"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("af-south-1"), "{stderr}");
    assert!(
        served
            .account
            .scopes()
            .iter()
            .all(|s| s.server.request_count() == 0)
    );
}

#[test]
fn a_failing_scope_exits_1_with_the_resume_command_and_the_rerun_finishes_it_alone() {
    let served = account(FakeAccount::builder().regions(2).backups(5));
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("estate.json");
    let failing = &served.account.scopes()[1].server;
    failing.push_response(CannedResponse::json(
        403,
        r#"{"error_code": "VBS.0001", "error_msg": "forbidden"}"#,
    ));
    let checkpoint_flag = ["--checkpoint", checkpoint.to_str().unwrap()];
    let first = estate_command(&served.account, &checkpoint_flag)
        .output()
        .unwrap();
    assert_eq!(first.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(stderr.contains("failed: HTTP 403"), "{stderr}");
    assert!(stderr.contains("resume with:"), "{stderr}");
    assert!(checkpoint.exists());

    let requests_before: Vec<usize> = served
        .account
        .scopes()
        .iter()
        .map(|s| s.server.request_count())
        .collect();
    let second = estate_command(&served.account, &checkpoint_flag)
        .output()
        .unwrap();
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    for (index, scope) in served.account.scopes().iter().enumerate() {
        if index != 1 {
            assert_eq!(
                scope.server.request_count(),
                requests_before[index],
                "finished scopes are not walked again"
            );
        }
    }
    let mut listed = BTreeSet::new();
    for output in [&first, &second] {
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            assert!(
                listed.insert(key(&serde_json::from_str(line).unwrap())),
                "twice: {line}"
            );
        }
    }
    assert_eq!(listed, truth(&served.account));
    assert!(!checkpoint.exists(), "removed once every scope is complete");
}

#[test]
fn a_run_killed_with_sigkill_and_rerun_loses_nothing_and_repeats_at_most_a_page_a_scope() {
    const PAGE: usize = 3;
    let served = account(
        FakeAccount::builder()
            .regions(2)
            .backups(15)
            .latency(Duration::from_millis(40)),
    );
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("estate.json");
    let args = |command: &mut Command| {
        command
            .env_clear()
            .envs(served.account.env())
            .args([
                "--all-regions",
                "--service",
                "vbs,cbr",
                "--concurrency",
                "2",
            ])
            .args(["--checkpoint", checkpoint.to_str().unwrap()])
            .args([
                "list",
                "--format",
                "ndjson",
                "--page-size",
                &PAGE.to_string(),
            ]);
    };
    let mut first = Command::new(BIN);
    args(&mut first);
    let mut child = first
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut before_kill = Vec::new();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    for _ in 0..20 {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        before_kill.push(key(&serde_json::from_str(&line).unwrap()));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Whatever the pipe still held was written before the kill: it counts as delivered.
    for line in reader.lines() {
        let Ok(line) = line else { break };
        if let Ok(value) = serde_json::from_str::<Value>(&line) {
            before_kill.push(key(&value));
        }
    }
    assert!(checkpoint.exists());

    let mut second = Command::new(BIN);
    args(&mut second);
    let rerun = second.output().unwrap();
    assert!(
        rerun.status.success(),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let after: Vec<_> = String::from_utf8_lossy(&rerun.stdout)
        .lines()
        .map(|line| key(&serde_json::from_str(line).unwrap()))
        .collect();

    let mut seen: BTreeMap<_, usize> = BTreeMap::new();
    for key in before_kill.iter().chain(&after) {
        *seen.entry(key.clone()).or_default() += 1;
    }
    let listed: BTreeSet<_> = seen.keys().cloned().collect();
    assert_eq!(listed, truth(&served.account), "no backup lost");
    let mut repeats_per_scope: BTreeMap<(String, String), usize> = BTreeMap::new();
    for ((service, project, _), count) in &seen {
        if *count > 1 {
            *repeats_per_scope
                .entry((service.clone(), project.clone()))
                .or_default() += count - 1;
        }
    }
    assert!(
        repeats_per_scope.values().all(|&repeats| repeats <= PAGE),
        "more than a page repeated in a scope: {repeats_per_scope:?}"
    );
    assert!(!checkpoint.exists());
}

#[test]
fn stats_over_an_estate_breaks_the_figures_down_by_region_and_project() {
    let served = account(FakeAccount::builder().regions(2).backups(4));
    let mut command = common::vbs();
    command.envs(served.account.env());
    let output = command
        .args(["--all-regions", "--service", "vbs,cbr", "--quiet"])
        .args(["stats", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let figures: Value = serde_json::from_slice(&output.stdout).unwrap();
    // 3 projects (cn-north-4, its _prod, cn-east-3) x 2 services x 4 backups.
    assert_eq!(figures["backups"], 24);
    let by_project = figures["by_project"].as_object().unwrap();
    let mut keys: Vec<_> = by_project.keys().cloned().collect();
    keys.sort();
    let mut expected: Vec<String> = served
        .account
        .scopes()
        .iter()
        .map(|s| format!("{}/{}", s.region, s.project.id))
        .collect();
    expected.sort();
    expected.dedup();
    assert_eq!(keys, expected);
    assert!(by_project.values().all(|tally| tally["backups"] == 8));
}

/// Two clouds of one clouds.yaml, each a Keystone with two projects whose backups sit
/// behind one block storage endpoint.
struct Clouds {
    servers: Vec<(String, vbs_backups_testing::FakeServer)>,
    clouds_yaml: std::path::PathBuf,
    _keep: (
        Vec<vbs_backups_testing::FakeKeystone>,
        Vec<vbs_backups_testing::ProjectRouter>,
        tempfile::TempDir,
        tokio::runtime::Runtime,
    ),
}

fn two_clouds() -> Clouds {
    use vbs_backups_testing::{
        DEFAULT_PROJECT_ID, FakeEndpoint, FakeKeystone, FakeProject, FakeServer, ProjectRouter,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut yaml = String::from("clouds:\n");
    let (mut servers, mut keystones, mut routers) = (Vec::new(), Vec::new(), Vec::new());
    for (index, (cloud, extra)) in [("lab", "p-lab-2"), ("prod", "p-prod-2")]
        .iter()
        .enumerate()
    {
        let mut cloud_servers = Vec::new();
        for (offset, project) in [DEFAULT_PROJECT_ID, extra].iter().enumerate() {
            let seed = (index * 2 + offset) as u64;
            let builder = FakeServer::builder()
                .project_id(*project)
                .backups(3 + offset)
                .seed(seed)
                .no_auth();
            cloud_servers.push(runtime.block_on(builder.start()).unwrap());
        }
        let router = runtime
            .block_on(ProjectRouter::start(&cloud_servers))
            .unwrap();
        let mut builder = FakeKeystone::builder().project(FakeProject::new(*extra, *extra));
        for interface in ["public", "internal", "admin"] {
            builder = builder.endpoint(FakeEndpoint::new(
                "block-storage",
                interface,
                format!("{}/v3/%(project_id)s", router.endpoint()),
            ));
        }
        let keystone = runtime.block_on(builder.start()).unwrap();
        yaml.push_str(&format!(
            "  {cloud}:\n    auth:\n      auth_url: {}\n      username: admin\n      password: fake-password\n      user_domain_name: Default\n    region_name: RegionOne\n",
            keystone.auth_url()
        ));
        servers.extend(cloud_servers.into_iter().map(|s| ((*cloud).to_owned(), s)));
        keystones.push(keystone);
        routers.push(router);
    }
    let clouds_yaml = dir.path().join("clouds.yaml");
    std::fs::write(&clouds_yaml, yaml).unwrap();
    Clouds {
        servers,
        clouds_yaml,
        _keep: (keystones, routers, dir, runtime),
    }
}

#[test]
fn every_project_of_several_clouds_in_one_walk() {
    let clouds = two_clouds();
    let mut command = common::vbs();
    let output = command
        .env("OS_CLIENT_CONFIG_FILE", &clouds.clouds_yaml)
        .args(["--os-cloud", "lab", "--os-cloud", "prod", "--every-project"])
        .args(["list", "--format", "ndjson"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let mut listed: BTreeSet<(String, String, String)> = BTreeSet::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let value: Value = serde_json::from_str(line).unwrap();
        let text = |name: &str| value[name].as_str().unwrap().to_owned();
        assert_eq!(text("region"), "RegionOne");
        assert!(listed.insert((text("cloud"), text("project_id"), text("id"))));
    }
    let truth: BTreeSet<_> = clouds
        .servers
        .iter()
        .flat_map(|(cloud, server)| {
            server
                .backups()
                .into_iter()
                .map(|b| (cloud.clone(), server.project_id().to_owned(), b.id))
        })
        .collect();
    assert_eq!(listed, truth);
    assert_eq!(stderr.matches(", complete").count(), 4, "{stderr}");
}

#[test]
fn where_cinder_can_count_each_scope_is_checked_against_its_count() {
    let clouds = two_clouds();
    let output = common::vbs()
        .env("OS_CLIENT_CONFIG_FILE", &clouds.clouds_yaml)
        .args(["--os-cloud", "lab", "--os-cloud", "prod", "--every-project"])
        .args(["--api-version", "3.45", "list", "--format", "ndjson"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    for (cloud, server) in &clouds.servers {
        let count = server.backups().len();
        let expected = format!("vbs: {count} backups, complete, as the server counted ({count})");
        let line = stderr
            .lines()
            .find(|line| line.starts_with(&format!("{cloud}/RegionOne {} ", server.project_id())))
            .unwrap_or_default();
        assert!(line.ends_with(&expected), "{expected}\n{stderr}");
        for request in server.requests() {
            let pairs = request.query_pairs();
            assert!(
                pairs.contains(&("with_count".into(), "true".into())),
                "{request:?}"
            );
        }
    }
}

#[test]
fn flags_of_one_scope_are_refused_in_an_estate_walk() {
    for (extra, named) in [
        (&["list", "--after", "b1"][..], "--after"),
        (&["list", "--max-items", "5"], "--max-items"),
        (&["--project-id", "p1", "list"], "--project-id"),
        (
            &["--every-project", "--regions", "cn-north-4", "list"],
            "--regions",
        ),
    ] {
        let output = common::vbs()
            .args(["--all-regions"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{extra:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(named), "{extra:?}: {stderr}");
    }
}

/// A project Keystone lists but will not scope a token to fails alone: the others are
/// listed, its line says failed, exit 1 with the resume hint.
#[test]
fn a_project_that_cannot_be_connected_to_fails_alone_and_the_others_are_listed() {
    use vbs_backups_testing::{FakeKeystone, FakeProject, FakeServer};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime
        .block_on(FakeServer::builder().backups(7).no_auth().start())
        .unwrap();
    let keystone = runtime
        .block_on(
            FakeKeystone::builder()
                .volume_endpoints(&server)
                .project(FakeProject::new("p-gone", "gone").unscopable())
                .start(),
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clouds_yaml = dir.path().join("clouds.yaml");
    std::fs::write(
        &clouds_yaml,
        format!(
            "clouds:\n  lab:\n    auth:\n      auth_url: {}\n      username: admin\n      password: fake-password\n      user_domain_name: Default\n    region_name: RegionOne\n",
            keystone.auth_url()
        ),
    )
    .unwrap();
    let output = common::vbs()
        .env("OS_CLIENT_CONFIG_FILE", &clouds_yaml)
        .args([
            "--os-cloud",
            "lab",
            "--every-project",
            "list",
            "--format",
            "ndjson",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let listed = String::from_utf8_lossy(&output.stdout).lines().count();
    assert_eq!(listed, server.backups().len(), "{stderr}");
    assert!(
        stderr.contains("RegionOne p-gone (gone) vbs: 0 backups, failed:"),
        "{stderr}"
    );
    assert!(stderr.contains(": 7 backups, complete"), "{stderr}");
    assert!(stderr.contains("error: 1 of 2 scopes failed"), "{stderr}");
}

/// One of several clouds that cannot be reached (its password was changed) fails alone:
/// the other cloud is listed, exit 1.
#[test]
fn a_cloud_that_cannot_be_reached_fails_alone_beside_the_others() {
    let clouds = two_clouds();
    let yaml = std::fs::read_to_string(&clouds.clouds_yaml).unwrap();
    let (lab, prod) = yaml.split_at(yaml.find("  prod:").unwrap());
    let broken = format!("{lab}{}", prod.replace("fake-password", "changed-since"));
    std::fs::write(&clouds.clouds_yaml, broken).unwrap();
    let output = common::vbs()
        .env("OS_CLIENT_CONFIG_FILE", &clouds.clouds_yaml)
        .args(["--os-cloud", "lab", "--os-cloud", "prod", "--every-project"])
        .args(["list", "--format", "ndjson"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let lab_backups: usize = clouds
        .servers
        .iter()
        .filter(|(cloud, _)| cloud == "lab")
        .map(|(_, server)| server.backups().len())
        .sum();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).lines().count(),
        lab_backups
    );
    assert!(
        stderr.contains("prod/RegionOne  (every project) vbs: 0 backups, failed:"),
        "{stderr}"
    );
    assert_eq!(stderr.matches(", complete").count(), 2, "{stderr}");
}

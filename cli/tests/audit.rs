//! `vbs-backups audit`, end to end: the built binary against the fake server's volumes and
//! backups; every verdict, a scope that fails, both services through the Huawei gateway,
//! and the Prometheus output read back with a parser of the format.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use common::{Served, serve, vbs};
use serde_json::{Value, json};
use vbs_backups_testing::{
    CannedResponse, DELETED_VOLUME_ID, FakeServer, FakeVolume, HuaweiGateway,
};

/// A time `hours` ago, as Cinder writes it.
fn hours_ago(hours: i64) -> String {
    let time = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(hours);
    time.strftime("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

fn backup(id: &str, volume: &str, status: &str, hours: i64) -> Value {
    json!({"id": id, "name": null, "status": status, "volume_id": volume, "size": 3,
           "created_at": hours_ago(hours), "links": []})
}

/// A server whose backups listing is replaced by `backups` (one page), after the
/// volumes' own page: volumes `db-data`, `web-root`, `logs` and two never backed up.
fn served_with(backups: Value) -> Served {
    let served = serve(FakeServer::builder().backups(0).volumes_without_backups(2));
    served.server.push_response(CannedResponse::passthrough());
    served.server.push_response(CannedResponse::json(
        200,
        json!({"backups": backups}).to_string(),
    ));
    served
}

fn volume_named(server: &FakeServer, name: &str) -> FakeVolume {
    server
        .volumes()
        .into_iter()
        .find(|volume| volume.name.as_deref() == Some(name))
        .unwrap()
}

/// The audit of the one served project; one listing at a time, in order (volumes, then
/// backups), as the canned responses expect.
fn run(served: &Served, extra: &[&str]) -> (i32, String, String) {
    let output = vbs()
        .args(served.flags())
        .args(["--concurrency", "1", "audit"])
        .args(extra)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn verdicts(report: &Value) -> HashMap<String, String> {
    report["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap_or("-").to_owned(),
                v["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The served volumes' backups: one protected, one stale, one failing, a spare with a
/// backup in progress, a spare with none, and two backups of a deleted volume.
fn every_verdict() -> Served {
    let served = serve(FakeServer::builder().backups(0).volumes_without_backups(2));
    let server = &served.server;
    let id = |name: &str| volume_named(server, name).id;
    let spares: Vec<String> = server
        .volumes()
        .into_iter()
        .filter(|v| v.name.as_deref().is_some_and(|n| n.starts_with("scratch")))
        .map(|v| v.id)
        .collect();
    let backups = json!([
        backup("b-fresh", &id("db-data"), "available", 2),
        backup("b-fresh-error", &id("db-data"), "error", 1),
        backup("b-old", &id("web-root"), "available", 24 * 10),
        backup("b-failed", &id("logs"), "error", 3),
        backup("b-busy", &spares[0], "creating", 1),
        backup("b-orphan-1", DELETED_VOLUME_ID, "available", 5),
        backup("b-orphan-2", DELETED_VOLUME_ID, "error", 6),
    ]);
    drop(served);
    served_with(backups)
}

#[test]
fn every_verdict_end_to_end_with_exit_3() {
    let served = every_verdict();
    let (code, stdout, stderr) = run(&served, &["--max-age", "7d", "--format", "json"]);
    assert_eq!(code, 3, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let verdicts = verdicts(&report);
    assert_eq!(verdicts["db-data"], "protected");
    assert_eq!(verdicts["web-root"], "stale");
    assert_eq!(verdicts["logs"], "failing");
    assert_eq!(verdicts["scratch-0"], "unprotected");
    assert_eq!(verdicts["scratch-1"], "unprotected");
    assert_eq!(report["max_age_seconds"], 7 * 86_400);
    assert_eq!(
        report["summary"],
        json!({"volumes": 5, "protected": 1, "stale": 1, "failing": 1, "unprotected": 2,
               "unknown": 0, "orphaned_backups": 2, "orphaned_gib": 6})
    );
    let orphans: Vec<&str> = report["orphaned_backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(orphans, ["b-orphan-1", "b-orphan-2"]);
    assert_eq!(
        report["orphaned_backups"][0]["volume_id"],
        DELETED_VOLUME_ID
    );
    let db = report["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "db-data")
        .unwrap();
    assert_eq!(db["newest_available_backup"]["id"], "b-fresh");
    assert_eq!(db["backups"], json!({"available": 1, "error": 1}));
    let scopes = report["scopes"].as_array().unwrap();
    assert_eq!(scopes.len(), 2);
    assert!(
        scopes
            .iter()
            .all(|s| s["complete"] == true && s["error"].is_null())
    );
    // The volumes not protected come first.
    assert_eq!(report["volumes"][4]["verdict"], "protected");
}

#[test]
fn all_protected_exits_0_in_two_requests() {
    let served = serve(FakeServer::builder().backups(60).volumes_without_backups(0));
    let (code, stdout, stderr) = run(&served, &["--max-age", "100000d", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["summary"]["protected"], 3);
    assert!(report["summary"]["orphaned_backups"].as_u64().unwrap() > 0);
    let paths: Vec<String> = served
        .server
        .requests()
        .into_iter()
        .map(|r| r.path)
        .collect();
    let project = served.server.project_id();
    assert_eq!(
        paths,
        [
            format!("/v2/{project}/volumes/detail"),
            format!("/v2/{project}/backups/detail")
        ]
    );
}

#[test]
fn a_failed_listing_exits_1_with_its_volumes_unknown_and_the_report_written() {
    let served = serve(FakeServer::builder().backups(30).volumes_without_backups(1));
    served.server.push_response(CannedResponse::passthrough());
    served.server.push_response(CannedResponse::json(
        403,
        r#"{"forbidden": {"code": 403, "message": "Policy doesn't allow backup:get_all"}}"#,
    ));
    let (code, stdout, stderr) = run(&served, &["--max-age", "100000d", "--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("error: the vbs listing did not complete"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Policy doesn't allow backup:get_all"),
        "{stderr}"
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["summary"]["unknown"], 4);
    assert!(
        verdicts(&report)
            .values()
            .all(|verdict| verdict == "unknown")
    );
    let vbs_scope = &report["scopes"][1];
    assert_eq!(vbs_scope["service"], "vbs");
    assert_eq!(vbs_scope["complete"], false);
    assert!(vbs_scope["error"].as_str().unwrap().contains("403"));
}

#[test]
fn ndjson_is_volumes_then_orphans_then_the_summary() {
    let served = every_verdict();
    let (code, stdout, _) = run(&served, &["--max-age", "7d", "--format", "ndjson"]);
    assert_eq!(code, 3);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "volume",
            "volume",
            "volume",
            "volume",
            "volume",
            "orphaned_backup",
            "orphaned_backup",
            "summary"
        ]
    );
    assert_eq!(lines[7]["protected"], 1);
    assert!(lines[0]["verdict"].is_string());
    assert!(
        stdout
            .lines()
            .next()
            .unwrap()
            .starts_with(r#"{"type":"volume","#)
    );
}

#[test]
fn the_table_puts_the_volumes_not_protected_first_and_sums_up() {
    let served = every_verdict();
    let (code, stdout, _) = run(&served, &["--max-age", "7d", "--format", "table"]);
    assert_eq!(code, 3);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("VERDICT"));
    assert!(lines[1].starts_with("failing "));
    assert!(lines[5].starts_with("protected "));
    assert!(
        stdout.contains("5 volumes: 1 failing, 2 unprotected, 1 stale, 0 unknown, 1 protected")
    );
    assert!(stdout.contains("2 orphaned backups of deleted volumes, 6 GiB"));
}

#[test]
fn prometheus_output_is_written_atomically_and_reads_back_with_a_parser() {
    let served = every_verdict();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vbs_backups.prom");
    let (code, stdout, _) = run(
        &served,
        &[
            "--max-age",
            "7d",
            "--format",
            "prometheus",
            "--output",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 3);
    assert!(stdout.is_empty(), "nothing on stdout: {stdout}");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    let text = std::fs::read_to_string(&file).unwrap();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
    let families = [
        "vbs_backups_volume_newest_available_backup_timestamp_seconds",
        "vbs_backups_volume_verdict",
        "vbs_backups_volumes",
        "vbs_backups_backups",
        "vbs_backups_orphaned_backups",
        "vbs_backups_orphaned_bytes",
        "vbs_backups_scope_complete",
        "vbs_backups_audit_timestamp_seconds",
    ];
    for family in families {
        assert!(scrape.docs.contains_key(family), "# HELP of {family}");
        assert!(
            text.contains(&format!("# TYPE {family} gauge\n")),
            "# TYPE of {family}"
        );
        let samples: Vec<_> = scrape
            .samples
            .iter()
            .filter(|s| s.metric == family)
            .collect();
        assert!(!samples.is_empty(), "samples of {family}");
        assert!(
            samples
                .iter()
                .all(|s| matches!(s.value, prometheus_parse::Value::Gauge(_))),
            "{family} is a gauge"
        );
    }
    let value = |metric: &str, labels: &[(&str, &str)]| gauge_of(&scrape, metric, labels);
    let logs = volume_named(&served.server, "logs").id;
    assert_eq!(
        value(
            "vbs_backups_volume_verdict",
            &[("volume_id", &logs), ("verdict", "failing")]
        ),
        1.0
    );
    assert_eq!(
        value("vbs_backups_volumes", &[("verdict", "unprotected")]),
        2.0
    );
    assert_eq!(value("vbs_backups_volumes", &[("verdict", "unknown")]), 0.0);
    assert_eq!(value("vbs_backups_orphaned_backups", &[]), 2.0);
    assert_eq!(
        value("vbs_backups_orphaned_bytes", &[]),
        6.0 * 1_073_741_824.0
    );
    assert_eq!(
        value(
            "vbs_backups_backups",
            &[("service", "vbs"), ("status", "error")]
        ),
        3.0
    );
    assert_eq!(
        value("vbs_backups_scope_complete", &[("service", "vbs")]),
        1.0
    );
    let db = volume_named(&served.server, "db-data").id;
    let newest = value(
        "vbs_backups_volume_newest_available_backup_timestamp_seconds",
        &[("volume_id", &db)],
    );
    let audited = value("vbs_backups_audit_timestamp_seconds", &[]);
    assert!(
        (audited - newest - 7_200.0).abs() < 600.0,
        "{audited} {newest}"
    );
    // A volume without a protecting backup has no timestamp.
    assert!(!scrape.samples.iter().any(|s| {
        s.metric == "vbs_backups_volume_newest_available_backup_timestamp_seconds"
            && s.labels.get("volume_id") == Some(logs.as_str())
    }));
}

#[test]
fn usage_errors_exit_2() {
    let served = serve(FakeServer::builder().backups(1));
    for args in [
        &["--max-age", "7"][..],
        &["--max-age", "1 week"],
        &[],
        &["--max-age", "7d", "--services", "vbs,cbr"],
        &["--max-age", "7d", "--service", "vbs,cbr"],
        &["--max-age", "7d", "--format", "csv"],
    ] {
        let (code, _, stderr) = run(&served, args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
    }
    assert!(served.server.requests().is_empty());
}

#[test]
fn help_documents_the_exit_codes() {
    let output = vbs().args(["audit", "--help"]).output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(help.contains("0 every volume protected"), "{help}");
    assert!(help.contains("3 the audit completed"), "{help}");
    assert!(help.contains("1 a listing failed"), "{help}");
}

/// VBS and CBR are two endpoints: one server serves the volumes (EVS) and VBS, the other
/// CBR, both behind the gateway.
#[test]
fn both_services_through_the_huawei_gateway() {
    const AK: &str = "HPUAFAKEACCESSKEY0001";
    const SK: &str = "fake-secret-key-never-printed";
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let start = |cbr: bool| {
        let mut builder = FakeServer::builder()
            .backups(40)
            .volumes_without_backups(1)
            .huawei(HuaweiGateway::new(AK, SK));
        if cbr {
            builder = builder.cbr();
        }
        Arc::new(runtime.block_on(builder.start()).unwrap())
    };
    let (vbs_server, cbr_server) = (start(false), start(true));
    let output = vbs()
        .env("HUAWEICLOUD_SDK_AK", AK)
        .env("HUAWEICLOUD_SDK_SK", SK)
        .env("HUAWEICLOUD_SDK_PROJECT_ID", vbs_server.project_id())
        .env(
            "HUAWEICLOUD_SDK_REGION_EVS_CN_NORTH_4",
            vbs_server.endpoint(),
        )
        .env(
            "HUAWEICLOUD_SDK_REGION_VBS_CN_NORTH_4",
            vbs_server.endpoint(),
        )
        .env(
            "HUAWEICLOUD_SDK_REGION_CBR_CN_NORTH_4",
            cbr_server.endpoint(),
        )
        .args(["--region", "cn-north-4", "--concurrency", "1", "audit"])
        .args(["--max-age", "100000d"])
        .args(["--service", "vbs,cbr", "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let scopes: Vec<(&str, &str)> = report["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["region"].as_str().unwrap(),
                s["service"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        scopes,
        [
            ("cn-north-4", "volumes"),
            ("cn-north-4", "vbs"),
            ("cn-north-4", "cbr")
        ]
    );
    assert_eq!(report["summary"]["protected"], 3);
    assert_eq!(report["summary"]["unprotected"], 1);
    // Each orphan is reported once per service that keeps it.
    let orphans = report["orphaned_backups"].as_array().unwrap();
    let by_vbs = orphans.iter().filter(|o| o["service"] == "vbs").count();
    let by_cbr = orphans.iter().filter(|o| o["service"] == "cbr").count();
    assert!(by_vbs > 0 && by_vbs == by_cbr, "{orphans:?}");
    let cbr_paths: Vec<String> = cbr_server.requests().into_iter().map(|r| r.path).collect();
    let project = vbs_server.project_id();
    assert_eq!(cbr_paths, [format!("/v3/{project}/backups")]);
    let vbs_paths: Vec<String> = vbs_server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        vbs_paths,
        [
            format!("/v3/{project}/volumes/detail"),
            format!("/v2/{project}/backups/detail")
        ]
    );
    assert_eq!(
        vbs_server.signatures_refused() + cbr_server.signatures_refused(),
        0
    );
}

/// A Huawei account on loopback (IAM, and EVS, VBS and CBR per region), kept running.
struct Account {
    account: vbs_backups_testing::FakeAccount,
    _runtime: tokio::runtime::Runtime,
}

fn account(builder: vbs_backups_testing::FakeAccountBuilder) -> Account {
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

/// `vbs-backups --all-regions audit --services vbs,cbr --max-age 7d` and `extra`, over
/// the account.
fn audit_account(
    account: &vbs_backups_testing::FakeAccount,
    extra: &[&str],
) -> (i32, String, String) {
    let output = vbs()
        .envs(account.env())
        .args([
            "--all-regions",
            "audit",
            "--services",
            "vbs,cbr",
            "--max-age",
            "7d",
        ])
        .args(extra)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// Every request the account's servers heard, IAM's included.
fn account_requests(
    account: &vbs_backups_testing::FakeAccount,
) -> Vec<vbs_backups_testing::RecordedRequest> {
    let mut requests = account.iam().requests();
    for scope in account.scopes().iter().chain(account.volume_scopes()) {
        requests.extend(scope.server.requests());
    }
    requests
}

/// `(region, project name, volume name) → verdict` of a report.
fn verdicts_by_place(
    report: &Value,
    account: &vbs_backups_testing::FakeAccount,
) -> HashMap<(String, String, String), String> {
    let project_name = |id: &str| {
        account
            .projects()
            .iter()
            .find(|p| p.id == id)
            .unwrap()
            .name
            .clone()
    };
    report["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let text = |name: &str| v[name].as_str().unwrap_or("-").to_owned();
            (
                (
                    text("region"),
                    project_name(&text("project_id")),
                    text("name"),
                ),
                text("verdict"),
            )
        })
        .collect()
}

#[test]
fn an_audit_of_every_region_with_both_services_judges_each_project_apart() {
    let served = account(
        vbs_backups_testing::FakeAccount::builder()
            .regions(4)
            .backups(25)
            .failing_volume(),
    );
    let account = &served.account;
    let (code, stdout, stderr) = audit_account(account, &["--format", "json"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("skipped project MOS"), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let verdicts = verdicts_by_place(&report, account);
    let verdict = |region: &str, project: &str, volume: &str| {
        verdicts[&(region.to_owned(), project.to_owned(), volume.to_owned())].as_str()
    };
    for kept in ["db-data", "web-root", "logs"] {
        // Backups an hour old in both services.
        assert_eq!(verdict("cn-north-4", "cn-north-4", kept), "protected");
        // A month old in both.
        assert_eq!(verdict("cn-east-3", "cn-east-3", kept), "stale");
        // A month old in VBS, an hour in CBR: CBR alone proves it.
        assert_eq!(
            verdict("ap-southeast-1", "ap-southeast-1", kept),
            "protected"
        );
        assert_eq!(verdict("eu-west-0", "eu-west-0", kept), "protected");
    }
    assert_eq!(verdict("cn-north-4", "cn-north-4_prod", "logs"), "failing");
    assert_eq!(
        verdict("cn-north-4", "cn-north-4_prod", "db-data"),
        "protected"
    );
    let spares = verdicts
        .iter()
        .filter(|((_, _, name), _)| name.starts_with("scratch"));
    assert_eq!(spares.clone().count(), 5 * 2);
    assert!(
        spares
            .into_iter()
            .all(|(_, verdict)| verdict == "unprotected")
    );
    let newest_service = |region: &str| {
        report["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["region"] == region && v["name"] == "db-data")
            .unwrap()["newest_available_backup"]["service"]
            .clone()
    };
    assert_eq!(newest_service("ap-southeast-1"), "cbr");
    assert_eq!(newest_service("eu-west-0"), "vbs");

    // Every (project, listing) is in `scopes`, complete.
    let scopes: std::collections::BTreeSet<(String, String)> = report["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["complete"], true, "{s}");
            assert!(s["error"].is_null());
            (
                s["project_id"].as_str().unwrap().to_owned(),
                s["service"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut expected = std::collections::BTreeSet::new();
    for scope in account.volume_scopes() {
        for listing in ["volumes", "vbs", "cbr"] {
            expected.insert((scope.project.id.clone(), listing.to_owned()));
        }
    }
    assert_eq!(expected.len(), 15);
    assert_eq!(scopes, expected);

    // The orphans of each project are its own backups of its deleted volume, no other's.
    let mut orphans: Vec<(String, String, String)> = report["orphaned_backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            assert_eq!(o["volume_id"], DELETED_VOLUME_ID);
            let text = |name: &str| o[name].as_str().unwrap().to_owned();
            (text("project_id"), text("service"), text("id"))
        })
        .collect();
    orphans.sort();
    let mut truth = Vec::new();
    for scope in account.scopes() {
        let ids: Vec<String> = if scope.service == "cbr" {
            scope
                .server
                .cbr_backups()
                .into_iter()
                .filter(|b| b.resource_id == DELETED_VOLUME_ID)
                .map(|b| b.id)
                .collect()
        } else {
            scope
                .server
                .backups()
                .into_iter()
                .filter(|b| b.volume_id == DELETED_VOLUME_ID)
                .map(|b| b.id)
                .collect()
        };
        truth.extend(
            ids.into_iter()
                .map(|id| (scope.project.id.clone(), scope.service.to_owned(), id)),
        );
    }
    truth.sort();
    assert!(!truth.is_empty());
    assert_eq!(orphans, truth);
}

#[test]
fn an_audit_reads_each_listing_once_and_iam_once() {
    let served = account(
        vbs_backups_testing::FakeAccount::builder()
            .regions(2)
            .backups(25),
    );
    let account = &served.account;
    let (code, _, stderr) = audit_account(account, &["--format", "json"]);
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(account.iam().request_count(), 1);
    for scope in account.volume_scopes() {
        let paths: Vec<String> = scope
            .server
            .requests()
            .into_iter()
            .map(|r| r.path)
            .collect();
        assert_eq!(paths, [format!("/v3/{}/volumes/detail", scope.project.id)]);
    }
    for scope in account.scopes() {
        let paths: Vec<String> = scope
            .server
            .requests()
            .into_iter()
            .map(|r| r.path)
            .collect();
        let expected = if scope.service == "cbr" {
            format!("/v3/{}/backups", scope.project.id)
        } else {
            format!("/v2/{}/backups/detail", scope.project.id)
        };
        assert_eq!(paths, [expected], "{} {}", scope.service, scope.region);
    }
    // IAM, then a page of volumes, VBS and CBR for each of the 3 projects.
    assert_eq!(account_requests(account).len(), 1 + 3 * 3);
}

#[test]
fn a_region_whose_listing_fails_leaves_its_volumes_unknown_and_the_others_judged() {
    let served = account(
        vbs_backups_testing::FakeAccount::builder()
            .regions(2)
            .backups(25),
    );
    let account = &served.account;
    let failing = account
        .scopes()
        .iter()
        .find(|s| s.region == "cn-east-3" && s.service == "vbs")
        .unwrap();
    failing.server.push_response(CannedResponse::json(
        403,
        r#"{"error_code": "VBS.0001", "error_msg": "Policy doesn't allow backup:get_all"}"#,
    ));
    let (code, stdout, stderr) = audit_account(account, &["--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: the vbs listing did not complete (region cn-east-3, project {})",
            failing.project.id
        )),
        "{stderr}"
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let verdicts = verdicts_by_place(&report, account);
    for ((region, _, name), verdict) in &verdicts {
        match region.as_str() {
            // Nothing there is proven protected by CBR (its backups are a month old).
            "cn-east-3" => assert_eq!(verdict, "unknown", "{name}"),
            _ => assert_ne!(verdict, "unknown", "{region} {name}"),
        }
    }
    assert_eq!(verdicts.values().filter(|v| *v == "unknown").count(), 5);
    let incomplete: Vec<&Value> = report["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["complete"] == false)
        .collect();
    assert_eq!(incomplete.len(), 1);
    assert_eq!(incomplete[0]["region"], "cn-east-3");
    assert_eq!(incomplete[0]["service"], "vbs");
    assert!(incomplete[0]["error"].as_str().unwrap().contains("403"));
}

#[test]
fn max_rate_holds_over_every_request_iam_included() {
    // The account throttles past 8 requests a second: a budget of 2 a second (and a
    // burst of 5) never meets it; without a budget the audit's 10 requests would.
    let served = account(
        vbs_backups_testing::FakeAccount::builder()
            .regions(2)
            .backups(5)
            .limit(8),
    );
    let account = &served.account;
    let (code, _, stderr) = audit_account(account, &["--max-rate", "2", "--format", "json"]);
    assert_ne!(code, 1, "{stderr}");
    assert_eq!(account.limit().unwrap().throttled(), 0);
    let mut times: Vec<std::time::Instant> = account_requests(account)
        .into_iter()
        .map(|r| r.received)
        .collect();
    assert_eq!(times.len(), 10);
    times.sort();
    for (index, start) in times.iter().enumerate() {
        let within = times[index..]
            .iter()
            .take_while(|t| t.duration_since(*start) < std::time::Duration::from_secs(1))
            .count();
        assert!(within <= 2 + 5, "{within} requests within a second");
    }
}

#[test]
fn prometheus_output_of_an_estate_has_every_region_and_reads_back() {
    let served = account(
        vbs_backups_testing::FakeAccount::builder()
            .regions(2)
            .backups(25)
            .failing_volume(),
    );
    let account = &served.account;
    let (code, stdout, stderr) = audit_account(account, &["--format", "prometheus"]);
    assert_eq!(code, 3, "{stderr}");
    let scrape = prometheus_parse::Scrape::parse(stdout.lines().map(|l| Ok(l.to_owned()))).unwrap();
    let gauge = |metric: &str, labels: &[(&str, &str)]| gauge_of(&scrape, metric, labels);
    let project = |name: &str| {
        account
            .projects()
            .iter()
            .find(|p| p.name == name)
            .unwrap()
            .id
            .clone()
    };
    let (north, east, prod) = (
        project("cn-north-4"),
        project("cn-east-3"),
        project("cn-north-4_prod"),
    );
    let volumes = |region: &str, project: &str, verdict: &str| {
        gauge(
            "vbs_backups_volumes",
            &[
                ("region", region),
                ("project_id", project),
                ("verdict", verdict),
            ],
        )
    };
    assert_eq!(volumes("cn-north-4", &north, "protected"), 3.0);
    assert_eq!(volumes("cn-east-3", &east, "stale"), 3.0);
    assert_eq!(volumes("cn-east-3", &east, "protected"), 0.0);
    assert_eq!(volumes("cn-north-4", &prod, "failing"), 1.0);
    let complete: Vec<_> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "vbs_backups_scope_complete")
        .collect();
    assert_eq!(complete.len(), 3 * 3);
    assert!(gauge("vbs_backups_orphaned_backups", &[("region", "cn-east-3")]) > 0.0);
}

#[test]
fn checkpoint_and_exclusive_scope_flags_are_refused() {
    let served = account(vbs_backups_testing::FakeAccount::builder().regions(1));
    for (extra, named) in [
        (&["--checkpoint", "state.json"][..], "--checkpoint"),
        (
            &["--regions", "cn-north-4", "--every-project"],
            "--every-project",
        ),
        (&["--project-id", "p1"], "--project-id"),
    ] {
        let (code, _, stderr) = audit_account(&served.account, extra);
        assert_eq!(code, 2, "{extra:?}: {stderr}");
        assert!(stderr.contains(named), "{stderr}");
    }
    assert_eq!(account_requests(&served.account).len(), 0);
}

/// A cloud: a Keystone that reaches `projects` (beside its default one), their volumes
/// and backups behind one block storage endpoint.
struct KeystoneCloud {
    servers: Vec<FakeServer>,
    keystone: vbs_backups_testing::FakeKeystone,
    _router: vbs_backups_testing::ProjectRouter,
}

fn keystone_cloud(
    runtime: &tokio::runtime::Runtime,
    projects: &[&str],
    seed: u64,
) -> KeystoneCloud {
    keystone_cloud_with(runtime, projects, seed, &[])
}

/// [`keystone_cloud`], and `unscopable` projects Keystone lists but scopes no token to.
fn keystone_cloud_with(
    runtime: &tokio::runtime::Runtime,
    projects: &[&str],
    seed: u64,
    unscopable: &[&str],
) -> KeystoneCloud {
    use vbs_backups_testing::{FakeEndpoint, FakeKeystone, FakeProject, ProjectRouter};
    let servers: Vec<FakeServer> = projects
        .iter()
        .enumerate()
        .map(|(index, project)| {
            let builder = FakeServer::builder()
                .project_id(*project)
                .backups(20)
                .seed(seed + index as u64)
                .no_auth();
            runtime.block_on(builder.start()).unwrap()
        })
        .collect();
    let router = runtime.block_on(ProjectRouter::start(&servers)).unwrap();
    let mut builder = FakeKeystone::builder();
    for project in projects {
        if *project != vbs_backups_testing::DEFAULT_PROJECT_ID {
            builder = builder.project(FakeProject::new(*project, *project));
        }
    }
    for project in unscopable {
        builder = builder.project(FakeProject::new(*project, *project).unscopable());
    }
    for interface in ["public", "internal", "admin"] {
        builder = builder.endpoint(FakeEndpoint::new(
            "block-storage",
            interface,
            format!("{}/v3/%(project_id)s", router.endpoint()),
        ));
    }
    let keystone = runtime.block_on(builder.start()).unwrap();
    KeystoneCloud {
        servers,
        keystone,
        _router: router,
    }
}

/// A clouds.yaml of `(name, cloud, project to scope to)`.
fn clouds_yaml(
    dir: &std::path::Path,
    clouds: &[(&str, &KeystoneCloud, Option<&str>)],
) -> std::path::PathBuf {
    let mut yaml = String::from("clouds:\n");
    for (name, cloud, project) in clouds {
        yaml.push_str(&format!(
            "  {name}:\n    auth:\n      auth_url: {}\n      username: admin\n      password: fake-password\n      user_domain_name: Default\n",
            cloud.keystone.auth_url()
        ));
        if let Some(project) = project {
            yaml.push_str(&format!("      project_id: {project}\n"));
        }
        yaml.push_str("    region_name: RegionOne\n");
    }
    let path = dir.join("clouds.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn several_clouds_are_audited_each_in_its_own_project() {
    let runtime = runtime();
    let lab = keystone_cloud(&runtime, &["p-lab"], 0);
    let prod = keystone_cloud(&runtime, &["p-prod"], 5);
    let dir = tempfile::tempdir().unwrap();
    let clouds_yaml = clouds_yaml(
        dir.path(),
        &[
            ("lab", &lab, Some("p-lab")),
            ("prod", &prod, Some("p-prod")),
        ],
    );
    let output = vbs()
        .env("OS_CLIENT_CONFIG_FILE", &clouds_yaml)
        .args(["--os-cloud", "lab", "--os-cloud", "prod", "audit"])
        .args(["--max-age", "100000d", "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    for server in lab.servers.iter().chain(&prod.servers) {
        let project = server.project_id();
        let volumes = report["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["project_id"] == project)
            .count();
        assert_eq!(volumes, server.volumes().len(), "{project}");
        assert_eq!(
            server.request_count(),
            2,
            "{project}: volumes and backups once"
        );
    }
    assert_eq!(report["scopes"].as_array().unwrap().len(), 2 * 2);
    assert_eq!(report["summary"]["protected"], 6);
}

/// One cloud whose Keystone reaches two projects.
#[test]
fn every_project_over_keystone_audits_each_project_the_credentials_reach() {
    let runtime = runtime();
    let cloud = keystone_cloud(
        &runtime,
        &[vbs_backups_testing::DEFAULT_PROJECT_ID, "p-second"],
        0,
    );
    let servers = &cloud.servers;
    let dir = tempfile::tempdir().unwrap();
    let clouds_yaml = clouds_yaml(dir.path(), &[("lab", &cloud, None)]);
    let output = vbs()
        .env("OS_CLIENT_CONFIG_FILE", &clouds_yaml)
        .args(["--os-cloud", "lab", "--every-project", "audit"])
        .args(["--max-age", "100000d", "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut scopes: Vec<(String, String)> = report["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["region"], "RegionOne");
            assert_eq!(s["complete"], true);
            (
                s["project_id"].as_str().unwrap().to_owned(),
                s["service"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    scopes.sort();
    let mut expected: Vec<(String, String)> = servers
        .iter()
        .flat_map(|s| {
            ["vbs", "volumes"].map(|listing| (s.project_id().to_owned(), listing.to_owned()))
        })
        .collect();
    expected.sort();
    assert_eq!(scopes, expected);
    for server in servers {
        let project = server.project_id();
        let volumes = report["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["project_id"] == project)
            .count();
        assert_eq!(volumes, server.volumes().len(), "{project}");
        let mut paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                format!("/v3/{project}/backups/detail"),
                format!("/v3/{project}/volumes/detail")
            ]
        );
    }
    assert_eq!(report["summary"]["protected"], 6);
}

/// A project Keystone lists but will not scope a token to: its listings fail, the
/// others are audited, exit 1.
#[test]
fn a_project_that_cannot_be_connected_to_fails_alone() {
    let runtime = runtime();
    let cloud = keystone_cloud_with(
        &runtime,
        &[vbs_backups_testing::DEFAULT_PROJECT_ID],
        0,
        &["p-gone"],
    );
    let dir = tempfile::tempdir().unwrap();
    let clouds_yaml = clouds_yaml(dir.path(), &[("lab", &cloud, None)]);
    let output = vbs()
        .env("OS_CLIENT_CONFIG_FILE", &clouds_yaml)
        .args(["--os-cloud", "lab", "--every-project", "audit"])
        .args(["--max-age", "100000d", "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: could not connect (region RegionOne, project p-gone)"),
        "{stderr}"
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    for scope in report["scopes"].as_array().unwrap() {
        let gone = scope["project_id"] == "p-gone";
        assert_eq!(scope["complete"], !gone, "{scope}");
        assert_eq!(scope["error"].is_null(), !gone, "{scope}");
    }
    assert_eq!(report["scopes"].as_array().unwrap().len(), 4);
    let server = &cloud.servers[0];
    let volumes = report["volumes"].as_array().unwrap();
    assert_eq!(volumes.len(), server.volumes().len());
    assert!(volumes.iter().all(|v| v["verdict"] != "unknown"));
}

/// One of several clouds that cannot be reached fails its listings alone: the other is
/// judged, the report written, exit 1.
#[test]
fn a_cloud_that_cannot_be_reached_fails_alone_and_the_report_is_written() {
    let runtime = runtime();
    let lab = keystone_cloud(&runtime, &["p-lab"], 0);
    let prod = keystone_cloud(&runtime, &["p-prod"], 5);
    let dir = tempfile::tempdir().unwrap();
    let clouds_yaml = clouds_yaml(
        dir.path(),
        &[
            ("lab", &lab, Some("p-lab")),
            ("prod", &prod, Some("p-prod")),
        ],
    );
    let yaml = std::fs::read_to_string(&clouds_yaml).unwrap();
    let (first, second) = yaml.split_at(yaml.find("  prod:").unwrap());
    let broken = format!(
        "{first}{}",
        second.replace("fake-password", "changed-since")
    );
    std::fs::write(&clouds_yaml, broken).unwrap();
    let output = vbs()
        .env("OS_CLIENT_CONFIG_FILE", &clouds_yaml)
        .args(["--os-cloud", "lab", "--os-cloud", "prod", "audit"])
        .args(["--max-age", "100000d", "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: could not connect (region RegionOne, project p-prod)"),
        "{stderr}"
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let volumes = report["volumes"].as_array().unwrap();
    assert_eq!(volumes.len(), lab.servers[0].volumes().len());
    for scope in report["scopes"].as_array().unwrap() {
        assert_eq!(scope["complete"], scope["project_id"] == "p-lab", "{scope}");
    }
    assert_eq!(prod.servers[0].request_count(), 0);
}

/// A scope's volumes are listed before its backups, so that the audit never holds a
/// backup whose volume it has not seen as a possible orphan: the backups request can
/// only follow the volumes' (delayed) answer.
#[test]
fn a_scopes_backups_are_asked_for_only_after_its_volumes_are_known() {
    let latency = std::time::Duration::from_millis(300);
    let served = serve(FakeServer::builder().backups(20).latency(latency));
    let output = vbs()
        .args(served.flags())
        .args(["audit", "--max-age", "7d", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let requests = served.server.requests();
    let volumes = requests
        .iter()
        .find(|r| r.path.contains("/volumes"))
        .unwrap();
    let backups = requests
        .iter()
        .find(|r| r.path.contains("/backups"))
        .unwrap();
    assert!(
        backups.received >= volumes.received + latency,
        "the backups were asked for before the volumes were answered"
    );
}

/// `--services vbs,cbr,vbs` audits each service once: VBS's backups are not counted
/// twice, nor its orphans.
#[test]
fn a_service_named_twice_is_audited_once() {
    let served = account(
        vbs_backups_testing::FakeAccount::builder()
            .regions(1)
            .backups(5),
    );
    let once = audit_account(&served.account, &["--format", "json"]);
    let twice = audit_account(
        &served.account,
        &["--services", "vbs,cbr,vbs", "--format", "json"],
    );
    assert_eq!(once.0, twice.0, "{}", twice.2);
    let once: Value = serde_json::from_str(&once.1).unwrap();
    let twice: Value = serde_json::from_str(&twice.1).unwrap();
    assert_eq!(twice["summary"], once["summary"]);
    assert_eq!(twice["orphaned_backups"], once["orphaned_backups"]);
    assert_eq!(
        twice["scopes"].as_array().unwrap().len(),
        once["scopes"].as_array().unwrap().len()
    );
}

/// A report that cannot be written to stdout (a full disk) is an error, exit 1: not a
/// truncated report with the exit of a complete one.
#[cfg(target_os = "linux")]
#[test]
fn a_report_stdout_cannot_take_is_an_error() {
    let served = every_verdict();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_vbs-backups"))
        .env_clear()
        .current_dir(common::empty_dir())
        .args(served.flags())
        .args(["--concurrency", "1", "audit", "--max-age", "7d"])
        .args(["--format", "json"])
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: cannot write to stdout:"),
        "{stderr}"
    );
}

/// CBR is Huawei Cloud's: against OpenStack (no AK/SK) it is refused before a request,
/// not sent to Cinder to fail late with every volume unknown.
#[test]
fn cbr_without_huawei_credentials_is_a_usage_error() {
    let served = serve(FakeServer::builder().backups(1));
    for args in [
        &["--max-age", "7d", "--services", "cbr"][..],
        &["--max-age", "7d", "--service", "cbr"],
    ] {
        let (code, _, stderr) = run(&served, args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains("CBR is Huawei Cloud's"),
            "{args:?}: {stderr}"
        );
    }
    let output = vbs()
        .args(served.flags())
        .args(["--service", "cbr", "audit", "--max-age", "7d"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(served.server.requests().is_empty());
}

/// `--output FILE` without `--format` writes JSON, and `--help` says so.
#[test]
fn output_defaults_to_json() {
    let help = vbs().args(["audit", "--help"]).output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(
        help.contains("the default otherwise and with --output"),
        "{help}"
    );
    let served = every_verdict();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.json");
    let (code, stdout, stderr) = run(
        &served,
        &["--max-age", "7d", "--output", path.to_str().unwrap()],
    );
    assert_eq!(code, 3, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(report["summary"].is_object(), "{report}");
}

/// The one gauge sample of `metric` with `labels` in `scrape`.
fn gauge_of(scrape: &prometheus_parse::Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<f64> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Gauge(value) => value,
            _ => f64::NAN,
        })
        .collect();
    assert_eq!(found.len(), 1, "{metric} {labels:?}");
    found[0]
}

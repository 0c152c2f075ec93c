//! `list --all-projects` / `--project-filter`: the built binary against a fake server
//! holding several projects, as an admin and as a non-admin.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use common::{Run, serve, vbs};
use serde_json::Value;
use vbs_backups_testing::FakeServer;

fn several_projects() -> vbs_backups_testing::FakeServerBuilder {
    FakeServer::builder().backups(12).other_projects(2, 5)
}

#[test]
fn all_projects_lists_every_project_with_all_tenants_on_every_page() {
    let served = serve(several_projects());
    let run = Run::ok(vbs().arg("list").args(served.flags()).args([
        "--api-version",
        "3.18",
        "--all-projects",
        "--page-size",
        "5",
        "--format",
        "ndjson",
    ]));
    let got: Vec<(String, String)> = run
        .stdout
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap();
            (
                value["id"].as_str().unwrap().to_owned(),
                value["os-backup-project-attr:project_id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    let truth: Vec<(String, String)> = served
        .server
        .all_backups()
        .into_iter()
        .map(|b| (b.id, b.project_id))
        .collect();
    assert_eq!(truth.len(), 22);
    assert_eq!(got, truth);
    let requests = served.detail_listings();
    // 22 backups in pages of 5.
    assert_eq!(requests.len(), 5);
    for request in requests {
        assert_eq!(request.param("all_tenants").as_deref(), Some("1"));
    }
}

#[test]
fn the_table_and_csv_of_a_whole_cloud_listing_say_each_backups_project() {
    let served = serve(several_projects());
    let other = served.server.other_project_ids()[0].clone();
    let table = Run::ok(vbs().arg("list").args(served.flags()).args([
        "--api-version",
        "3.71",
        "--project-filter",
        &other,
        "--format",
        "table",
    ]))
    .stdout;
    let mut lines = table.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("PROJECT "), "{header}");
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|row| row.starts_with(&other)), "{table}");
    for request in served.detail_listings() {
        assert_eq!(request.param("all_tenants").as_deref(), Some("1"));
        assert_eq!(request.param("project_id").as_deref(), Some(other.as_str()));
    }

    let csv = Run::ok(vbs().arg("list").args(served.flags()).args([
        "--api-version",
        "3.71",
        "--all-projects",
        "--format",
        "csv",
    ]))
    .stdout;
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let column = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "project_id")
        .unwrap();
    let projects: Vec<String> = reader
        .records()
        .map(|record| record.unwrap()[column].to_owned())
        .collect();
    let truth: Vec<String> = served
        .server
        .all_backups()
        .into_iter()
        .map(|b| b.project_id)
        .collect();
    assert_eq!(projects, truth);

    // A plain detail table has no PROJECT column.
    let plain = Run::ok(vbs().arg("list").args(served.flags()).args([
        "--api-version",
        "3.71",
        "--detail",
        "--format",
        "table",
    ]))
    .stdout;
    assert!(plain.starts_with("ID "), "{plain}");
    assert_eq!(plain.lines().count(), 13);
}

#[test]
fn a_non_admin_gets_an_error_not_its_own_project_passed_off_as_the_cloud() {
    let served = serve(several_projects().non_admin());
    let run = Run::of(vbs().arg("list").args(served.flags()).args([
        "--api-version",
        "3.18",
        "--all-projects",
        "--format",
        "ndjson",
    ]));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("the server ignored all_tenants"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: listing every project") && run.stderr.contains("admin role"),
        "a hint about admin credentials, not settings: {}",
        run.stderr
    );
    assert_eq!(served.detail_listings().len(), 1);
}

#[test]
fn whole_cloud_flags_need_3_18_and_the_volume_service() {
    let served = serve(several_projects());
    let run = Run::of(vbs().arg("list").args(served.flags()).args([
        "--all-projects",
        "--format",
        "ndjson",
    ]));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("--api-version 3.18"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("   "),
        "one clean line: {}",
        run.stderr
    );
    assert!(served.server.requests().is_empty());
    // On v3 the command asks for 3.18 itself.
    let run = Run::ok(vbs().arg("list").args(served.flags()).args([
        "--api-version",
        "3",
        "--all-projects",
        "--format",
        "ndjson",
    ]));
    assert_eq!(run.stdout.lines().count(), 12 + 2 * 5, "{}", run.stderr);

    let run = Run::of(vbs().args(["list", "--service", "cbr", "--project-filter", "p"]));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("--project-filter"), "{}", run.stderr);
}

#[test]
fn an_interrupted_whole_cloud_listing_resumes_as_one_with_the_printed_command() {
    let served = serve(several_projects());
    served
        .server
        .push_response(vbs_backups_testing::CannedResponse::passthrough());
    served
        .server
        .push_response(vbs_backups_testing::CannedResponse::json(
            403,
            r#"{"forbidden": {"code": 403, "message": "Policy doesn't allow backup:get_all."}}"#,
        ));
    let token = served.server.token().unwrap().to_owned();
    let run = Run::of(
        vbs()
            .arg("list")
            .args(["--endpoint", &served.server.endpoint()])
            .args(["--project-id", served.server.project_id()])
            .env("OS_AUTH_TOKEN", &token)
            .args([
                "--api-version",
                "3.18",
                "--all-projects",
                "--page-size",
                "8",
            ])
            .args(["--format", "ndjson"]),
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let ids = |text: &str| -> Vec<String> {
        text.lines()
            .map(|line| {
                let value: Value = serde_json::from_str(line).unwrap();
                value["id"].as_str().unwrap().to_owned()
            })
            .collect()
    };
    let first = ids(&run.stdout);
    // The eighth is the marker of the page that failed: held back, it comes on resume.
    assert_eq!(first.len(), 7);
    let line = run
        .stderr
        .lines()
        .find_map(|line| line.strip_prefix("resume with: vbs-backups "))
        .unwrap_or_else(|| panic!("no resume hint in {}", run.stderr));
    let words: Vec<&str> = line.split_whitespace().collect();
    assert!(words.contains(&"--detail"), "{line}");
    served.server.clear_requests();
    let rest = Run::ok(vbs().args(&words).env("OS_AUTH_TOKEN", &token));
    let truth: Vec<String> = served
        .server
        .all_backups()
        .into_iter()
        .map(|b| b.id)
        .collect();
    assert_eq!([first, ids(&rest.stdout)].concat(), truth);
    for request in served.detail_listings() {
        assert_eq!(request.param("all_tenants").as_deref(), Some("1"));
    }
}

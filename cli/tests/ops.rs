//! What operators ask of `list`, end to end with the built binary against the fake server
//! on 127.0.0.1: age windows (`--created-before` / `--created-after`, with the requests
//! the early stop saves), `--fields`, and the generated completions and man page.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use common::{Run, empty_dir, serve, vbs};
use jiff::Timestamp;
use vbs_backups_testing::{CannedResponse, FakeBackup, FakeServer, HuaweiGateway};

/// Cinder's zone-less `created_at`, read as UTC.
fn created(naive: &str) -> Timestamp {
    format!("{naive}Z").parse().expect("a fake timestamp")
}

fn ids<'a>(backups: impl IntoIterator<Item = &'a FakeBackup>) -> Vec<String> {
    backups
        .into_iter()
        .map(|backup| backup.id.clone())
        .collect()
}

// ---------------------------------------------------------------------------------------
// Age windows
// ---------------------------------------------------------------------------------------

#[test]
fn created_before_lists_exactly_the_older_backups_and_stops_at_the_first_newer_page() {
    let served = serve(FakeServer::builder().backups(100));
    let ascending = served.server.backups_sorted("created_at:asc").unwrap();
    // Backups come in pairs sharing a minute; 31 is the first of its pair.
    let bound = created(&ascending[31].created_at);
    let expected: Vec<_> = ascending
        .iter()
        .filter(|backup| created(&backup.created_at) < bound)
        .collect();
    assert_eq!(expected.len(), 31);

    // The full walk, for comparison: eleven pages of ten.
    let all = Run::ok(vbs().arg("list").args(served.flags()).args([
        "--page-size",
        "10",
        "--format",
        "ndjson",
    ]));
    assert_eq!(all.ids().len(), 100);
    let full_walk = served.listings(false).len();
    assert_eq!(full_walk, 11);

    served.server.clear_requests();
    let old = Run::ok(vbs().arg("list").args(served.flags()).args([
        "--page-size",
        "10",
        "--format",
        "ndjson",
        "--created-before",
        &bound.to_string(),
    ]));
    assert_eq!(old.ids(), ids(expected.iter().copied()), "oldest first");
    // Without --detail the output keeps the summary's shape.
    for object in old.objects() {
        let keys: Vec<&str> = object
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["id", "name"], "{object}");
    }
    let window = served.listings(true);
    assert!(
        served.listings(false).is_empty(),
        "the window walks the detail listing"
    );
    assert_eq!(
        window.len(),
        4,
        "31 backups in pages of ten: the 4th page passes the bound"
    );
    assert!(window.len() < full_walk);
    for request in &window {
        assert_eq!(request.param("sort").as_deref(), Some("created_at:asc"));
    }
}

#[test]
fn created_after_lists_the_newer_backups_newest_first_with_the_fields_asked_for() {
    let served = serve(FakeServer::builder().backups(100));
    let descending = served.server.backups_sorted("created_at:desc").unwrap();
    let bound = created(&descending[44].created_at);
    let expected: Vec<_> = descending
        .iter()
        .filter(|backup| created(&backup.created_at) >= bound)
        .collect();

    let run = Run::ok(
        vbs().arg("list").args(served.flags()).args([
            "--page-size",
            "10",
            "--format",
            "csv",
            "--fields",
            "id,created_at,size",
            // RFC 3339 with an offset: the same instant.
            "--created-after",
            &bound
                .to_zoned_datetime(jiff::tz::TimeZone::fixed(jiff::tz::offset(2)))
                .to_string(),
        ]),
    );
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    assert_eq!(reader.headers().unwrap(), vec!["id", "created_at", "size"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let got: Vec<String> = rows.iter().map(|row| row[0].to_owned()).collect();
    assert_eq!(got, ids(expected.iter().copied()), "newest first");
    for (row, truth) in rows.iter().zip(&expected) {
        assert_eq!(
            row[1].parse::<Timestamp>().unwrap(),
            created(&truth.created_at)
        );
        assert_eq!(row[2], truth.size.to_string());
    }
    let window = served.listings(true);
    assert_eq!(window.len(), expected.len() / 10 + 1);
    assert!(window.len() < 11, "fewer pages than the full walk");
    for request in &window {
        assert_eq!(request.param("sort").as_deref(), Some("created_at:desc"));
    }
}

/// The README's figure: a year of backups at ten a "day" (3,650, the fake's dates being
/// minutes apart), pages of 50, and a cleanup of the 60 oldest "days".
#[test]
fn a_sixty_day_cleanup_over_a_year_reads_13_pages_instead_of_74() {
    let served = serve(FakeServer::builder().backups(3650));
    let ascending = served.server.backups_sorted("created_at:asc").unwrap();
    let flags = ["--page-size", "50", "--format", "ndjson"];
    let all = Run::ok(vbs().arg("list").args(served.flags()).args(flags));
    assert_eq!(all.ids().len(), 3650);
    assert_eq!(served.listings(false).len(), 74);

    served.server.clear_requests();
    // 601 backups: the cutoff is the first of a pair sharing a minute.
    let cutoff = created(&ascending[601].created_at).to_string();
    let old = Run::ok(
        vbs()
            .arg("list")
            .args(served.flags())
            .args(flags)
            .args(["--created-before", &cutoff]),
    );
    assert_eq!(old.ids(), ids(&ascending[..601]));
    assert_eq!(served.listings(true).len(), 13, "61 requests saved");
}

#[test]
fn a_window_walk_that_fails_midway_resumes_on_the_detail_listing_and_stops_at_the_bound() {
    let served = serve(FakeServer::builder().backups(100));
    let ascending = served.server.backups_sorted("created_at:asc").unwrap();
    let bound = created(&ascending[51].created_at).to_string();
    served.server.push_response(CannedResponse::passthrough());
    served.server.push_response(CannedResponse::json(
        403,
        r#"{"forbidden": {"code": 403, "message": "Policy doesn't allow backup:get_all."}}"#,
    ));
    let first = Run::of(
        vbs()
            .arg("list")
            .args(["--endpoint", &served.server.endpoint()])
            .args(["--project-id", served.server.project_id()])
            .env("OS_AUTH_TOKEN", served.server.token().unwrap())
            .args(["--page-size", "10", "--format", "ndjson"])
            .args(["--created-before", &bound]),
    );
    assert_eq!(first.code, Some(1), "{}", first.stderr);
    let line = first
        .stderr
        .lines()
        .find_map(|line| line.strip_prefix("resume with: vbs-backups "))
        .unwrap_or_else(|| panic!("no resume hint in {}", first.stderr));
    let words: Vec<&str> = line.split_whitespace().collect();
    assert!(
        !words.contains(&"--created-before"),
        "the window is in the token"
    );
    served.server.clear_requests();
    let rest = Run::ok(
        vbs()
            .args(&words)
            .env("OS_AUTH_TOKEN", served.server.token().unwrap()),
    );
    assert_eq!(
        [first.ids(), rest.ids()].concat(),
        ids(&ascending[..51]),
        "the rest of the window, still shown as id and name"
    );
    for object in rest.objects() {
        assert_eq!(object.as_object().unwrap().len(), 2, "{object}");
    }
    let requests = served.listings(true);
    assert!(
        requests.len() <= 5,
        "the resumed walk stops at the bound too"
    );
}

#[test]
fn relative_ages_count_back_from_now() {
    // The fake's backups are from 2024: all of them are older than a day, none newer.
    let served = serve(FakeServer::builder().backups(25));
    let older = Run::ok(vbs().arg("list").args(served.flags()).args([
        "--format",
        "ndjson",
        "--created-before",
        "1d",
    ]));
    let mut truth = ids(&served.server.backups_sorted("created_at:asc").unwrap());
    let mut got = older.ids();
    truth.sort();
    got.sort();
    assert_eq!(got, truth);

    served.server.clear_requests();
    let newer = Run::ok(vbs().arg("list").args(served.flags()).args([
        "--format",
        "ndjson",
        "--created-after",
        "2w",
    ]));
    assert_eq!(newer.stdout, "");
    assert_eq!(
        served.listings(true).len(),
        1,
        "the newest backup is already past the bound"
    );
}

#[test]
fn a_bad_time_or_field_is_a_usage_error_naming_what_is_accepted() {
    for bad in ["yesterday", "60", "-5d", "2026-10-01", "1 month"] {
        let run = Run::of(vbs().args(["list", &format!("--created-before={bad}")]));
        assert_eq!(run.code, Some(2), "{bad}: {}", run.stderr);
        assert!(run.stderr.contains("RFC 3339"), "{bad}: {}", run.stderr);
        assert!(
            run.stderr.contains("60d, 12h, 30m or 2w"),
            "{bad}: {}",
            run.stderr
        );
        assert_eq!(run.stdout, "");
    }
    let run = Run::of(vbs().args(["list", "--fields", "id,sise"]));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("`sise`"), "{}", run.stderr);
    assert!(
        run.stderr.contains("valid fields: id,name,status,size,"),
        "{}",
        run.stderr
    );
    let run = Run::of(vbs().args(["--service", "cbr", "list", "--fields", "volume_id"]));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("resource_id"), "{}", run.stderr);
    // The window is the token's, as the filters are.
    let run = Run::of(vbs().args(["list", "--resume", "x", "--created-after", "1d"]));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}

#[test]
fn cbr_sends_the_window_as_start_time_and_end_time() {
    // CBR as Huawei Cloud serves it: behind the AK/SK signing gateway.
    const AK: &str = "HPUAFAKEACCESSKEY0001";
    let served = serve(
        FakeServer::builder()
            .backups(60)
            .cbr()
            .huawei(HuaweiGateway::new(AK, "fake-secret")),
    );
    let mut ascending = served.server.cbr_backups();
    ascending.sort_by_key(|backup| created(&backup.created_at));
    let after = created(&ascending[10].created_at);
    let before = created(&ascending[40].created_at);
    let run = Run::ok(
        vbs()
            .env("HOME", empty_dir())
            .env("HUAWEICLOUD_SDK_AK", AK)
            .env("HUAWEICLOUD_SDK_SK", "fake-secret")
            .env("HUAWEICLOUD_SDK_IAM_ENDPOINT", served.server.endpoint())
            .env(
                "HUAWEICLOUD_SDK_REGION_CBR_CN_NORTH_4",
                served.server.endpoint(),
            )
            .args(["--region", "cn-north-4", "--service", "cbr", "list"])
            .args(["--format", "ndjson", "--page-size", "7"])
            .args(["--created-after", &after.to_string()])
            .args(["--created-before", &before.to_string()]),
    );
    let listings = served.listings(false);
    assert!(!listings.is_empty());
    for request in &listings {
        assert_eq!(request.param("start_time"), Some(after.to_string()));
        assert_eq!(request.param("end_time"), Some(before.to_string()));
    }
    let mut expected: Vec<String> = served
        .server
        .cbr_backups()
        .into_iter()
        .filter(|backup| {
            let at = created(&backup.created_at);
            at >= after && at < before
        })
        .map(|backup| backup.id)
        .collect();
    let mut got = run.ids();
    assert!(!got.is_empty());
    expected.sort();
    got.sort();
    assert_eq!(
        got, expected,
        "strictly before --created-before, though CBR's end_time takes in its second"
    );
}

// ---------------------------------------------------------------------------------------
// --fields
// ---------------------------------------------------------------------------------------

#[test]
fn fields_choose_the_columns_and_detail_fields_read_the_detail_listing() {
    let served = serve(FakeServer::builder().backups(23));
    let truth = served.server.backups();

    let run = Run::ok(vbs().arg("list").args(served.flags()).args([
        "--format",
        "csv",
        "--fields",
        "status,id,size,volume_id",
    ]));
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["status", "id", "size", "volume_id"]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|row| row.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let expected: Vec<Vec<String>> = truth
        .iter()
        .map(|backup| {
            vec![
                backup.status.clone(),
                backup.id.clone(),
                backup.size.to_string(),
                backup.volume_id.clone(),
            ]
        })
        .collect();
    assert_eq!(rows, expected);
    assert_eq!(
        served.listings(true).len(),
        1,
        "status and size need the detail listing"
    );
    assert!(served.listings(false).is_empty());

    // id and name are the summary's: no detail listing.
    served.server.clear_requests();
    let run = Run::ok(
        vbs()
            .arg("list")
            .args(served.flags())
            .args(["--format", "table", "--fields", "name,id"]),
    );
    let mut lines = run.stdout.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "ID"]);
    assert_eq!(lines.count(), truth.len());
    assert_eq!(served.listings(false).len(), 1);
    assert!(served.listings(true).is_empty());

    // A table of detail fields, sizes aligned right.
    let run = Run::ok(
        vbs()
            .arg("list")
            .args(served.flags())
            .args(["--format", "table", "--fields", "id,size"]),
    );
    let mut lines = run.stdout.lines();
    assert!(lines.next().unwrap().ends_with("SIZE"));
    for (line, backup) in lines.zip(&truth) {
        assert!(line.starts_with(&backup.id), "{line}");
        assert!(line.ends_with(&backup.size.to_string()), "{line}");
    }
}

// ---------------------------------------------------------------------------------------
// Completions and the man page
// ---------------------------------------------------------------------------------------

#[test]
fn completions_for_each_shell_come_from_the_command_definition() {
    for shell in ["bash", "zsh", "fish"] {
        let run = Run::ok(vbs().args(["completions", shell]));
        assert!(!run.stdout.is_empty(), "{shell}");
        assert!(run.stdout.contains("vbs-backups"), "{shell}");
        assert!(run.stdout.contains("page-size"), "{shell}");
        assert!(run.stdout.contains("created-before"), "{shell}");
        assert_eq!(run.stderr, "", "{shell}");
    }
    assert_eq!(Run::of(vbs().args(["completions", "tcsh"])).code, Some(2));
}

#[test]
fn the_man_page_is_roff_and_names_the_subcommands() {
    let run = Run::ok(vbs().arg("man"));
    // The page opens with `.TH`; before it clap_mangen only defines the string it uses
    // for apostrophes (`.ie \n(.g .ds Aq …`), which is not a macro of the page.
    let first_macro = run
        .stdout
        .lines()
        .find(|line| line.starts_with(".TH") || line.starts_with(".SH"))
        .unwrap();
    assert!(first_macro.starts_with(".TH vbs-backups"), "{first_macro}");
    assert!(run.stdout.contains("list"));
    assert!(run.stdout.contains("completions"));
}

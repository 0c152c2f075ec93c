//! `vbs-backups stats`: the built binary against the fake server; every JSON figure is
//! checked against the figures computed here from `FakeServer::backups()`.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use std::collections::{BTreeMap, HashMap};

use common::{Run, serve, vbs};
use serde_json::{Value, json};
use vbs_backups_testing::{FakeBackup, FakeServer};

/// Cinder's zone-less `2024-01-01T20:49:00.000000` as the RFC 3339 the command prints.
fn rfc3339(naive: &str) -> String {
    let civil: jiff::civil::DateTime = naive.parse().unwrap();
    jiff::tz::Offset::UTC
        .to_timestamp(civil)
        .unwrap()
        .to_string()
}

/// The figures `stats --format json` should print for `backups`, computed independently.
fn expected(backups: &[FakeBackup]) -> Value {
    let tally = |list: &[&FakeBackup]| json!({"backups": list.len(), "size_gib": list.iter().map(|b| b.size).sum::<u64>()});
    let mut by_status: BTreeMap<&str, Vec<&FakeBackup>> = BTreeMap::new();
    let mut by_volume: HashMap<&str, Vec<&FakeBackup>> = HashMap::new();
    let mut by_day: BTreeMap<&str, Vec<&FakeBackup>> = BTreeMap::new();
    for backup in backups {
        by_status.entry(&backup.status).or_default().push(backup);
        by_volume.entry(&backup.volume_id).or_default().push(backup);
        by_day
            .entry(&backup.created_at[..10])
            .or_default()
            .push(backup);
    }
    let oldest = backups
        .iter()
        .min_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)))
        .unwrap();
    let newest = backups
        .iter()
        .max_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)))
        .unwrap();
    let mut volumes: Vec<(&str, u64, u64)> = by_volume
        .iter()
        .map(|(id, list)| (*id, list.len() as u64, list.iter().map(|b| b.size).sum()))
        .collect();
    volumes.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(b.0)));
    let mut counts: Vec<u64> = volumes.iter().map(|v| v.1).collect();
    counts.sort_unstable();
    json!({
        "backups": backups.len(),
        "size_gib": backups.iter().map(|b| b.size).sum::<u64>(),
        "without_size": 0,
        "by_status": by_status.iter().map(|(k, v)| (k.to_string(), tally(v))).collect::<serde_json::Map<_, _>>(),
        "oldest": {"id": oldest.id, "created_at": rfc3339(&oldest.created_at)},
        "newest": {"id": newest.id, "created_at": rfc3339(&newest.created_at)},
        "without_created_at": 0,
        "volumes": volumes.len(),
        "without_volume": 0,
        "backups_per_volume": {
            "min": counts[0],
            "median": counts[(counts.len() - 1) / 2],
            "max": counts[counts.len() - 1],
        },
        "largest_volumes": volumes.iter().take(10).map(|(id, n, size)| json!({"volume_id": id, "backups": n, "size_gib": size})).collect::<Vec<_>>(),
        "histogram": {
            "unit": "day",
            "buckets": by_day.iter().map(|(day, list)| {
                let mut bucket = tally(list);
                bucket["start"] = json!(day);
                bucket
            }).collect::<Vec<_>>(),
        },
    })
}

#[test]
fn json_figures_equal_those_of_the_servers_backups_and_every_page_is_a_detail_page() {
    // 6,000 backups a minute apart by pairs: about two days, so two day buckets.
    let served = serve(FakeServer::builder().backups(6000));
    let run = Run::ok(vbs().arg("stats").args(served.flags()).args([
        "--format",
        "json",
        "--page-size",
        "1000",
    ]));
    let got: Value = serde_json::from_str(&run.stdout).expect("one JSON object");
    let want = expected(&served.server.backups());
    assert_eq!(got, want);
    assert_eq!(got["histogram"]["buckets"].as_array().unwrap().len(), 3);
    let requests = served.detail_listings();
    // 6,000 in pages of 1,000, then the empty page after the exactly full last one.
    assert_eq!(requests.len(), 7);
    assert_eq!(
        served.server.request_count(),
        7,
        "nothing but the detail listing"
    );
}

#[test]
fn filters_are_sent_on_every_page_and_the_figures_follow_them() {
    let served = serve(FakeServer::builder().backups(900));
    let run = Run::ok(vbs().arg("stats").args(served.flags()).args([
        "--status",
        "error",
        "--page-size",
        "50",
        "--format",
        "json",
    ]));
    let got: Value = serde_json::from_str(&run.stdout).unwrap();
    let errors: Vec<FakeBackup> = served
        .server
        .backups()
        .into_iter()
        .filter(|b| b.status == "error")
        .collect();
    assert_eq!(got, expected(&errors));
    let requests = served.detail_listings();
    assert!(requests.len() > 1);
    for request in requests {
        assert_eq!(request.param("status").as_deref(), Some("error"));
        assert_eq!(request.param("limit").as_deref(), Some("50"));
    }
}

#[test]
fn the_text_summary_has_every_section_and_bars() {
    let served = serve(FakeServer::builder().backups(3000));
    let run = Run::ok(vbs().arg("stats").args(served.flags()));
    let text = &run.stdout;
    for section in [
        "total     3,000 backups",
        "oldest    2024-01-01T00:00:00Z",
        "by status",
        "largest volumes, by backup size",
        "backups per volume: 4 volumes",
        "created per day",
        "  2024-01-01  ####",
    ] {
        assert!(text.contains(section), "{section:?} in\n{text}");
    }
    // Not a terminal: no progress line, nothing on stderr.
    assert_eq!(run.stderr, "");
}

#[test]
fn whole_cloud_stats_count_per_project_and_a_non_admin_gets_an_error() {
    let served = serve(FakeServer::builder().backups(40).other_projects(2, 7));
    let run = Run::ok(vbs().arg("stats").args(served.flags()).args([
        "--api-version",
        "3.18",
        "--all-projects",
        "--format",
        "json",
    ]));
    let got: Value = serde_json::from_str(&run.stdout).unwrap();
    let all = served.server.all_backups();
    assert_eq!(got["backups"], json!(54));
    let mut want = expected(&all);
    let mut projects: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for backup in &all {
        let entry = projects.entry(backup.project_id.clone()).or_default();
        entry.0 += 1;
        entry.1 += backup.size;
    }
    want["by_project"] = projects
        .into_iter()
        .map(|(project, (n, size))| (project, json!({"backups": n, "size_gib": size})))
        .collect::<serde_json::Map<_, _>>()
        .into();
    assert_eq!(got, want);
    for request in served.detail_listings() {
        assert_eq!(request.param("all_tenants").as_deref(), Some("1"));
    }

    let refused = serve(
        FakeServer::builder()
            .backups(40)
            .other_projects(2, 7)
            .non_admin(),
    );
    let run = Run::of(vbs().arg("stats").args(refused.flags()).args([
        "--api-version",
        "3.18",
        "--all-projects",
    ]));
    assert_eq!(run.code, Some(1));
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("the server ignored all_tenants"),
        "{}",
        run.stderr
    );
}

#[test]
fn stats_refuses_cbr_as_a_usage_error() {
    let run = Run::of(vbs().args(["stats", "--service", "cbr"]));
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("stats applies to VBS"),
        "{}",
        run.stderr
    );
}

#[test]
fn server_text_in_the_summary_cannot_drive_the_terminal() {
    let served = serve(FakeServer::builder().backups(0));
    let page = r#"{"backups": [{"id": "b\u001b[2J", "status": "error\u001b]0;owned\u0007",
        "size": 3, "volume_id": "v\u001b[31m", "created_at": "2024-01-01T00:00:00.000000"}]}"#;
    served
        .server
        .push_response(vbs_backups_testing::CannedResponse::json(200, page));
    let run = Run::ok(vbs().arg("stats").args(served.flags()));
    assert!(!run.stdout.contains('\u{1b}'), "{:?}", run.stdout);
    assert!(!run.stdout.contains('\u{7}'), "{:?}", run.stdout);
    assert!(run.stdout.contains("b\\u{1b}[2J"), "{}", run.stdout);
    assert!(run.stdout.contains("v\\u{1b}[31m"), "{}", run.stdout);
    // JSON escapes them its own way.
    served
        .server
        .push_response(vbs_backups_testing::CannedResponse::json(200, page));
    let json = Run::ok(
        vbs()
            .arg("stats")
            .args(served.flags())
            .args(["--format", "json"]),
    );
    assert!(!json.stdout.contains('\u{1b}'));
    let figures: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(figures["largest_volumes"][0]["volume_id"], "v\u{1b}[31m");
}

#[test]
fn an_age_window_counts_only_its_backups_and_stops_at_the_bound() {
    let served = serve(FakeServer::builder().backups(900));
    let mut backups = served.server.backups();
    backups.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
    // The creation time of the 301st-oldest backup: strictly before it are the first 300
    // (ties on created_at fall on one side of the bound together).
    let bound = &backups[300].created_at;
    let inside: Vec<FakeBackup> = backups
        .iter()
        .filter(|backup| &backup.created_at < bound)
        .cloned()
        .collect();
    let run = Run::ok(vbs().arg("stats").args(served.flags()).args([
        "--created-before",
        &rfc3339(bound),
        "--page-size",
        "50",
        "--format",
        "json",
    ]));
    let got: Value = serde_json::from_str(&run.stdout).expect("one JSON object");
    assert_eq!(got, expected(&inside));
    let requests = served.detail_listings();
    assert!(
        requests
            .iter()
            .all(|request| request.param("sort").as_deref() == Some("created_at:asc")),
        "oldest first, towards the bound"
    );
    assert!(
        requests.len() <= inside.len() / 50 + 2,
        "stopped at the bound: {} pages for {} backups",
        requests.len(),
        inside.len()
    );
}

/// A detail page of `backups`, each `(id, created_at, size)`.
fn page_of(backups: &[(&str, &str, u64)]) -> String {
    let items: Vec<Value> = backups
        .iter()
        .map(|(id, created_at, size)| {
            json!({"id": id, "status": "available", "size": size, "volume_id": "v1",
                   "created_at": created_at})
        })
        .collect();
    json!({ "backups": items }).to_string()
}

#[test]
fn a_backup_dated_year_one_or_9000_keeps_the_histogram_short_and_is_reported() {
    let served = serve(FakeServer::builder().backups(0));
    let page = page_of(&[
        ("ancient", "0001-01-01T00:00:00.000000", 1),
        ("b1", "2024-01-01T10:00:00.000000", 2),
        ("b2", "2024-01-02T10:00:00.000000", 2),
        ("b3", "2024-01-03T10:00:00.000000", 2),
        ("future", "9000-12-31T23:59:59.000000", 5),
    ]);
    served
        .server
        .push_response(vbs_backups_testing::CannedResponse::json(200, page.clone()));
    let text = Run::ok(vbs().arg("stats").args(served.flags())).stdout;
    assert!(text.lines().count() < 60, "{} lines", text.lines().count());
    assert!(text.contains("0001-01-01"), "the outlier is named: {text}");
    assert!(text.contains("9000-12-31"), "the outlier is named: {text}");
    served
        .server
        .push_response(vbs_backups_testing::CannedResponse::json(200, page));
    let json = Run::ok(
        vbs()
            .arg("stats")
            .args(served.flags())
            .args(["--format", "json"]),
    );
    let figures: Value = serde_json::from_str(&json.stdout).unwrap();
    let histogram = &figures["histogram"];
    // The three backups of 2024 are drawn by day; the two far away are counted apart.
    assert_eq!(histogram["unit"], "day", "{histogram}");
    let drawn: Vec<u64> = histogram["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|bucket| bucket["backups"].as_u64().unwrap())
        .collect();
    assert_eq!(drawn, [1, 1, 1]);
    assert_eq!(histogram["earlier"]["backups"], 1, "{histogram}");
    assert_eq!(histogram["earlier"]["size_gib"], 1, "{histogram}");
    assert_eq!(histogram["earlier"]["first"], "0001-01-01", "{histogram}");
    assert_eq!(histogram["later"]["backups"], 1, "{histogram}");
    assert_eq!(histogram["later"]["last"], "9000-12-31", "{histogram}");
    assert_eq!(figures["backups"], 5);
}

#[test]
fn backups_spread_over_centuries_stay_within_the_bucket_bound() {
    let served = serve(FakeServer::builder().backups(0));
    let dates: Vec<String> = (0..300)
        .map(|year| format!("{:04}-06-15T00:00:00.000000", 1700 + year))
        .collect();
    let backups: Vec<(String, &str, u64)> = dates
        .iter()
        .enumerate()
        .map(|(index, date)| (format!("b{index}"), date.as_str(), 1))
        .collect();
    let backups: Vec<(&str, &str, u64)> = backups
        .iter()
        .map(|(id, date, size)| (id.as_str(), *date, *size))
        .collect();
    served
        .server
        .push_response(vbs_backups_testing::CannedResponse::json(
            200,
            page_of(&backups),
        ));
    let json = Run::ok(
        vbs()
            .arg("stats")
            .args(served.flags())
            .args(["--format", "json"]),
    );
    let figures: Value = serde_json::from_str(&json.stdout).unwrap();
    let histogram = &figures["histogram"];
    let buckets = histogram["buckets"].as_array().unwrap();
    assert!(buckets.len() <= 120, "{} buckets", buckets.len());
    let drawn: u64 = buckets.iter().map(|b| b["backups"].as_u64().unwrap()).sum();
    let apart = histogram["earlier"]["backups"].as_u64().unwrap_or(0)
        + histogram["later"]["backups"].as_u64().unwrap_or(0);
    assert_eq!(drawn + apart, 300, "{histogram}");
}

#[test]
fn size_totals_beyond_u64_are_exact() {
    let served = serve(FakeServer::builder().backups(0));
    let max = u64::MAX;
    let page = page_of(&[
        ("b1", "2024-01-01T10:00:00.000000", max),
        ("b2", "2024-01-01T11:00:00.000000", max),
        ("b3", "2024-01-01T12:00:00.000000", 2),
    ]);
    served
        .server
        .push_response(vbs_backups_testing::CannedResponse::json(200, page.clone()));
    let exact = (u128::from(max) * 2 + 2).to_string();
    let json = Run::ok(
        vbs()
            .arg("stats")
            .args(served.flags())
            .args(["--format", "json"]),
    );
    assert!(
        json.stdout.contains(&format!("\"size_gib\": {exact}")),
        "{}",
        json.stdout
    );
    served
        .server
        .push_response(vbs_backups_testing::CannedResponse::json(200, page));
    let text = Run::ok(vbs().arg("stats").args(served.flags())).stdout;
    assert!(text.contains("36,893,488,147,419,103,232 GiB"), "{text}");
}

#[test]
fn bidi_overrides_and_invisible_characters_in_the_summary_are_shown_escaped() {
    let served = serve(FakeServer::builder().backups(0));
    let page = r#"{"backups": [{"id": "x\u202egnp.exe", "status": "ok\u200b",
        "size": 3, "volume_id": "v\u2066\u2069\ufeff", "created_at": "2024-01-01T00:00:00.000000"}]}"#;
    served
        .server
        .push_response(vbs_backups_testing::CannedResponse::json(200, page));
    let run = Run::ok(vbs().arg("stats").args(served.flags()));
    for hidden in ['\u{202e}', '\u{200b}', '\u{2066}', '\u{2069}', '\u{feff}'] {
        assert!(
            !run.stdout.contains(hidden),
            "{hidden:?} in {:?}",
            run.stdout
        );
    }
    assert!(run.stdout.contains("x\\u{202e}gnp.exe"), "{}", run.stdout);
    assert!(run.stdout.contains("ok\\u{200b}"), "{}", run.stdout);
    assert!(
        run.stdout.contains("v\\u{2066}\\u{2069}\\u{feff}"),
        "{}",
        run.stdout
    );
}

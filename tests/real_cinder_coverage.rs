//! The volumes collection and the coverage audit against real OpenStack Cinder 29.0.0
//! (`scripts/real-cinder.sh start`), checked against its database: the seed script writes
//! the main project's volumes, which of them have a protecting or a failed backup, and
//! which backups are orphans, read back by SQL into `REAL_CINDER_TRUTH`.
//!
//! `#[ignore]`d like `tests/real_cinder.rs`; `scripts/real-cinder-tests.sh` runs them.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use futures::TryStreamExt;
use serde_json::Value;
use vbs_backups::coverage::{
    BackupService, Coverage, CoverageReport, Scope, ScopeListing, Verdict,
};
use vbs_backups::{ApiVersion, Client};

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run `bash scripts/real-cinder.sh start` and `eval \"$(bash scripts/real-cinder.sh env)\"` first")
    })
}

fn truth() -> Value {
    let text = std::fs::read_to_string(var("REAL_CINDER_TRUTH")).expect("truth file");
    serde_json::from_str(&text).expect("truth is JSON")
}

fn client() -> Client {
    Client::builder()
        .endpoint(var("REAL_CINDER_ENDPOINT"))
        .project_id(var("REAL_CINDER_PROJECT"))
        .token(var("REAL_CINDER_TOKEN"))
        .api_version(ApiVersion::V3)
        .build()
        .expect("valid client")
}

fn strings(value: &Value, key: &str) -> Vec<String> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|item| {
            let item = if key.is_empty() { item } else { &item[key] };
            item.as_str().expect("a string").to_owned()
        })
        .collect()
}

#[tokio::test]
#[ignore = "needs a running real Cinder: see scripts/real-cinder.sh"]
async fn volumes_walk_and_filter_like_the_database() {
    let truth = truth();
    let expected = strings(&truth["volumes"], "id");
    assert!(expected.len() >= 5, "the seed makes volumes: {expected:?}");
    let client = client();
    for page_size in [1, 2, 1000] {
        let got: Vec<String> = client
            .volumes()
            .page_size(page_size)
            .stream()
            .map_ok(|volume| volume.id)
            .try_collect()
            .await
            .expect("the walk succeeds");
        assert_eq!(got, expected, "page size {page_size}");
    }
    let tagged: Vec<String> = client
        .volumes()
        .metadata("team", "db")
        .stream()
        .map_ok(|volume| volume.id)
        .try_collect()
        .await
        .expect("the filtered walk succeeds");
    assert_eq!(tagged, expected[expected.len() - 1..]);
    let available: Vec<String> = client
        .volumes()
        .status("available")
        .stream()
        .map_ok(|volume| volume.id)
        .try_collect()
        .await
        .expect("the filtered walk succeeds");
    let truth_available: Vec<String> = truth["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["status"] == "available")
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(available, truth_available);
}

async fn audit(max_age: Duration) -> CoverageReport {
    let client = client();
    let scope = Scope::new("", client.project_id());
    let mut coverage = Coverage::new(max_age, SystemTime::now());
    let volumes: Vec<_> = client.volumes().stream().try_collect().await.unwrap();
    for volume in &volumes {
        coverage.add_volume(&scope, volume);
    }
    coverage.complete(&scope, ScopeListing::Volumes);
    let backups: Vec<_> = client
        .backups()
        .detail()
        .stream()
        .try_collect()
        .await
        .unwrap();
    for backup in &backups {
        coverage.add_backup(&scope, backup);
    }
    coverage.complete(&scope, ScopeListing::Backups(BackupService::Vbs));
    coverage.finish()
}

/// What the database says each volume's verdict is: `recent` when every protecting
/// backup counts as recent (a maximum age of a century), else none does (one second:
/// the seeded backups are from 2024).
fn expected_verdicts(truth: &Value, recent: bool) -> BTreeMap<String, Verdict> {
    truth["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|volume| {
            let verdict = match (volume["protecting"] == true, volume["failed"] == true) {
                (true, _) if recent => Verdict::Protected,
                (true, _) => Verdict::Stale,
                (false, true) => Verdict::Failing,
                (false, false) => Verdict::Unprotected,
            };
            (volume["id"].as_str().unwrap().to_owned(), verdict)
        })
        .collect()
}

#[tokio::test]
#[ignore = "needs a running real Cinder: see scripts/real-cinder.sh"]
async fn the_audit_matches_the_database() {
    let truth = truth();
    let mut orphans = strings(&truth["orphaned_backups"], "");
    orphans.sort();
    assert!(
        !orphans.is_empty(),
        "the seed deletes a volume with backups"
    );
    for (max_age, recent) in [
        (Duration::from_secs(100 * 365 * 86_400), true),
        (Duration::from_secs(1), false),
    ] {
        let report = audit(max_age).await;
        let got: BTreeMap<String, Verdict> = report
            .volumes
            .iter()
            .map(|volume| (volume.id.clone(), volume.verdict))
            .collect();
        assert_eq!(
            got,
            expected_verdicts(&truth, recent),
            "max age {max_age:?}"
        );
        let mut got_orphans: Vec<String> = report
            .orphaned_backups
            .iter()
            .map(|o| o.id.clone())
            .collect();
        got_orphans.sort();
        assert_eq!(got_orphans, orphans);
        assert!(report.is_complete());
        let statuses: u64 = report.backup_counts.iter().map(|count| count.count).sum();
        assert_eq!(
            statuses as usize,
            truth["backups"].as_array().unwrap().len()
        );
    }
}

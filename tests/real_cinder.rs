//! Conformance against real OpenStack Cinder 29.0.0 (`scripts/real-cinder.sh start`).
//!
//! These tests are `#[ignore]`d, so `cargo test` lists them as ignored ("needs a
//! running real Cinder"). With Cinder running and its variables exported, run them:
//!
//! ```text
//! bash scripts/real-cinder.sh start && eval "$(bash scripts/real-cinder.sh env)"
//! cargo test --test real_cinder -- --ignored
//! ```
//!
//! The truth is the database itself: the script writes the project's backups in
//! Cinder's order to `REAL_CINDER_TRUTH`.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

use std::collections::HashSet;

use futures::{StreamExt, TryStreamExt};
use serde_json::Value;
use vbs_backups::{ApiVersion, BackupStatus, Client, ErrorKind, RetryPolicy, SortDir, SortKey};

/// What the script exported about the running server.
struct RealCinder {
    endpoint: String,
    project: String,
    token: String,
    truth: Vec<Value>,
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run `bash scripts/real-cinder.sh start` and `eval \"$(bash scripts/real-cinder.sh env)\"` first"
        )
    })
}

/// The backups of a project in Cinder's order, as the script read them from the database.
fn truth(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("truth file");
    let mut truth: Value = serde_json::from_str(&text).expect("truth is JSON");
    match truth["backups"].take() {
        Value::Array(backups) => backups,
        other => panic!("the truth file has no backups array: {other}"),
    }
}

/// The seeded main project (thousands of backups; never changed by the tests).
fn real_cinder() -> RealCinder {
    let truth = truth(&var("REAL_CINDER_TRUTH"));
    assert!(truth.len() > 1000, "the script seeds thousands of backups");
    RealCinder {
        endpoint: var("REAL_CINDER_ENDPOINT"),
        project: var("REAL_CINDER_PROJECT"),
        token: var("REAL_CINDER_TOKEN"),
        truth,
    }
}

/// The scratch project, whose backups a test may delete (and restores after).
fn scratch() -> RealCinder {
    let project = var("REAL_CINDER_SCRATCH_PROJECT");
    RealCinder {
        endpoint: var("REAL_CINDER_ENDPOINT"),
        token: project.clone(),
        project,
        truth: truth(&var("REAL_CINDER_SCRATCH_TRUTH")),
    }
}

impl RealCinder {
    fn client(&self) -> Client {
        self.builder().build().expect("valid client")
    }

    fn builder(&self) -> vbs_backups::ClientBuilder {
        Client::builder()
            .endpoint(&self.endpoint)
            .project_id(&self.project)
            .token(&self.token)
            .api_version(ApiVersion::V3)
            .retry_policy(RetryPolicy::default().max_attempts(2))
    }

    fn ids_where(&self, keep: impl Fn(&Value) -> bool) -> Vec<String> {
        self.truth
            .iter()
            .filter(|row| keep(row))
            .map(|row| row["id"].as_str().expect("id").to_owned())
            .collect()
    }

    fn all_ids(&self) -> Vec<String> {
        self.ids_where(|_| true)
    }
}

/// Runs `scripts/real-cinder.sh <command> <id>` (delete / restore a backup).
fn control(command: &str, id: &str) {
    let status = std::process::Command::new("bash")
        .args([&var("REAL_CINDER_CTL"), command, id])
        .status()
        .expect("the control script runs");
    assert!(status.success(), "real-cinder.sh {command} {id} failed");
}

async fn walk(listing: vbs_backups::ListBackups) -> Vec<String> {
    listing
        .stream()
        .map_ok(|backup| backup.id)
        .try_collect()
        .await
        .expect("the walk succeeds")
}

#[tokio::test]
#[ignore = "needs a running real Cinder: see scripts/real-cinder.sh"]
async fn full_walks_at_every_page_size_equal_the_database() {
    let cinder = real_cinder();
    let truth = cinder.all_ids();
    for page_size in [1, 7, 333, 1000, 5000] {
        let got = walk(cinder.client().backups().page_size(page_size).prefetch(2)).await;
        assert_eq!(got.len(), truth.len(), "page size {page_size}");
        assert_eq!(got, truth, "page size {page_size}: in order, exactly once");
    }
}

#[tokio::test]
#[ignore = "needs a running real Cinder: see scripts/real-cinder.sh"]
async fn every_filter_matches_the_database() {
    let cinder = real_cinder();
    let client = cinder.client();
    for name in ["weekly", "nightly-1", "spécial & name=1", "WEEKLY"] {
        let expected = cinder.ids_where(|row| row["name"] == name);
        let got = walk(client.backups().name(name).page_size(97)).await;
        assert_eq!(got, expected, "name {name:?}");
    }
    for status in [
        "available",
        "error",
        "creating",
        "deleting",
        "restoring",
        "error_deleting",
        "bogus",
    ] {
        let expected = cinder.ids_where(|row| row["status"] == status);
        let got = walk(client.backups().status(status).page_size(333)).await;
        assert_eq!(got, expected, "status {status}");
    }
    let volume = cinder.truth[0]["volume_id"]
        .as_str()
        .expect("volume id")
        .to_owned();
    let expected = cinder.ids_where(|row| row["volume_id"] == volume.as_str());
    assert!(!expected.is_empty());
    assert_eq!(
        walk(client.backups().volume_id(&volume).page_size(100)).await,
        expected
    );
    let expected = cinder.ids_where(|row| {
        row["volume_id"] == volume.as_str()
            && row["status"] == "available"
            && row["name"] == "weekly"
    });
    let got = walk(
        client
            .backups()
            .volume_id(&volume)
            .status(BackupStatus::Available)
            .name("weekly")
            .page_size(2),
    )
    .await;
    assert_eq!(got, expected, "combined filters");
}

#[tokio::test]
#[ignore = "needs a running real Cinder: see scripts/real-cinder.sh"]
async fn offset_skips_once_although_cinders_next_links_keep_it() {
    let cinder = real_cinder();
    let truth = cinder.all_ids();
    for (offset, page_size) in [(2, 3), (999, 1000), (0, 250)] {
        let got = walk(
            cinder
                .client()
                .backups()
                .offset(offset)
                .page_size(page_size),
        )
        .await;
        assert_eq!(
            got,
            truth[offset as usize..],
            "offset {offset}, page size {page_size}"
        );
    }
}

#[tokio::test]
#[ignore = "needs a running real Cinder: see scripts/real-cinder.sh"]
async fn max_items_stops_exactly() {
    let cinder = real_cinder();
    let truth = cinder.all_ids();
    for (max_items, page_size) in [(1, 1000), (1000, 1000), (1001, 1000), (2, 7)] {
        let got = walk(
            cinder
                .client()
                .backups()
                .max_items(max_items)
                .page_size(page_size),
        )
        .await;
        assert_eq!(got, truth[..max_items as usize], "max_items {max_items}");
    }
}

#[tokio::test]
#[ignore = "needs a running real Cinder: see scripts/real-cinder.sh"]
async fn every_detail_row_decodes_and_matches_the_database() {
    let cinder = real_cinder();
    let details: Vec<vbs_backups::BackupDetail> = cinder
        .client()
        .backups()
        .detail()
        .page_size(1000)
        .stream()
        .try_collect()
        .await
        .expect("the walk succeeds");
    assert_eq!(details.len(), cinder.truth.len());
    for (got, row) in details.iter().zip(&cinder.truth) {
        assert_eq!(got.id, row["id"].as_str().expect("id"));
        assert_eq!(got.name.as_deref(), row["name"].as_str(), "{}", got.id);
        assert_eq!(got.status.as_str(), row["status"].as_str().expect("status"));
        assert_eq!(got.volume_id.as_deref(), row["volume_id"].as_str());
        assert_eq!(got.size, row["size"].as_u64());
        let created = got.created_at.expect("created_at").to_string();
        let expected = row["created_at"].as_str().expect("created_at");
        assert_eq!(
            &created[..19],
            &expected.replace(' ', "T")[..19],
            "{}",
            got.id
        );
    }
}

#[tokio::test]
#[ignore = "needs a running real Cinder: see scripts/real-cinder.sh"]
async fn sorting_oldest_first_keeps_every_backup_once() {
    let cinder = real_cinder();
    let details: Vec<vbs_backups::BackupDetail> = cinder
        .client()
        .backups()
        .sort(SortKey::CreatedAt, SortDir::Asc)
        .detail()
        .page_size(333)
        .stream()
        .try_collect()
        .await
        .expect("the walk succeeds");
    let ids: HashSet<_> = details.iter().map(|b| b.id.clone()).collect();
    assert_eq!(ids.len(), details.len(), "no duplicates");
    assert_eq!(ids, cinder.all_ids().into_iter().collect::<HashSet<_>>());
    assert!(
        details
            .windows(2)
            .all(|w| w[0].created_at <= w[1].created_at)
    );
}

#[tokio::test]
#[ignore = "needs a running real Cinder: see scripts/real-cinder.sh"]
async fn with_count_reports_the_total_up_front() {
    let cinder = real_cinder();
    let client = cinder
        .builder()
        .microversion("3.45")
        .build()
        .expect("valid client");
    let mut backups = client.backups().with_count().page_size(1000).stream();
    backups.next().await.expect("an item").expect("ok");
    assert_eq!(backups.total(), Some(cinder.truth.len() as u64));
    let rest: Vec<_> = backups.try_collect().await.expect("the walk succeeds");
    assert_eq!(
        rest.len() + 1,
        cinder.truth.len(),
        "the partial last page links on; the walk still ends"
    );
    let errors = cinder.ids_where(|row| row["status"] == "error").len() as u64;
    let mut failed = client.backups().status("error").with_count().stream();
    failed.next().await.expect("an item").expect("ok");
    assert_eq!(failed.total(), Some(errors));
}

#[tokio::test]
#[ignore = "needs a running real Cinder: see scripts/real-cinder.sh"]
async fn a_backup_deleted_mid_walk_is_stepped_over() {
    let cinder = scratch();
    let truth = cinder.all_ids();
    let mut backups = cinder.client().backups().page_size(5).prefetch(0).stream();
    let mut seen = Vec::new();
    for _ in 0..10 {
        seen.push(backups.next().await.expect("item").expect("ok").id);
    }
    // The marker of the next request, and the backup before it, vanish.
    control("delete", &truth[9]);
    control("delete", &truth[8]);
    let rest: Result<Vec<_>, _> = backups.map_ok(|b| b.id).try_collect().await;
    control("restore", &truth[9]);
    control("restore", &truth[8]);
    seen.extend(rest.expect("the walk steps back and goes on"));
    assert_eq!(seen, truth, "every backup exactly once");
}

#[tokio::test]
#[ignore = "needs a running real Cinder: see scripts/real-cinder.sh"]
async fn errors_keep_cinders_status_fault_and_message() {
    let cinder = real_cinder();
    let err = cinder
        .client()
        .backups()
        .after("00000000-0000-0000-0000-000000000000")
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("unknown marker");
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.code(), Some("itemNotFound"));
    assert_eq!(
        err.message(),
        "Backup 00000000-0000-0000-0000-000000000000 could not be found."
    );
    assert!(err.request_id().is_some_and(|id| id.starts_with("req-")));

    // Cinder 29 serves no /v2: a routing 404 (webob's, as JSON since we accept JSON).
    let v2 = Client::builder()
        .endpoint(&cinder.endpoint)
        .project_id(&cinder.project)
        .token(&cinder.token)
        .build()
        .expect("valid client");
    let err = v2
        .backups()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("no v2");
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.message(), "The resource could not be found.", "{err}");
    assert!(!err.to_string().contains('\n'), "one line: {err}");
}

#[tokio::test]
#[ignore = "needs a running real Cinder: see scripts/real-cinder.sh"]
async fn next_links_to_an_unreachable_public_endpoint_are_origin_pinned() {
    let cinder = real_cinder();
    // A second Cinder on the same venv, started with a public_endpoint nobody can reach.
    let public = var("REAL_CINDER_PINNED_PUBLIC");
    let cinder = RealCinder {
        endpoint: var("REAL_CINDER_PINNED_ENDPOINT"),
        ..cinder
    };
    let url = format!("{}/v3/{}/backups?limit=5", cinder.endpoint, cinder.project);
    let body = reqwest::Client::new()
        .get(url)
        .header("X-Auth-Token", &cinder.token)
        .send()
        .await
        .expect("Cinder answers")
        .bytes()
        .await
        .expect("a body");
    let page: Value = serde_json::from_slice(&body).expect("a page");
    let next = page["backups_links"][0]["href"]
        .as_str()
        .expect("a next link");
    assert!(next.starts_with(&public), "Cinder links to {next}");
    let got = walk(cinder.client().backups().page_size(500)).await;
    assert_eq!(
        got,
        cinder.all_ids(),
        "the walk never left the configured endpoint"
    );
}

/// The noauth Cinder makes the caller an admin: `all_tenants=1` lists every project, each
/// backup with its project, and `project_id` picks one; the seeded database holds the other
/// project's rows (`REAL_CINDER_OTHER_PROJECT`).
#[tokio::test]
#[ignore = "needs a running real Cinder: see scripts/real-cinder.sh"]
async fn an_admin_lists_every_project_with_each_backups_project() {
    let cinder = real_cinder();
    let other = var("REAL_CINDER_OTHER_PROJECT");
    // No microversion of its own: the whole-cloud walk asks for 3.18 by itself.
    let client = cinder.builder().build().unwrap();
    let all: Vec<vbs_backups::BackupDetail> = client
        .backups()
        .detail()
        .all_projects()
        .page_size(1000)
        .stream()
        .try_collect()
        .await
        .expect("an admin's whole-cloud listing");
    assert!(
        all.iter().all(|b| b.project_id.is_some()),
        "every backup says its project"
    );
    let of = |project: &str| -> Vec<String> {
        all.iter()
            .filter(|b| b.project_id.as_deref() == Some(project))
            .map(|b| b.id.clone())
            .collect()
    };
    let main = of(&cinder.project);
    let mut sorted_main = main.clone();
    sorted_main.sort();
    let mut truth = cinder.all_ids();
    truth.sort();
    assert_eq!(sorted_main, truth, "the main project's backups, each once");
    let others = of(&other);
    assert!(
        !others.is_empty(),
        "the other project's seeded rows are listed"
    );

    let one: Vec<vbs_backups::BackupDetail> = client
        .backups()
        .detail()
        .project_id(&other)
        .page_size(7)
        .stream()
        .try_collect()
        .await
        .expect("an admin's one-project listing");
    assert!(
        one.iter()
            .all(|b| b.project_id.as_deref() == Some(other.as_str()))
    );
    let mut one_ids: Vec<String> = one.into_iter().map(|b| b.id).collect();
    let mut others = others;
    one_ids.sort();
    others.sort();
    assert_eq!(one_ids, others);
}

/// The cleanup project: its 60 backups are deleted by the cleanup tests and put back.
fn cleanup_project() -> RealCinder {
    let project = var("REAL_CINDER_CLEANUP_PROJECT");
    RealCinder {
        endpoint: var("REAL_CINDER_ENDPOINT"),
        token: project.clone(),
        project,
        truth: truth(&var("REAL_CINDER_CLEANUP_TRUTH")),
    }
}

/// Runs `scripts/real-cinder.sh <command> <ids>…` once for many backups.
fn control_many(command: &str, ids: &[String]) {
    let status = std::process::Command::new("bash")
        .arg(var("REAL_CINDER_CTL"))
        .arg(command)
        .args(ids)
        .status()
        .expect("the control script runs");
    assert!(status.success(), "real-cinder.sh {command} failed");
}

/// Walks `stream`, soft-deleting each backup in Cinder's database as soon as it is
/// handed out (in batches of `batch`), and returns the ids in the order they came.
async fn delete_as_handed_out<T: vbs_backups::Listed>(
    mut stream: vbs_backups::ItemStream<T>,
    batch: usize,
) -> Vec<String> {
    let mut seen = Vec::new();
    let mut pending = Vec::new();
    while let Some(item) = stream.next().await {
        pending.push(item.expect("the walk goes on").marker().to_owned());
        if pending.len() == batch {
            control_many("delete", &pending);
            seen.append(&mut pending);
        }
    }
    if !pending.is_empty() {
        control_many("delete", &pending);
        seen.append(&mut pending);
    }
    seen
}

/// Issue 16 against Cinder 29: a job deleting everything it lists finishes, in-run and
/// across a resume after all it remembered was deleted, and so does the shell pipeline of
/// the README through the built command. Checked against the database.
#[tokio::test]
#[ignore = "needs a running real Cinder: see scripts/real-cinder.sh"]
async fn a_cleanup_job_deleting_everything_it_lists_finishes() {
    let cinder = cleanup_project();
    let truth = cinder.all_ids();
    assert_eq!(truth.len(), 60);

    // 1. In one run, the backups deleted as they are handed out, a page's worth at a time
    //    (each script call costs a Python start; the fake server's tests delete one by one).
    for detail in [false, true] {
        let listing = cinder.client().backups().page_size(7).prefetch(1);
        let seen = if detail {
            delete_as_handed_out(listing.detail().stream(), 7).await
        } else {
            delete_as_handed_out(listing.stream(), 7).await
        };
        assert_eq!(seen, truth, "detail {detail}: every backup once, in order");
        assert!(cleanup_project().all_ids().is_empty(), "all deleted");
        control_many("restore", &truth);
    }

    // 2. Killed after 25, everything it handed out deleted, resumed from its cursor.
    for detail in [false, true] {
        let client = cinder.client();
        let listing = client.backups().page_size(10).prefetch(0);
        let (mut seen, cursor) = if detail {
            let mut stream = listing.detail().stream();
            let mut seen = Vec::new();
            for _ in 0..25 {
                seen.push(stream.next().await.expect("item").expect("ok").id);
            }
            (seen, stream.cursor())
        } else {
            let mut stream = listing.stream();
            let mut seen = Vec::new();
            for _ in 0..25 {
                seen.push(stream.next().await.expect("item").expect("ok").id);
            }
            (seen, stream.cursor())
        };
        control_many("delete", &seen);
        let token: vbs_backups::Cursor = cursor.to_token().parse().expect("token");
        let rest = if detail {
            delete_as_handed_out(client.resume_detail(token).unwrap().stream(), 10).await
        } else {
            delete_as_handed_out(client.resume(token).unwrap().stream(), 10).await
        };
        seen.extend(rest);
        assert_eq!(seen, truth, "detail {detail}: resumed exactly once");
        control_many("restore", &truth);
    }

    // 3. The README's pipeline: list the old ones, delete them 20 at a time as printed.
    let rows = &cinder.truth;
    let mut created: Vec<&str> = rows
        .iter()
        .map(|row| row["created_at"].as_str().expect("created_at"))
        .collect();
    created.sort_unstable();
    let bound = format!("{}Z", created[40].replace(' ', "T"));
    let old: HashSet<String> = cinder
        .ids_where(|row| {
            format!(
                "{}Z",
                row["created_at"]
                    .as_str()
                    .unwrap_or_default()
                    .replace(' ', "T")
            ) < bound
        })
        .into_iter()
        .collect();
    let pipeline = "\"$VBS\" list --endpoint \"$ENDPOINT\" --project-id \"$PROJECT\" \
        --token \"$PROJECT\" --api-version 3 --page-size 10 --created-before \"$BOUND\" \
        --format ndjson | jq -r .id | xargs -n 20 bash \"$CTL\" delete";
    let output = std::process::Command::new("bash")
        .args(["-o", "pipefail", "-c", pipeline])
        .env("VBS", var("REAL_CINDER_VBS"))
        .env("ENDPOINT", &cinder.endpoint)
        .env("PROJECT", &cinder.project)
        .env("BOUND", &bound)
        .env("CTL", var("REAL_CINDER_CTL"))
        .output()
        .expect("the pipeline runs");
    let left = cleanup_project().all_ids();
    control_many("restore", &truth);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!old.is_empty() && old.len() < truth.len());
    let expected: Vec<String> = truth
        .iter()
        .filter(|id| !old.contains(*id))
        .cloned()
        .collect();
    assert_eq!(
        left, expected,
        "every old backup deleted, every newer one kept"
    );
}

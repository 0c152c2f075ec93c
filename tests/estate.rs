//! The estate: several scopes walked as one stream. Each scope exactly once under
//! concurrency, a failing scope beside complete ones, the server's total checked, and a
//! checkpoint that resumes only what is left.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use std::collections::BTreeMap;

use futures::StreamExt;
use vbs_backups::{
    ApiVersion, BackupDetail, BackupService, Checkpoint, Client, EstateStream, Scope, ScopeResult,
    ScopeSet,
};
use vbs_backups_testing::{CannedResponse, FakeServer};

const PAGE: u32 = 3;

async fn servers(counts: &[usize]) -> Vec<FakeServer> {
    let mut servers = Vec::new();
    for &count in counts {
        servers.push(common::server(count).await);
    }
    servers
}

fn region(index: usize) -> String {
    format!("region-{index}")
}

fn scope_set(servers: &[FakeServer], concurrency: usize) -> ScopeSet<BackupDetail> {
    let mut set = ScopeSet::new().concurrency(concurrency);
    for (index, server) in servers.iter().enumerate() {
        let scope = Scope::new(BackupService::Vbs, region(index), server.project_id());
        set = set.add(scope, common::client(server), |client| {
            client.backups().detail().page_size(PAGE)
        });
    }
    set
}

/// The ids each region delivered, in delivery order, and the failures by region.
type Delivered = BTreeMap<String, Vec<String>>;

/// Runs `estate` to its end.
async fn drain(estate: &mut EstateStream<BackupDetail>) -> (Delivered, Vec<String>) {
    let mut delivered = Delivered::new();
    let mut failed = Vec::new();
    while let Some(next) = estate.next().await {
        match next {
            Ok(backup) => delivered
                .entry(backup.scope.region.clone())
                .or_default()
                .push(backup.item.id),
            Err(failure) => failed.push(failure.scope.region.clone()),
        }
    }
    (delivered, failed)
}

fn truth(servers: &[FakeServer]) -> Delivered {
    servers
        .iter()
        .enumerate()
        .filter(|(_, server)| !server.backups().is_empty())
        .map(|(index, server)| (region(index), common::truth_ids(&server.backups())))
        .collect()
}

#[tokio::test]
async fn every_scope_is_walked_exactly_once_in_its_own_order_under_concurrency() {
    let servers = servers(&[7, 0, 25, 1, 13, 40, 3]).await;
    let mut estate = scope_set(&servers, 3).stream();
    let (delivered, failed) = drain(&mut estate).await;
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(delivered, truth(&servers));

    let outcomes = estate.outcomes();
    assert_eq!(outcomes.len(), servers.len());
    for (index, (outcome, server)) in outcomes.iter().zip(&servers).enumerate() {
        assert_eq!(outcome.scope.region, region(index));
        assert!(outcome.is_complete(), "{outcome:?}");
        assert_eq!(outcome.delivered, server.backups().len() as u64);
    }
    assert!(estate.checkpoint().is_complete());
}

#[tokio::test]
async fn scopes_interleave_rather_than_run_one_after_another() {
    let servers = servers(&[30, 30, 30]).await;
    let mut estate = scope_set(&servers, 3).stream();
    let mut order = Vec::new();
    while let Some(next) = estate.next().await {
        order.push(next.expect("no failure").scope.region.clone());
    }
    // Walked one after another, the regions would change twice; concurrently, far more.
    let changes = order.windows(2).filter(|pair| pair[0] != pair[1]).count();
    assert!(changes > 2, "{changes} changes of region: {order:?}");
}

#[tokio::test]
async fn a_failing_scope_does_not_end_the_others_and_the_checkpoint_resumes_it() {
    let servers = servers(&[10, 12, 9]).await;
    // The second page of region-1 is refused (not retryable).
    servers[1].push_response(CannedResponse::passthrough());
    servers[1].push_response(CannedResponse::json(
        403,
        r#"{"forbidden": {"code": 403, "message": "Policy doesn't allow this"}}"#,
    ));
    let mut estate = scope_set(&servers, 2).stream();
    let (first_run, failed) = drain(&mut estate).await;
    assert_eq!(failed, ["region-1"]);
    let all = truth(&servers);
    assert_eq!(first_run["region-0"], all["region-0"]);
    assert_eq!(first_run["region-2"], all["region-2"]);
    // What region-1 delivered before its second page failed: a prefix of its backups (the
    // walk may hold the last of a page back until the next page confirms it).
    let delivered = first_run["region-1"].len();
    assert!((1..=PAGE as usize).contains(&delivered), "{delivered}");
    assert_eq!(first_run["region-1"], all["region-1"][..delivered]);

    let outcomes = estate.outcomes();
    let ScopeResult::Failed { error, cursor } = &outcomes[1].result else {
        panic!("region-1 should have failed: {:?}", outcomes[1]);
    };
    assert_eq!(error.status(), Some(403));
    assert!(cursor.is_some());
    assert_eq!(outcomes[1].delivered, delivered as u64);

    // Saved and read back, the checkpoint resumes region-1 only, where it stopped.
    let checkpoint = estate.checkpoint();
    assert!(!checkpoint.is_complete());
    let saved = serde_json::to_string(&checkpoint).unwrap();
    let restored: Checkpoint = serde_json::from_str(&saved).unwrap();
    assert_eq!(restored, checkpoint);
    assert_eq!(
        restored
            .unfinished()
            .map(|s| s.region.as_str())
            .collect::<Vec<_>>(),
        ["region-1"]
    );
    let before: Vec<usize> = servers.iter().map(FakeServer::request_count).collect();
    let mut resumed = scope_set(&servers, 2).resume(&restored).unwrap().stream();
    let (second_run, failed) = drain(&mut resumed).await;
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(
        second_run.keys().collect::<Vec<_>>(),
        ["region-1"],
        "finished scopes are not walked again"
    );
    assert_eq!(servers[0].request_count(), before[0]);
    assert_eq!(servers[2].request_count(), before[2]);
    let mut region_1 = first_run["region-1"].clone();
    region_1.extend(second_run["region-1"].iter().cloned());
    assert_eq!(region_1, all["region-1"], "every backup exactly once");

    let outcomes = resumed.outcomes();
    assert!(outcomes.iter().all(|outcome| outcome.is_complete()));
    assert_eq!(outcomes[1].delivered, 12, "counted across both runs");
    assert_eq!(outcomes[0].delivered, 10);
    assert!(resumed.checkpoint().is_complete());
}

#[tokio::test]
async fn a_checkpoint_taken_mid_walk_resumes_each_scope_where_it_stood() {
    let servers = servers(&[8, 11, 6, 9]).await;
    let mut estate = scope_set(&servers, 2).stream();
    let mut first_run = Delivered::new();
    for _ in 0..7 {
        let backup = estate.next().await.unwrap().unwrap();
        first_run
            .entry(backup.scope.region.clone())
            .or_default()
            .push(backup.item.id);
    }
    let checkpoint: Checkpoint =
        serde_json::from_str(&serde_json::to_string(&estate.checkpoint()).unwrap()).unwrap();
    drop(estate);

    let mut resumed = scope_set(&servers, 2).resume(&checkpoint).unwrap().stream();
    let (second_run, failed) = drain(&mut resumed).await;
    assert!(failed.is_empty());
    let mut combined = first_run;
    for (region, ids) in second_run {
        combined.entry(region).or_default().extend(ids);
    }
    assert_eq!(combined, truth(&servers), "each backup exactly once");
}

#[tokio::test]
async fn a_checkpoint_keeps_the_filters_of_scopes_that_have_not_started() {
    let servers = servers(&[6, 9]).await;
    let filtered = |concurrency: usize, status: &'static str| {
        let mut set = ScopeSet::<BackupDetail>::new().concurrency(concurrency);
        for (index, server) in servers.iter().enumerate() {
            let scope = Scope::new(BackupService::Vbs, region(index), server.project_id());
            set = set.add(scope, common::client(server), move |client| {
                client.backups().detail().status(status).page_size(PAGE)
            });
        }
        set
    };
    // One scope at a time: region-1 has not started when the checkpoint is taken.
    let mut estate = filtered(1, "available").stream();
    estate.next().await.unwrap().unwrap();
    let checkpoint: Checkpoint =
        serde_json::from_str(&serde_json::to_string(&estate.checkpoint()).unwrap()).unwrap();
    drop(estate);

    // A rerun that asks for another status still walks the estate the checkpoint began.
    let mut resumed = filtered(1, "error").resume(&checkpoint).unwrap().stream();
    let (delivered, failed) = drain(&mut resumed).await;
    assert!(failed.is_empty());
    let available: Vec<String> = servers[1]
        .backups()
        .iter()
        .filter(|backup| backup.status == "available")
        .map(|backup| backup.id.clone())
        .collect();
    assert!(!available.is_empty());
    let mut listed = delivered.get(&region(1)).cloned().unwrap_or_default();
    listed.sort();
    let mut expected = available;
    expected.sort();
    assert_eq!(
        listed, expected,
        "region-1 walked under the checkpoint's filter"
    );
    for request in servers[1].requests() {
        let status = request
            .query_pairs()
            .into_iter()
            .find(|(key, _)| key == "status");
        assert_eq!(
            status,
            Some(("status".into(), "available".into())),
            "{request:?}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_scope_fails_alone_and_keeps_its_place_for_a_later_run() {
    let servers = servers(&[8, 5]).await;
    let unreachable = || {
        let scope = Scope::new(BackupService::Vbs, region(0), servers[0].project_id());
        let error = Client::builder().build().unwrap_err();
        let other = Scope::new(BackupService::Vbs, region(1), servers[1].project_id());
        ScopeSet::<BackupDetail>::new()
            .add_unreachable(scope, error)
            .add(other, common::client(&servers[1]), |client| {
                client.backups().detail().page_size(PAGE)
            })
    };
    // A first run walks region-0 part of the way.
    let mut estate = scope_set(&servers[..1], 1).stream();
    let mut first_run = Vec::new();
    for _ in 0..4 {
        first_run.push(estate.next().await.unwrap().unwrap().item.id);
    }
    let first: Checkpoint =
        serde_json::from_str(&serde_json::to_string(&estate.checkpoint()).unwrap()).unwrap();
    drop(estate);

    // The second cannot reach region-0: it fails alone, and its place is kept.
    let mut second = unreachable().resume(&first).unwrap().stream();
    let (delivered, failed) = drain(&mut second).await;
    assert_eq!(failed, [region(0)]);
    assert_eq!(
        delivered,
        truth(&servers[1..])
            .into_values()
            .map(|ids| (region(1), ids))
            .collect()
    );
    let outcomes = second.outcomes();
    assert!(!outcomes[0].is_complete());
    assert!(outcomes[1].is_complete());
    let kept = second.checkpoint();
    assert_eq!(
        kept.unfinished()
            .map(|s| s.region.clone())
            .collect::<Vec<_>>(),
        [region(0)]
    );

    // The third reaches it again and goes on from where the first stopped.
    let mut third = scope_set(&servers, 1).resume(&kept).unwrap().stream();
    let (delivered, failed) = drain(&mut third).await;
    assert!(failed.is_empty());
    assert!(!delivered.contains_key(&region(1)), "region-1 was done");
    first_run.extend(delivered[&region(0)].iter().cloned());
    assert_eq!(first_run, truth(&servers[..1])[&region(0)], "exactly once");
}

#[tokio::test]
async fn a_checkpoint_at_every_page_end_repeats_nothing_whatever_page_size_the_server_chose() {
    // The caller asks for pages of 1000; the server gives 3.
    let server = FakeServer::builder()
        .backups(10)
        .max_limit(3)
        .start()
        .await
        .unwrap();
    let set = || {
        let scope = Scope::new(BackupService::Vbs, region(0), server.project_id());
        ScopeSet::<BackupDetail>::new().add(scope, common::client(&server), |client| {
            client.backups().detail().page_size(1000)
        })
    };
    let mut estate = set().stream();
    let mut delivered = Vec::new();
    let mut page_ends = 0;
    while let Some(next) = estate.next().await {
        delivered.push(next.unwrap().item.id);
        if !estate.at_page_end() {
            continue;
        }
        page_ends += 1;
        let checkpoint = estate.checkpoint();
        let mut rest = set().resume(&checkpoint).unwrap().stream();
        let (after, failed) = drain(&mut rest).await;
        assert!(failed.is_empty());
        let mut whole = delivered.clone();
        whole.extend(after.get(&region(0)).cloned().unwrap_or_default());
        assert_eq!(
            whole,
            common::truth_ids(&server.backups()),
            "after {} items",
            delivered.len()
        );
    }
    assert_eq!(
        page_ends, 4,
        "one save point a page of 3: 10 backups, 4 pages"
    );
}

#[tokio::test]
async fn a_scopes_failure_is_an_error_that_names_its_scope_so_question_mark_works() {
    let servers = servers(&[2]).await;
    servers[0].push_response(CannedResponse::json(
        403,
        r#"{"forbidden": {"code": 403, "message": "Policy doesn't allow this"}}"#,
    ));
    async fn first_failure(
        mut estate: EstateStream<BackupDetail>,
    ) -> Result<(), Box<dyn std::error::Error>> {
        while let Some(next) = estate.next().await {
            next?;
        }
        Ok(())
    }
    let err = first_failure(scope_set(&servers, 1).stream())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("vbs region-0 "), "{text}");
    assert!(text.contains("Policy doesn't allow this"), "{text}");
    assert!(err.source().is_some());
}

#[tokio::test]
async fn a_server_total_that_differs_from_what_was_listed_is_a_warning() {
    let servers = servers(&[12, 5]).await;
    let v3 = |server: &FakeServer| -> Client {
        common::builder(server)
            .api_version(ApiVersion::V3)
            .microversion("3.45")
            .build()
            .unwrap()
    };
    let mut estate = ScopeSet::<BackupDetail>::new()
        .add(
            Scope::new(BackupService::Vbs, "shrinking", servers[0].project_id()),
            v3(&servers[0]),
            |client| {
                client
                    .backups()
                    .detail()
                    .with_count()
                    .page_size(5)
                    .prefetch(0)
            },
        )
        .add(
            Scope::new(BackupService::Vbs, "steady", servers[1].project_id()),
            v3(&servers[1]),
            |client| client.backups().detail().with_count().page_size(5),
        )
        .stream();
    let first = loop {
        let backup = estate.next().await.unwrap().unwrap();
        if backup.scope.region == "shrinking" {
            break backup.item.id;
        }
    };
    // Deleted after it was listed: the later pages count one backup fewer.
    assert!(servers[0].delete_backup(&first));
    let (_, failed) = drain(&mut estate).await;
    assert!(failed.is_empty());

    let outcomes = estate.outcomes();
    let ScopeResult::Complete {
        server_total,
        warning,
    } = &outcomes[0].result
    else {
        panic!("complete: {:?}", outcomes[0]);
    };
    assert_eq!((*server_total, outcomes[0].delivered), (Some(11), 12));
    assert!(
        warning.as_deref().is_some_and(|w| w.contains("11")),
        "{warning:?}"
    );
    let ScopeResult::Complete {
        server_total,
        warning,
    } = &outcomes[1].result
    else {
        panic!("complete: {:?}", outcomes[1]);
    };
    assert_eq!((*server_total, warning.as_deref()), (Some(5), None));
}

#[tokio::test]
async fn a_checkpoint_from_another_estate_is_refused() {
    let servers = servers(&[2, 2]).await;
    let mut estate = scope_set(&servers, 2).stream();
    drain(&mut estate).await;
    let checkpoint = estate.checkpoint();
    let err = scope_set(&servers[..1], 2).resume(&checkpoint).unwrap_err();
    assert!(err.to_string().contains("region-1"), "{err}");
}

#[tokio::test]
async fn a_scope_of_the_checkpoint_that_handed_out_nothing_may_be_missing_from_the_rerun() {
    let servers = servers(&[5, 4]).await;
    let mut estate = scope_set(&servers, 1).stream();
    let mut first_run = vec![estate.next().await.unwrap().unwrap().item.id];
    let checkpoint = estate.checkpoint();
    drop(estate);
    // region-1 never started: a rerun without it loses nothing, and region-0 goes on.
    let mut resumed = scope_set(&servers[..1], 1)
        .resume(&checkpoint)
        .unwrap()
        .stream();
    let (delivered, failed) = drain(&mut resumed).await;
    assert!(failed.is_empty());
    first_run.extend(delivered[&region(0)].iter().cloned());
    assert_eq!(first_run, truth(&servers[..1])[&region(0)], "exactly once");
}

#[tokio::test]
async fn a_scope_added_twice_fails_once_and_the_rest_go_on() {
    let servers = servers(&[4]).await;
    let scope = Scope::new(BackupService::Vbs, "r", servers[0].project_id());
    let mut estate = ScopeSet::<BackupDetail>::new()
        .add(scope.clone(), common::client(&servers[0]), |c| {
            c.backups().detail()
        })
        .add(scope, common::client(&servers[0]), |c| c.backups().detail())
        .stream();
    let mut items = 0;
    let mut failures = 0;
    while let Some(next) = estate.next().await {
        match next {
            Ok(_) => items += 1,
            Err(_) => failures += 1,
        }
    }
    assert_eq!(
        (items, failures),
        (4, 0),
        "the duplicate is an outcome, not an item"
    );
    let outcomes = estate.outcomes();
    assert!(outcomes[0].is_complete());
    assert!(
        matches!(&outcomes[1].result, ScopeResult::Failed { error, .. } if error.to_string().contains("twice"))
    );
    // The first entry stands for the scope in the checkpoint, which can complete.
    assert!(estate.checkpoint().is_complete());
}

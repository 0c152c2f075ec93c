//! A Huawei account's estate from credentials alone: IAM's projects (region projects,
//! sub-projects; `MOS` and disabled ones skipped and reported), each region's endpoints
//! from the `HUAWEICLOUD_SDK_REGION_*` overrides, VBS and CBR walked as one stream under
//! one request budget, against the fake multi-region account.
#![cfg(feature = "huawei")]
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

use std::collections::BTreeSet;

use futures::StreamExt;
use vbs_backups::huawei::{HuaweiConfig, Service, SkipReason};
use vbs_backups::{EstateBackup, RequestBudget};
use vbs_backups_testing::{CannedResponse, FakeAccount};

fn config(account: &FakeAccount) -> HuaweiConfig {
    HuaweiConfig::from_env_vars(account.env())
}

/// `(service, project id, backup id)` of every backup the account holds.
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

async fn walk_all(
    estate: vbs_backups::huawei::HuaweiEstate,
) -> (
    Vec<(String, String, String)>,
    Vec<vbs_backups::ScopeOutcome>,
) {
    let mut stream = estate.scope_set().concurrency(3).stream();
    let mut listed = Vec::new();
    while let Some(next) = stream.next().await {
        let backup = next.unwrap_or_else(|failure| panic!("{}: {}", failure.scope, failure.item));
        let id = match &backup.item {
            EstateBackup::Vbs(b) => b.id.clone(),
            EstateBackup::Cbr(b) => b.id.clone(),
            _ => unreachable!(),
        };
        listed.push((
            backup.scope.service.to_string(),
            backup.scope.project_id.clone(),
            id,
        ));
    }
    (listed, stream.outcomes())
}

#[tokio::test]
async fn every_region_project_and_sub_project_in_both_services_exactly_once() {
    let account = FakeAccount::builder()
        .regions(3)
        .backups(7)
        .start()
        .await
        .unwrap();
    let estate = config(&account)
        .estate(&[], &[Service::Vbs, Service::Cbr])
        .await
        .unwrap();

    let mut names: Vec<_> = estate
        .scopes
        .iter()
        .map(|(scope, _)| {
            format!(
                "{} {} {}",
                scope.service,
                scope.region,
                scope.project_name.as_deref().unwrap_or_default()
            )
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "cbr ap-southeast-1 ap-southeast-1",
            "cbr cn-east-3 cn-east-3",
            "cbr cn-north-4 cn-north-4",
            "cbr cn-north-4 cn-north-4_prod",
            "vbs ap-southeast-1 ap-southeast-1",
            "vbs cn-east-3 cn-east-3",
            "vbs cn-north-4 cn-north-4",
            "vbs cn-north-4 cn-north-4_prod",
        ]
    );
    let skipped: Vec<_> = estate
        .skipped
        .iter()
        .map(|s| (s.project.name.as_str(), s.reason))
        .collect();
    assert_eq!(
        skipped,
        [
            ("MOS", SkipReason::NotInARegion),
            ("cn-north-4_old", SkipReason::Disabled)
        ]
    );

    let (listed, outcomes) = walk_all(estate).await;
    let unique: BTreeSet<_> = listed.iter().cloned().collect();
    assert_eq!(unique.len(), listed.len(), "no backup twice");
    assert_eq!(unique, truth(&account));
    assert_eq!(outcomes.len(), 8);
    assert!(outcomes.iter().all(|o| o.is_complete() && o.delivered == 7));
    // One IAM request, for the account's projects; each scope's server only its own.
    assert_eq!(account.iam().request_count(), 1);
    assert_eq!(account.iam().requests()[0].path, "/v3/auth/projects");
}

#[tokio::test]
async fn where_iam_refuses_the_users_projects_the_accounts_project_list_is_read() {
    let account = FakeAccount::builder().regions(2).start().await.unwrap();
    account.iam().push_response(CannedResponse::json(
        403,
        r#"{"error": {"code": "IAM.0003", "message": "Policy doesn't allow iam:users:listProjects to be performed."}}"#,
    ));
    let estate = config(&account).estate(&[], &[Service::Vbs]).await.unwrap();
    assert_eq!(estate.scopes.len(), 3, "two regions and the sub-project");
    let paths: Vec<String> = account
        .iam()
        .requests()
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(paths, ["/v3/auth/projects", "/v3/projects"]);
}

#[tokio::test]
async fn evs_is_refused_as_a_backup_service_before_anything_is_sent() {
    let account = FakeAccount::builder().regions(2).start().await.unwrap();
    let err = config(&account)
        .estate(&[], &[Service::Vbs, Service::Evs])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("EVS holds no backups"), "{err}");
    assert_eq!(account.iam().request_count(), 0);
}

#[tokio::test]
async fn named_regions_take_their_projects_and_an_empty_region_is_an_error_before_any_walk() {
    let account = FakeAccount::builder().regions(4).start().await.unwrap();
    let estate = config(&account)
        .estate(&["cn-north-4".into(), "eu-west-0".into()], &[Service::Cbr])
        .await
        .unwrap();
    let mut chosen: Vec<_> = estate
        .scopes
        .iter()
        .map(|(scope, _)| scope.project_name.clone().unwrap())
        .collect();
    chosen.sort();
    assert_eq!(chosen, ["cn-north-4", "cn-north-4_prod", "eu-west-0"]);

    let err = config(&account)
        .estate(&["eu-west-0".into(), "af-south-1".into()], &[Service::Vbs])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("af-south-1"), "{err}");
    assert!(
        account
            .scopes()
            .iter()
            .all(|s| s.server.request_count() == 0),
        "nothing walked"
    );
}

/// Walks every VBS scope of `account` under `budget` at `page_size`; how many backups
/// were listed (any scope's failure fails the test).
async fn walk_vbs_under(account: &FakeAccount, budget: &RequestBudget, page_size: u32) -> usize {
    let estate = config(account)
        .budget(budget.clone())
        .estate(&[], &[Service::Vbs])
        .await
        .unwrap();
    let mut stream = estate
        .scopes
        .into_iter()
        .fold(
            vbs_backups::ScopeSet::<EstateBackup>::new(),
            |set, (scope, client)| {
                set.add(scope, client, move |c| {
                    c.backups().detail().page_size(page_size)
                })
            },
        )
        .stream();
    let mut count = 0;
    while let Some(next) = stream.next().await {
        next.unwrap_or_else(|failure| panic!("{}: {}", failure.scope, failure.item));
        count += 1;
    }
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_wide_limit_is_met_by_the_budget_without_a_throttle() {
    let account = FakeAccount::builder()
        .regions(2)
        .backups(40)
        .limit(14)
        .start()
        .await
        .unwrap();
    let budget = RequestBudget::with_max_rate(8);
    let count = walk_vbs_under(&account, &budget, 10).await;
    assert_eq!(count, 3 * 40);
    assert_eq!(account.limit().unwrap().throttled(), 0);
    assert_eq!(budget.throttled_answers(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_wide_throttling_slows_every_scope_and_the_walk_still_completes() {
    let account = FakeAccount::builder()
        .regions(2)
        .backups(30)
        .limit(6)
        .start()
        .await
        .unwrap();
    let budget = RequestBudget::adaptive();
    let count = walk_vbs_under(&account, &budget, 5).await;
    assert_eq!(count, 3 * 30);
    assert!(
        account.limit().unwrap().throttled() > 0,
        "the account limit was reached"
    );
    assert_eq!(
        budget.throttled_answers(),
        account.limit().unwrap().throttled()
    );
}

//! Whole-cloud listings (`all_projects`, `project_id`) against a fake server holding several
//! projects, as an admin and as a non-admin caller whose `all_tenants` Cinder ignores.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use common::builder;
use futures::{StreamExt, TryStreamExt};
use vbs_backups::{ApiVersion, BackupDetail, Client, ErrorKind};
use vbs_backups_testing::{FakeServer, FakeServerBuilder};

async fn start(fake: FakeServerBuilder) -> FakeServer {
    fake.backups(23)
        .other_projects(3, 9)
        .start()
        .await
        .expect("fake server starts")
}

fn client(server: &FakeServer, microversion: Option<&str>) -> Client {
    let mut builder = builder(server).api_version(ApiVersion::V3);
    if let Some(microversion) = microversion {
        builder = builder.microversion(microversion);
    }
    builder.build().expect("client for the fake server")
}

fn listing_requests(server: &FakeServer) -> Vec<vbs_backups_testing::RecordedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/backups/detail") || r.path.ends_with("/backups"))
        .collect()
}

#[tokio::test]
async fn an_admin_lists_every_project_with_all_tenants_on_every_page() {
    let server = start(FakeServer::builder()).await;
    let got: Vec<BackupDetail> = client(&server, Some("3.18"))
        .backups()
        .detail()
        .all_projects()
        .page_size(10)
        .stream()
        .try_collect()
        .await
        .expect("an admin's whole-cloud listing");
    let truth = server.all_backups();
    assert_eq!(truth.len(), 23 + 27);
    let ids: Vec<_> = got.iter().map(|b| b.id.clone()).collect();
    let truth_ids: Vec<_> = truth.iter().map(|b| b.id.clone()).collect();
    assert_eq!(ids, truth_ids);
    for (backup, fake) in got.iter().zip(&truth) {
        assert_eq!(backup.project_id.as_deref(), Some(fake.project_id.as_str()));
    }
    let requests = listing_requests(&server);
    // 50 backups in pages of 10: the exactly full last page is followed by an empty one.
    assert_eq!(requests.len(), 6);
    for request in &requests {
        assert_eq!(
            request.param("all_tenants").as_deref(),
            Some("1"),
            "{request:?}"
        );
        assert_eq!(request.param("project_id"), None);
    }
}

#[tokio::test]
async fn an_admin_lists_one_other_project() {
    let server = start(FakeServer::builder()).await;
    let other = server.other_project_ids()[1].clone();
    let got: Vec<BackupDetail> = client(&server, Some("3.71"))
        .backups()
        .detail()
        .project_id(&other)
        .page_size(4)
        .stream()
        .try_collect()
        .await
        .expect("an admin's one-project listing");
    let expected: Vec<_> = server
        .all_backups()
        .into_iter()
        .filter(|b| b.project_id == other)
        .map(|b| b.id)
        .collect();
    assert_eq!(expected.len(), 9);
    assert_eq!(
        got.iter().map(|b| b.id.clone()).collect::<Vec<_>>(),
        expected
    );
    assert!(
        got.iter()
            .all(|b| b.project_id.as_deref() == Some(other.as_str()))
    );
    for request in listing_requests(&server) {
        assert_eq!(request.param("all_tenants").as_deref(), Some("1"));
        assert_eq!(request.param("project_id").as_deref(), Some(other.as_str()));
    }
}

#[tokio::test]
async fn a_non_admin_whose_all_tenants_is_ignored_gets_an_error_not_its_own_project() {
    let server = start(FakeServer::builder().non_admin()).await;
    let mut stream = client(&server, Some("3.18"))
        .backups()
        .detail()
        .all_projects()
        .page_size(10)
        .stream();
    let first = stream.next().await.expect("an item");
    let err = first.expect_err("the server ignored all_tenants");
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(
        err.to_string().contains("the server ignored all_tenants"),
        "{err}"
    );
    assert!(err.to_string().contains("not an admin"), "{err}");
    assert!(stream.next().await.is_none());
    // One request, which did ask for the whole cloud.
    let requests = listing_requests(&server);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].param("all_tenants").as_deref(), Some("1"));
}

#[tokio::test]
async fn a_non_admin_project_filter_is_refused_by_the_server_from_3_31() {
    let server = start(FakeServer::builder().non_admin()).await;
    let other = server.other_project_ids()[0].clone();
    let err = client(&server, Some("3.31"))
        .backups()
        .detail()
        .project_id(other)
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Api);
    assert!(
        err.to_string().contains("Invalid filters project_id"),
        "{err}"
    );
}

#[tokio::test]
async fn without_a_microversion_of_its_own_a_v3_whole_cloud_listing_asks_for_3_18() {
    // `openstack volume backup list --all-projects` needs no version flag: neither does this.
    let server = start(FakeServer::builder()).await;
    let client = client(&server, None);
    let got: Vec<BackupDetail> = client
        .backups()
        .detail()
        .project_id(server.other_project_ids()[0].clone())
        .page_size(4)
        .stream()
        .try_collect()
        .await
        .expect("an admin's listing of another project");
    assert_eq!(got.len(), 9);
    let requests = listing_requests(&server);
    assert!(requests.len() >= 3);
    for request in &requests {
        assert_eq!(
            request.header("openstack-api-version"),
            Some("volume 3.18"),
            "{request:?}"
        );
    }
    // The client itself is unchanged: other listings still send no microversion.
    assert_eq!(client.microversion(), None);
    client
        .backups()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    let last = listing_requests(&server).pop().unwrap();
    assert_eq!(last.header("openstack-api-version"), None);
}

#[tokio::test]
async fn whole_cloud_listings_below_3_18_or_on_v2_are_refused_before_sending() {
    let server = start(FakeServer::builder()).await;
    let v2 = builder(&server)
        .api_version(ApiVersion::V2)
        .build()
        .unwrap();
    for client in [client(&server, Some("3.17")), v2] {
        let err = client
            .backups()
            .detail()
            .all_projects()
            .stream()
            .try_collect::<Vec<_>>()
            .await
            .expect_err("refused");
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.to_string().contains("3.18"), "{err}");
        assert!(err.to_string().contains("v3"), "{err}");
    }
    assert!(listing_requests(&server).is_empty());
}

#[tokio::test]
async fn a_resumed_summary_walk_with_all_tenants_is_refused() {
    // The setters exist only on detail listings; a cursor naming the summary collection
    // with all_tenants (written by hand) is refused too.
    let server = start(FakeServer::builder()).await;
    let client = client(&server, Some("3.71"));
    let mut cursor = client.backups().page_size(5).stream().cursor();
    let mut value = serde_json::to_value(&cursor).unwrap();
    value["filters"] = serde_json::json!([["all_tenants", "1"]]);
    cursor = serde_json::from_value(value).unwrap();
    let err = client
        .resume(cursor)
        .expect("same project")
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("detail listing"), "{err}");
    assert!(listing_requests(&server).is_empty());
}

#[tokio::test]
async fn without_all_tenants_an_admin_sees_its_own_project_only() {
    let server = start(FakeServer::builder()).await;
    let got: Vec<BackupDetail> = client(&server, Some("3.18"))
        .backups()
        .detail()
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(got.len(), 23);
    assert!(
        got.iter()
            .all(|b| b.project_id.as_deref() == Some(server.project_id()))
    );
}

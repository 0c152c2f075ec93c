//! The detail listing, v3 microversions, `with_count` totals and sorting, walked by the crate's
//! own client across real pages of the fake server.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use std::collections::{BTreeMap, HashSet};

use common::{builder, truth_ids};
use futures::{StreamExt, TryStreamExt};
use jiff::Timestamp;
use vbs_backups::{
    ApiVersion, BackupDetail, BackupStatus, Client, ErrorKind, ListBackups, SortDir, SortKey,
};
use vbs_backups_testing::{FakeBackup, FakeServer, RecordedRequest};

async fn server(count: usize) -> FakeServer {
    FakeServer::builder()
        .backups(count)
        .start()
        .await
        .expect("fake server starts")
}

/// A `/v3` client asking for `microversion`, if any.
fn v3_client(server: &FakeServer, microversion: Option<&str>) -> Client {
    let mut builder = builder(server).api_version(ApiVersion::V3);
    if let Some(microversion) = microversion {
        builder = builder.microversion(microversion);
    }
    builder.build().expect("client for the fake server")
}

/// Cinder's zone-less timestamp read as UTC, independently of the crate's own parser.
fn utc(naive: &str) -> Timestamp {
    let civil: jiff::civil::DateTime = naive.parse().unwrap();
    jiff::tz::Offset::UTC.to_timestamp(civil).unwrap()
}

async fn collect_details(listing: ListBackups<BackupDetail>) -> Vec<BackupDetail> {
    listing
        .stream()
        .try_collect()
        .await
        .expect("listing succeeds")
}

fn detail_ids(details: &[BackupDetail]) -> Vec<String> {
    details.iter().map(|b| b.id.clone()).collect()
}

/// The requests the server received on the detail listing.
fn detail_requests(server: &FakeServer) -> Vec<RecordedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/backups/detail"))
        .collect()
}

/// Asserts that `got` holds every 3.0 field of `truth`, typed.
fn assert_same_backup(got: &BackupDetail, truth: &FakeBackup, version: &str, server: &FakeServer) {
    let id = &truth.id;
    assert_eq!(got.id, truth.id);
    assert_eq!(got.name, truth.name, "{id}");
    assert_eq!(
        got.status,
        BackupStatus::from(truth.status.as_str()),
        "{id}"
    );
    assert_eq!(got.size, Some(truth.size), "{id}");
    assert_eq!(got.object_count, Some(truth.object_count), "{id}");
    assert_eq!(got.volume_id.as_ref(), Some(&truth.volume_id), "{id}");
    assert_eq!(got.snapshot_id, truth.snapshot_id, "{id}");
    assert_eq!(got.container, truth.container, "{id}");
    assert_eq!(
        got.availability_zone.as_ref(),
        Some(&truth.availability_zone),
        "{id}"
    );
    assert_eq!(got.description, truth.description, "{id}");
    assert_eq!(got.fail_reason, truth.fail_reason, "{id}");
    assert_eq!(got.is_incremental, Some(truth.is_incremental), "{id}");
    assert_eq!(
        got.has_dependent_backups,
        Some(truth.has_dependent_backups),
        "{id}"
    );
    assert_eq!(got.created_at, Some(utc(&truth.created_at)), "{id}");
    assert_eq!(got.updated_at, Some(utc(&truth.updated_at)), "{id}");
    assert_eq!(got.data_timestamp, Some(utc(&truth.data_timestamp)), "{id}");
    let project = server.project_id();
    let links: Vec<(&str, &str)> = got
        .links
        .iter()
        .map(|link| (link.rel.as_str(), link.href.as_str()))
        .collect();
    let origin = server.endpoint();
    assert_eq!(
        links,
        [
            (
                "self",
                format!("{origin}/{version}/{project}/backups/{id}").as_str()
            ),
            (
                "bookmark",
                format!("{origin}/{project}/backups/{id}").as_str()
            ),
        ]
    );
}

#[tokio::test]
async fn a_detail_walk_equals_the_server_data_field_by_field() {
    let server = server(40).await;
    let truth = server.backups();
    let clients = [
        ("v2", common::client(&server)),
        ("v3", v3_client(&server, None)),
    ];
    for (version, client) in clients {
        server.clear_requests();
        let details = collect_details(client.backups().detail().page_size(7)).await;
        assert_eq!(details.len(), truth.len(), "{version}");
        for (got, truth) in details.iter().zip(&truth) {
            assert_same_backup(got, truth, version, &server);
            // Nothing a 3.0 server does not send.
            assert!(got.metadata.is_empty());
            assert_eq!((&got.user_id, &got.project_id), (&None, &None));
            assert!(got.extra.is_empty(), "{:?}", got.extra);
        }
        let requests = detail_requests(&server);
        assert_eq!(requests.len(), 6, "{version}: 40 backups in pages of 7");
        assert_eq!(requests.len(), server.request_count());
        assert_eq!(
            requests[1].param("marker").as_ref(),
            Some(&truth[6].id),
            "{version}"
        );
    }
}

#[tokio::test]
async fn microversion_fields_appear_only_from_their_version() {
    let server = server(25).await;
    let truth = server.backups();
    assert!(truth.iter().any(|b| b.encryption_key_id.is_some()));
    assert!(truth.iter().any(|b| !b.metadata.is_empty()));
    for microversion in [
        "3.0", "3.17", "3.18", "3.42", "3.43", "3.55", "3.56", "3.63", "3.64", "3.71",
    ] {
        let minor: u32 = microversion[2..].parse().unwrap();
        server.clear_requests();
        let client = v3_client(&server, Some(microversion));
        let details = collect_details(client.backups().detail().page_size(10)).await;
        assert_eq!(details.len(), truth.len());
        for (got, truth) in details.iter().zip(&truth) {
            assert_same_backup(got, truth, "v3", &server);
            let id = &truth.id;
            let project = (minor >= 18).then(|| server.project_id().to_owned());
            assert_eq!(got.project_id, project, "{microversion} {id}");
            let metadata = if minor >= 43 {
                truth.metadata.clone()
            } else {
                BTreeMap::new()
            };
            assert_eq!(got.metadata, metadata, "{microversion} {id}");
            let user = (minor >= 56).then(|| truth.user_id.clone());
            assert_eq!(got.user_id, user, "{microversion} {id}");
            // A field the crate does not type lands in `extra`, only where the server sends it.
            let extra: Vec<(&str, &str)> = got
                .extra
                .iter()
                .map(|(key, value)| (key.as_str(), value.as_str().unwrap()))
                .collect();
            let expected: Vec<(&str, &str)> = truth
                .encryption_key_id
                .as_deref()
                .filter(|_| minor >= 64)
                .map(|key| ("encryption_key_id", key))
                .into_iter()
                .collect();
            assert_eq!(extra, expected, "{microversion} {id}");
        }
        let header = format!("volume {microversion}");
        assert!(
            detail_requests(&server)
                .iter()
                .all(|r| r.header("openstack-api-version") == Some(header.as_str()))
        );
    }

    // A version the server does not speak is its 406, as an API error.
    let client = v3_client(&server, Some("3.72"));
    let err = client
        .backups()
        .detail()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(
        (err.status(), err.code()),
        (Some(406), Some("computeFault"))
    );
    assert_eq!(
        err.message(),
        "Version 3.72 is not supported by the API. Minimum is 3.0 and maximum is 3.71."
    );
}

#[tokio::test]
async fn with_count_totals_come_on_every_page_and_the_walk_ends_on_the_empty_page() {
    let server = server(25).await;
    let truth = server.backups();
    let client = v3_client(&server, Some("3.45"));

    // Cinder links on even from the partial last page; following it gives the empty page.
    let mut pages = client.backups().with_count().detail().page_size(10).pages();
    assert_eq!(
        pages.total(),
        None,
        "nothing is known before the first page"
    );
    let mut shape = Vec::new();
    let mut listed = Vec::new();
    while let Some(page) = pages.next().await.transpose().unwrap() {
        shape.push((page.len(), page.count, page.next_link.is_some()));
        assert_eq!(pages.total(), Some(25));
        listed.extend(page.items.into_iter().map(|b| b.id));
    }
    assert_eq!(
        shape,
        [
            // Each page's last item, the next request's marker, comes with the next page.
            (9, Some(25), true),
            (10, Some(25), true),
            (5, Some(25), true),
            (1, Some(25), false),
        ]
    );
    assert_eq!(listed, truth_ids(&truth));
    let requests = detail_requests(&server);
    assert_eq!(requests.len(), 4);
    assert!(
        requests
            .iter()
            .all(|r| r.param("with_count").as_deref() == Some("true"))
    );
    assert_eq!(requests[3].param("marker").as_ref(), Some(&truth[24].id));

    // The item stream knows the total from its first item on: all matches of the filters.
    let errors: Vec<String> = truth
        .iter()
        .filter(|b| b.status == "error")
        .map(|b| b.id.clone())
        .collect();
    assert!(errors.len() > 1);
    let mut items = client
        .backups()
        .status(BackupStatus::Error)
        .with_count()
        .page_size(2)
        .stream();
    assert_eq!(items.total(), None);
    let mut seen = Vec::new();
    while let Some(backup) = items.next().await.transpose().unwrap() {
        assert_eq!(items.total(), Some(errors.len() as u64));
        seen.push(backup.id);
    }
    assert_eq!(seen, errors);

    // With `max_items` the walk stops without the empty page; the total is still all matches.
    server.clear_requests();
    let mut capped = client
        .backups()
        .with_count()
        .max_items(12)
        .page_size(10)
        .stream();
    let mut count = 0;
    while items_next(&mut capped).await {
        count += 1;
    }
    assert_eq!((count, capped.total()), (12, Some(25)));
    assert_eq!(server.request_count(), 2);
}

async fn items_next(stream: &mut vbs_backups::ItemStream<vbs_backups::BackupSummary>) -> bool {
    stream.next().await.transpose().unwrap().is_some()
}

#[tokio::test]
async fn with_count_below_3_45_is_refused_before_any_request() {
    let server = server(5).await;
    let clients = [
        common::client(&server),
        v3_client(&server, None),
        v3_client(&server, Some("3.44")),
    ];
    for client in clients {
        let mut stream = client.backups().with_count().detail().stream();
        let err = stream.next().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.to_string().contains("3.45"), "{err}");
        assert!(stream.next().await.is_none());
        let summary = client
            .backups()
            .with_count()
            .stream()
            .try_collect::<Vec<_>>()
            .await;
        assert_eq!(summary.unwrap_err().kind(), ErrorKind::Config);
    }
    assert_eq!(server.request_count(), 0);
}

/// A listing sorted by `terms`, in order.
fn sorted<T: vbs_backups::VolumeBackup>(
    mut listing: ListBackups<T>,
    terms: &[(SortKey, SortDir)],
) -> ListBackups<T> {
    for &(key, dir) in terms {
        listing = listing.sort(key, dir);
    }
    listing
}

/// The sorts the tests walk, each with the `sort` parameter the client sends for it.
const SORTS: [(&[(SortKey, SortDir)], &str); 8] = [
    (&[(SortKey::CreatedAt, SortDir::Asc)], "created_at:asc"),
    (&[(SortKey::Size, SortDir::Desc)], "size:desc"),
    (
        &[
            (SortKey::Size, SortDir::Asc),
            (SortKey::Name, SortDir::Desc),
        ],
        "size:asc,display_name:desc",
    ),
    (&[(SortKey::Name, SortDir::Asc)], "display_name:asc"),
    (
        &[
            (SortKey::Status, SortDir::Desc),
            (SortKey::VolumeId, SortDir::Asc),
        ],
        "status:desc,volume_id:asc",
    ),
    (&[(SortKey::UpdatedAt, SortDir::Asc)], "updated_at:asc"),
    (&[(SortKey::Id, SortDir::Desc)], "id:desc"),
    (
        &[
            (SortKey::VolumeId, SortDir::Desc),
            (SortKey::CreatedAt, SortDir::Asc),
        ],
        "volume_id:desc,created_at:asc",
    ),
];

/// Whether consecutive backups are in order by the first sort term alone (an independent
/// check of the server's truth).
fn ordered_by_first_term(backups: &[FakeBackup], (key, dir): (SortKey, SortDir)) -> bool {
    backups.windows(2).all(|pair| {
        let (a, b) = match dir {
            SortDir::Asc => (&pair[0], &pair[1]),
            SortDir::Desc => (&pair[1], &pair[0]),
        };
        match key {
            SortKey::CreatedAt => a.created_at <= b.created_at,
            SortKey::UpdatedAt => a.updated_at <= b.updated_at,
            SortKey::Id => a.id <= b.id,
            SortKey::Name => a.name <= b.name,
            SortKey::Status => a.status <= b.status,
            SortKey::Size => a.size <= b.size,
            SortKey::VolumeId => a.volume_id <= b.volume_id,
            _ => panic!("no check for {key:?}"),
        }
    })
}

#[tokio::test]
async fn sorted_walks_yield_every_backup_once_in_the_sorted_order() {
    let server = server(50).await;
    let summary_client = common::client(&server);
    let detail_client = v3_client(&server, None);
    for (terms, sent) in SORTS {
        let truth = server.backups_sorted(sent).unwrap();
        assert!(ordered_by_first_term(&truth, terms[0]), "{sent}");
        let expected = truth_ids(&truth);
        assert_eq!(expected.iter().collect::<HashSet<_>>().len(), 50);

        server.clear_requests();
        let summaries = common::collect(sorted(summary_client.backups(), terms).page_size(7)).await;
        assert_eq!(common::ids(&summaries), expected, "summary {sent}");
        let requests = server.requests();
        assert_eq!(requests.len(), 8, "{sent}: 50 backups in pages of 7");
        assert!(
            requests
                .iter()
                .all(|r| r.param("sort").as_deref() == Some(sent))
        );

        let details =
            collect_details(sorted(detail_client.backups(), terms).detail().page_size(6)).await;
        assert_eq!(detail_ids(&details), expected, "detail {sent}");
        for (got, truth) in details.iter().zip(&truth) {
            assert_same_backup(got, truth, "v3", &server);
        }
    }
}

#[tokio::test]
async fn sorted_walks_keep_filters_and_max_items() {
    let server = server(80).await;
    let client = common::client(&server);
    let volume = server.backups()[0].volume_id.clone();
    for (terms, sent) in SORTS {
        let matching: Vec<String> = server
            .backups_sorted(sent)
            .unwrap()
            .into_iter()
            .filter(|b| b.status == "available" && b.volume_id == volume)
            .map(|b| b.id)
            .collect();
        assert!(matching.len() > 4, "{sent}");
        let listing = sorted(client.backups(), terms)
            .status(BackupStatus::Available)
            .volume_id(volume.clone())
            .page_size(3);
        let all = common::collect(listing.clone()).await;
        assert_eq!(common::ids(&all), matching, "{sent}");

        let first_five = collect_details(listing.max_items(5).detail()).await;
        assert_eq!(detail_ids(&first_five), matching[..5], "{sent}");
    }
}

#[tokio::test]
async fn resume_detail_continues_a_sorted_walk_exactly() {
    let server = server(45).await;
    let client = v3_client(&server, Some("3.45"));
    for (terms, sent) in SORTS {
        let expected = truth_ids(&server.backups_sorted(sent).unwrap());
        for taken in [1, 5, 12, 29] {
            let mut walk = sorted(client.backups(), terms)
                .with_count()
                .detail()
                .page_size(5)
                .stream();
            let mut seen = Vec::new();
            for _ in 0..taken {
                seen.push(walk.next().await.unwrap().unwrap().id);
            }
            let saved = serde_json::to_string(&walk.cursor()).unwrap();
            drop(walk);

            let cursor = serde_json::from_str(&saved).unwrap();
            let mut rest = client.resume_detail(cursor).unwrap().stream();
            while let Some(backup) = rest.next().await.transpose().unwrap() {
                assert_eq!(rest.total(), Some(45));
                seen.push(backup.id);
            }
            assert_eq!(seen, expected, "{sent} after {taken}");
        }
    }
}

//! Cleanup jobs: consumers that delete what they are handed, at any pace, and walks that
//! resume after every id they remembered was deleted. Exactly once is checked against the
//! fake server's own record of what existed when the walk started.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use common::truth_ids;
use futures::{StreamExt, TryStreamExt};
use vbs_backups::{Client, Cursor, ErrorKind, Listed, Listing, RetryPolicy, SortDir, SortKey};
use vbs_backups_testing::RecordedRequest;
use vbs_backups_testing::{CannedResponse, FakeServer};

async fn server(count: usize) -> FakeServer {
    FakeServer::builder()
        .backups(count)
        .start()
        .await
        .expect("fake server starts")
}

fn client(server: &FakeServer) -> Client {
    common::builder(server)
        .retry_policy(RetryPolicy::disabled())
        .build()
        .expect("valid client")
}

/// Walks `listing`, deleting each backup on the server as soon as it is handed out;
/// returns the ids in the order they came.
async fn delete_everything<T: Listed>(server: &FakeServer, listing: Listing<T>) -> Vec<String> {
    let mut stream = listing.stream();
    let mut seen = Vec::new();
    while let Some(item) = stream.next().await {
        let id = item.expect("the walk goes on").marker().to_owned();
        assert!(server.delete_backup(&id), "`{id}` existed when handed out");
        seen.push(id);
    }
    seen
}

/// The requests for pages of either view (`/backups` and `/backups/detail`).
fn listing_requests(server: &FakeServer) -> Vec<RecordedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/backups") || r.path.ends_with("/backups/detail"))
        .collect()
}

fn assert_exactly_once(seen: &[String], expected: &[String], context: &str) {
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "{context}: nothing twice");
    assert_eq!(seen, expected, "{context}: every backup, in server order");
}

#[tokio::test]
async fn deleting_everything_handed_out_finishes_at_any_page_size_and_prefetch() {
    for page_size in [1_u32, 10, 1000] {
        for prefetch in [0, 1, 4] {
            let server = server(60).await;
            let truth = truth_ids(&server.backups());
            let listing = client(&server)
                .backups()
                .page_size(page_size)
                .prefetch(prefetch);
            let summaries = delete_everything(&server, listing).await;
            let context = format!("summary, page size {page_size}, prefetch {prefetch}");
            assert_exactly_once(&summaries, &truth, &context);
            assert!(server.backups().is_empty(), "{context}: all deleted");

            let server = self::server(60).await;
            let truth = truth_ids(&server.backups());
            let listing = client(&server)
                .backups()
                .detail()
                .page_size(page_size)
                .prefetch(prefetch);
            let details = delete_everything(&server, listing).await;
            let context = format!("detail, page size {page_size}, prefetch {prefetch}");
            assert_exactly_once(&details, &truth, &context);
            // No marker ever vanished: no step back, no restart, no extra request.
            let pages = listing_requests(&server).len();
            let expected = 60_usize.div_ceil(page_size as usize) + usize::from(60 % page_size == 0);
            assert_eq!(pages, expected, "{context}: as cheap as a plain walk");
        }
    }
}

#[tokio::test]
async fn an_age_window_cleanup_deleting_everything_finishes() {
    let server = server(80).await;
    let backups = server.backups_sorted("created_at:asc").expect("sortable");
    let bound: jiff::Timestamp = format!("{}Z", backups[50].created_at)
        .parse()
        .expect("a time");
    let expected: Vec<String> = backups
        .iter()
        .filter(|backup| {
            format!("{}Z", backup.created_at)
                .parse::<jiff::Timestamp>()
                .ok()
                < Some(bound)
        })
        .map(|backup| backup.id.clone())
        .collect();
    for prefetch in [0, 1, 4] {
        let server = self::server(80).await;
        let listing = client(&server)
            .backups()
            .detail()
            .created_before(std::time::SystemTime::try_from(bound).expect("a system time"))
            .page_size(10)
            .prefetch(prefetch);
        let seen = delete_everything(&server, listing).await;
        assert_exactly_once(&seen, &expected, &format!("prefetch {prefetch}"));
    }
}

#[tokio::test]
async fn deleting_every_other_backup_handed_out_finishes() {
    let server = server(75).await;
    let truth = truth_ids(&server.backups());
    let mut stream = client(&server).backups().page_size(7).prefetch(1).stream();
    let mut seen = Vec::new();
    while let Some(item) = stream.next().await {
        let id = item.expect("the walk goes on").id;
        if seen.len() % 2 == 0 {
            assert!(server.delete_backup(&id));
        }
        seen.push(id);
    }
    assert_exactly_once(&seen, &truth, "half deleted");
    assert_eq!(server.backups().len(), 75 / 2);
}

#[tokio::test]
async fn another_task_deleting_at_random_loses_no_survivor_and_repeats_nothing() {
    for detail in [false, true] {
        let server = Arc::new(server(300).await);
        let truth = truth_ids(&server.backups());
        let deleter = {
            let server = Arc::clone(&server);
            let truth = truth.clone();
            tokio::spawn(async move {
                let mut deleted = Vec::new();
                // A fixed pseudo-random pick: every 7th of a shuffled-looking sequence.
                for step in 0..120_usize {
                    let id = &truth[(step * 97 + 13) % truth.len()];
                    if server.delete_backup(id) {
                        deleted.push(id.clone());
                    }
                    tokio::time::sleep(Duration::from_micros(300)).await;
                }
                deleted
            })
        };
        let listing = client(&server).backups().page_size(5).prefetch(1);
        let seen: Vec<String> = if detail {
            let stream = listing.detail().stream();
            stream.map_ok(|b| b.id).try_collect().await
        } else {
            listing.stream().map_ok(|b| b.id).try_collect().await
        }
        .expect("the walk finishes");
        let deleted: HashSet<String> = deleter.await.expect("deleter").into_iter().collect();
        let unique: HashSet<_> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "detail {detail}: nothing twice");
        for id in &truth {
            assert!(
                deleted.contains(id) || unique.contains(id),
                "detail {detail}: survivor `{id}` was never handed out"
            );
        }
        assert!(seen.iter().all(|id| truth.contains(id)));
    }
}

#[tokio::test]
async fn backups_created_during_a_walk_come_at_most_once_and_lose_nothing() {
    // Newest first (the default): new backups land before the walked part.
    let server = server(50).await;
    let truth = truth_ids(&server.backups());
    let mut stream = client(&server).backups().page_size(10).prefetch(1).stream();
    let mut seen = Vec::new();
    while let Some(item) = stream.next().await {
        seen.push(item.expect("ok").id);
        if seen.len() % 10 == 5 {
            server.create_backups(3);
        }
    }
    assert_exactly_once(&seen, &truth, "created before the walked part");

    // Oldest first: new backups land after it, and come once each.
    let server = self::server(50).await;
    let mut stream = client(&server)
        .backups()
        .sort(SortKey::CreatedAt, SortDir::Asc)
        .page_size(10)
        .prefetch(1)
        .stream();
    let mut seen = Vec::new();
    let mut created = Vec::new();
    while let Some(item) = stream.next().await {
        let id = item.expect("ok").id;
        assert!(server.delete_backup(&id));
        seen.push(id);
        if seen.len() == 25 {
            created.extend(server.create_backups(4).into_iter().map(|b| b.id));
        }
    }
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "nothing twice");
    assert_eq!(
        seen.len(),
        54,
        "the 50 and the 4 created after the walked part"
    );
    assert!(created.iter().all(|id| unique.contains(id)));
}

/// Walks `count` items deleting each, then drops the stream: a job killed mid-walk.
async fn run_and_kill<T: Listed>(
    server: &FakeServer,
    listing: Listing<T>,
    count: usize,
) -> (Vec<String>, Cursor) {
    let mut stream = listing.stream();
    let mut seen = Vec::new();
    for _ in 0..count {
        let id = stream
            .next()
            .await
            .expect("an item")
            .expect("ok")
            .marker()
            .to_owned();
        assert!(server.delete_backup(&id));
        seen.push(id);
    }
    let saved = serde_json::to_string(&stream.cursor()).expect("serializes");
    (seen, serde_json::from_str(&saved).expect("reads back"))
}

#[tokio::test]
async fn a_killed_cleanup_resumes_though_every_id_it_remembers_was_deleted() {
    for page_size in [1_u32, 10, 1000] {
        // Detail: the cursor carries the position; the resumed walk restarts at the top.
        let server = server(70).await;
        let truth = truth_ids(&server.backups());
        let client = client(&server);
        let listing = client.backups().detail().page_size(page_size).prefetch(1);
        let (mut seen, cursor) = run_and_kill(&server, listing, 33).await;
        assert!(cursor.after().is_some());
        server.clear_requests();
        let rest =
            delete_everything(&server, client.resume_detail(cursor).expect("resumable")).await;
        seen.extend(rest);
        assert_exactly_once(&seen, &truth, &format!("detail, page size {page_size}"));
        // The first marker and every earlier id are gone (17 answers of 404), then one
        // request restarts at the top, where nothing handed out is left to skip.
        let markers: Vec<_> = listing_requests(&server)
            .iter()
            .map(|request| request.param("marker"))
            .collect();
        assert!(markers[..17].iter().all(Option::is_some), "{markers:?}");
        assert_eq!(
            markers[17], None,
            "page size {page_size}: restarted at the top"
        );

        // Summary: no creation times; the cursor names the first backup not handed out.
        let server = self::server(70).await;
        let truth = truth_ids(&server.backups());
        let client = self::client(&server);
        let listing = client.backups().page_size(page_size).prefetch(1);
        let (mut seen, cursor) = run_and_kill(&server, listing, 33).await;
        let rest = delete_everything(&server, client.resume(cursor).expect("resumable")).await;
        seen.extend(rest);
        assert_exactly_once(&seen, &truth, &format!("summary, page size {page_size}"));
    }
}

/// Walks `listing`, deleting each backup as it is handed out, until the server's 503
/// (queued after `before_error` backups) ends it; returns what was handed out and the error.
async fn delete_until_an_error<T: Listed>(
    server: &FakeServer,
    listing: Listing<T>,
    before_error: usize,
) -> (Vec<String>, vbs_backups::Error) {
    let mut stream = listing.stream();
    let mut seen = Vec::new();
    loop {
        if seen.len() == before_error {
            server.push_response(CannedResponse::json(503, "{}"));
        }
        match stream.next().await.expect("an item or the error") {
            Ok(item) => {
                let id = item.marker().to_owned();
                assert!(server.delete_backup(&id));
                seen.push(id);
            }
            Err(err) => return (seen, err),
        }
    }
}

#[tokio::test]
async fn a_cleanup_ended_by_a_server_error_resumes_with_its_error_cursor() {
    for detail in [false, true] {
        let server = server(40).await;
        let truth = truth_ids(&server.backups());
        let client = client(&server);
        let listing = client.backups().page_size(10).prefetch(0);
        let (mut seen, err) = if detail {
            delete_until_an_error(&server, listing.detail(), 15).await
        } else {
            delete_until_an_error(&server, listing, 15).await
        };
        assert_eq!(err.status(), Some(503), "detail {detail}");
        let cursor = err.cursor().expect("a cursor").clone();
        let token: Cursor = cursor.to_token().parse().expect("the token reads back");
        let rest = if detail {
            delete_everything(&server, client.resume_detail(token).expect("resumable")).await
        } else {
            delete_everything(&server, client.resume(token).expect("resumable")).await
        };
        seen.extend(rest);
        assert_exactly_once(&seen, &truth, &format!("detail {detail}"));
    }
}

#[tokio::test]
async fn a_third_party_deleting_the_marker_and_all_before_it_cannot_stop_a_detail_walk() {
    let server = server(60).await;
    let truth = truth_ids(&server.backups());
    let mut stream = client(&server)
        .backups()
        .detail()
        .page_size(10)
        .prefetch(0)
        .stream();
    let mut seen = Vec::new();
    for _ in 0..9 {
        seen.push(stream.next().await.expect("an item").expect("ok").id);
    }
    // Someone else deletes the whole first page, the marker of page 2 included.
    for id in &truth[..10] {
        assert!(server.delete_backup(id));
    }
    server.clear_requests();
    while let Some(item) = stream.next().await {
        seen.push(item.expect("the walk restarts at the top").id);
    }
    let mut expected = truth[..9].to_vec();
    expected.extend_from_slice(&truth[10..]);
    assert_exactly_once(&seen, &expected, "restarted");
    let markers: Vec<_> = listing_requests(&server)
        .iter()
        .map(|request| request.param("marker"))
        .collect();
    // The vanished marker, its nine earlier ids, then the top of the listing: eleven
    // requests the restart costs, then the walk goes on as before (5 pages of 10 left).
    assert_eq!(markers[0], Some(truth[9].clone()));
    assert_eq!(markers[1..10].iter().flatten().count(), 9);
    assert_eq!(markers[10], None, "restarted at the top");
    assert_eq!(markers.len(), 11 + 5, "{markers:?}");
}

#[tokio::test]
async fn a_resumed_summary_walk_whose_next_backup_is_gone_too_says_so() {
    let server = server(30).await;
    let truth = truth_ids(&server.backups());
    let client = client(&server);
    let (_, cursor) = run_and_kill(&server, client.backups().page_size(10).prefetch(0), 5).await;
    // Someone else deletes the next backup too: nothing says where the walk stood.
    assert!(server.delete_backup(&truth[5]));
    let err = client
        .resume(cursor)
        .expect("resumable")
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("the place is lost");
    assert_eq!(err.kind(), ErrorKind::Pagination);
    assert!(err.to_string().contains(&truth[5]), "{err}");
    assert!(!err.to_string().contains("  "), "one clean line: {err}");
}

#[tokio::test]
async fn under_an_order_that_moves_backups_a_lost_marker_is_an_error_not_a_guess() {
    let server = server(40).await;
    let truth = truth_ids(&server.backups_sorted("status:asc").expect("sortable"));
    let client = client(&server);
    let (_, cursor) = run_and_kill(
        &server,
        client
            .backups()
            .detail()
            .sort(SortKey::Status, SortDir::Asc)
            .page_size(10)
            .prefetch(0),
        12,
    )
    .await;
    let err = client
        .resume_detail(cursor)
        .expect("resumable")
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("no guess");
    assert_eq!(err.kind(), ErrorKind::Pagination);
    assert!(err.to_string().contains("sorted by `status:asc`"), "{err}");
    assert!(!truth.is_empty());
}

//! Laziness, prefetch bounds, cancellation, fusing and resuming, counted on the server.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use std::time::Duration;

use common::{client, collect, ids, listing_requests, server, truth_ids};
use futures::stream::FusedStream;
use futures::{StreamExt, TryStreamExt};
use vbs_backups::{BackupSummary, Client, ItemStream, PageStream};
use vbs_backups_testing::CannedResponse;

/// Long enough for a loopback request to be sent and answered many times over.
const SETTLE: Duration = Duration::from_millis(300);

#[test]
fn streams_and_client_have_the_promised_auto_traits() {
    fn unpin_send_static<T: Unpin + Send + 'static>() {}
    fn shareable<T: Clone + Send + Sync + std::fmt::Debug + 'static>() {}
    unpin_send_static::<ItemStream<BackupSummary>>();
    unpin_send_static::<PageStream<BackupSummary>>();
    shareable::<Client>();
}

#[tokio::test]
async fn nothing_is_requested_before_the_first_poll() {
    let server = server(30).await;
    let client = client(&server);
    let items = client.backups().prefetch(2).stream();
    let pages = client.backups().prefetch(0).pages();
    tokio::time::sleep(SETTLE).await;
    assert_eq!(server.request_count(), 0);
    drop((items, pages));
    tokio::time::sleep(SETTLE).await;
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn prefetch_fetches_at_most_that_many_pages_ahead() {
    let server = server(100).await;
    for prefetch in [0_u64, 1, 2, 3] {
        server.clear_requests();
        let mut backups = client(&server)
            .backups()
            .page_size(10)
            .prefetch(prefetch as usize)
            .stream();
        let first = backups.next().await.expect("an item").expect("no error");
        tokio::time::sleep(SETTLE).await;
        assert_eq!(
            server.request_count() as u64,
            1 + prefetch,
            "prefetch {prefetch}: one page handed out, {prefetch} ahead"
        );
        // Consuming the rest of the first page frees no slot: the page was already taken.
        // Its last item is the next request's marker, held back until that request is
        // answered (so a consumer deleting what it gets never deletes the marker): the
        // first page hands out nine.
        for _ in 1..9 {
            backups.next().await.expect("an item").expect("no error");
        }
        tokio::time::sleep(SETTLE).await;
        assert_eq!(
            server.request_count() as u64,
            1 + prefetch,
            "prefetch {prefetch}"
        );
        // The tenth comes with the second page.
        backups.next().await.expect("an item").expect("no error");
        tokio::time::sleep(SETTLE).await;
        assert_eq!(
            server.request_count() as u64,
            2 + prefetch,
            "prefetch {prefetch}"
        );
        let rest: Vec<_> = backups.try_collect().await.expect("listing succeeds");
        assert_eq!(rest.len() + 10, 100);
        assert_eq!(first.id, server.backups()[0].id);
        assert_eq!(
            server.request_count(),
            11,
            "ten full pages and the empty one"
        );
    }
}

#[tokio::test]
async fn pages_stream_prefetch_is_bounded_the_same_way() {
    let server = server(100).await;
    let mut pages = client(&server).backups().page_size(10).prefetch(2).pages();
    let first = pages.next().await.expect("a page").expect("no error");
    // The last item, the next request's marker, comes with the next page.
    assert_eq!(first.len(), 9);
    tokio::time::sleep(SETTLE).await;
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn dropping_the_stream_cancels_the_request_in_flight_and_sends_no_more() {
    for prefetch in [0, 1] {
        let server = server(100).await;
        let mut backups = client(&server)
            .backups()
            .page_size(10)
            .prefetch(prefetch)
            .stream();
        // The first page's nine (its last item waits for the next page).
        for _ in 0..9 {
            backups.next().await.expect("an item").expect("no error");
        }
        tokio::time::sleep(SETTLE).await;
        server.set_latency(Duration::from_secs(2));
        // Ask for one more item: with prefetch it comes from the page fetched ahead
        // and the next request starts; without, the request is the one we wait on.
        let _ = tokio::time::timeout(Duration::from_millis(100), backups.next()).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let in_flight = server.request_count();
        assert_eq!(
            in_flight,
            2 + prefetch,
            "prefetch {prefetch}: one request is in flight"
        );
        drop(backups);
        tokio::time::sleep(SETTLE).await;
        assert_eq!(
            server.request_count(),
            in_flight,
            "prefetch {prefetch}: nothing after drop"
        );
        assert_eq!(
            server.abandoned_requests(),
            1,
            "prefetch {prefetch}: the request in flight was cancelled, not waited for"
        );
    }
}

#[tokio::test]
async fn streams_move_into_spawned_tasks() {
    let server = server(25).await;
    let backups = client(&server).backups().page_size(10).stream();
    let collected = tokio::spawn(async move { backups.try_collect::<Vec<_>>().await })
        .await
        .expect("task completes")
        .expect("listing succeeds");
    assert_eq!(ids(&collected), truth_ids(&server.backups()));
}

#[tokio::test]
async fn an_ended_stream_stays_ended_and_requests_nothing_more() {
    let server = server(5).await;
    let mut backups = client(&server).backups().stream();
    while backups.next().await.is_some() {}
    assert!(backups.is_terminated());
    let after_end = server.request_count();
    assert!(backups.next().await.is_none());
    tokio::time::sleep(SETTLE).await;
    assert_eq!(server.request_count(), after_end);
}

#[tokio::test]
async fn last_id_resumes_the_walk_exactly_once() {
    let server = server(100).await;
    let client = client(&server);
    let mut backups = client.backups().page_size(10).stream();
    let mut seen = Vec::new();
    for _ in 0..37 {
        seen.push(backups.next().await.expect("an item").expect("no error"));
    }
    let resume_from = backups.last_id().expect("items were yielded").to_owned();
    assert_eq!(resume_from, seen[36].id);
    drop(backups);
    seen.extend(collect(client.backups().page_size(10).after(resume_from)).await);
    assert_eq!(ids(&seen), truth_ids(&server.backups()));
}

#[tokio::test]
async fn an_error_midway_says_where_to_resume() {
    let server = server(50).await;
    let client = common::builder(&server)
        .retry_policy(vbs_backups::RetryPolicy::disabled())
        .build()
        .expect("valid client");
    let mut backups = client.backups().page_size(10).prefetch(0).stream();
    let mut seen = Vec::new();
    // Two pages: nine, then the held-back tenth and nine more. The twentieth is the
    // marker page 3 is asked with, held back until that request is answered.
    for _ in 0..19 {
        seen.push(backups.next().await.expect("an item").expect("no error"));
    }
    server.push_response(CannedResponse::json(
        500,
        r#"{"computeFault": {"code": 500, "message": "The server has either erred or is incapable of performing the requested operation."}}"#,
    ));
    let err = backups
        .next()
        .await
        .expect("an item")
        .expect_err("page 3 fails");
    assert_eq!(err.status(), Some(500));
    assert_eq!(err.resume_after(), Some(seen[18].id.as_str()));
    assert!(backups.next().await.is_none(), "ended after the error");
    let resume_from = err.resume_after().expect("resume point").to_owned();
    seen.extend(collect(client.backups().page_size(10).after(resume_from)).await);
    assert_eq!(ids(&seen), truth_ids(&server.backups()));
    assert_eq!(listing_requests(&server).len(), 3 + 4);
}

#[test]
fn polling_outside_a_tokio_runtime_is_an_error_not_a_panic() {
    let client = Client::builder()
        .endpoint("http://127.0.0.1:9/v3/p")
        .build()
        .expect("valid client");
    let mut backups = client.backups().stream();
    let first = futures::executor::block_on(backups.next());
    let err = first.expect("one item").expect_err("no runtime");
    assert!(err.to_string().contains("Tokio runtime"), "{err}");
}

#[tokio::test]
async fn bad_query_settings_are_the_first_item_and_request_nothing() {
    let server = server(5).await;
    for listing in [
        client(&server).backups().page_size(0),
        client(&server).backups().prefetch(10_000),
        client(&server).backups().after(""),
    ] {
        let mut backups = listing.stream();
        let err = backups
            .next()
            .await
            .expect("one item")
            .expect_err("bad setting");
        assert_eq!(err.kind(), vbs_backups::ErrorKind::Config);
        assert!(backups.next().await.is_none());
    }
    assert_eq!(server.request_count(), 0);
}

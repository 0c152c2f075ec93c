//! The fault matrix: each fault a real cloud produces, injected by the embedded
//! server, and the proof that every item still arrives exactly once, or that a
//! clear error comes with a cursor that then completes the walk.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{collect, ids, listing_requests, server, truth_ids};
use futures::future::{self, BoxFuture};
use futures::{StreamExt, TryStreamExt};
use vbs_backups::{AuthSource, Client, Cursor, ErrorKind, RetryPolicy};
use vbs_backups_testing::{CannedResponse, FakeServer};

/// Retries without the production backoff, so the matrix runs in milliseconds.
fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .base_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(20))
}

fn quick_client(server: &FakeServer) -> Client {
    common::builder(server)
        .retry_policy(quick_retries())
        .build()
        .expect("valid client")
}

fn busy(status: u16) -> CannedResponse {
    CannedResponse::json(
        status,
        format!(r#"{{"computeFault": {{"code": {status}, "message": "try again"}}}}"#),
    )
}

/// Queues `real` untouched pages and then `faults`, so the faults hit a later page.
fn after_pages(server: &FakeServer, real: usize, faults: impl IntoIterator<Item = CannedResponse>) {
    for _ in 0..real {
        server.push_response(CannedResponse::passthrough());
    }
    for fault in faults {
        server.push_response(fault);
    }
}

#[tokio::test]
async fn transient_statuses_are_retried_with_the_same_marker() {
    for status in [429, 500, 502, 503, 504] {
        let server = server(50).await;
        after_pages(&server, 2, [busy(status), busy(status)]);
        let got = collect(quick_client(&server).backups().page_size(10)).await;
        assert_eq!(ids(&got), truth_ids(&server.backups()), "HTTP {status}");
        let markers: Vec<_> = listing_requests(&server)
            .iter()
            .map(|r| r.param("marker"))
            .collect();
        assert_eq!(markers.len(), 6 + 2, "HTTP {status}: two retries");
        assert_eq!(markers[2], markers[3], "HTTP {status}: same marker again");
        assert_eq!(markers[3], markers[4], "HTTP {status}: same marker again");
    }
}

#[tokio::test]
async fn retry_after_is_honoured_in_seconds_and_as_a_date() {
    let server = server(30).await;
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    after_pages(
        &server,
        1,
        [
            busy(429).header("Retry-After", "0"),
            busy(503).header("Retry-After", date),
            // Waited for in full though above max_delay (20 ms): never retried earlier.
            // (A Retry-After beyond max_retry_after ends the walk at once: hardening.rs.)
            busy(503).header("Retry-After", "1"),
        ],
    );
    let got = collect(quick_client(&server).backups().page_size(10)).await;
    assert_eq!(ids(&got), truth_ids(&server.backups()));
    assert_eq!(server.request_count(), 4 + 3);
}

#[tokio::test]
async fn other_client_errors_are_not_retried() {
    for (status, body) in [
        (
            400,
            r#"{"badRequest": {"code": 400, "message": "Invalid input received"}}"#,
        ),
        (
            403,
            r#"{"forbidden": {"code": 403, "message": "Policy doesn't allow backup:get_all to be performed."}}"#,
        ),
        (404, "<html><body>404 Not Found</body></html>"),
        (409, r#"{"conflict": {"code": 409, "message": "busy"}}"#),
    ] {
        let server = server(5).await;
        server.push_response(CannedResponse::json(status, body));
        let err = quick_client(&server)
            .backups()
            .stream()
            .try_collect::<Vec<_>>()
            .await
            .expect_err("fails");
        assert_eq!(err.status(), Some(status));
        assert_eq!(server.request_count(), 1, "HTTP {status} is not retried");
    }
}

#[tokio::test]
async fn exhausted_retries_end_with_a_cursor_that_completes_the_walk() {
    let server = server(60).await;
    let client = common::builder(&server)
        .retry_policy(quick_retries().max_attempts(3))
        .build()
        .expect("valid client");
    after_pages(&server, 2, (0..3).map(|_| busy(503)));
    let mut backups = client.backups().page_size(10).prefetch(0).stream();
    let mut seen = Vec::new();
    let err = loop {
        match backups.next().await.expect("an item or the error") {
            Ok(backup) => seen.push(backup),
            Err(err) => break err,
        }
    };
    assert_eq!(err.status(), Some(503));
    assert!(err.is_retryable());
    // The last item of a page is the next request's marker, held back until that
    // request is answered: an error there leaves it as the first item to resume with.
    assert_eq!(seen.len(), 19);
    assert_eq!(server.request_count(), 2 + 3, "three attempts in all");

    // The job dies here; its cursor survives as JSON and a fresh client resumes.
    let saved = serde_json::to_string(err.cursor().expect("stream errors carry a cursor"))
        .expect("serializes");
    let restored: Cursor = serde_json::from_str(&saved).expect("deserializes");
    assert_eq!(&restored, err.cursor().expect("cursor"));
    let fresh = quick_client(&server);
    seen.extend(collect(fresh.resume(restored).expect("same project")).await);
    assert_eq!(ids(&seen), truth_ids(&server.backups()));
}

#[tokio::test]
async fn disabled_retries_report_the_first_failure() {
    let server = server(5).await;
    server.push_response(busy(503));
    let client = common::builder(&server)
        .retry_policy(RetryPolicy::disabled())
        .build()
        .expect("valid client");
    let err = collect_err(&client).await;
    assert_eq!(err.status(), Some(503));
    assert_eq!(server.request_count(), 1);
}

async fn collect_err(client: &Client) -> vbs_backups::Error {
    client
        .backups()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("the walk fails")
}

#[tokio::test]
async fn a_cursor_keeps_filters_page_size_and_what_max_items_still_allows() {
    let server = server(200).await;
    let client = quick_client(&server);
    let expected: Vec<_> = server
        .backups()
        .into_iter()
        .filter(|b| b.status == "available")
        .map(|b| b.id)
        .take(25)
        .collect();
    let mut backups = client
        .backups()
        .status("available")
        .page_size(7)
        .max_items(25)
        .stream();
    let mut seen = Vec::new();
    for _ in 0..10 {
        seen.push(backups.next().await.expect("item").expect("ok").id);
    }
    let json = serde_json::to_value(backups.cursor()).expect("serializes");
    assert_eq!(
        json["filters"],
        serde_json::json!([["status", "available"]])
    );
    assert_eq!(json["page_size"], 7);
    assert_eq!(json["max_items"], 15);
    assert_eq!(json["after"], seen[9].as_str());
    assert_eq!(json["api_version"], "v2");
    drop(backups);
    server.clear_requests();
    let cursor: Cursor = serde_json::from_value(json).expect("deserializes");
    let rest = collect(client.resume(cursor).expect("resumable")).await;
    seen.extend(ids(&rest));
    assert_eq!(seen, expected);
    assert!(
        listing_requests(&server)
            .iter()
            .all(|r| r.param("limit").as_deref() <= Some("7"))
    );
}

#[tokio::test]
async fn a_cursor_from_before_any_item_restarts_with_the_offset() {
    let server = server(20).await;
    let client = quick_client(&server);
    let backups = client.backups().offset(4).page_size(5).stream();
    let rest = collect(client.resume(backups.cursor()).expect("resumable")).await;
    assert_eq!(ids(&rest), truth_ids(&server.backups())[4..]);
}

#[tokio::test]
async fn a_cursor_for_another_project_or_version_is_refused() {
    let server = server(5).await;
    let cursor = quick_client(&server).backups().stream().cursor();
    let other_project = Client::builder()
        .endpoint(server.endpoint())
        .project_id("someone-else")
        .build()
        .expect("valid client");
    let err = other_project
        .resume(cursor.clone())
        .expect_err("other project");
    assert_eq!(err.kind(), ErrorKind::Config);
    let v3 = common::builder(&server)
        .api_version(vbs_backups::ApiVersion::V3)
        .build()
        .expect("valid client");
    assert!(v3.resume(cursor).is_err());
}

/// An auth source whose first token the server rejects.
#[derive(Default)]
struct Rotating {
    refreshes: AtomicUsize,
    good: String,
}

impl AuthSource for Rotating {
    fn token(&self) -> BoxFuture<'_, vbs_backups::Result<Option<String>>> {
        let token = if self.refreshes.load(Ordering::SeqCst) == 0 {
            "expired".to_owned()
        } else {
            self.good.clone()
        };
        Box::pin(future::ready(Ok(Some(token))))
    }

    fn refresh(&self) -> BoxFuture<'_, vbs_backups::Result<Option<String>>> {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        Box::pin(future::ready(Ok(Some(self.good.clone()))))
    }
}

/// Hands the same source to the client and keeps a handle to count refreshes.
#[derive(Clone)]
struct Shared(Arc<Rotating>);

impl AuthSource for Shared {
    fn token(&self) -> BoxFuture<'_, vbs_backups::Result<Option<String>>> {
        self.0.token()
    }
    fn refresh(&self) -> BoxFuture<'_, vbs_backups::Result<Option<String>>> {
        self.0.refresh()
    }
}

#[tokio::test]
async fn a_rejected_token_is_refreshed_once_and_the_request_retried_once() {
    let server = server(30).await;
    let source = Shared(Arc::new(Rotating {
        refreshes: AtomicUsize::new(0),
        good: server.token().expect("token").to_string(),
    }));
    let client = Client::builder()
        .endpoint(server.endpoint())
        .project_id(server.project_id())
        .auth_source(source.clone())
        .retry_policy(quick_retries())
        .build()
        .expect("valid client");
    let got = collect(client.backups().page_size(10)).await;
    assert_eq!(ids(&got), truth_ids(&server.backups()));
    assert_eq!(source.0.refreshes.load(Ordering::SeqCst), 1);
    let tokens: Vec<_> = server
        .requests()
        .into_iter()
        .map(|r| r.auth_token)
        .collect();
    assert_eq!(tokens[0].as_deref(), Some("expired"));
    assert!(tokens[1..].iter().all(|t| t.as_deref() == server.token()));
}

#[tokio::test]
async fn a_second_401_is_an_error_without_a_retry_storm() {
    let server = server(30).await;
    let unauthorized = || {
        CannedResponse::json(
            401,
            r#"{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}"#,
        )
    };
    server.push_response(unauthorized());
    server.push_response(unauthorized());
    let source = Shared(Arc::new(Rotating {
        refreshes: AtomicUsize::new(0),
        good: "still-bad".into(),
    }));
    let client = Client::builder()
        .endpoint(server.endpoint())
        .project_id(server.project_id())
        .auth_source(source.clone())
        .retry_policy(quick_retries())
        .build()
        .expect("valid client");
    let err = collect_err(&client).await;
    assert_eq!(err.status(), Some(401));
    assert_eq!(source.0.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(server.request_count(), 2);

    // A static token cannot be refreshed: its 401 is reported at once.
    let server = server_with_canned(unauthorized()).await;
    let err = collect_err(&quick_client(&server)).await;
    assert_eq!(err.status(), Some(401));
    assert_eq!(server.request_count(), 1);
}

async fn server_with_canned(response: CannedResponse) -> FakeServer {
    let server = server(5).await;
    server.push_response(response);
    server
}

#[tokio::test]
async fn max_pages_stops_a_walk_that_would_go_on_too_long() {
    let server = server(100).await;
    let mut backups = quick_client(&server)
        .backups()
        .page_size(10)
        .max_pages(3)
        .stream();
    let mut yielded = 0;
    let err = loop {
        match backups.next().await.expect("item or error") {
            Ok(_) => yielded += 1,
            Err(err) => break err,
        }
    };
    assert_eq!(err.kind(), ErrorKind::Pagination);
    assert!(err.to_string().contains("max_pages"), "{err}");
    assert_eq!(yielded, 30);
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn a_body_cut_short_is_retried_with_the_same_marker() {
    for fault in [
        CannedResponse::passthrough().reset_after(300),
        CannedResponse::passthrough().truncate_to(300),
        CannedResponse::passthrough().reset_after(0),
    ] {
        let server = server(40).await;
        after_pages(&server, 1, [fault.clone(), fault]);
        let got = collect(quick_client(&server).backups().page_size(10)).await;
        assert_eq!(ids(&got), truth_ids(&server.backups()));
        let markers: Vec<_> = listing_requests(&server)
            .iter()
            .map(|r| r.param("marker"))
            .collect();
        assert_eq!(markers.len(), 5 + 2);
        assert!(markers[1] == markers[2] && markers[2] == markers[3]);
    }
}

#[tokio::test]
async fn a_page_slower_than_the_timeout_is_retried() {
    let server = server(30).await;
    after_pages(
        &server,
        1,
        [CannedResponse::passthrough().delay(Duration::from_secs(2))],
    );
    let client = common::builder(&server)
        .timeout(Duration::from_millis(300))
        .retry_policy(quick_retries())
        .build()
        .expect("valid client");
    let got = collect(client.backups().page_size(10)).await;
    assert_eq!(ids(&got), truth_ids(&server.backups()));
    assert_eq!(
        server.abandoned_requests(),
        1,
        "the slow attempt was given up"
    );
}

/// Consumes `count` items from a stream that fetches on demand.
async fn take(
    backups: &mut vbs_backups::ItemStream<vbs_backups::BackupSummary>,
    count: usize,
) -> Vec<String> {
    let mut taken = Vec::new();
    for _ in 0..count {
        taken.push(backups.next().await.expect("item").expect("ok").id);
    }
    taken
}

#[tokio::test]
async fn a_vanished_marker_steps_back_without_gaps_or_repeats() {
    let server = server(60).await;
    let truth = truth_ids(&server.backups());
    let mut backups = quick_client(&server)
        .backups()
        .page_size(10)
        .prefetch(0)
        .stream();
    // Page 1 hands out nine: the tenth is the marker page 2 is asked with.
    let mut seen = take(&mut backups, 9).await;
    // Someone else deletes the marker (item 10) and the two before it before page 2 is
    // asked for.
    for id in &truth[7..10] {
        assert!(server.delete_backup(id));
    }
    seen.extend(take_rest(backups).await);
    let mut expected = truth.clone();
    expected.drain(7..10);
    let mut delivered = seen.clone();
    delivered.retain(|id| expected.contains(id));
    assert_eq!(delivered, expected, "every surviving backup exactly once");
    assert_eq!(
        seen.len(),
        59,
        "items delivered before the deletion stay delivered; the deleted marker never was"
    );
    let markers: Vec<_> = listing_requests(&server)
        .iter()
        .map(|r| r.param("marker"))
        .collect();
    assert_eq!(
        markers[1..4],
        [
            Some(truth[9].clone()),
            Some(truth[8].clone()),
            Some(truth[7].clone())
        ]
    );
    assert_eq!(
        markers[4],
        Some(truth[6].clone()),
        "stepped back to the newest survivor"
    );
}

async fn take_rest(backups: vbs_backups::ItemStream<vbs_backups::BackupSummary>) -> Vec<String> {
    backups
        .map_ok(|b| b.id)
        .try_collect()
        .await
        .expect("walk succeeds")
}

#[tokio::test]
async fn a_marker_reported_missing_with_400_is_stepped_back_over_too() {
    let server = server(30).await;
    let truth = truth_ids(&server.backups());
    after_pages(
        &server,
        1,
        [CannedResponse::json(
            400,
            format!(
                r#"{{"badRequest": {{"code": 400, "message": "Marker {} could not be found."}}}}"#,
                truth[9]
            ),
        )],
    );
    let got = collect(quick_client(&server).backups().page_size(10)).await;
    assert_eq!(
        ids(&got),
        truth,
        "nothing vanished for real: nothing lost, nothing twice"
    );
}

#[tokio::test]
async fn a_page_deleted_entirely_ends_with_a_clear_error_and_a_cursor() {
    let server = server(40).await;
    let truth = truth_ids(&server.backups());
    let client = quick_client(&server);
    let mut backups = client.backups().page_size(10).prefetch(0).stream();
    let seen = take(&mut backups, 9).await;
    // Someone else deletes the whole page, the marker page 2 is asked with included.
    for id in &truth[..10] {
        server.delete_backup(id);
    }
    let err = backups
        .next()
        .await
        .expect("an item")
        .expect_err("cannot go on");
    assert_eq!(err.kind(), ErrorKind::Pagination);
    assert!(err.to_string().contains("vanished"), "{err}");
    assert_eq!(err.resume_after(), Some(truth[8].as_str()));
    assert_eq!(seen, truth[..9]);
}

#[tokio::test]
async fn a_cursor_whose_backup_was_deleted_meanwhile_still_resumes() {
    let server = server(40).await;
    let truth = truth_ids(&server.backups());
    let client = quick_client(&server);
    let mut backups = client.backups().page_size(10).prefetch(0).stream();
    let mut seen = take(&mut backups, 15).await;
    let saved = serde_json::to_string(&backups.cursor()).expect("serializes");
    drop(backups);
    // Overnight, the last backup delivered and the one before it are deleted.
    server.delete_backup(&truth[14]);
    server.delete_backup(&truth[13]);
    let cursor: Cursor = serde_json::from_str(&saved).expect("deserializes");
    seen.extend(take_rest(client.resume(cursor).expect("resumable").stream()).await);
    assert_eq!(seen, truth);
}

#[tokio::test]
async fn backups_created_during_a_walk_do_not_disturb_it() {
    let server = server(30).await;
    let truth = truth_ids(&server.backups());
    let mut backups = quick_client(&server)
        .backups()
        .page_size(10)
        .prefetch(0)
        .stream();
    let mut seen = take(&mut backups, 10).await;
    server.create_backups(5);
    seen.extend(take_rest(backups).await);
    assert_eq!(seen, truth, "newer backups sort before the walk's position");
}

#[tokio::test]
async fn a_token_rotated_mid_walk_is_refreshed_through_the_auth_source() {
    let server = server(30).await;
    let source = Shared(Arc::new(Rotating {
        refreshes: AtomicUsize::new(0),
        good: "rotated-token".into(),
    }));
    // The first token is accepted until the server rotates it.
    server.set_token("expired");
    let client = Client::builder()
        .endpoint(server.endpoint())
        .project_id(server.project_id())
        .auth_source(source.clone())
        .retry_policy(quick_retries())
        .build()
        .expect("valid client");
    let mut backups = client.backups().page_size(10).prefetch(0).stream();
    let mut seen = take(&mut backups, 10).await;
    server.set_token("rotated-token");
    seen.extend(take_rest(backups).await);
    assert_eq!(seen, truth_ids(&server.backups()));
    assert_eq!(source.0.refreshes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_prefetching_stream_reports_where_to_resume_after_an_error() {
    let server = server(50).await;
    let client = common::builder(&server)
        .retry_policy(RetryPolicy::disabled())
        .build()
        .expect("valid client");
    after_pages(&server, 2, [busy(500)]);
    let mut backups = client.backups().page_size(10).prefetch(2).stream();
    let mut seen = Vec::new();
    let err = loop {
        match backups.next().await.expect("item or error") {
            Ok(backup) => seen.push(backup.id),
            Err(err) => break err,
        }
    };
    // The last item of a page is the next request's marker, held back until that
    // request is answered: an error there leaves it as the first item to resume with.
    assert_eq!(
        seen.len(),
        19,
        "pages fetched ahead are delivered before the error"
    );
    assert_eq!(err.resume_after(), Some(seen[18].as_str()));
    seen.extend(
        take_rest(
            client
                .resume(err.cursor().expect("cursor").clone())
                .expect("resumable")
                .stream(),
        )
        .await,
    );
    assert_eq!(seen, truth_ids(&server.backups()));
}

#[test]
fn a_prefetch_task_that_dies_with_its_runtime_is_an_error_not_a_short_walk() {
    let first = tokio::runtime::Runtime::new().expect("runtime");
    let (server, mut backups) = first.block_on(async {
        let server = server(50).await;
        let mut backups = quick_client(&server)
            .backups()
            .page_size(10)
            .prefetch(1)
            .stream();
        backups.next().await.expect("item").expect("ok");
        (server, backups)
    });
    // The prefetch task (and the server) die with the runtime they were spawned on.
    drop(first);
    let second = tokio::runtime::Runtime::new().expect("runtime");
    let (delivered, err) = second.block_on(async {
        let mut delivered = 1;
        loop {
            match backups.next().await {
                Some(Ok(_)) => delivered += 1,
                Some(Err(err)) => return (delivered, err),
                None => panic!("the walk ended quietly after {delivered} of 50 backups"),
            }
        }
    });
    drop(server);
    assert!(delivered < 50);
    assert!(
        err.to_string().contains("stopped before the walk ended"),
        "{err}"
    );
    assert!(err.cursor().is_some());
}

//! Age windows (`created_before` / `created_after`) against the fake server: the backups
//! yielded, the boundaries, and the requests the early stop saves.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use std::time::{Duration, SystemTime};

use common::builder;
use futures::{StreamExt, TryStreamExt};
use vbs_backups::{BackupDetail, Client, Cursor, ErrorKind, ListBackups, SortDir, SortKey};
use vbs_backups_testing::{FakeBackup, FakeServer, RecordedRequest};

async fn server(count: usize) -> FakeServer {
    FakeServer::builder()
        .backups(count)
        .start()
        .await
        .expect("fake server starts")
}

fn client(server: &FakeServer) -> Client {
    builder(server).build().expect("client for the fake server")
}

/// Cinder's zone-less timestamp, read as UTC, as a `SystemTime` (the fake's are whole
/// minutes after 2024-01-01, so whole seconds after the epoch).
fn time(naive: &str) -> SystemTime {
    let civil: jiff::civil::DateTime = naive.parse().unwrap();
    let stamp = jiff::tz::Offset::UTC.to_timestamp(civil).unwrap();
    SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(stamp.as_second()).unwrap())
}

fn created(backup: &FakeBackup) -> SystemTime {
    time(&backup.created_at)
}

async fn collect(listing: ListBackups<BackupDetail>) -> Vec<String> {
    listing
        .stream()
        .map_ok(|backup| backup.id)
        .try_collect()
        .await
        .expect("listing succeeds")
}

fn ids<'a>(backups: impl IntoIterator<Item = &'a FakeBackup>) -> Vec<String> {
    backups.into_iter().map(|b| b.id.clone()).collect()
}

/// The requests the server received on the detail listing.
fn detail_requests(server: &FakeServer) -> Vec<RecordedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/backups/detail"))
        .collect()
}

/// Pages a walk reads to reach the item at `index` (0-based) of its order.
fn pages_to_reach(index: usize, page_size: usize) -> usize {
    index / page_size + 1
}

#[tokio::test]
async fn created_before_walks_oldest_first_and_stops_at_the_first_newer_backup() {
    let server = server(100).await;
    let ascending = server.backups_sorted("created_at:asc").unwrap();
    // The fake creates backups in pairs sharing a minute; 31 is the first of its pair.
    let bound = created(&ascending[31]);
    let expected: Vec<_> = ascending.iter().filter(|b| created(b) < bound).collect();
    assert_eq!(expected.len(), 31);

    let got = collect(
        client(&server)
            .backups()
            .detail()
            .page_size(10)
            .created_before(bound),
    )
    .await;
    assert_eq!(got, ids(expected.iter().copied()));

    let requests = detail_requests(&server);
    assert_eq!(requests.len(), 4, "four pages of ten, not eleven");
    assert_eq!(requests.len(), pages_to_reach(31, 10));
    for request in &requests {
        assert_eq!(request.param("sort").as_deref(), Some("created_at:asc"));
    }
}

#[tokio::test]
async fn created_after_walks_newest_first_and_stops_at_the_first_older_backup() {
    let server = server(100).await;
    let descending = server.backups_sorted("created_at:desc").unwrap();
    let bound = created(&descending[44]);
    let expected: Vec<_> = descending.iter().filter(|b| created(b) >= bound).collect();
    assert!(expected.len() >= 45, "the bound's minute is in the window");

    let got = collect(
        client(&server)
            .backups()
            .detail()
            .page_size(10)
            .created_after(bound),
    )
    .await;
    assert_eq!(got, ids(expected.iter().copied()));

    let requests = detail_requests(&server);
    assert_eq!(requests.len(), pages_to_reach(expected.len(), 10));
    for request in &requests {
        assert_eq!(request.param("sort").as_deref(), Some("created_at:desc"));
    }
}

#[tokio::test]
async fn both_bounds_walk_newest_first_filter_the_upper_and_stop_at_the_lower() {
    let server = server(100).await;
    let descending = server.backups_sorted("created_at:desc").unwrap();
    let (before, after) = (created(&descending[20]), created(&descending[61]));
    let expected: Vec<_> = descending
        .iter()
        .filter(|b| created(b) >= after && created(b) < before)
        .collect();
    assert!(expected.len() >= 39);

    let listing = client(&server)
        .backups()
        .detail()
        .page_size(10)
        .created_before(before)
        .created_after(after);
    assert_eq!(collect(listing).await, ids(expected.iter().copied()));

    let first_past = descending.iter().position(|b| created(b) < after).unwrap();
    assert_eq!(
        detail_requests(&server).len(),
        pages_to_reach(first_past, 10)
    );
}

#[tokio::test]
async fn the_window_is_half_open_so_before_and_after_the_same_time_split_ties_nowhere() {
    let server = server(60).await;
    let ascending = server.backups_sorted("created_at:asc").unwrap();
    // The fake creates backups in pairs sharing a minute: 29 and 30 tie.
    assert_eq!(ascending[29].created_at, ascending[30].created_at);
    let t = created(&ascending[29]);
    let client = client(&server);

    let before = collect(client.backups().detail().page_size(7).created_before(t)).await;
    let after = collect(client.backups().detail().page_size(7).created_after(t)).await;
    assert_eq!(
        before,
        ids(&ascending[..29]),
        "strictly before: neither of the pair"
    );
    let mut newest_first = ids(&ascending[29..]);
    newest_first.reverse();
    assert_eq!(after, newest_first, "at or after: both of the pair");

    // Nothing is lost or listed twice across the boundary.
    let mut all = [before, after].concat();
    all.sort();
    let mut truth = ids(&ascending);
    truth.sort();
    assert_eq!(all, truth);
}

#[tokio::test]
async fn an_empty_window_sends_no_request() {
    let server = server(10).await;
    let t = created(&server.backups()[3]);
    let got = collect(
        client(&server)
            .backups()
            .detail()
            .created_after(t)
            .created_before(t),
    )
    .await;
    assert!(got.is_empty());
    assert_eq!(server.request_count(), 0);
}

/// A year of backups at 10 a day (3650, the fake's minutes standing for days), in pages
/// of 50: the full walk takes 74 requests (73 full pages and the empty one after).
#[tokio::test]
async fn a_sixty_day_window_over_a_year_fetches_about_sixty_days_of_pages() {
    const YEAR: usize = 3650;
    const SIXTY_DAYS: usize = 600;
    let server = server(YEAR).await;
    let client = client(&server);
    let ascending = server.backups_sorted("created_at:asc").unwrap();

    let all = collect(client.backups().detail().page_size(50)).await;
    assert_eq!(all.len(), YEAR);
    let full_walk = detail_requests(&server).len();
    assert_eq!(full_walk, 74);

    // The cleanup: the oldest 60 "days" are past retention (601 backups: the cutoff is
    // the first of a pair sharing a minute).
    server.clear_requests();
    let cutoff = created(&ascending[SIXTY_DAYS + 1]);
    let old = collect(
        client
            .backups()
            .detail()
            .page_size(50)
            .created_before(cutoff),
    )
    .await;
    assert_eq!(old, ids(&ascending[..=SIXTY_DAYS]));
    let cleanup = detail_requests(&server).len();
    assert_eq!(
        cleanup, 13,
        "601 backups in pages of 50: the 13th page passes the cutoff"
    );

    // The audit: the newest 60 "days" (601 again: the bound's pair is inside).
    server.clear_requests();
    let since = created(&ascending[YEAR - SIXTY_DAYS]);
    let recent = collect(client.backups().detail().page_size(50).created_after(since)).await;
    let mut newest_first = ids(&ascending[YEAR - SIXTY_DAYS - 1..]);
    newest_first.reverse();
    assert_eq!(recent, newest_first);
    let audit = detail_requests(&server).len();
    assert_eq!(audit, 13);

    println!(
        "60 days of a year: {cleanup} requests instead of {full_walk} ({} saved)",
        full_walk - cleanup
    );
    assert_eq!(full_walk - cleanup, 61);
}

#[tokio::test]
async fn under_a_sort_of_the_callers_the_window_is_a_plain_filter_over_every_page() {
    let server = server(100).await;
    let bound = created(&server.backups_sorted("created_at:asc").unwrap()[40]);
    let by_size = server.backups_sorted("size:desc").unwrap();
    let expected: Vec<_> = by_size.iter().filter(|b| created(b) < bound).collect();

    let listing = client(&server)
        .backups()
        .detail()
        .page_size(10)
        .sort(SortKey::Size, SortDir::Desc)
        .created_before(bound);
    assert_eq!(collect(listing).await, ids(expected.iter().copied()));

    let requests = detail_requests(&server);
    assert_eq!(
        requests.len(),
        11,
        "every page, and the empty one after the last full page"
    );
    for request in &requests {
        assert_eq!(request.param("sort").as_deref(), Some("size:desc"));
    }
}

#[tokio::test]
async fn a_callers_sort_by_created_at_towards_the_bound_still_stops_there() {
    let server = server(100).await;
    let ascending = server.backups_sorted("created_at:asc").unwrap();
    let bound = created(&ascending[31]);
    let listing = client(&server)
        .backups()
        .detail()
        .page_size(10)
        .sort(SortKey::CreatedAt, SortDir::Asc)
        .created_before(bound);
    assert_eq!(collect(listing).await, ids(&ascending[..31]));
    assert_eq!(detail_requests(&server).len(), 4);
}

#[tokio::test]
async fn max_items_counts_the_backups_in_the_window() {
    let server = server(100).await;
    let descending = server.backups_sorted("created_at:desc").unwrap();
    // The newest 10 or 11 backups are outside the window, on the first page.
    let before = created(&descending[10]);
    let listing = client(&server)
        .backups()
        .detail()
        .page_size(10)
        .created_before(before)
        .created_after(created(&descending[80]))
        .max_items(15);
    let expected: Vec<_> = descending
        .iter()
        .filter(|b| created(b) < before)
        .take(15)
        .collect();
    assert_eq!(collect(listing).await, ids(expected.iter().copied()));
    let requests = detail_requests(&server);
    assert!(
        requests
            .iter()
            .all(|r| r.param("limit").as_deref() == Some("10")),
        "a window asks for whole pages"
    );
    assert_eq!(requests.len(), 3, "10 dropped, then 10 and 5 of the window");
}

#[tokio::test]
async fn a_walk_resumed_from_a_cursor_keeps_its_window_and_stops_at_the_bound() {
    let server = server(100).await;
    let client = client(&server);
    let ascending = server.backups_sorted("created_at:asc").unwrap();
    let bound = created(&ascending[51]);
    let expected = ids(&ascending[..51]);

    let mut first = client
        .backups()
        .detail()
        .page_size(10)
        .created_before(bound)
        .stream();
    let mut seen = Vec::new();
    for _ in 0..15 {
        seen.push(first.next().await.unwrap().unwrap().id);
    }
    let saved = serde_json::to_string(&first.cursor()).unwrap();
    drop(first);
    let json: serde_json::Value = serde_json::from_str(&saved).unwrap();
    assert_eq!(json["format"], 2, "a cursor with a window says so");
    let rfc3339 = ascending[51].created_at.replace(".000000", "Z");
    assert_eq!(json["window"]["created_before"], rfc3339.as_str());
    assert!(json["window"].get("created_after").is_none());

    server.clear_requests();
    let cursor: Cursor = serde_json::from_str(&saved).unwrap();
    let rest = collect(client.resume_detail(cursor.clone()).unwrap()).await;
    seen.extend(rest);
    assert_eq!(seen, expected);
    // Resumed after item 15: pages 16-25, 26-35, 36-45, 46-55 (which passes the bound).
    let requests = detail_requests(&server);
    assert_eq!(requests.len(), 4);
    assert!(
        requests
            .iter()
            .all(|r| r.param("sort").as_deref() == Some("created_at:asc"))
    );

    // The string form carries it too.
    let token: Cursor = cursor.to_token().parse().unwrap();
    assert_eq!(token, cursor);
}

#[tokio::test]
async fn a_window_cursor_resumed_on_the_summary_listing_is_refused() {
    let server = server(20).await;
    let client = client(&server);
    let bound = created(&server.backups()[5]);
    let mut stream = client.backups().detail().created_before(bound).stream();
    let _ = stream.next().await;
    let mut json: serde_json::Value = serde_json::to_value(stream.cursor()).unwrap();
    json["collection"] = "backups".into();
    let cursor: Cursor = serde_json::from_value(json).unwrap();
    server.clear_requests();
    let mut summaries = client.resume(cursor).unwrap().stream();
    let err = summaries.next().await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("detail listing"), "{err}");
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn cursors_without_a_window_keep_format_one() {
    let server = server(5).await;
    let mut stream = client(&server).backups().detail().stream();
    let _ = stream.next().await;
    let json = serde_json::to_value(stream.cursor()).unwrap();
    assert_eq!(json["format"], 1);
    assert!(json.get("window").is_none());
}

/// Issue 15, defect 4: a window that leaves whole pages out, ended by an error after them,
/// resumes after what it read, not before it, so a walk that fits its `max_pages` still
/// fits when resumed (the cursor used to count those pages and restart before them).
#[tokio::test]
async fn a_window_walk_resumed_after_pages_it_filtered_out_still_fits_its_page_budget() {
    let server = server(40).await;
    let oldest_first = server.backups_sorted("created_at:asc").unwrap();
    let bound = created(&oldest_first[10]);
    let expected: Vec<String> = server
        .backups()
        .iter()
        .filter(|backup| created(backup) < bound)
        .map(|backup| backup.id.clone())
        .collect();
    let client = builder(&server)
        .retry_policy(vbs_backups::RetryPolicy::disabled())
        .build()
        .unwrap();
    // Newest first, so the window is a filter: the first pages hold nothing of it.
    let listing = || {
        client
            .backups()
            .detail()
            .sort(SortKey::CreatedAt, SortDir::Desc)
            .created_before(bound)
            .page_size(5)
            .max_pages(9)
            .prefetch(0)
    };
    assert_eq!(
        collect(listing()).await,
        expected,
        "eight pages and the empty one fit"
    );

    // The same walk, failing on page 7 after six pages the window emptied.
    for _ in 0..6 {
        server.push_response(vbs_backups_testing::CannedResponse::passthrough());
    }
    server.push_response(vbs_backups_testing::CannedResponse::json(503, "{}"));
    let err = listing()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("page 7 fails");
    assert_eq!(err.status(), Some(503));
    let cursor: Cursor = err.cursor().unwrap().to_token().parse().unwrap();
    let rest = collect(client.resume_detail(cursor).unwrap().prefetch(0)).await;
    assert_eq!(
        rest, expected,
        "resumed after the pages read, within the budget"
    );
}

/// Issue 15, defect 2: a server that ignores `sort` (newest first) cannot be caught on a
/// first page of one backup, or of backups created at one time, all past the bound: the
/// walk reads on until the order shows, and the server's order ends it with an error
/// instead of an empty, silent end.
#[tokio::test]
async fn a_window_does_not_end_early_on_a_first_page_that_cannot_show_the_order() {
    let server = server(0).await;
    let page = |items: &[(&str, &str)], marker: Option<&str>| {
        let backups: Vec<_> = items
            .iter()
            .map(|(id, at)| serde_json::json!({"id": id, "status": "available", "created_at": at}))
            .collect();
        let links: Vec<_> = marker
            .map(|m| serde_json::json!({"rel": "next", "href": format!("backups/detail?marker={m}")}))
            .into_iter()
            .collect();
        serde_json::json!({"backups": backups, "backups_links": links}).to_string()
    };
    let bound = time("2024-01-01T10:00:00");
    for first in [
        vec![("new", "2024-01-03T00:00:00.000000")],
        vec![
            ("tie1", "2024-01-03T00:00:00.000000"),
            ("tie2", "2024-01-03T00:00:00.000000"),
        ],
    ] {
        server.clear_requests();
        let last = first.last().unwrap().0;
        server.push_response(vbs_backups_testing::CannedResponse::json(
            200,
            page(&first, Some(last)),
        ));
        server.push_response(vbs_backups_testing::CannedResponse::json(
            200,
            page(&[("old", "2024-01-01T00:00:00.000000")], None),
        ));
        let err = client(&server)
            .backups()
            .detail()
            .created_before(bound)
            .page_size(u32::try_from(first.len()).unwrap())
            .stream()
            .try_collect::<Vec<_>>()
            .await
            .expect_err("the server's order shows on page 2");
        assert_eq!(err.kind(), ErrorKind::Pagination, "{err}");
        assert!(err.to_string().contains("order"), "{err}");
        assert_eq!(server.request_count(), 2);
    }
}

/// Without an age window, a server that ignores the caller's `sort` (newest first instead
/// of oldest) is still walked: every backup once, in the server's order. Only a window,
/// whose early end relies on the order, refuses it (above).
#[tokio::test]
async fn a_server_ignoring_the_sort_is_walked_in_its_own_order_without_a_window() {
    let server = server(0).await;
    for body in [
        r#"{"backups": [{"id": "c", "status": "available", "created_at": "2024-01-03T00:00:00.000000"},
                        {"id": "b", "status": "available", "created_at": "2024-01-02T00:00:00.000000"}],
            "backups_links": [{"rel": "next", "href": "backups/detail?marker=b"}]}"#,
        r#"{"backups": [{"id": "a", "status": "available", "created_at": "2024-01-01T00:00:00.000000"}]}"#,
    ] {
        server.push_response(vbs_backups_testing::CannedResponse::json(200, body));
    }
    let listed = collect(
        client(&server)
            .backups()
            .detail()
            .sort(SortKey::CreatedAt, SortDir::Asc)
            .page_size(2),
    )
    .await;
    assert_eq!(listed, ["c", "b", "a"]);
}

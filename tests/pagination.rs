//! The pagination rules of DESIGN.md, each walked across real pages served on loopback.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use common::{client, collect, ids, listing_requests, server, truth_ids};
use futures::{StreamExt, TryStreamExt};
use vbs_backups::{BackupStatus, ErrorKind};
use vbs_backups_testing::{CannedResponse, FakeServer, Quirk};

async fn server_with(count: usize, quirks: &[Quirk]) -> FakeServer {
    let mut builder = FakeServer::builder().backups(count);
    for quirk in quirks {
        builder = builder.quirk(quirk.clone());
    }
    builder.start().await.expect("fake server starts")
}

/// Rule 1: filters, limit, offset and marker go on the first request to the collection URL.
#[tokio::test]
async fn first_request_carries_filters_limit_offset_and_marker() {
    let server = server(40).await;
    let truth = server.backups();
    let _ = client(&server)
        .backups()
        .name("spécial & name=1")
        .status(BackupStatus::Available)
        .volume_id(truth[0].volume_id.clone())
        .offset(3)
        .after(truth[1].id.clone())
        .page_size(17)
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect("listing succeeds");
    let first = &listing_requests(&server)[0];
    assert_eq!(first.path, format!("/v2/{}/backups", server.project_id()));
    assert_eq!(
        first.query_pairs(),
        [
            ("name", "spécial & name=1"),
            ("status", "available"),
            ("volume_id", truth[0].volume_id.as_str()),
            ("limit", "17"),
            ("offset", "3"),
            ("marker", truth[1].id.as_str()),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    assert_eq!(first.auth_token.as_deref(), server.token());
}

/// Rule 6: every item exactly once, in server order (ties on created_at included),
/// whatever the page size.
#[tokio::test]
async fn full_walks_yield_every_backup_once_in_server_order() {
    let server = server(2500).await;
    let truth = truth_ids(&server.backups());
    for page_size in [1000, 333, 2500] {
        let got = collect(client(&server).backups().page_size(page_size)).await;
        assert_eq!(ids(&got), truth, "page size {page_size}");
    }
    let small = server_with(60, &[]).await;
    for page_size in [1, 7] {
        let got = collect(client(&small).backups().page_size(page_size)).await;
        assert_eq!(
            ids(&got),
            truth_ids(&small.backups()),
            "page size {page_size}"
        );
    }
}

/// Rule 6: a page shorter than the limit asked for (the server capped it) is not the end.
#[tokio::test]
async fn a_capped_short_page_is_not_the_end() {
    let server = FakeServer::builder()
        .backups(45)
        .max_limit(10)
        .start()
        .await
        .expect("fake server starts");
    let got = collect(client(&server).backups().page_size(25)).await;
    assert_eq!(ids(&got), truth_ids(&server.backups()));
    let requests = listing_requests(&server);
    assert_eq!(requests.len(), 5, "10+10+10+10+5");
    assert!(
        requests
            .iter()
            .all(|r| r.param("limit").as_deref() == Some("25"))
    );
}

/// Rule 5/6: an exactly full last page links to an empty page, which ends the walk.
#[tokio::test]
async fn an_exactly_full_last_page_ends_on_the_empty_page_after_it() {
    let server = server(20).await;
    let pages: Vec<_> = client(&server)
        .backups()
        .page_size(10)
        .pages()
        .try_collect()
        .await
        .expect("listing succeeds");
    assert_eq!(
        pages.iter().map(|p| p.len()).collect::<Vec<_>>(),
        [9, 10, 1]
    );
    assert!(pages[2].next_link.is_none());
    assert_eq!(
        pages.iter().map(|p| p.number()).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(listing_requests(&server).len(), 3);
}

/// Rule 2: only the next href's query is used; host, scheme and path come from the
/// configured endpoint, and the token never reaches the host the link names.
#[tokio::test]
async fn next_links_are_followed_on_the_configured_origin_and_path() {
    let elsewhere = server(5).await;
    let other_host = elsewhere.addr().to_string();
    for quirk in [
        Quirk::NoVersionPrefix,
        Quirk::OtherHost(other_host),
        Quirk::HttpsScheme,
        Quirk::RelativeLink,
    ] {
        let server = server_with(23, std::slice::from_ref(&quirk)).await;
        let got = collect(client(&server).backups().page_size(5)).await;
        assert_eq!(ids(&got), truth_ids(&server.backups()), "{quirk:?}");
        let requests = server.requests();
        assert_eq!(requests.len(), 5, "{quirk:?}");
        let expected_path = format!("/v2/{}/backups", server.project_id());
        assert!(
            requests.iter().all(|r| r.path == expected_path),
            "{quirk:?}"
        );
    }
    assert_eq!(
        elsewhere.request_count(),
        0,
        "nothing may reach the linked host"
    );
}

/// Rule 3: offset applies to the first request only (Cinder's next links keep it,
/// and following them verbatim would skip items again on every page).
#[tokio::test]
async fn offset_is_sent_on_the_first_request_only() {
    let server = server(30).await;
    let truth = truth_ids(&server.backups());
    let got = collect(client(&server).backups().offset(2).page_size(5)).await;
    assert_eq!(ids(&got), truth[2..]);
    let requests = listing_requests(&server);
    assert_eq!(requests[0].param("offset").as_deref(), Some("2"));
    assert!(requests[1..].iter().all(|r| r.param("offset").is_none()));
}

/// Rule 4: the caller's filters and page size hold on every page even when the
/// next link drops them.
#[tokio::test]
async fn filters_and_page_size_hold_when_next_links_drop_them() {
    let server = server_with(200, &[Quirk::DropFilters]).await;
    let expected: Vec<_> = server
        .backups()
        .into_iter()
        .filter(|b| b.status == "error")
        .map(|b| b.id)
        .collect();
    assert!(expected.len() > 8, "the data set has enough error backups");
    let got = collect(
        client(&server)
            .backups()
            .status(BackupStatus::Error)
            .page_size(4),
    )
    .await;
    assert_eq!(ids(&got), expected);
    for request in listing_requests(&server) {
        assert_eq!(request.param("status").as_deref(), Some("error"));
        assert_eq!(request.param("limit").as_deref(), Some("4"));
    }
}

/// Rule 4: with max_items the last request asks only for what is missing, and no
/// page is fetched past it.
#[tokio::test]
async fn max_items_trims_the_last_request_and_stops() {
    let server = server(100).await;
    let truth = truth_ids(&server.backups());
    for (max_items, limits) in [
        (70, vec!["30", "30", "10"]),
        (60, vec!["30", "30"]),
        (0, vec![]),
        (500, vec!["30", "30", "30", "30"]),
    ] {
        server.clear_requests();
        let got = collect(client(&server).backups().page_size(30).max_items(max_items)).await;
        let expected = usize::try_from(max_items).expect("small").min(truth.len());
        assert_eq!(ids(&got), truth[..expected], "max_items {max_items}");
        let asked: Vec<_> = listing_requests(&server)
            .iter()
            .filter_map(|r| r.param("limit"))
            .collect();
        assert_eq!(asked, limits, "max_items {max_items}");
    }
}

/// Rule 4: a server that ignores `limit` still cannot push the walk past max_items.
#[tokio::test]
async fn max_items_holds_when_the_server_sends_more_than_asked() {
    let server = server(10).await;
    server.push_response(CannedResponse::json(
        200,
        r#"{"backups": [{"id": "a", "name": null}, {"id": "b", "name": null}, {"id": "c", "name": null}],
            "backups_links": [{"rel": "next", "href": "/v2/p/backups?marker=c"}]}"#,
    ));
    let got = collect(client(&server).backups().max_items(2)).await;
    assert_eq!(ids(&got), ["a", "b"]);
    assert_eq!(server.request_count(), 1);
}

/// Rule 5: a next link without a marker continues after the page's last item.
#[tokio::test]
async fn a_next_link_without_marker_falls_back_to_the_last_id() {
    let server = server_with(23, &[Quirk::NoMarker]).await;
    let got = collect(client(&server).backups().page_size(5)).await;
    assert_eq!(ids(&got), truth_ids(&server.backups()));
    let markers: Vec<_> = listing_requests(&server)
        .iter()
        .map(|r| r.param("marker"))
        .collect();
    let expected: Vec<_> = std::iter::once(None)
        .chain(
            got.chunks(5)
                .take(4)
                .map(|page| page.last().map(|b| b.id.clone())),
        )
        .collect();
    assert_eq!(markers, expected);
}

/// Collects a walk until its error, returning the ids delivered before it.
async fn ids_until_error(
    mut stream: vbs_backups::ItemStream<vbs_backups::BackupSummary>,
) -> (Vec<String>, vbs_backups::Error) {
    let mut delivered = Vec::new();
    loop {
        match stream.next().await {
            Some(Ok(backup)) => delivered.push(backup.id),
            Some(Err(err)) => {
                assert_eq!(err.resume_after(), stream.last_id());
                assert!(stream.next().await.is_none(), "ended streams stay ended");
                return (delivered, err);
            }
            None => panic!("the walk must not end quietly"),
        }
    }
}

fn page(ids: &[&str], next_marker: Option<&str>) -> CannedResponse {
    let items: Vec<String> = ids
        .iter()
        .map(|id| format!(r#"{{"id": "{id}", "name": null}}"#))
        .collect();
    let links = next_marker.map_or(String::new(), |marker| {
        format!(
            r#", "backups_links": [{{"rel": "next", "href": "/v2/p/backups?marker={marker}"}}]"#
        )
    });
    CannedResponse::json(
        200,
        format!(r#"{{"backups": [{}]{links}}}"#, items.join(", ")),
    )
}

/// Rule 5: a next link whose marker points inside its own page would repeat items:
/// the page is delivered, then the walk ends with an error.
#[tokio::test]
async fn a_marker_inside_the_page_ends_the_walk_without_repeats() {
    let server = server_with(50, &[Quirk::RepeatMarker]).await;
    let (delivered, err) = ids_until_error(client(&server).backups().page_size(5).stream()).await;
    assert_eq!(err.kind(), ErrorKind::Pagination);
    assert!(err.to_string().contains("inside the page"), "{err}");
    assert_eq!(delivered, truth_ids(&server.backups())[..5]);
    assert_eq!(server.request_count(), 1);
}

/// Rule 5: a marker followed once already is a server fault: both pages are
/// delivered, then the walk ends with an error instead of looping.
#[tokio::test]
async fn a_marker_followed_before_ends_the_walk() {
    let server = server(5).await;
    server.push_response(page(&["a", "b"], Some("b")));
    server.push_response(page(&["c", "d"], Some("b")));
    let (delivered, err) = ids_until_error(client(&server).backups().stream()).await;
    assert_eq!(delivered, ["a", "b", "c", "d"]);
    assert!(err.to_string().contains("again"), "{err}");
    assert_eq!(server.request_count(), 2);

    // The same for an empty page, and for the caller's own starting point.
    server.push_response(page(&["a", "b"], Some("b")));
    server.push_response(page(&[], Some("b")));
    let (delivered, err) = ids_until_error(client(&server).backups().stream()).await;
    assert_eq!(delivered, ["a", "b"]);
    assert_eq!(err.kind(), ErrorKind::Pagination);
    server.push_response(page(&["c"], Some("start")));
    let (delivered, err) = ids_until_error(client(&server).backups().after("start").stream()).await;
    assert_eq!(delivered, ["c"]);
    assert!(err.to_string().contains("again"), "{err}");
}

/// Rule 4: once max_items is reached the last page's next link is not even read.
#[tokio::test]
async fn a_walk_that_has_its_max_items_ignores_the_last_next_link() {
    let server = server(5).await;
    server.push_response(page(&["a", "b"], Some("a")));
    server.push_response(CannedResponse::json(
        200,
        r#"{"backups": [{"id": "c", "name": null}], "backups_links": [{"rel": "next", "href": "http://[oops/x"}]}"#,
    ));
    let got = collect(client(&server).backups().max_items(2)).await;
    assert_eq!(ids(&got), ["a", "b"]);
    let got = collect(client(&server).backups().max_items(1)).await;
    assert_eq!(ids(&got), ["c"]);
}

/// Rule 5: an empty page whose next link brings a new marker is followed.
#[tokio::test]
async fn empty_pages_that_link_on_are_followed() {
    let server = server_with(120, &[Quirk::EmptyPagesLinkOn]).await;
    let expected: Vec<_> = server
        .backups()
        .into_iter()
        .filter(|b| b.status == "deleting")
        .map(|b| b.id)
        .collect();
    let pages: Vec<_> = client(&server)
        .backups()
        .status("deleting")
        .page_size(3)
        .pages()
        .try_collect()
        .await
        .expect("listing succeeds");
    assert!(
        pages[..pages.len() - 1]
            .iter()
            .any(|p| p.is_empty() && p.next_link.is_some()),
        "the data set produces empty pages that link on"
    );
    let got: Vec<_> = pages.into_iter().flatten().collect();
    assert_eq!(ids(&got), expected);
}

/// Rule 5: an empty page with a next link but no marker cannot be continued.
#[tokio::test]
async fn an_empty_page_with_nowhere_to_go_is_an_error() {
    let server = server(10).await;
    server.push_response(CannedResponse::json(
        200,
        r#"{"backups": [], "backups_links": [{"rel": "next", "href": "http://127.0.0.1:1/v2/p/backups?limit=5"}]}"#,
    ));
    let err = client(&server)
        .backups()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("walk must fail");
    assert_eq!(err.kind(), ErrorKind::Pagination);
    assert!(err.to_string().contains("no marker"), "{err}");
    assert_eq!(server.request_count(), 1);
}

/// Rule 5: no next link ends the stream, even after a short page.
#[tokio::test]
async fn no_next_link_ends_the_walk() {
    let server = server(12).await;
    let got = collect(client(&server).backups().page_size(5)).await;
    assert_eq!(got.len(), 12);
    assert_eq!(
        listing_requests(&server).len(),
        3,
        "5 + 5 + 2, the short one has no link"
    );
}

//! Speculation: with room in the prefetch depth, the request a page's next link leads to
//! is sent while the page decodes. The witness is the order of events, never timing: a
//! recording authorizer sees each request start, so a request started for page N + 1
//! before page N failed to decode was sent while page N decoded. A guess that turns out
//! wrong changes nothing the consumer sees and costs at most one request.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use std::sync::{Arc, Mutex};

use futures::future::{self, BoxFuture};
use futures::{StreamExt, TryStreamExt};
use vbs_backups::{Authorizer, Client, ErrorKind, OutgoingRequest, Rejection};
use vbs_backups_testing::{CannedResponse, FakeServer, Quirk};

use common::{ids, listing_requests, truth_ids};

/// Adds the server's token and records the query of every request it authorizes, in
/// the order the requests start.
#[derive(Clone)]
struct Recorder {
    token: String,
    started: Arc<Mutex<Vec<String>>>,
}

impl Authorizer for Recorder {
    fn authorize<'a>(
        &'a self,
        request: &'a mut OutgoingRequest,
    ) -> BoxFuture<'a, vbs_backups::Result<()>> {
        self.started
            .lock()
            .unwrap()
            .push(request.query().to_owned());
        Box::pin(future::ready(
            request.set_header("X-Auth-Token", &self.token),
        ))
    }

    fn unauthorized<'a>(
        &'a self,
        _: &'a Rejection<'a>,
    ) -> BoxFuture<'a, vbs_backups::Result<bool>> {
        Box::pin(future::ready(Ok(false)))
    }
}

fn recorded_client(server: &FakeServer) -> (Client, Arc<Mutex<Vec<String>>>) {
    let recorder = Recorder {
        token: server.token().unwrap_or_default().to_owned(),
        started: Arc::default(),
    };
    let started = recorder.started.clone();
    let client = Client::builder()
        .endpoint(server.endpoint())
        .project_id(server.project_id())
        .authorizer(recorder)
        .build()
        .unwrap();
    (client, started)
}

/// A page body of these ids that links on after `next_marker`, with `extra` fields
/// appended (raw JSON, each starting with a comma).
fn page_body(ids: &[String], server: &FakeServer, next_marker: &str, extra: &str) -> String {
    let items: Vec<String> = ids
        .iter()
        .map(|id| format!(r#"{{"id": "{id}", "name": null, "links": []}}"#))
        .collect();
    format!(
        r#"{{"backups": [{}], "backups_links": [{{"rel": "next", "href": "{}/v2/{}/backups?limit=10&marker={next_marker}"}}]{extra}}}"#,
        items.join(", "),
        server.endpoint(),
        server.project_id()
    )
}

/// Page 2 of 10 (`truth[10..20]`), linking on after its last backup, but with one item
/// whose id is not a string: it cannot be decoded, so whatever a walk sent for page 3 was
/// sent before its decode.
fn undecodable_page_two(truth: &[String], server: &FakeServer) -> String {
    let page = page_body(&truth[10..20], server, &truth[19], "");
    page.replacen(&format!(r#""id": "{}""#, truth[12]), r#""id": 12"#, 1)
}

#[tokio::test]
async fn with_room_ahead_the_next_request_starts_before_the_page_linking_to_it_is_decoded() {
    let server = common::server(30).await;
    let truth = truth_ids(&server.backups());
    let broken = undecodable_page_two(&truth, &server);
    for (prefetch, expected_starts) in [(1, 2), (3, 3)] {
        server.clear_requests();
        server.push_response(CannedResponse::passthrough());
        server.push_response(CannedResponse::json(200, broken.clone()));
        let (client, started) = recorded_client(&server);
        let mut pages = client.backups().page_size(10).prefetch(prefetch).pages();
        let first = pages.next().await.expect("a page").expect("page 1 decodes");
        assert_eq!(first.len(), 9, "its last backup is held back for page 2");
        let err = pages
            .next()
            .await
            .expect("an error")
            .expect_err("page 2 fails");
        assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
        let started = started.lock().unwrap().clone();
        assert_eq!(
            started.len(),
            expected_starts,
            "prefetch {prefetch}: {started:?}"
        );
        if expected_starts == 3 {
            assert!(
                started[2].ends_with(&format!("marker={}", truth[19])),
                "page 3 was asked for after page 2's last backup: {started:?}"
            );
        }
    }
}

/// With the default prefetch of one page, an item stream whose consumer waits for the
/// next page holds none: the page being decoded is the one it waits for, so the next
/// request goes out during its decode. A consumer of whole pages may keep the pages it
/// was given, so its walk never runs a page further ahead.
#[tokio::test]
async fn a_waiting_item_consumer_leaves_room_for_the_next_request_at_prefetch_one() {
    let server = common::server(30).await;
    let truth = truth_ids(&server.backups());
    server.push_response(CannedResponse::passthrough());
    server.push_response(CannedResponse::json(
        200,
        undecodable_page_two(&truth, &server),
    ));
    let (client, started) = recorded_client(&server);
    let mut backups = client.backups().page_size(10).stream();
    for expected in &truth[..9] {
        assert_eq!(
            &backups.next().await.expect("an item").expect("page 1").id,
            expected
        );
    }
    let err = backups
        .next()
        .await
        .expect("an error")
        .expect_err("page 2 fails");
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    let started = started.lock().unwrap().clone();
    assert_eq!(started.len(), 3, "{started:?}");
    assert!(
        started[2].ends_with(&format!("marker={}", truth[19])),
        "page 3 was asked for while page 2 decoded: {started:?}"
    );
}

#[tokio::test]
async fn a_walk_with_room_ahead_asks_for_each_page_once_in_order() {
    let server = common::server(100).await;
    let (client, started) = recorded_client(&server);
    let got: Vec<_> = client
        .backups()
        .page_size(10)
        .prefetch(3)
        .stream()
        .try_collect()
        .await
        .expect("listing succeeds");
    let truth = truth_ids(&server.backups());
    assert_eq!(ids(&got), truth);
    let markers: Vec<Option<String>> = listing_requests(&server)
        .iter()
        .map(|request| request.param("marker"))
        .collect();
    let expected: Vec<Option<String>> = std::iter::once(None)
        .chain((1..=10).map(|page| Some(truth[page * 10 - 1].clone())))
        .collect();
    assert_eq!(markers, expected, "ten full pages and the empty one");
    assert_eq!(
        started.lock().unwrap().len(),
        11,
        "no request started twice"
    );
}

#[tokio::test]
async fn a_wrong_guess_is_dropped_and_the_walk_goes_on_by_the_rules() {
    let server = common::server(30).await;
    let truth = truth_ids(&server.backups());
    // The page's own next link says `truth[9]`; a `backups_links` nested further on,
    // which the cheap search finds and the decoder ignores, says `truth[3]`.
    let nested = format!(
        r#", "meta": {{"backups_links": [{{"rel": "next", "href": "backups?marker={}"}}]}}"#,
        truth[3]
    );
    server.push_response(CannedResponse::json(
        200,
        page_body(&truth[..10], &server, &truth[9], &nested),
    ));
    let (client, _) = recorded_client(&server);
    let got: Vec<_> = client
        .backups()
        .page_size(10)
        .prefetch(3)
        .stream()
        .try_collect()
        .await
        .expect("listing succeeds");
    assert_eq!(ids(&got), truth, "every backup once, in order");
    let requests = listing_requests(&server);
    let (wasted, walked): (Vec<_>, Vec<_>) = requests
        .iter()
        .partition(|request| request.param("marker").as_deref() == Some(truth[3].as_str()));
    assert!(wasted.len() <= 1, "a wrong guess costs at most one request");
    let markers: Vec<Option<String>> = walked.iter().map(|r| r.param("marker")).collect();
    assert_eq!(
        markers,
        [
            None,
            Some(truth[9].clone()),
            Some(truth[19].clone()),
            Some(truth[29].clone())
        ],
        "the walk asked what the rules derive"
    );
}

#[tokio::test]
async fn a_server_that_repeats_its_next_link_ends_the_walk_as_without_room_ahead() {
    for prefetch in [1, 3] {
        let server = FakeServer::builder()
            .backups(5)
            .quirk(Quirk::RepeatMarker)
            .start()
            .await
            .unwrap();
        let (client, started) = recorded_client(&server);
        let mut backups = client.backups().page_size(1).prefetch(prefetch).stream();
        let mut got = Vec::new();
        let err = loop {
            match backups.next().await.expect("an item or the error") {
                Ok(backup) => got.push(backup.id),
                Err(err) => break err,
            }
        };
        assert_eq!(err.kind(), ErrorKind::Pagination, "{err}");
        assert!(err.to_string().contains("again"), "{err}");
        // Page 2 is handed out, then the walk stops: it would never end.
        assert_eq!(
            got,
            truth_ids(&server.backups())[..2],
            "prefetch {prefetch}"
        );
        // Page 2 links to the marker followed already: nothing is sent for it.
        assert_eq!(server.request_count(), 2, "prefetch {prefetch}");
        assert_eq!(started.lock().unwrap().len(), 2, "prefetch {prefetch}");
    }
}

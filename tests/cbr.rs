//! Huawei CBR behind the same stream, against the fake server's CBR mode
//! (`FakeServerBuilder::cbr`): `marker` = the last id, no next links, the end on an empty
//! page or on a short page once `count` is reached, and every rule of DESIGN.md that
//! applies (offset only first, filters every page, `max_items`, loop detection, exactly
//! once, prefetch, cancellation, cursor and resume), plus a signed walk through the
//! Huawei gateway.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use vbs_backups::{
    ApiVersion, CbrBackup, CbrBackupStatus, CbrSortKey, Client, Cursor, ErrorKind, ListCbrBackups,
    SortDir,
};
use vbs_backups_testing::{CBR_VAULTS, CannedResponse, FakeCbrBackup, FakeServer, RecordedRequest};

async fn cbr_server(count: usize) -> FakeServer {
    FakeServer::builder()
        .backups(count)
        .cbr()
        .start()
        .await
        .expect("fake server starts")
}

fn cbr_client(server: &FakeServer) -> Client {
    common::builder(server)
        .api_version(ApiVersion::V3)
        .build()
        .expect("client for the fake server")
}

async fn collect(listing: ListCbrBackups) -> Vec<CbrBackup> {
    listing
        .stream()
        .try_collect()
        .await
        .expect("listing succeeds")
}

fn ids(backups: &[CbrBackup]) -> Vec<String> {
    backups.iter().map(|b| b.id.clone()).collect()
}

fn truth(server: &FakeServer, keep: impl Fn(&FakeCbrBackup) -> bool) -> Vec<String> {
    server
        .cbr_backups()
        .into_iter()
        .filter(|b| keep(b))
        .map(|b| b.id)
        .collect()
}

fn requests(server: &FakeServer) -> Vec<RecordedRequest> {
    common::listing_requests(server)
}

fn params(request: &RecordedRequest, key: &str) -> Vec<String> {
    request
        .query_pairs()
        .into_iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v)
        .collect()
}

/// Polls `done` until it holds; the test's own timeout is the bound.
async fn until(mut done: impl FnMut() -> bool) {
    while !done() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn every_backup_once_in_order_across_page_sizes() {
    let server = cbr_server(120).await;
    let client = cbr_client(&server);
    let expected = truth(&server, |_| true);
    for page_size in [1_u32, 7, 1000, 120] {
        server.clear_requests();
        let got = collect(client.cbr_backups().page_size(page_size)).await;
        assert_eq!(ids(&got), expected, "page size {page_size}");
        let sent = requests(&server);
        let pages = 120_u32.div_ceil(page_size) as usize;
        // A full last page needs the empty page after it; a short one ends on `count`.
        let extra = usize::from(120 % page_size == 0);
        assert_eq!(sent.len(), pages + extra, "page size {page_size}");
        for request in &sent {
            assert_eq!(request.path, format!("/v3/{}/backups", server.project_id()));
            assert_eq!(params(request, "limit"), [page_size.to_string()]);
        }
    }
}

#[tokio::test]
async fn a_full_page_goes_on_with_the_last_id_and_the_empty_page_ends_the_walk() {
    let server = cbr_server(10).await;
    let got = collect(cbr_client(&server).cbr_backups().page_size(5)).await;
    let sent = requests(&server);
    assert_eq!(sent.len(), 3, "two full pages, then the empty one");
    assert_eq!(params(&sent[0], "marker"), Vec::<String>::new());
    assert_eq!(params(&sent[1], "marker"), [got[4].id.clone()]);
    assert_eq!(params(&sent[2], "marker"), [got[9].id.clone()]);
}

#[tokio::test]
async fn a_short_page_ends_the_walk_once_count_is_reached() {
    let server = cbr_server(10).await;
    let got = collect(cbr_client(&server).cbr_backups().page_size(4)).await;
    assert_eq!(got.len(), 10);
    assert_eq!(requests(&server).len(), 3, "4 + 4 + 2, and no empty page");
}

#[tokio::test]
async fn a_short_page_without_count_goes_on_to_the_empty_page() {
    let server = cbr_server(0).await;
    for body in [
        r#"{"backups": [{"id": "a", "status": "available"}, {"id": "b", "status": "error"}]}"#,
        r#"{"backups": [{"id": "c", "status": "protecting"}]}"#,
        r#"{"backups": []}"#,
    ] {
        server.push_response(CannedResponse::json(200, body));
    }
    let got = collect(cbr_client(&server).cbr_backups().page_size(5)).await;
    assert_eq!(ids(&got), ["a", "b", "c"]);
    let sent = requests(&server);
    assert_eq!(sent.len(), 3);
    assert_eq!(params(&sent[1], "marker"), ["b"]);
    assert_eq!(params(&sent[2], "marker"), ["c"]);
}

#[tokio::test]
async fn a_server_repeating_a_page_ends_the_walk_before_handing_anything_out_twice() {
    let server = cbr_server(0).await;
    let page = r#"{"backups": [{"id": "a", "status": "available"}, {"id": "b", "status": "available"}], "count": 10}"#;
    for _ in 0..3 {
        server.push_response(CannedResponse::json(200, page));
    }
    let mut stream = cbr_client(&server).cbr_backups().page_size(2).stream();
    let mut delivered = Vec::new();
    let err = loop {
        match stream.next().await.expect("the walk ends with an error") {
            Ok(backup) => delivered.push(backup.id),
            Err(err) => break err,
        }
    };
    assert_eq!(err.kind(), ErrorKind::Pagination);
    assert!(err.to_string().contains("passed already"), "{err}");
    // `b` is the marker of page 2, held back until page 2 came; page 2 repeats page 1,
    // so nothing of it is handed out, and the cursor resumes after `a`.
    assert_eq!(delivered, ["a"], "nothing twice");
    assert_eq!(err.cursor().and_then(|cursor| cursor.after()), Some("a"));
    assert_eq!(requests(&server).len(), 2, "no third request");
    assert!(stream.next().await.is_none(), "fused after the error");
}

#[tokio::test]
async fn the_first_request_carries_filters_limit_offset_and_marker_and_later_ones_drop_offset() {
    let server = cbr_server(200).await;
    let all = server.cbr_backups();
    let after = all[3].id.clone();
    let vault = CBR_VAULTS[0];
    let keep =
        |b: &FakeCbrBackup| b.vault_id == vault && ["available", "error"].contains(&b.status);
    let expected: Vec<String> = all[4..]
        .iter()
        .filter(|b| keep(b))
        .skip(2)
        .map(|b| b.id.clone())
        .collect();
    assert!(expected.len() > 20, "enough matches for several pages");
    let got = collect(
        cbr_client(&server)
            .cbr_backups()
            .vault_id(vault)
            .status(CbrBackupStatus::Available)
            .status("error")
            .resource_type("OS::Cinder::Volume")
            .offset(2)
            .after(&after)
            .page_size(6),
    )
    .await;
    assert_eq!(ids(&got), expected);
    let sent = requests(&server);
    // `count` counts matches before the marker too, which this walk never saw: it ends
    // on the empty page rather than on its short last page.
    assert_eq!(sent.len(), expected.len().div_ceil(6) + 1);
    let first = &sent[0];
    assert_eq!(params(first, "offset"), ["2"]);
    assert_eq!(params(first, "marker"), [after]);
    assert_eq!(params(first, "limit"), ["6"]);
    for (number, request) in sent.iter().enumerate() {
        assert_eq!(params(request, "vault_id"), [vault], "request {number}");
        assert_eq!(
            params(request, "status"),
            ["available", "error"],
            "request {number}"
        );
        assert_eq!(
            params(request, "resource_type"),
            ["OS::Cinder::Volume"],
            "request {number}"
        );
        assert_eq!(params(request, "limit"), ["6"], "request {number}");
        if number > 0 {
            assert!(params(request, "offset").is_empty(), "offset only first");
            assert_eq!(
                params(request, "marker"),
                [got[(number * 6).min(got.len()) - 1].id.clone()],
                "marker = the last id"
            );
        }
    }
}

#[tokio::test]
async fn repeated_status_appends_and_other_filters_replace() {
    let server = cbr_server(150).await;
    let listing = cbr_client(&server)
        .cbr_backups()
        .status(CbrBackupStatus::Protecting)
        .status(CbrBackupStatus::WaitingRestore)
        .name("ignored")
        .name("weekly");
    let got = collect(listing.page_size(10)).await;
    let expected = truth(&server, |b| {
        ["protecting", "waiting_restore"].contains(&b.status) && b.name.as_deref() == Some("weekly")
    });
    assert_eq!(ids(&got), expected);
    let first = &requests(&server)[0];
    assert_eq!(params(first, "status"), ["protecting", "waiting_restore"]);
    assert_eq!(params(first, "name"), ["weekly"]);
}

#[tokio::test]
async fn time_window_image_type_and_sort_are_sent_as_cbr_reads_them() {
    let server = cbr_server(120).await;
    let all = server.cbr_backups();
    // The data set is newest first: a window over the middle of it.
    let parse = |naive: &str| -> jiff::Timestamp {
        let time: jiff::civil::DateTime = naive.parse().unwrap();
        jiff::tz::Offset::UTC.to_timestamp(time).unwrap()
    };
    let end = parse(&all[20].created_at);
    let start = parse(&all[90].created_at);
    let got = collect(
        cbr_client(&server)
            .cbr_backups()
            .start_time(start)
            .end_time(end)
            .image_type("backup")
            .sort(CbrSortKey::CreatedAt, SortDir::Asc)
            .sort(CbrSortKey::Id, SortDir::Asc)
            .page_size(9),
    )
    .await;
    let first = &requests(&server)[0];
    assert_eq!(params(first, "sort"), ["created_at:asc,id:asc"]);
    let start_sent = params(first, "start_time");
    assert_eq!(start_sent.len(), 1);
    assert!(
        start_sent[0].ends_with('Z') && start_sent[0].len() == 20,
        "{start_sent:?}"
    );
    // The data set's times are whole seconds, so the window sent is exact.
    let in_window = |b: &FakeCbrBackup| {
        let created = parse(&b.created_at);
        created >= start && created <= end && b.image_type == "backup"
    };
    let mut expected: Vec<&FakeCbrBackup> = all.iter().filter(|b| in_window(b)).collect();
    expected.sort_by(|a, b| (parse(&a.created_at), &a.id).cmp(&(parse(&b.created_at), &b.id)));
    let expected: Vec<String> = expected.into_iter().map(|b| b.id.clone()).collect();
    assert!(expected.len() > 20);
    assert_eq!(ids(&got), expected);
}

#[tokio::test]
async fn max_items_trims_the_last_request() {
    let server = cbr_server(50).await;
    let got = collect(
        cbr_client(&server)
            .cbr_backups()
            .page_size(10)
            .max_items(23),
    )
    .await;
    assert_eq!(ids(&got), truth(&server, |_| true)[..23]);
    let limits: Vec<Vec<String>> = requests(&server)
        .iter()
        .map(|r| params(r, "limit"))
        .collect();
    assert_eq!(limits, [["10"], ["10"], ["3"]]);
}

#[tokio::test]
async fn total_comes_from_count_on_the_first_page() {
    let server = cbr_server(40).await;
    let mut stream = cbr_client(&server)
        .cbr_backups()
        .status("available")
        .page_size(5)
        .stream();
    assert_eq!(stream.total(), None, "nothing fetched yet");
    stream.next().await.expect("an item").expect("no error");
    let expected = truth(&server, |b| b.status == "available").len() as u64;
    assert_eq!(stream.total(), Some(expected));
}

#[tokio::test]
async fn page_sizes_over_cbr_s_limit_are_refused_before_any_request() {
    let server = cbr_server(10).await;
    let mut stream = cbr_client(&server).cbr_backups().page_size(1001).stream();
    let err = stream.next().await.expect("an error").expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("at most 1000"), "{err}");
    assert_eq!(server.request_count(), 0);
    // The fake refuses it as CBR does, with its own error shape.
    let url = format!(
        "{}/v3/{}/backups?limit=1001",
        server.endpoint(),
        server.project_id()
    );
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(url)
        .header("X-Auth-Token", server.token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert!(
        body["error_code"]
            .as_str()
            .unwrap()
            .starts_with("BackupService.")
    );
}

#[tokio::test]
async fn a_cbr_error_reaches_the_caller_with_code_and_message() {
    let server = cbr_server(10).await;
    let err = cbr_client(&server)
        .cbr_backups()
        .own_type("everyone")
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("refused");
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.code(), Some("BackupService.0005"));
    assert!(err.message().contains("own_type"), "{err}");
}

#[tokio::test]
async fn prefetch_fetches_at_most_that_many_pages_ahead() {
    let server = cbr_server(100).await;
    for prefetch in [0_usize, 1, 3] {
        server.clear_requests();
        let mut backups = cbr_client(&server)
            .cbr_backups()
            .page_size(10)
            .prefetch(prefetch)
            .stream();
        backups.next().await.expect("an item").expect("no error");
        until(|| server.request_count() == 1 + prefetch).await;
        // Let any request beyond the bound happen, if the stream were to send it.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(server.request_count(), 1 + prefetch, "prefetch {prefetch}");
        let rest: Vec<_> = backups.try_collect().await.expect("listing succeeds");
        assert_eq!(rest.len(), 99);
        assert_eq!(
            server.request_count(),
            11,
            "ten full pages and the empty one"
        );
    }
}

#[tokio::test]
async fn dropping_the_stream_cancels_the_request_in_flight_and_sends_no_more() {
    let server = cbr_server(100).await;
    let mut backups = cbr_client(&server)
        .cbr_backups()
        .page_size(10)
        .prefetch(0)
        .stream();
    // The first page's nine: its tenth, the next marker, comes with the next page.
    for _ in 0..9 {
        backups.next().await.expect("an item").expect("no error");
    }
    server.set_latency(Duration::from_secs(30));
    tokio::select! {
        _ = backups.next() => panic!("the page cannot come before the latency"),
        () = until(|| server.request_count() == 2) => {}
    }
    drop(backups);
    until(|| server.abandoned_requests() == 1).await;
    assert_eq!(server.request_count(), 2, "nothing after the drop");
}

#[tokio::test]
async fn a_cursor_resumes_exactly_where_the_walk_stood() {
    let server = cbr_server(60).await;
    let client = cbr_client(&server);
    let expected = truth(&server, |b| b.status != "deleting");
    let listing = client
        .cbr_backups()
        .status("available")
        .status("error")
        .status("protecting")
        .status("restoring")
        .status("waiting_restore")
        .page_size(7);
    let mut stream = listing.stream();
    let mut got = Vec::new();
    for _ in 0..17 {
        got.push(stream.next().await.expect("an item").expect("no error").id);
    }
    let saved = stream.cursor().to_string();
    drop(stream);
    let cursor: Cursor = saved.parse().expect("the cursor's string form parses");
    server.clear_requests();
    let rest = collect(client.resume_cbr(cursor.clone()).expect("resumes")).await;
    got.extend(ids(&rest));
    assert_eq!(got, expected, "every backup once, in order");
    let first = &requests(&server)[0];
    assert_eq!(
        params(first, "status").len(),
        5,
        "the filters come back as data"
    );
    assert_eq!(params(first, "limit"), ["7"]);
    // A CBR cursor is not a Cinder one, and the other way round.
    let err = client.resume(cursor).expect_err("not a Cinder walk");
    assert_eq!(err.kind(), ErrorKind::Config);
    let cinder = client.backups().stream().cursor();
    let err = client.resume_cbr(cinder).expect_err("not a CBR walk");
    assert_eq!(err.kind(), ErrorKind::Config);
}

#[tokio::test]
async fn a_vanished_marker_steps_back_like_cinder_s() {
    let server = cbr_server(30).await;
    let mut stream = cbr_client(&server)
        .cbr_backups()
        .page_size(5)
        .prefetch(0)
        .stream();
    let mut got = Vec::new();
    for _ in 0..5 {
        got.push(stream.next().await.expect("an item").expect("no error").id);
    }
    assert!(server.delete_backup(&got[4]), "the marker goes away");
    while let Some(backup) = stream.next().await {
        got.push(backup.expect("the walk steps back").id);
    }
    let mut expected = truth(&server, |_| true);
    expected.insert(4, got[4].clone());
    assert_eq!(got, expected);
}

#[cfg(feature = "huawei")]
mod huawei {
    use super::*;
    use vbs_backups::huawei::{HuaweiConfig, Service};
    use vbs_backups_testing::HuaweiGateway;

    const AK: &str = "HPUAFAKEACCESSKEY0001";
    const SK: &str = "fake-secret-key-never-printed";

    #[tokio::test]
    async fn a_signed_walk_through_the_gateway_with_cbr_s_filters() {
        let server = FakeServer::builder()
            .backups(300)
            .cbr()
            .huawei(HuaweiGateway::new(AK, SK))
            .start()
            .await
            .expect("fake server starts");
        let env = vec![
            ("HUAWEICLOUD_SDK_AK".to_owned(), AK.to_owned()),
            ("HUAWEICLOUD_SDK_SK".to_owned(), SK.to_owned()),
            ("HUAWEICLOUD_SDK_IAM_ENDPOINT".to_owned(), server.endpoint()),
            (
                "HUAWEICLOUD_SDK_REGION_CBR_CN_NORTH_4".to_owned(),
                server.endpoint(),
            ),
        ];
        let client = HuaweiConfig::from_env_vars(env)
            .region("cn-north-4")
            .service(Service::Cbr)
            .connect()
            .await
            .expect("connects");
        assert_eq!(client.api_version(), ApiVersion::V3);
        server.throttle_next(1);
        let start: jiff::Timestamp = "2000-01-01T00:00:00Z".parse().unwrap();
        let got = collect(
            client
                .cbr_backups()
                .status(CbrBackupStatus::Available)
                .status(CbrBackupStatus::Error)
                .start_time(start)
                .resource_type("OS::Cinder::Volume")
                .enterprise_project_id("all_granted_eps")
                .page_size(7),
        )
        .await;
        let expected = truth(&server, |b| ["available", "error"].contains(&b.status));
        assert!(expected.len() > 50);
        assert_eq!(ids(&got), expected, "every backup once, in order");
        assert_eq!(server.signatures_refused(), 0);
        let sent = requests(&server);
        let pages = expected.len().div_ceil(7) + usize::from(expected.len() % 7 == 0);
        assert_eq!(sent.len(), pages + 1, "and one throttled retry");
        for request in &sent {
            assert!(
                request
                    .header("authorization")
                    .is_some_and(|value| value.starts_with("SDK-HMAC-SHA256 ")),
                "signed"
            );
            assert_eq!(request.header("x-project-id"), Some(server.project_id()));
            let raw = request.raw_query.as_deref().unwrap_or_default();
            assert!(raw.contains("start_time=2000-01-01T00%3A00%3A00Z"), "{raw}");
        }
        // The signatures the gateway checked: every listing request and IAM's.
        assert_eq!(server.signatures_verified() as usize, sent.len() + 1);
    }
}

/// `created_before(t)` and `created_after(t)` split CBR's backups in two without overlap,
/// though CBR's `end_time` takes in the second it names: the client drops what the
/// server's inclusive, whole-second bounds let through.
#[tokio::test]
async fn created_before_and_created_after_the_same_time_are_disjoint() {
    let server = cbr_server(60).await;
    let all = server.cbr_backups();
    let parse = |naive: &str| -> jiff::Timestamp {
        let time: jiff::civil::DateTime = naive.parse().unwrap();
        jiff::tz::Offset::UTC.to_timestamp(time).unwrap()
    };
    let at = parse(&all[30].created_at);
    let between = at + jiff::SignedDuration::from_millis(500);
    let system_time = |t: jiff::Timestamp| {
        let nanos = u64::try_from(t.as_nanosecond()).unwrap();
        std::time::SystemTime::UNIX_EPOCH + Duration::from_nanos(nanos)
    };
    for t in [at, between] {
        let client = cbr_client(&server);
        let before = collect(
            client
                .cbr_backups()
                .created_before(system_time(t))
                .page_size(7),
        )
        .await;
        let after = collect(
            client
                .cbr_backups()
                .created_after(system_time(t))
                .page_size(7),
        )
        .await;
        let (before, after) = (ids(&before), ids(&after));
        assert!(
            before.iter().all(|id| !after.contains(id)),
            "at {t}: {before:?} and {after:?} overlap"
        );
        let mut both: Vec<String> = before.iter().chain(&after).cloned().collect();
        both.sort();
        let mut every: Vec<String> = all.iter().map(|b| b.id.clone()).collect();
        every.sort();
        assert_eq!(both, every, "at {t}: no backup is lost either");
        let exactly_at = &all[30].id;
        assert_eq!(after.contains(exactly_at), t == at, "at {t}");
        assert!(before.iter().all(|id| {
            let created = parse(&all.iter().find(|b| &b.id == id).unwrap().created_at);
            created < t
        }));
    }
    // CBR is asked for a superset, in its own terms: whole seconds, rounded outwards.
    let recorded = requests(&server);
    let sent: Vec<String> = recorded
        .iter()
        .flat_map(|r| {
            params(r, "end_time")
                .into_iter()
                .chain(params(r, "start_time"))
        })
        .collect();
    let second = |t: jiff::Timestamp| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    assert!(sent.contains(&second(at)), "{sent:?}");
    assert!(
        sent.contains(&second(at + jiff::SignedDuration::from_secs(1))),
        "the end of a window between seconds is the next second: {sent:?}"
    );
}

//! The fake server's listing over HTTP: Cinder's page shape, limits, markers, offsets and
//! filters, quirks, authentication, canned and faulty responses, latency, the request log, the
//! generated data, and backups deleted or created while a client pages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

mod common;

use std::time::Duration;

use common::*;
use vbs_backups_testing::{CannedResponse, FakeBackup, FakeServer, Quirk};

#[tokio::test]
async fn first_page_has_cinder_shape_and_headers() {
    let server = FakeServer::builder().start().await.unwrap();
    let all = server.backups();
    assert_eq!(all.len(), 25);
    let base = collection(&server, "v3");

    let reply = get_url(&server, &format!("{base}?limit=3")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("openstack-api-version"), Some("volume 3.0"));
    assert_eq!(reply.header("vary"), Some("OpenStack-API-Version"));
    let request_id = reply.header("x-openstack-request-id").unwrap();
    assert!(request_id.starts_with("req-") && request_id.len() == 40);
    assert!(reply.text.starts_with(r#"{"backups": [{"id": ""#));

    let page = reply.json();
    assert_eq!(ids(&page), all_ids(&all[..3]));
    let origin = format!("http://{}", server.addr());
    for (item, backup) in page["backups"].as_array().unwrap().iter().zip(&all) {
        let keys: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 3);
        assert_eq!(item["name"], serde_json::json!(backup.name));
        let project = server.project_id();
        let id = &backup.id;
        assert_eq!(
            item["links"],
            serde_json::json!([
                {"rel": "self", "href": format!("{origin}/v3/{project}/backups/{id}")},
                {"rel": "bookmark", "href": format!("{origin}/{project}/backups/{id}")},
            ])
        );
    }
    assert_eq!(
        next(&page).unwrap(),
        format!("{base}?limit=3&marker={}", all[2].id)
    );

    let v2 = get(
        &server,
        &format!("/v2/{}/backups?limit=1", server.project_id()),
    )
    .await;
    assert_eq!(v2.status, 200);
    assert_eq!(v2.header("openstack-api-version"), None);
    let second_id = v2.header("x-openstack-request-id").unwrap();
    assert_ne!(second_id, request_id);
    let page = v2.json();
    assert!(
        page["backups"][0]["links"][0]["href"]
            .as_str()
            .unwrap()
            .contains("/v2/")
    );
    assert!(next(&page).unwrap().starts_with(&collection(&server, "v2")));
}

#[tokio::test]
async fn following_links_verbatim_yields_every_backup_in_server_order() {
    let server = FakeServer::builder().start().await.unwrap();
    let (seen, sizes) = walk(&server, format!("{}?limit=4", collection(&server, "v3"))).await;
    assert_eq!(seen, all_ids(&server.backups()));
    assert_eq!(sizes, [4, 4, 4, 4, 4, 4, 1]);

    let server = FakeServer::builder()
        .backups(1000)
        .max_limit(300)
        .start()
        .await
        .unwrap();
    let (seen, sizes) = walk(&server, collection(&server, "v2")).await;
    assert_eq!(seen, all_ids(&server.backups()));
    assert_eq!(sizes, [300, 300, 300, 100]);
}

#[tokio::test]
async fn limit_is_capped_but_kept_in_the_next_link() {
    let server = FakeServer::builder().max_limit(5).start().await.unwrap();
    let all = server.backups();
    let base = collection(&server, "v3");

    let page = get_url(&server, &format!("{base}?limit=50")).await.json();
    assert_eq!(ids(&page), all_ids(&all[..5]));
    assert_eq!(
        next(&page).unwrap(),
        format!("{base}?limit=50&marker={}", all[4].id)
    );

    let page = get_url(&server, &base).await.json();
    assert_eq!(ids(&page), all_ids(&all[..5]));
    assert_eq!(next(&page).unwrap(), format!("{base}?marker={}", all[4].id));

    let page = get_url(&server, &format!("{base}?limit=%2B2")).await.json();
    assert_eq!(ids(&page).len(), 2);
}

#[tokio::test]
async fn limit_zero_gives_an_empty_list_without_links() {
    let server = FakeServer::builder().start().await.unwrap();
    let reply = get_url(&server, &format!("{}?limit=0", collection(&server, "v3"))).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text, r#"{"backups": []}"#);
}

#[tokio::test]
async fn invalid_limit_and_offset_are_cinder_400s() {
    let server = FakeServer::builder().start().await.unwrap();
    let base = collection(&server, "v3");
    let cases = [
        ("limit=abc", "limit param must be an integer"),
        ("limit=1.5", "limit param must be an integer"),
        ("limit=", "limit param must be an integer"),
        ("limit=-1", "limit param must be positive"),
        ("offset=abc", "offset must be an integer"),
        ("offset=", "offset must be an integer"),
        ("offset=-1", "offset must be >= 0"),
        ("offset=2147483648", "offset must be <= 2147483647"),
        ("offset=-1&limit=x", "limit param must be an integer"),
    ];
    for (query, message) in cases {
        let reply = get_url(&server, &format!("{base}?{query}")).await;
        assert_eq!(reply.status, 400, "{query}");
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(reply.text, bad_request(message), "{query}");
    }
}

#[tokio::test]
async fn unknown_marker_is_item_not_found() {
    let server = FakeServer::builder().start().await.unwrap();
    let base = collection(&server, "v3");
    let missing = "00000000-0000-0000-0000-000000000000";
    let reply = get_url(&server, &format!("{base}?marker={missing}")).await;
    assert_eq!(reply.status, 404);
    assert_eq!(
        reply.text,
        format!(
            r#"{{"itemNotFound": {{"code": 404, "message": "Backup {missing} could not be found."}}}}"#
        )
    );
    let reply = get_url(&server, &format!("{base}?marker=")).await;
    assert_eq!(reply.status, 404);
    assert!(reply.text.contains("Backup  could not be found."));

    let oldest = server.backups().pop().unwrap().id;
    let reply = get_url(&server, &format!("{base}?marker={oldest}")).await;
    assert_eq!(
        (reply.status, reply.text.as_str()),
        (200, r#"{"backups": []}"#)
    );
}

#[tokio::test]
async fn offset_is_applied_after_the_marker_and_kept_in_links() {
    let server = FakeServer::builder().start().await.unwrap();
    let all = server.backups();
    let base = collection(&server, "v3");

    let page = get_url(&server, &format!("{base}?limit=3&offset=2"))
        .await
        .json();
    assert_eq!(ids(&page), all_ids(&all[2..5]));
    let href = next(&page).unwrap();
    assert_eq!(
        href,
        format!("{base}?limit=3&offset=2&marker={}", all[4].id)
    );

    // Verbatim: two more items are skipped after the marker.
    let page = get_url(&server, &href).await.json();
    assert_eq!(ids(&page), all_ids(&all[7..10]));

    // Without offset: the correct continuation.
    let page = get_url(&server, &format!("{base}?limit=3&marker={}", all[4].id))
        .await
        .json();
    assert_eq!(ids(&page), all_ids(&all[5..8]));

    let page = get_url(&server, &format!("{base}?offset=24&limit=5"))
        .await
        .json();
    assert_eq!((ids(&page).len(), next(&page)), (1, None));
    let reply = get_url(&server, &format!("{base}?offset=99999")).await;
    assert_eq!(reply.text, r#"{"backups": []}"#);
}

#[tokio::test]
async fn filters_match_exactly_and_persist_in_links() {
    let server = FakeServer::builder().backups(300).start().await.unwrap();
    let base = collection(&server, "v3");

    let weekly = ids_where(&server, |b| b.name.as_deref() == Some("weekly"));
    assert!(weekly.len() > 10);
    let (seen, _) = walk(&server, format!("{base}?name=weekly&limit=7")).await;
    assert_eq!(seen, weekly);
    let page = get_url(&server, &format!("{base}?name=weekly&limit=7"))
        .await
        .json();
    assert!(
        next(&page)
            .unwrap()
            .starts_with(&format!("{base}?name=weekly&limit=7&marker="))
    );

    let special = "spécial & name=1";
    let expected = ids_where(&server, |b| b.name.as_deref() == Some(special));
    assert!(expected.len() > 1);
    let reply = get_url(
        &server,
        &format!("{base}?name=sp%C3%A9cial%20%26%20name%3D1&limit=1"),
    )
    .await;
    assert!(reply.text.contains(r#""name": "sp\u00e9cial & name=1""#));
    let href = next(&reply.json()).unwrap();
    assert!(href.starts_with(&format!(
        "{base}?name=sp%C3%A9cial+%26+name%3D1&limit=1&marker="
    )));
    let (seen, _) = walk(&server, href).await;
    assert_eq!(seen, expected[1..]);

    let cases: [(&str, Vec<String>); 7] = [
        ("status=error", ids_where(&server, |b| b.status == "error")),
        (
            "status=error&status=available",
            ids_where(&server, |b| b.status == "available"),
        ),
        (
            "volume_id=7d7c6fbe-d7ee-4b4d-8bae-bdd08b5604bb&status=available",
            ids_where(&server, |b| {
                b.volume_id == "7d7c6fbe-d7ee-4b4d-8bae-bdd08b5604bb" && b.status == "available"
            }),
        ),
        ("name=WEEKLY", Vec::new()),
        ("status=bogus", Vec::new()),
        ("volume_id=7d7c6fbe", Vec::new()),
        (
            "sort=created_at:desc,id:desc&all_tenants=1",
            all_ids(&server.backups()),
        ),
    ];
    assert!(cases[..3].iter().all(|(_, expected)| !expected.is_empty()));
    for (query, expected) in cases {
        let (seen, _) = walk(&server, format!("{base}?{query}")).await;
        assert_eq!(seen, expected, "{query}");
    }

    let unnamed = server.backups().iter().filter(|b| b.name.is_none()).count();
    assert!(unnamed > 0);
    let named: usize = ["weekly", "nightly-0", "nightly-1", "nightly-2", "nightly-3"]
        .into_iter()
        .map(|name| ids_where(&server, |b| b.name.as_deref() == Some(name)).len())
        .sum();
    assert!(named + unnamed < 300);

    for query in [
        "foo=bar",
        "limit=2&limit=3",
        "name=weekly&marker=x&marker=y",
    ] {
        let reply = get_url(&server, &format!("{base}?{query}")).await;
        assert_eq!(reply.status, 200, "{query}");
        assert_eq!(reply.text, r#"{"backups": []}"#, "{query}");
    }
}

#[tokio::test]
async fn an_exactly_full_last_page_links_to_an_empty_page() {
    let server = FakeServer::builder().backups(10).start().await.unwrap();
    let (seen, sizes) = walk(&server, format!("{}?limit=5", collection(&server, "v3"))).await;
    assert_eq!(seen, all_ids(&server.backups()));
    assert_eq!(sizes, [5, 5, 0]);
    let last = server.requests().pop().unwrap();
    assert_eq!(last.param("marker"), Some(server.backups()[9].id.clone()));
}

#[tokio::test]
async fn quirks_reshape_the_next_link() {
    let server = FakeServer::builder().backups(10).start().await.unwrap();
    let all = server.backups();
    let project = server.project_id().to_owned();
    let authority = server.addr().to_string();
    let base = collection(&server, "v3");
    let first_href = async |quirks: Vec<Quirk>, query: &str| {
        server.set_quirks(quirks);
        next(&get_url(&server, &format!("{base}?{query}")).await.json()).unwrap()
    };
    let marker = &all[1].id;
    let cases = [
        (
            vec![Quirk::NoVersionPrefix],
            "limit=2",
            format!("http://{authority}/{project}/backups?limit=2&marker={marker}"),
        ),
        (
            vec![Quirk::OtherHost("10.1.2.3:8776".into())],
            "limit=2",
            format!("http://10.1.2.3:8776/v3/{project}/backups?limit=2&marker={marker}"),
        ),
        (
            vec![Quirk::HttpsScheme],
            "limit=2",
            format!("https://{authority}/v3/{project}/backups?limit=2&marker={marker}"),
        ),
        (
            vec![Quirk::RelativeLink, Quirk::HttpsScheme],
            "limit=2",
            format!("/v3/{project}/backups?limit=2&marker={marker}"),
        ),
        (vec![Quirk::NoMarker], "limit=2", format!("{base}?limit=2")),
        (
            vec![
                Quirk::HttpsScheme,
                Quirk::OtherHost("gw.example.com".into()),
                Quirk::NoVersionPrefix,
            ],
            "limit=2",
            format!("https://gw.example.com/{project}/backups?limit=2&marker={marker}"),
        ),
    ];
    for (quirks, query, expected) in cases {
        assert_eq!(
            first_href(quirks.clone(), query).await,
            expected,
            "{quirks:?}"
        );
    }

    // Late filtering keeps the link on although nothing matches `volume_id=x`.
    let href = first_href(
        vec![Quirk::DropFilters, Quirk::EmptyPagesLinkOn],
        "limit=2&offset=1&sort=created_at:desc&status=available&name=weekly&volume_id=x",
    )
    .await;
    assert_eq!(
        href,
        format!(
            "{base}?offset=1&sort=created_at%3Adesc&marker={}",
            all[2].id
        )
    );
    server.set_quirks([Quirk::DropFilters]);
    let page = get_url(&server, &format!("{base}?status={}&limit=1", all[0].status))
        .await
        .json();
    assert_eq!(next(&page).unwrap(), format!("{base}?marker={}", all[0].id));

    server.set_quirks([Quirk::RepeatMarker]);
    let page = get_url(&server, &format!("{base}?limit=2")).await.json();
    let href = next(&page).unwrap();
    assert_eq!(href, format!("{base}?limit=2&marker={}", all[0].id));
    let again = get_url(&server, &href).await.json();
    assert_eq!(ids(&again), all_ids(&all[1..3]));
    assert_eq!(next(&again).unwrap(), href);

    server.set_quirks([]);
    assert_eq!(
        first_href(Vec::new(), "limit=2").await,
        format!("{base}?limit=2&marker={marker}")
    );
}

#[tokio::test]
async fn late_filtering_gives_short_and_empty_pages_that_link_on() {
    let server = FakeServer::builder()
        .backups(60)
        .quirk(Quirk::EmptyPagesLinkOn)
        .start()
        .await
        .unwrap();
    let base = collection(&server, "v3");
    let status = "deleting";
    let expected = ids_where(&server, |b| b.status == status);
    assert!(!expected.is_empty());
    let (seen, sizes) = walk(&server, format!("{base}?status={status}&limit=5")).await;
    assert_eq!(seen, expected);
    assert_eq!(sizes.len(), 13);
    assert!(sizes[..12].contains(&0));
    let markers: Vec<Option<String>> = server
        .requests()
        .iter()
        .map(|request| request.param("marker"))
        .collect();
    let all = server.backups();
    assert_eq!(markers[1], Some(all[4].id.clone()));
    assert_eq!(markers[12], Some(all[59].id.clone()));
}

#[tokio::test]
async fn authentication_and_project_are_checked() {
    let server = FakeServer::builder().token("s3cret").start().await.unwrap();
    let base = collection(&server, "v3");
    let unauthorized = r#"{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}"#;
    let reply = send(http().get(&base)).await;
    assert_eq!((reply.status, reply.text.as_str()), (401, unauthorized));
    assert!(reply.header("x-openstack-request-id").is_some());
    let reply = send(http().get(&base).header("X-Auth-Token", "fake-token")).await;
    assert_eq!(reply.status, 401);

    let other = format!("{}/v3/0123456789abcdef/backups", server.endpoint());
    let reply = get_url(&server, &other).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.text, bad_request("Malformed request url"));

    let open = FakeServer::builder().no_auth().start().await.unwrap();
    assert_eq!(open.token(), None);
    let reply = send(http().get(collection(&open, "v2"))).await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn unrouted_paths_get_cinder_html_404() {
    let server = FakeServer::builder()
        .path_prefix("/volume/")
        .start()
        .await
        .unwrap();
    let project = server.project_id().to_owned();
    let html = "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  The resource could not be found.<br /><br />\n\n\n\n </body>\n</html>";
    let root = format!("http://{}", server.addr());
    let urls = [
        format!("{}/?limit=1", collection(&server, "v3")),
        collection(&server, "v4"),
        format!("{}/detail/x", collection(&server, "v3")),
        format!("{}/detail/", collection(&server, "v3")),
        format!("{}/v3/backups", server.endpoint()),
        format!("{root}/v3/{project}/backups"),
        format!("{root}/volumeX/v3/{project}/backups"),
        root.clone(),
    ];
    for url in &urls {
        let reply = get_url(&server, url).await;
        assert_eq!(reply.status, 404, "{url}");
        assert_eq!(
            reply.header("content-type"),
            Some("text/html; charset=UTF-8")
        );
        assert_eq!(reply.text, html, "{url}");
    }
    let reply = send(http().post(collection(&server, "v3"))).await;
    assert_eq!(reply.status, 404);
    assert_eq!(server.request_count(), urls.len() + 1);
}

#[tokio::test]
async fn canned_responses_are_served_first_in_first_out() {
    let server = FakeServer::builder().start().await.unwrap();
    server.push_response(
        CannedResponse::json(503, r#"{"error": {"code": 503, "message": "busy"}}"#)
            .header("Retry-After", "1")
            .header("bad header", "skipped"),
    );
    server.push_response(CannedResponse::text(
        502,
        "text/html",
        "<h1>Bad Gateway</h1>",
    ));
    let base = collection(&server, "v3");

    // Not a listing route: the queue is left alone.
    assert_eq!(get(&server, "/nowhere").await.status, 404);

    // Canned responses come before authentication.
    let reply = send(http().get(&base)).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert!(reply.header("x-openstack-request-id").is_some());
    assert_eq!(reply.header("openstack-api-version"), None);
    assert_eq!(reply.text, r#"{"error": {"code": 503, "message": "busy"}}"#);

    let reply = get_url(&server, &base).await;
    assert_eq!(reply.status, 502);
    assert_eq!(reply.header("content-type"), Some("text/html"));
    assert_eq!(reply.text, "<h1>Bad Gateway</h1>");

    let reply = get_url(&server, &base).await;
    assert_eq!(reply.status, 200);
    assert_eq!(ids(&reply.json()).len(), 25);
    assert_eq!(server.request_count(), 4);
}

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// Over a real connection, without measuring time (the exact delays are measured on Tokio's
/// paused clock by `server.rs`'s unit tests): a request stuck in the latency is abandoned when
/// its client gives up, while the 404 page is answered at once.
#[tokio::test]
async fn latency_holds_listing_requests_over_the_network() {
    let server = FakeServer::builder()
        .latency(Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    let base = collection(&server, "v3");
    assert_eq!(get(&server, "/v3/").await.status, 404);

    let stuck = tokio::spawn(async move { http().get(base).send().await.map(drop) });
    for _ in 0..2_000 {
        if server.request_count() == 2 {
            break;
        }
        tokio::time::sleep(ms(5)).await;
    }
    assert_eq!(server.request_count(), 2, "the listing request arrived");
    assert!(!stuck.is_finished());
    stuck.abort();
    for _ in 0..2_000 {
        if server.abandoned_requests() == 1 {
            break;
        }
        tokio::time::sleep(ms(5)).await;
    }
    assert_eq!(server.abandoned_requests(), 1);
}

#[tokio::test]
async fn every_request_is_recorded() {
    let server = FakeServer::builder().start().await.unwrap();
    let base = collection(&server, "v3");
    get_url(
        &server,
        &format!("{base}?name=sp%C3%A9cial+%26+name%3D1&limit=2&limit=3"),
    )
    .await;
    send(http().get(format!("{}/elsewhere", server.endpoint()))).await;
    assert_eq!(server.request_count(), 2);

    let requests = server.requests();
    let first = &requests[0];
    assert_eq!(first.method, "GET");
    assert_eq!(first.path, format!("/v3/{}/backups", server.project_id()));
    assert_eq!(
        first.raw_query.as_deref(),
        Some("name=sp%C3%A9cial+%26+name%3D1&limit=2&limit=3")
    );
    assert_eq!(first.auth_token.as_deref(), Some("fake-token"));
    assert_eq!(first.header("X-Auth-Token"), Some("fake-token"));
    assert_eq!(first.host, Some(server.addr().to_string()));
    assert_eq!(
        first.query_pairs(),
        [
            ("name".to_owned(), "spécial & name=1".to_owned()),
            ("limit".to_owned(), "2".to_owned()),
            ("limit".to_owned(), "3".to_owned()),
        ]
    );
    assert_eq!(first.param("limit").as_deref(), Some("3"));
    assert_eq!(first.param("marker"), None);

    let second = &requests[1];
    assert_eq!(
        (second.path.as_str(), second.raw_query.as_deref()),
        ("/elsewhere", None)
    );
    assert_eq!(second.auth_token, None);
    assert!(second.query_pairs().is_empty());

    server.clear_requests();
    assert_eq!(server.request_count(), 0);
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn data_is_deterministic_and_varied() {
    let one = FakeServer::builder()
        .backups(200)
        .seed(7)
        .start()
        .await
        .unwrap();
    let two = FakeServer::builder()
        .backups(200)
        .seed(7)
        .start()
        .await
        .unwrap();
    let other = FakeServer::builder()
        .backups(200)
        .seed(8)
        .start()
        .await
        .unwrap();
    let backups = one.backups();
    assert_eq!(backups, two.backups());
    assert_ne!(all_ids(&backups), all_ids(&other.backups()));

    let mut unique = all_ids(&backups);
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 200);
    for backup in &backups {
        let groups: Vec<usize> = backup.id.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert!(backup.id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert!(!backup.id.chars().any(|c| c.is_ascii_uppercase()));
        assert_eq!(backup.created_at.len(), 26);
        assert!(backup.created_at.ends_with(":00.000000"));
    }
    for pair in backups.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!((&a.created_at, &a.id) > (&b.created_at, &b.id));
    }
    assert!(
        backups
            .windows(2)
            .any(|p| p[0].created_at == p[1].created_at)
    );
    assert_eq!(
        backups.last().unwrap().created_at,
        "2024-01-01T00:00:00.000000"
    );

    let names: Vec<Option<&str>> = backups.iter().map(|b| b.name.as_deref()).collect();
    assert!(names.contains(&None));
    for prefix in ["weekly", "nightly-", "spécial & name=", "backup-00"] {
        assert!(
            names.iter().flatten().any(|n| n.starts_with(prefix)),
            "{prefix}"
        );
    }
    for status in [
        "available",
        "error",
        "creating",
        "deleting",
        "restoring",
        "error_restoring",
    ] {
        assert!(backups.iter().any(|b| b.status == status), "{status}");
    }
    let mut volumes: Vec<&str> = backups.iter().map(|b| b.volume_id.as_str()).collect();
    volumes.sort_unstable();
    volumes.dedup();
    assert_eq!(volumes.len(), 4);

    let defaults = FakeServer::builder().start().await.unwrap();
    assert_eq!(defaults.backups().len(), 25);
    assert!(defaults.backups().iter().any(|b| b.name.is_none()));
    assert!(!format!("{defaults:?}").contains("fake-token"));
}

#[tokio::test]
async fn large_data_sets_are_served_page_by_page() {
    let server = FakeServer::builder()
        .backups(100_000)
        .start()
        .await
        .unwrap();
    let all = server.backups();
    let base = collection(&server, "v2");
    let near_the_end = &all[98_499].id;
    let page = get_url(&server, &format!("{base}?limit=1000&marker={near_the_end}"))
        .await
        .json();
    assert_eq!(ids(&page), all_ids(&all[98_500..99_500]));
    let page = get_url(&server, &format!("{base}?marker={}", all[99_499].id))
        .await
        .json();
    assert_eq!((ids(&page).len(), next(&page)), (500, None));

    let server = FakeServer::builder().backups(12_345).start().await.unwrap();
    let (seen, sizes) = walk(&server, format!("{}?limit=1000", collection(&server, "v3"))).await;
    assert_eq!(sizes.len(), 13);
    assert_eq!(seen, all_ids(&server.backups()));
}

#[tokio::test]
async fn prefix_and_forwarded_host_shape_links() {
    let server = FakeServer::builder()
        .path_prefix("volume")
        .no_auth()
        .start()
        .await
        .unwrap();
    assert_eq!(
        server.endpoint(),
        format!("http://{}/volume", server.addr())
    );
    let project = server.project_id().to_owned();
    let id = server.backups()[0].id.clone();

    let (seen, _) = walk(&server, format!("{}?limit=10", collection(&server, "v3"))).await;
    assert_eq!(seen, all_ids(&server.backups()));

    let url = format!("{}?limit=1", collection(&server, "v3"));
    let reply = send(
        http()
            .get(&url)
            .header("X-Forwarded-Host", "proxy.example.com"),
    )
    .await;
    let page = reply.json();
    assert_eq!(
        page["backups"][0]["links"][1]["href"],
        format!("http://proxy.example.com/volume/{project}/backups/{id}")
    );
    assert_eq!(
        next(&page).unwrap(),
        format!("http://proxy.example.com/volume/v3/{project}/backups?limit=1&marker={id}")
    );

    server.set_quirks([Quirk::RelativeLink]);
    let page = get_url(&server, &url).await.json();
    assert_eq!(
        next(&page).unwrap(),
        format!("/volume/v3/{project}/backups?limit=1&marker={id}")
    );
}

#[tokio::test]
async fn dropping_the_server_stops_it() {
    let server = FakeServer::builder().start().await.unwrap();
    let url = collection(&server, "v3");
    assert_eq!(get_url(&server, &url).await.status, 200);
    drop(server);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let fresh = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    assert!(fresh.get(&url).send().await.is_err());
}

#[test]
fn handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<FakeServer>();
    send_sync::<vbs_backups_testing::FakeServerBuilder>();
    send(&FakeServer::builder().start());
}

#[test]
fn start_outside_a_runtime_is_an_error() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    let start = std::pin::pin!(FakeServer::builder().start());
    let mut context = Context::from_waker(Waker::noop());
    match start.poll(&mut context) {
        Poll::Ready(result) => assert!(result.is_err()),
        Poll::Pending => panic!("start must fail at once without a runtime"),
    }
}

/// Reads a body chunk by chunk: the bytes that arrived, and whether it ended cleanly.
async fn read_body(mut response: reqwest::Response) -> (Vec<u8>, Result<(), reqwest::Error>) {
    let mut received = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received.extend_from_slice(&chunk),
            Ok(None) => return (received, Ok(())),
            Err(error) => return (received, Err(error)),
        }
    }
}

/// Asserts that reading a body failed because the connection ended early.
fn assert_cut_short(result: Result<(), reqwest::Error>) {
    let error = result.expect_err("the body must fail");
    assert!(error.is_body() || error.is_decode(), "{error:?}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            assert_eq!(io.kind(), std::io::ErrorKind::UnexpectedEof, "{error:?}");
            return;
        }
        source = cause.source();
    }
    panic!("no I/O error behind {error:?}");
}

#[tokio::test]
async fn deleted_backups_vanish_and_their_marker_is_not_found() {
    let server = FakeServer::builder().start().await.unwrap();
    let all = server.backups();
    let base = collection(&server, "v3");
    let page = get_url(&server, &format!("{base}?limit=5")).await.json();
    let href = next(&page).unwrap();

    // The marker of the page just served vanishes, and so does an item further on.
    assert!(server.delete_backup(&all[4].id));
    assert!(server.delete_backup(&all[6].id));
    assert!(!server.delete_backup(&all[6].id));
    assert!(!server.delete_backup("00000000-0000-0000-0000-000000000000"));
    let expected: Vec<FakeBackup> = all
        .iter()
        .enumerate()
        .filter(|(index, _)| ![4, 6].contains(index))
        .map(|(_, backup)| backup.clone())
        .collect();
    assert_eq!(server.backups(), expected);
    assert!(format!("{server:?}").contains("backups: 23"));

    let reply = get_url(&server, &href).await;
    assert_eq!(reply.status, 404);
    assert_eq!(
        reply.text,
        format!(
            r#"{{"itemNotFound": {{"code": 404, "message": "Backup {} could not be found."}}}}"#,
            all[4].id
        )
    );

    // Resuming from the item before the vanished marker skips the deleted ones.
    let page = get_url(&server, &format!("{base}?limit=3&marker={}", all[3].id))
        .await
        .json();
    assert_eq!(
        ids(&page),
        all_ids(&[all[5].clone(), all[7].clone(), all[8].clone()])
    );
    let (seen, _) = walk(&server, format!("{base}?limit=4")).await;
    assert_eq!(seen, all_ids(&expected));

    for backup in &expected {
        assert!(server.delete_backup(&backup.id));
    }
    assert!(server.backups().is_empty());
    let reply = get_url(&server, &base).await;
    assert_eq!(reply.text, r#"{"backups": []}"#);
}

#[tokio::test]
async fn created_backups_come_first_and_are_deterministic() {
    let server = FakeServer::builder().backups(10).start().await.unwrap();
    let before = server.backups();
    let base = collection(&server, "v3");
    let page = get_url(&server, &format!("{base}?limit=4")).await.json();
    let href = next(&page).unwrap();

    let created = server.create_backups(5);
    assert_eq!(created.len(), 5);
    let now = server.backups();
    assert_eq!(now[..5], created[..]);
    assert_eq!(now[5..], before[..]);
    for pair in now.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!((&a.created_at, &a.id) > (&b.created_at, &b.id));
    }
    assert!(created.iter().all(|b| b.created_at > before[0].created_at));
    assert!(
        created
            .windows(2)
            .any(|p| p[0].created_at == p[1].created_at)
    );
    let mut unique = all_ids(&now);
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 15);

    // A walk already past the first page never sees them; a new one starts with them.
    let (seen, _) = walk(&server, href).await;
    assert_eq!(seen, all_ids(&before[4..]));
    let page = get_url(&server, &format!("{base}?limit=5")).await.json();
    assert_eq!(ids(&page), all_ids(&created));

    // Creating again, even after deleting the newest, stays newer than everything.
    assert!(server.delete_backup(&created[0].id));
    let more = server.create_backups(1);
    assert_eq!(server.backups()[0], more[0]);
    assert!(more[0].created_at > created[0].created_at);
    assert!(server.create_backups(0).is_empty());
    assert_eq!(server.backups().len(), 15);

    // Same seed, same calls: same backups.
    let twin = FakeServer::builder().backups(10).start().await.unwrap();
    assert_eq!(twin.create_backups(5), created);
    let empty = FakeServer::builder().backups(0).start().await.unwrap();
    let first = empty.create_backups(3);
    assert_eq!(empty.backups(), first);
    assert_eq!(first[2].created_at, "2024-01-01T00:00:00.000000");
}

#[tokio::test]
async fn set_token_rotates_the_accepted_token() {
    let server = FakeServer::builder().start().await.unwrap();
    let base = collection(&server, "v3");
    let old = server.token().unwrap().to_owned();
    server.set_token("rotated");
    assert_eq!(server.token(), Some("rotated"));
    let reply = send(http().get(&base).header("X-Auth-Token", &old)).await;
    assert_eq!(reply.status, 401);
    let reply = send(http().get(&base).header("X-Auth-Token", "rotated")).await;
    assert_eq!(reply.status, 200);

    let open = FakeServer::builder().no_auth().start().await.unwrap();
    let base = collection(&open, "v3");
    assert_eq!(send(http().get(&base)).await.status, 200);
    open.set_token("now-required");
    assert_eq!(send(http().get(&base)).await.status, 401);
    assert_eq!(get_url(&open, &base).await.status, 200);
}

#[tokio::test]
async fn passthroughs_let_requests_through_in_queue_order() {
    let server = FakeServer::builder().backups(10).start().await.unwrap();
    let base = collection(&server, "v3");
    server.push_response(CannedResponse::passthrough());
    server.push_response(CannedResponse::passthrough().header("Retry-After", "7"));
    for _ in 0..2 {
        server.push_response(CannedResponse::json(503, "{}").header("Retry-After", "1"));
    }

    let url = format!("{base}?limit=3");
    let first = get_url(&server, &url).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("openstack-api-version"), Some("volume 3.0"));
    let href = next(&first.json()).unwrap();
    let second = get_url(&server, &href).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.header("retry-after"), Some("7"));
    assert_eq!(ids(&second.json()), all_ids(&server.backups()[3..6]));
    for _ in 0..2 {
        let reply = get_url(&server, &href).await;
        assert_eq!(
            (reply.status, reply.header("retry-after")),
            (503, Some("1"))
        );
    }
    assert_eq!(get_url(&server, &href).await.text, second.text);

    // A passthrough is the server's own answer: it authenticates, and its headers can be
    // replaced.
    server.push_response(CannedResponse::passthrough());
    assert_eq!(send(http().get(&url)).await.status, 401);
    server.push_response(CannedResponse::passthrough().header("Content-Type", "text/html"));
    let reply = get_url(&server, &url).await;
    assert_eq!(reply.header("content-type"), Some("text/html"));
    assert_eq!(reply.headers.get_all("content-type").iter().count(), 1);
    assert_eq!(reply.text, first.text);
    assert_eq!(server.request_count(), 7);
}

#[tokio::test]
async fn reset_after_aborts_the_body_mid_way() {
    let server = FakeServer::builder().backups(1000).start().await.unwrap();
    let base = collection(&server, "v3");
    let client = http();
    let token = server.token().unwrap();
    let url = format!("{base}?limit=1000");
    let full = get_url(&server, &url).await.text;
    assert!(full.len() > 200_000);

    // The real page, cut after 150 000 bytes, even if the client reads late.
    server.push_response(CannedResponse::passthrough().reset_after(150_000));
    let response = client
        .get(&url)
        .header("X-Auth-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["openstack-api-version"], "volume 3.0");
    assert!(response.headers().get("content-length").is_none());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (received, result) = read_body(response).await;
    assert_eq!(received, full.as_bytes()[..150_000]);
    assert_cut_short(result);

    // A reset always fails the body, even after all of it; the status is the given one.
    let body = r#"{"error": "busy"}"#;
    for bytes in [0, 5, 1000] {
        server.push_response(CannedResponse::json(503, body).reset_after(bytes));
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 503);
        let (received, result) = read_body(response).await;
        assert_eq!(
            received,
            body.as_bytes()[..bytes.min(body.len())],
            "{bytes}"
        );
        assert_cut_short(result);
    }

    // The same client carries on on a fresh connection.
    let reply = send(client.get(&url).header("X-Auth-Token", token)).await;
    assert_eq!(reply.text, full);
    assert_eq!(server.request_count(), 6);
}

#[tokio::test]
async fn truncate_to_declares_the_full_length_and_sends_less() {
    let server = FakeServer::builder().start().await.unwrap();
    let base = collection(&server, "v3");
    let client = http();
    let token = server.token().unwrap();
    let full = get_url(&server, &base).await.text;

    server.push_response(CannedResponse::passthrough().truncate_to(100));
    let response = client
        .get(&base)
        .header("X-Auth-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.content_length(), Some(full.len() as u64));
    let (received, result) = read_body(response).await;
    assert_eq!(received, full.as_bytes()[..100]);
    assert_cut_short(result);

    server.push_response(CannedResponse::json(500, "{}").truncate_to(0));
    let response = client.get(&base).send().await.unwrap();
    assert_eq!(
        (response.status().as_u16(), response.content_length()),
        (500, Some(2))
    );
    assert_cut_short(response.text().await.map(drop));

    // Nothing to cut: the body is sent whole.
    server.push_response(CannedResponse::json(500, "{}").truncate_to(2));
    let reply = send(client.get(&base)).await;
    assert_eq!((reply.status, reply.text.as_str()), (500, "{}"));
}

#[tokio::test]
async fn a_delete_removes_the_backup_like_cinder_and_refuses_what_it_may_not() {
    let server = FakeServer::builder()
        .backups(5)
        .other_projects(1, 2)
        .start()
        .await
        .unwrap();
    let victim = server.backups()[2].id.clone();
    let url = format!("{}/{victim}", collection(&server, "v3"));
    let token = server.token().unwrap().to_owned();

    let refused = send(http().delete(&url).header("x-auth-token", "wrong")).await;
    assert_eq!(refused.status, 401);
    assert_eq!(
        server.backups().len(),
        5,
        "nothing deleted without the token"
    );

    let deleted = send(http().delete(&url).header("x-auth-token", &token)).await;
    assert_eq!(deleted.status, 202);
    assert!(deleted.text.is_empty());
    assert!(server.backups().iter().all(|b| b.id != victim));

    let again = send(http().delete(&url).header("x-auth-token", &token)).await;
    assert_eq!(again.status, 404);
    assert_eq!(
        again.json()["itemNotFound"]["message"],
        format!("Backup {victim} could not be found.")
    );

    // Another project's backup is not this project's to delete.
    let foreign = server
        .all_backups()
        .into_iter()
        .find(|b| b.project_id != server.project_id())
        .unwrap();
    let url = format!("{}/{}", collection(&server, "v2"), foreign.id);
    let reply = send(http().delete(&url).header("x-auth-token", &token)).await;
    assert_eq!(reply.status, 404);
    assert!(server.all_backups().iter().any(|b| b.id == foreign.id));
}

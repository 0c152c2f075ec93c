#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::{CannedResponse, FakeBackup, FakeServer, Quirk};

struct Reply {
    status: u16,
    headers: HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|error| {
            panic!("not JSON ({error}): {}", self.text);
        })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// A client for plain HTTP on loopback; skipping the system's TLS roots makes it cheap to build
/// (loading them takes tens of milliseconds, and every `get_url` builds one).
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([])
        .build()
        .unwrap()
}

async fn send(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.unwrap();
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        text: response.text().await.unwrap(),
    }
}

/// GETs an absolute URL with the server's token, if it has one.
async fn get_url(server: &FakeServer, url: &str) -> Reply {
    let mut request = http().get(url);
    if let Some(token) = server.token() {
        request = request.header("X-Auth-Token", token);
    }
    send(request).await
}

/// GETs a path (and query) under the server's endpoint.
async fn get(server: &FakeServer, path_and_query: &str) -> Reply {
    get_url(server, &format!("{}{path_and_query}", server.endpoint())).await
}

fn collection(server: &FakeServer, version: &str) -> String {
    format!(
        "{}/{version}/{}/backups",
        server.endpoint(),
        server.project_id()
    )
}

fn ids(page: &Value) -> Vec<String> {
    page["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

fn next(page: &Value) -> Option<String> {
    let links = page.get("backups_links")?;
    let link = links.as_array().unwrap().first().unwrap();
    assert_eq!(link["rel"], "next");
    Some(link["href"].as_str().unwrap().to_owned())
}

/// Follows next links verbatim; returns the ids seen and each page's size.
async fn walk(server: &FakeServer, first: String) -> (Vec<String>, Vec<usize>) {
    let (mut seen, mut sizes) = (Vec::new(), Vec::new());
    let mut url = Some(first);
    while let Some(current) = url {
        assert!(sizes.len() < 500, "walk does not end");
        let reply = get_url(server, &current).await;
        assert_eq!(reply.status, 200, "{current}: {}", reply.text);
        let page = reply.json();
        let page_ids = ids(&page);
        sizes.push(page_ids.len());
        seen.extend(page_ids);
        url = next(&page);
    }
    (seen, sizes)
}

fn all_ids(backups: &[FakeBackup]) -> Vec<String> {
    backups.iter().map(|backup| backup.id.clone()).collect()
}

fn ids_where(server: &FakeServer, keep: impl Fn(&FakeBackup) -> bool) -> Vec<String> {
    server
        .backups()
        .into_iter()
        .filter(|backup| keep(backup))
        .map(|backup| backup.id)
        .collect()
}

fn bad_request(message: &str) -> String {
    format!(r#"{{"badRequest": {{"code": 400, "message": "{message}"}}}}"#)
}

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

/// Answers a GET of `path_and_query` with the server's handler directly, without a socket, and
/// says how long it took on Tokio's clock. Under `start_paused` that clock stands still except
/// for the handler's own sleeps, so the duration is exact whatever the machine's load.
async fn answered_after(server: &FakeServer, path_and_query: &str) -> (u16, Duration) {
    let mut request = axum::http::Request::get(path_and_query);
    if let Some(token) = server.token() {
        request = request.header("x-auth-token", token);
    }
    let request = request.body(Body::empty()).unwrap();
    let started = tokio::time::Instant::now();
    let response = super::server::respond(State(Arc::clone(&server.shared)), request).await;
    (response.status().as_u16(), started.elapsed())
}

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

#[tokio::test(start_paused = true)]
async fn latency_delays_listing_requests_only() {
    let server = FakeServer::builder()
        .latency(ms(120))
        .start()
        .await
        .unwrap();
    let listing = format!("/v3/{}/backups", server.project_id());
    assert_eq!(answered_after(&server, &listing).await, (200, ms(120)));

    server.push_response(CannedResponse::json(500, "{}"));
    assert_eq!(answered_after(&server, &listing).await, (500, ms(120)));

    assert_eq!(answered_after(&server, "/v3/").await, (404, Duration::ZERO));

    server.set_latency(Duration::ZERO);
    assert_eq!(
        answered_after(&server, &listing).await,
        (200, Duration::ZERO)
    );
}

/// The same over a real connection, without measuring time: a request stuck in the latency is
/// abandoned when its client gives up, while the 404 page is answered at once.
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
    send_sync::<super::FakeServerBuilder>();
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

#[tokio::test(start_paused = true)]
async fn delay_slows_one_response_on_top_of_the_latency() {
    let server = FakeServer::builder().latency(ms(50)).start().await.unwrap();
    let listing = format!("/v3/{}/backups", server.project_id());
    server.push_response(CannedResponse::passthrough().delay(ms(150)));
    server.push_response(CannedResponse::json(503, "{}").delay(ms(100)));

    assert_eq!(answered_after(&server, &listing).await, (200, ms(200)));
    assert_eq!(answered_after(&server, &listing).await, (503, ms(150)));
    assert_eq!(answered_after(&server, &listing).await, (200, ms(50)));
}

#[test]
fn token_replacements_race_safely() {
    use super::server::Tokens;

    let tokens = Tokens::new(None);
    assert_eq!(tokens.current(), None);
    std::thread::scope(|scope| {
        for thread in 0..4 {
            let tokens = &tokens;
            scope.spawn(move || {
                for round in 0..500 {
                    tokens.replace(format!("{thread}-{round}"));
                    assert!(tokens.current().is_some());
                }
            });
        }
    });
    let last = tokens.current().unwrap();
    assert!(last.ends_with("-499"), "{last}");
}

/// GETs an absolute URL with the server's token and, if given, `OpenStack-API-Version: <value>`.
async fn get_versioned(server: &FakeServer, url: &str, version: Option<&str>) -> Reply {
    let mut request = http().get(url);
    if let Some(token) = server.token() {
        request = request.header("X-Auth-Token", token);
    }
    if let Some(version) = version {
        request = request.header("OpenStack-API-Version", version);
    }
    send(request).await
}

fn detail_collection(server: &FakeServer, version: &str) -> String {
    format!("{}/detail", collection(server, version))
}

/// The keys of each entry of a page, in the order sent (`Value` would sort them).
fn entry_keys(text: &str) -> Vec<Vec<String>> {
    struct Keys(Vec<String>);

    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some(key) = map.next_key::<String>()? {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        keys.push(key);
                    }
                    Ok(Keys(keys))
                }
            }
            deserializer.deserialize_map(Visitor)
        }
    }

    #[derive(serde::Deserialize)]
    struct Page {
        backups: Vec<Keys>,
    }
    let page: Page = serde_json::from_str(text).unwrap();
    page.backups.into_iter().map(|keys| keys.0).collect()
}

/// The keys of a detail entry at 3.0, in Cinder's order.
const DETAIL_KEYS: [&str; 17] = [
    "id",
    "status",
    "size",
    "object_count",
    "availability_zone",
    "container",
    "created_at",
    "updated_at",
    "name",
    "description",
    "fail_reason",
    "volume_id",
    "links",
    "is_incremental",
    "has_dependent_backups",
    "snapshot_id",
    "data_timestamp",
];

/// Asserts that a detail entry shows `backup`'s 3.0 fields and Cinder's item links.
fn assert_detail_entry(item: &Value, backup: &FakeBackup, server: &FakeServer, version: &str) {
    use serde_json::json;

    let expected = json!({
        "id": backup.id,
        "status": backup.status,
        "size": backup.size,
        "object_count": backup.object_count,
        "availability_zone": backup.availability_zone,
        "container": backup.container,
        "created_at": backup.created_at,
        "updated_at": backup.updated_at,
        "name": backup.name,
        "description": backup.description,
        "fail_reason": backup.fail_reason,
        "volume_id": backup.volume_id,
        "is_incremental": backup.is_incremental,
        "has_dependent_backups": backup.has_dependent_backups,
        "snapshot_id": backup.snapshot_id,
        "data_timestamp": backup.data_timestamp,
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&item[key], value, "{key} of {}", backup.id);
    }
    let (origin, project, id) = (
        format!("http://{}", server.addr()),
        server.project_id(),
        &backup.id,
    );
    assert_eq!(
        item["links"],
        json!([
            {"rel": "self", "href": format!("{origin}/{version}/{project}/backups/{id}")},
            {"rel": "bookmark", "href": format!("{origin}/{project}/backups/{id}")},
        ])
    );
}

#[tokio::test]
async fn detail_entries_carry_cinder_3_0_fields_in_its_order() {
    let server = FakeServer::builder().start().await.unwrap();
    let all = server.backups();
    let base = detail_collection(&server, "v3");

    let reply = get_url(&server, &format!("{base}?limit=3")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("openstack-api-version"), Some("volume 3.0"));
    assert_eq!(entry_keys(&reply.text), vec![DETAIL_KEYS.to_vec(); 3]);
    let page = reply.json();
    for (item, backup) in page["backups"].as_array().unwrap().iter().zip(&all) {
        assert_detail_entry(item, backup, &server, "v3");
    }
    assert_eq!(
        next(&page).unwrap(),
        format!("{base}?limit=3&marker={}", all[2].id)
    );

    // Following detail links verbatim yields every backup, on v2 as on v3.
    for version in ["v2", "v3"] {
        let base = detail_collection(&server, version);
        let mut url = Some(format!("{base}?limit=4"));
        let mut seen = Vec::new();
        while let Some(current) = url {
            assert!(current.starts_with(&format!("{base}?")), "{current}");
            let reply = get_url(&server, &current).await;
            let page = reply.json();
            for item in page["backups"].as_array().unwrap() {
                let backup = &all[seen.len()];
                assert_detail_entry(item, backup, &server, version);
                seen.push(backup.id.clone());
            }
            url = next(&page);
        }
        assert_eq!(seen, all_ids(&all), "{version}");
    }

    // Like Python's json: only ASCII on the wire, everything else escaped.
    let reply = get_url(&server, &base).await;
    assert!(reply.text.is_ascii());
    assert!(reply.text.contains(
        r#""description": "sauvegarde avant mise \u00e0 jour \u2014 \u2713 \ud83e\udd80""#
    ));
    assert!(reply.text.contains(r#"upgrade\\rollback plan:\tOPS-1""#));
    assert!(reply.text.contains(r#""description": null"#));
    assert!(reply.text.contains(r#""container": null"#));
    assert!(
        reply
            .text
            .contains(r#""created_at": "2024-01-01T00:00:00.000000""#)
    );
}

#[tokio::test]
async fn detail_links_get_the_quirks_too() {
    let server = FakeServer::builder().backups(10).start().await.unwrap();
    let (project, authority) = (server.project_id().to_owned(), server.addr().to_string());
    let marker = &server.backups()[1].id;
    let base = detail_collection(&server, "v3");
    let cases = [
        (
            Quirk::NoVersionPrefix,
            format!("http://{authority}/{project}/backups/detail?limit=2&marker={marker}"),
        ),
        (
            Quirk::RelativeLink,
            format!("/v3/{project}/backups/detail?limit=2&marker={marker}"),
        ),
        (
            Quirk::OtherHost("10.1.2.3:8776".into()),
            format!("http://10.1.2.3:8776/v3/{project}/backups/detail?limit=2&marker={marker}"),
        ),
    ];
    for (quirk, expected) in cases {
        server.set_quirks([quirk.clone()]);
        let page = get_url(&server, &format!("{base}?limit=2")).await.json();
        assert_eq!(next(&page).unwrap(), expected, "{quirk:?}");
    }
}

#[tokio::test]
async fn microversions_add_detail_fields_from_their_versions() {
    let server = FakeServer::builder().start().await.unwrap();
    let all = server.backups();
    assert!(all.iter().any(|b| b.encryption_key_id.is_some()));
    assert!(all.iter().any(|b| b.encryption_key_id.is_none()));
    let base = detail_collection(&server, "v3");
    let project = "os-backup-project-attr:project_id";
    let cases: [(Option<&str>, &str, &[&str]); 10] = [
        (None, "3.0", &[]),
        (Some("volume 3.17"), "3.17", &[]),
        (Some("volume 3.18"), "3.18", &[project]),
        (Some("volume 3.42"), "3.42", &[project]),
        (Some("volume 3.43"), "3.43", &["metadata", project]),
        (Some("volume 3.55"), "3.55", &["metadata", project]),
        (
            Some("volume 3.56"),
            "3.56",
            &["metadata", "user_id", project],
        ),
        (
            Some("volume 3.63"),
            "3.63",
            &["metadata", "user_id", project],
        ),
        (
            Some("volume 3.64"),
            "3.64",
            &["encryption_key_id", "metadata", "user_id", project],
        ),
        (
            Some("volume latest"),
            "3.71",
            &["encryption_key_id", "metadata", "user_id", project],
        ),
    ];
    for (header, negotiated, added) in cases {
        let reply = get_versioned(&server, &base, header).await;
        assert_eq!(reply.status, 200, "{header:?}");
        let echoed = format!("volume {negotiated}");
        assert_eq!(reply.header("openstack-api-version"), Some(echoed.as_str()));
        let page = reply.json();
        let items = page["backups"].as_array().unwrap();
        for ((keys, item), backup) in entry_keys(&reply.text).iter().zip(items).zip(&all) {
            assert_detail_entry(item, backup, &server, "v3");
            let mut expected: Vec<&str> = DETAIL_KEYS.to_vec();
            expected.extend(
                added.iter().filter(|key| {
                    **key != "encryption_key_id" || backup.encryption_key_id.is_some()
                }),
            );
            assert_eq!(keys, &expected, "{header:?} {}", backup.id);
            if added.contains(&"metadata") {
                assert_eq!(item["metadata"], serde_json::json!(backup.metadata));
            }
            if added.contains(&"user_id") {
                assert_eq!(item["user_id"], backup.user_id.as_str());
            }
            if let Some(key) = backup
                .encryption_key_id
                .as_deref()
                .filter(|_| added.len() == 4)
            {
                assert_eq!(item["encryption_key_id"], key);
            }
            if added.contains(&project) {
                assert_eq!(item[project], server.project_id());
            }
        }
    }

    // The summary listing is the same at every version, and v2 ignores the header.
    let summary = get_versioned(&server, &collection(&server, "v3"), Some("volume 3.71")).await;
    assert_eq!(entry_keys(&summary.text)[0], ["id", "name", "links"]);
    let v2 = get_versioned(
        &server,
        &detail_collection(&server, "v2"),
        Some("volume 3.71"),
    )
    .await;
    assert_eq!(v2.status, 200);
    assert_eq!(v2.header("openstack-api-version"), None);
    assert!(entry_keys(&v2.text).iter().all(|keys| keys == &DETAIL_KEYS));
}

#[tokio::test]
async fn microversion_headers_are_negotiated_like_cinder() {
    let server = FakeServer::builder().token("s3cret").start().await.unwrap();
    let base = collection(&server, "v3");
    let negotiated = async |version: Option<&str>| {
        let reply = get_versioned(&server, &base, version).await;
        assert_eq!(reply.status, 200, "{version:?}: {}", reply.text);
        assert_eq!(reply.header("vary"), Some("OpenStack-API-Version"));
        reply.header("openstack-api-version").unwrap().to_owned()
    };
    assert_eq!(negotiated(None).await, "volume 3.0");
    assert_eq!(negotiated(Some("volume 3.45")).await, "volume 3.45");
    assert_eq!(negotiated(Some("volume latest")).await, "volume 3.71");
    assert_eq!(
        negotiated(Some("compute 2.90, Volume 3.50")).await,
        "volume 3.50"
    );
    assert_eq!(negotiated(Some("compute 2.90")).await, "volume 3.0");
    let legacy = send(
        http()
            .get(&base)
            .header("X-Auth-Token", "s3cret")
            .header("X-OpenStack-Volume-API-Version", "3.45"),
    )
    .await;
    assert_eq!(legacy.header("openstack-api-version"), Some("volume 3.0"));

    let reply = get_versioned(&server, &base, Some("volume 3.72")).await;
    assert_eq!(reply.status, 406);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.text,
        r#"{"computeFault": {"code": 406, "message": "Version 3.72 is not supported by the API. Minimum is 3.0 and maximum is 3.71."}}"#
    );
    assert_eq!(reply.header("openstack-api-version"), Some("volume 3.72"));

    let invalid = bad_request(
        "API Version String abc is of invalid format. Must be of format MajorNum.MinorNum.",
    );
    let reply = get_versioned(&server, &base, Some("volume abc")).await;
    assert_eq!((reply.status, reply.text.as_str()), (400, invalid.as_str()));
    assert_eq!(reply.header("openstack-api-version"), None);
    assert!(reply.header("x-openstack-request-id").is_some());

    // keystonemiddleware answers before Cinder looks at the version; the version comes before
    // the project check and the query.
    let unauthorized = send(
        http()
            .get(&base)
            .header("X-Auth-Token", "wrong")
            .header("OpenStack-API-Version", "volume abc"),
    )
    .await;
    assert_eq!(unauthorized.status, 401);
    assert_eq!(unauthorized.header("openstack-api-version"), None);
    let other = format!("{}/v3/0123456789abcdef/backups?limit=x", server.endpoint());
    let reply = get_versioned(&server, &other, Some("volume abc")).await;
    assert_eq!(reply.text, invalid);
    let reply = get_versioned(&server, &other, Some("volume 3.5")).await;
    assert_eq!(reply.text, bad_request("Malformed request url"));
    assert_eq!(reply.header("openstack-api-version"), Some("volume 3.5"));

    let v2 = get_versioned(&server, &collection(&server, "v2"), Some("volume abc")).await;
    assert_eq!(v2.status, 200);
}

/// Follows next links verbatim with a version header; returns each page's ids, `count` and
/// whether it linked on.
async fn counted_walk(
    server: &FakeServer,
    first: String,
    version: &str,
) -> Vec<(Vec<String>, Option<u64>, bool)> {
    let mut pages = Vec::new();
    let mut url = Some(first);
    while let Some(current) = url {
        assert!(pages.len() < 100, "walk does not end");
        let reply = get_versioned(server, &current, Some(version)).await;
        assert_eq!(reply.status, 200, "{current}: {}", reply.text);
        let page = reply.json();
        url = next(&page);
        pages.push((ids(&page), page["count"].as_u64(), url.is_some()));
    }
    pages
}

#[tokio::test]
async fn with_count_counts_every_match_from_3_45() {
    let server = FakeServer::builder().start().await.unwrap();
    let all = all_ids(&server.backups());
    let detail = detail_collection(&server, "v3");
    let summary = collection(&server, "v3");

    // The total on every page, and a link even from the partial last page, to an empty one.
    let pages = counted_walk(
        &server,
        format!("{detail}?limit=10&with_count=true"),
        "volume 3.45",
    )
    .await;
    let shape: Vec<(usize, Option<u64>, bool)> = pages
        .iter()
        .map(|(ids, count, linked)| (ids.len(), *count, *linked))
        .collect();
    assert_eq!(
        shape,
        [
            (10, Some(25), true),
            (10, Some(25), true),
            (5, Some(25), true),
            (0, Some(25), false)
        ]
    );
    assert_eq!(pages.concat_ids(), all);
    let last = get_versioned(
        &server,
        &format!("{detail}?limit=10&with_count=true&marker={}", all[24]),
        Some("volume 3.45"),
    )
    .await;
    assert_eq!(last.text, r#"{"backups": [], "count": 25}"#);
    let first = get_versioned(
        &server,
        &format!("{summary}?limit=1&with_count=1"),
        Some("volume 3.45"),
    )
    .await;
    assert!(first.text.ends_with(&format!(
        r#""backups_links": [{{"rel": "next", "href": "{summary}?limit=1&with_count=1&marker={}"}}], "count": 25}}"#,
        all[0]
    )));

    // Only a page size above the total goes without a link.
    let cases = [
        ("limit=30&with_count=true", vec![(25, Some(25), false)]),
        (
            "limit=25&with_count=TRUE",
            vec![(25, Some(25), true), (0, Some(25), false)],
        ),
        (
            "limit=10&with_count=false",
            vec![(10, None, true), (10, None, true), (5, None, false)],
        ),
        (
            "limit=10&offset=20&with_count=yes",
            vec![(5, Some(25), true), (0, Some(25), false)],
        ),
    ];
    for (query, expected) in cases {
        let pages = counted_walk(&server, format!("{summary}?{query}"), "volume 3.45").await;
        let shape: Vec<(usize, Option<u64>, bool)> = pages
            .iter()
            .map(|(ids, count, linked)| (ids.len(), *count, *linked))
            .collect();
        assert_eq!(shape, expected, "{query}");
    }

    // The total counts the matches of the filters, not what is left after marker and offset.
    let errors = ids_where(&server, |b| b.status == "error");
    assert!(errors.len() > 2);
    let pages = counted_walk(
        &server,
        format!("{summary}?status=error&limit=2&with_count=on"),
        "volume latest",
    )
    .await;
    assert!(
        pages
            .iter()
            .all(|(_, count, _)| *count == Some(errors.len() as u64))
    );
    assert_eq!(pages.concat_ids(), errors);

    // Cinder's 400 for a value that is not a boolean, checked from 3.45 only.
    for value in ["maybe", "%20true", ""] {
        let url = format!("{summary}?with_count={value}");
        let reply = get_versioned(&server, &url, Some("volume 3.45")).await;
        let shown = value.replace("%20", " ");
        let message = format!("Value '{shown}' for 'with_count' is not a boolean.");
        assert_eq!(
            (reply.status, reply.text),
            (400, bad_request(&message)),
            "{value}"
        );
    }

    // Below 3.45 (v2 speaks 3.0) `with_count` is a filter on a column that does not exist.
    let empty = r#"{"backups": []}"#;
    for (url, version) in [
        (format!("{summary}?with_count=true"), Some("volume 3.44")),
        (format!("{summary}?with_count=maybe"), Some("volume 3.44")),
        (format!("{detail}?with_count=true"), None),
        (
            format!("{}?with_count=true", collection(&server, "v2")),
            Some("volume 3.45"),
        ),
    ] {
        let reply = get_versioned(&server, &url, version).await;
        assert_eq!(
            (reply.status, reply.text.as_str()),
            (200, empty),
            "{url} {version:?}"
        );
    }
    // So is a second `with_count`; nothing matches it, which makes a total of 0.
    let url = format!("{summary}?with_count=true&with_count=true");
    let reply = get_versioned(&server, &url, Some("volume 3.45")).await;
    assert_eq!(reply.text, r#"{"backups": [], "count": 0}"#);
}

trait ConcatIds {
    fn concat_ids(&self) -> Vec<String>;
}

impl ConcatIds for Vec<(Vec<String>, Option<u64>, bool)> {
    fn concat_ids(&self) -> Vec<String> {
        self.iter().flat_map(|(ids, _, _)| ids.clone()).collect()
    }
}

/// An independent model of Cinder's order for `keys` (column, descending), tie-breakers
/// included: `NULL` names sort lowest, strings bytewise.
fn sorted_truth(server: &FakeServer, keys: &[(&str, bool)]) -> Vec<FakeBackup> {
    use std::cmp::Ordering;

    let compare = |key: &str, a: &FakeBackup, b: &FakeBackup| -> Ordering {
        match key {
            "created_at" => a.created_at.cmp(&b.created_at),
            "updated_at" => a.updated_at.cmp(&b.updated_at),
            "id" => a.id.cmp(&b.id),
            "display_name" => a.name.cmp(&b.name),
            "status" => a.status.cmp(&b.status),
            "size" => a.size.cmp(&b.size),
            "volume_id" => a.volume_id.cmp(&b.volume_id),
            other => panic!("no model for {other}"),
        }
    };
    let mut keys = keys.to_vec();
    let first_descending = keys[0].1;
    for default in ["created_at", "id"] {
        if !keys.iter().any(|(key, _)| *key == default) {
            keys.push((default, first_descending));
        }
    }
    let mut backups = server.backups();
    backups.sort_by(|a, b| {
        keys.iter()
            .map(|&(key, descending)| {
                let ordering = compare(key, a, b);
                if descending {
                    ordering.reverse()
                } else {
                    ordering
                }
            })
            .find(|ordering| ordering.is_ne())
            .unwrap_or(Ordering::Equal)
    });
    backups
}

#[tokio::test]
async fn sorting_orders_every_page_and_markers_stay_exact() {
    use crate::{SortDir, SortKey};

    let server = FakeServer::builder().backups(60).start().await.unwrap();
    let default = server.backups();
    let oldest_first: Vec<String> = all_ids(&default).into_iter().rev().collect();
    let cases: [(&str, Vec<String>); 11] = [
        ("sort=created_at", all_ids(&default)),
        ("sort=created_at:desc,id:desc", all_ids(&default)),
        ("sort=created_at:asc", oldest_first.clone()),
        ("sort_dir=asc", oldest_first),
        (
            "sort=size:desc",
            all_ids(&sorted_truth(&server, &[("size", true)])),
        ),
        (
            "sort_key=size&sort_dir=asc",
            all_ids(&sorted_truth(&server, &[("size", false)])),
        ),
        (
            "sort=display_name:asc",
            all_ids(&sorted_truth(&server, &[("display_name", false)])),
        ),
        (
            "sort=display_name:desc,size:asc",
            all_ids(&sorted_truth(
                &server,
                &[("display_name", true), ("size", false)],
            )),
        ),
        (
            "sort=status:asc,volume_id:desc,id:asc",
            all_ids(&sorted_truth(
                &server,
                &[("status", false), ("volume_id", true), ("id", false)],
            )),
        ),
        (
            "sort=updated_at:desc",
            all_ids(&sorted_truth(&server, &[("updated_at", true)])),
        ),
        (
            "sort=id:asc",
            all_ids(&sorted_truth(&server, &[("id", false)])),
        ),
    ];
    for (index, (query, expected)) in cases.into_iter().enumerate() {
        let base = if index % 2 == 0 {
            detail_collection(&server, "v3")
        } else {
            collection(&server, "v2")
        };
        let (seen, sizes) = walk(&server, format!("{base}?{query}&limit=7")).await;
        assert_eq!(seen, expected, "{query}");
        assert_eq!(sizes.len(), 9, "{query}");
    }

    // The truth for the crate's own sorts.
    let terms = [
        (SortKey::Name, SortDir::Desc),
        (SortKey::Size, SortDir::Asc),
    ];
    assert_eq!(
        all_ids(&server.backups_sorted(&terms)),
        all_ids(&sorted_truth(
            &server,
            &[("display_name", true), ("size", false)]
        ))
    );
    assert_eq!(server.backups_sorted(&[]), default);

    // A marker inside a group of equal sizes continues right after it.
    let by_size = sorted_truth(&server, &[("size", false)]);
    let tied = (0..by_size.len() - 6)
        .find(|&i| by_size[i].size == by_size[i + 1].size && i > 0)
        .unwrap();
    let base = collection(&server, "v3");
    let url = format!("{base}?sort=size:asc&limit=5&marker={}", by_size[tied].id);
    assert_eq!(
        ids(&get_url(&server, &url).await.json()),
        all_ids(&by_size[tied + 1..tied + 6])
    );

    // So does one whose sort value is NULL (where Cinder's SQL criteria would skip rows).
    let by_name = sorted_truth(&server, &[("display_name", false)]);
    assert!(by_name[0].name.is_none() && by_name[1].name.is_none());
    let url = format!(
        "{base}?sort=display_name:asc&limit=3&marker={}",
        by_name[0].id
    );
    assert_eq!(
        ids(&get_url(&server, &url).await.json()),
        all_ids(&by_name[1..4])
    );

    // Filters and offset apply to the sorted matches.
    let available: Vec<String> = by_size
        .iter()
        .filter(|b| b.status == "available")
        .map(|b| b.id.clone())
        .collect();
    assert!(available.len() > 8);
    let url = format!("{base}?sort=size:asc&status=available&limit=4&offset=2");
    let page = get_url(&server, &url).await.json();
    assert_eq!(ids(&page), available[2..6]);
    let url = format!(
        "{base}?sort=size:asc&status=available&limit=4&marker={}",
        available[5]
    );
    assert_eq!(ids(&get_url(&server, &url).await.json()), available[6..10]);
}

#[tokio::test]
async fn sort_parameters_are_refused_like_cinder() {
    let server = FakeServer::builder().backups(20).start().await.unwrap();
    let base = collection(&server, "v3");
    let key = bad_request("Invalid input received: Invalid sort key");
    let direction =
        bad_request("Invalid input received: Unknown sort direction, must be 'desc' or 'asc'.");
    let deprecated = bad_request(
        "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.",
    );
    let empty = r#"{"backups": []}"#.to_owned();
    let unknown_marker = r#"{"itemNotFound": {"code": 404, "message": "Backup 00000000-0000-0000-0000-000000000000 could not be found."}}"#.to_owned();
    let cases = [
        ("sort=bogus", None, 400, key.clone()),
        ("sort=name:asc", None, 400, key.clone()),
        ("sort=name:asc", Some("volume 3.36"), 400, key.clone()),
        (
            "sort=name:asc,name:desc",
            Some("volume 3.37"),
            400,
            key.clone(),
        ),
        (
            "sort=display_name:asc,bogus",
            Some("volume 3.37"),
            400,
            key.clone(),
        ),
        ("sort_key=bogus", None, 400, key),
        ("sort_dir=sideways", None, 400, direction.clone()),
        ("sort=id:ASC", None, 400, direction.clone()),
        ("sort=bogus:sideways", None, 400, direction.clone()),
        ("sort_key=id&sort=id", None, 400, deprecated.clone()),
        (
            "sort=id&sort_dir=asc&with_count=maybe",
            Some("volume 3.45"),
            400,
            deprecated,
        ),
        (
            "with_count=maybe&sort_dir=sideways",
            Some("volume 3.45"),
            400,
            bad_request("Value 'maybe' for 'with_count' is not a boolean."),
        ),
        (
            "limit=x&sort_key=id&sort=id",
            None,
            400,
            bad_request("limit param must be an integer"),
        ),
        // The directions are checked before the filters, the keys after the marker.
        ("sort_dir=sideways&foo=bar", None, 400, direction),
        ("sort=bogus&foo=bar", None, 200, empty.clone()),
        (
            "sort=bogus&marker=00000000-0000-0000-0000-000000000000",
            None,
            404,
            unknown_marker,
        ),
        // A repeated sort parameter is a filter on a column that does not exist.
        ("sort=id&sort=id", None, 200, empty.clone()),
        ("sort_key=id&sort_key=size", None, 200, empty.clone()),
        ("sort_dir=asc&sort_dir=asc", None, 200, empty),
    ];
    for (query, version, status, body) in cases {
        let reply = get_versioned(&server, &format!("{base}?{query}"), version).await;
        assert_eq!(
            (reply.status, reply.text),
            (status, body),
            "{query} {version:?}"
        );
    }

    // `name` sorts from 3.37 (the first one only), `display_name` at any version, v2 as 3.0.
    let by_name = all_ids(&sorted_truth(&server, &[("display_name", false)]));
    let reply = get_versioned(
        &server,
        &format!("{base}?sort=name:asc"),
        Some("volume 3.37"),
    )
    .await;
    assert_eq!(ids(&reply.json()), by_name);
    let reply = get_url(&server, &format!("{base}?sort=display_name:asc")).await;
    assert_eq!(ids(&reply.json()), by_name);
    let v2 = collection(&server, "v2");
    let reply = get_versioned(&server, &format!("{v2}?sort=name"), Some("volume 3.71")).await;
    assert_eq!(
        reply.text,
        bad_request("Invalid input received: Invalid sort key")
    );
}

#[tokio::test]
async fn sorted_walks_follow_created_and_deleted_backups() {
    use crate::{SortDir, SortKey};

    let server = FakeServer::builder().backups(30).start().await.unwrap();
    let base = detail_collection(&server, "v3");
    let terms = [(SortKey::Size, SortDir::Asc)];
    let first = get_url(&server, &format!("{base}?sort=size:asc&limit=5"))
        .await
        .json();
    assert_eq!(ids(&first), all_ids(&server.backups_sorted(&terms)[..5]));

    let gone = server.backups_sorted(&terms)[10].id.clone();
    assert!(server.delete_backup(&gone));
    let created = server.create_backups(3);
    let truth = all_ids(&server.backups_sorted(&terms));
    assert_eq!(truth.len(), 32);
    assert!(!truth.contains(&gone));
    assert!(created.iter().all(|b| truth.contains(&b.id)));
    let (seen, _) = walk(&server, format!("{base}?sort=size:asc&limit=6")).await;
    assert_eq!(seen, truth);

    let reply = get_url(&server, &format!("{base}?sort=size:asc&marker={gone}")).await;
    assert_eq!(reply.status, 404);
}

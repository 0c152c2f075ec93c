//! Issue 11, "Hardening": what a hostile server, a cleanup job and a broken runtime
//! must not get past. Each test failed before its fix; the raw TCP server on loopback
//! misbehaves in ways the embedded fake server will not.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{listing_requests, server, truth_ids};
use futures::{StreamExt, TryStreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use vbs_backups::{
    BackupSummary, Client, Cursor, ErrorKind, HttpOptions, ItemStream, RetryPolicy, SortDir,
    SortKey,
};
use vbs_backups_testing::{CannedResponse, FakeServer};

/// Retries without the production backoff.
fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .base_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(20))
}

/// A raw HTTP/1.1 server on loopback: every connection gets `chunks`, written one by
/// one with a pause between them (so the client reads them as separate chunks), then
/// the connection is closed. Counts the requests it answered.
async fn raw_server(chunks: Vec<Vec<u8>>) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let served = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&served);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let chunks = chunks.clone();
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0_u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                for chunk in chunks {
                    if socket.write_all(&chunk).await.is_err() {
                        return;
                    }
                    let _ = socket.flush().await;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                let _ = socket.shutdown().await;
            });
        }
    });
    (addr, served)
}

/// A complete response with this status line, extra headers and body.
fn response(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn raw_client(addr: SocketAddr, http: HttpOptions) -> Client {
    Client::builder()
        .endpoint(format!("http://{addr}/v2/p"))
        .token("secret-token-value")
        .http(http.no_proxy())
        .build()
        .expect("valid client")
}

// ---- 9: a giant announced Content-Length -------------------------------------------

#[tokio::test]
async fn a_giant_announced_content_length_does_not_abort_the_process() {
    // 2^50 bytes announced, a few sent, in two chunks, then the connection closes.
    let head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1125899906842624\r\n\r\n{\"backups\": [".to_vec();
    let (addr, _) = raw_server(vec![head, b"{\"id\": \"a\"}".to_vec()]).await;
    let client = raw_client(
        addr,
        HttpOptions::new()
            .max_response_bytes(usize::MAX)
            .retry_policy(RetryPolicy::disabled()),
    );
    let err = client
        .backups()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("the body breaks off");
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
}

// ---- 11: Keystone error bodies over 64 KiB ---------------------------------------------

#[cfg(feature = "keystone")]
#[tokio::test]
async fn a_keystone_error_body_over_64_kib_keeps_its_status_and_message() {
    use vbs_backups::keystone::KeystoneAuth;

    let mut body = b"<html><body><h1>401 Unauthorized</h1>The gateway refused the token.".to_vec();
    body.extend(std::iter::repeat_n(b' ', 100 * 1024));
    body.extend_from_slice(b"</body></html>");
    let (addr, served) = raw_server(vec![response(
        "401 Unauthorized",
        "content-type: text/html\r\n",
        &body,
    )])
    .await;
    let auth = KeystoneAuth::builder(format!("http://{addr}/v3"))
        .token("t0k3n-for-keystone")
        .http(
            HttpOptions::new()
                .no_proxy()
                .retry_policy(RetryPolicy::disabled()),
        )
        .build()
        .expect("valid auth");
    let err = auth.token_info().await.expect_err("refused");
    assert_eq!(err.status(), Some(401), "{err}");
    assert!(
        err.to_string()
            .contains("401 Unauthorized The gateway refused the token."),
        "{err}"
    );
    assert!(!err.to_string().contains("empty error body"), "{err}");
    assert_eq!(served.load(Ordering::SeqCst), 1);
}

// ---- 6: redaction must not mangle unrelated text -------------------------------------

#[tokio::test]
async fn a_short_token_does_not_mangle_unrelated_words_but_is_still_redacted() {
    let server = FakeServer::builder()
        .backups(3)
        .token("t")
        .start()
        .await
        .expect("server");
    server.push_response(CannedResponse::text(
        502,
        "text/plain",
        "upstream died; token t rejected",
    ));
    let err = common::builder(&server)
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap()
        .backups()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("502");
    assert_eq!(
        err.message(),
        "upstream died; token <redacted> rejected",
        "{err}"
    );
}

#[tokio::test]
async fn a_long_token_echoed_by_a_proxy_is_redacted_whole_before_truncation() {
    let token = "A".repeat(250);
    let server = FakeServer::builder()
        .backups(3)
        .token(token.clone())
        .start()
        .await
        .expect("server");
    server.push_response(CannedResponse::text(
        502,
        "text/html",
        format!("<html><body>Bad gateway. Request headers: X-Auth-Token: {token}</body></html>"),
    ));
    let err = common::builder(&server)
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap()
        .backups()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("502");
    assert!(!err.to_string().contains("AAAA"), "{err}");
    assert!(
        err.to_string().contains("X-Auth-Token: <redacted>"),
        "{err}"
    );
}

// ---- 10: Retry-After longer than the policy allows ------------------------------------

fn throttled(retry_after: &str) -> CannedResponse {
    CannedResponse::json(
        429,
        r#"{"overLimit": {"code": 429, "message": "slow down"}}"#,
    )
    .header("Retry-After", retry_after)
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_ends_at_once_with_retry_after_set() {
    let server = server(5).await;
    for _ in 0..5 {
        server.push_response(throttled("3600"));
    }
    let client = common::builder(&server)
        .retry_policy(quick_retries())
        .build()
        .unwrap();
    let err = client
        .backups()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("throttled");
    assert_eq!(err.status(), Some(429));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(
        listing_requests(&server).len(),
        1,
        "not retried before the hour the server asked for"
    );
}

#[tokio::test]
async fn a_retry_after_within_the_cap_is_waited_for_in_full_even_beyond_max_delay() {
    let server = server(5).await;
    server.push_response(throttled("1"));
    // max_delay is 20 ms; the server's one second still wins (it is under the 120 s cap).
    let client = common::builder(&server)
        .retry_policy(quick_retries())
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let all = client
        .backups()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect("retried once and done");
    assert_eq!(all.len(), 5);
    assert_eq!(listing_requests(&server).len(), 2);
    // A lower bound only: the retry came no earlier than the server said.
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_lower_retry_after_cap_is_the_callers_choice() {
    let server = server(5).await;
    server.push_response(throttled("2"));
    let client = common::builder(&server)
        .retry_policy(quick_retries().max_retry_after(Duration::from_secs(1)))
        .build()
        .unwrap();
    let err = client
        .backups()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("longer than the caller will wait");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
    assert!(!err.is_retryable() || err.status() == Some(429));
    assert_eq!(listing_requests(&server).len(), 1);
}

// ---- 14: a dead prefetch task, a runtime without timers ---------------------------------

#[test]
fn a_dead_prefetch_task_is_a_runtime_error_that_is_not_retryable() {
    let first = tokio::runtime::Runtime::new().expect("runtime");
    let (server, mut backups) = first.block_on(async {
        let server = server(50).await;
        let mut backups = common::builder(&server)
            .retry_policy(quick_retries())
            .build()
            .unwrap()
            .backups()
            .page_size(10)
            .prefetch(1)
            .stream();
        backups.next().await.expect("item").expect("ok");
        (server, backups)
    });
    drop(first);
    let second = tokio::runtime::Runtime::new().expect("runtime");
    let err = second.block_on(async {
        loop {
            match backups.next().await {
                Some(Ok(_)) => {}
                Some(Err(err)) => return err,
                None => panic!("ended quietly"),
            }
        }
    });
    drop(server);
    assert_eq!(err.kind(), ErrorKind::Runtime, "{err}");
    assert!(!err.is_retryable());
}

/// Serves `count` backups from a runtime of its own, for a client on another runtime.
fn server_on_its_own_runtime(count: usize) -> (tokio::runtime::Runtime, FakeServer) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let server = runtime.block_on(server(count));
    (runtime, server)
}

#[test]
fn a_runtime_without_the_time_driver_is_a_clear_error_not_a_panic() {
    let (_serving, server) = server_on_its_own_runtime(5);
    for prefetch in [0, 1] {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .expect("runtime");
        let client = common::client(&server);
        let result = runtime.block_on(async move {
            client
                .backups()
                .prefetch(prefetch)
                .stream()
                .try_collect::<Vec<_>>()
                .await
        });
        let err = result.expect_err("no timers");
        assert_eq!(err.kind(), ErrorKind::Runtime, "prefetch {prefetch}: {err}");
        assert!(err.to_string().contains("enable_time"), "{err}");
        assert!(!err.is_retryable());
    }
    assert!(server.requests().is_empty(), "nothing was sent");
}

// ---- 1, 2: step-back only where the order is stable, and only so far -----------------------

fn quick_client(server: &FakeServer) -> Client {
    common::builder(server)
        .retry_policy(quick_retries())
        .build()
        .expect("valid client")
}

async fn take(backups: &mut ItemStream<BackupSummary>, count: usize) -> Vec<String> {
    let mut taken = Vec::new();
    for _ in 0..count {
        taken.push(backups.next().await.expect("item").expect("ok").id);
    }
    taken
}

#[tokio::test]
async fn a_vanished_marker_under_a_sort_that_moves_backups_ends_with_an_error_and_a_cursor() {
    let server = server(40).await;
    let truth = truth_ids(&server.backups_sorted("status:asc").expect("sortable"));
    let client = quick_client(&server);
    let mut backups = client
        .backups()
        .sort(SortKey::Status, SortDir::Asc)
        .page_size(10)
        .prefetch(0)
        .stream();
    assert_eq!(take(&mut backups, 9).await, truth[..9]);
    // On a real Cinder a backup being deleted turns `deleting` and moves under this sort:
    // stepping back to an earlier id could then skip backups or end the walk short.
    // Someone else deletes the marker page 2 is about to be asked with.
    assert!(server.delete_backup(&truth[9]));
    let err = backups
        .next()
        .await
        .expect("an item")
        .expect_err("no step-back under status order");
    assert_eq!(err.kind(), ErrorKind::Pagination, "{err}");
    assert!(err.to_string().contains("sorted by `status:asc`"), "{err}");
    assert_eq!(err.resume_after(), Some(truth[8].as_str()));
    assert!(err.cursor().is_some());
    assert!(backups.next().await.is_none(), "ended");
    assert_eq!(
        listing_requests(&server).len(),
        2,
        "the vanished marker was asked for once; no earlier id was tried"
    );
}

#[tokio::test]
async fn a_vanished_marker_under_created_at_order_still_steps_back() {
    let server = server(40).await;
    let truth = truth_ids(&server.backups_sorted("created_at:asc").expect("sortable"));
    let client = quick_client(&server);
    let mut backups = client
        .backups()
        .sort(SortKey::CreatedAt, SortDir::Asc)
        .page_size(10)
        .prefetch(0)
        .stream();
    let mut seen = take(&mut backups, 9).await;
    // Someone else deletes the marker page 2 is about to be asked with.
    assert!(server.delete_backup(&truth[9]));
    seen.extend(
        backups
            .map_ok(|b| b.id)
            .try_collect::<Vec<_>>()
            .await
            .expect("steps back"),
    );
    let mut expected = truth.clone();
    expected.remove(9);
    assert_eq!(
        seen, expected,
        "every survivor once; the deleted marker never"
    );
}

#[tokio::test]
async fn deleting_a_whole_large_page_tries_at_most_16_earlier_ids() {
    let server = server(120).await;
    let truth = truth_ids(&server.backups());
    let client = quick_client(&server);
    let mut backups = client.backups().page_size(50).prefetch(0).stream();
    assert_eq!(take(&mut backups, 49).await, truth[..49]);
    // Someone else deletes the whole page, the marker of page 2 included: the summary
    // listing shows no creation times to find the place again.
    for id in &truth[..50] {
        assert!(server.delete_backup(id));
    }
    let err = backups
        .next()
        .await
        .expect("an item")
        .expect_err("nothing to step back to");
    assert_eq!(err.kind(), ErrorKind::Pagination, "{err}");
    assert!(err.to_string().contains("vanished"), "{err}");
    assert!(err.to_string().contains("Cleanup jobs"), "{err}");
    assert!(err.to_string().contains("none of the 16 backups"), "{err}");
    assert_eq!(err.resume_after(), Some(truth[48].as_str()));
    assert_eq!(
        listing_requests(&server).len(),
        1 + 1 + 16,
        "the first page, the vanished marker, then 16 earlier ids at most"
    );
}

/// The cleanup pattern of the README ("Cleanup jobs"): pages fetched on demand; each
/// page's backups are deleted except its last, which is deleted once the next page
/// (requested after it, so while it still exists) has come. Returns the ids seen.
async fn delete_as_you_go(
    client: &Client,
    mut delete: impl FnMut(&str) -> bool,
) -> vbs_backups::Result<Vec<String>> {
    let mut seen = Vec::new();
    let mut pages = client.backups().page_size(10).prefetch(0).pages();
    let mut held_back: Option<String> = None;
    while let Some(page) = pages.next().await {
        let page = page?; // requested after `held_back`, which still existed
        if let Some(id) = held_back.take() {
            delete(&id);
        }
        let mut ids: Vec<String> = page.items.into_iter().map(|b| b.id).collect();
        seen.extend(ids.iter().cloned());
        held_back = ids.pop();
        for id in &ids {
            delete(id); // a backup that cannot be deleted stays, and is not seen again
        }
    }
    if let Some(id) = held_back {
        delete(&id);
    }
    Ok(seen)
}

#[tokio::test]
async fn a_cleanup_job_deleting_as_it_goes_sees_every_backup_exactly_once() {
    let server = server(95).await;
    let truth = truth_ids(&server.backups());
    // One backup refuses to go (a real cloud: `error_deleting`, a lock, a policy).
    let stuck = truth[42].clone();
    let client = quick_client(&server);
    let mut attempts = Vec::new();
    let seen = delete_as_you_go(&client, |id| {
        attempts.push(id.to_owned());
        id != stuck && server.delete_backup(id)
    })
    .await
    .expect("the walk completes");
    assert_eq!(seen, truth, "every backup once, in order, none missed");
    assert_eq!(
        attempts, truth,
        "each deleted once, the stuck one tried once"
    );
    assert_eq!(
        truth_ids(&server.backups()),
        [stuck],
        "all but the stuck one are gone"
    );
    assert_eq!(
        listing_requests(&server).len(),
        10,
        "no step-back, no retry"
    );
    // A second run finds only the stuck backup, once.
    let again = delete_as_you_go(&client, |_| false)
        .await
        .expect("second run");
    assert_eq!(again, [truth[42].clone()]);
}

// ---- 3, 4: the cursor's string form, its bounds and its page budget ----------------------

#[tokio::test]
async fn a_cursor_round_trips_through_its_compact_url_safe_string() {
    let server = server(40).await;
    let client = quick_client(&server);
    let mut backups = client
        .backups()
        .status("available")
        .page_size(7)
        .max_pages(4)
        .prefetch(0)
        .stream();
    let _ = take(&mut backups, 10).await;
    let cursor = backups.cursor();
    let token = cursor.to_string();
    assert!(token.starts_with("vbs1."), "{token}");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')),
        "{token}"
    );
    assert_eq!(token.parse::<Cursor>().expect("parses"), cursor);
    assert_eq!(
        format!(" {token}\n").parse::<Cursor>().expect("trimmed"),
        cursor
    );
    for bad in [
        "",
        "vbs1.",
        "vbs1.!!!",
        "vbs2.e30",
        "eyJhIjoxfQ",
        "vbs1.e30",
    ] {
        let err = bad.parse::<Cursor>().expect_err(bad);
        assert_eq!(err.kind(), ErrorKind::Config, "{bad}");
    }
}

#[tokio::test]
async fn a_cursor_carries_the_pages_max_pages_still_allows() {
    let server = server(60).await;
    let client = quick_client(&server);
    let mut backups = client
        .backups()
        .page_size(10)
        .max_pages(3)
        .prefetch(0)
        .stream();
    let _ = take(&mut backups, 15).await;
    let json = serde_json::to_value(backups.cursor()).expect("json");
    assert_eq!(
        json["max_pages"], 2,
        "one page done, one being handed out: {json}"
    );
    drop(backups);
    let resumed = client
        .resume(serde_json::from_value(json).expect("cursor"))
        .expect("resumable");
    let mut rest = resumed.prefetch(0).stream();
    let mut more = 0;
    let err = loop {
        match rest.next().await.expect("item or error") {
            Ok(_) => more += 1,
            Err(err) => break err,
        }
    };
    assert_eq!(more, 20, "two pages, then the budget is spent");
    assert_eq!(err.kind(), ErrorKind::Pagination);
    assert!(err.to_string().contains("max_pages"), "{err}");
}

#[test]
fn a_deserialized_cursor_keeps_at_most_16_earlier_ids() {
    let earlier: Vec<String> = (0..10_000).map(|i| format!("id-{i}")).collect();
    let json = serde_json::json!({
        "format": 1, "project_id": "p", "api_version": "v2", "collection": "backups",
        "filters": [], "page_size": 10, "after": "last", "earlier": earlier,
    });
    let cursor: Cursor = serde_json::from_value(json).expect("cursor");
    let again = serde_json::to_value(&cursor).expect("json");
    let kept = again["earlier"].as_array().expect("earlier ids");
    assert_eq!(kept.len(), 16);
    assert_eq!(kept[0], "id-9984", "the newest are kept");
    assert_eq!(kept[15], "id-9999");
    let token = cursor.to_string();
    assert_eq!(token.parse::<Cursor>().expect("parses"), cursor);
}

// ---- 12: `/v3.0/{project}` catalog URLs ---------------------------------------------------

#[tokio::test]
async fn a_v3_0_or_v2_0_catalog_url_is_read_as_its_version_not_kept_as_a_prefix() {
    let server = server(3).await;
    for (segment, version, path) in [
        ("v3.0", vbs_backups::ApiVersion::V3, "v3"),
        ("v2.0", vbs_backups::ApiVersion::V2, "v2"),
    ] {
        let client = Client::builder()
            .endpoint(format!(
                "{}/{segment}/{}",
                server.endpoint(),
                server.project_id()
            ))
            .token(server.token().unwrap_or_default())
            .build()
            .expect("a catalog URL");
        assert_eq!(client.api_version(), version);
        assert_eq!(client.project_id(), server.project_id());
        server.clear_requests();
        let all = client
            .backups()
            .stream()
            .try_collect::<Vec<_>>()
            .await
            .expect("walk");
        assert_eq!(all.len(), 3);
        assert_eq!(
            server.requests()[0].path,
            format!("/{path}/{}/backups", server.project_id())
        );
    }
}

// ---- 7: configuration errors never echo credentials --------------------------------------

/// The message of every way `text` may be refused as an endpoint.
fn endpoint_refusals(text: &str) -> Vec<String> {
    let mut messages = Vec::new();
    for builder in [
        Client::builder().endpoint(text),
        Client::builder().endpoint(text).project_id("p"),
        Client::builder()
            .endpoint(text)
            .api_version(vbs_backups::ApiVersion::V3)
            .project_id("other"),
    ] {
        if let Err(err) = builder.build() {
            messages.push(format!("{err} / {err:?}"));
        }
    }
    messages
}

#[test]
fn endpoint_errors_never_echo_user_info_or_query() {
    for text in [
        "ftp://u:s3cret@h",
        "http://u:s3cret@h/v2/p",
        "http://u:s3cret@h:notaport/v2/p",
        "https://h/v2/p?X-Auth-Token=s3cret",
        "https://h/v2/p#s3cret",
        "https://h:99999999/v2/p?X-Auth-Token=s3cret",
        "https:///v2/p?token=s3cret",
        "http://h/v2/p?token=s3cret&x=1",
    ] {
        let messages = endpoint_refusals(text);
        assert!(!messages.is_empty(), "{text} is refused");
        for message in messages {
            assert!(!message.contains("s3cret"), "{text}: {message}");
        }
    }
    // A plain URL is still named in full.
    let err = Client::builder()
        .endpoint("ftp://h.example.com/v2/p")
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("ftp://h.example.com/v2/p"),
        "{err}"
    );
}

#[cfg(feature = "keystone")]
#[test]
fn auth_url_errors_never_echo_user_info_or_query() {
    use vbs_backups::keystone::KeystoneAuth;
    for text in [
        "ftp://u:s3cret@keystone",
        "http://u:s3cret@keystone/v3",
        "http://u:s3cret@keystone:bad/v3",
        "https://keystone/v3?password=s3cret",
        "https://keystone/v2.0?password=s3cret",
        "https://keystone/v2.0#s3cret",
    ] {
        let err = KeystoneAuth::builder(text).token("t").build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        let shown = format!("{err} / {err:?}");
        assert!(!shown.contains("s3cret"), "{text}: {shown}");
    }
}

#[cfg(feature = "keystone")]
#[tokio::test]
async fn an_endpoint_override_with_credentials_is_refused_without_echoing_them() {
    use vbs_backups::OpenStackConfig;
    let vars = [
        ("OS_AUTH_TOKEN", "t0k3n-for-override"),
        (
            "OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE",
            "http://u:s3cret@127.0.0.1:9/v3/$(other)s?token=s3cret",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let err = OpenStackConfig::from_env_vars(vars)
        .connect()
        .await
        .expect_err("refused");
    let shown = format!("{err} / {err:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
}

// ---- 5: terminal escapes from the server -------------------------------------------------

#[tokio::test]
async fn server_text_in_error_messages_cannot_drive_the_terminal() {
    let server = server(3).await;
    let evil = "\u{1b}]52;c;AAAA\u{7}";
    let page = serde_json::json!({
        "backups": [{"id": evil, "name": "x", "links": []}],
        "backups_links": [{"rel": "next", "href": format!("backups?marker={}", "%1B%5D52%3Bc%3BAAAA%07")}],
    })
    .to_string();
    server.push_response(CannedResponse::json(200, page.clone()));
    server.push_response(CannedResponse::json(200, page));
    let client = quick_client(&server);
    let mut backups = client.backups().prefetch(0).stream();
    let mut handed_out = Vec::new();
    let err = loop {
        match backups.next().await.expect("item or error") {
            Ok(backup) => handed_out.push(backup.id),
            Err(err) => break err,
        }
    };
    assert!(handed_out.len() <= 1, "the repeated page is not handed out");
    assert!(
        handed_out.iter().all(|id| id == evil),
        "data is data: ids are not altered"
    );
    assert_eq!(err.kind(), ErrorKind::Pagination);
    let shown = err.to_string();
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
    assert!(shown.contains(r"\u{1b}]52;c;AAAA\u{7}"), "{shown}");

    server.push_response(
        CannedResponse::text(500, "text/plain", format!("boom {evil}"))
            .header("x-openstack-request-id", "req-\u{9b}1"),
    );
    let err = common::builder(&server)
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap()
        .backups()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("500");
    let shown = err.to_string();
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
}

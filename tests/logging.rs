//! What a walk tells through `tracing`: a span per page request (page number,
//! marker, limit, items, attempt), each retry with its attempt and reason, and a
//! capped page size noticed once. Alone in its file: tracing caches which
//! callsites are enabled process-wide, so other tests' threads must not race it.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use std::time::Duration;

use common::collect;
use vbs_backups::RetryPolicy;
use vbs_backups_testing::{CannedResponse, FakeServer};

#[tokio::test]
async fn retries_and_capped_pages_are_logged_with_page_and_attempt() {
    let logs = common::Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let server = FakeServer::builder()
        .backups(40)
        .max_limit(8)
        .start()
        .await
        .expect("starts");
    server.push_response(CannedResponse::passthrough());
    server.push_response(CannedResponse::json(
        503,
        r#"{"computeFault": {"code": 503, "message": "try again"}}"#,
    ));
    let client = common::builder(&server)
        .retry_policy(RetryPolicy::default().base_delay(Duration::from_millis(1)))
        .build()
        .expect("valid client");
    let got = collect(client.backups().page_size(10).prefetch(0)).await;
    assert_eq!(got.len(), 40);

    let text = logs.text();
    let retry_lines: Vec<_> = text.lines().filter(|l| l.contains("retrying")).collect();
    assert_eq!(retry_lines.len(), 1, "{text}");
    assert!(retry_lines[0].contains("attempt=1"), "{}", retry_lines[0]);
    assert!(retry_lines[0].contains("HTTP 503"), "{}", retry_lines[0]);
    assert!(
        retry_lines[0].contains("page{number=2"),
        "{}",
        retry_lines[0]
    );
    let capped = text
        .lines()
        .filter(|l| l.contains("caps the page size"))
        .count();
    assert_eq!(capped, 1, "noticed once for the whole walk: {text}");
}

//! What the benchmarks share: runtimes, the servers, the crate's walk and the
//! hand-written cost floor it is measured against.
//!
//! The server always runs on a runtime of its own (one worker thread), the client on
//! a current-thread runtime: on a 2-core machine each gets a core, and the client's
//! figures are not mixed up with the server's scheduling.
#![allow(dead_code)] // each bench uses a different part of this module

pub mod entrants;

use std::collections::HashMap;
use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use futures::StreamExt;
use serde::Deserialize;
use tokio::runtime::Runtime;
use vbs_backups::Client;
use vbs_backups_testing::FakeServer;

/// The same request limits the crate's client uses, so the floor's reqwest client
/// does the same work per request (a timer per request included).
pub const TIMEOUT: Duration = Duration::from_secs(60);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A runtime for servers: one worker thread that runs them in the background.
pub fn server_runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("bench-server")
        .enable_all()
        .build()
        .expect("server runtime")
}

/// A runtime for the client under measurement.
pub fn client_runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime")
}

/// Starts a fake server on `runtime` (it keeps running there while `runtime` lives).
pub fn start_fake(runtime: &Runtime, backups: usize, latency: Duration) -> FakeServer {
    runtime.block_on(async {
        FakeServer::builder()
            .backups(backups)
            .latency(latency)
            .start()
            .await
            .expect("fake server starts")
    })
}

/// Where a client sends its requests.
#[derive(Debug, Clone)]
pub struct Target {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    pub project_id: String,
    pub token: String,
}

impl Target {
    pub fn of(server: &FakeServer) -> Self {
        Self {
            endpoint: server.endpoint(),
            project_id: server.project_id().to_owned(),
            token: server.token().unwrap_or_default().to_owned(),
        }
    }

    /// `{endpoint}/v2/{project}/backups`.
    pub fn collection(&self) -> String {
        format!("{}/v2/{}/backups", self.endpoint, self.project_id)
    }

    /// The crate's client for this target.
    pub fn client(&self) -> Client {
        Client::builder()
            .endpoint(&self.endpoint)
            .project_id(&self.project_id)
            .token(&self.token)
            .build()
            .expect("client")
    }
}

/// The floor's HTTP client: a plain reqwest client with the crate's timeouts.
pub fn floor_http() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent("vbs-backups-bench-floor")
        .timeout(TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .expect("reqwest client")
}

/// The floor's model: the fields of `BackupSummary` and of a page, plain derives.
#[derive(Debug, Deserialize)]
pub struct FloorLink {
    pub href: String,
    pub rel: String,
}

#[derive(Debug, Deserialize)]
pub struct FloorBackup {
    pub id: String,
    pub name: Option<String>,
    pub links: Vec<FloorLink>,
}

#[derive(Debug, Deserialize)]
pub struct FloorPage {
    pub backups: Vec<FloorBackup>,
    #[serde(default)]
    pub backups_links: Vec<FloorLink>,
}

/// One page request of the floor: GET, status check, whole body.
pub async fn get_bytes(http: &reqwest::Client, url: &str, token: &str) -> Bytes {
    http.get(url)
        .header("X-Auth-Token", token)
        .header(header::ACCEPT, "application/json")
        .send()
        .await
        .expect("request")
        .error_for_status()
        .expect("status 200")
        .bytes()
        .await
        .expect("body")
}

/// The URL of the page after `marker`, as the floor asks for it.
pub fn page_url(collection: &str, page_size: u32, marker: Option<&str>) -> String {
    match marker {
        Some(marker) => format!("{collection}?limit={page_size}&marker={marker}"),
        None => format!("{collection}?limit={page_size}"),
    }
}

/// The cost floor: requests each page by marker and deserializes it with
/// `serde_json::from_slice` into plain structs; returns the items seen. Calls
/// `on_body` with each request's path and query and its body (for the page cache).
pub async fn floor_walk_with(
    http: &reqwest::Client,
    target: &Target,
    page_size: u32,
    mut on_body: impl FnMut(&str, &Bytes),
) -> usize {
    let collection = target.collection();
    let mut marker: Option<String> = None;
    let mut count = 0;
    loop {
        let url = page_url(&collection, page_size, marker.as_deref());
        let body = get_bytes(http, &url, &target.token).await;
        on_body(&url[target.endpoint.len()..], &body);
        let page: FloorPage = serde_json::from_slice(&body).expect("a page");
        let next = page.backups_links.iter().any(|link| link.rel == "next");
        marker = page.backups.last().map(|last| last.id.clone());
        count += page.backups.len();
        for backup in page.backups {
            black_box(backup);
        }
        if !next || marker.is_none() {
            return count;
        }
    }
}

pub async fn floor_walk(http: &reqwest::Client, target: &Target, page_size: u32) -> usize {
    floor_walk_with(http, target, page_size, |_, _| {}).await
}

/// The crate's walk: every backup through `ItemStream`; returns the items seen.
pub async fn crate_walk(client: &Client, page_size: u32, prefetch: usize) -> usize {
    let mut backups = client
        .backups()
        .page_size(page_size)
        .prefetch(prefetch)
        .stream();
    let mut count = 0;
    while let Some(backup) = backups.next().await {
        black_box(backup.expect("backup"));
        count += 1;
    }
    count
}

/// Pages rendered ahead of time: path and query → body, as the fake server sent them.
pub type PageCache = Arc<HashMap<String, Bytes>>;

/// Serves `pages` on 127.0.0.1 from `runtime`: each request gets its body by a
/// reference-count increment, so serving costs almost nothing but the HTTP itself.
/// Anything not in the cache gets a 404, which fails the walk that asked for it.
pub fn start_cached(runtime: &Runtime, pages: PageCache) -> String {
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let app = axum::Router::new().fallback(serve_cached).with_state(pages);
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("cached server");
        });
        format!("http://{addr}")
    })
}

async fn serve_cached(State(pages): State<PageCache>, request: Request) -> Response {
    let key = request
        .uri()
        .path_and_query()
        .map_or("", |path_and_query| path_and_query.as_str());
    let (status, body) = match pages.get(key) {
        Some(body) => (StatusCode::OK, body.clone()),
        None => (StatusCode::NOT_FOUND, Bytes::from_static(b"{}")),
    };
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("response")
}

/// How long some walks took: on the wall clock, and on the CPU of the client thread
/// (the client runtime is current-thread, so every client task runs there).
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub wall: Duration,
    pub cpu: Duration,
}

/// Runs `walk` `iters` times on `runtime` and returns the time it took.
pub fn time_walks<F, Fut>(runtime: &Runtime, iters: u64, expected: usize, mut walk: F) -> Timing
where
    F: FnMut() -> Fut,
    Fut: Future<Output = usize>,
{
    runtime.block_on(async {
        let cpu = cpu_time::ThreadTime::now();
        let start = std::time::Instant::now();
        for _ in 0..iters {
            let seen = walk().await;
            assert_eq!(seen, expected, "a walk saw every backup exactly once");
        }
        Timing {
            wall: start.elapsed(),
            cpu: cpu.elapsed(),
        }
    })
}

/// The median of some samples (0 for none).
pub fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

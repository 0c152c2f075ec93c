//! The estate: 8 scopes × 20 pages, each page taking L = 50 ms at the server, walked
//! one scope at a time, 4 at once and 8 at once, against the ideal
//! `ceil(scopes / concurrency) × pages × L`; and 8 at once under a budget of R requests
//! a second, against the ideal `(requests − burst) / R`.
//!
//! ```sh
//! cargo bench --bench estate -- --warm-up-time 1 --measurement-time 1
//! ```
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // a bench fails loudly

mod common;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode};
use futures::StreamExt;
use vbs_backups::{BackupService, BackupSummary, Client, RequestBudget, Scope, ScopeSet};
use vbs_backups_testing::FakeServer;

use common::{Target, client_runtime, median, server_runtime};

const SCOPES: usize = 8;
const PAGES: usize = 20;
const PAGE_SIZE: usize = 10;
/// 19 full pages and a last one of 5: exactly 20 requests a scope.
const BACKUPS: usize = (PAGES - 1) * PAGE_SIZE + PAGE_SIZE / 2;
const LATENCY: Duration = Duration::from_millis(50);
/// The budget's rate in the rate-limited variant, requests a second.
const RATE: u32 = 40;
/// The budget's burst: requests that may go at once above the rate.
const BURST: usize = 5;

/// `(label, concurrency, max rate)`.
const VARIANTS: [(&str, usize, Option<u32>); 4] = [
    ("sequential", 1, None),
    ("concurrency_4", 4, None),
    ("concurrency_8", 8, None),
    ("concurrency_8_rate_40", 8, Some(RATE)),
];

fn clients(targets: &[Target], rate: Option<u32>) -> Vec<Client> {
    let budget = rate.map(RequestBudget::with_max_rate);
    targets
        .iter()
        .map(|target| {
            let builder = Client::builder()
                .endpoint(&target.endpoint)
                .project_id(&target.project_id)
                .token(&target.token);
            match &budget {
                Some(budget) => builder.budget(budget.clone()),
                None => builder,
            }
            .build()
            .expect("client")
        })
        .collect()
}

async fn walk(clients: Vec<Client>, concurrency: usize) -> usize {
    let set = clients.into_iter().enumerate().fold(
        ScopeSet::<BackupSummary>::new(),
        |set, (index, client)| {
            let scope = Scope::new(BackupService::Vbs, format!("r{index}"), client.project_id());
            set.add(scope, client, |c| c.backups().page_size(PAGE_SIZE as u32))
        },
    );
    let mut stream = set.concurrency(concurrency).stream();
    let mut seen = 0;
    while let Some(next) = stream.next().await {
        black_box(next.expect("no scope fails"));
        seen += 1;
    }
    seen
}

fn main() {
    let servers_runtime = server_runtime();
    let runtime = client_runtime();
    let servers: Vec<FakeServer> = (0..SCOPES)
        .map(|index| {
            servers_runtime.block_on(async {
                FakeServer::builder()
                    .backups(BACKUPS)
                    .seed(index as u64)
                    .latency(LATENCY)
                    .start()
                    .await
                    .expect("fake server starts")
            })
        })
        .collect();
    let targets: Vec<Target> = servers.iter().map(Target::of).collect();
    assert_eq!(
        runtime.block_on(walk(clients(&targets, None), SCOPES)),
        SCOPES * BACKUPS
    );
    for server in &servers {
        assert_eq!(server.request_count(), PAGES, "one request per page");
    }

    let samples: Mutex<BTreeMap<&'static str, Vec<f64>>> = Mutex::default();
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group(format!(
        "estate/{SCOPES}_scopes_x_{PAGES}_pages_L{}ms",
        LATENCY.as_millis()
    ));
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    for (label, concurrency, rate) in VARIANTS {
        group.bench_function(label, |b| {
            b.iter_custom(|iters| {
                let elapsed = runtime.block_on(async {
                    let mut elapsed = Duration::ZERO;
                    for _ in 0..iters {
                        // Building a client (TLS roots, connection pool) is set-up that
                        // a program does once, not part of a walk: out of the timing.
                        let clients = clients(&targets, rate);
                        let start = Instant::now();
                        let seen = walk(clients, concurrency).await;
                        elapsed += start.elapsed();
                        assert_eq!(seen, SCOPES * BACKUPS);
                    }
                    elapsed
                });
                samples
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry(label)
                    .or_default()
                    .push(elapsed.as_secs_f64() / iters as f64);
                elapsed
            });
        });
    }
    group.finish();
    criterion.final_summary();
    summarize(&samples.into_inner().unwrap_or_else(PoisonError::into_inner));
}

fn summarize(samples: &BTreeMap<&'static str, Vec<f64>>) {
    let latency = LATENCY.as_secs_f64();
    let requests = (SCOPES * PAGES) as f64;
    println!();
    println!(
        "== estate summary: {SCOPES} scopes x {PAGES} pages, L = {} ms; medians of criterion's samples",
        LATENCY.as_millis()
    );
    println!(
        "{:<22} {:>10} {:>12} {:>10} {:>14}",
        "variant", "wall", "ideal", "÷ ideal", "÷ sequential"
    );
    let sequential = samples.get("sequential").map(|s| median(s));
    for (label, concurrency, rate) in VARIANTS {
        let Some(wall) = samples.get(label).map(|s| median(s)) else {
            continue;
        };
        let ideal = match rate {
            Some(rate) => (requests - BURST as f64) / f64::from(rate),
            None => SCOPES.div_ceil(concurrency) as f64 * PAGES as f64 * latency,
        };
        let versus_sequential =
            sequential.map_or_else(|| "-".to_owned(), |s| format!("{:.3}", wall / s));
        println!(
            "{label:<22} {:>8.0} ms {:>9.0} ms {:>10.3} {versus_sequential:>14}",
            wall * 1e3,
            ideal * 1e3,
            wall / ideal
        );
    }
}

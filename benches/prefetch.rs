//! Prefetch: 50 pages from a server that takes L = 5 ms per page, consumed by code
//! that works W = 5 ms per page (an async sleep per page's worth of items), with
//! prefetch 0, 1 and 2, against the ideal `pages × max(L, W)` = 250 ms.
//!
//! Two calibration runs say what L and W really are on this machine (Tokio's timer
//! has a resolution of 1 ms, so a 5 ms sleep takes a little longer):
//! `fetch_alone` fetches every page without consumer work, `consumer_alone` does
//! the work without fetching. The best any pipeline can do is the slower of the
//! two, so `pages × max(L, W)` is also reported with the measured L and W.
//!
//! ```sh
//! cargo bench --bench prefetch -- --warm-up-time 1 --measurement-time 5
//! ```
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // a bench fails loudly

mod common;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput};
use futures::StreamExt;
use vbs_backups::Client;

use common::{Target, client_runtime, median, server_runtime, start_fake};

const PAGES: usize = 50;
const PAGE_SIZE: usize = 100;
/// 49 full pages and a last one of 50: exactly 50 requests (a full last page
/// would be followed by an empty one).
const BACKUPS: usize = (PAGES - 1) * PAGE_SIZE + PAGE_SIZE / 2;
const LATENCY: Duration = Duration::from_millis(5);
const WORK: Duration = Duration::from_millis(5);
const VARIANTS: [&str; 5] = [
    "prefetch_0",
    "prefetch_1",
    "prefetch_2",
    "fetch_alone",
    "consumer_alone",
];

/// Walks every backup, sleeping `work` after each page's worth of items (if any:
/// even a zero sleep waits for the next tick of Tokio's 1 ms timer).
async fn consume(client: &Client, prefetch: usize, work: Duration) -> usize {
    let mut backups = client
        .backups()
        .page_size(PAGE_SIZE as u32)
        .prefetch(prefetch)
        .stream();
    let mut seen = 0;
    while let Some(backup) = backups.next().await {
        black_box(backup.expect("backup"));
        seen += 1;
        if seen % PAGE_SIZE == 0 && !work.is_zero() {
            tokio::time::sleep(work).await;
        }
    }
    if seen % PAGE_SIZE != 0 && !work.is_zero() {
        tokio::time::sleep(work).await;
    }
    seen
}

/// The consumer's work alone: one sleep per page.
async fn work_alone() -> usize {
    for _ in 0..PAGES {
        tokio::time::sleep(WORK).await;
    }
    BACKUPS
}

fn main() {
    let servers = server_runtime();
    let runtime = client_runtime();
    let server = start_fake(&servers, BACKUPS, LATENCY);
    let client = Target::of(&server).client();
    // One walk to check the shape: exactly PAGES requests.
    assert_eq!(
        runtime.block_on(consume(&client, 0, Duration::ZERO)),
        BACKUPS
    );
    assert_eq!(server.request_count(), PAGES, "one request per page");

    let samples: Mutex<BTreeMap<&'static str, Vec<f64>>> = Mutex::default();
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group(format!(
        "prefetch/{PAGES}_pages_L{}ms_W{}ms",
        LATENCY.as_millis(),
        WORK.as_millis()
    ));
    group
        .throughput(Throughput::Elements(BACKUPS as u64))
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat);
    for variant in VARIANTS {
        group.bench_function(variant, |b| {
            b.iter_custom(|iters| {
                server.clear_requests();
                let elapsed = runtime.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let seen = match variant {
                            "prefetch_0" => consume(&client, 0, WORK).await,
                            "prefetch_1" => consume(&client, 1, WORK).await,
                            "prefetch_2" => consume(&client, 2, WORK).await,
                            "fetch_alone" => consume(&client, 0, Duration::ZERO).await,
                            _ => work_alone().await,
                        };
                        assert_eq!(seen, BACKUPS);
                    }
                    start.elapsed()
                });
                samples
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry(variant)
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
    let walk = |variant| {
        samples
            .get(variant)
            .map(|walks| median(walks))
            .filter(|s| *s > 0.0)
    };
    let pages = PAGES as f64;
    let nominal = pages * LATENCY.max(WORK).as_secs_f64();
    let measured = match (walk("fetch_alone"), walk("consumer_alone")) {
        (Some(server), Some(consumer)) => Some(server.max(consumer)),
        _ => None,
    };
    println!();
    println!(
        "== prefetch summary: {PAGES} pages of {PAGE_SIZE}, L = {} ms, W = {} ms; medians of criterion's samples",
        LATENCY.as_millis(),
        WORK.as_millis()
    );
    if let (Some(server), Some(consumer)) = (walk("fetch_alone"), walk("consumer_alone")) {
        println!(
            "measured per page: L = {:.2} ms (fetch alone), W = {:.2} ms (work alone)",
            server / pages * 1e3,
            consumer / pages * 1e3
        );
    }
    println!(
        "{:<11} {:>10} {:>16} {:>16}",
        "prefetch", "total", "÷ ideal 250 ms", "÷ measured ideal"
    );
    for (variant, label) in [
        ("prefetch_0", "0"),
        ("prefetch_1", "1 (default)"),
        ("prefetch_2", "2"),
    ] {
        let Some(total) = walk(variant) else {
            continue;
        };
        let versus_measured =
            measured.map_or_else(|| "-".to_owned(), |ideal| format!("{:.3}", total / ideal));
        println!(
            "{label:<11} {:>7.1} ms {:>16.3} {versus_measured:>16}",
            total * 1e3,
            total / nominal,
        );
    }
    if let (Some(none), Some(one)) = (walk("prefetch_0"), walk("prefetch_1")) {
        println!(
            "prefetch 0 ÷ prefetch 1: {:.2} (the time prefetch saves; ~2 when L = W)",
            none / one
        );
    }
}

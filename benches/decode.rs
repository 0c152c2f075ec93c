//! Decoding one 1000-item page, bytes → `Page<BackupSummary>`, against parsing the
//! same bytes into a `serde_json::Value` (and, for reference, into plain derived
//! structs, as the throughput floor does).
//!
//! The bytes are a real response of the embedded fake server, which writes pages
//! like Cinder does (Python's `json` separators and escapes, item links included).
//!
//! ```sh
//! cargo bench --features bench-internals --bench decode -- --warm-up-time 1 --measurement-time 5
//! ```
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // a bench fails loudly

mod common;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use vbs_backups::{BackupSummary, Page};

use common::{FloorPage, Target, client_runtime, floor_http, get_bytes, median, page_url};

const ITEMS: usize = 1000;

type Samples = Mutex<BTreeMap<&'static str, Vec<f64>>>;

fn main() {
    let body = {
        let runtime = client_runtime();
        runtime.block_on(async {
            let server = vbs_backups_testing::FakeServer::builder()
                .backups(ITEMS * 2)
                .start()
                .await
                .expect("fake server starts");
            let target = Target::of(&server);
            let url = page_url(&target.collection(), ITEMS as u32, None);
            get_bytes(&floor_http(), &url, &target.token).await
        })
    };
    let page = Page::<BackupSummary>::__decode_for_bench(&body).expect("a page");
    assert_eq!(page.len(), ITEMS);
    assert!(page.next_link.is_some());
    println!(
        "input: one page of {ITEMS} backups from the fake server, {} bytes",
        body.len()
    );

    let samples = Samples::default();
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("decode_1000_items");
    group.throughput(Throughput::Elements(ITEMS as u64));
    let mut bench = |name: &'static str, decode: &dyn Fn(&[u8])| {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    decode(black_box(&body));
                }
                let elapsed = start.elapsed();
                samples
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry(name)
                    .or_default()
                    .push(elapsed.as_secs_f64() / iters as f64);
                elapsed
            });
        });
    };
    bench("crate_page", &|bytes| {
        black_box(Page::<BackupSummary>::__decode_for_bench(bytes).expect("a page"));
    });
    bench("serde_json_value", &|bytes| {
        black_box(serde_json::from_slice::<serde_json::Value>(bytes).expect("JSON"));
    });
    bench("derived_structs", &|bytes| {
        black_box(serde_json::from_slice::<FloorPage>(bytes).expect("a page"));
    });
    group.finish();
    criterion.final_summary();

    let samples = samples.into_inner().unwrap_or_else(PoisonError::into_inner);
    let per_page = |name| samples.get(name).map(|s| median(s)).filter(|s| *s > 0.0);
    println!();
    println!("== decode summary: one page of {ITEMS} backups, median of criterion's samples");
    for name in ["crate_page", "serde_json_value", "derived_structs"] {
        if let Some(seconds) = per_page(name) {
            println!(
                "{name:<17} {:>8.1} µs/page {:>8.2} M items/s",
                Duration::from_secs_f64(seconds).as_secs_f64() * 1e6,
                ITEMS as f64 / seconds / 1e6
            );
        }
    }
    if let (Some(krate), Some(value), Some(derived)) = (
        per_page("crate_page"),
        per_page("serde_json_value"),
        per_page("derived_structs"),
    ) {
        println!(
            "serde_json::Value ÷ crate (time): {:.2} (target > 1: {}); crate ÷ derived structs (time): {:.2}",
            value / krate,
            if value > krate { "met" } else { "NOT met" },
            krate / derived
        );
    }
}

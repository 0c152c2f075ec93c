//! Decoding one 1000-item page, bytes → `Page<BackupSummary>`, against parsing the
//! same bytes into a `serde_json::Value` (and, for reference, into plain derived
//! structs, as the throughput floor does); and the detail and CBR pages, bytes →
//! `Page<BackupDetail>` / `Page<CbrBackup>`. Each shape is decoded both ways the crate
//! can: `crate_*` (the body checked as UTF-8 once, then parsed as a `str`, the crate's
//! path) and `bytes_*` (parsed as bytes, `serde_json` checking each string it keeps:
//! the crate's path before issue 19, still taken for a body that is not UTF-8).
//! `sonic_*` and `simd_*` drive the crate's same visitors with the SIMD parsers
//! `sonic-rs` and `simd-json` (the latter on a copy: it parses in place), the
//! candidates issue 19 asked to measure; neither is a dependency of the crate.
//!
//! The bytes are real responses of the embedded fake server, which writes pages
//! like Cinder (and CBR) do (Python's `json` separators and escapes, item links included).
//!
//! ```sh
//! cargo bench --features bench-internals --bench decode -- --warm-up-time 1 --measurement-time 5
//! ```
//!
//! Instruction counts, which the load of a shared machine cannot blur: with
//! `VBS_BENCH_INSTRUCTIONS=<entrant>` the bench decodes that entrant's page 5 times in
//! `measured_decodes` and nothing else, for callgrind:
//!
//! ```sh
//! B=$(cargo bench --features bench-internals --bench decode --no-run 2>&1 | grep -o 'target/release/deps/decode-[0-9a-f]*')
//! VBS_BENCH_INSTRUCTIONS=crate_page valgrind --tool=callgrind --toggle-collect='*measured_decodes*' --callgrind-out-file=/dev/null $B 2>&1 | grep Collected
//! ```
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // a bench fails loudly

mod common;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use vbs_backups::{BackupDetail, BackupSummary, CbrBackup, Listed, Page};

use common::{FloorPage, Target, client_runtime, floor_http, get_bytes, median, page_url};

const ITEMS: usize = 1000;

/// Decodes `input` 5 times: what callgrind counts (`--toggle-collect='*measured_decodes*'`).
#[inline(never)]
fn measured_decodes(input: &[u8], decode: &dyn Fn(&[u8])) {
    for _ in 0..5 {
        decode(black_box(input));
    }
}

type Samples = Mutex<BTreeMap<&'static str, Vec<f64>>>;

/// A 1000-item page of `path` (`{project}` replaced) from a fresh fake server.
fn fetch_page(cbr: bool, path: &str) -> axum::body::Bytes {
    client_runtime().block_on(async {
        let builder = vbs_backups_testing::FakeServer::builder().backups(ITEMS * 2);
        let server = if cbr { builder.cbr() } else { builder }
            .start()
            .await
            .expect("fake server starts");
        let target = Target::of(&server);
        let collection = format!(
            "{}/{}",
            target.endpoint,
            path.replace("{project}", &target.project_id)
        );
        let url = page_url(&collection, ITEMS as u32, None);
        get_bytes(&floor_http(), &url, &target.token).await
    })
}

/// A page decoded by `sonic-rs` (SIMD, serde support), through the crate's visitors.
fn sonic_page<T: Listed>(bytes: &[u8]) -> Page<T> {
    let mut json = sonic_rs::Deserializer::from_slice(bytes);
    let page = Page::<T>::__decode_with(&mut json).expect("sonic-rs: a page");
    json.end().expect("sonic-rs: nothing after the page");
    page
}

/// A page decoded by `simd-json` (SIMD, serde support), through the crate's visitors.
/// It parses in place, so it works on a copy: the crate's bodies are shared `Bytes`.
fn simd_page<T: Listed>(bytes: &[u8]) -> Page<T> {
    let mut copy = bytes.to_vec();
    let mut json = simd_json::Deserializer::from_slice(&mut copy).expect("simd-json: JSON");
    Page::<T>::__decode_with(&mut json).expect("simd-json: a page")
}

/// Checks that the SIMD parsers read `body` into the page the crate reads.
fn same_with_simd_parsers<T: Listed + PartialEq + std::fmt::Debug>(body: &[u8]) {
    let page = Page::<T>::__decode_for_bench(body).expect("a page");
    assert_eq!(sonic_page::<T>(body), page, "sonic-rs");
    assert_eq!(simd_page::<T>(body), page, "simd-json");
}

/// Checks that `body` decodes both ways into the same full page.
fn check<T: Listed + PartialEq + std::fmt::Debug>(body: &[u8]) {
    let page = Page::<T>::__decode_for_bench(body).expect("a page");
    assert_eq!(page.len(), ITEMS);
    assert_eq!(
        Ok(&page),
        Page::<T>::__decode_from_bytes_for_bench(body).as_ref()
    );
}

fn main() {
    let body = fetch_page(false, "v2/{project}/backups");
    let detail = fetch_page(false, "v3/{project}/backups/detail");
    let cbr = fetch_page(true, "v3/{project}/backups");
    check::<BackupSummary>(&body);
    check::<BackupDetail>(&detail);
    check::<CbrBackup>(&cbr);
    same_with_simd_parsers::<BackupSummary>(&body);
    same_with_simd_parsers::<BackupDetail>(&detail);
    same_with_simd_parsers::<CbrBackup>(&cbr);
    let page = Page::<BackupSummary>::__decode_for_bench(&body).expect("a page");
    assert!(page.next_link.is_some());
    println!(
        "input: one page of {ITEMS} backups from the fake server: summary {} bytes, detail {} bytes, CBR {} bytes",
        body.len(),
        detail.len(),
        cbr.len()
    );

    let instructions_of = std::env::var("VBS_BENCH_INSTRUCTIONS").ok();
    let samples = Samples::default();
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("decode_1000_items");
    group.throughput(Throughput::Elements(ITEMS as u64));
    let mut bench = |name: &'static str, input: &[u8], decode: &dyn Fn(&[u8])| {
        if let Some(entrant) = &instructions_of {
            if entrant == name {
                decode(input); // buffers warm
                measured_decodes(input, decode);
            }
            return;
        }
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    decode(black_box(input));
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
    bench("crate_page", &body, &|bytes| {
        black_box(Page::<BackupSummary>::__decode_for_bench(bytes).expect("a page"));
    });
    bench("bytes_page", &body, &|bytes| {
        black_box(Page::<BackupSummary>::__decode_from_bytes_for_bench(bytes).expect("a page"));
    });
    bench("serde_json_value", &body, &|bytes| {
        black_box(serde_json::from_slice::<serde_json::Value>(bytes).expect("JSON"));
    });
    bench("derived_structs", &body, &|bytes| {
        black_box(serde_json::from_slice::<FloorPage>(bytes).expect("a page"));
    });
    bench("crate_detail", &detail, &|bytes| {
        black_box(Page::<BackupDetail>::__decode_for_bench(bytes).expect("a page"));
    });
    bench("bytes_detail", &detail, &|bytes| {
        black_box(Page::<BackupDetail>::__decode_from_bytes_for_bench(bytes).expect("a page"));
    });
    bench("crate_cbr", &cbr, &|bytes| {
        black_box(Page::<CbrBackup>::__decode_for_bench(bytes).expect("a page"));
    });
    bench("bytes_cbr", &cbr, &|bytes| {
        black_box(Page::<CbrBackup>::__decode_from_bytes_for_bench(bytes).expect("a page"));
    });
    // The SIMD parsers with serde support, driving the crate's own visitors.
    bench("sonic_page", &body, &|bytes| {
        black_box(sonic_page::<BackupSummary>(bytes));
    });
    bench("simd_page", &body, &|bytes| {
        black_box(simd_page::<BackupSummary>(bytes));
    });
    bench("sonic_detail", &detail, &|bytes| {
        black_box(sonic_page::<BackupDetail>(bytes));
    });
    bench("simd_detail", &detail, &|bytes| {
        black_box(simd_page::<BackupDetail>(bytes));
    });
    bench("sonic_cbr", &cbr, &|bytes| {
        black_box(sonic_page::<CbrBackup>(bytes));
    });
    bench("simd_cbr", &cbr, &|bytes| {
        black_box(simd_page::<CbrBackup>(bytes));
    });
    group.finish();
    if instructions_of.is_some() {
        return;
    }
    criterion.final_summary();

    let samples = samples.into_inner().unwrap_or_else(PoisonError::into_inner);
    let per_page = |name: &str| samples.get(name).map(|s| median(s)).filter(|s| *s > 0.0);
    println!();
    println!("== decode summary: one page of {ITEMS} backups, median of criterion's samples");
    for name in [
        "crate_page",
        "bytes_page",
        "serde_json_value",
        "derived_structs",
        "crate_detail",
        "bytes_detail",
        "crate_cbr",
        "bytes_cbr",
        "sonic_page",
        "simd_page",
        "sonic_detail",
        "simd_detail",
        "sonic_cbr",
        "simd_cbr",
    ] {
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
    // Above 1: slower than the crate's own decode of that page.
    for shape in ["page", "detail", "cbr"] {
        let time = |way: &str| per_page(format!("{way}_{shape}").as_str());
        let Some(krate) = time("crate") else { continue };
        let ratio = |way| time(way).map_or("-".to_owned(), |t| format!("{:.2}", t / krate));
        println!(
            "{shape}: time ÷ crate's: parsed as bytes {}, sonic-rs {}, simd-json {}",
            ratio("bytes"),
            ratio("sonic"),
            ratio("simd")
        );
    }
}

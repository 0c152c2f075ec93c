//! Throughput: 100,000 backup summaries through `client.backups().stream()`, against
//! the cost floor: a hand-written loop over a plain `reqwest::Client` that asks for
//! each page by marker and decodes it with `serde_json::from_slice` into plain structs.
//!
//! Two servers, both on their own runtime thread:
//! - `cached`: every page rendered ahead of time by the fake server and served from
//!   memory, so the server's own work is out of the measurement (the headline figures);
//! - `live`: the embedded `FakeServer`, rendering each page on request.
//!
//! `transport_only` requests the same pages and reads their bodies without decoding
//! them: the cost of the server and of HTTP, which nothing on the client can remove.
//!
//! Then each entrant (HTTP alone, the floor, the crate; see `common/entrants.rs`) walks
//! the cached pages at page size 1000 in a fresh process of its own, for its items/s
//! and its peak RSS; `VBS_BENCH_ENTRANTS_ONLY=1` runs just that part.
//!
//! ```sh
//! cargo bench --bench throughput -- --warm-up-time 1 --measurement-time 5
//! VBS_BENCH_ENTRANTS_ONLY=1 cargo bench --bench throughput
//! ```
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // a bench fails loudly

mod common;

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput};
use tokio::runtime::Runtime;

use common::{
    PageCache, Target, client_runtime, crate_walk, floor_http, floor_walk, floor_walk_with,
    get_bytes, median, server_runtime, start_cached, start_fake, time_walks,
};

const BACKUPS: usize = 100_000;
const PAGE_SIZES: [u32; 2] = [1000, 100];
const VARIANTS: [&str; 4] = ["floor", "crate_prefetch0", "crate", "transport_only"];

/// Set to `floor`, `crate_prefetch0`, `crate`, `crate_prefetch2` or `transport_only` to run just 3 walks of that variant
/// (cached server, page size 1000) in [`measured_walks`], under callgrind:
/// instruction counts are the one figure a busy shared machine cannot blur.
///
/// ```sh
/// B=$(cargo bench --bench throughput --no-run 2>&1 | grep -o 'target/release/deps/throughput-[0-9a-f]*')
/// VBS_BENCH_INSTRUCTIONS=floor valgrind --tool=callgrind --toggle-collect='*measured_walks*' --callgrind-out-file=/dev/null $B 2>&1 | grep Collected
/// ```
const INSTRUCTIONS_VAR: &str = "VBS_BENCH_INSTRUCTIONS";

/// The walks whose instructions callgrind counts (`--toggle-collect='*measured_walks*'`).
#[inline(never)]
fn measured_walks(runtime: &Runtime, walk: impl Fn(&Runtime) -> common::Timing) {
    for _ in 0..3 {
        black_box(walk(runtime));
    }
}

/// Seconds per walk (wall clock, client CPU) of every sample criterion took, by
/// server, page size and variant.
type SampleMap = BTreeMap<(String, u32, &'static str), Vec<(f64, f64)>>;
type Samples = Mutex<SampleMap>;

struct Setup {
    name: &'static str,
    target: Target,
    /// The URLs of every page of a walk, per page size, for `transport_only`.
    urls: HashMap<u32, Vec<String>>,
}

/// Rounds of [`common::entrants`]: each entrant walks once a round, in a fresh process.
/// `VBS_BENCH_ROUNDS` sets another number (a loaded machine needs many for a median).
const ENTRANT_ROUNDS: usize = 5;

fn main() {
    if common::entrants::run_child_if_asked() {
        return;
    }
    let servers = server_runtime();
    let runtime = client_runtime();
    let fake = start_fake(&servers, BACKUPS, Duration::ZERO);
    let live = Target::of(&fake);
    let http = floor_http();

    // Render every page once, through the floor, and remember what was asked for.
    let mut cache = HashMap::new();
    let mut urls = HashMap::new();
    for page_size in PAGE_SIZES {
        let mut asked = Vec::new();
        let seen = runtime.block_on(floor_walk_with(&http, &live, page_size, |key, body| {
            asked.push(key.to_owned());
            cache.insert(key.to_owned(), body.clone());
        }));
        assert_eq!(seen, BACKUPS);
        urls.insert(page_size, asked);
    }
    let cached_endpoint = start_cached(&servers, PageCache::new(cache));
    let cached = Target {
        endpoint: cached_endpoint,
        ..live.clone()
    };
    if std::env::var_os("VBS_BENCH_ENTRANTS_ONLY").is_some() {
        entrants(&cached, &urls[&1000]);
        return;
    }
    if let Ok(variant) = std::env::var(INSTRUCTIONS_VAR) {
        let client = cached.client();
        let page_urls: Vec<String> = urls[&1000]
            .iter()
            .map(|key| format!("{}{key}", cached.endpoint))
            .collect();
        let walk = |runtime: &Runtime| match variant.as_str() {
            "transport_only" => time_walks(runtime, 1, BACKUPS, || async {
                for url in &page_urls {
                    black_box(get_bytes(&http, url, &cached.token).await);
                }
                BACKUPS
            }),
            "floor" => time_walks(runtime, 1, BACKUPS, || floor_walk(&http, &cached, 1000)),
            "crate_prefetch0" => time_walks(runtime, 1, BACKUPS, || crate_walk(&client, 1000, 0)),
            "crate" => time_walks(runtime, 1, BACKUPS, || crate_walk(&client, 1000, 1)),
            "crate_prefetch2" => time_walks(runtime, 1, BACKUPS, || crate_walk(&client, 1000, 2)),
            other => panic!(
                "{INSTRUCTIONS_VAR}={other}: expected floor, crate_prefetch0, crate, crate_prefetch2 or transport_only"
            ),
        };
        walk(&runtime); // connections and buffers warm
        measured_walks(&runtime, walk);
        return;
    }
    let setups = [
        Setup {
            name: "cached",
            target: cached,
            urls: urls.clone(),
        },
        Setup {
            name: "live",
            target: live,
            urls,
        },
    ];

    let samples = Samples::default();
    let mut criterion = Criterion::default().configure_from_args();
    for setup in &setups {
        for page_size in PAGE_SIZES {
            bench_one(
                &mut criterion,
                &runtime,
                &fake,
                &http,
                setup,
                page_size,
                &samples,
            );
        }
    }
    criterion.final_summary();
    let samples = samples.into_inner().unwrap_or_else(PoisonError::into_inner);
    summarize(&samples);
    // Criterion's samples of two benchmarks are taken seconds apart, and a shared
    // machine's load changes in between: the ratios are also measured in rounds that
    // alternate the walks, where both sides see the same load.
    if !std::env::args().any(|arg| ["--list", "--test", "--profile-time"].contains(&arg.as_str())) {
        let cached = &setups[0];
        entrants(&cached.target, &cached.urls[&1000]);
        for page_size in PAGE_SIZES {
            let ran = |variant| samples.contains_key(&(cached.name.to_owned(), page_size, variant));
            if ran("floor") && ran("crate_prefetch0") && ran("crate") {
                paired(&runtime, &http, &cached.target, page_size);
            }
        }
    }
}

/// Every entrant of [`common::entrants`] at page size 1000, `keys` being the path and
/// query of each page of a walk.
fn entrants(target: &Target, keys: &[String]) {
    let urls: Vec<String> = keys
        .iter()
        .map(|key| format!("{}{key}", target.endpoint))
        .collect();
    let rounds = std::env::var("VBS_BENCH_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(ENTRANT_ROUNDS);
    let reports = common::entrants::run_all(target, &urls, 1000, rounds);
    common::entrants::summarize(&reports, 1000);
}

/// Rounds of one floor walk and one crate walk of each prefetch, in rotating order;
/// prints the median of each round's crate ÷ floor (items/s, wall clock and CPU).
fn paired(runtime: &Runtime, http: &reqwest::Client, target: &Target, page_size: u32) {
    const ROUNDS: usize = 15;
    let client = target.client();
    let mut ratios: [Vec<(f64, f64)>; 2] = [Vec::new(), Vec::new()];
    for round in 0..ROUNDS {
        let mut times = [None; 3];
        for step in 0..3 {
            let which = (round + step) % 3;
            times[which] = Some(match which {
                0 => time_walks(runtime, 1, BACKUPS, || floor_walk(http, target, page_size)),
                1 => time_walks(runtime, 1, BACKUPS, || crate_walk(&client, page_size, 0)),
                _ => time_walks(runtime, 1, BACKUPS, || crate_walk(&client, page_size, 1)),
            });
        }
        if let [Some(floor), Some(p0), Some(p1)] = times {
            for (slot, krate) in ratios.iter_mut().zip([p0, p1]) {
                slot.push((
                    floor.wall.as_secs_f64() / krate.wall.as_secs_f64(),
                    floor.cpu.as_secs_f64() / krate.cpu.as_secs_f64(),
                ));
            }
        }
    }
    let [p0, p1] = ratios.map(|rounds| {
        let wall: Vec<f64> = rounds.iter().map(|(wall, _)| *wall).collect();
        let cpu: Vec<f64> = rounds.iter().map(|(_, cpu)| *cpu).collect();
        (median(&wall), median(&cpu))
    });
    println!(
        "paired, cached server, page size {page_size}, {ROUNDS} rounds: crate ÷ floor (items/s) \
         prefetch 0: {:.3} wall, {:.3} CPU; prefetch 1: {:.3} wall, {:.3} CPU",
        p0.0, p0.1, p1.0, p1.1
    );
}

fn bench_one(
    criterion: &mut Criterion,
    runtime: &Runtime,
    fake: &vbs_backups_testing::FakeServer,
    http: &reqwest::Client,
    setup: &Setup,
    page_size: u32,
    samples: &Samples,
) {
    let client = setup.target.client();
    let target = &setup.target;
    let urls: Vec<String> = setup.urls[&page_size]
        .iter()
        .map(|key| format!("{}{key}", target.endpoint))
        .collect();
    let mut group = criterion.benchmark_group(format!("{}/page_size_{page_size}", setup.name));
    group
        .throughput(Throughput::Elements(BACKUPS as u64))
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat);
    for variant in VARIANTS {
        group.bench_function(variant, |b| {
            b.iter_custom(|iters| {
                // The fake server logs every request: keep its log from growing.
                fake.clear_requests();
                let timing = match variant {
                    "floor" => time_walks(runtime, iters, BACKUPS, || {
                        floor_walk(http, target, page_size)
                    }),
                    "crate_prefetch0" => time_walks(runtime, iters, BACKUPS, || {
                        crate_walk(&client, page_size, 0)
                    }),
                    "crate" => time_walks(runtime, iters, BACKUPS, || {
                        crate_walk(&client, page_size, 1)
                    }),
                    _ => time_walks(runtime, iters, BACKUPS, || async {
                        for url in &urls {
                            black_box(get_bytes(http, url, &target.token).await);
                        }
                        BACKUPS
                    }),
                };
                samples
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry((setup.name.to_owned(), page_size, variant))
                    .or_default()
                    .push((
                        timing.wall.as_secs_f64() / iters as f64,
                        timing.cpu.as_secs_f64() / iters as f64,
                    ));
                timing.wall
            });
        });
    }
    group.finish();
}

/// Prints items/s, CPU time and the ratios, from the medians of criterion's samples.
fn summarize(samples: &SampleMap) {
    let per_walk = |server: &str, page_size: u32, variant: &'static str| {
        let walks = samples.get(&(server.to_owned(), page_size, variant))?;
        let wall: Vec<f64> = walks.iter().map(|(wall, _)| *wall).collect();
        let cpu: Vec<f64> = walks.iter().map(|(_, cpu)| *cpu).collect();
        Some((median(&wall), median(&cpu))).filter(|(wall, _)| *wall > 0.0)
    };
    let rate = |seconds: Option<f64>| {
        seconds.map_or_else(
            || "-".to_owned(),
            |s| format!("{:.0}k", BACKUPS as f64 / s / 1e3),
        )
    };
    let ratio = |floor: Option<f64>, other: Option<f64>| match (floor, other) {
        (Some(floor), Some(other)) => format!("{:.3}", floor / other),
        _ => "-".to_owned(),
    };
    let micros = |seconds: Option<f64>, pages: f64| {
        seconds.map_or_else(|| "-".to_owned(), |s| format!("{:.0}", s / pages * 1e6))
    };
    println!();
    println!("== throughput summary: {BACKUPS} backups per walk; medians of criterion's samples");
    println!(
        "items/s (wall clock) and crate ÷ floor (items/s; ≥ 0.95 is the target at page size 1000):"
    );
    println!(
        "{:<7} {:>5} {:>9} {:>9} {:>9} {:>10} {:>8} {:>8}",
        "server", "page", "floor", "crate p0", "crate p1", "http only", "p0÷floor", "p1÷floor"
    );
    for server in ["cached", "live"] {
        for page_size in PAGE_SIZES {
            let wall = |variant| per_walk(server, page_size, variant).map(|(wall, _)| wall);
            let floor = wall("floor");
            let (p0, p1) = (wall("crate_prefetch0"), wall("crate"));
            println!(
                "{server:<7} {page_size:>5} {:>9} {:>9} {:>9} {:>10} {:>8} {:>8}",
                rate(floor),
                rate(p0),
                rate(p1),
                rate(wall("transport_only")),
                ratio(floor, p0),
                ratio(floor, p1),
            );
        }
    }
    println!(
        "client-thread CPU µs per page, and floor CPU ÷ crate CPU (immune to other load on the machine):"
    );
    println!(
        "{:<7} {:>5} {:>9} {:>9} {:>9} {:>10} {:>8} {:>8}",
        "server", "page", "floor", "crate p0", "crate p1", "http only", "p0÷floor", "p1÷floor"
    );
    for server in ["cached", "live"] {
        for page_size in PAGE_SIZES {
            let pages = BACKUPS.div_ceil(page_size as usize) as f64;
            let cpu = |variant| per_walk(server, page_size, variant).map(|(_, cpu)| cpu);
            let floor = cpu("floor");
            let (p0, p1) = (cpu("crate_prefetch0"), cpu("crate"));
            println!(
                "{server:<7} {page_size:>5} {:>9} {:>9} {:>9} {:>10} {:>8} {:>8}",
                micros(floor, pages),
                micros(p0, pages),
                micros(p1, pages),
                micros(cpu("transport_only"), pages),
                ratio(floor, p0),
                ratio(floor, p1),
            );
        }
    }
    for page_size in PAGE_SIZES {
        let pages = BACKUPS.div_ceil(page_size as usize) as f64;
        let wall = |server, variant| per_walk(server, page_size, variant).map(|(wall, _)| wall);
        if let (Some(live), Some(cached), Some(floor)) = (
            wall("live", "transport_only"),
            wall("cached", "transport_only"),
            wall("live", "floor"),
        ) {
            println!(
                "page size {page_size}: a page costs {:.0} µs of server and HTTP from the live fake server, \
                 {:.0} µs from the cache; rendering is {:.0}% of a floor walk on the live server",
                live / pages * 1e6,
                cached / pages * 1e6,
                (live - cached).max(0.0) / floor * 100.0,
            );
        }
    }
}

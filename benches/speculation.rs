//! Speculation (the next request sent while a page decodes) against a server with
//! latency: 100,000 backups at page size 1000 from the embedded fake server, which
//! renders every page and waits `VBS_BENCH_LATENCY_MS` (default 2) before answering,
//! walked with prefetch 1 (no room to speculate) and prefetch 2 and 3 (room for the
//! next request while a page decodes). Walks alternate; medians of 7 rounds.
//!
//! ```sh
//! cargo bench --bench speculation
//! VBS_BENCH_LATENCY_MS=0 cargo bench --bench speculation
//! ```
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // a bench fails loudly

mod common;

use std::time::{Duration, Instant};

use common::{Target, client_runtime, crate_walk, median, server_runtime, start_fake};

const BACKUPS: usize = 100_000;
const PREFETCHES: [usize; 3] = [1, 2, 3];
const ROUNDS: usize = 7;

fn main() {
    let latency = std::env::var("VBS_BENCH_LATENCY_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(2);
    let servers = server_runtime();
    let runtime = client_runtime();
    let fake = start_fake(&servers, BACKUPS, Duration::from_millis(latency));
    let client = Target::of(&fake).client();
    let mut walls = vec![Vec::new(); PREFETCHES.len()];
    for _ in 0..ROUNDS {
        for (walls, prefetch) in walls.iter_mut().zip(PREFETCHES) {
            let start = Instant::now();
            let seen = runtime.block_on(crate_walk(&client, 1000, prefetch));
            assert_eq!(seen, BACKUPS);
            walls.push(start.elapsed().as_secs_f64());
        }
    }
    println!("== speculation, server latency {latency} ms, medians of {ROUNDS} walks");
    let base = median(&walls[0]);
    for (walls, prefetch) in walls.iter().zip(PREFETCHES) {
        let wall = median(walls);
        println!(
            "prefetch {prefetch}: {:.1} ms a walk, {:.0}k items/s, {:.3} × prefetch 1's speed",
            wall * 1e3,
            BACKUPS as f64 / wall / 1e3,
            base / wall
        );
    }
}

//! Entrants in processes of their own: each walk of 100,000 backups runs in a fresh
//! child process (this bench binary run again), so that its peak resident set
//! (`VmHWM` in `/proc/self/status`, Linux only) is its own and not the bench's or
//! the server's. The parent serves the pages; each child walks them once and reports
//! its wall time, its CPU time and its peak.
//!
//! The entrants: `http` (every page requested and its body read, nothing decoded),
//! `floor` (the hand-written reqwest + `serde_json` loop), `crate` (the crate's default
//! stream, prefetch 1), `crate_p0` (prefetch 0) and `crate_p2` (prefetch 2, room for
//! the next request to go out while a page decodes), all on a current-thread runtime as
//! the floor's; `floor_mt` and `crate_mt` on Tokio's default multi-thread runtime (what
//! `#[tokio::main]` and the command use), to tell the runtime's share of a peak from
//! the crate's; and `idle`, a process that starts a runtime and walks nothing.

use std::io::Write;
use std::process::Command;
use std::time::Instant;

use tokio::runtime::Runtime;

use super::{Target, crate_walk, floor_http, floor_walk, get_bytes, median};

/// Set in a child: which entrant to run (the rest of the setup comes in the variables below).
pub const ENTRANT_VAR: &str = "VBS_BENCH_ENTRANT";
const ENDPOINT_VAR: &str = "VBS_BENCH_ENDPOINT";
const PROJECT_VAR: &str = "VBS_BENCH_PROJECT";
const TOKEN_VAR: &str = "VBS_BENCH_TOKEN";
const URLS_VAR: &str = "VBS_BENCH_URLS";
const PAGE_SIZE_VAR: &str = "VBS_BENCH_PAGE_SIZE";

pub const ENTRANTS: [&str; 8] = [
    "idle", "http", "floor", "crate", "crate_p0", "crate_p2", "floor_mt", "crate_mt",
];

/// What one child reported.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    pub items: usize,
    pub wall: f64,
    pub cpu: f64,
    pub peak_kib: u64,
}

/// In a child (`VBS_BENCH_ENTRANT` set): runs the entrant, prints its report and
/// returns true. In the parent: returns false.
pub fn run_child_if_asked() -> bool {
    let Ok(entrant) = std::env::var(ENTRANT_VAR) else {
        return false;
    };
    let var = |name| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
    let target = Target {
        endpoint: var(ENDPOINT_VAR),
        project_id: var(PROJECT_VAR),
        token: var(TOKEN_VAR),
    };
    let page_size: u32 = var(PAGE_SIZE_VAR).parse().expect("a page size");
    let runtime = if entrant.ends_with("_mt") {
        Runtime::new().expect("multi-thread runtime")
    } else {
        super::client_runtime()
    };
    let cpu = cpu_time::ProcessTime::now();
    let start = Instant::now();
    let items = runtime.block_on(async {
        match entrant.as_str() {
            "idle" => 0,
            "http" => {
                let http = floor_http();
                let urls = std::fs::read_to_string(var(URLS_VAR)).expect("the URL list");
                let mut items = 0;
                for url in urls.lines() {
                    let body = get_bytes(&http, url, &target.token).await;
                    items += page_size as usize;
                    drop(std::hint::black_box(body));
                }
                items
            }
            "floor" | "floor_mt" => floor_walk(&floor_http(), &target, page_size).await,
            "crate" | "crate_mt" => crate_walk(&target.client(), page_size, 1).await,
            "crate_p0" => crate_walk(&target.client(), page_size, 0).await,
            "crate_p2" => crate_walk(&target.client(), page_size, 2).await,
            other => panic!("{ENTRANT_VAR}={other}: expected one of {ENTRANTS:?}"),
        }
    });
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu.elapsed().as_secs_f64();
    println!(
        "items={items} wall={wall} cpu={cpu} peak_kib={}",
        status_kib("VmHWM")
    );
    true
}

/// Runs every entrant `rounds` times, each in a fresh process, in rotating order;
/// returns the reports by entrant.
pub fn run_all(
    target: &Target,
    urls: &[String],
    page_size: u32,
    rounds: usize,
) -> Vec<(&'static str, Vec<Report>)> {
    let mut list = tempfile::NamedTempFile::new().expect("a temporary file");
    for url in urls {
        writeln!(list, "{url}").expect("the URL list");
    }
    let exe = std::env::current_exe().expect("this bench's path");
    let mut reports: Vec<(&'static str, Vec<Report>)> =
        ENTRANTS.iter().map(|name| (*name, Vec::new())).collect();
    for round in 0..rounds {
        for step in 0..ENTRANTS.len() {
            let which = (round + step) % ENTRANTS.len();
            let output = Command::new(&exe)
                .env(ENTRANT_VAR, ENTRANTS[which])
                .env(ENDPOINT_VAR, &target.endpoint)
                .env(PROJECT_VAR, &target.project_id)
                .env(TOKEN_VAR, &target.token)
                .env(URLS_VAR, list.path())
                .env(PAGE_SIZE_VAR, page_size.to_string())
                .output()
                .expect("the entrant runs");
            let text = String::from_utf8_lossy(&output.stdout);
            assert!(output.status.success(), "{}: {text}", ENTRANTS[which]);
            reports[which].1.push(parse(&text));
        }
    }
    reports
}

fn parse(line: &str) -> Report {
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("no {name} in `{line}`"))
    };
    Report {
        items: field("items").parse().expect("items"),
        wall: field("wall").parse().expect("wall"),
        cpu: field("cpu").parse().expect("cpu"),
        peak_kib: field("peak_kib").parse().expect("peak"),
    }
}

/// Prints each entrant's median items/s (wall clock), CPU time per walk and peak RSS,
/// and the ratios to the floor's.
pub fn summarize(reports: &[(&'static str, Vec<Report>)], page_size: u32) {
    let stat = |name: &str, of: fn(&Report) -> f64| {
        let all = &reports.iter().find(|(entrant, _)| *entrant == name)?.1;
        let values: Vec<f64> = all.iter().map(of).collect();
        Some(median(&values)).filter(|_| !values.is_empty())
    };
    let rate = |name: &str| {
        let items = stat(name, |r| r.items as f64)?;
        Some(items / stat(name, |r| r.wall)?).filter(|rate| *rate > 0.0)
    };
    let floor_rate = rate("floor");
    let floor_peak = stat("floor", |r| r.peak_kib as f64);
    println!();
    println!(
        "== entrants, each walk in a fresh process, page size {page_size}: medians of {} rounds",
        reports.first().map_or(0, |(_, r)| r.len())
    );
    println!(
        "{:<9} {:>10} {:>10} {:>12} {:>11} {:>11}",
        "entrant", "items/s", "÷ floor", "CPU s/walk", "peak KiB", "÷ floor"
    );
    for (name, _) in reports {
        let items_per_s = rate(name);
        let peak = stat(name, |r| r.peak_kib as f64);
        let fmt_ratio = |value: Option<f64>, floor: Option<f64>| match (value, floor) {
            (Some(value), Some(floor)) if floor > 0.0 => format!("{:.3}", value / floor),
            _ => "-".to_owned(),
        };
        println!(
            "{name:<9} {:>10} {:>10} {:>12} {:>11} {:>11}",
            items_per_s.map_or("-".to_owned(), |r| format!("{:.0}k", r / 1e3)),
            fmt_ratio(items_per_s, floor_rate),
            stat(name, |r| r.cpu).map_or("-".to_owned(), |s| format!("{s:.3}")),
            peak.map_or("-".to_owned(), |p| format!("{p:.0}")),
            fmt_ratio(peak, floor_peak),
        );
    }
}

/// A `kB` field of `/proc/self/status`.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status (Linux only)"))
}

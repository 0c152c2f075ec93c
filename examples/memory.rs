//! Peak memory of a client walking 10,000, 100,000 and 1,000,000 backups (page size
//! 1000): flat in the total, because a stream holds at most `1 + prefetch` pages.
//!
//! ```sh
//! cargo run --release --example memory
//! ```
//!
//! Each measurement uses two fresh processes, both this program run again: one serves
//! the backups (`--serve N`: the fake server holds all N in memory, which must not be
//! counted), the other walks them (`--walk …`) and reports its own peak resident set
//! (`VmHWM` in `/proc/self/status`, Linux only). Fresh processes, so no run inherits
//! the peak of the one before.

use std::error::Error;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdout, Command, Stdio};

use futures::StreamExt;
use vbs_backups::Client;
use vbs_backups_testing::FakeServer;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const TOTALS: [u64; 3] = [10_000, 100_000, 1_000_000];
const PAGE_SIZE: u32 = 1000;
/// The target: the largest walk's peak at most this times the smallest's.
const MAX_GROWTH: f64 = 1.5;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => compare(),
        [mode, total] if mode == "--serve" => serve(total.parse()?),
        [mode, endpoint, project, token, total] if mode == "--walk" => {
            walk(endpoint, project, token, total.parse()?)
        }
        _ => Err("usage: memory [--serve N | --walk ENDPOINT PROJECT TOKEN N]".into()),
    }
}

/// Runs one server and one walking client per total, and prints their peaks.
fn compare() -> Result<()> {
    println!(
        "page size {PAGE_SIZE}, default prefetch (1); each row: a fresh server process and a fresh client process"
    );
    println!(
        "{:>10} {:>17} {:>17} {:>17}",
        "backups", "client VmHWM", "client VmRSS end", "server VmHWM"
    );
    let mut peaks = Vec::new();
    for total in TOTALS {
        let (client, server) = measure(total)?;
        println!(
            "{total:>10} {:>14} KiB {:>14} KiB {:>14} KiB",
            client.peak_kib, client.rss_kib, server
        );
        peaks.push((total, client.peak_kib));
    }
    if let (Some((small, small_peak)), Some((large, large_peak))) = (peaks.first(), peaks.last()) {
        let growth = *large_peak as f64 / *small_peak as f64;
        let verdict = if growth <= MAX_GROWTH {
            "met"
        } else {
            "NOT met"
        };
        println!(
            "client peak for {large} ÷ for {small}: {growth:.2} (target ≤ {MAX_GROWTH}: {verdict})"
        );
    }
    Ok(())
}

/// What a walking client reports about itself.
struct ClientMemory {
    peak_kib: u64,
    rss_kib: u64,
}

fn measure(total: u64) -> Result<(ClientMemory, u64)> {
    let exe = std::env::current_exe()?;
    let mut server = Command::new(&exe)
        .args(["--serve", &total.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut result = walk_against(&exe, &mut server, total);
    // Closing its stdin tells the server to report its peak and exit.
    drop(server.stdin.take());
    let server_peak = match &mut result {
        Ok((_, stdout)) => read_line(stdout)?,
        Err(_) => {
            // Our own child, stopped by its handle.
            let _ = server.kill();
            String::new()
        }
    };
    let status = server.wait()?;
    let (client, _) = result?;
    if !status.success() {
        return Err(format!("the server process failed: {status}").into());
    }
    Ok((client, server_peak.trim().parse()?))
}

fn walk_against(
    exe: &std::path::Path,
    server: &mut Child,
    total: u64,
) -> Result<(ClientMemory, BufReader<ChildStdout>)> {
    let stdout = server.stdout.take().ok_or("no server stdout")?;
    let mut stdout = BufReader::new(stdout);
    let address = read_line(&mut stdout)?;
    let mut parts = address.split_whitespace();
    let (Some(endpoint), Some(project), Some(token)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("the server said `{address}`, not where it listens").into());
    };
    let output = Command::new(exe)
        .args(["--walk", endpoint, project, token, &total.to_string()])
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err(format!("the walking process failed: {}", output.status).into());
    }
    let report = String::from_utf8(output.stdout)?;
    let mut numbers = report.split_whitespace().map(str::parse::<u64>);
    let (Some(Ok(peak_kib)), Some(Ok(rss_kib))) = (numbers.next(), numbers.next()) else {
        return Err(format!("the walking process said `{report}`").into());
    };
    Ok((ClientMemory { peak_kib, rss_kib }, stdout))
}

fn read_line(reader: &mut impl BufRead) -> Result<String> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err("the server process ended early".into());
    }
    Ok(line)
}

/// `--serve N`: serves N backups until stdin closes, then prints its own peak.
fn serve(total: usize) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let server = runtime.block_on(FakeServer::builder().backups(total).start())?;
    let mut stdout = std::io::stdout();
    writeln!(
        stdout,
        "{} {} {}",
        server.endpoint(),
        server.project_id(),
        server.token().unwrap_or("none")
    )?;
    stdout.flush()?;
    std::io::stdin().read_to_end(&mut Vec::new())?;
    drop(server);
    writeln!(stdout, "{}", status_kib("VmHWM")?)?;
    Ok(())
}

/// `--walk …`: walks every backup, checks the count, prints its peak and current RSS.
fn walk(endpoint: &str, project: &str, token: &str, total: u64) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let client = Client::builder()
        .endpoint(endpoint)
        .project_id(project)
        .token(token)
        .build()?;
    let seen = runtime.block_on(async {
        let mut backups = client.backups().page_size(PAGE_SIZE).stream();
        let mut seen = 0_u64;
        while let Some(backup) = backups.next().await {
            std::hint::black_box(backup?);
            seen += 1;
        }
        Ok::<_, vbs_backups::Error>(seen)
    })?;
    if seen != total {
        return Err(format!("walked {seen} backups, expected {total}").into());
    }
    println!("{} {}", status_kib("VmHWM")?, status_kib("VmRSS")?);
    Ok(())
}

/// A `kB` field of `/proc/self/status`.
fn status_kib(field: &str) -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let value = status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .ok_or_else(|| format!("no {field} in /proc/self/status (Linux only)"))?;
    Ok(value.trim().trim_end_matches("kB").trim().parse()?)
}

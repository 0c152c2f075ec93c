//! The three ways to use a backup stream, against the embedded fake server.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! To point it at a real cloud instead, set `OS_VOLUME_ENDPOINT` (a service root or a
//! catalog URL ending in `/v2/{project_id}`), `OS_PROJECT_ID` and `OS_AUTH_TOKEN`.

use std::time::Instant;

use futures::{StreamExt, TryStreamExt};
use tokio::sync::mpsc;
use vbs_backups::{BackupStatus, Client};
use vbs_backups_testing::FakeServer;

const BACKUPS: usize = 5_000;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Keeps the fake server alive for the whole run when it is used.
    let (client, _server) = match std::env::var("OS_VOLUME_ENDPOINT") {
        Ok(endpoint) => {
            let mut builder = Client::builder().endpoint(endpoint);
            if let Ok(project) = std::env::var("OS_PROJECT_ID") {
                builder = builder.project_id(project);
            }
            if let Ok(token) = std::env::var("OS_AUTH_TOKEN") {
                builder = builder.token(token);
            }
            (builder.build()?, None)
        }
        Err(_) => {
            let server = FakeServer::builder().backups(BACKUPS).start().await?;
            println!(
                "embedded fake VBS server on {} with {BACKUPS} backups\n",
                server.endpoint()
            );
            let client = Client::builder()
                .endpoint(server.endpoint())
                .project_id(server.project_id())
                .token(server.token().unwrap_or_default())
                .build()?;
            (client, Some(server))
        }
    };

    // 1. `while let`: every backup, one at a time, with a running count.
    let started = Instant::now();
    let mut backups = client.backups().page_size(500).stream();
    let mut count = 0_usize;
    while let Some(backup) = backups.next().await {
        let backup = backup?;
        count += 1;
        if count <= 3 {
            let name = backup.name.as_deref().unwrap_or("(unnamed)");
            println!("  #{count:<5} {}  {name}", backup.id);
        } else if count % 1000 == 0 {
            println!("  … {count} backups so far");
        }
    }
    println!(
        "1. while let: {count} backups in {:.0?}\n",
        started.elapsed()
    );

    // 2. `try_collect`: the available backups, at most 1000 of them, into a Vec.
    let available: Vec<_> = client
        .backups()
        .status(BackupStatus::Available)
        .max_items(1000)
        .stream()
        .try_collect()
        .await?;
    println!(
        "2. try_collect: {} available backups in a Vec",
        available.len()
    );
    if let Some(first) = available.first() {
        println!("   first: {} {:?}\n", first.id, first.name);
    }

    // 3. A pipeline: named backups flow through a bounded channel to a worker, so
    //    a slow consumer holds the listing back instead of piling up memory.
    let (sender, mut receiver) = mpsc::channel::<String>(64);
    let worker = tokio::spawn(async move {
        let mut longest = String::new();
        let mut received = 0_usize;
        while let Some(name) = receiver.recv().await {
            received += 1;
            if name.chars().count() > longest.chars().count() {
                longest = name;
            }
        }
        (received, longest)
    });
    client
        .backups()
        .prefetch(2)
        .stream()
        .map_err(Box::<dyn std::error::Error>::from)
        .try_filter_map(|backup| async move { Ok(backup.name) })
        .try_for_each(|name| {
            let sender = sender.clone();
            async move {
                sender
                    .send(name)
                    .await
                    .map_err(|_| "the worker stopped early".into())
            }
        })
        .await?;
    drop(sender);
    let (named, longest) = worker.await?;
    println!("3. pipeline: {named} named backups reached the worker; longest name: {longest:?}");
    Ok(())
}

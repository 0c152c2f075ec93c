//! One request budget shared by several clients: the rate holds across all of them, and
//! a throttling answer to one slows the others. Checked on the timestamps the fake
//! servers recorded, counted per one-second window; nothing is timed by the test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use std::time::{Duration, Instant};

use futures::TryStreamExt;
use vbs_backups::{Client, RequestBudget, RetryPolicy};
use vbs_backups_testing::{CannedResponse, FakeServer};

fn client(server: &FakeServer, budget: &RequestBudget) -> Client {
    common::builder(server)
        .budget(budget.clone())
        .build()
        .expect("client")
}

async fn walk(client: Client) -> usize {
    client
        .backups()
        .page_size(1)
        .prefetch(0)
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect("walk")
        .len()
}

/// The most requests that started within any one second.
fn busiest_second(mut times: Vec<Instant>) -> usize {
    times.sort();
    (0..times.len())
        .map(|first| {
            let end = times[first] + Duration::from_secs(1);
            times[first..].iter().take_while(|&&t| t < end).count()
        })
        .max()
        .unwrap_or(0)
}

fn received(servers: &[&FakeServer]) -> Vec<Instant> {
    servers
        .iter()
        .flat_map(|server| server.requests())
        .map(|request| request.received)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_clients_stay_within_one_shared_rate() {
    const RATE: u32 = 10;
    let servers = [
        common::server(14).await,
        common::server(14).await,
        common::server(14).await,
    ];
    let budget = RequestBudget::with_max_rate(RATE);
    let walks = servers.iter().map(|server| walk(client(server, &budget)));
    let counts = futures::future::join_all(walks).await;
    assert_eq!(counts, [14, 14, 14]);

    let times = received(&servers.iter().collect::<Vec<_>>());
    // 15 requests a server: 14 pages of one, and the empty last page.
    assert_eq!(times.len(), 45);
    let busiest = busiest_second(times);
    assert!(
        busiest <= RATE as usize + 5,
        "{busiest} requests within one second, over {RATE} + a burst of 5"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_one_client_pauses_the_others() {
    let busy = common::server(1000).await;
    let throttled = common::server(3).await;
    let budget = RequestBudget::adaptive();
    let busy_walk = tokio::spawn(walk(client(&busy, &budget)));
    while busy.request_count() < 20 {
        tokio::task::yield_now().await;
    }
    throttled.push_response(
        CannedResponse::json(
            429,
            r#"{"overLimit": {"code": 429, "message": "slow down"}}"#,
        )
        .header("Retry-After", "2"),
    );
    let other = common::builder(&throttled)
        .budget(budget.clone())
        .retry_policy(RetryPolicy::default().max_attempts(3))
        .build()
        .expect("client");
    assert_eq!(walk(other).await, 3);
    assert_eq!(busy_walk.await.expect("joins"), 1000);

    let throttled_at = throttled.requests()[0].received;
    let pause_end = throttled_at + Duration::from_secs(2);
    let busy_times = received(&[&busy]);
    let during_pause = busy_times
        .iter()
        .filter(|&&t| t > throttled_at && t < pause_end)
        .count();
    assert!(
        busy_times.iter().any(|&t| t >= pause_end),
        "the busy walk ended before the pause would have mattered"
    );
    // Requests admitted before the client saw the 429 may still land (a few, on a busy
    // machine); unpaused, the busy walk would send hundreds in these two seconds.
    assert!(
        during_pause <= 10,
        "{during_pause} requests of another client during the Retry-After pause"
    );
    assert_eq!(budget.throttled_answers(), 1);
}

//! The blocking iterator (feature `blocking`) against the fake server, which runs on a
//! runtime of its own on another thread, as a synchronous program would see it.
#![cfg(feature = "blocking")]
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use vbs_backups::{BackupSummary, Client, ErrorKind};
use vbs_backups_testing::{CannedResponse, FakeServer};

/// A fake server on its own thread and runtime; stopped when dropped.
struct Background {
    server: Arc<FakeServer>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Background {
    fn start(count: usize) -> Self {
        let (sender, receiver) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the fake server");
            runtime.block_on(async move {
                let server = FakeServer::builder()
                    .backups(count)
                    .start()
                    .await
                    .expect("fake server starts");
                sender.send(Arc::new(server)).expect("the test waits");
                let _ = stopped.await;
            });
        });
        let server = receiver.recv().expect("the fake server started");
        Self {
            server,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn client(&self) -> Client {
        common::client(&self.server)
    }

    fn listing_requests(&self) -> usize {
        common::listing_requests(&self.server).len()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn truth(background: &Background) -> Vec<String> {
    common::truth_ids(&background.server.backups())
}

#[test]
fn a_full_walk_equals_the_truth() {
    let background = Background::start(250);
    let mut backups = background
        .client()
        .backups()
        .page_size(20)
        .prefetch(2)
        .blocking();
    let ids: Vec<String> = backups
        .by_ref()
        .map(|backup| backup.expect("no error").id)
        .collect();
    assert_eq!(ids, truth(&background));
    assert_eq!(backups.last_id(), ids.last().map(String::as_str));
    assert_eq!(backups.total(), None);
    assert!(backups.next().is_none(), "fused");
    assert_eq!(
        background.listing_requests(),
        13,
        "12 pages of 20 and one of 10"
    );
}

#[test]
fn a_window_walks_the_same_way_from_synchronous_code() {
    let background = Background::start(60);
    let ascending = background.server.backups_sorted("created_at:asc").unwrap();
    let civil: jiff::civil::DateTime = ascending[21].created_at.parse().unwrap();
    let seconds = jiff::tz::Offset::UTC
        .to_timestamp(civil)
        .unwrap()
        .as_second();
    let bound = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).unwrap());
    let ids: Vec<String> = background
        .client()
        .backups()
        .detail()
        .page_size(10)
        .created_before(bound)
        .blocking()
        .map(|backup| backup.expect("no error").id)
        .collect();
    assert_eq!(ids, common::truth_ids(&ascending[..21]));
}

#[test]
fn dropping_the_iterator_mid_walk_cancels_the_rest() {
    let background = Background::start(1000);
    let client = background.client();
    let mut backups = client.backups().page_size(10).prefetch(1).blocking();
    for _ in 0..5 {
        backups.next().expect("an item").expect("no error");
    }
    drop(backups);
    // Dropping waited for the iterator's runtime to stop: nothing more can be sent.
    // The page being read, and at most the one fetched ahead (and one on its way).
    let after_drop = background.listing_requests();
    assert!((1..=3).contains(&after_drop), "{after_drop} requests");

    // Another walk's request, served after any the dropped walk could have had under way.
    let one: Vec<_> = client
        .backups()
        .page_size(1)
        .max_items(1)
        .blocking()
        .collect();
    assert_eq!(one.len(), 1);
    let total = background.listing_requests();
    assert!(
        total <= after_drop + 1,
        "{total} requests: the dropped walk went on"
    );
    assert!(total < 100, "a full walk would take 100 requests");
}

#[test]
fn an_error_ends_the_walk_with_a_cursor_to_resume_from() {
    let background = Background::start(100);
    for _ in 0..3 {
        background
            .server
            .push_response(CannedResponse::passthrough());
    }
    background.server.push_response(CannedResponse::json(
        403,
        r#"{"forbidden": {"code": 403, "message": "Policy doesn't allow backup:get_all."}}"#,
    ));
    let client = background.client();
    let mut backups = client.backups().page_size(10).blocking();
    let mut seen: Vec<String> = Vec::new();
    let err = loop {
        match backups.next().expect("ends with an error") {
            Ok(backup) => seen.push(backup.id),
            Err(err) => break err,
        }
    };
    // The last item of a page is the next request's marker, held back until that
    // request is answered: an error there leaves it as the first item to resume with.
    assert_eq!(seen.len(), 29);
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.status(), Some(403));
    let cursor = err.cursor().expect("the error carries a cursor").clone();
    assert_eq!(cursor, backups.cursor());
    assert_eq!(cursor.after(), seen.last().map(String::as_str));
    assert!(backups.next().is_none(), "nothing after the error");

    let rest: Vec<BackupSummary> = client
        .resume(cursor)
        .expect("same project")
        .blocking()
        .collect::<Result<_, _>>()
        .expect("the rest");
    seen.extend(rest.into_iter().map(|backup| backup.id));
    assert_eq!(seen, truth(&background));
}

#[tokio::test]
async fn inside_a_tokio_runtime_it_says_so_instead_of_panicking() {
    let server = common::server(10).await;
    let mut backups = common::client(&server).backups().blocking();
    let err = backups
        .next()
        .expect("an error")
        .expect_err("refused inside a runtime");
    assert_eq!(err.kind(), ErrorKind::Runtime);
    assert!(err.to_string().contains("stream()"), "{err}");
    assert!(!err.to_string().contains("  "), "one clean line: {err}");
    assert!(err.cursor().is_some());
    assert!(backups.next().is_none());
    // Dropped here, inside the runtime: no panic either.
    drop(backups);
    assert_eq!(server.request_count(), 0);
}

/// Walks `client`'s backups with the blocking iterator: the ids, or the first error.
fn walk_blocking(client: &Client) -> vbs_backups::Result<Vec<String>> {
    client
        .backups()
        .page_size(7)
        .prefetch(2)
        .blocking()
        .map(|backup| backup.map(|backup| backup.id))
        .collect()
}

// `spawn_blocking` runs on a thread meant for blocking: the runtime's own threads go on
// (here they serve the fake server, on the same runtime), so blocking there is legal.
#[tokio::test]
async fn inside_spawn_blocking_of_a_current_thread_runtime_it_walks() {
    let server = common::server(40).await;
    let client = common::client(&server);
    let got = tokio::task::spawn_blocking(move || walk_blocking(&client))
        .await
        .expect("the blocking task ends")
        .expect("a walk, not a refusal");
    assert_eq!(got, common::truth_ids(&server.backups()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_spawn_blocking_of_a_multi_thread_runtime_it_walks() {
    let server = common::server(40).await;
    let client = common::client(&server);
    let got = tokio::task::spawn_blocking(move || walk_blocking(&client))
        .await
        .expect("the blocking task ends")
        .expect("a walk, not a refusal");
    assert_eq!(got, common::truth_ids(&server.backups()));
}

// On a multi-thread runtime a task may block in place: the worker hands its other tasks
// (the fake server's, here) to another thread first, as `block_in_place` does. With one
// worker thread, blocking without handing them over would never end.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn in_a_task_of_a_multi_thread_runtime_it_blocks_in_place() {
    let server = common::server(40).await;
    let client = common::client(&server);
    let on_worker = tokio::spawn(async move { walk_blocking(&client) })
        .await
        .expect("the task ends")
        .expect("a walk, not a refusal");
    assert_eq!(on_worker, common::truth_ids(&server.backups()));
    // And in the runtime's `block_on` itself (the test's body).
    let here = walk_blocking(&common::client(&server)).expect("a walk, not a refusal");
    assert_eq!(here, on_worker);
}

// A thread that merely entered a runtime's context drives nothing: blocking is legal.
#[test]
fn on_a_thread_that_entered_a_runtime_it_walks() {
    let background = Background::start(30);
    let other = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _entered = other.enter();
    let got = walk_blocking(&background.client()).expect("a walk, not a refusal");
    assert_eq!(got, truth(&background));
}

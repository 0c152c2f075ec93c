//! Helpers shared by the integration tests: a fake server and a client for it.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use futures::TryStreamExt;
use vbs_backups::{BackupSummary, Client, ClientBuilder, ListBackups};
use vbs_backups_testing::{FakeBackup, FakeServer, RecordedRequest};

/// Starts a fake server with `count` backups and default settings.
pub async fn server(count: usize) -> FakeServer {
    FakeServer::builder()
        .backups(count)
        .start()
        .await
        .expect("fake server starts")
}

/// A client for `server`, with its token.
pub fn client(server: &FakeServer) -> Client {
    builder(server).build().expect("client for the fake server")
}

/// A client builder for `server`, with its token, for tests to add settings to.
pub fn builder(server: &FakeServer) -> ClientBuilder {
    let builder = Client::builder()
        .endpoint(server.endpoint())
        .project_id(server.project_id());
    match server.token() {
        Some(token) => builder.token(token),
        None => builder,
    }
}

/// Runs a listing to the end, panicking on error.
pub async fn collect(listing: ListBackups) -> Vec<BackupSummary> {
    listing
        .stream()
        .try_collect()
        .await
        .expect("listing succeeds")
}

pub fn ids(backups: &[BackupSummary]) -> Vec<String> {
    backups.iter().map(|b| b.id.clone()).collect()
}

pub fn truth_ids(backups: &[FakeBackup]) -> Vec<String> {
    backups.iter().map(|b| b.id.clone()).collect()
}

/// The listing requests the server received (those whose path ends in `/backups`).
pub fn listing_requests(server: &FakeServer) -> Vec<RecordedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/backups"))
        .collect()
}

/// Collects formatted `tracing` output, for tests that assert on log lines.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// Everything written so far.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

//! What the command's end-to-end tests share: the built binary with an empty
//! environment, and a fake server on its own runtime.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde_json::Value;
use vbs_backups_testing::{FakeServer, FakeServerBuilder, RecordedRequest};

const BIN: &str = env!("CARGO_BIN_EXE_vbs-backups");

/// A fake server running on its own runtime while the test thread waits for the binary.
pub struct Served {
    pub server: Arc<FakeServer>,
    _runtime: tokio::runtime::Runtime,
}

pub fn serve(builder: FakeServerBuilder) -> Served {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime
        .block_on(builder.start())
        .expect("fake server starts");
    Served {
        server: Arc::new(server),
        _runtime: runtime,
    }
}

impl Served {
    /// `--endpoint`, `--project-id` and `--token` for this server.
    pub fn flags(&self) -> Vec<String> {
        vec![
            "--endpoint".into(),
            self.server.endpoint(),
            "--project-id".into(),
            self.server.project_id().into(),
            "--token".into(),
            self.server.token().unwrap_or_default().into(),
        ]
    }

    /// The detail listing requests received.
    pub fn detail_listings(&self) -> Vec<RecordedRequest> {
        self.listings(true)
    }

    /// The listing requests received, on the summary (`…/backups`) or the detail
    /// (`…/backups/detail`) listing.
    pub fn listings(&self, detail: bool) -> Vec<RecordedRequest> {
        let tail = if detail {
            "/backups/detail"
        } else {
            "/backups"
        };
        self.server
            .requests()
            .into_iter()
            .filter(|request| request.path.ends_with(tail))
            .collect()
    }
}

pub fn empty_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path()
}

/// The binary with an empty environment, in an empty directory.
pub fn vbs() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new(BIN);
    command.env_clear().current_dir(empty_dir());
    command
}

/// What a run left behind.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn of(command: &mut assert_cmd::Command) -> Self {
        let output = command.output().expect("the binary runs");
        Self {
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
        }
    }

    pub fn ok(command: &mut assert_cmd::Command) -> Self {
        let run = Self::of(command);
        assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
        run
    }

    /// The NDJSON objects of stdout.
    pub fn objects(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
            .collect()
    }

    /// The `id` of every NDJSON object of stdout.
    pub fn ids(&self) -> Vec<String> {
        self.objects()
            .iter()
            .map(|object| object["id"].as_str().expect("an id").to_owned())
            .collect()
    }
}

impl Run {
    /// The `resume with:` command, as words after `vbs-backups`.
    pub fn resume_words(&self) -> Vec<String> {
        let line = self
            .stderr
            .lines()
            .find_map(|line| line.strip_prefix("resume with: vbs-backups "))
            .unwrap_or_else(|| panic!("no resume hint in {:?}", self.stderr));
        line.split_whitespace().map(str::to_owned).collect()
    }

    /// The token of the `resume with:` command.
    pub fn resume_token(&self) -> String {
        let words = self.resume_words();
        let at = words
            .iter()
            .position(|word| word == "--resume")
            .unwrap_or_else(|| panic!("no --resume in {words:?}"));
        words[at + 1].clone()
    }
}

/// A 403 for the next listing request, after `pages` real pages.
pub fn forbid_after(served: &Served, pages: usize) {
    for _ in 0..pages {
        served
            .server
            .push_response(vbs_backups_testing::CannedResponse::passthrough());
    }
    served
        .server
        .push_response(vbs_backups_testing::CannedResponse::json(
            403,
            r#"{"forbidden": {"code": 403, "message": "Policy doesn't allow backup:get_all."}}"#,
        ));
}

//! The `vbs-backups` binary end to end: the built executable, run as a user runs it,
//! against the embedded fake volume service and fake Keystone on 127.0.0.1. Every run
//! starts from an empty environment (`env_clear`), so the host's `OS_*` variables,
//! proxies and clouds.yaml cannot leak in.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vbs_backups_testing::{
    CannedResponse, DEFAULT_PASSWORD, FakeBackup, FakeKeystone, FakeServer, FakeServerBuilder,
    RecordedRequest,
};

const BIN: &str = env!("CARGO_BIN_EXE_vbs-backups");

/// A fake server running on its own runtime while the test thread waits for the binary.
struct Served {
    server: Arc<FakeServer>,
    // Dropped last: the server's tasks run on it.
    _runtime: tokio::runtime::Runtime,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

fn serve(builder: FakeServerBuilder) -> Served {
    let runtime = runtime();
    let server = runtime
        .block_on(builder.start())
        .expect("fake server starts");
    Served {
        server: Arc::new(server),
        _runtime: runtime,
    }
}

fn serve_backups(count: usize) -> Served {
    serve(FakeServer::builder().backups(count))
}

impl Served {
    /// `--endpoint`, `--project-id` and `--token` for this server.
    fn flags(&self) -> Vec<String> {
        vec![
            "--endpoint".into(),
            self.server.endpoint(),
            "--project-id".into(),
            self.server.project_id().into(),
            "--token".into(),
            self.server.token().unwrap_or_default().into(),
        ]
    }

    /// The listing requests received (`…/backups`).
    fn listings(&self) -> Vec<RecordedRequest> {
        self.server
            .requests()
            .into_iter()
            .filter(|request| request.path.ends_with("/backups"))
            .collect()
    }

    fn truth(&self) -> Vec<(String, Option<String>)> {
        pairs(&self.server.backups())
    }
}

fn pairs(backups: &[FakeBackup]) -> Vec<(String, Option<String>)> {
    backups
        .iter()
        .map(|backup| (backup.id.clone(), backup.name.clone()))
        .collect()
}

/// A directory with nothing in it, as the working directory of every run: no
/// clouds.yaml or secure.yaml is found by accident.
fn empty_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path()
}

/// The binary with an empty environment, in an empty directory.
fn vbs() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new(BIN);
    command.env_clear().current_dir(empty_dir());
    command
}

/// The same, as a std command, for runs that read stdout while the binary is running.
fn vbs_std() -> std::process::Command {
    let mut command = std::process::Command::new(BIN);
    command.env_clear().current_dir(empty_dir());
    command
}

/// What a run left behind.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn of(command: &mut assert_cmd::Command) -> Self {
        let output = command.output().expect("the binary runs");
        Self {
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
        }
    }

    fn ok(command: &mut assert_cmd::Command) -> Self {
        let run = Self::of(command);
        assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
        run
    }

    fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }

    /// The `resume with:` command, as words after `vbs-backups`.
    fn resume_words(&self) -> Vec<String> {
        let line = self
            .stderr
            .lines()
            .find_map(|line| line.strip_prefix("resume with: vbs-backups "))
            .unwrap_or_else(|| panic!("no resume hint in {:?}", self.stderr));
        line.split_whitespace().map(str::to_owned).collect()
    }
}

fn ndjson(text: &str) -> Vec<(String, Option<String>)> {
    text.lines()
        .map(|line| summary(&serde_json::from_str(line).expect("one JSON object per line")))
        .collect()
}

fn summary(value: &Value) -> (String, Option<String>) {
    let object = value.as_object().expect("an object");
    let keys: HashSet<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(keys, HashSet::from(["id", "name"]), "{value}");
    (
        value["id"].as_str().expect("id").to_owned(),
        value["name"].as_str().map(str::to_owned),
    )
}

// ---------------------------------------------------------------------------------------
// Formats
// ---------------------------------------------------------------------------------------

#[test]
fn every_format_lists_exactly_the_servers_backups() {
    let served = serve_backups(57);
    let truth = served.truth();
    let run = |format: &str| {
        Run::ok(vbs().arg("list").args(served.flags()).args([
            "--page-size",
            "10",
            "--format",
            format,
        ]))
    };

    let lines = run("ndjson");
    assert_eq!(ndjson(&lines.stdout), truth);

    let array: Vec<Value> = serde_json::from_str(&run("json").stdout).expect("one JSON array");
    assert_eq!(array.iter().map(summary).collect::<Vec<_>>(), truth);

    let csv_text = run("csv").stdout;
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    assert_eq!(reader.headers().unwrap(), vec!["id", "name"]);
    let rows: Vec<(String, Option<String>)> = reader
        .records()
        .map(|record| {
            let record = record.expect("a CSV record");
            let name = Some(record[1].to_owned()).filter(|name| !name.is_empty());
            (record[0].to_owned(), name)
        })
        .collect();
    assert_eq!(rows, truth);

    let table = run("table").stdout;
    let mut lines = table.lines();
    let header = lines.next().expect("a header");
    assert!(
        header.starts_with("ID  ") && header.ends_with("NAME"),
        "{header}"
    );
    let name_column = header.find("NAME").unwrap();
    let rows: Vec<(String, Option<String>)> = lines
        .map(|line| {
            let (id, name) = line.split_at(name_column);
            let name = Some(name.to_owned()).filter(|name| name != "-");
            (id.trim_end().to_owned(), name)
        })
        .collect();
    assert_eq!(rows, truth);

    // Six pages of ten or fewer for each of the four runs.
    assert_eq!(served.listings().len(), 4 * 6);
}

#[test]
fn output_to_a_pipe_is_ndjson_by_default_and_stderr_stays_quiet() {
    let served = serve_backups(12);
    let run = Run::ok(vbs().arg("list").args(served.flags()));
    assert_eq!(ndjson(&run.stdout), served.truth());
    assert_eq!(
        run.stderr, "",
        "no progress line when stderr is not a terminal"
    );
}

#[test]
fn an_empty_listing_is_valid_in_every_format() {
    let served = serve_backups(0);
    let run = |format: &str| {
        Run::ok(
            vbs()
                .arg("list")
                .args(served.flags())
                .args(["--format", format]),
        )
        .stdout
    };
    assert_eq!(run("ndjson"), "");
    assert_eq!(run("json"), "[]\n");
    assert_eq!(run("csv"), "id,name\n");
    assert_eq!(run("table"), "");
}

// ---------------------------------------------------------------------------------------
// Filters and limits
// ---------------------------------------------------------------------------------------

#[test]
fn every_filter_is_sent_on_every_page_and_applied() {
    let served = serve_backups(300);
    let all = served.server.backups();
    let a_name = all
        .iter()
        .find_map(|backup| backup.name.clone().filter(|name| name.contains(' ')))
        .expect("a name with a space and more");
    let field = |backup: &FakeBackup, param: &str| match param {
        "status" => Some(backup.status.clone()),
        "name" => backup.name.clone(),
        _ => Some(backup.volume_id.clone()),
    };
    let cases = [
        ("status", "available".to_owned()),
        ("name", a_name),
        ("volume_id", all[0].volume_id.clone()),
    ];
    for (param, value) in cases {
        served.server.clear_requests();
        let flag = format!("--{}", param.replace('_', "-"));
        let run = Run::ok(vbs().arg("list").args(served.flags()).args([
            flag.as_str(),
            value.as_str(),
            "--page-size",
            "7",
        ]));
        let expected: Vec<_> = all
            .iter()
            .filter(|b| field(b, param).as_ref() == Some(&value))
            .cloned()
            .collect();
        assert!(!expected.is_empty(), "{param}");
        assert_eq!(ndjson(&run.stdout), pairs(&expected), "{param}");
        let requests = served.listings();
        assert_eq!(requests.len(), expected.len() / 7 + 1, "{param}");
        for request in requests {
            assert_eq!(
                request.param(param).as_deref(),
                Some(value.as_str()),
                "{param}"
            );
            assert_eq!(request.param("limit").as_deref(), Some("7"), "{param}");
        }
    }
}

#[test]
fn offset_is_sent_once_and_after_starts_past_the_marker() {
    let served = serve_backups(40);
    let truth = served.truth();

    let run = Run::ok(vbs().arg("list").args(served.flags()).args([
        "--offset",
        "5",
        "--page-size",
        "10",
    ]));
    assert_eq!(ndjson(&run.stdout), truth[5..]);
    let requests = served.listings();
    assert_eq!(requests[0].param("offset").as_deref(), Some("5"));
    assert!(requests[1..].iter().all(|r| r.param("offset").is_none()));

    let marker = truth[11].0.clone();
    let run = Run::ok(vbs().arg("list").args(served.flags()).args([
        "--after",
        marker.as_str(),
        "--prefetch",
        "0",
    ]));
    assert_eq!(ndjson(&run.stdout), truth[12..]);
}

#[test]
fn max_items_asks_only_for_what_is_missing_and_stops() {
    let served = serve_backups(100);
    let run = Run::ok(vbs().arg("list").args(served.flags()).args([
        "--max-items",
        "15",
        "--page-size",
        "10",
        "--prefetch",
        "4",
    ]));
    assert_eq!(ndjson(&run.stdout), served.truth()[..15]);
    let limits: Vec<_> = served
        .listings()
        .iter()
        .map(|r| r.param("limit").unwrap())
        .collect();
    assert_eq!(limits, ["10", "5"]);
}

#[test]
fn api_version_selects_the_path_and_a_microversion_enables_count() {
    let served = serve_backups(3);
    Run::ok(
        vbs()
            .arg("list")
            .args(served.flags())
            .args(["--api-version", "v3"]),
    );
    let request = &served.listings()[0];
    assert!(request.path.starts_with("/v3/"), "{}", request.path);
    assert_eq!(request.header("openstack-api-version"), None);

    served.server.clear_requests();
    let run =
        Run::ok(
            vbs()
                .arg("list")
                .args(served.flags())
                .args(["--api-version", "3.45", "--count"]),
        );
    assert_eq!(ndjson(&run.stdout), served.truth());
    let request = &served.listings()[0];
    assert!(request.path.starts_with("/v3/"), "{}", request.path);
    assert_eq!(request.header("openstack-api-version"), Some("volume 3.45"));
    assert_eq!(request.param("with_count").as_deref(), Some("true"));

    // Without the microversion, --count is skipped with a warning instead of asking an
    // older server for a filter that matches nothing.
    served.server.clear_requests();
    let run = Run::ok(vbs().arg("list").args(served.flags()).arg("--count"));
    assert_eq!(ndjson(&run.stdout), served.truth());
    assert!(
        run.stderr
            .starts_with("warning: --count needs microversion 3.45"),
        "{}",
        run.stderr
    );
    assert_eq!(served.listings()[0].param("with_count"), None);
    let quiet = Run::ok(
        vbs()
            .arg("list")
            .args(served.flags())
            .args(["--count", "-q"]),
    );
    assert_eq!(quiet.stderr, "");
}

// ---------------------------------------------------------------------------------------
// --detail, against a small detail server of its own
// ---------------------------------------------------------------------------------------

/// Serves `GET /v3/{project}/backups/detail` over loopback from `records`, `limit` at a
/// time with Cinder-style next links, and records the request targets.
struct DetailServer {
    endpoint: String,
    targets: Arc<Mutex<Vec<String>>>,
    _runtime: tokio::runtime::Runtime,
}

const DETAIL_PROJECT: &str = "p-detail";

fn detail_records() -> Vec<Value> {
    serde_json::from_str(
        r#"[
        {"id": "d3", "name": "nightly, db", "status": "available", "size": 10, "object_count": 2,
         "volume_id": "v1", "snapshot_id": null, "container": "c", "availability_zone": "az1",
         "description": "first", "fail_reason": null, "is_incremental": false,
         "has_dependent_backups": true, "created_at": "2024-01-01T20:50:00.000000",
         "updated_at": "2024-01-01T21:00:00.000000", "data_timestamp": "2024-01-01T20:50:00.000000",
         "metadata": {"team": "db"}, "service_metadata": "{\"x\": 1}", "links": []},
        {"id": "d2", "name": null, "status": "error", "size": 1, "fail_reason": "quota",
         "created_at": "2024-01-01T10:00:00.000000", "links": []},
        {"id": "d1", "name": "weekly", "status": "creating", "size": 200,
         "created_at": "2023-12-31T23:59:59.000000", "links": []}
    ]"#,
    )
    .unwrap()
}

impl DetailServer {
    fn start() -> Self {
        let runtime = runtime();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let targets = Arc::new(Mutex::new(Vec::new()));
        let (seen, root) = (Arc::clone(&targets), endpoint.clone());
        runtime.spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (seen, root) = (Arc::clone(&seen), root.clone());
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buffer = [0_u8; 4096];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&request);
                    let target = text.split(' ').nth(1).unwrap_or_default().to_owned();
                    seen.lock().unwrap().push(target.clone());
                    let response = detail_response(&root, &target);
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Self {
            endpoint,
            targets,
            _runtime: runtime,
        }
    }

    fn flags(&self) -> Vec<String> {
        ["--endpoint", &self.endpoint, "--project-id", DETAIL_PROJECT]
            .into_iter()
            .chain(["--token", "t", "--api-version", "v3"])
            .map(str::to_owned)
            .collect()
    }
}

fn detail_response(root: &str, target: &str) -> String {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let (status, body) = if path == format!("/v3/{DETAIL_PROJECT}/backups/detail") {
        let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let param = |key: &str| {
            params
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, v)| v.clone())
        };
        let limit: usize = param("limit").and_then(|l| l.parse().ok()).unwrap_or(1000);
        let records = detail_records();
        let start = match param("marker") {
            Some(marker) => {
                records
                    .iter()
                    .position(|r| r["id"] == marker.as_str())
                    .unwrap()
                    + 1
            }
            None => 0,
        };
        let page: Vec<Value> = records.iter().skip(start).take(limit).cloned().collect();
        let mut body = serde_json::json!({ "backups": page });
        if start + page.len() < records.len() {
            let last = page.last().unwrap()["id"].as_str().unwrap();
            body["backups_links"] = serde_json::json!([{
                "rel": "next",
                "href": format!("{root}{path}?limit={limit}&marker={last}"),
            }]);
        }
        ("200 OK", body.to_string())
    } else {
        (
            "404 Not Found",
            r#"{"itemNotFound": {"code": 404, "message": "no"}}"#.to_owned(),
        )
    };
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn detail_lists_every_field_in_every_format() {
    let server = DetailServer::start();
    let run = |format: &str| {
        Run::ok(vbs().arg("list").args(server.flags()).args([
            "--detail",
            "--page-size",
            "2",
            "--format",
            format,
        ]))
        .stdout
    };

    let records = detail_records();
    let lines: Vec<Value> = run("ndjson")
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for (line, record) in lines.iter().zip(&records) {
        assert_eq!(line["id"], record["id"]);
        assert_eq!(line["name"], record["name"]);
        assert_eq!(line["status"], record["status"]);
        assert_eq!(line["size"], record["size"]);
    }
    assert_eq!(lines[0]["created_at"], "2024-01-01T20:50:00Z");
    assert_eq!(lines[0]["metadata"]["team"], "db");
    assert_eq!(
        lines[0]["service_metadata"], "{\"x\": 1}",
        "unknown fields are kept"
    );
    assert_eq!(lines[1]["fail_reason"], "quota");
    let targets = server.targets.lock().unwrap().clone();
    assert_eq!(
        targets,
        [
            format!("/v3/{DETAIL_PROJECT}/backups/detail?limit=2"),
            format!("/v3/{DETAIL_PROJECT}/backups/detail?limit=2&marker=d2"),
        ]
    );

    let array: Vec<Value> = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(array, lines);

    let csv_text = run("csv");
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "id");
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[0][column("name")], "nightly, db");
    assert_eq!(&rows[0][column("size")], "10");
    assert_eq!(&rows[0][column("created_at")], "2024-01-01T20:50:00Z");
    assert_eq!(&rows[0][column("metadata")], r#"{"team":"db"}"#);
    assert_eq!(&rows[1][column("name")], "", "null is empty");
    assert_eq!(&rows[1][column("fail_reason")], "quota");

    let table = run("table");
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(
        lines[0].starts_with("ID  STATUS     SIZE  CREATED_AT"),
        "{}",
        lines[0]
    );
    assert!(lines[0].ends_with("NAME"));
    assert_eq!(
        lines[1],
        "d3  available    10  2024-01-01T20:50:00Z  nightly, db"
    );
    assert_eq!(lines[2], "d2  error         1  2024-01-01T10:00:00Z  -");
    assert_eq!(
        lines[3],
        "d1  creating    200  2023-12-31T23:59:59Z  weekly"
    );
}

// ---------------------------------------------------------------------------------------
// Configuration: flags over OS_* over clouds.yaml
// ---------------------------------------------------------------------------------------

#[test]
fn os_variables_alone_are_enough() {
    let served = serve_backups(9);
    let run = Run::ok(
        vbs()
            .arg("list")
            .env(
                "OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE",
                served.server.endpoint(),
            )
            .env("OS_PROJECT_ID", served.server.project_id())
            .env("OS_AUTH_TOKEN", served.server.token().unwrap()),
    );
    assert_eq!(ndjson(&run.stdout), served.truth());
    assert_eq!(
        served.listings()[0].auth_token.as_deref(),
        served.server.token()
    );
}

#[test]
fn flags_override_the_environment() {
    let served = serve_backups(9);
    let stale = |command: &mut assert_cmd::Command| {
        command
            .env("OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE", "http://127.0.0.1:9")
            .env("OS_PROJECT_ID", "someone-else")
            .env("OS_AUTH_TOKEN", "expired-token")
            .env("OS_VOLUME_API_VERSION", "3")
            // Not used: --token with --endpoint goes straight to the endpoint.
            .env("OS_AUTH_URL", "http://127.0.0.1:9/v3");
    };
    let mut command = vbs();
    stale(&mut command);
    let run = Run::ok(
        command
            .arg("list")
            .args(served.flags())
            .args(["--api-version", "v2"]),
    );
    assert_eq!(ndjson(&run.stdout), served.truth());
    assert!(served.listings()[0].path.starts_with("/v2/"));

    // The environment is used for what the flags leave out.
    let mut command = vbs();
    command
        .arg("list")
        .env(
            "OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE",
            served.server.endpoint(),
        )
        .env("OS_PROJECT_ID", "someone-else")
        .env("OS_AUTH_TOKEN", "expired-token")
        .args(["--project-id", served.server.project_id()])
        .args(["--token", served.server.token().unwrap()]);
    assert_eq!(ndjson(&Run::ok(&mut command).stdout), served.truth());

    // And the other way round: a wrong flag beats a right variable.
    let run = Run::of(
        vbs()
            .arg("list")
            .env(
                "OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE",
                served.server.endpoint(),
            )
            .env("OS_PROJECT_ID", served.server.project_id())
            .env("OS_AUTH_TOKEN", served.server.token().unwrap())
            .args(["--token", "wrong"]),
    );
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.starts_with("error: HTTP 401"), "{}", run.stderr);
}

/// A volume service behind a Keystone whose catalog points at it, and a clouds.yaml for
/// them with a stale password.
struct Cloud {
    volume: Arc<FakeServer>,
    keystone: FakeKeystone,
    clouds_yaml: std::path::PathBuf,
    _dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

fn cloud(backups: usize) -> Cloud {
    let runtime = runtime();
    let volume = Arc::new(
        runtime
            .block_on(FakeServer::builder().backups(backups).start())
            .expect("volume starts"),
    );
    let keystone = runtime
        .block_on(
            FakeKeystone::builder()
                .volume_server(Arc::clone(&volume))
                .start(),
        )
        .expect("keystone starts");
    let dir = tempfile::tempdir().unwrap();
    let clouds_yaml = dir.path().join("clouds.yaml");
    std::fs::write(
        &clouds_yaml,
        format!(
            "clouds:
  lab:
    auth:
      auth_url: {}
      username: admin
      password: stale-password
      user_domain_name: Default
      project_name: demo
      project_domain_name: Default
    region_name: RegionOne
    volume_api_version: 3
  broken:
    auth:
      auth_url: http://127.0.0.1:9
",
            keystone.auth_url()
        ),
    )
    .unwrap();
    Cloud {
        volume,
        keystone,
        clouds_yaml,
        _dir: dir,
        _runtime: runtime,
    }
}

impl Cloud {
    fn command(&self) -> assert_cmd::Command {
        let mut command = vbs();
        command.env("OS_CLIENT_CONFIG_FILE", &self.clouds_yaml);
        command
    }

    fn truth(&self) -> Vec<(String, Option<String>)> {
        pairs(&self.volume.backups())
    }
}

#[test]
fn clouds_yaml_under_the_environment_under_the_flags() {
    let cloud = cloud(11);

    // --os-cloud picks the entry; OS_PASSWORD beats its stale password.
    let run = Run::ok(cloud.command().env("OS_PASSWORD", DEFAULT_PASSWORD).args([
        "--os-cloud",
        "lab",
        "list",
        "--page-size",
        "4",
    ]));
    assert_eq!(ndjson(&run.stdout), cloud.truth());
    let issued = cloud.keystone.issued_tokens();
    assert_eq!(issued.len(), 1);
    let listings: Vec<_> = cloud
        .volume
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/backups"))
        .collect();
    assert_eq!(listings.len(), 3);
    assert!(
        listings[0].path.starts_with("/v3/"),
        "the entry's volume_api_version"
    );
    assert!(
        listings
            .iter()
            .all(|r| r.auth_token.as_deref() == Some(issued[0].token.as_str()))
    );

    // OS_CLOUD names the entry as well; --os-cloud beats it, --api-version beats the entry.
    cloud.volume.clear_requests();
    let run = Run::ok(
        cloud
            .command()
            .env("OS_PASSWORD", DEFAULT_PASSWORD)
            .env("OS_CLOUD", "broken")
            .args(["list", "--os-cloud", "lab", "--api-version", "v2"]),
    );
    assert_eq!(ndjson(&run.stdout), cloud.truth());
    assert!(cloud.volume.requests()[0].path.starts_with("/v2/"));

    let run = Run::ok(
        cloud
            .command()
            .env("OS_PASSWORD", DEFAULT_PASSWORD)
            .env("OS_CLOUD", "lab")
            .arg("list"),
    );
    assert_eq!(ndjson(&run.stdout), cloud.truth());

    // Without the environment's password, the entry's stale one is refused by Keystone.
    let run = Run::of(cloud.command().args(["list", "--os-cloud", "lab"]));
    assert_eq!(run.code, Some(1));
    let lines = run.stderr_lines();
    assert!(lines[0].starts_with("error: HTTP 401"), "{}", run.stderr);
    assert!(
        lines[1].starts_with("hint: the credentials were refused"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("stale-password"),
        "no secret in messages"
    );

    // A cloud the file does not have is named, with those it has.
    let run = Run::of(cloud.command().args(["list", "--os-cloud", "staging"]));
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("it has: lab, broken"), "{}", run.stderr);
    assert!(run.stderr_lines()[1].starts_with("hint: every setting can come from a flag"));
}

// ---------------------------------------------------------------------------------------
// Pipes, errors, Ctrl-C
// ---------------------------------------------------------------------------------------

#[test]
fn a_closed_pipe_ends_the_walk_quietly_with_success() {
    let served = serve_backups(10_000);
    let mut child = vbs_std()
        .arg("list")
        .args(served.flags())
        .args(["--page-size", "100"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = Vec::new();
    for _ in 0..3 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        first.push(line);
    }
    // What `head -3` does: go away.
    drop(stdout);
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();

    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(stderr, "");
    assert_eq!(ndjson(&first.concat()), served.truth()[..3]);
    // A full walk is 101 requests; the pipe's buffer holds about ten pages.
    let requests = served.listings().len();
    assert!(requests < 101 / 2, "{requests} requests for 3 lines");
}

#[test]
fn a_refused_token_is_one_error_line_with_a_hint_and_exit_1() {
    let served = serve_backups(5);
    let run = Run::of(
        vbs()
            .arg("list")
            .args(["--endpoint", &served.server.endpoint()])
            .args(["--project-id", served.server.project_id()])
            .args(["--token", "not-the-token"]),
    );
    assert_eq!(run.code, Some(1));
    assert_eq!(run.stdout, "");
    let lines = run.stderr_lines();
    assert_eq!(lines.len(), 2, "{}", run.stderr);
    assert!(lines[0].starts_with("error: HTTP 401 "), "{}", lines[0]);
    assert!(lines[0].contains("(request id req-"), "{}", lines[0]);
    assert!(lines[1].starts_with("hint: ") && lines[1].contains("--token"));
    assert!(!run.stderr.contains("not-the-token"));
}

#[test]
fn an_unknown_after_marker_is_a_404_about_after_and_exit_1() {
    let served = serve_backups(5);
    let run = Run::of(
        vbs()
            .arg("list")
            .args(served.flags())
            .args(["--after", "00000000-0000-0000-0000-000000000000"]),
    );
    assert_eq!(run.code, Some(1));
    let lines = run.stderr_lines();
    assert_eq!(
        lines[0].split(" (request id").next(),
        Some(
            "error: HTTP 404 itemNotFound: Backup 00000000-0000-0000-0000-000000000000 could \
             not be found."
        ),
        "{}",
        run.stderr
    );
    assert!(lines[1].starts_with("hint: the backup given to --after does not exist"));
    assert_eq!(
        lines.len(),
        2,
        "nothing was listed, so there is nothing to resume"
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["list", "--bogus"],
        vec!["list", "--page-size", "0"],
        vec!["list", "--format", "xml"],
        vec!["list", "--api-version", "4"],
        vec!["list", "--timeout", "soon"],
        vec!["list", "--prefetch", "65"],
        vec!["demo", "--endpoint", "http://127.0.0.1:9"],
        vec!["frobnicate"],
        vec![],
    ] {
        let run = Run::of(vbs().args(&args));
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
        assert!(!run.stderr.is_empty(), "{args:?}");
    }
    assert_eq!(Run::of(vbs().arg("--help")).code, Some(0));
}

#[test]
fn nothing_configured_is_a_config_error_that_points_at_the_demo() {
    let run = Run::of(vbs().arg("list"));
    assert_eq!(run.code, Some(1));
    let lines = run.stderr_lines();
    assert!(
        lines[0].starts_with("error: no credentials"),
        "{}",
        run.stderr
    );
    assert!(lines[1].contains("vbs-backups demo"), "{}", run.stderr);
}

#[test]
fn a_walk_that_fails_midway_says_how_to_resume_and_the_resume_completes_it() {
    let served = serve_backups(45);
    for _ in 0..2 {
        served.server.push_response(CannedResponse::passthrough());
    }
    served.server.push_response(CannedResponse::json(
        403,
        r#"{"forbidden": {"code": 403, "message": "Policy doesn't allow backup:get_all."}}"#,
    ));
    let token = served.server.token().unwrap().to_owned();
    let run = Run::of(
        vbs()
            .arg("list")
            .args(["--endpoint", &served.server.endpoint()])
            .args(["--project-id", served.server.project_id()])
            .env("OS_AUTH_TOKEN", &token)
            .args(["--page-size", "10", "--offset", "1", "--max-items", "40"])
            .args(["--format", "json"]),
    );
    assert_eq!(run.code, Some(1));
    // What was written is a complete JSON array.
    let first: Vec<Value> = serde_json::from_str(&run.stdout).expect("valid JSON");
    // The 20th backup is the marker of the page that failed: held back for it, it is the
    // first the resume lists.
    let first: Vec<_> = first.iter().map(summary).collect();
    assert_eq!(first, served.truth()[1..20]);
    let lines = run.stderr_lines();
    assert!(
        lines[0].starts_with("error: HTTP 403 forbidden: Policy doesn't allow"),
        "{}",
        run.stderr
    );
    assert!(lines[1].starts_with("hint: authenticated, but not allowed"));
    let words = run.resume_words();
    assert_eq!(
        words[..7],
        [
            "list",
            "--endpoint",
            &served.server.endpoint(),
            "--project-id",
            served.server.project_id(),
            "--format",
            "json",
        ]
    );
    assert_eq!(words[7], "--resume");
    assert_eq!(words.len(), 9);
    // The token holds the filters, the page size and what --max-items still allows.
    let cursor = serde_json::to_value(words[8].parse::<vbs_backups::Cursor>().unwrap()).unwrap();
    assert_eq!(cursor["page_size"], 10);
    assert_eq!(cursor["max_items"], 21);
    assert_eq!(cursor["after"], first[18].0.as_str());
    assert!(!run.stderr.contains(&token));

    let rest = Run::ok(vbs().args(&words).env("OS_AUTH_TOKEN", &token));
    let rest: Vec<Value> = serde_json::from_str(&rest.stdout).unwrap();
    let rest: Vec<_> = rest.iter().map(summary).collect();
    assert_eq!([first, rest].concat(), served.truth()[1..41]);
}

#[test]
fn the_printed_resume_command_lists_exactly_the_rest_even_after_the_last_backup_was_deleted() {
    let served = serve_backups(45);
    for _ in 0..2 {
        served.server.push_response(CannedResponse::passthrough());
    }
    served.server.push_response(CannedResponse::json(
        403,
        r#"{"forbidden": {"code": 403, "message": "Policy doesn't allow backup:get_all."}}"#,
    ));
    let truth = served.truth();
    let run = Run::of(vbs().arg("list").args(served.flags()).args([
        "--page-size",
        "10",
        "--format",
        "ndjson",
    ]));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    // The 20th backup is the marker of the page that failed: held back for it, it is the
    // first the resume lists.
    let first = ndjson(&run.stdout);
    assert_eq!(first, truth[..19]);
    let words = run.resume_words();
    assert!(words.contains(&"--resume".to_owned()), "{words:?}");
    assert!(!words.contains(&"--after".to_owned()), "{words:?}");
    // A cleanup run deleted the last backup listed, and the one before it, meanwhile:
    // `--after <id>` would be a 404 now.
    assert!(served.server.delete_backup(&first[18].0));
    assert!(served.server.delete_backup(&first[17].0));
    let rest = Run::ok(
        vbs()
            .args(&words)
            .env("OS_AUTH_TOKEN", served.server.token().unwrap()),
    );
    assert_eq!(ndjson(&rest.stdout), truth[19..]);

    // The same token from a file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("resume.token");
    let token = &words[words.iter().position(|w| w == "--resume").unwrap() + 1];
    std::fs::write(&file, format!("{token}\n")).unwrap();
    let from_file = Run::ok(
        vbs()
            .arg("list")
            .args(served.flags())
            .arg("--resume-file")
            .arg(&file),
    );
    assert_eq!(ndjson(&from_file.stdout), truth[19..]);
}

#[test]
fn resume_flags_conflict_with_the_filters_and_a_bad_token_is_an_error() {
    let served = serve_backups(3);
    let conflict = Run::of(vbs().arg("list").args(served.flags()).args([
        "--resume",
        "vbs1.e30",
        "--status",
        "available",
    ]));
    assert_eq!(conflict.code, Some(2), "{}", conflict.stderr);
    let bad = Run::of(
        vbs()
            .arg("list")
            .args(served.flags())
            .args(["--resume", "nope"]),
    );
    assert_eq!(bad.code, Some(1), "{}", bad.stderr);
    assert!(
        bad.stderr.starts_with("error: --resume: "),
        "{}",
        bad.stderr
    );
}

#[test]
fn csv_output_guards_formulas_by_default_and_csv_raw_turns_it_off() {
    let served = serve_backups(0);
    let page = serde_json::json!({"backups": [
        {"id": "b1", "name": "=HYPERLINK(\"http://x\")", "links": []},
        {"id": "-b2", "name": "@cmd", "links": []},
    ]})
    .to_string();
    served
        .server
        .push_response(CannedResponse::json(200, page.clone()));
    let guarded = Run::ok(
        vbs()
            .arg("list")
            .args(served.flags())
            .args(["--format", "csv"]),
    );
    assert_eq!(
        guarded.stdout,
        "id,name\nb1,\"'=HYPERLINK(\"\"http://x\"\")\"\n'-b2,'@cmd\n"
    );
    served.server.push_response(CannedResponse::json(200, page));
    let raw =
        Run::ok(
            vbs()
                .arg("list")
                .args(served.flags())
                .args(["--format", "csv", "--csv-raw"]),
        );
    assert_eq!(
        raw.stdout,
        "id,name\nb1,\"=HYPERLINK(\"\"http://x\"\")\"\n-b2,@cmd\n"
    );
    let help = Run::ok(vbs().args(["list", "--help"]));
    assert!(help.stdout.contains("--csv-raw"), "{}", help.stdout);
}

#[test]
fn server_text_in_the_error_and_resume_lines_cannot_drive_the_terminal() {
    let served = serve_backups(0);
    let evil = "\u{1b}]52;c;AAAA\u{7}";
    let page = serde_json::json!({
        "backups": [{"id": evil, "name": "x", "links": []}, {"id": "b", "name": "y", "links": []}],
        "backups_links": [{"rel": "next", "href": "backups?marker=b"}],
    })
    .to_string();
    served.server.push_response(CannedResponse::json(200, page));
    served.server.push_response(CannedResponse::json(
        403,
        format!(
            r#"{{"forbidden": {{"code": 403, "message": "no {}"}}}}"#,
            "\\u001b[2J\\u0007"
        ),
    ));
    let run = Run::of(
        vbs()
            .arg("list")
            .args(served.flags())
            .args(["--format", "ndjson"]),
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        !run.stderr.contains('\u{1b}') && !run.stderr.contains('\u{7}'),
        "{:?}",
        run.stderr
    );
    assert!(run.stderr.contains(r"no \u{1b}[2J\u{7}"), "{}", run.stderr);
    assert!(run.stderr.contains("resume with: "), "{}", run.stderr);
}

/// Sends SIGINT, as Ctrl-C does, to a child this test started.
fn interrupt(child: &Child) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

#[test]
fn ctrl_c_stops_cleanly_with_a_resume_hint_and_exit_130() {
    let served = serve_backups(50);
    // The first page comes at once, the second not for an hour.
    served.server.push_response(CannedResponse::passthrough());
    served
        .server
        .push_response(CannedResponse::passthrough().delay(Duration::from_secs(3600)));
    let mut child = vbs_std()
        .arg("list")
        .args(served.flags())
        .args(["--page-size", "10", "--status", "available"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    interrupt(&child);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();

    assert_eq!(status.code(), Some(130), "stderr: {stderr}");
    let listed = ndjson(&(first + &rest));
    let available: Vec<_> = served
        .server
        .backups()
        .into_iter()
        .filter(|b| b.status == "available")
        .collect();
    // The first page's last backup is the marker of the page that never comes: it is
    // held back for it, and the resume command starts with it.
    assert_eq!(
        listed,
        pairs(&available)[..9],
        "the first page, flushed whole but for the next marker"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines[0], "interrupted after 9 backups");
    let resume = format!(
        "resume with: vbs-backups list --endpoint {} --project-id {} --resume ",
        served.server.endpoint(),
        served.server.project_id(),
    );
    assert!(lines[1].starts_with(&resume), "{stderr}");
    let token = lines[1].rsplit(' ').next().unwrap();
    let cursor = serde_json::to_value(token.parse::<vbs_backups::Cursor>().unwrap()).unwrap();
    assert_eq!(cursor["after"], listed[8].0.as_str());
    assert_eq!(cursor["next"], pairs(&available)[9].0.as_str());
    assert_eq!(
        cursor["filters"],
        serde_json::json!([["status", "available"]])
    );
    assert_eq!(lines.len(), 2);
}

// ---------------------------------------------------------------------------------------
// demo, -v
// ---------------------------------------------------------------------------------------

#[test]
fn demo_lists_its_own_server_and_says_what_it_does() {
    let run = Run::ok(vbs().args(["demo", "--backups", "30", "--page-size", "12"]));
    let listed = ndjson(&run.stdout);
    assert_eq!(listed.len(), 30);
    assert_eq!(
        listed
            .iter()
            .map(|(id, _)| id)
            .collect::<HashSet<_>>()
            .len(),
        30
    );
    let lines = run.stderr_lines();
    assert_eq!(
        lines[0],
        "demo: starting a fake VBS / Cinder server on 127.0.0.1 with 30 backups"
    );
    assert!(lines[1].starts_with("demo: vbs-backups list --endpoint http://127.0.0.1:"));
    assert!(
        lines[1].ends_with("--token fake-token --page-size 12"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("demo: listed 30 backups in 3 pages (3 requests) in "),
        "{}",
        lines[2]
    );

    let quiet = Run::ok(vbs().args(["demo", "--backups", "7", "--format", "json", "-q"]));
    assert_eq!(quiet.stderr, "");
    let array: Vec<Value> = serde_json::from_str(&quiet.stdout).unwrap();
    assert_eq!(array.len(), 7);

    // The default: 2,500 backups.
    let run = Run::ok(vbs().args(["demo", "--format", "csv"]));
    assert_eq!(run.stdout.lines().count(), 1 + 2500);
}

#[test]
fn demo_serve_keeps_serving_for_the_command_it_prints() {
    let mut child = vbs_std()
        .args(["demo", "--backups", "40", "--serve", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut said = Vec::new();
    let command = loop {
        let mut line = String::new();
        assert_ne!(stderr.read_line(&mut line).unwrap(), 0, "said: {said:?}");
        if let Some(command) = line.trim().strip_prefix("vbs-backups ") {
            break command.trim_end_matches(" | head -3").to_owned();
        }
        said.push(line);
    };
    let run = Run::ok(vbs().args(command.split_whitespace()));
    assert_eq!(ndjson(&run.stdout).len(), 40);

    interrupt(&child);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn verbose_logs_go_to_stderr_and_leave_stdout_alone() {
    let served = serve_backups(8);
    let run = Run::ok(
        vbs()
            .args(["-vv", "list"])
            .args(served.flags())
            .args(["--page-size", "3"]),
    );
    assert_eq!(ndjson(&run.stdout), served.truth());
    assert!(run.stderr.contains("DEBUG"), "{}", run.stderr);
    assert!(
        !run.stderr.contains(served.server.token().unwrap()),
        "the token is never logged"
    );
}

#[test]
fn a_slow_server_is_a_timeout_with_its_hint() {
    let served = serve(
        FakeServer::builder()
            .backups(3)
            .latency(Duration::from_secs(3600)),
    );
    let run = Run::of(
        vbs()
            .arg("list")
            .args(served.flags())
            .args(["--timeout", "50ms"]),
    );
    assert_eq!(run.code, Some(1));
    let lines = run.stderr_lines();
    assert!(
        lines[0].starts_with("error: request timed out"),
        "{}",
        run.stderr
    );
    assert!(lines[1].contains("--timeout"), "{}", run.stderr);
}

#[test]
fn a_field_named_twice_is_a_usage_error() {
    let served = serve_backups(3);
    for fields in ["id,id", "id,name,id", "status,size,status"] {
        let run = Run::of(
            vbs()
                .arg("list")
                .args(served.flags())
                .args(["--fields", fields, "--format", "json"]),
        );
        assert_eq!(run.code, Some(2), "{fields}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{fields}");
        assert!(run.stderr.contains("twice"), "{fields}: {}", run.stderr);
    }
    assert!(served.server.requests().is_empty());
}

#[test]
fn bidi_overrides_and_invisible_characters_in_the_table_are_shown_escaped() {
    let served = serve_backups(0);
    let page = r#"{"backups": [
        {"id": "x\u202egnp.exe", "name": "a\u200bb\u2067c\u200e\u061c", "links": []},
        {"id": "b2", "name": "\ufeffplain\u2028line", "links": []}
    ]}"#;
    served.server.push_response(CannedResponse::json(200, page));
    let run = Run::ok(
        vbs()
            .arg("list")
            .args(served.flags())
            .args(["--format", "table"]),
    );
    for hidden in [
        '\u{202e}', '\u{200b}', '\u{2067}', '\u{200e}', '\u{61c}', '\u{feff}', '\u{2028}',
    ] {
        assert!(
            !run.stdout.contains(hidden),
            "{hidden:?} in {:?}",
            run.stdout
        );
    }
    assert!(run.stdout.contains("x\\u{202e}gnp.exe"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("a\\u{200b}b\\u{2067}c\\u{200e}\\u{61c}"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\\u{feff}plain\\u{2028}line"),
        "{}",
        run.stdout
    );
}

//! The `vbs-fake-server` command: started as a script would start it, it prints where it
//! listens and serves pages there until it is killed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// Kills the server even when an assertion fails.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the command with `args` and reads its `key=value` lines, `count` of them.
fn start(args: &[&str], count: usize) -> (Running, HashMap<String, String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vbs-fake-server"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("vbs-fake-server starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let running = Running(child);
    let mut printed = HashMap::new();
    for line in BufReader::new(stdout).lines().take(count) {
        let line = line.expect("a line of output");
        let (key, value) = line.split_once('=').expect("key=value");
        printed.insert(key.to_owned(), value.to_owned());
    }
    assert_eq!(printed.len(), count, "{printed:?}");
    (running, printed)
}

async fn get(url: &str, token: &str) -> (u16, Value) {
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(url)
        .header("X-Auth-Token", token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_str(&response.text().await.unwrap()).unwrap(),
    )
}

#[tokio::test]
async fn prints_its_endpoint_and_serves_pages_until_killed() {
    let (running, printed) = start(&["--backups", "5000", "--port", "0"], 3);
    let endpoint = &printed["endpoint"];
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    assert_eq!(printed["token"], vbs_backups_testing::DEFAULT_TOKEN);
    assert_eq!(
        printed["project_id"],
        vbs_backups_testing::DEFAULT_PROJECT_ID
    );

    let first = format!("{endpoint}/v3/{}/backups?limit=1000", printed["project_id"]);
    let (status, page) = get(&first, &printed["token"]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["backups"].as_array().unwrap().len(), 1000);
    let next = page["backups_links"][0]["href"].as_str().unwrap();
    assert!(next.starts_with(endpoint.as_str()), "{next}");

    // The same seed as the library's default: the same first backup.
    let local = vbs_backups_testing::FakeServer::builder()
        .backups(5000)
        .start()
        .await
        .unwrap();
    assert_eq!(page["backups"][0]["id"], local.backups()[0].id.as_str());

    let (status, _) = get(&first, "wrong").await;
    assert_eq!(status, 401);

    drop(running);
    assert!(reqwest::get(&first).await.is_err(), "the server is gone");
}

#[tokio::test]
async fn flags_set_the_page_limit_token_and_keystone() {
    let (_running, printed) = start(
        &[
            "--backups=12",
            "--page-limit",
            "5",
            "--token",
            "s3cret",
            "--keystone",
        ],
        8,
    );
    assert_eq!(printed["token"], "s3cret");
    let first = format!(
        "{}/v2/{}/backups",
        printed["endpoint"], printed["project_id"]
    );
    let (status, page) = get(&first, "s3cret").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["backups"].as_array().unwrap().len(), 5);

    // The fake Keystone issues a token for the printed credentials.
    let body = serde_json::json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": printed["username"],
            "domain": {"name": printed["user_domain_name"]},
            "password": printed["password"],
        }}},
        "scope": {"project": {"name": printed["project_name"], "domain": {"id": "default"}}},
    }});
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("{}/auth/tokens", printed["auth_url"]))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let token = response.headers()["x-subject-token"]
        .to_str()
        .unwrap()
        .to_owned();
    let (status, _) = get(&first, &token).await;
    assert_eq!(
        status, 200,
        "the issued token is the one the server accepts now"
    );
}

#[tokio::test]
async fn huawei_mode_prints_the_ak_sk_region_and_iam_and_refuses_unsigned_requests() {
    let (_running, printed) = start(&["--backups", "3", "--huawei", "--clock-offset=-60"], 7);
    assert_eq!(
        printed["token"], "",
        "no token: the gateway checks signatures"
    );
    assert_eq!(printed["ak"], "HPUAFAKEACCESSKEY0001");
    assert!(!printed["sk"].is_empty());
    assert_eq!(printed["region"], "cn-north-4");
    assert_eq!(
        printed["region"],
        vbs_backups_testing::DEFAULT_HUAWEI_REGION
    );
    assert_eq!(printed["iam_endpoint"], printed["endpoint"]);
    let listing = format!(
        "{}/v2/{}/backups",
        printed["endpoint"], printed["project_id"]
    );
    let (status, body) = get(&listing, "any-token").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error_code"], "APIGW.0301");
    let projects = format!("{}/v3/projects?name=cn-north-4", printed["iam_endpoint"]);
    let (status, _) = get(&projects, "").await;
    assert_eq!(status, 401, "IAM's list is signed too");
}

#[tokio::test]
async fn cbr_mode_serves_cbr_pages_with_a_count_and_no_links() {
    let (_running, printed) = start(&["--backups", "5", "--cbr", "--no-auth"], 3);
    let page = format!(
        "{}/v3/{}/backups?limit=2",
        printed["endpoint"], printed["project_id"]
    );
    let (status, body) = get(&page, "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], 5);
    assert_eq!(body["backups"].as_array().map(Vec::len), Some(2));
    assert!(body.get("backups_links").is_none(), "{body}");
}

#[test]
fn bad_arguments_exit_with_usage() {
    let output = Command::new(env!("CARGO_BIN_EXE_vbs-fake-server"))
        .arg("--frobnicate")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unknown argument: --frobnicate"),
        "{stderr}"
    );
    assert!(stderr.contains("Usage: vbs-fake-server"), "{stderr}");
}

#[tokio::test]
async fn a_whole_huawei_account_prints_its_variables_and_the_estate_command() {
    // AK, SK, IAM, EVS, VBS and CBR of each of 2 regions, and the command.
    let (_running, printed) = start(&["--huawei", "--regions", "2", "--backups", "3"], 10);
    assert_eq!(
        printed["HUAWEICLOUD_SDK_AK"],
        vbs_backups_testing::ACCOUNT_ACCESS_KEY
    );
    for region in ["CN_NORTH_4", "CN_EAST_3"] {
        for service in ["EVS", "VBS", "CBR"] {
            let endpoint = &printed[&format!("HUAWEICLOUD_SDK_REGION_{service}_{region}")];
            assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
        }
    }
    let command = &printed["command"];
    assert!(command.starts_with("env HUAWEICLOUD_SDK_AK="), "{command}");
    assert!(
        command.ends_with("vbs-backups --all-regions --service vbs,cbr list"),
        "{command}"
    );
    // IAM answers (unsigned requests are refused: it is a gateway).
    let iam = &printed["HUAWEICLOUD_SDK_IAM_ENDPOINT"];
    let status = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{iam}/v3/auth/projects"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
}

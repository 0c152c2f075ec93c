//! The `vbs-backups` binary with Huawei Cloud AK/SK, end to end: the built executable, run
//! with an empty environment (`env_clear`) against the fake server's Huawei API gateway on
//! 127.0.0.1, which verifies every `SDK-HMAC-SHA256` signature, keeps a clock of its own
//! and serves IAM's project list.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use vbs_backups_testing::{CannedResponse, FakeServer, HuaweiGateway, RecordedRequest};

const BIN: &str = env!("CARGO_BIN_EXE_vbs-backups");
const AK: &str = "HPUAFAKEACCESSKEY0001";
const SK: &str = "fake-secret-key-never-printed";
const REGION: &str = "cn-north-4";

/// A fake server running on its own runtime while the test thread waits for the binary.
struct Served {
    server: Arc<FakeServer>,
    // Dropped last: the server's tasks run on it.
    _runtime: tokio::runtime::Runtime,
}

fn gateway(backups: usize, gateway: HuaweiGateway) -> Served {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime
        .block_on(
            FakeServer::builder()
                .backups(backups)
                .huawei(gateway)
                .start(),
        )
        .expect("fake server starts");
    Served {
        server: Arc::new(server),
        _runtime: runtime,
    }
}

impl Served {
    /// The variables a Huawei Cloud user sets, with IAM and VBS pointed at the fake.
    fn env(&self, ak: &str, sk: &str) -> Vec<(String, String)> {
        let mut vars = self.endpoints();
        vars.push(("HUAWEICLOUD_SDK_AK".into(), ak.into()));
        vars.push(("HUAWEICLOUD_SDK_SK".into(), sk.into()));
        vars
    }

    /// Only where IAM and VBS are (the region's override, as Huawei's SDKs read it).
    fn endpoints(&self) -> Vec<(String, String)> {
        vec![
            (
                "HUAWEICLOUD_SDK_IAM_ENDPOINT".into(),
                self.server.endpoint(),
            ),
            (
                "HUAWEICLOUD_SDK_REGION_VBS_CN_NORTH_4".into(),
                self.server.endpoint(),
            ),
        ]
    }

    fn ids(&self) -> Vec<String> {
        self.server.backups().into_iter().map(|b| b.id).collect()
    }

    fn iam_requests(&self) -> Vec<RecordedRequest> {
        self.server
            .requests()
            .into_iter()
            .filter(|request| request.path == "/v3/projects")
            .collect()
    }
}

/// The binary with an empty environment (but `HOME`, an empty directory: no
/// `~/.huaweicloud/credentials` by accident), in that directory.
fn vbs(home: &Path) -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new(BIN);
    command.env_clear().env("HOME", home).current_dir(home);
    command
}

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

    fn ids(&self) -> Vec<String> {
        self.stdout
            .lines()
            .map(|line| {
                let value: Value = serde_json::from_str(line).expect("ndjson");
                value["id"].as_str().expect("an id").to_owned()
            })
            .collect()
    }

    /// Asserts that nothing secret was printed.
    fn assert_no_secret(&self, secrets: &[&str]) {
        for secret in secrets.iter().chain(&[AK, "Signature="]) {
            assert!(
                !self.stdout.contains(secret) && !self.stderr.contains(secret),
                "{secret} printed: {}\n{}",
                self.stdout,
                self.stderr
            );
        }
    }

    /// Asserts one `error:` line and one `hint:` line, and returns them.
    fn error_and_hint(&self) -> (&str, &str) {
        assert_eq!(self.code, Some(1), "{}", self.stderr);
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 2, "{}", self.stderr);
        assert!(lines[0].starts_with("error: "), "{}", self.stderr);
        assert!(lines[1].starts_with("hint: "), "{}", self.stderr);
        (lines[0], lines[1])
    }
}

#[test]
fn ak_sk_from_the_environment_and_a_region_list_every_backup_through_iam_discovery() {
    let served = gateway(23, HuaweiGateway::new(AK, SK));
    let home = tempfile::tempdir().unwrap();
    let run = Run::ok(vbs(home.path()).envs(served.env(AK, SK)).args([
        "list",
        "--region",
        REGION,
        "--page-size",
        "10",
    ]));
    assert_eq!(run.ids(), served.ids());
    let requests = served.server.requests();
    assert_eq!(requests.len(), 1 + 3, "IAM, then three pages");
    assert_eq!(requests[0].path, "/v3/projects");
    assert_eq!(requests[0].param("name").as_deref(), Some(REGION));
    assert_eq!(requests[0].header("x-project-id"), None);
    for listing in &requests[1..] {
        assert_eq!(
            listing.header("x-project-id"),
            Some(served.server.project_id())
        );
        assert!(listing.header("authorization").is_some());
    }
    assert_eq!(served.server.signatures_verified(), 4);
    assert_eq!(served.server.signatures_refused(), 0);

    // HW_REGION_NAME, then OS_REGION_NAME, stand in for --region.
    for variable in ["HW_REGION_NAME", "OS_REGION_NAME"] {
        served.server.clear_requests();
        let run = Run::ok(
            vbs(home.path())
                .envs(served.env(AK, SK))
                .env(variable, REGION)
                .arg("list"),
        );
        assert_eq!(run.ids().len(), 23, "{variable}");
        assert_eq!(served.iam_requests().len(), 1, "{variable}");
    }
}

#[test]
fn ak_sk_from_a_credentials_file_named_or_in_the_home_directory() {
    let served = gateway(7, HuaweiGateway::new(AK, SK));
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("huawei-credentials");
    std::fs::write(
        &file,
        format!(
            "[basic]\nak = {AK}\nsk = {SK}\nproject_id = {}\n",
            served.server.project_id()
        ),
    )
    .unwrap();
    let run = Run::ok(
        vbs(home.path())
            .envs(served.endpoints())
            .env("HUAWEICLOUD_SDK_CREDENTIALS_FILE", &file)
            .env("OS_REGION_NAME", REGION)
            .arg("list"),
    );
    assert_eq!(run.ids(), served.ids());
    assert!(served.iam_requests().is_empty(), "the file's project id");

    // ~/.huaweicloud/credentials, without a project: IAM finds it.
    std::fs::create_dir(home.path().join(".huaweicloud")).unwrap();
    std::fs::write(
        home.path().join(".huaweicloud/credentials"),
        format!("[basic]\nak = {AK}\nsk = {SK}\n"),
    )
    .unwrap();
    served.server.clear_requests();
    let run = Run::ok(
        vbs(home.path())
            .envs(served.endpoints())
            .args(["list", "--region", REGION]),
    );
    assert_eq!(run.ids(), served.ids());
    assert_eq!(served.iam_requests().len(), 1);
}

#[test]
fn the_project_id_flag_beats_the_environment_which_beats_discovery() {
    let served = gateway(4, HuaweiGateway::new(AK, SK));
    let home = tempfile::tempdir().unwrap();
    let run = Run::ok(
        vbs(home.path())
            .envs(served.env(AK, SK))
            .env("HUAWEICLOUD_SDK_PROJECT_ID", "not-the-project")
            .args(["list", "--region", REGION])
            .args(["--project-id", served.server.project_id()]),
    );
    assert_eq!(run.ids(), served.ids());
    assert!(served.iam_requests().is_empty());
    let listing = served.server.requests().pop().unwrap();
    assert!(listing.path.contains(served.server.project_id()));

    // The variable alone is used as given: no IAM request, and the gateway refuses it.
    served.server.clear_requests();
    let run = Run::of(
        vbs(home.path())
            .envs(served.env(AK, SK))
            .env("HUAWEICLOUD_SDK_PROJECT_ID", "not-the-project")
            .args(["list", "--region", REGION]),
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(served.iam_requests().is_empty());
    assert!(
        served.server.requests()[0].path.contains("not-the-project"),
        "{:?}",
        served.server.requests()
    );
}

#[test]
fn token_or_os_cloud_flags_choose_openstack_over_ak_sk_in_the_environment() {
    let served = gateway(3, HuaweiGateway::new(AK, SK));
    let home = tempfile::tempdir().unwrap();
    let run = Run::of(
        vbs(home.path())
            .envs(served.env(AK, SK))
            .args(["list", "--region", REGION, "--token", "a-keystone-token"])
            .args(["--endpoint", &served.server.endpoint()])
            .args(["--project-id", served.server.project_id()]),
    );
    // The token went out unsigned, and the gateway wants a signature.
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let sent = served.server.requests().pop().unwrap();
    assert_eq!(sent.header("x-auth-token"), Some("a-keystone-token"));
    assert_eq!(sent.header("authorization"), None);

    // OS_* variables beside AK/SK do not: the environment's AK/SK sign.
    served.server.clear_requests();
    let run = Run::ok(
        vbs(home.path())
            .envs(served.env(AK, SK))
            .env("OS_AUTH_URL", "http://127.0.0.1:9/v3")
            .env("OS_AUTH_TOKEN", "ignored")
            .args(["list", "--region", REGION]),
    );
    assert_eq!(run.ids(), served.ids());
}

#[test]
fn a_wrong_key_is_one_request_an_error_line_a_hint_and_no_secret() {
    let served = gateway(3, HuaweiGateway::new(AK, SK));
    let home = tempfile::tempdir().unwrap();
    let wrong = "wrong-secret-key-never-printed";
    let run = Run::of(
        vbs(home.path())
            .envs(served.env(AK, wrong))
            .args(["list", "--region", REGION]),
    );
    let (error, hint) = run.error_and_hint();
    assert!(error.contains("APIGW.0301"), "{error}");
    assert!(error.contains("verify aksk signature fail"), "{error}");
    assert!(
        !error.contains("check the AK/SK"),
        "the hint has its own line: {error}"
    );
    assert!(hint.contains("check the AK/SK"), "{hint}");
    assert!(hint.contains("HPUA…"), "{hint}");
    assert_eq!(
        served.server.request_count(),
        1,
        "never retried into the gateway's lock-out"
    );
    run.assert_no_secret(&[SK, wrong]);

    // An access key the gateway does not know, straight to the listing.
    served.server.clear_requests();
    let run = Run::of(
        vbs(home.path())
            .envs(served.env("HPUAUNKNOWNKEY99", SK))
            .args(["list", "--region", REGION])
            .args(["--project-id", served.server.project_id()]),
    );
    let (error, hint) = run.error_and_hint();
    assert!(error.contains("ak not found"), "{error}");
    assert!(hint.contains("check the AK/SK"), "{hint}");
    assert_eq!(served.server.request_count(), 1);
    run.assert_no_secret(&[SK, "HPUAUNKNOWNKEY99"]);
}

#[test]
fn a_skewed_clock_is_corrected_and_an_uncorrectable_skew_shows_both_clocks() {
    // The gateway's clock is 40 minutes ahead: one refusal, then every request passes.
    let served = gateway(12, HuaweiGateway::new(AK, SK).clock_offset_secs(40 * 60));
    let home = tempfile::tempdir().unwrap();
    let run = Run::ok(vbs(home.path()).envs(served.env(AK, SK)).args([
        "list",
        "--region",
        REGION,
        "--page-size",
        "5",
    ]));
    assert_eq!(run.ids(), served.ids());
    assert_eq!(served.server.signatures_refused(), 1);
    assert_eq!(
        served.server.request_count(),
        2 + 3,
        "IAM twice, three pages"
    );

    // Skewed and a wrong key: corrected once, then reported with both clocks.
    served.server.clear_requests();
    let run = Run::of(
        vbs(home.path())
            .envs(served.env(AK, "not-the-secret"))
            .args(["list", "--region", REGION])
            .args(["--project-id", served.server.project_id()]),
    );
    let (_, hint) = run.error_and_hint();
    assert!(hint.contains("corrected by"), "{hint}");
    assert!(hint.contains("check the AK/SK"), "{hint}");
    assert!(hint.matches(" UTC").count() >= 2, "both clocks: {hint}");
    assert_eq!(
        served.server.request_count(),
        2,
        "signed again once, no more"
    );
    run.assert_no_secret(&[SK, "not-the-secret"]);

    // A gateway whose clock keeps moving away: the correction does not help. (The signer
    // follows a gateway's clock only up to a day away.)
    served.server.clear_requests();
    let expired = r#"{"error_code": "APIGW.0301", "error_msg": "Incorrect IAM authentication information: verify aksk signature fail, signature expired", "request_id": "r-1"}"#;
    let now = jiff::Timestamp::now();
    let http_date = |t: jiff::Timestamp| t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let later = now + jiff::SignedDuration::from_hours(20);
    for date in [now + jiff::SignedDuration::from_hours(2), later] {
        served
            .server
            .push_response(CannedResponse::json(401, expired).header("Date", http_date(date)));
    }
    let run = Run::of(
        vbs(home.path())
            .envs(served.env(AK, SK))
            .args(["list", "--region", REGION])
            .args(["--project-id", served.server.project_id()]),
    );
    let (error, hint) = run.error_and_hint();
    assert!(error.contains("signature expired"), "{error}");
    assert!(hint.starts_with("hint: clock skew"), "{hint}");
    let later_shown = later.strftime("%Y-%m-%d %H:%M").to_string();
    assert!(hint.contains(&later_shown), "the gateway's clock: {hint}");
    assert!(hint.matches(" UTC").count() >= 2, "both clocks: {hint}");
    assert_eq!(served.server.request_count(), 2);
    run.assert_no_secret(&[SK]);
}

#[test]
fn vv_shows_the_signed_requests_without_any_secret() {
    let token = "fake-security-token-never-printed";
    let served = gateway(3, HuaweiGateway::new(AK, SK).security_token(token));
    let home = tempfile::tempdir().unwrap();
    let run = Run::ok(
        vbs(home.path())
            .envs(served.env(AK, SK))
            .env("HUAWEICLOUD_SDK_SECURITY_TOKEN", token)
            .args(["-vv", "list", "--region", REGION, "--name", "a b"]),
    );
    let signed: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.contains("signed the request"))
        .collect();
    assert_eq!(signed.len(), 2, "IAM's and the page's: {}", run.stderr);
    assert!(
        signed[0].contains("/v3/projects?name=cn-north-4"),
        "{}",
        signed[0]
    );
    let page = signed[1];
    assert!(page.contains("GET"), "{page}");
    assert!(
        page.contains("/backups?limit=1000&name=a%20b"),
        "as sent: {page}"
    );
    assert!(
        page.contains("signed_headers=accept;host;x-project-id;x-sdk-date;x-security-token"),
        "{page}"
    );
    assert!(page.contains("x_sdk_date=20"), "{page}");
    run.assert_no_secret(&[SK, token]);

    // -v is quieter: no per-request lines.
    let run = Run::ok(
        vbs(home.path())
            .envs(served.env(AK, SK))
            .env("HUAWEICLOUD_SDK_SECURITY_TOKEN", token)
            .args(["-v", "list", "--region", REGION]),
    );
    assert!(!run.stderr.contains("signed the request"), "{}", run.stderr);
}

/// A fake CBR behind the signing gateway, on its own runtime.
fn cbr_gateway(backups: usize) -> Served {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime
        .block_on(
            FakeServer::builder()
                .backups(backups)
                .cbr()
                .huawei(HuaweiGateway::new(AK, SK))
                .start(),
        )
        .expect("fake server starts");
    Served {
        server: Arc::new(server),
        _runtime: runtime,
    }
}

#[test]
fn service_cbr_lists_every_cbr_backup_signed_with_repeated_statuses_and_cbr_filters() {
    let served = cbr_gateway(40);
    let home = tempfile::tempdir().unwrap();
    let env = |served: &Served| {
        vec![
            ("HUAWEICLOUD_SDK_AK".to_owned(), AK.to_owned()),
            ("HUAWEICLOUD_SDK_SK".to_owned(), SK.to_owned()),
            (
                "HUAWEICLOUD_SDK_IAM_ENDPOINT".to_owned(),
                served.server.endpoint(),
            ),
            (
                "HUAWEICLOUD_SDK_REGION_CBR_CN_NORTH_4".to_owned(),
                served.server.endpoint(),
            ),
        ]
    };
    let truth = served.server.cbr_backups();
    let all = Run::ok(
        vbs(home.path())
            .envs(env(&served))
            .args(["--region", REGION, "--service", "cbr", "list"])
            .args(["--format", "ndjson", "--page-size", "7"]),
    );
    let ids: Vec<_> = truth.iter().map(|backup| backup.id.clone()).collect();
    assert_eq!(all.ids(), ids, "every CBR backup once, in order");
    all.assert_no_secret(&[SK]);
    let listings: Vec<_> = served
        .server
        .requests()
        .into_iter()
        .filter(|request| request.path.ends_with("/backups"))
        .collect();
    assert_eq!(
        listings.len(),
        40 / 7 + 1,
        "marker = last id until a short page ends it"
    );
    assert!(
        listings
            .iter()
            .all(|request| request.path == format!("/v3/{}/backups", served.server.project_id()))
    );

    served.server.clear_requests();
    let some = Run::ok(
        vbs(home.path())
            .envs(env(&served))
            .args(["--region", REGION, "--service", "cbr", "list"])
            .args([
                "--status",
                "available",
                "--status",
                "error",
                "--format",
                "ndjson",
            ]),
    );
    let wanted: Vec<_> = truth
        .iter()
        .filter(|backup| matches!(backup.status, "available" | "error"))
        .map(|backup| backup.id.clone())
        .collect();
    assert!(!wanted.is_empty());
    assert_eq!(some.ids(), wanted);
    let query = served.server.requests()[1]
        .raw_query
        .clone()
        .unwrap_or_default();
    assert!(
        query.contains("status=available") && query.contains("status=error"),
        "{query}"
    );

    let vault = truth[0].vault_id;
    let in_vault = Run::ok(
        vbs(home.path())
            .envs(env(&served))
            .args(["--region", REGION, "--service", "cbr", "list"])
            .args(["--vault-id", vault, "--format", "ndjson"]),
    );
    let wanted: Vec<_> = truth
        .iter()
        .filter(|backup| backup.vault_id == vault)
        .map(|backup| backup.id.clone())
        .collect();
    assert_eq!(in_vault.ids(), wanted);
}

#[test]
fn flags_of_the_other_service_are_usage_errors_before_any_request() {
    let served = cbr_gateway(3);
    let home = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 7] = [
        (
            &["list", "--vault-id", "v"],
            "--vault-id applies to CBR backups only",
        ),
        (
            &["list", "--resource-id", "r"],
            "--resource-id applies to CBR",
        ),
        (
            &["list", "--resource-type", "OS::Cinder::Volume"],
            "--resource-type applies to CBR",
        ),
        (
            &["list", "--status", "available", "--status", "error"],
            "--status given more than once applies to CBR",
        ),
        (
            &["--service", "cbr", "list", "--volume-id", "v"],
            "--volume-id applies to VBS / Cinder backups only",
        ),
        (
            &["--service", "cbr", "list", "--detail"],
            "--detail applies to VBS / Cinder",
        ),
        (
            &["--service", "cbr", "--api-version", "3.45", "list"],
            "--api-version applies to VBS / Cinder",
        ),
    ];
    for (args, expected) in cases {
        let run = Run::of(
            vbs(home.path())
                .envs(served.env(AK, SK))
                .args(["--region", REGION])
                .args(args),
        );
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
    }
    assert_eq!(
        served.server.request_count(),
        0,
        "refused before connecting"
    );
    let run = Run::of(vbs(home.path()).args(["--service", "s3", "list"]));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("[possible values: vbs, cbr]"),
        "{}",
        run.stderr
    );
}

#[test]
fn help_documents_the_ak_sk_precedence() {
    let run = Run::ok(vbs(Path::new("/")).arg("--help"));
    for needle in [
        "HUAWEICLOUD_SDK_AK",
        "--region",
        "--service",
        "unless --token or --os-cloud is given",
    ] {
        assert!(run.stdout.contains(needle), "{needle}: {}", run.stdout);
    }
}

//! Huawei Cloud end to end, against the fake server's API gateway, which verifies every
//! `SDK-HMAC-SHA256` signature by recomputing it from the request as received: VBS walks
//! with awkward filters, retries and throttling; clock skew corrected once and kept; a
//! wrong key refused once with a hint and never retried; temporary credentials; IAM
//! project discovery; and configuration from `HUAWEICLOUD_SDK_*` and the credentials file.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design
#![cfg(feature = "huawei")]

mod common;

use std::time::Duration;

use futures::TryStreamExt;
use vbs_backups::huawei::{AkSkSigner, Credentials, HuaweiConfig};
use vbs_backups::{Client, ErrorKind, HttpOptions, RetryPolicy, SortDir, SortKey};
use vbs_backups_testing::{CannedResponse, FakeServer, HuaweiGateway, RecordedRequest};

const AK: &str = "HPUAFAKEACCESSKEY0001";
const SK: &str = "fake-secret-key-never-printed";
const REGION: &str = "cn-north-4";

async fn gateway(backups: usize, gateway: HuaweiGateway) -> FakeServer {
    FakeServer::builder()
        .backups(backups)
        .huawei(gateway)
        .start()
        .await
        .expect("fake server starts")
}

fn fast_retries() -> HttpOptions {
    HttpOptions::new().retry_policy(
        RetryPolicy::default()
            .base_delay(Duration::from_millis(1))
            .max_delay(Duration::from_millis(10)),
    )
}

/// The variables a Huawei Cloud user sets, pointing IAM and VBS at the fake.
fn env(server: &FakeServer, ak: &str, sk: &str) -> Vec<(String, String)> {
    vec![
        ("HUAWEICLOUD_SDK_AK".into(), ak.into()),
        ("HUAWEICLOUD_SDK_SK".into(), sk.into()),
        ("HUAWEICLOUD_SDK_IAM_ENDPOINT".into(), server.endpoint()),
        (
            "HUAWEICLOUD_SDK_REGION_VBS_CN_NORTH_4".into(),
            server.endpoint(),
        ),
    ]
}

fn config(server: &FakeServer) -> HuaweiConfig {
    HuaweiConfig::from_env_vars(env(server, AK, SK))
        .region(REGION)
        .http(fast_retries())
}

fn header<'r>(request: &'r RecordedRequest, name: &str) -> Option<&'r str> {
    request.header(name)
}

fn is_iam(request: &RecordedRequest) -> bool {
    request.path == "/v3/projects"
}

#[tokio::test]
async fn vbs_walks_through_the_signing_gateway_across_pages_retries_and_throttling() {
    let server = gateway(600, HuaweiGateway::new(AK, SK)).await;
    let client = config(&server).connect().await.expect("connects");
    assert_eq!(client.project_id(), server.project_id(), "found by IAM");
    // Retries mid-walk: 503, 429, a body cut off, and gateway throttling (APIGW.0308).
    for _ in 0..2 {
        server.push_response(CannedResponse::passthrough());
        server.push_response(CannedResponse::json(
            503,
            r#"{"error_code": "VBS.0500", "error_msg": "busy"}"#,
        ));
        server.push_response(CannedResponse::json(
            429,
            r#"{"error_code": "APIGW.0308", "error_msg": "slow down"}"#,
        ));
        server.push_response(CannedResponse::passthrough().reset_after(40));
    }
    // The gateway's own throttling, after the signature is verified.
    server.throttle_next(2);
    let name = "spécial & name=1";
    let got: Vec<_> = client
        .backups()
        .name(name)
        .sort(SortKey::CreatedAt, SortDir::Asc)
        .page_size(5)
        .stream()
        .try_collect()
        .await
        .expect("every signed request verifies");
    let truth: Vec<_> = server
        .backups_sorted("created_at:asc")
        .unwrap()
        .into_iter()
        .filter(|backup| backup.name.as_deref() == Some(name))
        .map(|backup| backup.id)
        .collect();
    assert!(truth.len() > 20, "enough backups for many pages");
    assert_eq!(common::ids(&got), truth, "every backup once, in order");

    assert_eq!(server.signatures_refused(), 0);
    let requests = server.requests();
    let (iam, listing): (Vec<_>, Vec<_>) = requests.iter().partition(|request| is_iam(request));
    assert_eq!(iam.len(), 1, "one IAM request");
    assert_eq!(
        header(iam[0], "x-project-id"),
        None,
        "IAM is asked without a project"
    );
    assert_eq!(iam[0].raw_query.as_deref(), Some("name=cn-north-4"));
    // The canned 503s and 429s stand in front of the gateway; every other attempt was
    // verified, the two throttled ones included.
    assert_eq!(server.signatures_verified() as usize, requests.len() - 4);
    for request in &listing {
        let query = request.raw_query.as_deref().unwrap_or_default();
        assert!(!query.contains('+'), "a space travels as %20: {query}");
        assert!(
            query.contains("name=sp%C3%A9cial%20%26%20name%3D1"),
            "{query}"
        );
        assert_eq!(header(request, "x-project-id"), Some(server.project_id()));
        let authorization = header(request, "authorization").unwrap();
        assert!(
            authorization.starts_with(&format!(
                "SDK-HMAC-SHA256 Access={AK}, SignedHeaders=accept;host;x-project-id;x-sdk-date, Signature="
            )),
            "{authorization}"
        );
        assert!(header(request, "x-sdk-date").is_some());
    }
}

#[tokio::test]
async fn reserved_and_non_ascii_characters_in_filters_verify() {
    let server = gateway(30, HuaweiGateway::new(AK, SK)).await;
    let client = config(&server)
        .project_id(server.project_id())
        .connect()
        .await
        .unwrap();
    for name in [
        "a+b/c%d=e&f ü",
        "100% + more",
        "=&=",
        "~._-",
        "日本語 テスト",
    ] {
        let got: Vec<_> = client
            .backups()
            .name(name)
            .stream()
            .try_collect()
            .await
            .unwrap();
        assert!(got.is_empty(), "{name}");
    }
    assert_eq!(server.signatures_refused(), 0);
    let first = server.requests()[0].raw_query.clone().unwrap();
    assert!(
        first.contains("name=a%2Bb%2Fc%25d%3De%26f%20%C3%BC"),
        "{first}"
    );
    // Sorted by key: limit before name.
    assert!(first.starts_with("limit="), "{first}");
}

#[tokio::test]
async fn a_skewed_clock_is_corrected_once_and_the_correction_kept() {
    // The gateway's clock is an hour ahead: every fresh signature looks stale to it.
    let server = gateway(40, HuaweiGateway::new(AK, SK).clock_offset_secs(3600)).await;
    let client = config(&server)
        .connect()
        .await
        .expect("corrected on IAM's request");
    let got: Vec<_> = client
        .backups()
        .page_size(5)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(got.len(), 40);
    assert_eq!(
        server.signatures_refused(),
        1,
        "one refusal, then the offset is kept"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1 + 1 + 9, "IAM twice, then 9 pages");
    assert_eq!(
        requests[0].header("x-sdk-date"),
        requests[0].header("x-sdk-date")
    );
    // The retry was signed afresh, an hour later by the corrected clock.
    let first = requests[0].header("x-sdk-date").unwrap();
    let second = requests[1].header("x-sdk-date").unwrap();
    assert!(second > first, "{first} then {second}");
}

#[tokio::test]
async fn a_skew_the_correction_cannot_fix_is_reported_with_both_clocks() {
    // Stale and wrongly signed: the correction is tried once, then the error says so.
    let server = gateway(5, HuaweiGateway::new(AK, SK).clock_offset_secs(-7200)).await;
    let err = HuaweiConfig::from_env_vars(env(&server, AK, "not-the-secret"))
        .region(REGION)
        .project_id(server.project_id())
        .http(fast_retries())
        .connect()
        .await
        .unwrap()
        .backups()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(
        server.request_count(),
        2,
        "signed once more after correcting, no more"
    );
    assert_eq!(err.status(), Some(401));
    let hint = err.hint().expect("a hint");
    assert!(hint.contains("corrected by -2h 00m"), "{hint}");
    assert!(hint.contains("check the AK/SK"), "{hint}");
    assert!(hint.matches(" UTC").count() >= 2, "both clocks: {hint}");
}

#[tokio::test]
async fn a_wrong_secret_key_is_refused_once_with_a_hint_and_never_retried() {
    let server = gateway(5, HuaweiGateway::new(AK, SK)).await;
    let err = HuaweiConfig::from_env_vars(env(&server, AK, "wrong-secret-key"))
        .region(REGION)
        .http(fast_retries())
        .connect()
        .await
        .expect_err("IAM refuses the signature");
    assert_eq!(
        server.request_count(),
        1,
        "no retry into the gateway's lock-out"
    );
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.code(), Some("APIGW.0301"));
    assert!(
        err.message().contains("verify aksk signature fail"),
        "{err}"
    );
    assert!(err.request_id().is_some(), "the body's request id");
    assert!(!err.is_retryable());
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("check the AK/SK"), "{shown}");
    assert!(shown.contains("IAM at"), "{shown}");
    assert!(
        !shown.contains("wrong-secret-key") && !shown.contains(SK),
        "{shown}"
    );
    assert!(!shown.contains(AK), "the access key is shortened: {shown}");

    // The same through a client built by hand: one listing request, no retry.
    server.clear_requests();
    let signer =
        AkSkSigner::new(Credentials::new("HPUAUNKNOWN", SK)).project_id(server.project_id());
    let client = Client::builder()
        .endpoint(server.endpoint())
        .project_id(server.project_id())
        .authorizer(signer)
        .http(fast_retries())
        .build()
        .unwrap();
    let err = client
        .backups()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(server.request_count(), 1);
    assert!(err.message().contains("ak not found"), "{err}");
    assert!(err.hint().unwrap().contains("HPUA…"), "{err}");
}

#[tokio::test]
async fn temporary_credentials_sign_the_security_token() {
    let token = "fake-security-token-ZmFrZQ==";
    let server = gateway(12, HuaweiGateway::new(AK, SK).security_token(token)).await;
    let mut vars = env(&server, AK, SK);
    vars.push(("HUAWEICLOUD_SDK_SECURITY_TOKEN".into(), token.into()));
    let config = HuaweiConfig::from_env_vars(vars)
        .region(REGION)
        .http(fast_retries());
    assert!(!format!("{config:?}").contains(token));
    let client = config.connect().await.unwrap();
    let got: Vec<_> = client
        .backups()
        .page_size(5)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(got.len(), 12);
    assert_eq!(server.signatures_refused(), 0);
    for request in server.requests() {
        assert_eq!(request.header("x-security-token"), Some(token));
        assert!(
            request
                .header("authorization")
                .unwrap()
                .contains(";x-security-token,")
        );
    }
    // Without the token, the gateway refuses, and the hint names it.
    let err = config_without_token(&server).connect().await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(err.hint().unwrap().contains("HUAWEICLOUD_SDK_SK"), "{err}");
}

fn config_without_token(server: &FakeServer) -> HuaweiConfig {
    HuaweiConfig::from_env_vars(env(server, AK, SK)).region(REGION)
}

#[tokio::test]
async fn project_discovery_wants_exactly_one_project_named_after_the_region() {
    // None.
    let server = gateway(
        3,
        HuaweiGateway::new(AK, SK).project("ap-southeast-1", "p-other"),
    )
    .await;
    let err = config(&server).connect().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(
        err.to_string().contains("no project named cn-north-4"),
        "{err}"
    );
    assert!(
        err.to_string().contains("HUAWEICLOUD_SDK_PROJECT_ID"),
        "{err}"
    );
    assert_eq!(server.request_count(), 1);
    // Two.
    let server = gateway(
        3,
        HuaweiGateway::new(AK, SK)
            .project(REGION, "p-one")
            .project(REGION, "p-two"),
    )
    .await;
    let err = config(&server).connect().await.unwrap_err();
    assert!(
        err.to_string()
            .contains("2 projects named cn-north-4 (p-one, p-two)"),
        "{err}"
    );
    // One, other projects aside; no IAM request when the id is given.
    let server = gateway(
        3,
        HuaweiGateway::new(AK, SK)
            .project("ap-southeast-1", "p-other")
            .project(REGION, "b23b579f08c84228b9b4673c46f0c442"),
    )
    .await;
    let client = config(&server).connect().await.unwrap();
    assert_eq!(client.project_id(), "b23b579f08c84228b9b4673c46f0c442");
    assert_eq!(server.request_count(), 1);
    server.clear_requests();
    let client = config(&server).project_id("given").connect().await.unwrap();
    assert_eq!(client.project_id(), "given");
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn credentials_come_from_the_file_unless_the_environment_has_them() {
    let server = gateway(7, HuaweiGateway::new(AK, SK)).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("credentials");
    std::fs::write(
        &file,
        format!(
            "[basic]\nak = {AK}\nsk = {SK}\nproject_id = {}\niam_endpoint = http://127.0.0.1:9\n",
            server.project_id()
        ),
    )
    .unwrap();
    let vars = [
        (
            "HUAWEICLOUD_SDK_CREDENTIALS_FILE",
            file.to_str().unwrap().to_owned(),
        ),
        ("HUAWEICLOUD_SDK_REGION_VBS_CN_NORTH_4", server.endpoint()),
        ("HW_REGION_NAME", REGION.to_owned()),
    ];
    let config = HuaweiConfig::load_from_env_vars(vars.clone())
        .unwrap()
        .http(fast_retries());
    assert_eq!(config.project_id_setting(), Some(server.project_id()));
    let client = config.connect().await.unwrap();
    let got: Vec<_> = client.backups().stream().try_collect().await.unwrap();
    assert_eq!(got.len(), 7);
    assert_eq!(server.signatures_refused(), 0);

    // The default file under HOME, found without the variable.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".huaweicloud")).unwrap();
    std::fs::write(
        home.path().join(".huaweicloud/credentials"),
        format!("[basic]\nak={AK}\nsk={SK}\n"),
    )
    .unwrap();
    let config = HuaweiConfig::load_from_env_vars([
        ("HOME", home.path().to_str().unwrap()),
        ("HUAWEICLOUD_SDK_IAM_ENDPOINT", &server.endpoint()),
    ])
    .unwrap();
    assert_eq!(config.credentials().unwrap().access_key(), AK);

    // AK/SK in the environment win over the file's, as in Huawei's SDKs.
    let mut vars = vars.to_vec();
    vars.push(("HUAWEICLOUD_SDK_AK", "HPUAOTHER".to_owned()));
    vars.push(("HUAWEICLOUD_SDK_SK", "other-sk".to_owned()));
    let config = HuaweiConfig::load_from_env_vars(vars).unwrap();
    assert_eq!(config.credentials().unwrap().access_key(), "HPUAOTHER");

    // A named file that is missing, or without [basic], is an error naming it.
    let missing = dir.path().join("nope");
    let err = HuaweiConfig::load_from_env_vars([(
        "HUAWEICLOUD_SDK_CREDENTIALS_FILE",
        missing.to_str().unwrap(),
    )])
    .unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
    // Nothing anywhere: connect says what to set.
    let err = HuaweiConfig::from_env_vars([("HW_REGION_NAME", REGION)])
        .connect()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("HUAWEICLOUD_SDK_AK"), "{err}");
}

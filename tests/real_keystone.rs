//! Conformance of the `keystone` feature against real OpenStack Keystone 30.0.0 and a real
//! Cinder 29.0.0 whose keystonemiddleware validates every token with it
//! (`scripts/real-keystone.sh start`).
//!
//! These tests are `#[ignore]`d, so `cargo test` lists them as ignored ("needs a running
//! real Keystone"). With the servers running and their variables exported, run them:
//!
//! ```text
//! bash scripts/real-keystone.sh start && eval "$(bash scripts/real-keystone.sh env)"
//! cargo test --all-features --test real_keystone -- --ignored --test-threads=1
//! ```
//!
//! or `bash scripts/real-keystone-tests.sh`, which also stops them. Requests are counted in
//! the servers' own logs (gunicorn's access log for Keystone, cinder-api's log for
//! Cinder), so the tests take turns (one lock) whatever the thread count.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design
#![cfg(feature = "keystone")]

use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use vbs_backups::keystone::{Domain, EndpointFilter, Interface, KeystoneAuth, Project, User};
use vbs_backups::{
    ApiVersion, AuthSource, Client, ErrorKind, HttpOptions, OpenStackConfig, RetryPolicy,
};

/// One test at a time: they count requests in logs the servers share.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run `bash scripts/real-keystone.sh start` and `eval \"$(bash scripts/real-keystone.sh env)\"` first"
        )
    })
}

/// What the script exported about the running servers.
struct Real {
    auth_url: String,
    short_auth_url: String,
    short_lifetime: u64,
    user: String,
    user_id: String,
    password: String,
    project: String,
    project_id: String,
    cinder: String,
}

fn real() -> Real {
    Real {
        auth_url: var("REAL_KEYSTONE_AUTH_URL"),
        short_auth_url: var("REAL_KEYSTONE_SHORT_AUTH_URL"),
        short_lifetime: var("REAL_KEYSTONE_SHORT_LIFETIME")
            .parse()
            .expect("seconds"),
        user: var("REAL_KEYSTONE_USER"),
        user_id: var("REAL_KEYSTONE_USER_ID"),
        password: var("REAL_KEYSTONE_PASSWORD"),
        project: var("REAL_KEYSTONE_PROJECT"),
        project_id: var("REAL_KEYSTONE_PROJECT_ID"),
        cinder: var("REAL_KEYSTONE_CINDER_ENDPOINT"),
    }
}

/// The backup ids of the project in Cinder's order, as the script read them from the
/// Keystone-validated Cinder's database.
fn truth_ids() -> Vec<String> {
    let text = std::fs::read_to_string(var("REAL_KEYSTONE_CINDER_TRUTH")).expect("truth file");
    let truth: Value = serde_json::from_str(&text).expect("truth is JSON");
    let ids: Vec<String> = truth["backups"]
        .as_array()
        .expect("backups")
        .iter()
        .map(|row| row["id"].as_str().expect("id").to_owned())
        .collect();
    assert!(ids.len() > 1000, "the script seeds thousands of backups");
    ids
}

/// No retries: every request the library makes is one the servers log.
fn once() -> HttpOptions {
    HttpOptions::new().retry_policy(RetryPolicy::disabled())
}

fn alice_by_name(real: &Real) -> User {
    User::name(&real.user, Domain::name("Default"))
}

async fn first_ids(client: &Client, n: usize) -> Vec<String> {
    client
        .backups()
        .page_size(n as u32)
        .max_items(n as u64)
        .stream()
        .map_ok(|backup| backup.id)
        .try_collect()
        .await
        .expect("a page of backups through Keystone-validated Cinder")
}

/// Lines of a server log that contain every one of `needles`.
fn count_lines(log: &str, needles: &[&str]) -> usize {
    std::fs::read_to_string(log)
        .expect("server log")
        .lines()
        .filter(|line| needles.iter().all(|needle| line.contains(needle)))
        .count()
}

/// The count once it has settled: servers write a log line just after the response.
async fn settled(count: impl Fn() -> usize) -> usize {
    let mut last = count();
    let mut stable_since = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && stable_since.elapsed() < Duration::from_millis(400) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = count();
        if now != last {
            last = now;
            stable_since = Instant::now();
        }
    }
    last
}

/// Token requests Keystone answered with `status` (`POST /v3/auth/tokens`), from the
/// access log of the Keystone at `log`.
fn token_posts(log: &str, status: u16) -> usize {
    count_lines(
        log,
        &[
            "\"POST /v3/auth/tokens HTTP/1.1\"",
            &format!("\" {status} "),
        ],
    )
}

fn main_posts(status: u16) -> usize {
    token_posts(&var("REAL_KEYSTONE_ACCESS_LOG"), status)
}

/// Backup listings Cinder answered with `status`.
fn cinder_listings(real: &Real, status: u16) -> usize {
    count_lines(
        &var("REAL_KEYSTONE_CINDER_LOG"),
        &[
            &format!("\"GET /v3/{}/backups", real.project_id),
            &format!("status: {status} "),
        ],
    )
}

/// `request` with `body` as its JSON.
fn with_json(request: reqwest::RequestBuilder, body: &Value) -> reqwest::RequestBuilder {
    request
        .header("Content-Type", "application/json")
        .body(serde_json::to_vec(body).unwrap())
}

async fn json_of(response: reqwest::Response) -> Value {
    let bytes = response.bytes().await.expect("a body");
    serde_json::from_slice(&bytes).expect("a JSON body")
}

/// `POST /v3/auth/tokens` with `auth`, straight to Keystone: status, token, body.
async fn raw_issue(auth_url: &str, auth: Value) -> (u16, Option<String>, Value) {
    let response = with_json(
        reqwest::Client::new().post(format!("{auth_url}/v3/auth/tokens")),
        &json!({ "auth": auth }),
    )
    .send()
    .await
    .expect("Keystone answers");
    let status = response.status().as_u16();
    let token = response
        .headers()
        .get("x-subject-token")
        .map(|value| value.to_str().expect("ascii").to_owned());
    (status, token, json_of(response).await)
}

fn password_identity(user: Value, password: &str) -> Value {
    let mut user = user;
    user["password"] = json!(password);
    json!({"methods": ["password"], "password": {"user": user}})
}

async fn admin_token(real: &Real) -> String {
    let (status, token, body) = raw_issue(
        &real.auth_url,
        json!({
            "identity": password_identity(
                json!({"name": "admin", "domain": {"id": "default"}}),
                &var("REAL_KEYSTONE_ADMIN_PASSWORD"),
            ),
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
        }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    token.expect("a token")
}

async fn alice_unscoped_token(real: &Real) -> String {
    let (status, token, body) = raw_issue(
        &real.auth_url,
        json!({"identity": password_identity(json!({"id": real.user_id}), &real.password)}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    token.expect("a token")
}

/// An application credential made through Keystone's API by alice herself: (id, name,
/// secret). Names are unique per user, so each gets one of its own.
async fn new_application_credential(real: &Real, purpose: &str) -> (String, String, String) {
    let token = alice_unscoped_token(real).await;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let name = format!("vbs-{purpose}-{nanos}");
    let response = with_json(
        reqwest::Client::new()
            .post(format!(
                "{}/v3/users/{}/application_credentials",
                real.auth_url, real.user_id
            ))
            .header("X-Auth-Token", &token),
        &json!({"application_credential": {"name": name}}),
    )
    .send()
    .await
    .expect("Keystone answers");
    assert_eq!(response.status().as_u16(), 201);
    let body = json_of(response).await;
    let credential = &body["application_credential"];
    assert_eq!(credential["project_id"], real.project_id.as_str());
    (
        credential["id"].as_str().unwrap().to_owned(),
        name,
        credential["secret"]
            .as_str()
            .expect("the secret")
            .to_owned(),
    )
}

#[tokio::test]
#[ignore = "needs a running real Keystone: see scripts/real-keystone.sh"]
async fn password_auth_by_names_by_ids_and_with_domain_ids() {
    let _turn = SERIAL.lock().await;
    let real = real();
    let truth = truth_ids();
    let lab_domain = var("REAL_KEYSTONE_LAB_DOMAIN_ID");
    let cases = [
        (
            "names, domain names",
            alice_by_name(&real),
            Project::name(&real.project, Domain::name("Default")),
            real.user_id.clone(),
        ),
        (
            "ids",
            User::id(&real.user_id),
            Project::id(&real.project_id),
            real.user_id.clone(),
        ),
        (
            "names, domain ids",
            User::name(&real.user, Domain::id("default")),
            Project::name(&real.project, Domain::id("default")),
            real.user_id.clone(),
        ),
        (
            "a user of another domain, by that domain's id",
            User::name(var("REAL_KEYSTONE_LAB_USER"), Domain::id(&lab_domain)),
            Project::name(&real.project, Domain::id("default")),
            var("REAL_KEYSTONE_LAB_USER_ID"),
        ),
    ];
    for (what, user, project, user_id) in cases {
        let password = if user_id == real.user_id {
            real.password.clone()
        } else {
            var("REAL_KEYSTONE_LAB_PASSWORD")
        };
        let auth = KeystoneAuth::builder(&real.auth_url)
            .password(user, password)
            .project(project)
            .http(once())
            .build()
            .unwrap();
        let info = auth.token_info().await.expect(what);
        assert_eq!(info.project_id.as_deref(), Some(real.project_id.as_str()));
        assert_eq!(info.project_name.as_deref(), Some(real.project.as_str()));
        assert_eq!(info.user_id.as_deref(), Some(user_id.as_str()), "{what}");
        assert_eq!(info.methods, ["password"], "{what}");
        let client = auth
            .connect(&EndpointFilter::new().region("RegionOne"))
            .await
            .unwrap();
        assert_eq!(client.project_id(), real.project_id);
        assert_eq!(first_ids(&client, 5).await, truth[..5], "{what}");
    }
}

#[tokio::test]
#[ignore = "needs a running real Keystone: see scripts/real-keystone.sh"]
async fn the_default_domain_is_id_default_and_name_capital_default_never_swapped() {
    let _turn = SERIAL.lock().await;
    let real = real();
    let (status, _, body) = raw_issue(
        &real.auth_url,
        json!({"identity": password_identity(json!({"id": real.user_id}), &real.password)}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        body["token"]["user"]["domain"],
        json!({"id": "default", "name": "Default"})
    );
    for (domain, works) in [
        (Domain::id("default"), true),
        (Domain::name("Default"), true),
        (Domain::name("default"), false),
        (Domain::id("Default"), false),
        (Domain::name("DEFAULT"), false),
    ] {
        let auth = KeystoneAuth::builder(&real.auth_url)
            .password(
                User::name(&real.user, domain.clone()),
                real.password.as_str(),
            )
            .http(once())
            .build()
            .unwrap();
        match auth.token_info().await {
            Ok(info) => assert!(works, "{domain} was accepted: {info:?}"),
            Err(err) => {
                assert!(!works, "{domain}: {err}");
                assert_eq!(err.status(), Some(401), "{domain}: {err}");
                assert!(err.to_string().contains(&domain.to_string()), "{err}");
            }
        }
    }
}

#[tokio::test]
#[ignore = "needs a running real Keystone: see scripts/real-keystone.sh"]
async fn expires_at_has_whole_seconds_written_with_six_zero_digits() {
    let _turn = SERIAL.lock().await;
    let real = real();
    for (auth_url, lifetime) in [
        (&real.auth_url, 3600),
        (&real.short_auth_url, real.short_lifetime),
    ] {
        let (status, _, body) = raw_issue(
            auth_url,
            json!({"identity": password_identity(json!({"id": real.user_id}), &real.password)}),
        )
        .await;
        assert_eq!(status, 201);
        for field in ["expires_at", "issued_at"] {
            let text = body["token"][field].as_str().expect(field);
            // 2026-12-04T15:37:22.000000Z
            let bytes = text.as_bytes();
            assert_eq!(text.len(), 27, "{field} {text}");
            assert!(text.ends_with(".000000Z"), "{field} {text}");
            assert_eq!(
                (
                    bytes[4], bytes[7], bytes[10], bytes[13], bytes[16], bytes[19]
                ),
                (b'-', b'-', b'T', b':', b':', b'.'),
                "{field} {text}"
            );
        }
        // What the library makes of them: the lifetime Keystone was configured with.
        let auth = KeystoneAuth::builder(auth_url.as_str())
            .password(User::id(&real.user_id), real.password.as_str())
            .http(once())
            .build()
            .unwrap();
        let info = auth.token_info().await.unwrap();
        let seconds = info
            .expires_at
            .unwrap()
            .duration_since(info.issued_at.unwrap())
            .as_secs();
        assert_eq!(seconds, lifetime as i64, "{auth_url}");
    }
}

#[tokio::test]
#[ignore = "needs a running real Keystone: see scripts/real-keystone.sh"]
async fn no_scope_means_the_users_default_project_or_an_unscoped_token() {
    let _turn = SERIAL.lock().await;
    let real = real();
    // alice has a default project: asking for no scope gets a token scoped to it.
    let auth = KeystoneAuth::builder(&real.auth_url)
        .password(
            User::name(&real.user, Domain::id("default")),
            real.password.as_str(),
        )
        .http(once())
        .build()
        .unwrap();
    let info = auth.token_info().await.unwrap();
    assert_eq!(info.project_id.as_deref(), Some(real.project_id.as_str()));
    assert!(!info.catalog.services.is_empty());
    let client = auth
        .connect(&EndpointFilter::new().region("RegionOne"))
        .await
        .unwrap();
    assert_eq!(first_ids(&client, 3).await, truth_ids()[..3]);

    // bob has none: the token is unscoped, with no catalog, and connect says what to set.
    let config = OpenStackConfig::from_env_vars([
        ("OS_AUTH_URL", real.auth_url.clone()),
        ("OS_USERNAME", var("REAL_KEYSTONE_NO_DEFAULT_USER")),
        ("OS_USER_DOMAIN_ID", "default".to_owned()),
        ("OS_PASSWORD", var("REAL_KEYSTONE_NO_DEFAULT_PASSWORD")),
    ]);
    let bob = config.keystone_auth().unwrap();
    let info = bob.token_info().await.unwrap();
    assert_eq!(info.project_id, None);
    assert!(info.catalog.services.is_empty());
    let err = config.connect().await.expect_err("unscoped");
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("not scoped to a project"), "{err}");
}

#[tokio::test]
#[ignore = "needs a running real Keystone: see scripts/real-keystone.sh"]
async fn an_application_credential_made_by_its_own_user_shown_once_refusing_any_scope() {
    let _turn = SERIAL.lock().await;
    let real = real();
    let (id, name, secret) = new_application_credential(&real, "own").await;

    // Its secret was shown once: reading the credential back does not show it.
    let http = reqwest::Client::new();
    let alice = alice_unscoped_token(&real).await;
    let url = format!(
        "{}/v3/users/{}/application_credentials/{id}",
        real.auth_url, real.user_id
    );
    let read = json_of(
        http.get(&url)
            .header("X-Auth-Token", &alice)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(read["application_credential"]["name"], name.as_str());
    assert!(
        read["application_credential"].get("secret").is_none(),
        "{read}"
    );

    // Only its own user can make one: not even the cloud admin can for alice.
    let admin = admin_token(&real).await;
    let refused = with_json(
        http.post(format!(
            "{}/v3/users/{}/application_credentials",
            real.auth_url, real.user_id
        ))
        .header("X-Auth-Token", &admin),
        &json!({"application_credential": {"name": format!("{name}-by-admin")}}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(refused.status().as_u16(), 403);

    // It refuses any scope, even its own project's.
    let (status, _, body) = raw_issue(
        &real.auth_url,
        json!({
            "identity": {"methods": ["application_credential"],
                "application_credential": {"id": id, "secret": secret}},
            "scope": {"project": {"id": real.project_id}},
        }),
    )
    .await;
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Application credentials cannot request a scope."),
        "{body}"
    );
    // The library refuses the combination before sending anything.
    let err = KeystoneAuth::builder(&real.auth_url)
        .application_credential(&id, secret.as_str())
        .project(Project::id(&real.project_id))
        .build()
        .expect_err("no scope with an application credential");
    assert_eq!(err.kind(), ErrorKind::Config);

    // By id and by name with its user, it lists the backups of its project.
    let truth = truth_ids();
    for auth in [
        KeystoneAuth::builder(&real.auth_url).application_credential(&id, secret.as_str()),
        KeystoneAuth::builder(&real.auth_url).application_credential_by_name(
            &name,
            User::name(&real.user, Domain::id("default")),
            secret.as_str(),
        ),
    ] {
        let auth = auth.http(once()).build().unwrap();
        let info = auth.token_info().await.unwrap();
        assert_eq!(info.methods, ["application_credential"]);
        assert_eq!(info.project_id.as_deref(), Some(real.project_id.as_str()));
        assert_eq!(info.user_id.as_deref(), Some(real.user_id.as_str()));
        let client = auth
            .connect(&EndpointFilter::new().region("RegionOne"))
            .await
            .unwrap();
        assert_eq!(first_ids(&client, 4).await, truth[..4]);
    }
}

#[tokio::test]
#[ignore = "needs a running real Keystone: see scripts/real-keystone.sh"]
async fn clouds_yaml_with_the_secret_in_secure_yaml() {
    let _turn = SERIAL.lock().await;
    let real = real();
    let (id, _, secret) = new_application_credential(&real, "clouds").await;
    let dir = tempfile::tempdir().unwrap();
    let clouds = dir.path().join("clouds.yaml");
    std::fs::write(
        &clouds,
        format!(
            "clouds:
  real-app:
    auth_type: v3applicationcredential
    auth:
      auth_url: {auth_url}/v3
      application_credential_id: {id}
    region_name: RegionOne
    interface: internal
  real-password:
    auth:
      auth_url: {auth_url}
      username: {user}
      user_domain_name: Default
      project_name: {project}
      project_domain_id: default
    region_name: RegionOne
    volume_api_version: 3
",
            auth_url = real.auth_url,
            user = real.user,
            project = real.project,
        ),
    )
    .unwrap();
    let secure = dir.path().join("secure.yaml");
    std::fs::write(
        &secure,
        format!(
            "clouds:
  real-app:
    auth:
      application_credential_secret: {secret}
  real-password:
    auth:
      password: {password}
",
            password = real.password
        ),
    )
    .unwrap();
    let truth = truth_ids();
    for cloud in ["real-app", "real-password"] {
        let config = OpenStackConfig::load_from_env_vars([
            ("OS_CLOUD", cloud),
            ("OS_CLIENT_CONFIG_FILE", clouds.to_str().unwrap()),
            ("OS_CLIENT_SECURE_FILE", secure.to_str().unwrap()),
        ])
        .unwrap();
        assert!(
            config.password.is_some() || config.application_credential_secret.is_some(),
            "{cloud}: the secret comes from secure.yaml"
        );
        let client = config
            .connect_with(Client::builder().retry_policy(RetryPolicy::disabled()))
            .await
            .unwrap_or_else(|err| panic!("{cloud}: {err}"));
        assert_eq!(client.project_id(), real.project_id);
        assert_eq!(client.api_version(), ApiVersion::V3);
        assert_eq!(first_ids(&client, 6).await, truth[..6], "{cloud}");
    }
}

#[tokio::test]
#[ignore = "needs a running real Keystone: see scripts/real-keystone.sh"]
async fn region_and_interface_select_the_endpoint() {
    let _turn = SERIAL.lock().await;
    let real = real();
    let unreachable = var("REAL_KEYSTONE_UNREACHABLE_ENDPOINT");
    let auth = KeystoneAuth::builder(&real.auth_url)
        .password(alice_by_name(&real), real.password.as_str())
        .project(Project::id(&real.project_id))
        .http(once())
        .build()
        .unwrap();
    let catalog = auth.token_info().await.unwrap().catalog;
    let project = Some(real.project_id.as_str());
    let pick = |filter: EndpointFilter| catalog.volume_endpoint(&filter, project);

    // Two regions offer block-storage publicly: no guessing.
    let err = pick(EndpointFilter::new()).expect_err("two regions");
    assert!(err.to_string().contains("RegionOne, RegionTwo"), "{err}");

    let cases = [
        (
            EndpointFilter::new().region("RegionOne"),
            format!("{}/v3/{}", real.cinder, real.project_id),
            "block-storage",
        ),
        (
            EndpointFilter::new()
                .region("RegionOne")
                .interface(Interface::Internal),
            format!("{}/v3", real.cinder),
            "block-storage",
        ),
        // block-storage has no admin endpoint: volumev3 has.
        (
            EndpointFilter::new()
                .region("RegionOne")
                .interface(Interface::Admin),
            format!("{}/v3/{}", real.cinder, real.project_id),
            "volumev3",
        ),
        (
            EndpointFilter::new().region("RegionTwo"),
            format!("{unreachable}/v3/{}", real.project_id),
            "block-storage",
        ),
    ];
    let truth = truth_ids();
    for (filter, url, service_type) in cases {
        let endpoint = pick(filter.clone()).unwrap();
        assert_eq!(
            (endpoint.url.as_str(), endpoint.service_type.as_str()),
            (url.as_str(), service_type),
            "{filter:?}"
        );
        let client = auth.connect(&filter).await.unwrap();
        if filter.get_region() == Some("RegionOne") {
            assert_eq!(first_ids(&client, 2).await, truth[..2], "{filter:?}");
        } else {
            let err = client
                .backups()
                .stream()
                .try_collect::<Vec<_>>()
                .await
                .expect_err("RegionTwo's endpoint is a port nothing listens on");
            assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
        }
    }
    let err = pick(
        EndpointFilter::new()
            .region("RegionTwo")
            .interface(Interface::Internal),
    )
    .expect_err("RegionTwo has no internal endpoint");
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("it offers"), "{err}");

    // The same through OS_REGION_NAME and OS_INTERFACE.
    let client = OpenStackConfig::from_env_vars([
        ("OS_AUTH_URL", real.auth_url.as_str()),
        ("OS_USER_ID", real.user_id.as_str()),
        ("OS_PASSWORD", real.password.as_str()),
        ("OS_PROJECT_ID", real.project_id.as_str()),
        ("OS_REGION_NAME", "RegionOne"),
        ("OS_INTERFACE", "internal"),
    ])
    .connect()
    .await
    .unwrap();
    assert_eq!(first_ids(&client, 2).await, truth[..2]);
}

#[tokio::test]
#[ignore = "needs a running real Keystone: see scripts/real-keystone.sh"]
async fn a_disabled_endpoint_leaves_its_service_in_the_catalog_with_no_endpoints() {
    let _turn = SERIAL.lock().await;
    let real = real();
    let (status, _, body) = raw_issue(
        &real.auth_url,
        json!({"identity": password_identity(json!({"id": real.user_id}), &real.password)}),
    )
    .await;
    assert_eq!(status, 201);
    let v2 = body["token"]["catalog"]
        .as_array()
        .unwrap()
        .iter()
        .find(|service| service["type"] == "volumev2")
        .expect("volumev2 is still listed");
    assert_eq!(v2["endpoints"], json!([]), "{v2}");
    assert_eq!(v2["name"], "cinderv2");

    let auth = KeystoneAuth::builder(&real.auth_url)
        .password(User::id(&real.user_id), real.password.as_str())
        .http(once())
        .build()
        .unwrap();
    let catalog = auth.token_info().await.unwrap().catalog;
    let service = catalog
        .services
        .iter()
        .find(|service| service.service_type == "volumev2")
        .expect("volumev2 in the parsed catalog");
    assert!(service.endpoints.is_empty());
    let err = catalog
        .volume_endpoint(
            &EndpointFilter::new().api_version(ApiVersion::V2),
            Some(&real.project_id),
        )
        .expect_err("no v2 endpoint");
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("API v2"), "{err}");
}

#[tokio::test]
#[ignore = "needs a running real Keystone: see scripts/real-keystone.sh"]
async fn a_wrong_password_or_secret_is_asked_once_with_a_clear_message() {
    let _turn = SERIAL.lock().await;
    let real = real();

    // A wrong password, through OS_* variables.
    let before = settled(|| main_posts(401)).await;
    let err = OpenStackConfig::from_env_vars([
        ("OS_AUTH_URL", real.auth_url.as_str()),
        ("OS_USERNAME", real.user.as_str()),
        ("OS_USER_DOMAIN_NAME", "Default"),
        ("OS_PASSWORD", "Tr0ub4dor&3"),
        ("OS_PROJECT_NAME", real.project.as_str()),
        ("OS_PROJECT_DOMAIN_ID", "default"),
    ])
    .connect()
    .await
    .expect_err("wrong password");
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.code(), Some("Unauthorized"));
    assert!(err.request_id().is_some_and(|id| id.starts_with("req-")));
    let text = err.to_string();
    for part in [
        "The request you have made requires authentication.",
        "user `alice` in domain `Default`",
        &real.auth_url,
    ] {
        assert!(text.contains(part), "{part:?} not in {text}");
    }
    assert!(!text.contains("Tr0ub4dor&3") && !format!("{err:?}").contains("Tr0ub4dor&3"));
    assert_eq!(settled(|| main_posts(401)).await, before + 1, "asked once");

    // Eight callers waiting on one refused authentication share its answer.
    let auth = KeystoneAuth::builder(&real.auth_url)
        .password(User::id(&real.user_id), "Tr0ub4dor&3")
        .build()
        .unwrap();
    let refused = futures::future::join_all((0..8).map(|_| auth.token())).await;
    assert!(
        refused
            .iter()
            .all(|r| r.as_ref().is_err_and(|e| e.status() == Some(401)))
    );
    assert_eq!(
        settled(|| main_posts(401)).await,
        before + 2,
        "one request for eight"
    );

    // A wrong secret for a real application credential: 401, once.
    let (id, _, _) = new_application_credential(&real, "wrong-secret").await;
    let before = settled(|| main_posts(401)).await;
    let err = KeystoneAuth::builder(&real.auth_url)
        .application_credential(&id, "not-the-secret")
        .build()
        .unwrap()
        .token_info()
        .await
        .expect_err("wrong secret");
    assert_eq!(err.status(), Some(401));
    let text = err.to_string();
    assert!(text.contains("requires authentication"), "{text}");
    assert!(
        text.contains(&format!("application credential `{id}`")),
        "{text}"
    );
    assert!(!text.contains("not-the-secret"), "{text}");
    assert_eq!(settled(|| main_posts(401)).await, before + 1, "asked once");

    // An application credential id Keystone does not know: 404, not 401, once.
    let before = settled(|| main_posts(404)).await;
    let unknown = "0123456789abcdef0123456789abcdef";
    let err = KeystoneAuth::builder(&real.auth_url)
        .application_credential(unknown, "whatever")
        .http(HttpOptions::new())
        .build()
        .unwrap()
        .token_info()
        .await
        .expect_err("unknown credential");
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.code(), Some("Not Found"));
    assert!(
        err.to_string().contains(&format!(
            "Could not find Application Credential: {unknown}."
        )),
        "{err}"
    );
    assert_eq!(settled(|| main_posts(404)).await, before + 1, "asked once");
}

#[tokio::test]
#[ignore = "needs a running real Keystone: see scripts/real-keystone.sh"]
async fn a_walk_outlasting_short_lived_tokens_renews_them_and_sees_every_backup_once() {
    let _turn = SERIAL.lock().await;
    let real = real();
    let truth = truth_ids();
    let short_log = var("REAL_KEYSTONE_SHORT_ACCESS_LOG");
    let lifetime = Duration::from_secs(real.short_lifetime);
    let auth = KeystoneAuth::builder(&real.short_auth_url)
        .password(alice_by_name(&real), real.password.as_str())
        .project(Project::name(&real.project, Domain::id("default")))
        .http(once())
        .build()
        .unwrap();
    let client = auth
        .connect(&EndpointFilter::new().region("RegionOne"))
        .await
        .unwrap();
    let issued_before = settled(|| token_posts(&short_log, 201)).await;
    let (ok_before, refused_before) = (cinder_listings(&real, 200), cinder_listings(&real, 401));

    let started = Instant::now();
    let page = 100;
    let mut stream = client.backups().page_size(page).prefetch(0).stream();
    let mut seen = Vec::new();
    while let Some(backup) = stream.next().await {
        seen.push(backup.expect("the walk goes on with fresh tokens").id);
        if seen.len() % page as usize == 0 {
            // A slow consumer: the walk takes several token lifetimes.
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
    }
    let took = started.elapsed();

    assert_eq!(seen, truth, "every backup, in order, exactly once");
    assert!(took > lifetime * 2, "the walk took {took:?}");
    let pages = truth.len().div_ceil(page as usize) + usize::from(truth.len() % page as usize == 0);
    assert_eq!(
        settled(|| cinder_listings(&real, 200)).await - ok_before,
        pages,
        "each page asked once"
    );
    assert_eq!(
        cinder_listings(&real, 401) - refused_before,
        0,
        "renewed before expiry: Cinder never saw an expired token"
    );
    let issued = settled(|| token_posts(&short_log, 201)).await - issued_before;
    let lifetimes = (took.as_secs_f64() / lifetime.as_secs_f64()).floor() as usize;
    assert!(
        issued >= lifetimes,
        "{issued} tokens for a walk of {took:?} with {lifetime:?} tokens"
    );
    assert!(
        issued <= 2 * lifetimes + 2,
        "{issued} tokens for {took:?}: renewed too often"
    );
}

#[tokio::test]
#[ignore = "needs a running real Keystone: see scripts/real-keystone.sh"]
async fn every_token_revoked_mid_walk_is_one_401_one_reauthentication_exactly_once() {
    let _turn = SERIAL.lock().await;
    let real = real();
    let truth = truth_ids();
    let auth = KeystoneAuth::builder(&real.auth_url)
        .password(User::id(&real.user_id), real.password.as_str())
        .project(Project::id(&real.project_id))
        .http(once())
        .build()
        .unwrap();
    let client = auth
        .connect(&EndpointFilter::new().region("RegionOne"))
        .await
        .unwrap();
    let first = auth.token().await.unwrap().expect("a token");

    let mut stream = client.backups().page_size(500).prefetch(0).stream();
    let mut seen = Vec::new();
    // Page 1's first 499: its 500th is page 2's marker, handed out only with page 2.
    for _ in 0..499 {
        seen.push(stream.next().await.unwrap().unwrap().id);
    }

    // The cloud admin revokes the token the client holds (its only one).
    let http = reqwest::Client::new();
    let admin = admin_token(&real).await;
    let revoked = http
        .delete(format!("{}/v3/auth/tokens", real.auth_url))
        .header("X-Auth-Token", &admin)
        .header("X-Subject-Token", &first)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status().as_u16(), 204);
    let check = http
        .get(format!("{}/v3/auth/tokens", real.auth_url))
        .header("X-Auth-Token", &admin)
        .header("X-Subject-Token", &first)
        .send()
        .await
        .unwrap();
    assert_eq!(check.status().as_u16(), 404, "a revoked token is not found");

    let issued_before = settled(|| main_posts(201)).await;
    let ok_before = cinder_listings(&real, 200);
    let refused_before = cinder_listings(&real, 401);
    while let Some(backup) = stream.next().await {
        seen.push(backup.expect("one re-authentication, then on").id);
    }
    assert_eq!(seen, truth, "every backup, in order, exactly once");
    assert_eq!(
        settled(|| cinder_listings(&real, 401)).await - refused_before,
        1,
        "one 401"
    );
    assert_eq!(
        settled(|| main_posts(201)).await - issued_before,
        1,
        "one re-authentication"
    );
    // Pages 2..=5 with the new token, plus the empty page after the exactly full last one.
    assert_eq!(cinder_listings(&real, 200) - ok_before, 5);
    let second = auth.token().await.unwrap().expect("a token");
    assert_ne!(first, second);
}

/// Alice is a member, not an admin: the Keystone-validated Cinder silently ignores her
/// `all_tenants=1` and lists her own project, without the project attribute; the walk says
/// so instead of passing her project off as the whole cloud.
#[tokio::test]
#[ignore = "needs a running real Keystone: see scripts/real-keystone.sh"]
async fn a_non_admins_whole_cloud_listing_ends_with_a_clear_error() {
    let _turn = SERIAL.lock().await;
    let real = real();
    let auth = KeystoneAuth::builder(&real.auth_url)
        .password(alice_by_name(&real), real.password.as_str())
        .project(Project::name(&real.project, Domain::id("default")))
        .http(once())
        .build()
        .unwrap();
    let client = auth
        .connect_with(
            &EndpointFilter::new().region("RegionOne"),
            Client::builder()
                .api_version(ApiVersion::V3)
                .microversion("3.18"),
        )
        .await
        .unwrap();
    let err = client
        .backups()
        .detail()
        .all_projects()
        .page_size(50)
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("a non-admin cannot list the whole cloud");
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("ignored all_tenants"), "{err}");
}

/// Issue 17 against Keystone 30 and a Keystone-validated Cinder: dave is a member of three
/// projects; the estate lists them from `/v3/auth/projects`, scopes a token to each from
/// the same password, and walks each project with its own token (Cinder refuses a token
/// scoped elsewhere with 400 "Malformed request url", so three complete scopes prove it).
#[tokio::test]
#[ignore = "needs a running real Keystone: see scripts/real-keystone.sh"]
async fn a_user_in_three_projects_walks_all_three_each_with_its_own_token() {
    let _turn = SERIAL.lock().await;
    let real = real();
    let config = OpenStackConfig::from_env_vars([
        ("OS_AUTH_URL", real.auth_url.clone()),
        ("OS_USERNAME", var("REAL_KEYSTONE_ESTATE_USER")),
        ("OS_USER_DOMAIN_ID", "default".to_owned()),
        ("OS_PASSWORD", var("REAL_KEYSTONE_ESTATE_PASSWORD")),
        ("OS_REGION_NAME", "RegionOne".to_owned()),
    ]);
    let estate = config.estate().await.expect("every project dave reaches");
    let mut reached: Vec<String> = estate
        .scopes
        .iter()
        .map(|(scope, client)| {
            assert_eq!(client.project_id(), scope.project_id);
            scope.project_id.clone()
        })
        .collect();
    reached.sort();
    let mut expected: Vec<String> = var("REAL_KEYSTONE_ESTATE_PROJECT_IDS")
        .split(',')
        .map(str::to_owned)
        .collect();
    expected.sort();
    assert_eq!(reached, expected);

    let set = estate.scopes.into_iter().fold(
        vbs_backups::ScopeSet::<vbs_backups::BackupSummary>::new(),
        |set, (scope, client)| set.add(scope, client, |c| c.backups()),
    );
    let mut stream = set.stream();
    let mut listed: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    while let Some(next) = stream.next().await {
        let backup = next.unwrap_or_else(|failed| panic!("{}: {}", failed.scope, failed.item));
        listed
            .entry(backup.scope.project_id.clone())
            .or_default()
            .push(backup.item.id);
    }
    let outcomes = stream.outcomes();
    assert_eq!(outcomes.len(), 3);
    assert!(
        outcomes.iter().all(|outcome| outcome.is_complete()),
        "{outcomes:?}"
    );
    assert_eq!(
        listed.remove(&real.project_id).unwrap_or_default(),
        truth_ids()
    );
    assert!(
        listed.values().all(Vec::is_empty),
        "the two new projects hold no backups"
    );
}

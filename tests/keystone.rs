//! Keystone authentication end to end, against the fake Keystone and the fake volume
//! service on loopback: every auth method and scope, catalog discovery, `OS_*` and
//! clouds.yaml configuration with its precedence, token renewal on expiry and on 401,
//! and secrets kept out of `Debug` output, errors and logs.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design
#![cfg(feature = "keystone")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{ids, listing_requests, truth_ids};
use futures::{StreamExt, TryStreamExt};
use vbs_backups::keystone::{Domain, EndpointFilter, Interface, KeystoneAuth, Project, User};
use vbs_backups::{
    ApiVersion, AuthSource, Client, ErrorKind, HttpOptions, OpenStackConfig, RetryPolicy,
};
use vbs_backups_testing::{
    CatalogUrlStyle, DEFAULT_PASSWORD, DEFAULT_PROJECT_ID, DEFAULT_USER_ID,
    FakeApplicationCredential, FakeEndpoint, FakeKeystone, FakeProject, FakeServer, FakeUser,
};

/// A volume service with `backups` backups that starts out accepting no Keystone token.
async fn volume(backups: usize) -> Arc<FakeServer> {
    Arc::new(
        FakeServer::builder()
            .backups(backups)
            .start()
            .await
            .expect("volume server starts"),
    )
}

/// A Keystone whose catalog points at `volume` and whose tokens `volume` then accepts.
async fn keystone_for(volume: &Arc<FakeServer>) -> FakeKeystone {
    FakeKeystone::builder()
        .volume_server(Arc::clone(volume))
        .start()
        .await
        .expect("keystone starts")
}

/// An openrc for the default user by name and domain name, scoped by project name.
fn openrc(keystone: &FakeKeystone) -> Vec<(String, String)> {
    [
        ("OS_AUTH_URL", keystone.auth_url()),
        ("OS_USERNAME", "admin".to_owned()),
        ("OS_USER_DOMAIN_NAME", "Default".to_owned()),
        ("OS_PASSWORD", DEFAULT_PASSWORD.to_owned()),
        ("OS_PROJECT_NAME", "demo".to_owned()),
        ("OS_PROJECT_DOMAIN_NAME", "Default".to_owned()),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value))
    .collect()
}

fn with(mut vars: Vec<(String, String)>, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.extend(
        extra
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned())),
    );
    vars
}

async fn all_ids(client: &Client) -> Vec<String> {
    let backups: Vec<_> = client
        .backups()
        .page_size(4)
        .stream()
        .try_collect()
        .await
        .expect("listing succeeds");
    ids(&backups)
}

#[tokio::test]
async fn password_by_user_name_and_domain_scoped_by_project_name() {
    logs();
    let volume = volume(9).await;
    let keystone = keystone_for(&volume).await;

    let client = OpenStackConfig::from_env_vars(openrc(&keystone))
        .connect()
        .await
        .expect("connects");
    assert_eq!(client.project_id(), DEFAULT_PROJECT_ID);
    assert_eq!(client.api_version(), ApiVersion::V3);
    assert_eq!(all_ids(&client).await, truth_ids(&volume.backups()));

    // One authentication gave the catalog and the token of every page.
    let issued = keystone.issued_tokens();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].methods, ["password"]);
    assert_eq!(issued[0].user_id, DEFAULT_USER_ID);
    let pages = listing_requests(&volume);
    assert_eq!(pages.len(), 3);
    assert!(
        pages
            .iter()
            .all(|page| page.auth_token.as_deref() == Some(issued[0].token.as_str()))
    );
}

#[tokio::test]
async fn password_by_user_id_scoped_by_project_id_with_a_root_auth_url() {
    logs();
    let volume = volume(5).await;
    let keystone = keystone_for(&volume).await;

    // Keystone's root without /v3 works as well.
    let auth = KeystoneAuth::builder(keystone.root_url())
        .password(User::id(DEFAULT_USER_ID), DEFAULT_PASSWORD)
        .project(Project::id(DEFAULT_PROJECT_ID))
        .build()
        .expect("valid");
    assert_eq!(auth.auth_url(), keystone.auth_url());
    let client = auth
        .connect(&EndpointFilter::new())
        .await
        .expect("connects");
    assert_eq!(all_ids(&client).await, truth_ids(&volume.backups()));

    let info = auth.token_info().await.expect("token info");
    assert_eq!(info.project_id.as_deref(), Some(DEFAULT_PROJECT_ID));
    assert_eq!(info.user_name.as_deref(), Some("admin"));
    assert!(info.expires_at.is_some());
    assert_eq!(keystone.tokens_issued(), 1);
}

#[tokio::test]
async fn users_and_projects_in_other_domains_by_domain_id() {
    logs();
    let volume = Arc::new(
        FakeServer::builder()
            .project_id("0a1b2c3d4e5f40718293a4b5c6d7e8f9")
            .backups(3)
            .start()
            .await
            .unwrap(),
    );
    let keystone = FakeKeystone::builder()
        .user(FakeUser::new("u-bob", "bob", "bobs-pw").domain("d-lab", "Lab"))
        .project(FakeProject::new("0a1b2c3d4e5f40718293a4b5c6d7e8f9", "lab").domain("d-lab", "Lab"))
        .volume_server(Arc::clone(&volume))
        .start()
        .await
        .unwrap();
    let config = OpenStackConfig::from_env_vars([
        ("OS_AUTH_URL", keystone.auth_url().as_str()),
        ("OS_USERNAME", "bob"),
        ("OS_USER_DOMAIN_ID", "d-lab"),
        ("OS_PASSWORD", "bobs-pw"),
        ("OS_PROJECT_NAME", "lab"),
        ("OS_PROJECT_DOMAIN_ID", "d-lab"),
    ]);
    let client = config.connect().await.expect("connects");
    assert_eq!(client.project_id(), "0a1b2c3d4e5f40718293a4b5c6d7e8f9");
    assert_eq!(all_ids(&client).await, truth_ids(&volume.backups()));

    // The same name in the wrong domain is someone else.
    let wrong = OpenStackConfig::from_env_vars([
        ("OS_AUTH_URL", keystone.auth_url().as_str()),
        ("OS_USERNAME", "bob"),
        ("OS_USER_DOMAIN_ID", "default"),
        ("OS_PASSWORD", "bobs-pw"),
    ]);
    let err = wrong.connect().await.expect_err("bob is not in default");
    assert_eq!(err.status(), Some(401));
}

#[tokio::test]
async fn application_credentials_by_id_and_by_name() {
    logs();
    let volume = volume(6).await;
    let keystone = FakeKeystone::builder()
        .application_credential(FakeApplicationCredential::new(
            "ac-1",
            "audit",
            "app-secret",
        ))
        .volume_server(Arc::clone(&volume))
        .start()
        .await
        .unwrap();

    let by_id = OpenStackConfig::from_env_vars([
        ("OS_AUTH_TYPE", "v3applicationcredential"),
        ("OS_AUTH_URL", keystone.auth_url().as_str()),
        ("OS_APPLICATION_CREDENTIAL_ID", "ac-1"),
        ("OS_APPLICATION_CREDENTIAL_SECRET", "app-secret"),
        // Left over from an openrc: ignored, the credential brings its project.
        ("OS_PROJECT_NAME", "elsewhere"),
    ]);
    let client = by_id.connect().await.expect("connects by id");
    assert_eq!(client.project_id(), DEFAULT_PROJECT_ID);
    assert_eq!(all_ids(&client).await, truth_ids(&volume.backups()));

    let by_name = KeystoneAuth::builder(keystone.auth_url())
        .application_credential_by_name(
            "audit",
            User::name("admin", Domain::id("default")),
            "app-secret",
        )
        .build()
        .unwrap();
    let client = by_name
        .connect(&EndpointFilter::new())
        .await
        .expect("connects by name");
    assert_eq!(all_ids(&client).await, truth_ids(&volume.backups()));

    let issued = keystone.issued_tokens();
    assert_eq!(issued.len(), 2);
    assert!(
        issued
            .iter()
            .all(|token| token.methods == ["application_credential"])
    );

    let err = KeystoneAuth::builder(keystone.auth_url())
        .application_credential("ac-1", "not-the-secret")
        .build()
        .unwrap()
        .connect(&EndpointFilter::new())
        .await
        .expect_err("wrong secret");
    assert_eq!(err.status(), Some(401));
    assert!(!err.to_string().contains("not-the-secret"));
}

#[tokio::test]
async fn a_pre_issued_token_is_used_as_is_or_exchanged_for_a_project() {
    logs();
    // Without a project: validated once (expiry, catalog), then sent as it is.
    let volume = Arc::new(
        FakeServer::builder()
            .token("gAAAA-pre-issued")
            .backups(5)
            .start()
            .await
            .unwrap(),
    );
    let keystone = FakeKeystone::builder()
        .pre_issued_token("gAAAA-pre-issued")
        .volume_endpoints(&volume)
        .start()
        .await
        .unwrap();
    let config = OpenStackConfig::from_env_vars([
        ("OS_AUTH_URL", keystone.auth_url().as_str()),
        ("OS_AUTH_TOKEN", "gAAAA-pre-issued"),
    ]);
    let client = config.connect().await.expect("connects");
    assert_eq!(all_ids(&client).await, truth_ids(&volume.backups()));
    assert_eq!(keystone.tokens_issued(), 0);
    let validations = keystone.requests();
    assert_eq!(validations.len(), 1);
    assert_eq!(validations[0].method, "GET");
    assert!(
        listing_requests(&volume)
            .iter()
            .all(|page| page.auth_token.as_deref() == Some("gAAAA-pre-issued"))
    );

    // With a project: exchanged for a token scoped to it.
    let volume = volume_for_exchange().await;
    let keystone = FakeKeystone::builder()
        .pre_issued_token("gAAAA-pre-issued")
        .volume_server(Arc::clone(&volume))
        .start()
        .await
        .unwrap();
    let config = OpenStackConfig::from_env_vars([
        ("OS_AUTH_URL", keystone.auth_url().as_str()),
        ("OS_AUTH_TOKEN", "gAAAA-pre-issued"),
        ("OS_PROJECT_ID", DEFAULT_PROJECT_ID),
    ]);
    let client = config.connect().await.expect("connects");
    assert_eq!(all_ids(&client).await, truth_ids(&volume.backups()));
    let issued = keystone.issued_tokens();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].methods, ["token"]);
    assert_eq!(issued[0].project_id.as_deref(), Some(DEFAULT_PROJECT_ID));
}

async fn volume_for_exchange() -> Arc<FakeServer> {
    volume(4).await
}

#[tokio::test]
async fn a_revoked_pre_issued_token_is_a_clear_error_not_a_loop() {
    logs();
    let volume = Arc::new(
        FakeServer::builder()
            .token("gAAAA-pre-issued")
            .backups(8)
            .start()
            .await
            .unwrap(),
    );
    let keystone = FakeKeystone::builder()
        .pre_issued_token("gAAAA-pre-issued")
        .volume_endpoints(&volume)
        .start()
        .await
        .unwrap();
    let client = OpenStackConfig::from_env_vars([
        ("OS_AUTH_URL", keystone.auth_url().as_str()),
        ("OS_AUTH_TOKEN", "gAAAA-pre-issued"),
    ])
    .connect()
    .await
    .unwrap();
    let mut stream = client.backups().page_size(4).prefetch(0).stream();
    for _ in 0..4 {
        stream.next().await.unwrap().unwrap();
    }
    // Revoked everywhere: the service refuses it and Keystone no longer validates it.
    volume.set_token("something-else");
    keystone.revoke_tokens();
    let err = loop {
        match stream.next().await {
            Some(Ok(_)) => continue,
            Some(Err(err)) => break err,
            None => panic!("the walk cannot finish with a revoked token"),
        }
    };
    // Keystone refuses the token as its own credential (a 401, not the service's).
    assert_eq!(err.status(), Some(401), "{err}");
    assert!(err.to_string().contains("refused token auth"), "{err}");
    assert!(!err.to_string().contains("gAAAA-pre-issued"), "{err}");
    // One validation at connect, one after the 401: no more.
    assert_eq!(keystone.requests().len(), 2);
}

#[tokio::test]
async fn catalog_discovery_by_interface_and_region() {
    logs();
    let public = Arc::new(
        FakeServer::builder()
            .seed(1)
            .backups(3)
            .no_auth()
            .start()
            .await
            .unwrap(),
    );
    let internal = Arc::new(
        FakeServer::builder()
            .seed(2)
            .backups(4)
            .no_auth()
            .start()
            .await
            .unwrap(),
    );
    let other_region = Arc::new(
        FakeServer::builder()
            .seed(3)
            .backups(5)
            .no_auth()
            .start()
            .await
            .unwrap(),
    );
    let url = |server: &FakeServer| format!("{}/v3/%(project_id)s", server.endpoint());
    let keystone = FakeKeystone::builder()
        .endpoint(FakeEndpoint::new("volumev3", "public", url(&public)))
        .endpoint(FakeEndpoint::new("volumev3", "internal", url(&internal)))
        .endpoint(FakeEndpoint::new("volumev3", "public", url(&other_region)).region("RegionTwo"))
        .start()
        .await
        .unwrap();
    let base = openrc(&keystone);

    // Two regions offer a public endpoint: that is a question, not a guess.
    let err = OpenStackConfig::from_env_vars(base.clone())
        .connect()
        .await
        .expect_err("ambiguous");
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("RegionOne, RegionTwo"), "{err}");

    for (extra, server) in [
        (vec![("OS_REGION_NAME", "RegionOne")], &public),
        (vec![("OS_REGION_NAME", "RegionTwo")], &other_region),
        (vec![("OS_INTERFACE", "internal")], &internal),
        (
            vec![
                ("OS_ENDPOINT_TYPE", "internalURL"),
                ("OS_REGION_NAME", "RegionOne"),
            ],
            &internal,
        ),
    ] {
        let client = OpenStackConfig::from_env_vars(with(base.clone(), &extra))
            .connect()
            .await
            .unwrap_or_else(|err| panic!("{extra:?}: {err}"));
        assert_eq!(
            all_ids(&client).await,
            truth_ids(&server.backups()),
            "{extra:?}"
        );
    }

    // Nothing for admin: the error lists what there is.
    let err = OpenStackConfig::from_env_vars(with(base, &[("OS_INTERFACE", "admin")]))
        .connect()
        .await
        .expect_err("no admin endpoint");
    assert!(err.to_string().contains("interface admin"), "{err}");
    assert!(
        err.to_string().contains("volumev3 internal RegionOne"),
        "{err}"
    );
}

#[tokio::test]
async fn catalog_discovery_by_version_with_every_url_style() {
    logs();
    for style in [
        CatalogUrlStyle::PercentTemplate,
        CatalogUrlStyle::DollarTemplate,
        CatalogUrlStyle::Substituted,
    ] {
        let volume = Arc::new(
            FakeServer::builder()
                .path_prefix("volume")
                .backups(5)
                .start()
                .await
                .unwrap(),
        );
        let keystone = FakeKeystone::builder()
            .catalog_url_style(style)
            .path_prefix("identity")
            .volume_server(Arc::clone(&volume))
            .start()
            .await
            .unwrap();
        let info = KeystoneAuth::builder(keystone.auth_url())
            .password(User::id(DEFAULT_USER_ID), DEFAULT_PASSWORD)
            .project(Project::id(DEFAULT_PROJECT_ID))
            .build()
            .unwrap()
            .token_info()
            .await
            .unwrap();
        let any_url = &info.catalog.services[1].endpoints[0].url;
        match style {
            CatalogUrlStyle::PercentTemplate => assert!(any_url.ends_with("%(project_id)s")),
            CatalogUrlStyle::DollarTemplate => assert!(any_url.ends_with("$(project_id)s")),
            _ => assert!(any_url.ends_with(DEFAULT_PROJECT_ID)),
        }

        for (version, expected, path) in [
            (None, ApiVersion::V3, "/volume/v3/"),
            (Some("2"), ApiVersion::V2, "/volume/v2/"),
            (Some("3"), ApiVersion::V3, "/volume/v3/"),
            (Some("3.45"), ApiVersion::V3, "/volume/v3/"),
        ] {
            volume.clear_requests();
            let mut vars = openrc(&keystone);
            if let Some(version) = version {
                vars.push(("OS_VOLUME_API_VERSION".into(), version.into()));
            }
            let client = OpenStackConfig::from_env_vars(vars)
                .connect()
                .await
                .unwrap();
            assert_eq!(client.api_version(), expected, "{style:?} {version:?}");
            assert_eq!(all_ids(&client).await, truth_ids(&volume.backups()));
            let first = &listing_requests(&volume)[0];
            assert!(
                first.path.starts_with(path),
                "{style:?} {version:?}: {}",
                first.path
            );
            let microversion = first.header("openstack-api-version");
            if version == Some("3.45") {
                assert_eq!(client.microversion(), Some((3, 45)));
                assert_eq!(microversion, Some("volume 3.45"));
            } else {
                assert_eq!(microversion, None);
            }
        }
    }
}

#[tokio::test]
async fn an_endpoint_override_replaces_the_catalog_but_keeps_keystone_tokens() {
    logs();
    let volume = volume(5).await;
    // The catalog has no volume service at all.
    let keystone = FakeKeystone::builder()
        .on_token_issued({
            let volume = Arc::clone(&volume);
            move |issued| volume.set_token(issued.token.clone())
        })
        .start()
        .await
        .unwrap();
    let err = OpenStackConfig::from_env_vars(openrc(&keystone))
        .connect()
        .await
        .expect_err("nothing in the catalog");
    assert!(err.to_string().contains("no volume service"), "{err}");

    let endpoint = format!("{}/v2/$(tenant_id)s", volume.endpoint());
    let client = OpenStackConfig::from_env_vars(with(
        openrc(&keystone),
        &[("OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE", endpoint.as_str())],
    ))
    .connect()
    .await
    .unwrap();
    assert_eq!(client.api_version(), ApiVersion::V2);
    assert_eq!(all_ids(&client).await, truth_ids(&volume.backups()));
}

#[tokio::test]
async fn unscoped_tokens_say_what_to_set() {
    logs();
    let volume = volume(1).await;
    let keystone = keystone_for(&volume).await;
    let err = OpenStackConfig::from_env_vars([
        ("OS_AUTH_URL", keystone.auth_url().as_str()),
        ("OS_USER_ID", DEFAULT_USER_ID),
        ("OS_PASSWORD", DEFAULT_PASSWORD),
    ])
    .connect()
    .await
    .expect_err("unscoped");
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("not scoped to a project"), "{err}");
    assert!(err.to_string().contains("OS_PROJECT_ID"), "{err}");
}

#[tokio::test]
async fn clouds_yaml_with_secure_yaml_through_the_testable_environment() {
    logs();
    let volume = volume(7).await;
    let keystone = keystone_for(&volume).await;
    let dir = tempfile::tempdir().unwrap();
    let clouds = dir.path().join("clouds.yaml");
    std::fs::write(
        &clouds,
        format!(
            "clouds:
  lab:
    auth:
      auth_url: {}
      username: admin
      user_domain_name: Default
      project_name: demo
      project_domain_id: default
    region_name: RegionOne
    interface: internal
    volume_api_version: 2
  other:
    auth:
      auth_url: http://127.0.0.1:9
",
            keystone.root_url()
        ),
    )
    .unwrap();
    let secure = dir.path().join("secure.yaml");
    std::fs::write(
        &secure,
        format!("clouds:\n  lab:\n    auth:\n      password: {DEFAULT_PASSWORD}\n"),
    )
    .unwrap();

    let config = OpenStackConfig::load_from_env_vars([
        ("OS_CLOUD", "lab"),
        ("OS_CLIENT_CONFIG_FILE", clouds.to_str().unwrap()),
        ("OS_CLIENT_SECURE_FILE", secure.to_str().unwrap()),
    ])
    .unwrap();
    assert_eq!(config.cloud.as_deref(), Some("lab"));
    assert_eq!(config.interface.as_deref(), Some("internal"));
    assert!(config.password.is_some(), "from secure.yaml");
    let client = config.connect().await.expect("connects");
    assert_eq!(client.api_version(), ApiVersion::V2);
    assert_eq!(all_ids(&client).await, truth_ids(&volume.backups()));

    let err = OpenStackConfig::load_from_env_vars([
        ("OS_CLOUD", "staging"),
        ("OS_CLIENT_CONFIG_FILE", clouds.to_str().unwrap()),
    ])
    .expect_err("no such cloud");
    assert!(err.to_string().contains("it has: lab, other"), "{err}");
}

#[test]
fn clouds_yaml_is_found_under_the_given_home_and_xdg_config_home() {
    logs();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let xdg = dir.path().join("xdg");
    for (base, url) in [
        (home.join(".config/openstack"), "http://home.invalid:5000"),
        (xdg.join("openstack"), "http://xdg.invalid:5000"),
    ] {
        std::fs::create_dir_all(&base).unwrap();
        std::fs::write(
            base.join("clouds.yaml"),
            format!("clouds: {{lab: {{auth: {{auth_url: '{url}'}}}}}}"),
        )
        .unwrap();
    }
    let load = |vars: &[(&str, &str)]| {
        OpenStackConfig::load_from_env_vars(vars.iter().copied())
            .unwrap()
            .auth_url
    };
    let home = home.to_str().unwrap();
    let xdg = xdg.to_str().unwrap();
    assert_eq!(
        load(&[("OS_CLOUD", "lab"), ("HOME", home)]).as_deref(),
        Some("http://home.invalid:5000")
    );
    // $XDG_CONFIG_HOME/openstack comes before ~/.config/openstack.
    assert_eq!(
        load(&[
            ("OS_CLOUD", "lab"),
            ("HOME", home),
            ("XDG_CONFIG_HOME", xdg)
        ])
        .as_deref(),
        Some("http://xdg.invalid:5000")
    );
    // Without OS_CLOUD no file is read.
    assert_eq!(load(&[("HOME", home)]), None);
}

#[tokio::test]
async fn explicit_values_beat_the_environment_which_beats_clouds_yaml() {
    logs();
    let volume = volume(3).await;
    let keystone = keystone_for(&volume).await;
    let dir = tempfile::tempdir().unwrap();
    let clouds = dir.path().join("clouds.yaml");
    // clouds.yaml has a stale password and a region the catalog does not have.
    std::fs::write(
        &clouds,
        format!(
            "clouds:
  lab:
    auth:
      auth_url: {}
      user_id: {DEFAULT_USER_ID}
      password: stale-password
      project_id: {DEFAULT_PROJECT_ID}
    region_name: Atlantis
    interface: admin
",
            keystone.auth_url()
        ),
    )
    .unwrap();
    let env = OpenStackConfig::from_env_vars([
        ("OS_CLIENT_CONFIG_FILE", clouds.to_str().unwrap()),
        ("OS_PASSWORD", DEFAULT_PASSWORD),
        ("OS_REGION_NAME", "RegionOne"),
        ("OS_INTERFACE", "internal"),
    ]);
    // The command line: --os-cloud lab --os-interface public.
    let mut flags = OpenStackConfig::default();
    flags.cloud = Some("lab".into());
    flags.interface = Some("public".into());
    let config = env.merge(flags).with_clouds_yaml().unwrap();
    assert_eq!(
        config.password.as_ref().map(|p| p.expose()),
        Some(DEFAULT_PASSWORD)
    );
    assert_eq!(config.region_name.as_deref(), Some("RegionOne"));
    assert_eq!(config.interface.as_deref(), Some("public"));
    assert_eq!(config.user_id.as_deref(), Some(DEFAULT_USER_ID));
    let filter = config.endpoint_filter().unwrap();
    assert_eq!(filter.get_interface(), Interface::Public);
    let client = config.connect().await.expect("connects");
    assert_eq!(all_ids(&client).await, truth_ids(&volume.backups()));

    // A token given explicitly beats the password from below, even without auth_type.
    let mut flags = OpenStackConfig::default();
    flags.token = Some("gAAAA-from-a-flag".into());
    let err = config
        .merge(flags)
        .connect()
        .await
        .expect_err("unknown token");
    assert_eq!(err.status(), Some(401), "{err}");
    assert!(err.to_string().contains("refused token auth"), "{err}");
}

#[tokio::test]
async fn expiry_drives_renewal_before_the_service_would_refuse() {
    logs();
    let volume = volume(10).await; // pages of 4, 4 and 2
    // Tokens live 2 s; with at most half the lifetime as margin, they are renewed after 1 s.
    let keystone = FakeKeystone::builder()
        .token_lifetime(Duration::from_secs(2))
        .volume_server(Arc::clone(&volume))
        .start()
        .await
        .unwrap();
    let client = OpenStackConfig::from_env_vars(openrc(&keystone))
        .connect()
        .await
        .unwrap();
    let mut pages = client.backups().page_size(4).prefetch(0).pages();
    let mut seen = Vec::new();
    for page in 0..3 {
        if page > 0 {
            // Past the renewal point of the token in use (no assertion on time itself).
            tokio::time::sleep(Duration::from_millis(1200)).await;
        }
        let page = pages.next().await.expect("a page").expect("page succeeds");
        seen.extend(page.items.into_iter().map(|backup| backup.id));
    }
    assert!(pages.next().await.is_none());
    assert_eq!(seen, truth_ids(&volume.backups()));

    // Each page after a wait went with a new token, fetched before the request: the
    // service, which accepts only the newest token, refused nothing (one request a page).
    let issued: Vec<String> = keystone
        .issued_tokens()
        .into_iter()
        .map(|t| t.token)
        .collect();
    let used: Vec<String> = listing_requests(&volume)
        .into_iter()
        .map(|page| page.auth_token.unwrap_or_default())
        .collect();
    assert_eq!(used.len(), 3, "no request was refused and retried");
    // A new token after every wait, each issued before the page that used it ...
    let positions: Vec<usize> = used
        .iter()
        .map(|token| {
            issued
                .iter()
                .position(|t| t == token)
                .expect("an issued token")
        })
        .collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "{used:?} of {issued:?}"
    );
    assert_eq!(used.last(), issued.last());
    // ... and no more than that, unless the machine stalled for longer than the 1 s a
    // token is used before renewal (then a token may be renewed before its first use).
    assert!(issued.len() >= 3, "{issued:?}");
}

#[tokio::test]
async fn a_401_renews_the_token_once_and_retries() {
    logs();
    let volume = volume(10).await; // pages of 4, 4 and 2
    let keystone = keystone_for(&volume).await;
    let client = OpenStackConfig::from_env_vars(openrc(&keystone))
        .connect()
        .await
        .unwrap();
    let mut stream = client.backups().page_size(4).prefetch(0).stream();
    let mut seen = Vec::new();
    // Page 1's three (its fourth, the next marker, comes with page 2).
    for _ in 0..3 {
        seen.push(stream.next().await.unwrap().unwrap().id);
    }
    // The token is revoked behind the client's back: the service refuses it.
    volume.set_token("revoked-elsewhere");
    while let Some(backup) = stream.next().await {
        seen.push(backup.expect("the walk recovers").id);
    }
    assert_eq!(seen, truth_ids(&volume.backups()));
    let issued = keystone.issued_tokens();
    assert_eq!(issued.len(), 2);
    let used: Vec<String> = listing_requests(&volume)
        .into_iter()
        .map(|page| page.auth_token.unwrap_or_default())
        .collect();
    // Page 2 was refused with the first token and retried with the second.
    assert_eq!(
        used,
        [
            issued[0].token.clone(),
            issued[0].token.clone(),
            issued[1].token.clone(),
            issued[1].token.clone(),
        ]
    );
}

#[tokio::test]
async fn concurrent_callers_share_one_authentication() {
    logs();
    let volume = volume(1).await;
    let keystone = keystone_for(&volume).await;
    let auth = KeystoneAuth::builder(keystone.auth_url())
        .password(User::id(DEFAULT_USER_ID), DEFAULT_PASSWORD)
        .project(Project::id(DEFAULT_PROJECT_ID))
        .build()
        .unwrap();

    let first: Vec<_> = futures::future::join_all((0..16).map(|_| auth.token())).await;
    assert_eq!(keystone.tokens_issued(), 1);
    let first: Vec<String> = first.into_iter().map(|t| t.unwrap().unwrap()).collect();
    assert!(first.iter().all(|token| *token == first[0]));

    // Sixteen requests refused at once: one renewal for all of them.
    let renewed: Vec<_> = futures::future::join_all((0..16).map(|_| auth.refresh())).await;
    assert_eq!(keystone.tokens_issued(), 2);
    let renewed: Vec<String> = renewed.into_iter().map(|t| t.unwrap().unwrap()).collect();
    assert!(
        renewed
            .iter()
            .all(|token| *token == renewed[0] && *token != first[0])
    );

    // Clones share the token too.
    let clone = auth.clone();
    assert_eq!(clone.token().await.unwrap().unwrap(), renewed[0]);
    assert_eq!(keystone.tokens_issued(), 2);
}

#[tokio::test]
async fn a_wrong_password_is_keystones_401_once() {
    logs();
    let volume = volume(1).await;
    let keystone = keystone_for(&volume).await;
    let vars = openrc(&keystone)
        .into_iter()
        .map(|(key, value)| {
            let value = if key == "OS_PASSWORD" {
                "Tr0ub4dor&3".to_owned()
            } else {
                value
            };
            (key, value)
        })
        .collect::<Vec<_>>();
    let err = OpenStackConfig::from_env_vars(vars)
        .connect()
        .await
        .expect_err("wrong password");
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.code(), Some("Unauthorized"));
    let text = err.to_string();
    assert!(
        text.contains("The request you have made requires authentication."),
        "{text}"
    );
    assert!(text.contains(&keystone.auth_url()), "{text}");
    assert!(text.contains("user `admin` in domain `Default`"), "{text}");
    assert!(!text.contains("Tr0ub4dor&3"), "{text}");
    assert!(!format!("{err:?}").contains("Tr0ub4dor&3"));
    // Refused credentials are not retried.
    assert_eq!(keystone.requests().len(), 1);
    assert_eq!(keystone.tokens_issued(), 0);

    // Callers that waited for a refused authentication share the refusal.
    let auth = KeystoneAuth::builder(keystone.auth_url())
        .password(User::id(DEFAULT_USER_ID), "Tr0ub4dor&3")
        .build()
        .unwrap();
    let refused = futures::future::join_all((0..8).map(|_| auth.token())).await;
    for err in refused {
        let err = err.expect_err("refused");
        assert_eq!(err.status(), Some(401));
        assert!(err.to_string().contains("requires authentication"), "{err}");
    }
    assert_eq!(keystone.requests().len(), 2);
    // A later caller tries again (the password may have been fixed meanwhile).
    auth.token().await.expect_err("still refused");
    assert_eq!(keystone.requests().len(), 3);
}

#[tokio::test]
async fn an_unreachable_keystone_is_a_transport_error_naming_it() {
    logs();
    // A port that was free a moment ago: nothing listens there now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let auth = KeystoneAuth::builder(format!("http://127.0.0.1:{port}"))
        .token("t")
        .http(HttpOptions::new().retry_policy(RetryPolicy::disabled()))
        .build()
        .unwrap();
    let err = auth
        .connect(&EndpointFilter::new())
        .await
        .expect_err("nothing there");
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}/v3")),
        "{err}"
    );
}

#[tokio::test]
async fn os_cacert_is_read_for_keystone_and_for_the_volume_service() {
    logs();
    let missing = "/nonexistent/os-ca.pem";
    let keystone_err = OpenStackConfig::from_env_vars([
        ("OS_AUTH_URL", "http://127.0.0.1:9/v3"),
        ("OS_AUTH_TOKEN", "t"),
        ("OS_CACERT", missing),
    ])
    .connect()
    .await
    .expect_err("unreadable CA file");
    assert!(
        keystone_err.to_string().contains("cannot read the CA file"),
        "{keystone_err}"
    );

    let direct_err = OpenStackConfig::from_env_vars([
        ("OS_AUTH_TYPE", "token_endpoint"),
        ("OS_AUTH_TOKEN", "t"),
        (
            "OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE",
            "http://127.0.0.1:9/v3/p",
        ),
        ("OS_CACERT", missing),
    ])
    .connect()
    .await
    .expect_err("unreadable CA file");
    assert!(
        direct_err.to_string().contains("cannot read the CA file"),
        "{direct_err}"
    );
}

#[tokio::test]
async fn a_token_and_an_endpoint_need_no_keystone() {
    logs();
    let volume = volume(6).await;
    let endpoint = format!("{}/v3/%(project_id)s", volume.endpoint());
    let client = OpenStackConfig::from_env_vars([
        ("OS_AUTH_TOKEN", vbs_backups_testing::DEFAULT_TOKEN),
        ("OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE", endpoint.as_str()),
        ("OS_PROJECT_ID", DEFAULT_PROJECT_ID),
    ])
    .connect()
    .await
    .unwrap();
    assert_eq!(all_ids(&client).await, truth_ids(&volume.backups()));
}

/// Everything every test of this file logs, at every level. Each test calls this first,
/// so the process-wide subscriber is in place before any callsite is first hit (tracing
/// caches per callsite whether anyone listens).
fn logs() -> &'static common::Logs {
    static LOGS: std::sync::OnceLock<common::Logs> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = common::Logs::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
        logs
    })
}

#[tokio::test(flavor = "current_thread")]
async fn secrets_stay_out_of_debug_output_errors_and_logs() {
    let logs = logs();
    let volume = volume(8).await;
    let keystone = FakeKeystone::builder()
        .application_credential(FakeApplicationCredential::new(
            "ac-1",
            "audit",
            "app-secret-42",
        ))
        .volume_server(Arc::clone(&volume))
        .start()
        .await
        .unwrap();
    let vars = with(
        openrc(&keystone),
        &[
            ("OS_APPLICATION_CREDENTIAL_SECRET", "app-secret-42"),
            ("OS_AUTH_TOKEN", "gAAAA-leftover-token"),
        ],
    );
    let config = OpenStackConfig::from_env_vars(vars);
    let mut password_config = config.clone();
    password_config.auth_type = Some("password".into());
    let auth = password_config.keystone_auth().unwrap();
    let client = auth.connect(&EndpointFilter::new()).await.unwrap();
    let mut stream = client.backups().page_size(3).prefetch(0).stream();
    stream.next().await.unwrap().unwrap();
    volume.set_token("revoked-elsewhere"); // a 401 and a renewal, logged
    while let Some(backup) = stream.next().await {
        backup.unwrap();
    }
    let mut wrong = password_config.clone();
    wrong.password = Some("Wr0ng-Passw0rd".into());
    let err = wrong.connect().await.expect_err("wrong password");

    let tokens: Vec<String> = keystone
        .issued_tokens()
        .into_iter()
        .map(|t| t.token)
        .collect();
    assert_eq!(tokens.len(), 2);
    let mut secrets = vec![
        DEFAULT_PASSWORD.to_owned(),
        "app-secret-42".to_owned(),
        "gAAAA-leftover-token".to_owned(),
        "Wr0ng-Passw0rd".to_owned(),
    ];
    secrets.extend(tokens);
    // This test's logs, and those of the tests running beside it.
    let log_text = logs.text();
    assert!(
        log_text.contains("Keystone issued a token"),
        "logs: {log_text}"
    );
    // Whatever any test of this file authenticated with, or was issued.
    for secret in [
        "fake-ks-",
        "gAAAA",
        "Tr0ub4dor",
        "bobs-pw",
        "not-the-secret",
    ] {
        assert!(!log_text.contains(secret), "{secret} leaked into the logs");
    }
    for shown in [
        format!("{config:?}"),
        format!("{password_config:?}"),
        format!("{auth:?}"),
        format!("{client:?}"),
        format!("{:?}", auth.token_info().await.unwrap()),
        format!("{err:?}"),
        err.to_string(),
        log_text,
    ] {
        for secret in &secrets {
            assert!(
                !shown.contains(secret.as_str()),
                "{secret} leaked into: {shown}"
            );
        }
    }
}

/// `POST /v3/auth/tokens` straight to a fake Keystone: status and body.
async fn raw_issue(keystone: &FakeKeystone, auth: serde_json::Value) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/auth/tokens", keystone.auth_url()))
        .header("Content-Type", "application/json")
        .body(serde_json::to_vec(&serde_json::json!({ "auth": auth })).unwrap())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    (status, body)
}

/// What real Keystone 30 did that the fake did not (scripts/real_keystone/FINDINGS.md),
/// now done by the fake too.
#[tokio::test]
async fn the_fake_keystone_answers_as_real_keystone_30_did() {
    logs();
    let volume = volume(3).await;
    let keystone = FakeKeystone::builder()
        .user(FakeUser::new("u-alice", "alice", "alice-pw").default_project(DEFAULT_PROJECT_ID))
        .application_credential(FakeApplicationCredential::new(
            "ac-1",
            "audit",
            "app-secret",
        ))
        .endpoint(
            FakeEndpoint::new(
                "volume",
                "public",
                format!("{}/v2/%(project_id)s", volume.endpoint()),
            )
            .disabled(),
        )
        .volume_server(Arc::clone(&volume))
        .start()
        .await
        .unwrap();

    // Fernet times: whole seconds, written with six zero digits.
    let (status, body) = raw_issue(
        &keystone,
        serde_json::json!({"identity": {"methods": ["password"],
            "password": {"user": {"id": DEFAULT_USER_ID, "password": DEFAULT_PASSWORD}}}}),
    )
    .await;
    assert_eq!(status, 201);
    for field in ["expires_at", "issued_at"] {
        let text = body["token"][field].as_str().unwrap();
        assert!(
            text.len() == 27 && text.ends_with(".000000Z"),
            "{field} {text}"
        );
    }
    // That user has no default project: no scope, no catalog.
    assert!(body["token"].get("project").is_none() && body["token"].get("catalog").is_none());

    // A user with a default project gets a token scoped to it when asking for none.
    let auth = KeystoneAuth::builder(keystone.auth_url())
        .password(User::name("alice", Domain::id("default")), "alice-pw")
        .build()
        .unwrap();
    let info = auth.token_info().await.unwrap();
    assert_eq!(info.project_id.as_deref(), Some(DEFAULT_PROJECT_ID));
    let client = auth.connect(&EndpointFilter::new()).await.unwrap();
    assert_eq!(all_ids(&client).await, truth_ids(&volume.backups()));

    // Catalog URLs come with the project filled in; a disabled endpoint's service stays,
    // with no endpoints.
    let catalog = info.catalog;
    let v3 = catalog
        .services
        .iter()
        .find(|service| service.service_type == "volumev3")
        .unwrap();
    assert!(
        v3.endpoints
            .iter()
            .all(|endpoint| endpoint.url.ends_with(&format!("/v3/{DEFAULT_PROJECT_ID}"))),
        "{v3:?}"
    );
    let v2 = catalog
        .services
        .iter()
        .find(|service| service.service_type == "volume")
        .expect("the service of the disabled endpoint is listed");
    assert!(v2.endpoints.is_empty(), "{v2:?}");

    // An application credential id Keystone does not know is 404, asked once.
    let asked = keystone.requests().len();
    let err = KeystoneAuth::builder(keystone.auth_url())
        .application_credential("no-such-credential", "whatever")
        .build()
        .unwrap()
        .token_info()
        .await
        .expect_err("unknown credential");
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.code(), Some("Not Found"));
    assert!(
        err.to_string()
            .contains("Could not find Application Credential: no-such-credential."),
        "{err}"
    );
    assert_eq!(keystone.requests().len(), asked + 1);

    // A scope with an application credential: Keystone's own words.
    let (status, body) = raw_issue(
        &keystone,
        serde_json::json!({"identity": {"methods": ["application_credential"],
            "application_credential": {"id": "ac-1", "secret": "app-secret"}}}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let response = reqwest::Client::new()
        .post(format!("{}/auth/tokens", keystone.auth_url()))
        .header("Content-Type", "application/json")
        .body(
            serde_json::to_vec(&serde_json::json!({"auth": {
                "identity": {"methods": ["application_credential"],
                    "application_credential": {"id": "ac-1", "secret": "app-secret"}},
                "scope": {"project": {"id": DEFAULT_PROJECT_ID}}}}))
            .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(
        body["error"]["message"],
        "Error authenticating with application credential: Application credentials cannot request a scope."
    );
}

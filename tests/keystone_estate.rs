//! Every project OpenStack credentials reach: Keystone's `/v3/auth/projects`, then a
//! token scoped to each project from the same credentials, each project walked with its
//! own token, and the projects of several clouds in one estate.
#![cfg(feature = "keystone")]
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

use std::collections::BTreeMap;

use futures::StreamExt;
use vbs_backups::{BackupSummary, OpenStackConfig, ScopeSet};
use vbs_backups_testing::{
    DEFAULT_PASSWORD, DEFAULT_PROJECT_ID, DEFAULT_PROJECT_NAME, DEFAULT_USER_NAME, FakeEndpoint,
    FakeKeystone, FakeProject, FakeServer, ProjectRouter,
};

/// The fake's default project, then two more.
const PROJECTS: [(&str, &str); 3] = [
    (DEFAULT_PROJECT_ID, DEFAULT_PROJECT_NAME),
    ("aaaa0000000000000000000000000002", "beta"),
    ("aaaa0000000000000000000000000003", "gamma"),
];

struct Cloud {
    keystone: FakeKeystone,
    servers: Vec<FakeServer>,
    _router: ProjectRouter,
}

async fn cloud(projects: &[(&str, &str)], backups: usize) -> Cloud {
    let mut servers = Vec::new();
    for (index, (id, _)) in projects.iter().enumerate() {
        servers.push(
            FakeServer::builder()
                .project_id(*id)
                .backups(backups + index)
                .seed(index as u64)
                .no_auth()
                .start()
                .await
                .unwrap(),
        );
    }
    let router = ProjectRouter::start(&servers).await.unwrap();
    let mut builder = FakeKeystone::builder();
    for (id, name) in projects {
        if *id != DEFAULT_PROJECT_ID {
            builder = builder.project(FakeProject::new(*id, *name));
        }
    }
    for interface in ["public", "internal", "admin"] {
        builder = builder.endpoint(FakeEndpoint::new(
            "block-storage",
            interface,
            format!("{}/v3/%(project_id)s", router.endpoint()),
        ));
    }
    let keystone = builder.start().await.unwrap();
    Cloud {
        keystone,
        servers,
        _router: router,
    }
}

fn config(cloud: &Cloud, name: &str) -> OpenStackConfig {
    let mut config = OpenStackConfig::from_env_vars([
        ("OS_AUTH_URL", cloud.keystone.auth_url().as_str()),
        ("OS_USERNAME", DEFAULT_USER_NAME),
        ("OS_PASSWORD", DEFAULT_PASSWORD),
        ("OS_USER_DOMAIN_NAME", "Default"),
        ("OS_REGION_NAME", "RegionOne"),
    ]);
    config.cloud = Some(name.to_owned());
    config
}

#[tokio::test]
async fn every_project_is_walked_with_a_token_scoped_to_it() {
    let lab = cloud(&PROJECTS, 4).await;
    let estate = config(&lab, "lab").estate().await.unwrap();
    let projects: Vec<_> = estate
        .scopes
        .iter()
        .map(|(scope, client)| {
            assert_eq!(client.project_id(), scope.project_id);
            (
                scope.project_id.as_str(),
                scope.project_name.as_deref().unwrap(),
            )
        })
        .collect();
    assert_eq!(projects, PROJECTS);

    let set = estate
        .scopes
        .into_iter()
        .fold(ScopeSet::<BackupSummary>::new(), |set, (scope, client)| {
            set.add(scope, client, |c| c.backups())
        });
    let mut stream = set.stream();
    let mut listed: BTreeMap<String, usize> = BTreeMap::new();
    while let Some(next) = stream.next().await {
        let backup = next.unwrap_or_else(|f| panic!("{}: {}", f.scope, f.item));
        *listed.entry(backup.scope.project_id.clone()).or_default() += 1;
    }
    let expected: BTreeMap<String, usize> = lab
        .servers
        .iter()
        .map(|s| (s.project_id().to_owned(), s.backups().len()))
        .collect();
    assert_eq!(listed, expected);

    // Each server saw only tokens Keystone scoped to its own project.
    let issued = lab.keystone.issued_tokens();
    for server in &lab.servers {
        let tokens: Vec<_> = server
            .requests()
            .into_iter()
            .map(|r| r.auth_token.expect("a token"))
            .collect();
        assert!(!tokens.is_empty());
        for token in tokens {
            let scoped = issued.iter().find(|t| t.token == token).expect("issued");
            assert_eq!(scoped.project_id.as_deref(), Some(server.project_id()));
        }
    }
    let list_requests = lab
        .keystone
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/v3/auth/projects"))
        .count();
    assert_eq!(list_requests, 1);
}

#[tokio::test]
async fn several_clouds_make_one_estate() {
    let lab = cloud(&PROJECTS[..2], 3).await;
    let prod = cloud(&[PROJECTS[0], PROJECTS[2]], 5).await;
    let mut set = ScopeSet::<BackupSummary>::new();
    for (cloud, name) in [(&lab, "lab"), (&prod, "prod")] {
        for (scope, client) in config(cloud, name).estate().await.unwrap().scopes {
            set = set.add(scope, client, |c| c.backups());
        }
    }
    let mut stream = set.stream();
    let mut listed: BTreeMap<String, usize> = BTreeMap::new();
    while let Some(next) = stream.next().await {
        let backup = next.unwrap_or_else(|f| panic!("{}: {}", f.scope, f.item));
        let cloud = backup.scope.cloud.clone().unwrap();
        *listed
            .entry(format!("{cloud}/{}", backup.scope.project_id))
            .or_default() += 1;
    }
    assert_eq!(
        listed,
        BTreeMap::from([
            (format!("lab/{}", PROJECTS[0].0), 3),
            (format!("lab/{}", PROJECTS[1].0), 4),
            (format!("prod/{}", PROJECTS[0].0), 5),
            (format!("prod/{}", PROJECTS[2].0), 6),
        ])
    );
}

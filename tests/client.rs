//! Endpoint forms, API versions, headers and redirects, against a real server on loopback.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use common::{client, collect, ids, server, truth_ids};
use futures::TryStreamExt;
use vbs_backups::{ApiVersion, Client, ErrorKind};
use vbs_backups_testing::{CannedResponse, FakeServer};

async fn prefixed_server() -> FakeServer {
    FakeServer::builder()
        .backups(12)
        .path_prefix("/volume")
        .start()
        .await
        .expect("fake server starts")
}

#[tokio::test]
async fn every_endpoint_form_reaches_the_collection() {
    let server = prefixed_server().await;
    let root = server.endpoint();
    let project = server.project_id().to_owned();
    let token = server.token().unwrap_or_default().to_owned();
    let cases = [
        (root.clone(), Some(ApiVersion::V2), "v2"),
        (format!("{root}/"), None, "v2"),
        (format!("{root}/v2/{project}"), None, "v2"),
        (format!("{root}/v3/{project}/"), None, "v3"),
        (root.clone(), Some(ApiVersion::V3), "v3"),
        (format!("{root}/v3"), None, "v3"),
    ];
    for (endpoint, version, segment) in cases {
        server.clear_requests();
        let mut builder = Client::builder()
            .endpoint(&endpoint)
            .project_id(&project)
            .token(&token);
        if let Some(version) = version {
            builder = builder.api_version(version);
        }
        let client = builder.build().expect("valid endpoint");
        let got = collect(client.backups().page_size(5)).await;
        assert_eq!(ids(&got), truth_ids(&server.backups()), "{endpoint}");
        let requests = server.requests();
        assert_eq!(requests.len(), 3, "{endpoint}");
        let expected = format!("/volume/{segment}/{project}/backups");
        assert!(
            requests.iter().all(|r| r.path == expected),
            "{endpoint}: {requests:?}"
        );
    }
}

#[tokio::test]
async fn the_token_goes_in_x_auth_token_and_can_be_omitted() {
    let server = FakeServer::builder()
        .backups(3)
        .no_auth()
        .start()
        .await
        .expect("starts");
    let anonymous = Client::builder()
        .endpoint(server.endpoint())
        .project_id(server.project_id())
        .build()
        .expect("valid client");
    collect(anonymous.backups()).await;
    let with_token = Client::builder()
        .endpoint(server.endpoint())
        .project_id(server.project_id())
        .token("  tok-1  ")
        .build()
        .expect("valid client");
    collect(with_token.backups()).await;
    let tokens: Vec<_> = server
        .requests()
        .into_iter()
        .map(|r| r.auth_token)
        .collect();
    assert_eq!(tokens, [None, Some("tok-1".to_owned())]);
}

#[tokio::test]
async fn the_user_agent_names_the_crate_unless_overridden() {
    let server = server(3).await;
    let token = server.token().unwrap_or_default().to_owned();
    let default = Client::builder()
        .endpoint(server.endpoint())
        .project_id(server.project_id())
        .token(&token)
        .build()
        .expect("valid client");
    collect(default.backups()).await;
    let custom = Client::builder()
        .endpoint(server.endpoint())
        .project_id(server.project_id())
        .token(&token)
        .user_agent("auditor/2.1")
        .build()
        .expect("valid client");
    collect(custom.backups()).await;
    let agents: Vec<_> = server
        .requests()
        .into_iter()
        .map(|r| r.header("user-agent").map(str::to_owned))
        .collect();
    assert_eq!(
        agents,
        [
            Some(format!("vbs-backups/{}", env!("CARGO_PKG_VERSION"))),
            Some("auditor/2.1".to_owned())
        ]
    );
}

/// Rule 7: redirects are followed on the configured origin only.
#[tokio::test]
async fn redirects_stay_on_the_configured_origin() {
    let server = server(8).await;
    let client = common::client(&server);

    let same_origin = format!(
        "{}/v2/{}/backups?limit=1000",
        server.endpoint(),
        server.project_id()
    );
    server
        .push_response(CannedResponse::text(307, "text/plain", "").header("Location", same_origin));
    let got = collect(client.backups()).await;
    assert_eq!(ids(&got), truth_ids(&server.backups()));

    assert_redirect_elsewhere_is_refused(&client, &server).await;
}

/// A 302 to another loopback server ends the walk, and nothing reaches that server.
async fn assert_redirect_elsewhere_is_refused(client: &Client, server: &FakeServer) {
    let elsewhere = FakeServer::builder()
        .no_auth()
        .start()
        .await
        .expect("starts");
    let other_origin = format!(
        "{}/v2/{}/backups",
        elsewhere.endpoint(),
        elsewhere.project_id()
    );
    server.push_response(
        CannedResponse::text(302, "text/plain", "").header("Location", other_origin),
    );
    let err = client
        .backups()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("the redirect is refused");
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.status(), Some(302));
    assert!(err.message().contains("not followed"), "{err}");
    assert_eq!(
        elsewhere.request_count(),
        0,
        "the token never left for another origin"
    );
}

/// A caller's own reqwest builder is used, with the same-origin redirect policy
/// applied on top of reqwest's default one.
#[tokio::test]
async fn a_reqwest_builder_can_be_supplied_and_never_leaks_the_token() {
    let server = server(4).await;
    let client = common::builder(&server)
        .http_client_builder(reqwest::Client::builder().no_proxy())
        .user_agent("own-client/1")
        .build()
        .expect("valid client");
    let got = collect(client.backups()).await;
    assert_eq!(got.len(), 4);
    assert_eq!(
        server.requests()[0].header("user-agent"),
        Some("own-client/1")
    );

    assert_redirect_elsewhere_is_refused(&client, &server).await;
}

/// A redirect that says nowhere to go is reported, not guessed at.
#[tokio::test]
async fn a_redirect_without_a_location_is_an_error_not_a_guess() {
    let server = server(4).await;
    server.push_response(CannedResponse::text(302, "text/plain", ""));
    let err = client(&server)
        .backups()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("nowhere to go");
    assert_eq!(err.status(), Some(302));
    assert!(err.message().contains("redirect to nowhere"), "{err}");
    assert_eq!(server.request_count(), 1);
}

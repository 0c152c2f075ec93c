//! Huawei Cloud IAM speaks Keystone v3: a Huawei user with a password (an IAM user of an
//! account, not AK/SK) lists VBS backups through the crate's Keystone support, with the
//! `OS_*` settings the README gives. The fake Keystone plays IAM: the account name is the
//! user's domain, and the project is named after the region.
#![cfg(feature = "keystone")]
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use std::sync::Arc;

use common::{ids, truth_ids};
use futures::TryStreamExt;
use vbs_backups::{ApiVersion, OpenStackConfig};
use vbs_backups_testing::{FakeKeystone, FakeProject, FakeServer, FakeUser};

const ACCOUNT: &str = "acme-cloud";
const ACCOUNT_ID: &str = "0d4b1e5f6a7c8d9e0f1a2b3c4d5e6f70";
const REGION: &str = "cn-north-4";

/// A VBS-like volume service and an IAM whose tokens it accepts.
async fn vbs_and_iam() -> (Arc<FakeServer>, FakeKeystone) {
    let volume = Arc::new(
        FakeServer::builder()
            .backups(23)
            .start()
            .await
            .expect("volume server starts"),
    );
    let iam = FakeKeystone::builder()
        .user(FakeUser::new("iam-user-1", "ops-bot", "Iam-P4ss").domain(ACCOUNT_ID, ACCOUNT))
        .project(FakeProject::new(volume.project_id(), REGION).domain(ACCOUNT_ID, ACCOUNT))
        .region(REGION)
        .volume_server(Arc::clone(&volume))
        .start()
        .await
        .expect("iam starts");
    (volume, iam)
}

/// The openrc of a Huawei IAM user: the account as the user's and the project's domain,
/// the region's project, and the region.
fn huawei_openrc(iam: &FakeKeystone) -> Vec<(String, String)> {
    [
        ("OS_AUTH_URL", iam.auth_url()),
        ("OS_USERNAME", "ops-bot".to_owned()),
        ("OS_USER_DOMAIN_NAME", ACCOUNT.to_owned()),
        ("OS_PASSWORD", "Iam-P4ss".to_owned()),
        ("OS_PROJECT_NAME", REGION.to_owned()),
        ("OS_PROJECT_DOMAIN_NAME", ACCOUNT.to_owned()),
        ("OS_REGION_NAME", REGION.to_owned()),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value))
    .collect()
}

#[tokio::test]
async fn an_iam_password_token_lists_vbs_through_an_endpoint_override() {
    let (volume, iam) = vbs_and_iam().await;
    let mut env = huawei_openrc(&iam);
    // VBS is not a Cinder service type in IAM's catalog: the endpoint is given, with the
    // project filled in from the token.
    env.push((
        "OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE".to_owned(),
        format!("{}/v2/%(project_id)s", volume.endpoint()),
    ));
    let client = OpenStackConfig::from_env_vars(env)
        .connect()
        .await
        .expect("IAM authenticates and the client is built");
    assert_eq!(client.project_id(), volume.project_id());
    assert_eq!(client.api_version(), ApiVersion::V2);

    let backups: Vec<_> = client
        .backups()
        .page_size(10)
        .stream()
        .try_collect()
        .await
        .expect("the walk succeeds with IAM's token");
    assert_eq!(ids(&backups), truth_ids(&volume.backups()));

    let issued = iam.issued_tokens();
    assert_eq!(issued.len(), 1, "one token served every page");
    assert_eq!(issued[0].methods, ["password"]);
    assert_eq!(issued[0].user_id, "iam-user-1");
    assert_eq!(
        issued[0].project_id.as_deref(),
        Some(volume.project_id()),
        "scoped to the project named after the region"
    );
    let pages = common::listing_requests(&volume);
    assert_eq!(pages.len(), 3);
    assert!(pages.iter().all(|page| page.path.starts_with("/v2/")));
    assert!(
        pages
            .iter()
            .all(|page| page.auth_token.as_deref() == Some(issued[0].token.as_str()))
    );
}

#[tokio::test]
async fn an_iam_password_token_finds_the_volume_endpoint_in_the_catalog_of_its_region() {
    let (_volume, iam) = vbs_and_iam().await;
    let mut env = huawei_openrc(&iam);
    env.push(("OS_VOLUME_API_VERSION".to_owned(), "2".to_owned()));
    let client = OpenStackConfig::from_env_vars(env)
        .connect()
        .await
        .expect("the catalog has a volume endpoint in the region");
    assert_eq!(client.api_version(), ApiVersion::V2);
    let backups: Vec<_> = client.backups().stream().try_collect().await.expect("walk");
    assert_eq!(backups.len(), 23);
}

#[tokio::test]
async fn the_account_name_is_the_domain_and_a_wrong_one_is_refused_clearly() {
    let (_volume, iam) = vbs_and_iam().await;
    let env: Vec<_> = huawei_openrc(&iam)
        .into_iter()
        .map(|(key, value)| match key.as_str() {
            "OS_USER_DOMAIN_NAME" => (key, "Default".to_owned()),
            _ => (key, value),
        })
        .collect();
    let err = OpenStackConfig::from_env_vars(env)
        .connect()
        .await
        .expect_err("the user is not in the Default domain");
    assert_eq!(err.status(), Some(401));
    let text = err.to_string();
    assert!(
        text.contains("user `ops-bot` in domain `Default`"),
        "{text}"
    );
    assert!(!text.contains("Iam-P4ss"), "{text}");
}

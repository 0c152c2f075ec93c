//! What AK/SK signing tells through `tracing` at debug level: one event per signed
//! attempt with the method, the URL as sent, the signed header names and `X-Sdk-Date`,
//! and never the signature, the secret key or the security token. Alone in its file:
//! tracing caches which callsites are enabled process-wide, so other tests' threads must
//! not race it.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design
#![cfg(feature = "huawei")]

mod common;

use futures::TryStreamExt;
use vbs_backups::huawei::HuaweiConfig;
use vbs_backups_testing::{FakeServer, HuaweiGateway};

const AK: &str = "HPUAFAKEACCESSKEY0001";
const SK: &str = "fake-secret-key-never-logged";
const TOKEN: &str = "fake-security-token-never-logged";

#[tokio::test]
async fn every_signed_attempt_is_logged_without_its_secrets() {
    let logs = common::Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let server = FakeServer::builder()
        .backups(3)
        .huawei(HuaweiGateway::new(AK, SK).security_token(TOKEN))
        .start()
        .await
        .expect("fake server starts");
    let client = HuaweiConfig::new()
        .access_key(AK)
        .secret_key(SK)
        .security_token(TOKEN)
        .region("cn-north-4")
        .iam_endpoint(server.endpoint())
        .endpoint(server.endpoint())
        .connect()
        .await
        .expect("IAM finds the project");
    let backups: Vec<_> = client
        .backups()
        .name("a b")
        .stream()
        .try_collect()
        .await
        .expect("lists");
    assert!(backups.is_empty(), "no backup has that name");

    let text = logs.text();
    let signed: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("signed the request"))
        .collect();
    assert_eq!(signed.len(), 2, "IAM's request and the listing's: {text}");
    assert!(signed[0].contains("/v3/projects?name=cn-north-4"), "{text}");
    let listing = signed[1];
    assert!(
        listing.contains("method=\"GET\"") || listing.contains("method=GET"),
        "{listing}"
    );
    assert!(listing.contains("name=a%20b"), "the URL as sent: {listing}");
    assert!(
        listing.contains("signed_headers=accept;host;x-project-id;x-sdk-date;x-security-token"),
        "{listing}"
    );
    assert!(listing.contains("x_sdk_date=20"), "{listing}");
    assert!(listing.contains("access_key=HPUA…"), "{listing}");
    for secret in [SK, TOKEN, AK, "Signature="] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

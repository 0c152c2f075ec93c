//! The volumes collection (`/volumes/detail`) against the fake server: every volume once, in
//! order, across pages; the filters sent as Cinder takes them; a vanished marker; and a
//! signed walk of Huawei EVS through the gateway.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use futures::TryStreamExt;
use vbs_backups::{ApiVersion, ErrorKind, ListVolumes, Volume};
use vbs_backups_testing::{DELETED_VOLUME_ID, FakeServer, FakeVolume};

async fn server(spare: usize) -> FakeServer {
    FakeServer::builder()
        .backups(50)
        .volumes_without_backups(spare)
        .start()
        .await
        .expect("fake server starts")
}

fn volume_requests(server: &FakeServer) -> Vec<vbs_backups_testing::RecordedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/volumes/detail"))
        .collect()
}

async fn collect(listing: ListVolumes) -> Vec<Volume> {
    listing
        .stream()
        .try_collect()
        .await
        .expect("listing succeeds")
}

fn ids(volumes: &[Volume]) -> Vec<String> {
    volumes.iter().map(|v| v.id.clone()).collect()
}

fn truth(server: &FakeServer, keep: impl Fn(&FakeVolume) -> bool) -> Vec<String> {
    server
        .volumes()
        .into_iter()
        .filter(|v| keep(v))
        .map(|v| v.id)
        .collect()
}

#[tokio::test]
async fn every_volume_once_in_order_across_page_sizes() {
    let server = server(40).await;
    let expected = truth(&server, |_| true);
    assert_eq!(expected.len(), 43);
    for version in [ApiVersion::V2, ApiVersion::V3] {
        let client = common::builder(&server)
            .api_version(version)
            .build()
            .unwrap();
        for page_size in [1, 7, 43, 1000] {
            server.clear_requests();
            let got = collect(client.volumes().page_size(page_size)).await;
            assert_eq!(ids(&got), expected, "page size {page_size}");
            let requests = volume_requests(&server);
            let segment = version.path_segment();
            assert!(requests.iter().all(|request| request.path
                == format!("/{segment}/{}/volumes/detail", server.project_id())));
            // Full pages link on, so a walk ends one request after its last full page.
            assert_eq!(requests.len(), 43 / page_size as usize + 1);
        }
    }
}

#[tokio::test]
async fn the_fields_are_typed_and_the_rest_kept() {
    let server = server(0).await;
    let client = common::client(&server);
    let got = collect(client.volumes()).await;
    let truth = server.volumes();
    assert_eq!(got.len(), 3);
    for (volume, truth) in got.iter().zip(&truth) {
        assert_eq!(volume.id, truth.id);
        assert_eq!(volume.name, truth.name);
        assert_eq!(volume.status, truth.status);
        assert_eq!(volume.size, Some(truth.size));
        assert_eq!(
            volume.availability_zone.as_deref(),
            Some(truth.availability_zone)
        );
        assert_eq!(volume.volume_type.as_deref(), Some(truth.volume_type));
        assert_eq!(volume.metadata, truth.metadata);
        assert!(volume.created_at.is_some());
        assert_eq!(volume.extra["bootable"], "false");
        assert_eq!(volume.links.len(), 2);
    }
    assert!(got.iter().all(|volume| volume.id != DELETED_VOLUME_ID));
}

#[tokio::test]
async fn filters_are_sent_on_every_page_and_match_the_truth() {
    let server = server(30).await;
    let client = common::client(&server);
    let got = collect(client.volumes().status("in-use").page_size(3)).await;
    assert_eq!(ids(&got), truth(&server, |v| v.status == "in-use"));
    let requests = volume_requests(&server);
    assert!(requests.len() > 2);
    assert!(
        requests
            .iter()
            .all(|r| r.param("status").as_deref() == Some("in-use"))
    );

    let got = collect(client.volumes().name("web-root")).await;
    assert_eq!(
        ids(&got),
        truth(&server, |v| v.name.as_deref() == Some("web-root"))
    );

    server.clear_requests();
    let got = collect(
        client
            .volumes()
            .metadata("team", "web")
            .metadata("tier", "gold"),
    )
    .await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].name.as_deref(), Some("web-root"));
    let sent = volume_requests(&server)[0].param("metadata");
    assert_eq!(sent.as_deref(), Some(r#"{"team":"web","tier":"gold"}"#));
    let none = collect(client.volumes().metadata("team", "nobody")).await;
    assert!(none.is_empty());
}

#[tokio::test]
async fn a_server_refusal_ends_the_walk_with_its_message() {
    let server = server(0).await;
    let client = common::builder(&server)
        .project_id("someone-else")
        .build()
        .unwrap();
    let err = client
        .volumes()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.kind(), ErrorKind::Api);
    assert!(err.to_string().contains("Malformed request url"), "{err}");
}

#[cfg(feature = "huawei")]
#[tokio::test]
async fn a_signed_walk_of_huawei_evs_through_the_gateway() {
    use vbs_backups::huawei::{HuaweiConfig, Service};
    use vbs_backups_testing::HuaweiGateway;

    const AK: &str = "HPUAEXAMPLEKEY00001";
    const SK: &str = "example-secret-key-for-tests";
    let server = FakeServer::builder()
        .backups(20)
        .volumes_without_backups(25)
        .huawei(HuaweiGateway::new(AK, SK))
        .start()
        .await
        .expect("fake server starts");
    let env = vec![
        ("HUAWEICLOUD_SDK_AK".to_owned(), AK.to_owned()),
        ("HUAWEICLOUD_SDK_SK".to_owned(), SK.to_owned()),
        ("HUAWEICLOUD_SDK_IAM_ENDPOINT".to_owned(), server.endpoint()),
        (
            "HUAWEICLOUD_SDK_REGION_EVS_CN_NORTH_4".to_owned(),
            server.endpoint(),
        ),
    ];
    let client = HuaweiConfig::from_env_vars(env)
        .region("cn-north-4")
        .service(Service::Evs)
        .connect()
        .await
        .expect("connects");
    assert_eq!(client.api_version(), ApiVersion::V3);
    let got = collect(client.volumes().page_size(4)).await;
    assert_eq!(ids(&got), truth(&server, |_| true));
    assert!(server.signatures_verified() > 7);
    assert_eq!(server.signatures_refused(), 0);
}

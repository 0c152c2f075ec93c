//! `HuaweiConfig::project_clients`: from one IAM listing, each chosen project of the
//! account with a client per service asked for, EVS included, each signing for its
//! project at its region's endpoint, against the fake multi-region account.
#![cfg(feature = "huawei")]
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

use futures::TryStreamExt;
use vbs_backups::huawei::{HuaweiConfig, Service};
use vbs_backups_testing::FakeAccount;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_chosen_project_gets_its_evs_vbs_and_cbr_clients_from_one_iam_request() {
    let account = FakeAccount::builder()
        .regions(2)
        .backups(4)
        .start()
        .await
        .unwrap();
    let found = HuaweiConfig::from_env_vars(account.env())
        .project_clients(&[], &[Service::Evs, Service::Vbs, Service::Cbr])
        .await
        .unwrap();
    let names: Vec<(&str, &str)> = found
        .projects
        .iter()
        .map(|chosen| (chosen.region.as_str(), chosen.project.name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("cn-north-4", "cn-north-4"),
            ("cn-east-3", "cn-east-3"),
            ("cn-north-4", "cn-north-4_prod")
        ]
    );
    assert_eq!(found.skipped.len(), 2, "MOS and the disabled project");
    assert_eq!(account.iam().request_count(), 1);
    for chosen in &found.projects {
        let served = account
            .volume_scopes()
            .iter()
            .find(|scope| scope.project.id == chosen.project.id)
            .unwrap();
        let evs = chosen.client(Service::Evs).unwrap();
        assert_eq!(evs.project_id(), chosen.project.id);
        let volumes: Vec<String> = evs
            .volumes()
            .stream()
            .map_ok(|volume| volume.id)
            .try_collect()
            .await
            .unwrap();
        let expected: Vec<String> = served.server.volumes().into_iter().map(|v| v.id).collect();
        assert_eq!(volumes, expected, "{}", chosen.project.name);
        let order: Vec<Service> = chosen.clients.iter().map(|(service, _)| *service).collect();
        assert_eq!(order, [Service::Evs, Service::Vbs, Service::Cbr]);
        let vbs = chosen.client(Service::Vbs).unwrap();
        let backups = vbs
            .backups()
            .stream()
            .try_collect::<Vec<_>>()
            .await
            .unwrap();
        assert_eq!(backups.len(), 4);
    }
    let signed: u64 = account
        .volume_scopes()
        .iter()
        .map(|scope| scope.server.signatures_verified())
        .sum();
    assert_eq!(signed, 3, "every volumes page signed and verified");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_endpoint_is_refused_for_more_than_one_client() {
    let account = FakeAccount::builder().regions(1).start().await.unwrap();
    let err = HuaweiConfig::from_env_vars(account.env())
        .endpoint("http://127.0.0.1:9")
        .project_clients(&["cn-north-4".to_owned()], &[Service::Evs, Service::Vbs])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("explicit endpoint"), "{err}");
}

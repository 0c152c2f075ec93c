//! Huawei Cloud with AK/SK, against the embedded fake server's API gateway (which
//! verifies every signature), or against the real cloud.
//!
//! ```text
//! cargo run --example huawei --features huawei
//! ```
//!
//! With `HUAWEICLOUD_SDK_AK` and `HUAWEICLOUD_SDK_SK` (or `~/.huaweicloud/credentials`)
//! and `HW_REGION_NAME` set, it lists the VBS backups of that region instead.

use futures::TryStreamExt;
use vbs_backups::huawei::HuaweiConfig;
use vbs_backups_testing::{FakeServer, HuaweiGateway};

const AK: &str = "HPUAFAKEACCESSKEY0001";
const SK: &str = "fake-secret-key";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let real = HuaweiConfig::load()?;
    if real.credentials().is_ok() && real.region_name().is_some() {
        let client = real.connect().await?;
        let backups: Vec<_> = client.backups().stream().try_collect().await?;
        println!(
            "{} backups in project {}",
            backups.len(),
            client.project_id()
        );
        return Ok(());
    }

    // A gateway whose clock runs 20 minutes ahead of this machine's, and that throttles.
    let server = FakeServer::builder()
        .backups(1200)
        .huawei(HuaweiGateway::new(AK, SK).clock_offset_secs(20 * 60))
        .start()
        .await?;
    server.throttle_next(1);
    println!("fake Huawei API gateway and IAM on {}", server.endpoint());
    // What a user sets; the two endpoint variables point IAM and VBS at the fake.
    let env = [
        ("HUAWEICLOUD_SDK_AK", AK.to_owned()),
        ("HUAWEICLOUD_SDK_SK", SK.to_owned()),
        ("HUAWEICLOUD_SDK_IAM_ENDPOINT", server.endpoint()),
        ("HUAWEICLOUD_SDK_REGION_VBS_CN_NORTH_4", server.endpoint()),
        ("HW_REGION_NAME", "cn-north-4".to_owned()),
    ];

    let client = HuaweiConfig::from_env_vars(env.clone()).connect().await?;
    println!("project of cn-north-4, from IAM: {}", client.project_id());
    let backups: Vec<_> = client
        .backups()
        .page_size(500)
        .stream()
        .try_collect()
        .await?;
    println!(
        "{} backups in {} signed requests: {} verified by the gateway (1 of them throttled, \
         then retried), {} refused (the skewed clock, corrected once)",
        backups.len(),
        server.request_count(),
        server.signatures_verified(),
        server.signatures_refused(),
    );
    let last = server.requests().pop().ok_or("no request")?;
    println!(
        "last request: GET {}?{}",
        last.path,
        last.raw_query.as_deref().unwrap_or_default()
    );
    for name in ["x-sdk-date", "x-project-id"] {
        println!("  {name}: {}", last.header(name).unwrap_or("-"));
    }
    if let Some(authorization) = last.header("authorization") {
        let (head, _signature) = authorization.split_once("Signature=").unwrap_or_default();
        println!("  authorization: {head}Signature=…");
    }

    // A wrong secret key: one request, no retry, and a hint.
    let mut wrong = env.to_vec();
    wrong[1].1 = "not-the-secret-key".to_owned();
    server.set_clock_offset_secs(0);
    server.clear_requests();
    let err = HuaweiConfig::from_env_vars(wrong)
        .connect()
        .await
        .err()
        .ok_or("accepted?")?;
    println!(
        "\nwith a wrong SK, {} request:\nerror: {err}",
        server.request_count()
    );
    Ok(())
}

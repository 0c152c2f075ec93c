//! The README's cleanup pipeline through the built command: list the old backups as
//! NDJSON, pick the ids with jq, delete them 20 at a time with xargs while the listing
//! goes on. Against the fake server, whose `DELETE` really removes the backup.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use std::collections::HashSet;
use std::process::Command;

use common::serve;
use vbs_backups_testing::FakeServer;

const BIN: &str = env!("CARGO_BIN_EXE_vbs-backups");

/// `<delete>` of the README's pipeline, for the fake server: Cinder's `DELETE` of each id.
const DELETE: &str = r#"for id; do curl -sSf -X DELETE -H "X-Auth-Token: $TOKEN" "$BASE/backups/$id" || exit 255; done"#;

#[test]
fn the_readme_pipeline_deletes_every_old_backup_once_and_keeps_the_rest() {
    for page_size in ["1", "10", "1000"] {
        let served = serve(FakeServer::builder().backups(120));
        let server = &served.server;
        let backups = server.backups_sorted("created_at:asc").unwrap();
        let bound = format!("{}Z", backups[70].created_at);
        let old: Vec<String> = backups
            .iter()
            .filter(|b| format!("{}Z", b.created_at) < bound)
            .map(|b| b.id.clone())
            .collect();
        let pipeline = format!(
            "\"$VBS\" list --endpoint \"$ENDPOINT\" --project-id \"$PROJECT\" \
             --page-size {page_size} --created-before \"$BOUND\" --format ndjson \
             | jq -r .id | xargs -n 20 sh -c '{DELETE}' sh"
        );
        let base = format!("{}/v2/{}", server.endpoint(), server.project_id());
        let output = Command::new("bash")
            .args(["-o", "pipefail", "-c", &pipeline])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("VBS", BIN)
            .env("ENDPOINT", server.endpoint())
            .env("PROJECT", server.project_id())
            .env("OS_AUTH_TOKEN", server.token().unwrap())
            .env("TOKEN", server.token().unwrap())
            .env("BASE", base)
            .env("BOUND", &bound)
            .output()
            .expect("bash runs the pipeline");
        assert!(
            output.status.success(),
            "page size {page_size}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let left: HashSet<String> = server.backups().into_iter().map(|b| b.id).collect();
        let expected: HashSet<String> = backups
            .iter()
            .map(|b| b.id.clone())
            .filter(|id| !old.contains(id))
            .collect();
        assert_eq!(
            left, expected,
            "page size {page_size}: every old backup gone, the rest kept"
        );
        let deletes = server
            .requests()
            .into_iter()
            .filter(|request| request.method == "DELETE")
            .count();
        assert_eq!(
            deletes,
            old.len(),
            "page size {page_size}: each deleted once"
        );
    }
}

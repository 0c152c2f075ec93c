//! `list --resume` / `--resume-file`: what the token decides, what the flags may still
//! say, and how a resumed run that fails says how to go on.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use common::{Run, forbid_after, serve, vbs};
use vbs_backups_testing::FakeServer;

#[test]
fn a_token_decides_the_projects_so_whole_cloud_flags_beside_it_are_a_usage_error() {
    let served = serve(FakeServer::builder().backups(12).other_projects(2, 5));
    let other = served.server.other_project_ids()[0].clone();
    forbid_after(&served, 1);
    let whole = Run::of(vbs().arg("list").args(served.flags()).args([
        "--api-version",
        "3.18",
        "--all-projects",
        "--page-size",
        "5",
        "--format",
        "ndjson",
    ]));
    assert_eq!(whole.code, Some(1), "{}", whole.stderr);
    let whole_token = whole.resume_token();
    forbid_after(&served, 1);
    let own = Run::of(vbs().arg("list").args(served.flags()).args([
        "--api-version",
        "3.18",
        "--page-size",
        "5",
        "--format",
        "ndjson",
    ]));
    assert_eq!(own.code, Some(1), "{}", own.stderr);
    let own_token = own.resume_token();
    served.server.clear_requests();
    for (token, flags) in [
        (&own_token, vec!["--all-projects"]),
        (&own_token, vec!["--project-filter", other.as_str()]),
        (&whole_token, vec!["--project-filter", other.as_str()]),
        (&whole_token, vec!["--all-projects"]),
    ] {
        let run = Run::of(
            vbs()
                .arg("list")
                .args(served.flags())
                .args(["--api-version", "3.18", "--resume", token])
                .args(&flags),
        );
        assert_eq!(run.code, Some(2), "{flags:?}: {}", run.stderr);
        assert!(run.stderr.contains(flags[0]), "{flags:?}: {}", run.stderr);
        assert_eq!(run.stdout, "");
    }
    assert!(served.server.requests().is_empty(), "nothing was listed");
}

#[test]
fn detail_with_a_token_of_ids_and_names_is_refused_with_a_hint_about_detail() {
    let served = serve(FakeServer::builder().backups(20));
    forbid_after(&served, 1);
    let run = Run::of(vbs().arg("list").args(served.flags()).args([
        "--page-size",
        "5",
        "--format",
        "ndjson",
    ]));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let token = run.resume_token();
    for extra in [vec!["--detail"], vec!["--fields", "id,status"]] {
        let refused = Run::of(
            vbs()
                .arg("list")
                .args(served.flags())
                .args(["--resume", &token])
                .args(&extra),
        );
        assert_eq!(refused.code, Some(1), "{}", refused.stderr);
        let lines: Vec<&str> = refused.stderr.lines().collect();
        assert_eq!(lines.len(), 2, "{}", refused.stderr);
        assert!(lines[0].starts_with("error: "), "{}", refused.stderr);
        assert!(
            lines[1].starts_with("hint: ") && lines[1].contains(extra[0]),
            "{extra:?}: {}",
            refused.stderr
        );
        assert!(
            !lines[1].contains("OS_") && !lines[1].contains("clouds.yaml"),
            "not the settings hint: {}",
            refused.stderr
        );
    }
}

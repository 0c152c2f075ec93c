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

#[test]
fn a_resumed_run_that_fails_before_printing_anything_still_says_how_to_continue() {
    let served = serve(FakeServer::builder().backups(23));
    let truth: Vec<String> = served.server.backups().into_iter().map(|b| b.id).collect();
    forbid_after(&served, 2);
    let first = Run::of(vbs().arg("list").args(served.flags()).args([
        "--page-size",
        "5",
        "--format",
        "ndjson",
    ]));
    assert_eq!(first.code, Some(1), "{}", first.stderr);
    let token = first.resume_token();

    // The resumed run fails at its first request: nothing printed, but the way on is.
    forbid_after(&served, 0);
    let again = Run::of(
        vbs()
            .arg("list")
            .args(served.flags())
            .args(["--format", "ndjson", "--resume", &token]),
    );
    assert_eq!(again.code, Some(1), "{}", again.stderr);
    assert_eq!(again.stdout, "");
    let words = again.resume_words();

    // The same from a token file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("resume.token");
    std::fs::write(&file, &token).unwrap();
    forbid_after(&served, 0);
    let from_file = Run::of(
        vbs()
            .arg("list")
            .args(served.flags())
            .args(["--format", "ndjson", "--resume-file"])
            .arg(&file),
    );
    assert_eq!(from_file.code, Some(1), "{}", from_file.stderr);
    assert_eq!(from_file.resume_token(), again.resume_token());

    let rest = Run::ok(
        vbs()
            .args(&words)
            .env("OS_AUTH_TOKEN", served.server.token().unwrap()),
    );
    assert_eq!([first.ids(), rest.ids()].concat(), truth);
}

//! What the command says to people: every `error:` and `hint:` line and every help text
//! is one clean line of prose, and server text in them cannot reorder or hide what the
//! terminal shows.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use common::{Run, forbid_after, serve, vbs};
use vbs_backups_testing::{CannedResponse, FakeServer, Quirk};

/// A run of two or more spaces between words of `line` (indentation aside).
fn inner_space_run(line: &str) -> bool {
    line.trim().contains("  ")
}

/// The `error:` and `hint:` lines of a run's stderr.
fn message_lines(run: &Run) -> Vec<String> {
    run.stderr
        .lines()
        .filter(|line| line.starts_with("error:") || line.starts_with("hint:"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_error_and_hint_line_the_command_can_be_led_to_is_one_clean_line() {
    let served = serve(FakeServer::builder().backups(12).other_projects(1, 2));
    forbid_after(&served, 1);
    let interrupted = Run::of(vbs().arg("list").args(served.flags()).args([
        "--page-size",
        "5",
        "--format",
        "ndjson",
    ]));
    let token = interrupted.resume_token();
    let flags = served.flags();
    let with = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["list".to_owned()];
        args.extend(flags.iter().cloned());
        args.extend(extra.iter().map(|word| (*word).to_owned()));
        args
    };
    let runs: Vec<Vec<String>> = vec![
        with(&["--all-projects"]),
        with(&["--project-filter", "p"]),
        with(&["--fields", "id,bogus"]),
        with(&["--fields", "id,id"]),
        with(&["--fields", ""]),
        with(&["--resume", "not-a-token"]),
        with(&["--resume", &token, "--detail"]),
        with(&["--after", "no-such-backup"]),
        with(&["--service", "cbr", "--volume-id", "v"]),
        with(&["--status", "a", "--status", "b"]),
        with(&["--count"]),
        vec!["list".into()],
        vec!["stats".into(), "--all-projects".into()],
        vec!["stats".into(), "--service".into(), "cbr".into()],
        vec![
            "list".into(),
            "--token".into(),
            "t".into(),
            "--endpoint".into(),
            "http://127.0.0.1:9".into(),
        ],
    ];
    let mut seen = 0;
    for args in &runs {
        let run = Run::of(vbs().args(args));
        for line in message_lines(&run) {
            seen += 1;
            assert!(!inner_space_run(&line), "{args:?}: {line:?}");
        }
    }
    // Also the interrupted walk's own error and hint.
    for line in message_lines(&interrupted) {
        assert!(!inner_space_run(&line), "{line:?}");
    }
    assert!(seen >= runs.len(), "every run said something: {seen}");
}

#[test]
fn every_help_text_is_prose_without_runs_of_spaces() {
    for args in [
        vec!["--help"],
        vec!["list", "--help"],
        vec!["stats", "--help"],
        vec!["demo", "--help"],
        vec!["completions", "--help"],
    ] {
        let help = Run::ok(vbs().args(&args)).stdout;
        let mut in_commands = false;
        for line in help.lines() {
            // The list of subcommands is a table: its columns are aligned with spaces.
            if line.ends_with(':') {
                in_commands = line == "Commands:";
                continue;
            }
            if in_commands {
                continue;
            }
            // clap aligns the descriptions of a flag's possible values (`- table:  …`).
            let line = match line.trim_start().strip_prefix("- ") {
                Some(value) => value.split_once(':').map_or(value, |(_, text)| text),
                None => line,
            };
            assert!(!inner_space_run(line), "{args:?}: {line:?}");
        }
    }
}

#[test]
fn invisible_and_bidi_characters_in_a_servers_error_are_shown_escaped() {
    let served = serve(FakeServer::builder().backups(3));
    served.server.push_response(CannedResponse::json(
        403,
        r#"{"forbidden": {"code": 403, "message": "Policy\u200b doesn't allow \u202eexe.txt\u2066"}}"#,
    ));
    let run = Run::of(vbs().arg("list").args(served.flags()));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    for hidden in ['\u{200b}', '\u{202e}', '\u{2066}'] {
        assert!(
            !run.stderr.contains(hidden),
            "{hidden:?} in {:?}",
            run.stderr
        );
    }
    assert!(
        run.stderr
            .contains("Policy\\u{200b} doesn't allow \\u{202e}exe.txt\\u{2066}"),
        "{}",
        run.stderr
    );
}

/// The `hint:` line of a failed run.
fn hint_line(run: &Run) -> String {
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    run.stderr
        .lines()
        .find_map(|line| line.strip_prefix("hint: "))
        .unwrap_or_else(|| panic!("no hint in {}", run.stderr))
        .to_owned()
}

#[test]
fn each_failure_of_a_walk_gets_the_hint_that_fits_it() {
    // An age window against a server that ignored the sort: nothing about loops.
    let served = serve(FakeServer::builder().backups(0));
    let newest_first = r#"{"backups": [
        {"id": "b2", "status": "available", "created_at": "2024-01-02T00:00:00.000000"},
        {"id": "b1", "status": "available", "created_at": "2024-01-01T00:00:00.000000"}
    ]}"#;
    served
        .server
        .push_response(CannedResponse::json(200, newest_first));
    let window = hint_line(&Run::of(
        vbs()
            .arg("list")
            .args(served.flags())
            .args(["--created-before", "2030-01-01T00:00:00Z"]),
    ));
    assert!(window.contains("--created-before"), "{window}");
    assert!(!window.contains("loop"), "{window}");

    // Next links that loop: a server bug, for the operator.
    let served = serve(FakeServer::builder().backups(30).quirk(Quirk::RepeatMarker));
    let looping = hint_line(&Run::of(vbs().arg("list").args(served.flags()).args([
        "--page-size",
        "5",
        "--format",
        "ndjson",
    ])));
    assert!(looping.contains("operator"), "{looping}");

    // A non-admin's whole-cloud listing: about admin credentials, not every setting.
    let served = serve(
        FakeServer::builder()
            .backups(5)
            .other_projects(1, 2)
            .non_admin(),
    );
    let not_admin = hint_line(&Run::of(vbs().arg("list").args(served.flags()).args([
        "--api-version",
        "3.18",
        "--all-projects",
    ])));
    assert!(not_admin.contains("admin"), "{not_admin}");
    assert!(!not_admin.contains("clouds.yaml"), "{not_admin}");
}

//! What the command says on stderr: errors in one line with a hint of what to check, and
//! the command that resumes an interrupted listing.

use std::fmt::Write as _;
use std::io::Write as _;

use vbs_backups::{Cursor, Error, ErrorKind};

use crate::args::{GlobalArgs, ListArgs, Service};

/// Writes one line to stderr. A closed stderr is no reason to fail (or panic, as
/// `eprintln!` would).
pub fn stderr_line(line: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// `error: <message>` and, on a second line, `hint: <what to check>` when there is one.
///
/// `after` is the `--after` of the listing, to tell a missing marker from a wrong endpoint.
pub fn error(err: &Error, after: Option<&str>) {
    stderr_line(format_args!(
        "error: {}",
        crate::output::printable(&one_line(err))
    ));
    // The library's own hint (a refused AK/SK signature, a clock skew with both clocks)
    // knows more than the status alone.
    let hint = err
        .hint()
        .map(|hint| hint.replace(['\n', '\r'], " "))
        .or_else(|| hint(err, after).map(str::to_owned));
    if let Some(hint) = hint {
        stderr_line(format_args!("hint: {}", crate::output::printable(&hint)));
    }
}

/// The error's message, plus the innermost cause for failures below HTTP (the operating
/// system's "Connection refused", the certificate problem), on one line.
pub fn one_line(err: &Error) -> String {
    let mut line = err.to_string();
    // `Display` ends with the hint, which has a line of its own.
    if let Some(hint) = err.hint() {
        if let Some(message) = line.strip_suffix(&format!("; {hint}")) {
            line = message.to_owned();
        }
    }
    if err.kind() != ErrorKind::Api {
        let mut cause = std::error::Error::source(err);
        let mut innermost = None;
        while let Some(current) = cause {
            innermost = Some(current);
            cause = current.source();
        }
        if let Some(innermost) = innermost {
            let text = innermost.to_string();
            if !text.is_empty() && !line.contains(&text) {
                let _ = write!(line, " ({text})");
            }
        }
    }
    line.replace(['\n', '\r'], " ")
}

/// What to check for this error, if anything useful can be said.
pub fn hint(err: &Error, after: Option<&str>) -> Option<&'static str> {
    let names_marker =
        after.is_some_and(|after| !after.is_empty() && err.message().contains(after));
    Some(match (err.kind(), err.status()) {
        (ErrorKind::Api, Some(404 | 400)) if names_marker => {
            "the backup given to --after does not exist (any more): list without --after, or \
             start after a backup that still exists"
        }
        (ErrorKind::Api, Some(401)) => {
            "the credentials were refused: check --token / OS_AUTH_TOKEN (tokens expire), or \
             OS_AUTH_URL with OS_USERNAME / OS_USER_ID, OS_PASSWORD or \
             OS_APPLICATION_CREDENTIAL_ID and _SECRET (or the --os-cloud entry)"
        }
        (ErrorKind::Api, Some(403)) => {
            "authenticated, but not allowed: check that the token is scoped to the project \
             (--project-id / OS_PROJECT_ID) and that its role may list backups"
        }
        (ErrorKind::Api, Some(404)) => {
            "check the endpoint (--endpoint / OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE, or the \
             catalog), the project id (--project-id / OS_PROJECT_ID) and the API version \
             (--api-version / OS_VOLUME_API_VERSION: VBS serves v2, Cinder v3)"
        }
        (ErrorKind::Api, Some(400)) => {
            "the server refused the request: check the filters, and that --project-id / \
             OS_PROJECT_ID is the project of the token"
        }
        (ErrorKind::Api, Some(429 | 500..=599)) => {
            "the service kept failing after several retries: try again later"
        }
        (ErrorKind::Tls, _) => {
            "the server's certificate is not trusted: point OS_CACERT (or cacert in \
             clouds.yaml) at the PEM file of its CA"
        }
        (ErrorKind::Timeout, _) => {
            "the server did not answer in time: try again, or raise --timeout (api_timeout \
             in clouds.yaml)"
        }
        (ErrorKind::Transport, _) => {
            "check that the endpoint or OS_AUTH_URL is right and reachable from here \
             (network, proxy: HTTPS_PROXY / NO_PROXY)"
        }
        (ErrorKind::Config, _) if err.message().contains("ignored all_tenants") => {
            "--all-projects and --project-filter need admin credentials: Cinder shows other \
             projects' backups, and which project each belongs to, only to admins"
        }
        (ErrorKind::Config, _) => {
            "every setting can come from a flag, an OS_* variable, or the clouds.yaml entry \
             named by --os-cloud / OS_CLOUD (flags win over variables over clouds.yaml); for \
             Huawei Cloud AK/SK, HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (or \
             ~/.huaweicloud/credentials) with --region; `vbs-backups demo` needs none of them"
        }
        (ErrorKind::Decode, _) => {
            "the endpoint answered with something other than a backup list: check that it is \
             the block storage service (--endpoint or the catalog) and the API version"
        }
        (ErrorKind::Pagination, _) => return Some(pagination_hint(err.message())),
        _ => return None,
    })
}

/// What to check when the walk cannot go on through the server's pages.
fn pagination_hint(message: &str) -> &'static str {
    if message.contains("vanished") {
        "backups were deleted while they were listed: continue with the command below, \
         which resumes from where the walk stood (for cleanup jobs, see \"Cleanup jobs\" in \
         the README)"
    } else if message.contains("order") {
        "the server did not sort as the age window asked, so the walk cannot stop at the \
         bound: list without --created-before / --created-after and filter on created_at \
         (for example with jq)"
    } else {
        "the server's pages do not add up (a next link that loops, a page sent twice), a \
         server bug: quote the request id to the cloud's operator"
    }
}

/// `vbs-backups list … --resume <token>`: the listing continued from `cursor`, which
/// holds its filters, page size, what `--max-items` still allows and the ids to step
/// back to if the last backup listed is deleted meanwhile; with the connection flags
/// given on the command line (never the token) and the output flags.
pub fn resume_command(global: &GlobalArgs, list: &ListArgs, cursor: &Cursor) -> String {
    let resumed = ListArgs {
        prefetch: list.prefetch,
        // The token holds a whole-cloud listing's filters, not that it is one of details.
        detail: list.wants_detail(),
        format: list.format,
        csv_raw: list.csv_raw,
        fields: list.fields.clone(),
        resume: Some(cursor.to_string()),
        ..ListArgs::default()
    };
    command_line(global, None, &resumed)
}

/// `vbs-backups list` with the flags of `global` (but `--token` only as `token` says) and
/// `list`, quoted for a POSIX shell.
pub fn command_line(global: &GlobalArgs, token: Option<&str>, list: &ListArgs) -> String {
    let number = |n: Option<u64>| n.map(|n| n.to_string());
    let statuses = list
        .status
        .iter()
        .map(|status| ("--status", Some(status.clone())));
    let valued = [
        ("--os-cloud", global.os_cloud().cloned()),
        ("--endpoint", global.endpoint.clone()),
        ("--project-id", global.project_id.clone()),
        ("--region", global.region.clone()),
        (
            "--service",
            (global.service() != Service::default()).then(|| global.service().as_str().to_owned()),
        ),
        ("--token", token.map(str::to_owned)),
        ("--api-version", global.api_version.clone()),
        ("--timeout", global.timeout.as_ref().map(|t| t.text.clone())),
    ];
    let filters = [
        ("--name", list.name.clone()),
        ("--volume-id", list.volume_id.clone()),
        ("--vault-id", list.vault_id.clone()),
        ("--resource-id", list.resource_id.clone()),
        ("--resource-type", list.resource_type.clone()),
        ("--offset", number(list.offset)),
        ("--page-size", number(list.page_size.map(u64::from))),
        ("--max-items", number(list.max_items)),
        ("--prefetch", list.prefetch.map(|n| n.to_string())),
        ("--format", list.format.map(|f| f.as_str().to_owned())),
        (
            "--fields",
            list.fields.as_ref().map(|fields| fields.join(",")),
        ),
        (
            "--created-before",
            list.created_before.map(|when| when.0.to_string()),
        ),
        (
            "--created-after",
            list.created_after.map(|when| when.0.to_string()),
        ),
    ];
    let switches = [
        ("--detail", list.detail),
        ("--count", list.count),
        ("--csv-raw", list.csv_raw),
    ];
    let mut words = vec!["vbs-backups".to_owned(), "list".to_owned()];
    for (flag, value) in valued.into_iter().chain(statuses).chain(filters) {
        if let Some(value) = value {
            words.push(flag.to_owned());
            words.push(quote(&value));
        }
    }
    for (flag, on) in switches {
        if on {
            words.push(flag.to_owned());
        }
    }
    if let Some(after) = &list.after {
        words.push("--after".to_owned());
        words.push(quote(after));
    }
    if let Some(token) = &list.resume {
        words.push("--resume".to_owned());
        words.push(quote(token));
    }
    words.join(" ")
}

/// A word as a POSIX shell reads it back: as is when it is plain, else single-quoted.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{Format, Timeout};

    #[test]
    fn words_are_quoted_for_the_shell() {
        assert_eq!(quote("b3cf7a16-decc"), "b3cf7a16-decc");
        assert_eq!(
            quote("http://h:1/v3/%(project_id)s"),
            "'http://h:1/v3/%(project_id)s'"
        );
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn the_resume_command_keeps_the_connection_and_output_flags_but_not_the_token() {
        let global = GlobalArgs {
            endpoint: Some("http://127.0.0.1:8776".into()),
            token: Some("secret".into()),
            timeout: Some(Timeout {
                duration: std::time::Duration::from_secs(5),
                text: "5s".into(),
            }),
            ..GlobalArgs::default()
        };
        let list = ListArgs {
            status: vec!["available".into()],
            name: Some("nightly db".into()),
            offset: Some(10),
            max_items: Some(100),
            format: Some(Format::Csv),
            detail: true,
            ..ListArgs::default()
        };
        let cursor: Cursor = serde_json::from_value(serde_json::json!({
            "format": 1, "project_id": "p", "api_version": "v2", "collection": "backups/detail",
            "filters": [["status", "available"]], "page_size": 10, "after": "b-40",
        }))
        .unwrap();
        assert_eq!(
            resume_command(&global, &list, &cursor),
            format!(
                "vbs-backups list --endpoint http://127.0.0.1:8776 --timeout 5s --format csv \
                 --detail --resume {cursor}"
            )
        );
    }
}

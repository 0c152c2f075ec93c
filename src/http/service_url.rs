//! The URL of a service the user named (a volume endpoint, Keystone's or IAM's), checked
//! once, the same way for all of them.

use url::Url;

use crate::error::{Error, Result, url_for_message};

/// `given` as a service URL: `http` or `https`, with a host, and without user info,
/// query or fragment (credentials travel in headers, never in the URL). Returns the URL
/// and its non-empty path segments. Errors name it as `what` and never echo its user
/// info or query.
pub(crate) fn parse_service_url(given: &str, what: &str) -> Result<(Url, Vec<String>)> {
    let given = given.trim();
    let shown = url_for_message(given);
    let url = Url::parse(given)
        .map_err(|err| Error::config(format!("{what} `{shown}` is not a URL: {err}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::config(format!(
            "{what} `{shown}` must use http or https, not `{}`",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::config(format!("{what} `{shown}` has no host")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(format!(
            "the {what} must not carry credentials: give them to the client instead"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(format!(
            "{what} `{shown}` must not have a query or fragment"
        )));
    }
    let segments = url
        .path_segments()
        .into_iter()
        .flatten()
        .filter(|segment| !segment.is_empty())
        .map(str::to_owned)
        .collect();
    Ok((url, segments))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(given: &str) -> String {
        match parse_service_url(given, "endpoint") {
            Ok((url, _)) => panic!("{given} accepted as {url}"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn only_plain_http_urls_with_a_host_are_services() {
        let (url, segments) = parse_service_url(" http://h:1//a/b/ ", "endpoint")
            .unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(url.as_str(), "http://h:1//a/b/");
        assert_eq!(segments, ["a", "b"]);
        assert!(refusal("not a url").contains("not a URL"));
        assert!(refusal("ftp://h").contains("http or https"));
        assert!(refusal("http://u:s3cret@h").contains("credentials"));
        assert!(!refusal("http://u:s3cret@h").contains("s3cret"));
        let query = refusal("http://h/?X-Auth-Token=t0k");
        assert!(query.contains("query") && !query.contains("t0k"), "{query}");
    }
}

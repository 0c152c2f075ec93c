//! Where the service is: an endpoint string made into the project URL the listings
//! hang off, and the microversion asked for.

use reqwest::header::HeaderValue;
use url::Url;

use crate::error::{Error, Result, url_for_message};
use crate::http::parse_service_url;
use crate::model::ApiVersion;

/// An endpoint string turned into the project URL the listings hang off.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct ResolvedEndpoint {
    pub(super) project_url: Url,
    pub(super) api_version: ApiVersion,
    pub(super) project_id: String,
}

impl ResolvedEndpoint {
    pub(super) fn parse(
        endpoint: &str,
        project_id: Option<String>,
        api_version: Option<ApiVersion>,
    ) -> Result<Self> {
        let (mut url, mut segments) = parse_service_url(endpoint, "endpoint")?;
        // Messages show the endpoint without user info, query or fragment: never a credential.
        let endpoint = url_for_message(endpoint.trim());
        let endpoint = endpoint.as_str();

        // A catalog URL ends in `/v2/{project_id}`; a versioned root in `/v2`.
        let mut from_url: Option<(ApiVersion, Option<String>)> = None;
        if let Some(version) = segments
            .last()
            .and_then(|s| ApiVersion::from_path_segment(s))
        {
            segments.pop();
            from_url = Some((version, None));
        } else if let [.., version, project] = segments.as_slice() {
            if let Some(version) = ApiVersion::from_path_segment(version) {
                from_url = Some((version, Some(project.clone())));
                segments.truncate(segments.len() - 2);
            }
        }

        let (url_version, url_project) =
            from_url.unwrap_or((api_version.unwrap_or_default(), None));
        if let Some(explicit) = api_version.filter(|explicit| *explicit != url_version) {
            return Err(Error::config(format!(
                "endpoint `{endpoint}` is a {} URL but api_version is {}",
                url_version.path_segment(),
                explicit.path_segment()
            )));
        }
        let project_id = match (project_id, url_project) {
            (Some(explicit), Some(in_url)) if explicit.trim() != in_url => {
                return Err(Error::config(format!(
                    "endpoint `{endpoint}` names project `{in_url}` but project_id is `{}`",
                    explicit.trim()
                )));
            }
            (Some(explicit), _) => explicit.trim().to_owned(),
            (None, Some(in_url)) => in_url,
            (None, None) => {
                return Err(Error::config(
                    "no project id: call ClientBuilder::project_id or use an endpoint ending in /v2/{project_id}",
                ));
            }
        };
        validate_project_id(&project_id)?;

        let mut path = String::new();
        for segment in &segments {
            path.push('/');
            path.push_str(segment);
        }
        path.push('/');
        path.push_str(url_version.path_segment());
        path.push('/');
        path.push_str(&project_id);
        path.push('/');
        url.set_path(&path);
        Ok(Self {
            project_url: url,
            api_version: url_version,
            project_id,
        })
    }
}

/// Project ids are Keystone ids (32 hex digits) or admin-chosen names; anything
/// that would change the URL's meaning is refused rather than escaped.
fn validate_project_id(project_id: &str) -> Result<()> {
    if project_id.is_empty() {
        return Err(Error::config("the project id is empty"));
    }
    if project_id.chars().all(|c| c == '.') {
        return Err(Error::config(format!(
            "project id `{project_id}` would be read as a path step, not a project"
        )));
    }
    if let Some(bad) = project_id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~')))
    {
        return Err(Error::config(format!(
            "project id `{project_id}` contains `{bad}`: only letters, digits, `-`, `_`, `.` and `~` are allowed"
        )));
    }
    Ok(())
}

/// Reads `"3.45"` as (3, 45) with its header; microversions exist only in v3.
pub(super) fn parse_microversion(
    text: &str,
    api_version: ApiVersion,
) -> Result<((u32, u32), HeaderValue)> {
    let text = text.trim();
    if api_version != ApiVersion::V3 {
        return Err(Error::config(format!(
            "microversion {text} needs the v3 API, but the client speaks {}",
            api_version.path_segment()
        )));
    }
    let version = text
        .split_once('.')
        .and_then(|(major, minor)| Some((major.parse().ok()?, minor.parse().ok()?)))
        .filter(|(major, _)| *major == 3)
        .ok_or_else(|| {
            Error::config(format!(
                "microversion `{text}` is not of the form 3.N (e.g. 3.45)"
            ))
        })?;
    let header = HeaderValue::from_str(&format!("volume {}.{}", version.0, version.1))
        .map_err(|_| Error::config(format!("microversion `{text}` cannot be sent as a header")))?;
    Ok((version, header))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn resolve(
        endpoint: &str,
        project: Option<&str>,
        version: Option<ApiVersion>,
    ) -> Result<(String, ApiVersion, String)> {
        ResolvedEndpoint::parse(endpoint, project.map(str::to_owned), version)
            .map(|r| (r.project_url.to_string(), r.api_version, r.project_id))
    }

    fn ok(
        endpoint: &str,
        project: Option<&str>,
        version: Option<ApiVersion>,
    ) -> (String, ApiVersion, String) {
        resolve(endpoint, project, version).unwrap_or_else(|e| panic!("{endpoint}: {e}"))
    }

    fn config_error(endpoint: &str, project: Option<&str>, version: Option<ApiVersion>) -> String {
        let err = resolve(endpoint, project, version).expect_err(endpoint);
        assert_eq!(err.kind(), ErrorKind::Config);
        err.to_string()
    }

    #[test]
    fn service_roots_with_and_without_trailing_slash_or_prefix() {
        for (endpoint, expected) in [
            ("http://host:8776", "http://host:8776/v2/p1/"),
            ("http://host:8776/", "http://host:8776/v2/p1/"),
            (
                "https://cloud.example.com/volume",
                "https://cloud.example.com/volume/v2/p1/",
            ),
            (
                "https://cloud.example.com/volume/",
                "https://cloud.example.com/volume/v2/p1/",
            ),
            (
                "  https://cloud.example.com//a/b//  ",
                "https://cloud.example.com/a/b/v2/p1/",
            ),
        ] {
            assert_eq!(
                ok(endpoint, Some("p1"), None),
                (expected.to_owned(), ApiVersion::V2, "p1".into())
            );
        }
        assert_eq!(
            ok("http://h", Some("p1"), Some(ApiVersion::V3)).0,
            "http://h/v3/p1/"
        );
    }

    #[test]
    fn catalog_urls_provide_version_and_project() {
        assert_eq!(
            ok("https://evs.example.com/v2/abc", None, None),
            (
                "https://evs.example.com/v2/abc/".into(),
                ApiVersion::V2,
                "abc".into()
            )
        );
        assert_eq!(
            ok(
                "http://h:8776/volume/v3/abc/",
                Some("abc"),
                Some(ApiVersion::V3)
            ),
            (
                "http://h:8776/volume/v3/abc/".into(),
                ApiVersion::V3,
                "abc".into()
            )
        );
        assert_eq!(ok("http://h/v3", Some("p"), None).0, "http://h/v3/p/");
    }

    #[test]
    fn contradictions_and_bad_endpoints_are_config_errors() {
        assert!(
            config_error("http://h/v3/abc", Some("other"), None).contains("names project `abc`")
        );
        assert!(config_error("http://h/v3/abc", None, Some(ApiVersion::V2)).contains("v3 URL"));
        assert!(config_error("not a url", Some("p"), None).contains("not a URL"));
        assert!(config_error("ftp://h", Some("p"), None).contains("http or https"));
        assert!(config_error("http://h", None, None).contains("no project id"));
        assert!(config_error("http://h", Some(""), None).contains("empty"));
        assert!(config_error("http://h", Some("a/b"), None).contains("contains `/`"));
        assert!(config_error("http://h?x=1", Some("p"), None).contains("query"));
        assert!(config_error("http://u:pw@h", Some("p"), None).contains("credentials"));
        assert!(config_error("http://h/v2/%(project_id)s", None, None).contains("contains `%`"));
    }
}

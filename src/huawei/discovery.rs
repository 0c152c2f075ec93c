//! IAM project discovery: the project named after the region, found with one AK/SK-signed
//! `GET {iam}/v3/projects?name={region}`, as Huawei's SDKs find it
//! (huaweicloud-sdk-python-v3 `huaweicloudsdkcore/auth/credentials.py`,
//! `BasicCredentials.process_auth_params`; Go `core/auth/internal/iam_helper.go`).

use serde::Deserialize;
use url::Url;

use crate::auth::huawei::AkSkSigner;
use crate::error::{Error, Result};
use crate::http::{Pipeline, Request, parse_service_url};

#[derive(Deserialize)]
struct Projects {
    #[serde(default)]
    projects: Vec<Project>,
}

#[derive(Deserialize)]
struct Project {
    id: String,
    #[serde(default)]
    name: String,
}

/// `{iam}/v3/projects?name={region}`; see [`iam_url`].
pub(crate) fn projects_url(iam: &str, region: &str) -> Result<Url> {
    let mut url = iam_url(iam, &["projects"])?;
    url.query_pairs_mut().append_pair("name", region);
    Ok(url)
}

/// `{iam}/v3/{path…}`; an IAM endpoint given with `/v3` keeps it once, and one without a
/// scheme is `https://` (as the Go SDK's `GetIamEndpointById` makes it).
pub(crate) fn iam_url(iam: &str, path: &[&str]) -> Result<Url> {
    let base = iam.trim().trim_end_matches('/');
    let base = base.strip_suffix("/v3").unwrap_or(base);
    let base = if base.contains("://") {
        base.to_owned()
    } else {
        format!("https://{base}")
    };
    let (mut url, mut segments) = parse_service_url(&base, "IAM endpoint")?;
    segments.push("v3".to_owned());
    segments.extend(path.iter().map(|segment| (*segment).to_owned()));
    url.set_path(&segments.join("/"));
    Ok(url)
}

/// The id of the one project named `region`, asked of IAM at `iam` with `signer`'s
/// credentials and without `X-Project-Id`.
pub(crate) async fn project_id(
    pipeline: &Pipeline,
    signer: &AkSkSigner,
    iam: &str,
    region: &str,
) -> Result<String> {
    let url = projects_url(iam, region)?;
    let request = Request::get(url, "IAM project request");
    let signer = signer.without_project();
    tracing::debug!(
        iam,
        region,
        "no project id: asking IAM for the region's project"
    );
    let projects = pipeline
        .send(&request, Some(&signer), |response| {
            serde_json::from_slice::<Projects>(response.body).map_err(|err| {
                Error::decode(format!(
                    "IAM's project list is not of the expected shape: {err}"
                ))
            })
        })
        .await
        .map_err(|err| {
            err.with_context(format_args!(
                "IAM at {iam} could not list the projects named {region}"
            ))
        })?;
    let matching: Vec<&Project> = projects
        .projects
        .iter()
        .filter(|project| project.name.is_empty() || project.name == region)
        .collect();
    match matching.as_slice() {
        [project] => Ok(project.id.clone()),
        [] => Err(Error::config(format!(
            "IAM at {iam} knows no project named {region} for this access key: check the \
             region, or set the project id (HUAWEICLOUD_SDK_PROJECT_ID)"
        ))),
        several => Err(Error::config(format!(
            "IAM at {iam} has {} projects named {region} ({}): choose one with the project id \
             (HUAWEICLOUD_SDK_PROJECT_ID)",
            several.len(),
            several
                .iter()
                .map(|project| project.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn projects_url_forms() {
        let url = |iam| projects_url(iam, "cn-north-4").unwrap().to_string();
        assert_eq!(
            url("https://iam.myhuaweicloud.com"),
            "https://iam.myhuaweicloud.com/v3/projects?name=cn-north-4"
        );
        assert_eq!(
            url("http://127.0.0.1:5000/v3/"),
            "http://127.0.0.1:5000/v3/projects?name=cn-north-4"
        );
        assert_eq!(
            url("https://gw.example.com/iam"),
            "https://gw.example.com/iam/v3/projects?name=cn-north-4"
        );
        assert_eq!(
            url("iam.cn-north-4.myhuaweicloud.com"),
            "https://iam.cn-north-4.myhuaweicloud.com/v3/projects?name=cn-north-4"
        );
        assert!(projects_url("ftp://iam", "r").is_err());
    }
}

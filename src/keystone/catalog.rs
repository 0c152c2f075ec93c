//! The service catalog of a Keystone token, and finding the block-storage endpoint in it.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

use crate::ApiVersion;
use crate::error::{Error, Result};

/// The service types that serve the v3 block storage API, most specific first.
const V3_TYPES: [&str; 3] = ["block-storage", "volumev3", "volume"];
/// The service types that serve the v2 block storage API, most specific first.
const V2_TYPES: [&str; 2] = ["volumev2", "volume"];
/// Every service type looked at, for messages.
const ALL_TYPES: [&str; 4] = ["block-storage", "volumev3", "volume", "volumev2"];

/// The placeholders Keystone catalogs use for the project id in endpoint URLs.
const PROJECT_PLACEHOLDERS: [&str; 4] = [
    "%(project_id)s",
    "$(project_id)s",
    "%(tenant_id)s",
    "$(tenant_id)s",
];

/// The service catalog that came with a Keystone token (`token.catalog`): which services
/// the cloud offers, and where.
///
/// It deserializes from Keystone's JSON, so a catalog saved from
/// `openstack catalog list -f json` style output or a token body can be examined offline.
///
/// ```
/// use vbs_backups::ApiVersion;
/// use vbs_backups::keystone::{Catalog, EndpointFilter, Interface};
///
/// let catalog: Catalog = serde_json::from_str(r#"[
///   {"type": "volumev3", "name": "cinderv3", "endpoints": [
///     {"interface": "public", "region_id": "RegionOne",
///      "url": "https://volume.example.com/v3/%(project_id)s"},
///     {"interface": "internal", "region_id": "RegionOne",
///      "url": "http://cinder.internal:8776/v3/%(project_id)s"}
///   ]}
/// ]"#)?;
///
/// let filter = EndpointFilter::new().interface(Interface::Internal);
/// let endpoint = catalog.volume_endpoint(&filter, Some("b23b579f"))?;
/// assert_eq!(endpoint.url, "http://cinder.internal:8776/v3/b23b579f");
/// assert_eq!(endpoint.api_version, ApiVersion::V3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(transparent)]
#[non_exhaustive]
pub struct Catalog {
    /// The services, in the order Keystone listed them.
    pub services: Vec<CatalogService>,
}

/// One service of a [`Catalog`]: its type (`volumev3`, `identity`, …) and its endpoints.
///
/// ```
/// use vbs_backups::keystone::Catalog;
///
/// let catalog: Catalog = serde_json::from_str(
///     r#"[{"type": "volumev2", "name": "cinderv2", "endpoints": []}]"#,
/// )?;
/// assert_eq!(catalog.services[0].service_type, "volumev2");
/// assert_eq!(catalog.services[0].name.as_deref(), Some("cinderv2"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "RawService")]
#[non_exhaustive]
pub struct CatalogService {
    /// The service type, such as `block-storage`, `volumev3` or `identity`.
    pub service_type: String,
    /// The service's name, such as `cinderv3`, if the catalog gives one.
    pub name: Option<String>,
    /// Where the service can be reached.
    pub endpoints: Vec<CatalogEndpoint>,
}

/// One endpoint of a [`CatalogService`]: an interface in a region at a URL.
///
/// ```
/// use vbs_backups::keystone::CatalogEndpoint;
///
/// let endpoint: CatalogEndpoint = serde_json::from_str(
///     r#"{"interface": "admin", "region": "RegionOne", "url": "http://h:8776/v3/$(project_id)s"}"#,
/// )?;
/// assert_eq!(endpoint.interface, "admin");
/// assert_eq!(endpoint.region.as_deref(), Some("RegionOne"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "RawEndpoint")]
#[non_exhaustive]
pub struct CatalogEndpoint {
    /// `public`, `internal` or `admin`, as the catalog spells it.
    pub interface: String,
    /// The region id (`region_id`, or the older `region`), if any.
    pub region: Option<String>,
    /// The URL, possibly with a `%(project_id)s` or `$(project_id)s` placeholder.
    pub url: String,
}

#[derive(Deserialize)]
struct RawService {
    #[serde(rename = "type", default)]
    service_type: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    endpoints: Option<Vec<CatalogEndpoint>>,
}

impl From<RawService> for CatalogService {
    fn from(raw: RawService) -> Self {
        Self {
            service_type: raw.service_type.unwrap_or_default(),
            name: raw.name.filter(|name| !name.is_empty()),
            endpoints: raw.endpoints.unwrap_or_default(),
        }
    }
}

#[derive(Deserialize)]
struct RawEndpoint {
    #[serde(default)]
    interface: Option<String>,
    #[serde(default)]
    region_id: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

impl From<RawEndpoint> for CatalogEndpoint {
    fn from(raw: RawEndpoint) -> Self {
        Self {
            interface: raw.interface.unwrap_or_default(),
            region: raw
                .region_id
                .filter(|region| !region.is_empty())
                .or(raw.region.filter(|region| !region.is_empty())),
            url: raw.url.unwrap_or_default(),
        }
    }
}

/// Which endpoint of a service to use: `public` (the default), `internal` or `admin`
/// (`OS_INTERFACE`).
///
/// Parsing accepts the v2-era spellings `publicURL`, `internalURL` and `adminURL` too.
///
/// ```
/// use vbs_backups::keystone::Interface;
///
/// assert_eq!(Interface::default(), Interface::Public);
/// assert_eq!("internalURL".parse::<Interface>()?, Interface::Internal);
/// assert_eq!(Interface::Admin.to_string(), "admin");
/// assert!("private".parse::<Interface>().is_err());
/// # Ok::<(), vbs_backups::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Interface {
    /// The endpoint for users, reachable from anywhere.
    #[default]
    Public,
    /// The endpoint inside the cloud's network.
    Internal,
    /// The endpoint for operators.
    Admin,
}

impl Interface {
    /// The name Keystone uses: `public`, `internal` or `admin`.
    ///
    /// ```
    /// assert_eq!(vbs_backups::keystone::Interface::Internal.as_str(), "internal");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Internal => "internal",
            Self::Admin => "admin",
        }
    }

    /// Whether a catalog endpoint's `interface` names this one.
    fn matches(self, interface: &str) -> bool {
        let interface = interface.trim();
        let interface = interface
            .strip_suffix("URL")
            .unwrap_or(interface)
            .to_ascii_lowercase();
        interface == self.as_str()
    }
}

impl FromStr for Interface {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        [Self::Public, Self::Internal, Self::Admin]
            .into_iter()
            .find(|interface| interface.matches(text))
            .ok_or_else(|| {
                Error::config(format!(
                    "interface `{}` is not public, internal or admin",
                    text.trim()
                ))
            })
    }
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to look for in the catalog: the block storage API version, the interface and the
/// region (`OS_VOLUME_API_VERSION`, `OS_INTERFACE`, `OS_REGION_NAME`).
///
/// Without an API version, v3 endpoints are preferred and v2 ones used when there is no v3.
///
/// ```
/// use vbs_backups::ApiVersion;
/// use vbs_backups::keystone::{EndpointFilter, Interface};
///
/// let filter = EndpointFilter::new()
///     .api_version(ApiVersion::V2)
///     .interface(Interface::Internal)
///     .region("eu-de");
/// assert_eq!(filter.get_region(), Some("eu-de"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EndpointFilter {
    api_version: Option<ApiVersion>,
    interface: Interface,
    region: Option<String>,
}

impl EndpointFilter {
    /// Any version, the public interface, any region.
    ///
    /// ```
    /// let filter = vbs_backups::keystone::EndpointFilter::new();
    /// assert_eq!(filter.get_api_version(), None);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Only endpoints of this API version: v3 looks at `block-storage`, `volumev3` and
    /// `volume`, v2 at `volumev2` and `volume`; an endpoint whose URL names another version
    /// (`/v1/…`) is skipped.
    ///
    /// ```
    /// use vbs_backups::{ApiVersion, keystone::EndpointFilter};
    ///
    /// let filter = EndpointFilter::new().api_version(ApiVersion::V3);
    /// assert_eq!(filter.get_api_version(), Some(ApiVersion::V3));
    /// ```
    pub fn api_version(mut self, api_version: ApiVersion) -> Self {
        self.api_version = Some(api_version);
        self
    }

    /// Which interface to use (default [`Interface::Public`]).
    ///
    /// ```
    /// use vbs_backups::keystone::{EndpointFilter, Interface};
    ///
    /// let filter = EndpointFilter::new().interface(Interface::Admin);
    /// assert_eq!(filter.get_interface(), Interface::Admin);
    /// ```
    pub fn interface(mut self, interface: Interface) -> Self {
        self.interface = interface;
        self
    }

    /// Only endpoints of this region. Without one, a catalog offering the service in
    /// several regions is an error that lists them, rather than a guess.
    ///
    /// ```
    /// let filter = vbs_backups::keystone::EndpointFilter::new().region("RegionOne");
    /// assert_eq!(filter.get_region(), Some("RegionOne"));
    /// ```
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The API version asked for, if any.
    ///
    /// ```
    /// assert_eq!(vbs_backups::keystone::EndpointFilter::new().get_api_version(), None);
    /// ```
    pub fn get_api_version(&self) -> Option<ApiVersion> {
        self.api_version
    }

    /// The interface asked for.
    ///
    /// ```
    /// use vbs_backups::keystone::{EndpointFilter, Interface};
    /// assert_eq!(EndpointFilter::new().get_interface(), Interface::Public);
    /// ```
    pub fn get_interface(&self) -> Interface {
        self.interface
    }

    /// The region asked for, if any.
    ///
    /// ```
    /// assert_eq!(vbs_backups::keystone::EndpointFilter::new().get_region(), None);
    /// ```
    pub fn get_region(&self) -> Option<&str> {
        self.region.as_deref()
    }
}

/// A block storage endpoint found in a [`Catalog`], ready for
/// [`ClientBuilder::endpoint`](crate::ClientBuilder::endpoint).
///
/// ```
/// use vbs_backups::keystone::{Catalog, EndpointFilter};
///
/// let catalog: Catalog = serde_json::from_str(r#"[{"type": "volumev2", "endpoints": [
///     {"interface": "public", "region_id": "r1", "url": "https://evs.example.com/v2/p1"}]}]"#)?;
/// let endpoint = catalog.volume_endpoint(&EndpointFilter::new(), Some("p1"))?;
/// assert_eq!(endpoint.service_type, "volumev2");
/// assert_eq!(endpoint.region.as_deref(), Some("r1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VolumeEndpoint {
    /// The URL with the project id substituted.
    pub url: String,
    /// The API version it serves: the one in the URL, or the one asked for when the URL
    /// is a service root without a version.
    pub api_version: ApiVersion,
    /// The catalog service type it was found under.
    pub service_type: String,
    /// Its interface.
    pub interface: Interface,
    /// Its region, if the catalog names one.
    pub region: Option<String>,
}

impl Catalog {
    /// Finds the block storage endpoint that `filter` asks for and substitutes `project_id`
    /// into its URL (`%(project_id)s`, `$(project_id)s` and their `tenant_id` forms; a URL
    /// that already names a project is kept).
    ///
    /// Cinder serves its backups and its volumes on this one endpoint, so the client built
    /// on it lists both ([`Client::backups`](crate::Client::backups),
    /// [`Client::volumes`](crate::Client::volumes)).
    ///
    /// # Errors
    ///
    /// A [`Config`](crate::ErrorKind::Config) error when no endpoint matches (the message
    /// lists what the catalog offers), when several regions match and none was asked for,
    /// or when the URL has a placeholder and there is no project id.
    ///
    /// ```
    /// use vbs_backups::keystone::{Catalog, EndpointFilter};
    ///
    /// let catalog: Catalog = serde_json::from_str(r#"[{"type": "volumev3", "endpoints": [
    ///     {"interface": "public", "region_id": "r1", "url": "http://a/v3/$(project_id)s"},
    ///     {"interface": "public", "region_id": "r2", "url": "http://b/v3/$(project_id)s"}]}]"#)?;
    ///
    /// let err = catalog.volume_endpoint(&EndpointFilter::new(), Some("p")).unwrap_err();
    /// assert!(err.to_string().contains("r1, r2"));
    /// let endpoint = catalog.volume_endpoint(&EndpointFilter::new().region("r2"), Some("p"))?;
    /// assert_eq!(endpoint.url, "http://b/v3/p");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn volume_endpoint(
        &self,
        filter: &EndpointFilter,
        project_id: Option<&str>,
    ) -> Result<VolumeEndpoint> {
        let versions = match filter.api_version {
            Some(version) => vec![version],
            None => vec![ApiVersion::V3, ApiVersion::V2],
        };
        for version in versions {
            let types: &[&str] = match version {
                ApiVersion::V2 => &V2_TYPES,
                ApiVersion::V3 => &V3_TYPES,
            };
            for service_type in types {
                let candidates: Vec<&CatalogEndpoint> = self
                    .services
                    .iter()
                    .filter(|service| service.service_type == *service_type)
                    .flat_map(|service| &service.endpoints)
                    .filter(|endpoint| filter.interface.matches(&endpoint.interface))
                    .filter(|endpoint| {
                        filter
                            .region
                            .as_deref()
                            .is_none_or(|region| endpoint.region.as_deref() == Some(region))
                    })
                    .filter(|endpoint| match url_version(&endpoint.url) {
                        UrlVersion::Root => true,
                        UrlVersion::Known(in_url) => in_url == version,
                        UrlVersion::Other => false,
                    })
                    .collect();
                let Some(first) = candidates.first() else {
                    continue;
                };
                if filter.region.is_none() {
                    let mut regions: Vec<&str> = candidates
                        .iter()
                        .map(|endpoint| endpoint.region.as_deref().unwrap_or("(none)"))
                        .collect();
                    regions.sort_unstable();
                    regions.dedup();
                    if regions.len() > 1 {
                        return Err(Error::config(format!(
                            "the catalog offers {service_type} ({}) in several regions ({}): \
                             choose one with OS_REGION_NAME / region_name",
                            filter.interface,
                            regions.join(", ")
                        )));
                    }
                }
                return Ok(VolumeEndpoint {
                    url: substitute_project(&first.url, project_id)?,
                    api_version: version,
                    service_type: (*service_type).to_owned(),
                    interface: filter.interface,
                    region: first.region.clone(),
                });
            }
        }
        Err(self.nothing_found(filter))
    }

    /// The error for a catalog without a matching endpoint, listing what it has.
    fn nothing_found(&self, filter: &EndpointFilter) -> Error {
        let wanted = format!(
            "no block storage endpoint for API {}, interface {}, region {} in the token's catalog",
            filter
                .api_version
                .map_or("v3 or v2", |version| version.path_segment()),
            filter.interface,
            filter.region.as_deref().unwrap_or("any"),
        );
        let offered: Vec<String> = self
            .services
            .iter()
            .filter(|service| ALL_TYPES.contains(&service.service_type.as_str()))
            .flat_map(|service| {
                service.endpoints.iter().map(move |endpoint| {
                    format!(
                        "{} {} {} {}",
                        service.service_type,
                        endpoint.interface,
                        endpoint.region.as_deref().unwrap_or("(no region)"),
                        endpoint.url
                    )
                })
            })
            .collect();
        if offered.is_empty() {
            let types: Vec<&str> = self
                .services
                .iter()
                .map(|service| service.service_type.as_str())
                .collect();
            Error::config(format!(
                "{wanted}: it has no volume service (types {}); it lists {}",
                ALL_TYPES.join(", "),
                if types.is_empty() {
                    "no services at all (is the token scoped to a project?)".to_owned()
                } else {
                    types.join(", ")
                }
            ))
        } else {
            Error::config(format!("{wanted}; it offers: {}", offered.join("; ")))
        }
    }
}

/// What an endpoint URL says about its API version.
#[derive(Debug, PartialEq, Eq)]
enum UrlVersion {
    /// No version segment: a service root, good for any version.
    Root,
    /// `/v2` or `/v3` (or `/v2.0`, `/v3.0`): [`ApiVersion::from_path_segment`].
    Known(ApiVersion),
    /// Another version, such as `/v1` or `/v3.1`.
    Other,
}

/// The version segment of a catalog URL, read as text because the URL may still hold a
/// placeholder that is not valid in a URL.
fn url_version(url: &str) -> UrlVersion {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme.split_once('/').map_or("", |(_, path)| path);
    let path = path.split(['?', '#']).next().unwrap_or_default();
    match path
        .split('/')
        .rev()
        .find(|segment| ApiVersion::is_version_segment(segment))
    {
        None => UrlVersion::Root,
        Some(segment) => {
            ApiVersion::from_path_segment(segment).map_or(UrlVersion::Other, UrlVersion::Known)
        }
    }
}

/// Replaces the project placeholders of a catalog (or override) URL.
pub(crate) fn substitute_project(url: &str, project_id: Option<&str>) -> Result<String> {
    let mut out = url.trim().to_owned();
    let url = crate::error::url_for_message(url.trim());
    for placeholder in PROJECT_PLACEHOLDERS {
        if out.contains(placeholder) {
            let project_id = project_id.ok_or_else(|| {
                Error::config(format!(
                    "the endpoint URL {url} needs a project id, but the token is not scoped \
                     to a project: set OS_PROJECT_ID or OS_PROJECT_NAME"
                ))
            })?;
            out = out.replace(placeholder, project_id);
        }
    }
    if out.contains("%(") || out.contains("$(") {
        return Err(Error::config(format!(
            "the endpoint URL {url} has a placeholder other than project_id / tenant_id"
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::ErrorKind;

    fn catalog(json: &str) -> Catalog {
        serde_json::from_str(json).expect("catalog JSON")
    }

    #[test]
    fn url_versions() {
        assert_eq!(
            url_version("http://h:8776/v3/%(project_id)s"),
            UrlVersion::Known(ApiVersion::V3)
        );
        assert_eq!(
            url_version("https://h/volume/v2/abc"),
            UrlVersion::Known(ApiVersion::V2)
        );
        assert_eq!(url_version("https://h/volume/"), UrlVersion::Root);
        assert_eq!(url_version("https://h"), UrlVersion::Root);
        assert_eq!(
            url_version("http://h:8776/v1/$(tenant_id)s"),
            UrlVersion::Other
        );
        assert_eq!(
            url_version("http://h/v3.0/p"),
            UrlVersion::Known(ApiVersion::V3)
        );
        // A project id that merely starts with `v` is not a version.
        assert_eq!(url_version("http://h/volume/vabc"), UrlVersion::Root);
    }

    #[test]
    fn placeholders_are_substituted_and_unknown_ones_refused() {
        for url in [
            "http://h/v3/%(project_id)s",
            "http://h/v3/$(project_id)s",
            "http://h/v3/%(tenant_id)s",
            "http://h/v3/$(tenant_id)s",
            "http://h/v3/p1",
        ] {
            assert_eq!(
                substitute_project(url, Some("p1")).unwrap(),
                "http://h/v3/p1"
            );
        }
        let err = substitute_project("http://h/v3/%(project_id)s", None).unwrap_err();
        assert!(err.to_string().contains("not scoped"), "{err}");
        let err = substitute_project("http://h/v3/%(user_id)s", Some("p")).unwrap_err();
        assert!(err.to_string().contains("placeholder"), "{err}");
    }

    #[test]
    fn versions_prefer_v3_types_in_order_and_fall_back_to_v2() {
        let both = catalog(
            r#"[
              {"type": "volumev2", "endpoints": [{"interface": "public", "region_id": "r", "url": "http://h/v2/%(project_id)s"}]},
              {"type": "volume", "endpoints": [{"interface": "public", "region_id": "r", "url": "http://h/v1/%(project_id)s"}]},
              {"type": "volumev3", "endpoints": [{"interface": "public", "region_id": "r", "url": "http://h/v3/%(project_id)s"}]},
              {"type": "block-storage", "endpoints": [{"interface": "public", "region_id": "r", "url": "http://bs/v3/%(project_id)s"}]}
            ]"#,
        );
        let any = both
            .volume_endpoint(&EndpointFilter::new(), Some("p"))
            .unwrap();
        assert_eq!(
            (any.url.as_str(), any.service_type.as_str()),
            ("http://bs/v3/p", "block-storage")
        );
        let v2 = both
            .volume_endpoint(
                &EndpointFilter::new().api_version(ApiVersion::V2),
                Some("p"),
            )
            .unwrap();
        assert_eq!(v2.url, "http://h/v2/p");
        let only_v2 = catalog(
            r#"[{"type": "volume", "endpoints": [{"interface": "publicURL", "url": "http://h/v2/p"}]}]"#,
        );
        let found = only_v2
            .volume_endpoint(&EndpointFilter::new(), None)
            .unwrap();
        assert_eq!(found.api_version, ApiVersion::V2);
        assert_eq!(found.service_type, "volume");
    }

    #[test]
    fn root_urls_take_the_version_asked_for() {
        let root = catalog(
            r#"[{"type": "block-storage", "endpoints": [{"interface": "public", "url": "https://h/volume"}]},
                {"type": "volume", "endpoints": [{"interface": "public", "url": "https://old/volume/"}]}]"#,
        );
        let v3 = root.volume_endpoint(&EndpointFilter::new(), None).unwrap();
        assert_eq!(
            (v3.url.as_str(), v3.api_version),
            ("https://h/volume", ApiVersion::V3)
        );
        let v2 = root
            .volume_endpoint(&EndpointFilter::new().api_version(ApiVersion::V2), None)
            .unwrap();
        assert_eq!(
            (v2.url.as_str(), v2.api_version),
            ("https://old/volume/", ApiVersion::V2)
        );
    }

    #[test]
    fn nothing_found_lists_the_offer() {
        let cat = catalog(
            r#"[{"type": "volumev3", "endpoints": [{"interface": "public", "region_id": "r1", "url": "http://h/v3/p"}]},
                {"type": "compute", "endpoints": [{"interface": "public", "url": "http://nova"}]}]"#,
        );
        let err = cat
            .volume_endpoint(
                &EndpointFilter::new().interface(Interface::Admin),
                Some("p"),
            )
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        let text = err.to_string();
        assert!(text.contains("interface admin"), "{text}");
        assert!(text.contains("volumev3 public r1 http://h/v3/p"), "{text}");
        let empty = Catalog::default()
            .volume_endpoint(&EndpointFilter::new(), Some("p"))
            .unwrap_err();
        assert!(empty.to_string().contains("no services at all"), "{empty}");
    }

    #[test]
    fn lenient_json() {
        let cat = catalog(
            r#"[{"type": "volumev3", "name": "", "id": "x", "endpoints": [{"interface": "public", "region": "old", "region_id": null, "url": "http://h/v3/p", "id": "e"}]},
                {"type": "identity"}]"#,
        );
        assert_eq!(cat.services[0].name, None);
        assert_eq!(cat.services[0].endpoints[0].region.as_deref(), Some("old"));
        assert!(cat.services[1].endpoints.is_empty());
    }
}

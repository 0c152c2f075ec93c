//! [`FakeServerBuilder`]: the configuration of a [`FakeServer`], its defaults, and its start.

use std::io;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::dataset::{self, Dataset};
use crate::huawei::{self, HuaweiGateway};
use crate::quirk::Quirk;
use crate::recorded::RecordedRequest;
use crate::server::{self, ServerSettings, ServerState};
use crate::server_handle::FakeServer;
use crate::tls::{self, TlsPems};
use crate::volumes;

/// The project id a [`FakeServer`] serves unless [`FakeServerBuilder::project_id`] says otherwise.
///
/// ```
/// use vbs_backups_testing::{DEFAULT_PROJECT_ID, FakeServer};
///
/// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = FakeServer::builder().backups(3).start().await?;
/// assert_eq!(server.project_id(), DEFAULT_PROJECT_ID);
///
/// let pages = walk(&server, format!("{}/v2/{DEFAULT_PROJECT_ID}/backups", server.endpoint())).await?;
/// assert_eq!(ids(&pages).len(), 3);
/// # Ok(())
/// # }
/// ```
pub const DEFAULT_PROJECT_ID: &str = "b23b579f08c84228b9b4673c46f0c442";

/// The token a [`FakeServer`] expects in `X-Auth-Token` unless configured otherwise.
///
/// ```
/// use vbs_backups_testing::{DEFAULT_TOKEN, FakeServer};
///
/// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = FakeServer::builder().backups(3).start().await?;
/// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
/// let http = reqwest::Client::builder().no_proxy().build()?;
/// let expired = http.get(&url).header("X-Auth-Token", "expired").send().await?;
/// assert_eq!(expired.status(), 401);
///
/// let ok = http.get(&url).header("X-Auth-Token", DEFAULT_TOKEN).send().await?;
/// let page: Value = serde_json::from_str(&ok.text().await?)?;
/// assert_eq!(page["backups"].as_array().map(Vec::len), Some(3));
/// # Ok(())
/// # }
/// ```
pub const DEFAULT_TOKEN: &str = "fake-token";

/// The number of backups a [`FakeServer`] holds unless [`FakeServerBuilder::backups`] says
/// otherwise.
///
/// ```
/// use vbs_backups_testing::{DEFAULT_BACKUPS, FakeServer};
///
/// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = FakeServer::builder().start().await?;
/// let url = format!("{}/v2/{}/backups?limit=10", server.endpoint(), server.project_id());
/// let pages = walk(&server, url).await?;
/// assert_eq!(ids(&pages).len(), DEFAULT_BACKUPS);
/// assert_eq!(server.request_count(), 3); // 10 + 10 + 5
/// # Ok(())
/// # }
/// ```
pub const DEFAULT_BACKUPS: usize = 25;

/// The seed used unless [`FakeServerBuilder::seed`] says otherwise.
///
/// ```
/// use vbs_backups_testing::{DEFAULT_SEED, FakeServer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let default = FakeServer::builder().start().await?;
/// let seeded = FakeServer::builder().seed(DEFAULT_SEED).start().await?;
/// let other = FakeServer::builder().seed(DEFAULT_SEED + 1).start().await?;
/// assert_eq!(default.backups(), seeded.backups());
/// assert_ne!(default.backups(), other.backups());
/// # Ok(())
/// # }
/// ```
pub const DEFAULT_SEED: u64 = 0x5EED_0000_C1DE_0001;

/// Cinder's default `osapi_max_limit`: the default and maximum page size.
///
/// ```
/// use vbs_backups_testing::{DEFAULT_MAX_LIMIT, FakeServer};
///
/// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = FakeServer::builder().backups(1500).start().await?;
/// // Asking for more than the cap gets pages of the cap.
/// let url = format!("{}/v2/{}/backups?limit=5000", server.endpoint(), server.project_id());
/// assert_eq!(sizes(&walk(&server, url).await?), [DEFAULT_MAX_LIMIT, 500]);
/// # Ok(())
/// # }
/// ```
pub const DEFAULT_MAX_LIMIT: usize = 1000;

/// How many volumes without backups a server lists by default
/// ([`FakeServerBuilder::volumes_without_backups`]).
pub const DEFAULT_SPARE_VOLUMES: usize = 2;

/// Configures and starts a [`FakeServer`]; created by [`FakeServer::builder`].
///
/// Setters never fail; out-of-range values are adjusted as documented on each setter.
#[must_use]
#[derive(Debug, Clone)]
pub struct FakeServerBuilder {
    backups: usize,
    seed: u64,
    project_id: String,
    token: Option<String>,
    max_limit: usize,
    prefix: String,
    quirks: Vec<Quirk>,
    latency: Duration,
    tls: Option<TlsPems>,
    port: u16,
    verifier: Option<server::Verifier>,
    huawei: Option<HuaweiGateway>,
    cbr: bool,
    other_projects: (usize, usize),
    non_admin: bool,
    spare_volumes: usize,
    first_backup_minute: u64,
}

impl FakeServer {
    /// A builder with the defaults: [`DEFAULT_BACKUPS`] backups from [`DEFAULT_SEED`], project
    /// [`DEFAULT_PROJECT_ID`], token [`DEFAULT_TOKEN`], `max_limit` [`DEFAULT_MAX_LIMIT`], no
    /// path prefix, no quirks, no latency.
    ///
    /// ```
    /// use vbs_backups_testing::{DEFAULT_BACKUPS, FakeServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// assert_eq!(server.backups().len(), DEFAULT_BACKUPS);
    /// assert_eq!(server.request_count(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder() -> FakeServerBuilder {
        FakeServerBuilder::default()
    }
}

impl Default for FakeServerBuilder {
    fn default() -> Self {
        Self {
            backups: DEFAULT_BACKUPS,
            seed: DEFAULT_SEED,
            project_id: DEFAULT_PROJECT_ID.to_owned(),
            token: Some(DEFAULT_TOKEN.to_owned()),
            max_limit: DEFAULT_MAX_LIMIT,
            prefix: String::new(),
            quirks: Vec::new(),
            latency: Duration::ZERO,
            tls: None,
            port: 0,
            verifier: None,
            huawei: None,
            cbr: false,
            other_projects: (0, 0),
            non_admin: false,
            spare_volumes: DEFAULT_SPARE_VOLUMES,
            first_backup_minute: 0,
        }
    }
}

impl FakeServerBuilder {
    /// The number of backups to generate (default [`DEFAULT_BACKUPS`]). Hundreds of thousands
    /// are fine: pages are cut in time proportional to their size.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(2_500).start().await?;
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// assert_eq!(sizes(&walk(&server, url).await?), [1000, 1000, 500]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn backups(mut self, count: usize) -> Self {
        self.backups = count;
        self
    }

    /// Adds `projects` other projects holding `each` backups apiece, created over the same
    /// time as the served project's (default none). They are listed only as Cinder lists
    /// them: to an admin caller with `all_tenants=1` (then `project_id=…` picks one project);
    /// every other listing shows the served project alone. Their ids are
    /// [`FakeServer::other_project_ids`], their backups in [`FakeServer::all_backups`].
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{get, ids};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(3).other_projects(2, 4).start().await?;
    /// let url = format!("{}/v3/{}/backups", server.endpoint(), server.project_id());
    /// assert_eq!(ids(&[get(&server, &url).await?.1]).len(), 3);
    /// assert_eq!(ids(&[get(&server, &format!("{url}?all_tenants=1")).await?.1]).len(), 11);
    /// let other = &server.other_project_ids()[1];
    /// let one = format!("{url}?all_tenants=1&project_id={other}");
    /// assert_eq!(ids(&[get(&server, &one).await?.1]).len(), 4);
    /// # Ok(())
    /// # }
    /// ```
    pub fn other_projects(mut self, projects: usize, each: usize) -> Self {
        self.other_projects = (projects, each);
        self
    }

    /// Makes the caller a non-admin, as the keystone-validated real Cinder does (default: an
    /// admin, as noauth Cinder makes every caller). Like Cinder for a non-admin,
    /// `all_tenants` is then accepted and silently ignored (the caller's own project is
    /// listed), `os-backup-project-attr:project_id` is left out of detail entries, and the
    /// `project_id` filter is dropped below microversion 3.31 and refused with a 400 from it.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{get, ids};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(3).other_projects(2, 4).non_admin().start().await?;
    /// let url = format!("{}/v3/{}/backups?all_tenants=1", server.endpoint(), server.project_id());
    /// assert_eq!(ids(&[get(&server, &url).await?.1]).len(), 3);
    /// # Ok(())
    /// # }
    /// ```
    pub fn non_admin(mut self) -> Self {
        self.non_admin = true;
        self
    }

    /// How many volumes without any backup the server lists beside the data set's
    /// (default 2). The data set's backups belong to four volumes: three are listed
    /// ([`FakeServer::volumes`]); the fourth, [`DELETED_VOLUME_ID`](crate::DELETED_VOLUME_ID), was
    /// deleted, so its backups are orphans. Volumes are served as Cinder's
    /// `GET {prefix}/{v2|v3}/{project_id}/volumes/detail` in every mode (Huawei's EVS
    /// behind the gateway too): `limit` capped at [`max_limit`](Self::max_limit), `marker`,
    /// `volumes_links`, and the filters `status`, `name` and `metadata`
    /// (`metadata={"team": "db"}`).
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().volumes_without_backups(5).start().await?;
    /// assert_eq!(server.volumes().len(), 8);
    /// let url = format!("{}/v3/{}/volumes/detail?limit=4", server.endpoint(), server.project_id());
    /// let (status, page) = get(&server, &url).await?;
    /// assert_eq!(status, 200);
    /// assert_eq!(page["volumes"].as_array().map(Vec::len), Some(4));
    /// assert!(page["volumes_links"][0]["href"].as_str().unwrap_or_default().contains("marker="));
    /// # Ok(())
    /// # }
    /// ```
    pub fn volumes_without_backups(mut self, count: usize) -> Self {
        self.spare_volumes = count;
        self
    }

    /// The seed of the generated data (default [`DEFAULT_SEED`]): the same seed and count always
    /// give the same backups.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let a = FakeServer::builder().backups(10).seed(42).start().await?;
    /// let b = FakeServer::builder().backups(10).seed(42).start().await?;
    /// let c = FakeServer::builder().backups(10).seed(43).start().await?;
    /// assert_eq!(a.backups(), b.backups());
    /// assert_ne!(a.backups(), c.backups());
    /// # Ok(())
    /// # }
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The project id the server serves (default [`DEFAULT_PROJECT_ID`]). Requests for any other
    /// project get Cinder's 400 `Malformed request url`.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().project_id("p-1234").backups(3).start().await?;
    /// let pages = walk(&server, format!("{}/v3/p-1234/backups", server.endpoint())).await?;
    /// assert_eq!(ids(&pages).len(), 3);
    /// assert_eq!(server.requests()[0].path, "/v3/p-1234/backups");
    /// # Ok(())
    /// # }
    /// ```
    pub fn project_id(mut self, id: impl Into<String>) -> Self {
        self.project_id = id.into();
        self
    }

    /// The token required in `X-Auth-Token` (default [`DEFAULT_TOKEN`]). Overrides an earlier
    /// [`no_auth`](Self::no_auth).
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().token("s3cret").start().await?;
    /// walk(&server, format!("{}/v2/{}/backups", server.endpoint(), server.project_id())).await?;
    /// assert_eq!(server.requests()[0].auth_token.as_deref(), Some("s3cret"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Accepts requests with any token or none. Overrides an earlier [`token`](Self::token).
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().no_auth().backups(3).start().await?;
    /// // No token sent at all.
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// let page: Value = serde_json::from_str(&reqwest::get(url).await?.text().await?)?;
    /// assert_eq!(page["backups"].as_array().map(Vec::len), Some(3));
    /// assert_eq!(server.requests()[0].auth_token, None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn no_auth(mut self) -> Self {
        self.token = None;
        self
    }

    /// Puts Huawei Cloud's API gateway in front: every request must be signed with
    /// `SDK-HMAC-SHA256` by the gateway's AK/SK (the signature is recomputed from the
    /// request as received: raw path and query, the signed headers, the body), carry an
    /// `X-Sdk-Date` within 15 minutes of the gateway's clock and, except IAM's, an
    /// `X-Project-Id` naming the server's project; anything else is refused like the real
    /// gateway refuses it, `401` with `{"error_code": "APIGW.0301", "error_msg": …,
    /// "request_id": …}`. Every answer carries the gateway's clock in `Date`. IAM's
    /// `GET /v3/projects?name=` is served on the same address. No token is asked for
    /// (as with [`no_auth`](Self::no_auth)). Canned responses come before the gateway,
    /// except [`CannedResponse::passthrough`](crate::CannedResponse::passthrough) ones, which it
    /// judges like any other.
    ///
    /// ```
    /// use vbs_backups_testing::{FakeServer, HuaweiGateway};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder()
    ///     .huawei(HuaweiGateway::new("HPUAFAKEACCESSKEY", "fake-secret-key"))
    ///     .start()
    ///     .await?;
    /// let unsigned = reqwest::Client::builder().no_proxy().build()?
    ///     .get(format!("{}/v3/projects?name=cn-north-4", server.endpoint()))
    ///     .send()
    ///     .await?;
    /// assert_eq!(unsigned.status(), 401);
    /// assert_eq!(server.token(), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn huawei(mut self, gateway: HuaweiGateway) -> Self {
        self.token = None;
        self.huawei = Some(gateway);
        self
    }

    /// Serves the data set as Huawei CBR's backup list instead of Cinder's:
    /// `GET /v3/{project_id}/backups` answers `{"backups": […], "count": N}` without links,
    /// with CBR's `limit` (1 to 1000, otherwise a 400 `{"error_code": "BackupService.…",
    /// "error_msg": …}`), `marker` (the id to start after), `offset` (after the marker) and
    /// filters (`status` may repeat; `vault_id`, `resource_id`, `resource_type`, `name`,
    /// `start_time` / `end_time` as `2018-02-01T12:00:00Z`, `image_type`, `own_type`,
    /// `enterprise_project_id`, `sort=key[:dir],…`); `count` is the total of matches.
    /// Unknown or repeated parameters (but `status`) are refused with a 400. Each backup is
    /// the data set's, seen as CBR would show it ([`FakeServer::cbr_backups`]). Combines with
    /// [`huawei`](Self::huawei) (signed requests) and the token check.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::get;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(5).cbr().start().await?;
    /// let url = format!("{}/v3/{}/backups?limit=2", server.endpoint(), server.project_id());
    /// let (status, page) = get(&server, &url).await?;
    /// assert_eq!(status, 200);
    /// assert_eq!(page["backups"].as_array().map(Vec::len), Some(2));
    /// assert_eq!(page["count"], 5);
    /// assert!(page.get("backups_links").is_none());
    /// let (status, refused) = get(&server, &format!("{url}0000")).await?; // limit=20000
    /// assert_eq!(status, 400);
    /// assert!(refused["error_code"].as_str().is_some_and(|code| code.starts_with("BackupService.")));
    /// # Ok(())
    /// # }
    /// ```
    pub fn cbr(mut self) -> Self {
        self.cbr = true;
        self
    }

    /// Judges every listing request as it was received, before anything else (the
    /// token check included): `Err(message)` refuses it with a 401 carrying `message`.
    /// For testing signed requests: recompute the signature from the
    /// [`RecordedRequest`] (method, raw path and query, headers) and compare. Canned
    /// responses are served before it, as a gateway in front would.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder()
    ///     .no_auth()
    ///     .verify_requests(|request| match request.headers.iter().any(|(name, _)| name == "x-signature") {
    ///         true => Ok(()),
    ///         false => Err("the request is not signed".into()),
    ///     })
    ///     .start()
    ///     .await?;
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// let http = reqwest::Client::builder().no_proxy().build()?;
    /// assert_eq!(http.get(&url).send().await?.status(), 401);
    /// assert_eq!(http.get(&url).header("x-signature", "s").send().await?.status(), 200);
    /// # Ok(())
    /// # }
    /// ```
    pub fn verify_requests(
        mut self,
        verifier: impl Fn(&RecordedRequest) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.verifier = Some(server::Verifier(Arc::new(verifier)));
        self
    }

    /// Cinder's `osapi_max_limit`: the page size when no `limit` is given and the cap on larger
    /// ones (default [`DEFAULT_MAX_LIMIT`]; 0 is treated as 1).
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(25).max_limit(10).start().await?;
    /// let url = format!("{}/v2/{}/backups?limit=50", server.endpoint(), server.project_id());
    /// assert_eq!(sizes(&walk(&server, url).await?), [10, 10, 5]);
    /// // Silently capped: every request still asked for 50.
    /// assert!(server.requests().iter().all(|r| r.param("limit").as_deref() == Some("50")));
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_limit(mut self, max: usize) -> Self {
        self.max_limit = max.max(1);
        self
    }

    /// When the oldest generated backup was created, in seconds since the Unix epoch
    /// (default 2024-01-01T00:00:00Z; earlier times are taken as that, and the time is
    /// rounded down to the minute): every backup keeps its place in the sequence, moved
    /// by the same amount. A coverage audit's verdicts depend on backups' ages: this makes
    /// them recent.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// // 2026-01-01T00:00:00Z.
    /// let server = FakeServer::builder().backups(1).first_backup_at(1_767_225_600).start().await?;
    /// assert_eq!(server.backups()[0].created_at, "2026-01-01T00:00:00.000000");
    /// # Ok(())
    /// # }
    /// ```
    pub fn first_backup_at(mut self, unix_seconds: u64) -> Self {
        let first = crate::dataset::FIRST_DAY * 86_400;
        self.first_backup_minute = unix_seconds.saturating_sub(first) / 60;
        self
    }

    /// Serves the routes under this path, like a gateway that mounts the service at `/volume`.
    /// Slashes are normalised: `"volume"`, `"/volume"` and `"/volume/"` are the same prefix, and
    /// `""` or `"/"` means none (the default).
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().path_prefix("/volume/").backups(3).start().await?;
    /// assert!(server.endpoint().ends_with("/volume"));
    /// let pages = walk(&server, format!("{}/v2/{}/backups", server.endpoint(), server.project_id())).await?;
    /// assert_eq!(ids(&pages).len(), 3);
    /// assert!(server.requests()[0].path.starts_with("/volume/v2/"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn path_prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        let trimmed = prefix.trim_matches('/');
        self.prefix = if trimmed.is_empty() {
            String::new()
        } else {
            format!("/{trimmed}")
        };
        self
    }

    /// Turns a quirk on; call it once per quirk. See also [`FakeServer::set_quirks`].
    ///
    /// ```
    /// use vbs_backups_testing::{FakeServer, Quirk};
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder()
    ///     .backups(9)
    ///     .quirk(Quirk::RelativeLink)
    ///     .quirk(Quirk::NoMarker)
    ///     .start()
    ///     .await?;
    /// let url = format!("{}/v2/{}/backups?limit=4", server.endpoint(), server.project_id());
    /// let (_, page) = get(&server, &url).await?;
    /// let next = page["backups_links"][0]["href"].as_str().unwrap_or_default();
    /// assert!(next.starts_with('/') && !next.contains("marker="), "{next}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn quirk(mut self, quirk: Quirk) -> Self {
        self.quirks.push(quirk);
        self
    }

    /// The initial delay of each listing request (default none); see
    /// [`FakeServer::set_latency`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // A server far slower than the client is willing to wait.
    /// let server = FakeServer::builder().latency(Duration::from_secs(3600)).start().await?;
    /// let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_millis(100)).build()?;
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// let answer = http.get(url).header("X-Auth-Token", server.token().unwrap_or_default()).send().await;
    /// assert!(answer.is_err_and(|err| err.is_timeout()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn latency(mut self, per_page: Duration) -> Self {
        self.latency = per_page;
        self
    }

    /// Listens on this port of `127.0.0.1` instead of a random free one (`0`, the default);
    /// [`start`](Self::start) fails if it is taken. Tests should keep the default.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let first = FakeServer::builder().start().await?;
    /// let taken = FakeServer::builder().port(first.addr().port()).start().await;
    /// assert_eq!(taken.err().map(|err| err.kind()), Some(std::io::ErrorKind::AddrInUse));
    /// # Ok(())
    /// # }
    /// ```
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Serves HTTPS (HTTP/1.1 over TLS) with this certificate chain (leaf first) and its
    /// private key (PKCS#8, PKCS#1 or SEC1), both as PEM text, instead of plain HTTP.
    ///
    /// The server still listens on `127.0.0.1` only, but its [`endpoint`](FakeServer::endpoint)
    /// and links name `localhost`, so the certificate must be valid for `localhost`. Clients
    /// must trust its issuer (with `vbs-backups`, `ClientBuilder::trust_additional_ca_file`);
    /// to keep them off other loopback addresses, pin `localhost` to
    /// [`addr`](FakeServer::addr) with `reqwest::ClientBuilder::resolve`. The PEMs are checked
    /// by [`start`](Self::start).
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let key = rcgen::KeyPair::generate()?;
    /// let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])?.self_signed(&key)?;
    /// let server = FakeServer::builder().backups(3).tls(cert.pem(), key.serialize_pem()).start().await?;
    /// assert!(server.endpoint().starts_with("https://localhost:"));
    ///
    /// let http = reqwest::Client::builder()
    ///     .no_proxy()
    ///     .tls_certs_only([reqwest::Certificate::from_pem(cert.pem().as_bytes())?])
    ///     .resolve("localhost", server.addr())
    ///     .build()?;
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// let response = http.get(url).header("X-Auth-Token", server.token().unwrap_or_default()).send().await?;
    /// let page: Value = serde_json::from_str(&response.text().await?)?;
    /// assert_eq!(page["backups"].as_array().map(Vec::len), Some(3));
    /// # Ok(())
    /// # }
    /// ```
    pub fn tls(
        mut self,
        cert_chain_pem: impl Into<String>,
        private_key_pem: impl Into<String>,
    ) -> Self {
        self.tls = Some(TlsPems {
            cert_chain: cert_chain_pem.into(),
            private_key: private_key_pem.into(),
        });
        self
    }

    /// Binds a free port on `127.0.0.1` and spawns the server on the current Tokio runtime.
    ///
    /// # Errors
    ///
    /// Fails if there is no current Tokio runtime or the port cannot be bound, and with
    /// [`io::ErrorKind::InvalidInput`] if the [`tls`](Self::tls) certificate chain or key is not
    /// PEM, holds nothing usable, or the key does not match the certificate.
    ///
    /// ```
    /// use std::io;
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// assert!(server.endpoint().starts_with("http://127.0.0.1:"));
    ///
    /// let err = FakeServer::builder().tls("not a certificate", "not a key").start().await.unwrap_err();
    /// assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start(self) -> io::Result<FakeServer> {
        let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        let acceptor = self.tls.as_ref().map(TlsPems::acceptor).transpose()?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, self.port)).await?;
        let addr = listener.local_addr()?;
        let settings = ServerSettings {
            project_id: self.project_id,
            max_limit: self.max_limit,
            prefix: self.prefix,
            tls: acceptor.is_some(),
            verifier: self.verifier,
            huawei: self.huawei.map(huawei::Gateway::new),
            cbr: self.cbr,
            other_projects: (0..self.other_projects.0)
                .map(|index| other_project_id(self.seed, index))
                .collect(),
            admin: !self.non_admin,
            volumes: volumes::generate(self.seed, self.spare_volumes),
        };
        let mut data = Dataset::generate(
            self.backups,
            self.seed,
            &settings.project_id,
            self.first_backup_minute,
        );
        if !settings.other_projects.is_empty() {
            data.add_other_projects(&settings.other_projects, self.other_projects.1);
        }
        let shared = Arc::new(ServerState::new(
            settings,
            data,
            addr,
            self.seed,
            self.token,
            self.quirks,
            self.latency,
        ));
        let (shutdown, stopped) = oneshot::channel();
        match acceptor {
            Some(acceptor) => runtime.spawn(tls::run(
                listener,
                server::router(Arc::clone(&shared)),
                acceptor,
                stopped,
            )),
            None => runtime.spawn(server::run(listener, Arc::clone(&shared), stopped)),
        };
        Ok(FakeServer {
            shared,
            shutdown: Some(shutdown),
        })
    }
}

/// The id of another project: 32 hex digits, like Keystone's, the same for a seed.
fn other_project_id(seed: u64, index: usize) -> String {
    let high = dataset::mix(seed ^ 0x07E4_0000_0000_0000 ^ index as u64);
    format!("{high:016x}{:016x}", dataset::mix(high))
}

//! A multi-region Huawei Cloud account: IAM listing the account's projects (region
//! projects, a sub-project, `MOS`, a disabled project), and in each region an EVS (the
//! volumes), a VBS and a CBR endpoint that serve every project of the region, behind one
//! per-account request limit.
//!
//! The backups' ages differ by region, so that a coverage audit finds every verdict: see
//! [`LAST_BACKUP_DAYS`]; with [`FakeAccountBuilder::failing_volume`], the backups of the
//! sub-project's volume `logs` all failed.
//!
//! Each project's backups live in a [`FakeServer`] of their own (one per project and
//! service); the region's endpoint is a small router that sends each request, untouched
//! (its `Host` and signature included), to the server of the project its path names, as
//! a real regional endpoint serves every project of the region.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::account_limit::AccountLimit;
use crate::huawei::HuaweiGateway;
use crate::server_handle::FakeServer;

/// Regions a [`FakeAccount`] has projects in, in this order.
pub const ACCOUNT_REGIONS: [&str; 8] = [
    "cn-north-4",
    "cn-east-3",
    "ap-southeast-1",
    "eu-west-0",
    "af-south-1",
    "la-south-2",
    "cn-south-1",
    "ap-southeast-3",
];

/// How many days before the account starts each region's newest VBS and CBR backups were
/// taken, in region order (the fifth region is the first again): both recent; both a month
/// old (stale under a week's maximum age); VBS a month old but CBR recent (protected by CBR
/// alone); VBS recent but CBR over a year old.
pub const LAST_BACKUP_DAYS: [(u64, u64); 4] = [(0, 0), (30, 30), (30, 0), (0, 400)];

/// The access key a [`FakeAccount`] accepts.
pub const ACCOUNT_ACCESS_KEY: &str = "HPUAFAKEACCOUNTKEY";
/// The secret key a [`FakeAccount`] accepts.
pub const ACCOUNT_SECRET_KEY: &str = "fake-account-secret-key";

/// A project of a [`FakeAccount`], as its IAM lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccountProjectInfo {
    /// The project id.
    pub id: String,
    /// Its name: a region, `{region}_prod`, `{region}_old` (disabled) or `MOS`.
    pub name: String,
    /// Whether IAM lists it as enabled.
    pub enabled: bool,
}

/// The backups (or, for `evs`, the volumes) of one project in one service of a
/// [`FakeAccount`].
#[derive(Debug)]
#[non_exhaustive]
pub struct AccountScope {
    /// `vbs`, `cbr` or `evs`.
    pub service: &'static str,
    /// The region.
    pub region: String,
    /// The project.
    pub project: AccountProjectInfo,
    /// The server holding the backups, or the volumes (its requests, its data).
    pub server: FakeServer,
}

/// Configures a [`FakeAccount`].
#[derive(Debug, Clone)]
#[must_use]
pub struct FakeAccountBuilder {
    regions: usize,
    backups: usize,
    spare_volumes: usize,
    failing_volume: bool,
    limit: Option<u32>,
    latency: Duration,
}

/// A multi-region Huawei Cloud account on loopback; see the module documentation.
///
/// ```
/// use vbs_backups_testing::FakeAccount;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let account = FakeAccount::builder().regions(2).backups(3).start().await?;
/// // cn-north-4, cn-north-4_prod and cn-east-3, each in VBS and CBR.
/// assert_eq!(account.scopes().len(), 6);
/// assert!(account.projects().iter().any(|p| p.name == "MOS"));
/// assert!(account.env().iter().any(|(name, _)| name == "HUAWEICLOUD_SDK_REGION_CBR_CN_EAST_3"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct FakeAccount {
    iam: FakeServer,
    projects: Vec<AccountProjectInfo>,
    scopes: Vec<AccountScope>,
    volumes: Vec<AccountScope>,
    /// `(variable, endpoint)` of each region's services.
    endpoints: Vec<(String, String)>,
    limit: Option<AccountLimit>,
    _routers: Vec<oneshot::Sender<()>>,
}

impl FakeAccount {
    /// Two regions, 5 backups a project and service, no request limit, no latency.
    ///
    /// ```
    /// let builder = vbs_backups_testing::FakeAccount::builder().regions(4);
    /// ```
    pub fn builder() -> FakeAccountBuilder {
        FakeAccountBuilder {
            regions: 2,
            backups: 5,
            spare_volumes: 2,
            failing_volume: false,
            limit: None,
            latency: Duration::ZERO,
        }
    }

    /// IAM's endpoint (`HUAWEICLOUD_SDK_IAM_ENDPOINT`).
    ///
    /// ```no_run
    /// # fn f(account: vbs_backups_testing::FakeAccount) { println!("{}", account.iam_endpoint()); }
    /// ```
    pub fn iam_endpoint(&self) -> String {
        self.iam.endpoint()
    }

    /// Every project IAM lists, enabled or not.
    ///
    /// ```no_run
    /// # fn f(account: vbs_backups_testing::FakeAccount) { let n = account.projects().len(); }
    /// ```
    pub fn projects(&self) -> &[AccountProjectInfo] {
        &self.projects
    }

    /// Every (service, project) that holds backups, in region order.
    ///
    /// ```no_run
    /// # fn f(account: vbs_backups_testing::FakeAccount) {
    /// let total: usize = account.scopes().iter().map(|scope| scope.server.backups().len()).sum();
    /// # }
    /// ```
    pub fn scopes(&self) -> &[AccountScope] {
        &self.scopes
    }

    /// Every project's EVS server (service `evs`), holding its volumes, in region order:
    /// the data set's three volumes that still exist (the fourth was deleted: its backups
    /// are orphans) and [`volumes_without_backups`](FakeAccountBuilder::volumes_without_backups)
    /// more.
    ///
    /// ```no_run
    /// # fn f(account: vbs_backups_testing::FakeAccount) {
    /// let volumes: usize = account.volume_scopes().iter().map(|s| s.server.volumes().len()).sum();
    /// # }
    /// ```
    pub fn volume_scopes(&self) -> &[AccountScope] {
        &self.volumes
    }

    /// The IAM server, to count its requests.
    ///
    /// ```no_run
    /// # fn f(account: vbs_backups_testing::FakeAccount) { let n = account.iam().request_count(); }
    /// ```
    pub fn iam(&self) -> &FakeServer {
        &self.iam
    }

    /// The account-wide request limit, if any.
    ///
    /// ```no_run
    /// # fn f(account: vbs_backups_testing::FakeAccount) { let throttled = account.limit().map(|l| l.throttled()); }
    /// ```
    pub fn limit(&self) -> Option<&AccountLimit> {
        self.limit.as_ref()
    }

    /// The environment a Huawei SDK (or `vbs-backups`) needs to reach the account:
    /// `HUAWEICLOUD_SDK_AK`, `HUAWEICLOUD_SDK_SK`, `HUAWEICLOUD_SDK_IAM_ENDPOINT`, and each
    /// region's `HUAWEICLOUD_SDK_REGION_{EVS|VBS|CBR}_{REGION}`.
    ///
    /// ```no_run
    /// # fn f(account: vbs_backups_testing::FakeAccount) {
    /// for (name, value) in account.env() {
    ///     println!("export {name}={value}");
    /// }
    /// # }
    /// ```
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            (
                "HUAWEICLOUD_SDK_AK".to_owned(),
                ACCOUNT_ACCESS_KEY.to_owned(),
            ),
            (
                "HUAWEICLOUD_SDK_SK".to_owned(),
                ACCOUNT_SECRET_KEY.to_owned(),
            ),
            (
                "HUAWEICLOUD_SDK_IAM_ENDPOINT".to_owned(),
                self.iam_endpoint(),
            ),
        ];
        env.extend(self.endpoints.iter().cloned());
        env
    }
}

impl FakeAccountBuilder {
    /// How many regions (1 to 8) have projects: the first ones of [`ACCOUNT_REGIONS`].
    ///
    /// ```
    /// let builder = vbs_backups_testing::FakeAccount::builder().regions(4);
    /// ```
    pub fn regions(mut self, regions: usize) -> Self {
        self.regions = regions.clamp(1, ACCOUNT_REGIONS.len());
        self
    }

    /// Backups in each project and service.
    ///
    /// ```
    /// let builder = vbs_backups_testing::FakeAccount::builder().backups(20);
    /// ```
    pub fn backups(mut self, backups: usize) -> Self {
        self.backups = backups;
        self
    }

    /// Volumes without any backup in each project, beside the data set's three (default 2).
    ///
    /// ```
    /// let builder = vbs_backups_testing::FakeAccount::builder().volumes_without_backups(5);
    /// ```
    pub fn volumes_without_backups(mut self, count: usize) -> Self {
        self.spare_volumes = count;
        self
    }

    /// In the first region's sub-project (`{region}_prod`), the volume `logs` keeps only
    /// its backups in `error`, in VBS and in CBR (the others are deleted, and backups are
    /// created first if none was in error), so that a coverage audit finds it failing.
    /// Off by default: that project then holds another number of backups than the others.
    ///
    /// ```
    /// let builder = vbs_backups_testing::FakeAccount::builder().failing_volume();
    /// ```
    pub fn failing_volume(mut self) -> Self {
        self.failing_volume = true;
        self
    }

    /// Throttles (`APIGW.0308`) every request over `per_second` a second, counted over
    /// every endpoint of the account.
    ///
    /// ```
    /// let builder = vbs_backups_testing::FakeAccount::builder().limit(20);
    /// ```
    pub fn limit(mut self, per_second: u32) -> Self {
        self.limit = Some(per_second);
        self
    }

    /// Latency of every page.
    ///
    /// ```
    /// let builder = vbs_backups_testing::FakeAccount::builder().latency(std::time::Duration::from_millis(50));
    /// ```
    pub fn latency(mut self, per_page: Duration) -> Self {
        self.latency = per_page;
        self
    }

    /// Starts IAM, every project's servers and each region's endpoints.
    ///
    /// # Errors
    ///
    /// When a loopback port cannot be bound.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let account = vbs_backups_testing::FakeAccount::builder().regions(1).start().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start(self) -> io::Result<FakeAccount> {
        let limit = self.limit.map(AccountLimit::per_second);
        let projects = account_projects(self.regions);
        let gateway = || {
            let gateway = HuaweiGateway::new(ACCOUNT_ACCESS_KEY, ACCOUNT_SECRET_KEY);
            match &limit {
                Some(limit) => gateway.account_limit(limit.clone()),
                None => gateway,
            }
        };
        let iam_gateway = projects.iter().fold(gateway(), |iam, project| {
            if project.enabled {
                iam.project(&project.name, &project.id)
            } else {
                iam.disabled_project(&project.name, &project.id)
            }
        });
        let iam = FakeServer::builder()
            .backups(0)
            .huawei(iam_gateway)
            .start()
            .await?;
        let mut scopes = Vec::new();
        let mut volumes = Vec::new();
        let mut endpoints = Vec::new();
        let mut routers = Vec::new();
        for (region_index, region) in ACCOUNT_REGIONS[..self.regions].iter().enumerate() {
            for service in ["evs", "vbs", "cbr"] {
                let mut routes = Vec::new();
                for (index, project) in projects.iter().enumerate() {
                    if !project.enabled || project.name.split('_').next() != Some(*region) {
                        continue;
                    }
                    let server = self
                        .project_server(region_index, service, index, project, gateway())
                        .await?;
                    routes.push((project.id.clone(), server.addr()));
                    let scope = AccountScope {
                        service,
                        region: (*region).to_owned(),
                        project: project.clone(),
                        server,
                    };
                    if service == "evs" {
                        volumes.push(scope);
                    } else {
                        scopes.push(scope);
                    }
                }
                let (addr, stop) = start_router(routes).await?;
                let variable = format!(
                    "HUAWEICLOUD_SDK_REGION_{}_{}",
                    service.to_ascii_uppercase(),
                    region.replace('-', "_").to_ascii_uppercase()
                );
                endpoints.push((variable, format!("http://{addr}")));
                routers.push(stop);
            }
        }
        Ok(FakeAccount {
            iam,
            projects,
            scopes,
            volumes,
            endpoints,
            limit,
            _routers: routers,
        })
    }
}

impl FakeAccountBuilder {
    /// When the oldest backup of `service` in the region was taken: its newest is
    /// [`LAST_BACKUP_DAYS`] and an hour before now.
    /// The server of one project's `service` in the region at `region_index`: its
    /// volumes (`evs`), or its VBS or CBR backups, seeded by the project's `index`.
    async fn project_server(
        &self,
        region_index: usize,
        service: &str,
        index: usize,
        project: &AccountProjectInfo,
        gateway: HuaweiGateway,
    ) -> io::Result<FakeServer> {
        let builder = FakeServer::builder()
            .seed(index as u64 * 2 + u64::from(service == "cbr"))
            .project_id(&project.id)
            .volumes_without_backups(self.spare_volumes)
            .latency(self.latency)
            .huawei(gateway);
        let first = self.first_backup_at(region_index, service);
        let builder = match service {
            "evs" => builder.backups(0),
            "cbr" => builder.backups(self.backups).first_backup_at(first).cbr(),
            _ => builder.backups(self.backups).first_backup_at(first),
        };
        let server = builder.start().await?;
        if self.failing_volume && service != "evs" && project.name.ends_with("_prod") {
            keep_only_failed_backups_of(&server, FAILING_VOLUME);
        }
        Ok(server)
    }

    fn first_backup_at(&self, region_index: usize, service: &str) -> u64 {
        let (vbs, cbr) = LAST_BACKUP_DAYS[region_index % LAST_BACKUP_DAYS.len()];
        let days = if service == "cbr" { cbr } else { vbs };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let spread = (self.backups as u64).div_ceil(2) * 60;
        now.saturating_sub(days * 86_400 + spread + 3_600)
    }
}

/// The volume of the sub-project whose backups all failed (in VBS and in CBR).
const FAILING_VOLUME: &str = "logs";

/// Deletes every backup of the volume named `volume` but those in `error`, so that a
/// coverage audit finds it failing; first creates backups (the seeded sequence goes on)
/// until one of them is in `error`, if none was.
fn keep_only_failed_backups_of(server: &FakeServer, volume: &str) {
    let Some(volume) = server
        .volumes()
        .into_iter()
        .find(|listed| listed.name.as_deref() == Some(volume))
    else {
        return;
    };
    let failed = |server: &FakeServer| {
        server
            .backups()
            .iter()
            .any(|backup| backup.volume_id == volume.id && backup.status == "error")
    };
    // About one backup in 25 is of this volume and in error: 200 is never reached.
    for _ in 0..200 {
        if failed(server) {
            break;
        }
        server.create_backups(1);
    }
    for backup in server.backups() {
        if backup.volume_id == volume.id && backup.status != "error" {
            server.delete_backup(&backup.id);
        }
    }
}

/// The account's projects: each region's, a sub-project and a disabled one in the first
/// region, and `MOS`.
fn account_projects(regions: usize) -> Vec<AccountProjectInfo> {
    let project = |serial: usize, name: String, enabled: bool| AccountProjectInfo {
        id: format!("{:08x}{:024x}", 0x0acc_0000_u32 + serial as u32, serial),
        name,
        enabled,
    };
    let first = ACCOUNT_REGIONS[0];
    let mut projects = vec![project(0, "MOS".to_owned(), true)];
    for (index, region) in ACCOUNT_REGIONS[..regions].iter().enumerate() {
        projects.push(project(index + 1, (*region).to_owned(), true));
    }
    projects.push(project(90, format!("{first}_prod"), true));
    projects.push(project(91, format!("{first}_old"), false));
    projects
}

/// One endpoint in front of several [`FakeServer`]s, one project each: a request goes,
/// untouched, to the server of the project its path names (`/{v2|v3}/{project_id}/…`),
/// as a real service endpoint serves every project. Dropping it stops it.
///
/// ```
/// use vbs_backups_testing::{FakeServer, ProjectRouter};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let a = FakeServer::builder().project_id("pa").start().await?;
/// let b = FakeServer::builder().project_id("pb").start().await?;
/// let router = ProjectRouter::start([&a, &b]).await?;
/// assert!(router.endpoint().starts_with("http://127.0.0.1:"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct ProjectRouter {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl ProjectRouter {
    /// Starts an endpoint in front of `servers`.
    ///
    /// # Errors
    ///
    /// When a loopback port cannot be bound.
    ///
    /// ```no_run
    /// # async fn f(a: vbs_backups_testing::FakeServer) -> std::io::Result<()> {
    /// let router = vbs_backups_testing::ProjectRouter::start([&a]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn start(servers: impl IntoIterator<Item = &FakeServer>) -> io::Result<Self> {
        let routes = servers
            .into_iter()
            .map(|server| (server.project_id().to_owned(), server.addr()))
            .collect();
        let (addr, stop) = start_router(routes).await?;
        Ok(Self { addr, _stop: stop })
    }

    /// The endpoint: `http://127.0.0.1:PORT`.
    ///
    /// ```no_run
    /// # fn f(router: vbs_backups_testing::ProjectRouter) { println!("{}", router.endpoint()); }
    /// ```
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// What a regional endpoint routes by: project id → the server holding it.
type Routes = Arc<Vec<(String, SocketAddr)>>;

/// Starts a regional endpoint that forwards each request to its project's server.
async fn start_router(
    routes: Vec<(String, SocketAddr)>,
) -> io::Result<(SocketAddr, oneshot::Sender<()>)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    // Bodies pass through as they are: no decompression that would change their length.
    let client = reqwest::Client::builder()
        .no_proxy()
        .no_gzip()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(io::Error::other)?;
    let app = Router::new()
        .fallback(forward)
        .with_state((Arc::new(routes), client));
    let (stop, stopped) = oneshot::channel();
    tokio::spawn(async move {
        let serving = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        if let Err(error) = serving.await {
            tracing::warn!(%error, "fake regional endpoint stopped with an error");
        }
    });
    Ok((addr, stop))
}

/// Sends `request` as it came (method, path, query, headers with `Host`, body) to the
/// server of the project its path names (`/{v2|v3}/{project_id}/…`).
async fn forward(
    State((routes, client)): State<(Routes, reqwest::Client)>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let project = parts.uri.path().split('/').nth(2).unwrap_or_default();
    let Some((_, backend)) = routes.iter().find(|(id, _)| id == project) else {
        return plain(StatusCode::NOT_FOUND, "no such project in this region");
    };
    let path_and_query = parts.uri.path_and_query().map_or("/", |path| path.as_str());
    let Ok(body) = axum::body::to_bytes(body, 1 << 20).await else {
        return plain(StatusCode::BAD_REQUEST, "body too large");
    };
    let sent = client
        .request(parts.method, format!("http://{backend}{path_and_query}"))
        .headers(parts.headers)
        .body(body)
        .send()
        .await;
    let Ok(answer) = sent else {
        return plain(
            StatusCode::BAD_GATEWAY,
            "the project's server did not answer",
        );
    };
    let status = answer.status();
    let mut headers = answer.headers().clone();
    headers.remove(axum::http::header::TRANSFER_ENCODING);
    headers.remove(axum::http::header::CONTENT_LENGTH);
    let bytes = answer.bytes().await.unwrap_or_default();
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response
}

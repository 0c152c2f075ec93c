//! [`FakeServer`]: the handle of a running server, through which a test reads and changes
//! what it serves.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::backup::FakeBackup;
use crate::canned::CannedResponse;
use crate::cbr::FakeCbrBackup;
use crate::quirk::Quirk;
use crate::recorded::RecordedRequest;
use crate::server::ServerState;
use crate::sort::{self, InvalidSort};
use crate::volumes::FakeVolume;

/// A running fake backup-list server on `127.0.0.1`.
///
/// Create one with [`FakeServer::builder`]. All methods take `&self`; behaviour can be switched
/// while a client is talking to it. Dropping it shuts the server down gracefully.
pub struct FakeServer {
    pub(crate) shared: Arc<ServerState>,
    pub(crate) shutdown: Option<oneshot::Sender<()>>,
}

impl FakeServer {
    /// The service root to configure a client with: `http://127.0.0.1:PORT`, or
    /// `https://localhost:PORT` for a server started with [`tls`](crate::FakeServerBuilder::tls),
    /// followed by the path prefix, if any, without a trailing slash.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().path_prefix("volume").start().await?;
    /// assert_eq!(server.endpoint(), format!("http://{}/volume", server.addr()));
    /// let pages = walk(&server, format!("{}/v2/{}/backups", server.endpoint(), server.project_id())).await?;
    /// assert_eq!(ids(&pages).len(), server.backups().len());
    /// assert!(server.requests()[0].path.starts_with("/volume/v2/"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn endpoint(&self) -> String {
        let settings = &self.shared.settings;
        let addr = self.shared.addr;
        if settings.tls {
            format!("https://localhost:{}{}", addr.port(), settings.prefix)
        } else {
            format!("http://{addr}{}", settings.prefix)
        }
    }

    /// The address the server listens on.
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().start().await?;
    /// assert_eq!(server.addr().ip(), Ipv4Addr::LOCALHOST);
    ///
    /// // Any HTTP client can talk to it; here, Cinder's 404 page for an unknown path.
    /// let root = reqwest::get(format!("http://{}/", server.addr())).await?;
    /// assert_eq!(root.status(), 404);
    /// # Ok(())
    /// # }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// The only project id the server accepts in the path.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().project_id("p-1234").start().await?;
    /// assert_eq!(server.project_id(), "p-1234");
    ///
    /// // Another project in the path gets Cinder's 400.
    /// let (status, body) = get(&server, &format!("{}/v2/someone-else/backups", server.endpoint())).await?;
    /// assert_eq!(status, 400);
    /// assert_eq!(body["badRequest"]["message"], "Malformed request url");
    /// # Ok(())
    /// # }
    /// ```
    pub fn project_id(&self) -> &str {
        &self.shared.settings.project_id
    }

    /// The token currently required in `X-Auth-Token`, or `None` if any or no token is
    /// accepted; see [`set_token`](Self::set_token).
    ///
    /// ```
    /// use vbs_backups_testing::{DEFAULT_TOKEN, FakeServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let guarded = FakeServer::builder().start().await?;
    /// assert_eq!(guarded.token(), Some(DEFAULT_TOKEN));
    ///
    /// let open = FakeServer::builder().no_auth().start().await?;
    /// assert_eq!(open.token(), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn token(&self) -> Option<&str> {
        self.shared.tokens.current()
    }

    /// From now on, accepts only this token in `X-Auth-Token` (also on a server started with
    /// [`no_auth`](crate::FakeServerBuilder::no_auth)): requests with the old one get the 401, as
    /// when a token expires and a client must fetch a new one. Requests that arrived earlier are
    /// judged by the token current at their arrival.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let server = FakeServer::builder().token("first").start().await?;
    /// server.set_token("second");
    /// assert_eq!(server.token(), Some("second"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_token(&self, token: impl Into<String>) {
        self.shared.tokens.replace(token.into());
    }

    /// Every backup the server holds now, in server order (`created_at` descending, then `id`
    /// descending): what a complete, correct walk over unchanging data must yield.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(7).start().await?;
    /// let url = format!("{}/v2/{}/backups?limit=3", server.endpoint(), server.project_id());
    /// let listed = ids(&walk(&server, url).await?);
    ///
    /// let expected: Vec<_> = server.backups().into_iter().map(|b| b.id).collect();
    /// assert_eq!(listed, expected);
    /// # Ok(())
    /// # }
    /// ```
    pub fn backups(&self) -> Vec<FakeBackup> {
        let mut backups = self.shared.data().backups();
        backups.retain(|backup| backup.project_id == self.project_id());
        backups
    }

    /// Every project's backups in server order (newest first): what an admin lists with
    /// `all_tenants=1`. The same as [`backups`](Self::backups) without
    /// [`FakeServerBuilder::other_projects`](crate::FakeServerBuilder::other_projects).
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let server = FakeServer::builder().backups(4).other_projects(2, 3).start().await?;
    /// assert_eq!(server.backups().len(), 4);
    /// assert_eq!(server.all_backups().len(), 10);
    /// assert_eq!(server.other_project_ids().len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn all_backups(&self) -> Vec<FakeBackup> {
        self.shared.data().backups()
    }

    /// The served project's volumes in server order (newest first); see
    /// [`FakeServerBuilder::volumes_without_backups`](crate::FakeServerBuilder::volumes_without_backups).
    ///
    /// ```
    /// use vbs_backups_testing::{DELETED_VOLUME_ID, FakeServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let server = FakeServer::builder().backups(40).start().await?;
    /// let volumes = server.volumes();
    /// assert_eq!(volumes.len(), 5);
    /// // Some backups belong to a volume that is gone.
    /// assert!(volumes.iter().all(|volume| volume.id != DELETED_VOLUME_ID));
    /// assert!(server.backups().iter().any(|backup| backup.volume_id == DELETED_VOLUME_ID));
    /// # Ok(())
    /// # }
    /// ```
    pub fn volumes(&self) -> Vec<FakeVolume> {
        self.shared.settings.volumes.clone()
    }

    /// The ids of the other projects
    /// ([`FakeServerBuilder::other_projects`](crate::FakeServerBuilder::other_projects)), in order.
    pub fn other_project_ids(&self) -> &[String] {
        &self.shared.settings.other_projects
    }

    /// The backups as the CBR mode ([`FakeServerBuilder::cbr`](crate::FakeServerBuilder::cbr))
    /// serves them, in its default order (the data set's: newest first).
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let server = FakeServer::builder().backups(3).cbr().start().await?;
    /// let cbr = server.cbr_backups();
    /// assert_eq!(cbr.len(), 3);
    /// assert_eq!(cbr[0].resource_type, "OS::Cinder::Volume");
    /// # Ok(())
    /// # }
    /// ```
    pub fn cbr_backups(&self) -> Vec<FakeCbrBackup> {
        self.shared
            .data()
            .rows()
            .iter()
            .map(|row| FakeCbrBackup::of(&row.backup))
            .collect()
    }

    /// Every backup the server holds now, in the order a listing with `sort={sort}` yields it:
    /// `sort` in Cinder's own syntax, `key[:dir][,key[:dir]…]` (a term without a direction is
    /// `desc`; `name` means `display_name`, as from microversion 3.37), like
    /// `"size:desc,id:asc"`, which is what `vbs-backups`' `ListBackups::sort` sends. An empty
    /// `sort` gives the order of [`backups`](Self::backups).
    ///
    /// Like Cinder, the server breaks ties by `created_at` and then `id` (those of them not
    /// sorted by already), both in the direction of the *first* term, so every order is total.
    /// Sorting by `display_name` puts unnamed backups first ascending and last descending;
    /// strings compare bytewise.
    ///
    /// # Errors
    ///
    /// [`InvalidSort`] with Cinder's 400 message for a sort Cinder refuses (an unknown key, a
    /// direction other than `asc` or `desc`).
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(30).start().await?;
    /// let sort = "size:desc,display_name:asc";
    /// let url = format!("{}/v3/{}/backups?sort={sort}&limit=7", server.endpoint(), server.project_id());
    /// let listed = ids(&walk(&server, url).await?);
    ///
    /// let expected = server.backups_sorted(sort)?;
    /// assert!(expected.windows(2).all(|pair| pair[0].size >= pair[1].size));
    /// let expected: Vec<_> = expected.into_iter().map(|b| b.id).collect();
    /// assert_eq!(listed, expected);
    ///
    /// // What Cinder refuses has no order.
    /// assert!(server.backups_sorted("size:upwards").is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn backups_sorted(&self, sort: &str) -> Result<Vec<FakeBackup>, InvalidSort> {
        let terms = sort::parse(sort).map_err(InvalidSort)?;
        let data = self.shared.data();
        let mut backups = if sort::is_default(&terms) {
            data.backups()
        } else {
            data.backups_sorted(&terms)
        };
        backups.retain(|backup| backup.project_id == self.project_id());
        Ok(backups)
    }

    /// Deletes the backup with this id, as if it were deleted while a client is paging; returns
    /// whether it existed. Later pages no longer hold it, and a request with it as `marker` gets
    /// Cinder's 404 `itemNotFound` (`Backup <id> could not be found.`).
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let server = FakeServer::builder().backups(3).start().await?;
    /// let gone = server.backups()[1].id.clone();
    /// assert!(server.delete_backup(&gone));
    /// assert!(!server.delete_backup(&gone));
    /// assert_eq!(server.backups().len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn delete_backup(&self, id: &str) -> bool {
        self.shared.data_mut().remove(id)
    }

    /// Creates `count` backups newer than all the others, as if they were made while a client
    /// is paging: they sort first, so a walk that is already past the first page never sees
    /// them. Returns them in server order.
    ///
    /// The new backups continue the seeded sequence (the same seed and the same calls give the
    /// same backups), their ids were never used on this server, and like the initial ones they
    /// come in pairs sharing a `created_at`.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let server = FakeServer::builder().backups(3).start().await?;
    /// let created = server.create_backups(2);
    /// assert_eq!(server.backups()[..2], created[..]);
    /// assert_eq!(server.backups().len(), 5);
    /// # Ok(())
    /// # }
    /// ```
    pub fn create_backups(&self, count: usize) -> Vec<FakeBackup> {
        self.shared.data_mut().create(count)
    }

    /// Every request received so far, on any path (404s included), in arrival order. Requests
    /// are recorded on arrival, before any latency.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(5).start().await?;
    /// let url = format!("{}/v2/{}/backups?status=available", server.endpoint(), server.project_id());
    /// walk(&server, url).await?;
    ///
    /// let first = &server.requests()[0];
    /// assert_eq!(first.path, format!("/v2/{}/backups", server.project_id()));
    /// assert_eq!(first.param("status").as_deref(), Some("available"));
    /// assert_eq!(first.auth_token.as_deref(), server.token());
    /// # Ok(())
    /// # }
    /// ```
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().log.clone()
    }

    /// The number of requests received so far, on any path.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(25).start().await?;
    /// walk(&server, format!("{}/v2/{}/backups?limit=10", server.endpoint(), server.project_id())).await?;
    /// assert_eq!(server.request_count(), 3); // 10 + 10 + 5
    /// # Ok(())
    /// # }
    /// ```
    pub fn request_count(&self) -> usize {
        self.shared.lock().log.len()
    }

    /// How many requests were abandoned: their client went away (a dropped stream,
    /// a timeout) while the server was still delaying or building the answer, so the
    /// handler was cancelled. Proof that a client really cancels what it no longer needs.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let server = vbs_backups_testing::FakeServer::builder().start().await?;
    /// assert_eq!(server.abandoned_requests(), 0);
    /// # Ok(()) }
    /// ```
    pub fn abandoned_requests(&self) -> u64 {
        self.shared
            .abandoned
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Forgets the requests recorded so far.
    ///
    /// ```
    /// use vbs_backups_testing::FakeServer;
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(5).start().await?;
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// walk(&server, format!("{url}?limit=2")).await?;
    /// server.clear_requests();
    /// assert_eq!(server.request_count(), 0);
    ///
    /// // Only what comes next is recorded.
    /// walk(&server, url).await?;
    /// assert_eq!(server.request_count(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn clear_requests(&self) {
        self.shared.lock().log.clear();
    }

    /// Replaces the active quirks; an empty iterator restores Cinder's behaviour.
    ///
    /// ```
    /// use vbs_backups_testing::{FakeServer, Quirk};
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().backups(6).start().await?;
    /// let url = format!("{}/v2/{}/backups?limit=2", server.endpoint(), server.project_id());
    /// server.set_quirks([Quirk::NoVersionPrefix, Quirk::DropFilters]);
    /// let (_, page) = get(&server, &url).await?;
    /// let next = page["backups_links"][0]["href"].as_str().unwrap_or_default();
    /// assert!(!next.contains("/v2/") && !next.contains("limit="), "{next}");
    ///
    /// server.set_quirks([]); // Cinder's own behaviour again
    /// let (_, page) = get(&server, &url).await?;
    /// let next = page["backups_links"][0]["href"].as_str().unwrap_or_default();
    /// assert!(next.contains("/v2/") && next.contains("limit=2"), "{next}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_quirks(&self, quirks: impl IntoIterator<Item = Quirk>) {
        self.shared.lock().quirks = quirks.into_iter().collect();
    }

    /// Delays every later request on a listing route by `per_page` before it is answered
    /// (canned responses and errors included; requests that get the 404 page are not delayed).
    ///
    /// ```
    /// use std::time::Duration;
    /// use vbs_backups_testing::{DEFAULT_BACKUPS, FakeServer};
    ///
    /// # use vbs_backups_testing::doc_support::{Value, get, ids, sizes, walk};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().latency(Duration::from_secs(3600)).start().await?;
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// let stuck = get(&server, &url);
    /// assert!(tokio::time::timeout(Duration::from_millis(50), stuck).await.is_err());
    ///
    /// server.set_latency(Duration::ZERO);
    /// assert_eq!(ids(&walk(&server, url).await?).len(), DEFAULT_BACKUPS);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_latency(&self, per_page: Duration) {
        self.shared.lock().latency = per_page;
    }

    /// Queues a response: each request on a listing route (and, in Huawei mode, on IAM's
    /// project lists, with status, headers and body only) takes the oldest queued response,
    /// if any, and gets it instead of what the server would answer, before authentication or
    /// any validation (unless it is a [`passthrough`](CannedResponse::passthrough)). The
    /// request is still recorded and delayed by the latency.
    ///
    /// ```
    /// use vbs_backups_testing::{CannedResponse, FakeServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let server = FakeServer::builder().start().await?;
    /// // The first two pages are served, the third fails twice, then paging goes on.
    /// server.push_response(CannedResponse::passthrough());
    /// server.push_response(CannedResponse::passthrough());
    /// for _ in 0..2 {
    ///     server.push_response(CannedResponse::json(503, "{}").header("Retry-After", "1"));
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn push_response(&self, response: CannedResponse) {
        self.shared.lock().canned.push_back(response);
    }

    /// Sets how many seconds the Huawei gateway's clock runs ahead of the machine's
    /// (negative: behind); see
    /// [`HuaweiGateway::clock_offset_secs`](crate::HuaweiGateway::clock_offset_secs). No effect
    /// without [`FakeServerBuilder::huawei`](crate::FakeServerBuilder::huawei).
    ///
    /// ```
    /// use vbs_backups_testing::{FakeServer, HuaweiGateway};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().huawei(HuaweiGateway::new("AK", "SK")).start().await?;
    /// server.set_clock_offset_secs(-3600); // an hour behind: fresh signatures look stale
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_clock_offset_secs(&self, offset: i64) {
        if let Some(gateway) = &self.shared.settings.huawei {
            gateway.set_offset(offset);
        }
    }

    /// Has the Huawei gateway throttle the next `requests` correctly signed requests: `429`
    /// with `{"error_code": "APIGW.0308", …}`. No effect without
    /// [`FakeServerBuilder::huawei`](crate::FakeServerBuilder::huawei).
    ///
    /// ```
    /// use vbs_backups_testing::{FakeServer, HuaweiGateway};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().huawei(HuaweiGateway::new("AK", "SK")).start().await?;
    /// server.throttle_next(2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn throttle_next(&self, requests: u64) {
        if let Some(gateway) = &self.shared.settings.huawei {
            gateway.throttle(requests);
        }
    }

    /// How many requests the Huawei gateway found correctly signed (throttled ones included).
    ///
    /// ```
    /// use vbs_backups_testing::{FakeServer, HuaweiGateway};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().huawei(HuaweiGateway::new("AK", "SK")).start().await?;
    /// assert_eq!(server.signatures_verified(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn signatures_verified(&self) -> u64 {
        self.shared.settings.huawei.as_ref().map_or(0, |gateway| {
            gateway.verified.load(std::sync::atomic::Ordering::SeqCst)
        })
    }

    /// How many requests the Huawei gateway refused with `401 APIGW.0301` (bad, missing or
    /// stale signature, unknown key, wrong project or security token).
    ///
    /// ```
    /// use vbs_backups_testing::{FakeServer, HuaweiGateway};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = FakeServer::builder().huawei(HuaweiGateway::new("AK", "SK")).start().await?;
    /// let url = format!("{}/v2/{}/backups", server.endpoint(), server.project_id());
    /// let response = reqwest::Client::builder().no_proxy().build()?.get(&url).send().await?;
    /// assert_eq!(response.status(), 401);
    /// assert!(response.headers().contains_key("date"));
    /// assert!(response.text().await?.contains("APIGW.0301"));
    /// assert_eq!(server.signatures_refused(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn signatures_refused(&self) -> u64 {
        self.shared.settings.huawei.as_ref().map_or(0, |gateway| {
            gateway.refused.load(std::sync::atomic::Ordering::SeqCst)
        })
    }
}

impl fmt::Debug for FakeServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeServer")
            .field("endpoint", &self.endpoint())
            .field("project_id", &self.project_id())
            .field("auth", &self.token().is_some())
            .field("backups", &self.shared.data().len())
            .finish_non_exhaustive()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            // The server task may already be gone with its runtime: nothing left to stop.
            let _ = shutdown.send(());
        }
    }
}

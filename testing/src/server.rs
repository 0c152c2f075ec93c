//! The HTTP side: routing, authentication, Cinder's listing semantics and next links.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{
    Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use url::form_urlencoded;

use crate::backup::FakeBackup;
use crate::canned::CannedResponse;
use crate::cbr;
use crate::dataset::{Dataset, format_uuid, mix};
use crate::deletion::Deletion;
use crate::huawei::{Gateway, Verdict};
use crate::quirk::Quirk;
use crate::recorded::{self, RecordedRequest};
use crate::render::{self, DetailFields, Entries, ItemLinks};
use crate::row::Row;
use crate::sort::{self, View};
use crate::versions::{self, Microversion, Refused};
use crate::volumes::{self, FakeVolume};

/// Cinder's `DB_MAX_INT`, the largest `offset` it accepts.
const DB_MAX_INT: i64 = 0x7FFF_FFFF;

/// Parameters Cinder's list takes once: a repeat stays behind as a filter on a column that does
/// not exist, which matches nothing.
const SINGLE_PARAMS: [&str; 6] = ["limit", "offset", "marker", "sort", "sort_key", "sort_dir"];

/// oslo's boolean strings, lowercase: `true` ones first.
const BOOLEAN_STRINGS: [&str; 12] = [
    "1", "t", "true", "on", "y", "yes", "0", "f", "false", "off", "n", "no",
];

/// What a [`Verifier`] runs.
type Verify = dyn Fn(&RecordedRequest) -> Result<(), String> + Send + Sync;

/// Judges each listing request as received: `Err` with a message refuses it with a 401.
#[derive(Clone)]
pub(super) struct Verifier(pub(super) Arc<Verify>);

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Verifier(…)")
    }
}

/// Configuration fixed at start.
#[derive(Debug)]
pub(super) struct ServerSettings {
    pub(super) project_id: String,
    pub(super) max_limit: usize,
    pub(super) prefix: String,
    /// Whether the server speaks HTTPS (see [`super::FakeServerBuilder::tls`]).
    pub(super) tls: bool,
    /// See [`super::FakeServerBuilder::verify_requests`].
    pub(super) verifier: Option<Verifier>,
    /// See [`super::FakeServerBuilder::huawei`].
    pub(super) huawei: Option<Gateway>,
    /// See [`super::FakeServerBuilder::cbr`].
    pub(super) cbr: bool,
    /// See [`super::FakeServerBuilder::other_projects`].
    pub(super) other_projects: Vec<String>,
    /// Whether the caller is an admin (see [`super::FakeServerBuilder::non_admin`]).
    pub(super) admin: bool,
    /// The served project's volumes, newest first (see [`super::volumes`]).
    pub(super) volumes: Vec<FakeVolume>,
}

impl ServerSettings {
    /// The scheme of the server's own links.
    pub(super) fn scheme(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }
}

/// What can change while the server runs, and the request log, behind one lock.
#[derive(Debug, Default)]
pub(super) struct Live {
    pub(super) quirks: Vec<Quirk>,
    pub(super) latency: Duration,
    pub(super) canned: VecDeque<CannedResponse>,
    pub(super) log: Vec<RecordedRequest>,
}

/// Everything the request handler and the [`super::FakeServer`] handle share.
#[derive(Debug)]
pub(super) struct ServerState {
    pub(super) settings: ServerSettings,
    data: RwLock<Dataset>,
    pub(super) addr: SocketAddr,
    pub(super) tokens: Tokens,
    live: Mutex<Live>,
    /// Requests whose handler was dropped before its answer was ready: the client
    /// went away (cancelled) while the server was still working on them.
    pub(super) abandoned: AtomicU64,
    requests_served: AtomicU64,
    request_id_salt: u64,
}

impl ServerState {
    pub(super) fn new(
        settings: ServerSettings,
        data: Dataset,
        addr: SocketAddr,
        seed: u64,
        token: Option<String>,
        quirks: Vec<Quirk>,
        latency: Duration,
    ) -> Self {
        Self {
            settings,
            data: RwLock::new(data),
            addr,
            tokens: Tokens::new(token),
            abandoned: AtomicU64::new(0),
            live: Mutex::new(Live {
                quirks,
                latency,
                ..Live::default()
            }),
            requests_served: AtomicU64::new(0),
            request_id_salt: mix(seed ^ u64::from(addr.port())),
        }
    }

    /// Locks the live state; a panic elsewhere while it was held leaves it usable.
    pub(super) fn lock(&self) -> MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The backups, for reading; a panic elsewhere while they were written leaves them usable.
    pub(super) fn data(&self) -> RwLockReadGuard<'_, Dataset> {
        self.data.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The backups, for changing them.
    pub(super) fn data_mut(&self) -> RwLockWriteGuard<'_, Dataset> {
        self.data.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// A fresh `req-<uuid>`: `mix` is a bijection, so ids never repeat on one server.
    fn next_request_id(&self) -> String {
        let serial = self.requests_served.fetch_add(1, Ordering::Relaxed);
        let high = mix(self.request_id_salt.wrapping_add(serial));
        let low = mix(!self.request_id_salt ^ serial);
        format!(
            "req-{}",
            format_uuid((u128::from(high) << 64) | u128::from(low))
        )
    }

    /// The server's own answer to a listing request, with the `/v3` headers once Cinder has
    /// negotiated a version (not on keystonemiddleware's 401, nor on a malformed version).
    fn answer(&self, parts: &Parts, route: &Route<'_>, live: &Snapshot) -> Response {
        if route.volumes {
            return self.refusal(parts, live).unwrap_or_else(|| {
                let base = format!(
                    "{}://{}{}",
                    self.settings.scheme(),
                    link_host(&parts.headers, self.addr),
                    self.settings.prefix
                );
                let origin = volumes::Origin {
                    base: &base,
                    version: route.version.segment(),
                    project: route.project,
                };
                let settings = &self.settings;
                volumes::list(
                    &settings.volumes,
                    &settings.project_id,
                    settings.max_limit,
                    parts,
                    &origin,
                )
            });
        }
        if self.settings.cbr {
            if let Some(refused) = self.refusal(parts, live) {
                return refused;
            }
            return match route {
                Route {
                    version: Version::V3,
                    detail: false,
                    volumes: false,
                    project,
                } => cbr::list(&self.data(), &self.settings.project_id, parts, project),
                _ => render::not_found(),
            };
        }
        let mut negotiated = None;
        let mut response = self.list(parts, route, live, &mut negotiated);
        let echoed =
            negotiated.and_then(|version| HeaderValue::from_str(&format!("volume {version}")).ok());
        if let Some(echoed) = echoed {
            let headers = response.headers_mut();
            headers.insert("openstack-api-version", echoed);
            headers.insert(
                header::VARY,
                HeaderValue::from_static("OpenStack-API-Version"),
            );
        }
        response
    }

    /// The answer to a listing request the server does not let in: the verifier's refusal,
    /// or keystonemiddleware's 401 for a missing or wrong token.
    fn refusal(&self, parts: &Parts, live: &Snapshot) -> Option<Response> {
        if let Some(verifier) = &self.settings.verifier {
            if let Err(message) = (verifier.0)(&recorded::record(parts)) {
                return Some(render::refused(&message));
            }
        }
        if let Some(expected) = &live.token {
            let sent = parts.headers.get("x-auth-token").map(HeaderValue::as_bytes);
            if sent != Some(expected.as_bytes()) {
                return Some(render::unauthorized());
            }
        }
        None
    }

    /// Answers a listing request like Cinder (plus the active quirks); on `/v3`, sets
    /// `negotiated` to the version to echo once it is known.
    fn list(
        &self,
        parts: &Parts,
        route: &Route<'_>,
        live: &Snapshot,
        negotiated: &mut Option<String>,
    ) -> Response {
        let quirks = live.quirks.as_slice();
        if let Some(refused) = self.refusal(parts, live) {
            return refused;
        }
        let version = match route.version {
            // The header means nothing on `/v2`.
            Version::V2 => Microversion::MIN,
            Version::V3 => match versions::negotiate(&parts.headers) {
                Ok(version) => {
                    *negotiated = Some(version.to_string());
                    version
                }
                Err(refused) => {
                    let message = refused.message();
                    return match refused {
                        Refused::Format(_) => {
                            render::fault(StatusCode::BAD_REQUEST, "badRequest", &message)
                        }
                        Refused::Unsupported(asked) => {
                            *negotiated = Some(asked);
                            render::fault(StatusCode::NOT_ACCEPTABLE, "computeFault", &message)
                        }
                    };
                }
            },
        };
        if route.project != self.settings.project_id {
            return render::fault(
                StatusCode::BAD_REQUEST,
                "badRequest",
                "Malformed request url",
            );
        }
        let pairs: Vec<(String, String)> = parts
            .uri
            .query()
            .map(|query| {
                form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        let mut query = match ListQuery::parse(&pairs, version) {
            Ok(query) => query,
            Err(message) => {
                return render::fault(StatusCode::BAD_REQUEST, "badRequest", &message);
            }
        };
        if let Err(message) = self.scope(&mut query, version) {
            return render::fault(StatusCode::BAD_REQUEST, "badRequest", &message);
        }
        if query.matches_nothing {
            return render::empty_page(query.with_count);
        }
        let data = self.data();
        let marker = match query.marker {
            None => None,
            Some(marker) => match data.position(marker) {
                Some(index) => Some(index),
                None => {
                    return render::fault(
                        StatusCode::NOT_FOUND,
                        "itemNotFound",
                        &format!("Backup {marker} could not be found."),
                    );
                }
            },
        };
        // Cinder checks the sort keys only after looking the marker up.
        let terms = match sort::terms(&query.sort) {
            Ok(terms) => terms,
            Err(message) => {
                return render::fault(StatusCode::BAD_REQUEST, "badRequest", &message);
            }
        };
        let order = (!sort::is_default(&terms)).then(|| data.order(&terms));
        let view = View::new(data.rows(), order.as_deref());
        let start = marker
            .and_then(|index| view.position(index))
            .map_or(0, |position| position + 1);
        let size = query.page_size(self.settings.max_limit);
        let count = query.with_count.then(|| {
            if query.has_filters() {
                let rows = data.rows().iter();
                rows.filter(|row| query.matches(&row.backup)).count()
            } else {
                data.len()
            }
        });
        let filter_late = quirks.contains(&Quirk::EmptyPagesLinkOn);
        let page = cut(view, start, size, &query, filter_late, count);
        let host = link_host(&parts.headers, self.addr);
        let segment = route.version.segment();
        let links = ItemLinks::new(
            &format!(
                "{}://{host}{}",
                self.settings.scheme(),
                self.settings.prefix
            ),
            segment,
            &self.settings.project_id,
        );
        let first = view.at(0).map(|row| row.backup.id.as_str());
        let next_href = page
            .next_marker
            .map(|marker| self.next_href(route, &host, &pairs, marker, first, quirks));
        let fields;
        let entries = if route.detail {
            fields = DetailFields {
                encryption_key_id: version >= Microversion::ENCRYPTION_KEY_ID,
                metadata: version >= Microversion::METADATA,
                user_id: version >= Microversion::USER_ID,
                project_attribute: self.settings.admin
                    && version >= Microversion::PROJECT_ATTRIBUTE,
            };
            Entries::Detail(&fields)
        } else {
            Entries::Summary
        };
        render::page(&page.rows, &entries, &links, next_href.as_deref(), count)
    }

    /// Which projects the listing shows, as Cinder's `backup.api.get_all` decides: every
    /// project (or the one of `project_id`) for an admin asking `all_tenants`; the caller's
    /// own otherwise, where an admin's `project_id` is overwritten and a non-admin's is
    /// dropped below 3.31 and refused from it. `None`: no project filter is needed.
    fn scope<'a>(&'a self, query: &mut ListQuery<'a>, version: Microversion) -> Result<(), String> {
        if let Some(raw) = query.all_tenants {
            if parse_bool(raw).is_none() {
                return Err(format!("all_tenants must be a boolean, got '{raw}'."));
            }
        }
        let all_tenants = query.all_tenants.and_then(parse_bool) == Some(true);
        if !self.settings.admin
            && query.project.is_some()
            && version >= Microversion::FILTER_VALIDATION
        {
            return Err("Invalid filters project_id are found in query options.".to_owned());
        }
        if !(self.settings.admin && all_tenants) {
            // The caller's own project; no filter needed while it is the only one.
            query.project = (!self.settings.other_projects.is_empty())
                .then_some(self.settings.project_id.as_str());
        }
        Ok(())
    }

    /// Cinder's next href: the request's parameters in order, `marker` replaced and last; then
    /// the quirks.
    fn next_href(
        &self,
        route: &Route<'_>,
        host: &str,
        pairs: &[(String, String)],
        marker: &str,
        first: Option<&str>,
        quirks: &[Quirk],
    ) -> String {
        let has = |quirk: Quirk| quirks.contains(&quirk);
        let drop_filters = has(Quirk::DropFilters);
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (key, value) in pairs {
            let dropped = key == "marker"
                || (drop_filters
                    && ["name", "status", "volume_id", "limit"].contains(&key.as_str()));
            if !dropped {
                query.append_pair(key, value);
            }
        }
        if !has(Quirk::NoMarker) {
            let marker = match first {
                Some(first) if has(Quirk::RepeatMarker) => first,
                _ => marker,
            };
            query.append_pair("marker", marker);
        }
        let query = query.finish();
        let version = if has(Quirk::NoVersionPrefix) {
            String::new()
        } else {
            format!("/{}", route.version.segment())
        };
        let collection = if route.detail {
            "backups/detail"
        } else {
            "backups"
        };
        let path = format!(
            "{}{version}/{}/{collection}",
            self.settings.prefix, self.settings.project_id
        );
        let path_and_query = if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        };
        if has(Quirk::RelativeLink) {
            return path_and_query;
        }
        let scheme = if has(Quirk::HttpsScheme) {
            "https"
        } else {
            self.settings.scheme()
        };
        let authority = quirks
            .iter()
            .rev()
            .find_map(|quirk| match quirk {
                Quirk::OtherHost(other) => Some(other.as_str()),
                _ => None,
            })
            .unwrap_or(host);
        format!("{scheme}://{authority}{path_and_query}")
    }
}

/// Cuts the page of at most `size` rows starting at position `start` of `view`; `count` is the
/// total of matches when the request asked for it (`with_count`).
///
/// Cinder filters first, then skips `offset` matches and takes the page; with `filter_late`
/// (or no filters, where both agree) the page is cut from the unfiltered rows and only then
/// filtered, its link decided by the unfiltered rows. Either way the work is proportional to
/// the rows walked, not to all rows.
fn cut<'a>(
    view: View<'a>,
    start: usize,
    size: usize,
    query: &ListQuery<'_>,
    filter_late: bool,
    count: Option<usize>,
) -> Cut<'a> {
    if filter_late || !query.has_filters() {
        let begin = start.saturating_add(query.offset).min(view.len());
        let end = begin.saturating_add(size).min(view.len());
        let rows: Vec<&Row> = (begin..end)
            .map_while(|position| view.at(position))
            .collect();
        Cut {
            next_marker: next_marker(rows.last().copied(), rows.len(), size, count),
            rows: rows
                .into_iter()
                .filter(|row| query.matches(&row.backup))
                .collect(),
        }
    } else {
        let rows: Vec<&Row> = view
            .starting_at(start)
            .filter(|row| query.matches(&row.backup))
            .skip(query.offset)
            .take(size)
            .collect();
        Cut {
            next_marker: next_marker(rows.last().copied(), rows.len(), size, count),
            rows,
        }
    }
}

/// The accepted token and the ones before it, append-only: the current one can be lent out
/// (`&str` from `&self`) while another replaces it, without locks or `unsafe`. Every token set
/// is kept until the server is dropped and lookups walk them all: fine for the handful of
/// rotations a test makes.
#[derive(Debug)]
pub(super) struct Tokens {
    /// `None` accepts any token or none.
    token: Option<String>,
    newer: OnceLock<Box<Tokens>>,
}

impl Tokens {
    pub(super) fn new(token: Option<String>) -> Self {
        Self {
            token,
            newer: OnceLock::new(),
        }
    }

    /// The newest token.
    pub(super) fn current(&self) -> Option<&str> {
        let mut node = self;
        while let Some(newer) = node.newer.get() {
            node = newer;
        }
        node.token.as_deref()
    }

    /// Makes `token` the current one.
    pub(super) fn replace(&self, token: String) {
        let mut node = self;
        let mut pending = Box::new(Self::new(Some(token)));
        loop {
            if let Some(newer) = node.newer.get() {
                node = newer;
                continue;
            }
            match node.newer.set(pending) {
                Ok(()) => return,
                // Another replacement got there first: append after it.
                Err(rejected) => pending = rejected,
            }
        }
    }
}

/// Cinder's rule (`len(items) and limit <= item_count`): link on when the page is non-empty
/// and full, or, when the total was counted, whenever the page size is at most that total, so
/// that even a partial last page links on (to an empty page).
fn next_marker(last: Option<&Row>, len: usize, size: usize, count: Option<usize>) -> Option<&str> {
    let item_count = count.filter(|count| *count > 0).unwrap_or(len);
    last.filter(|_| size <= item_count)
        .map(|row| row.backup.id.as_str())
}

/// The whole server as one router: every request goes to the one handler.
pub(super) fn router(shared: Arc<ServerState>) -> Router {
    Router::new().fallback(respond).with_state(shared)
}

/// Serves `shared` over plain HTTP on `listener` until `stopped` fires or its sender is dropped.
pub(super) async fn run(
    listener: TcpListener,
    shared: Arc<ServerState>,
    stopped: oneshot::Receiver<()>,
) {
    let app = router(shared);
    let serving = axum::serve(listener, app).with_graceful_shutdown(async move {
        // Both a shutdown signal and a dropped sender mean stop.
        let _ = stopped.await;
    });
    if let Err(error) = serving.await {
        tracing::warn!(%error, "fake server stopped with an error");
    }
}

/// What a listing request sees of the live state, taken when it arrives.
#[derive(Debug, Default)]
struct Snapshot {
    token: Option<String>,
    quirks: Vec<Quirk>,
    latency: Duration,
    canned: Option<CannedResponse>,
}

/// The one handler: records the request, then routes it by hand.
/// Counts a request as abandoned unless the handler gets as far as its answer.
struct AbandonGuard<'a> {
    abandoned: &'a AtomicU64,
    answered: bool,
}

impl Drop for AbandonGuard<'_> {
    fn drop(&mut self) {
        if !self.answered {
            self.abandoned.fetch_add(1, Ordering::SeqCst);
        }
    }
}

pub(super) async fn respond(State(shared): State<Arc<ServerState>>, request: Request) -> Response {
    let mut guard = AbandonGuard {
        abandoned: &shared.abandoned,
        answered: false,
    };
    let response = answer(&shared, request).await;
    guard.answered = true;
    response
}

/// The largest request body the fake reads (for the Huawei gateway's body hash).
const BODY_LIMIT: usize = 1 << 20;

async fn answer(shared: &ServerState, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .unwrap_or_default();
    let response = answer_parts(shared, &parts, &body).await;
    match &shared.settings.huawei {
        // The gateway's clock, skewed or not, dates every answer.
        Some(gateway) => dated(response, gateway),
        None => response,
    }
}

/// Dates `response` by the gateway's clock, unless it is a canned response with a
/// `Date` of its own (a gateway whose clock jumps between two answers, say).
fn dated(mut response: Response, gateway: &Gateway) -> Response {
    if response.headers().contains_key(header::DATE) {
        return response;
    }
    if let Ok(date) = HeaderValue::from_str(&gateway.date_header()) {
        response.headers_mut().insert(header::DATE, date);
    }
    response
}

/// Whether the request is IAM's project list, `GET [prefix]/v3/projects` or the
/// account's, `GET [prefix]/v3/auth/projects`.
fn is_iam_projects(parts: &Parts, prefix: &str) -> bool {
    parts.method == Method::GET
        && parts
            .uri
            .path()
            .strip_prefix(prefix)
            .unwrap_or(parts.uri.path())
            .trim_end_matches('/')
            .strip_prefix("/v3")
            .is_some_and(|path| path == "/projects" || path == "/auth/projects")
}

async fn answer_parts(shared: &ServerState, parts: &Parts, body: &[u8]) -> Response {
    tracing::debug!(method = %parts.method, uri = %parts.uri, "fake server request");
    let request_id = shared.next_request_id();
    let route = Route::parse(&parts.method, parts.uri.path(), &shared.settings.prefix);
    let deletion = Deletion::parse(&parts.method, parts.uri.path(), &shared.settings.prefix);
    let iam = shared.settings.huawei.is_some() && is_iam_projects(parts, &shared.settings.prefix);
    let mut snapshot = {
        let mut live = shared.lock();
        live.log.push(recorded::record(parts));
        match route.is_some() || deletion.is_some() || iam {
            true => Snapshot {
                token: shared.tokens.current().map(str::to_owned),
                quirks: live.quirks.clone(),
                latency: live.latency,
                canned: live.canned.pop_front(),
            },
            false => Snapshot::default(),
        }
    };
    if let Some(gateway) = &shared.settings.huawei {
        // Canned answers stand for faults in front of the gateway: they come first. A
        // passthrough is the server's own answer, so it is judged like any other.
        if snapshot
            .canned
            .as_ref()
            .is_none_or(|canned| canned.passthrough)
        {
            if let Verdict::Answer(response) =
                gateway.judge(parts, body, &shared.settings.project_id, iam)
            {
                return response;
            }
        }
        if iam {
            let response = match snapshot.canned.take().filter(|canned| !canned.passthrough) {
                // IAM refusing the listing (a policy that does not allow it, say).
                Some(canned) => render::canned(canned),
                None => gateway.projects(parts.uri.query(), &shared.settings.project_id),
            };
            return with_request_id(response, &request_id);
        }
    }
    if let Some(deletion) = deletion.filter(|_| !shared.settings.cbr) {
        let response = match shared.refusal(parts, &snapshot) {
            Some(refused) => refused,
            None => deletion.answer(&mut shared.data_mut(), &shared.settings.project_id),
        };
        return with_request_id(response, &request_id);
    }
    let Some(route) = route else {
        return with_request_id(render::not_found(), &request_id);
    };
    if !snapshot.latency.is_zero() {
        tokio::time::sleep(snapshot.latency).await;
    }
    let response = match snapshot.canned.take() {
        None => shared.answer(parts, &route, &snapshot),
        Some(canned) => {
            if !canned.delay.is_zero() {
                tokio::time::sleep(canned.delay).await;
            }
            let fault = canned.fault;
            let response = if canned.passthrough {
                let mut response = shared.answer(parts, &route, &snapshot);
                render::override_headers(&mut response, &canned.headers);
                response
            } else {
                render::canned(canned)
            };
            match fault {
                Some(fault) => render::with_fault(response, fault).await,
                None => response,
            }
        }
    };
    with_request_id(response, &request_id)
}

/// Adds `X-Openstack-Request-Id` unless the response already has one.
fn with_request_id(mut response: Response, request_id: &str) -> Response {
    let headers = response.headers_mut();
    if !headers.contains_key("x-openstack-request-id") {
        if let Ok(value) = HeaderValue::from_str(request_id) {
            headers.insert("x-openstack-request-id", value);
        }
    }
    response
}

/// The host next and item links are built on: `X-Forwarded-Host`, else `Host`, else the
/// listening address.
fn link_host(headers: &HeaderMap, addr: SocketAddr) -> String {
    headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(header::HOST))
        .and_then(|value| value.to_str().ok())
        .map_or_else(|| addr.to_string(), str::to_owned)
}

/// The API version segment of a listing route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V2,
    V3,
}

impl Version {
    fn segment(self) -> &'static str {
        match self {
            Self::V2 => "v2",
            Self::V3 => "v3",
        }
    }
}

/// A request on `GET {prefix}/{v2|v3}/{project}/backups[/detail]` or
/// `…/volumes/detail`, whatever the project.
#[derive(Debug)]
struct Route<'a> {
    version: Version,
    project: &'a str,
    /// Whether the request is for `/backups/detail` (or `/volumes/detail`).
    detail: bool,
    /// Whether the request is for `/volumes/detail`.
    volumes: bool,
}

impl<'a> Route<'a> {
    fn parse(method: &Method, path: &'a str, prefix: &str) -> Option<Self> {
        if method != Method::GET {
            return None;
        }
        let mut segments = path.strip_prefix(prefix)?.strip_prefix('/')?.split('/');
        let version = match segments.next()? {
            "v2" => Version::V2,
            "v3" => Version::V3,
            _ => return None,
        };
        let project = segments.next().filter(|project| !project.is_empty())?;
        let volumes = match segments.next()? {
            "backups" => false,
            "volumes" => true,
            _ => return None,
        };
        let detail = match segments.next() {
            None if !volumes => false,
            Some("detail") => true,
            _ => return None,
        };
        if segments.next().is_some() {
            return None;
        }
        Some(Self {
            version,
            project,
            detail,
            volumes,
        })
    }
}

/// The validated query of a listing request.
#[derive(Debug, Default)]
struct ListQuery<'a> {
    limit: Option<u64>,
    offset: usize,
    marker: Option<&'a str>,
    name: Option<&'a str>,
    status: Option<&'a str>,
    volume_id: Option<&'a str>,
    /// Only this project's backups (`project_id`, or the caller's own: see `FakeServer::scope`).
    project: Option<&'a str>,
    /// The raw `all_tenants` value (its last occurrence).
    all_tenants: Option<&'a str>,
    /// The sort keys, tie-breakers included, with whether each is descending; not yet checked
    /// against the columns (see [`sort::terms`]).
    sort: Vec<(&'a str, bool)>,
    /// Whether the total of matches is to be counted (`with_count`, from 3.45).
    with_count: bool,
    /// An unknown key, a repeated single parameter (see [`SINGLE_PARAMS`]), or `with_count`
    /// below 3.45: Cinder turns it into a database filter on a column that does not exist, which
    /// matches nothing.
    matches_nothing: bool,
}

impl<'a> ListQuery<'a> {
    /// Validates like Cinder, in its order: `limit`, then `offset` (each from its first
    /// occurrence), then `sort` against `sort_key` and `sort_dir`, then `with_count` (its last
    /// occurrence, from 3.45), then the sort directions.
    fn parse(pairs: &'a [(String, String)], version: Microversion) -> Result<Self, String> {
        let first = |key: &str| {
            pairs
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value.as_str())
        };
        let limit = match first("limit").map(parse_int) {
            None => None,
            Some(None) => return Err("limit param must be an integer".to_owned()),
            Some(Some(limit)) => {
                Some(u64::try_from(limit).map_err(|_| "limit param must be positive".to_owned())?)
            }
        };
        let offset = match first("offset").map(parse_int) {
            None => 0,
            Some(None) => return Err("offset must be an integer".to_owned()),
            Some(Some(offset)) if offset < 0 => return Err("offset must be >= 0".to_owned()),
            Some(Some(offset)) if offset > DB_MAX_INT => {
                return Err(format!("offset must be <= {DB_MAX_INT}"));
            }
            Some(Some(offset)) => usize::try_from(offset).unwrap_or(usize::MAX),
        };
        let sort_params = sort::sort_params(pairs)?;
        let counts = version >= Microversion::WITH_COUNT;
        let last_with_count = pairs
            .iter()
            .rev()
            .find(|(name, _)| name == "with_count")
            .map(|(_, value)| value.as_str());
        let with_count = match last_with_count.filter(|_| counts) {
            None => false,
            Some(value) => parse_bool(value)
                .ok_or_else(|| format!("Value '{value}' for 'with_count' is not a boolean."))?,
        };
        let sort = sort::resolve(sort_params, version >= Microversion::NAME_SORT)?;
        let mut query = Self {
            limit,
            offset,
            marker: first("marker"),
            sort,
            with_count,
            ..Self::default()
        };
        let repeated = |key: &str| pairs.iter().filter(|(name, _)| name == key).count() > 1;
        for (key, value) in pairs {
            match key.as_str() {
                key if SINGLE_PARAMS.contains(&key) => {
                    if repeated(key) {
                        query.matches_nothing = true;
                    }
                }
                "with_count" => {
                    if !counts || repeated("with_count") {
                        query.matches_nothing = true;
                    }
                }
                "name" => query.name = Some(value),
                "status" => query.status = Some(value),
                "volume_id" => query.volume_id = Some(value),
                "project_id" => query.project = Some(value),
                "all_tenants" => query.all_tenants = Some(value),
                _ => query.matches_nothing = true,
            }
        }
        Ok(query)
    }

    /// `limit` capped at `max_limit`; `max_limit` when absent.
    fn page_size(&self, max_limit: usize) -> usize {
        self.limit.map_or(max_limit, |limit| {
            usize::try_from(limit).unwrap_or(usize::MAX).min(max_limit)
        })
    }

    fn has_filters(&self) -> bool {
        self.name.is_some()
            || self.status.is_some()
            || self.volume_id.is_some()
            || self.project.is_some()
    }

    fn matches(&self, backup: &FakeBackup) -> bool {
        self.name
            .is_none_or(|name| backup.name.as_deref() == Some(name))
            && self.status.is_none_or(|status| backup.status == status)
            && self
                .volume_id
                .is_none_or(|volume| backup.volume_id == volume)
            && self
                .project
                .is_none_or(|project| backup.project_id == project)
    }
}

/// oslo's `bool_from_string(strict=True)` behind `is_valid_boolstr`: one of [`BOOLEAN_STRINGS`]
/// in any case, untrimmed.
fn parse_bool(raw: &str) -> Option<bool> {
    let lowered = raw.to_lowercase();
    BOOLEAN_STRINGS
        .iter()
        .position(|text| *text == lowered)
        .map(|index| index < BOOLEAN_STRINGS.len() / 2)
}

/// Python's `int()` on a query value: surrounding whitespace, an optional sign and decimal
/// digits; magnitudes beyond `i64` saturate.
fn parse_int(raw: &str) -> Option<i64> {
    let text = raw.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits.bytes().fold(0_i64, |total, digit| {
        total
            .saturating_mul(10)
            .saturating_add(i64::from(digit - b'0'))
    });
    Some(if negative { -magnitude } else { magnitude })
}

/// A cut page: its rows and the marker its next link carries, if it gets one.
struct Cut<'a> {
    rows: Vec<&'a Row>,
    next_marker: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    //! What needs the handler itself or its private parts; the rest of the server is tested
    //! over HTTP in `tests/`.
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::time::Duration;

    use axum::body::Body;

    use super::*;
    use crate::{CannedResponse, FakeServer};

    /// Answers a GET of `path_and_query` with the server's handler directly, without a socket, and
    /// says how long it took on Tokio's clock. Under `start_paused` that clock stands still except
    /// for the handler's own sleeps, so the duration is exact whatever the machine's load.
    async fn answered_after(server: &FakeServer, path_and_query: &str) -> (u16, Duration) {
        let mut request = axum::http::Request::get(path_and_query);
        if let Some(token) = server.token() {
            request = request.header("x-auth-token", token);
        }
        let request = request.body(Body::empty()).unwrap();
        let started = tokio::time::Instant::now();
        let response = respond(State(Arc::clone(&server.shared)), request).await;
        (response.status().as_u16(), started.elapsed())
    }

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[tokio::test(start_paused = true)]
    async fn latency_delays_listing_requests_only() {
        let server = FakeServer::builder()
            .latency(ms(120))
            .start()
            .await
            .unwrap();
        let listing = format!("/v3/{}/backups", server.project_id());
        assert_eq!(answered_after(&server, &listing).await, (200, ms(120)));

        server.push_response(CannedResponse::json(500, "{}"));
        assert_eq!(answered_after(&server, &listing).await, (500, ms(120)));

        assert_eq!(answered_after(&server, "/v3/").await, (404, Duration::ZERO));

        server.set_latency(Duration::ZERO);
        assert_eq!(
            answered_after(&server, &listing).await,
            (200, Duration::ZERO)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn delay_slows_one_response_on_top_of_the_latency() {
        let server = FakeServer::builder().latency(ms(50)).start().await.unwrap();
        let listing = format!("/v3/{}/backups", server.project_id());
        server.push_response(CannedResponse::passthrough().delay(ms(150)));
        server.push_response(CannedResponse::json(503, "{}").delay(ms(100)));

        assert_eq!(answered_after(&server, &listing).await, (200, ms(200)));
        assert_eq!(answered_after(&server, &listing).await, (503, ms(150)));
        assert_eq!(answered_after(&server, &listing).await, (200, ms(50)));
    }

    #[test]
    fn token_replacements_race_safely() {
        let tokens = Tokens::new(None);
        assert_eq!(tokens.current(), None);
        std::thread::scope(|scope| {
            for thread in 0..4 {
                let tokens = &tokens;
                scope.spawn(move || {
                    for round in 0..500 {
                        tokens.replace(format!("{thread}-{round}"));
                        assert!(tokens.current().is_some());
                    }
                });
            }
        });
        let last = tokens.current().unwrap();
        assert!(last.ends_with("-499"), "{last}");
    }
}

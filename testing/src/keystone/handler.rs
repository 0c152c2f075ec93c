//! The fake Keystone's HTTP side: `POST` and `GET /v3/auth/tokens`, the identities and
//! scopes they check, the token bodies and catalogs they answer with.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::directory::{
    CatalogUrlStyle, FakeApplicationCredential, FakeEndpoint, FakeProject, FakeUser, domain_matches,
};
use super::token::FakeIssuedToken;
use crate::recorded::{self, RecordedRequest};

/// The largest request body read.
const MAX_BODY: usize = 64 * 1024;

/// A callback told about every token issued.
pub(super) type OnIssued = Arc<dyn Fn(&FakeIssuedToken) + Send + Sync>;

/// What is fixed at start.
pub(super) struct KeystoneSettings {
    pub(super) users: Vec<FakeUser>,
    pub(super) projects: Vec<FakeProject>,
    pub(super) credentials: Vec<FakeApplicationCredential>,
    pub(super) region: String,
    pub(super) style: CatalogUrlStyle,
    pub(super) endpoints: Vec<FakeEndpoint>,
    pub(super) on_issued: Vec<OnIssued>,
    pub(super) prefix: String,
}

/// What changes while the server runs.
pub(super) struct LiveState {
    pub(super) issued: Vec<Issued>,
    pub(super) pre_issued: Vec<String>,
    pub(super) lifetime: Duration,
    pub(super) log: Vec<RecordedRequest>,
}

/// A token issued, with what the server needs to judge it later.
pub(super) struct Issued {
    pub(super) token: FakeIssuedToken,
    pub(super) issued_at: String,
    pub(super) valid_until: Instant,
    pub(super) revoked: bool,
}

pub(super) struct KeystoneState {
    pub(super) addr: SocketAddr,
    pub(super) settings: KeystoneSettings,
    pub(super) state: Mutex<LiveState>,
}

/// Who a request authenticated as.
struct Identity {
    user: FakeUser,
    methods: Vec<String>,
    /// Set by an application credential, which brings its own project.
    bound_project: Option<String>,
    application_credential: Option<(String, String)>,
}

/// A refusal: status and Keystone's error body.
struct Refusal {
    status: StatusCode,
    title: &'static str,
    message: String,
}

impl Refusal {
    fn unauthorized() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            title: "Unauthorized",
            message: "The request you have made requires authentication.".to_owned(),
        }
    }

    fn unauthorized_because(message: &str) -> Self {
        Self {
            message: message.to_owned(),
            ..Self::unauthorized()
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            title: "Bad Request",
            message: message.into(),
        }
    }

    fn not_found(message: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            title: "Not Found",
            message: message.to_owned(),
        }
    }

    fn into_response(self, root: &str) -> Response {
        let body = json!({"error": {
            "code": self.status.as_u16(),
            "title": self.title,
            "message": self.message,
        }});
        let mut response = json_response(self.status, &body);
        if self.status == StatusCode::UNAUTHORIZED {
            if let Ok(value) = HeaderValue::from_str(&format!("Keystone uri=\"{root}/v3\"")) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}

impl KeystoneState {
    pub(super) fn lock(&self) -> MutexGuard<'_, LiveState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn root(&self) -> String {
        format!("http://{}{}", self.addr, self.settings.prefix)
    }

    /// `POST /v3/auth/tokens`.
    fn issue(&self, body: &[u8]) -> Result<Response, Refusal> {
        let request: Value = serde_json::from_slice(body)
            .map_err(|err| Refusal::bad_request(format!("Invalid JSON body: {err}")))?;
        let auth = request
            .get("auth")
            .ok_or_else(|| Refusal::bad_request("'auth' is a required property"))?;
        let identity = self.identify(auth.get("identity"))?;
        let scope = auth.get("scope").filter(|scope| !scope.is_null());
        let project = match (&identity.bound_project, scope) {
            (Some(_), Some(_)) => {
                return Err(Refusal::unauthorized_because(
                    "Error authenticating with application credential: Application \
                     credentials cannot request a scope.",
                ));
            }
            (Some(bound), None) => Some(
                self.settings
                    .projects
                    .iter()
                    .find(|project| &project.id == bound)
                    .cloned()
                    .unwrap_or_else(|| FakeProject::new(bound.clone(), bound.clone())),
            ),
            (None, Some(scope)) => Some(self.scoped_project(scope)?),
            // Keystone scopes a token asked without a scope (password or token auth) to
            // the user's default project, if it has one.
            (None, None) => identity
                .user
                .default_project_id
                .as_deref()
                .and_then(|id| self.project_by_id(id)),
        };
        let (issued, body) = {
            let mut state = self.lock();
            let serial = state.issued.len() + 1;
            let lifetime = state.lifetime;
            // Fernet tokens carry whole seconds: both times are rounded down, and the
            // token is good until its rounded expires_at.
            let now = jiff::Timestamp::now();
            let issued_at = stamp(now);
            let expires = whole_seconds(
                now.checked_add(jiff::SignedDuration::try_from(lifetime).unwrap_or_default())
                    .unwrap_or(now),
            );
            let expires_at = stamp(expires);
            let valid_for =
                Duration::try_from(expires.duration_since(now)).unwrap_or(Duration::ZERO);
            let token = FakeIssuedToken {
                token: format!("fake-ks-{:05}-{serial:06}", self.addr.port()),
                methods: identity.methods.clone(),
                user_id: identity.user.id.clone(),
                project_id: project.as_ref().map(|project| project.id.clone()),
                expires_at,
                lifetime,
            };
            let body = self.token_body(&token, &issued_at, &identity, project.as_ref());
            state.issued.push(Issued {
                token: token.clone(),
                issued_at,
                valid_until: Instant::now() + valid_for,
                revoked: false,
            });
            (token, body)
        };
        for callback in &self.settings.on_issued {
            callback(&issued);
        }
        let mut response = json_response(StatusCode::CREATED, &body);
        if let Ok(value) = HeaderValue::from_str(&issued.token) {
            response.headers_mut().insert("x-subject-token", value);
        }
        Ok(response)
    }

    /// `GET /v3/auth/tokens`: the body of a valid subject token.
    /// `GET /v3/auth/projects`: the projects the caller's token may be scoped to (every
    /// project this Keystone knows: the fake gives its users a role in each).
    fn auth_projects(&self, parts: &Parts) -> Result<Response, Refusal> {
        let caller = parts
            .headers
            .get("x-auth-token")
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .ok_or_else(Refusal::unauthorized)?;
        self.token_identity(caller)
            .ok_or_else(Refusal::unauthorized)?;
        let root = self.root();
        let projects: Vec<Value> = self
            .settings
            .projects
            .iter()
            .map(|project| {
                serde_json::json!({
                    "id": project.id,
                    "name": project.name,
                    "domain_id": project.domain_id,
                    "enabled": true,
                    "is_domain": false,
                    "links": {"self": format!("{root}/v3/projects/{}", project.id)},
                })
            })
            .collect();
        let body = serde_json::json!({
            "projects": projects,
            "links": {"self": format!("{root}/v3/auth/projects"), "next": null, "previous": null},
        });
        Ok(json_response(StatusCode::OK, &body))
    }

    fn validate(&self, parts: &Parts) -> Result<Response, Refusal> {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::trim)
        };
        let caller = header("x-auth-token").ok_or_else(Refusal::unauthorized)?;
        self.token_identity(caller)
            .ok_or_else(Refusal::unauthorized)?;
        let subject = header("x-subject-token")
            .ok_or_else(|| Refusal::not_found("Failed to validate token"))?;
        let state = self.lock();
        let body = if let Some(issued) = state.issued.iter().find(|issued| {
            issued.token.token == subject && !issued.revoked && Instant::now() < issued.valid_until
        }) {
            let user = self
                .user_by_id(&issued.token.user_id)
                .ok_or_else(|| Refusal::not_found("Failed to validate token"))?;
            let project = issued
                .token
                .project_id
                .as_deref()
                .and_then(|id| self.project_by_id(id));
            let identity = Identity {
                user,
                methods: issued.token.methods.clone(),
                bound_project: None,
                application_credential: None,
            };
            self.token_body(
                &issued.token,
                &issued.issued_at,
                &identity,
                project.as_ref(),
            )
        } else if state.pre_issued.iter().any(|token| token == subject) {
            let (identity, project) = self.pre_issued_identity()?;
            let now = jiff::Timestamp::now();
            let token = FakeIssuedToken {
                token: subject.to_owned(),
                methods: vec!["password".to_owned()],
                user_id: identity.user.id.clone(),
                project_id: project.as_ref().map(|project| project.id.clone()),
                expires_at: stamp(
                    now.checked_add(jiff::SignedDuration::from_hours(24))
                        .unwrap_or(now),
                ),
                lifetime: Duration::from_secs(24 * 3600),
            };
            self.token_body(&token, &stamp(now), &identity, project.as_ref())
        } else {
            return Err(Refusal::not_found("Failed to validate token"));
        };
        drop(state);
        let mut response = json_response(StatusCode::OK, &body);
        if let Ok(value) = HeaderValue::from_str(subject) {
            response.headers_mut().insert("x-subject-token", value);
        }
        Ok(response)
    }

    fn user_by_id(&self, id: &str) -> Option<FakeUser> {
        self.settings
            .users
            .iter()
            .find(|user| user.id == id)
            .cloned()
    }

    fn project_by_id(&self, id: &str) -> Option<FakeProject> {
        self.settings
            .projects
            .iter()
            .find(|project| project.id == id)
            .cloned()
    }

    /// The default user and project, whom pre-issued tokens belong to.
    fn pre_issued_identity(&self) -> Result<(Identity, Option<FakeProject>), Refusal> {
        let user = self
            .settings
            .users
            .first()
            .cloned()
            .ok_or_else(Refusal::unauthorized)?;
        let project = self.settings.projects.first().cloned();
        Ok((
            Identity {
                user,
                methods: vec!["token".to_owned()],
                bound_project: None,
                application_credential: None,
            },
            project,
        ))
    }

    /// The user behind a valid token (issued or pre-issued).
    fn token_identity(&self, token: &str) -> Option<FakeUser> {
        let state = self.lock();
        if state.pre_issued.iter().any(|known| known == token) {
            return self.settings.users.first().cloned();
        }
        let issued = state.issued.iter().find(|issued| {
            issued.token.token == token && !issued.revoked && Instant::now() < issued.valid_until
        })?;
        self.user_by_id(&issued.token.user_id)
    }

    /// Checks `auth.identity`.
    fn identify(&self, identity: Option<&Value>) -> Result<Identity, Refusal> {
        let identity =
            identity.ok_or_else(|| Refusal::bad_request("'identity' is a required property"))?;
        let methods: Vec<&str> = identity
            .get("methods")
            .and_then(Value::as_array)
            .map(|methods| methods.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let Some(method) = methods.first().copied() else {
            return Err(Refusal::bad_request("'methods' is a required property"));
        };
        let details = identity
            .get(method)
            .ok_or_else(|| Refusal::bad_request(format!("'{method}' is a required property")))?;
        match method {
            "password" => {
                let user = details.get("user").ok_or_else(Refusal::unauthorized)?;
                let password = user.get("password").and_then(Value::as_str);
                let found = self.find_user(user).ok_or_else(Refusal::unauthorized)?;
                if password != Some(found.password.as_str()) {
                    return Err(Refusal::unauthorized());
                }
                Ok(Identity {
                    user: found,
                    methods: vec!["password".to_owned()],
                    bound_project: None,
                    application_credential: None,
                })
            }
            "application_credential" => {
                let secret = details.get("secret").and_then(Value::as_str);
                let credential = match details.get("id").and_then(Value::as_str) {
                    // Keystone answers an unknown id with 404, not 401.
                    Some(id) => Some(
                        self.settings
                            .credentials
                            .iter()
                            .find(|c| c.id == id)
                            .ok_or_else(|| {
                                Refusal::not_found(&format!(
                                    "Could not find Application Credential: {id}."
                                ))
                            })?,
                    ),
                    None => {
                        let name = details.get("name").and_then(Value::as_str);
                        let owner = details
                            .get("user")
                            .and_then(|user| self.find_user(user))
                            .ok_or_else(Refusal::unauthorized)?;
                        self.settings
                            .credentials
                            .iter()
                            .find(|c| Some(c.name.as_str()) == name && c.user_id == owner.id)
                    }
                }
                .ok_or_else(Refusal::unauthorized)?;
                if secret != Some(credential.secret.as_str()) {
                    return Err(Refusal::unauthorized());
                }
                let user = self
                    .user_by_id(&credential.user_id)
                    .ok_or_else(Refusal::unauthorized)?;
                Ok(Identity {
                    user,
                    methods: vec!["application_credential".to_owned()],
                    bound_project: Some(credential.project_id.clone()),
                    application_credential: Some((credential.id.clone(), credential.name.clone())),
                })
            }
            "token" => {
                let token = details
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(Refusal::unauthorized)?;
                let user = self
                    .token_identity(token)
                    .ok_or_else(Refusal::unauthorized)?;
                Ok(Identity {
                    user,
                    methods: vec!["token".to_owned()],
                    bound_project: None,
                    application_credential: None,
                })
            }
            other => Err(Refusal::unauthorized_because(&format!(
                "Attempted to authenticate with an unsupported method: {other}."
            ))),
        }
    }

    /// A user by `{"id"}` or `{"name", "domain": {"id" | "name"}}`.
    fn find_user(&self, user: &Value) -> Option<FakeUser> {
        if let Some(id) = user.get("id").and_then(Value::as_str) {
            return self.user_by_id(id);
        }
        let name = user.get("name").and_then(Value::as_str)?;
        self.settings
            .users
            .iter()
            .find(|candidate| {
                candidate.name == name && candidate.domain_matches(user.get("domain"))
            })
            .cloned()
    }

    /// The project of `{"project": {"id"} | {"name", "domain"}}`.
    fn scoped_project(&self, scope: &Value) -> Result<FakeProject, Refusal> {
        let project = scope
            .get("project")
            .ok_or_else(|| Refusal::unauthorized_because("Only project scope is supported."))?;
        let found = if let Some(id) = project.get("id").and_then(Value::as_str) {
            self.project_by_id(id)
        } else {
            let name = project.get("name").and_then(Value::as_str);
            self.settings
                .projects
                .iter()
                .find(|candidate| {
                    Some(candidate.name.as_str()) == name
                        && domain_matches(
                            project.get("domain"),
                            &candidate.domain_id,
                            &candidate.domain_name,
                        )
                })
                .cloned()
        };
        found
            .filter(|project| project.scopable)
            .ok_or_else(Refusal::unauthorized)
    }

    /// Keystone's `{"token": …}`.
    fn token_body(
        &self,
        token: &FakeIssuedToken,
        issued_at: &str,
        identity: &Identity,
        project: Option<&FakeProject>,
    ) -> Value {
        let user = &identity.user;
        let mut body = json!({
            "methods": token.methods,
            "user": {
                "id": user.id,
                "name": user.name,
                "domain": {"id": user.domain_id, "name": user.domain_name},
                "password_expires_at": null,
            },
            "audit_ids": [format!("audit-{}", token.token)],
            "expires_at": token.expires_at,
            "issued_at": issued_at,
        });
        if let Some(project) = project {
            body["project"] = json!({
                "id": project.id,
                "name": project.name,
                "domain": {"id": project.domain_id, "name": project.domain_name},
            });
            body["is_domain"] = json!(false);
            // Implied roles are listed too: member implies reader.
            body["roles"] = json!([
                {"id": "member-role", "name": "member"},
                {"id": "reader-role", "name": "reader"},
            ]);
            body["catalog"] = self.catalog(&project.id);
        }
        if let Some((id, name)) = &identity.application_credential {
            body["application_credential"] = json!({"id": id, "name": name, "restricted": true});
        }
        json!({ "token": body })
    }

    /// The catalog for a token scoped to `project_id`.
    fn catalog(&self, project_id: &str) -> Value {
        let root = self.root();
        let mut services: Vec<(String, Vec<Value>)> = vec![(
            "identity".to_owned(),
            ["public", "internal", "admin"]
                .iter()
                .map(|interface| {
                    endpoint_json(interface, &self.settings.region, &format!("{root}/v3"))
                })
                .collect(),
        )];
        for endpoint in &self.settings.endpoints {
            let url = match self.settings.style {
                CatalogUrlStyle::PercentTemplate => endpoint.url.clone(),
                CatalogUrlStyle::DollarTemplate => {
                    endpoint.url.replace("%(project_id)s", "$(project_id)s")
                }
                CatalogUrlStyle::Substituted => endpoint.url.replace("%(project_id)s", project_id),
            };
            let region = endpoint.region.as_deref().unwrap_or(&self.settings.region);
            let json = endpoint
                .enabled
                .then(|| endpoint_json(&endpoint.interface, region, &url));
            match services
                .iter_mut()
                .find(|(kind, _)| *kind == endpoint.service_type)
            {
                Some((_, endpoints)) => endpoints.extend(json),
                None => services.push((endpoint.service_type.clone(), json.into_iter().collect())),
            }
        }
        Value::Array(
            services
                .into_iter()
                .enumerate()
                .map(|(index, (service_type, endpoints))| {
                    json!({
                        "type": service_type,
                        "name": service_name(&service_type),
                        "id": format!("service-{index}"),
                        "endpoints": endpoints,
                    })
                })
                .collect(),
        )
    }
}

fn endpoint_json(interface: &str, region: &str, url: &str) -> Value {
    json!({
        "id": format!("{interface}-{url}"),
        "interface": interface,
        "region": region,
        "region_id": region,
        "url": url,
    })
}

fn service_name(service_type: &str) -> &str {
    match service_type {
        "identity" => "keystone",
        "volumev3" => "cinderv3",
        "volumev2" => "cinderv2",
        "block-storage" | "volume" => "cinder",
        other => other,
    }
}

/// Keystone's time format for fernet tokens: whole seconds, `2026-12-04T15:37:22.000000Z`.
fn stamp(time: jiff::Timestamp) -> String {
    whole_seconds(time)
        .strftime("%Y-%m-%dT%H:%M:%S.%6fZ")
        .to_string()
}

/// `time` rounded down to the second.
fn whole_seconds(time: jiff::Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_second(time.as_second()).unwrap_or(time)
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(Body::from(serde_json::to_vec(body).unwrap_or_default()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Serves `shared` on `listener` until `stopped` fires or its sender is dropped.
pub(super) async fn run(
    listener: TcpListener,
    shared: Arc<KeystoneState>,
    stopped: oneshot::Receiver<()>,
) {
    let app = Router::new().fallback(respond).with_state(shared);
    let serving = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stopped.await;
    });
    if let Err(error) = serving.await {
        tracing::warn!(%error, "fake Keystone stopped with an error");
    }
}

async fn respond(State(shared): State<Arc<KeystoneState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    shared.lock().log.push(recorded::record(&parts));
    let root = shared.root();
    let tokens_path = format!("{}/v3/auth/tokens", shared.settings.prefix);
    let projects_path = format!("{}/v3/auth/projects", shared.settings.prefix);
    let path = parts.uri.path().trim_end_matches('/');
    let result = if path == projects_path && parts.method == Method::GET {
        shared.auth_projects(&parts)
    } else if path != tokens_path {
        Err(Refusal::not_found("The resource could not be found."))
    } else if parts.method == Method::POST {
        match axum::body::to_bytes(body, MAX_BODY).await {
            Ok(bytes) => shared.issue(&bytes),
            Err(_) => Err(Refusal::bad_request("The request body is too large.")),
        }
    } else if parts.method == Method::GET {
        shared.validate(&parts)
    } else {
        Err(Refusal {
            status: StatusCode::METHOD_NOT_ALLOWED,
            title: "Method Not Allowed",
            message: "The method is not allowed for the requested URL.".to_owned(),
        })
    };
    let mut response = result.unwrap_or_else(|refusal| refusal.into_response(&root));
    if let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(b"x-openstack-request-id"),
        HeaderValue::from_str(&format!("req-ks-{}", shared.lock().log.len())),
    ) {
        response.headers_mut().insert(name, value);
    }
    response
}

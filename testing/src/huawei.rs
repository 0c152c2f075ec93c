//! Huawei Cloud mode: an API gateway in front of the fake that verifies `SDK-HMAC-SHA256`
//! AK/SK signatures the way Huawei's gateway does, with a clock of its own, throttling,
//! and IAM's `GET /v3/projects?name=`.
//!
//! The verifier is written here from Huawei's rules, independently of the `vbs-backups`
//! library (this crate does not depend on it): it recomputes the signature from the request
//! as received (raw path and query, the headers the client listed as signed, the body) and
//! compares.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

/// The project name [`HuaweiGateway`]'s IAM gives the server's project unless told otherwise:
/// on Huawei Cloud, a region's default project is named after the region.
pub const DEFAULT_HUAWEI_REGION: &str = "cn-north-4";

/// How far `X-Sdk-Date` may be from the gateway's clock.
const MAX_SKEW_SECS: i64 = 15 * 60;

/// The settings of a [`FakeServer`](crate::FakeServer)'s Huawei API gateway; see
/// [`FakeServerBuilder::huawei`](crate::FakeServerBuilder::huawei).
///
/// ```
/// use vbs_backups_testing::HuaweiGateway;
///
/// let gateway = HuaweiGateway::new("HPUAFAKEACCESSKEY", "fake-secret-key")
///     .security_token("fake-security-token") // temporary credentials
///     .clock_offset_secs(-1800) // the gateway's clock runs 30 minutes behind
///     .project("cn-north-4", "b23b579f08c84228b9b4673c46f0c442");
/// ```
#[derive(Debug, Clone)]
pub struct HuaweiGateway {
    access_key: String,
    secret_key: String,
    security_token: Option<String>,
    clock_offset_secs: i64,
    /// IAM's projects, `(name, id)`; `None`: the server's project named [`DEFAULT_HUAWEI_REGION`].
    projects: Option<Vec<(String, String)>>,
    /// Ids of IAM's projects listed as disabled.
    disabled: Vec<String>,
    /// A request limit shared with the other servers of one account.
    account_limit: Option<crate::account_limit::AccountLimit>,
}

impl HuaweiGateway {
    /// A gateway that accepts requests signed with this access key and secret key.
    ///
    /// ```
    /// let gateway = vbs_backups_testing::HuaweiGateway::new("AK", "SK");
    /// ```
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            security_token: None,
            clock_offset_secs: 0,
            projects: None,
            disabled: Vec::new(),
            account_limit: None,
        }
    }

    /// Requires temporary credentials: `X-Security-Token` must be this token, and signed.
    ///
    /// ```
    /// let gateway = vbs_backups_testing::HuaweiGateway::new("AK", "SK").security_token("token");
    /// ```
    #[must_use]
    pub fn security_token(mut self, token: impl Into<String>) -> Self {
        self.security_token = Some(token.into());
        self
    }

    /// The gateway's clock is this many seconds ahead of the machine's (negative: behind);
    /// it also shows in its `Date` headers. See also
    /// [`FakeServer::set_clock_offset_secs`](crate::FakeServer::set_clock_offset_secs).
    ///
    /// ```
    /// let gateway = vbs_backups_testing::HuaweiGateway::new("AK", "SK").clock_offset_secs(3600);
    /// ```
    #[must_use]
    pub fn clock_offset_secs(mut self, offset: i64) -> Self {
        self.clock_offset_secs = offset;
        self
    }

    /// Adds a project to IAM's list (`GET /v3/projects?name=` finds projects by name).
    /// Without any, IAM knows the server's project under the name [`DEFAULT_HUAWEI_REGION`].
    ///
    /// ```
    /// let gateway = vbs_backups_testing::HuaweiGateway::new("AK", "SK")
    ///     .project("ap-southeast-1", "p1")
    ///     .project("ap-southeast-1_dev", "p2");
    /// ```
    #[must_use]
    pub fn project(mut self, name: impl Into<String>, id: impl Into<String>) -> Self {
        self.projects
            .get_or_insert_with(Vec::new)
            .push((name.into(), id.into()));
        self
    }

    /// Adds a project that IAM lists as disabled (`"enabled": false`).
    ///
    /// ```
    /// let gateway = vbs_backups_testing::HuaweiGateway::new("AK", "SK").disabled_project("cn-north-4_old", "p9");
    /// ```
    #[must_use]
    pub fn disabled_project(mut self, name: impl Into<String>, id: impl Into<String>) -> Self {
        let id = id.into();
        self.disabled.push(id.clone());
        self.project(name, id)
    }

    /// Throttles with `APIGW.0308` every signed request over `limit`, which other
    /// gateways of the same account share: the per-account flow control of Huawei's API
    /// gateway.
    ///
    /// ```
    /// use vbs_backups_testing::{AccountLimit, HuaweiGateway};
    ///
    /// let limit = AccountLimit::per_second(20);
    /// let vbs = HuaweiGateway::new("AK", "SK").account_limit(limit.clone());
    /// let cbr = HuaweiGateway::new("AK", "SK").account_limit(limit);
    /// ```
    #[must_use]
    pub fn account_limit(mut self, limit: crate::account_limit::AccountLimit) -> Self {
        self.account_limit = Some(limit);
        self
    }

    /// The access key the gateway accepts.
    ///
    /// ```
    /// assert_eq!(vbs_backups_testing::HuaweiGateway::new("AK", "SK").access_key(), "AK");
    /// ```
    pub fn access_key(&self) -> &str {
        &self.access_key
    }
}

/// The gateway while the server runs: its settings and what can change.
#[derive(Debug)]
pub(crate) struct Gateway {
    settings: HuaweiGateway,
    offset_secs: AtomicI64,
    throttled: AtomicU64,
    pub(crate) verified: AtomicU64,
    pub(crate) refused: AtomicU64,
}

/// What the gateway makes of a request.
pub(crate) enum Verdict {
    /// Signed right: pass it on.
    Pass,
    /// The gateway's own answer.
    Answer(Response),
}

impl Gateway {
    pub(crate) fn new(settings: HuaweiGateway) -> Self {
        Self {
            offset_secs: AtomicI64::new(settings.clock_offset_secs),
            settings,
            throttled: AtomicU64::new(0),
            verified: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    pub(crate) fn set_offset(&self, secs: i64) {
        self.offset_secs.store(secs, Ordering::SeqCst);
    }

    pub(crate) fn throttle(&self, requests: u64) {
        self.throttled.store(requests, Ordering::SeqCst);
    }

    /// The gateway's clock.
    pub(crate) fn now(&self) -> Timestamp {
        let offset = SignedDuration::from_secs(self.offset_secs.load(Ordering::SeqCst));
        let now = Timestamp::now();
        now.checked_add(offset).unwrap_or(now)
    }

    /// The gateway's clock as an HTTP `Date`.
    pub(crate) fn date_header(&self) -> String {
        self.now().strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
    }

    /// Judges a request: its signature, its date, its project, and the throttle.
    pub(crate) fn judge(&self, parts: &Parts, body: &[u8], project_id: &str, iam: bool) -> Verdict {
        if let Err(message) = self.verify(parts, body, project_id, iam) {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return Verdict::Answer(self.error(StatusCode::UNAUTHORIZED, "APIGW.0301", &message));
        }
        self.verified.fetch_add(1, Ordering::SeqCst);
        let throttled = self
            .throttled
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        let over_account_limit = self
            .settings
            .account_limit
            .as_ref()
            .is_some_and(|limit| !limit.admit());
        if throttled || over_account_limit {
            return Verdict::Answer(self.error(
                StatusCode::TOO_MANY_REQUESTS,
                "APIGW.0308",
                "The throttling threshold has been reached: policy user over ratelimit,limit:5,time:1 second",
            ));
        }
        Verdict::Pass
    }

    fn verify(
        &self,
        parts: &Parts,
        body: &[u8],
        project_id: &str,
        iam: bool,
    ) -> Result<(), String> {
        const PREFIX: &str = "Incorrect IAM authentication information";
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .map(|value| String::from_utf8_lossy(value.as_bytes()).trim().to_owned())
        };
        let authorization = header("authorization").unwrap_or_default();
        let fields = authorization
            .strip_prefix("SDK-HMAC-SHA256 ")
            .ok_or_else(|| format!("{PREFIX}: Authorization is not SDK-HMAC-SHA256"))?;
        let field = |name: &str| {
            fields.split(',').find_map(|part| {
                let (key, value) = part.trim().split_once('=')?;
                (key == name).then(|| value.to_owned())
            })
        };
        let (Some(access), Some(signed), Some(signature)) =
            (field("Access"), field("SignedHeaders"), field("Signature"))
        else {
            return Err(format!("{PREFIX}: malformed Authorization header"));
        };
        if access != self.settings.access_key {
            return Err(format!("{PREFIX}: ak not found"));
        }
        let names: Vec<&str> = signed.split(';').collect();
        if !names.contains(&"x-sdk-date") {
            return Err(format!("{PREFIX}: x-sdk-date is not signed"));
        }
        let date = header("x-sdk-date").unwrap_or_default();
        let signed_at = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", &date)
            .ok()
            .and_then(|civil| jiff::tz::Offset::UTC.to_timestamp(civil).ok())
            .ok_or_else(|| format!("{PREFIX}: X-Sdk-Date {date:?} is not YYYYMMDDTHHMMSSZ"))?;
        if self.now().duration_since(signed_at).as_secs().abs() > MAX_SKEW_SECS {
            return Err(format!(
                "{PREFIX}: verify aksk signature fail, signature expired"
            ));
        }
        match (&self.settings.security_token, header("x-security-token")) {
            (None, None) => {}
            (Some(expected), Some(sent)) if *expected == sent => {
                if !names.contains(&"x-security-token") {
                    return Err(format!("{PREFIX}: x-security-token is not signed"));
                }
            }
            _ => return Err(format!("{PREFIX}: security token invalid")),
        }
        let mut canonical_headers = String::new();
        for name in &names {
            let value =
                header(name).ok_or_else(|| format!("{PREFIX}: signed header {name} is missing"))?;
            canonical_headers.push_str(&format!("{name}:{value}\n"));
        }
        let canonical = format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            parts.method.as_str(),
            canonical_path(parts.uri.path()),
            canonical_query(parts.uri.query().unwrap_or("")),
            canonical_headers,
            signed,
            hex(&Sha256::digest(body)),
        );
        let to_sign = format!(
            "SDK-HMAC-SHA256\n{date}\n{}",
            hex(&Sha256::digest(canonical.as_bytes()))
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(self.settings.secret_key.as_bytes())
            .map_err(|_| format!("{PREFIX}: the gateway's key is unusable"))?;
        mac.update(to_sign.as_bytes());
        if hex(&mac.finalize().into_bytes()) != signature {
            return Err(format!("{PREFIX}: verify aksk signature fail"));
        }
        if !iam && header("x-project-id").as_deref() != Some(project_id) {
            return Err(format!("{PREFIX}: X-Project-Id does not match the project"));
        }
        Ok(())
    }

    /// IAM's `GET /v3/projects`, filtered by `name` when given.
    pub(crate) fn projects(&self, query: Option<&str>, server_project: &str) -> Response {
        let name = query
            .into_iter()
            .flat_map(|query| query.split('&'))
            .find_map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (key == "name").then(|| String::from_utf8_lossy(&unescape(value)).into_owned())
            });
        let default = [(DEFAULT_HUAWEI_REGION.to_owned(), server_project.to_owned())];
        let projects = self.settings.projects.as_deref().unwrap_or(&default);
        let listed: Vec<serde_json::Value> = projects
            .iter()
            .filter(|(project, _)| name.as_ref().is_none_or(|name| name == project))
            .map(|(name, id)| {
                serde_json::json!({
                    "id": id,
                    "name": name,
                    "domain_id": "d0a6d9fe1c2f4a3ba5f7e8c9b0a1d2e3",
                    "enabled": !self.settings.disabled.contains(id),
                    "is_domain": false,
                    "parent_id": "d0a6d9fe1c2f4a3ba5f7e8c9b0a1d2e3",
                    "description": "",
                    "links": {"self": format!("https://iam.myhuaweicloud.com/v3/projects/{id}")},
                })
            })
            .collect();
        let body = serde_json::json!({
            "projects": listed,
            "links": {"self": "https://iam.myhuaweicloud.com/v3/projects", "next": null, "previous": null},
        });
        json(StatusCode::OK, &body.to_string())
    }

    /// The gateway's error body, with its request id in the body only.
    fn error(&self, status: StatusCode, code: &str, message: &str) -> Response {
        let serial = self.verified.load(Ordering::SeqCst) + self.refused.load(Ordering::SeqCst);
        let body = serde_json::json!({
            "error_msg": message,
            "error_code": code,
            "request_id": format!("6a2b4f6b2ba1d5e0{serial:016x}"),
        });
        json(status, &body.to_string())
    }
}

fn json(status: StatusCode, body: &str) -> Response {
    let mut response = Response::new(Body::from(body.to_owned()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Whether a byte is sent as it is in a canonical URI or query.
fn unreserved(byte: u8) -> bool {
    matches!(byte, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~')
}

/// Percent-encodes in upper-case hex.
fn encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&byte| {
            if unreserved(byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// Decodes `%XX` only: the gateway takes a `+` in a query for a plus sign, which is why
/// clients must send a space as `%20`.
fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = text.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        let decoded = (first == b'%')
            .then(|| tail.get(..2))
            .flatten()
            .and_then(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok());
        match decoded {
            Some(byte) => {
                out.push(byte);
                rest = &tail[2..];
            }
            None => {
                out.push(first);
                rest = tail;
            }
        }
    }
    out
}

/// The canonical URI: every segment decoded and encoded again, with a trailing `/`.
fn canonical_path(path: &str) -> String {
    let encoded: Vec<String> = path
        .split('/')
        .map(|segment| encode(&unescape(segment)))
        .collect();
    let joined = encoded.join("/");
    if joined.ends_with('/') {
        joined
    } else {
        joined + "/"
    }
}

/// The canonical query: pairs decoded, sorted by key then value, encoded again.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => (unescape(key), unescape(value)),
            None => (unescape(pair), Vec::new()),
        })
        .collect();
    pairs.sort();
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
        .collect();
    encoded.join("&")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms_follow_the_sdks() {
        // huaweicloud-sdk-go-v3 core/auth/signer/signer_test.go, TestSigner_canonicalQueryString.
        assert_eq!(
            canonical_query(
                "test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29&path=%2Ftmp%2F123&multi=3&multi=1&multi=2&limit=1&enable=true"
            ),
            "enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29"
        );
        assert_eq!(canonical_query("a+b=c"), "a%2Bb=c");
        assert_eq!(canonical_query("k&j="), "j=&k=");
        assert_eq!(canonical_path("/v2/p/backups"), "/v2/p/backups/");
        assert_eq!(canonical_path("/a%2fb/"), "/a%2Fb/");
    }
}

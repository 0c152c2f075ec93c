//! Huawei Cloud AK/SK request signing (feature `huawei`): [`AkSkSigner`] is an
//! [`Authorizer`] that signs every request attempt with `SDK-HMAC-SHA256`, exactly as
//! Huawei's SDKs do, corrects for a skewed clock once, and explains a refused signature.
//!
//! The pure algorithm is in `signer.rs`, the credentials in `credentials.rs`, the clock
//! and its correction in `clock.rs`. Endpoints, IAM project discovery and configuration
//! need HTTP and live in `crate::huawei`.

mod clock;
mod credentials;
mod signer;

use std::fmt;
use std::sync::Arc;

use futures::future::{self, BoxFuture};
use jiff::Timestamp;

use super::{Authorizer, OutgoingRequest, Rejection};
use crate::error::{Error, Result};

pub use credentials::Credentials;

/// The header carrying the project a request acts on.
const PROJECT_HEADER: &str = "x-project-id";
/// The header carrying the security token of temporary credentials.
const TOKEN_HEADER: &str = "x-security-token";
/// The API gateway's codes for a refused IAM authentication, a wrong or an expired
/// signature alike (`APIGW.0301` on the shared gateway, `APIG.0301` on dedicated ones):
/// Huawei's "Common Errors Related to IAM Authentication Information". Only an answer
/// with one of them is the gateway's verdict on a signature; a bare 401 may be a
/// proxy's page, whose `Date` says nothing about the gateway's clock.
const AUTH_FAILED: [&str; 2] = ["APIGW.0301", "APIG.0301"];

/// Signs every request attempt with Huawei Cloud's `SDK-HMAC-SHA256` AK/SK scheme.
///
/// Per attempt (first try, retries, redirects) it rewrites the query into its canonical
/// form (pairs sorted by key then value, every byte but `A-Z a-z 0-9 - _ . ~`
/// percent-encoded, so a space travels as `%20`, never `+`): the query signed is the query
/// sent, byte for byte. It then sets `X-Sdk-Date` (now, UTC), `X-Project-Id` when a project
/// is set, `X-Security-Token` for temporary credentials, and `Authorization:
/// SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…` over the method, the canonical
/// URI, the query, every header of the request (names without `_`, as the SDKs do) plus
/// `Host`, and the SHA-256 of the body.
///
/// When the gateway refuses a signature (`401` with its code `APIGW.0301`) and its
/// `Date` header is more than 15 minutes but at most a day from this machine's clock,
/// the signer keeps the difference for the rest of its life (clones share it) and has
/// the request signed again, once. A 401 without the gateway's code (a proxy's page)
/// never moves the clock, nor does a `Date` more than a day off (the hint then says to
/// fix the system clock): each signature tried counts towards the gateway's lock-out.
/// Any other refusal is reported at once, with a hint to check the AK/SK and never either of
/// them: the gateway locks an access key out after a few failures, so a wrong key is
/// never retried.
///
/// [`HuaweiConfig`](crate::huawei::HuaweiConfig) builds a client with one from the
/// environment; by hand:
///
/// ```
/// use vbs_backups::Client;
/// use vbs_backups::huawei::{AkSkSigner, Credentials};
///
/// let project = "b23b579f08c84228b9b4673c46f0c442";
/// let signer = AkSkSigner::new(Credentials::new("HPUAEXAMPLEAK", "secret")).project_id(project);
/// let client = Client::builder()
///     .endpoint("https://vbs.cn-north-4.myhuaweicloud.com")
///     .project_id(project)
///     .authorizer(signer)
///     .build()?;
/// assert!(!format!("{client:?}").contains("secret"));
/// # Ok::<(), vbs_backups::Error>(())
/// ```
#[derive(Clone)]
pub struct AkSkSigner {
    credentials: Arc<Credentials>,
    project_id: Option<String>,
    clock: Arc<clock::Clock>,
}

impl AkSkSigner {
    /// A signer for `credentials`, without a project (see [`project_id`](Self::project_id)).
    ///
    /// ```
    /// use vbs_backups::huawei::{AkSkSigner, Credentials};
    ///
    /// let signer = AkSkSigner::new(Credentials::new("AK", "SK"));
    /// assert_eq!(signer.clock_offset_secs(), 0);
    /// ```
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials: Arc::new(credentials),
            project_id: None,
            clock: Arc::default(),
        }
    }

    /// The project the requests act on, sent (and signed) as `X-Project-Id`, as Huawei's
    /// SDKs send it with project-scoped credentials. A blank id sends none.
    ///
    /// ```
    /// # use vbs_backups::huawei::{AkSkSigner, Credentials};
    /// let signer = AkSkSigner::new(Credentials::new("AK", "SK"))
    ///     .project_id("b23b579f08c84228b9b4673c46f0c442");
    /// ```
    #[must_use]
    pub fn project_id(mut self, project_id: impl Into<String>) -> Self {
        let project_id = project_id.into().trim().to_owned();
        self.project_id = (!project_id.is_empty()).then_some(project_id);
        self
    }

    /// The correction applied to this machine's clock when signing, in seconds (gateway
    /// time minus local time): 0 until a gateway refused a signature for a clock more than
    /// 15 minutes off.
    ///
    /// ```
    /// # use vbs_backups::huawei::{AkSkSigner, Credentials};
    /// let signer = AkSkSigner::new(Credentials::new("AK", "SK"));
    /// assert_eq!(signer.clock_offset_secs(), 0);
    /// ```
    pub fn clock_offset_secs(&self) -> i64 {
        self.clock.offset().as_secs()
    }

    /// The same credentials and clock without a project: for IAM's project list, asked
    /// before the project is known.
    #[cfg_attr(not(feature = "huawei"), allow(dead_code))]
    pub(crate) fn without_project(&self) -> Self {
        Self {
            project_id: None,
            ..self.clone()
        }
    }

    /// Signs `request` as of `time`.
    fn sign(&self, request: &mut OutgoingRequest, time: Timestamp) -> Result<()> {
        let credentials = &self.credentials;
        if credentials.access_key().is_empty() || credentials.secret_key().is_empty() {
            return Err(Error::config(
                "the Huawei Cloud access key or secret key is empty (HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK)",
            ));
        }
        let query = signer::canonical_query(request.query());
        request.set_query(&query)?;
        let date = clock::sdk_date(time);
        request.set_header(signer::DATE_HEADER, &date)?;
        if let Some(project_id) = &self.project_id {
            request.set_header(PROJECT_HEADER, project_id)?;
        }
        if let Some(token) = credentials.token() {
            request.set_secret_header(TOKEN_HEADER, token)?;
        }
        let mut headers: Vec<(String, String)> = request
            .headers()
            .filter(|(name, _)| !name.contains('_') && *name != "authorization")
            .filter_map(|(name, value)| {
                let value = std::str::from_utf8(value).ok()?;
                Some((name.to_owned(), value.to_owned()))
            })
            .collect();
        headers.push(("host".to_owned(), request.host().to_owned()));
        let input = signer::SigningInput {
            method: request.method(),
            path: request.path(),
            query: request.query(),
            headers,
            body: request.body(),
        };
        let authorization = signer::sign(
            &input,
            &date,
            credentials.access_key(),
            credentials.secret_key(),
        );
        let signed_headers = input.signed_headers();
        request.set_secret_header("authorization", &authorization)?;
        // What was signed, for `-vv`: never the signature, the secret key or the token.
        tracing::debug!(
            method = request.method(),
            url = request.url(),
            access_key = %credentials.masked_access_key(),
            signed_headers = %signed_headers,
            x_sdk_date = %date,
            "signed the request (SDK-HMAC-SHA256)"
        );
        Ok(())
    }

    /// The gateway's time, when `rejection` is the gateway refusing a signature.
    fn gateway_time(rejection: &Rejection<'_>) -> Option<Timestamp> {
        let refused_signature = rejection.status() == 401
            && gateway_code(rejection.body())
                .is_some_and(|code| AUTH_FAILED.contains(&code.as_str()));
        if !refused_signature {
            return None;
        }
        clock::parse_http_date(rejection.header("date")?)
    }
}

/// The API gateway's `error_code`, if the body is one of its errors.
fn gateway_code(body: &[u8]) -> Option<String> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    json.get("error_code")?.as_str().map(str::to_owned)
}

impl Authorizer for AkSkSigner {
    fn authorize<'a>(&'a self, request: &'a mut OutgoingRequest) -> BoxFuture<'a, Result<()>> {
        Box::pin(future::ready(self.sign(request, self.clock.now())))
    }

    fn unauthorized<'a>(&'a self, rejection: &'a Rejection<'a>) -> BoxFuture<'a, Result<bool>> {
        let again = Self::gateway_time(rejection).is_some_and(|gateway| {
            if clock::skew(gateway, self.clock.now()).is_none() {
                return false;
            }
            let local = Timestamp::now();
            let offset = gateway.duration_since(local);
            if !clock::adoptable(offset) {
                return false;
            }
            self.clock.set_offset(offset);
            tracing::warn!(
                gateway = %gateway,
                local = %local,
                offset = %clock::human(offset),
                "the API gateway's clock and this machine's differ by more than 15 minutes; \
                 signing with the gateway's time from now on"
            );
            true
        });
        Box::pin(future::ready(Ok(again)))
    }

    fn hint(&self, rejection: &Rejection<'_>) -> Option<String> {
        let offset = self.clock.offset();
        let local = Timestamp::now();
        if let Some(gateway) = Self::gateway_time(rejection) {
            if clock::skew(gateway, self.clock.now()).is_some() {
                let tried = if offset.is_zero() {
                    String::new()
                } else {
                    format!(
                        "; signing with the clock corrected by {} did not help",
                        clock::human(offset)
                    )
                };
                let apart = gateway.duration_since(local);
                let limit = if clock::adoptable(apart) {
                    "more than the 15 minutes a signature is valid for"
                } else {
                    "more than a day, too far to sign with the gateway's time"
                };
                return Some(format!(
                    "clock skew: the API gateway's clock says {}, this machine's {} \
                     ({} apart, {limit}){tried}: check the system clock (NTP)",
                    clock::show(gateway),
                    clock::show(local),
                    clock::human(apart),
                ));
            }
            if !offset.is_zero() {
                return Some(format!(
                    "the API gateway refused the signature made with this machine's clock \
                     ({}) corrected by {} to the gateway's ({}): check the AK/SK",
                    clock::show(local),
                    clock::human(offset),
                    clock::show(gateway),
                ));
            }
        }
        let what = if self.credentials.is_temporary() {
            "the AK/SK and the security token (HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, \
             HUAWEICLOUD_SDK_SECURITY_TOKEN, or the credentials file); temporary credentials \
             expire"
        } else {
            "the AK/SK (HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK, or the credentials file) \
             and that the access key is enabled"
        };
        Some(format!(
            "the API gateway refused the AK/SK signature of access key {}: check {what}; \
             not retried, as the gateway locks an access key out after repeated failures",
            self.credentials.masked_access_key()
        ))
    }
}

impl fmt::Debug for AkSkSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AkSkSigner")
            .field("credentials", &self.credentials)
            .field("project_id", &self.project_id)
            .field("clock_offset_secs", &self.clock_offset_secs())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use reqwest::Method;
    use url::Url;

    use super::*;

    fn request(url: &str) -> OutgoingRequest {
        let mut request = OutgoingRequest::new(Method::GET, Url::parse(url).unwrap());
        request.set_header("accept", "application/json").unwrap();
        request
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn signs_the_canonical_query_and_sends_it() {
        let signer = AkSkSigner::new(Credentials::new("AccessKey", "SecretKey")).project_id("p1");
        let mut request = request(
            "https://vbs.cn-north-4.myhuaweicloud.com/v2/p1/backups?name=a+b%2Bc&limit=2&TEST_X=1",
        );
        signer
            .sign(&mut request, at("2020-06-08T02:39:00Z"))
            .unwrap();
        assert_eq!(request.query(), "TEST_X=1&limit=2&name=a%20b%2Bc");
        assert!(
            request
                .url()
                .ends_with("/v2/p1/backups?TEST_X=1&limit=2&name=a%20b%2Bc")
        );
        assert_eq!(request.header("x-sdk-date"), Some("20200608T023900Z"));
        assert_eq!(request.header("x-project-id"), Some("p1"));
        assert_eq!(request.header("x-security-token"), None);
        let authorization = request.header("authorization").unwrap().to_owned();
        assert!(
            authorization.starts_with(
                "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=accept;host;x-project-id;x-sdk-date, Signature="
            ),
            "{authorization}"
        );
        // The same request, signed by the reference steps by hand.
        let input = signer::SigningInput {
            method: "GET",
            path: "/v2/p1/backups",
            query: "TEST_X=1&limit=2&name=a%20b%2Bc",
            headers: vec![
                ("accept".into(), "application/json".into()),
                ("host".into(), "vbs.cn-north-4.myhuaweicloud.com".into()),
                ("x-project-id".into(), "p1".into()),
                ("x-sdk-date".into(), "20200608T023900Z".into()),
            ],
            body: b"",
        };
        assert_eq!(
            authorization,
            signer::sign(&input, "20200608T023900Z", "AccessKey", "SecretKey")
        );
        // Secrets are hidden from Debug.
        let shown = format!("{request:?} {signer:?}");
        assert!(
            !shown.contains("SecretKey") && !shown.contains(&authorization),
            "{shown}"
        );
    }

    #[test]
    fn temporary_credentials_sign_the_security_token() {
        let credentials = Credentials::new("AK", "SK").security_token("tok3n");
        let signer = AkSkSigner::new(credentials).project_id("p");
        let mut request = request("http://127.0.0.1:8776/v2/p/backups");
        signer
            .sign(&mut request, at("2026-01-01T00:00:00Z"))
            .unwrap();
        assert_eq!(request.header("x-security-token"), Some("tok3n"));
        assert!(
            request
                .header("authorization")
                .unwrap()
                .contains("SignedHeaders=accept;host;x-project-id;x-sdk-date;x-security-token,")
        );
        assert!(request.secrets.iter().any(|secret| secret == "tok3n"));
        assert_eq!(request.query(), "");
        assert!(!request.url().contains('?'));
    }

    #[test]
    fn without_project_sends_no_project_header_and_shares_the_clock() {
        let signer = AkSkSigner::new(Credentials::new("AK", "SK")).project_id("p");
        let iam = signer.without_project();
        signer.clock.set_offset(jiff::SignedDuration::from_secs(60));
        assert_eq!(iam.clock_offset_secs(), 60);
        let mut request = request("https://iam.myhuaweicloud.com/v3/projects?name=cn-north-4");
        iam.sign(&mut request, at("2026-01-01T00:00:00Z")).unwrap();
        assert_eq!(request.header("x-project-id"), None);
    }

    fn rejection_hint(signer: &AkSkSigner, gateway: Timestamp) -> (bool, Option<String>) {
        let mut headers = reqwest::header::HeaderMap::new();
        let date = gateway.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string();
        headers.insert("date", date.parse().unwrap());
        let body = br#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail, signature expired","request_id":"r"}"#;
        let rejection = Rejection {
            status: 401,
            headers: &headers,
            body,
        };
        let again = futures::executor::block_on(signer.unauthorized(&rejection)).unwrap();
        (again, signer.hint(&rejection))
    }

    #[test]
    fn a_skew_is_corrected_and_one_that_persists_names_both_clocks() {
        let signer = AkSkSigner::new(Credentials::new("HPUAKEY", "SK"));
        let ahead = Timestamp::now() + jiff::SignedDuration::from_secs(3600);
        let (again, _) = rejection_hint(&signer, ahead);
        assert!(again, "signed again with the gateway's time");
        assert!((3590..=3610).contains(&signer.clock_offset_secs()));
        // The gateway's clock jumped again: still off after the correction.
        let behind = Timestamp::now() - jiff::SignedDuration::from_secs(7200);
        let hint = signer.hint(&Rejection {
            status: 401,
            headers: &{
                let mut headers = reqwest::header::HeaderMap::new();
                let date = behind.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string();
                headers.insert("date", date.parse().unwrap());
                headers
            },
            body: br#"{"error_code":"APIGW.0301","error_msg":"expired"}"#,
        });
        let hint = hint.unwrap();
        assert!(
            hint.starts_with("clock skew: the API gateway's clock says "),
            "{hint}"
        );
        assert!(hint.contains("this machine's"), "{hint}");
        assert!(hint.contains("-2h 00m"), "{hint}");
        assert!(hint.contains("did not help"), "{hint}");
        // A refusal with the clocks in step is about the key: no retry.
        let fresh = AkSkSigner::new(Credentials::new("HPUAKEY", "SK"));
        let (again, hint) = rejection_hint(&fresh, Timestamp::now());
        assert!(!again);
        let hint = hint.unwrap();
        assert!(
            hint.contains("check the AK/SK") && hint.contains("HPUA…"),
            "{hint}"
        );
        assert!(!hint.contains("HPUAKEY"), "{hint}");
        assert_eq!(fresh.clock_offset_secs(), 0);
    }

    fn rejection(
        gateway: Timestamp,
        body: &'static [u8],
    ) -> (reqwest::header::HeaderMap, &'static [u8]) {
        let mut headers = reqwest::header::HeaderMap::new();
        let date = gateway.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string();
        headers.insert("date", date.parse().unwrap());
        (headers, body)
    }

    fn adopts(signer: &AkSkSigner, gateway: Timestamp, body: &'static [u8]) -> bool {
        let (headers, body) = rejection(gateway, body);
        let rejection = Rejection {
            status: 401,
            headers: &headers,
            body,
        };
        futures::executor::block_on(signer.unauthorized(&rejection)).unwrap()
    }

    #[test]
    fn a_401_without_the_gateways_code_never_moves_the_clock() {
        // A proxy's or a load balancer's page, with a `Date` an hour or years off.
        let signer = AkSkSigner::new(Credentials::new("HPUAKEY", "SK"));
        let hour = Timestamp::now() + jiff::SignedDuration::from_secs(3600);
        let years = Timestamp::now() - jiff::SignedDuration::from_hours(24 * 365 * 3);
        for body in [
            &b"<html>401 Authorization Required</html>"[..],
            b"",
            br#"{"message":"unauthorized"}"#,
        ] {
            let body: &'static [u8] = Box::leak(body.to_vec().into_boxed_slice());
            assert!(
                !adopts(&signer, hour, body),
                "{:?}",
                String::from_utf8_lossy(body)
            );
            assert!(!adopts(&signer, years, body));
        }
        // Another gateway code (throttling, a token error of another service) neither.
        assert!(!adopts(
            &signer,
            hour,
            br#"{"error_code":"APIGW.0308","error_msg":"slow down"}"#
        ));
        assert_eq!(signer.clock_offset_secs(), 0);
    }

    #[test]
    fn an_offset_beyond_a_day_is_never_adopted_and_the_hint_says_so() {
        let signer = AkSkSigner::new(Credentials::new("HPUAKEY", "SK"));
        let body = br#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail"}"#;
        let years = Timestamp::now() + jiff::SignedDuration::from_hours(24 * 365 * 5);
        assert!(!adopts(&signer, years, body));
        let two_days = Timestamp::now() - jiff::SignedDuration::from_hours(48);
        assert!(!adopts(&signer, two_days, body));
        assert_eq!(signer.clock_offset_secs(), 0);
        let (headers, body) = rejection(two_days, body);
        let hint = signer
            .hint(&Rejection {
                status: 401,
                headers: &headers,
                body,
            })
            .unwrap();
        assert!(hint.contains("more than a day"), "{hint}");
        assert!(!hint.contains("  "), "one clean line: {hint}");
        assert!(hint.contains("check the system clock"), "{hint}");
        // The dedicated gateway's spelling of the same code is the gateway's answer too.
        let hour = Timestamp::now() + jiff::SignedDuration::from_secs(3600);
        assert!(adopts(
            &signer,
            hour,
            br#"{"error_code":"APIG.0301","error_msg":"signature expired"}"#
        ));
        assert!((3590..=3610).contains(&signer.clock_offset_secs()));
    }

    #[test]
    fn empty_keys_are_a_configuration_error() {
        let signer = AkSkSigner::new(Credentials::new("AK", " "));
        let err = signer
            .sign(&mut request("http://h/x"), at("2026-01-01T00:00:00Z"))
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Config);
        assert!(err.to_string().contains("HUAWEICLOUD_SDK_SK"), "{err}");
    }
}

//! The one request pipeline: every request the library makes (volume pages, Keystone
//! tokens) goes through [`Pipeline::send`].
//!
//! Per attempt it authorizes the request as it will be sent, sends it, follows a
//! redirect only within the request's own origin (authorizing the new URL afresh), and
//! turns a failure into an [`Error`] with the server's message, the request id and no
//! secret in it. Across attempts it retries what may succeed next time (with backoff,
//! jitter and `Retry-After`) and gives the authorizer one chance after a 401.

mod body;
mod budget;
mod options;
mod retry;
mod service_url;

use std::sync::Arc;

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderValue, LOCATION};
use url::Url;

use crate::auth::{Authorizer, OutgoingRequest, Rejection};
use crate::error::{Error, ErrorKind, Result};

pub use budget::RequestBudget;
pub use options::HttpOptions;
pub use retry::RetryPolicy;
pub(crate) use service_url::parse_service_url;

/// Headers in which OpenStack services and gateways report their request id.
const REQUEST_ID_HEADERS: [&str; 3] = [
    "x-openstack-request-id",
    "x-compute-request-id",
    "x-request-id",
];

const MAX_REDIRECTS: usize = 10;

/// Sends requests with one set of [`HttpOptions`]. Cheap to clone: clones share the
/// connection pool.
#[derive(Clone)]
pub(crate) struct Pipeline {
    inner: Arc<PipelineInner>,
}

struct PipelineInner {
    client: reqwest::Client,
    retry: RetryPolicy,
    body_limit: usize,
    budget: Option<RequestBudget>,
}

/// A request to send: what every attempt starts from.
pub(crate) struct Request {
    outgoing: OutgoingRequest,
    follow_redirects: bool,
    /// What the request is for, in log lines ("page request", "Keystone request").
    purpose: &'static str,
}

impl Request {
    /// A `GET` that may follow redirects within its origin.
    pub(crate) fn get(url: Url, purpose: &'static str) -> Self {
        Self {
            outgoing: OutgoingRequest::new(Method::GET, url),
            follow_redirects: true,
            purpose,
        }
        .header_static("accept", "application/json")
    }

    /// A `POST` of a JSON body; never redirected, so the body goes nowhere else.
    #[cfg(feature = "keystone")]
    pub(crate) fn post_json(url: Url, body: Vec<u8>, purpose: &'static str) -> Self {
        let mut request = Self {
            outgoing: OutgoingRequest::new(Method::POST, url),
            follow_redirects: false,
            purpose,
        }
        .header_static("accept", "application/json")
        .header_static("content-type", "application/json");
        request.outgoing.body = body;
        request
    }

    /// Never follows a redirect: credentials in it are for this URL only.
    #[cfg(feature = "keystone")]
    pub(crate) fn no_redirects(mut self) -> Self {
        self.follow_redirects = false;
        self
    }

    fn header_static(mut self, name: &'static str, value: &'static str) -> Self {
        self.outgoing
            .headers
            .insert(name, HeaderValue::from_static(value));
        self
    }

    /// Adds a header every attempt carries.
    pub(crate) fn header(mut self, name: &'static str, value: HeaderValue) -> Self {
        self.outgoing.headers.insert(name, value);
        self
    }

    /// Adds a secret header every attempt carries (redacted from error messages).
    #[cfg(feature = "keystone")]
    pub(crate) fn secret_header(mut self, name: &str, value: &str) -> Result<Self> {
        self.outgoing.set_secret_header(name, value)?;
        Ok(self)
    }

    /// A secret the body carries, to redact from error messages.
    #[cfg(feature = "keystone")]
    pub(crate) fn secret(mut self, secret: &str) -> Self {
        self.outgoing.add_secret(secret);
        self
    }

    /// The attempt to send to `url`: the request's own headers and body.
    fn attempt(&self, url: &Url) -> OutgoingRequest {
        OutgoingRequest {
            method: self.outgoing.method.clone(),
            url: url.clone(),
            headers: self.outgoing.headers.clone(),
            body: self.outgoing.body.clone(),
            secrets: self.outgoing.secrets.clone(),
        }
    }
}

/// A successful response, as the reader of its body sees it.
pub(crate) struct Response<'a> {
    pub(crate) headers: &'a HeaderMap,
    /// Shared bytes: a reader may keep them (cloning is a reference count).
    pub(crate) body: &'a bytes::Bytes,
}

/// How one attempt ended, when it did not give the response.
enum Failed {
    /// Go to this URL of the same origin instead.
    Redirect(Url),
    /// The error, and whether the authorizer asked for another try after a 401.
    Error { err: Error, reauthorized: bool },
}

impl Pipeline {
    /// A pipeline with these options, started from a caller's own reqwest builder if any.
    pub(crate) fn new(options: HttpOptions, base: Option<reqwest::ClientBuilder>) -> Result<Self> {
        let client = options.build_client(base)?;
        Ok(Self {
            inner: Arc::new(PipelineInner {
                client,
                retry: options.retry().clone(),
                body_limit: options.body_limit(),
                budget: options.request_budget().cloned(),
            }),
        })
    }

    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// Sends `request`, authorized by `auth` on every attempt, and hands the body of the
    /// first success to `read`. Transient failures are retried per the retry policy; a
    /// 401 is retried once if the authorizer asks for it.
    pub(crate) async fn send<R>(
        &self,
        request: &Request,
        auth: Option<&dyn Authorizer>,
        mut read: impl FnMut(Response<'_>) -> Result<R>,
    ) -> Result<R> {
        ensure_timers()?;
        let policy = &self.inner.retry;
        let mut url = request.outgoing.url.clone();
        let mut redirects = 0;
        let mut reauthorized = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            tracing::Span::current().record("attempt", attempt);
            if let Some(budget) = &self.inner.budget {
                budget.admit().await;
            }
            let outcome = self
                .send_once(request, &url, auth, !reauthorized, &mut read)
                .await;
            if let (Some(budget), Err(Failed::Error { err, .. })) = (&self.inner.budget, &outcome) {
                budget.observe(err);
            }
            let err = match outcome {
                Ok(value) => return Ok(value),
                Err(Failed::Redirect(target)) => {
                    redirects += 1;
                    if redirects > MAX_REDIRECTS {
                        return Err(Error::new(
                            ErrorKind::Transport,
                            format!("more than {MAX_REDIRECTS} redirects"),
                        ));
                    }
                    url = target;
                    attempt -= 1;
                    continue;
                }
                Err(Failed::Error {
                    reauthorized: true, ..
                }) => {
                    reauthorized = true;
                    continue;
                }
                Err(Failed::Error { err, .. }) => err,
            };
            if !err.is_retryable() || attempt >= policy.attempts() {
                return Err(err);
            }
            let Some(delay) = policy.delay(attempt, err.retry_after()) else {
                tracing::warn!(
                    retry_after = ?err.retry_after(),
                    cap = ?policy.retry_after_cap(),
                    reason = %err,
                    request = request.purpose,
                    "the server asks to wait longer than the Retry-After cap; not retrying"
                );
                return Err(err);
            };
            tracing::warn!(
                attempt,
                ?delay,
                reason = %err,
                request = request.purpose,
                "request failed; retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn send_once<R>(
        &self,
        request: &Request,
        url: &Url,
        auth: Option<&dyn Authorizer>,
        may_reauthorize: bool,
        read: &mut impl FnMut(Response<'_>) -> Result<R>,
    ) -> Result<R, Failed> {
        let failed = |err: Error| Failed::Error {
            err,
            reauthorized: false,
        };
        let mut outgoing = request.attempt(url);
        if let Some(auth) = auth {
            auth.authorize(&mut outgoing).await.map_err(failed)?;
        }
        let OutgoingRequest {
            method,
            url: sent_url,
            headers,
            body,
            secrets,
        } = outgoing;
        let mut builder = self.inner.client.request(method, sent_url).headers(headers);
        if !body.is_empty() {
            builder = builder.body(body);
        }
        let mut response = builder
            .send()
            .await
            .map_err(|err| failed(Error::transport(err)))?;
        let status = response.status();
        // Taken, not copied: the body is read from the response afterwards.
        let headers = std::mem::take(response.headers_mut());
        let request_id = request_id(&headers);
        if status.is_redirection() {
            return Err(redirect(request, url, status, &headers, request_id));
        }
        if !status.is_success() {
            let retry_after = retry::retry_after(&headers);
            let mut body = body::read_error_body(response).await;
            body::redact(&mut body, &secrets);
            let err = Error::from_response(status.as_u16(), request_id, &body)
                .with_retry_after(retry_after);
            let Some(auth) = auth.filter(|_| status == reqwest::StatusCode::UNAUTHORIZED) else {
                return Err(failed(err));
            };
            let rejection = Rejection {
                status: status.as_u16(),
                headers: &headers,
                body: &body,
            };
            return Err(rejected(auth, &rejection, may_reauthorize, err).await);
        }
        body::read_body(response, self.inner.body_limit, |body| {
            read(Response {
                headers: &headers,
                body,
            })
        })
        .await
        .map_err(|err| failed(err.with_request_id(request_id)))
    }
}

/// What a redirect answer leads to: the same-origin target to follow, or an error (the
/// credentials go only to the configured endpoint).
fn redirect(
    request: &Request,
    url: &Url,
    status: reqwest::StatusCode,
    headers: &HeaderMap,
    request_id: Option<String>,
) -> Failed {
    let location = headers
        .get(LOCATION)
        .and_then(|location| location.to_str().ok());
    let target = location.and_then(|location| url.join(location).ok());
    if let Some(target) =
        target.filter(|target| request.follow_redirects && target.origin() == url.origin())
    {
        return Failed::Redirect(target);
    }
    Failed::Error {
        err: Error::api(
            status.as_u16(),
            request_id,
            format!(
                "redirect to {} not followed: credentials are only sent to the configured endpoint",
                location.unwrap_or("nowhere")
            ),
        ),
        reauthorized: false,
    }
}

/// A 401 shown to the authorizer: retried once if it renewed its credentials, else the
/// error with the authorizer's hint.
async fn rejected(
    auth: &dyn Authorizer,
    rejection: &Rejection<'_>,
    may_reauthorize: bool,
    err: Error,
) -> Failed {
    if may_reauthorize {
        match auth.unauthorized(rejection).await {
            Ok(true) => {
                return Failed::Error {
                    err,
                    reauthorized: true,
                };
            }
            Ok(false) => {}
            Err(failure) => {
                return Failed::Error {
                    err: failure,
                    reauthorized: false,
                };
            }
        }
    }
    let hint = auth.hint(rejection);
    Failed::Error {
        err: err.with_hint(hint),
        reauthorized: false,
    }
}

/// Fails unless the current Tokio runtime has a time driver: timeouts, retries and
/// reqwest's connection pool need one, and without it they panic deep inside tokio.
/// Tokio offers no way to ask, so the check makes (and drops, unpolled) a timer and
/// turns the panic into an error; the panic message may reach the panic hook (stderr).
/// The verdict is kept per thread for the last few runtimes seen, so the unwinding
/// happens once per thread and runtime, not on every request.
fn ensure_timers() -> Result<()> {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return Err(Error::runtime(
            "requests must be sent from inside a Tokio runtime (reqwest needs one)",
        ));
    };
    let has_timers = TIMER_VERDICTS.with(|verdicts| {
        let mut verdicts = verdicts.borrow_mut();
        let id = runtime.id();
        if let Some((_, known)) = verdicts.iter().find(|(seen, _)| *seen == id) {
            return *known;
        }
        let has_timers =
            std::panic::catch_unwind(|| drop(tokio::time::sleep(std::time::Duration::ZERO)))
                .is_ok();
        if verdicts.len() == REMEMBERED_RUNTIMES {
            verdicts.remove(0);
        }
        verdicts.push((id, has_timers));
        has_timers
    });
    if has_timers {
        Ok(())
    } else {
        Err(Error::runtime(
            "the Tokio runtime has no time driver, which timeouts and retries need: build it \
             with enable_time() or enable_all()",
        ))
    }
}

/// How many runtimes a thread remembers the timer verdict of: a program has one or two
/// (plus one per blocking iterator, each with its own).
const REMEMBERED_RUNTIMES: usize = 4;

thread_local! {
    /// The runtimes this thread ran requests on, and whether each has a time driver.
    static TIMER_VERDICTS: std::cell::RefCell<Vec<(tokio::runtime::Id, bool)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The request id a service put in its response, if any.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    REQUEST_ID_HEADERS
        .iter()
        .find_map(|name| headers.get(*name)?.to_str().ok())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Panics about disabled timers seen by the panic hook, this test's only.
    static TIMER_PANICS: AtomicUsize = AtomicUsize::new(0);

    #[test]
    fn the_timer_check_unwinds_once_per_thread_and_runtime_not_per_request() {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let text = info.to_string();
            if text.contains("timers are disabled") {
                TIMER_PANICS.fetch_add(1, Ordering::SeqCst);
            } else {
                previous(info);
            }
        }));
        let with_timers = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let without = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for _ in 0..3 {
            let _context = without.enter();
            let err = ensure_timers().unwrap_err();
            assert!(err.to_string().contains("enable_time"), "{err}");
        }
        for _ in 0..3 {
            let _context = with_timers.enter();
            ensure_timers().unwrap();
        }
        let _context = without.enter();
        assert!(
            ensure_timers().is_err(),
            "each runtime is judged on its own"
        );
        assert_eq!(TIMER_PANICS.load(Ordering::SeqCst), 1);
    }
}

//! The authentication seam: a request signer implemented on `Authorizer` signs every
//! attempt over the URL exactly as sent, and the server, recomputing the signature from
//! what it received, accepts every one of them across pages and retries.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::TryStreamExt;
use futures::future::{self, BoxFuture};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use vbs_backups::{
    Authorizer, Client, ErrorKind, OutgoingRequest, Rejection, RetryPolicy, SortDir, SortKey,
};
use vbs_backups_testing::{CannedResponse, FakeServer, RecordedRequest};

const KEY: &[u8] = b"shared signing key";
const SIGNATURE: &str = "x-test-signature";
const STAMP: &str = "x-test-stamp";

/// The hex HMAC-SHA256 of method, host, path, query and stamp, one per line: the same
/// function signs on the client and verifies on the server.
fn signature(method: &str, host: &str, path: &str, query: &str, stamp: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY).unwrap();
    mac.update(format!("{method}\n{host}\n{path}\n{query}\n{stamp}").as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Signs each attempt with a fresh stamp, as a date-based scheme would.
#[derive(Default)]
struct Signer {
    stamps: AtomicU64,
    refusals: AtomicU64,
}

impl Authorizer for Signer {
    fn authorize<'a>(
        &'a self,
        request: &'a mut OutgoingRequest,
    ) -> BoxFuture<'a, vbs_backups::Result<()>> {
        let stamp = self.stamps.fetch_add(1, Ordering::SeqCst).to_string();
        let signed = signature(
            request.method(),
            request.host(),
            request.path(),
            request.query(),
            &stamp,
        );
        let result = request
            .set_header(STAMP, &stamp)
            .and_then(|()| request.set_secret_header(SIGNATURE, &signed));
        Box::pin(future::ready(result))
    }

    fn unauthorized<'a>(
        &'a self,
        _rejection: &'a Rejection<'a>,
    ) -> BoxFuture<'a, vbs_backups::Result<bool>> {
        self.refusals.fetch_add(1, Ordering::SeqCst);
        Box::pin(future::ready(Ok(false)))
    }
}

/// Hands one signer to the client and keeps a handle for the assertions.
#[derive(Clone, Default)]
struct Shared(Arc<Signer>);

impl Authorizer for Shared {
    fn authorize<'a>(
        &'a self,
        request: &'a mut OutgoingRequest,
    ) -> BoxFuture<'a, vbs_backups::Result<()>> {
        self.0.authorize(request)
    }

    fn unauthorized<'a>(
        &'a self,
        rejection: &'a Rejection<'a>,
    ) -> BoxFuture<'a, vbs_backups::Result<bool>> {
        self.0.unauthorized(rejection)
    }
}

fn header<'r>(request: &'r RecordedRequest, name: &str) -> Option<&'r str> {
    request
        .headers
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// A server without tokens that refuses any request whose signature does not match
/// what it received; the stamps it accepted, in order.
async fn verifying_server(backups: usize) -> (FakeServer, Arc<Mutex<Vec<String>>>) {
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&accepted);
    let server = FakeServer::builder()
        .backups(backups)
        .no_auth()
        .verify_requests(move |request| {
            let stamp = header(request, STAMP).ok_or("no stamp")?;
            let expected = signature(
                &request.method,
                request.host.as_deref().unwrap_or_default(),
                &request.path,
                request.raw_query.as_deref().unwrap_or_default(),
                stamp,
            );
            if header(request, SIGNATURE) != Some(expected.as_str()) {
                return Err(format!("signature mismatch for stamp {stamp}"));
            }
            seen.lock().unwrap().push(stamp.to_owned());
            Ok(())
        })
        .start()
        .await
        .expect("fake server starts");
    (server, accepted)
}

fn signed_client(server: &FakeServer, signer: &Shared) -> Client {
    Client::builder()
        .endpoint(server.endpoint())
        .project_id(server.project_id())
        .authorizer(signer.clone())
        .retry_policy(
            RetryPolicy::default()
                .base_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(10)),
        )
        .build()
        .expect("valid client")
}

#[tokio::test]
async fn a_signature_over_the_url_as_sent_verifies_on_every_page_and_every_retry() {
    let (server, accepted) = verifying_server(600).await;
    // Retries mid-walk: a throttled answer and a body cut off, each before the server's
    // own answer, so the next attempt is signed afresh and verified.
    for _ in 0..3 {
        server.push_response(CannedResponse::passthrough());
        server.push_response(CannedResponse::json(429, r#"{"error": "slow down"}"#));
        server.push_response(CannedResponse::passthrough().reset_after(40));
    }
    let signer = Shared::default();
    let client = signed_client(&server, &signer);
    // A filter whose encoding matters: space, `&`, `=` and non-ASCII, sent percent-encoded.
    let name = "spécial & name=1";
    let got: Vec<_> = client
        .backups()
        .name(name)
        .sort(SortKey::CreatedAt, SortDir::Asc)
        .page_size(5)
        .stream()
        .try_collect()
        .await
        .expect("every signed request verifies");
    let truth: Vec<_> = server
        .backups_sorted("created_at:asc")
        .expect("a valid sort")
        .into_iter()
        .filter(|backup| backup.name.as_deref() == Some(name))
        .map(|backup| backup.id)
        .collect();
    assert!(truth.len() > 20, "enough backups for many pages");
    assert_eq!(common::ids(&got), truth, "every backup once, in order");

    let requests = server.requests();
    let stamps: Vec<_> = requests
        .iter()
        .map(|request| header(request, STAMP).unwrap_or_default().to_owned())
        .collect();
    let mut distinct = stamps.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        stamps.len(),
        "each attempt was signed afresh"
    );
    let retried = requests.len() - accepted.lock().unwrap().len();
    assert_eq!(retried, 3, "the 429s never reached the verifier");
    assert!(requests.len() > truth.len() / 5, "many pages were signed");
    assert!(
        requests.iter().all(|request| request
            .raw_query
            .as_deref()
            .unwrap_or_default()
            .contains("%C3%A9")),
        "the query the server verified is the percent-encoded one that was signed"
    );
    assert_eq!(signer.0.refusals.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_bad_signature_is_refused_once_and_not_retried() {
    let (server, _) = verifying_server(10).await;
    /// Signs something else than what is sent.
    struct Careless;
    impl Authorizer for Careless {
        fn authorize<'a>(
            &'a self,
            request: &'a mut OutgoingRequest,
        ) -> BoxFuture<'a, vbs_backups::Result<()>> {
            let result = request
                .set_header(STAMP, "1")
                .and_then(|()| request.set_secret_header(SIGNATURE, "deadbeef"));
            Box::pin(future::ready(result))
        }

        fn unauthorized<'a>(
            &'a self,
            rejection: &'a Rejection<'a>,
        ) -> BoxFuture<'a, vbs_backups::Result<bool>> {
            assert_eq!(rejection.status(), 401);
            assert!(String::from_utf8_lossy(rejection.body()).contains("signature mismatch"));
            Box::pin(future::ready(Ok(false)))
        }
    }
    let client = Client::builder()
        .endpoint(server.endpoint())
        .project_id(server.project_id())
        .authorizer(Careless)
        .build()
        .expect("valid client");
    let err = client
        .backups()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.status(), Some(401));
    assert!(err.message().contains("signature mismatch"), "{err}");
    assert!(
        !err.to_string().contains("deadbeef"),
        "the signature is a secret: {err}"
    );
    assert_eq!(
        server.request_count(),
        1,
        "a refused signature is not retried"
    );
}

#[tokio::test]
async fn an_authorizer_asked_after_a_401_gets_one_more_attempt_signed_afresh() {
    let (server, accepted) = verifying_server(12).await;
    server.push_response(CannedResponse::json(
        401,
        r#"{"error": {"code": 401, "title": "Unauthorized", "message": "clock skew"}}"#,
    ));
    /// Asks for one more try after a 401, as a signer correcting its clock would.
    #[derive(Default)]
    struct Retrying(Signer);
    impl Authorizer for Retrying {
        fn authorize<'a>(
            &'a self,
            request: &'a mut OutgoingRequest,
        ) -> BoxFuture<'a, vbs_backups::Result<()>> {
            self.0.authorize(request)
        }

        fn unauthorized<'a>(
            &'a self,
            rejection: &'a Rejection<'a>,
        ) -> BoxFuture<'a, vbs_backups::Result<bool>> {
            let skew = String::from_utf8_lossy(rejection.body()).contains("clock skew");
            self.0.refusals.fetch_add(1, Ordering::SeqCst);
            Box::pin(future::ready(Ok(skew)))
        }
    }
    let client = Client::builder()
        .endpoint(server.endpoint())
        .project_id(server.project_id())
        .authorizer(Retrying::default())
        .retry_policy(RetryPolicy::disabled())
        .build()
        .expect("valid client");
    let got: Vec<_> = client
        .backups()
        .page_size(5)
        .stream()
        .try_collect()
        .await
        .expect("the second attempt verifies");
    assert_eq!(got.len(), 12);
    assert_eq!(server.request_count(), 1 + accepted.lock().unwrap().len());
    assert_eq!(
        accepted.lock().unwrap()[0],
        "1",
        "the retry carried a new stamp"
    );
}

//! Certificates are verified, and `trust_additional_ca_file` widens trust to a private CA:
//! proved over loopback against the fake server in HTTPS mode, with a CA made per test run.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // tests fail loudly by design

mod common;

use std::error::Error as _;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::TryStreamExt;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use vbs_backups::{Client, ClientBuilder, ErrorKind};
use vbs_backups_testing::FakeServer;

/// A private CA and a `localhost` server certificate it signed, all as PEM.
struct Pki {
    ca_pem: String,
    server_chain_pem: String,
    server_key_pem: String,
}

impl Pki {
    fn new(ca_name: &str) -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, ca_name);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();

        let mut server_params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        server_params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_key = KeyPair::generate().unwrap();
        let server_cert = server_params.signed_by(&server_key, &ca).unwrap();
        Self {
            ca_pem: ca.pem(),
            server_chain_pem: server_cert.pem(),
            server_key_pem: server_key.serialize_pem(),
        }
    }

    async fn server(&self, backups: usize) -> FakeServer {
        FakeServer::builder()
            .backups(backups)
            .tls(&*self.server_chain_pem, &*self.server_key_pem)
            .start()
            .await
            .expect("HTTPS fake server starts")
    }
}

/// A file in the temp directory, unique to this process and call, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(label: &str, contents: &str) -> Self {
        let file = Self(Self::unused_path(label));
        std::fs::write(&file.0, contents).expect("temp file written");
        file
    }

    /// A unique path that is never created.
    fn unused_path(label: &str) -> PathBuf {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let serial = NEXT.fetch_add(1, Ordering::Relaxed);
        std::env::temp_dir().join(format!(
            "vbs-backups-tls-{}-{serial}-{label}.pem",
            std::process::id()
        ))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A client for `server` that resolves `localhost` to the server's own address only
/// (127.0.0.1, never another loopback address), with the default retry policy: a
/// refused certificate must be reported at once, not retried.
fn builder(server: &FakeServer) -> ClientBuilder {
    let http = reqwest::Client::builder()
        .no_proxy()
        .resolve("localhost", server.addr());
    common::builder(server).http_client_builder(http)
}

/// Every message in an error's source chain, outermost first.
fn chain(err: &vbs_backups::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(" <- ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[tokio::test]
async fn endpoint_names_localhost_over_https_on_loopback() {
    let server = Pki::new("vbs-backups test CA").server(1).await;
    assert!(server.addr().ip().is_loopback());
    assert_eq!(server.addr().ip().to_string(), "127.0.0.1");
    assert_eq!(
        server.endpoint(),
        format!("https://localhost:{}", server.addr().port())
    );
}

#[tokio::test]
async fn a_certificate_from_an_untrusted_ca_is_refused() {
    let pki = Pki::new("vbs-backups untrusted CA");
    let server = pki.server(10).await;
    let client = builder(&server).build().unwrap();

    let err = client
        .backups()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("the server's CA is not trusted");
    assert_eq!(err.kind(), ErrorKind::Tls, "{}", chain(&err));
    assert!(
        !err.is_retryable(),
        "an untrusted certificate stays untrusted"
    );
    let text = chain(&err);
    assert!(text.contains("certificate"), "{text}");
    assert!(text.contains("UnknownIssuer"), "{text}");
    // The handshake failed before any HTTP request was made.
    assert_eq!(server.request_count(), 0);
    assert!(common::listing_requests(&server).is_empty());
}

#[tokio::test]
async fn a_ca_from_another_file_does_not_help() {
    let pki = Pki::new("vbs-backups server CA");
    let other = Pki::new("vbs-backups unrelated CA");
    let server = pki.server(10).await;
    let unrelated = TempFile::new("unrelated-ca", &other.ca_pem);
    let client = builder(&server)
        .trust_additional_ca_file(unrelated.path())
        .build()
        .unwrap();

    let err = client
        .backups()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("only the server's own CA makes it trusted");
    assert_eq!(err.kind(), ErrorKind::Tls, "{}", chain(&err));
    assert!(
        !err.is_retryable(),
        "an untrusted certificate stays untrusted"
    );
    assert!(chain(&err).contains("UnknownIssuer"), "{}", chain(&err));
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn the_additional_ca_file_makes_a_multi_page_walk_succeed() {
    let pki = Pki::new("vbs-backups private CA");
    let server = pki.server(10).await;
    let ca_file = TempFile::new("ca", &pki.ca_pem);
    let client = builder(&server)
        .trust_additional_ca_file(ca_file.path())
        .build()
        .unwrap();

    let backups = common::collect(client.backups().page_size(4)).await;

    assert_eq!(common::ids(&backups), common::truth_ids(&server.backups()));
    let requests = common::listing_requests(&server);
    assert_eq!(requests.len(), 3, "4 + 4 + 2");
    for request in &requests {
        assert_eq!(
            request.host.as_deref(),
            Some(format!("localhost:{}", server.addr().port()).as_str())
        );
        assert_eq!(request.auth_token.as_deref(), server.token());
    }
    // Pages 2 and 3 came from the server's own https next links.
    assert!(requests[1].param("marker").is_some());
    assert!(requests[2].param("marker").is_some());
}

#[tokio::test]
async fn dropping_the_server_lets_the_request_in_flight_finish() {
    let pki = Pki::new("vbs-backups private CA");
    // The latency only keeps the request in flight while the server is dropped; if the
    // machine is so slow that it is answered before, the test proves less but still passes.
    let server = FakeServer::builder()
        .backups(3)
        .latency(Duration::from_millis(300))
        .tls(&*pki.server_chain_pem, &*pki.server_key_pem)
        .start()
        .await
        .unwrap();
    let ca_file = TempFile::new("ca", &pki.ca_pem);
    let client = builder(&server)
        .trust_additional_ca_file(ca_file.path())
        .build()
        .unwrap();
    let walk = tokio::spawn(common::collect(client.backups()));
    for _ in 0..2_000 {
        if server.request_count() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(server.request_count(), 1, "the request arrived");
    drop(server);
    assert_eq!(walk.await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_bundle_with_the_ca_among_other_certificates_is_accepted() {
    let pki = Pki::new("vbs-backups private CA");
    let other = Pki::new("vbs-backups other CA");
    let server = pki.server(3).await;
    let bundle = TempFile::new("bundle", &format!("{}{}", other.ca_pem, pki.ca_pem));
    let client = builder(&server)
        .trust_additional_ca_file(bundle.path())
        .build()
        .unwrap();

    let backups = common::collect(client.backups()).await;
    assert_eq!(common::ids(&backups), common::truth_ids(&server.backups()));
}

#[test]
fn a_missing_ca_file_is_a_config_error_naming_it() {
    let missing = TempFile::unused_path("missing");
    let err = Client::builder()
        .endpoint("https://localhost:8776/v3/p")
        .trust_additional_ca_file(&missing)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "{err}"
    );
    let io = err
        .source()
        .and_then(|source| source.downcast_ref::<io::Error>())
        .map(io::Error::kind);
    assert_eq!(io, Some(io::ErrorKind::NotFound));
}

#[test]
fn a_ca_file_without_a_certificate_is_a_config_error_naming_it() {
    let key_only = TempFile::new(
        "key-only",
        &Pki::new("vbs-backups CA").server_key_pem.clone(),
    );
    let empty = TempFile::new("empty", "");
    let prose = TempFile::new("prose", "not a certificate\n");
    for file in [&key_only, &empty, &prose] {
        let err = Client::builder()
            .endpoint("https://localhost:8776/v3/p")
            .trust_additional_ca_file(file.path())
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{}", file.path().display());
        assert!(
            err.to_string().contains(&file.path().display().to_string()),
            "{err}"
        );
    }
}

#[tokio::test]
async fn bad_server_pems_are_io_errors_from_start() {
    let pki = Pki::new("vbs-backups CA");
    let other = Pki::new("vbs-backups other CA");
    let cases = [
        ("no certificate", "", pki.server_key_pem.as_str()),
        (
            "garbage certificate",
            "not PEM",
            pki.server_key_pem.as_str(),
        ),
        (
            "broken certificate",
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
            pki.server_key_pem.as_str(),
        ),
        ("no key", pki.server_chain_pem.as_str(), ""),
        (
            "certificate as key",
            pki.server_chain_pem.as_str(),
            pki.server_chain_pem.as_str(),
        ),
        (
            "key of another certificate",
            pki.server_chain_pem.as_str(),
            other.server_key_pem.as_str(),
        ),
    ];
    for (case, chain, key) in cases {
        let err = FakeServer::builder()
            .tls(chain, key)
            .start()
            .await
            .expect_err(case);
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{case}: {err}");
        assert!(err.to_string().contains("TLS"), "{case}: {err}");
    }
}

#[tokio::test]
async fn the_private_key_stays_out_of_debug_output() {
    let pki = Pki::new("vbs-backups CA");
    let builder = FakeServer::builder().tls(&*pki.server_chain_pem, &*pki.server_key_pem);
    let shown = format!("{builder:?}");
    assert!(shown.contains("<redacted>"), "{shown}");
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
}

//! The HTTPS side: a rustls acceptor built from PEM text, and an accept loop that serves the
//! same router as the plain HTTP server over TLS, with the same graceful shutdown.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

/// How long the accept loop rests after an error that is not about one connection (such as
/// running out of file descriptors), so it does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The certificate chain and private key of an HTTPS [`super::FakeServer`], as given.
#[derive(Clone)]
pub(super) struct TlsPems {
    pub(super) cert_chain: String,
    pub(super) private_key: String,
}

impl fmt::Debug for TlsPems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key is a secret even in tests: it never goes to a log.
        f.debug_struct("TlsPems")
            .field("cert_chain", &self.cert_chain)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

impl TlsPems {
    /// Parses both PEMs and checks that they belong together.
    ///
    /// The crypto provider is the process default if one is installed, else aws-lc-rs (what
    /// reqwest uses too), so this never panics over an ambiguous provider choice.
    pub(super) fn acceptor(&self) -> io::Result<TlsAcceptor> {
        let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
        let chain = CertificateDer::pem_slice_iter(self.cert_chain.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| invalid(format!("the TLS certificate chain is not valid PEM: {err}")))?;
        if chain.is_empty() {
            return Err(invalid(
                "the TLS certificate chain holds no PEM CERTIFICATE".to_owned(),
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(self.private_key.as_bytes()).map_err(|err| {
            invalid(format!(
                "the TLS private key holds no usable PEM key (PKCS#8, PKCS#1 or SEC1): {err}"
            ))
        })?;
        let provider = CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|err| {
                invalid(format!(
                    "the TLS certificate and private key are not usable together: {err}"
                ))
            })?;
        // The server speaks HTTP/1.1 only; saying so lets clients that offer h2 settle at once.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

/// Serves `app` over TLS on `listener` until `stopped` fires or its sender is dropped; then
/// stops accepting, lets every connection finish its request in flight and waits for them.
pub(super) async fn run(
    listener: TcpListener,
    app: Router,
    acceptor: TlsAcceptor,
    mut stopped: oneshot::Receiver<()>,
) {
    let (closing, closed) = watch::channel(false);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            // Both a shutdown signal and a dropped sender mean stop.
            _ = &mut stopped => break,
            // Reaps finished connections so the set does not grow with every one.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    connections.spawn(serve(stream, acceptor.clone(), app.clone(), closed.clone()));
                }
                Err(error) if is_connection_error(&error) => {
                    tracing::debug!(%error, "fake server: a connection failed before accept");
                }
                Err(error) => {
                    tracing::warn!(%error, "fake server could not accept a connection");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
        }
    }
    drop(listener);
    // No receiver left (no connection) is fine: there is nobody to tell.
    let _ = closing.send(true);
    while connections.join_next().await.is_some() {}
}

/// One connection: the handshake, then HTTP/1.1 until the client leaves or shutdown begins.
async fn serve(
    stream: TcpStream,
    acceptor: TlsAcceptor,
    app: Router,
    mut closed: watch::Receiver<bool>,
) {
    let stream = tokio::select! {
        handshake = acceptor.accept(stream) => match handshake {
            Ok(stream) => stream,
            Err(error) => {
                // An untrusting client aborts here: expected in tests, so not a warning.
                tracing::debug!(%error, "fake server: TLS handshake failed");
                return;
            }
        },
        _ = closed.wait_for(|closing| *closing) => return,
    };
    let connection =
        http1::Builder::new().serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        served = connection.as_mut() => {
            if let Err(error) = served {
                tracing::debug!(%error, "fake server: connection ended with an error");
            }
            return;
        }
        _ = closed.wait_for(|closing| *closing) => {}
    }
    // Idle connections close now; one with a request in flight closes after its response.
    connection.as_mut().graceful_shutdown();
    if let Err(error) = connection.await {
        tracing::debug!(%error, "fake server: connection ended with an error");
    }
}

/// Errors that concern only the connection being accepted, not the listener.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

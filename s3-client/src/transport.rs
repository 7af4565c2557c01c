//! The pooled HTTP client: hyper 1 over rustls (ring provider; webpki, platform
//! and `AWS_CA_BUNDLE` roots),
//! plain HTTP when the endpoint asks for it, and an optional fixed address
//! for every host (curl's `--resolve`), which lets virtual-hosted style reach
//! a loopback server.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};
use hyper_util::rt::TokioExecutor;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::config::ClientConfig;
use crate::error::{Error, Result};

/// The body of every request: a buffered part (S3 bodies are never
/// streams), handed to hyper in slices so that [`Progress`] sees it move.
pub struct RequestBody {
    data: Bytes,
    progress: Arc<Progress>,
}

/// Largest slice of a request body handed to hyper at once: small enough
/// that a slow upload reports progress several times a second.
const BODY_SLICE: usize = 64 * 1024;

impl RequestBody {
    /// A body reporting to `progress` each time hyper takes a slice.
    pub fn new(data: Bytes, progress: Arc<Progress>) -> Self {
        Self { data, progress }
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.data.is_empty() {
            return Poll::Ready(None);
        }
        // hyper asks for the next slice once the last one is on its way.
        self.progress.touch();
        let len = self.data.len().min(BODY_SLICE);
        let slice = self.data.split_to(len);
        Poll::Ready(Some(Ok(Frame::data(slice))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.len() as u64)
    }
}

/// When an attempt last made progress. The request timeout bounds the time
/// since then — waiting to connect, for hyper to take the next slice of the
/// body, for the first response byte — never the transfer of a large body.
#[derive(Debug)]
pub struct Progress {
    last: std::sync::Mutex<tokio::time::Instant>,
}

impl Progress {
    /// Progress starting now.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            last: std::sync::Mutex::new(tokio::time::Instant::now()),
        })
    }

    fn touch(&self) {
        if let Ok(mut last) = self.last.lock() {
            *last = tokio::time::Instant::now();
        }
    }

    fn last(&self) -> tokio::time::Instant {
        self.last
            .lock()
            .map(|last| *last)
            .unwrap_or_else(|_| tokio::time::Instant::now())
    }

    /// Runs `fut` until it finishes, or `None` once `idle` passes with no
    /// progress.
    pub async fn within_idle<F: Future>(
        &self,
        fut: F,
        idle: std::time::Duration,
    ) -> Option<F::Output> {
        tokio::pin!(fut);
        loop {
            let deadline = self.last() + idle;
            match tokio::time::timeout_at(deadline, &mut fut).await {
                Ok(out) => return Some(out),
                Err(_) if self.last() + idle <= tokio::time::Instant::now() => return None,
                Err(_) => continue,
            }
        }
    }
}

/// The pooled client type.
pub type HttpClient =
    Client<hyper_rustls::HttpsConnector<FixedPort<HttpConnector<Resolver>>>, RequestBody>;

/// Connects to `port` whatever port the URL names, when set: the port of
/// `resolve_to` (hyper's connector would otherwise take the URL's explicit
/// port over the resolver's). Host header, TLS name and signature still
/// use the URL.
#[derive(Clone)]
pub struct FixedPort<C> {
    inner: C,
    port: Option<u16>,
}

impl<C> tower_service::Service<http::Uri> for FixedPort<C>
where
    C: tower_service::Service<http::Uri>,
{
    type Response = C::Response;
    type Error = C::Error;
    type Future = C::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), C::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: http::Uri) -> C::Future {
        let uri = match (self.port, uri.host()) {
            (Some(port), Some(host)) => {
                let mut parts = uri.clone().into_parts();
                let authority = format!("{host}:{port}").parse().ok();
                match authority {
                    Some(authority) => {
                        parts.authority = Some(authority);
                        http::Uri::from_parts(parts).unwrap_or(uri)
                    }
                    None => uri,
                }
            }
            _ => uri,
        };
        self.inner.call(uri)
    }
}

/// Name resolution: the system's, or one fixed address for every name.
#[derive(Clone)]
pub enum Resolver {
    /// getaddrinfo on a blocking thread.
    System(GaiResolver),
    /// Every name resolves to this address (the URL's port is kept).
    Fixed(IpAddr),
}

/// Addresses produced by [`Resolver`].
pub type Addrs = std::vec::IntoIter<SocketAddr>;

impl tower_service::Service<Name> for Resolver {
    type Response = Addrs;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = std::io::Result<Addrs>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self {
            Self::System(gai) => gai.poll_ready(cx),
            Self::Fixed(_) => Poll::Ready(Ok(())),
        }
    }

    fn call(&mut self, name: Name) -> Self::Future {
        match self {
            Self::System(gai) => {
                let fut = gai.call(name);
                Box::pin(async move { Ok(fut.await?.collect::<Vec<_>>().into_iter()) })
            }
            Self::Fixed(ip) => {
                let addr = SocketAddr::new(*ip, 0);
                Box::pin(async move { Ok(vec![addr].into_iter()) })
            }
        }
    }
}

/// The roots a TLS connection trusts: webpki's copy of Mozilla's list, the
/// platform's store (through rustls-native-certs, which reads
/// `SSL_CERT_FILE` / `SSL_CERT_DIR` instead when they are set), and the PEM
/// bundle named by `AWS_CA_BUNDLE` (as the AWS CLI reads it), so a MinIO
/// behind a private CA can be trusted.
fn root_store() -> Result<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    roots.add_parsable_certificates(platform_roots().iter().cloned());
    if let Some(path) = std::env::var_os("AWS_CA_BUNDLE").filter(|p| !p.is_empty()) {
        roots.add_parsable_certificates(pem_bundle(std::path::Path::new(&path))?);
    }
    Ok(roots)
}

/// The platform's roots, read once per process.
fn platform_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: std::sync::OnceLock<Vec<CertificateDer<'static>>> = std::sync::OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for e in &found.errors {
            tracing::debug!(error = %e, "a platform root certificate could not be read");
        }
        found.certs
    })
}

/// The certificates of the PEM bundle at `path` (`AWS_CA_BUNDLE`); a file
/// that is missing, unreadable or holds no certificate is an error naming it.
fn pem_bundle(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>> {
    let bad = |why: String| Error::Config(format!("AWS_CA_BUNDLE '{}': {why}", path.display()));
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad(
            "no certificate in it (expected PEM: -----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    Ok(certs)
}

/// Builds the pooled client for a configuration.
pub fn build_client(config: &ClientConfig) -> Result<HttpClient> {
    let resolver = match config.resolve_to {
        Some(addr) => Resolver::Fixed(addr.ip()),
        None => Resolver::System(GaiResolver::new()),
    };
    let mut http = HttpConnector::new_with_resolver(resolver);
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(config.connect_timeout));
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| Error::Config(format!("TLS setup failed: {e}")))?
    .with_root_certificates(root_store()?)
    .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(FixedPort {
            inner: http,
            port: config.resolve_to.map(|a| a.port()).filter(|p| *p != 0),
        });
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(std::time::Duration::from_secs(30))
        .pool_max_idle_per_host(64)
        .build(https))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed CA certificate (P-256), as a private CA would issue.
    const PRIVATE_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBhzCCAS2gAwIBAgIUF5W1zrs1CVsbO80thoTQ8pPuz9IwCgYIKoZIzj0EAwIw
GDEWMBQGA1UEAwwNczNzcWwgdGVzdCBDQTAgFw0yNjExMjMyMDM4MzRaGA8yMTI2
MTAzMDIwMzgzNFowGDEWMBQGA1UEAwwNczNzcWwgdGVzdCBDQTBZMBMGByqGSM49
AgEGCCqGSM49AwEHA0IABB1R0nekIoqx3lfwGTmTat293bTRKwJz5irc2UQk4Z+3
p4N3uc49dNw6ynMugd72ekua6DYS+WKPw9Ptd8F+srqjUzBRMB0GA1UdDgQWBBQ7
kQfth+yDdpMI8l/2GxhSAeXHZTAfBgNVHSMEGDAWgBQ7kQfth+yDdpMI8l/2GxhS
AeXHZTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIGzVMshtDS1R
IdxcNWaKw3RVxFkmVHj4C16EljkyafJyAiEAjAirDG/FzTZNMvu66MJmbMZxAqCw
dMQQSDXJTubqCyw=
-----END CERTIFICATE-----\n";

    #[test]
    fn ca_bundles_are_read_and_bad_ones_named() {
        let dir = std::env::temp_dir().join(format!("s3sql-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("ca.pem");
        std::fs::write(&good, PRIVATE_CA).unwrap();
        let certs = pem_bundle(&good).unwrap();
        assert_eq!(certs.len(), 1);
        let mut roots = rustls::RootCertStore::empty();
        assert_eq!(roots.add_parsable_certificates(certs), (1, 0));
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate").unwrap();
        let err = pem_bundle(&empty).unwrap_err().to_string();
        assert!(
            err.contains("AWS_CA_BUNDLE") && err.contains("empty.pem"),
            "{err}"
        );
        let err = pem_bundle(&dir.join("missing.pem"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing.pem"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

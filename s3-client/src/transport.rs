//! The pooled HTTP client: hyper 1 over rustls (ring provider, webpki roots),
//! plain HTTP when the endpoint asks for it, and an optional fixed address
//! for every host (curl's `--resolve`), which lets virtual-hosted style reach
//! a loopback server.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};
use hyper_util::rt::TokioExecutor;

use crate::config::ClientConfig;
use crate::error::{Error, Result};

/// The body type of every request: S3 bodies are buffered parts, never streams.
pub type RequestBody = Full<Bytes>;

/// The pooled client type.
pub type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector<Resolver>>, RequestBody>;

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
    .with_root_certificates(rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    })
    .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(std::time::Duration::from_secs(30))
        .pool_max_idle_per_host(64)
        .build(https))
}

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
        self.progress.reach();
        if self.data.is_empty() {
            return Poll::Ready(None);
        }
        // hyper asks for the next slice once the last one is on its way.
        let len = self.data.len().min(BODY_SLICE);
        let slice = self.data.split_to(len);
        self.progress.sent(len, self.data.is_empty());
        Poll::Ready(Some(Ok(Frame::data(slice))))
    }

    // Hyper asks these first, as it writes the request head (a bodiless
    // request is never polled).
    fn is_end_stream(&self) -> bool {
        self.progress.reach();
        self.data.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        self.progress.reach();
        SizeHint::with_exact(self.data.len() as u64)
    }
}

/// When an attempt last made progress. The request timeout bounds the time
/// since then — waiting to connect, for hyper to take the next slice of the
/// body, for the first response byte — never the transfer of a large body.
///
/// "Taken by hyper" means accepted into the socket's buffers, not received:
/// the last few MiB of a body are taken at once and then drain at the
/// link's rate while the client waits for the answer. Once the whole body
/// is taken, the wait for the answer is therefore extended by the time
/// those buffers take to drain: at the rate hyper took the body once the
/// buffers were surely full, or, for a body that never filled them (taken
/// in one burst, so no rate tells the link's), at [`MIN_DRAIN_RATE`].
#[derive(Debug)]
pub struct Progress {
    state: std::sync::Mutex<Sent>,
    /// Whether the request got onto a connection: hyper looks at the body
    /// only once the connection (its TLS handshake included) is ready and
    /// it writes the request head. Before that nothing was sent.
    reached: std::sync::atomic::AtomicBool,
}

/// What [`Progress`] knows of a request body's sending.
#[derive(Debug)]
struct Sent {
    /// When a slice was last taken (or the attempt started).
    last: tokio::time::Instant,
    /// Bytes taken so far.
    bytes: u64,
    /// The current rate window: its start and the bytes taken before it.
    window: (tokio::time::Instant, u64),
    /// Bytes per second over the last whole window that began with the
    /// socket buffers full (so the burst that filled them is not in it).
    rate: Option<f64>,
    /// Set once the whole body has been taken: how much longer to wait
    /// for the socket buffers to drain.
    drain: Option<std::time::Duration>,
}

/// The most a connection's socket buffers hold (Linux's default ceiling
/// of the send buffer, plus the receiving side's): what may still be on
/// its way once hyper has taken the last slice.
const SOCKET_BUFFERS: u64 = 8 * 1024 * 1024;

/// The slowest uplink assumed for a body whose drain could not be
/// measured (one that fit in the socket buffers): 3 MiB then get 48 s
/// beyond the timeout to reach the server. A slower link needs a larger
/// timeout; the price of the floor is that a server dying after such a
/// body is noticed that much later.
pub const MIN_DRAIN_RATE: u64 = 64 * 1024;

/// A deadline too far to compute stands this far ahead instead (as
/// tokio's own timers do).
const FAR_FUTURE: std::time::Duration = std::time::Duration::from_secs(86_400 * 365 * 30);

/// How long the sending rate is measured over.
const RATE_WINDOW: std::time::Duration = std::time::Duration::from_millis(250);

impl Progress {
    /// Progress starting now.
    pub fn new() -> Arc<Self> {
        let now = tokio::time::Instant::now();
        Arc::new(Self {
            state: std::sync::Mutex::new(Sent {
                last: now,
                bytes: 0,
                window: (now, 0),
                rate: None,
                drain: None,
            }),
            reached: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Whether the request got onto a connection (so it may have been sent).
    pub fn reached(&self) -> bool {
        self.reached.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Hyper is writing the request onto a connection.
    fn reach(&self) {
        self.reached
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Hyper took `len` more bytes; `done` when they were the last.
    fn sent(&self, len: usize, done: bool) {
        self.sent_at(len, done, tokio::time::Instant::now());
    }

    /// [`Progress::sent`] at `now`.
    fn sent_at(&self, len: usize, done: bool, now: tokio::time::Instant) {
        let Ok(mut sent) = self.state.lock() else {
            return;
        };
        sent.last = now;
        sent.bytes += len as u64;
        let (start, before) = sent.window;
        let elapsed = now.duration_since(start);
        if elapsed >= RATE_WINDOW {
            // A window that began before the buffers were surely full
            // holds the burst that filled them: its rate is not the link's.
            if before >= SOCKET_BUFFERS {
                sent.rate = Some((sent.bytes - before) as f64 / elapsed.as_secs_f64());
            }
            sent.window = (now, sent.bytes);
        }
        if done {
            let buffered = sent.bytes.min(SOCKET_BUFFERS) as f64;
            let rate = sent
                .rate
                .filter(|r| *r > 0.0)
                .unwrap_or(MIN_DRAIN_RATE as f64);
            sent.drain = std::time::Duration::try_from_secs_f64(buffered / rate).ok();
        }
    }

    /// When the attempt gives up if nothing more happens (far in the
    /// future for a timeout too large to add: `SET http_timeout` to the
    /// largest number, meaning none).
    fn deadline(&self, idle: std::time::Duration) -> tokio::time::Instant {
        let (last, wait) = match self.state.lock() {
            Ok(sent) => (
                sent.last,
                idle.saturating_add(sent.drain.unwrap_or_default()),
            ),
            Err(_) => (tokio::time::Instant::now(), idle),
        };
        last.checked_add(wait).unwrap_or_else(|| last + FAR_FUTURE)
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
            match tokio::time::timeout_at(self.deadline(idle), &mut fut).await {
                Ok(out) => return Some(out),
                Err(_) if self.deadline(idle) <= tokio::time::Instant::now() => return None,
                Err(_) => continue,
            }
        }
    }
}

/// The slowest a response body may arrive: on average 1 KiB/s over each
/// request timeout. Far below any working link, it stops a server that
/// trickles a byte every few seconds (each gap shorter than the timeout)
/// from holding an attempt forever.
pub const MIN_BODY_RATE: u64 = 1024;

/// How many request timeouts an answer kept alive with spaces
/// (CompleteMultipartUpload, CopyObject, DeleteObjects) may take in all:
/// 15 minutes at the default 30 s. S3 keeps such an answer alive as long
/// as its work takes, but a peer trickling a space forever would hold the
/// attempt forever without a cap.
pub const KEPT_ALIVE_TIMEOUTS: u32 = 30;

/// How many request timeouts an answer read whole (a listing page, an
/// upload's id, any XML answer) may take before it must keep to
/// [`MIN_ANSWER_RATE`] on the whole.
pub const ANSWER_GRACE_TIMEOUTS: u32 = 3;

/// The slowest an answer read whole may arrive on average, once its grace
/// is over: S3's largest answers (a page of 1000 long keys) are about a
/// MiB, so any working link brings one well within the grace; a server
/// trickling it just above [`MIN_BODY_RATE`] is cut in a few timeouts
/// instead of after hours.
pub const MIN_ANSWER_RATE: u64 = 64 * 1024;

/// The deadline of a response body's next bytes. Each `window` (the
/// request timeout) of waiting must bring `MIN_BODY_RATE × window` bytes,
/// or the attempt has stalled; without the floor, any byte restarts the
/// window (a pure idle timeout), for answers S3 keeps alive with a space
/// every few seconds (CompleteMultipartUpload, CopyObject). Only time spent
/// waiting for the server counts: a reader that pauses between chunks
/// holds the server back itself. An answer read whole also has a deadline
/// on the whole ([`BodyPace::whole`], [`BodyPace::kept_alive`]).
#[derive(Debug)]
pub struct BodyPace {
    window: std::time::Duration,
    quantum: u64,
    waited: std::time::Duration,
    got: u64,
    /// When the whole answer must be in, for an answer read whole.
    deadline: Option<tokio::time::Instant>,
    /// Bytes that push the deadline back a second each; 0 for an answer
    /// kept alive, whose deadline is fixed.
    per_second: u64,
    /// Bytes arrived in all, and when the answer began.
    total: u64,
    began: tokio::time::Instant,
}

impl BodyPace {
    /// A pace for a new answer; `floor` applies the minimum rate.
    pub fn new(window: std::time::Duration, floor: bool) -> Self {
        let quantum = if floor {
            ((window.as_secs_f64() * MIN_BODY_RATE as f64) as u64).max(1)
        } else {
            1
        };
        Self {
            window,
            quantum,
            waited: std::time::Duration::ZERO,
            got: 0,
            deadline: None,
            per_second: 0,
            total: 0,
            began: tokio::time::Instant::now(),
        }
    }

    /// A pace for an answer read whole: the floor rate, and the whole
    /// answer within [`ANSWER_GRACE_TIMEOUTS`] windows plus a second for
    /// each [`MIN_ANSWER_RATE`] bytes that arrived.
    pub fn whole(window: std::time::Duration) -> Self {
        let pace = Self::new(window, true);
        Self {
            deadline: pace
                .began
                .checked_add(window.saturating_mul(ANSWER_GRACE_TIMEOUTS)),
            per_second: MIN_ANSWER_RATE,
            ..pace
        }
    }

    /// A pace for an answer S3 keeps alive with spaces while it works: no
    /// floor rate, but the whole answer within [`KEPT_ALIVE_TIMEOUTS`]
    /// windows.
    pub fn kept_alive(window: std::time::Duration) -> Self {
        let pace = Self::new(window, false);
        Self {
            deadline: pace
                .began
                .checked_add(window.saturating_mul(KEPT_ALIVE_TIMEOUTS)),
            ..pace
        }
    }

    /// When the whole answer must be in, given what arrived so far.
    fn whole_deadline(&self) -> Option<tokio::time::Instant> {
        let deadline = self.deadline?;
        if self.per_second == 0 {
            return Some(deadline);
        }
        let earned = std::time::Duration::from_secs_f64(self.total as f64 / self.per_second as f64);
        Some(
            deadline
                .checked_add(earned)
                .unwrap_or(deadline + FAR_FUTURE),
        )
    }

    /// Waits for `next` (the body's next frame), or `None` once the
    /// window's waiting is used up without the bytes it needs.
    pub async fn wait<F: Future>(&mut self, next: F) -> Option<F::Output> {
        let mut left = self.window.saturating_sub(self.waited);
        if let Some(deadline) = self.whole_deadline() {
            left = left.min(deadline.saturating_duration_since(tokio::time::Instant::now()));
        }
        let began = tokio::time::Instant::now();
        let out = tokio::time::timeout(left, next).await.ok();
        self.waited += began.elapsed();
        out
    }

    /// `len` more bytes arrived.
    pub fn arrived(&mut self, len: usize) {
        self.got += len as u64;
        self.total += len as u64;
        if self.got >= self.quantum {
            self.waited = std::time::Duration::ZERO;
            self.got = 0;
        }
    }

    /// Why the body counts as stalled, in words.
    pub fn stalled(&self) -> String {
        let secs = self.window.as_secs_f64();
        if self
            .whole_deadline()
            .is_some_and(|d| d <= tokio::time::Instant::now())
        {
            let took = self.began.elapsed().as_secs_f64();
            if self.per_second == 0 {
                return format!(
                    "the answer took more than {:.1}s ({KEPT_ALIVE_TIMEOUTS} times the request timeout, the most an answer kept alive with spaces may take)",
                    secs * f64::from(KEPT_ALIVE_TIMEOUTS)
                );
            }
            return format!(
                "only {} bytes in {took:.1}s: an answer read whole must come within {ANSWER_GRACE_TIMEOUTS} request timeouts plus a second per {} bytes (a server trickling its answer)",
                self.total, self.per_second
            );
        }
        if self.got == 0 {
            format!("no data for {secs:.1}s")
        } else {
            format!(
                "only {} bytes in {secs:.1}s, below the floor of {} bytes per second (a server trickling its answer)",
                self.got, MIN_BODY_RATE
            )
        }
    }
}

/// The pooled client type.
pub type HttpClient = Client<
    ConnectWithin<hyper_rustls::HttpsConnector<FixedPort<HttpConnector<Resolver>>>>,
    RequestBody,
>;

/// Error type of connectors.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A connector whose connections must be ready, TCP connect and TLS
/// handshake both, within `timeout` (`connect_timeout`): a server that
/// accepts and never completes the handshake is a connection never made,
/// so the request was not sent, rather than an answer lost.
#[derive(Clone)]
pub struct ConnectWithin<C> {
    inner: C,
    timeout: std::time::Duration,
}

impl<C> tower_service::Service<http::Uri> for ConnectWithin<C>
where
    C: tower_service::Service<http::Uri>,
    C::Future: Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<C::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let timeout = self.timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, connecting).await {
                Ok(connected) => connected.map_err(Into::into),
                Err(_) => Err(format!(
                    "the connection (TCP connect and TLS handshake) was not ready within {:.1}s (connect_timeout)",
                    timeout.as_secs_f64()
                )
                .into()),
            }
        })
    }
}

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
    let https = ConnectWithin {
        inner: https,
        timeout: config.connect_timeout,
    };
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(std::time::Duration::from_secs(30))
        // No idle connection kept: every request opens its own.
        .pool_max_idle_per_host(if config.keep_alive { 64 } else { 0 })
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

    #[tokio::test]
    async fn a_timeout_too_large_to_add_means_none_not_a_panic() {
        let progress = Progress::new();
        let out = progress
            .within_idle(async { 1 }, std::time::Duration::MAX)
            .await;
        assert_eq!(out, Some(1));
        progress.sent(10, true);
        assert!(progress.deadline(std::time::Duration::MAX) > tokio::time::Instant::now());
    }

    /// Hands `progress` `bytes` in slices `gap` apart (none: one burst)
    /// from `clock` on; moves `clock` past the last.
    fn send(
        progress: &Progress,
        clock: &mut tokio::time::Instant,
        bytes: u64,
        gap: std::time::Duration,
        last: bool,
    ) {
        let slices = bytes / BODY_SLICE as u64;
        for i in 0..slices {
            *clock += gap;
            progress.sent_at(BODY_SLICE, last && i + 1 == slices, *clock);
        }
    }

    #[test]
    fn a_drain_is_timed_at_the_link_rate_never_the_burst_rate() {
        const MIB: u64 = 1024 * 1024;
        let none = std::time::Duration::ZERO;
        let secs = |p: &Progress| p.state.lock().unwrap().drain.map(|d| d.as_secs_f64());
        // Taken in one burst: no rate, the floor rate times the drain.
        let burst = Progress::new();
        let mut clock = tokio::time::Instant::now();
        send(&burst, &mut clock, 3 * MIB, none, true);
        assert_eq!(secs(&burst), Some(48.0));
        // Buffers filled at once, the rest at 1 MiB/s (a slice every
        // 62.5 ms): the drain is timed at 1 MiB/s, not at the burst's rate.
        let gap = std::time::Duration::from_micros(62_500);
        let slow = Progress::new();
        let mut clock = tokio::time::Instant::now();
        send(&slow, &mut clock, SOCKET_BUFFERS, none, false);
        send(&slow, &mut clock, 2 * MIB, gap, true);
        assert_eq!(secs(&slow).map(f64::round), Some(8.0));
        // 2 MiB at once, then half a second at 1 MiB/s: every window
        // measured began before the buffers were surely full, so the old
        // code's burst-inflated rate is not used; the floor rate is.
        let short = Progress::new();
        let mut clock = tokio::time::Instant::now();
        send(&short, &mut clock, 2 * MIB, none, false);
        send(&short, &mut clock, MIB / 2, gap, true);
        assert_eq!(secs(&short), Some(40.0));
    }

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

//! [`FaultProxy`]: a loopback HTTP/1.1 reverse proxy that forwards requests
//! byte for byte (method, path, query and every header, `Host` included, so
//! signatures stay valid) and injects faults by rule.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use crate::serve::Background;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

type ProxyBody = BoxBody<Bytes, BoxError>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What to do to a matching request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status and an S3 `<Error>` document carrying `code`,
    /// without reaching the server (status 200 gives S3's "error in a 200").
    Status {
        /// HTTP status.
        status: u16,
        /// S3 error code, e.g. `SlowDown`.
        code: String,
    },
    /// Close the connection without answering (the request never reaches
    /// the server).
    Reset,
    /// Forward the upstream response's status and headers unchanged
    /// (`Content-Length` included), then close the connection after this
    /// many body bytes, so the client sees a short body.
    CutBody {
        /// Bytes of the response body let through.
        after_bytes: usize,
    },
    /// Wait, then forward.
    Delay(Duration),
    /// Answer 301 PermanentRedirect with `x-amz-bucket-region`, as S3 does
    /// for a bucket in another region.
    Redirect {
        /// The bucket's region.
        region: String,
    },
}

/// A request as the proxy received it, for asserting what a client sent.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// Method.
    pub method: Method,
    /// Path, still percent-encoded.
    pub path: String,
    /// Raw query string.
    pub query: String,
    /// Every header.
    pub headers: http::HeaderMap,
}

/// When a fault applies: method, path and query filters, then `skip`
/// matching requests let through before `times` are faulted.
#[derive(Debug, Clone)]
pub struct FaultRule {
    /// Only this method.
    pub method: Option<Method>,
    /// Only paths containing this.
    pub path_contains: Option<String>,
    /// Only queries containing this.
    pub query_contains: Option<String>,
    /// Matching requests let through first.
    pub skip: usize,
    /// Matching requests faulted after that.
    pub times: usize,
    /// The fault.
    pub fault: Fault,
}

impl FaultRule {
    /// A rule matching every request once.
    pub fn new(fault: Fault) -> Self {
        Self {
            method: None,
            path_contains: None,
            query_contains: None,
            skip: 0,
            times: 1,
            fault,
        }
    }

    /// Only requests with this method.
    pub fn method(mut self, method: Method) -> Self {
        self.method = Some(method);
        self
    }

    /// Only requests whose path contains `s`.
    pub fn path_contains(mut self, s: impl Into<String>) -> Self {
        self.path_contains = Some(s.into());
        self
    }

    /// Only requests whose query contains `s`.
    pub fn query_contains(mut self, s: impl Into<String>) -> Self {
        self.query_contains = Some(s.into());
        self
    }

    /// Lets `n` matching requests through first.
    pub fn skip(mut self, n: usize) -> Self {
        self.skip = n;
        self
    }

    /// Faults `n` matching requests.
    pub fn times(mut self, n: usize) -> Self {
        self.times = n;
        self
    }

    fn matches<B>(&self, req: &Request<B>) -> bool {
        self.method.as_ref().is_none_or(|m| m == req.method())
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| req.uri().path().contains(p))
            && self
                .query_contains
                .as_deref()
                .is_none_or(|q| req.uri().query().unwrap_or_default().contains(q))
    }
}

/// A rule and how often it has matched.
struct RuleState {
    rule: FaultRule,
    seen: usize,
    fired: usize,
}

struct Shared {
    upstream: SocketAddr,
    client: Client<HttpConnector, Incoming>,
    rules: Mutex<Vec<RuleState>>,
    recorded: Mutex<Vec<RecordedRequest>>,
    requests: AtomicUsize,
    faults: AtomicUsize,
}

impl Shared {
    /// The fault for this request, counting it against its rule.
    fn fault_for<B>(&self, req: &Request<B>) -> Option<Fault> {
        let mut rules = self.rules.lock().unwrap();
        for state in rules.iter_mut() {
            if !state.rule.matches(req) {
                continue;
            }
            if state.seen < state.rule.skip {
                state.seen += 1;
                return None;
            }
            if state.fired < state.rule.times {
                state.fired += 1;
                return Some(state.rule.fault.clone());
            }
        }
        None
    }
}

/// The fault-injecting proxy; stops when dropped.
pub struct FaultProxy {
    background: Background,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr())
            .field("upstream", &self.shared.upstream)
            .finish_non_exhaustive()
    }
}

impl FaultProxy {
    /// Starts a proxy on `127.0.0.1:<random>` in front of `upstream`.
    pub fn start(upstream: SocketAddr) -> FaultProxy {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let shared = Arc::new(Shared {
            upstream,
            client: Client::builder(TokioExecutor::new()).build(connector),
            rules: Mutex::new(Vec::new()),
            recorded: Mutex::new(Vec::new()),
            requests: AtomicUsize::new(0),
            faults: AtomicUsize::new(0),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let handler = Arc::clone(&shared);
        let service = hyper::service::service_fn(move |req| handle(Arc::clone(&handler), req));
        FaultProxy {
            background: Background::spawn("fault proxy", listener, service),
            shared,
        }
    }

    /// The proxy's address.
    pub fn addr(&self) -> SocketAddr {
        self.background.addr()
    }

    /// `http://127.0.0.1:PORT`, to use as a client's endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// Adds a rule. Rules are tried in the order added; the first rule that
    /// matches a request and still has requests to skip or to fault decides
    /// (a rule whose `skip + times` is used up no longer counts).
    pub fn push_rule(&self, rule: FaultRule) {
        self.shared.rules.lock().unwrap().push(RuleState {
            rule,
            seen: 0,
            fired: 0,
        });
    }

    /// Removes every rule.
    pub fn clear_rules(&self) {
        self.shared.rules.lock().unwrap().clear();
    }

    /// Requests received so far, faulted or not.
    pub fn requests_seen(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Every request received so far, in order.
    pub fn recorded(&self) -> Vec<RecordedRequest> {
        self.shared.recorded.lock().unwrap().clone()
    }

    /// Requests that got a fault.
    pub fn faults_injected(&self) -> usize {
        self.shared.faults.load(Ordering::SeqCst)
    }
}

fn full(body: impl Into<Bytes>) -> ProxyBody {
    Full::new(body.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}

/// An S3 error document, as a server would send it.
fn error_response(status: u16, code: &str) -> Response<ProxyBody> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>injected by FaultProxy</Message><RequestId>FAULT{}</RequestId></Error>",
        fastrand::u32(..)
    );
    let mut resp = Response::new(full(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/xml"),
    );
    resp
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<ProxyBody>, BoxError> {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    shared.recorded.lock().unwrap().push(RecordedRequest {
        method: req.method().clone(),
        path: req.uri().path().to_owned(),
        query: req.uri().query().unwrap_or_default().to_owned(),
        headers: req.headers().clone(),
    });
    let fault = shared.fault_for(&req);
    if fault.is_some() {
        shared.faults.fetch_add(1, Ordering::SeqCst);
    }
    match fault {
        Some(Fault::Status { status, code }) => return Ok(error_response(status, &code)),
        Some(Fault::Redirect { region }) => {
            let mut resp = error_response(301, "PermanentRedirect");
            let value = http::HeaderValue::from_str(&region)?;
            resp.headers_mut().insert("x-amz-bucket-region", value);
            return Ok(resp);
        }
        // An error from the service makes hyper drop the connection unanswered.
        Some(Fault::Reset) => return Err("injected connection reset".into()),
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        _ => {}
    }
    let resp = forward(&shared, req).await?;
    Ok(match fault {
        Some(Fault::CutBody { after_bytes }) => {
            let (parts, body) = resp.into_parts();
            Response::from_parts(
                parts,
                CutBody {
                    inner: body,
                    left: after_bytes,
                    flush: None,
                }
                .boxed(),
            )
        }
        _ => resp.map(|b| b.map_err(|e| Box::new(e) as BoxError).boxed()),
    })
}

/// Sends the request upstream unchanged but for the authority it connects to.
async fn forward(shared: &Shared, req: Request<Incoming>) -> Result<Response<Incoming>, BoxError> {
    let (mut parts, body) = req.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    parts.uri = format!("http://{}{path}", shared.upstream).parse()?;
    Ok(shared
        .client
        .request(Request::from_parts(parts, body))
        .await?)
}

/// How long a cut body waits, once its bytes are out, before failing: the
/// connection task flushes what was written meanwhile (hyper drops unflushed
/// output when a body fails), so the client gets the headers and exactly
/// `after_bytes` bytes before the connection closes.
const FLUSH_BEFORE_CUT: Duration = Duration::from_millis(20);

/// A body that lets `left` bytes through, then fails (closing the connection).
struct CutBody {
    inner: Incoming,
    left: usize,
    /// Started once `left` reaches 0.
    flush: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Body for CutBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.left == 0 {
            let flush = self
                .flush
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(FLUSH_BEFORE_CUT)));
            return match flush.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err("injected body cut".into()))),
                Poll::Pending => Poll::Pending,
            };
        }
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                Ok(mut data) => {
                    if data.len() > self.left {
                        data.truncate(self.left);
                    }
                    self.left -= data.len();
                    Poll::Ready(Some(Ok(Frame::data(data))))
                }
                Err(frame) => Poll::Ready(Some(Ok(frame))),
            },
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Box::new(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

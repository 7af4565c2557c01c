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
    /// Like [`Fault::Status`], with these response headers added (a
    /// `Date` far from now, say, as a server whose clock disagrees sends
    /// with its 403 to a HEAD, which has no body to name the error).
    StatusWithHeaders {
        /// HTTP status.
        status: u16,
        /// S3 error code.
        code: String,
        /// Header names and values.
        headers: Vec<(String, String)>,
    },
    /// Close the connection without answering (the request never reaches
    /// the server).
    Reset,
    /// Forward the request and let the server act on it, read its whole
    /// answer, then close the connection without passing it on: the
    /// client cannot tell whether its request took effect.
    DropResponse,
    /// Forward the request and let the server act on it, read its whole
    /// answer, then answer this status and an S3 `<Error>` document
    /// carrying `code` instead, as a gateway that timed out waiting for the
    /// server does: the request took effect although the client sees a
    /// server error.
    ActThenStatus {
        /// HTTP status (500, 502, 504).
        status: u16,
        /// S3 error code, e.g. `InternalError`.
        code: String,
    },
    /// Forward the request and let the server act on it, read its whole
    /// answer, then answer 200 with only the XML declaration, as S3 does
    /// when it aborts a CompleteMultipartUpload or CopyObject after its 200
    /// went out: the request may have taken effect, yet no document came.
    ActThenEmptyOk,
    /// Forward; when the server refuses the request (a 4xx), close the
    /// connection instead of passing the refusal on, as S3 does when it
    /// refuses a request signed for another region while its body is
    /// still coming: the 400 naming the region is lost with the reset.
    ResetOnRefusal,
    /// Forward the upstream response's status and headers unchanged
    /// (`Content-Length` included), then close the connection after this
    /// many body bytes, so the client sees a short body.
    CutBody {
        /// Bytes of the response body let through.
        after_bytes: usize,
    },
    /// Like [`Fault::CutBody`], with the response header `name` removed
    /// first: a cut answer from a cache or gateway that strips, say, ETag.
    CutBodyWithoutHeader {
        /// Bytes of the response body let through.
        after_bytes: usize,
        /// The header removed, e.g. `etag`.
        name: String,
    },
    /// Wait, then forward.
    Delay(Duration),
    /// Answer 301 PermanentRedirect with `x-amz-bucket-region`, as S3 does
    /// for a bucket in another region.
    Redirect {
        /// The bucket's region.
        region: String,
    },
    /// Forward without the `Range` header, as a server or cache that
    /// ignores ranges would answer: 200 and the whole object. (The client
    /// must leave `Range` out of its signature for the server to accept
    /// the stripped request.)
    StripRange,
    /// Answer like [`Fault::Status`] with a `Retry-After` header, as a
    /// throttling server asks a client to come back later.
    RetryAfter {
        /// HTTP status (429 or 503).
        status: u16,
        /// S3 error code, e.g. `SlowDown`.
        code: String,
        /// The header's value, in seconds.
        seconds: u64,
    },
    /// Answer 307 Temporary Redirect to the same path and query at
    /// `origin` (`http://host:port`), as S3 does while a new bucket's DNS
    /// name settles.
    TemporaryRedirect {
        /// Scheme, host and port to send the client to.
        origin: String,
    },
    /// Like [`Fault::TemporaryRedirect`], with a Location that keeps the
    /// path but drops the query, as a gateway that loses it does: followed,
    /// an UploadPart would become a PutObject of one part over the key.
    TemporaryRedirectDroppingQuery {
        /// Scheme, host and port to send the client to.
        origin: String,
    },
    /// Forward a listing, then replace the `NextContinuationToken` of its
    /// answer with the first `continuation-token` any request sent through
    /// this proxy carried: a server repeating a token (A→A when the
    /// faulted request carried that first token, A→B→A one page later).
    RepeatListingToken,
    /// Forward a listing, then put this common prefix first in its answer:
    /// a server (LocalStack, versitygw) that lists again, at the top of a
    /// page, the common prefix the page before ended in.
    PrependCommonPrefix {
        /// The prefix, as it goes into the XML (already encoded when the
        /// listing is URL-encoded).
        prefix: String,
    },
    /// Answer a listing, without reaching the server, with an empty page
    /// that says it is truncated and carries a continuation token never
    /// given before: a server that would page forever without repeating
    /// itself.
    EmptyTruncatedListing,
    /// A server that ignores `continuation-token` and mints a fresh one
    /// each time (ListObjectsV2 or ListBuckets): the first listing request
    /// this fault meets without a
    /// token is forwarded and its answer kept; every one it meets with a
    /// token is answered, without reaching the server, with that first
    /// page, truncated, under a token never given before. Pages that never
    /// advance, never repeat a token and are never empty.
    ReplayFirstListingPage,
    /// Forward, passing the request body to the server and the response
    /// body back at no more than this many bytes per second (a slow uplink
    /// or downlink; the connection stays busy, never idle).
    Throttle {
        /// The rate, in bytes per second, each way.
        bytes_per_second: u64,
    },
    /// Forward, passing the response's status and headers on at once and
    /// then its body `bytes` at a time, one slice every `every`: a server
    /// (or middlebox) that trickles, each gap shorter than any idle
    /// timeout, so only a deadline on the whole answer or a minimum rate
    /// ends the attempt.
    Trickle {
        /// Bytes per slice.
        bytes: usize,
        /// The pause before each slice.
        every: Duration,
    },
    /// Answer a DeleteObjects, without reaching the server, with a
    /// `<DeleteResult>` refusing every key with `code` (as S3 does for each
    /// key a policy protects), keys written raw, as a server may write
    /// them: a CR in one reads back as LF (XML's end-of-line handling).
    RefuseDeletes {
        /// S3 error code, e.g. `AccessDenied`.
        code: String,
    },
    /// Forward, then set a response header to `value`, or remove it when
    /// `None`: a server sending malformed or missing numbers.
    SetResponseHeader {
        /// Header name, e.g. `content-range`.
        name: String,
        /// The new value; `None` removes the header.
        value: Option<String>,
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

    /// Faults every matching request (after those skipped).
    pub fn always(self) -> Self {
        self.times(usize::MAX)
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
    client: Client<HttpConnector, ProxyBody>,
    rules: Mutex<Vec<RuleState>>,
    recorded: Mutex<Vec<RecordedRequest>>,
    requests: AtomicUsize,
    faults: AtomicUsize,
    /// Per method: requests being handled now, and the most at once.
    in_flight: Mutex<std::collections::HashMap<Method, (usize, usize)>>,
    /// The listing page [`Fault::ReplayFirstListingPage`] replays.
    first_listing_page: Mutex<Option<String>>,
}

/// Counts a request as in flight until dropped (when its handler returns:
/// for an upload, once the server has taken the whole body and answered).
struct InFlight {
    shared: Arc<Shared>,
    method: Method,
}

impl InFlight {
    fn start(shared: &Arc<Shared>, method: &Method) -> Self {
        let mut map = shared.in_flight.lock().unwrap();
        let (now, peak) = map.entry(method.clone()).or_default();
        *now += 1;
        *peak = (*peak).max(*now);
        Self {
            shared: Arc::clone(shared),
            method: method.clone(),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut map) = self.shared.in_flight.lock()
            && let Some((now, _)) = map.get_mut(&self.method)
        {
            *now -= 1;
        }
    }
}

impl Shared {
    /// The first `continuation-token` a recorded request carried, decoded.
    fn first_continuation_token(&self) -> Option<String> {
        self.recorded.lock().unwrap().iter().find_map(|r| {
            r.query.split('&').find_map(|pair| {
                let value = pair.strip_prefix("continuation-token=")?;
                let value = value.replace('+', " ");
                Some(
                    percent_encoding::percent_decode_str(&value)
                        .decode_utf8_lossy()
                        .into_owned(),
                )
            })
        })
    }

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
    /// Starts a proxy in front of a plain `http://host:port` endpoint (a
    /// test target's, moto's); panics, naming it, for any other, since a
    /// fault test cannot run without its proxy.
    pub fn in_front_of(endpoint: &str) -> FaultProxy {
        use std::net::ToSocketAddrs;
        let upstream = endpoint
            .strip_prefix("http://")
            .and_then(|rest| rest.trim_end_matches('/').to_socket_addrs().ok())
            .and_then(|mut addrs| addrs.next())
            .unwrap_or_else(|| {
                panic!("a fault proxy fronts a plain http://host:port endpoint, not {endpoint:?}")
            });
        Self::start(upstream)
    }

    /// Starts a proxy on `127.0.0.1:<random>` in front of `upstream`.
    pub fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        Self::serve(listener, upstream)
    }

    /// Starts a proxy on `listen` in front of `upstream`: a server that
    /// comes up on a port a client was already refused at.
    pub fn start_at(listen: SocketAddr, upstream: SocketAddr) -> FaultProxy {
        let listener = std::net::TcpListener::bind(listen).expect("bind proxy");
        Self::serve(listener, upstream)
    }

    fn serve(listener: std::net::TcpListener, upstream: SocketAddr) -> FaultProxy {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let shared = Arc::new(Shared {
            upstream,
            client: Client::builder(TokioExecutor::new()).build(connector),
            rules: Mutex::new(Vec::new()),
            recorded: Mutex::new(Vec::new()),
            requests: AtomicUsize::new(0),
            faults: AtomicUsize::new(0),
            in_flight: Mutex::new(std::collections::HashMap::new()),
            first_listing_page: Mutex::new(None),
        });
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

    /// The most requests with `method` the proxy was handling at once
    /// (each from its arrival until its answer was sent upstream's way):
    /// how many uploads a client really had in flight.
    pub fn peak_in_flight(&self, method: &Method) -> usize {
        let map = self.shared.in_flight.lock().unwrap();
        map.get(method).map_or(0, |(_, peak)| *peak)
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
    let _in_flight = InFlight::start(&shared, req.method());
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
        Some(Fault::StatusWithHeaders {
            status,
            code,
            headers,
        }) => {
            let mut resp = error_response(status, &code);
            for (name, value) in headers {
                resp.headers_mut().insert(
                    http::HeaderName::from_bytes(name.as_bytes())?,
                    http::HeaderValue::from_str(&value)?,
                );
            }
            return Ok(resp);
        }
        Some(Fault::RetryAfter {
            status,
            code,
            seconds,
        }) => {
            let mut resp = error_response(status, &code);
            resp.headers_mut()
                .insert(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
            return Ok(resp);
        }
        Some(
            ref fault @ (Fault::TemporaryRedirect { ref origin }
            | Fault::TemporaryRedirectDroppingQuery { ref origin }),
        ) => {
            let path = match fault {
                Fault::TemporaryRedirect { .. } => req.uri().path_and_query().map(|p| p.as_str()),
                _ => Some(req.uri().path()),
            }
            .unwrap_or("/")
            .to_owned();
            // Read the body first: answering before it is taken makes the
            // client see a broken connection instead of the 307.
            req.into_body().collect().await?;
            let mut resp = error_response(307, "TemporaryRedirect");
            let location = http::HeaderValue::from_str(&format!("{origin}{path}"))?;
            resp.headers_mut().insert(http::header::LOCATION, location);
            return Ok(resp);
        }
        Some(Fault::Redirect { region }) => {
            let mut resp = error_response(301, "PermanentRedirect");
            let value = http::HeaderValue::from_str(&region)?;
            resp.headers_mut().insert("x-amz-bucket-region", value);
            return Ok(resp);
        }
        Some(Fault::EmptyTruncatedListing) => {
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult><Name>bucket</Name><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated><NextContinuationToken>fresh-{}-{}</NextContinuationToken></ListBucketResult>",
                shared.faults.load(Ordering::SeqCst),
                fastrand::u64(..)
            );
            let mut resp = Response::new(full(body));
            resp.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/xml"),
            );
            return Ok(resp);
        }
        Some(Fault::ReplayFirstListingPage)
            if req
                .uri()
                .query()
                .unwrap_or_default()
                .contains("continuation-token=") =>
        {
            let first = shared.first_listing_page.lock().unwrap().clone();
            let first = first.ok_or("no first listing page to replay")?;
            let token = format!(
                "fresh-{}-{}",
                shared.faults.load(Ordering::SeqCst),
                fastrand::u64(..)
            );
            let mut resp = Response::new(full(endless_page(&first, &token)));
            resp.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/xml"),
            );
            return Ok(resp);
        }
        Some(Fault::RefuseDeletes { code }) => {
            let body = req.into_body().collect().await?.to_bytes();
            let mut resp = Response::new(full(refused_deletes(
                &String::from_utf8_lossy(&body),
                &code,
            )));
            resp.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/xml"),
            );
            return Ok(resp);
        }
        // An error from the service makes hyper drop the connection unanswered.
        Some(Fault::Reset) => return Err("injected connection reset".into()),
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        _ => {}
    }
    let mut req = match &fault {
        Some(Fault::Throttle { bytes_per_second }) => {
            let rate = *bytes_per_second;
            req.map(|b| Throttled::new(b, rate).boxed())
        }
        _ => req.map(|b| b.map_err(|e| Box::new(e) as BoxError).boxed()),
    };
    if matches!(fault, Some(Fault::StripRange)) {
        req.headers_mut().remove(http::header::RANGE);
    }
    let first_token = matches!(fault, Some(Fault::RepeatListingToken))
        .then(|| shared.first_continuation_token())
        .flatten();
    let mut resp = forward(&shared, req).await?;
    if matches!(fault, Some(Fault::ResetOnRefusal)) && resp.status().is_client_error() {
        return Err("injected reset after the server's refusal".into());
    }
    if let Some(token) = first_token {
        let (mut parts, body) = resp.into_parts();
        let text = String::from_utf8(body.collect().await?.to_bytes().to_vec())?;
        let text = replace_next_token(&text, &token);
        parts
            .headers
            .insert(http::header::CONTENT_LENGTH, text.len().into());
        return Ok(Response::from_parts(parts, full(text)));
    }
    if let Some(Fault::PrependCommonPrefix { prefix }) = &fault {
        let (mut parts, body) = resp.into_parts();
        let text = String::from_utf8(body.collect().await?.to_bytes().to_vec())?;
        let text = prepend_common_prefix(&text, prefix);
        parts
            .headers
            .insert(http::header::CONTENT_LENGTH, text.len().into());
        return Ok(Response::from_parts(parts, full(text)));
    }
    if matches!(fault, Some(Fault::ReplayFirstListingPage)) {
        let (mut parts, body) = resp.into_parts();
        let text = String::from_utf8(body.collect().await?.to_bytes().to_vec())?;
        let fresh = format!("fresh-first-{}", fastrand::u64(..));
        let text = endless_page(&text, &fresh);
        shared
            .first_listing_page
            .lock()
            .unwrap()
            .get_or_insert(text.clone());
        parts
            .headers
            .insert(http::header::CONTENT_LENGTH, text.len().into());
        return Ok(Response::from_parts(parts, full(text)));
    }
    if matches!(fault, Some(Fault::DropResponse)) {
        resp.into_body().collect().await?;
        return Err("injected loss of the response".into());
    }
    if let Some(Fault::ActThenStatus { status, code }) = &fault {
        resp.into_body().collect().await?;
        return Ok(error_response(*status, code));
    }
    if matches!(fault, Some(Fault::ActThenEmptyOk)) {
        resp.into_body().collect().await?;
        return Ok(Response::new(full(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
        )));
    }
    if let Some(Fault::SetResponseHeader { name, value }) = &fault {
        let name = http::HeaderName::from_bytes(name.as_bytes())?;
        match value {
            Some(value) => {
                resp.headers_mut()
                    .insert(name, http::HeaderValue::from_str(value)?);
            }
            None => {
                resp.headers_mut().remove(name);
            }
        }
    }
    if let Some(Fault::CutBodyWithoutHeader { name, .. }) = &fault {
        resp.headers_mut()
            .remove(http::HeaderName::from_bytes(name.as_bytes())?);
    }
    Ok(match fault {
        Some(Fault::CutBody { after_bytes } | Fault::CutBodyWithoutHeader { after_bytes, .. }) => {
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
        Some(Fault::Trickle { bytes, every }) => resp.map(|b| {
            Trickled {
                inner: b,
                bytes: bytes.max(1),
                every,
                pending: None,
                wait: None,
            }
            .boxed()
        }),
        // Without Content-Length hyper would add it back from the body's
        // exact size: hide the size, so the answer goes out chunked.
        Some(Fault::Throttle { bytes_per_second }) => {
            resp.map(|b| Throttled::new(b, bytes_per_second).boxed())
        }
        Some(Fault::SetResponseHeader { value: None, name })
            if name.eq_ignore_ascii_case("content-length") =>
        {
            resp.map(|b| HideSize(b).boxed())
        }
        _ => resp.map(|b| b.map_err(|e| Box::new(e) as BoxError).boxed()),
    })
}

/// A body passed on at a bounded rate, in slices of a twentieth of a second.
struct Throttled {
    inner: Incoming,
    bytes_per_second: u64,
    started: tokio::time::Instant,
    sent: u64,
    /// What is left of a frame larger than one slice.
    pending: Option<Bytes>,
    /// Waits until the bytes already sent are due at the rate.
    wait: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Throttled {
    fn new(inner: Incoming, bytes_per_second: u64) -> Self {
        Self {
            inner,
            bytes_per_second: bytes_per_second.max(1),
            started: tokio::time::Instant::now(),
            sent: 0,
            pending: None,
            wait: None,
        }
    }
}

impl Body for Throttled {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if let Some(wait) = self.wait.as_mut() {
            if wait.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.wait = None;
        }
        let this = &mut *self;
        let mut data = match next_data(&mut this.pending, &mut this.inner, cx) {
            Ok(data) => data,
            Err(instead) => return instead,
        };
        let slice = usize::try_from(self.bytes_per_second / 20)
            .unwrap_or(usize::MAX)
            .max(1);
        let piece = data.split_to(data.len().min(slice));
        if !data.is_empty() {
            self.pending = Some(data);
        }
        self.sent += piece.len() as u64;
        let due =
            self.started + Duration::from_secs_f64(self.sent as f64 / self.bytes_per_second as f64);
        self.wait = Some(Box::pin(tokio::time::sleep_until(due)));
        Poll::Ready(Some(Ok(Frame::data(piece))))
    }
}

/// What a pacing body returns: a frame, an error, the end, or pending.
type FramePoll = Poll<Option<Result<Frame<Bytes>, BoxError>>>;

/// The next bytes a pacing body passes on: what is left of the last frame,
/// else the next data frame of `inner`; anything else is returned as is.
fn next_data(
    pending: &mut Option<Bytes>,
    inner: &mut Incoming,
    cx: &mut Context<'_>,
) -> Result<Bytes, FramePoll> {
    if let Some(data) = pending.take() {
        return Ok(data);
    }
    match Pin::new(inner).poll_frame(cx) {
        Poll::Ready(Some(Ok(frame))) => frame
            .into_data()
            .map_err(|frame| Poll::Ready(Some(Ok(frame)))),
        Poll::Ready(Some(Err(e))) => Err(Poll::Ready(Some(Err(Box::new(e))))),
        Poll::Ready(None) => Err(Poll::Ready(None)),
        Poll::Pending => Err(Poll::Pending),
    }
}

/// A body passed on a few bytes at a time, each slice after a pause.
struct Trickled {
    inner: Incoming,
    bytes: usize,
    every: Duration,
    /// What is left of the last frame read.
    pending: Option<Bytes>,
    /// The pause before the next slice.
    wait: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Body for Trickled {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let every = self.every;
        let wait = self
            .wait
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(every)));
        if wait.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let this = &mut *self;
        let mut data = match next_data(&mut this.pending, &mut this.inner, cx) {
            Ok(data) => data,
            Err(instead) => return instead,
        };
        let piece = data.split_to(data.len().min(self.bytes));
        if !data.is_empty() {
            self.pending = Some(data);
        }
        self.wait = None;
        Poll::Ready(Some(Ok(Frame::data(piece))))
    }
}

/// `text` with the content of its `NextContinuationToken` element replaced
/// by `token` (XML-escaped); unchanged when it has none.
/// A `<DeleteResult>` refusing every `<Key>` of the DeleteObjects
/// `request` with `code`, each key written raw (only `&`, `<`, `>`
/// escaped).
fn refused_deletes(request: &str, code: &str) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DeleteResult>");
    for chunk in request.split("<Key>").skip(1) {
        let text = chunk.split("</Key>").next().unwrap_or_default();
        let key = unescape_xml(text);
        let raw = key
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        out.push_str(&format!(
            "<Error><Key>{raw}</Key><Code>{code}</Code><Message>injected by FaultProxy</Message></Error>"
        ));
    }
    out.push_str("</DeleteResult>");
    out
}

/// XML character data with its entity and numeric character references
/// replaced (enough for the bodies clients send).
fn unescape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let Some(end) = rest[at..].find(';') else {
            out.push_str(&rest[at..]);
            return out;
        };
        let name = &rest[at + 1..at + end];
        let c = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => name
                .strip_prefix("#x")
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| name.strip_prefix('#').map(str::parse))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => out.push(c),
            None => out.push_str(&rest[at..=at + end]),
        }
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    out
}

fn replace_next_token(text: &str, token: &str) -> String {
    replace_element(text, "NextContinuationToken", token)
}

/// `text` with the content of its first `<element>` replaced by `value`.
fn replace_element(text: &str, element: &str, value: &str) -> String {
    let (open, close) = (format!("<{element}>"), format!("</{element}>"));
    let Some(start) = text.find(&open).map(|i| i + open.len()) else {
        return text.to_owned();
    };
    let Some(end) = text[start..].find(&close).map(|i| start + i) else {
        return text.to_owned();
    };
    let token = value;
    let escaped = token
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!("{}{escaped}{}", &text[..start], &text[end..])
}

/// A listing page `text` with `prefix` as its first common prefix.
fn prepend_common_prefix(text: &str, prefix: &str) -> String {
    let escaped = prefix
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let element = format!("<CommonPrefixes><Prefix>{escaped}</Prefix></CommonPrefixes>");
    match text.find("<CommonPrefixes>") {
        Some(at) => format!("{}{element}{}", &text[..at], &text[at..]),
        None => text.replacen(
            "</ListBucketResult>",
            &format!("{element}</ListBucketResult>"),
            1,
        ),
    }
}

/// A listing page `text` made truncated, continuing under `token`: a
/// ListObjectsV2 page, or a ListBuckets page (whose token element is
/// `ContinuationToken`, and which is truncated by having one).
fn endless_page(text: &str, token: &str) -> String {
    let text = text.replace(
        "<IsTruncated>false</IsTruncated>",
        "<IsTruncated>true</IsTruncated>",
    );
    let (element, close) = match text.contains("</ListAllMyBucketsResult>") {
        true => ("ContinuationToken", "</ListAllMyBucketsResult>"),
        false => ("NextContinuationToken", "</ListBucketResult>"),
    };
    if text.contains(&format!("<{element}>")) {
        return replace_element(&text, element, token);
    }
    text.replacen(close, &format!("<{element}>{token}</{element}>{close}"), 1)
}

/// A body whose size is not known up front.
struct HideSize(Incoming);

impl Body for HideSize {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.0)
            .poll_frame(cx)
            .map_err(|e| Box::new(e) as BoxError)
    }
}

/// Sends the request upstream unchanged but for the authority it connects to.
async fn forward(shared: &Shared, req: Request<ProxyBody>) -> Result<Response<Incoming>, BoxError> {
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

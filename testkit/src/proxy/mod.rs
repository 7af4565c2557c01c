//! [`FaultProxy`]: a loopback HTTP/1.1 reverse proxy that forwards requests
//! byte for byte (method, path, query and every header, `Host` included, so
//! signatures stay valid) and injects faults by rule.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::serve::Background;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

type ProxyBody = BoxBody<Bytes, BoxError>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

mod body;
mod rewrite;
mod rule;

use body::{CutBody, HideSize, Throttled, Trickled};
use rewrite::{endless_page, prepend_common_prefix, refused_deletes, replace_next_token};
pub use rule::{Fault, FaultRule, RecordedRequest};

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
    /// The answer [`Fault::StaleHead`] repeats.
    stale_head: Mutex<Option<(StatusCode, http::HeaderMap)>>,
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
            stale_head: Mutex::new(None),
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

    /// Removes every rule, and the answer a [`Fault::StaleHead`] kept.
    pub fn clear_rules(&self) {
        self.shared.rules.lock().unwrap().clear();
        *self.shared.stale_head.lock().unwrap() = None;
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
        Some(Fault::StaleHead) => {
            let stale = shared.stale_head.lock().unwrap().clone();
            if let Some((status, headers)) = stale {
                let mut resp = Response::new(full(Bytes::new()));
                *resp.status_mut() = status;
                *resp.headers_mut() = headers;
                return Ok(resp);
            }
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
    if matches!(fault, Some(Fault::StripIfMatch)) {
        req.headers_mut().remove(http::header::IF_MATCH);
    }
    let first_token = matches!(fault, Some(Fault::RepeatListingToken))
        .then(|| shared.first_continuation_token())
        .flatten();
    let mut resp = forward(&shared, req).await?;
    if matches!(fault, Some(Fault::ResetOnRefusal)) && resp.status().is_client_error() {
        return Err("injected reset after the server's refusal".into());
    }
    if let Some(token) = first_token {
        return edited(resp, |text| replace_next_token(text, &token)).await;
    }
    if let Some(Fault::PrependCommonPrefix { prefix }) = &fault {
        return edited(resp, |text| prepend_common_prefix(text, prefix)).await;
    }
    if let Some(Fault::ReplaceInBody { from, to }) = &fault {
        return edited(resp, |text| text.replace(from.as_str(), to)).await;
    }
    if let Some(Fault::RemoveElementAndReplace { element, from, to }) = &fault {
        return edited(resp, |text| {
            without_element(text, element).replace(from.as_str(), to)
        })
        .await;
    }
    if matches!(fault, Some(Fault::ReplayFirstListingPage)) {
        let fresh = format!("fresh-first-{}", fastrand::u64(..));
        return edited(resp, |text| {
            let text = endless_page(text, &fresh);
            shared
                .first_listing_page
                .lock()
                .unwrap()
                .get_or_insert(text.clone());
            text
        })
        .await;
    }
    if let Some(Fault::DelayAnswer(d)) = &fault {
        // The whole answer first: a server may act while it streams it.
        let (parts, body) = resp.into_parts();
        let body = body.collect().await?.to_bytes();
        tokio::time::sleep(*d).await;
        return Ok(Response::from_parts(parts, full(body)));
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
    if matches!(fault, Some(Fault::StaleHead)) {
        shared
            .stale_head
            .lock()
            .unwrap()
            .get_or_insert_with(|| (resp.status(), resp.headers().clone()));
    }
    if matches!(fault, Some(Fault::StripUserMetadata)) {
        let names: Vec<http::HeaderName> = resp
            .headers()
            .keys()
            .filter(|name| name.as_str().starts_with("x-amz-meta-"))
            .cloned()
            .collect();
        for name in names {
            resp.headers_mut().remove(name);
        }
    }
    if let Some(Fault::CutBodyWithoutHeader { name, .. }) = &fault {
        resp.headers_mut()
            .remove(http::HeaderName::from_bytes(name.as_bytes())?);
    }
    Ok(match fault {
        Some(Fault::CutBody { after_bytes } | Fault::CutBodyWithoutHeader { after_bytes, .. }) => {
            let (parts, body) = resp.into_parts();
            Response::from_parts(parts, CutBody::new(body, after_bytes).boxed())
        }
        Some(Fault::Trickle { bytes, every }) => {
            resp.map(|b| Trickled::new(b, bytes, every).boxed())
        }
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

/// `resp` with its body text passed through `edit`, and its
/// Content-Length made the edited text's.
/// `text` without any `<name>...</name>` element.
fn without_element(text: &str, name: &str) -> String {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(&open) {
        out.push_str(&rest[..start]);
        rest = match rest[start..].find(&close) {
            Some(end) => &rest[start + end + close.len()..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

async fn edited(
    resp: Response<Incoming>,
    edit: impl FnOnce(&str) -> String,
) -> Result<Response<ProxyBody>, BoxError> {
    let (mut parts, body) = resp.into_parts();
    let text = edit(&String::from_utf8(
        body.collect().await?.to_bytes().to_vec(),
    )?);
    parts
        .headers
        .insert(http::header::CONTENT_LENGTH, text.len().into());
    Ok(Response::from_parts(parts, full(text)))
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

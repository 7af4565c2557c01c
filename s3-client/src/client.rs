//! [`S3Client`] and its request engine: build the URL, sign, send, classify
//! the answer, retry with backoff, follow a region redirect once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use http::header::{CONTENT_LENGTH, HOST, HeaderName, HeaderValue, USER_AGENT};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::addressing::Endpoint;
use crate::bucket_region::BucketRegions;
use crate::config::{ClientConfig, PayloadSigning};
use crate::credentials::SharedCredentials;
use crate::error::{Error, Operation, RequestTarget, Result, ServiceError};
use crate::signing::{PayloadHash, sign_request};
use crate::transport::{BodyPace, HttpClient, Progress, RequestBody, build_client};
use crate::xml::ErrorBody;

/// Bodies larger than this may go out as `UNSIGNED-PAYLOAD` (see
/// [`PayloadSigning`]); smaller ones are always hashed, it costs nothing.
const UNSIGNED_PAYLOAD_THRESHOLD: usize = 64 * 1024;

/// Largest error body read; S3 error documents are a few hundred bytes.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Largest XML answer read whole (a ListObjectsV2 page of 1000 long keys is
/// a few MiB); a server sending more is refused, not buffered.
const MAX_COLLECTED_BODY: usize = 64 * 1024 * 1024;

/// An S3 client. Cheap to clone: clones share the connection pool, the
/// credentials provider and the request counter.
#[derive(Clone)]
pub struct S3Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: ClientConfig,
    credentials: SharedCredentials,
    http: HttpClient,
    /// Regions learnt from `x-amz-bucket-region` on redirects, per bucket.
    bucket_regions: BucketRegions,
    requests: AtomicU64,
    /// Set once the server echoed `EncodingType=url` over a listing whose
    /// keys were not encoded: its listings are read as they are.
    pub(crate) listing_unencoded: std::sync::atomic::AtomicBool,
    /// Source of backoff jitter.
    jitter: Mutex<fastrand::Rng>,
    /// Write tokens of the multipart uploads this client started, by
    /// upload id, to recognise a completed upload whose answer was lost.
    pub(crate) upload_tokens: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for S3Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Client")
            .field("config", &self.inner.config)
            .field("credentials", &self.inner.credentials)
            .finish_non_exhaustive()
    }
}

/// One S3 request before signing. Query values and the key are raw; the
/// engine encodes them.
pub(crate) struct S3Request<'a> {
    pub operation: Operation,
    pub method: Method,
    pub bucket: &'a str,
    pub key: Option<&'a str>,
    pub query: Vec<(&'static str, String)>,
    pub headers: Vec<(HeaderName, String)>,
    pub body: Bytes,
    /// The body's SHA-256, computed on first use and kept for retries.
    payload_sha256: std::sync::OnceLock<String>,
    /// Whether S3 keeps the answer alive with spaces while it works
    /// (CompleteMultipartUpload, CopyObject, DeleteObjects), so the body
    /// has no floor rate, only a cap on the whole answer
    /// ([`crate::transport::KEPT_ALIVE_TIMEOUTS`]). (A 200 `<Error>` is an
    /// error for every request.)
    pub error_in_ok: bool,
    /// What a retry after a lost answer means for this request.
    pub lost_answer: LostAnswer,
}

/// A request's idempotency: whether it may be sent again after an attempt
/// whose answer was lost (the server may have acted on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LostAnswer {
    /// Repeating it changes nothing: reads, plain PUT, DELETE, UploadPart,
    /// DeleteObjects.
    Repeat,
    /// A repeat can fail because the first attempt succeeded (a
    /// conditional write answered 412, Complete answered NoSuchUpload) or
    /// leave something behind (CreateMultipartUpload): retried, and the
    /// caller resolves it from [`RetryLog`].
    Resolve,
    /// Not sent again: nothing can tell whether the first attempt acted.
    Fail,
}

/// What the retry loop saw besides the outcome.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RetryLog {
    /// An attempt failed after sending (connection lost, timeout, or a 5xx
    /// other than 503): the server may have acted on it.
    pub answer_lost: bool,
}

impl<'a> S3Request<'a> {
    pub fn new(
        operation: Operation,
        method: Method,
        bucket: &'a str,
        key: Option<&'a str>,
    ) -> Self {
        // POSTs create or complete something unless marked otherwise.
        let lost_answer = if method == Method::POST {
            LostAnswer::Fail
        } else {
            LostAnswer::Repeat
        };
        Self {
            operation,
            method,
            bucket,
            key,
            query: Vec::new(),
            headers: Vec::new(),
            body: Bytes::new(),
            payload_sha256: std::sync::OnceLock::new(),
            error_in_ok: false,
            lost_answer,
        }
    }

    /// Sets what a retry after a lost answer means for this request.
    pub fn lost_answer(mut self, lost_answer: LostAnswer) -> Self {
        self.lost_answer = lost_answer;
        self
    }

    /// Marks a request whose answer S3 keeps alive with spaces while it
    /// works (and may then end with a 200 `<Error>`): no floor rate.
    pub fn error_in_ok(mut self) -> Self {
        self.error_in_ok = true;
        self
    }

    pub fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(mut self, body: Bytes) -> Self {
        self.body = body;
        self
    }
}

/// Why one attempt failed, and whether another may succeed.
enum AttemptError {
    Retryable(Error),
    /// Retryable, and the request never reached the server (the
    /// connection was refused, DNS or the TLS handshake failed): not a
    /// lost answer, whatever the request.
    NotSent(Error),
    /// Retryable, and the server said how long to wait (`Retry-After`).
    RetryAfter(Error, Duration),
    /// The bucket lives in another region: retry at once, signed for it.
    WrongRegion(Error, String),
    /// 307: send the same request to this URL instead.
    Redirect(Error, Box<http::Uri>),
    Fatal(Error),
}

/// Statuses worth another attempt (throttling and server-side failures).
fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// Error codes worth another attempt, whatever the status.
/// ConditionalRequestConflict (409) is S3's "another conditional write of
/// this key is in progress: retry".
pub(crate) fn retryable_code(code: &str) -> bool {
    matches!(
        code,
        "SlowDown"
            | "InternalError"
            | "RequestTimeout"
            | "ServiceUnavailable"
            | "Throttling"
            | "ConditionalRequestConflict"
    )
}

/// A transport error's description, without anything of the URL.
pub(crate) fn describe_transport_error(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

impl S3Client {
    /// A client for `config`, signing with whatever `credentials` yields
    /// (unsigned requests when it yields `None`).
    pub fn new(config: ClientConfig, credentials: SharedCredentials) -> Result<Self> {
        if config.region.trim().is_empty() {
            return Err(Error::Config(
                "region is empty; set REGION (e.g. 'us-east-1')".into(),
            ));
        }
        if config.request_timeout.is_zero() {
            return Err(Error::Config(
                "the request timeout is 0, so every request would time out at once; set http_timeout to the seconds to wait for an answer".into(),
            ));
        }
        // Parse once up front so a bad endpoint fails here, not on first use.
        Endpoint::from_config(&config, &config.region)?;
        let http = build_client(&config)?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                credentials,
                http,
                bucket_regions: BucketRegions::default(),
                requests: AtomicU64::new(0),
                listing_unencoded: std::sync::atomic::AtomicBool::new(false),
                jitter: Mutex::new(fastrand::Rng::new()),
                upload_tokens: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// A client that sends unsigned requests (public buckets).
    pub fn anonymous(config: ClientConfig) -> Result<Self> {
        Self::new(config, Arc::new(crate::credentials::Anonymous))
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// HTTP requests sent so far, retries included: what listing plans and
    /// readers are judged by.
    pub fn request_count(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    /// The sleep before retry `attempt`, jittered from the client's RNG.
    /// The one retry policy, for requests and for resumed bodies alike:
    /// after failed attempt `attempt` (1-based), how long to wait before
    /// the next, or `None` when the retries are spent. A server's
    /// Retry-After is honoured up to the longest backoff.
    pub(crate) fn retry_delay(&self, attempt: u32, retry_after: Duration) -> Option<Duration> {
        let retry = &self.inner.config.retry;
        (attempt <= retry.max_retries).then(|| {
            self.backoff(attempt)
                .max(retry_after.min(retry.max_backoff))
        })
    }

    /// Reseeds the RNG the backoff jitter is drawn from, so a retry
    /// schedule can be reproduced (tests, simulations); clones share it.
    pub fn seed_jitter(&self, seed: u64) {
        if let Ok(mut rng) = self.inner.jitter.lock() {
            *rng = fastrand::Rng::with_seed(seed);
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let jitter = self
            .inner
            .jitter
            .lock()
            .map(|mut rng| rng.f64())
            .unwrap_or(1.0);
        self.inner.config.retry.backoff_with_jitter(attempt, jitter)
    }

    /// The region a redirect taught for `bucket`, once a later answer has
    /// confirmed it: what a caller can store so that a next session signs
    /// for it at once instead of paying the redirect again. `None` when
    /// the configured region serves the bucket, or nothing is confirmed.
    pub fn known_region(&self, bucket: &str) -> Option<String> {
        self.inner.bucket_regions.confirmed_region(bucket)
    }

    /// The region requests for `bucket` are signed for.
    pub(crate) fn region_for(&self, bucket: &str) -> String {
        self.inner
            .bucket_regions
            .region_for(bucket, &self.inner.config.region)
    }

    pub(crate) fn endpoint_for(&self, region: &str) -> Result<Endpoint> {
        Endpoint::from_config(&self.inner.config, region)
    }

    pub(crate) fn target(&self, req: &S3Request<'_>) -> RequestTarget {
        let origin = self
            .endpoint_for(&self.region_for(req.bucket))
            .map(|e| e.origin())
            .unwrap_or_default();
        RequestTarget {
            operation: req.operation,
            bucket: req.bucket.to_owned(),
            key: req.key.map(str::to_owned),
            endpoint: origin,
        }
    }

    /// An answer to `req` that cannot be understood.
    pub(crate) fn invalid_response(&self, req: &S3Request<'_>, detail: impl Into<String>) -> Error {
        Error::InvalidResponse {
            target: Box::new(self.target(req)),
            detail: detail.into(),
        }
    }

    /// Sends `req` with retries and returns the successful response with
    /// its body still streaming.
    pub(crate) async fn send(&self, req: &S3Request<'_>) -> Result<http::Response<Incoming>> {
        self.with_retries(
            req,
            &mut RetryLog::default(),
            |resp| async move { Ok(resp) },
        )
        .await
    }

    /// Sends `req` with retries and reads the whole body; a body cut short
    /// counts as a failed attempt and is retried, and so does a 200 whose
    /// body is a retryable `<Error>` when `req` can be answered that way.
    pub(crate) async fn send_collect(
        &self,
        req: &S3Request<'_>,
    ) -> Result<(http::response::Parts, Bytes)> {
        self.send_collect_logged(req, &mut RetryLog::default())
            .await
    }

    /// [`Self::send_collect`], noting in `log` whether an attempt's answer
    /// was lost, for requests whose callers resolve that
    /// ([`LostAnswer::Resolve`]).
    pub(crate) async fn send_collect_logged(
        &self,
        req: &S3Request<'_>,
        log: &mut RetryLog,
    ) -> Result<(http::response::Parts, Bytes)> {
        let timeout = self.inner.config.request_timeout;
        let target = self.target(req);
        self.with_retries(req, log, |resp| {
            let target = target.clone();
            async move {
                let (parts, body) = resp.into_parts();
                // S3 keeps the answers that can carry an error in a 200
                // alive with a space every few seconds: no rate floor
                // there, a cap on the whole answer instead. Any other
                // answer read whole has both.
                let pace = match req.error_in_ok {
                    true => BodyPace::kept_alive(timeout),
                    false => BodyPace::whole(timeout),
                };
                let bytes = collect_body(body, pace, MAX_COLLECTED_BODY, &target).await?;
                // Any collected answer (never object bytes: GetObject
                // streams) that is an `<Error>` document is that error,
                // 200 or not: a gateway may send one for any request.
                error_in_ok_body(&target, &bytes)?;
                if req.error_in_ok && parts.status == http::StatusCode::OK {
                    no_document_in_ok_body(&target, &bytes)?;
                }
                Ok((parts, bytes))
            }
        })
        .await
    }

    /// The retry loop. `finish` turns a successful response into the
    /// result; its failures are retried like the request's own.
    async fn with_retries<T, F, Fut>(
        &self,
        req: &S3Request<'_>,
        log: &mut RetryLog,
        finish: F,
    ) -> Result<T>
    where
        F: Fn(http::Response<Incoming>) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, AttemptError>>,
    {
        // Every request, whatever its entry point: a bucket name with `?`,
        // `#` or `/` would change what the URL addresses.
        // (ListBuckets alone addresses the service, with no bucket.)
        if req.operation != Operation::ListBuckets {
            crate::ops::object::check_bucket(req.bucket)?;
        }
        let mut attempt: u32 = 0;
        let mut followed_region = false;
        let mut probed = false;
        let mut location: Option<http::Uri> = None;
        loop {
            attempt += 1;
            let outcome = match self.attempt(req, location.as_ref()).await {
                Ok(resp) => finish(resp).await,
                Err(e) => Err(e),
            };
            let err = match outcome {
                Ok(value) => return Ok(value),
                Err(AttemptError::Fatal(e)) => return Err(e),
                Err(AttemptError::WrongRegion(e, region)) => {
                    if followed_region {
                        return Err(e);
                    }
                    followed_region = true;
                    tracing::debug!(bucket = req.bucket, %region, "following bucket region redirect");
                    self.inner.bucket_regions.learn(req.bucket, region);
                    attempt -= 1;
                    continue;
                }
                Err(AttemptError::Redirect(e, to)) => {
                    if location.is_some() {
                        return Err(e);
                    }
                    tracing::debug!(bucket = req.bucket, "following 307 Temporary Redirect");
                    location = Some(*to);
                    attempt -= 1;
                    continue;
                }
                Err(AttemptError::Retryable(e)) => (e, Duration::ZERO, true),
                Err(AttemptError::NotSent(e)) => (e, Duration::ZERO, false),
                Err(AttemptError::RetryAfter(e, after)) => (e, after, true),
            };
            let (err, retry_after, reached) = err;
            let cut_off = matches!(err, Error::Transport { .. } | Error::Timeout { .. });
            // S3 refuses a request signed for another region as soon as it
            // has read the headers and resets the connection while the body
            // is still coming: the 400 naming the region is lost with it.
            // Ask the region without a body; if it was wrong, the attempt
            // was refused unread (never acted on) and goes again, signed
            // for the right one.
            if reached
                && matches!(err, Error::Transport { .. })
                && !std::mem::replace(&mut probed, true)
                && !req.body.is_empty()
                && !followed_region
                && self.region_was_wrong(req.bucket).await
            {
                followed_region = true;
                attempt -= 1;
                continue;
            }
            // The request may have reached the server and acted: its answer
            // was lost, or a server failure came back after the server had
            // done what was asked. Noted for every request: a write safe
            // to repeat whose every answer was lost may have been done
            // all the same, which its caller then asks the object.
            if reached && (cut_off || may_have_acted(&err)) {
                log.answer_lost = true;
                if req.lost_answer == LostAnswer::Fail {
                    return Err(err);
                }
            }
            let Some(wait) = self.retry_delay(attempt, retry_after) else {
                return Err(match err {
                    Error::Timeout {
                        target, seconds, ..
                    } => Error::Timeout {
                        target,
                        seconds,
                        attempts: attempt,
                    },
                    other => other,
                });
            };
            tracing::debug!(operation = %req.operation, bucket = req.bucket, attempt, ?wait, error = %err, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// One attempt: sign with current credentials, send, classify.
    async fn attempt(
        &self,
        req: &S3Request<'_>,
        location: Option<&http::Uri>,
    ) -> std::result::Result<http::Response<Incoming>, AttemptError> {
        let config = &self.inner.config;
        let region = self.region_for(req.bucket);
        let endpoint = self.endpoint_for(&region).map_err(AttemptError::Fatal)?;
        let target = RequestTarget {
            operation: req.operation,
            bucket: req.bucket.to_owned(),
            key: req.key.map(str::to_owned),
            endpoint: endpoint.origin(),
        };
        let (url, host) = match location.and_then(|uri| Some((uri, uri.authority()?))) {
            Some((uri, authority)) => (uri.to_string(), authority.to_string()),
            None => endpoint.request_url(config.url_style, req.bucket, req.key, &req.query),
        };
        let progress = Progress::new();
        let mut request = http::Request::builder()
            .method(req.method.clone())
            .uri(&url)
            .body(RequestBody::new(req.body.clone(), progress.clone()))
            .map_err(|e| {
                AttemptError::Fatal(Error::InvalidArgument(format!(
                    "{target}: cannot build request: {e}"
                )))
            })?;
        let headers = request.headers_mut();
        headers.insert(
            HOST,
            header_value(&host, &target).map_err(AttemptError::Fatal)?,
        );
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("s3sql/", env!("CARGO_PKG_VERSION"))),
        );
        if !req.body.is_empty() || matches!(req.method, Method::PUT | Method::POST) {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(req.body.len()));
        }
        if config.requester_pays {
            headers.insert("x-amz-request-payer", HeaderValue::from_static("requester"));
        }
        for (name, value) in &req.headers {
            headers.insert(
                name.clone(),
                header_value(value, &target).map_err(AttemptError::Fatal)?,
            );
        }
        let creds = self
            .inner
            .credentials
            .credentials()
            .await
            .map_err(|e| AttemptError::Fatal(e.into()))?;
        if let Some(creds) = &creds {
            let large = req.body.len() > UNSIGNED_PAYLOAD_THRESHOLD;
            let unsigned = match config.payload_signing {
                PayloadSigning::UnsignedOverTls => large && endpoint.scheme == "https",
                PayloadSigning::Always => false,
                PayloadSigning::Never => large,
            };
            let payload = if unsigned {
                PayloadHash::Unsigned
            } else {
                PayloadHash::Sha256(
                    req.payload_sha256
                        .get_or_init(|| crate::signing::payload_sha256(&req.body)),
                )
            };
            sign_request(&mut request, creds, &region, payload).map_err(AttemptError::Fatal)?;
        }

        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        tracing::trace!(operation = %req.operation, bucket = req.bucket, key = req.key, "sending");
        let sent = progress
            .within_idle(self.inner.http.request(request), config.request_timeout)
            .await;
        let resp = match sent.ok_or(()) {
            Err(()) => {
                let err = Error::Timeout {
                    target: Box::new(target),
                    seconds: config.request_timeout.as_secs_f64(),
                    attempts: 1,
                };
                // Still connecting (or in the TLS handshake): nothing was
                // sent, so the server cannot have acted.
                return Err(match progress.reached() {
                    true => AttemptError::Retryable(err),
                    false => AttemptError::NotSent(err),
                });
            }
            Ok(Err(e)) => {
                let mut detail = describe_transport_error(&e);
                if e.is_connect() && host != endpoint.authority {
                    // The error names the endpoint; say which host was dialed.
                    detail.push_str(&format!(
                        " (connecting to {host}: the bucket as a virtual host; a server without a host name per bucket needs URL_STYLE 'path')"
                    ));
                }
                let err = Error::Transport {
                    target: Box::new(target),
                    detail,
                };
                // No connection, so no request: safe to send again.
                return Err(match e.is_connect() {
                    true => AttemptError::NotSent(err),
                    false => AttemptError::Retryable(err),
                });
            }
            Ok(Ok(resp)) => resp,
        };
        let status = resp.status();
        let regions = &self.inner.bucket_regions;
        if status.is_success() {
            regions.confirm(req.bucket, &region, &config.region);
            return Ok(resp);
        }
        // Only S3 itself, past checking the signature, answers these; a
        // gateway's 5xx or any 403 says nothing of the region.
        if matches!(status.as_u16(), 304 | 404 | 409 | 412 | 416) {
            regions.confirm(req.bucket, &region, &config.region);
        }
        let outcome = self.classify_error(resp, target, &region).await;
        Err(match outcome {
            // A Location that changes what is asked (an UploadPart without
            // its `uploadId` is a PutObject of one part over the key).
            AttemptError::Redirect(err, to)
                if !redirect_keeps_the_request(&url, &to, req.bucket, &endpoint.path_prefix) =>
            {
                tracing::debug!(
                    bucket = req.bucket,
                    "not following a 307 whose Location changes the path or drops the query"
                );
                AttemptError::Fatal(err)
            }
            other => other,
        })
    }

    /// Whether `bucket`'s region, which no answer has confirmed yet, is not
    /// the one its requests are signed for. Asked with a HeadBucket, whose
    /// 400 comes whole (no body for the server to refuse unread); a region
    /// it names is learnt; a success or an S3 error given only past the
    /// signature check (404 ...) confirms the region, anything else
    /// (a gateway's 5xx, a 403) leaves it unconfirmed.
    pub(crate) async fn region_was_wrong(&self, bucket: &str) -> bool {
        if self.inner.bucket_regions.is_confirmed(bucket) {
            return false;
        }
        let probe = S3Request::new(Operation::HeadBucket, Method::HEAD, bucket, None);
        match self.attempt(&probe, None).await {
            Err(AttemptError::WrongRegion(_, region)) => {
                tracing::debug!(bucket, %region, "a request with a body was cut off: its bucket is in another region");
                self.inner.bucket_regions.learn(bucket, region);
                true
            }
            _ => false,
        }
    }

    /// Reads an error response and decides what to do about it.
    async fn classify_error(
        &self,
        resp: http::Response<Incoming>,
        target: RequestTarget,
        region: &str,
    ) -> AttemptError {
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let request_id = header("x-amz-request-id");
        let header_region = header("x-amz-bucket-region");
        let retry_after = header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let location = header("location").and_then(|v| v.parse::<http::Uri>().ok());
        let server_date = header("date");
        let https = target.endpoint.starts_with("https:");
        let endpoint = target.endpoint.parse::<http::Uri>().ok();
        let body = collect_body(
            resp.into_body(),
            BodyPace::whole(self.inner.config.request_timeout),
            MAX_ERROR_BODY,
            &target,
        )
        .await
        .ok()
        .unwrap_or_default();
        let parsed = ErrorBody::from_text(&String::from_utf8_lossy(&body));
        let bodyless = parsed.is_none();
        let mut error = service_error(target, status, parsed, request_id, header_region);
        // A 403 without a body (every HEAD) cannot say RequestTimeTooSkewed:
        // the server's Date can. Beyond S3's 15 minutes, that is the cause.
        if status == 403
            && bodyless
            && server_date
                .as_deref()
                .and_then(clock_skew_seconds)
                .is_some_and(|s| s.unsigned_abs() > MAX_CLOCK_SKEW_SECS)
        {
            error.code = "RequestTimeTooSkewed".to_owned();
            error.message = "the server refused the request (403, no body) and its clock differs from this machine's by more than 15 minutes".to_owned();
        }
        if error.code == "RequestTimeTooSkewed" {
            // Retrying with the same clock cannot succeed: say by how much it is off.
            if let Some(skew) = server_date.as_deref().and_then(clock_skew) {
                error.message = format!("{} ({skew})", error.message);
            }
            return AttemptError::Fatal(Error::Service(Box::new(error)));
        }
        let bucket_region = error.bucket_region.clone();
        let code = error.code.clone();
        let err = Error::Service(Box::new(error));
        if let Some(real) = bucket_region.filter(|r| {
            r != region && crate::addressing::valid_region(r) && matches!(status, 301 | 400)
        }) {
            return AttemptError::WrongRegion(err, real);
        }
        if status == 307 {
            // Never from HTTPS down to plain HTTP, nor to another service:
            // the signed request (and a session token) goes where it says.
            let endpoint_host = endpoint.as_ref().and_then(http::Uri::host);
            return match location.filter(|l| {
                l.host()
                    .zip(endpoint_host)
                    .is_some_and(|(to, from)| same_service(from, to))
                    && (!https || l.scheme_str() == Some("https"))
            }) {
                Some(to) => AttemptError::Redirect(err, Box::new(to)),
                None => AttemptError::Fatal(err),
            };
        }
        if !(retryable_status(status) || retryable_code(&code)) {
            return AttemptError::Fatal(err);
        }
        match retry_after {
            Some(after) => AttemptError::RetryAfter(err, after),
            None => AttemptError::Retryable(err),
        }
    }

    /// Credentials-aware presigned GET URL for an object (e.g. to hand to
    /// curl). It grants access until it expires: treat it as a secret.
    /// Signed for the bucket's region: while no answer has confirmed it,
    /// the client asks the server first (the HeadBucket a request's retry
    /// asks with), since a URL signed for another region is refused when
    /// fetched, where no redirect can be followed. If asking fails, the
    /// URL signs for the region the client has.
    pub async fn presign_get(
        &self,
        bucket: &str,
        key: &str,
        expires_in: Duration,
    ) -> Result<String> {
        crate::ops::object::check_object(bucket, key)?;
        self.region_was_wrong(bucket).await;
        let region = self.region_for(bucket);
        let endpoint = self.endpoint_for(&region)?;
        let (url, host) = endpoint.request_url(self.inner.config.url_style, bucket, Some(key), &[]);
        match self.inner.credentials.credentials().await? {
            Some(creds) => {
                crate::signing::presign_url(&Method::GET, &url, &host, &creds, &region, expires_in)
            }
            None => Ok(url),
        }
    }
}

/// Whether a 307 from `from` (the endpoint's host) to `to` stays with the
/// same service: the same host, a host under it (a bucket's virtual host),
/// or, for AWS alone, another S3 host under `amazonaws.com` (S3 sends
/// `bucket.s3.amazonaws.com` to `bucket.s3.us-west-2.amazonaws.com`).
/// Sharing a parent domain is not enough: `co.uk`, `github.io` or
/// `r2.cloudflarestorage.com` hold anyone's hosts.
fn same_service(from: &str, to: &str) -> bool {
    let (from, to) = (from.to_ascii_lowercase(), to.to_ascii_lowercase());
    if from == to {
        return true;
    }
    let is_ip = |h: &str| {
        h.trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok()
    };
    if is_ip(&from) || is_ip(&to) {
        return false;
    }
    let under = |host: &str, parent: &str| {
        host.strip_suffix(parent)
            .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.'))
    };
    let aws = |h: &str| {
        (under(h, "amazonaws.com") || under(h, "amazonaws.com.cn"))
            && h.split('.')
                .any(|label| label == "s3" || label.starts_with("s3-"))
    };
    under(&to, &from) || (aws(&from) && aws(&to))
}

/// Whether a 307's Location `to` asks for what the request sent to `sent`
/// asked: the same object (the same path, or that path without the
/// endpoint's `path_prefix`, or without the bucket when `to` names it as
/// a virtual host) and every query parameter sent (compared decoded).
fn redirect_keeps_the_request(sent: &str, to: &http::Uri, bucket: &str, path_prefix: &str) -> bool {
    let Ok(sent) = sent.parse::<http::Uri>() else {
        return false;
    };
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let (sent_path, to_path) = (decode(sent.path()), decode(to.path()));
    let vhost = to
        .host()
        .is_some_and(|h| h.to_ascii_lowercase().starts_with(&format!("{bucket}.")));
    let mut strips = vec![String::new(), path_prefix.to_owned()];
    if vhost {
        strips.push(format!("/{bucket}"));
        strips.push(format!("{path_prefix}/{bucket}"));
    }
    let path_kept = strips
        .iter()
        .any(|strip| sent_path.strip_prefix(strip.as_str()) == Some(to_path.as_str()));
    let pairs = |q: Option<&str>| -> Vec<String> {
        q.unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (name, value) = p.split_once('=').unwrap_or((p, ""));
                format!("{}={}", decode(name), decode(&value.replace('+', " ")))
            })
            .collect()
    };
    let kept = pairs(to.query());
    path_kept && pairs(sent.query()).iter().all(|p| kept.contains(p))
}

/// The clock difference S3 tolerates before RequestTimeTooSkewed.
const MAX_CLOCK_SKEW_SECS: u64 = 15 * 60;

/// How many seconds this machine's clock is ahead of the server's `Date`
/// (negative when behind).
fn clock_skew_seconds(server_date: &str) -> Option<i64> {
    let server = chrono::DateTime::parse_from_rfc2822(server_date).ok()?;
    Some(
        chrono::Utc::now()
            .signed_duration_since(server)
            .num_seconds(),
    )
}

/// How far this machine's clock is from the server's `Date`, in words.
fn clock_skew(server_date: &str) -> Option<String> {
    let skew = clock_skew_seconds(server_date)?;
    let direction = if skew >= 0 { "ahead of" } else { "behind" };
    Some(format!(
        "this machine's clock is {} s {direction} the server's",
        skew.unsigned_abs()
    ))
}

/// Whether a server failure may have come after the server acted: a 5xx
/// from a gateway that gave up waiting, or from a server failing late, and
/// a 200 whose body is `<Error>InternalError` or `ServiceUnavailable` (a
/// gateway's, or S3's own for a Complete or Copy that failed after it began
/// to answer). Not a 503, nor SlowDown in a 200: S3 refusing the request
/// unread.
fn may_have_acted(err: &Error) -> bool {
    let Error::Service(e) = err else {
        return false;
    };
    match e.status {
        200 => matches!(e.code.as_str(), "InternalError" | "ServiceUnavailable"),
        status => status >= 500 && status != 503,
    }
}

/// Fails an attempt whose 200 answer is an `<Error>` document, which S3
/// sends for CompleteMultipartUpload, CopyObject and DeleteObjects when it
/// fails after starting to answer (and gateways for anything); retried
/// when the code says so.
fn error_in_ok_body(target: &RequestTarget, body: &Bytes) -> std::result::Result<(), AttemptError> {
    let Some(parsed) = ErrorBody::from_text(&String::from_utf8_lossy(body)) else {
        return Ok(());
    };
    let error = service_error(target.clone(), 200, Some(parsed), None, None);
    let retryable = retryable_code(&error.code);
    let err = Error::Service(Box::new(error));
    Err(if retryable {
        AttemptError::Retryable(err)
    } else {
        AttemptError::Fatal(err)
    })
}

/// Fails, as a retryable InternalError that may have acted, an attempt
/// whose 200 answer to a request S3 keeps alive (Complete, Copy,
/// DeleteObjects) holds no document: S3 aborted the operation after its
/// 200 went out, leaving an empty body or the XML declaration alone.
fn no_document_in_ok_body(
    target: &RequestTarget,
    body: &Bytes,
) -> std::result::Result<(), AttemptError> {
    if crate::xml::root_element(&String::from_utf8_lossy(body)).is_some() {
        return Ok(());
    }
    let aborted = ErrorBody {
        code: "InternalError".to_owned(),
        message: "the server answered 200 and then no document, as S3 does when it aborts the operation after starting to answer; if every attempt is answered so, is the endpoint an S3 server?".to_owned(),
        ..ErrorBody::default()
    };
    let error = service_error(target.clone(), 200, Some(aborted), None, None);
    Err(AttemptError::Retryable(Error::Service(Box::new(error))))
}

/// Builds an S3 service error from an error response's parts. HEAD
/// responses have no body, so the code is derived from the status.
pub(crate) fn service_error(
    target: RequestTarget,
    status: u16,
    body: Option<ErrorBody>,
    request_id: Option<String>,
    header_region: Option<String>,
) -> ServiceError {
    let body = body.unwrap_or_default();
    let code = if body.code.is_empty() {
        match (status, target.key.is_some()) {
            (404, true) => "NoSuchKey".to_owned(),
            (404, false) => "NoSuchBucket".to_owned(),
            (403, _) => "Forbidden".to_owned(),
            (301, _) => "PermanentRedirect".to_owned(),
            (304, _) => "NotModified".to_owned(),
            (412, _) => "PreconditionFailed".to_owned(),
            (416, _) => "InvalidRange".to_owned(),
            (503, _) => "ServiceUnavailable".to_owned(),
            (s, _) => format!("HTTP{s}"),
        }
    } else {
        body.code
    };
    ServiceError {
        target,
        status,
        code,
        message: body.message,
        request_id: request_id.or(body.request_id),
        bucket_region: header_region.or(body.region),
    }
}

fn header_value(value: &str, target: &RequestTarget) -> Result<HeaderValue> {
    HeaderValue::from_str(value).map_err(|_| {
        Error::InvalidArgument(format!(
            "{target}: a header value contains characters HTTP cannot carry"
        ))
    })
}

/// Reads a body to its end at the pace `pace` demands; a body longer
/// than `limit` bytes is an error, never buffered whole.
async fn collect_body<B>(
    mut body: B,
    mut pace: BodyPace,
    limit: usize,
    target: &RequestTarget,
) -> std::result::Result<Bytes, AttemptError>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::error::Error + 'static,
{
    let mut buf = bytes::BytesMut::new();
    loop {
        let frame = match pace.wait(body.frame()).await.ok_or(()) {
            Err(()) => {
                return Err(AttemptError::Retryable(Error::Transport {
                    target: Box::new(target.clone()),
                    detail: format!("the answer stalled: {}", pace.stalled()),
                }));
            }
            Ok(None) => return Ok(buf.freeze()),
            Ok(Some(Err(e))) => {
                return Err(AttemptError::Retryable(Error::Transport {
                    target: Box::new(target.clone()),
                    detail: format!("response body cut short: {}", describe_transport_error(&e)),
                }));
            }
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            pace.arrived(data.len());
            if buf.len().saturating_add(data.len()) > limit {
                return Err(AttemptError::Fatal(Error::InvalidResponse {
                    target: Box::new(target.clone()),
                    detail: format!("the response body is larger than {limit} bytes"),
                }));
            }
            buf.extend_from_slice(&data);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RetryConfig;

    fn target() -> RequestTarget {
        RequestTarget {
            operation: Operation::ListObjectsV2,
            bucket: "b".into(),
            key: None,
            endpoint: "http://127.0.0.1:1".into(),
        }
    }

    fn client() -> S3Client {
        let config = ClientConfig::default().with_endpoint("http://127.0.0.1:1");
        S3Client::anonymous(config).unwrap()
    }

    #[test]
    fn a_redirect_stays_with_the_same_service() {
        assert!(same_service("127.0.0.1", "127.0.0.1"));
        assert!(same_service(
            "s3.amazonaws.com",
            "bucket.s3.us-west-2.amazonaws.com"
        ));
        assert!(!same_service("s3.amazonaws.com", "evil.example.com"));
        assert!(!same_service("127.0.0.1", "10.0.0.1"));
        assert!(!same_service("localhost", "127.0.0.1"));
        assert!(!same_service("minio.internal", "amazonaws.com.evil"));
        // Two shared labels are no service: public suffixes and shared
        // hosting parents hold anyone's hosts.
        for (from, to) in [
            ("minio.corp.example.co.uk", "attacker.co.uk"),
            (
                "acct-a.r2.cloudflarestorage.com",
                "acct-b.r2.cloudflarestorage.com",
            ),
            ("storage.googleapis.com", "anything.googleapis.com"),
            ("s3.example.github.io", "evil.github.io"),
        ] {
            assert!(!same_service(from, to), "{from} -> {to}");
        }
        // A bucket's own host under the endpoint's stays.
        assert!(same_service(
            "storage.googleapis.com",
            "bucket.storage.googleapis.com"
        ));
        assert!(same_service("minio.corp", "bucket.minio.corp"));
    }

    #[test]
    fn a_redirect_must_ask_for_what_the_request_asked() {
        let sent = "http://h:9000/b/k%20x?partNumber=1&uploadId=u%2B1";
        let keeps = |to: &str| redirect_keeps_the_request(sent, &to.parse().unwrap(), "b", "");
        assert!(keeps("http://h2:9000/b/k%20x?partNumber=1&uploadId=u%2B1"));
        assert!(keeps(
            "http://h2/b/k%20x?uploadId=u%2b1&partNumber=1&x-id=UploadPart"
        ));
        assert!(keeps("http://b.h2/k%20x?partNumber=1&uploadId=u%2B1"));
        assert!(!keeps("http://h2/b/k%20x"), "query dropped");
        assert!(!keeps("http://h2/b/k%20x?partNumber=1"), "uploadId dropped");
        assert!(!keeps("http://h2/b/other?partNumber=1&uploadId=u%2B1"));
        assert!(
            !keeps("http://h2/k%20x?partNumber=1&uploadId=u%2B1"),
            "bucket dropped"
        );
        let prefixed = "http://h/s3/b/k?uploads=";
        assert!(redirect_keeps_the_request(
            prefixed,
            &"http://h2/b/k?uploads=".parse().unwrap(),
            "b",
            "/s3"
        ));
    }

    #[test]
    fn a_zero_request_timeout_is_refused_up_front() {
        let mut config = ClientConfig::default().with_endpoint("http://127.0.0.1:1");
        config.request_timeout = Duration::ZERO;
        let err = S3Client::anonymous(config).unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err}");
        assert!(err.to_string().contains("http_timeout"), "{err}");
    }

    #[test]
    fn jitter_is_within_the_bound_and_reproducible_from_a_seed() {
        let schedule = |seed| {
            let c = client();
            c.seed_jitter(seed);
            (1..=3)
                .map(|attempt| c.retry_delay(attempt, Duration::ZERO).unwrap())
                .collect::<Vec<_>>()
        };
        let (a, b, other) = (schedule(7), schedule(7), schedule(8));
        assert_eq!(a, b, "one seed, one schedule");
        assert_ne!(a, other, "another seed, another schedule");
        let retry = RetryConfig::default();
        for (attempt, delay) in (1..).zip(&a) {
            assert!(
                *delay <= retry.backoff_bound(attempt),
                "{attempt}: {delay:?}"
            );
        }
        // Jittered, not the bound itself every time.
        assert!(a.iter().zip(1..).any(|(d, n)| *d < retry.backoff_bound(n)));
        assert_eq!(client().retry_delay(4, Duration::ZERO), None, "3 retries");
    }

    #[tokio::test]
    async fn collected_bodies_are_bounded() {
        let body = http_body_util::Full::new(Bytes::from(vec![b'x'; 100]));
        let pace = || BodyPace::new(Duration::from_secs(1), true);
        match collect_body(body, pace(), 99, &target()).await {
            Err(AttemptError::Fatal(Error::InvalidResponse { detail, .. })) => {
                assert!(detail.contains("larger than 99 bytes"), "{detail}")
            }
            Err(_) => panic!("wrong error"),
            Ok(b) => panic!("{} bytes collected past the limit", b.len()),
        }
        let body = http_body_util::Full::new(Bytes::from(vec![b'x'; 100]));
        assert!(collect_body(body, pace(), 100, &target()).await.is_ok());
    }
}

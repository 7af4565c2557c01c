//! Which requests the proxy faults, and how: [`FaultRule`] and [`Fault`].

use std::time::Duration;

use http::{Method, Request};

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
    /// Forward and let the server act on the request, then hold its
    /// answer this long before passing it on: the request has taken
    /// effect while the client still waits (a slow completion's answer),
    /// so another writer can land in between.
    DelayAnswer(Duration),
    /// Forward, then remove every `x-amz-meta-*` header from the answer:
    /// a server that does not keep user metadata (SeaweedFS, and others,
    /// on multipart uploads) or a gateway dropping it. The object and its
    /// ETag are as the server has them.
    StripUserMetadata,
    /// Forward the first request this fault meets and keep its answer's
    /// status and headers; answer every later one with them, body-less,
    /// without reaching the server: a cache or a lagging replica behind a
    /// load balancer answering HEAD stale (the old ETag and metadata)
    /// after the object changed. Meant for HEAD.
    StaleHead,
    /// Answer 301 PermanentRedirect with `x-amz-bucket-region`, as S3 does
    /// for a bucket in another region.
    Redirect {
        /// The bucket's region.
        region: String,
    },
    /// Forward without the `Range` header, as a server or cache that
    /// ignores ranges would answer: 200 and the whole object. (The client
    /// must leave `Range` out of its signature for the server to accept
    /// the stripped request.) Matches only requests carrying `Range`, so
    /// `faults_injected` counts only reads it changed: a test whose files
    /// are read whole counted faults that changed nothing (review-8e T1).
    StripRange,
    /// Forward without the `If-Match` header, as a server or gateway that
    /// ignores it answers (SeaweedFS, older Ceph RGW and Garage releases):
    /// the request acts on whatever version is there. The client signs
    /// If-Match, so only a server checking no signature (moto) takes the
    /// stripped request.
    StripIfMatch,
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
    /// Forward, then replace every `from` in the answer's body by `to`
    /// (Content-Length made the new body's): a server whose answer says
    /// what no S3 server says, e.g. a listing's `<Size>` past any object's.
    ReplaceInBody {
        /// The text replaced, e.g. `<Size>4</Size>`.
        from: String,
        /// What replaces it.
        to: String,
    },
    /// Forward, then remove every `<element>...</element>` from the
    /// answer's body and replace every `from` by `to`: a listing from a
    /// server or gateway that gives no ETags (`element` `ETag`), and a
    /// stale `<Size>` besides.
    RemoveElementAndReplace {
        /// The element removed with its content, e.g. `ETag`.
        element: String,
        /// The text replaced, e.g. `<Size>4</Size>`.
        from: String,
        /// What replaces it.
        to: String,
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

    pub(super) fn matches<B>(&self, req: &Request<B>) -> bool {
        let ranged = req.headers().contains_key(http::header::RANGE);
        (ranged || !matches!(self.fault, Fault::StripRange))
            && self.method.as_ref().is_none_or(|m| m == req.method())
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

//! [`RegionGate`]: the in-process server keeps to its own region as an AWS
//! regional endpoint does. s3s checks a SigV4 signature with whatever
//! region its credential scope names, and s3s-fs has no region at all, so
//! without this gate a client signing for the wrong region was never
//! refused and its region redirect never tested.
//!
//! A request whose credential scope (`Authorization: ... Credential=
//! AKID/DATE/REGION/s3/aws4_request` or a presigned URL's
//! `X-Amz-Credential`) names another region is answered as S3 answers
//! it, before the signature is checked: 400 `AuthorizationHeaderMalformed`
//! (`AuthorizationQueryParametersError` for a presigned URL) with a
//! `<Region>` element and the `x-amz-bucket-region` header; a HEAD gets the
//! status and the header, no body. GetBucketLocation is refused like any
//! other request: only AWS's global `s3.amazonaws.com` answers it signed
//! for us-east-1, and this server is a regional endpoint. Unsigned and
//! SigV2 requests carry no region and pass to s3s, which decides.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use percent_encoding::percent_decode_str;

use crate::target::random_hex;

/// The region of a server that does not name one: S3's default.
pub(crate) const DEFAULT_REGION: &str = "us-east-1";

/// A service that refuses requests signed for a region other than its own
/// and hands every other request to `inner` (s3s).
#[derive(Clone)]
pub(crate) struct RegionGate<S> {
    region: Arc<str>,
    inner: S,
}

impl<S> RegionGate<S> {
    /// `inner`, serving as a server in `region`.
    pub(crate) fn new(region: &str, inner: S) -> Self {
        Self {
            region: region.into(),
            inner,
        }
    }
}

type Boxed<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, In> hyper::service::Service<Request<In>> for RegionGate<S>
where
    S: hyper::service::Service<Request<In>, Response = Response<s3s::Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<s3s::Body>;
    type Error = S::Error;
    type Future = Boxed<Result<Self::Response, Self::Error>>;

    fn call(&self, req: Request<In>) -> Self::Future {
        match refusal(req.method(), req.headers(), req.uri().query(), &self.region) {
            Some(refused) => Box::pin(std::future::ready(Ok(refused))),
            None => Box::pin(self.inner.call(req)),
        }
    }
}

/// The region a SigV4 request was signed for, and whether it came from a
/// presigned URL's query rather than the `Authorization` header. `None`
/// for unsigned and SigV2 requests.
fn signed_region(headers: &HeaderMap, query: Option<&str>) -> Option<(String, bool)> {
    let scope_region = |credential: &str| credential.split('/').nth(2).map(str::to_owned);
    if let Some(auth) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|a| a.starts_with("AWS4-"))
    {
        let credential = auth
            .split([' ', ','])
            .find_map(|part| part.strip_prefix("Credential="))?;
        return scope_region(credential).map(|r| (r, false));
    }
    let credential = query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("X-Amz-Credential="))?;
    let credential = percent_decode_str(credential).decode_utf8().ok()?;
    scope_region(&credential).map(|r| (r, true))
}

/// S3's answer to a request signed for another region than `own`, or
/// `None` when the request may go on.
fn refusal(
    method: &Method,
    headers: &HeaderMap,
    query: Option<&str>,
    own: &str,
) -> Option<Response<s3s::Body>> {
    let (signed, presigned) = signed_region(headers, query)?;
    if signed == own {
        return None;
    }
    let (code, message) = match presigned {
        false => (
            "AuthorizationHeaderMalformed",
            "The authorization header is malformed",
        ),
        true => (
            "AuthorizationQueryParametersError",
            "Error parsing the X-Amz-Credential parameter",
        ),
    };
    let request_id = random_hex(16).to_uppercase();
    let body = match *method == Method::HEAD {
        true => bytes::Bytes::new(),
        false => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}; the region '{}' is wrong; expecting '{own}'</Message><Region>{own}</Region><RequestId>{request_id}</RequestId></Error>",
            xml_escape(&signed)
        )
        .into(),
    };
    let mut resp = Response::new(s3s::Body::from(body));
    *resp.status_mut() = StatusCode::BAD_REQUEST;
    let headers = resp.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    // `own` is a region this crate was given: header-safe, or start() panics first.
    if let Ok(value) = HeaderValue::from_str(own) {
        headers.insert("x-amz-bucket-region", value);
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert("x-amz-request-id", value);
    }
    Some(resp)
}

/// `text` safe inside an XML element.
fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Panics unless `region` is shaped like an AWS region (`[a-z0-9-]+`): a
/// test server is started with a literal.
pub(crate) fn check_region(region: &str) {
    assert!(
        !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
        "a test server's region is lowercase letters, digits and '-', e.g. 'eu-west-1': {region:?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn the_signed_region_is_read_from_the_header_or_the_presigned_query() {
        let header = auth(
            "AWS4-HMAC-SHA256 Credential=AKID/20261201/eu-west-1/s3/aws4_request, SignedHeaders=host, Signature=ab",
        );
        assert_eq!(
            signed_region(&header, Some("list-type=2")),
            Some(("eu-west-1".into(), false))
        );
        let query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20261201%2Fap-south-1%2Fs3%2Faws4_request&X-Amz-Signature=ab";
        assert_eq!(
            signed_region(&HeaderMap::new(), Some(query)),
            Some(("ap-south-1".into(), true))
        );
        assert_eq!(signed_region(&HeaderMap::new(), None), None);
        assert_eq!(signed_region(&auth("AWS AKID:sig"), None), None, "SigV2");
    }

    #[test]
    fn another_region_is_refused_naming_the_right_one() {
        let header = auth("AWS4-HMAC-SHA256 Credential=AKID/20261201/us-east-1/s3/aws4_request");
        assert!(refusal(&Method::GET, &header, None, "us-east-1").is_none());
        let refused = refusal(&Method::GET, &header, None, "eu-west-1").unwrap();
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert_eq!(refused.headers()["x-amz-bucket-region"], "eu-west-1");
        let head = refusal(&Method::HEAD, &header, None, "eu-west-1").unwrap();
        assert_eq!(head.headers()["x-amz-bucket-region"], "eu-west-1");
    }
}

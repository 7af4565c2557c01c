//! Writes whose answer was lost: after a retry is refused (412, or
//! NoSuchUpload for a Complete), or every retry's answer was lost too,
//! whether the object now at the key is the one the lost attempt wrote.
//!
//! A conditional PutObject and every multipart upload carry user metadata
//! [`WRITE_TOKEN`], a token of their own: the object tells by HEAD alone.
//! An ETag cannot do that in general (under SSE-KMS or SSE-C it is not the
//! MD5 of the bytes; another writer may have written the very same bytes),
//! so it is asked only when no token was set, and can only say "not ours"
//! when a token was set and the object has none. A check that fails tells
//! nothing: the outcome is then unknown, never "another writer's". Nor
//! does another writer's object after a write that replaced a named
//! version (`If-Match`): the other write may have come after this one.

use http::Method;
use http::header::ETAG;

use crate::client::{S3Client, S3Request};
use crate::error::{Error, Operation};
use crate::model::PutObjectOutput;

/// User metadata marking a write with a token of its own.
pub(crate) const WRITE_TOKEN: &str = "x-amz-meta-s3sql-write";

/// A fresh write token (not a secret: it only has to be unique).
pub(crate) fn new_write_token() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

/// Whether an ETag (unquoted) is a plain MD5: 32 hex digits, no `-N`.
pub(crate) fn is_plain_md5(etag: &str) -> bool {
    etag.len() == 32 && etag.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Lowercase hex MD5 of `bytes`: a PutObject's ETag without encryption.
pub(crate) fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest;
    md5::Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How a lost write would show on its object.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Mark<'a> {
    /// The write token the write set.
    pub token: Option<&'a str>,
    /// The ETag (unquoted) its object has, when that can be known.
    pub etag: Option<&'a str>,
    /// Whether the write replaced a version it named (`If-Match`): then
    /// another writer's object at the key does not say this write did not
    /// take effect, as it may have replaced this write's object since
    /// (an append such as MindsDB's INSERT keeps the rows this write
    /// added): the outcome is unknown.
    pub replaces: bool,
}

/// What the object at the key turned out to be.
#[derive(Debug)]
pub(crate) enum Found {
    /// The lost attempt wrote it.
    Ours(PutObjectOutput),
    /// Another writer did, or there is none: the refusal stands.
    NotOurs,
    /// Nothing tells; why.
    Unknown(String),
}

impl Found {
    /// The write's result: its object, the refusal `refused`, or
    /// [`Error::OutcomeUnknown`] for `req` saying what was lost.
    pub(crate) fn resolve(
        self,
        client: &S3Client,
        req: &S3Request<'_>,
        refused: Error,
    ) -> crate::Result<PutObjectOutput> {
        match self {
            Found::Ours(output) => Ok(output),
            Found::NotOurs => Err(refused),
            Found::Unknown(why) => {
                let code = refused.code();
                let retry = if refused.is_precondition_failed() || code == Some("NoSuchUpload") {
                    format!("its retry was refused ({})", code.unwrap_or("412"))
                } else {
                    let why = code.map_or_else(|| refused.to_string(), str::to_owned);
                    format!("its retries failed too ({why})")
                };
                Err(Error::OutcomeUnknown {
                    target: Box::new(client.target(req)),
                    detail: format!("its answer was lost and {retry}; {why}"),
                })
            }
        }
    }
}

impl S3Client {
    /// After a lost answer: whether the object at `key` bears `mark`.
    pub(crate) async fn written_by(&self, bucket: &str, key: &str, mark: Mark<'_>) -> Found {
        let request = S3Request::new(Operation::HeadObject, Method::HEAD, bucket, Some(key));
        let parts = match self.send_collect(&request).await {
            Ok((parts, _)) => parts,
            Err(e) if e.status() == Some(404) => return Found::NotOurs,
            Err(e) => {
                return Found::Unknown(format!(
                    "the HEAD that would tell whose object is there failed: {e}"
                ));
            }
        };
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let output = PutObjectOutput {
            etag: header(ETAG.as_str()).map(str::to_owned),
            version_id: header("x-amz-version-id").map(str::to_owned),
        };
        // Under SSE-KMS or SSE-C, the bucket's default encryption too, an
        // ETag is not the bytes' MD5: it tells nothing (review-s23 F7).
        let encrypted = header("x-amz-server-side-encryption").is_some_and(|sse| sse != "AES256")
            || header("x-amz-server-side-encryption-customer-algorithm").is_some();
        let etag_matches = match (mark.etag, &output.etag) {
            _ if encrypted => None,
            (Some(want), Some(have)) => Some(crate::etag_value(have) == crate::etag_value(want)),
            (Some(_), None) => Some(false),
            (None, _) => None,
        };
        let found = match (mark.token, header(WRITE_TOKEN)) {
            (Some(ours), Some(theirs)) if ours == theirs => Found::Ours(output),
            (Some(_), Some(_)) => Found::NotOurs,
            // Every S3 keeps user metadata, so the object is most likely
            // another writer's, but a server that drops it would show ours
            // this way too: only different bytes settle it.
            (Some(_), None) => match etag_matches {
                Some(false) => Found::NotOurs,
                _ => Found::Unknown(
                    "the object there lacks this write's token (x-amz-meta-s3sql-write) but not its bytes: another writer's identical bytes, or a server that keeps no user metadata".to_owned(),
                ),
            },
            (None, _) => match etag_matches {
                Some(true) => Found::Ours(output),
                Some(false) => Found::NotOurs,
                None => Found::Unknown(
                    "its ETag is not an MD5 of its bytes (a multipart or encrypted object) and it set no write token, so whether it wrote the object there cannot be told".to_owned(),
                ),
            },
        };
        let found = match found {
            Found::NotOurs if mark.replaces => Found::Unknown(
                "the object there is another writer's, and as this write replaced a version it named (If-Match), it either never took effect or took effect and was replaced in turn since; nothing here tells which".to_owned(),
            ),
            found => found,
        };
        if matches!(found, Found::Ours(_)) {
            tracing::debug!(bucket, key, "a write whose answer was lost had succeeded");
        }
        found
    }
}

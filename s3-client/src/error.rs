//! The client's one error type. Every message says which operation on which
//! `s3://bucket/key` at which endpoint failed, and what to check. No message
//! carries a credential, a signature or a presigned query string.

use std::fmt;

use crate::credentials::CredentialsError;

/// The S3 operations this client performs, named as in the S3 API reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // the names are S3's own
#[non_exhaustive]
pub enum Operation {
    HeadBucket,
    CreateBucket,
    DeleteBucket,
    HeadObject,
    GetObject,
    GetObjectTagging,
    PutObject,
    CopyObject,
    DeleteObject,
    DeleteObjects,
    ListObjectsV2,
    CreateMultipartUpload,
    UploadPart,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListMultipartUploads,
    ListBuckets,
    GetBucketLocation,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// What a request was about: the operation, the object and the endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestTarget {
    /// The operation.
    pub operation: Operation,
    /// The bucket (empty for service-level calls).
    pub bucket: String,
    /// The key, when the operation is on one object.
    pub key: Option<String>,
    /// Scheme, host and port the request went to (never a query string).
    pub endpoint: String,
}

impl fmt::Display for RequestTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} s3://{}", self.operation, self.bucket)?;
        if let Some(key) = &self.key {
            write!(f, "/{}", crate::ShownKey(key))?;
        }
        write!(f, " at {}", self.endpoint)
    }
}

/// What to check when S3 refuses a read in the way it refuses one of an
/// SSE-C object without its key.
const SSE_C_HINT: &str = "if the object is encrypted with a customer-provided key (SSE-C), S3 refuses to read it without that key, which s3sql does not send: re-encrypt it with SSE-S3 or SSE-KMS (KMS_KEY_ID), or read it with the tool that holds the key";

/// An error response from the server: HTTP status plus the S3 error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// What was asked.
    pub target: RequestTarget,
    /// HTTP status code.
    pub status: u16,
    /// S3 error code (`NoSuchKey`, `SignatureDoesNotMatch`, ...), or a code
    /// derived from the status when the body was empty (HEAD responses).
    pub code: String,
    /// The server's message, if any.
    pub message: String,
    /// `x-amz-request-id` (or the body's `RequestId`), for the server's logs.
    pub request_id: Option<String>,
    /// The bucket's real region, from `x-amz-bucket-region` or the body.
    pub bucket_region: Option<String>,
}

impl ServiceError {
    /// What the user should check, for the usual causes.
    pub fn hint(&self) -> Option<String> {
        let hint = match self.code.as_str() {
            "NoSuchBucket" => "check the bucket name, and that ENDPOINT and REGION point at the server that holds it".to_owned(),
            "NoSuchKey" | "NotFound" => "check the key (keys are case-sensitive); list the prefix to see what exists".to_owned(),
            "InvalidAccessKeyId" | "NotSignedUp" => "the server does not know this KEY_ID: check KEY_ID, and that ENDPOINT is the server the key belongs to".to_owned(),
            "SignatureDoesNotMatch" => "the SECRET does not match the KEY_ID (or REGION differs from the bucket's): check SECRET and REGION".to_owned(),
            "ExpiredToken" | "TokenRefreshRequired" | "InvalidToken" => "the SESSION_TOKEN has expired or is invalid: refresh the temporary credentials".to_owned(),
            // S3 refuses reads of an object encrypted with a customer key
            // (SSE-C) when the key is not sent: a HEAD's 400 has no body,
            // a GET's says "Server Side Encryption".
            "HTTP400" if self.target.operation == Operation::HeadObject => SSE_C_HINT.to_owned(),
            "InvalidRequest" if self.message.contains("Server Side Encryption") => SSE_C_HINT.to_owned(),
            "InvalidObjectState" => "the object is archived (storage class GLACIER or DEEP_ARCHIVE, or an archive access tier) and its bytes are offline: restore it first (RestoreObject), or leave it out of the query".to_owned(),
            "AccessDenied" | "Forbidden" => "the credentials lack permission here, or the bucket is private and no secret covers this URL".to_owned(),
            "PermanentRedirect" | "AuthorizationHeaderMalformed" | "IllegalLocationConstraintException" => match &self.bucket_region {
                Some(region) => format!("the bucket is in region {region}: set REGION '{region}'"),
                None => "the bucket is in another region or needs another ENDPOINT: check REGION and ENDPOINT".to_owned(),
            },
            "PreconditionFailed" => "the object changed while it was being read; run the query again".to_owned(),
            "InvalidRange" => "the requested byte range lies outside the object".to_owned(),
            "RequestTimeTooSkewed" => "this machine's clock differs from the server's by more than it allows (15 minutes on AWS): synchronise the clock (NTP)".to_owned(),
            "SlowDown" | "ServiceUnavailable" | "InternalError" => "the server is overloaded or failing; retries were exhausted, try again later or raise http_retries".to_owned(),
            _ => return None,
        };
        Some(hint)
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed: HTTP {} {}",
            self.target, self.status, self.code
        )?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        if let Some(hint) = self.hint() {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

/// Any failure of an S3 client call. `Clone`, so a failed
/// [`crate::MultipartWriter`] can answer every later call with the error
/// that broke it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error.
    #[error("{0}")]
    Service(Box<ServiceError>),
    /// The server could not be reached or the connection broke, after retries.
    #[error(
        "{target} failed: could not talk to the server ({detail}); check ENDPOINT, USE_SSL and that the server is running"
    )]
    Transport {
        /// What was asked.
        target: Box<RequestTarget>,
        /// The connection error, already stripped of URLs.
        detail: String,
    },
    /// No response within the configured time, after retries.
    #[error(
        "{target} failed: no response within {seconds:.1}s after {attempts} attempts; check the endpoint or raise the timeout"
    )]
    Timeout {
        /// What was asked.
        target: Box<RequestTarget>,
        /// The per-attempt timeout, in seconds.
        seconds: f64,
        /// Attempts made.
        attempts: u32,
    },
    /// A write whose answer was lost, and whose retry was refused, found
    /// its upload gone or lost its answer too: the server may have done
    /// it, and nothing this client can check tells whether it did.
    #[error(
        "{target}: outcome unknown: {detail}; look at the object (HEAD it) before writing again"
    )]
    OutcomeUnknown {
        /// What was asked.
        target: Box<RequestTarget>,
        /// What was lost and why it cannot be resolved.
        detail: String,
    },
    /// The server's answer could not be understood.
    #[error("{target} failed: unexpected response: {detail}")]
    InvalidResponse {
        /// What was asked.
        target: Box<RequestTarget>,
        /// What was wrong with it.
        detail: String,
    },
    /// The credentials provider failed.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// The configuration cannot work (bad endpoint, empty region, ...).
    #[error("invalid S3 client configuration: {0}")]
    Config(String),
    /// A call's arguments cannot work (empty bucket, part number out of range, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl Error {
    /// The server's error, if this is one.
    pub fn service(&self) -> Option<&ServiceError> {
        match self {
            Self::Service(e) => Some(e),
            _ => None,
        }
    }

    /// HTTP status of a server error.
    pub fn status(&self) -> Option<u16> {
        self.service().map(|e| e.status)
    }

    /// S3 error code of a server error.
    pub fn code(&self) -> Option<&str> {
        self.service().map(|e| e.code.as_str())
    }

    /// True for a missing key or bucket (404).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// True when an `If-Match`/`If-None-Match` precondition failed (412),
    /// or S3 could not evaluate it against a conditional write of the same
    /// key in progress (409 ConditionalRequestConflict, still there after
    /// the retries): either way this write did not take effect.
    pub fn is_precondition_failed(&self) -> bool {
        self.status() == Some(412)
            || (self.status() == Some(409) && self.code() == Some("ConditionalRequestConflict"))
    }
}

/// Shorthand for this crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_object_code_and_hint() {
        let err = Error::Service(Box::new(ServiceError {
            target: RequestTarget {
                operation: Operation::GetObject,
                bucket: "data".into(),
                key: Some("a/b.csv".into()),
                endpoint: "http://127.0.0.1:9000".into(),
            },
            status: 301,
            code: "PermanentRedirect".into(),
            message: String::new(),
            request_id: Some("REQ1".into()),
            bucket_region: Some("eu-west-1".into()),
        }));
        let text = err.to_string();
        assert!(
            text.contains("GetObject s3://data/a/b.csv at http://127.0.0.1:9000"),
            "{text}"
        );
        assert!(text.contains("REQ1"), "{text}");
        assert!(text.contains("REGION 'eu-west-1'"), "{text}");
    }

    /// A read refused as S3 refuses one of an SSE-C object without its key
    /// says so: a HEAD's body-less 400 and a GET's InvalidRequest naming
    /// server-side encryption; another 400 does not.
    #[test]
    fn a_read_refused_as_sse_c_names_it() {
        let refusal = |operation, code: &str, message: &str| ServiceError {
            target: RequestTarget {
                operation,
                bucket: "data".into(),
                key: Some("k.csv".into()),
                endpoint: "http://127.0.0.1:9000".into(),
            },
            status: 400,
            code: code.into(),
            message: message.into(),
            request_id: None,
            bucket_region: None,
        };
        let get_message = "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.";
        for error in [
            refusal(Operation::HeadObject, "HTTP400", ""),
            refusal(Operation::GetObject, "InvalidRequest", get_message),
        ] {
            assert!(error.to_string().contains("SSE-C"), "{error}");
        }
        assert_eq!(refusal(Operation::PutObject, "HTTP400", "").hint(), None);
        assert_eq!(
            refusal(Operation::GetObject, "InvalidRequest", "bad").hint(),
            None
        );
    }

    /// A key holding a line end is shown quoted with escapes, so the
    /// message is one line; a plain key is shown as it is.
    #[test]
    fn a_key_with_control_characters_is_shown_escaped_on_one_line() {
        let target = |key: &str| RequestTarget {
            operation: Operation::HeadObject,
            bucket: "data".into(),
            key: Some(key.into()),
            endpoint: "http://127.0.0.1:9000".into(),
        };
        let text = target("a\r\nb\u{7f}").to_string();
        assert_eq!(
            text,
            r#"HeadObject s3://data/"a\r\nb\u{7f}" at http://127.0.0.1:9000"#
        );
        // A key that looks quoted is quoted too: the two never read alike.
        let text = target(r#""a\rb""#).to_string();
        assert_eq!(
            text,
            r#"HeadObject s3://data/"\"a\\rb\"" at http://127.0.0.1:9000"#
        );
        let text = target(r"dir/a\rb.csv").to_string();
        assert_eq!(
            text,
            r"HeadObject s3://data/dir/a\rb.csv at http://127.0.0.1:9000"
        );
    }
}

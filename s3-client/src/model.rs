//! Plain data passed to and returned by the S3 operations, named as in the
//! S3 API reference.

use chrono::{DateTime, Utc};

/// What S3 says about one object, whichever request said it. A
/// ListObjectsV2 entry fills `key`, `size`, `etag` and `last_modified`;
/// HeadObject and GetObject fill the same and also `content_type` and
/// `version_id`, which a listing does not carry. One shape for both, so a
/// listed object is read (and pinned to its ETag) with no HEAD first, and
/// every layer above (glob-list's matches, the planner's files) passes it
/// on as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectMeta {
    /// The full key, already URL-decoded.
    pub key: String,
    /// Object size in bytes.
    pub size: u64,
    /// The ETag, with its quotes (as S3 sends it), for `If-Match`.
    pub etag: Option<String>,
    /// Last-Modified.
    pub last_modified: Option<DateTime<Utc>>,
    /// Content-Type (HEAD and GET only).
    pub content_type: Option<String>,
    /// `x-amz-version-id`, on versioned buckets (HEAD and GET only).
    pub version_id: Option<String>,
    /// The storage class a listing names (`STANDARD`, `GLACIER`, ...):
    /// archived objects cannot be read until restored, and a listing says
    /// so before any GET fails.
    pub storage_class: Option<String>,
}

impl ObjectMeta {
    /// An object of `size` bytes at `key`, nothing else known.
    pub fn new(key: impl Into<String>, size: u64) -> Self {
        Self {
            key: key.into(),
            size,
            etag: None,
            last_modified: None,
            content_type: None,
            version_id: None,
            storage_class: None,
        }
    }

    /// With its ETag (quotes included, as S3 sends it).
    pub fn with_etag(mut self, etag: impl Into<String>) -> Self {
        self.etag = Some(etag.into());
        self
    }

    /// With its Last-Modified time.
    pub fn with_last_modified(mut self, last_modified: DateTime<Utc>) -> Self {
        self.last_modified = Some(last_modified);
        self
    }
}

/// Parameters of a ListObjectsV2 listing (the continuation token is handled
/// by the client).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListObjectsV2Request {
    /// Only keys that start with this.
    pub prefix: Option<String>,
    /// Roll keys up to the next occurrence of this (usually `/`) into common prefixes.
    pub delimiter: Option<String>,
    /// Only keys after this one (lexicographically).
    pub start_after: Option<String>,
    /// Keys per page (the server's default, 1000, when unset).
    pub max_keys: Option<u32>,
}

impl ListObjectsV2Request {
    /// A listing of everything under `prefix`.
    pub fn prefix(prefix: impl Into<String>) -> Self {
        Self {
            prefix: Some(prefix.into()),
            ..Self::default()
        }
    }

    /// Sets the delimiter.
    pub fn with_delimiter(mut self, delimiter: impl Into<String>) -> Self {
        self.delimiter = Some(delimiter.into());
        self
    }
}

/// One page of a ListObjectsV2 listing; keys and prefixes URL-decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListObjectsV2Page {
    /// Objects on this page, in key order.
    pub objects: Vec<ObjectMeta>,
    /// Common prefixes (with the delimiter at their end), in order.
    pub common_prefixes: Vec<String>,
    /// Token for the next page, when the listing is truncated.
    pub next_continuation_token: Option<String>,
}

/// A byte range of an object, as HTTP `Range` expresses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// Bytes `start..end` (end exclusive).
    Bounded {
        /// First byte.
        start: u64,
        /// One past the last byte.
        end: u64,
    },
    /// From `start` to the end of the object.
    From(u64),
    /// The last `n` bytes (`bytes=-n`), e.g. a Parquet footer.
    Suffix(u64),
}

impl ByteRange {
    /// The `Range` header value, or `None` for an empty bounded range.
    pub fn header_value(&self) -> Option<String> {
        match *self {
            Self::Bounded { start, end } if end > start => {
                Some(format!("bytes={start}-{}", end - 1))
            }
            Self::Bounded { .. } => None,
            Self::From(start) => Some(format!("bytes={start}-")),
            Self::Suffix(n) => Some(format!("bytes=-{n}")),
        }
    }
}

/// Options of a GetObject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetObjectRequest {
    /// Only these bytes.
    pub range: Option<ByteRange>,
    /// Fail with 412 unless the object still has this ETag, so several
    /// ranged reads see one version of the object.
    pub if_match: Option<String>,
    /// Fail with 304 when the object still has this ETag (cache revalidation).
    pub if_none_match: Option<String>,
    /// Fail with 304 unless modified after this time.
    pub if_modified_since: Option<DateTime<Utc>>,
    /// Fail with 412 if modified after this time.
    pub if_unmodified_since: Option<DateTime<Utc>>,
    /// Fail unless the answer says the object has this many bytes (the
    /// size a listing gave): a read planned on a stale listing, or through
    /// a gateway that lists one size and serves another, would otherwise
    /// stop short of the object's end with nothing to show for it.
    pub size: Option<u64>,
}

/// The version of an object a read of several requests was planned on,
/// as its listing gave it: every GET carries `If-Match` with the ETag (when
/// the listing gave one) and every answer must report the size, so the
/// read sees exactly that object, neither another version nor a cut or
/// stale copy of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectVersion {
    /// The listed ETag; `None` from a listing without ETags (a gateway's),
    /// whose size is still checked.
    pub etag: Option<String>,
    /// The listed size in bytes.
    pub size: u64,
}

/// Options of a CopyObject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CopyObjectRequest {
    /// Copy only when no object is at the destination (`If-None-Match: *`).
    pub if_none_match: bool,
}

impl CopyObjectRequest {
    /// A copy that never replaces an object at the destination.
    pub fn create_only() -> Self {
        Self {
            if_none_match: true,
        }
    }
}

/// Options of a PutObject or CreateMultipartUpload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutObjectRequest {
    /// Content-Type of the object.
    pub content_type: Option<String>,
    /// Write only if no object exists at the key (`If-None-Match: *`).
    pub if_none_match: bool,
    /// Write only if the current object has this ETag (optimistic update).
    pub if_match: Option<String>,
    /// What else to store with the object (user metadata, Cache-Control,
    /// storage class, encryption, tags...): for a new version that must
    /// keep what the old one had, [`S3Client::head_object_metadata`]'s.
    /// An encryption given here wins over the client's `sse_kms_key_id`.
    ///
    /// [`S3Client::head_object_metadata`]: crate::S3Client::head_object_metadata
    pub metadata: ObjectMetadata,
}

/// What S3 keeps with an object besides its bytes, its Content-Type and
/// what it derives itself (ETag, size, Last-Modified, checksums): the
/// metadata a writer sets, which S3 gives every PutObject or
/// CompleteMultipartUpload afresh. A rewrite that does not send it again
/// drops it: the tags lifecycle rules and access policies match on, the
/// customer KMS key guarding the bytes, the storage class.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectMetadata {
    /// Content-Encoding.
    pub content_encoding: Option<String>,
    /// Content-Language.
    pub content_language: Option<String>,
    /// Content-Disposition.
    pub content_disposition: Option<String>,
    /// Cache-Control.
    pub cache_control: Option<String>,
    /// Expires, as the server sent it.
    pub expires: Option<String>,
    /// `x-amz-website-redirect-location`.
    pub website_redirect_location: Option<String>,
    /// User metadata, `x-amz-meta-<name>`: name (lower case, without the
    /// prefix) to value.
    pub user: std::collections::BTreeMap<String, String>,
    /// `x-amz-storage-class` (S3 sends none for STANDARD).
    pub storage_class: Option<String>,
    /// Server-side encryption with keys S3 holds (SSE-S3, SSE-KMS).
    pub encryption: Option<ServerSideEncryption>,
    /// The object's tags, in the order the server listed them.
    pub tags: Vec<(String, String)>,
}

impl ObjectMetadata {
    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// Server-side encryption with a key S3 holds, as `x-amz-server-side-encryption*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSideEncryption {
    /// `AES256` (SSE-S3), `aws:kms` or `aws:kms:dsse`.
    pub algorithm: String,
    /// The KMS key, for `aws:kms*`.
    pub kms_key_id: Option<String>,
    /// `x-amz-server-side-encryption-bucket-key-enabled`.
    pub bucket_key_enabled: Option<bool>,
}

/// What a write returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutObjectOutput {
    /// The new object's ETag.
    pub etag: Option<String>,
    /// `x-amz-version-id`, on versioned buckets.
    pub version_id: Option<String>,
}

/// A part already uploaded, as CompleteMultipartUpload needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    /// 1-based part number.
    pub part_number: u32,
    /// The ETag UploadPart returned.
    pub etag: String,
}

/// An upload in progress, as ListMultipartUploads reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartUpload {
    /// The key being written.
    pub key: String,
    /// The upload id.
    pub upload_id: String,
    /// When it started.
    pub initiated: Option<DateTime<Utc>>,
}

impl MultipartUpload {
    /// Whether this upload writes `key`: its listed key is `key`, or what
    /// XML makes of `key` when a server lists it raw (a CR read as LF; moto
    /// ignores `encoding-type=url` here).
    pub fn is_of(&self, key: &str) -> bool {
        crate::xml::names_key(&self.key, key)
    }
}

/// A key DeleteObjects could not delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteObjectError {
    /// The key.
    pub key: String,
    /// S3 error code.
    pub code: String,
    /// The server's message.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_headers() {
        assert_eq!(
            ByteRange::Bounded { start: 0, end: 10 }
                .header_value()
                .as_deref(),
            Some("bytes=0-9")
        );
        assert_eq!(ByteRange::Bounded { start: 5, end: 5 }.header_value(), None);
        assert_eq!(
            ByteRange::From(7).header_value().as_deref(),
            Some("bytes=7-")
        );
        assert_eq!(
            ByteRange::Suffix(8).header_value().as_deref(),
            Some("bytes=-8")
        );
    }
}

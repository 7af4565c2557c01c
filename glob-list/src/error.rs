//! The crate's error: what was wrong with the pattern (and where), or what
//! the listing could not do.

use s3sql_s3_client::ShownKey;

/// Any failure to expand a pattern.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GlobError {
    /// The URL is not `scheme://bucket/key`.
    #[error(transparent)]
    InvalidUrl(#[from] s3sql_s3_client::UrlError),
    /// The pattern cannot be parsed; `position` is a character offset in `pattern`.
    #[error(
        "invalid glob pattern '{pattern}' at character {position}: {reason}\n  {pattern}\n  {marker}"
    )]
    InvalidPattern {
        /// The key pattern.
        pattern: String,
        /// 0-based character offset of the problem.
        position: usize,
        /// What is wrong there and how to fix it.
        reason: String,
        /// A caret under the offending character.
        marker: String,
    },
    /// Nothing matched (DuckDB's wording).
    #[error("No files found that match the pattern \"{pattern}\" (listed {listed}){hint}")]
    NoMatch {
        /// The URL pattern.
        pattern: String,
        /// What was listed, e.g. `s3://bucket/logs/ with delimiter '/'`.
        listed: String,
        /// A hint for the usual surprise (`?` being a wildcard).
        hint: String,
    },
    /// The store failed to list.
    #[error("listing s3://{bucket}/{} failed: {source}", ShownKey(.prefix))]
    List {
        /// The bucket.
        bucket: String,
        /// The prefix being listed.
        prefix: String,
        /// The store's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A URL names a bucket but no key, where a pattern or key is expected.
    /// An empty key is never sent: S3 would answer a HEAD of it as
    /// HeadBucket and a GET with the bucket listing.
    #[error(
        "'{url}' names a bucket, not an object: write '{everything}' for every object in the bucket, or give a key or pattern after the bucket"
    )]
    EmptyKey {
        /// The URL as given.
        url: String,
        /// The pattern for everything in the bucket.
        everything: String,
    },
    /// The server answered a listing with a continuation token it had
    /// already given in the same listing, so following it would loop.
    #[error(
        "listing s3://{bucket}/{} failed: the server repeated a continuation token after {pages} pages, so following it would list the same keys forever; this is a fault of the server or a proxy in front of it",
        ShownKey(.prefix)
    )]
    RepeatedToken {
        /// The bucket.
        bucket: String,
        /// The prefix being listed.
        prefix: String,
        /// Pages received before the repeat.
        pages: usize,
    },
    /// A page of a listing did not start after the keys of the pages
    /// before it: the server ignores the continuation token (whatever
    /// fresh tokens it gives), so following it would list the same keys
    /// forever.
    #[error(
        "listing s3://{bucket}/{} failed: page {pages} did not start after the keys listed before it, so the server ignores the continuation token and the listing would never end; this is a fault of the server or a proxy in front of it",
        ShownKey(.prefix)
    )]
    NotAdvancing {
        /// The bucket.
        bucket: String,
        /// The prefix being listed.
        prefix: String,
        /// Pages received, the one that did not advance included.
        pages: usize,
    },
    /// The server kept answering a listing with empty pages that each say
    /// more follow, under a new token every time: following it would never
    /// end.
    #[error(
        "listing s3://{bucket}/{} failed: the server sent {pages} empty pages in a row, each with a new continuation token, so the listing would never end; this is a fault of the server or a proxy in front of it",
        ShownKey(.prefix)
    )]
    EndlessEmptyPages {
        /// The bucket.
        bucket: String,
        /// The prefix being listed.
        prefix: String,
        /// Empty pages received in a row.
        pages: usize,
    },
    /// The listing (or HEAD) gave an object a size no object has: past
    /// [`MAX_OBJECT_SIZE`]. Read as it is, it would overflow the engine's
    /// offsets (review-8c #7: DataFusion's repartitioning panicked).
    #[error(
        "{url} is listed with a size of {size} bytes, more than any object can have (S3's limit is 5 TiB; sizes past {max} bytes, 1 PiB, are refused): the server's listing is wrong; list the object with another tool to check it",
        max = MAX_OBJECT_SIZE
    )]
    ImplausibleSize {
        /// The object's URL.
        url: String,
        /// The size the server gave.
        size: u64,
    },
    /// A hive partition value does not fit the type the caller asked for.
    #[error("hive partition {column}='{value}' in {key} is not a valid {expected}")]
    PartitionType {
        /// Column name.
        column: String,
        /// The value found.
        value: String,
        /// The key it came from.
        key: String,
        /// The requested type.
        expected: String,
    },
}

/// The largest object size a listing is believed: 1 PiB. S3's objects
/// are at most 5 TiB; other servers get room to spare, and every size up
/// to this fits the signed 64-bit offsets readers compute with.
pub const MAX_OBJECT_SIZE: u64 = 1 << 50;

impl GlobError {
    pub(crate) fn pattern(pattern: &str, position: usize, reason: impl Into<String>) -> Self {
        GlobError::InvalidPattern {
            pattern: pattern.to_owned(),
            position,
            reason: reason.into(),
            marker: format!("{}^", " ".repeat(position)),
        }
    }
}

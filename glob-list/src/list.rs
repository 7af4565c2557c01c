//! The listing interface glob-list needs, so any store can be globbed: one
//! ListObjectsV2-shaped page at a time, plus HEAD for literal keys.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

/// An error from the store, kept as the source of [`crate::GlobError::List`].
pub type StoreError = Box<dyn std::error::Error + Send + Sync>;

/// One listed object: everything a reader needs without a HEAD per file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// The full key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// ETag, with its quotes.
    pub etag: Option<String>,
    /// Last-Modified.
    pub last_modified: Option<DateTime<Utc>>,
}

/// A listing request: a prefix, optionally rolled up at `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    /// Keys starting with this.
    pub prefix: String,
    /// Roll keys up to the next `/` into common prefixes.
    pub delimited: bool,
}

/// One page of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPage {
    /// Objects, in key order.
    pub objects: Vec<ObjectInfo>,
    /// Common prefixes (ending in `/`), in order; only when delimited.
    pub common_prefixes: Vec<String>,
    /// Token for the next page.
    pub next: Option<String>,
}

/// A store glob-list can list.
pub trait ListObjects: Send + Sync {
    /// One page of `request` in `bucket`, continuing from `continuation`.
    fn list_page<'a>(
        &'a self,
        bucket: &'a str,
        request: &'a ListRequest,
        continuation: Option<String>,
    ) -> BoxFuture<'a, Result<ListPage, StoreError>>;

    /// The object at `key`, or `None` when it does not exist.
    fn head<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<ObjectInfo>, StoreError>>;
}

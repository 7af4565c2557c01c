//! The listing interface glob-list needs, so any store can be globbed: one
//! ListObjectsV2-shaped page at a time, plus HEAD for literal keys.

use futures::future::BoxFuture;
use s3sql_s3_client::ObjectMeta;

/// An error from the store, kept as the source of [`crate::GlobError::List`].
pub type StoreError = Box<dyn std::error::Error + Send + Sync>;

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
    /// Objects, in key order: everything a reader needs without a HEAD
    /// per file.
    pub objects: Vec<ObjectMeta>,
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
    ) -> BoxFuture<'a, Result<Option<ObjectMeta>, StoreError>>;
}

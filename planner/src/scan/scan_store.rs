//! [`ScanStore`], between DataFusion and the client's object store, does
//! three things for a scan:
//!
//! - reads each file at the version the listing saw: its GETs carry
//!   `If-Match` with the listed ETag and each answer must give the listed
//!   size (its ranges through the client's one coalescer,
//!   `S3ObjectStore::get_ranges_if_match`), so an object replaced since
//!   (larger, smaller, or just different), or listed or served cut by a
//!   gateway, is an error naming it, never rows cut at the listed size or
//!   spliced from two versions;
//! - counts what the scan cost, for `EXPLAIN ANALYZE`: the HTTP requests
//!   its client sent (retries included) and the bytes its readers received;
//! - reads an object the listing says is small whole at its first read
//!   and serves its later ranges from memory ([`SmallObjectCache`]).

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use s3sql_s3_client::{ObjectVersion, S3Client, S3ObjectStore, etag_value};

use crate::scan::small_objects::{SmallObjectCache, WholeObject, plain_read};

/// Requests and bytes of one store of a scan.
#[derive(Debug, Clone)]
pub(crate) struct ReadStats {
    client: S3Client,
    bytes: Arc<AtomicU64>,
}

impl ReadStats {
    /// HTTP requests the store's client has sent, footers and samples read
    /// while planning included.
    pub(crate) fn requests(&self) -> u64 {
        self.client.request_count()
    }

    /// Bytes of object data handed to the readers.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

/// The ETag and size each file the running statement listed had, by its
/// object path: the one version of it every scan of the statement reads.
#[derive(Debug, Default)]
pub(crate) struct Versions(Mutex<HashMap<String, ObjectVersion>>);

impl Versions {
    /// Reads of the object at `location` must find `size`, and `etag`
    /// when the listing gave one (a listing without ETags still pins the
    /// size). A second listing in the statement must find the ETag too:
    /// `Err` holds the ETag pinned first when it found another. ETags are
    /// compared by [`etag_value`]: a server may quote them in a listing and
    /// not in a HEAD's answer, and a proxy may make one weak (`W/`).
    pub(crate) fn pin(&self, location: &Path, etag: Option<&str>, size: u64) -> Result<(), String> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(location.as_ref()) {
            Some(ObjectVersion {
                etag: Some(pinned), ..
            }) if etag.is_some_and(|etag| etag_value(pinned) != etag_value(etag)) => {
                Err(pinned.clone())
            }
            Some(_) => Ok(()),
            None => {
                let version = ObjectVersion {
                    etag: etag.map(str::to_owned),
                    size,
                };
                map.insert(location.as_ref().to_owned(), version);
                Ok(())
            }
        }
    }

    pub(crate) fn get(&self, key: &Path) -> Option<ObjectVersion> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key.as_ref()).cloned()
    }
}

/// An object store that reads listed versions, small objects by one GET,
/// and counts its GETs' bytes.
#[derive(Debug)]
pub(crate) struct ScanStore {
    inner: S3ObjectStore,
    bytes: Arc<AtomicU64>,
    versions: Arc<Versions>,
    small: Arc<SmallObjectCache>,
    /// `s3://bucket`, for messages.
    root: String,
}

impl ScanStore {
    /// `inner` (the bucket at `root`), whose requests `client` sends,
    /// reading the `versions` listed, the `small` ones whole; also returns
    /// the counters.
    pub(crate) fn new(
        inner: S3ObjectStore,
        client: S3Client,
        versions: Arc<Versions>,
        small: Arc<SmallObjectCache>,
        root: String,
    ) -> (Self, ReadStats) {
        let bytes = Arc::new(AtomicU64::new(0));
        let stats = ReadStats {
            client,
            bytes: Arc::clone(&bytes),
        };
        let store = Self {
            inner,
            bytes,
            versions,
            small,
            root,
        };
        (store, stats)
    }

    fn count(&self, n: usize) {
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// A refused `If-Match` of the `pinned` version restated: the object
    /// changed under the scan.
    fn changed(
        &self,
        location: &Path,
        pinned: Option<&ObjectVersion>,
        e: object_store::Error,
    ) -> object_store::Error {
        let etag = pinned.and_then(|version| version.etag.as_deref());
        match (e, etag) {
            (object_store::Error::Precondition { .. }, Some(etag)) => {
                object_store::Error::Generic {
                    store: "S3",
                    source: format!(
                        "{}/{} changed while it was being read (it was listed with ETag {etag}); \
                     run the statement again to read the new version",
                        self.root,
                        S3ObjectStore::key_of(location).unwrap_or_else(|_| location.to_string()),
                    )
                    .into(),
                }
            }
            (other, _) => other,
        }
    }

    /// A GET at the listed version, its bytes counted.
    async fn get_pinned(
        &self,
        location: &Path,
        mut options: GetOptions,
    ) -> object_store::Result<GetResult> {
        let pinned = self.versions.get(location);
        if let Some(version) = &pinned {
            if options.if_match.is_none() {
                options.if_match = version.etag.clone();
            }
            options.extensions.insert(version.clone());
        }
        let mut result = match self.inner.get_opts(location, options).await {
            Ok(result) => result,
            Err(e) => return Err(self.changed(location, pinned.as_ref(), e)),
        };
        result.payload = match result.payload {
            GetResultPayload::Stream(stream) => {
                let bytes = Arc::clone(&self.bytes);
                GetResultPayload::Stream(
                    stream
                        .inspect(move |chunk| {
                            if let Ok(chunk) = chunk {
                                bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                            }
                        })
                        .boxed(),
                )
            }
            #[allow(unreachable_patterns)] // a local file, with the `fs` feature
            other => other,
        };
        Ok(result)
    }

    /// The whole of `location` when it was listed small: kept, or read
    /// now by one GET and kept.
    async fn whole(&self, location: &Path) -> object_store::Result<Option<WholeObject>> {
        if let Some(kept) = self.small.find(location) {
            return Ok(Some(kept));
        }
        let Some(keep) = self.small.reading(location) else {
            return Ok(None);
        };
        let result = self.get_pinned(location, GetOptions::default()).await?;
        let (meta, attributes) = (result.meta.clone(), result.attributes.clone());
        let object = WholeObject {
            meta,
            attributes,
            bytes: result.bytes().await?,
        };
        self.small.keep(location, object.clone(), keep);
        Ok(Some(object))
    }
}

impl fmt::Display for ScanStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScanStore({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for ScanStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        if plain_read(&options)
            && let Some(whole) = self.whole(location).await?
            && let Some(answer) = whole.answer(options.range.as_ref())
        {
            return Ok(answer);
        }
        self.get_pinned(location, options).await
    }

    async fn get_ranges(
        &self,
        location: &Path,
        ranges: &[Range<u64>],
    ) -> object_store::Result<Vec<Bytes>> {
        if let Some(whole) = self.whole(location).await?
            && let Some(parts) = whole.ranges(ranges)
        {
            return Ok(parts);
        }
        let pinned = self.versions.get(location);
        let parts = self
            .inner
            .get_ranges_if_match(location, ranges, pinned.as_ref())
            .await
            .map_err(|e| self.changed(location, pinned.as_ref(), e))?;
        self.count(parts.iter().map(Bytes::len).sum());
        Ok(parts)
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

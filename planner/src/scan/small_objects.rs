//! [`SmallObjects`]: an object the listing says is small is read whole by
//! its first GET, and every later range of it is served from memory.
//! DataFusion reads a Parquet file's footer, then its page index and its
//! column chunks, each by a GET of its own: a glob of 1,000 small files
//! cost 2,000+ requests. With this layer a small file costs one GET,
//! footer and data together; a large one is read as before.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, stream};
use object_store::path::Path;
use object_store::{
    Attributes, CopyOptions, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload,
    ObjectMeta, ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult,
};

/// Objects up to this size are read whole at their first read.
const SMALL_OBJECT: u64 = 1024 * 1024;

/// At most this many bytes kept per store; the oldest object goes first.
/// Files are read a few at a time, so a handful suffices.
const KEPT_BYTES: usize = 4 * 1024 * 1024;

/// A small object's bytes, as its one GET returned them.
#[derive(Debug)]
struct Kept {
    location: Path,
    meta: ObjectMeta,
    attributes: Attributes,
    bytes: Bytes,
}

/// The small objects of one bucket (and secret) a statement listed, and
/// those read so far: shared by every store registered for it in the
/// statement (the registration last made serves every scan of it).
#[derive(Debug, Default)]
pub(crate) struct SmallObjectCache {
    /// Listed objects of at most [`SMALL_OBJECT`] bytes, by object path.
    small: Mutex<HashMap<Path, u64>>,
    kept: Mutex<VecDeque<Kept>>,
}

/// An object store reading the small objects listed whole, once.
#[derive(Debug)]
pub(crate) struct SmallObjects {
    inner: Arc<dyn ObjectStore>,
    cache: Arc<SmallObjectCache>,
}

impl SmallObjectCache {
    /// The listing found the object at `location` with `size` bytes.
    pub(crate) fn listed(&self, location: &Path, size: u64) {
        if size <= SMALL_OBJECT {
            let mut small = self.small.lock().unwrap_or_else(|p| p.into_inner());
            small.insert(location.clone(), size);
        }
    }

    fn is_small(&self, location: &Path) -> bool {
        let small = self.small.lock().unwrap_or_else(|p| p.into_inner());
        small.contains_key(location)
    }

    /// The kept bytes and metadata of `location`, if any.
    fn find(&self, location: &Path) -> Option<(Bytes, ObjectMeta, Attributes)> {
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.iter()
            .find(|k| &k.location == location)
            .map(|k| (k.bytes.clone(), k.meta.clone(), k.attributes.clone()))
    }

    fn keep(&self, location: &Path, meta: ObjectMeta, attributes: Attributes, bytes: Bytes) {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.retain(|k| &k.location != location);
        kept.push_back(Kept {
            location: location.clone(),
            meta,
            attributes,
            bytes,
        });
        let mut total: usize = kept.iter().map(|k| k.bytes.len()).sum();
        while total > KEPT_BYTES
            && let Some(oldest) = kept.pop_front()
        {
            total -= oldest.bytes.len();
        }
    }
}

impl SmallObjects {
    /// `inner`, reading whole the small objects `cache` lists.
    pub(crate) fn new(inner: Arc<dyn ObjectStore>, cache: Arc<SmallObjectCache>) -> Self {
        Self { inner, cache }
    }

    /// The whole of `location` when it was listed small: kept, or read
    /// now by one GET and kept.
    async fn whole(
        &self,
        location: &Path,
    ) -> object_store::Result<Option<(Bytes, ObjectMeta, Attributes)>> {
        if let Some(kept) = self.cache.find(location) {
            return Ok(Some(kept));
        }
        if !self.cache.is_small(location) {
            return Ok(None);
        }
        let result = self.inner.get_opts(location, GetOptions::default()).await?;
        let (meta, attributes) = (result.meta.clone(), result.attributes.clone());
        let bytes = result.bytes().await?;
        self.cache
            .keep(location, meta.clone(), attributes.clone(), bytes.clone());
        Ok(Some((bytes, meta, attributes)))
    }
}

/// Whether `options` ask for nothing but (part of) the object's bytes,
/// which its whole bytes can answer; an `If-Match` is checked when they
/// come (by the store below, which pins the listed version anyway).
fn plain_read(options: &GetOptions) -> bool {
    options.if_match.is_none()
        && !options.head
        && options.if_none_match.is_none()
        && options.if_modified_since.is_none()
        && options.if_unmodified_since.is_none()
        && options.version.is_none()
}

/// A GET's answer made of bytes in memory.
fn answer(bytes: Bytes, meta: ObjectMeta, attributes: Attributes, range: Range<u64>) -> GetResult {
    GetResult {
        payload: GetResultPayload::Stream(stream::once(async { Ok(bytes) }).boxed()),
        meta,
        range,
        attributes,
    }
}

impl fmt::Display for SmallObjects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmallObjects({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for SmallObjects {
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
            && let Some((bytes, meta, attributes)) = self.whole(location).await?
        {
            let range = match &options.range {
                None => Ok(0..meta.size),
                Some(range) => range.as_range(meta.size),
            };
            // An invalid range: the store's own answer says why.
            if let Ok(range) = range
                && range.end <= bytes.len() as u64
                && (range.start < range.end || meta.size == 0)
            {
                let part = bytes.slice(range.start as usize..range.end as usize);
                return Ok(answer(part, meta, attributes, range));
            }
        }
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(
        &self,
        location: &Path,
        ranges: &[Range<u64>],
    ) -> object_store::Result<Vec<Bytes>> {
        if let Some((bytes, _, _)) = self.whole(location).await?
            && ranges
                .iter()
                .all(|r| r.start < r.end && r.end <= bytes.len() as u64)
        {
            return Ok(ranges
                .iter()
                .map(|r| bytes.slice(r.start as usize..r.end as usize))
                .collect());
        }
        self.inner.get_ranges(location, ranges).await
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

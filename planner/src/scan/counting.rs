//! What a scan cost, for `EXPLAIN ANALYZE`: the HTTP requests its clients
//! sent (the client counts them, retries included) and the bytes its
//! readers received, counted by [`CountingStore`] between DataFusion and
//! the client's object store.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use s3sql_s3_client::S3Client;

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

/// An object store that counts the bytes its GETs return.
#[derive(Debug)]
pub(crate) struct CountingStore {
    inner: Arc<dyn ObjectStore>,
    bytes: Arc<AtomicU64>,
}

impl CountingStore {
    /// `inner`, whose requests `client` sends; also returns the counters.
    pub(crate) fn new(inner: Arc<dyn ObjectStore>, client: S3Client) -> (Self, ReadStats) {
        let bytes = Arc::new(AtomicU64::new(0));
        let stats = ReadStats {
            client,
            bytes: Arc::clone(&bytes),
        };
        (Self { inner, bytes }, stats)
    }

    fn count(&self, n: usize) {
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
    }
}

impl fmt::Display for CountingStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Counting({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for CountingStore {
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
        let mut result = self.inner.get_opts(location, options).await?;
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

    async fn get_ranges(
        &self,
        location: &Path,
        ranges: &[Range<u64>],
    ) -> object_store::Result<Vec<Bytes>> {
        let parts = self.inner.get_ranges(location, ranges).await?;
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

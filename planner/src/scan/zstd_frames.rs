//! [`ZstdFrames`]: a `.zst` text file read to its end. A zstd file may
//! hold several frames one after another (`zstd` of appended files, pzstd,
//! DuckDB's writer); `zstd -d` and DuckDB decode them all, but
//! DataFusion's CSV and JSON openers decode a stream's first frame only
//! (async-compression stops there unless told `multiple_members`), so a
//! scan silently lost every row after it. A `.zst` file's opener reads
//! through this store, which hands it the text of every frame, and is told
//! the file is not compressed.

use std::fmt;
use std::sync::Arc;

use async_compression::tokio::bufread::ZstdDecoder;
use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use tokio_util::io::{ReaderStream, StreamReader};

/// A read-only object store whose GETs answer the decoded text of every
/// zstd frame of what `inner` holds.
#[derive(Debug)]
pub(crate) struct ZstdFrames {
    inner: Arc<dyn ObjectStore>,
}

impl ZstdFrames {
    /// Reads `inner`'s objects as zstd, all their frames.
    pub(crate) fn new(inner: Arc<dyn ObjectStore>) -> Self {
        Self { inner }
    }
}

/// `body` (zstd) decoded, frame after frame, to its end.
fn decoded(
    body: BoxStream<'static, object_store::Result<Bytes>>,
) -> BoxStream<'static, object_store::Result<Bytes>> {
    let mut decoder = ZstdDecoder::new(StreamReader::new(body.map_err(std::io::Error::from)));
    decoder.multiple_members(true);
    ReaderStream::new(decoder).map_err(unwrapped).boxed()
}

/// The store's own error back from the reader's `io::Error` around it,
/// or a decoding error.
fn unwrapped(e: std::io::Error) -> object_store::Error {
    let kind = e.kind();
    let why = match e
        .into_inner()
        .map(|inner| inner.downcast::<object_store::Error>())
    {
        Some(Ok(store)) => return *store,
        Some(Err(other)) => other.to_string(),
        None => kind.to_string(),
    };
    object_store::Error::Generic {
        store: "zstd",
        source: format!("decoding zstd: {why}").into(),
    }
}

/// What this store does not do: it only reads.
fn read_only(operation: &str) -> object_store::Error {
    object_store::Error::NotImplemented {
        operation: operation.to_owned(),
        implementer: "ZstdFrames (it only reads)".to_owned(),
    }
}

impl fmt::Display for ZstdFrames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ZstdFrames({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for ZstdFrames {
    async fn put_opts(
        &self,
        _: &Path,
        _: PutPayload,
        _: PutOptions,
    ) -> object_store::Result<PutResult> {
        Err(read_only("put_opts"))
    }

    async fn put_multipart_opts(
        &self,
        _: &Path,
        _: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        Err(read_only("put_multipart_opts"))
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        if options.head || options.range.is_some() {
            // A range of compressed bytes is no range of the text.
            return Err(read_only("a HEAD or a ranged GET"));
        }
        let result = self.inner.get_opts(location, options).await?;
        let (meta, range, attributes) = (
            result.meta.clone(),
            result.range.clone(),
            result.attributes.clone(),
        );
        Ok(GetResult {
            payload: GetResultPayload::Stream(decoded(result.into_stream())),
            meta,
            range,
            attributes,
        })
    }

    fn delete_stream(
        &self,
        _: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        futures::stream::once(async { Err(read_only("delete_stream")) }).boxed()
    }

    fn list(&self, _: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        futures::stream::once(async { Err(read_only("list")) }).boxed()
    }

    async fn list_with_delimiter(&self, _: Option<&Path>) -> object_store::Result<ListResult> {
        Err(read_only("list_with_delimiter"))
    }

    async fn copy_opts(&self, _: &Path, _: &Path, _: CopyOptions) -> object_store::Result<()> {
        Err(read_only("copy_opts"))
    }
}

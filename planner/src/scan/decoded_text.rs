//! [`DecodedText`]: a compressed or JSON file read as its text, for
//! DataFusion's CSV and JSON openers, which are told the file is not
//! compressed.
//!
//! A zstd file may hold several frames one after another (`zstd` of
//! appended files, pzstd, DuckDB's writer); `zstd -d` and DuckDB decode
//! them all, but DataFusion's openers decode a stream's first frame only
//! (async-compression stops there unless told `multiple_members`), so a
//! scan silently lost every row after it: here every frame is decoded.
//!
//! A JSON file may start with a UTF-8 byte order mark (Windows tools write
//! one); DuckDB reads past it, as the CSV reader and the schema sample do,
//! but DataFusion's JSON readers took it for text: an array printed its
//! rows and then failed ("unexpected leading content before '['"), and
//! newline-delimited JSON failed at once. Here the mark is turned into
//! three spaces, which JSON skips: the text keeps its length, so a byte
//! range of newline-delimited JSON still starts and ends where it did.
//!
//! A JSON file with JSON columns (a key whose values mix kinds) has their
//! values turned into strings of their text
//! (`s3sql_formats::JsonColumnsText`), which arrow-json reads; that text
//! has another length, so such a file is read whole.
//!
//! A JSON array is answered as its elements one after another
//! (`s3sql_formats::JsonArrayValues`), which DataFusion's reader of
//! newline-delimited JSON decodes as the scan pulls them; a file the scan
//! lists as bigger than the first range is read in bounded ranges
//! ([`ranged_get`]), so a `LIMIT 2` reads megabytes, not the object.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_compression::tokio::bufread::ZstdDecoder;
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::error::DataFusionError;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use s3sql_formats::{JsonArrayValues, JsonColumnsText};
use tokio_util::io::{ReaderStream, StreamReader};

use crate::scan::ranged_body::{FIRST_RANGE, ranged_get};

/// A read-only object store whose GETs answer the text of what `inner`
/// holds: decoded from `compression` (zstd: every frame), with a leading
/// UTF-8 byte order mark blanked when `blank_bom` (JSON), and the values
/// of `json_columns` rewritten.
#[derive(Debug)]
pub(crate) struct DecodedText {
    inner: Arc<dyn ObjectStore>,
    compression: FileCompressionType,
    blank_bom: bool,
    json_columns: Vec<String>,
    /// The files are JSON arrays, answered as their elements.
    json_array: bool,
    /// The size of each file the scan lists, by object path: a whole
    /// read of one bigger than [`FIRST_RANGE`] is made in ranges.
    sizes: Arc<HashMap<Path, u64>>,
}

impl DecodedText {
    /// Reads `inner`'s objects as `compression` says, and a leading byte
    /// order mark as spaces when `blank_bom`.
    pub(crate) fn new(
        inner: Arc<dyn ObjectStore>,
        compression: FileCompressionType,
        blank_bom: bool,
    ) -> Self {
        Self {
            inner,
            compression,
            blank_bom,
            json_columns: Vec::new(),
            json_array: false,
            sizes: Arc::default(),
        }
    }

    /// The same store, answering each JSON array as its elements one
    /// after another, and whole reads of the files `sizes` lists (by
    /// object path) in bounded ranges.
    pub(crate) fn with_json_arrays(self, sizes: Arc<HashMap<Path, u64>>) -> Self {
        Self {
            json_array: true,
            sizes,
            ..self
        }
    }

    /// The same store, answering the values of the JSON columns `columns`
    /// as JSON strings of their text; the files are then read whole.
    pub(crate) fn with_json_columns(self, columns: Vec<String>) -> Self {
        Self {
            json_columns: columns,
            ..self
        }
    }
}

type Body = BoxStream<'static, object_store::Result<Bytes>>;

/// `body` decoded from `compression`; zstd frame after frame, to its end.
fn decoded(body: Body, compression: FileCompressionType) -> object_store::Result<Body> {
    if compression == FileCompressionType::ZSTD {
        let mut decoder = ZstdDecoder::new(StreamReader::new(body.map_err(std::io::Error::from)));
        decoder.multiple_members(true);
        return Ok(ReaderStream::new(decoder).map_err(unwrapped).boxed());
    }
    let body = body.map_err(DataFusionError::from).boxed();
    Ok(compression
        .convert_stream(body)
        .map_err(from_datafusion)?
        .map_err(from_datafusion)
        .boxed())
}

/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `body` with a byte order mark at its start turned into three spaces;
/// the first chunks are held until three bytes tell.
fn bom_blanked(body: Body) -> Body {
    futures::stream::unfold(
        (body, Some(Vec::new())),
        |(mut body, mut held)| async move {
            let Some(start) = held.as_mut() else {
                let chunk = body.next().await?;
                return Some((chunk, (body, None)));
            };
            loop {
                match body.next().await {
                    Some(Ok(chunk)) if start.len() + chunk.len() < BOM.len() => {
                        start.extend_from_slice(&chunk);
                    }
                    Some(Ok(chunk)) => {
                        let first = if start.is_empty() && !chunk.starts_with(BOM) {
                            chunk
                        } else {
                            let mut text = std::mem::take(start);
                            text.extend_from_slice(&chunk);
                            if text.starts_with(BOM) {
                                text[..BOM.len()].fill(b' ');
                            }
                            Bytes::from(text)
                        };
                        return Some((Ok(first), (body, None)));
                    }
                    Some(Err(e)) => return Some((Err(e), (body, None))),
                    None => {
                        let rest = Bytes::from(held.take().unwrap_or_default());
                        return (!rest.is_empty()).then_some((Ok(rest), (body, None)));
                    }
                }
            }
        },
    )
    .boxed()
}

/// `body`, the text of the JSON array at `location`, as its elements one
/// after another ([`JsonArrayValues`]); an error where it is no array.
fn array_values(body: Body, location: &Path) -> Body {
    let location = location.clone();
    let refused = move |e: s3sql_formats::FormatError| object_store::Error::Generic {
        store: "JSON",
        source: format!("{location}: {e}").into(),
    };
    futures::stream::unfold(
        (body, Some(JsonArrayValues::new())),
        move |(mut body, mut array)| {
            let refused = refused.clone();
            async move {
                let values = array.as_mut()?;
                let blanked = match body.next().await {
                    Some(Ok(chunk)) => {
                        let mut text = chunk
                            .try_into_mut()
                            .unwrap_or_else(|shared| BytesMut::from(shared.as_ref()));
                        values.blank(&mut text).map(|()| Some(text.freeze()))
                    }
                    Some(Err(e)) => return Some((Err(e), (body, None))),
                    None => values.finish().map(|()| None),
                };
                match blanked {
                    Ok(Some(text)) => Some((Ok(text), (body, array))),
                    Ok(None) => None,
                    Err(e) => Some((Err(refused(e)), (body, None))),
                }
            }
        },
    )
    .boxed()
}

/// `body` with its JSON columns' values rewritten by `rewriter`.
fn json_columns_rewritten(body: Body, rewriter: JsonColumnsText) -> Body {
    futures::stream::unfold(
        (body, Some(rewriter)),
        |(mut body, mut rewriter)| async move {
            let text = rewriter.as_mut()?;
            match body.next().await {
                Some(Ok(chunk)) => Some((Ok(Bytes::from(text.push(&chunk))), (body, rewriter))),
                Some(Err(e)) => Some((Err(e), (body, None))),
                None => Some((Ok(Bytes::from(text.finish())), (body, None))),
            }
        },
    )
    .boxed()
}

/// The store's own error back from the reader's `io::Error` around it,
/// or a decoding error.
fn unwrapped(e: std::io::Error) -> object_store::Error {
    let kind = e.kind();
    let why = match e.into_inner() {
        Some(inner) => match inner.downcast::<object_store::Error>() {
            Ok(store) => return *store,
            Err(inner) => match inner.downcast::<DataFusionError>() {
                Ok(datafusion) => return from_datafusion(*datafusion),
                Err(other) => other.to_string(),
            },
        },
        None => kind.to_string(),
    };
    object_store::Error::Generic {
        store: "decompress",
        source: format!("decoding the file: {why}").into(),
    }
}

/// The store's error inside a DataFusion error, or a decoding error.
fn from_datafusion(e: DataFusionError) -> object_store::Error {
    match e {
        DataFusionError::ObjectStore(store) => *store,
        DataFusionError::IoError(io) => unwrapped(io),
        other => object_store::Error::Generic {
            store: "decompress",
            source: format!("decoding the file: {other}").into(),
        },
    }
}

/// What this store does not do: it only reads.
fn read_only(operation: &str) -> object_store::Error {
    object_store::Error::NotImplemented {
        operation: operation.to_owned(),
        implementer: "DecodedText (it only reads)".to_owned(),
    }
}

impl fmt::Display for DecodedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DecodedText({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for DecodedText {
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
        let compressed = self.compression.is_compressed();
        if compressed && (options.head || options.range.is_some()) {
            // A range of compressed bytes is no range of the text.
            return Err(read_only("a HEAD or a ranged GET of a compressed file"));
        }
        let rewrite = !self.json_columns.is_empty();
        if rewrite && options.range.is_some() {
            // The rewritten text has another length than the file.
            return Err(read_only("a ranged GET of a JSON file with JSON columns"));
        }
        if self.json_array && options.range.is_some() {
            // A range of an array is no run of its elements.
            return Err(read_only("a ranged GET of a JSON array"));
        }
        let head = options.head;
        let size = self
            .sizes
            .get(location)
            .filter(|size| !head && options.range.is_none() && **size > FIRST_RANGE);
        let result = match size {
            Some(size) => ranged_get(Arc::clone(&self.inner), location, options, *size).await?,
            None => self.inner.get_opts(location, options).await?,
        };
        let blank_bom = self.blank_bom && !head && result.range.start == 0;
        let rewrite = rewrite && !head;
        let array = self.json_array && !head;
        if !compressed && !blank_bom && !rewrite && !array {
            return Ok(result);
        }
        let (meta, range, attributes) = (
            result.meta.clone(),
            result.range.clone(),
            result.attributes.clone(),
        );
        let mut text = decoded(result.into_stream(), self.compression)?;
        if blank_bom {
            text = bom_blanked(text);
        }
        if array {
            text = array_values(text, location);
        }
        if rewrite {
            let rewriter = JsonColumnsText::new(self.json_columns.clone());
            text = json_columns_rewritten(text, rewriter);
        }
        Ok(GetResult {
            payload: GetResultPayload::Stream(text),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The text `chunks` make through [`bom_blanked`].
    async fn blanked(chunks: &[&[u8]]) -> Vec<u8> {
        let chunks: Vec<object_store::Result<Bytes>> = chunks
            .iter()
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let out: Vec<Bytes> = bom_blanked(futures::stream::iter(chunks).boxed())
            .try_collect()
            .await
            .unwrap();
        out.concat()
    }

    #[tokio::test]
    async fn a_byte_order_mark_is_blanked_however_the_chunks_cut_it() {
        assert_eq!(blanked(&[b"\xEF\xBB\xBF{\"a\":1}"]).await, b"   {\"a\":1}");
        assert_eq!(
            blanked(&[b"\xEF", b"\xBB", b"\xBF[", b"1]"]).await,
            b"   [1]"
        );
        assert_eq!(blanked(&[b"\xEF\xBB", b"\xBF"]).await, b"   ");
        // Only at the start, and only the whole mark.
        assert_eq!(
            blanked(&[b"[1]", b"\xEF\xBB\xBF"]).await,
            b"[1]\xEF\xBB\xBF"
        );
        assert_eq!(blanked(&[b"\xEF\xBB"]).await, b"\xEF\xBB");
        assert_eq!(blanked(&[b"", b"{}"]).await, b"{}");
        assert_eq!(blanked(&[]).await, b"");
    }
}

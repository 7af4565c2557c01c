//! [`Encoder`]: record batches to the bytes of one file, with arrow-rs's
//! writers (Parquet's column writers, a batch's columns encoded in
//! parallel by [`ParquetEncoder`]; JSON `LineDelimitedWriter` with DuckDB's
//! text of values, [`DuckJson`]) and our own
//! CSV writer ([`super::csv`], which keeps `''` and NULL apart as DuckDB).
//! Each encoder writes into a buffer the caller drains after every batch,
//! so a file is never held whole in memory: what stays is the encoder's
//! own state (for Parquet, the row group being built).

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::json;
use datafusion::parquet::file::properties::WriterProperties;

use super::csv::CsvEncoder;
use super::json::{DuckArray, DuckJson};
use super::options::{CopyFormat, CopyOptions, TextCompression};
use super::parquet::ParquetEncoder;
use crate::error::Result;
/// The most bytes a Parquet column chunk's dictionary holds before its
/// values are written plain, as DuckDB 1.5.5 gives up a dictionary that
/// does not pay: arrow-rs's 1 MiB held a whole row group of unique
/// 8-byte values, so every such column was dictionary-encoded, a third
/// bigger than plain and twice as slow to write.
const DICTIONARY_BYTES: usize = 64 * 1024;

/// The bytes an encoder produced and the caller has not taken yet, gzip-
/// or zstd-compressed on the way in for CSV and JSON with COMPRESSION.
#[derive(Debug, Clone, Default)]
pub(crate) struct Output(Arc<Mutex<Buffer>>);

/// The buffer, behind its compressor if any.
#[derive(Default)]
pub(crate) enum Buffer {
    #[default]
    Empty,
    Plain(Vec<u8>),
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
    Zstd(zstd::stream::write::Encoder<'static, Vec<u8>>),
    /// zstd, one frame per chunk taken, compressed by the thread's one
    /// context ([`compress_frame`]): the text not yet taken, and whether
    /// a frame was made.
    ZstdFrames(Vec<u8>, bool),
}

thread_local! {
    /// The zstd context of the frames this thread compresses, reused.
    static FRAME_CONTEXT: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// `text` as one zstd frame (DuckDB's level, 3), with this thread's
/// context. A streaming context holds its window (2 MiB at level 3) and
/// tables for as long as its file is open, about 1.6 MB touched per open
/// file, 160 MB more than uncompressed for 100 open partitions; one frame
/// at a time, the context's memory is per thread, and sized to the frame.
fn compress_frame(text: &[u8]) -> std::io::Result<Vec<u8>> {
    FRAME_CONTEXT.with(|context| {
        let mut context = context.borrow_mut();
        let compressor = match &mut *context {
            Some(compressor) => compressor,
            empty => empty.insert(zstd::bulk::Compressor::new(
                zstd::DEFAULT_COMPRESSION_LEVEL,
            )?),
        };
        compressor.compress(text)
    })
}

impl std::fmt::Debug for Buffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Buffer::Empty | Buffer::Plain(_) => "Plain",
            Buffer::Gzip(_) => "Gzip",
            Buffer::Zstd(_) | Buffer::ZstdFrames(..) => "Zstd",
        })
    }
}

impl Output {
    /// An output compressing with `compression`.
    pub(crate) fn new(compression: TextCompression) -> std::io::Result<Self> {
        let buffer = match compression {
            TextCompression::None => Buffer::Plain(Vec::new()),
            TextCompression::Gzip => Buffer::Gzip(flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::default(),
            )),
            TextCompression::Zstd => Buffer::Zstd(zstd::stream::write::Encoder::new(
                Vec::new(),
                zstd::DEFAULT_COMPRESSION_LEVEL,
            )?),
        };
        Ok(Self(Arc::new(Mutex::new(buffer))))
    }

    /// An output of one of many files open at once (a partitioned COPY):
    /// as [`Output::new`], but zstd is one frame per chunk taken (a
    /// partition's write, 2,048 rows or 256 KiB of rows or more), so that
    /// no open file holds a compression context. The frames follow one
    /// another in the file, which zstd, DuckDB and s3sql read as one text.
    pub(crate) fn of_many(compression: TextCompression) -> std::io::Result<Self> {
        match compression {
            TextCompression::Zstd => Ok(Self(Arc::new(Mutex::new(Buffer::ZstdFrames(
                Vec::new(),
                false,
            ))))),
            other => Self::new(other),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Buffer> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends `bytes` (one lock for a whole batch's text).
    pub(crate) fn append(&self, bytes: &[u8]) -> std::io::Result<()> {
        match &mut *self.lock() {
            Buffer::Empty => Err(std::io::Error::other("write after the end of a file")),
            Buffer::Plain(v) | Buffer::ZstdFrames(v, _) => {
                v.extend_from_slice(bytes);
                Ok(())
            }
            Buffer::Gzip(e) => e.write_all(bytes),
            Buffer::Zstd(e) => e.write_all(bytes),
        }
    }

    /// Bytes allocated in the buffer (compressor's excluded).
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        match &*self.lock() {
            Buffer::Empty => 0,
            Buffer::Plain(v) | Buffer::ZstdFrames(v, _) => v.capacity(),
            Buffer::Gzip(e) => e.get_ref().capacity(),
            Buffer::Zstd(e) => e.get_ref().capacity(),
        }
    }

    /// Takes what was produced, leaving `spare` (emptied) in its place so
    /// its allocation is reused. An output [`Output::of_many`] with zstd
    /// gives its text only as frames ([`Output::take_frame`], [`Output::end`]):
    /// nothing here.
    pub(crate) fn take(&self, mut spare: Vec<u8>) -> Vec<u8> {
        spare.clear();
        match &mut *self.lock() {
            Buffer::Empty | Buffer::ZstdFrames(..) => Vec::new(),
            Buffer::Plain(v) => std::mem::replace(v, spare),
            Buffer::Gzip(e) => std::mem::replace(e.get_mut(), spare),
            Buffer::Zstd(e) => std::mem::replace(e.get_mut(), spare),
        }
    }

    /// As [`Output::take`], and the text of an output [`Output::of_many`]
    /// with zstd as one frame.
    pub(crate) fn take_frame(&self, spare: Vec<u8>) -> std::io::Result<Vec<u8>> {
        let mut buffer = self.lock();
        let Buffer::ZstdFrames(text, framed) = &mut *buffer else {
            drop(buffer);
            return Ok(self.take(spare));
        };
        if text.is_empty() {
            return Ok(spare);
        }
        let mut spare = spare;
        spare.clear();
        let text = std::mem::replace(text, spare);
        *framed = true;
        compress_frame(&text)
    }

    /// Ends the compressed stream (its last block and trailer) and takes
    /// what is left; no write may follow.
    pub(crate) fn end(&self) -> std::io::Result<Vec<u8>> {
        let buffer = std::mem::take(&mut *self.lock());
        match buffer {
            Buffer::Empty => Ok(Vec::new()),
            Buffer::Plain(v) => Ok(v),
            Buffer::Gzip(e) => e.finish(),
            Buffer::Zstd(e) => e.finish(),
            // An empty file is one empty frame, as a stream's would be.
            Buffer::ZstdFrames(text, framed) if text.is_empty() && framed => Ok(Vec::new()),
            Buffer::ZstdFrames(text, _) => compress_frame(&text),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.append(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One file's encoder.
pub(crate) enum Encoder {
    Parquet(Box<ParquetEncoder>),
    Csv(CsvEncoder),
    Json(json::LineDelimitedWriter<Output>, Arc<DuckJson>),
    /// One JSON array of objects.
    JsonArray(json::ArrayWriter<Output>, Arc<DuckJson>),
    /// One JSON array in DuckDB's layout (COPY's ARRAY).
    JsonDuckArray(json::Writer<Output, DuckArray>, Arc<DuckJson>),
}

impl Encoder {
    /// An encoder of `schema` in `options.format`, writing into `output`.
    pub(crate) fn new(schema: SchemaRef, options: &CopyOptions, output: Output) -> Result<Self> {
        Ok(match options.format {
            CopyFormat::Parquet => {
                let properties = WriterProperties::builder()
                    .set_compression(options.compression)
                    .set_max_row_group_row_count(Some(options.row_group_size))
                    .set_dictionary_page_size_limit(DICTIONARY_BYTES)
                    .build();
                Encoder::Parquet(Box::new(ParquetEncoder::new(
                    schema,
                    properties,
                    options.parquet_schema.as_deref().cloned(),
                    output,
                )?))
            }
            CopyFormat::Csv => Encoder::Csv(CsvEncoder::new(schema, options, output)?),
            CopyFormat::Json => {
                let factory = Arc::new(DuckJson::new(options));
                let builder = json::WriterBuilder::new()
                    // DuckDB writes `"col":null`, arrow leaves the key out by default.
                    .with_explicit_nulls(true)
                    .with_encoder_factory(factory.clone());
                if options.json_array && options.json_array_lines {
                    Encoder::JsonDuckArray(builder.build(output), factory)
                } else if options.json_array {
                    Encoder::JsonArray(builder.build(output), factory)
                } else {
                    Encoder::Json(builder.build(output), factory)
                }
            }
        })
    }

    /// Encodes one batch.
    pub(crate) async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        match self {
            Encoder::Parquet(w) => w.write(batch).await?,
            Encoder::Csv(w) => w.write(batch).await?,
            Encoder::Json(w, factory) => {
                w.write(&factory.formatted(batch)?)?;
                factory.check()?;
            }
            Encoder::JsonArray(w, factory) => {
                w.write(&factory.formatted(batch)?)?;
                factory.check()?;
            }
            Encoder::JsonDuckArray(w, factory) => {
                w.write(&factory.formatted(batch)?)?;
                factory.check()?;
            }
        }
        Ok(())
    }

    /// Whether this is Parquet's encoder, whose output comes only as row
    /// groups end.
    pub(crate) fn is_parquet(&self) -> bool {
        matches!(self, Encoder::Parquet(_))
    }

    /// Bytes held in the encoder: Parquet's row group being built (the
    /// text encoders hand everything over after each batch).
    pub(crate) fn memory_size(&self) -> usize {
        match self {
            Encoder::Parquet(w) => w.memory_size(),
            Encoder::Csv(_)
            | Encoder::Json(..)
            | Encoder::JsonArray(..)
            | Encoder::JsonDuckArray(..) => 0,
        }
    }

    /// Ends the row group being built (Parquet; nothing for text).
    pub(crate) async fn flush(&mut self) -> Result<()> {
        if let Encoder::Parquet(w) = self {
            w.flush().await?;
        }
        Ok(())
    }

    /// Writes what ends the file (Parquet's last row group and footer).
    pub(crate) async fn finish(self) -> Result<()> {
        match self {
            Encoder::Parquet(w) => w.finish().await?,
            Encoder::Csv(_) => {}
            Encoder::Json(mut w, _) => w.finish()?,
            // `[]` for no rows.
            Encoder::JsonArray(mut w, _) => w.finish()?,
            Encoder::JsonDuckArray(mut w, _) => w.finish()?,
        }
        Ok(())
    }
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Encoder::Parquet(_) => "Encoder::Parquet",
            Encoder::Csv(_) => "Encoder::Csv",
            Encoder::Json(..) => "Encoder::Json",
            Encoder::JsonArray(..) => "Encoder::JsonArray",
            Encoder::JsonDuckArray(..) => "Encoder::JsonDuckArray",
        })
    }
}

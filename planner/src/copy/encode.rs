//! [`Encoder`]: record batches to the bytes of one file, with arrow-rs's
//! writers (Parquet `ArrowWriter`, JSON `LineDelimitedWriter`) and our own
//! CSV writer ([`super::csv`], which keeps `''` and NULL apart as DuckDB).
//! Each encoder writes into a buffer the caller drains after every batch,
//! so a file is never held whole in memory: what stays is the encoder's
//! own state (for Parquet, the row group being built).

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::json;
use datafusion::error::DataFusionError;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::file::properties::WriterProperties;

use super::csv::CsvEncoder;
use super::options::{CopyFormat, CopyOptions, TextCompression};
use crate::error::Result;

/// DuckDB's text form of timestamps (a space, not arrow's `T`).
pub(crate) const TIMESTAMP_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.f";

/// Drops the trailing zeros of a timestamp's fraction of a second (and
/// the dot when nothing is left), as DuckDB prints timestamps:
/// `03:04:05.500` is `03:04:05.5`, `03:04:05.000` is `03:04:05`.
pub(crate) fn trim_fraction(text: &mut String) {
    let Some(dot) = text.find('.') else {
        return;
    };
    let digits = text[dot + 1..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    let end = dot + 1 + digits;
    let kept = text[dot + 1..end].trim_end_matches('0').len();
    let cut = if kept == 0 { dot } else { dot + 1 + kept };
    text.replace_range(cut..end, "");
}

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
}

impl std::fmt::Debug for Buffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Buffer::Empty | Buffer::Plain(_) => "Plain",
            Buffer::Gzip(_) => "Gzip",
            Buffer::Zstd(_) => "Zstd",
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

    fn lock(&self) -> MutexGuard<'_, Buffer> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends `bytes` (one lock for a whole batch's text).
    pub(crate) fn append(&self, bytes: &[u8]) -> std::io::Result<()> {
        match &mut *self.lock() {
            Buffer::Empty => Err(std::io::Error::other("write after the end of a file")),
            Buffer::Plain(v) => {
                v.extend_from_slice(bytes);
                Ok(())
            }
            Buffer::Gzip(e) => e.write_all(bytes),
            Buffer::Zstd(e) => e.write_all(bytes),
        }
    }

    /// Takes what was produced, leaving `spare` (emptied) in its place so
    /// its allocation is reused.
    pub(crate) fn take(&self, mut spare: Vec<u8>) -> Vec<u8> {
        spare.clear();
        match &mut *self.lock() {
            Buffer::Empty => Vec::new(),
            Buffer::Plain(v) => std::mem::replace(v, spare),
            Buffer::Gzip(e) => std::mem::replace(e.get_mut(), spare),
            Buffer::Zstd(e) => std::mem::replace(e.get_mut(), spare),
        }
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
    Parquet(Box<ArrowWriter<Output>>),
    Csv(CsvEncoder),
    Json(json::LineDelimitedWriter<Output>),
}

impl Encoder {
    /// An encoder of `schema` in `options.format`, writing into `output`.
    pub(crate) fn new(schema: SchemaRef, options: &CopyOptions, output: Output) -> Result<Self> {
        Ok(match options.format {
            CopyFormat::Parquet => {
                let properties = WriterProperties::builder()
                    .set_compression(options.compression)
                    .set_max_row_group_row_count(Some(options.row_group_size))
                    .build();
                Encoder::Parquet(Box::new(
                    ArrowWriter::try_new(output, schema, Some(properties))
                        .map_err(DataFusionError::from)?,
                ))
            }
            CopyFormat::Csv => Encoder::Csv(CsvEncoder::new(schema, options, output)),
            CopyFormat::Json => Encoder::Json(
                json::WriterBuilder::new()
                    // DuckDB writes `"col":null`, arrow leaves the key out by default.
                    .with_explicit_nulls(true)
                    .with_timestamp_format(TIMESTAMP_FORMAT.to_owned())
                    .with_datetime_format(TIMESTAMP_FORMAT.to_owned())
                    .build(output),
            ),
        })
    }

    /// Encodes one batch.
    pub(crate) fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        match self {
            Encoder::Parquet(w) => w.write(batch).map_err(DataFusionError::from)?,
            Encoder::Csv(w) => w.write(batch)?,
            Encoder::Json(w) => w.write(batch)?,
        }
        Ok(())
    }

    /// Writes what ends the file (Parquet's last row group and footer).
    pub(crate) fn finish(self) -> Result<()> {
        match self {
            Encoder::Parquet(w) => {
                w.close().map_err(DataFusionError::from)?;
            }
            Encoder::Csv(_) => {}
            Encoder::Json(mut w) => w.finish()?,
        }
        Ok(())
    }
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Encoder::Parquet(_) => "Encoder::Parquet",
            Encoder::Csv(_) => "Encoder::Csv",
            Encoder::Json(_) => "Encoder::Json",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::trim_fraction;

    #[test]
    fn fractions_lose_their_trailing_zeros() {
        for (given, expected) in [
            ("2024-01-02 03:04:05.500", "2024-01-02 03:04:05.5"),
            ("2024-01-02 03:04:05.000", "2024-01-02 03:04:05"),
            ("2024-01-02 03:04:05.123456", "2024-01-02 03:04:05.123456"),
            (
                "2024-01-02 03:04:05.120+00:00",
                "2024-01-02 03:04:05.12+00:00",
            ),
            ("2024-01-02 03:04:05", "2024-01-02 03:04:05"),
        ] {
            let mut text = given.to_owned();
            trim_fraction(&mut text);
            assert_eq!(text, expected);
        }
    }
}

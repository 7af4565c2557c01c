//! CSV files sniffed one by one, as DuckDB 1.5.5 sniffs the files of a
//! glob: each from its own sample (its first MiB by one ranged GET, and
//! up to [`CSV_SAMPLE_BYTES`] by a second when that ran short:
//! [`CsvSampler::sniff_object`]), its dialect unless the user's options fix it,
//! then its column types from DuckDB's 20,480-row sample. A scan's types
//! are the first `files_to_sniff` files' (10 by default) widened column by
//! column (`widen_by_position`), so a value of a later file that the
//! first file's types cannot hold (`zz` where the first day's export had
//! only numbers) makes the column wider instead of failing the read
//! (review-8e #2); with `union_by_name` every file is sniffed so for its
//! own columns. Each sniffed file is then read in its own delimiter,
//! quote, escape and comment ([`FileDialects`]; review-8e #1); a file past
//! the first `files_to_sniff` has its dialect sniffed when the scan opens
//! it, from the start of the read it is ([`CsvSampler::options_of_text`];
//! review-s23 F5), as DuckDB sniffs each file's: no GET more.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::config::CsvOptions;
use datafusion::execution::object_store::ObjectStoreUrl;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};
use s3sql_formats::{
    CSV_SAMPLE_BYTES, Compression, CsvDialect, DUCKDB_SAMPLE_SIZE, ReadOptions, SampleEnd,
    decompress_sample, detect_from_path, sample_schema_rows, sniff_csv_sample, sniff_csv_with_hint,
};

use crate::error::Result;
use crate::scan::format::sample;
use crate::scan::in_file;
use crate::scan::union_schema::wider;

/// Samples read at once while sniffing several files.
const SAMPLES_IN_FLIGHT: usize = 8;

/// The bytes first read of a CSV file to sniff: DuckDB's 20,480 rows when
/// they average under ~50 bytes.
const FIRST_SAMPLE_BYTES: u64 = 1 << 20;

/// One CSV file's dialect and columns, sniffed from its own sample.
pub(crate) struct FileSniff {
    /// Its delimiter, quote, escape, header and comment.
    pub dialect: CsvDialect,
    /// Its columns; `Null` where its sample holds no value.
    pub types: Schema,
}

/// A file to sniff: where it is, its metadata and name, how it is compressed.
pub(crate) struct SampleFile {
    /// The URL its store is registered under (one per bucket and secret).
    pub url: ObjectStoreUrl,
    /// The store holding it.
    pub store: Arc<dyn ObjectStore>,
    /// Its listing entry.
    pub meta: ObjectMeta,
    /// Its name as the user wrote it.
    pub name: String,
    /// How its bytes are compressed.
    pub compression: Compression,
}

/// The dialect each sniffed file was found in, by its store's URL and its
/// location in that store: noted while planning, read by the opener
/// (shared by both). A location alone is a key within one bucket: the
/// same key in two buckets was read in one file's dialect (review-s23 F6).
#[derive(Debug, Clone, Default)]
pub(crate) struct FileDialects(Arc<RwLock<HashMap<(ObjectStoreUrl, Path), CsvDialect>>>);

impl FileDialects {
    /// Notes that the file at `location` of `store` is in `dialect`.
    pub(crate) fn note(&self, store: &ObjectStoreUrl, location: &Path, dialect: CsvDialect) {
        let mut map = self.0.write().unwrap_or_else(PoisonError::into_inner);
        map.insert((store.clone(), location.clone()), dialect);
    }

    /// `scan`'s options in the delimiter, quote, escape and comment the
    /// file at `location` of `store` was sniffed in; `None` when it was not.
    pub(crate) fn options(
        &self,
        store: &ObjectStoreUrl,
        location: &Path,
        scan: &CsvOptions,
    ) -> Option<CsvOptions> {
        let map = self.0.read().unwrap_or_else(PoisonError::into_inner);
        map.get(&(store.clone(), location.clone()))
            .map(|dialect| in_dialect(scan, dialect))
    }

    /// Whether some file's dialect differs from `scan`'s.
    pub(crate) fn any_differs(&self, scan: &CsvOptions) -> bool {
        let map = self.0.read().unwrap_or_else(PoisonError::into_inner);
        map.values()
            .any(|dialect| in_dialect(scan, dialect) != *scan)
    }
}

/// `scan` with `dialect`'s delimiter, quote, escape and comment (the
/// header is the scan's: each file's is matched to the first's by name).
fn in_dialect(scan: &CsvOptions, dialect: &CsvDialect) -> CsvOptions {
    let mut own = scan.clone();
    own.delimiter = dialect.delimiter;
    // No quote where the user turned quoting off, or where no quote splits
    // this file as well as none does.
    own.quote = dialect.quote_byte();
    own.escape = dialect.escape;
    own.comment = dialect.comment;
    own
}

/// The delimiter a file's name implies (a tab for `.tsv`).
fn delimiter_hint(name: &str) -> Option<u8> {
    detect_from_path(name).and_then(|d| d.delimiter_hint)
}

/// Sniffs CSV files in a scan's options.
#[derive(Debug)]
pub(crate) struct CsvSampler {
    options: ReadOptions,
    /// Where each file sniffed by [`Self::sniff`] notes its dialect.
    dialects: FileDialects,
}

impl CsvSampler {
    /// A sampler honouring what `options` fix.
    pub(crate) fn new(options: ReadOptions) -> Self {
        Self {
            options,
            dialects: FileDialects::default(),
        }
    }

    /// The dialects of the files [`Self::sniff`] sniffs.
    pub(crate) fn dialects(&self) -> FileDialects {
        self.dialects.clone()
    }

    /// The dialect and columns of `text`, the decompressed start of the
    /// file named `name` (a `.tsv` name hints a tab), ending where `end` says.
    pub(crate) fn sniff_text(&self, text: &[u8], name: &str, end: SampleEnd) -> Result<FileSniff> {
        Ok(self.sniff_counted(text, name, end)?.0)
    }

    /// [`Self::sniff_text`], and whether `text` sufficed: the sniffer's
    /// every deciding candidate and the type inference's `sample_size`
    /// rows ended within it, so more of the file would change nothing.
    fn sniff_counted(&self, text: &[u8], name: &str, end: SampleEnd) -> Result<(FileSniff, bool)> {
        let named = |e: s3sql_formats::FormatError| in_file(e.into(), name);
        let (dialect, dialect_sufficed) =
            sniff_csv_sample(text, &self.options, delimiter_hint(name), end).map_err(named)?;
        let (types, rows) =
            sample_schema_rows(text, &dialect, &self.options, end).map_err(named)?;
        let wanted = self.options.sample_size.unwrap_or(DUCKDB_SAMPLE_SIZE);
        let sufficed = dialect_sufficed && rows >= wanted;
        Ok((FileSniff { dialect, types }, sufficed))
    }

    /// The dialect of `text`, the decompressed start of the file named
    /// `name` (a `.tsv` name hints a tab): the whole file when shorter than
    /// [`CSV_SAMPLE_BYTES`], as the opener reads it.
    fn dialect(&self, text: &[u8], name: &str) -> Result<CsvDialect> {
        let end = match text.len() < CSV_SAMPLE_BYTES {
            true => SampleEnd::File,
            false => SampleEnd::Cut,
        };
        sniff_csv_with_hint(text, &self.options, delimiter_hint(name), end)
            .map_err(|e| in_file(e.into(), name))
    }

    /// `scan`'s options in the dialect of `text`, the decompressed start of
    /// a file named `name` that was not sniffed while planning (a file past
    /// the first `files_to_sniff`: DuckDB sniffs each file's dialect).
    pub(crate) fn options_of_text(
        &self,
        scan: &CsvOptions,
        text: &[u8],
        name: &str,
    ) -> Result<CsvOptions> {
        Ok(in_dialect(scan, &self.dialect(text, name)?))
    }

    /// The decompressed start of the file at `meta` (named `name`) and
    /// what it sniffs as, read in at most two ranged GETs: its first
    /// [`FIRST_SAMPLE_BYTES`], and the rest of [`CSV_SAMPLE_BYTES`] only when
    /// the sniff of those ran short ([`Self::sniff_counted`]) or failed
    /// (a quoted line break cut by the sample's end). Reading 8 MiB for a
    /// file of short rows was half the time a 1M-row CSV query spent
    /// planning.
    pub(crate) async fn sniff_object(
        &self,
        store: &Arc<dyn ObjectStore>,
        meta: &ObjectMeta,
        compression: Compression,
        name: &str,
    ) -> Result<(Vec<u8>, FileSniff)> {
        let decompressed = |raw: &[u8]| -> Result<Vec<u8>> {
            Ok(decompress_sample(raw, compression)
                .map_err(|e| in_file(e.into(), name))?
                .into_owned())
        };
        // The text is the file's when the bytes are and it was not capped.
        let sample_end = |raw: usize, text: &[u8]| match raw as u64 == meta.size
            && (compression == Compression::Uncompressed || text.len() < CSV_SAMPLE_BYTES)
        {
            true => SampleEnd::File,
            false => SampleEnd::Cut,
        };
        let first = sample(store, meta, FIRST_SAMPLE_BYTES)
            .await
            .map_err(|e| in_file(e, name))?;
        let text = decompressed(&first)?;
        let sniffed = self.sniff_counted(&text, name, sample_end(first.len(), &text));
        if meta.size <= FIRST_SAMPLE_BYTES {
            return Ok((text, sniffed?.0));
        }
        if let Ok((sniffed, true)) = sniffed {
            return Ok((text, sniffed));
        }
        let end = meta.size.min(CSV_SAMPLE_BYTES as u64);
        let rest = store
            .get_range(&meta.location, FIRST_SAMPLE_BYTES..end)
            .await
            .map_err(|e| in_file(datafusion::error::DataFusionError::from(e).into(), name))?;
        let raw = [first, rest].concat();
        let text = decompressed(&raw)?;
        let sniffed = self.sniff_text(&text, name, sample_end(raw.len(), &text))?;
        Ok((text, sniffed))
    }

    /// [`Self::sniff_text`] of `file`'s sample, its dialect noted.
    pub(crate) async fn sniff(&self, file: &SampleFile) -> Result<FileSniff> {
        let (_, sniffed) = self
            .sniff_object(&file.store, &file.meta, file.compression, &file.name)
            .await?;
        self.dialects
            .note(&file.url, &file.meta.location, sniffed.dialect.clone());
        Ok(sniffed)
    }

    /// `first`'s columns widened by the columns of each of `others`, each
    /// sniffed from its own sample, several at once.
    pub(crate) async fn widen(&self, first: Schema, others: Vec<SampleFile>) -> Result<Schema> {
        let reads = others
            .into_iter()
            .map(|file| async move { self.sniff(&file).await.map(|sniffed| sniffed.types) });
        let types: Vec<Schema> = futures::stream::iter(reads)
            .buffered(SAMPLES_IN_FLIGHT)
            .try_collect()
            .await?;
        let null_padding = self.options.null_padding;
        Ok(types.iter().fold(first, |wide, theirs| {
            widen_by_position(&wide, theirs, null_padding)
        }))
    }
}

/// `first`'s columns, each widened to hold the column at its position in
/// `other`, named as in `first`, as DuckDB merges the schemas of a glob's
/// sniffed CSV files (by position; the files are then read by their
/// header's names): as [`wider`] widens a glob's columns by name
/// (timestamps of one zone are TIMESTAMP whatever their digits, once
/// `csv_schema` makes them µs), except that a DATE beside a TIMESTAMP is
/// VARCHAR here, as in DuckDB; with `null_padding`, `other`'s columns past
/// `first`'s are added.
fn widen_by_position(first: &Schema, other: &Schema, null_padding: bool) -> Schema {
    let widen = |a: &DataType, b: &DataType| match (a, b) {
        (DataType::Date32, DataType::Timestamp(..))
        | (DataType::Timestamp(..), DataType::Date32) => DataType::Utf8,
        _ => wider(a, b),
    };
    let mut fields: Vec<Field> = first
        .fields()
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let mine = field.as_ref().clone();
            match other.fields().get(i) {
                Some(theirs) => mine.with_data_type(widen(field.data_type(), theirs.data_type())),
                None => mine,
            }
        })
        .collect();
    if null_padding {
        let extra = other.fields().iter().skip(fields.len());
        fields.extend(extra.map(|f| f.as_ref().clone()));
    }
    Schema::new(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::TimeUnit;

    fn schema(columns: &[(&str, DataType)]) -> Schema {
        Schema::new(
            columns
                .iter()
                .map(|(name, t)| Field::new(*name, t.clone(), true))
                .collect::<Vec<_>>(),
        )
    }

    /// Each pair as DuckDB 1.5.5 types two one-row CSV files read together.
    #[test]
    fn columns_widen_by_position_as_duckdb_merges_two_files() {
        use DataType::*;
        let ts = |unit| Timestamp(unit, None);
        let zoned = Timestamp(TimeUnit::Second, Some("UTC".into()));
        let cases = [
            (Int64, Float64, Float64),
            (Int64, Utf8, Utf8),
            (Null, Int64, Int64),
            (Int64, Null, Int64),
            (Boolean, Int64, Utf8),
            (Int64, Date32, Utf8),
            (Date32, ts(TimeUnit::Second), Utf8),
            (
                ts(TimeUnit::Second),
                ts(TimeUnit::Millisecond),
                ts(TimeUnit::Millisecond),
            ),
            (ts(TimeUnit::Second), zoned, Utf8),
        ];
        for (a, b, wide) in cases {
            let merged = widen_by_position(
                &schema(&[("x", a.clone())]),
                &schema(&[("y", b.clone())]),
                false,
            );
            assert_eq!(merged, schema(&[("x", wide)]), "{a} beside {b}");
        }
        let first = schema(&[("a", Int64), ("b", Null)]);
        let other = schema(&[("x", Utf8), ("y", Int64), ("z", Boolean)]);
        let wide = widen_by_position(&first, &other, false);
        assert_eq!(wide, schema(&[("a", Utf8), ("b", Int64)]));
        let padded = widen_by_position(&first, &other, true);
        assert_eq!(padded.field(2).name(), "z");
    }
}

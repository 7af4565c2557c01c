//! Which DataFusion `FileFormat` reads a scan, decided by `s3sql_formats`:
//! the format from the function, the file name or the first bytes; DuckDB's
//! reader options parsed into typed keys; CSV dialects sniffed and JSON
//! layouts told from a range read of the first file's start; the schema
//! DataFusion infers then reshaped by `names`, `columns` and `types`.

use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::datatypes::Schema;
use datafusion::common::config::{CsvOptions, JsonOptions, TableParquetOptions};
use datafusion::datasource::file_format::FileFormat as DataFusionFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::json::JsonFormat as DataFusionJson;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::RuntimeEnv;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};
use s3sql_formats::{
    Compression, DUCKDB_SAMPLE_SIZE, EmptyLines, FileFormat, JsonFormat, ReadOptions,
    compression_from_path, csv_options, csv_schema, decompress_prefix, detect_from_bytes,
    detect_from_path, first_record_end, infer_json, is_json_column, json_options, json_schema,
    skip_lines, sniff_json_format, strip_bom, whole_json_records,
};

use regex::Regex;

use crate::error::{PlannerError, Result};
use crate::scan::ScanFile;
use crate::scan::csv_opener::{CsvExtras, FirstHeader, header_names};
use crate::scan::csv_sniff::{CsvSampler, FileSniff, SampleFile};
use crate::scan::request::{ScanKind, ScanRequest};

/// The first ranged GET of a JSON file's start, which tells its layout
/// (array, newline-delimited) and starts its schema's sample.
const JSON_SAMPLE_BYTES: u64 = 1 << 20;

/// The most of a JSON file's start read (and held in memory) for its
/// schema: 20,480 records of up to ~3 KiB. When `sample_size` records
/// need more, DataFusion's inference reads them (without JSON columns).
const JSON_SAMPLE_MAX_BYTES: u64 = 64 << 20;

/// The start of a JSON file read for its schema.
struct JsonSample {
    /// Decompressed.
    text: Vec<u8>,
    /// Whether `text` is the whole file's.
    whole: bool,
    /// Whether `text` holds the `sample_size` records (or is the file).
    enough: bool,
}

/// The start of JSON file `first` that holds its first `records` records,
/// DuckDB's `sample_size` (20,480 by default), or the whole file, however
/// many bytes they take (review-s26 F1: a 1 MiB sample left out the keys
/// and types of the records past it). Ranged GETs: 1 MiB, then as many
/// bytes more as the records so far say the rest need (an eighth more), at
/// least doubling, up to [`JSON_SAMPLE_MAX_BYTES`].
async fn json_sample(
    store: &Arc<dyn ObjectStore>,
    first: &ObjectMeta,
    compression: Compression,
    records: usize,
    name: &str,
) -> Result<JsonSample> {
    let mut raw = sample(store, first, JSON_SAMPLE_BYTES).await?;
    loop {
        let text = decompress_prefix(&raw, compression, JSON_SAMPLE_MAX_BYTES as usize)
            .map_err(|e| super::in_file(e.into(), name))?
            .into_owned();
        let len = raw.len() as u64;
        // The text stops at the cap however much of the file was read.
        let cut = text.len() >= JSON_SAMPLE_MAX_BYTES as usize;
        let whole = len == first.size && !cut;
        let held = match whole {
            true => records,
            false => whole_json_records(strip_bom(&text), records),
        };
        let enough = held >= records;
        if enough || cut || len >= first.size.min(JSON_SAMPLE_MAX_BYTES) {
            return Ok(JsonSample {
                text,
                whole,
                enough,
            });
        }
        // Bytes a record so far, times the records wanted, an eighth more.
        let wanted = match held {
            0 => 0,
            _ => {
                (len as u128 * records as u128 / held as u128 * 9 / 8).min(u64::MAX as u128) as u64
            }
        };
        let end = wanted
            .max(2 * len)
            .min(JSON_SAMPLE_MAX_BYTES)
            .min(first.size);
        let more = store
            .get_range(&first.location, len..end)
            .await
            .map_err(datafusion::error::DataFusionError::from)?;
        let mut joined = Vec::with_capacity(end as usize);
        joined.extend_from_slice(&raw);
        joined.extend_from_slice(&more);
        raw = Bytes::from(joined);
    }
}

/// The first `len` bytes of the first file (one ranged GET).
pub(crate) async fn sample(
    store: &Arc<dyn ObjectStore>,
    first: &ObjectMeta,
    len: u64,
) -> Result<Bytes> {
    let end = first.size.min(len);
    if end == 0 {
        return Ok(Bytes::new());
    }
    Ok(store
        .get_range(&first.location, 0..end)
        .await
        .map_err(datafusion::error::DataFusionError::from)?)
}

/// The header of a CSV `sample` read with `csv`: its first record after
/// the first `skip` lines (a quoted line break and a lone `\r` read as the
/// decoder reads them).
fn header_record<'a>(sample: &'a [u8], skip: u64, csv: &CsvOptions) -> &'a [u8] {
    let rest = skip_lines(sample, skip);
    &rest[..first_record_end(rest, csv, true).unwrap_or(rest.len())]
}

/// The schema of newline-delimited JSON from the sample's first `records`
/// complete lines (all of it when `whole` is the file); `None` when it
/// holds no complete line, or fewer than a `sample_size` the user asked
/// for, to let DataFusion read further.
fn ndjson_schema(sample: &[u8], whole: bool, records: Option<usize>) -> Result<Option<Schema>> {
    // A byte order mark before the first record, as the reader skips it.
    let sample = strip_bom(sample);
    let end = if whole {
        sample.len()
    } else {
        match sample.iter().rposition(|&b| b == b'\n') {
            Some(at) => at + 1,
            None => return Ok(None),
        }
    };
    let lines = sample[..end].iter().filter(|&&b| b == b'\n').count();
    if !whole && records.is_some_and(|r| r > lines) {
        return Ok(None);
    }
    let records = records.unwrap_or(DUCKDB_SAMPLE_SIZE);
    Ok(infer_json(&sample[..end], records, true)?)
}

/// DataFusion's format for each file of a scan: CSV and JSON files are
/// decompressed by their own names (`a.csv` beside `b.csv.gz`, as DuckDB
/// reads them), unless the user's `compression` names one for all.
pub(crate) struct Formats {
    kind: FormatKind,
    /// The user's `compression`.
    compression: Option<Compression>,
}

enum FormatKind {
    Csv(CsvOptions),
    /// JSON files, and their layout.
    Json(JsonOptions, JsonFormat),
    Parquet(Arc<ParquetFormat>),
}

impl Formats {
    /// How file `name` is compressed.
    pub(crate) fn compression(&self, name: &str) -> Compression {
        self.compression
            .unwrap_or_else(|| compression_from_path(name))
    }

    /// Whether the files are read only whole, never in byte ranges: JSON
    /// arrays (DataFusion reads no range of one), values laid out over
    /// lines, and files with JSON columns (their text is rewritten,
    /// `decoded_text`).
    pub(crate) fn read_whole(&self, file_schema: &Schema) -> bool {
        match &self.kind {
            FormatKind::Json(_, layout) => {
                *layout != JsonFormat::NewlineDelimited
                    || file_schema.fields().iter().any(|f| is_json_column(f))
            }
            _ => false,
        }
    }

    /// Whether the files are Parquet.
    pub(crate) fn is_parquet(&self) -> bool {
        matches!(self.kind, FormatKind::Parquet(_))
    }

    /// The format reading files compressed with `compression`.
    pub(crate) fn format(&self, compression: Compression) -> Arc<dyn DataFusionFormat> {
        match &self.kind {
            FormatKind::Csv(options) => {
                let mut options = options.clone();
                options.compression = compression.variant();
                Arc::new(CsvFormat::default().with_options(options))
            }
            FormatKind::Json(options, _) => {
                let mut options = options.clone();
                options.compression = compression.variant();
                Arc::new(DataFusionJson::default().with_options(options))
            }
            FormatKind::Parquet(format) => Arc::clone(format) as _,
        }
    }

    /// [`Self::format`], reading a Parquet footer for a schema by a
    /// [`FOOTER_HINT`] suffix (the scan's 512 KiB one would read most of
    /// a small file, which the scan then reads whole again).
    pub(crate) fn footer_format(&self, compression: Compression) -> Arc<dyn DataFusionFormat> {
        match &self.kind {
            FormatKind::Parquet(format) => {
                let mut options = format.options().clone();
                options.global.metadata_size_hint = Some(FOOTER_HINT);
                Arc::new(ParquetFormat::default().with_options(options))
            }
            _ => self.format(compression),
        }
    }
}

/// Bytes read from a Parquet file's end for its schema alone: most footers
/// fit; a larger one costs a second read.
const FOOTER_HINT: usize = 64 * 1024;

/// How a scan reads: DataFusion's formats and what becomes of the schema they infer.
pub(crate) struct ScanFormat {
    /// The formats whose `infer_schema` and source read the files.
    pub formats: Formats,
    /// Reshapes the inferred schema by the user's options.
    pub shape: SchemaShape,
    /// The schema when the sample fixes it (CSV, unless every file's schema
    /// is needed for `union_by_name`); `None`: inferred from the files.
    pub sampled: Option<Schema>,
    /// What DataFusion's CSV reader would drop (`nullstr`, `skip`).
    pub csv: Option<Arc<CsvExtras>>,
    /// CSV with `union_by_name`: each file's dialect and schema from its own sample.
    pub per_file: Option<CsvSampler>,
}

/// What the user's options do to an inferred schema.
pub(crate) enum SchemaShape {
    /// CSV: DuckDB's names for header-less columns, then `names`, `columns`, `types`.
    Csv {
        options: Box<ReadOptions>,
        has_header: bool,
    },
    /// JSON: `columns`, when given, is the schema.
    Json(Box<ReadOptions>),
    /// Parquet: the file's own schema.
    AsInferred,
}

impl SchemaShape {
    /// The schema to read with, from the one DataFusion inferred.
    pub(crate) fn apply(&self, inferred: Schema) -> Result<Schema> {
        Ok(match self {
            SchemaShape::Csv {
                options,
                has_header,
            } => csv_schema(&inferred, options, *has_header)?,
            SchemaShape::Json(options) => json_schema(&inferred, options),
            SchemaShape::AsInferred => inferred,
        })
    }
}

/// The DataFusion formats reading `request`, whose dialect, layout and
/// (CSV, NDJSON) schema come from file `first` of `files` (the first that
/// is not empty), a CSV's types also from the next files' samples.
pub(super) async fn file_format(
    request: &ScanRequest,
    runtime: &RuntimeEnv,
    files: &[(ObjectStoreUrl, ScanFile)],
    first: &(ObjectStoreUrl, ScanFile),
) -> Result<ScanFormat> {
    let (first_store, first_file) = first;
    let (first_name, first) = (first_file.name.as_str(), &first_file.meta);
    let store = &runtime.object_store(first_store)?;
    let from_path = detect_from_path(first_name);
    let format = match (&request.kind, &from_path) {
        (ScanKind::Files(Some(format)), _) => *format,
        (_, Some(detected)) => detected.format,
        _ => detect_from_bytes(&sample(store, first, 4096).await?)
            .map(|d| d.format)
            .ok_or_else(|| PlannerError::UnknownFormat {
                url: first_name.to_owned(),
            })?,
    };
    let options = ReadOptions::parse(format, request.options.clone())?;
    let forced = options.compression;
    let compression = forced.unwrap_or_else(|| compression_from_path(first_name));
    Ok(match format {
        FileFormat::Csv => {
            let named = |e: PlannerError| super::in_file(e, first_name);
            let sampler = CsvSampler::new(options.clone());
            let (text, FileSniff { mut dialect, types }) = sampler
                .sniff_object(store, first, compression, first_name)
                .await?;
            let union_by_name = request.flag("union_by_name")?.unwrap_or(false);
            // Several files with headers: each file's columns are matched to
            // the first's by name (DuckDB's rule), so each is read whole.
            // Otherwise a file may be split into byte ranges even with
            // quoted line breaks, in the sample or past it: each range is
            // moved to record starts before it is read (`csv_ranges`).
            let by_header = dialect.has_header && files.len() > 1 && !union_by_name;
            // The samples give the schema arrow would infer from the same
            // first records, so no file is read a second time for it: the
            // first file's, widened by the next `files_to_sniff` files';
            // union_by_name needs every file's, each from its own sample.
            let dialects = sampler.dialects();
            dialects.note(first_store, &first.location, dialect.clone());
            // Files past the first `files_to_sniff` are sniffed for their
            // dialect when they are opened (`CsvExtras::late`).
            let sniffed_late = !union_by_name
                && files.iter().filter(|(_, f)| f.meta.size > 0).count() > options.files_to_sniff;
            let (sampled, per_file, late) = if union_by_name {
                (None, Some(sampler), None)
            } else {
                let others = files
                    .iter()
                    .filter(|(_, f)| f.meta.size > 0 && !std::ptr::eq(f, first_file))
                    .take(options.files_to_sniff.saturating_sub(1))
                    .map(|(store, f)| {
                        Ok(SampleFile {
                            url: store.clone(),
                            store: runtime.object_store(store)?,
                            meta: f.meta.clone(),
                            name: f.name.clone(),
                            compression: forced.unwrap_or_else(|| compression_from_path(&f.name)),
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let sampled = sampler.widen(types, others).await?;
                (Some(sampled), None, sniffed_late.then(|| Arc::new(sampler)))
            };
            // One column: empty lines are NULL values, marked by the
            // planner's reader before the decoder (the file read whole).
            let one_column = sampled.as_ref().is_some_and(|s| s.fields().len() == 1);
            dialect.newlines_in_values = by_header || one_column;
            let mut csv = csv_options(&dialect, &options, compression)?;
            // Files sniffed in another dialect, or to be sniffed when
            // opened, are read by the planner's reader, whole, as for the
            // cases above.
            if dialects.any_differs(&csv) || late.is_some() {
                csv.newlines_in_values = Some(true);
            }
            let one_column = one_column && EmptyLines::new(&csv).is_some();
            let first_header = match by_header {
                true => Some(FirstHeader {
                    file: first_name.to_owned(),
                    names: header_names(&csv, header_record(strip_bom(&text), options.skip, &csv))
                        .map_err(|e| named(e.into()))?,
                }),
                false => None,
            };
            let null_regex = csv
                .null_regex
                .as_deref()
                .map(Regex::new)
                .transpose()
                .map_err(|e| PlannerError::argument(&request.function, format!("nullstr: {e}")))?;
            let extras = CsvExtras {
                null_regex,
                skip: options.skip,
                ignore_errors: options.ignore_errors,
                temporal: options.temporal_formats(),
                union_by_name,
                first_header,
                one_column,
                options: csv.clone(),
                dialects,
                late,
            };
            ScanFormat {
                formats: Formats {
                    kind: FormatKind::Csv(csv),
                    compression: forced,
                },
                shape: SchemaShape::Csv {
                    options: Box::new(options),
                    has_header: dialect.has_header,
                },
                sampled,
                csv: Some(Arc::new(extras)),
                per_file,
            }
        }
        FileFormat::Json => {
            let records = options.sample_size.unwrap_or(DUCKDB_SAMPLE_SIZE);
            let JsonSample {
                text,
                whole,
                enough,
            } = json_sample(store, first, compression, records, first_name).await?;
            let layout = sniff_json_format(&text, &options);
            let options = ReadOptions {
                json_format: layout,
                ..options
            };
            let json = json_options(&options, compression)?;
            // DataFusion's inference reads the whole first object into
            // memory; the sample's whole lines give the same schema.
            let union_by_name = request.flag("union_by_name")?.unwrap_or(false);
            let json_sample = |text: &[u8], whole: bool| {
                infer_json(strip_bom(text), records, whole)
                    .map_err(|e| super::in_file(e.into(), first_name))
            };
            // The sample holds the `sample_size` records (or the file):
            // their schema, with JSON columns found among them (DataFusion's
            // inference reads the whole of an array into memory, for a
            // DESCRIBE or a LIMIT 2 too). When they need more than
            // JSON_SAMPLE_MAX_BYTES, DataFusion's inference types them.
            let sampled = match (layout, union_by_name) {
                (_, true) => None,
                _ if !enough => None,
                (JsonFormat::NewlineDelimited, false) => {
                    ndjson_schema(&text, whole, options.sample_size)
                        .map_err(|e| super::in_file(e, first_name))?
                }
                _ => json_sample(&text, whole)?,
            };
            ScanFormat {
                formats: Formats {
                    kind: FormatKind::Json(json, layout),
                    compression: forced,
                },
                shape: SchemaShape::Json(Box::new(options)),
                sampled,
                csv: None,
                per_file: None,
            }
        }
        // Parquet (`FileFormat` is non-exhaustive).
        _ => {
            let mut parquet = TableParquetOptions::default();
            parquet.global.binary_as_string = options.binary_as_string;
            // Columns keep their extension types (UUID, JSON); `infer_schema`
            // drops every other piece of metadata itself.
            parquet.global.skip_metadata = false;
            ScanFormat {
                formats: Formats {
                    kind: FormatKind::Parquet(Arc::new(
                        ParquetFormat::default().with_options(parquet),
                    )),
                    compression: None,
                },
                shape: SchemaShape::AsInferred,
                sampled: None,
                csv: None,
                per_file: None,
            }
        }
    })
}

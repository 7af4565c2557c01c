//! Which DataFusion `FileFormat` reads a scan: the format from the function
//! or the file name, and DuckDB's reader options mapped onto it. This is the
//! one place that knows formats, so moving to `s3sql_formats` (sniffing,
//! every DuckDB option) changes only this file.

use std::sync::Arc;

use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;

use crate::error::{PlannerError, Result};
use crate::scan::request::{OptionValue, ScanRequest};

/// The file formats a scan reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    /// Apache Parquet.
    Parquet,
    /// Comma- (or tab-) separated values.
    Csv,
    /// JSON, newline-delimited.
    Json,
}

/// Options every reader takes, handled by the scan itself.
pub(crate) const SCAN_OPTIONS: [&str; 4] = [
    "filename",
    "hive_partitioning",
    "hive_types",
    "union_by_name",
];

/// The format and compression a file name implies, case-insensitively:
/// `.parquet`, `.csv`, `.tsv`, `.json`, `.jsonl`, `.ndjson`, each maybe
/// followed by `.gz` or `.zst`.
pub(crate) fn kind_from_path(path: &str) -> Option<(FileKind, FileCompressionType, u8)> {
    let lower = path.to_ascii_lowercase();
    let (stem, compression) = if let Some(s) = lower.strip_suffix(".gz") {
        (s, FileCompressionType::GZIP)
    } else if let Some(s) = lower.strip_suffix(".zst") {
        (s, FileCompressionType::ZSTD)
    } else {
        (lower.as_str(), FileCompressionType::UNCOMPRESSED)
    };
    let extension = stem.rsplit_once('.')?.1;
    let (kind, delimiter) = match extension {
        "parquet" => (FileKind::Parquet, b','),
        "csv" => (FileKind::Csv, b','),
        "tsv" => (FileKind::Csv, b'\t'),
        "json" | "jsonl" | "ndjson" => (FileKind::Json, b','),
        _ => return None,
    };
    Some((kind, compression, delimiter))
}

/// The DataFusion format reading `request`, whose first file is `first`.
pub(crate) fn file_format(request: &ScanRequest, first: &str) -> Result<Arc<dyn FileFormat>> {
    let from_path = kind_from_path(first);
    let kind = match (&request.kind, from_path) {
        (super::request::ScanKind::Files(Some(kind)), _) => *kind,
        (_, Some((kind, _, _))) => kind,
        _ => {
            return Err(PlannerError::UnknownFormat {
                url: first.to_owned(),
            });
        }
    };
    let (compression, path_delimiter) = match from_path {
        Some((_, compression, delimiter)) => (compression, delimiter),
        None => (FileCompressionType::UNCOMPRESSED, b','),
    };
    let mut delimiter = path_delimiter;
    let mut header = true;
    for (name, value) in &request.options {
        match (kind, name.as_str(), value) {
            (_, n, _) if SCAN_OPTIONS.contains(&n) => {}
            (FileKind::Csv, "delim" | "sep" | "delimiter", OptionValue::Str(s)) => {
                delimiter = single_byte(&request.function, name, s)?;
            }
            (FileKind::Csv, "header", OptionValue::Bool(b)) => header = *b,
            _ => {
                return Err(PlannerError::argument(
                    &request.function,
                    format!(
                        "unknown option '{name}' (or a value of the wrong type); accepted: {}",
                        accepted(kind).join(", ")
                    ),
                ));
            }
        }
    }
    Ok(match kind {
        FileKind::Parquet => Arc::new(ParquetFormat::default()),
        FileKind::Csv => Arc::new(
            CsvFormat::default()
                .with_has_header(header)
                .with_delimiter(delimiter)
                .with_file_compression_type(compression),
        ),
        FileKind::Json => Arc::new(JsonFormat::default().with_file_compression_type(compression)),
    })
}

fn accepted(kind: FileKind) -> Vec<&'static str> {
    let mut names = SCAN_OPTIONS.to_vec();
    if kind == FileKind::Csv {
        names.extend(["delim", "sep", "header"]);
    }
    names
}

fn single_byte(function: &str, name: &str, value: &str) -> Result<u8> {
    let unescaped = if value == "\\t" { "\t" } else { value };
    match unescaped.as_bytes() {
        [b] => Ok(*b),
        _ => Err(PlannerError::argument(
            function,
            format!("{name} must be one character, got '{value}'"),
        )),
    }
}

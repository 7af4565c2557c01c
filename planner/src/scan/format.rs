//! Which DataFusion `FileFormat` reads a scan, decided by `s3sql_formats`:
//! the format from the function, the file name or the first bytes; DuckDB's
//! reader options parsed into typed keys; CSV dialects sniffed and JSON
//! layouts told from a range read of the first file's start.

use std::sync::Arc;

use datafusion::datasource::file_format::FileFormat as DataFusionFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};
use s3sql_formats::{
    CSV_SAMPLE_BYTES, FileFormat, ReadOptions, compression_from_path, csv_options,
    decompress_sample, detect_from_bytes, detect_from_path, json_options, sniff_csv,
    sniff_json_format,
};

use crate::error::{PlannerError, Result};
use crate::scan::request::{ScanKind, ScanRequest};

/// How much of a JSON file's start tells array from newline-delimited.
const JSON_SAMPLE_BYTES: u64 = 64 * 1024;

/// The first `len` bytes of the first file (one ranged GET).
async fn sample(store: &Arc<dyn ObjectStore>, first: &ObjectMeta, len: u64) -> Result<Vec<u8>> {
    let end = first.size.min(len);
    if end == 0 {
        return Ok(Vec::new());
    }
    let bytes = store
        .get_range(&first.location, 0..end)
        .await
        .map_err(datafusion::error::DataFusionError::from)?;
    Ok(bytes.to_vec())
}

/// The DataFusion format reading `request`, whose first file is `first`
/// (named `first_name`) in `store`.
pub(crate) async fn file_format(
    request: &ScanRequest,
    first_name: &str,
    store: &Arc<dyn ObjectStore>,
    first: &ObjectMeta,
) -> Result<Arc<dyn DataFusionFormat>> {
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
    let compression = options
        .compression
        .unwrap_or_else(|| compression_from_path(first_name));
    Ok(match format {
        FileFormat::Csv => {
            let raw = sample(store, first, CSV_SAMPLE_BYTES as u64).await?;
            let dialect = sniff_csv(&decompress_sample(&raw, compression)?, &options)?;
            Arc::new(CsvFormat::default().with_options(csv_options(
                &dialect,
                &options,
                compression,
            )))
        }
        FileFormat::Json => {
            let raw = sample(store, first, JSON_SAMPLE_BYTES).await?;
            let layout = sniff_json_format(&decompress_sample(&raw, compression)?, &options);
            let options = ReadOptions {
                json_format: layout,
                ..options
            };
            Arc::new(JsonFormat::default().with_options(json_options(&options, compression)))
        }
        _ => Arc::new(ParquetFormat::default()),
    })
}

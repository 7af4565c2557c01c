//! Format detection, CSV/TSV dialect sniffing and reader options in DuckDB's
//! names, mapped onto arrow-rs and DataFusion readers. Nothing here decodes
//! data by hand: the sniffer only decides the dialect, and DataFusion's CSV,
//! JSON and Parquet sources read and type the rows.
//!
//! ```
//! use s3sql_formats::{
//!     csv_options, detect_from_path, sniff_csv, FileFormat, OptionValue, ReadOptions,
//! };
//!
//! let detected = detect_from_path("s3://bucket/sales/2024.CSV.gz").unwrap();
//! assert_eq!(detected.format, FileFormat::Csv);
//!
//! let options = ReadOptions::parse(
//!     FileFormat::Csv,
//!     vec![("sep".to_string(), OptionValue::Str(";".to_string()))],
//! )?;
//! let dialect = sniff_csv(b"id;name\n1;Ann\n2;Bob\n", &options)?;
//! assert_eq!((dialect.delimiter, dialect.has_header), (b';', true));
//! let csv = csv_options(&dialect, &options, detected.compression)?;
//! assert_eq!(csv.delimiter, b';');
//! # Ok::<(), s3sql_formats::FormatError>(())
//! ```

mod datafusion_options;
mod decode_error;
mod detect;
mod error;
mod json_array;
mod json_lines;
mod json_text;
mod json_types;
mod lines;
mod options;
mod record_starts;
mod schema;
mod sniff;
mod sniff_quotes;
mod temporal;
mod types;
mod value;

pub(crate) use datafusion_options::NO_QUOTE;
pub use datafusion_options::{
    csv_options, decoded_by_planner, json_options, null_regex, sniff_json_format,
};
pub use decode_error::{
    describe_decode_error, is_decode_error, name_decode_error, name_json_decode_error,
};
pub use detect::{
    Compression, Detected, FileFormat, compression_from_path, decompress_prefix, decompress_sample,
    detect_from_bytes, detect_from_path, strip_bom,
};
pub use error::FormatError;
pub use json_array::JsonArrayValues;
pub use json_lines::JsonErrorLine;
pub use json_text::JsonColumnsText;
pub use json_types::{
    TimestampShape, infer_json, is_json_column, timestamp_shape, whole_json_records,
};
pub use lines::{EmptyLines, SkipLines, first_record_end, line_end, skip_lines};
pub use options::{ColumnTypes, DUCKDB_SAMPLE_SIZE, FILES_TO_SNIFF, JsonFormat, ReadOptions};
pub use record_starts::RecordStarts;
pub use schema::{csv_schema, duckdb_column_name, json_schema, unique_names};
pub use sniff::{
    CSV_SAMPLE_BYTES, CsvDialect, column_values, leading_zero, sample_schema, sample_schema_rows,
    sniff_csv, sniff_csv_sample, sniff_csv_with_hint,
};
pub use sniff_quotes::SampleEnd;
pub use temporal::{
    TemporalFormats, convert as convert_temporal, parse_date, parse_timestamp, sniffed_date_format,
};
pub use types::duckdb_type;
pub use value::{OptionValue, parse_bool};

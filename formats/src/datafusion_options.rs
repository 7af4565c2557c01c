//! The sniffed dialect and DuckDB's options mapped onto DataFusion's
//! `CsvOptions` / `JsonOptions`, which its CSV and JSON sources read with.
//!
//! Two DuckDB options have no effect on DataFusion 55's readers and are left
//! to the planner: `nullstr` (its `CsvSource` ignores `null_regex` while
//! reading, so setting it would make inference promise a number column that
//! reading then fails on), and `dateformat`/`timestampformat` (arrow-csv reads
//! ISO 8601 only; DataFusion uses the formats when writing).

use datafusion::common::config::{CsvOptions, JsonOptions};

use crate::{Compression, CsvDialect, JsonFormat, ReadOptions};

/// The quote byte given to arrow when quoting is off: the sniffer refuses
/// samples holding NUL bytes, so it never occurs in the data.
pub(crate) const NO_QUOTE: u8 = 0;

/// DataFusion's CSV options for the sniffed dialect and the user's options.
/// `types`/`columns`/`names` are not in here: the planner turns them into a
/// schema (see [`ReadOptions::columns`], [`ReadOptions::types`]).
pub fn csv_options(
    dialect: &CsvDialect,
    options: &ReadOptions,
    compression: Compression,
) -> CsvOptions {
    CsvOptions {
        has_header: Some(dialect.has_header),
        delimiter: dialect.delimiter,
        quote: dialect.quote.unwrap_or(NO_QUOTE),
        escape: dialect.escape,
        comment: dialect.comment,
        newlines_in_values: Some(dialect.newlines_in_values),
        compression: compression.variant(),
        // No rows sampled makes DataFusion type every column Utf8: DuckDB's `all_varchar`.
        schema_infer_max_rec: if options.all_varchar {
            Some(0)
        } else {
            options.sample_size
        },
        // arrow-csv cannot skip a bad row; padding short rows is the part of
        // `ignore_errors` it can do.
        truncated_rows: Some(options.null_padding || options.ignore_errors),
        date_format: options.date_format.clone(),
        timestamp_format: options.timestamp_format.clone(),
        ..CsvOptions::default()
    }
}

/// DataFusion's JSON options. [`JsonFormat::Auto`] reads newline-delimited
/// JSON: resolve it first with [`sniff_json_format`] on the file's first bytes.
pub fn json_options(options: &ReadOptions, compression: Compression) -> JsonOptions {
    JsonOptions {
        compression: compression.variant(),
        schema_infer_max_rec: options.sample_size,
        newline_delimited: options.json_format != JsonFormat::Array,
        ..JsonOptions::default()
    }
}

/// The JSON layout of a (decompressed) sample: the one `format` fixes, else
/// [`JsonFormat::Array`] when the first non-blank byte is `[`, else
/// [`JsonFormat::NewlineDelimited`].
pub fn sniff_json_format(sample: &[u8], options: &ReadOptions) -> JsonFormat {
    if options.json_format != JsonFormat::Auto {
        return options.json_format;
    }
    let first = crate::detect::strip_bom(sample)
        .iter()
        .find(|b| !b.is_ascii_whitespace());
    match first {
        Some(b'[') => JsonFormat::Array,
        _ => JsonFormat::NewlineDelimited,
    }
}

#[cfg(test)]
#[path = "datafusion_read_tests.rs"]
mod read_tests;

#[cfg(test)]
mod tests {
    use datafusion::common::parsers::CompressionTypeVariant;

    use super::*;
    use crate::{FileFormat, OptionValue};

    fn dialect() -> CsvDialect {
        CsvDialect {
            delimiter: b';',
            quote: Some(b'\''),
            escape: Some(b'\\'),
            has_header: true,
            null_string: None,
            comment: Some(b'#'),
            newlines_in_values: true,
        }
    }

    #[test]
    fn csv_options_carry_the_dialect_and_compression() {
        let o = csv_options(&dialect(), &ReadOptions::default(), Compression::Gzip);
        assert_eq!(o.has_header, Some(true));
        assert_eq!(
            (o.delimiter, o.quote, o.escape, o.comment),
            (b';', b'\'', Some(b'\\'), Some(b'#'))
        );
        assert_eq!(o.newlines_in_values, Some(true));
        assert_eq!(o.compression, CompressionTypeVariant::GZIP);
        assert_eq!(o.schema_infer_max_rec, None);
        assert_eq!(o.truncated_rows, Some(false));
    }

    #[test]
    fn all_varchar_and_null_padding_reach_datafusion() {
        let options = ReadOptions::parse(
            FileFormat::Csv,
            vec![
                ("all_varchar".into(), OptionValue::Bool(true)),
                ("null_padding".into(), OptionValue::Bool(true)),
            ],
        )
        .unwrap();
        let o = csv_options(&dialect(), &options, Compression::Uncompressed);
        assert_eq!(o.schema_infer_max_rec, Some(0));
        assert_eq!(o.truncated_rows, Some(true));
        assert_eq!(o.compression, CompressionTypeVariant::UNCOMPRESSED);
    }

    #[test]
    fn json_array_layout_is_sniffed_or_fixed() {
        let auto = ReadOptions::default();
        assert_eq!(
            sniff_json_format(b"  \n[{\"a\":1}]", &auto),
            JsonFormat::Array
        );
        assert_eq!(
            sniff_json_format(b"{\"a\":1}\n{\"a\":2}", &auto),
            JsonFormat::NewlineDelimited
        );
        let array = ReadOptions::parse(
            FileFormat::Json,
            vec![("format".into(), OptionValue::Str("array".into()))],
        )
        .unwrap();
        assert_eq!(sniff_json_format(b"{\"a\":1}", &array), JsonFormat::Array);
        assert!(!json_options(&array, Compression::Zstd).newline_delimited);
        assert_eq!(
            json_options(&array, Compression::Zstd).compression,
            CompressionTypeVariant::ZSTD
        );
        assert!(json_options(&auto, Compression::Uncompressed).newline_delimited);
    }
}

//! The sniffed dialect and DuckDB's options mapped onto DataFusion's
//! `CsvOptions` / `JsonOptions`, which its CSV and JSON sources read with.
//!
//! Two options reach DataFusion's inference but not its `CsvSource`, which
//! ignores `null_regex` while reading and cannot drop lines: `nullstr` (as
//! [`CsvOptions::null_regex`]) and `skip`. s3sql-planner reads such files
//! with arrow-csv's decoder itself; for them `newlines_in_values` is set, so
//! each file is read whole.
//!
//! What the readers cannot do is refused here with an error naming the
//! option, never dropped: `dateformat`/`timestampformat` (arrow reads
//! ISO 8601 only; DataFusion uses the formats when writing).
//!
//! `ignore_errors` differs from DuckDB: arrow-csv cannot skip a bad row, so a
//! bad row is still an error (which says so) rather than dropped.

use datafusion::common::config::{CsvOptions, JsonOptions};

use crate::{Compression, CsvDialect, FormatError, JsonFormat, ReadOptions};

/// The quote byte given to arrow when quoting is off: the sniffer refuses
/// samples holding NUL bytes, so it never occurs in the data.
pub(crate) const NO_QUOTE: u8 = 0;

/// DataFusion's CSV options for the sniffed dialect and the user's options,
/// or an error naming an option DataFusion cannot honour.
/// `types`/`columns`/`names` are not in here: [`crate::csv_schema`] turns them
/// into the schema to read with.
pub fn csv_options(
    dialect: &CsvDialect,
    options: &ReadOptions,
    compression: Compression,
) -> Result<CsvOptions, FormatError> {
    refuse_formats(options)?;
    Ok(CsvOptions {
        has_header: Some(dialect.has_header),
        delimiter: dialect.delimiter,
        quote: dialect.quote.unwrap_or(NO_QUOTE),
        escape: dialect.escape,
        comment: dialect.comment,
        // Files read with `nullstr` or `skip` are read whole (see the module doc).
        newlines_in_values: Some(
            dialect.newlines_in_values || options.skip > 0 || null_regex(options).is_some(),
        ),
        null_regex: null_regex(options),
        compression: compression.variant(),
        // No rows sampled makes DataFusion type every column Utf8: DuckDB's `all_varchar`.
        schema_infer_max_rec: if options.all_varchar {
            Some(0)
        } else {
            options.sample_size
        },
        // Not `ignore_errors`: DuckDB drops a short row, padding would keep it.
        truncated_rows: Some(options.null_padding),
        ..CsvOptions::default()
    })
}

/// DuckDB's `nullstr` as arrow's null regex: the whole field is one of the
/// strings. `None` when it is only the empty string, arrow's and DuckDB's
/// default. Given strings replace the empty one, as in DuckDB (`nullstr =
/// 'NA'` reads an empty VARCHAR field as '').
pub fn null_regex(options: &ReadOptions) -> Option<String> {
    match options.null_strings.as_slice() {
        [] => None,
        [only] if only.is_empty() => None,
        strings => {
            let alternatives: Vec<String> = strings.iter().map(|s| escape_regex(s)).collect();
            Some(format!("^(?:{})$", alternatives.join("|")))
        }
    }
}

/// `text` with the regex syntax characters escaped (as `regex::escape`).
fn escape_regex(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `dateformat` / `timestampformat`: arrow-csv and arrow-json parse ISO 8601 only.
fn refuse_formats(options: &ReadOptions) -> Result<(), FormatError> {
    const REASON: &str = "dates and timestamps are read in ISO 8601 form only \
                          (2024-01-31, 2024-01-31 12:00:00); read the column as VARCHAR \
                          and convert it with strptime(column, '...') or to_date(column, '...')";
    if options.date_format.is_some() {
        return Err(FormatError::Unsupported {
            option: "dateformat",
            reason: REASON,
        });
    }
    if options.timestamp_format.is_some() {
        return Err(FormatError::Unsupported {
            option: "timestampformat",
            reason: REASON,
        });
    }
    Ok(())
}

/// DataFusion's JSON options. [`JsonFormat::Auto`] reads newline-delimited
/// JSON: resolve it first with [`sniff_json_format`] on the file's first bytes.
pub fn json_options(
    options: &ReadOptions,
    compression: Compression,
) -> Result<JsonOptions, FormatError> {
    refuse_formats(options)?;
    Ok(JsonOptions {
        compression: compression.variant(),
        schema_infer_max_rec: options.sample_size,
        newline_delimited: options.json_format != JsonFormat::Array,
        ..JsonOptions::default()
    })
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
        let o = csv_options(&dialect(), &ReadOptions::default(), Compression::Gzip).unwrap();
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
        let o = csv_options(&dialect(), &options, Compression::Uncompressed).unwrap();
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
        assert!(
            !json_options(&array, Compression::Zstd)
                .unwrap()
                .newline_delimited
        );
        assert_eq!(
            json_options(&array, Compression::Zstd).unwrap().compression,
            CompressionTypeVariant::ZSTD
        );
        assert!(
            json_options(&auto, Compression::Uncompressed)
                .unwrap()
                .newline_delimited
        );
    }

    fn parsed(reader: FileFormat, name: &str, value: OptionValue) -> ReadOptions {
        ReadOptions::parse(reader, vec![(name.into(), value)]).unwrap()
    }

    #[test]
    fn options_the_readers_cannot_honour_are_refused_by_name() {
        let s = |v: &str| OptionValue::Str(v.into());
        for (name, value, named) in [
            ("dateformat", s("%d/%m/%Y"), "'dateformat'"),
            ("timestamp_format", s("%d/%m/%Y %H:%M"), "'timestampformat'"),
        ] {
            let options = parsed(FileFormat::Csv, name, value);
            let err = csv_options(&dialect(), &options, Compression::Uncompressed)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(named) && err.contains("not supported"),
                "{name}: {err}"
            );
        }
        let json = parsed(FileFormat::Json, "dateformat", s("%d.%m.%Y"));
        assert!(json_options(&json, Compression::Uncompressed).is_err());
    }

    #[test]
    fn nullstr_becomes_an_anchored_escaped_null_regex_and_a_whole_file_read() {
        let s = |v: &str| OptionValue::Str(v.into());
        let options = parsed(
            FileFormat::Csv,
            "nullstr",
            OptionValue::List(vec![s("NA"), s("n.a.")]),
        );
        let o = csv_options(&dialect(), &options, Compression::Uncompressed).unwrap();
        assert_eq!(o.null_regex.as_deref(), Some(r"^(?:NA|n\.a\.)$"));
        assert_eq!(o.newlines_in_values, Some(true));
        // The empty string is DuckDB's default null string: arrow's default too.
        let empty = parsed(FileFormat::Csv, "nullstr", s(""));
        assert_eq!(null_regex(&empty), None);
        let skip = parsed(FileFormat::Csv, "skip", OptionValue::Int(2));
        let o = csv_options(&dialect(), &skip, Compression::Uncompressed).unwrap();
        assert_eq!((o.null_regex, o.newlines_in_values), (None, Some(true)));
    }

    #[test]
    fn ignore_errors_does_not_pad_short_rows() {
        // DuckDB drops a short row under ignore_errors; padding it would keep it.
        let options = parsed(FileFormat::Csv, "ignore_errors", OptionValue::Bool(true));
        let o = csv_options(&dialect(), &options, Compression::Uncompressed).unwrap();
        assert_eq!(o.truncated_rows, Some(false));
    }
}

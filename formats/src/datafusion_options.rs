//! The sniffed dialect and DuckDB's options mapped onto DataFusion's
//! `CsvOptions` / `JsonOptions`, which its CSV and JSON sources read with.
//!
//! Some options reach DataFusion's inference but not its `CsvSource`, which
//! ignores `null_regex` while reading, cannot drop lines, parses ISO 8601
//! dates only and stops at the first bad value: `nullstr` (as
//! [`CsvOptions::null_regex`]), `skip`, `dateformat`, `timestampformat` and
//! `ignore_errors`. s3sql-planner reads such files with arrow-csv's decoder
//! itself ([`decoded_by_planner`]); for them `newlines_in_values` is set, so
//! each file is read whole.
//!
//! What the readers cannot do is refused here with an error naming the
//! option, never dropped: for JSON `dateformat`/`timestampformat`,
//! `ignore_errors = true` (arrow-json stops at the first bad record) and a
//! `maximum_object_size` below DuckDB's 16 MiB default (arrow-json reads
//! objects of any size, so a larger one has its effect, a smaller one
//! cannot); `auto_detect = false` without `columns` is refused as DuckDB
//! refuses it.
//!
//! `ignore_errors` skips rows with a value that does not convert to its
//! column's type, as DuckDB; a row with too many fields is still an error
//! (arrow-csv's tokenizer stops there).

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
    Ok(CsvOptions {
        has_header: Some(dialect.has_header),
        delimiter: dialect.delimiter,
        quote: dialect.quote_byte(),
        escape: dialect.escape,
        comment: dialect.comment,
        // Files s3sql-planner decodes itself are read whole (see the module doc).
        newlines_in_values: Some(dialect.newlines_in_values || decoded_by_planner(options)),
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

/// Whether a CSV scan with `options` needs s3sql-planner's own decoder:
/// options DataFusion's `CsvSource` drops (`nullstr`, `skip`) or cannot do
/// (`dateformat`, `timestampformat`, `ignore_errors`, `union_by_name`:
/// it reads by position).
pub fn decoded_by_planner(options: &ReadOptions) -> bool {
    options.skip > 0
        || null_regex(options).is_some()
        || options.temporal_formats().any()
        || options.ignore_errors
        || options.union_by_name
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

/// `dateformat` / `timestampformat` for JSON: arrow-json parses ISO 8601
/// only (CSV columns are converted by [`crate::TemporalFormats`]).
fn refuse_formats(options: &ReadOptions) -> Result<(), FormatError> {
    const REASON: &str = "dates and timestamps are read in ISO 8601 form only \
                          (2024-01-31, 2024-01-31 12:00:00) in JSON; read the column as \
                          VARCHAR and convert it with to_date(column, '...') or \
                          to_timestamp(column, '...')";
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

/// DuckDB's default `maximum_object_size` (16 MiB).
const DEFAULT_MAXIMUM_OBJECT_SIZE: u64 = 16 << 20;

/// JSON options arrow-json cannot honour, and `auto_detect = false` without
/// the `columns` it needs (DuckDB refuses that too).
fn refuse_json_options(options: &ReadOptions) -> Result<(), FormatError> {
    refuse_formats(options)?;
    if options.ignore_errors {
        return Err(FormatError::Unsupported {
            option: "ignore_errors",
            reason: "JSON records are read by arrow-json, which stops at the first one that \
                     does not parse; fix or filter the file, or read it with \
                     format = 'newline_delimited' and columns = {...} of VARCHAR",
        });
    }
    if options
        .maximum_object_size
        .is_some_and(|size| size < DEFAULT_MAXIMUM_OBJECT_SIZE)
    {
        return Err(FormatError::Unsupported {
            option: "maximum_object_size",
            reason: "s3sql reads JSON objects of any size, so it cannot enforce a limit \
                     below DuckDB's default of 16777216 bytes; leave the option out, or give \
                     16777216 or more",
        });
    }
    if !options.auto_detect && options.columns.is_none() {
        return Err(FormatError::NeedsOption {
            option: "auto_detect = false",
            needs: "columns",
            hint: "read_json then reads only the keys it lists, with their types, e.g. \
                   columns = {'id': 'BIGINT', 'name': 'VARCHAR'}",
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
    refuse_json_options(options)?;
    Ok(JsonOptions {
        compression: compression.variant(),
        // DuckDB's default sample, 20,480 records (DataFusion's is 1,000).
        schema_infer_max_rec: Some(options.sample_size.unwrap_or(crate::DUCKDB_SAMPLE_SIZE)),
        newline_delimited: options.json_format != JsonFormat::Array,
        ..JsonOptions::default()
    })
}

/// The JSON layout of a (decompressed) sample: the one `format` fixes, else
/// [`JsonFormat::Array`] when the first non-blank byte is `[`,
/// [`JsonFormat::Unstructured`] when the first value goes on past its first
/// line (DuckDB 1.5.5 detects pretty-printed objects so), else
/// [`JsonFormat::NewlineDelimited`].
pub fn sniff_json_format(sample: &[u8], options: &ReadOptions) -> JsonFormat {
    if options.json_format != JsonFormat::Auto {
        return options.json_format;
    }
    let text = crate::detect::strip_bom(sample);
    let Some(start) = text.iter().position(|b| !b.is_ascii_whitespace()) else {
        return JsonFormat::NewlineDelimited;
    };
    let text = &text[start..];
    if text[0] == b'[' {
        return JsonFormat::Array;
    }
    let mut values = serde_json::Deserializer::from_slice(text).into_iter::<serde_json::Value>();
    let spans_lines = match values.next() {
        Some(Ok(_)) => text[..values.byte_offset()].contains(&b'\n'),
        // A value the sample cuts: over lines when it has a line break.
        Some(Err(e)) if e.is_eof() => text.contains(&b'\n'),
        _ => false,
    };
    match spans_lines {
        true => JsonFormat::Unstructured,
        false => JsonFormat::NewlineDelimited,
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
        // Pretty-printed objects, whole or cut by the sample's end.
        for text in [
            &b"{\n  \"a\": 1\n}\n{\n  \"a\": 2\n}\n"[..],
            b"{\n \"a\": [1,\n",
        ] {
            assert_eq!(sniff_json_format(text, &auto), JsonFormat::Unstructured);
        }
        // A first record on one line is newline-delimited JSON (DuckDB
        // then refuses a later record laid out over lines), as is a
        // first line the sample cuts.
        for text in [
            &b"{\"a\":1}\n{\n\"a\":2}"[..],
            b"{\"a\": [1, 2",
            b"{\"a\":}\n",
        ] {
            assert_eq!(sniff_json_format(text, &auto), JsonFormat::NewlineDelimited);
        }
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
    fn date_formats_are_read_whole_by_the_planner_for_csv_and_refused_for_json() {
        let s = |v: &str| OptionValue::Str(v.into());
        for (name, value) in [
            ("dateformat", s("%d/%m/%Y")),
            ("timestamp_format", s("%d/%m/%Y %H:%M")),
            ("ignore_errors", OptionValue::Bool(true)),
        ] {
            let options = parsed(FileFormat::Csv, name, value);
            assert!(decoded_by_planner(&options), "{name}");
            let o = csv_options(&dialect(), &options, Compression::Uncompressed).unwrap();
            assert_eq!(o.newlines_in_values, Some(true), "{name}");
        }
        let json = parsed(FileFormat::Json, "dateformat", s("%d.%m.%Y"));
        let err = json_options(&json, Compression::Uncompressed)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("'dateformat'") && err.contains("JSON"),
            "{err}"
        );
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

    /// Each JSON option arrow-json cannot honour is refused by name, not dropped.
    #[test]
    fn json_options_without_effect_are_refused_by_name() {
        let json = |pairs: Vec<(&str, OptionValue)>| {
            let pairs = pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            let options = ReadOptions::parse(FileFormat::Json, pairs).unwrap();
            json_options(&options, Compression::Uncompressed)
        };
        let int = OptionValue::Int;
        let no = OptionValue::Bool(false);
        for (pairs, names) in [
            (
                vec![("ignore_errors", OptionValue::Bool(true))],
                "'ignore_errors'",
            ),
            (
                vec![("maximum_object_size", int(1024))],
                "'maximum_object_size'",
            ),
            (vec![("auto_detect", no.clone())], "'columns'"),
        ] {
            let err = json(pairs).unwrap_err().to_string();
            assert!(err.contains(names), "{err}");
        }
        // What has its effect is accepted: a larger limit, no ignore_errors,
        // auto_detect = false with the columns to read.
        let columns = OptionValue::Struct(vec![("id".into(), OptionValue::Str("BIGINT".into()))]);
        for pairs in [
            vec![("maximum_object_size", int(64 << 20))],
            vec![("ignore_errors", no.clone())],
            vec![("auto_detect", no), ("columns", columns)],
        ] {
            assert!(json(pairs.clone()).is_ok(), "{pairs:?}");
        }
    }

    #[test]
    fn ignore_errors_does_not_pad_short_rows() {
        // DuckDB drops a short row under ignore_errors; padding it would keep it.
        let options = parsed(FileFormat::Csv, "ignore_errors", OptionValue::Bool(true));
        let o = csv_options(&dialect(), &options, Compression::Uncompressed).unwrap();
        assert_eq!(o.truncated_rows, Some(false));
    }
}

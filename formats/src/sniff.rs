//! CSV dialect sniffing: a pure function over a byte sample (read by range),
//! so it is tested without S3. Candidate dialects split the sample into
//! records with csv-core (arrow-csv's own tokenizer); of those DuckDB's
//! strict mode reads (`sniff_quotes`), the dialect whose rows agree on the
//! most columns wins, and arrow's type inference on the first row decides
//! the header.

use std::io::Cursor;
use std::sync::Arc;

use datafusion::arrow::array::StringArray;
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::csv::ReaderBuilder as ArrowReaderBuilder;
use datafusion::arrow::csv::reader::Format;
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use regex::Regex;

use crate::detect::{looks_like_text, strip_bom};
use crate::sniff_quotes::{Candidate, SampleEnd};
use crate::temporal::{has_zone, timestamp_tz};
use crate::{FormatError, ReadOptions, null_regex, skip_lines};

/// What the CSV sniffer found in a sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvDialect {
    /// Field delimiter.
    pub delimiter: u8,
    /// Quote character; `None` when quoting is off (`quote = ''`).
    pub quote: Option<u8>,
    /// Escape character inside quotes; `None` means the quote is doubled (`""`), DuckDB's default.
    pub escape: Option<u8>,
    /// Whether the first row names the columns.
    pub has_header: bool,
    /// The string read as NULL besides the empty field (the first of `nullstr`).
    pub null_string: Option<String>,
    /// Lines starting with this byte are skipped.
    pub comment: Option<u8>,
    /// A quoted field of the sample spans lines.
    pub newlines_in_values: bool,
}

impl CsvDialect {
    /// The quote byte arrow-csv and DataFusion take: with quoting off (the
    /// user's `quote = ''`, or a file no quote splits as well as none
    /// does) a byte that never occurs in text.
    pub fn quote_byte(&self) -> u8 {
        self.quote.unwrap_or(crate::NO_QUOTE)
    }
}

/// Delimiters tried when none is given, in order of preference on a tie.
const DELIMITERS: [u8; 4] = [b',', b'|', b';', b'\t'];
/// Quotes tried when none is given, in order of preference on a tie.
const QUOTES: [u8; 2] = [b'"', b'\''];
/// How much of a file's start to read at most for [`sniff_csv`] and the
/// column types (the planner reads the first MiB, and the rest only when
/// [`sniff_csv_sample`] or [`sample_schema_rows`] say it ran short): 8 MiB holds DuckDB's 20,480-row sample for rows
/// up to ~400 bytes. A larger `sample_size` (or -1, every row) still sees
/// only this much of the first file.
pub const CSV_SAMPLE_BYTES: usize = 8 << 20;
/// ... and at no more records than this (DuckDB's default sample is 20,480 rows).
const SNIFF_RECORDS: usize = crate::DUCKDB_SAMPLE_SIZE;

/// The dialect of a CSV sample, honouring whatever `options` already fix
/// (`delim`, `quote`, `escape`, `header`, `comment`, `skip`; with
/// `auto_detect = false` nothing is sniffed and DuckDB's defaults fill in).
/// Delimiters tried: `,` `|` `;` tab; quotes: `"` `'` and none; escapes:
/// the doubled quote, `"`, `'` or a backslash, as DuckDB 1.5.5 tries them.
/// The first row is a header by DuckDB's rule: some value of it does not
/// fit its column's type in the rows below, or every column is text (see
/// `first_row_is_header`). `sample` is a whole file's text
/// ([`SampleEnd::File`]).
pub fn sniff_csv(sample: &[u8], options: &ReadOptions) -> Result<CsvDialect, FormatError> {
    sniff_csv_with_hint(sample, options, None, SampleEnd::File)
}

/// [`sniff_csv`] trying `delimiter_hint` first (the tab a `.tsv` name
/// implies): it wins a tie, but a file whose rows it does not split into
/// several columns still gets the delimiter that does. `end` says whether
/// the file ends where `sample` does: a quote a dialect leaves open there
/// is never closed, and that dialect loses, as in DuckDB.
pub fn sniff_csv_with_hint(
    sample: &[u8],
    options: &ReadOptions,
    delimiter_hint: Option<u8>,
    end: SampleEnd,
) -> Result<CsvDialect, FormatError> {
    Ok(sniff_csv_sample(sample, options, delimiter_hint, end)?.0)
}

/// [`sniff_csv_with_hint`], and whether the sample sufficed: every
/// candidate split in the deciding round reached its 20,480 records
/// before the sample's end, so a longer sample of the same file gives the
/// same dialect. `false` says to sniff a longer sample, if there is more
/// of the file.
pub fn sniff_csv_sample(
    sample: &[u8],
    options: &ReadOptions,
    delimiter_hint: Option<u8>,
    end: SampleEnd,
) -> Result<(CsvDialect, bool), FormatError> {
    let sample = strip_bom(sample);
    let end = match sample.len() > CSV_SAMPLE_BYTES {
        true => SampleEnd::Cut,
        false => end,
    };
    let sample = &sample[..sample.len().min(CSV_SAMPLE_BYTES)];
    looks_like_text(sample)?;
    let sample = skip_lines(sample, options.skip);
    refuse_comments_after_lone_crs(sample, options)?;
    let fixed = CsvDialect {
        delimiter: options.delimiter.unwrap_or(b','),
        quote: options.quote.unwrap_or(Some(b'"')),
        escape: options
            .escape
            .unwrap_or_else(|| default_escape(options.quote)),
        has_header: options.header.unwrap_or(false),
        null_string: options.null_strings.first().cloned(),
        comment: options.comment,
        newlines_in_values: false,
    };
    if !options.auto_detect {
        return Ok((fixed, true));
    }
    let all: Vec<Candidate> = candidates(sample, options, delimiter_hint).collect();
    let ragged = Ragged::of(options);
    let limit = sniff_records(options);
    let tried = split_by_each(sample, all.clone(), ragged, end, limit);
    let sufficed = tried
        .iter()
        .all(|(_, _, records)| records.field_counts.len() >= limit);
    let mut best = best_valid(sample, &tried, end, limit);
    let tried = match best.is_none() && tried.len() < all.len() {
        // Every candidate that led was dropped: the others get their chance.
        true => {
            let tried = split_all(sample, all.clone(), ragged, end, limit);
            best = best_valid(sample, &tried, end, limit);
            tried
        }
        false => tried,
    };
    // Notes found by a dialect that quotes nothing lose to one whose
    // quote reads every row evenly, as in DuckDB (`c0\nbb\n"a,b"` is one
    // column, not two notes before `"a`, `b"`).
    let (tried, best) = match best {
        Some((at, read)) if tried[at].2.notes > 0 && !read.quoted => {
            let every = split_all(sample, all, ragged, end, limit);
            match quoted_even(sample, &every, end, limit) {
                Some(found) => (every, Some(found)),
                None => (tried, best),
            }
        }
        _ => (tried, best),
    };
    if let Some((at, read)) = best
        && let Some(spaced) = read.spaced
    {
        return Err(spaced_quote_error(
            sample,
            &tried[at].1,
            spaced,
            options.skip,
        ));
    }
    if let Some((at, _)) = best
        && let Some(start) = tried[at].2.empty_last_at
    {
        let line = 1 + options.skip as usize + memchr::memchr_iter(b'\n', &sample[..start]).count();
        return Err(FormatError::Decode {
            message: format!(
                "line {line} and the lines below it end in one empty field more than the lines above (a delimiter at the end): DuckDB drops that field, s3sql's CSV reader cannot; remove the delimiters at the ends of those lines"
            ),
        });
    }
    if let Some((at, _)) = best
        && options.skip == 0
        && matches!(ragged, Ragged::Refused)
        && tried[at].2.notes > 0
    {
        return Err(notes_error(tried[at].2.notes));
    }
    if let Some((at, _)) = best
        && tried[at].2.columns().0 == 1
        && !tried[at].2.newlines_in_values
        && options.delimiter.is_none()
        && mixed_line_ends(sample)
        && [b',', b';', b'|', b'\t'].iter().any(|d| sample.contains(d))
    {
        // A ragged file is one column of whole lines, but DuckDB refuses
        // one whose lines end in more than one way (review 14, M4).
        return Err(FormatError::Decode {
            message: "the file's lines end in more than one way (\\r\\n, \\n or \\r) and no delimiter splits them evenly: DuckDB fails to sniff it; make its line ends one kind, or give delim".into(),
        });
    }
    // A file no dialect reads strictly keeps the quote of the one that
    // splits it best, quoted or not.
    let best = best.map(|(at, read)| (at, read.quoted));
    let Some((mut candidate, records, quoted)) = best
        .or_else(|| best_of(&tried).map(|at| (at, true)))
        .map(|(at, quoted)| (tried[at].1, &tried[at].2, quoted))
    else {
        return Ok((fixed, true));
    };
    // The sample covers DuckDB's: it is the whole file, or it holds
    // DuckDB's sample of records. A sample cut by bytes before (long
    // rows, the 8 MiB cap) says nothing of the records DuckDB sees past
    // it, which may quote.
    let covered = end == SampleEnd::File || records.field_counts.len() >= limit;
    if !quoted && covered && options.quote.is_none() && options.escape.is_none() {
        // DuckDB's first candidate is no quote: where the sample quotes
        // nothing it wins, and a quote past the sample is text (a `"`
        // opened there and never closed took every later row into one
        // value).
        (candidate.quote, candidate.escape) = (None, None);
    }
    let mut dialect = CsvDialect {
        delimiter: candidate.delimiter,
        quote: candidate.quote,
        escape: candidate.escape,
        comment: candidate.comment,
        newlines_in_values: records.newlines_in_values,
        ..fixed
    };
    dialect.has_header = match options.header {
        Some(header) => header,
        None => first_row_is_header(
            &sample[..records.complete_len],
            &dialect,
            options.sample_size.unwrap_or(INFER_RECORDS),
        ),
    };
    Ok((dialect, sufficed))
}

/// Whether `sample`'s lines end in more than one way: `\r\n` beside a
/// lone `\n` or a lone `\r`, or lone ones of both.
fn mixed_line_ends(sample: &[u8]) -> bool {
    let (mut crlf, mut lf, mut cr) = (false, false, false);
    for (at, &b) in sample.iter().enumerate() {
        match b {
            b'\r' if sample.get(at + 1) == Some(&b'\n') => crlf = true,
            b'\r' => cr = true,
            b'\n' if at == 0 || sample[at - 1] != b'\r' => lf = true,
            _ => {}
        }
    }
    usize::from(crlf) + usize::from(lf) + usize::from(cr) > 1
}

/// Refuses comment lines in a file whose lines end in a lone CR (`\r`, a
/// classic Mac export): s3sql's reader (csv-core's) ends a comment only
/// at `\n`, so the rows after one would be lost or the file read as one
/// column (review 14, H3), where DuckDB skips the comment line.
fn refuse_comments_after_lone_crs(sample: &[u8], options: &ReadOptions) -> Result<(), FormatError> {
    if sample.contains(&b'\n') || !sample.contains(&b'\r') {
        return Ok(());
    }
    // DuckDB sniffs `#` as a comment unless told the dialect.
    let comment = match options.comment {
        Some(comment) => comment,
        None if options.auto_detect => b'#',
        None => return Ok(()),
    };
    let commented = sample
        .split(|&b| b == b'\r')
        .skip(1)
        .any(|line| line.first() == Some(&comment));
    if !commented && options.comment.is_none_or(|c| sample.first() != Some(&c)) {
        return Ok(());
    }
    Err(FormatError::Decode {
        message: format!(
            "the file's lines end in a lone CR (\\r) and some start with the comment character ({}): s3sql's CSV reader ends a comment only at \\n, DuckDB reads them; convert the line ends to \\n (or \\r\\n) first",
            char::from(comment)
        ),
    })
}

/// The records DuckDB 1.5.5 splits the sample into for the dialect:
/// `sample_size` rows in whole chunks of 2,048 (20,480 by default, 2,048
/// at least; every record for `-1`), so a quote past row 20,480 counts
/// with a larger `sample_size`, as it does for the types.
fn sniff_records(options: &ReadOptions) -> usize {
    match options.sample_size {
        None => SNIFF_RECORDS,
        Some(rows) => rows
            .div_ceil(DUCKDB_FIRST_CHUNK)
            .max(1)
            .saturating_mul(DUCKDB_FIRST_CHUNK),
    }
}

/// The refusal of a file whose dialect, as DuckDB 1.5.5 sniffs it, opens a
/// quote after spaces (`1, "New York, NY"`, quote at byte `at`) or has
/// spaces after a closing one (`"x" ,1`): DuckDB reads `New York, NY`
/// and `x`; the reader s3sql decodes with (arrow-csv's) takes the first
/// spaces for the start of an unquoted value and splits it, and keeps the
/// others (`x `), so the file is refused rather than read otherwise.
fn spaced_quote_error(sample: &[u8], candidate: &Candidate, at: usize, skip: u64) -> FormatError {
    let line = 1 + skip as usize + memchr::memchr_iter(b'\n', &sample[..at]).count();
    let quote = char::from(candidate.quote.unwrap_or(b'"'));
    FormatError::Decode {
        message: format!(
            "line {line} has spaces beside a quoted value ({d}  {quote} or {quote}  {d}): DuckDB reads the value without them, s3sql's CSV reader cannot; remove the spaces between the delimiters and the quotes",
            d = char::from(candidate.delimiter)
        ),
    }
}

/// The refusal of a file whose first `notes` lines have fewer fields than
/// every line below (a title before the header): DuckDB 1.5.5 skips them
/// as notes, which s3sql does only when told to.
fn notes_error(notes: usize) -> FormatError {
    FormatError::Decode {
        message: format!(
            "the first {notes} line(s) have fewer fields than every line below them (notes before the header?): DuckDB skips them; give skip = {notes} to read the file so"
        ),
    }
}

/// The records DuckDB's sniffer reads first (its `sniff_size`): only a
/// file with more has its candidates refined, preferring one that escapes.
const DUCKDB_FIRST_CHUNK: usize = 2048;

/// Rows typed by default: DuckDB's `sample_size` default, 20,480.
const INFER_RECORDS: usize = SNIFF_RECORDS;

/// The schema arrow infers from a sample read with `dialect`, after the
/// `skip` lines: for files DataFusion's own inference would read from their
/// first byte, taking the skipped lines for the header. Names are arrow's
/// (`column_1`, ... without a header); [`crate::csv_schema`] renames them.
/// A column with no value in the sample is `DataType::Null`: another
/// file's sample may type it; alone it reads as text ([`crate::csv_schema`]).
pub fn sample_schema(
    sample: &[u8],
    dialect: &CsvDialect,
    options: &ReadOptions,
) -> Result<Schema, FormatError> {
    Ok(sample_schema_rows(sample, dialect, options, SampleEnd::Cut)?.0)
}

/// [`sample_schema`], and how many rows it typed: fewer than `sample_size`
/// (DuckDB's 20,480 by default) says a longer sample of the same file
/// may type it otherwise. Where the sample is the whole file (`end`), its
/// last line is typed too, newline or not, as DuckDB types it: `a\n1\nx`
/// is VARCHAR, and `a\n06:00\n248` no TIME reading `248` as microseconds
/// (review 14, M6 and H2).
pub fn sample_schema_rows(
    sample: &[u8],
    dialect: &CsvDialect,
    options: &ReadOptions,
    end: SampleEnd,
) -> Result<(Schema, usize), FormatError> {
    let whole = end == SampleEnd::File && sample.len() <= CSV_SAMPLE_BYTES;
    let sample = strip_bom(sample);
    let sample = skip_lines(&sample[..sample.len().min(CSV_SAMPLE_BYTES)], options.skip);
    // Up to the last line end (`\n`, or `\r` in a classic Mac file): the
    // sample may cut a record.
    let end = match whole {
        true => sample.len(),
        false => sample
            .iter()
            .rposition(|&b| b == b'\n' || b == b'\r')
            .map_or(sample.len(), |at| at + 1),
    };
    let mut format = arrow_format(dialect)
        .with_header(dialect.has_header)
        .with_truncated_rows(options.null_padding);
    if let Some(pattern) = null_regex(options) {
        let regex = Regex::new(&pattern).map_err(|e| FormatError::Decode {
            message: format!("nullstr: {e}"),
        })?;
        format = format.with_null_regex(regex);
    }
    // DuckDB samples whole chunks of 2,048 rows: `sample_size = 1` types
    // from the first 2,048 (review 14, H2: `t\n06:00\n248` was TIME).
    let records = match options.sample_size {
        None => INFER_RECORDS,
        Some(_) => sniff_records(options),
    };
    let (schema, rows_typed) = format
        .clone()
        .infer_schema(Cursor::new(&sample[..end]), Some(records))
        .map_err(|e| FormatError::Decode {
            message: format!("cannot infer the columns from the start of the file: {e}"),
        })?;
    // all_varchar reads every column as text; one with no value in the
    // sample stays `Null` for now.
    let mut fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            _ if options.all_varchar => Field::new(f.name(), DataType::Utf8, true),
            _ => f.as_ref().clone().with_nullable(true),
        })
        .collect();
    let formats = options.temporal_formats();
    let numeric = fields.iter().any(|f| f.data_type().is_numeric());
    let temporal = fields.iter().any(|f| shape_typed(f.data_type()));
    let textual = fields.iter().any(|f| f.data_type() == &DataType::Utf8);
    if (formats.any() || numeric || temporal || textual) && !options.all_varchar {
        let text = text_columns(&sample[..end], format, fields.len(), records)?;
        for (field, values) in fields.iter_mut().zip(&text) {
            let by_shape = shape_typed(field.data_type());
            // Text columns whose every value is a date or timestamp in the
            // user's format take that type, as DuckDB's sniffer does.
            if field.data_type() == &DataType::Utf8
                && let Some(typed) = formats.sniff(values.iter().map(String::as_str))
            {
                *field = Field::new(field.name(), typed, true);
            }
            if field.data_type() == &DataType::Utf8
                && let Some(typed) = duckdb_only_type(values)
            {
                *field = Field::new(field.name(), typed, true);
            }
            // A timestamp column with a zone (`Z`, `+02`, `-05:30`) on any
            // value is DuckDB's TIMESTAMP WITH TIME ZONE; the values without
            // one are read in the session's zone (UTC), as DuckDB reads them.
            if let DataType::Timestamp(unit, None) = field.data_type()
                && values.iter().any(|v| has_zone(v))
            {
                *field = Field::new(field.name(), timestamp_tz(*unit), true);
            }
            // arrow types a date or timestamp by its shape: one impossible
            // value in the sample (`2024-13-01`, `2023-02-29`, `25:00:00`)
            // makes the column text, as in DuckDB, instead of a type no row
            // of the file could then be read into (review-8e #6).
            // So does a leap second (`10:00:60`), which arrow reads as the
            // next minute and DuckDB keeps as text (review-s22 F12).
            let leap = || {
                matches!(field.data_type(), DataType::Timestamp(..))
                    && values.iter().any(|v| leap_second(v, 11))
            };
            if by_shape && (!all_convert(values, field.data_type()) || leap()) {
                *field = Field::new(field.name(), DataType::Utf8, true);
            }
            // A number with a leading zero (a ZIP code, an account number)
            // keeps the column text, as in DuckDB: `02134` is not 2134.
            if field.data_type().is_numeric() && values.iter().any(|v| leading_zero(v)) {
                *field = Field::new(field.name(), DataType::Utf8, true);
            }
        }
    }
    Ok((Schema::new(fields), rows_typed))
}

/// Whether arrow infers `data_type` from a value's shape alone (a date or
/// timestamp), not by parsing it.
fn shape_typed(data_type: &DataType) -> bool {
    matches!(data_type, DataType::Date32 | DataType::Timestamp(..))
}

/// DuckDB's sniffed type for text arrow's inference leaves VARCHAR
/// (review-8e #8): TIME for `12:30:00` or `6:00` ([`time_shape`]),
/// DOUBLE for numbers of which one is an integer past BIGINT (arrow's
/// reason for text). `None` for anything else, and for a time that does
/// not convert (`25:00`).
fn duckdb_only_type(values: &[String]) -> Option<DataType> {
    let time = DataType::Time64(TimeUnit::Microsecond);
    if values.is_empty() {
        return None;
    }
    if values.iter().all(|v| time_shape(v)) && all_convert(values, &time) {
        return Some(time);
    }
    (values.iter().all(|v| number_shape(v))
        && values
            .iter()
            .any(|v| !v.contains('.') && v.parse::<i64>().is_err()))
    .then_some(DataType::Float64)
}

/// Whether `value` is a time of day as DuckDB's sniffer takes one: an
/// hour of one or two digits, two of minutes, optionally two of seconds
/// (not 60, a leap second DuckDB keeps as text) and then a fraction of
/// any length (`6:00`, `06:00:00`, `12:30:00.1234567`, truncated to
/// microseconds as DuckDB truncates it). Arrow reads every one of them;
/// an hour or minute out of range is left to the conversion check.
fn time_shape(value: &str) -> bool {
    let digits = |s: &str, len: std::ops::RangeInclusive<usize>| {
        len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    let (clock, fraction) = match value.split_once('.') {
        Some((clock, fraction)) => (clock, Some(fraction)),
        None => (value, None),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    match parts[..] {
        [hour, minute] => fraction.is_none() && digits(hour, 1..=2) && digits(minute, 2..=2),
        [hour, minute, second] => {
            digits(hour, 1..=2)
                && digits(minute, 2..=2)
                && digits(second, 2..=2)
                && second != "60"
                && fraction.is_none_or(|f| digits(f, 1..=usize::MAX))
        }
        _ => false,
    }
}

/// Whether the clock `HH:MM:SS` starting at byte `at` of `value` says 60
/// seconds (a leap second), which DuckDB's sniffers (CSV and JSON) do not
/// take for a time.
pub(crate) fn leap_second(value: &str, at: usize) -> bool {
    value.trim().get(at + 6..at + 8) == Some("60")
}

/// Whether `value` is an integer or a decimal without an exponent (`-12`, `1.5`).
fn number_shape(value: &str) -> bool {
    let unsigned = value.strip_prefix('-').unwrap_or(value);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && digits(fraction)
}

/// Whether every one of `values` converts to `data_type` as the decoder converts it.
fn all_convert(values: &[String], data_type: &DataType) -> bool {
    let text = StringArray::from_iter_values(values);
    let options = CastOptions {
        safe: false,
        ..CastOptions::default()
    };
    cast_with_options(&text, data_type, &options).is_ok()
}

/// Whether `value` is a number written with a leading zero before a digit
/// (`007`, `-01.5`), which DuckDB's sniffer does not read as a number.
pub fn leading_zero(value: &str) -> bool {
    let digits = value.trim().trim_start_matches(['-', '+']).as_bytes();
    digits.len() > 1 && digits[0] == b'0' && digits[1].is_ascii_digit()
}

/// The first `records` records of `sample` as text, column by column.
/// The first values of each of a CSV's `columns`, as text, from its
/// start `sample` read with `dialect` (its header skipped, a record the
/// sample cuts left out, short records padded), up to DuckDB's sample of
/// 20,480 records; empty values (NULL) left out. A sample that cannot be
/// read gives no values.
pub fn column_values(sample: &[u8], dialect: &CsvDialect, columns: usize) -> Vec<Vec<String>> {
    let sample = strip_bom(sample);
    let end = sample
        .iter()
        .rposition(|&b| b == b'\n' || b == b'\r')
        .map_or(sample.len(), |at| at + 1);
    let format = arrow_format(dialect)
        .with_header(dialect.has_header)
        .with_truncated_rows(true);
    text_columns(&sample[..end], format, columns, SNIFF_RECORDS)
        .unwrap_or_else(|_| vec![Vec::new(); columns])
}

fn text_columns(
    sample: &[u8],
    format: Format,
    columns: usize,
    records: usize,
) -> Result<Vec<Vec<String>>, FormatError> {
    let schema = Arc::new(Schema::new(
        (0..columns)
            .map(|i| Field::new(format!("c{i}"), DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let reader = ArrowReaderBuilder::new(schema)
        .with_format(format)
        .build(Cursor::new(sample))
        .map_err(|e| FormatError::Decode {
            message: format!("cannot read the start of the file: {e}"),
        })?;
    let mut out = vec![Vec::new(); columns];
    let mut seen = 0;
    for batch in reader {
        let batch = batch.map_err(|e| FormatError::Decode {
            message: format!("cannot read the start of the file: {e}"),
        })?;
        for (column, values) in batch.columns().iter().zip(out.iter_mut()) {
            let Some(text) = column.as_any().downcast_ref::<StringArray>() else {
                continue;
            };
            values.extend(
                text.iter()
                    .take(records - seen)
                    .flatten()
                    .map(str::to_owned),
            );
        }
        seen += batch.num_rows();
        if seen >= records {
            break;
        }
    }
    Ok(out)
}

/// Every dialect the options leave open, best-preferred first (the hinted
/// delimiter before the others): quotes `"`, `'`, none; escapes as
/// [`escapes_for`] orders them. Without a `comment` option, `#` is tried as
/// DuckDB 1.5.5 tries it (its comment candidates: none, `#`) when a line
/// of the sample starts with it, after every dialect without one: it wins
/// only where it makes more rows agree (`# exported 2024` before a header).
fn candidates(
    sample: &[u8],
    options: &ReadOptions,
    delimiter_hint: Option<u8>,
) -> impl Iterator<Item = Candidate> {
    let delimiters = match (options.delimiter, delimiter_hint) {
        (Some(d), _) => vec![d],
        (None, Some(hint)) => std::iter::once(hint)
            .chain(DELIMITERS.into_iter().filter(|&d| d != hint))
            .collect(),
        (None, None) => DELIMITERS.to_vec(),
    };
    // DuckDB also tries no quote at all (unless an escape is given), first;
    // here last, so it wins only where no quote splits the sample as well;
    // a sample that quotes nothing is then read without one, as DuckDB's
    // (see `sniff_csv_sample`).
    let quotes = match (options.quote, options.escape) {
        (Some(q), _) => vec![q],
        (None, Some(_)) => QUOTES.map(Some).to_vec(),
        (None, None) => QUOTES.map(Some).into_iter().chain([None]).collect(),
    };
    let comments = match options.comment {
        Some(comment) => vec![Some(comment)],
        None if sample.starts_with(b"#") || memchr::memmem::find(sample, b"\n#").is_some() => {
            vec![None, Some(b'#')]
        }
        None => vec![None],
    };
    let mut all = Vec::new();
    for (comment, quote) in comments
        .into_iter()
        .flat_map(|c| quotes.iter().map(move |&q| (c, q)))
    {
        let escapes = match (options.escape, quote) {
            (Some(escape), _) => vec![escape],
            (None, None) => vec![None],
            (None, Some(q)) => escapes_for(sample, q),
        };
        for escape in escapes {
            for &delimiter in &delimiters {
                all.push(Candidate {
                    delimiter,
                    quote,
                    escape,
                    comment,
                });
            }
        }
    }
    // Quote before escape before delimiter in preference: a sample with no
    // quotes at all then ties and the first quote wins.
    all.into_iter()
}

/// DuckDB 1.5.5's escape candidates for the quote `q`, in its order: the
/// doubled quote, then `"`, `'` (when not `q`) and a backslash. One that
/// never stands right before `q` in the sample splits it as the doubled
/// quote does, and cannot win (the doubled quote is earlier), so it is
/// not tried. An escape wins only where the earlier ones fail DuckDB's
/// strict mode ([`quoting`]): `|x"|y|`, which DuckDB's COPY wrote with
/// QUOTE '|', is `x|y`; `"C:\\dir\\"` is `C:\\dir\\`, not `C:\dir\`.
fn escapes_for(sample: &[u8], q: u8) -> Vec<Option<u8>> {
    let before_quote = |e: u8| e != q && memchr::memmem::find(sample, &[e, q]).is_some();
    std::iter::once(None)
        .chain(
            [b'"', b'\'', b'\\']
                .into_iter()
                .filter(|&e| before_quote(e))
                .map(Some),
        )
        .collect()
}

/// The escape of a dialect not sniffed: the doubled quote for `"`, else
/// DuckDB's default ESCAPE, `"` (a QUOTE '|' file reads `|x"|y|` as
/// `x|y`, as DuckDB wrote it).
fn default_escape(quote: Option<Option<u8>>) -> Option<u8> {
    match quote {
        Some(Some(q)) if q != b'"' => Some(b'"'),
        _ => None,
    }
}

/// arrow-csv's reading of `dialect`, without a header.
fn arrow_format(dialect: &CsvDialect) -> Format {
    let mut format = Format::default()
        .with_header(false)
        .with_delimiter(dialect.delimiter)
        .with_quote(dialect.quote_byte());
    if let Some(escape) = dialect.escape {
        format = format.with_escape(escape);
    }
    if let Some(comment) = dialect.comment {
        format = format.with_comment(comment);
    }
    format
}

#[path = "sniff_header.rs"]
mod header;
#[path = "sniff_split.rs"]
mod split;
use header::first_row_is_header;
use split::{Ragged, best_of, best_valid, quoted_even, split_all, split_by_each};

#[cfg(test)]
#[path = "sniff_tests.rs"]
mod tests;

//! DuckDB's JSON types where arrow-json's inference differs: integers past
//! BIGINT (arrow: a rounded DOUBLE; DuckDB: HUGEINT, exact) and strings
//! that are all ISO dates or timestamps of one shape (arrow: VARCHAR;
//! DuckDB: DATE, TIMESTAMP). The sample's values of such columns are read
//! back as text and looked at.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use datafusion::arrow::array::{Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::json::ReaderBuilder;
use datafusion::arrow::json::reader::infer_json_schema_from_iterator;
use serde_json::Value;

use crate::FormatError;
use crate::sniff::leap_second;
use crate::temporal::{DATE, TIMESTAMP};

/// The columns of the JSON records in `sample` (newline-delimited, values
/// one after another however they are laid out, or one whole array of
/// records), from its first `records` records, typed as DuckDB 1.5.5
/// types them: arrow-json's
/// inference, then [`json_types`]; a key whose values are of more than one
/// kind (a number in one record, a string in another) is a JSON column
/// (arrow's `arrow.json` extension over VARCHAR), each value its JSON text,
/// where arrow would type it VARCHAR and then refuse every number in it.
/// A record that is not valid JSON is an error naming its line. Unless
/// `whole` (the sample is the file), a record the sample's end cuts ends
/// the sample (also an element of an array the sample's end cuts: the
/// array's whole elements are its records); `None` when it holds no whole
/// record.
pub fn infer_json(
    sample: &[u8],
    records: usize,
    whole: bool,
) -> Result<Option<Schema>, FormatError> {
    let mut values = Vec::new();
    let mut stream = serde_json::Deserializer::from_slice(sample).into_iter::<Value>();
    // The end of the last whole record read.
    let mut end = 0;
    while values.len() < records {
        let Some(value) = stream.next() else { break };
        match value {
            // An array is the file's records: what follows it is left to
            // the reader (DataFusion's reads the array alone).
            Ok(value) if value.is_array() && values.is_empty() => {
                values.push(value);
                break;
            }
            Ok(value) => {
                values.push(value);
                end = stream.byte_offset();
            }
            Err(e) if e.is_eof() && !whole => break,
            Err(e) => {
                return Err(FormatError::Decode {
                    message: format!("cannot infer the columns from the start of the file: {e}"),
                });
            }
        }
    }
    if values.is_empty() && !whole {
        match cut_array(sample, records) {
            Some(elements) if !elements.is_empty() => values.push(Value::Array(elements)),
            _ => return Ok(None),
        }
    }
    // One array of records: its records, as newline-delimited text for
    // the typing below.
    let mut lines = None;
    if let [Value::Array(array)] = values.as_mut_slice() {
        let mut array = std::mem::take(array);
        array.truncate(records);
        let text: Vec<String> = array.iter().map(Value::to_string).collect();
        lines = Some(text.join("\n"));
        values = array;
    }
    let mixed = mixed_keys(&values);
    for value in &mut values {
        if let Value::Object(members) = value {
            for key in &mixed {
                if let Some(v) = members.get_mut(key.as_str()) {
                    *v = Value::Null;
                }
            }
        }
    }
    let inferred = infer_json_schema_from_iterator(values.iter().map(Ok)).map_err(|e| {
        FormatError::Decode {
            message: format!("cannot infer the columns from the start of the file: {e}"),
        }
    })?;
    let fields: Vec<Field> = inferred
        .fields()
        .iter()
        .map(|f| match mixed.contains(f.name()) {
            true => json_column(f.name()),
            false => f.as_ref().clone(),
        })
        .collect();
    let schema = Schema::new_with_metadata(fields, inferred.metadata().clone());
    let text = lines.as_ref().map_or(&sample[..end], |l| l.as_bytes());
    json_types(&schema, text, records).map(Some)
}

/// How many of the first `records` records `sample`, the start of a JSON
/// file, holds whole, counted as [`infer_json`] reads them (values one
/// after another, or the whole elements of the array the sample starts);
/// `records` when it holds a whole array or a value that is not JSON (no
/// more bytes would change what [`infer_json`] says).
pub fn whole_json_records(sample: &[u8], records: usize) -> usize {
    let mut stream = serde_json::Deserializer::from_slice(sample).into_iter::<Value>();
    let mut held = 0;
    while held < records {
        match stream.next() {
            Some(Ok(value)) if value.is_array() && held == 0 => return records,
            Some(Ok(_)) => held += 1,
            Some(Err(e)) if !e.is_eof() => return records,
            _ => break,
        }
    }
    match held {
        0 => cut_array(sample, records).map_or(0, |elements| elements.len()),
        _ => held,
    }
}

/// The first `records` whole elements of the JSON array `sample` starts,
/// its end cutting the array (each element parsed by serde_json; an
/// element the end cuts is left out); `None` when `sample` starts no array.
fn cut_array(sample: &[u8], records: usize) -> Option<Vec<Value>> {
    let blank = |from: usize| {
        sample[from.min(sample.len())..]
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map(|at| from + at)
    };
    let open = blank(0).filter(|&at| sample[at] == b'[')?;
    // serde_json read the sample up to the cut without an error,
    // so each element is whole or cut, and followed by `,`, `]` or the cut.
    let mut elements = Vec::new();
    let mut next = blank(open + 1);
    while let Some(at) = next.filter(|_| elements.len() < records) {
        let mut stream = serde_json::Deserializer::from_slice(&sample[at..]).into_iter::<Value>();
        let Some(Ok(value)) = stream.next() else {
            break;
        };
        elements.push(value);
        next = blank(at + stream.byte_offset())
            .filter(|&comma| sample[comma] == b',')
            .and_then(|comma| blank(comma + 1));
    }
    Some(elements)
}

/// A column of JSON text (DuckDB's JSON type): VARCHAR marked with arrow's
/// canonical `arrow.json` extension, as a Parquet JSON column reads.
fn json_column(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true).with_metadata(HashMap::from([(
        EXTENSION_NAME.to_owned(),
        JSON_EXTENSION.to_owned(),
    )]))
}

/// The field metadata key naming an arrow extension type.
const EXTENSION_NAME: &str = "ARROW:extension:name";

/// Arrow's canonical extension type of JSON text.
const JSON_EXTENSION: &str = "arrow.json";

/// Whether `field` is a column of JSON text ([`infer_json`]'s JSON columns).
pub fn is_json_column(field: &Field) -> bool {
    field.data_type() == &DataType::Utf8
        && field.metadata().get(EXTENSION_NAME).map(String::as_str) == Some(JSON_EXTENSION)
}

/// The top-level keys of `records` whose values (NULL aside) are of more
/// than one JSON kind: string, number, boolean, object, array.
fn mixed_keys(records: &[Value]) -> Vec<String> {
    let kind = |v: &Value| match v {
        Value::Null => None,
        Value::Bool(_) => Some(0),
        Value::Number(_) => Some(1),
        Value::String(_) => Some(2),
        Value::Array(_) => Some(3),
        Value::Object(_) => Some(4),
    };
    let mut seen: HashMap<&str, u8> = HashMap::new();
    let mut mixed: Vec<String> = Vec::new();
    for members in records.iter().filter_map(Value::as_object) {
        for (key, value) in members {
            let Some(kind) = kind(value) else { continue };
            let first = *seen.entry(key.as_str()).or_insert(kind);
            if first != kind && !mixed.iter().any(|m| m == key) {
                mixed.push(key.clone());
            }
        }
    }
    mixed
}

/// `inferred` (arrow's schema of newline-delimited `sample`) with DuckDB's
/// types for its top-level columns, judged on the first `records` records:
/// DOUBLE columns holding only integer literals become HUGEINT
/// (`Decimal128(38, 0)`, as `types` maps HUGEINT), VARCHAR columns holding
/// only ISO dates DATE, only ISO timestamps of one shape TIMESTAMP (a
/// `Z` or an offset is applied: the instant in UTC, as DuckDB reads it).
fn json_types(inferred: &Schema, sample: &[u8], records: usize) -> Result<Schema, FormatError> {
    let candidate = |f: &Field| {
        matches!(f.data_type(), DataType::Float64 | DataType::Utf8) && !is_json_column(f)
    };
    if !inferred.fields().iter().any(|f| candidate(f)) {
        return Ok(inferred.clone());
    }
    let text: Vec<Field> = inferred
        .fields()
        .iter()
        .filter(|f| candidate(f))
        .map(|f| Field::new(f.name(), DataType::Utf8, true))
        .collect();
    let reader = ReaderBuilder::new(Arc::new(Schema::new(text.clone())))
        .with_coerce_primitive(true)
        .build(Cursor::new(sample))
        .map_err(|e| FormatError::Decode {
            message: format!("cannot read the start of the file: {e}"),
        })?;
    let mut values: Vec<Vec<String>> = vec![Vec::new(); text.len()];
    let mut seen = 0;
    for batch in reader {
        let batch = batch.map_err(|e| FormatError::Decode {
            message: format!("cannot read the start of the file: {e}"),
        })?;
        let take = (records - seen).min(batch.num_rows());
        for (column, out) in batch.columns().iter().zip(values.iter_mut()) {
            if let Some(strings) = column.as_any().downcast_ref::<StringArray>() {
                out.extend(strings.slice(0, take).iter().flatten().map(str::to_owned));
            }
        }
        seen += take;
        if seen >= records {
            break;
        }
    }
    let fields: Vec<Field> = inferred
        .fields()
        .iter()
        .map(|f| {
            let at = text.iter().position(|t| t.name() == f.name());
            let typed = at.and_then(|at| refined(f.data_type(), &values[at]));
            match typed {
                Some(data_type) => Field::new(f.name(), data_type, true),
                None => f.as_ref().clone(),
            }
        })
        .collect();
    Ok(Schema::new_with_metadata(
        fields,
        inferred.metadata().clone(),
    ))
}

/// DuckDB's type for a column arrow typed `data_type`, from its `values`.
fn refined(data_type: &DataType, values: &[String]) -> Option<DataType> {
    if values.is_empty() {
        return None;
    }
    match data_type {
        DataType::Float64 if values.iter().all(|v| huge_integer(v)) => {
            Some(DataType::Decimal128(38, 0))
        }
        DataType::Utf8 if values.iter().all(|v| iso_date(v)) => Some(DATE),
        DataType::Utf8 if one_timestamp_shape(values) => Some(TIMESTAMP),
        _ => None,
    }
}

/// An integer literal of at most 38 digits.
fn huge_integer(value: &str) -> bool {
    let digits = value.strip_prefix('-').unwrap_or(value);
    !digits.is_empty() && digits.len() <= 38 && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `YYYY-MM-DD`.
fn iso_date(value: &str) -> bool {
    value.len() == 10 && NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok()
}

/// How a timestamp string is written, as far as DuckDB 1.5.5's JSON reader
/// tells them apart: it types a column TIMESTAMP when all its values share
/// one of these (one strptime format), else VARCHAR. MindsDB's INSERT
/// writes new values of such a column in its shape ([`Self::write`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimestampShape {
    /// `YYYY-MM-DD HH:MM:SS`, with a fraction of a second or not.
    Spaced {
        /// Whether the seconds have a fraction (`.5`).
        fraction: bool,
    },
    /// `YYYY-MM-DDTHH:MM:SS` (with a fraction, DuckDB keeps it text).
    Plain,
    /// `YYYY-MM-DDTHH:MM:SS[.f]` and `Z` (`utc`) or `+hh`, `+hhmm`, `+hh:mm`.
    Zoned {
        /// Whether the seconds have a fraction (`.5`).
        fraction: bool,
        /// `Z` rather than an offset.
        utc: bool,
    },
}

/// Whether every value is a timestamp, all of one [`TimestampShape`].
fn one_timestamp_shape(values: &[String]) -> bool {
    let first = values.first().and_then(|v| timestamp_shape(v));
    first.is_some() && values.iter().all(|v| timestamp_shape(v) == first)
}

impl TimestampShape {
    /// `time` (an instant in UTC) written in this shape: a zoned shape
    /// says UTC (`Z`, or `+00:00`); a shape with a fraction of a second
    /// always has one. `None` when `time` has a fraction and the shape has
    /// none (written so, the column would read as VARCHAR).
    pub fn write(self, time: NaiveDateTime) -> Option<String> {
        let (separator, fraction, zone) = match self {
            TimestampShape::Spaced { fraction } => (' ', fraction, ""),
            TimestampShape::Plain => ('T', false, ""),
            TimestampShape::Zoned { fraction, utc } => {
                ('T', fraction, if utc { "Z" } else { "+00:00" })
            }
        };
        let micros = time.and_utc().timestamp_subsec_micros();
        if micros != 0 && !fraction {
            return None;
        }
        let mut text = time
            .format(&format!("%Y-%m-%d{separator}%H:%M:%S"))
            .to_string();
        if fraction {
            let digits = format!("{micros:06}");
            let digits = digits.trim_end_matches('0');
            text.push('.');
            text.push_str(if digits.is_empty() { "0" } else { digits });
        }
        text.push_str(zone);
        Some(text)
    }
}

/// The shape of `value`, `None` when DuckDB's JSON reader does not read it
/// as a timestamp (a zone after a space, a lower-case `z`, a named zone, a
/// leap second: chrono reads `10:00:60` as 10:01:00).
pub fn timestamp_shape(value: &str) -> Option<TimestampShape> {
    if leap_second(value, 11) {
        return None;
    }
    let (date, rest) = (value.get(..10)?, value.get(10..)?);
    let (separator, rest) = (rest.as_bytes().first()?, rest.get(1..)?);
    let (time, rest) = (rest.get(..8)?, rest.get(8..)?);
    NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M:%S").ok()?;
    let (fraction, zone) = match rest.strip_prefix('.') {
        Some(digits) => {
            let zone = digits.trim_start_matches(|c: char| c.is_ascii_digit());
            if zone.len() == digits.len() {
                return None;
            }
            (true, zone)
        }
        None => (false, rest),
    };
    let utc = match zone {
        "" => None,
        "Z" => Some(true),
        offset if is_offset(offset) => Some(false),
        _ => return None,
    };
    match (separator, utc) {
        (b' ', None) => Some(TimestampShape::Spaced { fraction }),
        (b'T', None) if !fraction => Some(TimestampShape::Plain),
        (b'T', Some(utc)) => Some(TimestampShape::Zoned { fraction, utc }),
        _ => None,
    }
}

/// `+hh`, `+hhmm` or `+hh:mm` (or `-`).
fn is_offset(text: &str) -> bool {
    let Some(rest) = text.strip_prefix(['+', '-']) else {
        return false;
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    match rest.split_once(':') {
        Some((hours, minutes)) => digits(hours, 2) && digits(minutes, 2),
        None => digits(rest, 2) || digits(rest, 4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The records a cut sample holds whole, up to the count asked for:
    /// lines, values over lines, a cut array's elements; a whole array or
    /// text that is not JSON needs no more bytes.
    #[test]
    fn whole_json_records_counts_what_a_cut_sample_holds() {
        let cases: &[(&str, usize, usize)] = &[
            ("{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3", 10, 2),
            ("{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3}\n", 2, 2),
            ("{\"a\":\n 1} {\"a\": 2} {\"a\"", 10, 2),
            ("[{\"a\": 1}, {\"a\": 2}, {\"a\":", 10, 2),
            ("[{\"a\": 1}, {\"a\": 2}, {\"a\": 3}, {", 2, 2),
            ("[{\"a\": 1}]", 10, 10),
            ("[{\"a\": 1", 10, 0),
            ("", 10, 0),
            ("{\"a\": 1}\nnot json\n", 10, 10),
        ];
        for &(sample, records, held) in cases {
            assert_eq!(
                whole_json_records(sample.as_bytes(), records),
                held,
                "{sample:?}"
            );
        }
    }

    #[test]
    fn integers_past_bigint_are_hugeint_and_iso_strings_are_dates_or_timestamps() {
        let sample = b"{\"id\": 12345678901234567890, \"d\": \"2024-01-02\", \"ts\": \"2024-01-02 03:04:05\", \"f\": 1.5, \"s\": \"x\"}\n{\"id\": 1, \"d\": null, \"ts\": \"2024-01-02 13:04:05\", \"f\": 2, \"s\": \"2024-01-02\"}\n";
        let inferred = Schema::new(vec![
            Field::new("id", DataType::Float64, true),
            Field::new("d", DataType::Utf8, true),
            Field::new("ts", DataType::Utf8, true),
            Field::new("f", DataType::Float64, true),
            Field::new("s", DataType::Utf8, true),
        ]);
        let schema = json_types(&inferred, sample, 100).unwrap();
        let types: Vec<&DataType> = schema.fields().iter().map(|f| f.data_type()).collect();
        assert_eq!(
            types,
            [
                &DataType::Decimal128(38, 0),
                &DATE,
                &TIMESTAMP,
                &DataType::Float64,
                &DataType::Utf8
            ]
        );
    }

    /// What DuckDB 1.5.5's JSON reader types a column of these values
    /// (each list one column): TIMESTAMP only for one shape throughout.
    #[test]
    fn timestamps_of_one_shape_are_timestamps_as_in_duckdb() {
        let timestamp = [
            &["2024-01-01T00:00:00Z"][..],
            &["2024-01-01T00:00:00.5Z", "2024-01-01T00:00:00.123456Z"],
            &["2024-01-01T00:00:00+02:00", "2024-01-01T00:00:00-03:00"],
            &["2024-01-01T00:00:00+02", "2024-01-01T00:00:00+0300"],
            &["2024-01-01T00:00:00.5+02:00"],
            &["2024-01-01T00:00:00"],
            &["2024-01-01 00:00:00"],
            &["2024-01-01 00:00:00.5"],
        ];
        let text = [
            &["2024-01-01 00:00:00+02:00"][..],
            &["2024-01-01 00:00:00Z"],
            &["2024-01-01T00:00:00.5"],
            &["2024-01-01T00:00:00z"],
            &["2024-01-01T00:00:00Z", "2024-01-01T00:00:00.5Z"],
            &["2024-01-01T00:00:00Z", "2024-01-01T00:00:00+02:00"],
            &["2024-01-01T00:00:00Z", "2024-01-01T00:00:00"],
            &["2024-01-01 00:00:00", "2024-01-01T00:00:00"],
            &["2024-01-01 00:00:00", "2024-01-01 00:00:00.5"],
            &["2024-13-01T00:00:00Z"],
        ];
        let refine = |values: &[&str]| {
            let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
            refined(&DataType::Utf8, &values)
        };
        for values in timestamp {
            assert_eq!(refine(values), Some(TIMESTAMP), "{values:?}");
        }
        for values in text {
            assert_eq!(refine(values), None, "{values:?}");
        }
    }

    /// Keys of mixed kinds are JSON columns; the records of an array, or
    /// of values over lines cut by the sample's end, are typed alike.
    #[test]
    fn mixed_keys_are_json_columns_in_any_layout() {
        let kinds = |schema: &Schema| -> Vec<(String, bool, DataType)> {
            let fields = schema.fields().iter();
            fields
                .map(|f| (f.name().clone(), is_json_column(f), f.data_type().clone()))
                .collect()
        };
        let expected = vec![
            ("a".to_string(), true, DataType::Utf8),
            ("d".to_string(), false, DATE),
        ];
        let lines = b"{\"a\":1,\"d\":\"2024-01-02\"}\n{\"a\":{\"x\":[1]}}\n{\"a\":\"s\"}\n";
        let array = b"[{\"a\":1,\"d\":\"2024-01-02\"}, {\"a\":true}]";
        let cut = b"{\n \"a\": 1,\n \"d\": \"2024-01-02\"\n}\n{\n \"a\": \"s\"\n}\n{\n \"a\": [";
        // An array the sample's end cuts: its whole elements.
        let cut_array = b" [\n  {\"a\":1,\"d\":\"2024-01-02\"} ,\n  {\"a\":true},{\"a\":[1, {\"";
        let samples = [
            (&lines[..], true),
            (array, true),
            (cut, false),
            (cut_array, false),
        ];
        for (text, whole) in samples {
            let schema = infer_json(text, 100, whole).unwrap().unwrap();
            assert_eq!(
                kinds(&schema),
                expected,
                "{}",
                String::from_utf8_lossy(text)
            );
        }
        assert!(infer_json(b"{\"a\": [1,", 100, false).unwrap().is_none());
        assert!(infer_json(b"[{\"a\": [1,", 100, false).unwrap().is_none());
        let err = infer_json(b"[{\"a\":1} {\"a\":2}, {\"a\"", 100, false).unwrap_err();
        assert!(err.to_string().contains("line 1 column 10"), "{err}");
        let err = infer_json(b"{\"a\":1}\n{\"a\":2}\n{\"a\":}\n", 100, true).unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
    }

    /// A value written in a shape has that shape again.
    #[test]
    fn a_shape_writes_values_of_its_shape() {
        let time =
            |text: &str| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").unwrap();
        for (old, new, written) in [
            (
                "2024-01-01T00:00:00Z",
                "2024-05-06 01:02:03",
                Some("2024-05-06T01:02:03Z"),
            ),
            (
                "2024-01-01T00:00:00.5Z",
                "2024-05-06 01:02:03",
                Some("2024-05-06T01:02:03.0Z"),
            ),
            ("2024-01-01T00:00:00+02", "2024-05-06 01:02:03.25", None),
            (
                "2024-01-01T00:00:00.1+02",
                "2024-05-06 01:02:03.25",
                Some("2024-05-06T01:02:03.25+00:00"),
            ),
            (
                "2024-01-01T00:00:00",
                "2024-05-06 01:02:03",
                Some("2024-05-06T01:02:03"),
            ),
            (
                "2024-01-01 00:00:00.5",
                "2024-05-06 01:02:03.000001",
                Some("2024-05-06 01:02:03.000001"),
            ),
        ] {
            let shape = timestamp_shape(old).unwrap();
            let text = shape.write(time(new));
            assert_eq!(text.as_deref(), written, "{old}");
            if let Some(text) = text {
                assert_eq!(timestamp_shape(&text), Some(shape), "{text}");
            }
        }
    }
}

//! [`DuckText`]: a value's text as DuckDB 1.5.5 writes it, the one
//! rendering behind CSV fields, JSON's temporal and BLOB strings and hive
//! partition names. arrow's formatters give the rest; DuckDB differs on
//! doubles (`1e+20`, `1e-07`, `nan`, `inf`; Python's shortest form),
//! BLOBs (`\xAA` for a byte outside printable ASCII and for `"`, `'`,
//! `\`), fractions of a second (no trailing zeros, `03:04:05.25`), zoned
//! timestamps (a space and the offset as `+00`, `+05:30`) and infinite
//! timestamps (`infinity`, `-infinity`), years before 1 (`0045-03-15 (BC)`)
//! and after 9999 (no `+`), INTERVALs (`1 year 2 months 3 days 04:05:06.5`),
//! and on LIST, STRUCT and MAP
//! ([`super::nested`]); a dictionary-encoded column (an arrow-written
//! Parquet file's) as its values, each value's text picked by its key.
//! Integers, strings and doubles
//! skip `core::fmt` (itoa, the string itself, [`super::float`]): CSV of
//! a million rows was 1.7x slower through it.

use datafusion::arrow::array::{
    Array, AsArray, Float32Array, Float64Array, Int64Array, LargeStringArray, StringArray,
    StringViewArray,
};
use datafusion::arrow::datatypes::{
    DataType, DurationMicrosecondType, DurationMillisecondType, DurationNanosecondType,
    DurationSecondType, Field, Int8Type, Int16Type, Int32Type, Int64Type, IntervalDayTimeType,
    IntervalMonthDayNanoType, IntervalUnit, IntervalYearMonthType, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::DataFusionError;

use super::float;
use super::nested::NestedText;
use crate::error::Result;

/// DuckDB's text form of timestamps (a space, not arrow's `T`).
pub(crate) const TIMESTAMP_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.f";

/// Zoned timestamps: the offset with a colon, its `:00` dropped after.
const TIMESTAMP_TZ_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.f%:z";

/// Whether the value at `row` is NULL: every value of an array of type
/// NULL is, though it has no validity buffer (`Array::is_null` reads the
/// buffer, so says false for them); so is a dictionary's row whose key
/// picks a NULL value.
pub(crate) fn is_null(array: &dyn Array, row: usize) -> bool {
    match array.data_type() {
        DataType::Null => true,
        DataType::Dictionary(..) => array.is_null(row) || dictionary_value_is_null(array, row),
        _ => array.is_null(row),
    }
}

/// Whether the (non-null) key at `row` of the dictionary `array` picks a
/// NULL value.
fn dictionary_value_is_null(array: &dyn Array, row: usize) -> bool {
    let dictionary = array.as_any_dictionary();
    let values = dictionary.values();
    if values.null_count() == 0 && values.data_type() != &DataType::Null {
        return false;
    }
    let keys = dictionary.keys();
    let key = match keys.data_type() {
        DataType::Int8 => keys.as_primitive::<Int8Type>().value(row) as usize,
        DataType::Int16 => keys.as_primitive::<Int16Type>().value(row) as usize,
        DataType::Int32 => keys.as_primitive::<Int32Type>().value(row) as usize,
        DataType::Int64 => keys.as_primitive::<Int64Type>().value(row) as usize,
        DataType::UInt8 => usize::from(keys.as_primitive::<UInt8Type>().value(row)),
        DataType::UInt16 => usize::from(keys.as_primitive::<UInt16Type>().value(row)),
        DataType::UInt32 => keys.as_primitive::<UInt32Type>().value(row) as usize,
        _ => keys.as_primitive::<UInt64Type>().value(row) as usize,
    };
    is_null(values.as_ref(), key)
}

/// The arrow formatting options [`DuckText`] builds on.
pub(crate) fn format_options() -> FormatOptions<'static> {
    FormatOptions::new()
        .with_display_error(false)
        .with_timestamp_format(Some(TIMESTAMP_FORMAT))
        .with_timestamp_tz_format(Some(TIMESTAMP_TZ_FORMAT))
        .with_datetime_format(Some(TIMESTAMP_FORMAT))
}

/// How a column's values are written: arrow's text, or ours where
/// DuckDB's differs or where going through `core::fmt` is slow.
enum Kind<'a> {
    Arrow(ArrayFormatter<'a>),
    /// BIGINTs, written by itoa: the common integer, matched once per
    /// column rather than per value.
    Int64(&'a Int64Array),
    /// The other integers, written by itoa.
    Integer,
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Utf8View(&'a StringViewArray),
    Float32(&'a Float32Array),
    Float64(&'a Float64Array),
    Blob,
    /// UUIDs (16 bytes, arrow's `arrow.uuid`): dashed lower-case hex.
    Uuid,
    /// Times and timestamps without a zone: fraction trimmed.
    Trimmed(ArrayFormatter<'a>),
    /// Timestamps with a zone: fraction trimmed, offset shortened.
    Zoned(ArrayFormatter<'a>),
    /// Dates: years before 1 as `(BC)`, after 9999 without `+`.
    Date(ArrayFormatter<'a>),
    /// INTERVALs, and DURATIONs (`timestamp - timestamp`) as the INTERVAL
    /// DuckDB's subtraction gives.
    Interval,
    /// LIST, STRUCT, MAP.
    Nested(Box<NestedText<'a>>),
    /// Dictionary-encoded values: the text of the value each row's key
    /// picks, written as the values' type is.
    Dictionary {
        keys: Vec<usize>,
        values: Box<DuckText<'a>>,
    },
}

/// One column's values as DuckDB's text.
pub(crate) struct DuckText<'a> {
    array: &'a dyn Array,
    kind: Kind<'a>,
    /// The column's name, for errors.
    name: &'a str,
}

impl<'a> DuckText<'a> {
    /// The text of `array`'s values (the column `name`), with `options`
    /// from [`format_options`].
    pub(crate) fn try_new(
        array: &'a dyn Array,
        name: &'a str,
        options: &FormatOptions<'a>,
    ) -> Result<Self> {
        let kind = match array.data_type() {
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64 => Kind::Integer,
            DataType::Int64 => Kind::Int64(array.as_primitive()),
            DataType::Utf8 => Kind::Utf8(array.as_string()),
            DataType::LargeUtf8 => Kind::LargeUtf8(array.as_string()),
            DataType::Utf8View => Kind::Utf8View(array.as_string_view()),
            DataType::Float32 => Kind::Float32(array.as_primitive()),
            DataType::Float64 => Kind::Float64(array.as_primitive()),
            DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_) => Kind::Blob,
            DataType::Timestamp(_, Some(_)) => {
                Kind::Zoned(ArrayFormatter::try_new(array, options)?)
            }
            DataType::Timestamp(_, None) | DataType::Time32(_) | DataType::Time64(_) => {
                Kind::Trimmed(ArrayFormatter::try_new(array, options)?)
            }
            DataType::Date32 | DataType::Date64 => {
                Kind::Date(ArrayFormatter::try_new(array, options)?)
            }
            DataType::Interval(_) | DataType::Duration(_) => Kind::Interval,
            DataType::Dictionary(..) => {
                let dictionary = array.as_any_dictionary();
                Kind::Dictionary {
                    keys: dictionary.normalized_keys(),
                    values: Box::new(Self::try_new(dictionary.values().as_ref(), name, options)?),
                }
            }
            // Elements of nested values are written as DuckDB casts them,
            // without the COPY's DATEFORMAT or TIMESTAMPFORMAT.
            _ => match NestedText::try_new(array, name, &format_options())? {
                Some(nested) => Kind::Nested(Box::new(nested)),
                None => Kind::Arrow(ArrayFormatter::try_new(array, options)?),
            },
        };
        Ok(Self { array, kind, name })
    }

    /// [`DuckText::try_new`] of the column `field`, whose extension type
    /// says more than its arrow type: a UUID (`arrow.uuid`, 16 bytes) is
    /// written as DuckDB writes it, `0b3b1e7e-8f6a-4c2d-9e1f-2a3b4c5d6e7f`,
    /// not as a BLOB.
    pub(crate) fn for_field(
        array: &'a dyn Array,
        field: &'a Field,
        options: &FormatOptions<'a>,
    ) -> Result<Self> {
        let mut text = Self::try_new(array, field.name(), options)?;
        if is_uuid(field) {
            text.kind = Kind::Uuid;
        }
        Ok(text)
    }

    /// The values.
    pub(crate) fn array(&self) -> &'a dyn Array {
        self.array
    }

    /// Timestamps as the format given, not trimmed nor their offset
    /// shortened (a TIMESTAMPFORMAT says exactly what to write).
    pub(crate) fn verbatim_timestamps(mut self) -> Self {
        let timestamps = matches!(self.array.data_type(), DataType::Timestamp(..));
        self.kind = match self.kind {
            Kind::Trimmed(f) | Kind::Zoned(f) if timestamps => Kind::Arrow(f),
            Kind::Dictionary { keys, values } => Kind::Dictionary {
                keys,
                values: Box::new(values.verbatim_timestamps()),
            },
            other => other,
        };
        self
    }

    /// Dates as the format given (a DATEFORMAT says what to write).
    pub(crate) fn verbatim_dates(mut self) -> Self {
        self.kind = match self.kind {
            Kind::Date(f) => Kind::Arrow(f),
            Kind::Dictionary { keys, values } => Kind::Dictionary {
                keys,
                values: Box::new(values.verbatim_dates()),
            },
            other => other,
        };
        self
    }

    /// Whether the column holds integers or floats, whose text is made of
    /// digits, `+-.e` and the letters of `inf` and `nan` only.
    pub(crate) fn is_number(&self) -> bool {
        match &self.kind {
            Kind::Int64(_) | Kind::Integer | Kind::Float32(_) | Kind::Float64(_) => true,
            Kind::Dictionary { values, .. } => values.is_number(),
            _ => false,
        }
    }

    /// The (non-null) string at `row` when the column holds strings,
    /// which are their own text: no copy.
    pub(crate) fn as_str(&self, row: usize) -> Option<&'a str> {
        match &self.kind {
            Kind::Utf8(a) => Some(a.value(row)),
            Kind::LargeUtf8(a) => Some(a.value(row)),
            Kind::Utf8View(a) => Some(a.value(row)),
            Kind::Dictionary { keys, values } => values.as_str(keys[row]),
            _ => None,
        }
    }

    /// Writes the (non-null) value at `row` into `out`, which is cleared
    /// first.
    pub(crate) fn write(&self, row: usize, out: &mut String) -> Result<()> {
        out.clear();
        self.push(row, out)
    }

    /// Appends the (non-null) value at `row` to `out`.
    pub(crate) fn push(&self, row: usize, out: &mut String) -> Result<()> {
        match &self.kind {
            Kind::Int64(a) => out.push_str(itoa::Buffer::new().format(a.value(row))),
            Kind::Integer => push_integer(self.array, row, out),
            Kind::Utf8(_) | Kind::LargeUtf8(_) | Kind::Utf8View(_) => {
                out.push_str(self.as_str(row).unwrap_or_default());
            }
            Kind::Float32(a) => float::push_python(f64::from(a.value(row)), true, out),
            Kind::Float64(a) => float::push_python(a.value(row), false, out),
            Kind::Blob => push_blob(self.array, row, out),
            Kind::Uuid => push_uuid(self.array.as_fixed_size_binary().value(row), out),
            Kind::Trimmed(f) | Kind::Zoned(f) => {
                if let Some(infinite) = infinity(self.array, row) {
                    out.push_str(infinite);
                    return Ok(());
                }
                let start = out.len();
                self.arrow(f, row, out)?;
                trim_fraction(out, start);
                if matches!(self.kind, Kind::Zoned(_)) {
                    shorten_offset(out, start);
                }
                if !matches!(
                    self.array.data_type(),
                    DataType::Time32(_) | DataType::Time64(_)
                ) {
                    duck_year(out, start);
                }
            }
            Kind::Date(f) => {
                let start = out.len();
                self.arrow(f, row, out)?;
                duck_year(out, start);
            }
            Kind::Interval => push_interval(self.array, row, out),
            Kind::Nested(nested) => nested.push(row, out)?,
            Kind::Dictionary { keys, values } => values.push(keys[row], out)?,
            Kind::Arrow(f) => self.arrow(f, row, out)?,
        }
        Ok(())
    }

    fn arrow(&self, formatter: &ArrayFormatter<'_>, row: usize, out: &mut String) -> Result<()> {
        use std::fmt::Write;
        write!(out, "{}", formatter.value(row)).map_err(|_| {
            DataFusionError::Execution(format!(
                "cannot write the value of column {} at row {row} as text: arrow cannot format it ({}); cast the column to a type it can, e.g. VARCHAR",
                self.name,
                self.array.data_type()
            ))
        })?;
        Ok(())
    }
}

/// An integer's digits, by itoa (arrow's goes through `core::fmt`).
fn push_integer(array: &dyn Array, row: usize, out: &mut String) {
    let mut buffer = itoa::Buffer::new();
    out.push_str(match array.data_type() {
        DataType::Int8 => buffer.format(array.as_primitive::<Int8Type>().value(row)),
        DataType::Int16 => buffer.format(array.as_primitive::<Int16Type>().value(row)),
        DataType::Int32 => buffer.format(array.as_primitive::<Int32Type>().value(row)),
        DataType::Int64 => buffer.format(array.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => buffer.format(array.as_primitive::<UInt8Type>().value(row)),
        DataType::UInt16 => buffer.format(array.as_primitive::<UInt16Type>().value(row)),
        DataType::UInt32 => buffer.format(array.as_primitive::<UInt32Type>().value(row)),
        _ => buffer.format(array.as_primitive::<UInt64Type>().value(row)),
    });
}

/// Whether `field` is a UUID: 16 bytes marked with arrow's canonical
/// `arrow.uuid` (a Parquet UUID column, as DuckDB writes them).
pub fn is_uuid(field: &Field) -> bool {
    field.extension_type_name() == Some("arrow.uuid")
        && field.data_type() == &DataType::FixedSizeBinary(16)
}

/// Whether `field` holds JSON text (arrow's canonical `arrow.json`).
pub(crate) fn is_json(field: &Field) -> bool {
    field.extension_type_name() == Some("arrow.json")
}

/// Appends a UUID's 16 bytes as its text, `8-4-4-4-12` lower-case hex,
/// as DuckDB shows and writes it.
pub fn push_uuid(bytes: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, &b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xF)]));
    }
}

/// DuckDB's text of a BLOB: printable ASCII as is, except `"`, `'` and
/// `\`, every other byte as `\xHH`.
fn push_blob(array: &dyn Array, row: usize, out: &mut String) {
    let bytes: &[u8] = match array.data_type() {
        DataType::Binary => array.as_binary::<i32>().value(row),
        DataType::LargeBinary => array.as_binary::<i64>().value(row),
        DataType::BinaryView => array.as_binary_view().value(row),
        _ => array.as_fixed_size_binary().value(row),
    };
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && !matches!(b, b'"' | b'\'' | b'\\') {
            out.push(char::from(b));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push_str("\\x");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
}

/// DuckDB's `infinity` / `-infinity` timestamps, stored as ±i64::MAX.
fn infinity(array: &dyn Array, row: usize) -> Option<&'static str> {
    let raw = match array.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => {
            array.as_primitive::<TimestampSecondType>().value(row)
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            array.as_primitive::<TimestampMillisecondType>().value(row)
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            array.as_primitive::<TimestampMicrosecondType>().value(row)
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            array.as_primitive::<TimestampNanosecondType>().value(row)
        }
        _ => return None,
    };
    match raw {
        i64::MAX => Some("infinity"),
        v if v == -i64::MAX => Some("-infinity"),
        _ => None,
    }
}

/// Drops the trailing zeros of a timestamp's fraction of a second (and
/// the dot when nothing is left), as DuckDB prints timestamps:
/// `03:04:05.500` is `03:04:05.5`, `03:04:05.000` is `03:04:05`; only
/// the text from `start` on is the timestamp.
pub(crate) fn trim_fraction(text: &mut String, start: usize) {
    let Some(dot) = text[start..].find('.').map(|d| d + start) else {
        return;
    };
    let digits = text[dot + 1..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    let end = dot + 1 + digits;
    let kept = text[dot + 1..end].trim_end_matches('0').len();
    let cut = if kept == 0 { dot } else { dot + 1 + kept };
    text.replace_range(cut..end, "");
}

/// A date's year as DuckDB writes it (the text from `start` on begins
/// with chrono's `%Y-%m-%d`): a year after 9999 without chrono's `+`; a
/// year before 1 counted back from 1 BC, as four digits, ` (BC)` after the
/// date (`-0044-03-15` is `0045-03-15 (BC)`, year 0 is 1 BC).
fn duck_year(text: &mut String, start: usize) {
    if text[start..].starts_with('+') {
        text.remove(start);
        return;
    }
    let digits_from = start + usize::from(text[start..].starts_with('-'));
    let Some(year_end) = text[digits_from..].find('-').map(|e| e + digits_from) else {
        return;
    };
    let Ok(year) = text[start..year_end].parse::<i64>() else {
        return;
    };
    if year > 0 {
        return;
    }
    // `-MM-DD` follows the year.
    let date_end = (year_end + 6).min(text.len());
    text.insert_str(date_end, " (BC)");
    text.replace_range(start..year_end, &format!("{:04}", 1 - year));
}

/// DuckDB's text of an INTERVAL: years, months and days in words, each
/// with its own sign (`1 year -2 days`), then the time as
/// `[-]HH:MM:SS[.fraction]` (hours past 24 kept, the fraction's trailing
/// zeros dropped); `00:00:00` for nothing.
fn push_interval(array: &dyn Array, row: usize, out: &mut String) {
    let (months, days, nanos) = match array.data_type() {
        DataType::Interval(IntervalUnit::YearMonth) => (
            array.as_primitive::<IntervalYearMonthType>().value(row),
            0,
            0,
        ),
        DataType::Interval(IntervalUnit::DayTime) => {
            let v = array.as_primitive::<IntervalDayTimeType>().value(row);
            (0, v.days, i64::from(v.milliseconds) * 1_000_000)
        }
        DataType::Duration(unit) => {
            let (value, nanos_per) = match unit {
                TimeUnit::Second => (
                    array.as_primitive::<DurationSecondType>().value(row),
                    1_000_000_000,
                ),
                TimeUnit::Millisecond => (
                    array.as_primitive::<DurationMillisecondType>().value(row),
                    1_000_000,
                ),
                TimeUnit::Microsecond => (
                    array.as_primitive::<DurationMicrosecondType>().value(row),
                    1_000,
                ),
                TimeUnit::Nanosecond => {
                    (array.as_primitive::<DurationNanosecondType>().value(row), 1)
                }
            };
            // DuckDB's `timestamp - timestamp`: whole days, then the time.
            const DAY: i64 = 86_400_000_000_000;
            let nanos = value.saturating_mul(nanos_per);
            (
                0,
                i32::try_from(nanos / DAY).unwrap_or(i32::MAX),
                nanos % DAY,
            )
        }
        _ => {
            let v = array.as_primitive::<IntervalMonthDayNanoType>().value(row);
            (v.months, v.days, v.nanoseconds)
        }
    };
    let start = out.len();
    let word = |n: i64, unit: &str, out: &mut String| {
        if n == 0 {
            return;
        }
        if out.len() > start {
            out.push(' ');
        }
        out.push_str(itoa::Buffer::new().format(n));
        out.push(' ');
        out.push_str(unit);
        if n != 1 && n != -1 {
            out.push('s');
        }
    };
    word(i64::from(months / 12), "year", out);
    word(i64::from(months % 12), "month", out);
    word(i64::from(days), "day", out);
    if nanos == 0 && out.len() > start {
        return;
    }
    if out.len() > start {
        out.push(' ');
    }
    if nanos < 0 {
        out.push('-');
    }
    let nanos = nanos.unsigned_abs();
    let (seconds, fraction) = (nanos / 1_000_000_000, nanos % 1_000_000_000);
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    use std::fmt::Write;
    let _ = write!(out, "{hours:02}:{minutes:02}:{seconds:02}");
    if fraction != 0 {
        // Microseconds, as DuckDB keeps them; nanoseconds when there are.
        let digits = format!("{fraction:09}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

/// `+00:00` as DuckDB writes it, `+00`; an offset with minutes stays.
/// Only the text from `start` on is the timestamp.
fn shorten_offset(text: &mut String, start: usize) {
    let bytes = text.as_bytes();
    let n = bytes.len();
    if n >= start + 6 && matches!(bytes[n - 6], b'+' | b'-') && text.ends_with(":00") {
        text.truncate(n - 3);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use datafusion::arrow::array::{
        ArrayRef, BinaryArray, Float32Array, Float64Array, Time64MicrosecondArray,
        TimestampMicrosecondArray,
    };

    use super::*;

    fn texts(array: ArrayRef) -> Vec<String> {
        let options = format_options();
        let text = DuckText::try_new(array.as_ref(), "c", &options).unwrap();
        (0..array.len())
            .map(|row| {
                let mut out = String::from("leftover");
                text.write(row, &mut out).unwrap();
                out
            })
            .collect()
    }

    /// Each expected text is what DuckDB 1.5.5 wrote for the value (COPY
    /// to CSV, TimeZone UTC).
    #[test]
    fn values_are_written_as_duckdb_writes_them() {
        let doubles = Float64Array::from(vec![
            0.1,
            100.0,
            1e15,
            1e16,
            1e20,
            1.5e-5,
            1e-4,
            1e-5,
            1e-7,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            123_456.789,
            1e300,
            2.5e-300,
            12_345_678_901_234_567_890.0,
        ]);
        assert_eq!(
            texts(Arc::new(doubles)),
            [
                "0.1",
                "100.0",
                "1000000000000000.0",
                "1e+16",
                "1e+20",
                "1.5e-05",
                "0.0001",
                "1e-05",
                "1e-07",
                "nan",
                "inf",
                "-inf",
                "123456.789",
                "1e+300",
                "2.5e-300",
                "1.2345678901234567e+19"
            ]
        );
        let floats = Float32Array::from(vec![0.1, 100.0, 1e20, 1e-7, 16_777_216.0, 1e7, 3.4e38]);
        assert_eq!(
            texts(Arc::new(floats)),
            [
                "0.1",
                "100.0",
                "1e+20",
                "1e-07",
                "16777216.0",
                "10000000.0",
                "3.4e+38"
            ]
        );
        let blob = BinaryArray::from(vec![b"\xAA\x00abc\"~ \\'\x7F ".as_slice()]);
        assert_eq!(texts(Arc::new(blob)), [r"\xAA\x00abc\x22~ \x5C\x27\x7F "]);
        // 2024-01-02 03:04:05.5 and 03:04:05 UTC.
        let zoned = TimestampMicrosecondArray::from(vec![
            1_704_164_645_500_000,
            1_704_164_645_000_000,
            i64::MAX,
            -i64::MAX,
        ])
        .with_timezone("UTC");
        assert_eq!(
            texts(Arc::new(zoned)),
            [
                "2024-01-02 03:04:05.5+00",
                "2024-01-02 03:04:05+00",
                "infinity",
                "-infinity"
            ]
        );
        let kolkata =
            TimestampMicrosecondArray::from(vec![1_704_164_645_500_000]).with_timezone("+05:30");
        assert_eq!(texts(Arc::new(kolkata)), ["2024-01-02 08:34:05.5+05:30"]);
        let times = Time64MicrosecondArray::from(vec![11_045_250_000, 11_045_000_000]);
        assert_eq!(texts(Arc::new(times)), ["03:04:05.25", "03:04:05"]);
    }

    /// INTERVALs, dates and timestamps before year 1 and after 9999 as
    /// DuckDB 1.5.5 writes them (COPY to CSV, TimeZone UTC); they were
    /// arrow's `1 days 2 hours`, `-1.000000000 secs`, `-0044-03-15`
    /// (review-9b #3).
    #[test]
    fn intervals_and_dates_before_year_one_are_written_as_duckdb_writes_them() {
        use datafusion::arrow::array::{
            Date32Array, IntervalDayTimeArray, IntervalMonthDayNanoArray, IntervalYearMonthArray,
            TimestampMicrosecondArray,
        };
        use datafusion::arrow::datatypes::{IntervalDayTime, IntervalMonthDayNano};
        const HOUR: i64 = 3_600_000_000_000;
        const SECOND: i64 = 1_000_000_000;
        let interval = |months, days, nanos| IntervalMonthDayNano::new(months, days, nanos);
        let intervals = IntervalMonthDayNanoArray::from(vec![
            interval(0, 1, 2 * HOUR),
            interval(3, 0, 0),
            interval(0, 0, -SECOND),
            interval(14, 3, 4 * HOUR + 5 * 60 * SECOND + 6 * SECOND + SECOND / 2),
            interval(0, 0, 0),
            interval(-14, 0, 0),
            interval(12, -2, 0),
            interval(0, 0, -1000),
            interval(0, 0, 100 * HOUR + 1000),
            interval(0, -3, 4 * HOUR),
            interval(24, 0, 0),
            interval(1, 0, 0),
            interval(-1, 0, 0),
            interval(0, -1, 0),
            interval(0, 1, 0),
            interval(0, -2, -3 * HOUR),
            interval(0, 0, 123_456_789_012_000),
            interval(0, 0, -HOUR / 2),
            interval(0, 0, SECOND / 2),
            interval(13, 0, 0),
        ]);
        assert_eq!(
            texts(Arc::new(intervals)),
            [
                "1 day 02:00:00",
                "3 months",
                "-00:00:01",
                "1 year 2 months 3 days 04:05:06.5",
                "00:00:00",
                "-1 year -2 months",
                "1 year -2 days",
                "-00:00:00.000001",
                "100:00:00.000001",
                "-3 days 04:00:00",
                "2 years",
                "1 month",
                "-1 month",
                "-1 day",
                "1 day",
                "-2 days -03:00:00",
                "34:17:36.789012",
                "-00:30:00",
                "00:00:00.5",
                "1 year 1 month",
            ]
        );
        let year_month = IntervalYearMonthArray::from(vec![14, -1]);
        assert_eq!(texts(Arc::new(year_month)), ["1 year 2 months", "-1 month"]);
        let day_time = IntervalDayTimeArray::from(vec![IntervalDayTime::new(1, 7_200_250)]);
        assert_eq!(texts(Arc::new(day_time)), ["1 day 02:00:00.25"]);
        // -0044-03-15, 0000-06-01, 10000-01-01, 1970-01-01.
        let dates = Date32Array::from(vec![-735_525, -719_376, 2_932_897, 0]);
        assert_eq!(
            texts(Arc::new(dates)),
            [
                "0045-03-15 (BC)",
                "0001-06-01 (BC)",
                "10000-01-01",
                "1970-01-01"
            ]
        );
        // -0044-03-15 10:00:00.25, without and with a zone.
        let bc = -63_549_323_999_750_000;
        let naive = TimestampMicrosecondArray::from(vec![bc]);
        assert_eq!(texts(Arc::new(naive)), ["0045-03-15 (BC) 10:00:00.25"]);
        let zoned = TimestampMicrosecondArray::from(vec![bc]).with_timezone("UTC");
        assert_eq!(texts(Arc::new(zoned)), ["0045-03-15 (BC) 10:00:00.25+00"]);
    }

    /// A DURATION (`timestamp - timestamp`) as DuckDB writes the INTERVAL
    /// its subtraction gives: whole days, then the time. It was arrow's
    /// `PT86400S` (review-9c #2).
    #[test]
    fn durations_are_written_as_duckdb_writes_intervals() {
        use datafusion::arrow::array::{DurationNanosecondArray, DurationSecondArray};
        const DAY: i64 = 86_400_000_000_000;
        const HOUR: i64 = DAY / 24;
        let nanos = DurationNanosecondArray::from(vec![
            DAY,
            2 * DAY + 5 * HOUR,
            -(2 * DAY + 5 * HOUR + 500_000_000),
            0,
        ]);
        assert_eq!(
            texts(Arc::new(nanos)),
            [
                "1 day",
                "2 days 05:00:00",
                "-2 days -05:00:00.5",
                "00:00:00"
            ]
        );
        let seconds = DurationSecondArray::from(vec![62 * 86_400]);
        assert_eq!(texts(Arc::new(seconds)), ["62 days"]);
    }

    /// A dictionary-encoded column's text is its values' (DuckDB's), picked
    /// by key, whatever the key type: it was arrow's `1e20`, `0.00001` and
    /// `2024-01-02T06:00:00.500` (review 8b #1). A key pointing at a NULL
    /// value is NULL.
    #[test]
    fn dictionary_encoded_values_are_written_as_their_values() {
        use datafusion::arrow::array::{DictionaryArray, Int8Array, Int32Array};
        let doubles = DictionaryArray::new(
            Int32Array::from(vec![Some(0), Some(1), Some(0), None, Some(2)]),
            Arc::new(Float64Array::from(vec![Some(1e20), Some(1e-5), None])),
        );
        let options = format_options();
        let text = DuckText::try_new(&doubles, "c", &options).unwrap();
        let written: Vec<Option<String>> = (0..doubles.len())
            .map(|row| {
                (!is_null(&doubles, row)).then(|| {
                    let mut out = String::new();
                    text.write(row, &mut out).unwrap();
                    out
                })
            })
            .collect();
        let expected = [Some("1e+20"), Some("1e-05"), Some("1e+20"), None, None];
        assert_eq!(written, expected.map(|v| v.map(str::to_owned)));
        assert!(text.is_number());
        // 2024-01-02 06:00:00.5 and 06:00:00, keyed by Int8.
        let timestamps = DictionaryArray::new(
            Int8Array::from(vec![1, 0, 1]),
            Arc::new(TimestampMicrosecondArray::from(vec![
                1_704_175_200_500_000,
                1_704_175_200_000_000,
            ])),
        );
        assert_eq!(
            texts(Arc::new(timestamps)),
            [
                "2024-01-02 06:00:00",
                "2024-01-02 06:00:00.5",
                "2024-01-02 06:00:00"
            ]
        );
    }

    #[test]
    fn fractions_lose_their_trailing_zeros() {
        for (given, expected) in [
            ("2024-01-02 03:04:05.500", "2024-01-02 03:04:05.5"),
            ("2024-01-02 03:04:05.000", "2024-01-02 03:04:05"),
            ("2024-01-02 03:04:05.123456", "2024-01-02 03:04:05.123456"),
            (
                "2024-01-02 03:04:05.120+00:00",
                "2024-01-02 03:04:05.12+00:00",
            ),
            ("2024-01-02 03:04:05", "2024-01-02 03:04:05"),
        ] {
            let mut text = given.to_owned();
            trim_fraction(&mut text, 0);
            assert_eq!(text, expected);
        }
        // Inside a nested value, only the timestamp's own text.
        let mut text = "[1.50, 2024-01-02 03:04:05.500+00:00".to_owned();
        trim_fraction(&mut text, 7);
        shorten_offset(&mut text, 7);
        assert_eq!(text, "[1.50, 2024-01-02 03:04:05.5+00");
    }
}

//! [`DuckJson`]: arrow-json's writer with values as DuckDB 1.5.5 writes
//! them in JSON, at any depth (arrow asks the factory for every column and
//! every child): doubles in yyjson's form ([`float::push_json`]: `NaN`
//! where arrow writes null), DECIMALs of up to 15 digits as doubles and
//! wider ones as their exact text, times, timestamps and BLOBs as DuckDB's
//! strings ([`DuckText`]: `03:04:05.25`, `2024-01-02 03:04:05.5+00`,
//! `\\xAA`), MAP keys of any type as their text (`{"1": ...}`), and
//! strings escaped as yyjson escapes them (`\u000B`, upper-case hex).
//! DATEFORMAT and TIMESTAMPFORMAT apply as in CSV ([`DuckJson::formatted`]),
//! and ARRAY's array is laid out as DuckDB's ([`DuckArray`]).

use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Decimal128Array, Decimal256Array, Float16Array, Float32Array,
    Float64Array, MapArray, RecordBatch, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::json;
use datafusion::arrow::json::writer::{NullableEncoder, make_encoder};
use datafusion::error::DataFusionError;

use super::float;
use super::options::CopyOptions;
use super::strftime::{DateFormats, column_text};
use super::text::{DuckText, format_options, is_json, is_null};
use crate::error::Result;

/// The encoder factory of one JSON file. A value arrow-json cannot be told
/// to fail on (an encoder writes, it cannot return an error) is written as
/// `null` and its error kept here, for [`DuckJson::check`] after the batch.
#[derive(Debug, Default)]
pub(crate) struct DuckJson {
    error: Arc<Mutex<Option<String>>>,
    dates: DateFormats,
}

impl DuckJson {
    /// The factory of a file written with `options`.
    pub(crate) fn new(options: &CopyOptions) -> Self {
        Self {
            error: Arc::default(),
            dates: DateFormats::new(options),
        }
    }

    /// `batch` with its DATE and TIMESTAMP columns as the strings
    /// DATEFORMAT and TIMESTAMPFORMAT make of them, as DuckDB writes them
    /// (`"d":"05/01/2024"`); the batch itself when neither applies.
    pub(crate) fn formatted(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        if self.dates.is_empty() {
            return Ok(batch.clone());
        }
        let schema = batch.schema();
        let mut fields = Vec::with_capacity(schema.fields().len());
        let mut columns = Vec::with_capacity(fields.capacity());
        let mut cell = String::new();
        for (column, field) in batch.columns().iter().zip(schema.fields()) {
            let Some(format) = self.dates.chrono_format(field.data_type())? else {
                fields.push(field.clone());
                columns.push(column.clone());
                continue;
            };
            let text = column_text(column.as_ref(), field, Some(&format))?;
            let mut strings = StringBuilder::with_capacity(column.len(), column.len() * 16);
            for row in 0..column.len() {
                if is_null(column.as_ref(), row) {
                    strings.append_null();
                } else {
                    text.write(row, &mut cell)?;
                    strings.append_value(&cell);
                }
            }
            fields.push(Arc::new(Field::new(
                field.name(),
                DataType::Utf8,
                field.is_nullable(),
            )));
            columns.push(Arc::new(strings.finish()) as ArrayRef);
        }
        let schema = Schema::new_with_metadata(fields, schema.metadata().clone());
        Ok(RecordBatch::try_new(Arc::new(schema), columns).map_err(DataFusionError::from)?)
    }

    /// The first value of the last batches that could not be written.
    pub(crate) fn check(&self) -> Result<()> {
        let mut error = self.error.lock().unwrap_or_else(|p| p.into_inner());
        match error.take() {
            Some(message) => Err(DataFusionError::Execution(message).into()),
            None => Ok(()),
        }
    }
}

impl json::EncoderFactory for DuckJson {
    fn make_default_encoder<'a>(
        &self,
        field: &'a FieldRef,
        array: &'a dyn Array,
        options: &'a json::EncoderOptions,
    ) -> std::result::Result<Option<NullableEncoder<'a>>, ArrowError> {
        let text = || {
            DuckText::for_field(array, field, &format_options())
                .map_err(|e| ArrowError::ExternalError(Box::new(e)))
        };
        if is_json(field) {
            // A JSON column's text is the value itself, not a string.
            return Ok(Some(NullableEncoder::new(
                Box::new(JsonRaw(text()?)),
                array.nulls().cloned(),
            )));
        }
        let encoder: Box<dyn json::Encoder + 'a> = match array.data_type() {
            DataType::Float16 => Box::new(JsonFloat::Half(array.as_primitive())),
            DataType::Float32 => Box::new(JsonFloat::Single(array.as_primitive())),
            DataType::Float64 => Box::new(JsonFloat::Double(array.as_primitive())),
            DataType::Decimal128(p, s) if *p <= 15 => {
                Box::new(JsonDecimal::Narrow(array.as_primitive(), i32::from(*s)))
            }
            DataType::Decimal256(p, s) if *p <= 15 => {
                Box::new(JsonDecimal::Wide(array.as_primitive(), i32::from(*s)))
            }
            DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Timestamp(..)
            | DataType::Date32
            | DataType::Date64
            | DataType::Interval(_)
            | DataType::Duration(_)
            | DataType::Time32(_)
            | DataType::Time64(_)
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_) => Box::new(JsonText {
                text: text()?,
                error: self.error.clone(),
                cell: String::new(),
            }),
            DataType::Map(..) => {
                let map: &MapArray = array.as_map();
                Box::new(JsonMap {
                    offsets: map.offsets(),
                    keys: JsonText {
                        text: DuckText::try_new(
                            map.keys().as_ref(),
                            field.name(),
                            &format_options(),
                        )
                        .map_err(|e| ArrowError::ExternalError(Box::new(e)))?,
                        error: self.error.clone(),
                        cell: String::new(),
                    },
                    values: make_encoder(field, map.values().as_ref(), options)?,
                    explicit_nulls: options.explicit_nulls(),
                })
            }
            _ => return Ok(None),
        };
        Ok(Some(NullableEncoder::new(encoder, array.nulls().cloned())))
    }
}

/// DuckDB's layout of a JSON array (COPY's ARRAY): `[`, each object on a
/// line of its own after a tab, `]`; `[\n\t\n]\n` for no rows, as DuckDB
/// 1.5.5 writes it.
#[derive(Debug, Default)]
pub(crate) struct DuckArray;

impl json::writer::JsonFormat for DuckArray {
    fn start_stream<W: std::io::Write>(
        &self,
        writer: &mut W,
    ) -> std::result::Result<(), ArrowError> {
        Ok(writer.write_all(b"[\n\t")?)
    }

    fn start_row<W: std::io::Write>(
        &self,
        writer: &mut W,
        is_first_row: bool,
    ) -> std::result::Result<(), ArrowError> {
        if !is_first_row {
            writer.write_all(b",\n\t")?;
        }
        Ok(())
    }

    fn end_stream<W: std::io::Write>(&self, writer: &mut W) -> std::result::Result<(), ArrowError> {
        Ok(writer.write_all(b"\n]\n")?)
    }
}

/// A JSON column (arrow's `arrow.json`): each value an object, array or
/// scalar of the row, not a string, without the whitespace between its
/// tokens, as DuckDB writes its JSON type (`{"a":[1,2]}`).
struct JsonRaw<'a>(DuckText<'a>);

impl json::Encoder for JsonRaw<'_> {
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) {
        let mut in_string = false;
        let mut escaped = false;
        for &b in self.0.as_str(idx).unwrap_or("null").as_bytes() {
            if in_string {
                in_string = escaped || b != b'"';
                escaped = !escaped && b == b'\\';
            } else if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                continue;
            } else {
                in_string = b == b'"';
            }
            out.push(b);
        }
    }
}

/// One float column's JSON encoder; a FLOAT is widened to a double first,
/// as DuckDB does (0.1 is `0.10000000149011612`).
enum JsonFloat<'a> {
    Half(&'a Float16Array),
    Single(&'a Float32Array),
    Double(&'a Float64Array),
}

impl json::Encoder for JsonFloat<'_> {
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) {
        let value = match self {
            JsonFloat::Half(a) => a.value(idx).to_f64(),
            JsonFloat::Single(a) => f64::from(a.value(idx)),
            JsonFloat::Double(a) => a.value(idx),
        };
        float::push_json(value, out);
    }
}

/// A DECIMAL of up to 15 digits, which DuckDB writes in JSON as the double
/// `value / 10^scale` (`5.00` is `5.0`); the scale comes with it.
enum JsonDecimal<'a> {
    Narrow(&'a Decimal128Array, i32),
    Wide(&'a Decimal256Array, i32),
}

impl json::Encoder for JsonDecimal<'_> {
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) {
        // At most 15 digits: exact as a double.
        #[allow(clippy::cast_precision_loss)]
        let (unscaled, scale) = match self {
            JsonDecimal::Narrow(a, s) => (a.value(idx) as f64, *s),
            JsonDecimal::Wide(a, s) => (a.value(idx).as_i128() as f64, *s),
        };
        float::push_json(unscaled / 10f64.powi(scale), out);
    }
}

/// A value as a JSON string of DuckDB's text of it.
struct JsonText<'a> {
    text: DuckText<'a>,
    /// Where a value that cannot be written says why.
    error: Arc<Mutex<Option<String>>>,
    /// One value's text, reused.
    cell: String,
}

impl json::Encoder for JsonText<'_> {
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) {
        let text = match self.text.as_str(idx) {
            Some(text) => text,
            None => match self.text.write(idx, &mut self.cell) {
                Ok(()) => &self.cell,
                Err(e) => {
                    out.extend_from_slice(b"null");
                    let mut error = self.error.lock().unwrap_or_else(|p| p.into_inner());
                    error.get_or_insert_with(|| e.to_string());
                    return;
                }
            },
        };
        push_string(text, out);
    }
}

/// A MAP as an object whose names are the keys' text, as DuckDB writes
/// every MAP (arrow-json refuses keys that are not strings).
struct JsonMap<'a> {
    offsets: &'a [i32],
    keys: JsonText<'a>,
    values: NullableEncoder<'a>,
    explicit_nulls: bool,
}

impl json::Encoder for JsonMap<'_> {
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) {
        let bound = |v: i32| usize::try_from(v).unwrap_or_default();
        out.push(b'{');
        let mut first = true;
        for entry in bound(self.offsets[idx])..bound(self.offsets[idx + 1]) {
            let null = self.values.is_null(entry);
            if null && !self.explicit_nulls {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            self.keys.encode(entry, out);
            out.push(b':');
            if null {
                out.extend_from_slice(b"null");
            } else {
                self.values.encode(entry, out);
            }
        }
        out.push(b'}');
    }
}

/// `text` as a JSON string, escaped as yyjson (DuckDB's JSON writer)
/// escapes it: `"`, `\` and control characters, those without a short
/// form as `\u00XX` in upper-case hex; everything else as it is.
pub(crate) fn push_string(text: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut plain = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..0x20 => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[plain..i]);
        plain = i + 1;
        if short.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xF)]);
        } else {
            out.extend_from_slice(short);
        }
    }
    out.extend_from_slice(&bytes[plain..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A time arrow cannot format (past 24 hours) is an error naming the
    /// column, not a silent `null`.
    #[test]
    fn a_value_that_cannot_be_written_is_an_error_naming_its_column() {
        use datafusion::arrow::array::{RecordBatch, Time64MicrosecondArray};
        use datafusion::arrow::datatypes::{Field, Schema, TimeUnit};

        let schema = Arc::new(Schema::new(vec![Field::new(
            "t",
            DataType::Time64(TimeUnit::Microsecond),
            false,
        )]));
        let times = Time64MicrosecondArray::from(vec![1, 100 * 3_600_000_000]);
        let batch = RecordBatch::try_new(schema, vec![Arc::new(times)]).unwrap();
        let factory = Arc::new(DuckJson::default());
        let mut writer = json::WriterBuilder::new()
            .with_encoder_factory(factory.clone())
            .build::<_, json::writer::LineDelimited>(Vec::new());
        writer.write(&batch).unwrap();
        let error = factory.check().unwrap_err().to_string();
        assert!(error.contains("column t at row 1"), "{error}");
        factory.check().unwrap();
    }

    #[test]
    fn strings_are_escaped_as_yyjson_escapes_them() {
        let mut out = Vec::new();
        push_string("\u{b}\u{1}\u{7f}/é\"\\\t\n\r\u{8}\u{c}x", &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"\\u000B\\u0001\u{7f}/é\\\"\\\\\\t\\n\\r\\b\\fx\""
        );
    }
}

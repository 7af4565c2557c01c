//! A cast of text to TIMESTAMP, TIMESTAMPTZ or DATE (a `TIMESTAMP '...'`
//! literal, `'...'::TIMESTAMP`, a VARCHAR column, TRY_CAST) reads it as
//! DuckDB 1.5.5 does ([`crate::timestamp_parse`]): `2024-01-02 06:00`,
//! `2024-1-2`, `infinity` were arrow's "Error parsing timestamp", a DATE
//! of `2024/01/02` or `2024-01-02 06:00` arrow's "Cannot cast string". A
//! TIMESTAMP keeps the written time and ignores an offset; a TIMESTAMPTZ
//! is the instant the offset or zone names. Text DuckDB refuses is its
//! error (TRY_CAST: NULL). [`TextTimestampCasts`], an analyzer rule run
//! after type coercion, replaces such a cast with a call of
//! [`TimestampFromText`]; a literal's call is folded at plan time.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayData, ArrayRef, AsArray, BooleanBufferBuilder, PrimitiveBuilder, make_array,
};
use datafusion::arrow::buffer::{Buffer, NullBuffer};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type, TimeUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult};
use datafusion::common::{DFSchema, DataFusionError, ScalarValue, exec_datafusion_err, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::expr::{Cast, ScalarFunction, TryCast};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ExprSchemable, LogicalPlan, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility,
};
use datafusion::optimizer::AnalyzerRule;

use chrono::{Datelike, NaiveDate};

use crate::expr_rules::rewrite_expressions;
use crate::timestamp_fast::ByArrow;
use crate::timestamp_parse::{Refusal, Stamp, parse, parse_date};
use crate::zone_names::{Zone, fixed_offset};

/// The analyzer rule: casts of strings to a timestamp or DATE become
/// [`TimestampFromText`].
#[derive(Debug, Default)]
pub(crate) struct TextTimestampCasts;

impl AnalyzerRule for TextTimestampCasts {
    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|plan| rewrite_expressions(plan, rewrite))
            .data()
    }

    fn name(&self) -> &str {
        "duckdb_timestamp_text"
    }
}

fn rewrite(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let (input, to, strict) = match &expr {
        Expr::Cast(Cast { expr, field }) => (expr, field.data_type(), true),
        Expr::TryCast(TryCast { expr, field }) => (expr, field.data_type(), false),
        _ => return Ok(Transformed::no(expr)),
    };
    match from_text(input, to, strict, Wording::AsTimestamp, schema)? {
        Some(call) => Ok(Transformed::yes(call)),
        None => Ok(Transformed::no(expr)),
    }
}

/// How a refused text is worded.
#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
pub(crate) enum Wording {
    /// DuckDB's message for a TIMESTAMP, TIMESTAMPTZ or DATE.
    AsTimestamp,
    /// "Could not convert string '...' to INT64", DuckDB's for any text
    /// it refuses as a TIMESTAMP_S or _MS (review of tstext 3, F6); a
    /// year past chrono's, which DuckDB reads, keeps s3sql's message.
    AsInt64,
}

/// The call of [`TimestampFromText`] reading `input` (text, or a
/// dictionary of text) as a timestamp of type `to` (or DATE) as DuckDB
/// reads it, refusing as `wording` says (TRY_CAST, not `strict`: NULL);
/// None when `input` is no text or `to` no timestamp or DATE.
pub(crate) fn from_text(
    input: &Expr,
    to: &DataType,
    strict: bool,
    wording: Wording,
    schema: &DFSchema,
) -> Result<Option<Expr>> {
    let is_text =
        |t: &DataType| matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
    // DuckDB names a column cast in its error, not an expression's.
    let column = match input {
        Expr::Column(column) => Some(column.name.clone()),
        _ => None,
    };
    let mut input = input.clone();
    let from_text = match input.get_type(schema)? {
        // A dictionary of strings (a Parquet dictionary column) is read
        // as its strings: arrow's parser read it before.
        DataType::Dictionary(_, values) if is_text(&values) => {
            input = input.cast_to(&values, schema)?;
            true
        }
        other => is_text(&other),
    };
    if !(from_text && matches!(to, DataType::Timestamp(..) | DataType::Date32)) {
        return Ok(None);
    }
    let udf = TimestampFromText {
        to: to.clone(),
        strict,
        column,
        wording,
        signature: Signature::any(1, Volatility::Immutable),
    };
    Ok(Some(Expr::ScalarFunction(ScalarFunction::new_udf(
        Arc::new(ScalarUDF::new_from_impl(udf)),
        vec![input],
    ))))
}

/// `duckdb_timestamp(text)`: `text` read as DuckDB reads a timestamp, in
/// the cast's unit and zone; DuckDB's error for text it refuses (NULL for
/// TRY_CAST's `duckdb_try_timestamp`).
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct TimestampFromText {
    /// A Timestamp of any unit and zone, or Date32.
    to: DataType,
    strict: bool,
    /// The column cast, named at the end of an error as DuckDB names it.
    column: Option<String>,
    wording: Wording,
    signature: Signature,
}

impl ScalarUDFImpl for TimestampFromText {
    fn name(&self) -> &str {
        match (&self.to, self.strict) {
            (DataType::Date32, true) => "duckdb_date",
            (DataType::Date32, false) => "duckdb_try_date",
            (_, true) => "duckdb_timestamp",
            (_, false) => "duckdb_try_timestamp",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(self.to.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Some(arg) = args.args.first() else {
            return exec_err!("duckdb_timestamp takes one argument");
        };
        let array = arg.to_array(args.number_rows)?;
        let out = match crate::timestamp_fast::by_arrow(&array, &self.to) {
            Some(fast) if fast.rest.is_empty() => fast.values,
            Some(fast) => self.read_rest(&array, fast)?,
            None => self.read_all(&array)?,
        };
        match arg {
            ColumnarValue::Scalar(_) => {
                Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
            }
            ColumnarValue::Array(_) => Ok(ColumnarValue::Array(out)),
        }
    }
}

impl TimestampFromText {
    /// Each text read by [`crate::timestamp_parse`].
    fn read_all(&self, array: &ArrayRef) -> Result<ArrayRef> {
        match array.data_type() {
            DataType::Utf8 => self.read(array.as_string::<i32>().iter(), array.len()),
            DataType::LargeUtf8 => self.read(array.as_string::<i64>().iter(), array.len()),
            DataType::Utf8View => self.read(array.as_string_view().iter(), array.len()),
            other => exec_err!("duckdb_timestamp of {other}"),
        }
    }

    /// The texts' timestamps in the cast's unit and zone, or dates.
    fn read<'a>(
        &self,
        texts: impl Iterator<Item = Option<&'a str>>,
        len: usize,
    ) -> Result<ArrayRef> {
        let mut out = PrimitiveBuilder::<Int64Type>::with_capacity(len);
        for text in texts {
            let Some(text) = text else {
                out.append_null();
                continue;
            };
            match self.value(text) {
                Ok(value) => out.append_value(value),
                Err(_) if !self.strict => out.append_null(),
                Err(not_read) => return Err(self.refusal(text, not_read)),
            }
        }
        // The same values (days in range of an i32), named the cast's type.
        let mut out: ArrayRef = Arc::new(out.finish());
        if self.to == DataType::Date32 {
            out = cast(&out, &DataType::Int32)?;
        }
        let data = out.into_data().into_builder().data_type(self.to.clone());
        Ok(make_array(data.build()?))
    }

    /// Arrow's values with the rows it left (`fast.rest`) read by the
    /// grammar from `array`'s texts.
    fn read_rest(&self, array: &ArrayRef, fast: ByArrow) -> Result<ArrayRef> {
        let data = fast.values.to_data();
        if self.to == DataType::Date32 {
            let mut days = data.buffer::<i32>(0).to_vec();
            let valid = self.patch(array, &data, &fast.rest, |row, value| {
                days[row] = i32::try_from(value).unwrap_or_default();
            })?;
            finish(&self.to, Buffer::from_vec(days), valid)
        } else {
            let mut values = data.buffer::<i64>(0).to_vec();
            let valid = self.patch(array, &data, &fast.rest, |row, value| {
                values[row] = value;
            })?;
            finish(&self.to, Buffer::from_vec(values), valid)
        }
    }

    /// The validity of `data` with each of `rows` read by the grammar from
    /// its text in `array`: `set` given the value, NULL for TRY_CAST's
    /// refusal, or the cast's error.
    fn patch(
        &self,
        array: &ArrayRef,
        data: &ArrayData,
        rows: &[usize],
        mut set: impl FnMut(usize, i64),
    ) -> Result<NullBuffer> {
        let mut valid = BooleanBufferBuilder::new(data.len());
        match data.nulls() {
            Some(nulls) => valid.append_buffer(nulls.inner()),
            None => valid.append_n(data.len(), true),
        }
        for &row in rows {
            let text = match array.data_type() {
                DataType::Utf8 => array.as_string::<i32>().value(row),
                DataType::LargeUtf8 => array.as_string::<i64>().value(row),
                DataType::Utf8View => array.as_string_view().value(row),
                other => return exec_err!("duckdb_timestamp of {other}"),
            };
            match self.value(text) {
                Ok(value) => {
                    set(row, value);
                    valid.set_bit(row, true);
                }
                Err(_) if !self.strict => valid.set_bit(row, false),
                Err(not_read) => return Err(self.refusal(text, not_read)),
            }
        }
        Ok(NullBuffer::new(valid.finish()))
    }

    /// DuckDB's conversion error for `text`, not read so, naming the
    /// column cast.
    fn refusal(&self, text: &str, not_read: NotRead) -> DataFusionError {
        let message = match (not_read, self.wording) {
            (NotRead::Refused(_), Wording::AsInt64) => {
                format!("Could not convert string '{text}' to INT64")
            }
            (NotRead::Refused(message) | NotRead::PastChrono(message), _) => message,
        };
        match &self.column {
            Some(column) => exec_datafusion_err!(
                "Conversion Error: {message} when casting from source column {column}"
            ),
            None => exec_datafusion_err!("Conversion Error: {message}"),
        }
    }

    /// `text`'s value in the cast's unit (a DATE's days), or why not.
    fn value(&self, text: &str) -> Result<i64, NotRead> {
        let (unit, to_zone) = match &self.to {
            DataType::Timestamp(unit, zone) => (*unit, zone),
            _ => return Ok(date_value(text)?),
        };
        let format = || {
            format!(
                "invalid timestamp field format: \"{text}\", expected format is \
                 (YYYY-MM-DD HH:MM:SS[.US][±HH[:MM[:SS]]| ZONE])"
            )
        };
        let range = || format!("timestamp field value out of range: \"{text}\"");
        let (days, nanos, offset, zone) = match parse(text) {
            Ok(Stamp::Infinity) => return Ok(i64::MAX),
            Ok(Stamp::NegativeInfinity) => return Ok(-i64::MAX),
            Ok(Stamp::At {
                days,
                nanos,
                offset,
                zone,
            }) => (days, nanos, offset, zone),
            Err(Refusal::Format) => return Err(format().into()),
            Err(Refusal::Range) => return Err(range().into()),
        };
        let per_second = match unit {
            TimeUnit::Second => 1,
            TimeUnit::Millisecond => 1_000,
            TimeUnit::Microsecond => 1_000_000,
            TimeUnit::Nanosecond => 1_000_000_000,
        };
        // In i128: the first day of the nanosecond range overflows an i64
        // at its midnight (review of tstext: `1677-09-21 00:12:44` NULL).
        let local = i128::from(days) * i128::from(86_400 * per_second)
            + i128::from(nanos / (1_000_000_000 / per_second));
        let utc_zone = |name: &str| ["UTC", "GMT"].iter().any(|z| name.eq_ignore_ascii_case(z));
        let shift = match (to_zone, zone) {
            // A TIMESTAMP keeps the time as written.
            (None, None) => 0,
            // `UTC` after a space; against the time it is not UTC to DuckDB.
            (None, Some((name, true))) if name.eq_ignore_ascii_case("UTC") => 0,
            (None, Some(_)) => {
                return Err(format!(
                    "timestamp field value \"{text}\" has a timestamp that is not UTC.\n\
                     Use the TIMESTAMPTZ type with the ICU extension loaded to handle non-UTC \
                     timestamps."
                )
                .into());
            }
            (Some(_), None) if offset.is_some() => offset.unwrap_or(0),
            // No offset written: the time in the session's zone, which is
            // the type's (review of tstext, finding 2: read as UTC).
            (Some(to), None) if utc_zone(to) => 0,
            (Some(to), None) => fixed_offset(to)
                .or_else(|| zone_offset(to, days, nanos))
                .ok_or_else(|| format!("Unknown TimeZone '{to}'!"))?,
            (Some(_), Some((_, false))) => return Err(format().into()),
            (Some(_), Some((name, true))) if utc_zone(name) => 0,
            (Some(_), Some((name, true))) => zone_offset(name, days, nanos)
                .ok_or_else(|| format!("Unknown TimeZone '{name}'!"))?,
        };
        let value = local - i128::from(shift * per_second);
        // Past an i64 (its ends are the infinities) or past chrono's years,
        // which nothing could print (DuckDB's TIMESTAMP_S goes on to 294247).
        let day = value.div_euclid(i128::from(86_400 * per_second));
        let value = i64::try_from(value)
            .ok()
            // ±i64::MAX are the infinities; i64::MIN is a time (arrow's
            // fast path reads 1677-09-21 00:12:43.145224192 as it).
            .filter(|v| v.unsigned_abs() < i64::MAX as u64 || *v == i64::MIN)
            .ok_or_else(range)?;
        if !i64::try_from(day).is_ok_and(|day| chrono_days().contains(&day)) {
            return Err(NotRead::PastChrono(range()));
        }
        Ok(value)
    }
}

/// Why a text is not read.
enum NotRead {
    /// DuckDB refuses it too: its message.
    Refused(String),
    /// A time past chrono's years, which DuckDB reads but nothing here
    /// could print: s3sql's own "out of range".
    PastChrono(String),
}

impl From<String> for NotRead {
    fn from(message: String) -> Self {
        NotRead::Refused(message)
    }
}

/// An array of type `to` of `values` (i64, or i32 days) and `valid`.
fn finish(to: &DataType, values: Buffer, valid: NullBuffer) -> Result<ArrayRef> {
    let data = ArrayData::builder(to.clone())
        .len(valid.len())
        .add_buffer(values)
        .nulls(Some(valid))
        .build()?;
    Ok(make_array(data))
}

/// `text`'s days since 1970-01-01 as DuckDB reads a DATE (anything after
/// the date ignored), or DuckDB's message. DuckDB's years past chrono's
/// are out of range here, and its infinite dates not supported: arrow's
/// Date32 has no infinity and prints through chrono, so nothing here could
/// print one (a TIMESTAMP holds them).
fn date_value(text: &str) -> Result<i64, String> {
    let range = || format!("date field value out of range: \"{text}\"");
    match parse_date(text) {
        Ok(Some(days)) if chrono_days().contains(&days) => Ok(days),
        Ok(Some(_)) | Err(Refusal::Range) => Err(range()),
        Ok(None) => Err(format!(
            "infinite DATE \"{text}\" is not supported: s3sql's DATE has no infinity; \
             cast to TIMESTAMP, which holds it"
        )),
        Err(Refusal::Format) => Err(format!(
            "invalid date field format: \"{text}\", expected format is (YYYY-MM-DD)"
        )),
    }
}

/// Days since 1970-01-01 chrono holds (years -262143 to 262142): arrow
/// prints a date or timestamp through chrono, so one past them is out of
/// range here where DuckDB's DATE goes on to 5881580.
fn chrono_days() -> std::ops::RangeInclusive<i64> {
    let days = |date: NaiveDate| i64::from(date.num_days_from_ce()) - 719_163;
    days(NaiveDate::MIN)..=days(NaiveDate::MAX)
}

/// Seconds east of UTC of zone `name` at the local time `days`, `nanos`,
/// as DuckDB's ICU reads it ([`Zone::offset_at_local`]); None for a name
/// chrono-tz does not know in any case (`UTC+N` is its `Etc/GMT` zone,
/// [`crate::zone_names::zone`]) or an offset, which DuckDB does not take
/// as a name.
fn zone_offset(name: &str, days: i64, nanos: i64) -> Option<i64> {
    if name.starts_with(['+', '-']) {
        return None;
    }
    let tz = crate::zone_names::zone(name)?;
    let date = NaiveDate::from_num_days_from_ce_opt(i32::try_from(days + 719_163).ok()?)?;
    let local = date.and_hms_opt(0, 0, 0)? + chrono::Duration::nanoseconds(nanos);
    Some(Zone::Named(tz).offset_at_local(&local))
}

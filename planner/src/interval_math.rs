//! An INTERVAL times or divided by a number, as DuckDB 1.5.5 computes it
//! (DataFusion refused them: "Cannot get result type for temporal
//! operation Int64 * Interval(MonthDayNano)"):
//!
//! - INTERVAL `*` an integer (either side) multiplies each part, months,
//!   days and microseconds; the integer must fit INTEGER and each product
//!   its part, else DuckDB's errors ([`times_integer`]);
//! - INTERVAL `*` any other number (DOUBLE, DECIMAL, UBIGINT: DuckDB
//!   makes it a DOUBLE) carries each fraction down, a month's as 30 days,
//!   a day's as 24 hours (`INTERVAL '1 month 1 day 1 hour' * 2.5` is `2
//!   months 17 days 14:30:00`), PostgreSQL's interval_mul ([`times_double`]);
//! - INTERVAL `/` a number multiplies by its inverse (`INTERVAL 3 DAY / 2`
//!   is `1 day 12:00:00`); by zero it is NULL.
//!
//! [`IntervalArithmetic`] plans each such `*` and `/` as a call of
//! [`IntervalProduct`] while the SQL is planned, so `ts + i * INTERVAL '1
//! hour'` plans too. DuckDB keeps an interval's time in microseconds, Arrow
//! in nanoseconds: a result past ±292 years of time is an error here.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int64Array, IntervalMonthDayNanoArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Float64Type, Int64Type, IntervalMonthDayNano, IntervalMonthDayNanoType, IntervalUnit,
};
use datafusion::common::{DFSchema, Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ExprSchemable, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion::sql::sqlparser::ast::BinaryOperator;

const NANOS_PER_MICRO: i64 = 1_000;
const DAYS_PER_MONTH: f64 = 30.0;
const SECONDS_PER_DAY: f64 = 86_400.0;
const MICROS_PER_SECOND: f64 = 1e6;

/// Plans an INTERVAL `*` or `/` a number as an [`IntervalProduct`] call.
#[derive(Debug)]
pub(crate) struct IntervalArithmetic;

impl ExprPlanner for IntervalArithmetic {
    fn plan_binary_op(
        &self,
        expr: RawBinaryExpr,
        schema: &DFSchema,
    ) -> Result<PlannerResult<RawBinaryExpr>> {
        // A `ts - ts` is arrow's Duration, DuckDB's INTERVAL.
        let interval = |e: &Expr| {
            matches!(
                e.get_type(schema),
                Ok(DataType::Interval(_) | DataType::Duration(_))
            )
        };
        let number = |e: &Expr| {
            e.get_type(schema)
                .is_ok_and(|t| t.is_numeric() || t.is_null())
        };
        let (left, right) = (&expr.left, &expr.right);
        let product = match expr.op {
            BinaryOperator::Multiply if interval(left) && number(right) => Product::IntervalTimes,
            BinaryOperator::Multiply if number(left) && interval(right) => Product::TimesInterval,
            BinaryOperator::Divide if interval(left) && number(right) => Product::IntervalDivided,
            _ => return Ok(PlannerResult::Original(expr)),
        };
        let args = match product {
            Product::TimesInterval => vec![expr.right, expr.left],
            _ => vec![expr.left, expr.right],
        };
        Ok(PlannerResult::Planned(product.udf().call(args)))
    }
}

/// Which of DuckDB's interval operators an [`IntervalProduct`] is; each
/// takes the interval first, the number second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Product {
    IntervalTimes,
    TimesInterval,
    IntervalDivided,
}

impl Product {
    /// The operator's function, to call with the interval first.
    fn udf(self) -> Arc<ScalarUDF> {
        Arc::new(ScalarUDF::new_from_impl(IntervalProduct {
            signature: Signature::user_defined(Volatility::Immutable),
            product: self,
        }))
    }
}

/// `interval * number`, `number * interval` or `interval / number` as
/// DuckDB computes them (the module's rules), row by row.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct IntervalProduct {
    signature: Signature,
    product: Product,
}

impl ScalarUDFImpl for IntervalProduct {
    fn name(&self) -> &str {
        match self.product {
            Product::IntervalTimes => "duckdb_interval_times",
            Product::TimesInterval => "duckdb_times_interval",
            Product::IntervalDivided => "duckdb_interval_divided",
        }
    }

    /// Named as the operator was written (`INTERVAL 1 DAY * x`).
    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        let [interval, number] = args else {
            return plan_err!("{} takes two arguments", self.name());
        };
        let (interval, number) = (interval.schema_name(), number.schema_name());
        Ok(match self.product {
            Product::IntervalTimes => format!("{interval} * {number}"),
            Product::TimesInterval => format!("{number} * {interval}"),
            Product::IntervalDivided => format!("{interval} / {number}"),
        })
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    /// An integer of at most 64 bits multiplies as BIGINT, every other
    /// number as DOUBLE, and a divisor is a DOUBLE, as DuckDB binds them.
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [interval, number] = arg_types else {
            return plan_err!("{} takes two arguments", self.name());
        };
        // A Duration is read as DuckDB's interval of it in the call.
        let interval = match interval {
            DataType::Duration(unit) => DataType::Duration(*unit),
            _ => DataType::Interval(IntervalUnit::MonthDayNano),
        };
        let whole = number.is_null() || (number.is_integer() && *number != DataType::UInt64);
        let number = match self.product {
            Product::IntervalDivided => DataType::Float64,
            _ if whole => DataType::Int64,
            _ => DataType::Float64,
        };
        Ok(vec![interval, number])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Interval(IntervalUnit::MonthDayNano))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalars = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [intervals, numbers] = arrays.as_slice() else {
            return exec_err!("{} takes two arguments", self.name());
        };
        let intervals = match intervals.data_type() {
            DataType::Duration(_) => of_durations(intervals)?,
            _ => intervals.as_primitive::<IntervalMonthDayNanoType>().clone(),
        };
        let intervals = &intervals;
        let result = match numbers.data_type() {
            DataType::Int64 => multiply_by_integers(intervals, numbers.as_primitive::<Int64Type>()),
            _ => {
                let doubles = cast(numbers, &DataType::Float64)?;
                let doubles = doubles.as_primitive::<Float64Type>();
                multiply_by_doubles(intervals, doubles, self.product == Product::IntervalDivided)
            }
        };
        let result: ArrayRef =
            Arc::new(result.map_err(datafusion::error::DataFusionError::Execution)?);
        Ok(match scalars {
            true => ColumnarValue::Scalar(ScalarValue::try_from_array(&result, 0)?),
            false => ColumnarValue::Array(result),
        })
    }
}

/// Durations (`ts - ts`) as DuckDB's intervals of them: whole days, the
/// rest as time, both with the duration's sign (DuckDB's `2024-01-02 06:00
/// - 2024-01-01` is `1 day 06:00:00`, so times 2 is `2 days 12:00:00`).
fn of_durations(durations: &ArrayRef) -> Result<IntervalMonthDayNanoArray> {
    let nanos = cast(
        durations,
        &DataType::Duration(datafusion::arrow::datatypes::TimeUnit::Nanosecond),
    )?;
    let nanos = cast(&nanos, &DataType::Int64)?;
    const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;
    Ok(nanos
        .as_primitive::<Int64Type>()
        .iter()
        .map(|n| {
            n.map(|n| {
                let days = i32::try_from(n / NANOS_PER_DAY).unwrap_or(i32::MAX);
                IntervalMonthDayNano::new(0, days, n % NANOS_PER_DAY)
            })
        })
        .collect())
}

/// Each interval times its integer (NULL of a NULL).
fn multiply_by_integers(
    intervals: &IntervalMonthDayNanoArray,
    numbers: &Int64Array,
) -> Result<IntervalMonthDayNanoArray, String> {
    (0..intervals.len())
        .map(|i| match intervals.is_valid(i) && numbers.is_valid(i) {
            true => times_integer(intervals.value(i), numbers.value(i)).map(Some),
            false => Ok(None),
        })
        .collect()
}

/// Each interval times its number, or divided by it (NULL by zero).
fn multiply_by_doubles(
    intervals: &IntervalMonthDayNanoArray,
    numbers: &Float64Array,
    divide: bool,
) -> Result<IntervalMonthDayNanoArray, String> {
    (0..intervals.len())
        .map(|i| {
            if intervals.is_null(i) || numbers.is_null(i) {
                return Ok(None);
            }
            let (interval, number) = (intervals.value(i), numbers.value(i));
            match divide {
                true if number == 0.0 => Ok(None),
                true => times_double(interval, 1.0 / number)
                    .map(Some)
                    .ok_or_else(|| "Out of Range Error: Overflow in INTERVAL division".to_owned()),
                false => times_double(interval, number).map(Some).ok_or_else(|| {
                    "Out of Range Error: Overflow in multiplication of INTERVAL.".to_owned()
                }),
            }
        })
        .collect()
}

/// An interval's microseconds, as DuckDB keeps its time (a part of a
/// microsecond, which DuckDB has not, is dropped).
fn micros_of(interval: IntervalMonthDayNano) -> i64 {
    interval.nanoseconds / NANOS_PER_MICRO
}

/// `months, days, micros` as Arrow's interval, None when the time is past
/// what nanoseconds hold.
fn interval_of(months: i32, days: i32, micros: i64) -> Option<IntervalMonthDayNano> {
    let nanoseconds = micros.checked_mul(NANOS_PER_MICRO)?;
    Some(IntervalMonthDayNano::new(months, days, nanoseconds))
}

/// The error for an interval whose time DuckDB holds and Arrow does not.
fn past_nanoseconds() -> String {
    "Out of Range Error: Overflow in multiplication of INTERVAL (s3sql holds an \
     interval's time in nanoseconds, at most about 292 years, where DuckDB holds \
     microseconds)"
        .to_owned()
}

/// `interval * factor` as DuckDB multiplies by a BIGINT: `factor` must be
/// an INTEGER, and each part's product fit its type.
pub(crate) fn times_integer(
    interval: IntervalMonthDayNano,
    factor: i64,
) -> Result<IntervalMonthDayNano, String> {
    let Ok(factor32) = i32::try_from(factor) else {
        return Err(format!(
            "Invalid Input Error: Type INT64 with value {factor} can't be cast because the \
             value is out of range for the destination type INT32"
        ));
    };
    let overflow = |kind: &str, a: &dyn std::fmt::Display| {
        format!("Out of Range Error: Overflow in multiplication of {kind} ({a} * {factor})!")
    };
    let months = (interval.months)
        .checked_mul(factor32)
        .ok_or_else(|| overflow("INT32", &interval.months))?;
    let days = (interval.days)
        .checked_mul(factor32)
        .ok_or_else(|| overflow("INT32", &interval.days))?;
    let micros = micros_of(interval);
    let micros = micros
        .checked_mul(factor)
        .ok_or_else(|| overflow("INT64", &micros))?;
    interval_of(months, days, micros).ok_or_else(past_nanoseconds)
}

/// `j` rounded to the microsecond (PostgreSQL's TSROUND).
fn round_to_micros(j: f64) -> f64 {
    (j * MICROS_PER_SECOND).round_ties_even() / MICROS_PER_SECOND
}

/// `d` truncated to an INTEGER, None past its range (or NaN).
fn whole_i32(d: f64) -> Option<i32> {
    (!d.is_nan() && d >= f64::from(i32::MIN) && d <= f64::from(i32::MAX)).then_some(d as i32)
}

/// `interval * factor` as DuckDB multiplies by a DOUBLE (PostgreSQL's
/// interval_mul): each part's whole product stays in its part, its
/// fraction goes down (a month as 30 days, a day as 86,400 seconds), the
/// time rounded to the microsecond, half to even. None on overflow.
pub(crate) fn times_double(
    interval: IntervalMonthDayNano,
    factor: f64,
) -> Option<IntervalMonthDayNano> {
    let months_product = f64::from(interval.months) * factor;
    let months = whole_i32(months_product)?;
    let days_product = f64::from(interval.days) * factor;
    let mut days = whole_i32(days_product)?;
    let month_rest = round_to_micros((months_product - f64::from(months)) * DAYS_PER_MONTH);
    // Below 30 in size: the whole days of a month's fraction.
    let month_rest_days = month_rest as i32;
    let mut seconds = round_to_micros(
        (days_product - f64::from(days) + month_rest - f64::from(month_rest_days))
            * SECONDS_PER_DAY,
    );
    // Rounding and the cascade may make a day or more of seconds.
    if seconds.abs() >= SECONDS_PER_DAY {
        let whole_days = (seconds / SECONDS_PER_DAY) as i32;
        days = days.checked_add(whole_days)?;
        seconds -= f64::from(whole_days) * SECONDS_PER_DAY;
    }
    days = days.checked_add(month_rest_days)?;
    let micros = micros_of(interval) as f64 * factor + seconds * MICROS_PER_SECOND;
    interval_of(months, days, rounded_i64(micros)?)
}

/// `d` as DuckDB casts a DOUBLE to BIGINT: rounded half to even, None
/// past BIGINT's range (or NaN).
pub(crate) fn rounded_i64(d: f64) -> Option<i64> {
    let d = d.round_ties_even();
    // i64::MIN is -2^63, exact as a DOUBLE; BIGINT holds below 2^63.
    let min = i64::MIN as f64;
    (d.is_finite() && d >= min && d < -min).then_some(d as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(months: i32, days: i32, micros: i64) -> IntervalMonthDayNano {
        IntervalMonthDayNano::new(months, days, micros * NANOS_PER_MICRO)
    }

    const HOUR: i64 = 3_600_000_000;

    /// Products DuckDB 1.5.5 gives (each checked there).
    #[test]
    fn doubles_carry_fractions_down_as_duckdb() {
        let month_day_hour = interval(1, 1, HOUR);
        assert_eq!(
            times_double(month_day_hour, 2.5),
            Some(interval(2, 17, 14 * HOUR + 30 * 60_000_000))
        );
        assert_eq!(
            times_double(interval(1, 0, 0), 1.0 / 3.0),
            Some(interval(0, 10, 0))
        );
        assert_eq!(
            times_double(interval(1, 0, 0), 1.0 / 7.0),
            Some(interval(0, 4, 6 * HOUR + 51 * 60_000_000 + 25_689_600))
        );
        assert_eq!(
            times_double(interval(-1, -1, 0), 2.5),
            Some(interval(-2, -17, -12 * HOUR))
        );
        assert_eq!(
            times_double(interval(0, 0, 1), 2.5),
            Some(interval(0, 0, 2))
        );
        assert_eq!(times_double(interval(0, 1, 0), 1e30), None);
        assert_eq!(times_double(interval(0, 1, 0), f64::NAN), None);
    }

    #[test]
    fn integers_multiply_each_part_or_fail_as_duckdb() {
        assert_eq!(
            times_integer(interval(1, 2, 3), -3),
            Ok(interval(-3, -6, -9))
        );
        let error = times_integer(interval(0, 1, 0), 3_000_000_000).unwrap_err();
        assert!(
            error.contains("Type INT64 with value 3000000000 can't be cast"),
            "{error}"
        );
        let error = times_integer(interval(0, 2_000_000_000, 0), 2).unwrap_err();
        assert!(
            error.contains("Overflow in multiplication of INT32 (2000000000 * 2)!"),
            "{error}"
        );
    }
}

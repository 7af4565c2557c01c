//! DuckDB's infinite timestamps through casts and functions. s3sql holds
//! `infinity` and `-infinity` as the largest i64 and its negation in any
//! unit, as printing reads them; arrow's kernels read them as the last and
//! first times the nanoseconds hold, so `CAST(TIMESTAMP 'infinity' AS
//! TIMESTAMP_S)` was `2262-04-11 23:47:17`, its DATE `2262-04-11`, its
//! `date_trunc('day', ...)` `2262-04-11 00:00:00` and its `extract(year
//! ...)` 2262, and `date_trunc` of `-infinity` overflowed (review of
//! tstext 3, F2). As DuckDB 1.5.5 answers:
//! - a cast to a coarser unit (TIMESTAMP to TIMESTAMP_S, _MS, _US) keeps
//!   the infinity ([`InfiniteTimestamps`], an analyzer rule run after
//!   [`crate::timestamp_units`]' rounding, which casts to microseconds
//!   first);
//! - a cast to DATE is refused, s3sql's DATE having no infinity (as a
//!   cast of the text `infinity` is, [`crate::timestamp_cast`]); TRY_CAST
//!   is NULL;
//! - `date_trunc` keeps the infinity, and `date_part` (`extract`) is NULL
//!   ([`InfinityAware`] wraps DataFusion's: `extract` is planned with its
//!   `date_part` directly, not looked up by name);
//! - a cast to a finer unit (TIMESTAMP_S `infinity` to TIMESTAMP, a
//!   DuckDB-written Parquet column's, in microseconds, to TIMESTAMP_NS)
//!   keeps the infinity too, where arrow refused it ("converted value
//!   exceeds the representable i64 range"; hostile review, MED 3). Such a
//!   cast compared with a constant is moved to the constant instead
//!   ([`crate::infinity_pruning::compared_in_unit`]), as DataFusion moves
//!   it to prune Parquet row groups, but keeping the constant's infinity.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array};
use datafusion::arrow::compute::kernels::nullif::nullif;
use datafusion::arrow::compute::kernels::zip::zip;
use datafusion::arrow::compute::{CastOptions, cast, cast_with_options, max, min};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type, TimeUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult};
use datafusion::common::{DFSchema, Result, ScalarValue, exec_err};
use datafusion::logical_expr::expr::{Cast, ScalarFunction, TryCast};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::sort_properties::{ExprProperties, SortProperties};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ExprSchemable, LogicalPlan, ReturnFieldArgs,
    ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::optimizer::AnalyzerRule;

use crate::expr_rules::rewrite_expressions;

/// The analyzer rule: a cast (or TRY_CAST) of a timestamp to another
/// unit or to DATE becomes [`InfinityCast`] (moved to the constant it is
/// compared with, for a finer unit), and DataFusion's
/// `date_trunc` and `date_part` [`InfinityAware`]. Each node's schema is
/// then computed again, `date_part` being nullable now.
#[derive(Debug, Default)]
pub(crate) struct InfiniteTimestamps;

impl AnalyzerRule for InfiniteTimestamps {
    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        let rewritten = plan.transform_up_with_subqueries(|plan| {
            rewrite_expressions(plan, crate::timestamp_parts::duckdb_parts)?
                .transform_data(|plan| {
                    rewrite_expressions(plan, crate::infinity_pruning::compared_in_unit)
                })?
                .transform_data(|plan| rewrite_expressions(plan, rewrite))
        })?;
        if !rewritten.transformed {
            return Ok(rewritten.data);
        }
        rewritten
            .data
            .transform_up_with_subqueries(|plan| Ok(Transformed::yes(plan.recompute_schema()?)))?
            .data
            .transform_up_with_subqueries(crate::infinity_pruning::with_implied_ranges)
            .data()
    }

    fn name(&self) -> &str {
        "duckdb_infinite_timestamps"
    }
}

/// How fine a unit is: a cast to a lower rank drops digits.
pub(crate) fn rank(unit: TimeUnit) -> u8 {
    match unit {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 1,
        TimeUnit::Microsecond => 2,
        TimeUnit::Nanosecond => 3,
    }
}

fn rewrite(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    if let Expr::ScalarFunction(call) = &expr
        && !call.func.inner().is::<InfinityAware>()
        && let Some((_, answer)) = OF_INFINITY
            .iter()
            .find(|(name, _)| *name == call.func.name())
    {
        let aware = InfinityAware {
            inner: call.func.as_ref().clone(),
            answer: *answer,
        };
        let func = Arc::new(ScalarUDF::new_from_impl(aware));
        return Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction {
            func,
            args: call.args.clone(),
        })));
    }
    let (input, to, strict) = match &expr {
        Expr::Cast(Cast { expr, field }) => (expr, field.data_type(), true),
        Expr::TryCast(TryCast { expr, field }) => (expr, field.data_type(), false),
        _ => return Ok(Transformed::no(expr)),
    };
    let DataType::Timestamp(from, _) = input.get_type(schema)? else {
        return Ok(Transformed::no(expr));
    };
    let rewritten = match to {
        DataType::Date32 | DataType::Date64 => true,
        DataType::Timestamp(unit, _) => rank(*unit) != rank(from),
        _ => false,
    };
    if !rewritten {
        return Ok(Transformed::no(expr));
    }
    Ok(Transformed::yes(infinity_cast(
        (**input).clone(),
        to,
        strict,
    )))
}

/// The call of [`InfinityCast`] casting timestamp `input` to `to` (a
/// timestamp of another unit, or DATE) with its infinities kept (refused
/// for a DATE; TRY_CAST, not `strict`: NULL).
pub(crate) fn infinity_cast(input: Expr, to: &DataType, strict: bool) -> Expr {
    let udf = InfinityCast {
        to: to.clone(),
        strict,
        signature: Signature::any(1, Volatility::Immutable),
    };
    let func = Arc::new(ScalarUDF::new_from_impl(udf));
    Expr::ScalarFunction(ScalarFunction::new_udf(func, vec![input]))
}

/// The rows of timestamp `array` that are `infinity` or `-infinity`; None
/// when none is (or `array` is no timestamp). The batch's least and
/// greatest values rule out most batches first: arrow's aggregate kernels
/// (compiled optimized, the cast to Int64 sharing the values' buffer) cost
/// a fraction of the row-by-row mask, which made `date_trunc` and
/// `date_part` 1.5 to 2 times slower on batches without an infinity
/// (helper-137, F2).
fn infinite_rows(array: &ArrayRef) -> Result<Option<BooleanArray>> {
    if !matches!(array.data_type(), DataType::Timestamp(..)) {
        return Ok(None);
    }
    let raw = cast(array, &DataType::Int64)?;
    let raw = raw.as_primitive::<Int64Type>();
    if max(raw) != Some(i64::MAX) && min(raw).is_none_or(|least| least > -i64::MAX) {
        return Ok(None);
    }
    let infinite = BooleanArray::from_unary(raw, |v| v == i64::MAX || v == -i64::MAX);
    Ok((infinite.true_count() > 0).then_some(infinite))
}

/// Timestamp `array` with its `infinite` rows at the epoch, which arrow's
/// kernels compute without overflowing (their answers are replaced).
fn finite(array: &ArrayRef, infinite: &BooleanArray) -> Result<ArrayRef> {
    let raw = cast(array, &DataType::Int64)?;
    let zeroed = zip(infinite, &Int64Array::new_scalar(0), &raw)?;
    Ok(cast(&zeroed, array.data_type())?)
}

/// `answer` with the `infinite` rows of timestamp `array` kept as they
/// are, in `answer`'s type (a timestamp of any unit).
fn keep_infinities(
    array: &ArrayRef,
    infinite: &BooleanArray,
    answer: &ArrayRef,
) -> Result<ArrayRef> {
    let kept = cast(&cast(array, &DataType::Int64)?, answer.data_type())?;
    Ok(zip(infinite, &kept, answer)?)
}

/// `duckdb_timestamp_cast(t)`: timestamp `t` cast by arrow to another
/// unit with its infinities kept, or to DATE with them refused (NULL for
/// TRY_CAST).
#[derive(Debug, PartialEq, Eq, Hash)]
struct InfinityCast {
    to: DataType,
    strict: bool,
    signature: Signature,
}

impl ScalarUDFImpl for InfinityCast {
    fn name(&self) -> &str {
        match self.strict {
            true => "duckdb_timestamp_cast",
            false => "duckdb_try_timestamp_cast",
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
            return exec_err!("duckdb_timestamp_cast takes one argument");
        };
        let array = arg.to_array(args.number_rows)?;
        let options = CastOptions {
            safe: !self.strict,
            ..CastOptions::default()
        };
        let out = match infinite_rows(&array)? {
            None => cast_with_options(&array, &self.to, &options)?,
            Some(infinite) => {
                let out = cast_with_options(&finite(&array, &infinite)?, &self.to, &options)?;
                if matches!(self.to, DataType::Timestamp(..)) {
                    keep_infinities(&array, &infinite, &out)?
                } else if self.strict {
                    return infinite_date(&array, &infinite);
                } else {
                    nullif(&out, &infinite)?
                }
            }
        };
        Ok(match arg {
            ColumnarValue::Scalar(_) => {
                ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
            }
            ColumnarValue::Array(_) => ColumnarValue::Array(out),
        })
    }
}

/// The error for the first `infinite` row of `array` cast to DATE, worded
/// as for the text `infinity` ([`crate::timestamp_cast`]).
fn infinite_date(array: &ArrayRef, infinite: &BooleanArray) -> Result<ColumnarValue> {
    let raw = cast(array, &DataType::Int64)?;
    let first = infinite.iter().position(|row| row == Some(true));
    let text = match first.map(|row| raw.as_primitive::<Int64Type>().value(row)) {
        Some(i64::MAX) => "infinity",
        _ => "-infinity",
    };
    exec_err!(
        "Conversion Error: infinite DATE \"{text}\" is not supported: s3sql's DATE has no \
         infinity; keep the TIMESTAMP, which holds it"
    )
}

/// What a function answers for an infinite timestamp.
#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
enum OfInfinity {
    /// The infinity itself (`date_trunc`).
    Kept,
    /// NULL (`date_part`, `extract`).
    Null,
}

/// The functions DuckDB answers so for an infinite timestamp.
const OF_INFINITY: [(&str, OfInfinity); 2] = [
    ("date_trunc", OfInfinity::Kept),
    ("date_part", OfInfinity::Null),
];

/// The DataFusion function `func` wraps when it is an [`InfinityAware`]
/// answering NULL for an infinity (`date_part`): its `preimage` gives the
/// range of times a year compares to ([`crate::infinity_pruning`]).
pub(crate) fn nulling_infinities(func: &ScalarUDF) -> Option<&ScalarUDF> {
    let aware = func.inner().downcast_ref::<InfinityAware>()?;
    (aware.answer == OfInfinity::Null).then_some(&aware.inner)
}

/// DataFusion's function `inner` with an infinite timestamp argument
/// answered as DuckDB answers it, the other rows by `inner`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct InfinityAware {
    inner: ScalarUDF,
    answer: OfInfinity,
}

impl ScalarUDFImpl for InfinityAware {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        self.inner.schema_name(args)
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    /// `inner`'s field; nullable where an infinity answers NULL.
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let field = self.inner.return_field_from_args(args)?;
        Ok(match self.answer {
            OfInfinity::Kept => field,
            OfInfinity::Null => Arc::new(Field::clone(&field).with_nullable(true)),
        })
    }

    fn invoke_with_args(&self, mut args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Some(timestamp) = args.args.get(1).cloned() else {
            return self.inner.invoke_with_args(args);
        };
        // A constant's one value first, not a batch of its copies.
        let one = match &timestamp {
            ColumnarValue::Scalar(scalar) => Some(scalar.to_array()?),
            ColumnarValue::Array(_) => None,
        };
        if let Some(one) = one
            && infinite_rows(&one)?.is_none()
        {
            return self.inner.invoke_with_args(args);
        }
        let array = timestamp.to_array(args.number_rows)?;
        let Some(infinite) = infinite_rows(&array)? else {
            return self.inner.invoke_with_args(args);
        };
        args.args[1] = ColumnarValue::Array(finite(&array, &infinite)?);
        let rows = args.number_rows;
        let out = self.inner.invoke_with_args(args)?.to_array(rows)?;
        let out = match self.answer {
            OfInfinity::Kept => keep_infinities(&array, &infinite, &out)?,
            OfInfinity::Null => nullif(&out, &infinite)?,
        };
        Ok(match timestamp {
            ColumnarValue::Scalar(_) => {
                ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
            }
            ColumnarValue::Array(_) => ColumnarValue::Array(out),
        })
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        self.inner.simplify(args, info)
    }

    // No `preimage`: DataFusion's `date_part` turns `extract(year FROM t)
    // > 2000` into `t >= 2001-01-01`, which `infinity` meets where its
    // NULL year does not; the range is added beside the comparison
    // instead (`crate::infinity_pruning`).

    fn output_ordering(&self, inputs: &[ExprProperties]) -> Result<SortProperties> {
        self.inner.output_ordering(inputs)
    }

    fn preserves_lex_ordering(&self, inputs: &[ExprProperties]) -> Result<bool> {
        self.inner.preserves_lex_ordering(inputs)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::TimestampNanosecondArray;

    /// A batch is looked at row by row only when its least or greatest
    /// value is an infinity: none in a batch of times (i64::MIN, a time,
    /// too), and a lone `-infinity` or `infinity` still found.
    #[test]
    fn batches_without_an_infinity_have_no_mask() {
        let batch = |values: Vec<Option<i64>>| -> ArrayRef {
            Arc::new(TimestampNanosecondArray::from(values))
        };
        let none: [Vec<Option<i64>>; 3] = [
            vec![Some(0), None, Some(i64::MAX - 1)],
            vec![Some(i64::MIN), Some(-i64::MAX + 1)],
            vec![None, None],
        ];
        for values in none {
            assert!(infinite_rows(&batch(values)).unwrap().is_none());
        }
        for (values, row) in [
            (vec![Some(i64::MIN), Some(-i64::MAX)], 1),
            (vec![Some(i64::MAX), Some(0)], 0),
        ] {
            let infinite = infinite_rows(&batch(values)).unwrap().unwrap();
            assert_eq!(infinite.true_count(), 1);
            assert!(infinite.value(row));
        }
    }

    /// Only the two infinities are infinite rows; a NULL is not.
    #[test]
    fn finds_the_infinities_among_times() {
        let array: ArrayRef = Arc::new(TimestampNanosecondArray::from(vec![
            Some(i64::MAX),
            Some(0),
            None,
            Some(-i64::MAX),
            Some(i64::MIN),
        ]));
        let infinite = infinite_rows(&array).unwrap().unwrap();
        let found: Vec<_> = infinite.iter().collect();
        assert_eq!(
            found,
            [Some(true), Some(false), None, Some(true), Some(false)]
        );
        let finite = finite(&array, &infinite).unwrap();
        let raw = cast(&finite, &DataType::Int64).unwrap();
        assert_eq!(
            raw.as_primitive::<Int64Type>().iter().collect::<Vec<_>>(),
            [Some(0), Some(0), None, Some(0), Some(i64::MIN)]
        );
    }
}

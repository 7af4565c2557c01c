//! A cast of a string column to INTERVAL reads each value as DuckDB 1.5.5
//! does ([`crate::interval_text::parse`]: `'1 day 04:05:06'`, `'1h 2m'`),
//! where arrow's cast refused a time ("Invalid input syntax for type
//! interval"). [`IntervalCasts`], an analyzer rule run after type
//! coercion, replaces such a cast (TRY_CAST too: NULL for text DuckDB
//! refuses) with a call of [`IntervalText`]; literals were rewritten
//! before planning ([`crate::interval_text::intervals_as_duckdb`]).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, IntervalMonthDayNanoBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, IntervalMonthDayNano, IntervalUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult};
use datafusion::common::{DFSchema, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::expr::{Cast, ScalarFunction, TryCast};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ExprSchemable, LogicalPlan, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility,
};
use datafusion::optimizer::AnalyzerRule;

use crate::expr_rules::rewrite_expressions;

/// The analyzer rule: casts of strings to INTERVAL become [`IntervalText`].
#[derive(Debug, Default)]
pub(crate) struct IntervalCasts;

impl AnalyzerRule for IntervalCasts {
    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        let strict = Arc::new(ScalarUDF::new_from_impl(IntervalText::new(true)));
        let lenient = Arc::new(ScalarUDF::new_from_impl(IntervalText::new(false)));
        plan.transform_up_with_subqueries(|plan| {
            rewrite_expressions(plan, |e, schema| rewrite(e, schema, &strict, &lenient))
        })
        .data()
    }

    fn name(&self) -> &str {
        "duckdb_interval_text"
    }
}

fn rewrite(
    expr: Expr,
    schema: &DFSchema,
    strict: &Arc<ScalarUDF>,
    lenient: &Arc<ScalarUDF>,
) -> Result<Transformed<Expr>> {
    let (input, to, udf) = match &expr {
        Expr::Cast(Cast { expr, field }) => (expr, field.data_type(), strict),
        Expr::TryCast(TryCast { expr, field }) => (expr, field.data_type(), lenient),
        _ => return Ok(Transformed::no(expr)),
    };
    let from_text = matches!(
        input.get_type(schema)?,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    );
    if !(from_text && matches!(to, DataType::Interval(IntervalUnit::MonthDayNano))) {
        return Ok(Transformed::no(expr));
    }
    let call = Expr::ScalarFunction(ScalarFunction::new_udf(
        Arc::clone(udf),
        vec![(**input).clone()],
    ));
    Ok(Transformed::yes(call))
}

/// `duckdb_interval(text)`: `text` read as DuckDB reads an INTERVAL; an
/// error for text it refuses (NULL for TRY_CAST's `duckdb_try_interval`).
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct IntervalText {
    strict: bool,
    signature: Signature,
}

impl IntervalText {
    fn new(strict: bool) -> Self {
        Self {
            strict,
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for IntervalText {
    fn name(&self) -> &str {
        match self.strict {
            true => "duckdb_interval",
            false => "duckdb_try_interval",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Interval(IntervalUnit::MonthDayNano))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Some(arg) = args.args.first() else {
            return exec_err!("duckdb_interval takes one argument");
        };
        let array = arg.to_array(args.number_rows)?;
        let texts: ArrayRef = cast(&array, &DataType::Utf8)?;
        let mut out = IntervalMonthDayNanoBuilder::with_capacity(texts.len());
        for text in texts.as_string::<i32>().iter() {
            let parsed = text.map(crate::interval_text::parse);
            match parsed {
                None => out.append_null(),
                Some(Ok(interval)) => {
                    let (months, days, micros) = interval.parts();
                    let nanos = micros.checked_mul(1_000);
                    match nanos {
                        Some(nanoseconds) => out.append_value(IntervalMonthDayNano {
                            months,
                            days,
                            nanoseconds,
                        }),
                        None if self.strict => {
                            return exec_err!("interval value is out of range");
                        }
                        None => out.append_null(),
                    }
                }
                Some(Err(e)) if self.strict => return exec_err!("Conversion Error: {e}"),
                Some(Err(_)) => out.append_null(),
            }
        }
        let out: ArrayRef = Arc::new(out.finish());
        match arg {
            ColumnarValue::Scalar(_) => Ok(ColumnarValue::Scalar(
                datafusion::common::ScalarValue::try_from_array(&out, 0)?,
            )),
            ColumnarValue::Array(_) => Ok(ColumnarValue::Array(out)),
        }
    }
}

//! Integer arithmetic past its type as DuckDB 1.5.5 treats it: an
//! overflow error, where DataFusion wraps around.
//!
//! - `+`, `-` and `*` of integers ([`IntegerOverflow`], a rule after type
//!   coercion): `9223372036854775807 + 1` is DuckDB's "Overflow in
//!   addition of INT64 (9223372036854775807 + 1)!", DataFusion's
//!   -9223372036854775808;
//! - a `sum` of BIGINTs past 64 bits, in an aggregate (DISTINCT too) or a
//!   window ([`checked_sum`], in [`sum`], from crate::decimal_literals'
//!   rule; a DISTINCT one in an aggregate from [`CheckedDistinctSums`],
//!   after DataFusion has grouped its values): DuckDB's sum is a HUGEINT
//!   and gives the total; s3sql's stays a BIGINT and says how to get it;
//! - a `sum` of UBIGINTs is DuckDB's HUGEINT total ([`hugeint_sum`],
//!   DECIMAL(38,0)), where DataFusion's UBIGINT wraps around.

mod distinct_sum;
mod sum;

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Datum, Scalar};
use datafusion::arrow::compute::cast;
use datafusion::arrow::compute::kernels::numeric;
use datafusion::arrow::datatypes::{DataType, Decimal128Type};
use datafusion::arrow::error::ArrowError;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult};
use datafusion::common::{DFSchema, Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    BinaryExpr, ColumnarValue, Expr, ExprSchemable, LogicalPlan, Operator, ScalarFunctionArgs,
    ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::optimizer::AnalyzerRule;

use crate::expr_rules::rewrite_expressions;

use crate::integers::{duckdb_name, is_integer};

pub(crate) use distinct_sum::CheckedDistinctSums;
pub(crate) use sum::{checked_sum, hugeint_sum};

/// The analyzer rule, after type coercion (both operands of one type):
/// `+`, `-` and `*` of integers become [`CheckedArithmetic`].
#[derive(Debug, Default)]
pub(crate) struct IntegerOverflow;

impl AnalyzerRule for IntegerOverflow {
    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|plan| rewrite_expressions(plan, checked))
            .data()
    }

    fn name(&self) -> &str {
        "integer_overflow"
    }
}

/// `expr` as a call of [`CheckedArithmetic`] when it adds, subtracts or
/// multiplies integers.
fn checked(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &expr else {
        return Ok(Transformed::no(expr));
    };
    let integer = |e: &Expr| e.get_type(schema).is_ok_and(|t| is_integer(&t));
    let arithmetic = matches!(op, Operator::Plus | Operator::Minus | Operator::Multiply);
    if !(arithmetic && integer(left) && integer(right)) {
        return Ok(Transformed::no(expr));
    }
    let call = ScalarUDF::new_from_impl(CheckedArithmetic {
        signature: Signature::any(2, Volatility::Immutable),
        op: *op,
    });
    Ok(Transformed::yes(
        Arc::new(call).call(vec![left.as_ref().clone(), right.as_ref().clone()]),
    ))
}

/// `+`, `-` or `*` of two integers of one type, DuckDB's overflow error
/// where the result is past the type: "Overflow in addition of INT64
/// (9223372036854775807 + 1)!".
#[derive(Debug, PartialEq, Eq, Hash)]
struct CheckedArithmetic {
    signature: Signature,
    op: Operator,
}

impl CheckedArithmetic {
    /// DuckDB's word for the operation.
    fn operation(&self) -> &'static str {
        match self.op {
            Operator::Plus => "addition",
            Operator::Minus => "subtraction",
            _ => "multiplication",
        }
    }
}

impl ScalarUDFImpl for CheckedArithmetic {
    fn name(&self) -> &str {
        match self.op {
            Operator::Plus => "checked_add",
            Operator::Minus => "checked_subtract",
            _ => "checked_multiply",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types.first().cloned().unwrap_or(DataType::Int64))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [left, right] = args.args.as_slice() else {
            return exec_err!("{} takes two arguments", self.name());
        };
        let datum = |v: &ColumnarValue| -> Result<Box<dyn Datum>> {
            Ok(match v {
                ColumnarValue::Array(a) => Box::new(Arc::clone(a)),
                ColumnarValue::Scalar(s) => Box::new(Scalar::new(s.to_array()?)),
            })
        };
        let (l, r) = (datum(left)?, datum(right)?);
        let result = match self.op {
            Operator::Plus => numeric::add(l.as_ref(), r.as_ref()),
            Operator::Minus => numeric::sub(l.as_ref(), r.as_ref()),
            _ => numeric::mul(l.as_ref(), r.as_ref()),
        };
        let result = match result {
            Ok(result) => result,
            Err(ArrowError::ArithmeticOverflow(_)) => {
                return Err(self.overflow(left, right, args.number_rows));
            }
            Err(e) => return Err(e.into()),
        };
        Ok(match (left, right) {
            (ColumnarValue::Scalar(_), ColumnarValue::Scalar(_)) => {
                ColumnarValue::Scalar(ScalarValue::try_from_array(&result, 0)?)
            }
            _ => ColumnarValue::Array(result),
        })
    }
}

impl CheckedArithmetic {
    /// DuckDB's error for the first row of `left op right` past its type.
    fn overflow(
        &self,
        left: &ColumnarValue,
        right: &ColumnarValue,
        rows: usize,
    ) -> datafusion::error::DataFusionError {
        let wide = |v: &ColumnarValue| -> Result<ArrayRef> {
            Ok(cast(&v.to_array(rows)?, &DataType::Decimal128(38, 0))?)
        };
        let t = left.data_type();
        let (Ok(l), Ok(r)) = (wide(left), wide(right)) else {
            return datafusion::error::DataFusionError::Execution(format!(
                "Out of Range Error: Overflow in {} of {}!",
                self.operation(),
                duckdb_name(&t)
            ));
        };
        let (l, r) = (
            l.as_primitive::<Decimal128Type>(),
            r.as_primitive::<Decimal128Type>(),
        );
        let (min, max) = bounds(&t);
        let past = (0..l.len().min(r.len())).find_map(|i| {
            let (a, b) = (l.value(i), r.value(i));
            let exact = match self.op {
                Operator::Plus => a.checked_add(b),
                Operator::Minus => a.checked_sub(b),
                _ => a.checked_mul(b),
            };
            let past = exact.is_none_or(|v| v < min || v > max);
            (l.is_valid(i) && r.is_valid(i) && past).then_some((a, b))
        });
        let symbol = match self.op {
            Operator::Plus => "+",
            Operator::Minus => "-",
            _ => "*",
        };
        datafusion::error::DataFusionError::Execution(match past {
            Some((a, b)) => format!(
                "Out of Range Error: Overflow in {} of {} ({a} {symbol} {b})!",
                self.operation(),
                duckdb_name(&t)
            ),
            None => format!(
                "Out of Range Error: Overflow in {} of {}!",
                self.operation(),
                duckdb_name(&t)
            ),
        })
    }
}

/// The smallest and largest value of the integer type `t`.
fn bounds(t: &DataType) -> (i128, i128) {
    match t {
        DataType::Int8 => (i8::MIN.into(), i8::MAX.into()),
        DataType::Int16 => (i16::MIN.into(), i16::MAX.into()),
        DataType::Int32 => (i32::MIN.into(), i32::MAX.into()),
        DataType::UInt8 => (0, u8::MAX.into()),
        DataType::UInt16 => (0, u16::MAX.into()),
        DataType::UInt32 => (0, u32::MAX.into()),
        DataType::UInt64 => (0, u64::MAX.into()),
        _ => (i64::MIN.into(), i64::MAX.into()),
    }
}

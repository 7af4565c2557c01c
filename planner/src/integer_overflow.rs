//! Integer arithmetic past its type as DuckDB 1.5.5 treats it: an
//! overflow error, where DataFusion wraps around.
//!
//! - `+`, `-` and `*` of integers ([`IntegerOverflow`], a rule after type
//!   coercion): `9223372036854775807 + 1` is DuckDB's "Overflow in
//!   addition of INT64 (9223372036854775807 + 1)!", DataFusion's
//!   -9223372036854775808; and `//` and `%` of a signed type's least
//!   value by -1, DuckDB's "Overflow in division of -128 / -1" (arrow's
//!   `/` errs in its own words, its `%` answers 0);
//! - a `sum` of BIGINTs past 64 bits, in an aggregate (DISTINCT too) or a
//!   window ([`checked_sum`], in [`sum`], from crate::decimal_literals'
//!   rule): DuckDB's sum is a HUGEINT and gives the total; s3sql's stays
//!   a BIGINT and says how to get it;
//! - a `sum` of UBIGINTs is DuckDB's HUGEINT total ([`hugeint_sum`],
//!   DECIMAL(38,0)), where DataFusion's UBIGINT wraps around.

mod sum;

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, ArrowPrimitiveType, AsArray, Datum, Scalar};
use datafusion::arrow::compute::cast;
use datafusion::arrow::compute::kernels::numeric;
use datafusion::arrow::datatypes::{
    ArrowNativeType, DataType, Decimal128Type, Int8Type, Int16Type, Int32Type, Int64Type,
};
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

pub(crate) use sum::{checked_distinct_sum, checked_sum, hugeint_sum};

/// The analyzer rule, after type coercion (both operands of one type):
/// `+`, `-` and `*` of integers, and `/` and `%` of signed integers (the
/// planned `//` and `%`), become [`CheckedArithmetic`].
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
/// multiplies integers, or divides signed ones (only a signed type's
/// least value divided by -1 is past its type).
fn checked(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &expr else {
        return Ok(Transformed::no(expr));
    };
    let integer = |e: &Expr| e.get_type(schema).is_ok_and(|t| is_integer(&t));
    let signed = |e: &Expr| e.get_type(schema).is_ok_and(|t| t.is_signed_integer());
    let arithmetic = match op {
        Operator::Plus | Operator::Minus | Operator::Multiply => integer(left) && integer(right),
        Operator::Divide | Operator::Modulo => signed(left) && signed(right),
        _ => false,
    };
    if !arithmetic {
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
/// (9223372036854775807 + 1)!"; or `/` or `%` of two signed integers of
/// one type, "Overflow in division of -128 / -1" for the least value by
/// -1.
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
            Operator::Multiply => "multiplication",
            _ => "division",
        }
    }
}

impl ScalarUDFImpl for CheckedArithmetic {
    fn name(&self) -> &str {
        match self.op {
            Operator::Plus => "checked_add",
            Operator::Minus => "checked_subtract",
            Operator::Multiply => "checked_multiply",
            Operator::Divide => "checked_divide",
            _ => "checked_modulo",
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
        let rows = args.number_rows;
        let result = match self.op {
            Operator::Plus => numeric::add(l.as_ref(), r.as_ref()),
            Operator::Minus => numeric::sub(l.as_ref(), r.as_ref()),
            Operator::Multiply => numeric::mul(l.as_ref(), r.as_ref()),
            Operator::Divide => numeric::div(l.as_ref(), r.as_ref()),
            _ => numeric::rem(l.as_ref(), r.as_ref()),
        };
        let result = match result {
            // Arrow's `%` wraps the least value by -1 around to 0.
            Ok(_) if self.op == Operator::Modulo && least_by_minus_one(left, right, rows)? => {
                return Err(self.overflow(left, right, rows));
            }
            Ok(result) => result,
            Err(ArrowError::ArithmeticOverflow(_)) => {
                return Err(self.overflow(left, right, rows));
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
                Operator::Multiply => a.checked_mul(b),
                // `%` is past the type where `/` is (DuckDB divides).
                _ => a.checked_div(b),
            };
            let past = exact.is_none_or(|v| v < min || v > max);
            (l.is_valid(i) && r.is_valid(i) && past).then_some((a, b))
        });
        let symbol = match self.op {
            Operator::Plus => "+",
            Operator::Minus => "-",
            _ => "*",
        };
        let division = matches!(self.op, Operator::Divide | Operator::Modulo);
        datafusion::error::DataFusionError::Execution(match past {
            // DuckDB names no type here, and ends with no `!`.
            Some((a, b)) if division => {
                format!("Out of Range Error: Overflow in division of {a} / {b}")
            }
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

/// Whether a row of `left % right` is a signed type's least value by -1
/// (both of one signed type), which arrow's `%` answers with 0.
fn least_by_minus_one(left: &ColumnarValue, right: &ColumnarValue, rows: usize) -> Result<bool> {
    let t = left.data_type();
    let (min, _) = bounds(&t);
    // A constant operand other than the least value or -1 settles it.
    let possible = |v: &ColumnarValue, wanted: i128| match v {
        ColumnarValue::Scalar(s) => signed_value(s) == Some(wanted),
        ColumnarValue::Array(_) => true,
    };
    if !(possible(left, min) && possible(right, -1)) {
        return Ok(false);
    }
    let (l, r) = (left.to_array(rows)?, right.to_array(rows)?);
    Ok(match t {
        DataType::Int8 => least_pairs::<Int8Type>(&l, &r, min),
        DataType::Int16 => least_pairs::<Int16Type>(&l, &r, min),
        DataType::Int32 => least_pairs::<Int32Type>(&l, &r, min),
        DataType::Int64 => least_pairs::<Int64Type>(&l, &r, min),
        _ => false,
    })
}

/// A signed integer constant as 128 bits (None if NULL or no such).
fn signed_value(s: &ScalarValue) -> Option<i128> {
    match s {
        ScalarValue::Int8(v) => v.map(i128::from),
        ScalarValue::Int16(v) => v.map(i128::from),
        ScalarValue::Int32(v) => v.map(i128::from),
        ScalarValue::Int64(v) => v.map(i128::from),
        _ => None,
    }
}

/// Whether a row of `l` is `min` where `r`'s is -1, neither NULL.
fn least_pairs<T: ArrowPrimitiveType>(l: &ArrayRef, r: &ArrayRef, min: i128) -> bool {
    let (l, r) = (l.as_primitive::<T>(), r.as_primitive::<T>());
    let value = |v: T::Native| v.to_i64().map(i128::from);
    (l.values().iter().zip(r.values().iter()).enumerate()).any(|(row, (&a, &b))| {
        value(b) == Some(-1) && value(a) == Some(min) && l.is_valid(row) && r.is_valid(row)
    })
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

//! Integers as DuckDB 1.5.5 computes them, where DataFusion differs:
//!
//! - `/` of two integers divides as DOUBLE (`1/2` is 0.5, DataFusion's 0),
//!   `//` divides integers (other numbers as `/`; DataFusion plans no
//!   `//`), and `//` or `%` of integers by zero is NULL, not an error
//!   ([`division`], by [`IntegerDivision`] while the SQL is planned);

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::functions::core::expr_fn::nullif;
use datafusion::logical_expr::expr::Cast;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, Operator, lit};
use datafusion::sql::sqlparser::ast::BinaryOperator;

/// Whether `t` is an integer type.
pub(crate) fn is_integer(t: &DataType) -> bool {
    t.is_integer()
}

/// `left op right` as DuckDB divides, when `op` is `/`, `//` or `%` and
/// DuckDB's division differs from DataFusion's; None otherwise.
fn division(left: &Expr, op: Operator, right: &Expr, schema: &DFSchema) -> Option<Expr> {
    let integer = |e: &Expr| e.get_type(schema).is_ok_and(|t| is_integer(&t));
    let double = |e: &Expr| Expr::Cast(Cast::new(Box::new(e.clone()), DataType::Float64));
    let integers = integer(left) && integer(right);
    // A divisor of zero gives NULL (a literal other than zero is kept).
    let divisor = || match right {
        Expr::Literal(v, _)
            if !v.is_null() && ScalarValue::new_zero(&v.data_type()).is_ok_and(|z| z != *v) =>
        {
            right.clone()
        }
        _ => nullif(right.clone(), lit(0_i64)),
    };
    Some(match op {
        Operator::Divide if integers => binary(double(left), Operator::Divide, double(right)),
        Operator::IntegerDivide if integers => binary(left.clone(), Operator::Divide, divisor()),
        Operator::IntegerDivide => binary(double(left), Operator::Divide, double(right)),
        Operator::Modulo if integers => binary(left.clone(), Operator::Modulo, divisor()),
        _ => return None,
    })
}

/// Plans `/`, `//` and `%` as [`division`] divides, while the SQL is
/// planned (DataFusion cannot plan `//`, and a `//` planned as an
/// integer `/` must stay one).
#[derive(Debug)]
pub(crate) struct IntegerDivision;

impl ExprPlanner for IntegerDivision {
    fn plan_binary_op(
        &self,
        expr: RawBinaryExpr,
        schema: &DFSchema,
    ) -> Result<PlannerResult<RawBinaryExpr>> {
        let op = match expr.op {
            BinaryOperator::Divide => Operator::Divide,
            BinaryOperator::DuckIntegerDivide => Operator::IntegerDivide,
            BinaryOperator::Modulo => Operator::Modulo,
            _ => return Ok(PlannerResult::Original(expr)),
        };
        Ok(match division(&expr.left, op, &expr.right, schema) {
            Some(planned) => PlannerResult::Planned(planned),
            None => PlannerResult::Original(expr),
        })
    }
}

fn binary(left: Expr, op: Operator, right: Expr) -> Expr {
    Expr::BinaryExpr(BinaryExpr::new(Box::new(left), op, Box::new(right)))
}

//! DuckDB compares a UUID column with a string (`WHERE id =
//! '0b3b1e7e-8f6a-4c2d-9e1f-2a3b4c5d6e7f'`) by casting the string to UUID.
//! A Parquet UUID column reads as 16 bytes marked `arrow.uuid`, which
//! DataFusion will not compare with text, so such a literal becomes those
//! 16 bytes while the SQL is planned. Bytes compare in the order of the
//! text, as DuckDB orders UUIDs.

use datafusion::common::{DFSchema, Result, ScalarValue, plan_err};
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{Expr, ExprSchemable};
use datafusion::sql::sqlparser::ast::BinaryOperator;

/// The [`ExprPlanner`] that turns a string compared with a UUID column
/// into the UUID's bytes.
#[derive(Debug)]
pub(crate) struct UuidLiterals;

impl ExprPlanner for UuidLiterals {
    fn plan_binary_op(
        &self,
        expr: RawBinaryExpr,
        schema: &DFSchema,
    ) -> Result<PlannerResult<RawBinaryExpr>> {
        use BinaryOperator::*;
        if !matches!(expr.op, Eq | NotEq | Lt | LtEq | Gt | GtEq) {
            return Ok(PlannerResult::Original(expr));
        }
        let RawBinaryExpr { op, left, right } = expr;
        let (left, right) = if is_uuid(&left, schema) {
            (left, as_uuid(right)?)
        } else if is_uuid(&right, schema) {
            (as_uuid(left)?, right)
        } else {
            (left, right)
        };
        Ok(PlannerResult::Original(RawBinaryExpr { op, left, right }))
    }
}

fn is_uuid(expr: &Expr, schema: &DFSchema) -> bool {
    expr.to_field(schema)
        .is_ok_and(|(_, field)| crate::copy::is_uuid(&field))
}

/// `expr` as a UUID's 16 bytes when it is a string literal (refused, as
/// DuckDB's cast refuses it, when it is no UUID), else as it is.
fn as_uuid(expr: Expr) -> Result<Expr> {
    let Expr::Literal(
        ScalarValue::Utf8(Some(text))
        | ScalarValue::Utf8View(Some(text))
        | ScalarValue::LargeUtf8(Some(text)),
        metadata,
    ) = &expr
    else {
        return Ok(expr);
    };
    match uuid::Uuid::try_parse(text.trim()) {
        Ok(uuid) => Ok(Expr::Literal(
            ScalarValue::FixedSizeBinary(16, Some(uuid.as_bytes().to_vec())),
            metadata.clone(),
        )),
        Err(_) => plan_err!("Conversion Error: Could not convert string '{text}' to UUID"),
    }
}

//! A DATE plus or minus an INTERVAL is a TIMESTAMP, as DuckDB 1.5.5 binds
//! it: `DATE '2024-01-31' + INTERVAL '12:00'` is `2024-01-31 12:00:00`,
//! where DataFusion kept a DATE and dropped the time (`2024-01-31`), and
//! `DATE '2024-01-31' + INTERVAL 1 DAY` prints `2024-02-01 00:00:00`.
//! [`DateIntervals`] runs before type coercion, so the plan's types follow.

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult};
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr::Cast;
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, LogicalPlan, Operator};
use datafusion::optimizer::AnalyzerRule;

use crate::expr_rules::rewrite_expressions;

/// The analyzer rule: the DATE of a DATE ± INTERVAL becomes a TIMESTAMP.
#[derive(Debug, Default)]
pub(crate) struct DateIntervals;

impl AnalyzerRule for DateIntervals {
    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|plan| rewrite_expressions(plan, rewrite))
            .data()
    }

    fn name(&self) -> &str {
        "duckdb_date_intervals"
    }
}

fn is_date(e: &Expr, schema: &DFSchema) -> bool {
    matches!(e.get_type(schema), Ok(DataType::Date32 | DataType::Date64))
}

fn is_interval(e: &Expr, schema: &DFSchema) -> bool {
    matches!(e.get_type(schema), Ok(DataType::Interval(_)))
}

fn timestamp(e: Expr) -> Expr {
    Expr::Cast(Cast::new(
        Box::new(e),
        DataType::Timestamp(TimeUnit::Microsecond, None),
    ))
}

/// `date + interval`, `date - interval` and `interval + date` with the
/// DATE cast to TIMESTAMP.
fn rewrite(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = expr else {
        return Ok(Transformed::no(expr));
    };
    let additive = matches!(op, Operator::Plus | Operator::Minus);
    let (left, right) = if additive && is_date(&left, schema) && is_interval(&right, schema) {
        (timestamp(*left), *right)
    } else if op == Operator::Plus && is_interval(&left, schema) && is_date(&right, schema) {
        (*left, timestamp(*right))
    } else {
        return Ok(Transformed::no(Expr::BinaryExpr(BinaryExpr {
            left,
            op,
            right,
        })));
    };
    Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
        Box::new(left),
        op,
        Box::new(right),
    ))))
}

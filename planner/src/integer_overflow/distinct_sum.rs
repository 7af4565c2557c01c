//! `sum(DISTINCT x)` of BIGINTs checked after DataFusion has planned it.
//!
//! Analysis leaves a DISTINCT sum of BIGINTs DataFusion's `sum`, so that
//! `single_distinct_aggregation_to_group_by` still groups the DISTINCT
//! values with the keys below a plain sum (0.96 s for a grouped one;
//! [`super::checked_sum`] in its place kept each group's values in a
//! hash set of its own: 28.5 s). [`CheckedDistinctSums`], an optimizer
//! rule after it, then puts the checked sum in the place of that outer
//! sum, or of a DISTINCT sum the rewrite left (a FILTER, two DISTINCT
//! arguments), so neither wraps around past 64 bits.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, DFSchema, Result};
use datafusion::functions_aggregate::sum::Sum;
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::{AggregateUDF, Expr, ExprSchemable, LogicalPlan};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use crate::expr_rules::rewrite_expressions;

static CHECKED_SUM: LazyLock<Arc<AggregateUDF>> = LazyLock::new(|| Arc::new(super::checked_sum()));

/// The optimizer rule, after DataFusion's: each DataFusion `sum` of
/// BIGINTs still in an aggregate becomes the checked sum, when it is
/// DISTINCT or sums a key of the aggregate just below it (the outer sum
/// of the single-distinct rewrite). Other sums of BIGINTs were checked in
/// analysis; a sum DataFusion coerced to BIGINT (of INTEGERs) is left.
#[derive(Debug, Default)]
pub(crate) struct CheckedDistinctSums;

impl OptimizerRule for CheckedDistinctSums {
    fn name(&self) -> &str {
        "checked_distinct_bigint_sums"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::BottomUp)
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        let LogicalPlan::Aggregate(aggregate) = &plan else {
            return Ok(Transformed::no(plan));
        };
        let keys_below: Vec<Column> = match aggregate.input.as_ref() {
            LogicalPlan::Aggregate(below) => (below.schema.columns().into_iter())
                .take(below.group_expr.len())
                .collect(),
            _ => Vec::new(),
        };
        rewrite_expressions(plan, |expr, schema| checked(expr, schema, &keys_below))
    }
}

/// `expr` as a call of the checked sum when it is DataFusion's `sum` of
/// BIGINTs, DISTINCT or of one of `keys_below`.
fn checked(expr: Expr, schema: &DFSchema, keys_below: &[Column]) -> Result<Transformed<Expr>> {
    let Expr::AggregateFunction(call) = expr else {
        return Ok(Transformed::no(expr));
    };
    let bigints = match call.params.args.as_slice() {
        [arg] => arg.get_type(schema).is_ok_and(|t| t == DataType::Int64),
        _ => false,
    };
    let regrouped =
        matches!(call.params.args.as_slice(), [Expr::Column(c)] if keys_below.contains(c));
    let datafusions = call.func.inner().is::<Sum>();
    if !(datafusions && bigints && (call.params.distinct || regrouped)) {
        return Ok(Transformed::no(Expr::AggregateFunction(call)));
    }
    Ok(Transformed::yes(Expr::AggregateFunction(
        AggregateFunction {
            func: Arc::clone(&CHECKED_SUM),
            params: call.params,
        },
    )))
}

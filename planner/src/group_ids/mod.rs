//! The partial phase of a GROUP BY on text or integer columns, run with
//! a dense id per column value instead of DataFusion's general group
//! table.
//!
//! Why: `cargo xtask bench query`'s group-by (two text columns, 10M
//! rows, 24 groups) spent 41% of its CPU in that table (`intern`,
//! `vectorized_equal_to`, hashing of string views), where a short
//! string's whole arrow view is one `u128` and a pair of column ids one
//! `u64`. [`GroupIdAggregates`] swaps such a partial `AggregateExec` for
//! a [`exec::GroupIdAggregateExec`]; the final phase, the repartition
//! between them and every accumulator stay DataFusion's.

mod column_ids;
mod exec;
mod groups;
mod memo;

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::InputOrderMode;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};

/// The rule, run after DataFusion's own: a partial aggregation that
/// groups plainly by supported columns, with unfiltered, unordered,
/// non-DISTINCT aggregates that all have groups accumulators, runs
/// through group ids. Anything else keeps DataFusion's node.
#[derive(Debug, Default)]
pub(crate) struct GroupIdAggregates;

impl PhysicalOptimizerRule for GroupIdAggregates {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(aggregate) = node.downcast_ref::<AggregateExec>() else {
                return Ok(Transformed::no(node));
            };
            if !eligible(aggregate)? {
                return Ok(Transformed::no(node));
            }
            let exec = exec::GroupIdAggregateExec::new(Arc::new(aggregate.clone()));
            Ok(Transformed::yes(Arc::new(exec) as Arc<dyn ExecutionPlan>))
        })
        .data()
    }

    fn name(&self) -> &str {
        "s3sql_group_id_aggregates"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Whether `aggregate` is a partial phase [`exec::GroupIdAggregateExec`]
/// computes exactly as DataFusion would.
fn eligible(aggregate: &AggregateExec) -> Result<bool> {
    let groups = aggregate.group_expr();
    if *aggregate.mode() != AggregateMode::Partial
        || groups.is_empty()
        || !groups.is_single()
        || aggregate.limit_options().is_some()
        || !aggregate.dynamic_expressions_produced().is_empty()
        || *aggregate.input_order_mode() != InputOrderMode::Linear
        || aggregate.filter_expr().iter().any(Option::is_some)
    {
        return Ok(false);
    }
    let accumulators = aggregate.aggr_expr().iter().all(|expr| {
        expr.groups_accumulator_supported() && !expr.is_distinct() && expr.order_bys().is_empty()
    });
    if !accumulators {
        return Ok(false);
    }
    let input = aggregate.input().schema();
    for key in groups.input_exprs() {
        if !column_ids::supported(&key.data_type(&input)?) {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod edge_tests;
#[cfg(test)]
mod tests;

//! `SELECT DISTINCT` of intervals with a LIMIT stops reading once it has
//! its rows, as DataFusion's DISTINCT of other types does. A DISTINCT of
//! intervals groups by their keys and keeps each group's first interval
//! ([`crate::interval_order`]), an aggregate, and DataFusion limits only
//! an aggregation of none (review of ivl F2: all of a million rows were
//! read for two).
//!
//! [`FirstIntervalLimits`], a physical optimizer rule run last, finds a
//! limit over such an aggregation and puts a [`KeyLimitExec`] under its
//! first (partial) phase: each partition's rows pass until they hold the
//! limit's number of distinct groups, and the partition ends there, at
//! that row. Any
//! rows past that point would only join groups already seen, whose first
//! interval is kept, or start groups beyond the limit.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::row::{OwnedRow, RowConverter, SortField};
use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode, TreeNodeRecursion};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::limit::{GlobalLimitExec, LocalLimitExec};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, replace_children_if_necessary,
};
use futures::StreamExt;

use crate::interval_pick::FIRST;

/// The rule: a LIMIT (or a merge of partitions that fetches a number of
/// rows) over an aggregation that only keeps groups' first intervals
/// reads each partition only until it has enough groups. A sort's limit
/// (ORDER BY ... LIMIT) is not one: it needs every group.
#[derive(Debug, Default)]
pub(crate) struct FirstIntervalLimits;

impl PhysicalOptimizerRule for FirstIntervalLimits {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_down(|node| {
            let limit = if let Some(limit) = node.downcast_ref::<LocalLimitExec>() {
                Some(limit.fetch())
            } else if let Some(limit) = node.downcast_ref::<GlobalLimitExec>() {
                limit.fetch().map(|fetch| fetch + limit.skip())
            } else if let Some(merge) = node.downcast_ref::<CoalescePartitionsExec>() {
                merge.fetch()
            } else {
                None
            };
            let children = node.children();
            let (Some(limit), [child]) = (limit, children.as_slice()) else {
                return Ok(Transformed::no(node));
            };
            match limited(Arc::clone(child), limit)? {
                Some(child) => Ok(Transformed::yes(replace_children_if_necessary(
                    node,
                    vec![child],
                )?)),
                None => Ok(Transformed::no(node)),
            }
        })
        .data()
    }

    fn name(&self) -> &str {
        "duckdb_first_interval_limits"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `plan` (under a limit of `limit` rows) with a [`KeyLimitExec`] under
/// its first-interval aggregation's first phase, if it is one (through
/// projections), and it has not one already.
fn limited(plan: Arc<dyn ExecutionPlan>, limit: usize) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    if plan.downcast_ref::<ProjectionExec>().is_some() {
        let children = plan.children();
        let [child] = children.as_slice() else {
            return Ok(None);
        };
        return match limited(Arc::clone(child), limit)? {
            Some(child) => Ok(Some(replace_children_if_necessary(plan, vec![child])?)),
            None => Ok(None),
        };
    }
    let Some(aggregate) = plan.downcast_ref::<AggregateExec>() else {
        return Ok(None);
    };
    if !keeps_first_intervals(aggregate) {
        return Ok(None);
    }
    let first_phase = match aggregate.mode() {
        AggregateMode::Single | AggregateMode::SinglePartitioned => Arc::clone(&plan),
        AggregateMode::Final | AggregateMode::FinalPartitioned => {
            match partial_under(aggregate.input()) {
                Some(partial) => partial,
                None => return Ok(None),
            }
        }
        _ => return Ok(None),
    };
    let Some(first) = first_phase.downcast_ref::<AggregateExec>() else {
        return Ok(None);
    };
    if first.input().downcast_ref::<KeyLimitExec>().is_some() {
        return Ok(None);
    }
    let keys = first.group_expr().input_exprs();
    let input = Arc::new(KeyLimitExec::new(Arc::clone(first.input()), keys, limit)?);
    let replaced = replace_children_if_necessary(Arc::clone(&first_phase), vec![input])?;
    let plan = plan.transform_down(|node| {
        if Arc::ptr_eq(&node, &first_phase) {
            Ok(Transformed::new(
                Arc::clone(&replaced),
                true,
                TreeNodeRecursion::Jump,
            ))
        } else {
            Ok(Transformed::no(node))
        }
    })?;
    Ok(Some(plan.data))
}

/// The partial aggregation under a final one, through repartitioning.
fn partial_under(plan: &Arc<dyn ExecutionPlan>) -> Option<Arc<dyn ExecutionPlan>> {
    if let Some(aggregate) = plan.downcast_ref::<AggregateExec>() {
        let partial = *aggregate.mode() == AggregateMode::Partial;
        return (partial && keeps_first_intervals(aggregate)).then(|| Arc::clone(plan));
    }
    let passes = plan.downcast_ref::<RepartitionExec>().is_some()
        || plan.downcast_ref::<CoalescePartitionsExec>().is_some();
    match plan.children().as_slice() {
        [child] if passes => partial_under(child),
        _ => None,
    }
}

/// Whether `aggregate` groups (plainly) and only keeps its groups' first
/// intervals, unfiltered: a DISTINCT of intervals.
fn keeps_first_intervals(aggregate: &AggregateExec) -> bool {
    let groups = aggregate.group_expr();
    !groups.is_empty()
        && !groups.has_grouping_set()
        && aggregate.limit_options().is_none()
        && !aggregate.aggr_expr().is_empty()
        && aggregate
            .aggr_expr()
            .iter()
            .all(|e| e.fun().name() == FIRST && e.order_bys().is_empty())
        && aggregate.filter_expr().iter().all(Option::is_none)
}

/// Its input's rows, each partition's until they hold `limit` distinct
/// values of `keys`; then the partition ends.
#[derive(Debug)]
pub(crate) struct KeyLimitExec {
    input: Arc<dyn ExecutionPlan>,
    keys: Vec<Arc<dyn PhysicalExpr>>,
    fields: Vec<SortField>,
    limit: usize,
    /// The rows each partition let through, for `EXPLAIN ANALYZE`.
    metrics: ExecutionPlanMetricsSet,
}

impl KeyLimitExec {
    fn new(
        input: Arc<dyn ExecutionPlan>,
        keys: Vec<Arc<dyn PhysicalExpr>>,
        limit: usize,
    ) -> Result<Self> {
        let schema = input.schema();
        let fields = keys
            .iter()
            .map(|k| Ok(SortField::new(k.data_type(&schema)?)))
            .collect::<Result<_>>()?;
        Ok(Self {
            input,
            keys,
            fields,
            limit,
            metrics: ExecutionPlanMetricsSet::new(),
        })
    }
}

impl DisplayAs for KeyLimitExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyLimitExec: groups={}", self.limit)
    }
}

impl ExecutionPlan for KeyLimitExec {
    fn name(&self) -> &str {
        "KeyLimitExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        for key in &self.keys {
            if f(key)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(input) = children.into_iter().next() else {
            return Err(datafusion::error::DataFusionError::Internal(
                "KeyLimitExec has one input".into(),
            ));
        };
        Ok(Arc::new(Self::new(input, self.keys.clone(), self.limit)?))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let state = Passing {
            output: BaselineMetrics::new(&self.metrics, partition),
            input: Some(input),
            keys: self.keys.clone(),
            rows: RowConverter::new(self.fields.clone())?,
            seen: HashSet::new(),
            limit: self.limit,
        };
        let batches = futures::stream::unfold(state, |mut state| async move {
            let mut input = state.input.take()?;
            let batch = input.next().await?;
            let batch = batch.and_then(|batch| match state.rows_to_limit(&batch)? {
                Some(rows) => Ok(batch.slice(0, rows)),
                None => {
                    state.input = Some(input);
                    Ok(batch)
                }
            });
            if let Ok(batch) = &batch {
                state.output.record_output(batch.num_rows());
            }
            Some((batch, state))
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema(),
            batches,
        )))
    }
}

/// A partition's stream and the distinct keys it has passed; no stream
/// once they reach the limit (or on an error).
struct Passing {
    input: Option<SendableRecordBatchStream>,
    keys: Vec<Arc<dyn PhysicalExpr>>,
    rows: RowConverter,
    seen: HashSet<OwnedRow>,
    limit: usize,
    output: BaselineMetrics,
}

impl Passing {
    /// The number of `batch`'s rows that bring the distinct keys passed
    /// to the limit, if they reach it; `batch`'s keys counted.
    fn rows_to_limit(
        &mut self,
        batch: &datafusion::arrow::array::RecordBatch,
    ) -> Result<Option<usize>> {
        let columns = self
            .keys
            .iter()
            .map(|k| k.evaluate(batch)?.into_array(batch.num_rows()))
            .collect::<Result<Vec<_>>>()?;
        let rows = self.rows.convert_columns(&columns)?;
        for (number, row) in rows.iter().enumerate() {
            if self.seen.len() >= self.limit {
                return Ok(Some(number));
            }
            self.seen.insert(row.owned());
        }
        Ok((self.seen.len() >= self.limit).then_some(batch.num_rows()))
    }
}

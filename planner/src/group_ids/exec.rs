//! The first (partial) phase of an aggregation, run with [`GroupIds`] in
//! place of DataFusion's general group table. The plan node wraps the
//! `AggregateExec` it replaces: its schema, properties, display and
//! rebuilding are that node's; only the execution is ours.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::common::Result;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{EmitTo, GroupsAccumulator};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::aggregates::{
    AggregateExec, AggregateMode, aggregate_expressions, evaluate_many,
};
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::metrics::{
    BaselineMetrics, Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet, RecordOutput,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, InputDistributionRequirements, PlanProperties,
};
use futures::StreamExt;

use super::column_ids::ColumnIds;
use super::groups::GroupIds;

/// A partition emits its groups and starts afresh once they number this
/// many, before a `u32` id could overflow. Otherwise it keeps one table,
/// as DataFusion's partial phase does, and emits early only when the
/// memory pool refuses it more (the final phase merges a group emitted
/// twice).
pub(super) const MAX_GROUPS: usize = (u32::MAX / 2) as usize;

/// A partial `AggregateExec` whose grouping columns all have
/// [`ColumnIds`], executed through them.
#[derive(Debug)]
pub(crate) struct GroupIdAggregateExec {
    aggregate: Arc<AggregateExec>,
    metrics: ExecutionPlanMetricsSet,
}

impl GroupIdAggregateExec {
    /// Runs `aggregate` (partial, plainly grouped, unfiltered, every
    /// aggregate with a groups accumulator; see the rule) through group
    /// ids.
    pub(crate) fn new(aggregate: Arc<AggregateExec>) -> Self {
        Self {
            aggregate,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }
}

impl DisplayAs for GroupIdAggregateExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The tree view names the node itself; its lines are `key=value`.
        if matches!(t, DisplayFormatType::Default | DisplayFormatType::Verbose) {
            write!(f, "GroupId")?;
        }
        self.aggregate.fmt_as(t, f)
    }
}

impl ExecutionPlan for GroupIdAggregateExec {
    fn name(&self) -> &str {
        "GroupIdAggregateExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.aggregate.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![self.aggregate.input()]
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn input_distribution_requirements(&self) -> InputDistributionRequirements {
        self.aggregate.input_distribution_requirements()
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        self.aggregate.apply_expressions(f)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let options = ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute);
        self.replace_children(children, options)
    }

    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let rebuilt = Arc::clone(&self.aggregate).replace_children(children, options)?;
        // An `AggregateExec` rebuilds as one; if that ever changed, the
        // plain node is still a correct plan.
        match rebuilt.downcast_ref::<AggregateExec>() {
            Some(aggregate) => Ok(Arc::new(Self::new(Arc::new(aggregate.clone())))),
            None => Ok(rebuilt),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let aggregate = &self.aggregate;
        let input_schema = aggregate.input().schema();
        let keys: Vec<Arc<dyn PhysicalExpr>> = aggregate.group_expr().input_exprs();
        let key_types = keys
            .iter()
            .map(|key| key.data_type(&input_schema))
            .collect::<Result<Vec<_>>>()?;
        let options = &context.session_config().options().execution;
        let partial = Partial {
            input: aggregate.input().execute(partition, Arc::clone(&context))?,
            arguments: aggregate_expressions(aggregate.aggr_expr(), &AggregateMode::Partial, 0)?,
            groups: new_groups(&key_types),
            key_types,
            accumulators: new_accumulators(aggregate)?,
            aggregate: Arc::clone(aggregate),
            keys,
            indices: Vec::new(),
            ready: VecDeque::new(),
            batch_size: context.session_config().batch_size(),
            output: BaselineMetrics::new(&self.metrics, partition),
            probe: Probe {
                rows_threshold: options.skip_partial_aggregation_probe_rows_threshold,
                ratio_threshold: options.skip_partial_aggregation_probe_ratio_threshold,
                rows: 0,
                skipping: false,
                skipped_rows: MetricBuilder::new(&self.metrics)
                    .counter("skipped_aggregation_rows", partition),
            },
            reservation: MemoryConsumer::new(format!("GroupIdAggregate[{partition}]"))
                .register(context.memory_pool()),
            done: false,
        };
        let batches = futures::stream::unfold(partial, |mut partial| async move {
            let batch = partial.next().await?;
            if let Ok(batch) = &batch {
                batch.record_output(&partial.output);
            }
            Some((batch, partial))
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema(),
            batches,
        )))
    }
}

fn new_groups(key_types: &[datafusion::arrow::datatypes::DataType]) -> GroupIds {
    GroupIds::new(key_types.iter().cloned().map(ColumnIds::new).collect())
}

fn new_accumulators(aggregate: &AggregateExec) -> Result<Vec<Box<dyn GroupsAccumulator>>> {
    aggregate
        .aggr_expr()
        .iter()
        .map(|expr| expr.create_groups_accumulator())
        .collect()
}

/// One partition's aggregation in progress.
struct Partial {
    input: SendableRecordBatchStream,
    aggregate: Arc<AggregateExec>,
    keys: Vec<Arc<dyn PhysicalExpr>>,
    key_types: Vec<datafusion::arrow::datatypes::DataType>,
    arguments: Vec<Vec<Arc<dyn PhysicalExpr>>>,
    groups: GroupIds,
    accumulators: Vec<Box<dyn GroupsAccumulator>>,
    indices: Vec<usize>,
    /// Batches emitted and not yet handed on.
    ready: VecDeque<RecordBatch>,
    batch_size: usize,
    output: BaselineMetrics,
    probe: Probe,
    /// The groups' and accumulators' memory, held from the session's pool.
    reservation: MemoryReservation,
    done: bool,
}

/// DataFusion's rule for giving up on a partial phase that does not
/// reduce (its `skip_partial_aggregation_probe_*` settings): once enough
/// rows have come, if groups made per row pass the ratio, the rest of the
/// rows go on as their own groups, turned into state by the accumulators.
struct Probe {
    rows_threshold: usize,
    ratio_threshold: f64,
    rows: usize,
    skipping: bool,
    skipped_rows: Count,
}

impl Probe {
    /// Counts a batch of `rows` after which the partition holds `groups`;
    /// whether it now skips aggregating.
    fn count(&mut self, rows: usize, groups: usize) -> bool {
        self.rows += rows;
        self.skipping = self.ratio_threshold < 1.0
            && self.rows >= self.rows_threshold
            && groups as f64 / self.rows as f64 > self.ratio_threshold;
        self.skipping
    }
}

impl Partial {
    /// The next output batch, `None` once the input and the groups are
    /// spent (or after an error).
    async fn next(&mut self) -> Option<Result<RecordBatch>> {
        loop {
            if let Some(batch) = self.ready.pop_front() {
                return Some(Ok(batch));
            }
            if self.done {
                return None;
            }
            let step = match self.input.next().await {
                Some(Ok(batch)) => self.update(&batch),
                Some(Err(error)) => Err(error),
                None => {
                    self.done = true;
                    let emitted = self.emit();
                    self.output.done();
                    emitted
                }
            };
            if let Err(error) = step {
                self.done = true;
                self.ready.clear();
                return Some(Err(error));
            }
        }
    }

    fn update(&mut self, batch: &RecordBatch) -> Result<()> {
        let timer = self.output.elapsed_compute().timer();
        let rows = batch.num_rows();
        let mut keys = self
            .keys
            .iter()
            .map(|key| key.evaluate(batch)?.into_array(rows))
            .collect::<Result<Vec<ArrayRef>>>()?;
        let arguments = evaluate_many(&self.arguments, batch)?;
        if self.probe.skipping {
            for (accumulator, values) in self.accumulators.iter().zip(&arguments) {
                keys.extend(accumulator.convert_to_state(values, None)?);
            }
            self.probe.skipped_rows.add(rows);
            let batch = RecordBatch::try_new(self.aggregate.schema(), keys)?;
            self.ready.push_back(batch);
            return Ok(());
        }
        self.groups.assign(&keys, &mut self.indices)?;
        let groups = self.groups.len();
        for (accumulator, values) in self.accumulators.iter_mut().zip(&arguments) {
            accumulator.update_batch(values, &self.indices, None, groups)?;
        }
        drop(timer);
        if self.probe.count(rows, groups) || groups >= MAX_GROUPS {
            return self.emit();
        }
        let size = self.groups.size() + self.accumulators.iter().map(|a| a.size()).sum::<usize>();
        if self.reservation.try_resize(size).is_err() {
            // As DataFusion's partial phase: under memory pressure, hand
            // the groups on now rather than fail or spill.
            self.emit()?;
        }
        Ok(())
    }

    /// Turns the groups so far into output batches and starts afresh.
    fn emit(&mut self) -> Result<()> {
        let _timer = self.output.elapsed_compute().timer();
        let groups = self.groups.len();
        if groups == 0 {
            return Ok(());
        }
        let mut columns = self.groups.values()?;
        for accumulator in &mut self.accumulators {
            columns.extend(accumulator.state(EmitTo::All)?);
        }
        let batch = RecordBatch::try_new(self.aggregate.schema(), columns)?;
        self.groups = new_groups(&self.key_types);
        self.accumulators = new_accumulators(&self.aggregate)?;
        self.reservation.free();
        let mut offset = 0;
        while offset < groups {
            let len = self.batch_size.max(1).min(groups - offset);
            self.ready.push_back(batch.slice(offset, len));
            offset += len;
        }
        Ok(())
    }
}

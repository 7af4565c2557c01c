//! [`ChainExec`]: the scans of one table, read one after another in the
//! order of their files. A list mixing stores (an S3 file, a local file,
//! another bucket) is one scan per run of files of one store; a union of
//! them passes on whichever answers first, where DuckDB gives the rows in
//! the list's order. Filters above it reach every scan, as through a
//! union, so Parquet row groups are still pruned.

use std::fmt;
use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::filter_pushdown::{FilterDescription, FilterPushdownPhase};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties,
};
use futures::{StreamExt, TryStreamExt};

/// Its children's rows in order: every partition of the first, then of the
/// next; one output partition.
#[derive(Debug)]
pub(crate) struct ChainExec {
    children: Vec<Arc<dyn ExecutionPlan>>,
    properties: Arc<PlanProperties>,
}

impl ChainExec {
    /// `children` (at least one, all of one schema) read in turn.
    pub(crate) fn new(children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Self> {
        let Some(first) = children.first() else {
            return Err(datafusion::error::DataFusionError::Internal(
                "a chain of no scans".into(),
            ));
        };
        let properties = PlanProperties::new(
            EquivalenceProperties::new(first.schema()),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(Self {
            children,
            properties: Arc::new(properties),
        })
    }
}

impl DisplayAs for ChainExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainExec: {} scans in file order", self.children.len())
    }
}

impl ExecutionPlan for ChainExec {
    fn name(&self) -> &str {
        "ChainExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.children.iter().collect()
    }

    fn apply_expressions(
        &self,
        _: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    /// Every filter of the parent offered to every scan (DataFusion's
    /// default keeps them all above, and no scan prunes by them).
    fn gather_filters_for_pushdown(
        &self,
        _phase: FilterPushdownPhase,
        parent_filters: Vec<Arc<dyn PhysicalExpr>>,
        _config: &ConfigOptions,
    ) -> Result<FilterDescription> {
        FilterDescription::from_children(parent_filters, &self.children())
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(Self::new(children)?))
    }

    fn execute(
        &self,
        _partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let parts: Vec<(Arc<dyn ExecutionPlan>, usize)> = self
            .children
            .iter()
            .flat_map(|child| {
                (0..child.output_partitioning().partition_count())
                    .map(move |p| (Arc::clone(child), p))
            })
            .collect();
        let batches = futures::stream::iter(parts)
            .map(move |(child, p)| child.execute(p, Arc::clone(&context)))
            .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema(),
            batches,
        )))
    }
}

//! The one way s3sql's analyzer rules (DuckDB's numbers, BLOB casts,
//! timestamp text, integer overflow) rewrite a plan's expressions: each
//! node's expressions bottom-up, against the schema of the node's inputs,
//! each keeping its name, so a node above still finds the column it
//! refers to and an unaliased item keeps the name DuckDB gives it.

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::utils::merge_schema;
use datafusion::logical_expr::{Expr, LogicalPlan};

/// `plan`'s own expressions (not its inputs') each rewritten bottom-up by
/// `rewrite`, which is given the schema of `plan`'s inputs; names kept.
/// A table scan's filters (pushed into it when a prepared statement's
/// plan was optimized before EXECUTE analyzed it) see the table's
/// columns, as DataFusion's type coercion gives them.
pub(crate) fn rewrite_expressions(
    plan: LogicalPlan,
    mut rewrite: impl FnMut(Expr, &DFSchema) -> Result<Transformed<Expr>>,
) -> Result<Transformed<LogicalPlan>> {
    let mut schema = merge_schema(&plan.inputs());
    if let LogicalPlan::TableScan(scan) = &plan {
        let table =
            DFSchema::try_from_qualified_schema(scan.table_name.clone(), &scan.source.schema())?;
        schema.merge(&table);
    }
    let names = NamePreserver::new(&plan);
    plan.map_expressions(|expr| {
        let name = names.save(&expr);
        let rewritten = expr.transform_up(|e| rewrite(e, &schema))?;
        Ok(rewritten.update_data(|e| name.restore(e)))
    })
}

//! DuckDB keeps rows in file order (`preserve_insertion_order`), so
//! `SELECT * FROM 's3://b/big.parquet' LIMIT 10` shows the file's first ten
//! rows. DataFusion reads a large file as several byte ranges at once and a
//! LIMIT takes whichever range answers first; for a LIMIT over plain scans
//! the statement is therefore planned with one partition, which keeps file
//! order and, with the limit pushed into the scan, still reads only the
//! first row groups or lines.

use datafusion::execution::SessionState;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::LogicalPlan;

/// Whether `plan` is a LIMIT (under projections) over nothing that
/// reorders rows: filters, projections, aliases and table scans.
pub(crate) fn limit_over_files(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Projection(p) => limit_over_files(&p.input),
        LogicalPlan::Limit(limit) => keeps_row_order(&limit.input),
        _ => false,
    }
}

fn keeps_row_order(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Projection(p) => keeps_row_order(&p.input),
        LogicalPlan::Filter(f) => keeps_row_order(&f.input),
        LogicalPlan::SubqueryAlias(a) => keeps_row_order(&a.input),
        LogicalPlan::TableScan(_) => true,
        _ => false,
    }
}

/// `state` with one target partition: scans read their files and byte
/// ranges in order.
pub(crate) fn in_file_order(state: &SessionState) -> SessionState {
    let mut config = state.config().clone();
    config.options_mut().execution.target_partitions = 1;
    SessionStateBuilder::new_from_existing(state.clone())
        .with_config(config)
        .build()
}

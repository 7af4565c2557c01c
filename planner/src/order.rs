//! DuckDB keeps rows in file order (`preserve_insertion_order`), so
//! `SELECT * FROM 's3://b/big.parquet' LIMIT 10` shows the file's first ten
//! rows and `SELECT * FROM 'file.csv'` lists them as the file has them.
//! DataFusion reads a large file as several byte ranges at once and passes
//! on whichever range answers first; a statement that returns scanned rows
//! as they are (filters and projections over scans, with or without a
//! LIMIT) is therefore planned with one partition, which keeps file order
//! and, with a limit pushed into the scan, still reads only the first row
//! groups or lines. Aggregates, joins and sorts keep their parallel plans.
//! The rows COPY writes and CREATE TABLE AS stores keep file order too.

use std::borrow::Cow;

use datafusion::common::tree_node::TreeNode;
use datafusion::execution::SessionState;
use datafusion::logical_expr::{DdlStatement, Expr, LogicalPlan};
use datafusion::prelude::SessionContext;

/// The context to run `plan` in: `ctx`, or one reading in file order
/// when `plan` returns scanned rows ([`returns_scanned_rows`]). It shares
/// `ctx`'s catalog, so a CREATE TABLE AS run in it makes the session's
/// table.
pub(crate) fn context_for<'a>(
    ctx: &'a SessionContext,
    plan: &LogicalPlan,
) -> Cow<'a, SessionContext> {
    if returns_scanned_rows(plan) || takes_rows_by_position(plan) {
        Cow::Owned(SessionContext::new_with_state(in_file_order(&ctx.state())))
    } else {
        Cow::Borrowed(ctx)
    }
}

/// Whether `plan` returns rows of its scans in the order read: a LIMIT,
/// projections, filters and aliases over table scans, also under
/// `EXPLAIN [ANALYZE]` (so the plan shown is the plan run) and as the
/// query of a CREATE TABLE AS.
pub(crate) fn returns_scanned_rows(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Explain(e) => returns_scanned_rows(&e.plan),
        LogicalPlan::Analyze(a) => returns_scanned_rows(&a.input),
        LogicalPlan::Ddl(DdlStatement::CreateMemoryTable(c)) => returns_scanned_rows(&c.input),
        LogicalPlan::Projection(p) => returns_scanned_rows(&p.input),
        LogicalPlan::Limit(limit) => keeps_row_order(&limit.input),
        other => keeps_row_order(other),
    }
}

/// Whether some node of `plan` takes scanned rows by their place in the
/// files: a LIMIT, or a window without ORDER BY (`row_number() OVER ()`),
/// over rows as scanned. DuckDB takes the first rows in file order there;
/// with several partitions DataFusion took whichever answered first, so
/// `sum` over `(SELECT id FROM glob LIMIT 100)` changed each run
/// (review-s24 F4).
fn takes_rows_by_position(plan: &LogicalPlan) -> bool {
    plan.exists(|node| {
        Ok(match node {
            LogicalPlan::Limit(limit) => keeps_row_order(&limit.input),
            LogicalPlan::Window(window) => {
                keeps_row_order(&window.input) && window.window_expr.iter().any(unordered)
            }
            _ => false,
        })
    })
    .unwrap_or(false)
}

/// Whether `expr` is a window function without ORDER BY.
fn unordered(expr: &Expr) -> bool {
    match expr {
        Expr::Alias(alias) => unordered(&alias.expr),
        Expr::WindowFunction(window) => window.params.order_by.is_empty(),
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
/// ranges in order. A clone with its config changed in place: rebuilding
/// it through `SessionStateBuilder::with_config` registers a new, empty
/// default catalog over the session's own, and its tables are gone.
pub(crate) fn in_file_order(state: &SessionState) -> SessionState {
    let mut state = state.clone();
    state.config_mut().options_mut().execution.target_partitions = 1;
    state
}

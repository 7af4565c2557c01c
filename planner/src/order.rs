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
use datafusion::logical_expr::{DdlStatement, Expr, LogicalPlan, WindowFunctionDefinition};
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
            LogicalPlan::Limit(limit) => limits_scanned_rows(&limit.input),
            LogicalPlan::Window(window) => {
                keeps_row_order(&window.input) && window.window_expr.iter().any(unordered)
            }
            _ => false,
        })
    })
    .unwrap_or(false)
}

/// Whether `expr` is a window function without ORDER BY whose answer
/// depends on the rows' order (`row_number()`, `first_value`, `lag`,
/// `string_agg`). An aggregate over the whole window that does not
/// (`sum(x) OVER (PARTITION BY g)`, `count(*) OVER ()`) leaves the plan
/// parallel: it made the whole statement, its scans too, one partition
/// (review-s26 F9).
fn unordered(expr: &Expr) -> bool {
    match expr {
        Expr::Alias(alias) => unordered(&alias.expr),
        Expr::WindowFunction(window) => {
            window.params.order_by.is_empty() && !order_free(&window.fun)
        }
        _ => false,
    }
}

/// Whether `fun` is an aggregate whose total over a window is the same in
/// any row order (floating-point sums to their last bits aside, as in
/// DuckDB's parallel sums).
fn order_free(fun: &WindowFunctionDefinition) -> bool {
    const ORDER_FREE: [&str; 23] = [
        "sum",
        "count",
        "min",
        "max",
        "avg",
        "mean",
        "median",
        "stddev",
        "stddev_pop",
        "stddev_samp",
        "var",
        "var_pop",
        "var_samp",
        "variance",
        "bool_and",
        "bool_or",
        "bit_and",
        "bit_or",
        "bit_xor",
        "approx_distinct",
        "duckdb_checked_sum",
        "duckdb_decimal_avg",
        "duckdb_decimal_sum",
    ];
    match fun {
        WindowFunctionDefinition::AggregateUDF(udf) => {
            let name = udf.name().to_ascii_lowercase();
            ORDER_FREE.contains(&name.as_str())
        }
        WindowFunctionDefinition::WindowUDF(_) => false,
    }
}

/// Whether a LIMIT over `plan` takes scanned rows by position: rows as
/// scanned, also through windows (`SELECT *, count(*) OVER () ... LIMIT
/// 10` shows the files' first rows in DuckDB, whatever the window).
fn limits_scanned_rows(plan: &LogicalPlan) -> bool {
    scanned_rows_under(plan, true)
}

fn keeps_row_order(plan: &LogicalPlan) -> bool {
    scanned_rows_under(plan, false)
}

/// Whether `plan` is scans under projections, filters and aliases (and
/// windows, when `through_windows`).
fn scanned_rows_under(plan: &LogicalPlan, through_windows: bool) -> bool {
    match plan {
        LogicalPlan::Projection(p) => scanned_rows_under(&p.input, through_windows),
        LogicalPlan::Filter(f) => scanned_rows_under(&f.input, through_windows),
        LogicalPlan::SubqueryAlias(a) => scanned_rows_under(&a.input, through_windows),
        LogicalPlan::Window(w) if through_windows => scanned_rows_under(&w.input, true),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A window without ORDER BY takes rows by position only when its
    /// function depends on their order: sum, count, min and max over a
    /// whole partition do not, and keep the plan parallel.
    #[tokio::test]
    async fn only_order_dependent_windows_take_rows_by_position() {
        let ctx = SessionContext::new();
        ctx.sql("CREATE TABLE t AS VALUES (1, 2), (1, 3), (2, 4)")
            .await
            .unwrap();
        let takes = async |sql: &str| {
            let plan = ctx.state().create_logical_plan(sql).await.unwrap();
            takes_rows_by_position(&plan)
        };
        for sql in [
            "SELECT sum(column2) OVER (PARTITION BY column1) FROM t",
            "SELECT count(*) OVER () AS n, min(column2) OVER (), max(column2) OVER () FROM t",
            "SELECT avg(column2) OVER (PARTITION BY column1) FROM t",
        ] {
            assert!(!takes(sql).await, "{sql}");
        }
        for sql in [
            "SELECT row_number() OVER () FROM t",
            "SELECT first_value(column2) OVER (PARTITION BY column1) FROM t",
            "SELECT sum(column2) OVER (), lag(column2) OVER () FROM t",
            "SELECT * FROM t LIMIT 1",
            "SELECT *, count(*) OVER () FROM t LIMIT 2",
        ] {
            assert!(takes(sql).await, "{sql}");
        }
    }
}

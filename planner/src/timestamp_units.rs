//! DuckDB's TIMESTAMP_NS, TIMESTAMP_MS and TIMESTAMP_S (`CAST(x AS
//! TIMESTAMP_NS)`, `x::TIMESTAMP_MS`), which DataFusion refused
//! ("Unsupported SQL type TIMESTAMP_NS"): [`units_as_duckdb`] writes them
//! as `TIMESTAMP(9)`, `TIMESTAMP(3)` and `TIMESTAMP(0)`, DataFusion's
//! timestamps in those units, before the statement is planned. DuckDB
//! reads a value for TIMESTAMP_MS or TIMESTAMP_S as microseconds and
//! rounds them to the unit, half away from zero (`'... 03:04:05.5'` is
//! `03:04:06`; arrow's cast truncates): [`RoundedTimestampCasts`], an
//! analyzer rule, computes those casts so.

use std::ops::ControlFlow;

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult};
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr::Cast;
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, when};
use datafusion::optimizer::AnalyzerRule;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    DataType as SqlType, Expr as SqlExpr, Statement, TimezoneInfo, VisitorMut,
};

use crate::expr_rules::rewrite_expressions;

/// The SQL timestamp type DuckDB's `name` is, if it is one of the three
/// (or TIMESTAMP_US, DuckDB's TIMESTAMP in microseconds).
fn timestamp_of(name: &str) -> Option<SqlType> {
    let digits = match name.to_ascii_uppercase().as_str() {
        "TIMESTAMP_NS" => 9,
        "TIMESTAMP_US" => 6,
        "TIMESTAMP_MS" => 3,
        "TIMESTAMP_S" => 0,
        _ => return None,
    };
    Some(SqlType::Timestamp(Some(digits), TimezoneInfo::None))
}

/// The type `data_type` is: DuckDB's TIMESTAMP_* as the SQL timestamp of
/// its unit.
fn as_sql_timestamp(data_type: &mut SqlType) {
    if let SqlType::Custom(name, modifiers) = data_type
        && modifiers.is_empty()
        && let [part] = name.0.as_slice()
        && let Some(timestamp) = part.as_ident().and_then(|i| timestamp_of(&i.value))
    {
        *data_type = timestamp;
    }
}

/// Writes each TIMESTAMP_NS, TIMESTAMP_MS and TIMESTAMP_S a cast, a typed
/// literal or a CREATE TABLE column of `statement` names as the SQL
/// timestamp of its unit.
pub(crate) fn units_as_duckdb(statement: &mut DFStatement) {
    if let DFStatement::Statement(inner) = statement
        && let Statement::CreateTable(create) = inner.as_mut()
    {
        for column in &mut create.columns {
            as_sql_timestamp(&mut column.data_type);
        }
    }
    struct Units;
    impl VisitorMut for Units {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &mut SqlExpr) -> ControlFlow<()> {
            let data_type = match expr {
                SqlExpr::Cast { data_type, .. } => data_type,
                SqlExpr::TypedString(typed) => &mut typed.data_type,
                _ => return ControlFlow::Continue(()),
            };
            as_sql_timestamp(data_type);
            ControlFlow::Continue(())
        }
    }
    crate::column_case::visit_sql(statement, &mut Units);
}

/// The analyzer rule: a cast of a string, DATE or timestamp to a timestamp
/// in seconds or milliseconds rounds its microseconds as DuckDB does.
#[derive(Debug, Default)]
pub(crate) struct RoundedTimestampCasts;

impl AnalyzerRule for RoundedTimestampCasts {
    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|plan| rewrite_expressions(plan, rewrite))
            .data()
    }

    fn name(&self) -> &str {
        "duckdb_rounded_timestamps"
    }
}

/// `expr` with a cast to TIMESTAMP_S or TIMESTAMP_MS computed as DuckDB's:
/// the input's microseconds since the epoch, divided by the unit's and
/// rounded half away from zero.
fn rewrite(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Expr::Cast(Cast { expr: input, field }) = &expr else {
        return Ok(Transformed::no(expr));
    };
    let (unit, per_unit) = match field.data_type() {
        DataType::Timestamp(TimeUnit::Second, None) => (TimeUnit::Second, 1_000_000i64),
        DataType::Timestamp(TimeUnit::Millisecond, None) => (TimeUnit::Millisecond, 1_000),
        _ => return Ok(Transformed::no(expr)),
    };
    let from = input.get_type(schema)?;
    let read_as_micros = matches!(
        from,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Date32
            | DataType::Date64
            | DataType::Timestamp(TimeUnit::Microsecond | TimeUnit::Nanosecond, None)
    );
    if !read_as_micros {
        return Ok(Transformed::no(expr));
    }
    let micros = Expr::Cast(Cast::new(
        Box::new(Expr::Cast(Cast::new(
            input.clone(),
            DataType::Timestamp(TimeUnit::Microsecond, None),
        ))),
        DataType::Int64,
    ));
    let half = per_unit / 2;
    let literal = |v: i64| Expr::Literal(ScalarValue::Int64(Some(v)), None);
    let toward = when(micros.clone().lt(literal(0)), literal(-half)).otherwise(literal(half))?;
    let rounded = (micros + toward) / literal(per_unit);
    Ok(Transformed::yes(Expr::Cast(Cast::new(
        Box::new(rounded),
        DataType::Timestamp(unit, None),
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only DuckDB's three names are rewritten, in any case.
    #[test]
    fn duckdb_names_are_timestamps_of_their_unit() {
        assert_eq!(
            timestamp_of("timestamp_ns"),
            Some(SqlType::Timestamp(Some(9), TimezoneInfo::None))
        );
        assert_eq!(
            timestamp_of("TIMESTAMP_S"),
            Some(SqlType::Timestamp(Some(0), TimezoneInfo::None))
        );
        assert_eq!(timestamp_of("TIMESTAMP_XS"), None);
    }
}

//! A prepared statement's parameters typed from what they are compared
//! with. DataFusion gives `$1` in `ms >= $1` the column's type and casts
//! EXECUTE's value to it, so against a TIMESTAMP_MS column (DuckDB's in
//! Parquet) `'2024-01-01 00:00:00.0015'` was truncated to `.001` before
//! any comparison could round it (hostile review of fix9b, H3: `ms = $1`
//! matched the row at `.001`, where DuckDB matches none). A parameter
//! inferred as a timestamp coarser than s3sql's TIMESTAMP (nanoseconds)
//! is typed TIMESTAMP in that unit, so the value arrives whole and the
//! comparison rounds it per operator as it does a constant
//! ([`crate::timestamp_bounds`]). Types the statement declares
//! (`PREPARE p(TIMESTAMP_MS) AS ...`) are kept.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::logical_expr::{LogicalPlan, Prepare, Statement};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::Statement as SqlStatement;

/// Whether `statement` is a PREPARE whose parameter types DataFusion
/// will infer (none declared).
pub(crate) fn infers_parameter_types(statement: &DFStatement) -> bool {
    matches!(
        statement,
        DFStatement::Statement(s) if matches!(s.as_ref(), SqlStatement::Prepare { data_types, .. } if data_types.is_empty())
    )
}

/// `plan`, a PREPARE's, with its inferred coarser timestamp parameters
/// typed in nanoseconds; any other plan as it is.
pub(crate) fn widened_parameters(plan: LogicalPlan) -> LogicalPlan {
    let LogicalPlan::Statement(Statement::Prepare(prepare)) = plan else {
        return plan;
    };
    let fields = prepare
        .fields
        .iter()
        .map(|field| match field.data_type() {
            DataType::Timestamp(unit, zone) if *unit != TimeUnit::Nanosecond => {
                let to = DataType::Timestamp(TimeUnit::Nanosecond, zone.clone());
                Arc::new(field.as_ref().clone().with_data_type(to))
            }
            _ => Arc::clone(field),
        })
        .collect();
    LogicalPlan::Statement(Statement::Prepare(Prepare { fields, ..prepare }))
}

//! DuckDB's TIMESTAMP_NS, TIMESTAMP_MS and TIMESTAMP_S (`CAST(x AS
//! TIMESTAMP_NS)`, `x::TIMESTAMP_MS`), which DataFusion refused
//! ("Unsupported SQL type TIMESTAMP_NS"): [`units_as_duckdb`] writes them
//! as `TIMESTAMP(9)`, `TIMESTAMP(3)` and `TIMESTAMP(0)`, DataFusion's
//! timestamps in those units, before the statement is planned. DuckDB
//! reads a value for TIMESTAMP_MS or TIMESTAMP_S as microseconds and
//! rounds them to the unit, half away from zero (`'... 03:04:05.5'` is
//! `03:04:06`; arrow's cast truncates): [`RoundedTimestampCasts`], an
//! analyzer rule, computes those casts so, TRY_CAST's and a TIMESTAMP
//! WITH TIME ZONE's too, and refuses a TIMESTAMP_MS value's cast to
//! TIMESTAMP_S as DuckDB 1.5.5 does ("Unimplemented type for cast";
//! TRY_CAST: NULL). A Parquet TIMESTAMP(MILLIS) column is DuckDB's
//! TIMESTAMP, so its cast rounds as DuckDB's.
//! A TIMESTAMP_NS cast to either is not refused: DataFusion's TIMESTAMP
//! is in nanoseconds too, and DuckDB rounds a TIMESTAMP's.

use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, FieldRef, TimeUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult};
use datafusion::common::{DFSchema, Result, ScalarValue, exec_err};
use datafusion::logical_expr::expr::{Cast, ScalarFunction, TryCast};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ExprSchemable, LogicalPlan, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility, when,
};
use datafusion::optimizer::AnalyzerRule;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    DataType as SqlType, Expr as SqlExpr, Statement, TimezoneInfo, VisitorMut,
};

use crate::expr_rules::rewrite_expressions;
use crate::timestamp_cast::{Wording, from_text};

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

/// The analyzer rule: a cast (or TRY_CAST) of a string (a dictionary of
/// them too), DATE or timestamp of any unit (with a time zone too) to a timestamp in seconds or
/// milliseconds rounds its microseconds as DuckDB does.
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

/// `expr` with a cast (or TRY_CAST) to TIMESTAMP_S or TIMESTAMP_MS
/// computed as DuckDB's: the input's microseconds since the epoch (a
/// TIMESTAMP WITH TIME ZONE's in the session's zone), divided by the
/// unit's and rounded half away from zero. A TIMESTAMP_MS value's cast
/// to TIMESTAMP_S is DuckDB's error (NULL for TRY_CAST).
fn rewrite(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let (input, field, lenient) = match &expr {
        Expr::Cast(Cast { expr, field }) => (expr, field, false),
        Expr::TryCast(TryCast { expr, field }) => (expr, field, true),
        _ => return Ok(Transformed::no(expr)),
    };
    let (unit, per_unit) = match field.data_type() {
        DataType::Timestamp(TimeUnit::Second, None) => (TimeUnit::Second, 1_000_000i64),
        DataType::Timestamp(TimeUnit::Millisecond, None) => (TimeUnit::Millisecond, 1_000),
        _ => return Ok(Transformed::no(expr)),
    };
    let from = input.get_type(schema)?;
    if unit == TimeUnit::Second && is_timestamp_ms_value(input) {
        if lenient {
            let null = ScalarValue::try_from(field.data_type())?;
            return Ok(Transformed::yes(Expr::Literal(null, None)));
        }
        let refused = ScalarUDF::new_from_impl(UnimplementedCast::new(field.data_type()));
        let call = ScalarFunction::new_udf(Arc::new(refused), vec![(**input).clone()]);
        return Ok(Transformed::yes(Expr::ScalarFunction(call)));
    }
    let is_text =
        |t: &DataType| matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
    // A dictionary of strings (a Parquet dictionary column) too, which
    // the text rule reads as its strings (review of tstext 3, F3: its
    // cast went to the text rule whole, which cut the fraction).
    let read_as_micros = match &from {
        DataType::Dictionary(_, values) => is_text(values),
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _) => true,
        other => is_text(other),
    };
    if !read_as_micros {
        return Ok(Transformed::no(expr));
    }
    let to_micros = DataType::Timestamp(TimeUnit::Microsecond, None);
    // Text is read here, to word its refusal as DuckDB does for these
    // units; the text rule would read a cast of it as a TIMESTAMP's.
    let text = from_text(input, &to_micros, !lenient, Wording::AsInt64, schema)?;
    let timestamp = match (text, lenient) {
        (Some(call), _) => call,
        (None, true) => Expr::TryCast(TryCast::new(input.clone(), to_micros)),
        (None, false) => Expr::Cast(Cast::new(input.clone(), to_micros)),
    };
    let micros = Expr::Cast(Cast::new(Box::new(timestamp), DataType::Int64));
    let half = per_unit / 2;
    let literal = |v: i64| Expr::Literal(ScalarValue::Int64(Some(v)), None);
    let toward = when(micros.clone().lt(literal(0)), literal(-half)).otherwise(literal(half))?;
    // DuckDB's infinities (the largest value and its negation) stay
    // infinite: rounding them overflowed (review of tstext, finding 8).
    let infinite = micros
        .clone()
        .eq(literal(i64::MAX))
        .or(micros.clone().eq(literal(-i64::MAX)));
    let rounded =
        when(infinite, micros.clone()).otherwise((micros + toward) / literal(per_unit))?;
    Ok(Transformed::yes(Expr::Cast(Cast::new(
        Box::new(rounded),
        DataType::Timestamp(unit, None),
    ))))
}

/// Whether `expr` is a value cast to TIMESTAMP_MS (`x::TIMESTAMP_MS`),
/// which DuckDB refuses to cast to TIMESTAMP_S. A column in milliseconds
/// is not: DuckDB reads a Parquet TIMESTAMP(MILLIS) column as its
/// TIMESTAMP, in microseconds, and rounds its cast (review of ivl F3: such
/// a column's cast was refused). A subquery's TIMESTAMP_MS column, which
/// DuckDB refuses too, is not told apart from a file's here.
fn is_timestamp_ms_value(expr: &Expr) -> bool {
    let ms =
        |field: &FieldRef| field.data_type() == &DataType::Timestamp(TimeUnit::Millisecond, None);
    match expr {
        Expr::Alias(alias) => is_timestamp_ms_value(&alias.expr),
        Expr::Cast(Cast { field, .. }) | Expr::TryCast(TryCast { field, .. }) => ms(field),
        _ => false,
    }
}

/// DuckDB's cast of a TIMESTAMP_MS to TIMESTAMP_S, which it has none of:
/// NULL for NULL, "Unimplemented type for cast" for any value, as DuckDB
/// answers row by row.
#[derive(Debug, PartialEq, Eq, Hash)]
struct UnimplementedCast {
    to: DataType,
    signature: Signature,
}

impl UnimplementedCast {
    fn new(to: &DataType) -> Self {
        Self {
            to: to.clone(),
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for UnimplementedCast {
    fn name(&self) -> &str {
        "duckdb_unimplemented_cast"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(self.to.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Some(arg) = args.args.first() else {
            return exec_err!("duckdb_unimplemented_cast takes one argument");
        };
        let array = arg.to_array(args.number_rows)?;
        if array.logical_null_count() < array.len() {
            return exec_err!(
                "Conversion Error: Unimplemented type for cast (TIMESTAMP_MS -> TIMESTAMP_S)"
            );
        }
        let null = ScalarValue::try_from(&self.to)?;
        Ok(match arg {
            ColumnarValue::Scalar(_) => ColumnarValue::Scalar(null),
            ColumnarValue::Array(_) => ColumnarValue::Array(null.to_array_of_size(array.len())?),
        })
    }
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

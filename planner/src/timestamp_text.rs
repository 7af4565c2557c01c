//! A value cast to VARCHAR gives DuckDB's text, not arrow's, for the
//! types whose text differs: a timestamp (a space before the time, the
//! fraction without trailing zeros, and for a TIMESTAMP WITH TIME ZONE the
//! instant in the session's zone (UTC) with its offset:
//! `2024-05-06 01:02:03+00` where arrow writes `2024-05-06T01:02:03`,
//! dropping the zone; [`crate::shown_zone`]), a TIME (`01:02:03.5`, not `01:02:03.500`), an
//! INTERVAL (`01:30:00`, not `1 hours 30 mins`), and a LIST, STRUCT or MAP
//! (`['2024-05-06 01:02:03']`, `{'t': 1}`, which arrow could not cast or
//! wrote as `[2024-05-06T01:02:03]`), and a BLOB (bytes outside printable
//! ASCII escaped, `\xC3\xA9`, where arrow decoded UTF-8 and failed on
//! other bytes; `decode(blob)` reads UTF-8, crate::blob), and a DOUBLE or
//! FLOAT (`1e+17`, `1e-05`, `nan`, where arrow writes `1e17`, `0.00001`,
//! `NaN`: review-s27 F14). The text is
//! COPY's ([`DuckText`]), so a cast, a CSV field and a shell cell agree.
//!
//! [`TimestampCasts`] is an analyzer rule run after DataFusion's type
//! coercion: it replaces every cast (explicit or coerced) of such a value
//! to a string type with a call of [`TimestampText`], keeping the
//! expression's name.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult};
use datafusion::common::{DFSchema, ScalarValue, exec_err};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::expr::{Cast, TryCast};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ExprSchemable, LogicalPlan, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility,
};
use datafusion::optimizer::AnalyzerRule;

use crate::expr_rules::rewrite_expressions;
use crate::shown_zone::in_zone;

use crate::copy::{DuckText, format_options, is_null};

/// The analyzer rule: casts to a string of the values whose text is
/// DuckDB's ([`has_duckdb_text`]) become [`TimestampText`].
#[derive(Debug, Default)]
pub(crate) struct TimestampCasts;

impl AnalyzerRule for TimestampCasts {
    fn analyze(&self, plan: LogicalPlan, options: &ConfigOptions) -> Result<LogicalPlan> {
        let zone = crate::shown_zone::session_zone(options);
        let text = Arc::new(ScalarUDF::new_from_impl(TimestampText::new(zone)));
        plan.transform_up_with_subqueries(|plan| {
            rewrite_expressions(plan, |e, schema| rewrite(e, schema, &text))
        })
        .data()
    }

    fn name(&self) -> &str {
        "duckdb_text"
    }
}

/// `expr` with such a cast to a string replaced by `text`'s call (and a
/// cast from its Utf8 to the type asked for, when another string type).
fn rewrite(expr: Expr, schema: &DFSchema, text: &Arc<ScalarUDF>) -> Result<Transformed<Expr>> {
    let (input, to) = match &expr {
        Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field }) => {
            (expr, field.data_type())
        }
        _ => return Ok(Transformed::no(expr)),
    };
    let to_text = matches!(
        to,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    );
    let from_duckdb_text = input
        .to_field(schema)
        .is_ok_and(|(_, field)| has_duckdb_text(&field));
    if !(to_text && from_duckdb_text) {
        return Ok(Transformed::no(expr));
    }
    let call = text.call(vec![input.as_ref().clone()]);
    Ok(Transformed::yes(match to {
        DataType::Utf8 => call,
        other => Expr::Cast(Cast::new(Box::new(call), other.clone())),
    }))
}

/// Whether a value of `field` cast to VARCHAR is DuckDB's text rather than
/// arrow's: timestamps, times, intervals, nested values, and BLOBs (bytes
/// outside printable ASCII escaped, `\xC3\xA9`, where arrow decoded UTF-8
/// and failed on other bytes) but a UUID, whose cast DataFusion keeps;
/// and dictionary-encoded such values (an arrow-written Parquet file's),
/// whose text is their values'.
fn has_duckdb_text(field: &Field) -> bool {
    use DataType::*;
    if let Dictionary(_, values) = field.data_type() {
        return has_duckdb_text(&Field::new(field.name(), values.as_ref().clone(), true));
    }
    let blob = matches!(
        field.data_type(),
        Binary | LargeBinary | BinaryView | FixedSizeBinary(_)
    );
    (blob && !crate::copy::is_uuid(field))
        || matches!(
            field.data_type(),
            Float32
                | Float64
                | Timestamp(..)
                | Time32(_)
                | Time64(_)
                | Interval(_)
                | Duration(_)
                | List(_)
                | LargeList(_)
                | FixedSizeList(..)
                | ListView(_)
                | LargeListView(_)
                | Struct(_)
                | Map(..)
        )
}

/// The function such a cast to VARCHAR becomes: [`duckdb_text`], zoned
/// timestamps in the session's zone.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct TimestampText {
    signature: Signature,
    zone: String,
}

impl TimestampText {
    fn new(zone: &str) -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
            zone: zone.to_owned(),
        }
    }
}

impl ScalarUDFImpl for TimestampText {
    fn name(&self) -> &str {
        "duckdb_text"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        match args.args.as_slice() {
            [ColumnarValue::Array(array)] => {
                let shown = in_zone(array, &self.zone)?;
                Ok(ColumnarValue::Array(duckdb_text(&shown)?))
            }
            [ColumnarValue::Scalar(value)] => {
                let text = duckdb_text(&in_zone(&value.to_array()?, &self.zone)?)?;
                Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                    &text, 0,
                )?))
            }
            _ => exec_err!("duckdb_text takes one value"),
        }
    }
}

/// The values of `array` as DuckDB casts them to VARCHAR: zoned
/// timestamps in their zone with its offset (`2024-05-06 01:02:03+00`;
/// a session's zone is given them first, [`crate::shown_zone`]), the
/// others as they are (`2024-05-06 01:02:03.5`), other values as COPY
/// writes them; dictionary-encoded values as theirs. NULL stays NULL.
pub fn duckdb_text(array: &ArrayRef) -> Result<ArrayRef> {
    let array = match array.data_type() {
        DataType::Dictionary(_, values) => return duckdb_text(&cast(array, values)?),
        _ => Arc::clone(array),
    };
    let options = format_options();
    let external = |e: crate::PlannerError| DataFusionError::External(Box::new(e));
    let text = DuckText::try_new(array.as_ref(), "", &options).map_err(external)?;
    let mut out = StringBuilder::with_capacity(array.len(), array.len() * 24);
    let mut value = String::new();
    for row in 0..array.len() {
        if is_null(array.as_ref(), row) {
            out.append_null();
        } else {
            text.write(row, &mut value).map_err(external)?;
            out.append_value(&value);
        }
    }
    Ok(Arc::new(out.finish()))
}

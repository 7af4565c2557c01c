//! Row-group pruning for a filter on a year of a timestamp.
//!
//! DataFusion's `date_part` turns `extract(year FROM t) = 2000` into
//! `t >= 2000-01-01 AND t < 2001-01-01` (its `preimage`), which Parquet
//! statistics prune by. s3sql's `date_part` answers NULL for an infinite
//! `t` ([`crate::timestamp_infinity`]), so it cannot be replaced so:
//! `t >= 2001-01-01` holds for `infinity`, whose `extract(year ...) >
//! 2000` is NULL. The range is added beside the comparison instead,
//! `extract(year FROM t) > 2000 AND t >= 2001-01-01`: wherever the
//! comparison holds, `t` is finite and in that range, so the answer is
//! the comparison's, and the scan prunes by the range (review of land9,
//! F1: `WHERE extract(year FROM ts) = 2000` read all 588 row groups of a
//! sorted file, 10x main's time).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::common::tree_node::Transformed;
use datafusion::logical_expr::expr::{BinaryExpr, Cast, ScalarFunction};
use datafusion::logical_expr::preimage::PreimageResult;
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::utils::{conjunction, split_conjunction};
use datafusion::logical_expr::{Expr, ExprSchemable, Filter, LogicalPlan, Operator, and, lit};

use crate::timestamp_infinity::nulling_infinities;

/// `plan`, a filter, with the range of each year comparison of its
/// predicate beside it; any other plan as it is.
pub(crate) fn with_implied_ranges(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    let LogicalPlan::Filter(filter) = plan else {
        return Ok(Transformed::no(plan));
    };
    let info = SimplifyContext::builder()
        .with_schema(std::sync::Arc::clone(filter.input.schema()))
        .build();
    let conjuncts = split_conjunction(&filter.predicate);
    let mut ranges = Vec::new();
    for conjunct in &conjuncts {
        // Added once: a plan analyzed again holds its range already.
        if let Some(range) = implied_range(conjunct, &info)?
            && !split_conjunction(&range)
                .iter()
                .all(|piece| conjuncts.contains(piece))
        {
            ranges.push(range);
        }
    }
    let Some(ranges) = conjunction(ranges) else {
        return Ok(Transformed::no(LogicalPlan::Filter(filter)));
    };
    let predicate = and(filter.predicate.clone(), ranges);
    Ok(Transformed::yes(LogicalPlan::Filter(Filter::try_new(
        predicate,
        filter.input,
    )?)))
}

/// The range of the timestamp `conjunct` compares the year of to a
/// literal, as DataFusion's `date_part` gives it; `None` for any other
/// conjunct.
fn implied_range(conjunct: &Expr, info: &SimplifyContext) -> Result<Option<Expr>> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = conjunct else {
        return Ok(None);
    };
    let (call, literal, op) = match (left.as_ref(), right.as_ref()) {
        (call, Expr::Literal(value, _)) => (call, value, *op),
        (Expr::Literal(value, _), call) => match op.swap() {
            Some(op) => (call, value, op),
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    // Type coercion casts the INTEGER year to the literal's BIGINT or
    // DOUBLE; only such a widening is looked through.
    let (call, widened) = match call {
        Expr::Cast(Cast { expr, field }) => (expr.as_ref(), Some(field.data_type())),
        call => (call, None),
    };
    let Expr::ScalarFunction(ScalarFunction { func, args }) = call else {
        return Ok(None);
    };
    let Some(date_part) = nulling_infinities(func) else {
        return Ok(None);
    };
    let year_type = call.get_type(info.schema())?;
    let widening = match widened {
        None => true,
        Some(to) => {
            year_type == DataType::Int32 && matches!(to, DataType::Int64 | DataType::Float64)
        }
    };
    if !widening {
        return Ok(None);
    }
    // The literal as a year, when it is one exactly (`2000.5` is none).
    let Ok(year) = literal.cast_to(&year_type) else {
        return Ok(None);
    };
    if year.is_null() || year.cast_to(&literal.data_type()).ok().as_ref() != Some(literal) {
        return Ok(None);
    }
    let PreimageResult::Range { expr, interval } =
        date_part.preimage(args, &Expr::Literal(year, None), info)?
    else {
        return Ok(None);
    };
    // The range is evaluated twice over: never for a volatile argument
    // (`random()` would be drawn again).
    if expr.is_volatile() {
        return Ok(None);
    }
    // A bound DataFusion could not make (a year past the nanoseconds'
    // 1677-2262, a zone with no midnight on 1 January) is NULL, which a
    // comparison would read as false for every row: no range then.
    let (lower, upper) = interval.into_bounds();
    if lower.is_null() || upper.is_null() {
        return Ok(None);
    }
    let (lower, upper) = (lit(lower), lit(upper));
    Ok(Some(match op {
        Operator::Eq => and(expr.clone().gt_eq(lower), expr.lt(upper)),
        Operator::NotEq => expr.clone().lt(lower).or(expr.gt_eq(upper)),
        Operator::Lt => expr.lt(lower),
        Operator::LtEq => expr.lt(upper),
        Operator::Gt => expr.gt_eq(upper),
        Operator::GtEq => expr.gt_eq(lower),
        _ => return Ok(None),
    }))
}

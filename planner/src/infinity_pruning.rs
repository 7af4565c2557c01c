//! Row-group pruning that s3sql's infinite timestamps would stop.
//!
//! A filter on a year of a timestamp ([`with_implied_ranges`]):
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
//!
//! A comparison of a timestamp cast to a finer unit with a constant
//! ([`compared_in_unit`]): `ts > TIMESTAMP '2024-06-01'` of a Parquet
//! column in microseconds is `CAST(ts AS TIMESTAMP(9)) > ...` after type
//! coercion, whose cast DataFusion moves to the constant to prune by the
//! column's statistics, dividing `infinity`'s nanoseconds as any time's
//! (`ts = TIMESTAMP 'infinity'` held for no row). The cast of a column
//! keeps its infinities ([`crate::timestamp_infinity`]), but as a function
//! it could no longer be moved: it is moved here, before, to the constant,
//! keeping the constant's infinity, and rounding its time the way the
//! comparison needs ([`crate::timestamp_bounds`]) where DataFusion's
//! truncates it.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::DFSchema;
use datafusion::common::Result;
use datafusion::common::tree_node::Transformed;
use datafusion::logical_expr::expr::{Between, BinaryExpr, Cast, InList, ScalarFunction};
use datafusion::logical_expr::preimage::PreimageResult;
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::utils::{conjunction, disjunction, split_conjunction};
use datafusion::logical_expr::{
    Expr, ExprSchemable, Filter, LogicalPlan, Operator, and, binary_expr, lit,
};
use datafusion::physical_optimizer::pruning::MAX_IN_LIST_SIZE;

use crate::timestamp_bounds::{Rounding, bound};
use crate::timestamp_infinity::{infinity_cast, nulling_infinities, rank};

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

/// `expr` comparing (`=`, `<`, `IS DISTINCT FROM`, ..., IN a list,
/// BETWEEN) a timestamp cast to a finer unit with constants, compared in
/// the timestamp's unit instead with the constants' bounds in that unit
/// ([`crate::timestamp_bounds`]: `<` the time rounded up, `<=` down, `=`
/// both), their infinities kept; any other `expr` as it is. A constant
/// exact in the unit is both bounds, which the simplifier folds into one
/// comparison: `ms = c AND ms = c` is `ms = c`.
pub(crate) fn compared_in_unit(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let bounds = |constant: &Expr, to: &DataType| -> Result<Option<Bounds>> {
        let constant_now = constant.column_refs().is_empty() && !constant.is_volatile();
        let DataType::Timestamp(unit, zone) = constant.get_type(schema)? else {
            return Ok(None);
        };
        if !constant_now {
            return Ok(None);
        }
        // The constant in the column's zone first (the cast's inverse),
        // then rounded to its unit, a coarser one.
        let DataType::Timestamp(column_unit, column_zone) = to else {
            return Ok(None);
        };
        if rank(unit) <= rank(*column_unit) {
            return Ok(None);
        }
        let in_zone = match zone == *column_zone {
            true => constant.clone(),
            false => infinity_cast(
                constant.clone(),
                &DataType::Timestamp(unit, column_zone.clone()),
                true,
            ),
        };
        Ok(Some(Bounds {
            down: bound(in_zone.clone(), to, Rounding::Down),
            up: bound(in_zone, to, Rounding::Up),
        }))
    };
    let moved = match &expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) if compares(*op) => {
            let to_left = match widened(left, schema)? {
                Some((inner, to)) => bounds(right, &to)?.map(|right| right.compared(*inner, *op)),
                None => None,
            };
            match (to_left, widened(right, schema)?, op.swap()) {
                (Some(moved), _, _) => Some(moved),
                (None, Some((inner, to)), Some(swapped)) => {
                    bounds(left, &to)?.map(|left| left.compared(*inner, swapped))
                }
                _ => None,
            }
        }
        // Each item compared as `=` (or `<>`): a list longer than
        // DataFusion's pruning takes keeps its cast.
        Expr::InList(InList {
            expr: cast,
            list,
            negated,
        }) if list.len() <= MAX_IN_LIST_SIZE => match widened(cast, schema)? {
            Some((inner, to)) => {
                let op = if *negated {
                    Operator::NotEq
                } else {
                    Operator::Eq
                };
                let items = list
                    .iter()
                    .map(|item| bounds(item, &to))
                    .collect::<Result<Option<Vec<_>>>>()?
                    .map(|items| {
                        items
                            .into_iter()
                            .map(|item| item.compared((*inner).clone(), op))
                    });
                match (items, negated) {
                    (Some(items), false) => disjunction(items),
                    (Some(items), true) => conjunction(items),
                    (None, _) => None,
                }
            }
            None => None,
        },
        Expr::Between(Between {
            expr: cast,
            negated,
            low,
            high,
        }) => match widened(cast, schema)? {
            Some((inner, to)) => match (bounds(low, &to)?, bounds(high, &to)?) {
                (Some(low), Some(high)) => Some(Expr::Between(Between::new(
                    inner,
                    *negated,
                    Box::new(low.up),
                    Box::new(high.down),
                ))),
                _ => None,
            },
            None => None,
        },
        _ => None,
    };
    Ok(match moved {
        Some(moved) => Transformed::yes(moved),
        None => Transformed::no(expr),
    })
}

/// A constant's time rounded down and up to a column's unit.
struct Bounds {
    down: Expr,
    up: Expr,
}

impl Bounds {
    /// `column op` the constant, `column` in the unit the bounds are in:
    /// `column < c` holds up to the last time before `c` (`column < up`),
    /// `column <= c` up to `down`, and `column = c` only where `c` is
    /// exact (`column = down AND column = up`).
    fn compared(self, column: Expr, op: Operator) -> Expr {
        let Bounds { down, up } = self;
        let compare = |bound: Expr, op: Operator| binary_expr(column.clone(), op, bound);
        match op {
            Operator::Lt | Operator::GtEq => compare(up, op),
            Operator::LtEq | Operator::Gt => compare(down, op),
            Operator::Eq | Operator::IsNotDistinctFrom => compare(down, op).and(compare(up, op)),
            // NotEq, IsDistinctFrom: the negation of the above.
            _ => compare(down, op).or(compare(up, op)),
        }
    }
}

/// The comparisons DataFusion moves a cast out of
/// (`Operator::supports_propagation` but for regular expressions).
fn compares(op: Operator) -> bool {
    matches!(
        op,
        Operator::Eq
            | Operator::NotEq
            | Operator::Lt
            | Operator::LtEq
            | Operator::Gt
            | Operator::GtEq
            | Operator::IsDistinctFrom
            | Operator::IsNotDistinctFrom
    )
}

/// The timestamp `expr` casts (not TRY_CAST: its NULL for a time the
/// finer unit cannot hold is no comparison's) to a finer unit, and its
/// type; None for any other `expr`, or a volatile timestamp (compared
/// twice over for `=`).
fn widened(expr: &Expr, schema: &DFSchema) -> Result<Option<(Box<Expr>, DataType)>> {
    let Expr::Cast(Cast { expr: inner, field }) = expr else {
        return Ok(None);
    };
    if inner.is_volatile() {
        return Ok(None);
    }
    let from = inner.get_type(schema)?;
    Ok(match (&from, field.data_type()) {
        (DataType::Timestamp(from_unit, _), DataType::Timestamp(to_unit, _))
            if rank(*to_unit) > rank(*from_unit) =>
        {
            Some((inner.clone(), from))
        }
        _ => None,
    })
}

//! DuckDB 1.5.5's names of the parts `date_trunc` and `date_part`
//! (`extract`) take, where DataFusion's refused them ("Unsupported
//! date_trunc granularity: 'microseconds'", "Date part 'decade' not
//! supported"; hostile review, item 5):
//! - `date_trunc` takes DuckDB's plurals and abbreviations of its units
//!   (`microseconds`, `us`, `ms`, `mins`, `yrs`, `dayofmonth`, ...), named
//!   as DataFusion names them, and a timestamp's `decade`, `century` and
//!   `millennium` (the first of January of a year ending in 0, 00 or 000,
//!   as DuckDB's: 2000 is the century of 2001; an infinity infinite);
//! - `date_part` takes `dayofmonth`, `weekday`, `dayofweek`, `dayofyear`,
//!   `weekofyear`, `quarters`, and the parts DuckDB computes from the year
//!   and the ISO week: `decade`, `century`, `millennium`, `era`,
//!   `yearweek` (with their abbreviations), as DuckDB computes them
//!   (BIGINT; NULL for an infinity, as the year is).
//!
//! Not here: `date_trunc` of a DATE to a decade, century or millennium,
//! and `julian`, `timezone`, `timezone_hour` and `timezone_minute`.
//!
//! [`duckdb_parts`] rewrites a call whose part is a constant text, run by
//! [`crate::timestamp_infinity`]'s rule before it wraps the functions.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr::{Cast, ScalarFunction};
use datafusion::logical_expr::{Expr, ExprSchemable, lit, when};

/// `expr` with a `date_trunc` or `date_part` of a part DuckDB names and
/// DataFusion does not written as DataFusion's; any other `expr` as it is.
pub(crate) fn duckdb_parts(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Expr::ScalarFunction(call) = &expr else {
        return Ok(Transformed::no(expr));
    };
    let [Expr::Literal(part, _), timestamp] = call.args.as_slice() else {
        return Ok(Transformed::no(expr));
    };
    let Some(Some(part)) = part.try_as_str() else {
        return Ok(Transformed::no(expr));
    };
    let part = part.to_ascii_lowercase();
    let with_part = |name: &str| {
        Expr::ScalarFunction(ScalarFunction {
            func: call.func.clone(),
            args: vec![lit(ScalarValue::from(name)), timestamp.clone()],
        })
    };
    let rewritten = match call.func.name() {
        "date_trunc" => match trunc_unit(&part) {
            Some(unit) => (unit != part).then(|| with_part(unit)),
            None if timestamp.is_volatile() => None,
            None => match (years_of(&part), timestamp.get_type(schema)?) {
                (Some(years), to @ DataType::Timestamp(..)) => {
                    let year = Expr::ScalarFunction(ScalarFunction::new_udf(
                        datafusion::functions::datetime::date_part(),
                        vec![lit("year"), timestamp.clone()],
                    ));
                    Some(first_of_years(year, years, with_part("year"), &to)?)
                }
                _ => None,
            },
        },
        "date_part" => match part_alias(&part) {
            Some(alias) => Some(with_part(alias)),
            // Each is computed from the part more than once: never of a
            // volatile argument, which would be drawn again.
            None if timestamp.is_volatile() => None,
            None => derived(&part, |name| {
                Expr::Cast(Cast::new(Box::new(with_part(name)), DataType::Int64))
            })?,
        },
        _ => None,
    };
    Ok(match rewritten {
        Some(rewritten) => Transformed::yes(rewritten),
        None => Transformed::no(expr),
    })
}

/// DataFusion's `date_trunc` unit DuckDB's name `part` is (itself when
/// DataFusion's already); None for one DataFusion has no unit of.
pub(crate) fn trunc_unit(part: &str) -> Option<&'static str> {
    Some(match part {
        "microsecond" | "microseconds" | "us" | "usec" | "usecs" | "usecond" | "useconds" => {
            "microsecond"
        }
        "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" | "msecond" | "mseconds" => {
            "millisecond"
        }
        "second" | "seconds" | "s" | "sec" | "secs" => "second",
        "minute" | "minutes" | "m" | "min" | "mins" => "minute",
        "hour" | "hours" | "h" | "hr" | "hrs" => "hour",
        "day" | "days" | "d" | "dayofmonth" => "day",
        "week" | "weeks" | "w" | "weekofyear" => "week",
        "month" | "months" | "mon" | "mons" => "month",
        "quarter" | "quarters" => "quarter",
        "year" | "years" | "y" | "yr" | "yrs" => "year",
        _ => return None,
    })
}

/// DataFusion's `date_part` name of DuckDB's `part` where DataFusion
/// does not take DuckDB's (its plurals and abbreviations it takes).
fn part_alias(part: &str) -> Option<&'static str> {
    Some(match part {
        "dayofmonth" => "day",
        "weekday" | "dayofweek" => "dow",
        "dayofyear" => "doy",
        "weekofyear" => "week",
        "quarters" => "quarter",
        _ => return None,
    })
}

/// DuckDB's `part` computed from the parts `of` gives (as BIGINT), as
/// DuckDB computes it; None for a part it is not.
fn derived(part: &str, of: impl Fn(&str) -> Expr) -> Result<Option<Expr>> {
    let year = || of("year");
    // Centuries and millennia count from 1; year 0 (1 BC) is in -1.
    let counted = |per: i64| {
        when(
            year().gt(lit(0i64)),
            (year() - lit(1i64)) / lit(per) + lit(1i64),
        )
        .otherwise(year() / lit(per) - lit(1i64))
    };
    Ok(Some(match part {
        "decade" | "decades" | "dec" | "decs" => year() / lit(10i64),
        "century" | "centuries" | "c" | "cent" => counted(100)?,
        "millennium" | "millenniums" | "millennia" | "mil" | "mils" | "millenium" => counted(1000)?,
        // NULL for a NULL year, as any part.
        "era" => when(year().gt(lit(0i64)), lit(1i64))
            .when(year().lt_eq(lit(0i64)), lit(0i64))
            .end()?,
        "yearweek" => {
            let week = when(of("isoyear").gt(lit(0i64)), of("week")).otherwise(-of("week"))?;
            of("isoyear") * lit(100i64) + week
        }
        _ => return Ok(None),
    }))
}

/// The years DuckDB's `date_trunc` unit `part` spans, beyond DataFusion's.
fn years_of(part: &str) -> Option<i32> {
    Some(match part {
        "decade" | "decades" | "dec" | "decs" => 10,
        "century" | "centuries" | "c" | "cent" => 100,
        "millennium" | "millenniums" | "millennia" | "mil" | "mils" | "millenium" => 1000,
        _ => return None,
    })
}

/// The first of January (in timestamp type `to`) of the year a multiple
/// of `years` that `year` (INTEGER) is in, counted from year 0 as DuckDB
/// counts (its decade of 1999 is 1990, its century of 2001 2000); where
/// `year` is NULL, `in_year` (the timestamp truncated to its year, which
/// keeps an infinity).
fn first_of_years(year: Expr, years: i32, in_year: Expr, to: &DataType) -> Result<Expr> {
    let first = (year.clone() / lit(years)) * lit(years);
    let date = Expr::ScalarFunction(ScalarFunction::new_udf(
        datafusion::functions::datetime::make_date(),
        vec![first, lit(1i32), lit(1i32)],
    ));
    when(year.is_null(), in_year).otherwise(Expr::Cast(Cast::new(Box::new(date), to.clone())))
}

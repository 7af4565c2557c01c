//! DuckDB 1.5.5's interval constructors, `to_years(n)` to
//! `to_microseconds(n)` ([`ToInterval`]), with DuckDB's argument types
//! (`to_days(2.5)` is its binder error; `to_seconds` and
//! `to_milliseconds` take a DOUBLE) and its out-of-range errors; and
//! `INTERVAL (expr) DAY`, which DataFusion refused ("Unsupported interval
//! argument"), rewritten as DuckDB's parser does into the constructor's
//! call ([`units_as_calls`]): `to_days(CAST(trunc(CAST(expr AS DOUBLE)) AS
//! INTEGER))`, or `to_seconds(CAST(expr AS DOUBLE))`.

use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, IntervalMonthDayNanoArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Float64Type, Int64Type, IntervalMonthDayNano, IntervalUnit,
};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    CastKind, DataType as SqlType, DateTimeField, ExactNumberInfo, Expr as SqlExpr, Function,
    FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments, Ident, ObjectName,
    Value, VisitorMut,
};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Word};

/// The units DuckDB builds intervals of, each a `to_<unit>` function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Unit {
    Millennia,
    Centuries,
    Decades,
    Years,
    Quarters,
    Months,
    Weeks,
    Days,
    Hours,
    Minutes,
    Seconds,
    Milliseconds,
    Microseconds,
}

/// What a `to_<unit>` function takes, as DuckDB declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Argument {
    /// INTEGER or BIGINT (the value must fit an INTEGER).
    Integer,
    /// BIGINT only.
    Bigint,
    /// DOUBLE.
    Double,
}

impl Unit {
    const ALL: [Unit; 13] = [
        Unit::Millennia,
        Unit::Centuries,
        Unit::Decades,
        Unit::Years,
        Unit::Quarters,
        Unit::Months,
        Unit::Weeks,
        Unit::Days,
        Unit::Hours,
        Unit::Minutes,
        Unit::Seconds,
        Unit::Milliseconds,
        Unit::Microseconds,
    ];

    /// The unit's word, as in DuckDB's function name and errors.
    fn word(self) -> &'static str {
        match self {
            Unit::Millennia => "millennia",
            Unit::Centuries => "centuries",
            Unit::Decades => "decades",
            Unit::Years => "years",
            Unit::Quarters => "quarters",
            Unit::Months => "months",
            Unit::Weeks => "weeks",
            Unit::Days => "days",
            Unit::Hours => "hours",
            Unit::Minutes => "minutes",
            Unit::Seconds => "seconds",
            Unit::Milliseconds => "milliseconds",
            Unit::Microseconds => "microseconds",
        }
    }

    /// What `to_<unit>` takes.
    fn argument(self) -> Argument {
        match self {
            Unit::Hours | Unit::Minutes | Unit::Microseconds => Argument::Bigint,
            Unit::Seconds | Unit::Milliseconds => Argument::Double,
            _ => Argument::Integer,
        }
    }

    /// The unit of `INTERVAL (expr) <field>`, None for a field DuckDB
    /// builds no interval of.
    fn of_field(field: &DateTimeField) -> Option<Unit> {
        use DateTimeField as F;
        Some(match field {
            F::Millennium | F::Millenium => Unit::Millennia,
            F::Century => Unit::Centuries,
            F::Decade => Unit::Decades,
            F::Year | F::Years => Unit::Years,
            F::Quarter => Unit::Quarters,
            F::Month | F::Months => Unit::Months,
            F::Week(None) | F::Weeks => Unit::Weeks,
            F::Day | F::Days => Unit::Days,
            F::Hour | F::Hours => Unit::Hours,
            F::Minute | F::Minutes => Unit::Minutes,
            F::Second | F::Seconds => Unit::Seconds,
            F::Millisecond | F::Milliseconds => Unit::Milliseconds,
            F::Microsecond | F::Microseconds => Unit::Microseconds,
            _ => return None,
        })
    }

    /// The interval of `n` of this unit, or DuckDB's error.
    fn of_integer(self, n: i64) -> Result<IntervalMonthDayNano, String> {
        let months = |per: i32| {
            let n32 = to_i32(n)?;
            let months = n32.checked_mul(per).ok_or_else(|| self.out_of_range(n))?;
            Ok(IntervalMonthDayNano::new(months, 0, 0))
        };
        let micros = |per: i64| {
            let micros = n.checked_mul(per).ok_or_else(|| self.out_of_range(n))?;
            self.of_micros(micros, n)
        };
        match self {
            Unit::Millennia => months(12_000),
            Unit::Centuries => months(1_200),
            Unit::Decades => months(120),
            Unit::Years => months(12),
            Unit::Quarters => months(3),
            Unit::Months => months(1),
            Unit::Weeks => {
                let days = to_i32(n)?
                    .checked_mul(7)
                    .ok_or_else(|| self.out_of_range(n))?;
                Ok(IntervalMonthDayNano::new(0, days, 0))
            }
            Unit::Days => Ok(IntervalMonthDayNano::new(0, to_i32(n)?, 0)),
            Unit::Hours => micros(3_600_000_000),
            Unit::Minutes => micros(60_000_000),
            Unit::Microseconds => micros(1),
            Unit::Seconds => self.of_double(n as f64),
            Unit::Milliseconds => self.of_double(n as f64),
        }
    }

    /// The interval of `x` seconds or milliseconds, rounded to the
    /// microsecond half to even, as DuckDB's cast of a DOUBLE rounds.
    fn of_double(self, x: f64) -> Result<IntervalMonthDayNano, String> {
        let per = match self {
            Unit::Milliseconds => 1e3,
            _ => 1e6,
        };
        let Some(micros) = crate::interval_math::rounded_i64(x * per) else {
            let text = match x {
                x if x.is_nan() => "nan".to_owned(),
                x => format!("{x:.6}"),
            };
            return Err(self.out_of_range(text));
        };
        self.of_micros(micros, x)
    }

    /// `micros` as Arrow's interval, whose nanoseconds hold ±292 years.
    fn of_micros(
        self,
        micros: i64,
        n: impl std::fmt::Display,
    ) -> Result<IntervalMonthDayNano, String> {
        match micros.checked_mul(1_000) {
            Some(nanos) => Ok(IntervalMonthDayNano::new(0, 0, nanos)),
            None => Err(format!(
                "{} (s3sql holds an interval's time in nanoseconds, at most about 292 years)",
                self.out_of_range(n)
            )),
        }
    }

    /// DuckDB's error for `n` units past what an interval holds.
    fn out_of_range(self, n: impl std::fmt::Display) -> String {
        format!(
            "Out of Range Error: Interval value {n} {} out of range",
            self.word()
        )
    }
}

/// DuckDB's cast of a BIGINT to INTEGER.
fn to_i32(n: i64) -> Result<i32, String> {
    i32::try_from(n).map_err(|_| {
        format!(
            "Invalid Input Error: Type INT64 with value {n} can't be cast because the value is \
             out of range for the destination type INT32"
        )
    })
}

/// `to_<unit>(n)`: an interval of `n` units, as DuckDB's.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct ToInterval {
    signature: Signature,
    unit: Unit,
    name: String,
}

impl ToInterval {
    /// One function for each unit.
    pub(crate) fn udfs() -> Vec<ScalarUDF> {
        Unit::ALL
            .into_iter()
            .map(|unit| {
                ScalarUDF::new_from_impl(ToInterval {
                    signature: Signature::user_defined(Volatility::Immutable),
                    unit,
                    name: format!("to_{}", unit.word()),
                })
            })
            .collect()
    }
}

impl ScalarUDFImpl for ToInterval {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    /// DuckDB's overloads: INTEGER and BIGINT, BIGINT, or DOUBLE; its
    /// binder errors for other types.
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [t] = arg_types else {
            return plan_err!("Binder Error: {} takes one argument", self.name);
        };
        let integer = t.is_null() || (t.is_integer() && *t != DataType::UInt64);
        let text = matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
        let to = match self.unit.argument() {
            Argument::Double if t.is_numeric() || integer || text => DataType::Float64,
            Argument::Bigint if integer || text => DataType::Int64,
            Argument::Integer if integer => DataType::Int64,
            Argument::Integer if text => {
                return plan_err!(
                    "Binder Error: Could not choose a best candidate function for the function \
                     call \"{}({})\". In order to select one, please add explicit type casts.",
                    self.name,
                    crate::describe::duckdb_type_name(t)
                );
            }
            _ => {
                return plan_err!(
                    "Binder Error: No function matches the given name and argument types \
                     '{}({})'. You might need to add explicit type casts.",
                    self.name,
                    crate::describe::duckdb_type_name(t)
                );
            }
        };
        Ok(vec![to])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Interval(IntervalUnit::MonthDayNano))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        crate::blob::of_one_argument(self.name(), args, |numbers| {
            let intervals: Result<IntervalMonthDayNanoArray, String> = match numbers.data_type() {
                DataType::Float64 => numbers
                    .as_primitive::<Float64Type>()
                    .iter()
                    .map(|x| x.map(|x| self.unit.of_double(x)).transpose())
                    .collect(),
                _ => cast(numbers, &DataType::Int64)?
                    .as_primitive::<Int64Type>()
                    .iter()
                    .map(|n| n.map(|n| self.unit.of_integer(n)).transpose())
                    .collect(),
            };
            match intervals {
                Ok(intervals) => Ok(Arc::new(intervals) as ArrayRef),
                Err(e) => exec_err!("{e}"),
            }
        })
    }
}

/// Rewrites each `INTERVAL (expr) <unit>` of `statement` into DuckDB's
/// call of the unit's constructor; `INTERVAL '2' DAY` and `INTERVAL 2
/// DAY` stay DataFusion's.
pub(crate) fn units_as_calls(statement: &mut DFStatement) {
    struct Units;
    impl VisitorMut for Units {
        type Break = ();
        fn post_visit_expr(&mut self, expr: &mut SqlExpr) -> ControlFlow<()> {
            let SqlExpr::Interval(interval) = expr else {
                return ControlFlow::Continue(());
            };
            if interval.last_field.is_some() {
                return ControlFlow::Continue(());
            }
            let value = match &*interval.value {
                SqlExpr::Nested(value) => (**value).clone(),
                value => value.clone(),
            };
            match interval.leading_field.as_ref() {
                // `INTERVAL 'x' DAY` and `INTERVAL 2 DAY` as `INTERVAL (x)
                // DAY`: DuckDB's `INTERVAL '1.5' DAY` is 1 day, its
                // `INTERVAL '2' QUARTER` 6 months (arrow's text had 1 day
                // 12:00:00 and no quarter).
                Some(field) => {
                    if let Some(unit) = Unit::of_field(field) {
                        *expr = constructor_call(unit, value);
                    }
                }
                // `INTERVAL (x)` is `CAST(x AS INTERVAL)`, and `INTERVAL 2`
                // DuckDB's error of an INTEGER cast to INTERVAL (DataFusion
                // read 2 seconds); `INTERVAL '...'` stays the text pass's.
                None if matches!(&*interval.value, SqlExpr::Nested(_))
                    || matches!(&value, SqlExpr::Value(v) if matches!(v.value, Value::Number(..))) =>
                {
                    *expr = SqlExpr::Cast {
                        kind: CastKind::Cast,
                        expr: Box::new(value),
                        data_type: SqlType::Interval {
                            fields: None,
                            precision: None,
                        },
                        array: false,
                        format: None,
                    };
                }
                None => {}
            }
            ControlFlow::Continue(())
        }
    }
    crate::column_case::visit_sql(statement, &mut Units);
}

/// The plural units DuckDB 1.5.5 takes after `INTERVAL` and sqlparser
/// does not (it read `INTERVAL 2 DECADES` as `INTERVAL 2 AS DECADES`, two
/// seconds), with the singular it does take.
const PLURALS: [(&str, &str); 4] = [
    ("DECADES", "DECADE"),
    ("CENTURIES", "CENTURY"),
    ("MILLENNIA", "MILLENNIUM"),
    ("QUARTERS", "QUARTER"),
];

/// Makes the unit after each `INTERVAL <value>` (a number, a string or a
/// parenthesized expression, signed or not) singular where sqlparser
/// knows only the singular ([`PLURALS`]).
pub(crate) fn singular_units(tokens: &mut [TokenWithSpan]) {
    let next = |tokens: &[TokenWithSpan], mut at: usize| {
        while matches!(tokens.get(at).map(|t| &t.token), Some(Token::Whitespace(_))) {
            at += 1;
        }
        at
    };
    for start in 0..tokens.len() {
        let Token::Word(word) = &tokens[start].token else {
            continue;
        };
        if word.keyword != Keyword::INTERVAL {
            continue;
        }
        let mut at = next(tokens, start + 1);
        if matches!(
            tokens.get(at).map(|t| &t.token),
            Some(Token::Minus | Token::Plus)
        ) {
            at = next(tokens, at + 1);
        }
        match tokens.get(at).map(|t| &t.token) {
            Some(Token::Number(..) | Token::SingleQuotedString(_)) => {}
            Some(Token::LParen) => {
                let mut depth = 0_usize;
                while let Some(token) = tokens.get(at).map(|t| &t.token) {
                    match token {
                        Token::LParen => depth += 1,
                        Token::RParen if depth == 1 => break,
                        Token::RParen => depth -= 1,
                        _ => {}
                    }
                    at += 1;
                }
            }
            _ => continue,
        }
        let unit = next(tokens, at + 1);
        let Some(Token::Word(Word {
            value,
            quote_style: None,
            ..
        })) = tokens.get(unit).map(|t| &t.token)
        else {
            continue;
        };
        if let Some((_, singular)) = PLURALS
            .iter()
            .find(|(plural, _)| value.eq_ignore_ascii_case(plural))
        {
            tokens[unit].token = Token::make_keyword(singular);
        }
    }
}

/// `to_<unit>(CAST(expr AS DOUBLE))` for seconds and milliseconds, else
/// `to_<unit>(CAST(trunc(CAST(expr AS DOUBLE)) AS INTEGER))` (BIGINT for
/// the units DuckDB takes a BIGINT of), as DuckDB's parser writes it.
fn constructor_call(unit: Unit, value: SqlExpr) -> SqlExpr {
    let cast = |expr: SqlExpr, data_type: SqlType| SqlExpr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(expr),
        data_type,
        array: false,
        format: None,
    };
    let double = cast(value, SqlType::Double(ExactNumberInfo::None));
    let argument = match unit.argument() {
        Argument::Double => double,
        Argument::Integer => cast(call("trunc", double), SqlType::Integer(None)),
        Argument::Bigint => cast(call("trunc", double), SqlType::BigInt(None)),
    };
    call(&format!("to_{}", unit.word()), argument)
}

/// `name(argument)`.
fn call(name: &str, argument: SqlExpr) -> SqlExpr {
    SqlExpr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(argument))],
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values and errors of DuckDB 1.5.5 (each checked there).
    #[test]
    fn units_build_intervals_as_duckdb() {
        let hour = 3_600_000_000_000;
        assert_eq!(
            Unit::Hours.of_integer(-2),
            Ok(IntervalMonthDayNano::new(0, 0, -2 * hour))
        );
        assert_eq!(
            Unit::Millennia.of_integer(2),
            Ok(IntervalMonthDayNano::new(24_000, 0, 0))
        );
        assert_eq!(
            Unit::Seconds.of_double(0.0000015),
            Ok(IntervalMonthDayNano::new(0, 0, 2_000))
        );
        assert_eq!(
            Unit::Years.of_integer(300_000_000),
            Err("Out of Range Error: Interval value 300000000 years out of range".to_owned())
        );
        assert_eq!(
            Unit::Seconds.of_double(1e13),
            Err(
                "Out of Range Error: Interval value 10000000000000.000000 seconds out of range"
                    .to_owned()
            )
        );
        let error = Unit::Days.of_integer(3_000_000_000).unwrap_err();
        assert!(
            error.contains("Type INT64 with value 3000000000 can't be cast"),
            "{error}"
        );
    }
}

//! INTERVAL text as DuckDB 1.5.5 reads it: `'1 day 04:05:06'`,
//! `'04:05:06'`, `'-1 day -02:00:00'`, `'1 year 2 months'`, `'1.5 hours'`,
//! `'2 hours ago'`, `'1h 2m'`, a bare number of seconds (`'90'`). Arrow's
//! parser refused the forms with a time and the short unit names, and read
//! a fraction of a month otherwise. [`intervals_as_duckdb`] rewrites each
//! `INTERVAL '...'` and cast of a string literal to INTERVAL in a statement
//! into one text arrow reads the same way (`14 months 1 days 14706000000
//! microseconds`); text DuckDB refuses is refused with its message.

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    DataType as SqlType, Expr as SqlExpr, UnaryOperator, Value, VisitorMut,
};

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// An interval as DuckDB keeps one: months, days and microseconds, each
/// with its own sign.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DuckInterval {
    months: i32,
    days: i32,
    micros: i64,
}

/// Which of an interval's three parts a unit adds to.
#[derive(Clone, Copy)]
enum Part {
    Months,
    Days,
    Micros,
}

impl DuckInterval {
    /// The interval with every part's sign turned, as DuckDB negates one;
    /// `None` when a part is its type's least value.
    fn negated(&self) -> Option<Self> {
        Some(Self {
            months: self.months.checked_neg()?,
            days: self.days.checked_neg()?,
            micros: self.micros.checked_neg()?,
        })
    }

    /// Its months, days and microseconds.
    pub(crate) fn parts(&self) -> (i32, i32, i64) {
        (self.months, self.days, self.micros)
    }

    /// The interval as a text arrow's interval parser reads exactly.
    pub(crate) fn arrow_text(&self) -> String {
        format!(
            "{} months {} days {} microseconds",
            self.months, self.days, self.micros
        )
    }

    /// Adds `number * unit` and `fraction * unit` (rounded, half away from
    /// zero) to `part`, checked as DuckDB checks it.
    fn add(&mut self, part: Part, number: i64, unit: i64, fraction: f64) -> Result<(), String> {
        let whole = number
            .checked_mul(unit)
            .ok_or("interval value is out of range")?;
        let extra = match fraction.abs() > 1e-10 {
            true => (fraction * unit as f64).round() as i64,
            false => 0,
        };
        let out_of_range = || "interval value is out of range".to_string();
        match part {
            Part::Months => {
                for v in [whole, extra] {
                    let v = i32::try_from(v).map_err(|_| out_of_range())?;
                    self.months = self.months.checked_add(v).ok_or_else(out_of_range)?;
                }
            }
            Part::Days => {
                for v in [whole, extra] {
                    let v = i32::try_from(v).map_err(|_| out_of_range())?;
                    self.days = self.days.checked_add(v).ok_or_else(out_of_range)?;
                }
            }
            Part::Micros => {
                for v in [whole, extra] {
                    self.micros = self.micros.checked_add(v).ok_or_else(out_of_range)?;
                }
            }
        }
        Ok(())
    }

    /// `number` (and `fraction`) of the unit named `name`: a year's
    /// fraction in whole months, a month's in days and microseconds (30
    /// days a month), a week's in days and microseconds, as DuckDB splits
    /// them.
    fn add_unit(&mut self, name: &str, number: i64, fraction: f64) -> Result<(), String> {
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "millennium" | "mil" | "millenniums" | "millennia" | "mils" => {
                self.add(Part::Months, number, 12_000, fraction)
            }
            "century" | "cent" | "centuries" | "c" => {
                self.add(Part::Months, number, 1_200, fraction)
            }
            "decade" | "dec" | "decades" | "decs" => self.add(Part::Months, number, 120, fraction),
            "year" | "yr" | "y" | "years" | "yrs" => self.add(Part::Months, number, 12, fraction),
            "quarter" | "quarters" => {
                self.add(Part::Months, number, 3, 0.0)?;
                let months = (fraction * 3.0) as i32;
                self.add(Part::Months, i64::from(months), 1, 0.0)?;
                self.add(Part::Days, 0, 30, fraction * 3.0 - f64::from(months))
            }
            "month" | "mon" | "months" | "mons" => {
                self.add(Part::Months, number, 1, 0.0)?;
                let days = (fraction * 30.0) as i32;
                self.add(Part::Days, i64::from(days), 1, 0.0)?;
                self.add(
                    Part::Micros,
                    0,
                    MICROS_PER_DAY,
                    fraction * 30.0 - f64::from(days),
                )
            }
            "week" | "weeks" | "w" | "weekofyear" => {
                self.add(Part::Days, number, 7, 0.0)?;
                let days = (fraction * 7.0) as i32;
                self.add(Part::Days, i64::from(days), 1, 0.0)?;
                self.add(
                    Part::Micros,
                    0,
                    MICROS_PER_DAY,
                    fraction * 7.0 - f64::from(days),
                )
            }
            "day" | "days" | "d" | "dayofmonth" => {
                self.add(Part::Days, number, 1, 0.0)?;
                self.add(Part::Micros, 0, MICROS_PER_DAY, fraction)
            }
            "hour" | "hr" | "hours" | "hrs" | "h" => {
                self.add(Part::Micros, number, 3_600 * MICROS_PER_SECOND, fraction)
            }
            "minute" | "min" | "minutes" | "mins" | "m" => {
                self.add(Part::Micros, number, 60 * MICROS_PER_SECOND, fraction)
            }
            "second" | "sec" | "seconds" | "secs" | "s" => {
                self.add(Part::Micros, number, MICROS_PER_SECOND, fraction)
            }
            "milliseconds" | "millisecond" | "ms" | "msec" | "msecs" | "msecond" | "mseconds" => {
                self.add(Part::Micros, number, 1_000, fraction)
            }
            "microseconds" | "microsecond" | "us" | "usec" | "usecs" | "usecond" | "useconds" => {
                self.add(Part::Micros, number, 1, 0.0)
            }
            "epoch" | "dow" | "dayofweek" | "weekday" | "isodow" | "doy" | "dayofyear"
            | "yearweek" | "isoyear" | "era" | "timezone" | "timezone_hour" | "timezone_minute"
            | "julian" | "jd" => Err(format!(
                "extract specifier \"{name}\" not supported for interval"
            )),
            _ => Err(format!("extract specifier \"{name}\" not recognized")),
        }
    }
}

/// Reads `text` as DuckDB 1.5.5 casts it to INTERVAL; the error is
/// DuckDB's message.
pub(crate) fn parse(text: &str) -> Result<DuckInterval, String> {
    let refused = || format!("Could not convert string '{text}' to INTERVAL");
    let b = text.as_bytes();
    let mut interval = DuckInterval::default();
    let mut found_any = false;
    let mut pos = usize::from(b.first() == Some(&b'@'));
    if b.is_empty() || matches!(b.first(), Some(b'P' | b'p')) {
        return Err(refused());
    }
    let space = |c: u8| matches!(c, b' ' | b'\t' | b'\n');
    loop {
        while pos < b.len() && space(b[pos]) {
            pos += 1;
        }
        let Some(&c) = b.get(pos) else { break };
        let negative = c == b'-';
        if c == b'a' || c == b'A' {
            // "ago" and only whitespace after it: every part negated.
            let ago = b
                .get(pos..pos + 3)
                .is_some_and(|w| w.eq_ignore_ascii_case(b"ago"));
            if !ago || !b[pos + 3..].iter().all(|c| space(*c)) {
                return Err(refused());
            }
            interval = DuckInterval {
                months: interval.months.checked_neg().ok_or_else(refused)?,
                days: interval.days.checked_neg().ok_or_else(refused)?,
                micros: interval.micros.checked_neg().ok_or_else(refused)?,
            };
            break;
        }
        if !(negative || c.is_ascii_digit()) {
            return Err(refused());
        }
        pos += usize::from(negative);
        let start = pos;
        while pos < b.len() && b[pos].is_ascii_digit() {
            pos += 1;
        }
        if b.get(pos) == Some(&b':') {
            // A time: its microseconds, and the rest of the text unread.
            let micros = time_micros(&text[start..]).ok_or_else(refused)?;
            interval.add(
                Part::Micros,
                if negative { -micros } else { micros },
                1,
                0.0,
            )?;
            found_any = true;
            break;
        }
        if pos == start {
            return Err(refused());
        }
        let mut number: i64 = text[start..pos].parse().map_err(|_| refused())?;
        let mut fraction = 0.0;
        if b.get(pos) == Some(&b'.') {
            let digits = pos;
            pos += 1;
            while pos < b.len() && b[pos].is_ascii_digit() {
                pos += 1;
            }
            if pos > digits + 1 {
                fraction = text[digits..pos].parse().map_err(|_| refused())?;
            }
        }
        if negative {
            number = -number;
            fraction = -fraction;
        }
        while pos < b.len() && space(b[pos]) {
            pos += 1;
        }
        let unit_start = pos;
        while pos < b.len() && b[pos].is_ascii_alphabetic() {
            pos += 1;
        }
        let unit = &text[unit_start..pos];
        if unit.is_empty() && !found_any {
            // A bare number is seconds, and the whole text.
            interval.add(Part::Micros, number, MICROS_PER_SECOND, fraction)?;
            if !b[pos..].iter().all(|c| space(*c)) {
                return Err(refused());
            }
            found_any = true;
            break;
        }
        interval.add_unit(unit, number, fraction)?;
        found_any = true;
    }
    match found_any {
        true => Ok(interval),
        false => Err(refused()),
    }
}

/// `H:MM[:SS[.ffffff]]` at the start of `text` (any hours, minutes and
/// seconds below 60, digits past the sixth of a fraction dropped) in
/// microseconds; what follows it is not read, as DuckDB reads it.
fn time_micros(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let hours_end = digits(0);
    let hours: i64 = text[..hours_end].parse().ok()?;
    let mut pos = hours_end + 1;
    let minutes_len = digits(pos);
    if !(1..=2).contains(&minutes_len) {
        return None;
    }
    let minutes: i64 = text[pos..pos + minutes_len].parse().ok()?;
    pos += minutes_len;
    let mut seconds = 0;
    let mut micros = 0;
    if b.get(pos) == Some(&b':') {
        pos += 1;
        let seconds_len = digits(pos);
        if !(1..=2).contains(&seconds_len) {
            return None;
        }
        seconds = text[pos..pos + seconds_len].parse().ok()?;
        pos += seconds_len;
        if b.get(pos) == Some(&b'.') {
            let fraction = &text[pos + 1..pos + 1 + digits(pos + 1)];
            let kept: String = fraction
                .chars()
                .chain(std::iter::repeat('0'))
                .take(6)
                .collect();
            micros = kept.parse().ok()?;
        }
    }
    if minutes >= 60 || seconds >= 60 {
        return None;
    }
    hours
        .checked_mul(3_600 * MICROS_PER_SECOND)?
        .checked_add((minutes * 60 + seconds) * MICROS_PER_SECOND + micros)
}

/// Rewrites each `INTERVAL '<text>'` (without a unit after it) and each
/// cast of a string literal to INTERVAL in `statement` into arrow's text
/// for the interval DuckDB reads in `<text>`; the first text DuckDB
/// refuses is the error.
pub(crate) fn intervals_as_duckdb(statement: &mut DFStatement) -> Result<(), String> {
    #[derive(Default)]
    struct Intervals {
        error: Option<String>,
    }
    impl Intervals {
        /// `value`'s text as arrow's, negated when `negate`.
        fn rewrite(&mut self, value: &mut SqlExpr, negate: bool) {
            if let SqlExpr::Value(v) = value
                && let Value::SingleQuotedString(text) = &mut v.value
            {
                let read = parse(text).and_then(|interval| match negate {
                    true => interval.negated().ok_or_else(|| {
                        format!("Out of Range Error: Overflow in negation of INTERVAL '{text}'")
                    }),
                    false => Ok(interval),
                });
                match read {
                    Ok(interval) => *text = interval.arrow_text(),
                    Err(e) => {
                        self.error.get_or_insert(e);
                    }
                }
            }
        }
    }
    impl VisitorMut for Intervals {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &mut SqlExpr) -> ControlFlow<()> {
            // `-INTERVAL '1 day 2 hours'`: DataFusion puts a `-` before the
            // text, which arrow reads as the first part's sign alone (it
            // was `1 day`): the text is negated here, whole, and the minus
            // dropped.
            if let SqlExpr::UnaryOp {
                op: UnaryOperator::Minus,
                expr: inner,
            } = expr
                && let SqlExpr::Interval(interval) = inner.as_mut()
                && interval.leading_field.is_none()
                && interval.last_field.is_none()
            {
                self.rewrite(&mut interval.value, true);
                let inner = std::mem::replace(inner.as_mut(), SqlExpr::value(Value::Null));
                *expr = inner;
                return ControlFlow::Continue(());
            }
            match expr {
                SqlExpr::Interval(interval)
                    if interval.leading_field.is_none() && interval.last_field.is_none() =>
                {
                    self.rewrite(&mut interval.value, false);
                }
                SqlExpr::Cast {
                    expr: value,
                    data_type: SqlType::Interval { fields: None, .. },
                    ..
                } => self.rewrite(value, false),
                _ => {}
            }
            ControlFlow::Continue(())
        }
    }
    let mut intervals = Intervals::default();
    crate::column_case::visit_sql(statement, &mut intervals);
    match intervals.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(months: i32, days: i32, micros: i64) -> DuckInterval {
        DuckInterval {
            months,
            days,
            micros,
        }
    }

    /// Texts read as DuckDB 1.5.5 reads them (each checked there).
    #[test]
    fn texts_read_as_duckdb() {
        let hour = 3_600 * MICROS_PER_SECOND;
        for (text, expected) in [
            (
                "1 day 04:05:06",
                interval(0, 1, 4 * hour + 306 * MICROS_PER_SECOND),
            ),
            (
                "04:05:06",
                interval(0, 0, 4 * hour + 306 * MICROS_PER_SECOND),
            ),
            ("-1 day -02:00:00", interval(0, -1, -2 * hour)),
            ("1 year 2 months", interval(14, 0, 0)),
            ("1:2:3", interval(0, 0, hour + 123 * MICROS_PER_SECOND)),
            ("04:05", interval(0, 0, 4 * hour + 300 * MICROS_PER_SECOND)),
            ("00:00:00.1234567", interval(0, 0, 123_456)),
            ("2 hours ago", interval(0, 0, -2 * hour)),
            ("@ 1 day", interval(0, 1, 0)),
            ("1.5 days", interval(0, 1, 12 * hour)),
            ("1.5 months", interval(1, 15, 0)),
            ("1.5 years", interval(18, 0, 0)),
            ("1 week", interval(0, 7, 0)),
            ("3 quarters", interval(9, 0, 0)),
            ("1h 2m", interval(0, 0, hour + 120 * MICROS_PER_SECOND)),
            ("10 milliseconds", interval(0, 0, 10_000)),
            ("1", interval(0, 0, MICROS_PER_SECOND)),
            (
                "1 day 04:05:06 1 hour",
                interval(0, 1, 4 * hour + 306 * MICROS_PER_SECOND),
            ),
            ("  1 day  ", interval(0, 1, 0)),
            ("100:00:00", interval(0, 0, 100 * hour)),
        ] {
            assert_eq!(parse(text), Ok(expected), "{text}");
        }
    }

    /// Texts DuckDB refuses are refused.
    #[test]
    fn texts_duckdb_refuses_are_refused() {
        for text in [
            "",
            "-1 day +02:00:00",
            "+1 day",
            "1 day, 04:05:06",
            "P1D",
            "25:61:61",
            "1 dayz",
            "2147483648 days",
        ] {
            assert!(parse(text).is_err(), "{text}");
        }
    }
}

//! INTERVAL arithmetic and constructors as DuckDB 1.5.5 computes them: an
//! INTERVAL times or divided by a number, `to_days(n)` and its siblings,
//! and `INTERVAL (expr) DAY`, each compared with DuckDB as text; the
//! errors, which DuckDB raises, by their message.

use crate::as_duckdb::unlike_duckdb;
use crate::decimals::statements;
use crate::support::error_of;

fn session() -> s3sql_planner::Session {
    s3sql_planner::Session::with_secrets(s3sql_secrets::SecretManager::new(None))
}

/// Each of `cases`' statements fails with a message containing its text.
async fn refused(cases: &[(&str, &str)]) {
    let session = session();
    for (sql, expected) in cases {
        let error = error_of(&session, sql).await;
        assert!(error.contains(expected), "{sql}: {error}");
    }
}

/// INTERVAL `*` an integer multiplies each part, `*` a DOUBLE or DECIMAL
/// carries fractions down (a month as 30 days, a day as 24 hours), `/`
/// divides as `*` the inverse and by zero is NULL, as DuckDB; literals,
/// columns, negative values and NULLs (all refused: "Cannot get result
/// type for temporal operation Int64 * Interval(MonthDayNano)").
#[tokio::test]
async fn intervals_times_and_divided_by_numbers_as_duckdb() {
    let wrong = unlike_duckdb(&statements(&[
        "SELECT (INTERVAL 1 DAY * 3)::VARCHAR AS a, (3 * INTERVAL 1 DAY)::VARCHAR AS b, (INTERVAL 3 DAY / 2)::VARCHAR AS c, (INTERVAL 1 MONTH * 1.5)::VARCHAR AS d, (INTERVAL 1 MONTH / 3)::VARCHAR AS e, (INTERVAL 1 MONTH / 0)::VARCHAR AS f",
        "SELECT (INTERVAL '1 month 1 day 1 hour' * 2.5)::VARCHAR AS a, (2.5 * INTERVAL '1 month 1 day 1 hour')::VARCHAR AS b, (INTERVAL '-1 month -1 day' * 2.5)::VARCHAR AS c, (INTERVAL '1 month' * -0.5)::VARCHAR AS d, (INTERVAL '1 month 1 day' / -3)::VARCHAR AS e, (INTERVAL '1 month' / 7)::VARCHAR AS f",
        "SELECT (INTERVAL '7 months 5 days 00:00:01' / 2)::VARCHAR AS a, (INTERVAL 1 DAY * 1e-7)::VARCHAR AS b, (INTERVAL '3 microseconds' * 0.5)::VARCHAR AS c, (INTERVAL 1 DAY / 2.5)::VARCHAR AS d, (INTERVAL 1 MONTH / -0.0::DOUBLE)::VARCHAR AS e",
        "SELECT (INTERVAL 1 DAY * NULL)::VARCHAR AS a, (NULL * INTERVAL 1 DAY)::VARCHAR AS b, (INTERVAL 1 DAY / NULL)::VARCHAR AS c, (INTERVAL 1 DAY * 2::TINYINT)::VARCHAR AS d, (INTERVAL 1 DAY * 2::UBIGINT)::VARCHAR AS e, (INTERVAL 1 DAY * 2::FLOAT)::VARCHAR AS f",
        "SELECT i, (i * INTERVAL '1 second')::VARCHAR AS s, (INTERVAL '1 day 02:00:00' * i)::VARCHAR AS d, (INTERVAL '1 month' / i)::VARCHAR AS q, (x * INTERVAL '1 month 1 day')::VARCHAR AS m FROM (VALUES (1, 0.5::DOUBLE), (-3, 2.25), (0, NULL), (NULL, -1.5)) t(i, x) ORDER BY i",
        "SELECT i, (TIMESTAMP '2024-01-31 10:00:00' + i * INTERVAL '1 hour')::VARCHAR AS t, (iv * i)::VARCHAR AS p FROM (VALUES (1, INTERVAL '1 month'), (25, INTERVAL '-2 days'), (-2, NULL)) t(i, iv) ORDER BY i",
        // A timestamp difference (arrow's Duration) is DuckDB's interval of
        // it (review of imath F1: "Cannot coerce ... Duration(ns) / Int64").
        "SELECT ((TIMESTAMP '2024-01-02' - TIMESTAMP '2024-01-01') / 2)::VARCHAR AS a, (2 * (TIMESTAMP '2024-01-02 06:00:00' - TIMESTAMP '2024-01-01'))::VARCHAR AS b, (TIMESTAMP '2024-01-01' + (TIMESTAMP '2024-01-02' - TIMESTAMP '2024-01-01') * 1.5)::VARCHAR AS c, ((TIMESTAMP '2024-01-01' - TIMESTAMP '2024-01-03 01:00:00') * 3)::VARCHAR AS d",
        "SELECT ((b - a) * i)::VARCHAR AS p FROM (VALUES (TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-02 00:00:01', 2), (TIMESTAMP '2024-01-01', NULL, 1)) t(a, b, i) ORDER BY i",
    ]))
    .await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// An INTERVAL product past its parts' types is DuckDB's error (each
/// message as DuckDB 1.5.5 gives it).
#[tokio::test]
async fn interval_products_past_their_parts_fail_as_duckdb() {
    refused(&[
        (
            "SELECT INTERVAL 1 DAY * 3000000000",
            "Type INT64 with value 3000000000 can't be cast because the value is out of range for the destination type INT32",
        ),
        (
            "SELECT INTERVAL 2000000000 DAY * x FROM (VALUES (2)) t(x)",
            "Overflow in multiplication of INT32 (2000000000 * 2)!",
        ),
        (
            "SELECT INTERVAL 1 DAY * x FROM (VALUES (1e30)) t(x)",
            "Overflow in multiplication of INTERVAL.",
        ),
        (
            "SELECT INTERVAL 1 DAY / 1e-300",
            "Overflow in INTERVAL division",
        ),
    ])
    .await;
}

/// `to_years` ... `to_microseconds` build intervals as DuckDB's, of
/// literals and columns, NULL of NULL (all were "Invalid function").
#[tokio::test]
async fn interval_constructors_as_duckdb() {
    let wrong = unlike_duckdb(&statements(&[
        "SELECT to_years(2)::VARCHAR AS y, to_months(-14)::VARCHAR AS mo, to_weeks(3)::VARCHAR AS w, to_days(-2)::VARCHAR AS d, to_hours(30)::VARCHAR AS h, to_minutes(-90)::VARCHAR AS mi, to_seconds(1.5)::VARCHAR AS s",
        "SELECT to_milliseconds(2.5)::VARCHAR AS ms, to_microseconds(1500001)::VARCHAR AS us, to_decades(2)::VARCHAR AS de, to_centuries(-1)::VARCHAR AS c, to_millennia(1)::VARCHAR AS mil, to_quarters(5)::VARCHAR AS q",
        "SELECT n, to_days(n)::VARCHAR AS d, to_hours(n)::VARCHAR AS h, to_seconds(x)::VARCHAR AS s, to_years(n)::VARCHAR AS y, to_milliseconds(x)::VARCHAR AS ms FROM (VALUES (1, 0.0000015::DOUBLE), (-7, 2.5), (NULL, NULL)) t(n, x) ORDER BY n",
        "SELECT to_seconds('2')::VARCHAR AS s, to_hours('3')::VARCHAR AS h, to_days(2::UINTEGER)::VARCHAR AS d, to_days(NULL)::VARCHAR AS n, to_seconds(2)::VARCHAR AS i",
    ]))
    .await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The constructors refuse DuckDB's argument types and values past range
/// with DuckDB's messages.
#[tokio::test]
async fn interval_constructors_refuse_as_duckdb() {
    refused(&[
        (
            "SELECT to_days(2.5)",
            "No function matches the given name and argument types 'to_days(DECIMAL(2,1))'",
        ),
        (
            "SELECT to_hours(2::UBIGINT)",
            "No function matches the given name and argument types 'to_hours(UBIGINT)'",
        ),
        (
            "SELECT to_days(x) FROM (VALUES (3000000000)) t(x)",
            "Type INT64 with value 3000000000 can't be cast because the value is out of range for the destination type INT32",
        ),
        (
            "SELECT to_years(300000000)",
            "Interval value 300000000 years out of range",
        ),
        (
            "SELECT to_weeks(400000000)",
            "Interval value 400000000 weeks out of range",
        ),
        (
            "SELECT to_hours(9223372036854775807)",
            "Interval value 9223372036854775807 hours out of range",
        ),
        (
            "SELECT to_seconds(1e13)",
            "Interval value 10000000000000.000000 seconds out of range",
        ),
        (
            "SELECT to_seconds('nan'::DOUBLE)",
            "Interval value nan seconds out of range",
        ),
    ])
    .await;
}

/// `INTERVAL (expr) DAY` is DuckDB's `to_days(CAST(trunc(CAST(expr AS
/// DOUBLE)) AS INTEGER))` (seconds and milliseconds keep the fraction),
/// of literals and columns (refused: "Unsupported interval argument").
#[tokio::test]
async fn interval_of_an_expression_as_duckdb() {
    let wrong = unlike_duckdb(&statements(&[
        "SELECT (INTERVAL (1+1) DAY)::VARCHAR AS a, (INTERVAL (2.5) DAY)::VARCHAR AS b, (INTERVAL (2.5) HOUR)::VARCHAR AS c, (INTERVAL (2.5) SECOND)::VARCHAR AS d, (INTERVAL (-2.5) DAY)::VARCHAR AS e, (INTERVAL ('2') DAY)::VARCHAR AS f",
        "SELECT x, (INTERVAL (x) DAY)::VARCHAR AS d, (INTERVAL (x) HOUR)::VARCHAR AS h, (INTERVAL (x) MILLISECOND)::VARCHAR AS ms, (INTERVAL (x) QUARTER)::VARCHAR AS q, (INTERVAL (x) YEAR)::VARCHAR AS y, (INTERVAL (x) WEEK)::VARCHAR AS w, (INTERVAL (x) MINUTE)::VARCHAR AS mi, (INTERVAL (x) MICROSECOND)::VARCHAR AS us, (INTERVAL (x) MONTH)::VARCHAR AS mo FROM (VALUES (1), (NULL), (-3)) t(x) ORDER BY x",
        "SELECT (INTERVAL (x) DECADE)::VARCHAR AS de, (INTERVAL (x) CENTURY)::VARCHAR AS c, (INTERVAL (x) MILLENNIUM)::VARCHAR AS m, (INTERVAL (x) DAYS)::VARCHAR AS d, (INTERVAL (x) SECONDS)::VARCHAR AS s FROM (VALUES (2.5::DOUBLE)) t(x)",
        "SELECT i, (TIMESTAMP '2024-01-01' + INTERVAL (i) DAY + INTERVAL (i * 2) HOUR)::VARCHAR AS t FROM (VALUES (0), (1), (2)) t(i) ORDER BY i",
    ]))
    .await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    refused(&[
        (
            "SELECT INTERVAL (x) DAY FROM (VALUES (3000000000)) t(x)",
            "Type DOUBLE with value 3000000000.0 can't be cast because the value is out of range for the destination type INT32",
        ),
        (
            "SELECT INTERVAL (x) HOUR FROM (VALUES (3000000000)) t(x)",
            "Interval value 3000000000 hours out of range",
        ),
    ])
    .await;
}

/// `INTERVAL 'x' DAY` and `INTERVAL 2 DAY` are DuckDB's `INTERVAL (x)
/// DAY`, truncated to whole units as its constructors take them
/// (`INTERVAL '1.5' DAY` was arrow's 1 day 12:00:00; `INTERVAL 3 QUARTER`
/// and `INTERVAL 1 MILLENNIUM` arrow's "Invalid input syntax"); the
/// plurals DuckDB takes and sqlparser does not (`INTERVAL 2 DECADES` read
/// as `INTERVAL 2 AS DECADES`, two seconds); `INTERVAL ('1 day')` a cast
/// ("Unsupported interval argument"); `INTERVAL 2` with no unit DuckDB's
/// error, not two seconds.
#[tokio::test]
async fn interval_units_of_literals_and_plurals_as_duckdb() {
    let wrong = unlike_duckdb(&statements(&[
        "SELECT (INTERVAL '1.5' DAY)::VARCHAR AS a, (INTERVAL '-2.7' DAY)::VARCHAR AS b, (INTERVAL '2.7' MONTH)::VARCHAR AS c, (INTERVAL '1.5' SECOND)::VARCHAR AS d, (INTERVAL 3 QUARTER)::VARCHAR AS e, (INTERVAL 1 MILLENNIUM)::VARCHAR AS f",
        "SELECT (INTERVAL 2 DECADES)::VARCHAR AS a, (INTERVAL (2) CENTURIES)::VARCHAR AS b, (INTERVAL '2' QUARTERS)::VARCHAR AS c, (INTERVAL 1 millennia)::VARCHAR AS d",
        "SELECT (INTERVAL ('1 day'))::VARCHAR AS a, (INTERVAL '2')::VARCHAR AS b, (INTERVAL '1 day')::VARCHAR AS c, (TIMESTAMP '2024-01-01' + INTERVAL '1' DAY)::VARCHAR AS d",
    ]))
    .await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let session = session();
    for sql in ["SELECT INTERVAL 2", "SELECT INTERVAL 2 MILLENNIUMS"] {
        let error = error_of(&session, sql).await;
        assert!(error.contains("Interval"), "{sql}: {error}");
    }
}

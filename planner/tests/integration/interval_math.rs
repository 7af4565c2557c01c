//! INTERVAL arithmetic as DuckDB 1.5.5 computes it: an INTERVAL times or
//! divided by a number, compared with DuckDB as text; the errors, which
//! DuckDB raises, by their message.

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

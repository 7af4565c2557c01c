//! Integers as DuckDB 1.5.5 computes them: `/` of integers is DOUBLE
//! division and `//` integer division, a number cast to an integer is
//! rounded, and an integer result past its type is an overflow error,
//! never a wrapped value; each named as DuckDB names it.

use crate::as_duckdb::unlike_duckdb;
use crate::decimals::statements;

/// `1/2` is 0.5 and `7 // 2` 3, as in DuckDB: `/` of integers divides as
/// DOUBLE, `//` (which failed "Operator DIV is not yet supported")
/// divides integers (other numbers as `/`), and `//` or `%` by zero is
/// NULL (review-s22, older differences: `1/2` was 0).
#[tokio::test]
async fn integer_division_is_duckdbs() {
    let wrong = unlike_duckdb(&statements(&[
        "SELECT 1/2 AS a, 7 // 2 AS b, -7 // 2 AS c, 7.5 // 2 AS d, x / 2 AS e, x // 2 AS f, x % 2 AS g FROM (VALUES (7)) t(x)",
        "SELECT 5 // 0 AS a, 5 % 0 AS b, 5 / 0 AS c, x // 0 AS d, x % 0 AS e, x / 0 AS f FROM (VALUES (5)) t(x)",
        "SELECT x // y AS q, x % y AS r, x / y AS d FROM (VALUES (7, 2), (7, 0), (-9, 4)) t(x, y)",
        "SELECT 7 // 2.0 AS a, 7.0::DOUBLE // 2 AS b, sum(x) / count(*) AS c FROM (VALUES (1), (2)) t(x)",
    ]))
    .await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

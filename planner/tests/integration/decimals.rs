//! Arithmetic on DECIMALs (`0.1` is one) as DuckDB 1.5.5 binds it:
//! `/` is DOUBLE division, a result wider than 38 digits is checked, a
//! DOUBLE meeting a DECIMAL anywhere (set operations, VALUES rows, CASE,
//! ANY) makes both DOUBLE, `^` is power (review-s22 F1-F6, F13, F17).

use crate::as_duckdb::unlike_duckdb;
use crate::support::error_of;

fn statements(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// `/` with a DECIMAL operand divides as DOUBLE and avg of DECIMALs is a
/// DOUBLE, as in DuckDB (review-s22 F2: `1.0/3` was 0.33333, `12345 /
/// 1073741824.0` 0.0000, `1.0 / 0` an error).
#[tokio::test]
async fn division_by_a_decimal_is_double_as_duckdb() {
    let wrong = unlike_duckdb(&statements(&[
        "SELECT 1.0/3 AS a, 100.0/7 AS b, 7/2.0 AS c, 1.0/0 AS d",
        "SELECT price/1.2 AS p FROM (VALUES (100.00)) t(price)",
        "SELECT 10.0 / i AS q FROM range(1, 4) t(i) ORDER BY i",
        "SELECT (12345 / 1073741824.0 = 1.1497177183628082e-05)::INTEGER AS gb",
        "SELECT 1 / 3.0 * 3 AS one, 2.0 / 3.0 * 3.0 AS two, (5 / 7.0 = 5 / 7e0)::INTEGER AS same",
        "SELECT avg(x) AS a FROM (VALUES (1.0), (2.0), (2.0)) t(x)",
        "SELECT avg(x) AS a FROM (VALUES (0.1), (0.2), (0.3)) t(x)",
    ]))
    .await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A sum, difference or product of DECIMALs that needs more than 38
/// digits is an error naming the overflow, as DuckDB's, not a number 10x
/// off; a literal of more than 38 digits is a DOUBLE (review-s22 F17, F6).
#[tokio::test]
async fn long_decimal_arithmetic_overflows_loudly_as_duckdb() {
    let wrong = unlike_duckdb(&statements(&[
        "SELECT 0.99999999999999999999999999999999999999 + 0.5 AS x",
        "SELECT 1.23456789012345678901234567890123456789 * 2 AS x",
        "SELECT 0.1234567890123456789012345678901234567 + 1.5 AS x",
    ]))
    .await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let session = s3sql_planner::Session::with_secrets(s3sql_secrets::SecretManager::new(None));
    for sql in [
        "SELECT x + 3.141592653589793238462643383279 FROM (VALUES (123456789)) t(x)",
        "SELECT 0.1234567890123456789012345678901234567 + 10",
        "SELECT 9999999999999999999999999999999999999.9 + 0.1",
        "SELECT -9999999999999999999999999999999999999.9 - x FROM (VALUES (0.1)) t(x)",
        "SELECT x * 10 FROM (VALUES (9999999999999999999999999999999999999.9)) t(x)",
        "SELECT 99999999999999999999999999999999999999 + 1",
        "SELECT sum(x) FROM (SELECT 99999999999999999999999999999999999999 AS x FROM range(2))",
    ] {
        let error = error_of(&session, sql).await;
        assert!(
            error.contains("Overflow") || error.contains("of precision 38"),
            "{sql}: {error}"
        );
    }
}

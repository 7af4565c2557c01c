//! Arithmetic on DECIMALs (`0.1` is one) as DuckDB 1.5.5 binds it:
//! `/` is DOUBLE division, a result wider than 38 digits is checked, a
//! DOUBLE meeting a DECIMAL anywhere (set operations, VALUES rows, CASE,
//! ANY) makes both DOUBLE, `^` is power (review-s22 F1-F6, F13, F17).

use crate::as_duckdb::unlike_duckdb;
use crate::support::error_of;

/// `list` as owned statements.
pub(crate) fn statements(list: &[&str]) -> Vec<String> {
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
        "SELECT avg(x) OVER () AS a FROM (VALUES (1.0), (2.0), (2.0)) t(x)",
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

/// A column that is DOUBLE in one input of UNION / INTERSECT / EXCEPT or
/// one row of VALUES and DECIMAL in another is DOUBLE, as in DuckDB
/// (review-s22 F1: 1e-20 became 0 and 1e300 an overflow error); DECIMALs
/// alone stay DECIMAL.
#[tokio::test]
async fn set_operations_and_values_mixing_double_and_decimal_are_double_as_duckdb() {
    let wrong = unlike_duckdb(&statements(&[
        "SELECT count(*) AS n FROM (SELECT 1e-20 AS x UNION ALL SELECT 0.5) WHERE x > 0 AND x < 1e-19",
        "SELECT count(*) AS n FROM (SELECT 0.5 AS x UNION ALL SELECT 2.5e16) WHERE x > 1e16",
        "SELECT count(*) AS n FROM (SELECT 1e-20 AS x EXCEPT SELECT 0.0)",
        "SELECT count(*) AS n FROM (SELECT 1e300 AS x INTERSECT SELECT 0.5)",
        "SELECT count(*) AS n FROM (VALUES (0.5), (1e-20)) t(x) WHERE x > 0 AND x < 1e-19",
        "SELECT count(*) AS n FROM (VALUES (0.1), (1e300)) t(x) WHERE x > 1e299",
        "SELECT x FROM (SELECT 0.5 AS x UNION ALL SELECT 12.375) ORDER BY x",
        "SELECT x FROM (VALUES (0.5), (12.375)) t(x) ORDER BY x",
    ]))
    .await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A REAL meeting a DECIMAL compares as REAL; simple CASE, ANY and ALL
/// with a DOUBLE make the DECIMALs DOUBLE; a string function keeps its
/// DECIMAL argument's text; CREATE TABLE AS of `0.5` is DECIMAL(2,1);
/// floor, ceil and trunc of a DECIMAL have scale 0, as in DuckDB
/// (review-s22 F4, F5, F13, F14 addendum, F6).
#[tokio::test]
async fn doubles_meet_decimals_as_duckdb() {
    let reals = "(SELECT (i * 0.1)::FLOAT AS r FROM range(10) t(i))";
    let wrong = unlike_duckdb(&statements(&[
        "SELECT (0.1::FLOAT = 0.1)::INTEGER AS eq",
        &format!("SELECT count(*) AS n FROM {reals} WHERE r = 0.1"),
        &format!("SELECT count(*) AS n FROM {reals} WHERE r IN (0.1, 0.3, 0.7)"),
        &format!("SELECT count(*) AS n FROM {reals} WHERE r <= 0.3"),
        "SELECT CASE 1e300 WHEN 0.5 THEN 'a' ELSE 'b' END AS c",
        "SELECT count(*) AS n FROM range(3) t(i) WHERE i * 1e300 = ANY(SELECT 0.5)",
        "SELECT count(*) AS n FROM range(3) t(i) WHERE i * 1e300 >= ALL(SELECT 0.5)",
        "SELECT concat(1.5::DOUBLE, '/', 0.10) AS c, concat_ws('-', 1e0, 0.10) AS w",
        "CREATE TABLE t AS SELECT 0.5 AS x",
        "INSERT INTO t VALUES (1e0)",
        "SELECT x FROM t ORDER BY x",
        "SELECT floor(-1.5) AS a, ceil(1.2) AS b, trunc(1.99) AS c",
    ]))
    .await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// `^` and `**` are power, binding tighter than `*` and looser than a
/// sign, as in DuckDB (review-s22 F3: `2 ^ 3` was 1, XOR).
#[tokio::test]
async fn caret_is_power_as_duckdb() {
    let wrong = unlike_duckdb(&statements(&[
        "SELECT 2 ^ 3 AS a, 2.0 ^ 3 AS b, 2.5 ^ 2 AS c, 2 ** 3 AS d, -2 ^ 2 AS e, 2 * 3 ^ 2 AS f",
        "SELECT 2 ^ 3 ^ 2 AS a, 4 ^ 0.5 AS b, 1 + 2 ** 2 AS c",
    ]))
    .await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

//! `sum` and `avg` of DECIMALs in every aggregate path (DISTINCT, a
//! window with and without a frame, FILTER, GROUP BY) as DuckDB 1.5.5
//! computes them: a total past 38 digits is an overflow error, never a
//! wrapped-around value, and `avg` rounds its last digit as DuckDB's does.

use crate::as_duckdb::unlike_duckdb;
use crate::decimals::statements;

/// The largest DECIMAL(38, 0).
const NINES: &str = "99999999999999999999999999999999999999";

/// Rows `(i, g, d)` whose `d` total needs 39 digits: 10^38 - 1, 10^38 -
/// 2 (group 1) and 5 (group 2).
fn near_the_top() -> String {
    format!(
        "(VALUES (1, 1, {NINES}::DECIMAL(38,0)), (2, 1, ({NINES} - 1)::DECIMAL(38,0)), \
         (3, 2, 5::DECIMAL(38,0))) t(i, g, d)"
    )
}

/// Every path of `sum` and `avg` over DECIMAL(38) values whose total
/// leaves DuckDB's 128 bits is an error naming the overflow, as DuckDB
/// 1.5.5's "Overflow in HUGEINT addition" (checked there by hand: each
/// statement below errors in DuckDB); `sum(DISTINCT d)` and `sum(d) OVER
/// (...)` gave a wrapped-around negative number
/// (-14028236692093846346337460743176821145) and `avg` a number.
#[tokio::test]
async fn decimal_totals_past_38_digits_are_errors_in_every_path() {
    let rows = near_the_top();
    let tenths = "(VALUES (1, 9999999999999999999999999999.9999999999::DECIMAL(38,10)), \
                  (2, 9999999999999999999999999999.9999999999::DECIMAL(38,10)), \
                  (3, -5::DECIMAL(38,10))) t(i, d)";
    let session = s3sql_planner::Session::with_secrets(s3sql_secrets::SecretManager::new(None));
    let mut wrong = Vec::new();
    for sql in [
        format!("SELECT sum(DISTINCT d) FROM {rows}"),
        format!("SELECT g, sum(d) FROM {rows} GROUP BY g"),
        format!("SELECT g, sum(DISTINCT d) FROM {rows} GROUP BY g"),
        format!("SELECT sum(d) OVER () FROM {rows}"),
        format!("SELECT sum(d) OVER (PARTITION BY g) FROM {rows}"),
        format!("SELECT sum(d) OVER (ORDER BY i) FROM {rows}"),
        format!(
            "SELECT sum(d) OVER (ORDER BY i ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM {rows}"
        ),
        format!("SELECT sum(d) FILTER (WHERE d > 0) FROM {rows}"),
        format!("SELECT sum(d) OVER (ORDER BY i) FROM {tenths}"),
        format!(
            "SELECT sum(d) OVER (ORDER BY i ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM {tenths}"
        ),
        format!("SELECT avg(d) FROM {rows}"),
        format!("SELECT g, avg(d) FROM {rows} GROUP BY g"),
        format!("SELECT avg(DISTINCT d) FROM {rows}"),
        format!("SELECT avg(d) OVER () FROM {rows}"),
        format!(
            "SELECT avg(d) OVER (ORDER BY i ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM {rows}"
        ),
    ] {
        match session.sql(&sql).await {
            Ok(batches) => wrong.push(format!(
                "{sql}\n  gave {:?}",
                crate::support::table(&batches)
            )),
            Err(e) if e.to_string().contains("Overflow") => {}
            Err(e) => wrong.push(format!("{sql}\n  error without \"Overflow\": {e}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The same paths where the total fits give DuckDB's exact answer: a
/// sliding frame whose window sum passes through large values, DISTINCT,
/// FILTER, running sums back down from near the top.
#[tokio::test]
async fn decimal_totals_that_fit_are_exact_in_every_path_as_duckdb() {
    let rows = format!(
        "(VALUES (1, 1, {NINES}::DECIMAL(38,0)), (2, 1, -({NINES} - 1)::DECIMAL(38,0)), \
         (3, 2, 5::DECIMAL(38,0)), (4, 2, 5::DECIMAL(38,0)), (5, 2, NULL)) t(i, g, d)"
    );
    let wrong = unlike_duckdb(&statements(&[
        &format!("SELECT sum(DISTINCT d) AS s FROM {rows}"),
        &format!("SELECT g, sum(DISTINCT d) AS s, sum(d) FILTER (WHERE i > 1) AS f FROM {rows} GROUP BY g ORDER BY g"),
        &format!("SELECT i, sum(d) OVER (ORDER BY i) AS s FROM {rows} ORDER BY i"),
        &format!("SELECT i, sum(d) OVER (ORDER BY i ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS s FROM {rows} ORDER BY i"),
        &format!("SELECT i, sum(d) OVER (PARTITION BY g ORDER BY i DESC) AS s FROM {rows} ORDER BY i"),
        &format!("SELECT i, sum(d) OVER (ORDER BY i ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING) AS s FROM {rows} ORDER BY i"),
        "SELECT sum(DISTINCT d) AS s FROM (VALUES (999999999999999999.99::DECIMAL(20,2)), (999999999999999999.98::DECIMAL(20,2))) t(d)",
    ]))
    .await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// avg of DECIMALs is DuckDB's DOUBLE to the last digit with and
/// without GROUP BY, DISTINCT, in a window and a sliding frame: DuckDB
/// divides the exact total in x87 extended precision (DECIMAL(5) and
/// wider; DOUBLE for DECIMAL(4) and narrower). avg(DISTINCT) of 0.1,
/// 0.2, 0.3 was 0.19999999999999998 and avg(d) OVER () 0.20000000000000004
/// where DuckDB's is 0.2; these groups' averages differed in their last
/// digit (-32120268971951.53 for DuckDB's -32120268971951.527).
#[tokio::test]
async fn decimal_averages_round_as_duckdb() {
    let wide = "(VALUES (1, '500952713571280.655'::DECIMAL(18,3)), (1, '-832973300086308.911'), \
                (1, '235659779599173.669'), (2, '-729995473858774.727'), (2, '-864060365951030.773'), \
                (2, '771424661915858.684'), (3, NULL), (4, '-159206890028019.637'), (4, NULL)) t(g, d)";
    let tiny = "(VALUES (1, '2.4208458646440889027818083674946047914'::DECIMAL(38,37)), \
                (1, '0.9573183045430110754931124758871392093'), \
                (2, '-0.2903236490790368037468142505516303114'), (2, '2.8257176644714187575890482152111479473')) t(g, d)";
    let many = "(SELECT i % 300 AS g, ((i * 7919) % 1000003 - 500000)::DECIMAL(18,0) * 0.001 AS d \
                FROM range(30000) t(i))";
    let wrong = unlike_duckdb(&statements(&[
        "SELECT avg(d) AS a, avg(DISTINCT d) AS b FROM (VALUES (0.1), (0.2), (0.3), (0.3)) t(d)",
        "SELECT avg(d) OVER () AS a FROM (VALUES (0.1), (0.2), (0.3)) t(d)",
        "SELECT i, avg(d) OVER (ORDER BY i ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS a \
         FROM (VALUES (1, 0.1), (2, 0.2), (3, 0.4), (4, NULL), (5, -0.7)) t(i, d) ORDER BY i",
        "SELECT avg(d) AS a FROM (VALUES ('0.01'::DECIMAL(4,2)), ('0.02'), ('0.04')) t(d)",
        &format!("SELECT g, avg(d) AS a FROM {wide} GROUP BY g ORDER BY g"),
        &format!("SELECT avg(d) AS a FROM {wide} WHERE g = 1"),
        &format!("SELECT g, avg(d) AS a, avg(DISTINCT d) AS b FROM {tiny} GROUP BY g ORDER BY g"),
        &format!("SELECT g, avg(d) AS a FROM {many} GROUP BY g ORDER BY g"),
        &format!("SELECT avg(d) AS a, avg(DISTINCT d) AS b FROM {many}"),
    ]))
    .await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

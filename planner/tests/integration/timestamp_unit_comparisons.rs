//! A timestamp column in a coarser unit than the constant it is compared
//! with (a DuckDB-written Parquet TIMESTAMP_MS column and a TIMESTAMP, a
//! TIMESTAMP column and a TIMESTAMP_NS) compares the constant's exact
//! time, as DuckDB 1.5.5 does, and Parquet row groups are still pruned.

use crate::as_duckdb::unlike_duckdb;

/// A constant between two milliseconds (after 1970, before it).
const HALF: &str = "TIMESTAMP '2024-01-01 00:00:00.0005'";
const HALF_BEFORE: &str = "TIMESTAMP '1969-12-31 23:59:59.9985'";
/// A constant on a millisecond.
const EXACT: &str = "TIMESTAMP '2024-01-01 00:00:00.001'";

/// Writes the test's Parquet file with DuckDB: `ms` a TIMESTAMP_MS
/// (`infinity`, `-infinity`, NULL, times either side of 1970), `us` the
/// same as a TIMESTAMP. Returns the directory and the file's path.
fn milliseconds_file() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ms.parquet").display().to_string();
    crate::support::duckdb(
        None,
        &[format!(
            "COPY (SELECT i, CAST(s AS TIMESTAMP_MS) AS ms, CAST(s AS TIMESTAMP) AS us FROM \
             (VALUES (0, '2024-01-01 00:00:00'), (1, '2024-01-01 00:00:00.001'), (2, NULL), \
             (3, 'infinity'), (4, '-infinity'), (5, '1969-12-31 23:59:59.999'), \
             (6, '1970-01-01 00:00:00'), (7, '1969-12-31 23:59:59.998')) v(i, s)) TO '{path}'"
        )],
    );
    (dir, path)
}

/// Every comparison of a TIMESTAMP_MS column with a TIMESTAMP between two
/// of its milliseconds selects DuckDB's rows, and answers NULL for a NULL
/// row (hostile review of fix9b, HIGH 1: the constant was truncated to
/// milliseconds, so `ms = TIMESTAMP '2024-01-01 00:00:00.0005'` matched
/// `2024-01-01 00:00:00`, and `ms < ...` missed it).
#[tokio::test]
async fn a_coarser_column_compares_the_exact_time_as_duckdb() {
    let (_dir, path) = milliseconds_file();
    let mut filters = Vec::new();
    for constant in [HALF, HALF_BEFORE, EXACT] {
        for op in [
            "=",
            "<>",
            "<",
            "<=",
            ">",
            ">=",
            "IS DISTINCT FROM",
            "IS NOT DISTINCT FROM",
        ] {
            filters.push(format!("ms {op} {constant}"));
            filters.push(format!("{constant} {op} ms"));
        }
    }
    filters.extend([
        format!("ms IN ({HALF}, {EXACT})"),
        format!("ms IN ({HALF}, {HALF_BEFORE})"),
        format!("ms NOT IN ({HALF}, {EXACT})"),
        format!("ms NOT IN ({HALF})"),
        format!("ms BETWEEN {HALF_BEFORE} AND {HALF}"),
        format!("ms NOT BETWEEN {HALF_BEFORE} AND {HALF}"),
        format!("ms BETWEEN {HALF} AND {EXACT}"),
        "ms = TIMESTAMP 'infinity'".to_string(),
        "ms < TIMESTAMP 'infinity'".to_string(),
        "us = CAST('2024-01-01 00:00:00.0000005' AS TIMESTAMP_NS)".to_string(),
        "us < CAST('2024-01-01 00:00:00.0000005' AS TIMESTAMP_NS)".to_string(),
        "us >= CAST('2024-01-01 00:00:00.0000005' AS TIMESTAMP_NS)".to_string(),
        "us <= CAST('1969-12-31 23:59:59.9989995' AS TIMESTAMP_NS)".to_string(),
    ]);
    let mut statements: Vec<String> = filters
        .iter()
        .map(|filter| format!("SELECT i FROM '{path}' WHERE {filter} ORDER BY i"))
        .collect();
    // As values: false, true or NULL (NULL for the NULL row), not only
    // which rows a filter keeps.
    statements.push(format!(
        "SELECT i, (ms = {HALF})::INT AS a, (ms <> {HALF})::INT AS b, (ms IN ({HALF}))::INT AS c, \
         (ms NOT IN ({HALF}, {EXACT}))::INT AS d, (ms < {HALF})::INT AS e, \
         (ms IS NOT DISTINCT FROM {HALF})::INT AS f FROM '{path}' ORDER BY i"
    ));
    let wrong = unlike_duckdb(&statements).await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A comparison of a coarser column with a constant, exact in the
/// column's unit or not, is still a pruning predicate on its statistics;
/// an equality with an inexact one reads nothing.
#[tokio::test]
async fn a_coarser_column_still_prunes_row_groups() {
    let (_dir, path) = milliseconds_file();
    let session = s3sql_planner::Session::with_secrets(s3sql_secrets::SecretManager::new(None));
    for filter in [
        format!("ms = {EXACT}"),
        format!("ms < {HALF}"),
        format!("ms >= {HALF}"),
        format!("ms BETWEEN {HALF_BEFORE} AND {HALF}"),
        format!("ms IN ({HALF}, {EXACT})"),
    ] {
        let plan = crate::support::query(
            &session,
            &format!("EXPLAIN SELECT count(*) FROM '{path}' WHERE {filter}"),
        )
        .await
        .join("\n");
        assert!(
            plan.contains("pruning_predicate=")
                && (plan.contains("ms_min@") || plan.contains("ms_max@")),
            "{filter}: {plan}"
        );
    }
    let plan = crate::support::query(
        &session,
        &format!("EXPLAIN SELECT count(*) FROM '{path}' WHERE ms = {HALF}"),
    )
    .await
    .join("\n");
    assert!(plan.contains("EmptyRelation"), "{plan}");
}

/// A prepared statement's parameter compared with a TIMESTAMP_MS column
/// keeps the value's exact time, as DuckDB's does: DataFusion typed `$1`
/// as the column's milliseconds and truncated `.0005` to `.000` (`ms =
/// $1` matched `2024-01-01 00:00:00`; review of fix9b, H3), and `$1`
/// cast to TIMESTAMP failed with "No field named __s3sql_scan_0.ms" (a
/// filter pushed into the scan before EXECUTE analyzed it; MED).
#[tokio::test]
async fn a_prepared_parameter_compares_its_exact_time_as_duckdb() {
    let (_dir, path) = milliseconds_file();
    let mut statements = Vec::new();
    for (name, filter) in [
        ("p_eq", "ms = $1"),
        ("p_ge", "ms >= $1"),
        ("p_lt", "ms < $1"),
        ("p_ne", "$1 <> ms"),
        ("as_timestamp", "ms < $1::TIMESTAMP"),
        ("in_list", "ms IN ($1, '2024-01-01 00:00:00.001')"),
    ] {
        statements.push(format!(
            "PREPARE {name} AS SELECT i FROM '{path}' WHERE {filter} ORDER BY i"
        ));
        for value in [
            "2024-01-01 00:00:00.0005",
            "1969-12-31 23:59:59.9985",
            "2024-01-01 00:00:00.001",
        ] {
            statements.push(format!("EXECUTE {name}('{value}')"));
        }
    }
    let wrong = unlike_duckdb(&statements).await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

//! Parquet INTERVAL columns (FIXED_LEN_BYTE_ARRAY(12) of months, days and
//! milliseconds) read as DuckDB 1.5.5 reads them, months included, from
//! s3sql's COPY and from DuckDB's; compared through COPY to CSV, whose
//! interval text is DuckDB's (`S3SQL_DUCKDB_PYTHON`).

use s3sql_planner::Session;

use crate::support::{Bucket, duckdb, duckdb_rows, query};

/// Intervals of months, days and a time of day, a NULL, and a DURATION
/// (a timestamp difference, written as an INTERVAL).
const VALUES: &str = "SELECT * FROM (VALUES \
    (1, INTERVAL '1 year 2 months 3 days 4 hours 5 minutes 6.789 seconds', INTERVAL '36 hours', \
     CAST(NULL AS INTERVAL)), \
    (2, INTERVAL '5 days', INTERVAL '14 months', INTERVAL '2 years 1 day 0.5 seconds')) t(k, iv, h, n)";

/// `select` run by s3sql, its rows as the lines of a CSV file (DuckDB's
/// interval text, NULL empty).
async fn csv_of(session: &Session, select: &str, out: &std::path::Path) -> Vec<String> {
    query(
        session,
        &format!("COPY ({select}) TO '{}' (HEADER false)", out.display()),
    )
    .await;
    std::fs::read_to_string(out)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// `COPY (SELECT INTERVAL '14 months' ...) TO 'x.parquet'` then
/// `SELECT * FROM 'x.parquet'` answered 0 months (arrow-rs reads Parquet's
/// INTERVAL as days and milliseconds); DuckDB's file too. Now every value
/// is DuckDB's, with a projection and a filter on an interval column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_intervals_are_read_with_their_months_as_duckdb_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let (ours, theirs) = (path("s3sql.parquet"), path("duckdb.parquet"));
    let session = Session::with_secrets(s3sql_secrets::SecretManager::new(None));
    query(&session, &format!("COPY ({VALUES}) TO '{ours}'")).await;
    let selects = |file: &str| {
        [
            format!("SELECT * FROM '{file}' ORDER BY k"),
            format!("SELECT h, k FROM '{file}' WHERE iv > INTERVAL '1 year' ORDER BY k"),
            format!("SELECT n FROM '{file}' WHERE h > INTERVAL '2 days' ORDER BY k"),
        ]
    };
    let mut statements = vec![format!("COPY ({VALUES}) TO '{theirs}'")];
    for file in [&ours, &theirs] {
        for select in selects(file) {
            statements.push(format!("SELECT COLUMNS(*)::VARCHAR FROM ({select})"));
        }
    }
    let read = duckdb(None, &statements);
    assert_eq!(
        read[1][0][1].as_deref(),
        Some("1 year 2 months 3 days 04:05:06.789")
    );
    let mut at = 1;
    for file in [&ours, &theirs] {
        for select in selects(file) {
            let out = dir.path().join(format!("read{at}.csv"));
            let rows = csv_of(&session, &select, &out).await;
            assert_eq!(rows, duckdb_rows(&read[at]), "{select}");
            at += 1;
        }
    }
}

/// Over S3, in a glob of s3sql's file and DuckDB's, with a filter and a
/// projection: the values DuckDB reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_intervals_over_s3_in_a_glob_are_read_as_duckdb_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("s3sql.parquet");
    let theirs = dir.path().join("duckdb.parquet");
    let local = Session::with_secrets(s3sql_secrets::SecretManager::new(None));
    query(&local, &format!("COPY ({VALUES}) TO '{}'", ours.display())).await;
    duckdb(
        None,
        &[format!("COPY ({VALUES}) TO '{}'", theirs.display())],
    );
    let bucket = Bucket::new().await;
    bucket
        .put("iv/a.parquet", std::fs::read(&ours).unwrap())
        .await;
    bucket
        .put("iv/b.parquet", std::fs::read(&theirs).unwrap())
        .await;
    let glob = bucket.url("iv/*.parquet");
    let selects = [
        format!("SELECT k, iv, n FROM '{glob}' ORDER BY k, iv"),
        format!("SELECT iv FROM '{glob}' WHERE h < INTERVAL '2 days' ORDER BY iv"),
        format!("SELECT count(*) FROM '{glob}' WHERE n IS NOT NULL"),
    ];
    let statements: Vec<String> = selects
        .iter()
        .map(|s| format!("SELECT COLUMNS(*)::VARCHAR FROM ({s})"))
        .collect();
    let read = duckdb(Some(&bucket), &statements);
    let session = bucket.session().await;
    for (n, (select, theirs)) in selects.iter().zip(&read).enumerate() {
        let out = dir.path().join(format!("s3_{n}.csv"));
        let rows = csv_of(&session, select, &out).await;
        assert_eq!(rows, duckdb_rows(theirs), "{select}");
    }
}

/// INTERVALs in a list and in a struct of DuckDB's file, read with their
/// months too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_parquet_intervals_are_read_as_duckdb_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nested.parquet").display().to_string();
    let select =
        format!("SELECT k, l[1] AS first, l[3] AS third, s['a'] AS a FROM '{file}' ORDER BY k");
    let read = duckdb(
        None,
        &[
            format!(
                "COPY (SELECT 1 AS k, [INTERVAL '14 months', NULL, INTERVAL '2 days 1 second'] AS l, \
                 {{'a': INTERVAL '3 years 4 days', 'b': 1}} AS s) TO '{file}'"
            ),
            format!("SELECT COLUMNS(*)::VARCHAR FROM ({select})"),
        ],
    );
    let session = Session::with_secrets(s3sql_secrets::SecretManager::new(None));
    let rows = csv_of(&session, &select, &dir.path().join("nested.csv")).await;
    assert_eq!(rows, duckdb_rows(&read[1]), "{select}");
}

//! TIMESTAMP_NS, TIMESTAMP_MS and TIMESTAMP_S casts and INTERVAL text as
//! DuckDB 1.5.5 reads and prints them.

use crate::as_duckdb::unlike_duckdb;
use crate::decimals::statements;

/// `CAST(x AS TIMESTAMP_NS)`, `x::TIMESTAMP_MS` and `x::TIMESTAMP_S` of a
/// string, a TIMESTAMP or a DATE give DuckDB's values and text: the
/// nanoseconds kept, milliseconds and seconds rounded half away from zero
/// (`03:04:05.5` is `03:04:06`, `1969-12-31 23:59:59.5` is `23:59:59`).
/// A CREATE TABLE column may be of those types. Each was refused:
/// "Unsupported SQL type TIMESTAMP_NS".
#[tokio::test]
async fn timestamp_units_cast_as_duckdb() {
    let wrong = unlike_duckdb(&statements(&[
        "SELECT CAST('2024-01-02 03:04:05.123456789' AS TIMESTAMP_NS)::VARCHAR AS a, \
         CAST('2024-01-02 03:04:05.123456789' AS TIMESTAMP_MS)::VARCHAR AS b, \
         CAST('2024-01-02 03:04:05.5' AS TIMESTAMP_S)::VARCHAR AS c, \
         CAST('2024-01-02 03:04:05.4' AS TIMESTAMP_S)::VARCHAR AS d, \
         '2024-01-02 03:04:05.1235'::TIMESTAMP_MS::VARCHAR AS e",
        "SELECT CAST(TIMESTAMP '2024-01-02 03:04:05.999999' AS TIMESTAMP_S)::VARCHAR AS a, \
         CAST(TIMESTAMP '1969-12-31 23:59:59.9995' AS TIMESTAMP_MS)::VARCHAR AS b, \
         '1969-12-31 23:59:59.5'::TIMESTAMP_S::VARCHAR AS c, \
         DATE '2024-01-02'::TIMESTAMP_NS::VARCHAR AS d, DATE '2024-01-02'::timestamp_s::VARCHAR AS e",
        "SELECT s::TIMESTAMP_S::VARCHAR AS a, s::TIMESTAMP_MS::VARCHAR AS b FROM \
         (VALUES ('2024-01-02 03:04:05.5'), ('1969-12-31 23:59:58.5'), (NULL)) t(s) ORDER BY s",
        "SELECT ('2024-01-02 03:04:05.5'::TIMESTAMP_S + INTERVAL 1 SECOND)::VARCHAR AS a",
        "CREATE TABLE stamps (ns TIMESTAMP_NS, s TIMESTAMP_S)",
        "INSERT INTO stamps VALUES ('2024-01-02 03:04:05.123456789', '2024-01-02 03:04:05.5')",
        "SELECT ns::VARCHAR AS ns, s::VARCHAR AS s FROM stamps",
    ]))
    .await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// `INTERVAL '...'` and casts of text to INTERVAL read DuckDB's forms:
/// a time (`'1 day 04:05:06'`, `'04:05:06'`, `'-1 day -02:00:00'`), short
/// units (`'1h 2m'`), fractions (`'1.5 months'` is 1 month 15 days),
/// `ago`, a bare number of seconds; printed as DuckDB prints them; a
/// string column's values too (TRY_CAST: NULL where DuckDB refuses).
/// Arrow's parser refused the times ("Invalid input syntax for type
/// interval").
#[tokio::test]
async fn interval_text_reads_as_duckdb() {
    let wrong = unlike_duckdb(&statements(&[
        "SELECT (INTERVAL '1 day 04:05:06')::VARCHAR AS a, (INTERVAL '04:05:06')::VARCHAR AS b, \
         (INTERVAL '-1 day -02:00:00')::VARCHAR AS c, CAST('1 year 2 months' AS INTERVAL)::VARCHAR AS d, \
         '1.5 months'::INTERVAL::VARCHAR AS e, (INTERVAL '2 hours ago')::VARCHAR AS f",
        "SELECT (INTERVAL '1h 2m')::VARCHAR AS a, (INTERVAL '90')::VARCHAR AS b, \
         (INTERVAL '1 year 2 months 3 days 04:05:06.789')::VARCHAR AS c, (INTERVAL '3 quarters')::VARCHAR AS d, \
         (INTERVAL '-04:05:06')::VARCHAR AS e, (INTERVAL '1.5 days')::VARCHAR AS f, (INTERVAL '@ 2 weeks')::VARCHAR AS g",
        "SELECT (TIMESTAMP '2024-01-02 03:04:05' + INTERVAL '1 day 04:05:06')::VARCHAR AS a, \
         (TIMESTAMP '2024-01-31 00:00:00' + INTERVAL '1 month 12:00')::VARCHAR AS b",
        "SELECT (DATE '2024-01-31' + INTERVAL 1 DAY)::VARCHAR AS a, (DATE '2024-01-31' - INTERVAL '1 month')::VARCHAR AS b, \
         (INTERVAL '12:00' + DATE '2024-01-31')::VARCHAR AS c, (DATE '2024-01-31' + 1)::VARCHAR AS d, \
         (d + INTERVAL '1 day 04:05:06')::VARCHAR AS e FROM (VALUES (DATE '2024-02-28')) t(d)",
        "SELECT CAST(s AS INTERVAL)::VARCHAR AS a, TRY_CAST(s AS INTERVAL)::VARCHAR AS b FROM \
         (VALUES ('1 day 04:05:06'), ('2 hours ago'), (NULL), ('1h 2m'), ('-1 day -02:00:00')) t(s)",
        "SELECT (TRY_CAST(s AS INTERVAL) IS NULL)::INTEGER AS refused FROM (VALUES ('04:05:06'), ('x'), ('+1 day')) t(s)",
        // A negated INTERVAL text negates every part (it was `1 day`).
        "SELECT (-INTERVAL '1 day')::VARCHAR AS a, (-INTERVAL '14 months 1 day 00:00:03')::VARCHAR AS b, \
         (- INTERVAL '-2 hours' * 2)::VARCHAR AS c, (TIMESTAMP '2024-01-02' + -INTERVAL '1 day 1 hour')::VARCHAR AS d, \
         (-INTERVAL 1 DAY)::VARCHAR AS e, (-(INTERVAL '1 day'))::VARCHAR AS f",
    ]))
    .await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let session = s3sql_planner::Session::with_secrets(s3sql_secrets::SecretManager::new(None));
    for (sql, expected) in [
        (
            "SELECT INTERVAL '-1 day +02:00:00'",
            "Could not convert string '-1 day +02:00:00' to INTERVAL",
        ),
        ("SELECT '25:61:61'::INTERVAL", "Could not convert string"),
        (
            "SELECT INTERVAL '1 dayz'",
            "extract specifier \"dayz\" not recognized",
        ),
        (
            "SELECT CAST(s AS INTERVAL) FROM (VALUES ('x')) t(s)",
            "Could not convert string 'x' to INTERVAL",
        ),
    ] {
        let error = crate::support::error_of(&session, sql).await;
        assert!(error.contains(expected), "{sql}: {error}");
    }
}

//! The parts `date_trunc` and `date_part` (`extract`) take by DuckDB
//! 1.5.5's names, as DuckDB answers them.

use crate::as_duckdb::unlike_duckdb;

/// Timestamps at the edges of ISO weeks, years, centuries and millennia,
/// with a fraction, `infinity` and NULL; `s` the text each was cast from.
const TIMES: &str = "(SELECT s, CAST(s AS TIMESTAMP) AS t FROM (VALUES \
                     ('2024-12-30 01:02:03.123456'), ('2001-01-01 00:00:00'), \
                     ('2000-12-31 23:59:59.5'), ('2021-01-02 12:00:00'), ('1999-06-01 00:00:00'), \
                     ('infinity'), ('-infinity'), (NULL)) v(s))";

/// `date_trunc` takes DuckDB's plurals and abbreviations of its units,
/// and `date_part` DuckDB's `decade`, `century`, `millennium`, `era`,
/// `yearweek` and its other names of parts, of a TIMESTAMP and a DATE,
/// NULL for an infinity (hostile review, item 5: "Unsupported date_trunc
/// granularity: 'microseconds'", "Date part 'decade' not supported").
#[tokio::test]
async fn duckdb_names_of_parts_as_duckdb() {
    let truncs = [
        "microseconds",
        "us",
        "milliseconds",
        "msec",
        "seconds",
        "s",
        "mins",
        "m",
        "hours",
        "hr",
        "days",
        "dayofmonth",
        "weeks",
        "weekofyear",
        "months",
        "mon",
        "quarters",
        "years",
        "yrs",
    ];
    let parts = [
        "decade",
        "decades",
        "dec",
        "century",
        "centuries",
        "c",
        "cent",
        "millennium",
        "millennia",
        "mil",
        "millenium",
        "era",
        "yearweek",
        "dayofmonth",
        "weekday",
        "dayofweek",
        "dayofyear",
        "weekofyear",
        "quarters",
    ];
    let trunc_columns: Vec<String> = truncs
        .iter()
        .enumerate()
        .map(|(k, unit)| format!("date_trunc('{unit}', t)::VARCHAR AS t{k}"))
        .collect();
    let part_columns: Vec<String> = parts
        .iter()
        .enumerate()
        .map(|(k, part)| format!("date_part('{part}', t) AS p{k}"))
        .collect();
    let date_columns: Vec<String> = parts
        .iter()
        .enumerate()
        .map(|(k, part)| format!("date_part('{part}', TRY_CAST(t AS DATE)) AS d{k}"))
        .collect();
    let wrong = unlike_duckdb(&[
        format!(
            "SELECT s, {} FROM {TIMES} ORDER BY s",
            trunc_columns.join(", ")
        ),
        format!(
            "SELECT s, {} FROM {TIMES} ORDER BY s",
            part_columns.join(", ")
        ),
        format!(
            "SELECT s, {} FROM {TIMES} ORDER BY s",
            date_columns.join(", ")
        ),
        format!(
            "SELECT s, extract(decade FROM t) AS a, extract(century FROM t) AS b, \
             extract(millennium FROM t) AS c FROM {TIMES} ORDER BY s"
        ),
        "SELECT date_part('yearweek', TIMESTAMP '2024-12-30 00:00:00') AS a, \
         date_trunc('ms', TIMESTAMP '2024-12-30 00:00:00.123456')::VARCHAR AS b"
            .to_string(),
    ])
    .await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

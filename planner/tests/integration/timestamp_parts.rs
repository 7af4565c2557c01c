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

/// `date_trunc` of a timestamp to a decade, century or millennium is the
/// first of January of DuckDB's year for it (the century of 2001 is 2000),
/// a TIMESTAMPTZ's in the session's zone, and an infinity stays infinite
/// (hostile review, item 5: "Unsupported date_trunc granularity:
/// 'decade'"). The millennium of a year before 2000 (1000-01-01) is past
/// the nanoseconds' years here.
#[tokio::test]
async fn date_trunc_to_decades_centuries_and_millennia_as_duckdb() {
    let epoch = |t: &str| format!("CAST(extract(epoch FROM {t}) AS BIGINT)");
    let wrong = unlike_duckdb(&[
        format!(
            "SELECT s, date_trunc('decade', t)::VARCHAR AS a, date_trunc('century', t)::VARCHAR AS b, \
             date_trunc('decs', t::TIMESTAMP_S)::VARCHAR AS c, date_trunc('c', t)::VARCHAR AS d \
             FROM {TIMES} ORDER BY s"
        ),
        format!(
            "SELECT s, date_trunc('millennium', t)::VARCHAR AS a, date_trunc('mil', t)::VARCHAR AS b \
             FROM {TIMES} WHERE s IS DISTINCT FROM '1999-06-01 00:00:00' ORDER BY s"
        ),
        "SET TimeZone = 'America/New_York'".to_string(),
        format!(
            "SELECT s, {} AS a, {} AS b FROM {TIMES} WHERE s NOT LIKE '%infinity' ORDER BY s",
            epoch("date_trunc('decade', t::TIMESTAMPTZ)"),
            epoch("date_trunc('century', t::TIMESTAMPTZ)")
        ),
    ])
    .await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

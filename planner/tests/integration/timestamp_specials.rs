//! DuckDB's special timestamps (`epoch`, `infinity`, `-infinity`) through
//! casts and functions, and the zone names DuckDB's ICU knows beyond
//! chrono-tz's, as DuckDB 1.5.5 gives them.

use crate::as_duckdb::unlike_duckdb;
use crate::decimals::statements;

/// `epoch` is the instant 0, whatever the session's zone: a TIMESTAMPTZ
/// of it is `1969-12-31 19:00:00-05` in New York (0 seconds since the epoch); a TIMESTAMP of it is
/// still `1970-01-01 00:00:00` (review of tstext 3, F1: the TIMESTAMPTZ
/// was local midnight, `1970-01-01 00:00:00-05`).
#[tokio::test]
async fn epoch_is_the_instant_zero_as_duckdb() {
    let wrong = unlike_duckdb(&statements(&[
        "SET TimeZone = 'America/New_York'",
        "SELECT CAST(extract(epoch FROM CAST('epoch' AS TIMESTAMPTZ)) AS BIGINT) AS a, \
         (TIMESTAMPTZ 'epoch' = TIMESTAMPTZ '1970-01-01 00:00:00+00')::INT AS b, \
         (TRY_CAST(' Epoch ' AS TIMESTAMPTZ) = TIMESTAMPTZ '1970-01-01 00:00:00+00')::INT AS c, \
         CAST('epoch' AS TIMESTAMP)::VARCHAR AS d, CAST('epoch' AS DATE)::VARCHAR AS e, \
         CAST('epoch' AS TIMESTAMP_S)::VARCHAR AS f",
        "SELECT s, CAST(extract(epoch FROM CAST(s AS TIMESTAMPTZ)) AS BIGINT) AS a \
         FROM (VALUES ('epoch'), ('2024-01-01')) t(s) ORDER BY s",
    ]))
    .await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

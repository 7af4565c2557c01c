//! Column types and dialects the CSV sniffer decides as DuckDB 1.5.5's
//! does, where a naive one would read no row: a date or timestamp column
//! whose sample holds an impossible value, a `#` comment line before the
//! header.

use crate::csv_lines::compare;
use crate::support::Bucket;

/// An impossible date or time in the sample makes the column VARCHAR, as
/// in DuckDB, and every row reads (review-8e #6: typed DATE or TIMESTAMP,
/// then no row of the file could be read).
#[tokio::test]
async fn an_impossible_date_in_the_sample_keeps_the_column_text_as_duckdb() {
    let bucket = Bucket::new().await;
    bucket
        .put("sn/baddate.csv", "a\n2024-13-01\n2024-01-01\n")
        .await;
    bucket
        .put("sn/bd3.csv", "a,b\n1,2024-02-29\n2,2023-02-29\n")
        .await;
    bucket
        .put(
            "sn/bts.csv",
            "a\n2024-01-01 25:00:00\n2024-01-01 10:00:00\n",
        )
        .await;
    bucket
        .put("sn/good.csv", "a,b\n1,2024-02-29\n2,2024-01-01\n")
        .await;
    let mut sqls = Vec::new();
    for name in ["baddate", "bd3", "bts", "good"] {
        let url = bucket.url(&format!("sn/{name}.csv"));
        sqls.push(format!("DESCRIBE SELECT * FROM '{url}'"));
        sqls.push(format!("SELECT * FROM '{url}' ORDER BY 1"));
    }
    compare(&bucket, &sqls).await;
}

/// A `#` comment line before the header is sniffed, as DuckDB sniffs it
/// (review-8e #28: "Expected 1 records, found 2 records at line 2"); a
/// value starting with `#` in a data row stays a value.
#[tokio::test]
async fn a_comment_line_before_the_header_is_sniffed_as_duckdb() {
    let bucket = Bucket::new().await;
    bucket
        .put("cm/c1.csv", "# exported 2024\na,b\n1,2\n3,4\n")
        .await;
    bucket.put("cm/tag.csv", "a,b\nx,1\n#y,2\nz,3\n").await;
    let mut sqls = Vec::new();
    for name in ["c1", "tag"] {
        let url = bucket.url(&format!("cm/{name}.csv"));
        sqls.push(format!("DESCRIBE SELECT * FROM '{url}'"));
        sqls.push(format!("SELECT * FROM '{url}' ORDER BY 1"));
    }
    compare(&bucket, &sqls).await;
}

//! Keys S3 allows that object_store's `Path` cannot hold as they are
//! (`a//b`, `.` and `..` segments, control characters, `%%`): globbed and
//! read by SQL exactly, each file named by its own key (review-11b #4).

use datafusion::arrow::array::{Array, Int64Array, StringArray};

use crate::support::Bucket;

/// The (v, filename) rows of `sql`, sorted by v.
async fn rows(session: &s3sql_planner::Session, sql: &str) -> Vec<(i64, String)> {
    let batches = session
        .sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}\n  failed: {e}"));
    let mut rows = Vec::new();
    for batch in batches {
        let v = batch
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        let names = batch
            .column(1)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        for i in 0..batch.num_rows() {
            rows.push((v.value(i), names.value(i).to_owned()));
        }
    }
    rows.sort();
    rows
}

#[tokio::test]
async fn keys_object_paths_cannot_hold_are_globbed_and_read_as_they_are() {
    let bucket = Bucket::new().await;
    // s3s-fs keeps keys as file paths: it cannot hold empty, `.` or `..`
    // segments (moto and S3 can).
    let file_backed = std::env::var_os("S3SQL_TEST_ENDPOINT").is_none();
    let mut names = vec!["u/tab\tx.csv", "u/%%q.csv", "u/pct%2Fx.csv", "u/plain.csv"];
    if !file_backed {
        names.extend([
            "u//dbl.csv",
            "u/./dot.csv",
            "u/../up.csv",
            "u/dir//deep.csv",
        ]);
    }
    for (i, name) in names.iter().enumerate() {
        bucket.put(name, format!("v\n{i}\n")).await;
    }
    let session = bucket.session().await;
    let expected: Vec<(i64, String)> = names
        .iter()
        .enumerate()
        .map(|(i, name)| (i as i64, bucket.url(name)))
        .collect();

    let sql = format!(
        "SELECT v, filename FROM read_csv('{}', filename = true)",
        bucket.url("u/**")
    );
    assert_eq!(rows(&session, &sql).await, expected, "{sql}");

    // Each one named alone, as DuckDB reads `s3://b/u//dbl.csv`.
    for (i, name) in names.iter().enumerate() {
        let sql = format!(
            "SELECT v, filename FROM read_csv('{}', filename = true)",
            bucket.url(name)
        );
        assert_eq!(
            rows(&session, &sql).await,
            vec![(i as i64, bucket.url(name))],
            "{sql}"
        );
    }
}

/// A file replaced after it was listed is named by its key in the error,
/// not by its escaped object path (`u/%%tab%09x.csv`).
#[tokio::test]
async fn a_replaced_file_is_named_by_its_key() {
    use futures::TryStreamExt;
    let bucket = Bucket::new().await;
    let name = "u/tab\tx.csv";
    // Over 1 MiB, so read by ranges (a small file is read whole while the
    // statement is planned, and gives the listed version).
    let rows = |n: usize| format!("v\n{}", "1\n".repeat(n));
    bucket.put(name, rows(600_000)).await;
    let session = bucket.session().await;
    let sql = format!("SELECT v FROM '{}'", bucket.url(name));
    let stream = session.sql_stream(&sql).await.unwrap();
    bucket.put(name, rows(700_000)).await;
    let err = match stream.try_collect::<Vec<_>>().await {
        Ok(_) => panic!("{sql}: read a replaced file"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("changed while it was being read") && err.contains(&bucket.url(name)),
        "{err}"
    );
}

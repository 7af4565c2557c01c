//! Repeated output names, as DuckDB 1.5.5 treats them: a SELECT shows
//! them as written; a table, a subquery and COPY's file get `a`, `a_1`.

use crate::support::{Bucket, query};

/// DuckDB's answers (run by hand with DuckDB 1.5.5) for the same SQL.
#[tokio::test]
async fn repeated_output_names_are_shown_or_told_apart_as_duckdb_does() {
    let bucket = Bucket::new().await;
    let session = bucket.session().await;
    session
        .sql("CREATE TABLE t1 AS SELECT 1 AS x, 'a' AS y; CREATE TABLE t2 AS SELECT 1 AS x, 'b' AS z")
        .await
        .unwrap();
    let header = |sql: &str| {
        let session = &session;
        let sql = sql.to_owned();
        async move { query(session, &sql).await[1].clone() }
    };
    assert_eq!(header("SELECT 1 AS a, 2 AS a").await, "| a | a |");
    assert_eq!(header("SELECT x, x FROM t1").await, "| x | x |");
    assert_eq!(
        header("SELECT t1.x, t2.x FROM t1 JOIN t2 ON t1.x = t2.x").await,
        "| x | x |"
    );
    assert_eq!(
        header("SELECT * FROM (SELECT 1 AS a, 2 AS a)").await,
        "| a | a_1 |"
    );
    assert_eq!(
        query(&session, "SELECT a_1, a FROM (SELECT 1 AS a, 2 AS a)").await[3],
        "| 2   | 1 |"
    );
    assert_eq!(
        header("WITH q AS (SELECT 1 AS a, 2 AS a, 3 AS a_1) SELECT * FROM q").await,
        "| a | a_1 | a_1_1 |"
    );
    session
        .sql(
            "CREATE TABLE joined AS SELECT * FROM t1 JOIN t2 ON t1.x = t2.x; \
             CREATE TABLE three AS SELECT 1 AS a, 2 AS a, 3 AS a",
        )
        .await
        .unwrap();
    assert_eq!(header("SELECT * FROM joined").await, "| x | y | x_1 | z |");
    assert_eq!(header("SELECT * FROM three").await, "| a | a_1 | a_2 |");
    let url = bucket.url("names/pair.csv");
    session
        .sql(&format!(
            "COPY (SELECT t1.x, t2.x FROM t1 JOIN t2 ON t1.x = t2.x) TO '{url}'"
        ))
        .await
        .unwrap();
    assert_eq!(
        query(&session, &format!("SELECT * FROM '{url}'")).await,
        [
            "+---+-----+",
            "| x | x_1 |",
            "+---+-----+",
            "| 1 | 1   |",
            "+---+-----+"
        ]
    );
}

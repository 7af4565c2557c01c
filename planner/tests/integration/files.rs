//! Globs, lists and reader options: hive partitions (typed, pruned before
//! reading), `filename`, `union_by_name`, `glob()`, and local paths
//! (relative, absolute, `file://`) beside S3 ones.

use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};

use crate::support::{Bucket, error_of, parquet, query, table_rows};

fn ids(values: &[i64]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
    RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(values.to_vec()))]).unwrap()
}

fn named(column: &str, values: &[&str]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new(column, DataType::Utf8, false)]));
    RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(values.to_vec()))]).unwrap()
}

/// Three hive partitions and, in a fourth, a file that is not Parquet at
/// all: a query can only succeed if that file is pruned before reading.
async fn hive_bucket() -> Bucket {
    let bucket = Bucket::new().await;
    bucket
        .put("h/year=2023/month=1/a.parquet", parquet(&ids(&[1, 2])))
        .await;
    bucket
        .put("h/year=2024/month=1/b.parquet", parquet(&ids(&[3])))
        .await;
    bucket
        .put("h/year=2024/month=2/c.parquet", parquet(&ids(&[4, 5])))
        .await;
    bucket
        .put("h/year=2025/month=1/broken.parquet", "not parquet at all")
        .await;
    bucket
}

#[tokio::test]
async fn hive_columns_are_typed_and_their_filters_prune_files() {
    let bucket = hive_bucket().await;
    let session = bucket.session().await;
    let pattern = bucket.url("h/*/*/*.parquet");
    let sql = format!(
        "SELECT year, month, sum(id) AS s, arrow_typeof(year) AS t FROM read_parquet('{pattern}', hive_partitioning = true) WHERE year <= 2024 GROUP BY year, month ORDER BY year, month"
    );
    assert_eq!(
        query(&session, &sql).await,
        [
            "+------+-------+---+-------+",
            "| year | month | s | t     |",
            "+------+-------+---+-------+",
            "| 2023 | 1     | 3 | Int64 |",
            "| 2024 | 1     | 3 | Int64 |",
            "| 2024 | 2     | 9 | Int64 |",
            "+------+-------+---+-------+",
        ]
    );
    let in_list =
        format!("SELECT count(*) AS n FROM '{pattern}' WHERE year IN (2024) AND month = 2");
    assert_eq!(
        query(&session, &in_list).await,
        ["+---+", "| n |", "+---+", "| 2 |", "+---+"]
    );
    // Without a filter the broken file is read, and says so.
    let all = error_of(&session, &format!("SELECT count(*) FROM '{pattern}'")).await;
    assert!(all.to_lowercase().contains("parquet"), "{all}");
}

#[tokio::test]
async fn hive_types_and_turning_hive_partitioning_off() {
    let bucket = hive_bucket().await;
    let session = bucket.session().await;
    let pattern = bucket.url("h/year=2024/*/*.parquet");
    let typed = format!(
        "SELECT DISTINCT arrow_typeof(month) AS t FROM read_parquet('{pattern}', hive_types = {{'month': 'VARCHAR'}})"
    );
    assert_eq!(
        query(&session, &typed).await,
        ["+------+", "| t    |", "+------+", "| Utf8 |", "+------+"]
    );
    let off =
        format!("SELECT * FROM read_parquet('{pattern}', hive_partitioning = false) ORDER BY id");
    assert_eq!(
        query(&session, &off).await,
        [
            "+----+", "| id |", "+----+", "| 3  |", "| 4  |", "| 5  |", "+----+"
        ]
    );
}

/// `filename` naming a column the files hold, or a hive column, is
/// refused at planning with DuckDB 1.5.5's message and its way out
/// (review-8e #24: "Ambiguous reference to table __s3sql_scan_0").
#[tokio::test]
async fn a_filename_column_clashing_with_a_column_is_refused_as_duckdb() {
    let bucket = Bucket::new().await;
    bucket.put("fn/year=2024/fn.csv", "filename,x\nf,1\n").await;
    let session = bucket.session().await;
    let glob = bucket.url("fn/*/fn.csv");
    for (option, column) in [
        ("filename = true", "filename"),
        ("filename = 'x'", "x"),
        ("filename = 'year'", "year"),
    ] {
        let sql = format!("SELECT * FROM read_csv('{glob}', {option})");
        let error = crate::support::error_of(&session, &sql).await;
        assert!(
            error.contains(&format!("Option filename adds column \"{column}\", but a column with this name is also in the"))
                && error.contains("Try setting a different name: filename='<filename column name>'")
                && !error.contains("__s3sql_scan"),
            "{sql}: {error}"
        );
    }
    let renamed =
        format!("SELECT filename, x, src <> '' AS named FROM read_csv('{glob}', filename = 'src')");
    assert_eq!(table_rows(&query(&session, &renamed).await), ["f,1,true"]);
}

#[tokio::test]
async fn filename_column_and_union_by_name() {
    let bucket = Bucket::new().await;
    bucket.put("u/a.parquet", parquet(&ids(&[1]))).await;
    bucket
        .put("u/b.parquet", parquet(&named("word", &["two"])))
        .await;
    let session = bucket.session().await;
    let a = bucket.url("u/a.parquet");
    let b = bucket.url("u/b.parquet");
    let sql = format!(
        "SELECT id, word, src = '{a}' AS from_a FROM read_parquet('{}', union_by_name = true, filename = 'src') ORDER BY src",
        bucket.url("u/*.parquet")
    );
    assert_eq!(
        query(&session, &sql).await,
        [
            "+----+------+--------+",
            "| id | word | from_a |",
            "+----+------+--------+",
            "| 1  |      | true   |",
            "|    | two  | false  |",
            "+----+------+--------+",
        ]
    );
    let plain =
        format!("SELECT filename = '{b}' AS is_b FROM read_parquet('{b}', filename = true)");
    assert_eq!(
        query(&session, &plain).await,
        ["+------+", "| is_b |", "+------+", "| true |", "+------+"]
    );
}

#[tokio::test]
async fn glob_lists_matching_files() {
    let bucket = hive_bucket().await;
    let session = bucket.session().await;
    let sql = format!(
        "SELECT file FROM glob('{}') ORDER BY file",
        bucket.url("h/year=2024/*/*.parquet")
    );
    let rows = query(&session, &sql).await;
    assert_eq!(rows.len(), 6, "{rows:?}");
    assert!(
        rows[3].contains(&bucket.url("h/year=2024/month=1/b.parquet")),
        "{rows:?}"
    );
    assert!(
        rows[4].contains(&bucket.url("h/year=2024/month=2/c.parquet")),
        "{rows:?}"
    );
    let none = format!(
        "SELECT count(*) AS n FROM glob('{}')",
        bucket.url("nothing-*")
    );
    assert_eq!(
        query(&session, &none).await,
        ["+---+", "| n |", "+---+", "| 0 |", "+---+"]
    );
}

#[tokio::test]
async fn local_paths_join_s3_files() {
    let bucket = Bucket::new().await;
    bucket.put("l/names.csv", "id,name\n1,ann\n2,bo\n").await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/scores.csv"), "id,score\n1,10\n2,20\n").unwrap();
    let absolute = dir.path().join("sub/scores.csv").display().to_string();
    let depth = std::env::current_dir().unwrap().components().count() - 1;
    let relative = format!(
        "{}{}",
        "../".repeat(depth),
        absolute.trim_start_matches('/')
    );
    let session = bucket.session().await;
    for local in [
        absolute.clone(),
        format!("file://{absolute}"),
        relative,
        format!("{}/*/*.csv", dir.path().display()),
    ] {
        let sql = format!(
            "SELECT n.name, s.score FROM '{}' n JOIN read_csv('{local}') s ON n.id = s.id ORDER BY n.name",
            bucket.url("l/names.csv")
        );
        assert_eq!(
            query(&session, &sql).await,
            [
                "+------+-------+",
                "| name | score |",
                "+------+-------+",
                "| ann  | 10    |",
                "| bo   | 20    |",
                "+------+-------+",
            ],
            "{local}"
        );
    }
    let missing = error_of(
        &session,
        &format!("SELECT * FROM '{}/none-*.csv'", dir.path().display()),
    )
    .await;
    assert!(
        missing.contains("No files found that match the pattern") && missing.contains("none-*.csv"),
        "{missing}"
    );
}

/// Each file is decompressed by its own name, as DuckDB 1.5.5 reads them:
/// a list or a glob mixing `.csv` and `.csv.gz` (either first), JSON alike.
/// An empty first file does not decide the schema (DuckDB's JSON reader
/// agrees; its CSV reader fails such a list converting the header).
#[tokio::test]
async fn compression_is_decided_per_file_and_an_empty_file_sets_no_schema() {
    let bucket = Bucket::new().await;
    bucket.put("c/a.csv", "a,b\n1,x\n").await;
    bucket.put("c/0.csv", "").await;
    bucket.put("j/a.json", "{\"a\":1}\n").await;
    bucket.put("j/0.json", "").await;
    let session = bucket.session().await;
    let url = |key: &str| bucket.url(key);
    for (key, sql) in [
        ("c/b.csv.gz", "SELECT 2 AS a, 'y' AS b"),
        ("j/b.json.gz", "SELECT 2 AS a"),
    ] {
        query(&session, &format!("COPY ({sql}) TO '{}'", url(key))).await;
    }
    let rows = [
        "+---+---+",
        "| a | b |",
        "+---+---+",
        "| 1 | x |",
        "| 2 | y |",
        "+---+---+",
    ];
    let (a, gz, empty) = (url("c/a.csv"), url("c/b.csv.gz"), url("c/0.csv"));
    for from in [
        format!("read_csv(['{a}', '{gz}'])"),
        format!("read_csv(['{gz}', '{a}'])"),
        format!("read_csv(['{empty}', '{a}', '{gz}'])"),
        format!("read_csv('{}')", url("c/*.csv*")),
        format!("read_csv('{}', union_by_name = true)", url("c/*.csv*")),
    ] {
        let sql = format!("SELECT a, b FROM {from} ORDER BY a");
        assert_eq!(query(&session, &sql).await, rows, "{sql}");
    }
    let (a, gz, empty) = (url("j/a.json"), url("j/b.json.gz"), url("j/0.json"));
    for from in [
        format!("read_json(['{gz}', '{a}'])"),
        format!("read_json(['{empty}', '{a}', '{gz}'])"),
        format!("read_json('{}')", url("j/*.json*")),
    ] {
        let sql = format!("SELECT a FROM {from} ORDER BY a");
        assert_eq!(
            query(&session, &sql).await,
            ["+---+", "| a |", "+---+", "| 1 |", "| 2 |", "+---+"],
            "{sql}"
        );
    }
}

/// Files of one scan mixing `.csv` and `.csv.gz` are read in listing
/// order, one file after another, as DuckDB 1.5.5 reads them: without
/// ORDER BY the rows come in DuckDB's order, and `LIMIT 2` returns its
/// first two rows (one scan per compression, unioned, mixed them).
#[tokio::test]
async fn mixed_compression_keeps_file_order_as_duckdb() {
    let bucket = Bucket::new().await;
    let session = bucket.session().await;
    let url = |key: &str| bucket.url(key);
    for (key, sql) in [
        ("o/1.csv.gz", "SELECT 2 AS a, 'y' AS b"),
        (
            "o/3.csv.gz",
            "SELECT * FROM (VALUES (3, 'z'), (4, 'w')) t(a, b)",
        ),
    ] {
        query(&session, &format!("COPY ({sql}) TO '{}'", url(key))).await;
    }
    bucket.put("o/2.csv", "a,b\n1,x\n").await;
    bucket.put("o/4.csv", "a,b\n5,v\n").await;
    let list = format!(
        "read_csv(['{}', '{}', '{}', '{}'])",
        url("o/1.csv.gz"),
        url("o/2.csv"),
        url("o/3.csv.gz"),
        url("o/4.csv")
    );
    let glob = format!("read_csv('{}')", url("o/*.csv*"));
    let all = ["2,y", "1,x", "3,z", "4,w", "5,v"];
    for from in [list, glob] {
        for (limit, rows) in [("", &all[..]), (" LIMIT 2", &all[..2])] {
            let sql = format!("SELECT a, b FROM {from}{limit}");
            assert_in_order(&bucket, &session, &sql, rows, 5).await;
        }
    }
}

/// DuckDB gives `rows` (cells joined by commas) for `sql`, and so does
/// `session`, in that order, `runs` times (a union's order changes from
/// run to run).
async fn assert_in_order(
    bucket: &Bucket,
    session: &s3sql_planner::Session,
    sql: &str,
    rows: &[&str],
    runs: usize,
) {
    let theirs =
        crate::support::duckdb_rows(&crate::support::duckdb(Some(bucket), &[sql.to_owned()])[0]);
    assert_eq!(theirs, rows, "DuckDB: {sql}");
    for _ in 0..runs {
        let ours = crate::support::table_rows(&query(session, sql).await);
        assert_eq!(ours, rows, "{sql}");
    }
}

/// A list mixing stores (an S3 file, a local file, an S3 file) is read in
/// the list's order, as DuckDB 1.5.5 reads it: one scan per store,
/// unioned, gave the rows of whichever store answered first.
#[tokio::test]
async fn a_list_mixing_stores_keeps_file_order_as_duckdb() {
    let bucket = Bucket::new().await;
    let session = bucket.session().await;
    bucket.put("m/a.csv", "a,b\n1,x\n").await;
    bucket.put("m/c.csv", "a,b\n3,z\n4,w\n").await;
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("b.csv");
    std::fs::write(&local, "a,b\n2,y\n").unwrap();
    let from = format!(
        "read_csv(['{}', '{}', '{}'])",
        bucket.url("m/a.csv"),
        local.display(),
        bucket.url("m/c.csv")
    );
    let all = ["1,x", "2,y", "3,z", "4,w"];
    for (limit, rows) in [("", &all[..]), (" LIMIT 2", &all[..2])] {
        let sql = format!("SELECT a, b FROM {from}{limit}");
        assert_in_order(&bucket, &session, &sql, rows, 8).await;
    }
}

/// Two globs in one query are two tables: DuckDB names a glob's scan by
/// the pattern as written (a file's by its stem), so they do not collide.
#[tokio::test]
async fn two_globs_join_under_their_own_names() {
    let bucket = Bucket::new().await;
    bucket.put("g1/a.parquet", parquet(&ids(&[1, 2]))).await;
    bucket.put("g2/b.parquet", parquet(&ids(&[2, 3]))).await;
    let session = bucket.session().await;
    let (one, two) = (bucket.url("g1/*.parquet"), bucket.url("g2/*.parquet"));
    let sql =
        format!("SELECT \"{one}\".id FROM '{one}' JOIN '{two}' ON \"{one}\".id = \"{two}\".id");
    assert_eq!(
        query(&session, &sql).await,
        ["+----+", "| id |", "+----+", "| 2  |", "+----+"]
    );
}

/// With union_by_name every CSV file's columns are typed from DuckDB's
/// 20,480-row sample, as a single file's are: '1.5' at row 2,500 of
/// integers makes a DOUBLE column (DataFusion's 1,000 rows said BIGINT,
/// and reading then failed).
#[tokio::test]
async fn union_by_name_types_csv_columns_from_the_whole_sample() {
    let bucket = Bucket::new().await;
    let mut late = String::from("x\n");
    for i in 0..2_500 {
        late.push_str(&format!("{i}\n"));
    }
    late.push_str("1.5\n");
    bucket.put("n/a.csv", "y,x\n1,2\n").await;
    bucket.put("n/b.csv", late).await;
    let session = bucket.session().await;
    let sql = format!(
        "SELECT arrow_typeof(x) AS t, sum(x) AS s FROM read_csv('{}', union_by_name = true) GROUP BY t",
        bucket.url("n/*.csv")
    );
    assert_eq!(
        query(&session, &sql).await,
        [
            "+---------+-----------+",
            "| t       | s         |",
            "+---------+-----------+",
            "| Float64 | 3123753.5 |",
            "+---------+-----------+",
        ]
    );
}

//! Replacement scans and the read functions, reading Parquet, CSV and JSON
//! files from the test bucket and checking exact rows.

use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};

use futures::TryStreamExt;

use crate::support::{Bucket, parquet, query};

fn people(ids: &[i64], names: &[&str]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(ids.to_vec())),
            Arc::new(StringArray::from(names.to_vec())),
        ],
    )
    .unwrap()
}

#[tokio::test]
async fn replacement_scan_reads_a_parquet_file() {
    let bucket = Bucket::new().await;
    bucket
        .put(
            "people.parquet",
            parquet(&people(&[2, 1, 3], &["bo", "ann", "cy"])),
        )
        .await;
    let session = bucket.session().await;
    let sql = format!(
        "SELECT id, name FROM '{}' ORDER BY id",
        bucket.url("people.parquet")
    );
    assert_eq!(
        query(&session, &sql).await,
        [
            "+----+------+",
            "| id | name |",
            "+----+------+",
            "| 1  | ann  |",
            "| 2  | bo   |",
            "| 3  | cy   |",
            "+----+------+",
        ]
    );
}

#[tokio::test]
async fn read_parquet_with_alias_filter_and_aggregate() {
    let bucket = Bucket::new().await;
    bucket
        .put(
            "t/people.parquet",
            parquet(&people(&[1, 2, 3, 4], &["a", "b", "c", "d"])),
        )
        .await;
    let session = bucket.session().await;
    let sql = format!(
        "SELECT count(*) AS n, sum(p.id) AS total FROM read_parquet('{}') p WHERE p.id > 1",
        bucket.url("t/people.parquet")
    );
    assert_eq!(
        query(&session, &sql).await,
        [
            "+---+-------+",
            "| n | total |",
            "+---+-------+",
            "| 3 | 9     |",
            "+---+-------+",
        ]
    );
}

#[tokio::test]
async fn csv_and_json_files_by_extension() {
    let bucket = Bucket::new().await;
    bucket.put("d/nums.csv", "a,b\n1,x\n2,y\n3,z\n").await;
    bucket
        .put(
            "d/events.json",
            "{\"k\":\"x\",\"v\":10}\n{\"k\":\"y\",\"v\":32}\n",
        )
        .await;
    let session = bucket.session().await;
    let sql = format!(
        "SELECT c.b, e.v FROM '{}' c JOIN '{}' e ON c.b = e.k ORDER BY c.b",
        bucket.url("d/nums.csv"),
        bucket.url("d/events.json")
    );
    assert_eq!(
        query(&session, &sql).await,
        [
            "+---+----+",
            "| b | v  |",
            "+---+----+",
            "| x | 10 |",
            "| y | 32 |",
            "+---+----+",
        ]
    );
    let sum = format!(
        "SELECT sum(a) AS s FROM read_csv('{}')",
        bucket.url("d/nums.csv")
    );
    assert_eq!(
        query(&session, &sum).await,
        ["+---+", "| s |", "+---+", "| 6 |", "+---+"]
    );
}

#[tokio::test]
async fn glob_over_several_parquet_files_and_a_list() {
    let bucket = Bucket::new().await;
    bucket
        .put("g/a.parquet", parquet(&people(&[1, 2], &["a", "b"])))
        .await;
    bucket
        .put("g/b.parquet", parquet(&people(&[3], &["c"])))
        .await;
    bucket.put("g/skip.csv", "id\n100\n").await;
    let session = bucket.session().await;
    let glob = format!("SELECT sum(id) AS s FROM '{}'", bucket.url("g/*.parquet"));
    assert_eq!(
        query(&session, &glob).await,
        ["+---+", "| s |", "+---+", "| 6 |", "+---+"]
    );
    let list = format!(
        "SELECT count(*) AS n FROM read_parquet(['{}', '{}'])",
        bucket.url("g/a.parquet"),
        bucket.url("g/b.parquet")
    );
    assert_eq!(
        query(&session, &list).await,
        ["+---+", "| n |", "+---+", "| 3 |", "+---+"]
    );
}

#[tokio::test]
async fn a_view_over_a_file_keeps_working_after_its_statement() {
    let bucket = Bucket::new().await;
    bucket
        .put("v/p.parquet", parquet(&people(&[5, 6], &["e", "f"])))
        .await;
    let session = bucket.session().await;
    session
        .sql(&format!(
            "CREATE VIEW p AS SELECT * FROM '{}'",
            bucket.url("v/p.parquet")
        ))
        .await
        .unwrap();
    assert_eq!(
        query(&session, "SELECT max(id) AS m FROM p").await,
        ["+---+", "| m |", "+---+", "| 6 |", "+---+"]
    );
}

/// A view lists its files again at each query, as DuckDB binds a view
/// anew: a file added after CREATE VIEW is read, one deleted is not, also
/// through a view over the view; a query reading the view twice lists once.
#[tokio::test]
async fn a_view_lists_its_files_again_at_each_query() {
    let bucket = Bucket::new().await;
    bucket
        .put("w/a.parquet", parquet(&people(&[1], &["a"])))
        .await;
    let session = bucket.session().await;
    let glob = bucket.url("w/*.parquet");
    session
        .sql(&format!("CREATE VIEW w AS SELECT * FROM '{glob}'"))
        .await
        .unwrap();
    session
        .sql("CREATE VIEW w2 AS SELECT count(*) AS n FROM w")
        .await
        .unwrap();
    let count = |n: i64| {
        vec![
            "+---+".to_owned(),
            "| n |".to_owned(),
            "+---+".to_owned(),
            format!("| {n} |"),
            "+---+".to_owned(),
        ]
    };
    assert_eq!(
        query(&session, "SELECT count(*) AS n FROM w").await,
        count(1)
    );
    bucket
        .put("w/b.parquet", parquet(&people(&[2, 3], &["b", "c"])))
        .await;
    assert_eq!(
        query(&session, "SELECT count(*) AS n FROM w").await,
        count(3)
    );
    assert_eq!(query(&session, "SELECT n FROM w2").await, count(3));
    assert_eq!(
        query(
            &session,
            "SELECT count(*) AS n FROM w AS x JOIN w AS y ON x.id = y.id"
        )
        .await,
        count(3)
    );
    bucket
        .client
        .delete_object(&bucket.bucket, &format!("{}w/a.parquet", bucket.prefix))
        .await
        .unwrap();
    assert_eq!(
        query(&session, "SELECT count(*) AS n FROM w").await,
        count(2)
    );
    // Files whose columns are no longer the view's: said, not misread.
    let only_ids = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)])),
        vec![Arc::new(Int64Array::from(vec![7]))],
    )
    .unwrap();
    bucket.put("w/b.parquet", parquet(&only_ids)).await;
    let err = crate::support::error_of(&session, "SELECT * FROM w").await;
    assert!(err.contains("CREATE OR REPLACE VIEW"), "{err}");
}

/// A view over `glob()` lists again at each query too.
#[tokio::test]
async fn a_view_over_glob_lists_again_at_each_query() {
    let bucket = Bucket::new().await;
    bucket.put("gv/a.csv", "x\n1\n").await;
    let session = bucket.session().await;
    let glob = bucket.url("gv/*.csv");
    session
        .sql(&format!(
            "CREATE VIEW files AS SELECT * FROM glob('{glob}')"
        ))
        .await
        .unwrap();
    let count = "SELECT count(*) AS n FROM files";
    assert_eq!(query(&session, count).await[3], "| 1 |");
    bucket.put("gv/b.csv", "x\n2\n").await;
    assert_eq!(query(&session, count).await[3], "| 2 |");
}

/// Views over `duckdb_secrets()` and `which_secret()` read the secrets of
/// each query, as DuckDB binds a view anew: a secret created after CREATE
/// VIEW is listed, and covers the URL once its scope is the longest.
#[tokio::test]
async fn views_over_the_secrets_read_them_at_each_query() {
    let bucket = Bucket::new().await;
    let session = bucket.session().await;
    let url = bucket.url("k/x.csv");
    session
        .sql("CREATE VIEW names AS SELECT name FROM duckdb_secrets() ORDER BY name")
        .await
        .unwrap();
    session
        .sql(&format!(
            "CREATE VIEW covering AS SELECT name FROM which_secret('{url}', 's3')"
        ))
        .await
        .unwrap();
    assert_eq!(
        query(&session, "SELECT * FROM covering").await[3],
        "| test |"
    );
    let scoped = bucket.create_secret("narrow", "other", Some(&bucket.url("k/")));
    session.sql(&scoped).await.unwrap();
    assert_eq!(
        query(&session, "SELECT * FROM names").await[3..5],
        ["| narrow |", "| test   |"]
    );
    assert_eq!(
        query(&session, "SELECT * FROM covering").await[3],
        "| narrow |"
    );
}

/// DuckDB's `FROM x` is `SELECT * FROM x`: of a table, a view, a file, a
/// table function, a subquery, inside a subquery (sqlparser reads it as a
/// SELECT of nothing, and the result had no columns).
#[tokio::test]
async fn from_alone_selects_every_column() {
    let bucket = Bucket::new().await;
    bucket.put("f/a.csv", "a,b\n1,x\n").await;
    let session = bucket.session().await;
    let file = bucket.url("f/a.csv");
    session
        .sql(&format!("CREATE TABLE t AS SELECT * FROM '{file}'"))
        .await
        .unwrap();
    session.sql("CREATE VIEW v AS FROM t").await.unwrap();
    let rows = [
        "+---+---+",
        "| a | b |",
        "+---+---+",
        "| 1 | x |",
        "+---+---+",
    ];
    for sql in [
        "FROM t".to_owned(),
        "FROM v".to_owned(),
        format!("FROM '{file}'"),
        format!("FROM read_csv('{file}')"),
        "FROM (FROM t)".to_owned(),
        "SELECT * FROM (FROM t) WHERE a = 1".to_owned(),
    ] {
        assert_eq!(query(&session, &sql).await, rows, "{sql}");
    }
    assert_eq!(
        query(&session, "FROM t SELECT b").await,
        ["+---+", "| b |", "+---+", "| x |", "+---+"]
    );
}

/// A query reading a view twice lists its files once (through the fault
/// proxy, which counts the ListObjectsV2 requests), and the statement that
/// plans a glob lists it once.
#[tokio::test]
async fn a_query_reading_a_view_twice_lists_once() {
    let bucket = Bucket::new().await;
    bucket
        .put("t/a.parquet", parquet(&people(&[1], &["a"])))
        .await;
    let (proxy, session) = session_through_proxy(&bucket).await;
    let listings = || {
        proxy
            .recorded()
            .iter()
            .filter(|r| r.query.contains("list-type=2"))
            .count()
    };
    let glob = bucket.url("t/*.parquet");
    session
        .sql(&format!("CREATE VIEW t AS SELECT * FROM '{glob}'"))
        .await
        .unwrap();
    assert_eq!(listings(), 1);
    query(
        &session,
        "SELECT count(*) FROM t AS x JOIN t AS y ON x.id = y.id",
    )
    .await;
    assert_eq!(listings(), 2);
    query(&session, &format!("SELECT count(*) FROM '{glob}'")).await;
    assert_eq!(listings(), 3);
}

/// DESCRIBE and SUMMARIZE are tables inside a query, as in DuckDB:
/// `FROM (DESCRIBE ...)`, of a query or a file, joined or filtered.
#[tokio::test]
async fn describe_and_summarize_as_subqueries() {
    let bucket = Bucket::new().await;
    bucket
        .put("d/p.parquet", parquet(&people(&[1, 2], &["a", "b"])))
        .await;
    let session = bucket.session().await;
    let file = bucket.url("d/p.parquet");
    let sql = format!(
        "SELECT column_name FROM (DESCRIBE '{file}') WHERE column_name <> 'id' \
         UNION ALL SELECT d.column_name FROM (DESCRIBE SELECT 1 AS one) AS d ORDER BY 1"
    );
    assert_eq!(
        query(&session, &sql).await,
        [
            "+-------------+",
            "| column_name |",
            "+-------------+",
            "| name        |",
            "| one         |",
            "+-------------+",
        ]
    );
    let sql = format!(
        "SELECT column_name, count FROM (SUMMARIZE SELECT id FROM '{file}'); SELECT 1 AS after"
    );
    assert_eq!(
        query(&session, &format!("{sql};")).await,
        [
            "+-------+",
            "| after |",
            "+-------+",
            "| 1     |",
            "+-------+"
        ]
    );
    let sql = format!("SELECT column_name, count FROM (SUMMARIZE SELECT id FROM '{file}')");
    assert_eq!(
        query(&session, &sql).await,
        [
            "+-------------+-------+",
            "| column_name | count |",
            "+-------------+-------+",
            "| id          | 2     |",
            "+-------------+-------+",
        ]
    );
}

#[tokio::test]
async fn missing_files_and_unknown_options_are_clear_errors() {
    let bucket = Bucket::new().await;
    bucket
        .put("e/one.parquet", parquet(&people(&[1], &["a"])))
        .await;
    let session = bucket.session().await;
    let missing = crate::support::error_of(
        &session,
        &format!("SELECT * FROM '{}'", bucket.url("e/none-*.parquet")),
    )
    .await;
    assert!(
        missing.contains("No files found that match the pattern"),
        "{missing}"
    );
    let option = crate::support::error_of(
        &session,
        &format!(
            "SELECT * FROM read_parquet('{}', colour = 'red')",
            bucket.url("e/one.parquet")
        ),
    )
    .await;
    assert!(
        option.contains("read_parquet has no option 'colour'; it accepts:")
            && option.contains("hive_partitioning"),
        "{option}"
    );
}

/// Pruning by partition value never drops a file whose rows match: a
/// filter on a cast of the column compares the cast's text, not the path's
/// (`CAST(mo AS VARCHAR)` of `mo=02` typed BIGINT by `hive_types` is '2';
/// untyped, `02` is VARCHAR as in DuckDB), and a NOT over an AND with a
/// non-partition side cannot be decided from the path alone.
#[tokio::test]
async fn pruning_never_drops_a_matching_file() {
    let bucket = Bucket::new().await;
    for (mo, v) in [("01", 1), ("02", 2), ("10", 10)] {
        bucket
            .put(&format!("hz/mo={mo}/f.csv"), format!("v\n{v}\n"))
            .await;
    }
    let session = bucket.session().await;
    let scan = format!(
        "read_csv('{}', hive_partitioning = true, hive_types = {{'mo': 'BIGINT'}})",
        bucket.url("hz/*/*.csv")
    );
    for (filter, expected) in [
        // Rows where the filter holds, counted the slow way first.
        ("CAST(mo AS VARCHAR) >= '2'", 1),
        ("NOT (mo = 2 AND v > 5)", 3),
        ("NOT (mo = 2 AND v = 2)", 2),
    ] {
        let slow = query(
            &session,
            &format!("SELECT sum(CASE WHEN {filter} THEN 1 ELSE 0 END) AS n FROM {scan}"),
        )
        .await;
        let pruned = query(
            &session,
            &format!("SELECT count(*) AS n FROM {scan} WHERE {filter}"),
        )
        .await;
        assert_eq!(pruned, slow, "{filter}");
        assert!(
            pruned.iter().any(|l| l.contains(&format!("| {expected} "))),
            "{filter}: {pruned:?}"
        );
    }
}

/// A file replaced after it was listed is an error naming it, never rows
/// cut at the listed size or spliced from two versions (a view keeps its
/// listing; so does one long statement). A small file, read whole by its
/// first GET while the statement was planned, gives the listed version's
/// rows, all of them.
#[tokio::test]
async fn a_file_replaced_after_listing_is_an_error_not_a_short_read() {
    let bucket = Bucket::new().await;
    let rows = |n: usize| {
        let mut csv = String::from("id,name\n");
        for i in 0..n {
            csv.push_str(&format!("{i},name {i}\n"));
        }
        csv
    };
    // Over 1 MiB: read by ranges, not whole at once.
    let big = rows(80_000);
    assert!(big.len() > 1024 * 1024);
    bucket.put("changing.csv", big).await;
    bucket
        .put("changing.parquet", parquet(&people(&[1, 2], &["a", "b"])))
        .await;
    let session = bucket.session().await;
    // A plain scan's stream is planned (files listed, CSV sampled, Parquet
    // footer read) when it is returned, and reads rows when polled.
    let mut planned = Vec::new();
    for file in ["changing.csv", "changing.parquet"] {
        let sql = format!("SELECT name FROM '{}'", bucket.url(file));
        planned.push((file, session.sql_stream(&sql).await.unwrap()));
    }
    bucket.put("changing.csv", rows(90_000)).await;
    bucket
        .put(
            "changing.parquet",
            parquet(&people(&[1, 2, 3, 4], &["a", "b", "c", "d"])),
        )
        .await;
    for (file, stream) in planned {
        let read: Result<Vec<_>, _> = stream.try_collect().await;
        match (file, read) {
            ("changing.parquet", Ok(batches)) => {
                assert_eq!(
                    crate::support::table(&batches),
                    [
                        "+------+", "| name |", "+------+", "| a    |", "| b    |", "+------+"
                    ],
                    "{file}: the listed version, whole"
                );
            }
            ("changing.parquet", Err(e)) => panic!("{file}: read whole when planned: {e}"),
            (_, Ok(batches)) => panic!(
                "{file}: read a replaced file ({} rows)",
                batches.iter().map(|b| b.num_rows()).sum::<usize>()
            ),
            (_, Err(e)) => {
                let err = e.to_string();
                assert!(
                    err.contains("changed while it was being read") && err.contains("changing."),
                    "{file}: {err}"
                );
            }
        }
    }
}

/// Rows come back in file order, as DuckDB returns them, also from a file
/// big enough for DataFusion to read in byte ranges at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_of_a_big_file_come_back_in_file_order() {
    let bucket = Bucket::new().await;
    let mut csv = String::from("id,pad\n");
    for i in 0..700_000 {
        csv.push_str(&format!("{i},abcdefghij\n"));
    }
    assert!(csv.len() > 10 << 20, "big enough to be split");
    bucket.put("ordered.csv", csv).await;
    let session = bucket.session().await;
    let batches = session
        .sql(&format!(
            "SELECT id FROM '{}' WHERE id % 7 <> 3",
            bucket.url("ordered.csv")
        ))
        .await
        .unwrap();
    let ids: Vec<i64> = batches
        .iter()
        .flat_map(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .values()
                .to_vec()
        })
        .collect();
    assert_eq!(ids.len(), 600_000);
    let first_inversion = ids.windows(2).position(|w| w[0] > w[1]);
    assert_eq!(first_inversion, None, "rows out of file order");
}

/// A scan planned in file order leaves the session's tables alone (its
/// one-partition state once replaced the default catalog with an empty one).
#[tokio::test]
async fn tables_survive_a_scan_in_file_order() {
    let bucket = Bucket::new().await;
    bucket.put("few.csv", "id\n1\n2\n").await;
    let session = bucket.session().await;
    let url = bucket.url("few.csv");
    session
        .sql(&format!("CREATE TABLE kept AS SELECT * FROM '{url}'"))
        .await
        .unwrap();
    query(&session, &format!("SELECT * FROM '{url}' LIMIT 1")).await;
    assert_eq!(
        query(&session, "SELECT count(*) AS n FROM kept").await[3],
        "| 2 |"
    );
}

/// The scan monitor (a shell's progress bar) counts the running
/// statement's objects, their size and the bytes read, from zero at each
/// statement.
#[tokio::test]
async fn the_scan_monitor_counts_objects_and_bytes_of_the_statement() {
    let bucket = Bucket::new().await;
    let a = parquet(&people(&[1, 2], &["ann", "bo"]));
    let b = parquet(&people(&[3], &["cy"]));
    let size = (a.len() + b.len()) as u64;
    bucket.put("mon/a.parquet", a).await;
    bucket.put("mon/b.parquet", b).await;
    let session = bucket.session().await;
    let sql = format!("SELECT sum(id) AS s FROM '{}'", bucket.url("mon/*.parquet"));
    assert_eq!(query(&session, &sql).await[3], "| 6 |");
    let progress = session.scan_monitor().progress();
    assert_eq!((progress.objects, progress.object_bytes), (2, size));
    assert!(progress.bytes_read > 0, "{progress:?}");
    assert!(progress.requests >= 2, "{progress:?}");
    session.sql("SELECT 1").await.unwrap();
    let progress = session.scan_monitor().progress();
    assert_eq!(
        (progress.objects, progress.bytes_read),
        (0, 0),
        "{progress:?}"
    );
}

/// A Parquet file replaced by another of the same size within one
/// LastModified tick is read at its new version: DataFusion's footer
/// cache, keyed by the object's path and trusted on (size, LastModified),
/// pruned the new file's row groups with the old one's statistics
/// (review-8b #1: 0 rows instead of 1,000). The same key in two buckets
/// is one path to that cache too.
#[tokio::test]
async fn a_parquet_file_replaced_at_the_same_size_and_second_is_read_anew() {
    let ids = |from: i64| {
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
        let ids = Int64Array::from((from..from + 1000).collect::<Vec<_>>());
        parquet(&RecordBatch::try_new(schema, vec![Arc::new(ids)]).unwrap())
    };
    let (a, b) = (ids(1), ids(5001));
    assert_eq!(a.len(), b.len());
    let bucket = Bucket::new().await;
    let session = bucket.session().await;
    let listed = |key: String| {
        let bucket = &bucket;
        async move {
            let meta = bucket
                .client
                .head_object(&bucket.bucket, &format!("{}{key}", bucket.prefix))
                .await
                .unwrap();
            meta.last_modified
        }
    };
    for attempt in 0..20 {
        let key = format!("same/x{attempt}.parquet");
        let sql = format!(
            "SELECT count(*) AS n FROM '{}' WHERE id > 5000",
            bucket.url(&key)
        );
        bucket.put(&key, a.clone()).await;
        let before = listed(key.clone()).await;
        assert_eq!(query(&session, &sql).await[3], "| 0 |", "{sql}");
        bucket.put(&key, b.clone()).await;
        if listed(key.clone()).await != before {
            continue;
        }
        assert_eq!(query(&session, &sql).await[3], "| 1000 |", "{sql}");
        return;
    }
    panic!("could not replace an object within one LastModified second in 20 attempts");
}

/// A WHERE over a list mixing stores (read one after another, in file
/// order) reaches every Parquet scan, whose row groups it prunes
/// (review-8b #11: the chain of scans stopped DataFusion's pushdown).
#[tokio::test]
async fn a_filter_reaches_every_scan_of_a_list_mixing_stores() {
    let bucket = Bucket::new().await;
    bucket
        .put("chain/a.parquet", parquet(&people(&[1, 2], &["ann", "bo"])))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("b.parquet");
    std::fs::write(&local, parquet(&people(&[3], &["cy"]))).unwrap();
    let session = bucket.session().await;
    let from = format!(
        "read_parquet(['{}', '{}'])",
        bucket.url("chain/a.parquet"),
        local.display()
    );
    let sql = format!("SELECT name FROM {from} WHERE id > 2");
    assert_eq!(query(&session, &sql).await[3], "| cy   |");
    let plan = query(&session, &format!("EXPLAIN {sql}")).await.join("\n");
    assert!(plan.contains("ChainExec"), "{plan}");
    let scans: Vec<&str> = plan
        .lines()
        .filter(|line| line.contains("DataSourceExec"))
        .collect();
    assert_eq!(scans.len(), 2, "{plan}");
    for scan in scans {
        assert!(
            scan.contains("predicate=id@"),
            "no filter in {scan}\n{plan}"
        );
    }
}

/// The scan monitor counts the objects left after partition pruning, not
/// every file the glob matched (review-8b #8: 3 for 1 read).
#[tokio::test]
async fn the_scan_monitor_counts_objects_after_partition_pruning() {
    let bucket = Bucket::new().await;
    let mut sizes = Vec::new();
    for (year, ids) in [(2023, &[1i64][..]), (2024, &[2, 3]), (2025, &[4])] {
        let names: Vec<&str> = ids.iter().map(|_| "x").collect();
        let file = parquet(&people(ids, &names));
        sizes.push(file.len() as u64);
        bucket.put(&format!("pm/year={year}/d.parquet"), file).await;
    }
    let session = bucket.session().await;
    let sql = format!(
        "SELECT sum(id) AS s FROM '{}' WHERE year = 2024",
        bucket.url("pm/*/*.parquet")
    );
    assert_eq!(query(&session, &sql).await[3], "| 5 |");
    let progress = session.scan_monitor().progress();
    assert_eq!(
        (progress.objects, progress.object_bytes),
        (1, sizes[1]),
        "{progress:?}"
    );
}

/// A CSV over 10 MiB whose quoted line breaks all come after the 8 MiB
/// sample is never split at a line break inside a quoted value: with 8
/// partitions (an 8-core machine's default) it counts the rows one
/// partition counts, with no row made of half a value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quoted_line_breaks_after_the_sample_are_never_split_records() {
    let bucket = Bucket::new().await;
    // The header quotes a name: a sample quoting nothing is read
    // unquoted, as DuckDB reads it, and the rows past it would split.
    let mut csv = String::from("id,\"note\"\n");
    let mut rows = 0_i64;
    while csv.len() < 9 << 20 {
        csv.push_str(&format!("{rows},plain text of a row\n"));
        rows += 1;
    }
    while csv.len() < 11 << 20 {
        // Most line breaks are inside the quotes, and each inner line looks
        // like a row with a bigger id.
        let inner: Vec<String> = (1..8)
            .map(|k| format!("{},x", rows + k * 1_000_000))
            .collect();
        csv.push_str(&format!("{rows},\"{}\"\n", inner.join("\n")));
        rows += 1;
    }
    bucket.put("late_quotes.csv", csv).await;
    let session = bucket.session().await;
    let sql = format!(
        "SELECT count(*) AS n, max(id) AS mx FROM '{}'",
        bucket.url("late_quotes.csv")
    );
    let expected = [
        "+--------+--------+".to_owned(),
        "| n      | mx     |".to_owned(),
        "+--------+--------+".to_owned(),
        format!("| {rows} | {} |", rows - 1),
        "+--------+--------+".to_owned(),
    ];
    for partitions in [8, 1] {
        query(
            &session,
            &format!("SET datafusion.execution.target_partitions = {partitions}"),
        )
        .await;
        assert_eq!(
            query(&session, &sql).await,
            expected,
            "{partitions} partitions"
        );
    }
    // ... and it was read in byte ranges, not whole.
    query(&session, "SET datafusion.execution.target_partitions = 8").await;
    assert!(byte_ranges(&session, &sql, "csv").await >= 2);
}

/// A bad value in a big CSV read in byte ranges is named by its line
/// counted from the file's start, as a read of the whole file names it
/// (arrow counts from the start of the range it decodes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_value_past_the_first_range_names_its_line_in_the_file() {
    let bucket = Bucket::new().await;
    let mut csv = String::from("id,n\n");
    for i in 0..1_300_000 {
        match i {
            999_999 => csv.push_str(&format!("{i},x\n")),
            _ => csv.push_str(&format!("{i},{}\n", i % 97)),
        }
    }
    assert!(csv.len() > 12 << 20, "big enough to be split");
    bucket.put("bad_late.csv", csv).await;
    let session = bucket.session().await;
    let sql = format!("SELECT sum(n) FROM '{}'", bucket.url("bad_late.csv"));
    query(&session, "SET datafusion.execution.target_partitions = 4").await;
    assert_eq!(byte_ranges(&session, &sql, "csv").await, 4);
    // The header is line 1, row `i` line `i + 2`.
    let e = crate::support::error_of(&session, &sql).await;
    assert!(
        e.contains("line 1000001, column 2: cannot read 'x' as Int64") && !e.contains("counted"),
        "{e}"
    );
}

/// How many byte ranges of one file the scan of `sql` reads (EXPLAIN's
/// `file_groups`: DataFusion splits a big file into ranges read in
/// parallel).
async fn byte_ranges(session: &s3sql_planner::Session, sql: &str, extension: &str) -> usize {
    let plan = query(session, &format!("EXPLAIN {sql}")).await.join("\n");
    let scan = plan
        .lines()
        .find(|line| line.contains("DataSourceExec"))
        .unwrap_or_else(|| panic!("no scan in {plan}"));
    scan.matches(&format!(".{extension}:")).count()
}

/// A CSV like the benchmark's 1M-row one (no quote anywhere, so the
/// sniffer still picks `"`, DuckDB's default) is read in several byte
/// ranges at once, with the answer one range gives (it was read whole by
/// one partition whenever the sample had not seen the whole file).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_csv_is_read_in_byte_ranges_in_parallel() {
    let bucket = Bucket::new().await;
    let mut csv = String::from("trip_id,city,fare\n");
    let mut rows = 0_i64;
    while csv.len() < 12 << 20 {
        let city = ["Lisbon", "Porto", "Faro"][(rows % 3) as usize];
        csv.push_str(&format!("{rows},{city},{}.25\n", rows % 97));
        rows += 1;
    }
    bucket.put("trips_1m.csv", csv).await;
    let session = bucket.session().await;
    let sql = format!(
        "SELECT count(*) AS n, sum(fare) AS s, max(trip_id) AS mx FROM '{}'",
        bucket.url("trips_1m.csv")
    );
    query(&session, "SET datafusion.execution.target_partitions = 1").await;
    let whole = query(&session, &sql).await;
    assert!(whole[3].contains(&format!("| {rows} ")), "{whole:?}");
    query(&session, "SET datafusion.execution.target_partitions = 4").await;
    assert_eq!(byte_ranges(&session, &sql, "csv").await, 4);
    assert_eq!(query(&session, &sql).await, whole);
    // A LIMIT reads the file from its start, in one piece: a second range
    // would wait for the file to be read up to it for its record start.
    let limit = format!("SELECT * FROM '{}' LIMIT 10", bucket.url("trips_1m.csv"));
    assert_eq!(byte_ranges(&session, &limit, "csv").await, 0);
    assert_eq!(query(&session, &limit).await.len(), 14);
}

/// A Parquet file of `rows` people (`id` 0.., `name` `{prefix}{id}`) in
/// row groups of `per_group` rows.
fn people_in_row_groups(rows: i64, prefix: &str, per_group: usize) -> Vec<u8> {
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::file::properties::WriterProperties;
    let ids: Vec<i64> = (0..rows).collect();
    let names: Vec<String> = ids.iter().map(|i| format!("{prefix}{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let batch = people(&ids, &names);
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(per_group))
        .build();
    let mut file = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut file, batch.schema(), Some(props)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    file
}

/// A session whose secret reaches `bucket` through a new fault proxy,
/// which records every request, and the proxy.
async fn session_through_proxy(
    bucket: &Bucket,
) -> (s3sql_testkit::FaultProxy, s3sql_planner::Session) {
    let proxy = s3sql_testkit::FaultProxy::in_front_of(&bucket.endpoint);
    let host = bucket
        .endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let secret = bucket
        .create_secret("p", &bucket.secret_access_key, None)
        .replace(&host, &proxy.addr().to_string());
    let session = s3sql_planner::Session::with_secrets(s3sql_secrets::SecretManager::new(None));
    session.sql(&secret).await.unwrap();
    (proxy, session)
}

/// A big Parquet file is read in two byte ranges (each its row groups) per
/// partition, so one range's column chunks are fetched while another's
/// decode: with one range per partition each fetched a row group, decoded
/// it, then asked for the next, and the cores waited for the network.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_parquet_file_is_read_in_two_ranges_per_partition() {
    let bucket = Bucket::new().await;
    let file = people_in_row_groups(40_000, "n", 2_500);
    bucket.put("ranges/big.parquet", file).await;
    let session = bucket.session().await;
    // The file counts as big (DataFusion's 10 MB, made small for the test).
    query(
        &session,
        "SET datafusion.optimizer.repartition_file_min_size = 1000",
    )
    .await;
    query(&session, "SET datafusion.execution.target_partitions = 2").await;
    let sql = format!(
        "SELECT count(*) AS n, sum(id) AS s FROM '{}'",
        bucket.url("ranges/big.parquet")
    );
    assert_eq!(byte_ranges(&session, &sql, "parquet").await, 4);
    assert_eq!(
        query(&session, &sql).await[3],
        format!("| 40000 | {} |", (0..40_000_i64).sum::<i64>())
    );
}

/// A LIMIT or a window without ORDER BY (`row_number() OVER ()`) under
/// an aggregate or a filter takes the first rows in file order, as
/// DuckDB's insertion order has it, however many groups read the glob:
/// with 16 groups at once DataFusion took whichever answered first, a
/// different sum each run (review-s24 F4).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_or_unordered_window_below_an_aggregate_takes_the_first_rows() {
    let bucket = Bucket::new().await;
    for file in 0..48_i64 {
        let ids: Vec<i64> = (file * 10..file * 10 + 10).collect();
        let names: Vec<String> = ids.iter().map(|i| format!("n{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let batch = people(&ids, &names);
        bucket
            .put(&format!("order/f{file:02}.parquet"), parquet(&batch))
            .await;
    }
    let session = bucket.session().await;
    query(&session, "SET datafusion.execution.target_partitions = 2").await;
    let glob = bucket.url("order/*.parquet");
    for _ in 0..5 {
        let sum = format!("SELECT sum(id) AS s FROM (SELECT id FROM '{glob}' LIMIT 100)");
        assert_eq!(query(&session, &sum).await[3], "| 4950 |", "{sum}");
        let first = format!(
            "SELECT id FROM (SELECT id, row_number() OVER () AS rn FROM '{glob}') \
             WHERE rn <= 3 ORDER BY rn"
        );
        let rows = crate::support::table_rows(&query(&session, &first).await);
        assert_eq!(rows, ["0", "1", "2"], "{first}");
    }
}

/// A Parquet file read in several byte ranges has its footer read once,
/// for the schema while planning: not again by the scan (it was, the same
/// 512 KiB GET twice), and not once per range (four ranges read it four
/// times); counted as GETs through the fault proxy whose range reaches
/// the file's last byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parquet_file_read_in_ranges_has_its_footer_read_once() {
    let bucket = Bucket::new().await;
    let file = people_in_row_groups(400_000, "name-", 20_000);
    let size = file.len();
    assert!(size > 2 << 20, "{size} bytes: not read by ranges");
    bucket.put("footer/big.parquet", file).await;
    let (proxy, session) = session_through_proxy(&bucket).await;
    query(
        &session,
        "SET datafusion.optimizer.repartition_file_min_size = 1000",
    )
    .await;
    query(&session, "SET datafusion.execution.target_partitions = 2").await;
    let sql = format!(
        "SELECT count(*) AS n, sum(id) AS s FROM '{}'",
        bucket.url("footer/big.parquet")
    );
    assert_eq!(byte_ranges(&session, &sql, "parquet").await, 4);
    let before = proxy.recorded().len();
    assert_eq!(
        query(&session, &sql).await[3],
        format!("| 400000 | {} |", (0..400_000_i64).sum::<i64>())
    );
    let last = format!("-{}", size - 1);
    let footers = proxy.recorded()[before..]
        .iter()
        .filter_map(|r| r.headers.get("range")?.to_str().ok().map(str::to_owned))
        .filter(|range| range.starts_with("bytes=-") || range.ends_with(&last))
        .count();
    assert_eq!(footers, 1, "footer reads: one, while planning");
}

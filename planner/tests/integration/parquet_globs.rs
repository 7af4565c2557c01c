//! Parquet files of one scan whose columns differ from the first file's
//! (another type, another case), read as DuckDB 1.5.5 reads them: the
//! files are written by DuckDB into the bucket, and each query's rows are
//! compared with DuckDB's.

use crate::support::{Bucket, duckdb, duckdb_rows, query, table_rows};

/// Runs `writes` then `selects` in DuckDB, and `selects` in s3sql: each
/// select whose rows differ, with both.
async fn unlike_duckdb(bucket: &Bucket, writes: &[String], selects: &[String]) -> Vec<String> {
    let statements: Vec<String> = writes.iter().chain(selects).cloned().collect();
    let theirs = duckdb(Some(bucket), &statements);
    let session = bucket.session().await;
    let mut wrong = Vec::new();
    for (select, rows) in selects.iter().zip(&theirs[writes.len()..]) {
        let theirs = duckdb_rows(rows);
        let ours = match session.sql(select).await {
            Ok(batches) => table_rows(&crate::support::table(&batches)),
            Err(e) => vec![format!("error: {e}")],
        };
        if ours != theirs {
            wrong.push(format!(
                "{select}\n  ours:   {ours:?}\n  DuckDB: {theirs:?}"
            ));
        }
    }
    wrong
}

/// `COPY (select) TO url` in DuckDB's Parquet.
fn write(bucket: &Bucket, select: &str, key: &str) -> String {
    format!("COPY ({select}) TO '{}' (FORMAT parquet)", bucket.url(key))
}

/// A later file's DECIMAL or DOUBLE column read as the first file's
/// INTEGER is rounded as DuckDB 1.5.5 rounds it (a decimal half away from
/// zero, a double half to even), in a list too; with union_by_name the
/// column widens to DECIMAL or DOUBLE as DuckDB's (review-8e #25: 2.5 and
/// 3.7 read 2 and 3, -3.7 read -3).
#[tokio::test]
async fn a_later_files_decimals_read_as_the_first_files_integers_as_duckdb() {
    let bucket = Bucket::new().await;
    let writes = [
        write(&bucket, "SELECT 1 AS x, [1] AS l", "cs/c1.parquet"),
        write(
            &bucket,
            "SELECT 2.5 AS x, [2.5] AS l UNION ALL SELECT -3.5, [-3.7]",
            "cs/c2.parquet",
        ),
        write(
            &bucket,
            "SELECT x::DOUBLE AS x, [x::DOUBLE] AS l FROM (VALUES (2.5), (-3.7), (3.5)) t(x)",
            "cs/c3.parquet",
        ),
    ];
    let list = |second: &str, options: &str| {
        format!(
            "read_parquet(['{}', '{}']{options})",
            bucket.url("cs/c1.parquet"),
            bucket.url(second)
        )
    };
    let mut selects = Vec::new();
    for second in ["cs/c2.parquet", "cs/c3.parquet"] {
        for options in ["", ", union_by_name = true"] {
            let from = list(second, options);
            selects.push(format!("SELECT x, l[1] AS e FROM {from} ORDER BY x"));
            selects.push(format!("SELECT sum(x) AS s FROM {from}"));
        }
    }
    let wrong = unlike_duckdb(&bucket, &writes, &selects).await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // A filter sees the value the row shows (DuckDB's pushed-down filter
    // compares the file's unrounded -3.5 and -3.7, and counts 0).
    let session = bucket.session().await;
    for second in ["cs/c2.parquet", "cs/c3.parquet"] {
        let select = format!(
            "SELECT count(*) AS n FROM {} WHERE x = -4",
            list(second, "")
        );
        assert_eq!(
            table_rows(&query(&session, &select).await),
            ["1"],
            "{select}"
        );
    }
}

/// Files naming a column in another case (`ID` in one, `id` in the next)
/// are one column, named as the first file names it, as DuckDB 1.5.5
/// binds names; with union_by_name too (review-8e #31: the second file's
/// values were NULL, or a second column).
#[tokio::test]
async fn a_column_named_in_another_case_is_one_column_as_duckdb() {
    let bucket = Bucket::new().await;
    let writes = [
        write(&bucket, "SELECT 1 AS ID, 'a' AS v", "kc/k1.parquet"),
        write(&bucket, "SELECT 2 AS id, 'b' AS v", "kc/k2.parquet"),
    ];
    let glob = bucket.url("kc/*.parquet");
    let mut selects = Vec::new();
    for from in [
        format!("'{glob}'"),
        format!("read_parquet('{glob}', union_by_name = true)"),
    ] {
        selects.push(format!("SELECT * FROM {from} ORDER BY v"));
        selects.push(format!("SELECT sum(ID) AS s, count(id) AS n FROM {from}"));
        selects.push(format!("SELECT v FROM {from} WHERE Id = 2"));
    }
    let mut wrong = unlike_duckdb(&bucket, &writes, &selects).await;
    let star = [&selects[0], &selects[3]];
    let describes: Vec<String> = star.iter().map(|s| format!("DESCRIBE {s}")).collect();
    let session = bucket.session().await;
    for (select, rows) in star.iter().zip(duckdb(Some(&bucket), &describes)) {
        let theirs: Vec<String> = rows.iter().map(|r| r[0].clone().unwrap()).collect();
        let batches = session.sql(select).await.unwrap();
        let schema = batches[0].schema();
        let ours: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        if ours != theirs {
            wrong.push(format!("{select}: columns {ours:?}, DuckDB {theirs:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// With union_by_name, struct columns whose files hold different fields
/// are merged field by field and lists widened, as DuckDB 1.5.5 merges
/// them (review-8e #26: "Cannot cast column 's' from Struct(a: Int32) to
/// Utf8").
#[tokio::test]
async fn union_by_name_merges_struct_fields_as_duckdb() {
    let bucket = Bucket::new().await;
    let writes = [
        write(
            &bucket,
            "SELECT 1 AS id, {'a': 1} AS s, [1] AS l",
            "st/s1.parquet",
        ),
        write(
            &bucket,
            "SELECT 2 AS id, {'a': 2, 'b': 'x'} AS s, [2.5] AS l",
            "st/s2.parquet",
        ),
    ];
    let from = format!(
        "read_parquet('{}', union_by_name = true)",
        bucket.url("st/*.parquet")
    );
    let selects = [
        format!("SELECT id, s.a AS a, s.b AS b, l[1] AS e FROM {from} ORDER BY id"),
        format!("SELECT count(*) AS n FROM {from} WHERE s.b = 'x'"),
    ];
    let wrong = unlike_duckdb(&bucket, &writes, &selects).await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A later file's value that does not convert to the first file's type
/// is an error naming the file, the column, both types and union_by_name,
/// as DuckDB 1.5.5's (review-8e #14: arrow's bare "Cannot cast string
/// 'str' to value of Int32 type", then no file); union_by_name reads both
/// files as VARCHAR.
#[tokio::test]
async fn a_value_of_another_type_names_the_column_as_duckdb() {
    let bucket = Bucket::new().await;
    let writes = [
        write(&bucket, "SELECT 1 AS x, 'a' AS k", "ty/u1.parquet"),
        write(&bucket, "SELECT 'str' AS x, 'b' AS k", "ty/u3.parquet"),
    ];
    let list = format!(
        "['{}', '{}']",
        bucket.url("ty/u1.parquet"),
        bucket.url("ty/u3.parquet")
    );
    let union = format!("SELECT x, k FROM read_parquet({list}, union_by_name = true) ORDER BY k");
    let wrong = unlike_duckdb(&bucket, &writes, std::slice::from_ref(&union)).await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let session = bucket.session().await;
    let sql = format!("SELECT x, k FROM read_parquet({list}) ORDER BY k");
    let error = crate::support::error_of(&session, &sql).await;
    assert!(
        error.contains("column \"x\" has type VARCHAR, but it is read as INTEGER")
            && error.contains(&format!("file {}:", bucket.url("ty/u3.parquet")))
            && error.contains("'str'")
            && error.contains("union_by_name = true"),
        "{error}"
    );
}

/// Timestamps stored in other units (pandas' ns beside Spark's or
/// DuckDB's µs, a ms file) or as a DATE in one file are one timestamp
/// column with union_by_name, in the finest unit, as DuckDB 1.5.5 reads
/// them (review-s23 F4: VARCHAR, values compared as text).
#[tokio::test]
async fn timestamps_of_other_units_or_dates_union_as_duckdb() {
    let bucket = Bucket::new().await;
    let writes = [
        write(
            &bucket,
            "SELECT TIMESTAMP_NS '2024-01-01 10:00:00.123456789' AS t, 1 AS k",
            "tu/ns.parquet",
        ),
        write(
            &bucket,
            "SELECT TIMESTAMP '2024-01-02 10:00:00' AS t, 2 AS k",
            "tu/us.parquet",
        ),
        write(
            &bucket,
            "SELECT DATE '2024-01-03' AS t, 3 AS k",
            "tu/d.parquet",
        ),
        write(
            &bucket,
            "SELECT TIMESTAMP_MS '2024-01-04 10:00:00.5' AS t, 4 AS k",
            "tu/ms.parquet",
        ),
    ];
    let mut selects = Vec::new();
    for pair in [["ns", "us"], ["us", "d"], ["d", "ns"], ["ms", "us"]] {
        let [a, b] = pair.map(|n| bucket.url(&format!("tu/{n}.parquet")));
        let from = format!("read_parquet(['{a}', '{b}'], union_by_name = true)");
        selects.push(format!("DESCRIBE SELECT * FROM {from}"));
        selects.push(format!(
            "SELECT CAST(t AS VARCHAR), k FROM {from} WHERE t > '2024-01-02' ORDER BY k"
        ));
    }
    let wrong = unlike_duckdb(&bucket, &writes, &selects).await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

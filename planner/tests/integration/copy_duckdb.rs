//! COPY next to DuckDB 1.5.5 (`S3SQL_DUCKDB_PYTHON`): the same statement
//! written by both, compared byte for byte where the bytes are DuckDB's
//! contract (CSV, JSON lines), and read back across (s3sql writes, DuckDB
//! reads; DuckDB writes, s3sql reads).

use s3sql_planner::Session;
use s3sql_secrets::SecretManager;

use crate::support::{duckdb, duckdb_rows, query, table_rows};

/// Rows where CSV quoting matters: '' beside NULL, the delimiter, quotes,
/// line breaks, '#', leading spaces; a header that needs quoting.
const TRICKY: &str = "SELECT * FROM (VALUES \
    (1, '', NULL, CAST(1.5 AS DOUBLE)), \
    (2, NULL, 'a,b', CAST(20 AS DOUBLE)), \
    (3, 'say \"hi\"', 'x#y', CAST(0.25 AS DOUBLE)), \
    (4, ' lead', 'line\nbreak', CAST(-3 AS DOUBLE)), \
    (5, 'NA', 'cr\rlf', NULL)) t(i, s, u, \"a,b\") ORDER BY i";

/// Writes `copy` (a COPY with `{path}` for the target) with s3sql and with
/// DuckDB (TimeZone UTC) into a fresh directory; returns both files' bytes.
async fn both_write(copy: &str, name: &str) -> (Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join(format!("s3sql_{name}"));
    let theirs = dir.path().join(format!("duckdb_{name}"));
    let session = Session::with_secrets(SecretManager::new(None));
    query(
        &session,
        &copy.replace("{path}", &ours.display().to_string()),
    )
    .await;
    duckdb(
        None,
        &[
            "SET TimeZone = 'UTC'".to_owned(),
            copy.replace("{path}", &theirs.display().to_string()),
        ],
    );
    (std::fs::read(ours).unwrap(), std::fs::read(theirs).unwrap())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts s3sql's file `name` is DuckDB's byte for byte, showing the
/// first lines that differ.
fn assert_same_text(name: &str, ours: &[u8], theirs: &[u8]) {
    let (ours, theirs) = (text(ours), text(theirs));
    let differ: Vec<(&str, &str)> = ours
        .lines()
        .zip(theirs.lines())
        .filter(|(a, b)| a != b)
        .take(3)
        .collect();
    assert!(differ.is_empty(), "{name}, s3sql vs DuckDB: {differ:#?}");
    assert_eq!(ours, theirs, "{name}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_is_written_byte_for_byte_as_duckdb_writes_it() {
    for options in ["", " (NULLSTR 'NA')", " (DELIMITER ';', HEADER false)"] {
        let copy = format!("COPY ({TRICKY}) TO '{{path}}'{options}");
        let (ours, theirs) = both_write(&copy, "tricky.csv").await;
        assert_eq!(text(&ours), text(&theirs), "{copy}");
    }
}

/// A DELIMITER of 2 to 4 bytes is written whole, values holding any of
/// its bytes quoted, and DuckDB reads the file back with the same DELIM as
/// the rows it was written from. (DuckDB 1.5.5's own COPY writes only the
/// first byte of `||`, which its reader then reads as no rows, and fails
/// on `→`; s3sql refused any delimiter of more than one byte.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_byte_delimiter_is_written_whole_and_duckdb_reads_it_back() {
    const ROWS: &str = "SELECT * FROM (VALUES (1, 'a|', NULL), (2, '|b', 'p→q'), \
        (3, 'x||y', ''), (4, '→', 'plain'), (5, '|,', ' |')) t(i, s, u)";
    let dir = tempfile::tempdir().unwrap();
    let session = Session::with_secrets(SecretManager::new(None));
    for delimiter in ["||", "→", "|,|"] {
        let path = dir.path().join("multi.csv").display().to_string();
        query(
            &session,
            &format!("COPY ({ROWS}) TO '{path}' (DELIMITER '{delimiter}')"),
        )
        .await;
        let header = std::fs::read_to_string(&path).unwrap();
        assert!(
            header.starts_with(&format!("i{delimiter}s{delimiter}u\n")),
            "{header}"
        );
        let read = duckdb(
            None,
            &[
                format!(
                    "SELECT i, s, u, u IS NULL FROM read_csv('{path}', delim = '{delimiter}', \
                     header = true, allow_quoted_nulls = false) ORDER BY i"
                ),
                format!("SELECT i, s, u, u IS NULL FROM ({ROWS}) ORDER BY i"),
            ],
        );
        assert_eq!(read[0], read[1], "DELIMITER '{delimiter}'");
        assert_eq!(read[0].len(), 5, "{read:?}");
    }
}

/// DuckDB's reader takes `""` for NULL unless `allow_quoted_nulls = false`
/// (its default is true); with it, the round trip keeps them apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdb_reads_the_empty_string_and_null_of_an_s3sql_csv_apart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("apart.csv").display().to_string();
    let session = Session::with_secrets(SecretManager::new(None));
    query(&session, &format!("COPY ({TRICKY}) TO '{path}'")).await;
    let rows = duckdb(
        None,
        &[format!(
            "SELECT i, s, s IS NULL FROM read_csv('{path}', header = true, allow_quoted_nulls = false) ORDER BY i LIMIT 2"
        )],
    );
    let expected = |i: &str, s: Option<&str>, null: &str| {
        vec![
            Some(i.to_owned()),
            s.map(str::to_owned),
            Some(null.to_owned()),
        ]
    };
    assert_eq!(
        rows[0],
        [
            expected("1", Some(""), "False"),
            expected("2", None, "True")
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdb_reads_gzip_and_zstd_csv_and_json_written_by_s3sql() {
    let dir = tempfile::tempdir().unwrap();
    let session = Session::with_secrets(SecretManager::new(None));
    for (name, options) in [
        ("t.csv.gz", ""),
        ("t.csv", " (COMPRESSION zstd)"),
        ("t.json.gz", ""),
        ("t.ndjson", " (FORMAT json, COMPRESSION zstd)"),
    ] {
        let path = dir.path().join(name).display().to_string();
        query(&session, &format!("COPY ({TRICKY}) TO '{path}'{options}")).await;
        let reader = if name.contains("json") {
            format!(
                "read_json('{path}', compression = '{}')",
                if options.is_empty() { "gzip" } else { "zstd" }
            )
        } else {
            format!(
                "read_csv('{path}', compression = '{}')",
                if options.is_empty() { "gzip" } else { "zstd" }
            )
        };
        let rows = duckdb(
            None,
            &[format!("SELECT count(*), count(s), sum(i) FROM {reader}")],
        );
        // DuckDB's CSV reader takes "" for NULL (allow_quoted_nulls); JSON keeps ''.
        let strings = if name.contains("json") { "4" } else { "3" };
        let expected = vec![
            Some("5".to_owned()),
            Some(strings.to_owned()),
            Some("15".to_owned()),
        ];
        assert_eq!(rows[0], [expected], "{name}{options}");
    }
}

/// A partitioned zstd COPY writes each partition's writes as frames one
/// after another; DuckDB reads every frame.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdb_reads_every_frame_of_a_partitioned_zstd_copy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("frames").display().to_string();
    let session = Session::with_secrets(SecretManager::new(None));
    query(
        &session,
        &format!(
            "COPY (SELECT value % 3 AS k, value AS i, 'row ' || value AS t FROM generate_series(1, 30000)) \
             TO '{path}' (FORMAT csv, PARTITION_BY (k), COMPRESSION zstd)"
        ),
    )
    .await;
    let rows = duckdb(
        None,
        &[format!(
            "SELECT count(*), sum(i), count(DISTINCT t) FROM read_csv('{path}/*/*.csv.zst')"
        )],
    );
    let expected = ["30000", "450015000", "30000"].map(|v| Some(v.to_owned()));
    assert_eq!(rows[0], [expected.to_vec()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_timestamps_are_written_as_duckdb_prints_them() {
    let copy = "COPY (SELECT CAST('2024-01-02 03:04:05.5' AS TIMESTAMP) AS a, \
        CAST('2024-01-02 03:04:05' AS TIMESTAMP) AS b, \
        CAST('2024-01-02 03:04:05.120' AS TIMESTAMP) AS c, \
        CAST('2024-01-02 03:04:05.123456' AS TIMESTAMP) AS d, \
        CAST('2024-01-02' AS DATE) AS e) TO '{path}'";
    let (ours, theirs) = both_write(copy, "times.csv").await;
    assert_eq!(text(&ours), text(&theirs));
}

/// Partition values that need encoding, and NULL.
const AWKWARD: &str = "SELECT * FROM (VALUES (1, 'New York/NY'), (2, 'a=b'), (3, NULL), \
    (4, 'Zürich'), (5, 'two words'), (6, 'New York/NY')) t(id, place)";

/// Each format, partitioned by awkward values, both ways over S3: what one
/// writes the other reads back identically.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitioned_copies_round_trip_both_ways_with_duckdb() {
    let bucket = crate::support::Bucket::new().await;
    let session = bucket.session().await;
    for format in ["parquet", "csv", "json"] {
        let ours = bucket.url(&format!("rt/s3sql_{format}"));
        let theirs = bucket.url(&format!("rt/duckdb_{format}"));
        query(
            &session,
            &format!("COPY ({AWKWARD}) TO '{ours}' (FORMAT {format}, PARTITION_BY (place))"),
        )
        .await;
        // DuckDB 1.5.5 refuses PARTITION_BY for FORMAT json; it writes CSV there.
        let their_format = if format == "json" { "csv" } else { format };
        duckdb(
            Some(&bucket),
            &[format!(
                "COPY ({AWKWARD}) TO '{theirs}' (FORMAT {their_format}, PARTITION_BY (place))"
            )],
        );
        let reader = |url: &str, f: &str| match f {
            "parquet" => format!("read_parquet('{url}/*/*.parquet', hive_partitioning = true)"),
            "csv" => format!("read_csv('{url}/*/*.csv', hive_partitioning = true)"),
            _ => format!("read_json('{url}/*/*.json', hive_partitioning = true)"),
        };
        let sql =
            |url: &str, f: &str| format!("SELECT id, place FROM {} ORDER BY id", reader(url, f));
        let expected = vec![
            vec![Some("1".to_owned()), Some("New York/NY".to_owned())],
            vec![Some("2".to_owned()), Some("a=b".to_owned())],
            vec![Some("3".to_owned()), None],
            vec![Some("4".to_owned()), Some("Zürich".to_owned())],
            vec![Some("5".to_owned()), Some("two words".to_owned())],
            vec![Some("6".to_owned()), Some("New York/NY".to_owned())],
        ];
        // s3sql writes, DuckDB reads.
        let read_by_duckdb = duckdb(Some(&bucket), &[sql(&ours, format)]);
        assert_eq!(
            read_by_duckdb[0], expected,
            "DuckDB reading s3sql's {format}"
        );
        // DuckDB writes, s3sql reads.
        let read_by_us = query(&session, &sql(&theirs, their_format)).await;
        let mut ours_table = query(&session, &sql(&ours, format)).await;
        assert_eq!(
            read_by_us, ours_table,
            "s3sql reading DuckDB's {their_format}"
        );
        ours_table.retain(|l| l.contains("Zürich") || l.contains("New York/NY"));
        assert_eq!(ours_table.len(), 3, "{ours_table:?}");
    }
}

/// Values whose text DuckDB writes its own way: doubles and floats
/// (`1e+20`, `1e-07`, `nan`, `inf`), a BLOB, a zoned timestamp (`+00`),
/// times and timestamps with a fraction. Written by DuckDB (TimeZone UTC)
/// to Parquet, so both read the same typed values.
const TYPED: &str = "SELECT * FROM (VALUES \
    (1, 1e20::DOUBLE, 1e-7::FLOAT, '\\xAA\\x00ab\"c'::BLOB, TIMESTAMPTZ '2024-01-02 03:04:05.5+00', TIME '03:04:05.25', TIMESTAMP '2024-01-02 03:04:05.5'), \
    (2, 'nan'::DOUBLE, 'inf'::FLOAT, 'plain'::BLOB, TIMESTAMPTZ '2024-01-02 03:04:05+00', TIME '03:04:05', TIMESTAMP '2024-01-02 03:04:05'), \
    (3, 0.1::DOUBLE, 100::FLOAT, ''::BLOB, TIMESTAMPTZ '2024-01-02 00:00:00.25+00', TIME '00:00:00.5', TIMESTAMP '2024-01-02 00:00:00.125')) \
    t(i, d, f, b, tz, t, ts)";

/// The TYPED rows as a Parquet file DuckDB wrote, in `dir`.
fn typed_parquet(dir: &std::path::Path) -> String {
    let path = dir.join("typed.parquet").display().to_string();
    duckdb(
        None,
        &[
            "SET TimeZone = 'UTC'".to_owned(),
            format!("COPY ({TYPED}) TO '{path}'"),
        ],
    );
    path
}

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floats_blobs_zoned_timestamps_and_times_are_written_as_duckdb_writes_them() {
    let dir = tempfile::tempdir().unwrap();
    let source = typed_parquet(dir.path());
    let session = Session::with_secrets(SecretManager::new(None));
    // Every column, in CSV and in JSON (NaN, Infinity, 100000000000000000000.0).
    for name in ["typed.csv", "typed.json"] {
        let copy = format!("COPY (SELECT * FROM '{source}' ORDER BY i) TO '{{path}}'");
        let (ours, theirs) = both_write(&copy, name).await;
        assert_eq!(text(&ours), text(&theirs), "{name}");
    }
    // Partition names: the same values, the same directories.
    let ours = dir.path().join("s3sql_parts");
    let theirs = dir.path().join("duckdb_parts");
    let copy = |path: &std::path::Path| {
        format!(
            "COPY (SELECT i, d, f, tz, t, ts FROM '{source}') TO '{}' (FORMAT csv, PARTITION_BY (d, f, tz, t, ts))",
            path.display()
        )
    };
    query(&session, &copy(&ours)).await;
    duckdb(None, &["SET TimeZone = 'UTC'".to_owned(), copy(&theirs)]);
    assert_eq!(files_under(&ours), files_under(&theirs));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_dateformat_and_timestampformat_are_written_as_duckdb_writes_them() {
    let copy = "COPY (SELECT CAST('2024-01-02' AS DATE) AS d, \
        CAST('2024-01-02 03:04:05.5' AS TIMESTAMP) AS ts, \
        CAST(NULL AS DATE) AS n) TO '{path}' \
        (DATEFORMAT '%d/%m/%Y', TIMESTAMPFORMAT '%d/%m/%Y %H:%M:%S')";
    let (ours, theirs) = both_write(copy, "formats.csv").await;
    assert_eq!(text(&ours), text(&theirs));
}

/// DATEFORMAT and TIMESTAMPFORMAT apply to JSON as to CSV (the DATE,
/// TIMESTAMP and TIMESTAMPTZ columns, not the values in a STRUCT or LIST),
/// and ARRAY writes one array laid out as DuckDB's, `[]` of no rows too.
/// They were refused: "DATEFORMAT applies to FORMAT csv only", "ARRAY is
/// not supported yet" (review-9d #10).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_dateformat_timestampformat_and_array_are_written_as_duckdb_writes_them() {
    let values = "SELECT CAST('2024-01-05' AS DATE) AS d, \
        CAST('2024-01-02 03:04:05.5' AS TIMESTAMP) AS ts, \
        CAST('2024-01-02 03:04:05+00' AS TIMESTAMPTZ) AS tz, \
        {'d': CAST('2024-02-03' AS DATE), 't': CAST('2024-01-01 00:00:00' AS TIMESTAMP)} AS s, \
        [CAST('2024-03-04' AS DATE)] AS l, CAST(NULL AS DATE) AS n, \
        CAST('01:02:03' AS TIME) AS t, 'x\"y' AS v";
    for (query, options) in [
        (
            values,
            "DATEFORMAT '%d/%m/%Y', TIMESTAMPFORMAT '%Y|%H \"%M\"'",
        ),
        (values, "ARRAY true"),
        (values, "ARRAY true, DATEFORMAT '%Y'"),
        (values, "ARRAY false"),
        ("SELECT i FROM range(3) t(i)", "ARRAY true"),
        ("SELECT i FROM range(0) t(i)", "ARRAY true"),
        ("SELECT CAST(NULL AS INT) AS a", "ARRAY true"),
    ] {
        let copy = format!("COPY ({query}) TO '{{path}}' (FORMAT json, {options})");
        let (ours, theirs) = both_write(&copy, "dates.json").await;
        assert_eq!(text(&ours), text(&theirs), "{copy}");
    }
}

/// Columns of unique values are written plain, not dictionary-encoded,
/// as DuckDB 1.5.5 writes them, and a column of few values keeps its
/// dictionary: the file is about DuckDB's size. arrow-rs's 1 MiB
/// dictionary held a whole row group of unique values, a file a third
/// bigger than DuckDB's and twice as slow to write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unique_columns_are_written_plain_as_duckdb_writes_them() {
    const ROWS: &str = "SELECT i AS id, i % 3 AS k, CAST(i AS DOUBLE) * 0.25 AS amount, \
        'row-' || CAST(i AS VARCHAR) AS label FROM range(300000) t(i)";
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("s3sql.parquet").display().to_string();
    let theirs = dir.path().join("duckdb.parquet").display().to_string();
    let session = Session::with_secrets(SecretManager::new(None));
    query(&session, &format!("COPY ({ROWS}) TO '{ours}'")).await;
    let sizes = |path: &str| {
        format!(
            "SELECT path_in_schema, sum(total_compressed_size) FROM parquet_metadata('{path}') \
             GROUP BY ALL ORDER BY ALL"
        )
    };
    let read = duckdb(
        None,
        &[
            format!("COPY ({ROWS}) TO '{theirs}'"),
            sizes(&ours),
            sizes(&theirs),
        ],
    );
    let size = |rows: &[Vec<Option<String>>]| -> Vec<(String, f64)> {
        rows.iter()
            .map(|r| {
                let bytes = r[1].as_deref().unwrap().parse::<f64>().unwrap();
                (r[0].clone().unwrap(), bytes)
            })
            .collect()
    };
    for ((column, ours), (_, theirs)) in size(&read[1]).into_iter().zip(size(&read[2])) {
        assert!(
            ours <= theirs * 1.1 + 4096.0,
            "column {column}: s3sql {ours} bytes, DuckDB {theirs}"
        );
    }
}

/// PARTITION_BY a DOUBLE or FLOAT holding both 0.0 and -0.0 makes one
/// partition, named by the zero seen first, as DuckDB 1.5.5 groups them
/// (they compare equal); s3sql made two (review-9d #7).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_of_zero_and_negative_zero_is_one_as_duckdb() {
    let dir = tempfile::tempdir().unwrap();
    let session = Session::with_secrets(SecretManager::new(None));
    for (n, rows) in [
        "('-0.0', 1), ('0.0', 2), ('1.5', 3), ('-0.0', 4)",
        "('0.0', 1), ('-0.0', 2), (NULL, 3)",
    ]
    .into_iter()
    .enumerate()
    {
        let copy = |path: &std::path::Path| {
            format!(
                "COPY (SELECT d::DOUBLE AS d, d::FLOAT AS f, i FROM (VALUES {rows}) t(d, i) ORDER BY i) \
                 TO '{}' (FORMAT csv, PARTITION_BY (d, f))",
                path.display()
            )
        };
        let ours = dir.path().join(format!("s3sql_{n}"));
        let theirs = dir.path().join(format!("duckdb_{n}"));
        query(&session, &copy(&ours)).await;
        duckdb(None, &[copy(&theirs)]);
        assert_eq!(files_under(&ours), files_under(&theirs), "{rows}");
    }
}

/// PARTITION_BY a DOUBLE or FLOAT holding NaNs of either sign makes one
/// `nan` partition, as DuckDB 1.5.5 writes (partitions are found by the
/// row format, which tells NaNs apart by their bits).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_of_nans_of_either_sign_is_one_as_duckdb() {
    let dir = tempfile::tempdir().unwrap();
    let session = Session::with_secrets(SecretManager::new(None));
    let copy = |path: &std::path::Path| {
        format!(
            "COPY (SELECT d, d::FLOAT AS f, i FROM (SELECT CASE i % 3 WHEN 0 THEN 'nan'::DOUBLE \
             WHEN 1 THEN -('nan'::DOUBLE) ELSE 2.5 END AS d, i FROM range(7) t(i)) ORDER BY i) \
             TO '{}' (FORMAT csv, PARTITION_BY (d, f))",
            path.display()
        )
    };
    let ours = dir.path().join("s3sql");
    let theirs = dir.path().join("duckdb");
    query(&session, &copy(&ours)).await;
    duckdb(None, &[copy(&theirs)]);
    let files = files_under(&ours);
    assert_eq!(files, files_under(&theirs));
    assert_eq!(files.len(), 2, "{files:?}");
    for file in files {
        let read = |root: &std::path::Path| std::fs::read_to_string(root.join(&file)).unwrap();
        assert_eq!(read(&ours), read(&theirs), "{file}");
    }
}

/// FILE_SIZE_BYTES and PER_THREAD_OUTPUT of a query with no rows write
/// `data_0` (a CSV's header, a Parquet file of no rows) as DuckDB 1.5.5
/// does, so a later read of the directory finds a file and no rows; they
/// wrote nothing (review-9d #7).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_copy_of_no_rows_writes_its_first_file_as_duckdb() {
    let dir = tempfile::tempdir().unwrap();
    let session = Session::with_secrets(SecretManager::new(None));
    for (format, option) in [
        ("csv", "FILE_SIZE_BYTES 1000"),
        ("parquet", "FILE_SIZE_BYTES 1000"),
        ("csv", "PER_THREAD_OUTPUT"),
    ] {
        let copy = |path: &std::path::Path| {
            format!(
                "COPY (SELECT 1 AS a WHERE false) TO '{}' (FORMAT {format}, {option})",
                path.display()
            )
        };
        let ours = dir.path().join(format!("s3sql_{format}_{}", option.len()));
        let theirs = dir.path().join(format!("duckdb_{format}_{}", option.len()));
        query(&session, &copy(&ours)).await;
        duckdb(None, &[copy(&theirs)]);
        assert_eq!(
            files_under(&ours),
            files_under(&theirs),
            "{format} {option}"
        );
        if format == "csv" {
            let read = |d: &std::path::Path| std::fs::read(d.join("data_0.csv")).unwrap();
            assert_eq!(text(&read(&ours)), text(&read(&theirs)));
        }
    }
}

/// INTERVALs (and a timestamp difference) are written to Parquet as DuckDB
/// 1.5.5 writes them, Parquet's INTERVAL of months, days and milliseconds,
/// and DuckDB reads back from s3sql's file what it reads from its own; a
/// negative one is refused as DuckDB refuses it, and no file is left. The
/// COPY failed: "NYI: Attempting to write an Arrow interval type
/// MonthDayNano to parquet".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intervals_are_written_to_parquet_as_duckdb_writes_them() {
    const VALUES: &str = "SELECT INTERVAL '1 year 2 months 3 days 4 hours 5 minutes 6.789 seconds' AS iv, \
        INTERVAL '36 hours' AS h, CAST(NULL AS INTERVAL) AS n, \
        INTERVAL '1 day 0.000001 seconds' AS us, \
        TIMESTAMP '2024-01-03 01:00:00.5' - TIMESTAMP '2024-01-01 00:00:00' AS d";
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("s3sql.parquet").display().to_string();
    let theirs = dir.path().join("duckdb.parquet").display().to_string();
    let session = Session::with_secrets(SecretManager::new(None));
    query(&session, &format!("COPY ({VALUES}) TO '{ours}'")).await;
    let schema = |path: &str| {
        format!(
            "SELECT name, type, type_length, converted_type FROM parquet_schema('{path}') \
             WHERE type IS NOT NULL"
        )
    };
    let rows = |path: &str| format!("SELECT COLUMNS(*)::VARCHAR FROM '{path}'");
    let read = duckdb(
        None,
        &[
            format!("COPY ({VALUES}) TO '{theirs}'"),
            schema(&ours),
            schema(&theirs),
            rows(&ours),
            rows(&theirs),
        ],
    );
    assert_eq!(read[1], read[2], "Parquet schema, s3sql vs DuckDB");
    assert_eq!(
        read[3], read[4],
        "values read by DuckDB, s3sql's vs DuckDB's file"
    );
    assert_eq!(
        read[3][0][0].as_deref(),
        Some("1 year 2 months 3 days 04:05:06.789")
    );
    let negative = dir.path().join("negative.parquet");
    let e = crate::support::error_of(
        &session,
        &format!(
            "COPY (SELECT INTERVAL '-1 day' AS neg) TO '{}'",
            negative.display()
        ),
    )
    .await;
    assert!(e.contains("column neg holds a negative INTERVAL"), "{e}");
    assert!(!negative.exists());
}

/// DuckDB's own strftime specifiers, which chrono reads otherwise or not
/// at all: `%f` microseconds (chrono: nanoseconds), `%g` milliseconds,
/// `%n` nanoseconds, `%c`, `%x`, `%X`, `%z`, and the time of day of a DATE
/// (`%Z` in strftime's unit tests: a TIMESTAMPTZ cast by DataFusion has no
/// zone; review-9c #1: `%g` wrote the ISO year, `%n` a line break,
/// `%x` `03/05/24`, and `%H` of a DATE failed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdbs_strftime_specifiers_are_written_as_duckdb_writes_them() {
    for format in [
        "%Y-%m-%d %H:%M:%S.%f",
        "%g|%n",
        "%c",
        "%x %X %T",
        "%z",
        "%-d/%-m/%-y %-I%p %-H:%-M:%-S %j %-j %a %A %b %h %B %U %W %V %G %u %w 100%%",
    ] {
        let copy = format!(
            "COPY (SELECT CAST('2024-03-05' AS DATE) AS d, \
             CAST('2024-03-05 17:08:09.123456' AS TIMESTAMP) AS ts, \
             CAST('2024-03-05 07:08:09.5+00' AS TIMESTAMPTZ) AS tz) TO '{{path}}' \
             (DATEFORMAT '{format}', TIMESTAMPFORMAT '{format}')"
        );
        let (ours, theirs) = both_write(&copy, "strftime.csv").await;
        assert_eq!(text(&ours), text(&theirs), "{format}");
    }
}

/// Doubles of every magnitude, and ties between two shortest texts
/// (1e15 + i + 0.25: `.2` or `.3`?), written by DuckDB to Parquet; both
/// write them as CSV and as JSON, byte for byte the same. (Not powers of two: DuckDB
/// 1.5.5 writes 2^81 as `4.835703278458517e+24`, 2^82's text, and 2^807
/// as `A.070116948172427e+242`; s3sql writes what the value is.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doubles_of_every_magnitude_and_shortest_text_ties_are_written_as_duckdb_writes_them() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("doubles.parquet").display().to_string();
    duckdb(
        None,
        &[
            "SELECT setseed(0.25)".to_owned(),
            format!(
                "COPY (SELECT i, (random() - 0.5) * pow(10, (random() * 616 - 308)::INT) AS r, \
                 1e15 + i + 0.25 AS tie, (i + 0.5) * 1e10 AS half, i / 7 AS seventh, \
                 1 / (i + 1) * 1e-3 AS small FROM range(20000) t(i)) TO '{source}'"
            ),
        ],
    );
    for name in ["doubles.csv", "doubles.json"] {
        let copy = format!("COPY (SELECT * FROM '{source}' ORDER BY i) TO '{{path}}'");
        let (ours, theirs) = both_write(&copy, name).await;
        assert_same_text(name, &ours, &theirs);
    }
}

/// Rows for the single-file round trips: '' beside NULL, unicode, a
/// quote, doubles DuckDB and arrow write differently (1e20, 1e-7).
const ONE_FILE: &str = "SELECT * FROM (VALUES \
    (1, '', 1e20::DOUBLE, TRUE), \
    (2, NULL, 1e-7::DOUBLE, NULL), \
    (3, 'Zürich \"x\"', 0.1::DOUBLE, FALSE), \
    (4, 'a,b\nc', NULL, TRUE)) t(id, s, d, b)";

/// One file of each format, not partitioned, both ways over S3: what
/// s3sql writes DuckDB reads as the rows it would write itself, and what
/// DuckDB writes s3sql reads as the rows it would write itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_files_round_trip_both_ways_with_duckdb() {
    let bucket = crate::support::Bucket::new().await;
    let session = bucket.session().await;
    for format in ["parquet", "json", "csv"] {
        let ours = bucket.url(&format!("one/s3sql.{format}"));
        let theirs = bucket.url(&format!("one/duckdb.{format}"));
        query(&session, &format!("COPY ({ONE_FILE}) TO '{ours}'")).await;
        duckdb(Some(&bucket), &[format!("COPY ({ONE_FILE}) TO '{theirs}'")]);
        // DuckDB's CSV reader takes "" for NULL unless told not to.
        let options = if format == "csv" {
            ", allow_quoted_nulls = false"
        } else {
            ""
        };
        let sql = |url: &str| {
            format!("SELECT id, s, d, b FROM read_{format}('{url}'{options}) ORDER BY id")
        };
        // s3sql writes, DuckDB reads.
        let read_by_duckdb = duckdb(
            Some(&bucket),
            &[sql(&ours), format!("{ONE_FILE} ORDER BY id")],
        );
        assert_eq!(
            read_by_duckdb[0], read_by_duckdb[1],
            "DuckDB reading s3sql's {format}"
        );
        // DuckDB writes, s3sql reads.
        let sql = |url: &str| format!("SELECT id, s, d, b FROM '{url}' ORDER BY id");
        let read_by_us = query(&session, &sql(&theirs)).await;
        assert_eq!(
            read_by_us,
            query(&session, &sql(&ours)).await,
            "s3sql reading DuckDB's {format}"
        );
        assert!(
            read_by_us.iter().any(|l| l.contains("Zürich")),
            "{read_by_us:?}"
        );
    }
}

/// Nested values (LIST, STRUCT, MAP, lists of lists and of structs) over
/// strings DuckDB quotes inside them ('', NULL-looking, space-padded, any
/// of `,'":=[]{}()`) and ones it does not, and over values of every kind
/// whose text DuckDB writes its own way. Written by DuckDB (TimeZone UTC)
/// to Parquet, so both read the same typed values.
const NESTED: &str = "WITH v(i, s) AS (VALUES (0, ''), (1, 'NULL'), (2, 'nUlL'), (3, ' lead'), \
    (4, 'trail' || chr(9)), (5, 'two words'), (6, 'a,b'), (7, 'it''s'), (8, 'say \"hi\"'), \
    (9, 'a:b'), (10, 'a=b'), (11, '[a]'), (12, '{a}'), (13, '(a)'), (14, 'back\\slash'), \
    (15, 'back\\,slash'), (16, 'plain'), (17, 'Zürich'), (18, NULL), \
    (19, 'line' || chr(10) || 'break'), (20, 'x#y;z|w'), (21, chr(11) || 'v')) \
    SELECT i, [s, 'x'] AS l, {'k': s, 'n': i, 'it''s ,:': [s]} AS st, \
    MAP {coalesce(s, 'none'): s} AS m, [[s], [], NULL] AS ll, [{'a': s}] AS ls, \
    [i * 1e20, 'nan'::DOUBLE, NULL] AS ld, [(i / 10)::FLOAT] AS lf, [DATE '2024-01-02' + i] AS ldate, \
    [TIMESTAMP '2024-01-02 03:04:05.5' + i * INTERVAL 1 SECOND] AS lts, \
    [TIMESTAMPTZ '2024-01-02 03:04:05.25+00'] AS ltz, [TIME '03:04:05.25'] AS lt, \
    [encode(s), '\\xAA\\x00'::BLOB] AS lb, [i % 2 = 0, NULL] AS lbool, \
    [(i * 1.25)::DECIMAL(10,2)] AS ldec, (i * 1.25)::DECIMAL(10,2) AS dec, \
    CASE WHEN i % 3 = 0 THEN NULL ELSE [i] END AS lnull, MAP {i: [s]} AS mi FROM v";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_values_are_written_as_duckdb_writes_them() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("nested.parquet").display().to_string();
    duckdb(
        None,
        &[
            "SET TimeZone = 'UTC'".to_owned(),
            format!("COPY ({NESTED}) TO '{source}'"),
        ],
    );
    for name in ["nested.csv", "nested.json"] {
        let copy = format!("COPY (SELECT * FROM '{source}' ORDER BY i) TO '{{path}}'");
        let (ours, theirs) = both_write(&copy, name).await;
        assert_same_text(name, &ours, &theirs);
    }
}

/// DuckDB 1.5.5 writes UUID and JSON columns to Parquet with their logical
/// types; read by s3sql and written again to Parquet, they stay a UUID and
/// a JSON to DuckDB (review-9b #2: a UUID came back as a 16-byte BLOB).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uuid_and_json_columns_keep_their_types_as_duckdb_writes_them() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("typed.parquet").display().to_string();
    duckdb(
        None,
        &[format!(
            "COPY (SELECT * FROM (VALUES (1, '0b3b1e7e-8f6a-4c2d-9e1f-2a3b4c5d6e7f'::UUID, '{{\"a\": [1, 2]}}'::JSON), \
             (2, NULL, NULL), (3, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::UUID, '\"x\"'::JSON)) t(i, u, j)) TO '{source}'"
        )],
    );
    let session = Session::with_secrets(SecretManager::new(None));
    let ours = dir.path().join("ours.parquet").display().to_string();
    query(
        &session,
        &format!("COPY (SELECT * FROM '{source}' ORDER BY i) TO '{ours}'"),
    )
    .await;
    let read = duckdb(
        None,
        &[
            format!("SELECT i, typeof(u), u, typeof(j), j FROM '{ours}' ORDER BY i"),
            format!("SELECT i, typeof(u), u, typeof(j), j FROM '{source}' ORDER BY i"),
        ],
    );
    assert_eq!(read[0], read[1], "DuckDB reading s3sql's Parquet");
    assert_eq!(read[0][0][1].as_deref(), Some("UUID"), "{read:?}");
    assert_eq!(read[0][0][3].as_deref(), Some("JSON"), "{read:?}");
    // DESCRIBE names them as DuckDB does.
    let described = query(&session, &format!("DESCRIBE SELECT u, j FROM '{source}'")).await;
    let types: Vec<String> = crate::support::table_rows(&described)
        .iter()
        .map(|row| row.split(',').take(2).collect::<Vec<_>>().join(" "))
        .collect();
    let theirs = duckdb(None, &[format!("DESCRIBE SELECT u, j FROM '{source}'")]);
    let expected: Vec<String> = theirs[0]
        .iter()
        .map(|row| {
            format!(
                "{} {}",
                row[0].as_deref().unwrap(),
                row[1].as_deref().unwrap()
            )
        })
        .collect();
    assert_eq!(types, expected, "{described:?}");
    // As text, byte for byte DuckDB's: the UUID dashed (was the BLOB
    // `\x0B;\x1E~...`), the JSON value itself in JSON (was a string).
    for name in ["typed.csv", "typed.json"] {
        let copy = format!("COPY (SELECT * FROM '{source}' ORDER BY i) TO '{{path}}'");
        let (ours, theirs) = both_write(&copy, name).await;
        assert_same_text(name, &ours, &theirs);
    }
    // A UUID partition's directory name.
    let copy = |path: &std::path::Path| {
        format!(
            "COPY (SELECT i, u FROM '{source}') TO '{}' (FORMAT csv, PARTITION_BY (u))",
            path.display()
        )
    };
    let (ours, theirs) = (dir.path().join("s3sql_u"), dir.path().join("duckdb_u"));
    query(&session, &copy(&ours)).await;
    duckdb(None, &[copy(&theirs)]);
    assert_eq!(files_under(&ours), files_under(&theirs));
}

/// Dictionary-encoded DOUBLE and TIMESTAMP columns (an arrow-written
/// Parquet file's, `arrow_cast`) have their values' text, DuckDB's, in a
/// CSV COPY and a cast to VARCHAR: they were arrow's `2024-01-02T06:00:00`
/// and `1e20`, `0.00001` (review 8b #1). DuckDB writes the same values
/// plain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dictionary_encoded_doubles_and_timestamps_are_written_as_duckdb_writes_them() {
    let values = [
        (
            "TIMESTAMP '2024-01-02 06:00:00.5'",
            "Timestamp(Nanosecond, None)",
        ),
        (
            "TIMESTAMP '2024-01-02 06:00:00'",
            "Timestamp(Nanosecond, None)",
        ),
        ("1e-5", "Float64"),
        ("1e20", "Float64"),
        ("CAST(NULL AS DOUBLE)", "Float64"),
    ];
    let ours: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, (v, t))| format!("arrow_cast({v}, 'Dictionary(Int32, {t})') AS c{i}"))
        .collect();
    let theirs: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, (v, _))| format!("{v} AS c{i}"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let (ours_path, theirs_path) = (dir.path().join("s3sql.csv"), dir.path().join("duckdb.csv"));
    let session = Session::with_secrets(SecretManager::new(None));
    query(
        &session,
        &format!(
            "COPY (SELECT {}) TO '{}'",
            ours.join(", "),
            ours_path.display()
        ),
    )
    .await;
    duckdb(
        None,
        &[format!(
            "COPY (SELECT {}) TO '{}'",
            theirs.join(", "),
            theirs_path.display()
        )],
    );
    let (ours_csv, theirs_csv) = (
        std::fs::read(&ours_path).unwrap(),
        std::fs::read(&theirs_path).unwrap(),
    );
    assert_same_text("dictionary.csv", &ours_csv, &theirs_csv);
    let cast = |columns: &[String]| {
        columns
            .iter()
            .map(|c| {
                let (value, name) = c.rsplit_once(" AS ").unwrap();
                format!("CAST({value} AS VARCHAR) AS {name}")
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let ours_text = table_rows(&query(&session, &format!("SELECT {}", cast(&ours))).await);
    let theirs_text = duckdb(None, &[format!("SELECT {}", cast(&theirs))]);
    assert_eq!(ours_text, duckdb_rows(&theirs_text[0]));
}

/// A QUOTE other than `"` escapes with ESCAPE (default `"`), the
/// ESCAPE itself escaped too, only inside a quoted field; numbers quoted
/// when the QUOTE is one of their bytes; FORCE_QUOTE's columns (and `*`)
/// quoted, their header names too, NULL never. s3sql doubled the QUOTE
/// (`|x||y|`, `111.01`) and refused ESCAPE and FORCE_QUOTE (review 8b #2,
/// #3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quote_escape_and_force_quote_are_written_as_duckdb_writes_them() {
    const ROWS: &str = "SELECT * FROM (VALUES \
        (1, 'a\"b,c', 'x|y', 1.0::DOUBLE, 'a1', NULL, ''), \
        (2, 'p\\q', 'e#', -1e20::DOUBLE, 'x\"1|', 'n', 'plain'), \
        (11, 'a\"1', '|', 'inf'::DOUBLE, '1', '\"', 'e\\e')) t(i, s, \"t|1\", d, u, n, e)";
    for options in [
        "QUOTE '|'",
        "QUOTE '1'",
        "QUOTE '|', ESCAPE '\\'",
        "ESCAPE '\\'",
        "ESCAPE '1'",
        "ESCAPE 'e'",
        "ESCAPE ''",
        "QUOTE '|', ESCAPE '|'",
        "FORCE_QUOTE (d, I, n, e)",
        "FORCE_QUOTE *",
        "FORCE_QUOTE *, QUOTE '|', ESCAPE '\\'",
        "FORCE_QUOTE s, HEADER false",
        "FORCE_QUOTE (\"t|1\"), QUOTE '1', DELIMITER ';'",
    ] {
        let copy = format!("COPY ({ROWS}) TO '{{path}}' ({options})");
        let (ours, theirs) = both_write(&copy, "quoted.csv").await;
        assert_same_text(&copy, &ours, &theirs);
    }
}

/// A CSV DuckDB wrote with QUOTE '|' (`|a""b,c|,|x"|y|`: the ESCAPE `"`
/// before `"` and `|`) reads back with `quote = '|'` as DuckDB reads it,
/// sniffed and with `auto_detect = false`: s3sql read `a""b,c` and `x"y|`
/// (review 8b #4).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_duckdb_wrote_with_another_quote_reads_back_as_duckdb_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bar.csv").display().to_string();
    duckdb(
        None,
        &[format!(
            "COPY (SELECT * FROM (VALUES ('a\"b,c', 'x|y'), ('p\"|q', '\"')) t(s, t)) \
             TO '{path}' (QUOTE '|')"
        )],
    );
    let session = Session::with_secrets(SecretManager::new(None));
    for options in [
        "quote = '|'",
        "quote = '|', auto_detect = false, header = true, \
         columns = {'s': 'VARCHAR', 't': 'VARCHAR'}",
    ] {
        // `|` shown as `/`: the table's cells are split at `|`.
        let sql = format!(
            "SELECT replace(s, '|', '/') AS s, replace(t, '|', '/') AS t \
             FROM read_csv('{path}', {options}) ORDER BY s"
        );
        let ours = table_rows(&query(&session, &sql).await);
        let theirs = duckdb(None, std::slice::from_ref(&sql));
        assert_eq!(ours, duckdb_rows(&theirs[0]), "{sql}");
    }
}

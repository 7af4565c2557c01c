//! Formats through `s3sql_formats`: CSV dialects sniffed from a ranged
//! sample (delimiter, header, quotes), DuckDB's options overriding them,
//! TSV, JSON arrays beside newline-delimited JSON, and Parquet told by its
//! magic bytes when the name says nothing.

use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};

use crate::support::{Bucket, error_of, parquet, query, table_rows};

#[tokio::test]
async fn csv_dialect_is_sniffed_and_options_override_it() {
    let bucket = Bucket::new().await;
    bucket
        .put(
            "c/semi.csv",
            "city;note;n\nOslo;\"a;b\";1\nRome;\"say \"\"hi\"\"\";2\n",
        )
        .await;
    bucket.put("c/bare.csv", "1,10\n2,20\n").await;
    bucket.put("c/tabs.tsv", "k\tv\nx\t5\n").await;
    let session = bucket.session().await;
    let semi = format!(
        "SELECT city, note, n + 1 AS m FROM '{}' ORDER BY n",
        bucket.url("c/semi.csv")
    );
    assert_eq!(
        query(&session, &semi).await,
        [
            "+------+----------+---+",
            "| city | note     | m |",
            "+------+----------+---+",
            "| Oslo | a;b      | 2 |",
            "| Rome | say \"hi\" | 3 |",
            "+------+----------+---+",
        ]
    );
    let bare = format!(
        "SELECT sum(column1) AS s FROM read_csv('{}', header = false)",
        bucket.url("c/bare.csv")
    );
    assert_eq!(
        query(&session, &bare).await,
        ["+----+", "| s  |", "+----+", "| 30 |", "+----+"]
    );
    let tsv = format!("SELECT k, v FROM '{}'", bucket.url("c/tabs.tsv"));
    assert_eq!(
        query(&session, &tsv).await,
        [
            "+---+---+",
            "| k | v |",
            "+---+---+",
            "| x | 5 |",
            "+---+---+"
        ]
    );
    let forced = format!(
        "SELECT * FROM read_csv('{}', delim = '|')",
        bucket.url("c/tabs.tsv")
    );
    assert_eq!(
        query(&session, &forced).await,
        ["+-----+", "| k\tv |", "+-----+", "| x\t5 |", "+-----+"]
    );
}

#[tokio::test]
async fn json_arrays_and_parquet_without_an_extension() {
    let bucket = Bucket::new().await;
    bucket
        .put(
            "j/array.json",
            "[{\"a\": 1, \"b\": \"x\"}, {\"a\": 2, \"b\": \"y\"}]",
        )
        .await;
    let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
    let batch = RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![7, 8]))]).unwrap();
    bucket.put("j/blob", parquet(&batch)).await;
    let session = bucket.session().await;
    let array = format!(
        "SELECT b FROM read_json('{}') WHERE a = 2",
        bucket.url("j/array.json")
    );
    assert_eq!(
        query(&session, &array).await,
        ["+---+", "| b |", "+---+", "| y |", "+---+"]
    );
    let blob = format!("SELECT sum(v) AS s FROM '{}'", bucket.url("j/blob"));
    assert_eq!(
        query(&session, &blob).await,
        ["+----+", "| s  |", "+----+", "| 15 |", "+----+"]
    );
    let wrong = error_of(
        &session,
        &format!(
            "SELECT * FROM read_csv('{}', delim = 'ab')",
            bucket.url("j/array.json")
        ),
    )
    .await;
    assert!(wrong.contains("delim"), "{wrong}");
}

/// A JSON array file big enough for DataFusion to split (4 MB, one line,
/// as `json.dump` writes it) is read whole, in one piece: DataFusion
/// refuses to read an array in byte ranges (review-8e #21).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_json_array_file_is_read_whole() {
    let bucket = Bucket::new().await;
    let pad = "x".repeat(40);
    let objects: Vec<String> = (0..60_000)
        .map(|i| format!("{{\"id\":{i},\"s\":\"{pad}\",\"n\":{{\"a\":{i}}}}}"))
        .collect();
    let array = format!("[{}]", objects.join(","));
    assert!(array.len() > 4 << 20, "big enough to be split");
    bucket.put("j/big_array.json", array).await;
    let session = bucket.session().await;
    query(&session, "SET datafusion.execution.target_partitions = 4").await;
    let sql = format!(
        "SELECT count(*) AS n, sum(id) AS s FROM '{}'",
        bucket.url("j/big_array.json")
    );
    assert_eq!(
        query(&session, &sql).await,
        [
            "+-------+------------+",
            "| n     | s          |",
            "+-------+------------+",
            "| 60000 | 1799970000 |",
            "+-------+------------+",
        ]
    );
}

/// A `.zst` made of several zstd frames (`zstd` of appended files, pzstd,
/// DuckDB's writer) and a `.gz` of several gzip members are read to their
/// end, as DuckDB and `zstd -d` read them, by each reader: CSV through
/// DataFusion's opener and through s3sql's (`nullstr`), and JSON.
#[tokio::test]
async fn every_zstd_frame_and_gzip_member_is_read() {
    use std::io::Write;
    let gzip = |text: &str| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    };
    let zstd = |text: &str| zstd::encode_all(text.as_bytes(), 1).unwrap();
    // Three parts of 100 rows each, ids 0..300; the header in the first.
    let csv: Vec<String> = (0..3)
        .map(|part| {
            let head = if part == 0 { "id,name\n" } else { "" };
            let rows: String = (part * 100..(part + 1) * 100)
                .map(|i| format!("{i},n{i}\n"))
                .collect();
            format!("{head}{rows}")
        })
        .collect();
    let json: Vec<String> = (0..3)
        .map(|part| {
            (part * 100..(part + 1) * 100)
                .map(|i| format!("{{\"id\": {i}, \"name\": \"n{i}\"}}\n"))
                .collect()
        })
        .collect();
    let bucket = Bucket::new().await;
    let local = tempfile::tempdir().unwrap();
    for (name, parts) in [("csv", &csv), ("jsonl", &json)] {
        let zst: Vec<u8> = parts.iter().flat_map(|p| zstd(p)).collect();
        let gz: Vec<u8> = parts.iter().flat_map(|p| gzip(p)).collect();
        std::fs::write(local.path().join(format!("t.{name}.zst")), &zst).unwrap();
        bucket.put(&format!("frames/t.{name}.zst"), zst).await;
        bucket.put(&format!("frames/t.{name}.gz"), gz).await;
    }
    let session = bucket.session().await;
    let whole = [
        "+-----+-------+",
        "| n   | s     |",
        "+-----+-------+",
        "| 300 | 44850 |",
        "+-----+-------+",
    ];
    let urls = ["t.csv.zst", "t.csv.gz", "t.jsonl.zst", "t.jsonl.gz"]
        .map(|file| (file, bucket.url(&format!("frames/{file}"))));
    let paths = ["t.csv.zst", "t.jsonl.zst"]
        .map(|file| (file, local.path().join(file).display().to_string()));
    for (file, url) in urls.into_iter().chain(paths) {
        let mut reads = vec![format!("SELECT count(*) AS n, sum(id) AS s FROM '{url}'")];
        if file.starts_with("t.csv") {
            reads.push(format!(
                "SELECT count(*) AS n, sum(id) AS s FROM read_csv('{url}', nullstr = 'NA')"
            ));
        }
        for sql in reads {
            assert_eq!(query(&session, &sql).await, whole, "{sql}");
        }
    }
}

/// A JSON file starting with a UTF-8 byte order mark (Windows tools write
/// one) is read past it, as DuckDB reads it and as the schema sample did:
/// an array, pretty with CRLF, printed its rows and then failed
/// ("unexpected leading content before '['"), newline-delimited JSON
/// failed at once (review-10f #2). Compressed, and a local file, too.
#[tokio::test]
async fn a_byte_order_mark_before_json_is_read_past() {
    use std::io::Write;
    let array = "\u{feff}[\r\n  {\"a\": 1, \"b\": \"x\"},\r\n  {\"a\": 2, \"b\": \"y\"}\r\n]\r\n";
    let lines = "\u{feff}{\"a\":1,\"b\":\"x\"}\n{\"a\":2,\"b\":\"y\"}\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(lines.as_bytes()).unwrap();
    let bucket = Bucket::new().await;
    bucket.put("bom/a.json", array).await;
    bucket.put("bom/l.jsonl", lines).await;
    bucket.put("bom/l.jsonl.gz", gz.finish().unwrap()).await;
    bucket
        .put(
            "bom/a.json.zst",
            zstd::encode_all(array.as_bytes(), 1).unwrap(),
        )
        .await;
    let local = tempfile::tempdir().unwrap();
    let path = local.path().join("l.jsonl");
    std::fs::write(&path, lines).unwrap();
    let session = bucket.session().await;
    let urls = ["a.json", "l.jsonl", "l.jsonl.gz", "a.json.zst"]
        .map(|file| bucket.url(&format!("bom/{file}")))
        .into_iter()
        .chain([path.display().to_string()]);
    for url in urls {
        let sql = format!("SELECT a, b FROM '{url}' ORDER BY a");
        let rows = table_rows(&query(&session, &sql).await);
        assert_eq!(rows, ["1,x", "2,y"], "{sql}");
    }
}

/// A JSON record that does not decode is named by its line, as DuckDB
/// 1.5.5 names it ("in line 5001"), both past the sample (sum(a) over
/// a string) and in the schema's sample (a syntax error on line 4)
/// (review-8e #12: the first named the file only, the second said "line
/// 1 column 6", serde's position inside the record).
#[tokio::test]
async fn json_errors_name_the_line_of_the_record() {
    let bucket = Bucket::new().await;
    let mut bad: String = (0..5000).map(|i| format!("{{\"a\":{i}}}\n")).collect();
    bad.push_str("{\"a\":\"str\"}\n{\"a\":1}\n");
    bucket.put("jl/bad.jsonl", bad).await;
    bucket
        .put(
            "jl/syntax.jsonl",
            "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n{\"a\":}\n",
        )
        .await;
    let session = bucket.session().await;
    for (sql, line) in [
        (
            format!(
                "SELECT sum(a) FROM read_json('{}', sample_size = 100)",
                bucket.url("jl/bad.jsonl")
            ),
            "line 5001",
        ),
        (
            format!("SELECT * FROM '{}'", bucket.url("jl/syntax.jsonl")),
            "line 4",
        ),
    ] {
        let error = error_of(&session, &sql).await;
        assert!(error.contains(line), "{sql}: {error}");
    }
}

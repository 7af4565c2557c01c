//! Formats through `s3sql_formats`: CSV dialects sniffed from a ranged
//! sample (delimiter, header, quotes), DuckDB's options overriding them,
//! TSV, JSON arrays beside newline-delimited JSON, and Parquet told by its
//! magic bytes when the name says nothing.

use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};

use crate::support::{Bucket, error_of, parquet, query};

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

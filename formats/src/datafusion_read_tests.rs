//! The mapped options driving DataFusion's own CSV and JSON readers over local
//! files: what the sniffer and the option parser decide is what DataFusion reads.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::datasource::file_format::FileFormat as DataFusionFileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::json::JsonFormat as DataFusionJson;
use datafusion::datasource::listing::ListingOptions;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;

use crate::*;

/// Registers `file` as table `t` with `format`, runs `sql`, returns the batches.
async fn query(
    file: &Path,
    format: Arc<dyn DataFusionFileFormat>,
    extension: &str,
    sql: &str,
) -> Result<Vec<RecordBatch>, DataFusionError> {
    let ctx = SessionContext::new();
    let listing = ListingOptions::new(format).with_file_extension(extension);
    let url = file.to_str().unwrap();
    ctx.register_listing_table("t", url, listing, None, None)
        .await?;
    ctx.sql(sql).await?.collect().await
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn csv_format(sample: &[u8], options: &ReadOptions, compression: Compression) -> Arc<CsvFormat> {
    let dialect = sniff_csv(sample, options).unwrap();
    Arc::new(
        CsvFormat::default().with_options(csv_options(&dialect, options, compression).unwrap()),
    )
}

#[tokio::test]
async fn a_sniffed_semicolon_file_with_quoted_newlines_reads_typed() {
    let dir = tempfile::tempdir().unwrap();
    let text = b"id;name;amount\n1;\"Smith; John\";2.5\n2;\"two\nlines\";3.5\n3;plain;4\n";
    let file = write(&dir, "people.csv", text);
    let format = csv_format(text, &ReadOptions::default(), Compression::Uncompressed);
    let sql = "SELECT id, name, amount FROM t ORDER BY id";
    let batches = query(&file, format, ".csv", sql).await.unwrap();
    let batch = &batches[0];
    assert_eq!(batch.num_rows(), 3);
    assert_eq!(batch.column(0).data_type(), &DataType::Int64);
    assert_eq!(batch.column(2).data_type(), &DataType::Float64);
    let names = batch.column(1).as_string_view_opt().map_or_else(
        || {
            (0..3)
                .map(|i| batch.column(1).as_string::<i32>().value(i).to_string())
                .collect::<Vec<_>>()
        },
        |a| (0..3).map(|i| a.value(i).to_string()).collect(),
    );
    assert_eq!(names, ["Smith; John", "two\nlines", "plain"]);
}

#[tokio::test]
async fn a_gzipped_tsv_is_sniffed_through_its_decompressed_start() {
    let dir = tempfile::tempdir().unwrap();
    let text: Vec<u8> = std::iter::once("k\tv\n".to_string())
        .chain((0..1000).map(|i| format!("{i}\tvalue {i}\n")))
        .collect::<String>()
        .into_bytes();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut encoder, &text).unwrap();
    let compressed = encoder.finish().unwrap();
    let file = write(&dir, "data.tsv.gz", &compressed);

    let detected = detect_from_path(file.to_str().unwrap()).unwrap();
    assert_eq!(
        (detected.compression, detected.delimiter_hint),
        (Compression::Gzip, Some(b'\t'))
    );
    let sample = decompress_sample(&compressed[..200], detected.compression).unwrap();
    let options = ReadOptions {
        delimiter: detected.delimiter_hint,
        ..ReadOptions::default()
    };
    let format = csv_format(&sample, &options, detected.compression);
    let batches = query(&file, format, ".tsv.gz", "SELECT count(*), sum(k) FROM t")
        .await
        .unwrap();
    let (count, sum) = (
        batches[0].column(0).as_primitive::<Int64Type>(),
        batches[0].column(1),
    );
    assert_eq!(count.value(0), 1000);
    assert_eq!(sum.as_primitive::<Int64Type>().value(0), 499_500);
}

#[tokio::test]
async fn a_json_array_file_reads_with_nested_structs() {
    let dir = tempfile::tempdir().unwrap();
    let text = br#"[
        {"id": 1, "who": {"name": "Ann", "age": 31}},
        {"id": 2, "who": {"name": "Bob", "age": 42}}
    ]"#;
    let file = write(&dir, "people.json", text);
    let mut options = ReadOptions::default();
    options.json_format = sniff_json_format(text, &options);
    assert_eq!(options.json_format, JsonFormat::Array);
    let format = Arc::new(
        DataFusionJson::default()
            .with_options(json_options(&options, Compression::Uncompressed).unwrap()),
    );
    let sql = "SELECT sum(id), max(who['age']) FROM t";
    let batches = query(&file, format, ".json", sql).await.unwrap();
    assert_eq!(batches[0].column(0).as_primitive::<Int64Type>().value(0), 3);
    assert_eq!(
        batches[0].column(1).as_primitive::<Int64Type>().value(0),
        42
    );
}

#[tokio::test]
async fn a_bad_value_past_the_inference_sample_is_described_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("a,b\n");
    for i in 0..500 {
        text.push_str(&format!("{i},{}\n", i * 2));
    }
    text.push_str("500,oops\n");
    let file = write(&dir, "bad.csv", text.as_bytes());
    let options = ReadOptions {
        sample_size: Some(100),
        ..ReadOptions::default()
    };
    let format = csv_format(text.as_bytes(), &options, Compression::Uncompressed);
    let err = query(&file, format, ".csv", "SELECT sum(b) FROM t")
        .await
        .unwrap_err();
    let described = describe_decode_error("s3://bucket/bad.csv", &err);
    assert!(
        described.starts_with(
            "file s3://bucket/bad.csv, line 502, column 2: cannot read 'oops' as Int64"
        ),
        "{described}\n{err}"
    );
}

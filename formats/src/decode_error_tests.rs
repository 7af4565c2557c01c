//! The descriptions are checked against errors arrow-csv and arrow-json really
//! produce, so a change in their wording fails here rather than in front of a user.

use std::io::Cursor;
use std::sync::Arc;

use datafusion::arrow::csv::ReaderBuilder;
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};

use super::*;

fn csv_error(text: &str, fields: Vec<Field>, header: bool) -> DataFusionError {
    let reader = ReaderBuilder::new(Arc::new(Schema::new(fields)))
        .with_header(header)
        .build(Cursor::new(text.as_bytes().to_vec()))
        .unwrap();
    let err = reader
        .into_iter()
        .find_map(Result::err)
        .expect("the data has an error");
    // DataFusion hands such errors on wrapped, sometimes with context on top.
    DataFusionError::ArrowError(Box::new(err), None).context("while scanning")
}

fn two_ints() -> Vec<Field> {
    vec![
        Field::new("a", DataType::Int64, true),
        Field::new("b", DataType::Int64, true),
    ]
}

#[test]
fn a_bad_value_names_line_and_column() {
    let err = csv_error("a,b\n1,2\n3,x4\n", two_ints(), true);
    let text = describe_decode_error("s3://b/data.csv", &err);
    assert!(
        text.starts_with("file s3://b/data.csv, line 3, column 2: cannot read 'x4' as Int64"),
        "{text}"
    );
    assert!(text.contains("types = {"), "{text}");

    let err = csv_error("1,2\nx,3\n", two_ints(), false);
    let text = describe_decode_error("k.csv", &err);
    assert!(
        text.starts_with("file k.csv, line 2, column 1: cannot read 'x'"),
        "{text}"
    );
}

#[test]
fn a_bad_timestamp_names_line_and_column() {
    let fields = vec![Field::new(
        "t",
        DataType::Timestamp(TimeUnit::Microsecond, None),
        true,
    )];
    let err = csv_error("t\n2024-01-01T00:00:00\nnot a time\n", fields, true);
    let text = describe_decode_error("t.csv", &err);
    assert!(text.starts_with("file t.csv, line 3, column 1: "), "{text}");
}

#[test]
fn a_short_row_names_its_line_and_the_fix() {
    let err = csv_error("a,b\n1,2\n3\n", two_ints(), true);
    let text = describe_decode_error("short.csv", &err);
    assert!(
        text.starts_with("file short.csv, line 3: expected 2 columns, found 1; "),
        "{text}"
    );
    assert!(text.contains("null_padding = true"), "{text}");
}

#[test]
fn invalid_utf8_names_line_and_column() {
    let fields = vec![
        Field::new("a", DataType::Utf8, true),
        Field::new("b", DataType::Utf8, true),
    ];
    let reader = ReaderBuilder::new(Arc::new(Schema::new(fields)))
        .build(Cursor::new(b"x,y\nz,\xff\n".to_vec()))
        .unwrap();
    let err = reader.into_iter().find_map(Result::err).unwrap();
    let text = describe_decode_error("u.csv", &DataFusionError::from(err));
    assert_eq!(
        text,
        "file u.csv, line 2, column 2: invalid UTF-8; only UTF-8 text can be read"
    );
}

#[test]
fn json_and_other_errors_name_the_file() {
    let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
    let mut decoder = datafusion::arrow::json::ReaderBuilder::new(schema)
        .build_decoder()
        .unwrap();
    let err = decoder.decode(b"{\"a\": 1}\n{\"a\" 2}\n").unwrap_err();
    let text = describe_decode_error("j.json", &DataFusionError::from(err));
    assert!(text.starts_with("file j.json: invalid JSON: "), "{text}");

    let text = describe_decode_error("p.parquet", &DataFusionError::Execution("boom".into()));
    assert_eq!(text, "file p.parquet: Execution error: boom");
}

#[test]
fn name_decode_error_wraps_decode_errors_and_passes_others_through() {
    let err = csv_error("a,b\n1,2\n3,x4\n", two_ints(), true);
    let named = name_decode_error("s3://b/data.csv", 0, 0, err);
    let DataFusionError::External(inner) = &named else {
        panic!("not wrapped: {named}");
    };
    assert!(
        inner
            .to_string()
            .starts_with("file s3://b/data.csv, line 3, column 2:"),
        "{inner}"
    );
    // A byte range past the start is decoded without a header, as
    // DataFusion decodes it (review-8e T3), and arrow counts from the
    // range: its second line is named so when the lines before the range
    // are not known, and by its line in the file when they are (10 here).
    let err = csv_error("1,2\n3,x4\n", two_ints(), false);
    let text = name_decode_error("s3://b/data.csv", 4096, 0, err).to_string();
    assert!(
        text.contains("line 2 counted from byte 4096, column 2"),
        "{text}"
    );
    let err = csv_error("1,2\n3,x4\n", two_ints(), false);
    let text = name_decode_error("s3://b/data.csv", 0, 10, err).to_string();
    assert!(text.contains("line 12, column 2"), "{text}");
    // Lines dropped by `skip` come before the decoder's first line.
    let err = csv_error("a,b\n1,2\n3,x4\n", two_ints(), true);
    let text = name_decode_error("s3://b/data.csv", 0, 2, err).to_string();
    assert!(text.contains("line 5, column 2"), "{text}");
    let short = csv_error("a,b\n1,2\n3\n", two_ints(), true);
    let text = name_decode_error("short.csv", 0, 1, short).to_string();
    assert!(
        text.contains("short.csv, line 4: expected 2 columns, found 1"),
        "{text}"
    );
    let other = name_decode_error("p", 0, 0, DataFusionError::Execution("boom".into()));
    assert!(matches!(other, DataFusionError::Execution(ref m) if m == "boom"));
}

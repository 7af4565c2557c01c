//! Schema reshaping: DuckDB's header-less names, `names`, `columns`, `types`.

use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};

use super::*;
use crate::{FileFormat, OptionValue};

fn parse(pairs: &[(&str, OptionValue)]) -> ReadOptions {
    let pairs = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    ReadOptions::parse(FileFormat::Csv, pairs).unwrap()
}

fn s(text: &str) -> OptionValue {
    OptionValue::Str(text.to_string())
}

/// What arrow infers for `id,amount` with `4,forty` on a row: Int64, Utf8.
fn inferred() -> Schema {
    Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("amount", DataType::Utf8, true),
    ])
}

fn shape(schema: &Schema) -> Vec<(String, DataType)> {
    schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect()
}

fn col(name: &str, data_type: DataType) -> (String, DataType) {
    (name.to_string(), data_type)
}

#[test]
fn header_less_columns_get_duckdbs_names() {
    assert_eq!(duckdb_column_name(0, 2), "column0");
    assert_eq!(duckdb_column_name(9, 10), "column9");
    assert_eq!(duckdb_column_name(0, 11), "column00");
    assert_eq!(duckdb_column_name(10, 11), "column10");
    assert_eq!(duckdb_column_name(5, 101), "column005");
    let arrow = Schema::new(vec![
        Field::new("column_1", DataType::Int64, true),
        Field::new("column_2", DataType::Utf8, true),
    ]);
    let schema = csv_schema(&arrow, &ReadOptions::default(), false).unwrap();
    assert_eq!(
        shape(&schema),
        [
            col("column0", DataType::Int64),
            col("column1", DataType::Utf8)
        ]
    );
}

#[test]
fn types_by_name_override_the_sniffed_type() {
    let types = OptionValue::Struct(vec![("amount".into(), s("BIGINT"))]);
    let schema = csv_schema(&inferred(), &parse(&[("types", types)]), true).unwrap();
    assert_eq!(
        shape(&schema),
        [col("id", DataType::Int64), col("amount", DataType::Int64)]
    );
}

#[test]
fn types_by_position_override_the_first_columns() {
    let types = OptionValue::List(vec![s("INTEGER")]);
    let schema = csv_schema(&inferred(), &parse(&[("dtypes", types)]), true).unwrap();
    assert_eq!(
        shape(&schema),
        [col("id", DataType::Int32), col("amount", DataType::Utf8)]
    );
    let too_many = OptionValue::List(vec![s("INTEGER"), s("BIGINT"), s("DATE")]);
    let err = csv_schema(&inferred(), &parse(&[("types", too_many)]), true).unwrap_err();
    assert!(
        err.to_string()
            .contains("'types' lists 3 columns but the file has 2"),
        "{err}"
    );
}

#[test]
fn types_naming_a_missing_column_is_an_error_listing_the_columns() {
    let types = OptionValue::Struct(vec![("nope".into(), s("BIGINT"))]);
    let err = csv_schema(&inferred(), &parse(&[("column_types", types)]), true)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'nope'") && err.contains("id, amount"),
        "{err}"
    );
}

#[test]
fn columns_replace_names_and_types() {
    let columns = OptionValue::Struct(vec![("a".into(), s("INTEGER")), ("b".into(), s("VARCHAR"))]);
    let schema = csv_schema(&inferred(), &parse(&[("columns", columns)]), true).unwrap();
    assert_eq!(
        shape(&schema),
        [col("a", DataType::Int32), col("b", DataType::Utf8)]
    );
    let one = OptionValue::Struct(vec![("a".into(), s("INTEGER"))]);
    let err = csv_schema(&inferred(), &parse(&[("columns", one)]), true).unwrap_err();
    assert!(
        err.to_string()
            .contains("lists 1 columns but the file has 2"),
        "{err}"
    );
}

#[test]
fn names_rename_by_position_and_types_see_the_new_names() {
    let options = parse(&[
        ("names", OptionValue::List(vec![s("x")])),
        (
            "types",
            OptionValue::Struct(vec![("x".into(), s("SMALLINT"))]),
        ),
    ]);
    let schema = csv_schema(&inferred(), &options, true).unwrap();
    assert_eq!(
        shape(&schema),
        [col("x", DataType::Int16), col("amount", DataType::Utf8)]
    );
    let three = OptionValue::List(vec![s("x"), s("y"), s("z")]);
    assert!(csv_schema(&inferred(), &parse(&[("names", three)]), true).is_err());
}

#[test]
fn json_columns_are_the_schema() {
    let json = ReadOptions::parse(
        FileFormat::Json,
        vec![(
            "columns".into(),
            OptionValue::Struct(vec![("id".into(), s("INTEGER"))]),
        )],
    )
    .unwrap();
    assert_eq!(
        shape(&json_schema(&inferred(), &json)),
        [col("id", DataType::Int32)]
    );
    assert_eq!(
        json_schema(&inferred(), &ReadOptions::default()),
        inferred()
    );
}

#[test]
fn types_arrow_csv_cannot_decode_are_refused_with_the_column() {
    for ty in ["BLOB", "INTERVAL", "INTEGER[]"] {
        let types = OptionValue::Struct(vec![("amount".into(), s(ty))]);
        let err = csv_schema(&inferred(), &parse(&[("types", types)]), true)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("column 'amount' cannot be read from CSV"),
            "{ty}: {err}"
        );
    }
    // HUGEINT is a DECIMAL(38,0), which arrow-csv reads.
    let types = OptionValue::Struct(vec![("amount".into(), s("HUGEINT"))]);
    assert!(csv_schema(&inferred(), &parse(&[("types", types)]), true).is_ok());
}

/// pandas' `to_csv()` leaves the index column's header empty: DuckDB names
/// it by position (`column0`), and repeated names get `_1`, `_2`.
#[test]
fn empty_and_repeated_header_names_get_duckdbs_names() {
    let header = |names: &[&str]| {
        let arrow = Schema::new(
            names
                .iter()
                .map(|n| Field::new(*n, DataType::Int64, true))
                .collect::<Vec<_>>(),
        );
        let schema = csv_schema(&arrow, &ReadOptions::default(), true).unwrap();
        shape(&schema)
            .into_iter()
            .map(|(n, _)| n)
            .collect::<Vec<_>>()
    };
    assert_eq!(header(&["", "a", "b"]), ["column0", "a", "b"]);
    assert_eq!(header(&["id", "", "name"]), ["id", "column1", "name"]);
    assert_eq!(header(&["", "", ""]), ["column0", "column1", "column2"]);
    assert_eq!(header(&["a", "a", "a"]), ["a", "a_1", "a_2"]);
    assert_eq!(header(&["a", "a_1", "a"]), ["a", "a_1", "a_1_1"]);
    assert_eq!(header(&["A", "a"]), ["A", "a_1"]);
    assert_eq!(header(&["column1", "", "x"]), ["column1", "column1_1", "x"]);
}

/// DuckDB's sniffer types `2024-01-01 10:00:00` as TIMESTAMP (microseconds);
/// arrow infers seconds, milliseconds or nanoseconds from the digits.
#[test]
fn sniffed_timestamps_are_microseconds() {
    for unit in [
        TimeUnit::Second,
        TimeUnit::Millisecond,
        TimeUnit::Nanosecond,
    ] {
        let arrow = Schema::new(vec![Field::new(
            "at",
            DataType::Timestamp(unit, None),
            true,
        )]);
        let schema = csv_schema(&arrow, &ReadOptions::default(), true).unwrap();
        assert_eq!(
            shape(&schema),
            [col("at", DataType::Timestamp(TimeUnit::Microsecond, None))]
        );
    }
    // A type the user gives stays as given.
    let options = parse(&[(
        "types",
        OptionValue::Struct(vec![("at".into(), s("TIMESTAMP_S"))]),
    )]);
    let arrow = Schema::new(vec![Field::new(
        "at",
        DataType::Timestamp(TimeUnit::Second, None),
        true,
    )]);
    let schema = csv_schema(&arrow, &options, true).unwrap();
    assert_eq!(
        shape(&schema),
        [col("at", DataType::Timestamp(TimeUnit::Second, None))]
    );
}

//! Option parsing: aliases, coercions, defaults and the errors that list what is accepted.

use datafusion::arrow::datatypes::{DataType, TimeUnit};

use super::*;

fn parse(reader: FileFormat, pairs: &[(&str, OptionValue)]) -> Result<ReadOptions, FormatError> {
    ReadOptions::parse(
        reader,
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn s(text: &str) -> OptionValue {
    OptionValue::Str(text.to_string())
}

fn types(pairs: &[(&str, &str)]) -> OptionValue {
    OptionValue::Struct(pairs.iter().map(|(k, v)| (k.to_string(), s(v))).collect())
}

#[test]
fn defaults_are_duckdbs() {
    let o = ReadOptions::default();
    assert!(o.auto_detect && o.hive_types_autocast);
    assert!(!o.union_by_name && !o.ignore_errors && !o.all_varchar);
    assert_eq!(
        (o.delimiter, o.header, o.compression, o.skip),
        (None, None, None, 0)
    );
    assert_eq!(o.json_format, JsonFormat::Auto);
}

#[test]
fn aliases_reach_one_field() {
    for name in ["delim", "sep", "DELIMITER", "Sep"] {
        assert_eq!(
            parse(FileFormat::Csv, &[(name, s("|"))]).unwrap().delimiter,
            Some(b'|'),
            "{name}"
        );
    }
    assert_eq!(
        parse(FileFormat::Csv, &[("sep", s("\\t"))])
            .unwrap()
            .delimiter,
        Some(b'\t')
    );
    for name in ["types", "dtypes", "column_types"] {
        let o = parse(FileFormat::Csv, &[(name, types(&[("a", "INTEGER")]))]).unwrap();
        assert_eq!(
            o.types,
            Some(ColumnTypes::ByName(vec![("a".into(), DataType::Int32)])),
            "{name}"
        );
    }
    for name in ["nullstr", "null"] {
        assert_eq!(
            parse(FileFormat::Csv, &[(name, s("NA"))])
                .unwrap()
                .null_strings,
            vec!["NA"]
        );
    }
    let o = parse(
        FileFormat::Csv,
        &[("date_format", s("%d/%m/%Y")), ("timestampformat", s("%s"))],
    )
    .unwrap();
    assert_eq!(
        (o.date_format.as_deref(), o.timestamp_format.as_deref()),
        (Some("%d/%m/%Y"), Some("%s"))
    );
}

#[test]
fn giving_a_key_twice_through_aliases_is_an_error() {
    let err = parse(FileFormat::Csv, &[("delim", s(",")), ("sep", s(";"))]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "option 'delim' is given more than once; keep one"
    );
}

#[test]
fn every_csv_option_parses() {
    let o = parse(
        FileFormat::Csv,
        &[
            ("quote", s("'")),
            ("escape", s("\\\\")),
            ("header", s("true")),
            ("nullstr", OptionValue::List(vec![s("NA"), s("-")])),
            ("comment", s("#")),
            ("skip", OptionValue::Int(3)),
            ("names", OptionValue::List(vec![s("x"), s("y")])),
            ("columns", types(&[("x", "BIGINT"), ("y", "TIMESTAMP")])),
            ("compression", s("GZIP")),
            ("union_by_name", OptionValue::Bool(true)),
            ("ignore_errors", OptionValue::Int(1)),
            ("null_padding", OptionValue::Bool(true)),
            ("filename", s("src")),
            ("hive_partitioning", OptionValue::Bool(false)),
            ("hive_types", types(&[("year", "INTEGER")])),
            ("hive_types_autocast", OptionValue::Bool(false)),
            ("auto_detect", OptionValue::Bool(false)),
            ("sample_size", OptionValue::Int(-1)),
            ("files_to_sniff", OptionValue::Int(3)),
            ("new_line", s("\\r\\n")),
            ("all_varchar", OptionValue::Bool(true)),
            ("encoding", s("UTF-8")),
            ("parallel", OptionValue::Bool(true)),
            ("max_line_size", OptionValue::Int(1_000_000)),
        ],
    )
    .unwrap();
    assert_eq!(
        (o.quote, o.escape, o.header),
        (Some(Some(b'\'')), Some(Some(b'\\')), Some(true))
    );
    assert_eq!(o.null_strings, vec!["NA", "-"]);
    assert_eq!((o.comment, o.skip), (Some(b'#'), 3));
    assert_eq!(o.names, Some(vec!["x".into(), "y".into()]));
    assert_eq!(
        o.columns,
        Some(vec![
            ("x".into(), DataType::Int64),
            ("y".into(), DataType::Timestamp(TimeUnit::Microsecond, None))
        ])
    );
    assert_eq!(o.compression, Some(Compression::Gzip));
    assert!(o.union_by_name && o.ignore_errors && o.null_padding && o.all_varchar);
    assert_eq!(o.filename.as_deref(), Some("src"));
    assert_eq!(o.hive_partitioning, Some(false));
    assert_eq!(o.hive_types, vec![("year".into(), DataType::Int32)]);
    assert!(!o.hive_types_autocast && !o.auto_detect);
    assert_eq!(o.sample_size, Some(usize::MAX));
    assert_eq!(o.files_to_sniff, 3);
}

#[test]
fn json_and_parquet_options() {
    let o = parse(
        FileFormat::Json,
        &[
            ("format", s("array")),
            ("records", s("auto")),
            ("maximum_object_size", OptionValue::Int(1 << 20)),
            ("columns", types(&[("a", "VARCHAR")])),
            ("compression", s("auto")),
            ("filename", OptionValue::Bool(true)),
        ],
    )
    .unwrap();
    assert_eq!(o.json_format, JsonFormat::Array);
    assert_eq!(o.maximum_object_size, Some(1 << 20));
    assert_eq!(o.compression, None);
    assert_eq!(o.filename.as_deref(), Some("filename"));
    let o = parse(FileFormat::Json, &[("format", s("newline_delimited"))]).unwrap();
    assert_eq!(o.json_format, JsonFormat::NewlineDelimited);

    let o = parse(
        FileFormat::Parquet,
        &[
            ("binary_as_string", OptionValue::Bool(true)),
            ("filename", OptionValue::Bool(false)),
        ],
    )
    .unwrap();
    assert!(o.binary_as_string);
    assert_eq!(o.filename, None);
}

#[test]
fn unknown_and_misplaced_options_list_what_the_reader_accepts() {
    let err = parse(FileFormat::Parquet, &[("delim", s(","))])
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("read_parquet has no option 'delim'; it accepts: "),
        "{err}"
    );
    assert!(
        err.contains("binary_as_string")
            && err.contains("hive_partitioning")
            && !err.contains("sep"),
        "{err}"
    );
    let err = parse(FileFormat::Csv, &[("delimeter", s(","))])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("read_csv has no option 'delimeter'") && err.contains("delim, delimiter"),
        "{err}"
    );
    let err = parse(FileFormat::Json, &[("header", OptionValue::Bool(true))])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("read_json") && err.contains("maximum_object_size"),
        "{err}"
    );
}

#[test]
fn bad_values_say_what_is_expected() {
    let cases: &[(FileFormat, &str, OptionValue, &str)] = &[
        (
            FileFormat::Csv,
            "delim",
            s(",,"),
            "option 'delim' expects a single ASCII character",
        ),
        (
            FileFormat::Csv,
            "delim",
            s(""),
            "option 'delim' expects a single ASCII character",
        ),
        (
            FileFormat::Csv,
            "header",
            s("maybe"),
            "option 'header' expects true or false, got 'maybe'",
        ),
        (
            FileFormat::Csv,
            "skip",
            OptionValue::Int(-2),
            "option 'skip' expects an integer of 0 or more, got -2",
        ),
        (
            FileFormat::Csv,
            "compression",
            s("lz4"),
            "'auto', 'none', 'gzip', 'zstd'",
        ),
        (
            FileFormat::Csv,
            "sample_size",
            OptionValue::Int(0),
            "a positive number of rows, or -1 for all",
        ),
        (
            FileFormat::Csv,
            "files_to_sniff",
            OptionValue::Int(0),
            "a number of files, 1 or more, or -1 for all",
        ),
        (FileFormat::Csv, "encoding", s("latin-1"), "'utf-8'"),
        (
            FileFormat::Csv,
            "new_line",
            s(";"),
            "'\\n', '\\r' or '\\r\\n'",
        ),
        (
            FileFormat::Csv,
            "types",
            OptionValue::Int(3),
            "a struct of column name to type",
        ),
        (
            FileFormat::Csv,
            "columns",
            types(&[("a", "INTEGR")]),
            "unknown type 'INTEGR'",
        ),
        (
            FileFormat::Json,
            "format",
            s("xml"),
            "'auto', 'newline_delimited', 'array', 'unstructured'",
        ),
        (
            FileFormat::Json,
            "records",
            OptionValue::Bool(false),
            "records = false is not supported",
        ),
        (
            FileFormat::Parquet,
            "filename",
            s(""),
            "true, false or a column name",
        ),
    ];
    for (reader, name, value, expected) in cases {
        let err = parse(*reader, &[(name, value.clone())])
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{name}: {err}");
    }
}

#[test]
fn types_by_position() {
    let o = parse(
        FileFormat::Csv,
        &[(
            "types",
            OptionValue::List(vec![s("DATE"), s("DECIMAL(10,2)")]),
        )],
    )
    .unwrap();
    assert_eq!(
        o.types,
        Some(ColumnTypes::ByPosition(vec![
            DataType::Date32,
            DataType::Decimal128(10, 2)
        ]))
    );
}

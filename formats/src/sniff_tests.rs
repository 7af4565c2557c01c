//! Sniffer tests: real-world shapes of CSV, and properties over generated tables.

use proptest::prelude::*;

use super::*;
use crate::{FileFormat, OptionValue};

fn sniff(sample: &str) -> CsvDialect {
    sniff_csv(sample.as_bytes(), &ReadOptions::default()).unwrap()
}

fn with(pairs: &[(&str, OptionValue)]) -> ReadOptions {
    let pairs = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    ReadOptions::parse(FileFormat::Csv, pairs).unwrap()
}

fn s(text: &str) -> OptionValue {
    OptionValue::Str(text.to_string())
}

#[test]
fn quoted_fields_with_delimiters_and_newlines() {
    let sample = "id,name,comment\n\
                  1,\"Smith, John\",\"said \"\"hi\"\"\nand left\"\n\
                  2,\"Doe, Jane\",plain\n\
                  3,Ann,\"a, b, c\"\n";
    let d = sniff(sample);
    assert_eq!(
        (d.delimiter, d.quote, d.escape, d.has_header),
        (b',', Some(b'"'), None, true)
    );
    assert!(d.newlines_in_values);
}

#[test]
fn semicolon_file_with_decimal_commas() {
    let sample = "Datum;Betrag;Kunde\n2024-01-02;12,50;Müller\n2024-01-03;7,00;Schmidt, A.\n2024-01-04;3,10;Ö\n";
    let d = sniff(sample);
    assert_eq!((d.delimiter, d.has_header), (b';', true));
    assert!(!d.newlines_in_values);
}

#[test]
fn tab_separated_with_spaces_and_commas_in_text() {
    let sample = "city\tpopulation\tnote\nParis\t2102650\tcapital, France\nLyon\t522250\tRhône, two rivers\n";
    let d = sniff(sample);
    assert_eq!((d.delimiter, d.has_header), (b'\t', true));
}

#[test]
fn headerless_numeric_file() {
    let d = sniff("1,2.5,3\n4,5.5,6\n7,8.5,9\n");
    assert_eq!((d.delimiter, d.has_header), (b',', false));
}

#[test]
fn headerless_file_with_a_date_first_row() {
    let d = sniff("2024-01-01|abc|1\n2024-01-02|def|2\n");
    assert_eq!((d.delimiter, d.has_header), (b'|', false));
}

#[test]
fn single_quote_files() {
    let d = sniff("a|b\n'x|y'|1\n'z'|2\n");
    assert_eq!(
        (d.delimiter, d.quote, d.has_header),
        (b'|', Some(b'\''), true)
    );
}

#[test]
fn backslash_escapes() {
    let d = sniff("id,text\n1,\"say \\\"hi\\\", then go\"\n2,\"plain\"\n3,\"\\\"x\\\"\"\n");
    assert_eq!(
        (d.delimiter, d.quote, d.escape),
        (b',', Some(b'"'), Some(b'\\'))
    );
}

/// An escape other than the doubled quote is sniffed when it stands
/// before the quote: `"` before `|` (DuckDB's COPY with QUOTE '|' writes
/// `x"|y`), `'` before `"`; a `""` with no `"` before the quote keeps the
/// doubled quote, as DuckDB 1.5.5's sniffer decides. With
/// `auto_detect = false`, a QUOTE other than `"` escapes with `"`,
/// DuckDB's default ESCAPE. They were the doubled quote, so
/// `|a""b,c|,|x"|y|` read as `a""b,c` and `x"y|` (review 8b #4).
#[test]
fn escapes_before_the_quote_are_sniffed_as_duckdb_sniffs_them() {
    let bar = |pairs: &[(&str, OptionValue)]| {
        let mut all = vec![("quote", s("|"))];
        all.extend_from_slice(pairs);
        with(&all)
    };
    let escape =
        |sample: &str, options: &ReadOptions| sniff_csv(sample.as_bytes(), options).unwrap().escape;
    let written = "s,t\n|a\"\"b,c|,|x\"|y|\n";
    assert_eq!(escape(written, &bar(&[])), Some(b'"'));
    assert_eq!(escape("s,t\n|a'|b,c|,x\nc,d\n", &bar(&[])), Some(b'\''));
    assert_eq!(escape("s,t\n|a\\|b,c|,x\nc,d\n", &bar(&[])), Some(b'\\'));
    assert_eq!(escape("s,t\n|a\"\"b,c|,x\nc,d\n", &bar(&[])), None);
    assert_eq!(escape("s,t\n|a\"|,x\nc,d\n", &bar(&[])), None);
    assert_eq!(escape("s,t\n\"a'\"b,c\",x\nc,d\n", &with(&[])), Some(b'\''));
    assert_eq!(escape("s,t\n\"a'\",x\nc,d\n", &with(&[])), None);
    let fixed = bar(&[("auto_detect", OptionValue::Bool(false))]);
    assert_eq!(escape(written, &fixed), Some(b'"'));
    let fixed = with(&[("auto_detect", OptionValue::Bool(false))]);
    assert_eq!(escape(written, &fixed), None);
}

/// The sample is cut from a longer file: its short last line is left
/// out. (Where the file ends there, the line is ragged, and DuckDB 1.5.5
/// reads the file as one column.)
#[test]
fn crlf_bom_and_a_cut_last_line() {
    let sample = "\u{feff}a;b;c\r\n1;2;3\r\n4;5;6\r\n7;8".as_bytes();
    let options = ReadOptions::default();
    let d = sniff_csv_with_hint(sample, &options, None, SampleEnd::Cut).unwrap();
    assert_eq!((d.delimiter, d.has_header), (b';', true));
    let whole = sniff_csv_with_hint(sample, &options, None, SampleEnd::File).unwrap();
    assert_eq!(whole.delimiter, b',');
}

#[test]
fn a_one_line_file_without_newline() {
    let d = sniff("x|y|z");
    assert_eq!((d.delimiter, d.has_header), (b'|', true));
}

/// A sample that quotes nothing has no quote, as DuckDB 1.5.5 sniffs it
/// (its `sniff_csv`: Quote '(empty)').
#[test]
fn single_column_and_empty_samples_get_defaults() {
    let d = sniff("value\n1\n2\n");
    assert_eq!((d.delimiter, d.quote, d.has_header), (b',', None, true));
    let d = sniff("");
    assert_eq!((d.delimiter, d.has_header), (b',', false));
}

/// Found by `a_generated_table_is_sniffed_back` in CI: read with `'` both
/// rows split into four fields as consistently as into three with `"`, but
/// `','"` leaves text after the closing quote, so `"` is the quote.
#[test]
fn a_quote_that_leaves_text_after_closing_loses() {
    let d = sniff("0,\"A,','\",0.00\n0,\"A,a\",0.00\n");
    assert_eq!((d.delimiter, d.quote), (b',', Some(b'"')), "{d:?}");
}

#[test]
fn options_fix_what_they_name() {
    let fixed = with(&[
        ("sep", s("|")),
        ("header", OptionValue::Bool(false)),
        ("quote", s("'")),
    ]);
    let d = sniff_csv(b"a,b|c\n1,2|3\n", &fixed).unwrap();
    assert_eq!(
        (d.delimiter, d.quote, d.has_header),
        (b'|', Some(b'\''), false)
    );

    let d = sniff_csv(
        b"junk line\nmore junk\na;b\n1;2\n",
        &with(&[("skip", OptionValue::Int(2))]),
    )
    .unwrap();
    assert_eq!((d.delimiter, d.has_header), (b';', true));

    let d = sniff_csv(
        b"# note, with commas\na|b\n1|2\n",
        &with(&[("comment", s("#"))]),
    )
    .unwrap();
    assert_eq!((d.delimiter, d.comment), (b'|', Some(b'#')));

    let d = sniff_csv(
        b"a;b\n1;2\n",
        &with(&[("auto_detect", OptionValue::Bool(false))]),
    )
    .unwrap();
    assert_eq!((d.delimiter, d.has_header), (b',', false));

    let d = sniff_csv(
        b"a\tb\n1\t2\n",
        &with(&[("nullstr", s("NA")), ("quote", s(""))]),
    )
    .unwrap();
    assert_eq!(
        (d.delimiter, d.quote, d.null_string.as_deref()),
        (b'\t', None, Some("NA"))
    );
}

#[test]
fn binary_samples_are_refused_with_a_hint() {
    let err = sniff_csv(b"PAR1\0\0\x15", &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("NUL byte at offset 4") && err.contains("format"),
        "{err}"
    );
    let err = sniff_csv(b"a,b\n\xff\xfe,1\n", &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid UTF-8 at offset 4"), "{err}");
}

/// A generated table: header names, rows of an integer, a quoted string and a float.
#[derive(Debug, Clone)]
struct Table {
    delimiter: u8,
    quote: u8,
    header: bool,
    rows: Vec<(i64, Vec<String>, f64)>,
}

impl Table {
    fn render(&self) -> String {
        let d = self.delimiter as char;
        let q = self.quote as char;
        let mut out = String::new();
        if self.header {
            out.push_str(&format!("id{d}label{d}amount\n"));
        }
        for (id, words, amount) in &self.rows {
            let label = words.join(&d.to_string()).replace(q, &format!("{q}{q}"));
            out.push_str(&format!("{id}{d}{q}{label}{q}{d}{amount:.2}\n"));
        }
        out
    }

    /// The quoted labels hold different numbers of delimiters, so only the
    /// right quote makes the rows agree (a rule DuckDB's sniffer shares).
    fn quote_is_decidable(&self) -> bool {
        let counts: std::collections::HashSet<usize> =
            self.rows.iter().map(|(_, w, _)| w.len()).collect();
        counts.len() > 1
    }
}

fn table() -> impl Strategy<Value = Table> {
    let word = "[a-zA-Z '\"]{1,8}";
    let row = (
        any::<i32>(),
        prop::collection::vec(word, 1..4),
        -1e6f64..1e6,
    );
    (
        prop::sample::select(DELIMITERS.to_vec()),
        prop::sample::select(QUOTES.to_vec()),
        any::<bool>(),
        prop::collection::vec(row, 2..30),
    )
        .prop_map(|(delimiter, quote, header, rows)| Table {
            delimiter,
            quote,
            header,
            rows: rows
                .into_iter()
                .map(|(id, words, amount)| (i64::from(id), words, amount))
                .collect(),
        })
}

fn option_value() -> impl Strategy<Value = OptionValue> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(OptionValue::Bool),
        any::<i64>().prop_map(OptionValue::Int),
        ".{0,4}".prop_map(OptionValue::Str),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(OptionValue::List),
            prop::collection::vec(("[a-z]{1,3}", inner), 0..4).prop_map(OptionValue::Struct),
        ]
    })
}

proptest! {
    #[test]
    fn sniffing_never_panics(sample in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = sniff_csv(&sample, &ReadOptions::default());
    }

    #[test]
    fn sniffing_text_never_panics(sample in "[a-c0-9,;|\t'\"\\\\\r\n ]{0,300}", skip in 0u64..3) {
        let options = ReadOptions { skip, ..ReadOptions::default() };
        // Only a quote opened after a space, notes before the header, an
        // empty field more, ragged lines ending in several ways and
        // comments after lone CRs are refused, each naming its reason.
        let refused = sniff_csv(sample.as_bytes(), &options).err().map(|e| e.to_string());
        let expected = |e: &String| {
            ["spaces beside a quoted value", "notes before the header", "one empty field more", "more than one way", "lone CR"]
                .iter()
                .any(|reason| e.contains(reason))
        };
        prop_assert!(refused.as_ref().is_none_or(expected), "{:?}", refused);
    }

    #[test]
    fn option_parsing_never_panics(
        reader in prop::sample::select(vec![FileFormat::Csv, FileFormat::Json, FileFormat::Parquet]),
        pairs in prop::collection::vec(
            (prop::sample::select(vec!["delim", "SEP", "quote", "header", "types", "columns", "nullstr",
                "compression", "filename", "sample_size", "format", "skip", "hive_types", "bogus"]), option_value()),
            0..4),
    ) {
        let pairs = pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let _ = ReadOptions::parse(reader, pairs);
    }

    #[test]
    fn a_generated_table_is_sniffed_back(table in table()) {
        let text = table.render();
        let d = sniff_csv(text.as_bytes(), &ReadOptions::default()).unwrap();
        prop_assert_eq!(d.delimiter, table.delimiter, "{}", text);
        prop_assert_eq!(d.has_header, table.header, "{}", text);
        if table.quote_is_decidable() {
            prop_assert_eq!(d.quote, Some(table.quote), "{}", text);
            prop_assert_eq!(d.escape, None, "{}", text);
        }
    }
}

#[test]
fn a_tsv_name_makes_tab_win_a_tie_but_not_a_file_without_tabs() {
    // Tab and comma both split every row into two columns.
    let tie = b"name\tnote, more\nAnn\tx,y\nBob\tz,w\nCy\tu,v\n";
    let none = ReadOptions::default();
    assert_eq!(sniff_csv(tie, &none).unwrap().delimiter, b',');
    assert_eq!(
        sniff_csv_with_hint(tie, &none, Some(b'\t'), SampleEnd::File)
            .unwrap()
            .delimiter,
        b'\t'
    );
    let commas = b"a,b\n1,2\n3,4\n";
    assert_eq!(
        sniff_csv_with_hint(commas, &none, Some(b'\t'), SampleEnd::File)
            .unwrap()
            .delimiter,
        b','
    );
    // A delimiter the user gives beats the hint.
    let given = with(&[("delim", s(","))]);
    assert_eq!(
        sniff_csv_with_hint(tie, &given, Some(b'\t'), SampleEnd::File)
            .unwrap()
            .delimiter,
        b','
    );
}

#[test]
fn sample_schema_starts_after_the_skipped_lines_and_reads_nullstr_as_null() {
    let sample = b"exported by tool X\n\nid,amount\n1,10\n2,NA\n3,30\n4,4";
    let options = with(&[("skip", OptionValue::Int(2)), ("nullstr", s("NA"))]);
    let dialect = sniff_csv(sample, &options).unwrap();
    assert!(dialect.has_header);
    let schema = sample_schema(sample, &dialect, &options).unwrap();
    let columns: Vec<(&str, &DataType)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), f.data_type()))
        .collect();
    assert_eq!(
        columns,
        [("id", &DataType::Int64), ("amount", &DataType::Int64)]
    );
}

/// DuckDB reads `"Smith, John",42` as two columns with `"`: `'` splits every
/// row as consistently into three, but quotes no field.
#[test]
fn double_quotes_win_when_every_row_has_a_quoted_delimiter() {
    let d = sniff("\"Smith, John\",42\n\"Doe, Jane\",37\n\"Roe, Rick\",51\n");
    assert_eq!(
        (d.delimiter, d.quote, d.has_header),
        (b',', Some(b'"'), false),
        "{d:?}"
    );
    let d = sniff("\"a;b\";c\n\"d;e\";f\n\"g;h\";i\n");
    assert_eq!((d.delimiter, d.quote), (b';', Some(b'"')), "{d:?}");
    // A single-quoted file still gets its quote.
    let d = sniff("'Smith, John',42\n'Doe, Jane',37\n");
    assert_eq!((d.delimiter, d.quote), (b',', Some(b'\'')), "{d:?}");
}

/// DuckDB's header rule, case by case (each checked against DuckDB 1.5.5).
#[test]
fn an_empty_header_name_is_still_a_header() {
    let cases: [(&str, bool); 12] = [
        // pandas' to_csv(): the index column has no name.
        (",a,b\n0,1,2\n1,3,4\n", true),
        ("id,,name\n1,2,x\n3,4,y\n", true),
        (",\n1,2\n", true),
        // An empty value fits an integer column; "1" does too: data.
        (",1\n2,3\n4,5\n", false),
        ("1,\n2,3\n4,5\n", false),
        // Over text columns the first row is a header, empty or not.
        (",a\nx,y\nz,w\n", true),
        ("1,a\nx,y\nz,w\n", true),
        // 'a' does not fit the integer column below it.
        ("a,1\n2,3\n4,5\n", true),
        ("a,b\n1,x\n2,y\n", true),
        // Nothing but the VARCHAR column could hold the header: data.
        (",a\n1,y\n2,w\n", false),
        ("1,2\n3,4\n", false),
        ("1.5,2\n3,4\n", true),
    ];
    for (sample, header) in cases {
        assert_eq!(sniff(sample).has_header, header, "{sample:?}");
    }
}

/// DuckDB samples 20,480 rows: a float at row 2,500 of integers makes the
/// column DOUBLE (s3sql typed 1,000 rows, chose BIGINT and then failed on
/// '1.5').
#[test]
fn types_come_from_duckdbs_20480_row_sample() {
    let mut sample = String::from("id,value\n");
    for row in 0..20_000 {
        let value = if row == 2_500 {
            "1.5".to_string()
        } else {
            row.to_string()
        };
        sample.push_str(&format!("{row},{value}\n"));
    }
    assert!(sample.len() <= CSV_SAMPLE_BYTES);
    let options = ReadOptions::default();
    let dialect = sniff_csv(sample.as_bytes(), &options).unwrap();
    let schema = sample_schema(sample.as_bytes(), &dialect, &options).unwrap();
    assert_eq!(schema.field(1).data_type(), &DataType::Float64);
    // A float past the sample is not seen, as in DuckDB.
    let options = with(&[("sample_size", OptionValue::Int(2_000))]);
    let schema = sample_schema(sample.as_bytes(), &dialect, &options).unwrap();
    assert_eq!(schema.field(1).data_type(), &DataType::Int64);
}

/// A dialect that leads over the first records only (`;` splits the
/// first 1,100 rows into two agreeing columns, `,` does not) loses:
/// candidates are split in full whenever none of those leading over the
/// prefix still leads, so the answer is the one splitting every candidate
/// in full gives. No dialect of several columns splits every row alike,
/// so that is `;` with the first 1,100 rows for notes, as DuckDB 1.5.5
/// takes it (it skips them; s3sql refuses the file, naming the `skip`).
#[test]
fn a_dialect_leading_only_over_the_first_records_does_not_win() {
    let mut sample = String::new();
    for row in 0..1100 {
        sample.push_str(if row == 5 { "1;2\n" } else { "1;2,3\n" });
    }
    for _ in 0..1900 {
        sample.push_str("1;2;3,4\n");
    }
    let error = sniff_csv(sample.as_bytes(), &ReadOptions::default()).unwrap_err();
    assert!(error.to_string().contains("skip = 1100"), "{error}");
    let skip = with(&[("skip", OptionValue::Int(1100))]);
    assert_eq!(sniff_csv(sample.as_bytes(), &skip).unwrap().delimiter, b';');
}

/// The escape of each sample as DuckDB 1.5.5 sniffs it: it tries the
/// doubled quote before a backslash and drops a dialect its strict mode
/// cannot read (text after a closing quote, a doubled quote under another
/// escape), so a backslash is the escape only where the doubled quote
/// fails. `"C:\\dir\\"` was read as `C:\dir\` because a backslash stood
/// before a quote; DuckDB reads `C:\\dir\\`.
#[test]
fn a_backslash_is_the_escape_only_where_the_doubled_quote_fails() {
    let cases: [(&str, Option<u8>); 6] = [
        ("id,path\n1,\"C:\\\\dir\\\\\"\n2,\"x\"\n", None),
        ("id,t\n1,\"a\"\"b\"\n2,\"c:\\\\\"\n", None),
        ("id,t,u\n1,\"a\\\",b\n2,\"c\",d\n", None),
        ("id,t\n1,\"a\\\"\n2,\"b\"\n", None),
        ("id,t\n1,\"say \\\"hi\\\"\"\n2,\"x\"\n", Some(b'\\')),
        ("id,t\n1,\"a\\\\\"\n2,\"say \\\"hi\\\"\"\n", Some(b'\\')),
    ];
    for (sample, escape) in cases {
        let d = sniff(sample);
        assert_eq!((d.quote, d.escape), (Some(b'"'), escape), "{sample:?}");
    }
    let sample = "id,path\n1,\"C:\\\\dir\\\\\"\n2,\"x\"\n";
    let values = column_values(sample.as_bytes(), &sniff(sample), 2);
    assert_eq!(values[1], ["C:\\\\dir\\\\", "x"]);
}

/// A file DuckDB's COPY wrote with DELIMITER '|', QUOTE '''', ESCAPE ''''
/// (review 9, rt10.csv). Read with escape `"`, the quote opened on row 3
/// (`'''"'''`) never closes, and row 4 was swallowed into row 3: DuckDB
/// drops a dialect that leaves a quote open at the file's end, and reads
/// the doubled quote.
#[test]
fn a_quote_left_open_at_the_files_end_loses() {
    let sample = "i|s|t|u|v|w\n1|a\"b|'x|y'|''|'q''r'|back\\slash\n2||'x\"|y'|a,b|'n\nl'|\\\"\n\
                  3|'#h'|'|'|NA|e\"\"e|'''\"'''\n4|NULL|\"|\\|''''|p;q\n";
    let d = sniff(sample);
    assert_eq!(
        (d.delimiter, d.quote, d.escape, d.has_header),
        (b'|', Some(b'\''), None, true)
    );
    let values = column_values(sample.as_bytes(), &d, 6);
    assert_eq!(values[0], ["1", "2", "3", "4"]);
    assert_eq!(values[5], ["back\\slash", "\\\"", "'\"'", "p;q"]);
}

/// Files DuckDB's COPY wrote (review 9's random round trip), each with
/// the delimiter, quote and escape DuckDB 1.5.5 sniffs: the quote a
/// sample quotes fields with wins over one it never meets (`'it''sb'` is
/// `it'sb`; `"` read it as `'it''sb'`), and no quote at all wins where
/// every quote splits the rows unevenly (that file was an error).
#[test]
fn the_quote_the_sample_uses_wins_and_none_where_no_quote_splits_evenly() {
    type Dialect = (u8, Option<u8>, Option<u8>);
    let cases: [(&str, Dialect); 4] = [
        (
            "i|c0\n0|é-\n1|2.5\n2|'it''sb'\n3|\tNA\n4|''''\n5|1\\-\n",
            (b'|', Some(b'\''), None),
        ),
        (
            "i,c0\n0,NA\n1,'it\"'sit\"'s'\n2,\n3,é\n4,é1\n",
            (b',', Some(b'\''), Some(b'"')),
        ),
        (
            "i,c0,c1,c2,c3\n0,'it\\'sNA','\\'x y ',,NA\n",
            (b',', Some(b'\''), Some(b'\\')),
        ),
        (
            "i,c0,c1\n0,\"1b, 1x y\n1,'\\-,' \n2,,\\\"\n3,éit's,|it's\"||\n",
            (b',', None, None),
        ),
    ];
    for (sample, dialect) in cases {
        let d = sniff(sample);
        assert_eq!((d.delimiter, d.quote, d.escape), dialect, "{sample:?}");
    }
    let sample = cases[0].0;
    let values = column_values(sample.as_bytes(), &sniff(sample), 2);
    assert_eq!(values[1], ["é-", "2.5", "it'sb", "\tNA", "'", "1\\-"]);
}

/// Each column's values twice under a header, typed as DuckDB 1.5.5's
/// sniffer types them: a time of day without seconds (`06:00`, `6:00`)
/// or with seven fraction digits is TIME, as `12:30:00` was; an hour past
/// 23, a minute past 59, a leap second, a one-digit minute or an AM/PM
/// suffix stays VARCHAR. (`06:00` was VARCHAR.)
#[test]
fn times_of_day_are_typed_as_duckdb_types_them() {
    let time = DataType::Time64(TimeUnit::Microsecond);
    let cases = [
        ("06:00", &time),
        ("6:00", &time),
        ("6:00:00", &time),
        ("12:30:00.1234567", &time),
        ("23:59:59.999999", &time),
        ("25:00", &DataType::Utf8),
        ("06:60", &DataType::Utf8),
        ("6:00:60", &DataType::Utf8),
        ("06:0", &DataType::Utf8),
        ("06:00 PM", &DataType::Utf8),
        ("06:00Z", &DataType::Utf8),
    ];
    for (value, typed) in cases {
        let sample = format!("a,b\n{value},1\n{value},2\n");
        let dialect = sniff(&sample);
        let schema = sample_schema(sample.as_bytes(), &dialect, &ReadOptions::default()).unwrap();
        assert_eq!(schema.field(0).data_type(), typed, "{value}");
    }
}

/// A file whose rows split into unequal numbers of fields is one column
/// of whole lines, as DuckDB 1.5.5 reads it (it drops every dialect that
/// splits the rows unevenly; it was an error naming the line), unless
/// `null_padding` pads the short rows or `ignore_errors` skips the odd
/// ones, where the delimiter still splits it.
#[test]
fn a_ragged_file_is_one_column_unless_rows_are_padded_or_skipped() {
    for sample in [
        "a,b,c\n1,2,3\n4,5\n6,7,8\n",
        "a,b,c\n1,2,3\n4,5,6,7\n6,7,8\n",
        "a,b\n1,\"x, y\"\n2,\"abc\"def\n3,\"z\"\n",
    ] {
        let d = sniff(sample);
        assert_eq!((d.delimiter, d.has_header), (b'|', true), "{sample:?}");
        let values = column_values(sample.as_bytes(), &d, 1);
        assert_eq!(values[0].len(), 3, "{sample:?}");
    }
    let sample = "a,b,c\n1,2,3\n4,5\n6,7,8\n".as_bytes();
    for option in ["null_padding", "ignore_errors"] {
        let options = with(&[(option, OptionValue::Bool(true))]);
        assert_eq!(
            sniff_csv(sample, &options).unwrap().delimiter,
            b',',
            "{option}"
        );
    }
}

/// Of dialects that quote fields and split the rows alike, the earlier
/// wins, as in DuckDB 1.5.5: `"` with a backslash (`"b\\\""` is `b\"`),
/// not `'`, which also quotes (`''`) but leaves `it's'` ending in another
/// quote than its own. (A count of such fields decided: `'` won, and
/// `"say \"hi\"'"` was read as written.)
#[test]
fn the_earlier_quoting_dialect_wins_whatever_the_odd_quotes() {
    let sample = "i|c0|c1|c2\n0|it's-||\"b\\\\\\\"\"\n1||\"\\\\\\\"\"|\\2.5\n\
                  2|-||\"x y''\\\"\\\"\"\n3|\"say \\\"hi\\\"'\"|,|''\n4|NA||-\n5|1',|it's'|NULL\\\n";
    let d = sniff(sample);
    assert_eq!(
        (d.delimiter, d.quote, d.escape),
        (b'|', Some(b'"'), Some(b'\\')),
        "{sample}"
    );
    let values = column_values(sample.as_bytes(), &d, 4);
    assert_eq!(values[1], ["it's-", "-", "say \"hi\"'", "NA", "1',"]);
}

/// A row ragged past DuckDB's first chunk (its first 2,048 records)
/// keeps the dialect, so the read errors at that row as DuckDB's does
/// ("CSV Error on Line: 2502"); it made the file one column of whole
/// lines, silently. Within the chunk the file is still one column.
#[test]
fn a_row_ragged_past_duckdbs_first_chunk_keeps_the_dialect() {
    let ragged_at = |line: usize| {
        let mut sample = String::from("a,b,c\n");
        for i in 1..3000 {
            match i + 1 == line {
                true => sample.push_str(&format!("{i},1\n")),
                false => sample.push_str(&format!("{i},x,y\n")),
            }
        }
        sample
    };
    for (line, delimiter) in [(2502, b','), (2049, b','), (2048, b'|'), (1202, b'|')] {
        let sample = ragged_at(line);
        let d = sniff(&sample);
        assert_eq!(
            (d.delimiter, d.has_header),
            (delimiter, true),
            "line {line}"
        );
        // Split by `,`: every row's third value but the short row's; else
        // each row whole.
        let (columns, values) = if delimiter == b',' {
            (3, 2998)
        } else {
            (1, 2999)
        };
        let read = column_values(sample.as_bytes(), &d, columns);
        assert_eq!(read[columns - 1].len(), values, "line {line}");
    }
}

/// A headerless file whose first row is a time of day keeps that row, as
/// DuckDB 1.5.5 reads it (TIME columns, no header): the header rule saw
/// arrow's text for `06:00` and took the row for names. A text first row
/// over a column DuckDB types TIME (`x,1` over `06:00,2`) is a header.
#[test]
fn a_headerless_column_of_times_keeps_its_first_row() {
    for (sample, header) in [
        ("06:00\n07:00\n08:00\n", false),
        ("12:30:00,13:00:00\n14:00:00,15:00:00\n", false),
        ("06:00,1\n08:00,2\n", false),
        ("x,1\n06:00,2\n07:00,3\n", true),
        ("t\n06:00\n07:00\n", true),
    ] {
        let d = sniff(sample);
        assert_eq!(d.has_header, header, "{sample:?}");
        let schema = sample_schema(sample.as_bytes(), &d, &ReadOptions::default()).unwrap();
        assert_eq!(
            schema.field(0).data_type(),
            &DataType::Time64(TimeUnit::Microsecond),
            "{sample:?}"
        );
    }
}

/// A sample that quotes nothing is read without a quote, as DuckDB 1.5.5
/// sniffs it: a `"` opened past the 20,480-row sample and never closed is
/// text, and all 25,000 rows read (with `"` the reader took the last 2,999
/// rows into one value, 22,001 rows, silently). One quoted field in the
/// sample keeps `"`.
#[test]
fn a_sample_that_quotes_nothing_has_no_quote() {
    let file = |quoted_at: Option<usize>| {
        let mut text = String::from("a,b\n");
        for i in 0..25_000 {
            match i {
                22_000 => text.push_str(&format!("{i},\"abc\n")),
                _ if Some(i) == quoted_at => text.push_str(&format!("{i},\"x,{i}\"\n")),
                _ => text.push_str(&format!("{i},x{i}\n")),
            }
        }
        text
    };
    for (quoted_at, quote) in [(None, None), (Some(2_500), Some(b'"'))] {
        let text = file(quoted_at);
        let d = sniff_csv_with_hint(
            text.as_bytes(),
            &ReadOptions::default(),
            None,
            SampleEnd::File,
        )
        .unwrap();
        assert_eq!((d.delimiter, d.quote), (b',', quote), "{quoted_at:?}");
        if quote.is_none() {
            let values = column_values(text.as_bytes(), &d, 2);
            assert_eq!(values[1].len(), SNIFF_RECORDS, "{quoted_at:?}");
        }
    }
}

/// A sample cut by bytes before DuckDB's 20,480 records (long rows, the
/// 8 MiB cap) keeps `"` though it quotes nothing: DuckDB's sample goes on
/// past it, and a `16000,"quoted16000"` there is `quoted16000` (review 13
/// F1; the sniffer dropped the quote and read `"quoted16000"`, or failed
/// on `"Smith, John"`). A cut sample that holds the 20,480 records still
/// has no quote.
#[test]
fn a_sample_cut_before_duckdbs_records_keeps_the_quote() {
    let sample = |rows: usize| {
        let mut text = String::from("id,name\n");
        for i in 0..rows {
            text.push_str(&format!("{i},row{i}\n"));
        }
        text
    };
    let cut = |text: &str| {
        sniff_csv_with_hint(
            text.as_bytes(),
            &ReadOptions::default(),
            None,
            SampleEnd::Cut,
        )
        .unwrap()
        .quote
    };
    assert_eq!(cut(&sample(16_000)), Some(b'"'));
    assert_eq!(cut(&sample(25_000)), None);
}

/// The dialect is split from `sample_size` records in whole chunks of
/// 2,048, as DuckDB 1.5.5 sniffs it: with `sample_size = -1` (or more
/// than 20,480) a quote past row 20,480 is found (review 13 F3: the
/// split stopped at 20,480 while the types read every row, and the read
/// failed with arrow's "unequal lengths"); with `sample_size = 100` one at
/// row 3,000 is not (DuckDB's `sniff_csv` gives no quote for both).
#[test]
fn the_dialect_is_split_from_sample_size_records() {
    let file = |rows: usize, quoted_at: usize| {
        let mut text = String::from("id,name\n");
        for i in 0..rows {
            match i == quoted_at {
                true => text.push_str(&format!("{i},\"x,y\"\n")),
                false => text.push_str(&format!("{i},row{i}\n")),
            }
        }
        text
    };
    for (rows, quoted_at, sample_size, quote) in [
        (25_000, 24_000, -1, Some(b'"')),
        (25_000, 22_000, 20_481, Some(b'"')),
        (25_000, 24_000, 20_481, None),
        (5_000, 2_046, 100, Some(b'"')),
        (5_000, 3_000, 100, None),
    ] {
        let options = with(&[("sample_size", OptionValue::Int(sample_size))]);
        let text = file(rows, quoted_at);
        let d = sniff_csv_with_hint(text.as_bytes(), &options, None, SampleEnd::File).unwrap();
        assert_eq!(
            (d.delimiter, d.quote),
            (b',', quote),
            "{quoted_at} {sample_size}"
        );
    }
}

/// A quote opened after a space (`1, "New York, NY"`) is refused, naming
/// the line: DuckDB 1.5.5 reads such files quoted (`1, "New York, NY"` is
/// (1, 'New York, NY'), with or without a header), arrow-csv's reader
/// cannot, and the sniffer made them one column of lines or read the
/// quotes as text. So are spaces after a closing quote (`"x,y" ,1`:
/// DuckDB reads `x,y`, arrow-csv `x,y `). A spaced quote inside a quoted
/// value, or a file no quote splits, is read as before.
#[test]
fn a_quote_opened_after_a_space_is_refused_naming_the_line() {
    for (sample, line) in [
        ("1, \"New York, NY\"\n2, \"Austin, TX\"\n", 1),
        ("id, city\n1, \"New York, NY\"\n2, \"Austin, TX\"\n", 2),
        ("a, b\n1, \"x\"\n2, \"y\"\n", 2),
        // After the closing quote: DuckDB reads `x,y`, csv-core `x,y `.
        ("a,b\n1,\"x,y\" \n2,z\n", 2),
        ("a,b\n1,2\n\"x\" ,1\n", 3),
    ] {
        let error = sniff_csv(sample.as_bytes(), &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(&format!("line {line} has spaces beside a quoted value")),
            "{sample:?}: {error}"
        );
    }
    for sample in ["a,b\n1,\"x, \"\"y\"\"\"\n2,z\n", "a,b\n1,x \"y\"\n2,z\n"] {
        let d = sniff(sample);
        assert_eq!(d.delimiter, b',', "{sample:?}");
    }
}

/// Records ending the file with one field more, empty (`7,8,9,` under
/// `a,b,c`), are refused naming the first one's line: DuckDB 1.5.5 keeps
/// the others' columns and drops the field (it reads (7, 8, 9)), which
/// s3sql's reader cannot; the file was one column of whole lines. Such a
/// record followed by one without (`4,5,6,` then `7,8,9`) is ragged, one
/// column in DuckDB too.
#[test]
fn records_ending_in_an_extra_empty_field_are_refused_naming_the_line() {
    for (sample, line) in [
        ("a,b,c\n1,2,3\n4,5,6\n7,8,9,\n", 4),
        ("a,b,c\n1,2,3\n4,5,6,\n7,8,9,\n", 3),
        ("1,2,3\n4,5,6,\n", 2),
        ("a|b\n1|2|\n3|4|\n", 2),
    ] {
        let error = sniff_csv(sample.as_bytes(), &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(&format!(
                "line {line} and the lines below it end in one empty field more"
            )),
            "{sample:?}: {error}"
        );
    }
    for sample in ["a,b,c\n1,2,3\n4,5,6,\n7,8,9\n", "a,b,c\n1,2,3,\n4,5,6\n"] {
        assert_eq!(sniff(sample).delimiter, b'|', "{sample:?}");
    }
}

/// Lines before the header with fewer fields than every line below (a
/// title) are refused, naming how many to skip: DuckDB 1.5.5 skips them
/// as notes (`title line\na,b,c\n1,2,3\n4,5,6` is (1,2,3), (4,5,6) under
/// a, b, c), and s3sql read the file as one column of lines. With that
/// `skip` the file reads as DuckDB reads it. A short line below the
/// header is no note: the file stays one column.
#[test]
fn notes_before_the_header_are_refused_naming_the_skip() {
    for (sample, notes, header) in [
        ("title line\na,b,c\n1,2,3\n4,5,6\n", 1, true),
        ("t1\nt2,x\na,b,c\n1,2,3\n", 2, true),
        ("a,b\n1,2,3\n4,5,6\n", 1, false),
        ("x\n1,2\n3,4\n", 1, false),
        // One line below, longer (review 13 F4: one column `a,b`).
        ("a,b\n1,2,3\n", 1, false),
        ("a,b\n1,2,3", 1, false),
        ("id0\r\nba,,\r\n", 1, false),
        ("a,b\n1,2\n3,4\n5,6,7\n", 3, false),
        ("a,b,c\n1,2,3\n4,5,6\n7,8,9,x\n", 3, false),
    ] {
        let error = sniff_csv(sample.as_bytes(), &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(&format!("the first {notes} line(s)"))
                && error.contains(&format!("skip = {notes}")),
            "{sample:?}: {error}"
        );
        let skip = with(&[("skip", OptionValue::Int(notes))]);
        let d = sniff_csv(sample.as_bytes(), &skip).unwrap();
        assert_eq!((d.delimiter, d.has_header), (b',', header), "{sample:?}");
    }
    for sample in ["a,b,c\n1,2,3\n4,5\n6,7,8\n", "a,b\n1,2\n3,4\nTotal: 2\n"] {
        assert_eq!(sniff(sample).delimiter, b'|', "{sample:?}");
    }
    // Where `"` reads every row evenly, a quoted value is no end of notes:
    // one column, as DuckDB reads these.
    for sample in [
        "c0\nbb\n\"a,b\"\n",
        "a,b\n\"1,2,3\"\n",
        "c0\nbb\n\"a,b\"\n\"c,d\"\n",
    ] {
        assert_eq!(sniff(sample).quote, Some(b'"'), "{sample:?}");
    }
    // A longer line past DuckDB's first 2,048 records is no end of notes
    // (DuckDB fails to sniff): the dialect stays, the read errors there.
    let late = format!("a,b\n{}5,6,7\n", "1,2\n".repeat(3_000));
    assert_eq!(sniff(&late).delimiter, b',');
}

/// A file's last line without a newline is one of its records: DuckDB
/// 1.5.5 reads `a,b,c\n1,2,3\n4,5` as one column (ragged), and s3sql left
/// the line out of the sniff, then failed to read it ("expected 3
/// columns, found 2"). A sample cut from a longer file still leaves its
/// cut last line out.
#[test]
fn the_last_line_without_a_newline_is_a_record_of_the_file() {
    let sample = b"a,b,c\n1,2,3\n4,5";
    let options = ReadOptions::default();
    let file = sniff_csv_with_hint(sample, &options, None, SampleEnd::File).unwrap();
    let cut = sniff_csv_with_hint(sample, &options, None, SampleEnd::Cut).unwrap();
    assert_eq!((file.delimiter, cut.delimiter), (b'|', b','));
    assert_eq!(sniff("a,b,c\n1,2,3\n4,5,6").delimiter, b',');
}

//! Record starts: the ranges they give read exactly the records of the
//! whole file, whatever the quotes, escapes, comments and line ends, as
//! csv-core tokenizes them and as arrow-csv's reader (DataFusion's, for a
//! range too) reads them.

use std::io::Cursor;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::csv::ReaderBuilder as ArrowReaderBuilder;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use proptest::prelude::*;

use super::*;

fn options(escape: Option<u8>, comment: Option<u8>, terminator: Option<u8>) -> CsvOptions {
    CsvOptions {
        delimiter: b',',
        quote: b'"',
        escape,
        comment,
        terminator,
        ..CsvOptions::default()
    }
}

/// The records csv-core (arrow-csv's tokenizer) reads from `bytes` alone,
/// each as its fields' bytes and ends.
fn records(bytes: &[u8], options: &CsvOptions) -> Vec<(Vec<u8>, Vec<usize>)> {
    let mut reader = tokenizer(options);
    let (mut out, mut ends) = (vec![0u8; 1 << 16], vec![0usize; 256]);
    let (mut all, mut at) = (Vec::new(), 0);
    loop {
        let (result, read, written, ended) = reader.read_record(&bytes[at..], &mut out, &mut ends);
        at += read;
        match result {
            ReadRecordResult::Record => all.push((out[..written].to_vec(), ends[..ended].to_vec())),
            ReadRecordResult::End => return all,
            _ => {}
        }
    }
}

/// More columns than any record of these tests has.
const WIDEST: usize = 64;

/// The rows arrow-csv's reader, configured from `options` apart from the
/// tokenizer under test, reads from `bytes` alone: each field's text (`""`
/// past a record's last field).
fn arrow_rows(bytes: &[u8], options: &CsvOptions) -> Vec<Vec<Option<String>>> {
    let fields: Vec<Field> = (0..WIDEST)
        .map(|i| Field::new(format!("c{i}"), DataType::Utf8, true))
        .collect();
    let mut builder = ArrowReaderBuilder::new(Arc::new(Schema::new(fields)))
        .with_header(false)
        .with_delimiter(options.delimiter)
        .with_quote(options.quote)
        .with_truncated_rows(true)
        .with_null_regex(regex::Regex::new("^\u{0}none$").unwrap());
    if let Some(escape) = options.escape {
        builder = builder.with_escape(escape);
    }
    if let Some(comment) = options.comment {
        builder = builder.with_comment(comment);
    }
    if let Some(terminator) = options.terminator {
        builder = builder.with_terminator(terminator);
    }
    let mut rows = Vec::new();
    for batch in builder.build(Cursor::new(bytes)).unwrap() {
        let batch = batch.unwrap();
        for row in 0..batch.num_rows() {
            let text = |c: usize| {
                let column = batch.column(c).as_string::<i32>();
                column.is_valid(row).then(|| column.value(row).to_owned())
            };
            rows.push((0..WIDEST).map(text).collect());
        }
    }
    rows
}

/// The record start of every offset of `bytes`, fed `chunk` bytes at a
/// time, checking its naive start on the way.
fn starts(bytes: &[u8], options: &CsvOptions, chunk: usize) -> Vec<u64> {
    let targets: Vec<u64> = (1..bytes.len() as u64).collect();
    let mut finder = RecordStarts::new(options, targets).unwrap();
    for part in bytes.chunks(chunk) {
        finder.feed(part);
        assert!(finder.naive().len() >= finder.found().len());
    }
    finder.finish(bytes.len() as u64);
    assert!(finder.done());
    assert_eq!(finder.naive(), naive(bytes, options), "chunks of {chunk}");
    for (naive, found) in finder.naive().iter().zip(finder.found()) {
        assert!(naive <= found);
    }
    finder.found().to_vec()
}

/// Where DataFusion's range reader starts a range at each offset of
/// `bytes`: after the first line end at or after the byte before it.
fn naive(bytes: &[u8], options: &CsvOptions) -> Vec<u64> {
    let line_end = options.terminator.unwrap_or(b'\n');
    (1..bytes.len())
        .map(|target| {
            bytes[target - 1..]
                .iter()
                .position(|&b| b == line_end)
                .map_or(bytes.len(), |at| target + at) as u64
        })
        .collect()
}

/// Splitting `bytes` at every record start found (for any chunking) reads
/// the whole file's records, as csv-core and as arrow-csv's reader read
/// them, and each start follows a line end.
fn check(bytes: &[u8], options: &CsvOptions) {
    let whole = records(bytes, options);
    let mut starts_found = std::collections::BTreeSet::new();
    let line_end = options.terminator.unwrap_or(b'\n');
    for chunk in [1, 2, 3, 7, 64, bytes.len().max(1)] {
        let found = starts(bytes, options, chunk);
        for (target, start) in (1..).zip(&found) {
            assert!(*start >= target, "{target} -> {start}");
            let at = usize::try_from(*start).unwrap();
            assert!(
                at == bytes.len() || bytes[at - 1] == line_end,
                "{target} -> {start}: not after a line end in {:?}",
                String::from_utf8_lossy(bytes)
            );
            let split: Vec<_> = [
                records(&bytes[..at], options),
                records(&bytes[at..], options),
            ]
            .concat();
            assert_eq!(
                split,
                whole,
                "split at {start} (for {target}, chunks of {chunk}) of {:?}",
                String::from_utf8_lossy(bytes)
            );
            starts_found.insert(at);
        }
        assert!(found.windows(2).all(|w| w[0] <= w[1]));
    }
    let whole_rows = arrow_rows(bytes, options);
    for at in starts_found {
        let rows = [
            arrow_rows(&bytes[..at], options),
            arrow_rows(&bytes[at..], options),
        ]
        .concat();
        assert_eq!(
            rows,
            whole_rows,
            "arrow-csv's rows, split at {at} of {:?}",
            String::from_utf8_lossy(bytes)
        );
    }
}

#[test]
fn quoted_line_breaks_are_never_a_record_start() {
    let csv = b"id,note\n1,\"a\nb\"\n2,x\n3,\"c\n\n4,d\"\n5,e\n";
    check(csv, &options(None, None, None));
    let found = starts(csv, &options(None, None, None), 4);
    // Offset 12 is the line end inside "a\nb": the next record, "2,x",
    // starts at 16.
    assert_eq!(found[11], 16);
}

#[test]
fn stray_quotes_escapes_comments_and_crlf_are_read_as_csv_core_reads_them() {
    check(
        b"h\n5'10\"\nx\n\"q\nr\"\n6\"\n\"s\"\"\nt\"\n",
        &options(None, None, None),
    );
    check(
        b"a,b\r\n1,\"x\r\ny\"\r\n\r\n2,z\r\n3,\"\"\r\n",
        &options(None, None, None),
    );
    check(
        b"1,\"a\\\"\nb\"\n2,\"c\\\\\"\n3,d\n",
        &options(Some(b'\\'), None, None),
    );
    check(
        b"#\"comment\n1,\"x\ny\"\n#z\n2,w\n",
        &options(None, Some(b'#'), None),
    );
    check(b"1;\"a\nb\";2;3\"\n;", &options(None, None, Some(b';')));
}

#[test]
fn no_quote_character_needs_no_finding() {
    let mut no_quote = options(None, None, None);
    no_quote.quote = NO_QUOTE;
    assert!(RecordStarts::new(&no_quote, vec![5]).is_none());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_split_at_a_found_start_reads_the_whole_files_records(
        bytes in proptest::collection::vec(
            prop::sample::select(b"a,\"\n\r\\#;'".to_vec()),
            0..60,
        ),
        escape in prop::option::of(Just(b'\\')),
        comment in prop::option::of(Just(b'#')),
        terminator in prop::option::of(prop::sample::select(vec![b'\n', b';'])),
    ) {
        check(&bytes, &options(escape, comment, terminator));
    }

    /// Without a quote character in the bytes, a record starts after
    /// every line end: the record starts are the naive ones, so a range
    /// read from its naive start reads the whole file's records. (Where
    /// csv-core reads a comment, a lone CR or an empty record of another
    /// terminator than `\n` across two chunks fed, it passes over the
    /// start of the record after it, and a later start, still a right
    /// one, is found.)
    #[test]
    fn without_a_quote_the_naive_starts_are_the_record_starts(
        bytes in proptest::collection::vec(
            prop::sample::select(b"a,\n\r\\#;'".to_vec()),
            0..80,
        ),
        escape in prop::option::of(Just(b'\\')),
        comment in prop::option::of(Just(b'#')),
        terminator in prop::option::of(Just(b'\n')),
    ) {
        let options = options(escape, comment, terminator);
        check(&bytes, &options);
        let naive = naive(&bytes, &options);
        prop_assert_eq!(&starts(&bytes, &options, bytes.len().max(1)), &naive);
        if comment.is_none() && !bytes.contains(&b'\r') {
            prop_assert_eq!(&starts(&bytes, &options, 5), &naive);
        }
    }
}

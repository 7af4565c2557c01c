use super::*;

fn options() -> CsvOptions {
    CsvOptions {
        quote: b'"',
        ..CsvOptions::default()
    }
}

#[test]
fn a_line_ends_at_lf_crlf_or_a_lone_cr() {
    assert_eq!(line_end(b"a,b\n1"), Some(4));
    assert_eq!(line_end(b"a,b\r\n1"), Some(5));
    assert_eq!(line_end(b"a,b\r1"), Some(4));
    assert_eq!(line_end(b"a,b"), None);
    assert_eq!(skip_lines(b"x\ry\r\na,b\r1,2\r", 2), b"a,b\r1,2\r");
    assert_eq!(skip_lines(b"only", 1), b"");
}

#[test]
fn skipped_lines_are_dropped_whatever_the_chunks_cut() {
    let text = b"junk 1\r\njunk 2\ra,b\n";
    for cut in 0..text.len() {
        let mut skipper = SkipLines::new(2);
        let (first, second) = text.split_at(cut);
        let mut kept = first[skipper.skip(first)..].to_vec();
        kept.extend_from_slice(&second[skipper.skip(second)..]);
        assert_eq!(kept, b"a,b\n", "cut at {cut}");
    }
}

#[test]
fn the_first_record_ends_outside_quotes_at_any_line_end() {
    let o = options();
    // A lone CR ends the header (review-8e #27: the whole file was "the header").
    assert_eq!(first_record_end(b"a,b\r1,2\r", &o, true), Some(4));
    assert_eq!(first_record_end(b"a,b\r\n1,2\r\n", &o, true), Some(5));
    // A quoted line break (Excel's wrapped header cell, review-8e #19) does not.
    assert_eq!(first_record_end(b"a,\"b\nx\"\n7,8\n", &o, true), Some(8));
    // Nothing ends yet: more may follow; a `\r` at the end may be a `\r\n`.
    assert_eq!(first_record_end(b"a,\"b\nx", &o, false), None);
    assert_eq!(first_record_end(b"a,b\r", &o, false), None);
    assert_eq!(first_record_end(b"a,b\r", &o, true), Some(4));
    assert_eq!(first_record_end(b"a,b", &o, true), Some(3));
    assert_eq!(first_record_end(b"", &o, true), Some(0));
    // A comment line before the header belongs to it.
    let comment = CsvOptions {
        comment: Some(b'#'),
        ..options()
    };
    assert_eq!(
        first_record_end(b"# exported\na,b\n1,2\n", &comment, true),
        Some(15)
    );
}

fn marked(text: &[u8], cut: usize) -> Vec<u8> {
    let mut lines = EmptyLines::new(&options()).unwrap();
    let (first, second) = text.split_at(cut);
    let mut out = lines.mark(first).unwrap_or_else(|| first.to_vec());
    out.extend(lines.mark(second).unwrap_or_else(|| second.to_vec()));
    out
}

#[test]
fn empty_lines_of_a_one_column_file_become_empty_values() {
    let cases: [(&[u8], &[u8]); 6] = [
        (b"c\n1\n2\n\n3\n", b"c\n1\n2\n\"\"\n3\n"),
        (b"c\n1\n\n", b"c\n1\n\"\"\n"),
        (b"c\r\n1\r\n\r\n2\r\n", b"c\r\n1\r\n\"\"\r\n2\r\n"),
        (b"c\r1\r\r2\r", b"c\r1\r\"\"\r2\r"),
        // Before the first record, and inside quotes: no value.
        (b"\nc\n\"a\n\nb\"\n", b"\nc\n\"a\n\nb\"\n"),
        (b"c\n\"x\"\"\n\"\n\n", b"c\n\"x\"\"\n\"\n\"\"\n"),
    ];
    for (text, expected) in cases {
        for cut in 0..=text.len() {
            assert_eq!(
                String::from_utf8_lossy(&marked(text, cut)),
                String::from_utf8_lossy(expected),
                "{:?} cut at {cut}",
                String::from_utf8_lossy(text)
            );
        }
    }
    let unchanged = EmptyLines::new(&options()).unwrap().mark(b"c\n1\n2\n");
    assert_eq!(unchanged, None);
    let no_quote = CsvOptions {
        quote: crate::NO_QUOTE,
        ..options()
    };
    // Read unquoted (DuckDB's no quote): marked with the reader's stand-in
    // quote byte, as DuckDB counts such a file's empty line a NULL row.
    let marked = EmptyLines::new(&no_quote).unwrap().mark(b"c\n1\n\n2\n");
    assert_eq!(marked.as_deref(), Some(&b"c\n1\n\0\0\n2\n"[..]));
}

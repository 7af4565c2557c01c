//! How a candidate dialect's quotes read a CSV sample, as DuckDB 1.5.5's
//! sniffer reads them in its default strict mode. csv-core, which splits
//! the sample into records, forgives what DuckDB does not: text after a
//! closing quote (`"a\"b"` read without the backslash escape), a doubled
//! quote under an escape of its own (`"a""b"` read with `\`), a quote
//! never closed before the file ends. DuckDB drops a candidate that does
//! any of these, so a backslash is the escape only where the other
//! escapes fail (`"C:\\dir\\"` keeps both backslashes: the doubled quote
//! reads it), and a quote left open at the end of the file loses to one
//! that closes (the rows it swallowed were lost).

/// DuckDB's `max_line_size` default: a candidate whose quoted value runs
/// longer than this is dropped, which is all that can be told of a quote
/// still open where a sample cut from a longer file ends.
const MAX_LINE_SIZE: usize = 2_000_000;

/// Where a sample handed to the sniffer ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleEnd {
    /// Where the file ends: a quote open there is never closed.
    File,
    /// Before the file's end: the last record may be cut.
    Cut,
}

/// The characters a candidate dialect splits by.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate {
    pub delimiter: u8,
    pub quote: Option<u8>,
    /// `None`: the doubled quote.
    pub escape: Option<u8>,
    pub comment: Option<u8>,
}

/// What a candidate's quotes make of a sample.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Quoting {
    /// DuckDB's strict mode reads the sample without an error: no text
    /// after a closing quote, no quote left open at the end of the file
    /// (or running past DuckDB's `max_line_size` before a cut).
    pub valid: bool,
    /// A field is quoted: DuckDB prefers a dialect whose quote it meets
    /// (`'it''s'` is `it's` where `"` would split the file alike).
    pub quoted: bool,
    /// A quote is escaped (doubled, or after the escape): past its first
    /// 2,048 records DuckDB prefers a dialect that escapes one.
    pub escaped: bool,
    /// Where the first quote opened after spaces at a field's start lies
    /// (`1, "a,b"`), or the first spaces after a closing quote before a
    /// delimiter (`"a,b" ,1`): DuckDB reads the value quoted without the
    /// spaces, csv-core reads the first unquoted and keeps the second.
    pub spaced: Option<usize>,
}

/// Reads `sample` with `candidate`'s quotes as DuckDB's strict mode
/// reads them (see the module doc); `end` says whether the file ends
/// with the sample.
pub(crate) fn quoting(sample: &[u8], candidate: &Candidate, end: SampleEnd) -> Quoting {
    let Some(quote) = candidate.quote else {
        return Quoting {
            valid: true,
            ..Quoting::default()
        };
    };
    let doubled = candidate.escape.is_none_or(|e| e == quote);
    let is_break = |b: u8| b == candidate.delimiter || b == b'\n' || b == b'\r';
    let space = |b: u8| b == b' ' && candidate.delimiter != b' ';
    let mut out = Quoting {
        valid: true,
        ..Quoting::default()
    };
    let (mut field_start, mut opened_at, mut just_closed) = (true, None, false);
    let (mut spaces, mut spaces_after) = (false, None);
    let mut line_start = true;
    let mut at = 0;
    while at < sample.len() {
        let b = sample[at];
        at += 1;
        if let Some(from) = opened_at {
            if b == quote && doubled && sample.get(at) == Some(&quote) {
                (at, out.escaped) = (at + 1, true);
            } else if b == quote {
                (opened_at, just_closed) = (None, true);
            } else if Some(b) == candidate.escape {
                out.escaped |= sample.get(at) == Some(&quote);
                at += 1;
            }
            if opened_at.is_some() && at - from > MAX_LINE_SIZE {
                out.valid = false;
                return out;
            }
            continue;
        }
        if just_closed {
            // DuckDB's UNQUOTED state: spaces, then a delimiter or a line end.
            if space(b) {
                spaces_after.get_or_insert(at - 1);
                continue;
            }
            just_closed = false;
            if !is_break(b) && Some(b) != candidate.comment {
                out.valid = false;
            } else if let Some(from) = spaces_after {
                out.spaced.get_or_insert(from);
            }
            spaces_after = None;
        }
        if line_start && Some(b) == candidate.comment {
            // A comment line: nothing on it is quoted.
            at += memchr::memchr2(b'\n', b'\r', &sample[at..])
                .map_or(sample.len() - at, |end| end + 1);
            continue;
        }
        line_start = b == b'\n' || b == b'\r';
        if is_break(b) {
            (field_start, spaces) = (true, false);
            continue;
        }
        if field_start && space(b) && !spaces {
            // DuckDB's EMPTY_SPACE: a quote after one space still opens
            // the field; after two it is text (`1,  "z"` is `  "z"`;
            // review 14, M1).
            spaces = true;
            continue;
        }
        if field_start && b == quote {
            (opened_at, out.quoted) = (Some(at - 1), true);
            if spaces && out.spaced.is_none() {
                out.spaced = Some(at - 1);
            }
        }
        (field_start, spaces) = (false, false);
    }
    if opened_at.is_some() && end == SampleEnd::File {
        out.valid = false;
    }
    out
}

/// `sample` as DuckDB splits it with `candidate`'s quote, for csv-core:
/// the spaces before a quote opening a field moved after it (`1, "a,b"`
/// becomes `1,"  a,b"`), so the quote opens the field and every delimiter
/// and line end keeps its place. `None` when no quote opens a field after
/// spaces.
pub(crate) fn spaced_quotes_moved(sample: &[u8], candidate: &Candidate) -> Option<Vec<u8>> {
    let quote = candidate.quote?;
    if candidate.delimiter == b' ' || memchr::memmem::find(sample, &[b' ', quote]).is_none() {
        return None;
    }
    let doubled = candidate.escape.is_none_or(|e| e == quote);
    let mut out: Option<Vec<u8>> = None;
    let (mut quoted, mut field_start, mut line_start) = (false, true, true);
    let mut spaces_from = None;
    let mut at = 0;
    while at < sample.len() {
        let b = sample[at];
        at += 1;
        if quoted {
            if b == quote && doubled && sample.get(at) == Some(&quote) {
                at += 1;
            } else if b == quote {
                quoted = false;
            } else if Some(b) == candidate.escape {
                at += 1;
            }
            continue;
        }
        if line_start && Some(b) == candidate.comment {
            at += memchr::memchr2(b'\n', b'\r', &sample[at..])
                .map_or(sample.len() - at, |end| end + 1);
            continue;
        }
        line_start = b == b'\n' || b == b'\r';
        if line_start || b == candidate.delimiter {
            (field_start, spaces_from) = (true, None);
            continue;
        }
        if field_start && b == b' ' && spaces_from.is_none() {
            spaces_from = Some(at - 1);
            continue;
        }
        if field_start && b == quote {
            quoted = true;
            if let Some(from) = spaces_from {
                let moved = out.get_or_insert_with(|| sample.to_vec());
                moved.copy_within(from..at - 1, from + 1);
                moved[from] = quote;
            }
        }
        (field_start, spaces_from) = (false, None);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(sample: &str, quote: u8, escape: Option<u8>, end: SampleEnd) -> Quoting {
        let candidate = Candidate {
            delimiter: b',',
            quote: Some(quote),
            escape,
            comment: Some(b'#'),
        };
        quoting(sample.as_bytes(), &candidate, end)
    }

    /// Each case as DuckDB 1.5.5's strict mode takes it (a candidate it
    /// drops is not valid).
    #[test]
    fn strict_mode_drops_what_duckdb_drops() {
        use SampleEnd::*;
        let bs = Some(b'\\');
        let cases = [
            ("1,\"C:\\\\dir\\\\\"\n", b'"', None, File, true),
            ("1,\"C:\\\\dir\\\\\"\n", b'"', bs, File, true),
            ("1,\"say \\\"hi\\\"\"\n", b'"', None, File, false),
            ("1,\"say \\\"hi\\\"\"\n", b'"', bs, File, true),
            ("1,\"a\"\"b\"\n", b'"', None, File, true),
            ("1,\"a\"\"b\"\n", b'"', bs, File, false),
            ("1,\"a\" ,b\n", b'"', None, File, true),
            ("1, \"a,b\"x\n", b'"', None, File, false),
            ("1,'''\"'''\n2,x\n", b'\'', None, File, true),
            ("1,'''\"'''\n2,x\n", b'\'', Some(b'"'), Cut, false),
            ("1,'a\"'\n2,x\n", b'\'', Some(b'"'), File, false),
            ("1,'a\"'\n2,x\n", b'\'', Some(b'"'), Cut, true),
            ("1,a\"b,c\"\n", b'"', None, File, true),
            ("1,a,\"c\n", b'"', None, File, false),
            ("#,\"x\n1,a\n", b'"', None, File, true),
        ];
        for (sample, quote, escape, end, valid) in cases {
            let got = read(sample, quote, escape, end);
            assert_eq!(
                got.valid, valid,
                "{sample:?} quote {quote} escape {escape:?} {end:?}"
            );
        }
    }

    /// Spaces before a quote opening a field move after it; inside a
    /// quoted value (past a doubled quote too) and on a comment line they
    /// stay.
    #[test]
    fn spaces_before_an_opening_quote_move_after_it() {
        let candidate = Candidate {
            delimiter: b',',
            quote: Some(b'"'),
            escape: None,
            comment: Some(b'#'),
        };
        let cases = [
            // One space is skipped before a quote, two make it text.
            ("1, \"a,b\"\n  \"c\",2\n", Some("1,\" a,b\"\n  \"c\",2\n")),
            ("1,\"x, \"\" y\"\n", None),
            ("# a, \"b\n1,2\n", None),
            ("1,x \"y\"\n", None),
        ];
        for (sample, moved) in cases {
            let got = spaced_quotes_moved(sample.as_bytes(), &candidate);
            assert_eq!(got.as_deref(), moved.map(str::as_bytes), "{sample:?}");
        }
    }

    #[test]
    fn a_quote_open_longer_than_a_line_may_be_is_dropped_before_a_cut() {
        let long = format!("1,\"{}", "x".repeat(MAX_LINE_SIZE + 1));
        assert!(!read(&long, b'"', None, SampleEnd::Cut).valid);
        assert!(read(&long[..100], b'"', None, SampleEnd::Cut).valid);
    }
}

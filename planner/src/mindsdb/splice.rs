//! The bytes of a text object INSERT appends to: its old text passed on
//! as it is (decompressed and compressed again when it is gzip or zstd,
//! so the text inside is the same byte for byte), then the new rows in the
//! object's own layout. [`OldText`] watches the old text go by to learn
//! what the new rows must look like: the line ending of its first line
//! (LF, CRLF, or a lone CR as classic Mac OS wrote),
//! whether its last line ends, and for a JSON array the closing `]` (held
//! back, so the new objects go inside it). [`NewText`] turns the encoder's
//! rows (`\n`-ended, one JSON object a line) into that layout.

use std::io::Write;

use crate::copy::TextCompression;

/// A streaming decompressor of the old object's bytes: every gzip member,
/// every zstd frame (a file of several is still one text).
pub(crate) enum Decoder {
    Plain,
    Gzip(Box<flate2::write::MultiGzDecoder<Vec<u8>>>),
    Zstd(Box<zstd::stream::write::Decoder<'static, Vec<u8>>>),
}

impl Decoder {
    /// A decoder of `compression`.
    pub(crate) fn new(compression: TextCompression) -> std::io::Result<Self> {
        Ok(match compression {
            TextCompression::None => Decoder::Plain,
            TextCompression::Gzip => {
                Decoder::Gzip(Box::new(flate2::write::MultiGzDecoder::new(Vec::new())))
            }
            TextCompression::Zstd => {
                Decoder::Zstd(Box::new(zstd::stream::write::Decoder::new(Vec::new())?))
            }
        })
    }

    /// The text `chunk` of the object decodes to (possibly none yet).
    pub(crate) fn decode(&mut self, chunk: &[u8]) -> std::io::Result<Vec<u8>> {
        match self {
            Decoder::Plain => Ok(chunk.to_vec()),
            Decoder::Gzip(d) => {
                d.write_all(chunk)?;
                Ok(std::mem::take(d.get_mut()))
            }
            Decoder::Zstd(d) => {
                d.write_all(chunk)?;
                Ok(std::mem::take(d.get_mut()))
            }
        }
    }

    /// The text left once the object's bytes all went in; a cut stream is
    /// an error.
    pub(crate) fn finish(self) -> std::io::Result<Vec<u8>> {
        match self {
            Decoder::Plain => Ok(Vec::new()),
            Decoder::Gzip(d) => d.finish(),
            // `finish`, not `flush`: only it says a frame is incomplete.
            Decoder::Zstd(d) => d.finish(),
        }
    }
}

/// What the old text showed, read as it streams by.
#[derive(Debug, Default)]
pub(crate) struct OldText {
    json_array: bool,
    /// How the first line ends, once seen.
    ending: Option<LineEnding>,
    /// The byte before the current chunk (a `\r` ending a chunk).
    previous: Option<u8>,
    /// The last byte passed on.
    last: Option<u8>,
    /// The last byte passed on that is not white space.
    last_visible: Option<u8>,
    /// A JSON array's tail not passed on yet: white space, and the `]`
    /// with the white space after it once seen.
    held: Vec<u8>,
    /// The text's first [`HEAD_BYTES`]: its first records, whose values
    /// show how the object writes them.
    head: Vec<u8>,
    /// JSON Lines: the line being read, and the last one that held more
    /// than white space ([`OldText::last_line`]).
    line: Vec<u8>,
    last_line: Vec<u8>,
}

/// How much of the old text's start [`OldText::head`] keeps.
const HEAD_BYTES: usize = 64 * 1024;

/// How a text's lines end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineEnding {
    /// `\n`.
    Lf,
    /// `\r\n`.
    CrLf,
    /// A lone `\r` (classic Mac OS).
    Cr,
}

impl LineEnding {
    fn bytes(self) -> &'static [u8] {
        match self {
            LineEnding::Lf => b"\n",
            LineEnding::CrLf => b"\r\n",
            LineEnding::Cr => b"\r",
        }
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// `text` in pieces each ending in a line end (`\n` or `\r`), the last
/// one maybe not.
fn out_lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split_inclusive(|&b| b == b'\n' || b == b'\r')
}

impl OldText {
    /// Watches a CSV / JSON Lines text, or a JSON array's.
    pub(crate) fn new(json_array: bool) -> Self {
        Self {
            json_array,
            ..Self::default()
        }
    }

    /// Takes the next piece of old text; returns what can be passed on
    /// now (all of it, except a JSON array's possible tail).
    pub(crate) fn pass(&mut self, text: Vec<u8>) -> Vec<u8> {
        let room = HEAD_BYTES.saturating_sub(self.head.len());
        self.head.extend_from_slice(&text[..room.min(text.len())]);
        if self.ending.is_none() {
            let mut previous = self.previous;
            for &b in &text {
                // A `\r` is a line's end; the byte after it tells which.
                if previous == Some(b'\r') {
                    self.ending = Some(if b == b'\n' {
                        LineEnding::CrLf
                    } else {
                        LineEnding::Cr
                    });
                    break;
                }
                if b == b'\n' {
                    self.ending = Some(LineEnding::Lf);
                    break;
                }
                previous = Some(b);
            }
        }
        if let Some(&b) = text.last() {
            self.previous = Some(b);
        }
        if !self.json_array {
            for piece in out_lines(&text) {
                self.line.extend_from_slice(piece);
                if piece.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
                    if !self.line.iter().all(|&b| is_space(b)) {
                        std::mem::swap(&mut self.line, &mut self.last_line);
                    }
                    self.line.clear();
                }
            }
        }
        let out = if self.json_array {
            self.held.extend_from_slice(&text);
            // The tail that may close the array: white space, then
            // possibly one `]` and white space.
            let trailing = self.held.iter().rev().take_while(|&&b| is_space(b)).count();
            let mut keep = trailing;
            if self.held.len() > keep && self.held[self.held.len() - keep - 1] == b']' {
                keep += 1;
                keep += self.held[..self.held.len() - keep]
                    .iter()
                    .rev()
                    .take_while(|&&b| is_space(b))
                    .count();
            }
            let cut = self.held.len() - keep;
            let rest = self.held.split_off(cut);
            std::mem::replace(&mut self.held, rest)
        } else {
            text
        };
        if let Some(&b) = out.last() {
            self.last = Some(b);
        }
        if let Some(&b) = out.iter().rev().find(|&&b| !is_space(b)) {
            self.last_visible = Some(b);
        }
        out
    }

    /// The last line holding more than white space (a CSV's or JSON
    /// Lines' last record, when it has no line break inside), without
    /// its line end.
    pub(crate) fn last_line(&self) -> &[u8] {
        let line = if self.line.iter().all(|&b| is_space(b)) {
            &self.last_line
        } else {
            &self.line
        };
        let end = line
            .iter()
            .rposition(|&b| !is_space(b))
            .map_or(0, |at| at + 1);
        &line[..end]
    }

    /// The text's start (up to [`HEAD_BYTES`]).
    pub(crate) fn head(&self) -> &[u8] {
        &self.head
    }

    /// Whether any text was seen.
    pub(crate) fn is_empty(&self) -> bool {
        self.previous.is_none()
    }

    /// The new rows' layout, now the old text is all seen; for a JSON
    /// array also what goes before the first new object. An array that
    /// does not end in `]`, or whose last element before it is not an
    /// object (`[{...}]\n]`: a `]` too many), is refused, saying why.
    pub(crate) fn layout(&self) -> Result<(NewText, Vec<u8>), &'static str> {
        // A text whose only line end is its last byte, a `\r`, ends so.
        let ending = self.ending.unwrap_or(if self.previous == Some(b'\r') {
            LineEnding::Cr
        } else {
            LineEnding::Lf
        });
        if !self.json_array {
            let before = match self.last {
                Some(b'\n' | b'\r') | None => Vec::new(),
                Some(_) => ending.bytes().to_vec(),
            };
            return Ok((
                NewText {
                    ending,
                    array: None,
                    rows: 0,
                },
                before,
            ));
        }
        let (before_close, close) = if self.is_empty() {
            // No text at all: a new array.
            (Vec::new(), b"]\n".to_vec())
        } else {
            let at = self
                .held
                .iter()
                .position(|&b| b == b']')
                .ok_or("the object is not a JSON array (it does not end in `]`)")?;
            if !matches!(self.last_visible, Some(b'}' | b'[')) {
                return Err(
                    "the object's JSON array does not end with an object before its `]` (a `]` too many?), so it is not the array of objects s3sql reads",
                );
            }
            (self.held[..at].to_vec(), self.held[at..].to_vec())
        };
        let opening = if self.is_empty() {
            b"[".to_vec()
        } else {
            Vec::new()
        };
        Ok((
            NewText {
                ending,
                array: Some(ArrayLayout {
                    comma_first: !self.is_empty() && self.last_visible != Some(b'['),
                    separator: before_close,
                    close,
                }),
                rows: 0,
            },
            opening,
        ))
    }
}

/// A CSV text as a CSV reader splits it, followed as the old text streams
/// by: the number of fields of its first line (its header), and whether
/// the text ends inside a quoted value (a last value whose quote is never
/// closed: rows appended after it would become part of that value).
/// Delimiters count outside quoted values; a quote opens a quoted value
/// only as a field's first byte (elsewhere it is a literal, an inch mark in
/// `width"`), a doubled quote inside one is a literal, and so is the byte
/// after the dialect's escape character; a UTF-8 BOM before the first
/// field is skipped.
#[derive(Debug)]
pub(crate) struct CsvShape {
    delimiter: u8,
    quote: u8,
    /// An escape character other than the quote.
    escape: Option<u8>,
    /// The comment character: a line starting with it is no record.
    comment: Option<u8>,
    state: Field,
    /// The first line's fields so far.
    fields: usize,
    /// Whether the first line has ended.
    first_line_ended: bool,
    /// The fields of the record being read, and whether it has any byte.
    record: (usize, bool),
    /// The fields of the last record that had a byte.
    last_record: Option<usize>,
    /// Bytes seen so far.
    seen: usize,
    /// BOM bytes skipped at the start.
    bom: usize,
}

/// Where in a field the reader is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Field {
    Start,
    Unquoted,
    Quoted,
    /// A quote inside a quoted value: its end, or the first of two.
    QuoteInQuoted,
    /// The escape character inside a quoted value: the next byte is a
    /// literal.
    EscapeInQuoted,
    /// A comment line, until its line end.
    Comment,
    /// The `\r` ending a comment line: a `\n` after it ends it too.
    CommentCr,
}

/// UTF-8's byte order mark.
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

impl CsvShape {
    /// A reader of a CSV of `delimiter`, `quote`, `escape` and
    /// `comment` (lines starting with it are skipped, as the scan skips
    /// them: review-10h #4).
    pub(crate) fn new(delimiter: u8, quote: u8, escape: Option<u8>, comment: Option<u8>) -> Self {
        Self {
            delimiter,
            quote,
            escape: escape.filter(|&e| e != quote),
            comment,
            state: Field::Start,
            fields: 1,
            first_line_ended: false,
            record: (1, false),
            last_record: None,
            seen: 0,
            bom: 0,
        }
    }

    /// Takes the next piece of old text.
    pub(crate) fn feed(&mut self, text: &[u8]) {
        for &b in text {
            let at = self.seen;
            self.seen += 1;
            if at == self.bom && at < BOM.len() && b == BOM[at] {
                self.bom += 1;
                continue;
            }
            match self.state {
                Field::Comment => {
                    self.state = match b {
                        b'\n' => Field::Start,
                        b'\r' => Field::CommentCr,
                        _ => Field::Comment,
                    };
                    continue;
                }
                Field::CommentCr => {
                    self.state = Field::Start;
                    if b == b'\n' {
                        continue;
                    }
                }
                Field::Start if self.record == (1, false) && Some(b) == self.comment => {
                    self.state = Field::Comment;
                    continue;
                }
                _ => {}
            }
            let ends_line = matches!(
                self.state,
                Field::Start | Field::Unquoted | Field::QuoteInQuoted
            ) && (b == b'\n' || b == b'\r');
            if ends_line {
                if self.record.1 {
                    self.last_record = Some(self.record.0);
                }
                self.record = (1, false);
            } else {
                self.record.1 = true;
            }
            self.state = match self.state {
                Field::Quoted if Some(b) == self.escape => Field::EscapeInQuoted,
                Field::EscapeInQuoted => Field::Quoted,
                Field::Quoted if b == self.quote => Field::QuoteInQuoted,
                Field::Quoted => Field::Quoted,
                Field::QuoteInQuoted if b == self.quote => Field::Quoted,
                Field::Start if b == self.quote => Field::Quoted,
                _ if b == self.delimiter => {
                    if !self.first_line_ended {
                        self.fields += 1;
                    }
                    self.record.0 += 1;
                    Field::Start
                }
                // `\n`, `\r\n` or a lone `\r` (classic Mac OS) ends a line.
                _ if b == b'\n' || b == b'\r' => {
                    self.first_line_ended = true;
                    Field::Start
                }
                _ => Field::Unquoted,
            };
        }
    }

    /// The first line's fields; `None` for an empty text.
    pub(crate) fn fields(&self) -> Option<usize> {
        (self.seen > 0).then_some(self.fields)
    }

    /// The fields of the last record (a last line without a line end
    /// counts); `None` for a text of no record.
    pub(crate) fn last_fields(&self) -> Option<usize> {
        if self.record.1 {
            Some(self.record.0)
        } else {
            self.last_record
        }
    }

    /// Whether the text seen so far ends inside a quoted value.
    pub(crate) fn ends_in_quotes(&self) -> bool {
        matches!(self.state, Field::Quoted | Field::EscapeInQuoted)
    }
}

/// Where new objects go in a JSON array.
#[derive(Debug)]
struct ArrayLayout {
    /// Whether the array already holds an element.
    comma_first: bool,
    /// The white space the old text had before its `]`, put before each
    /// new object and the `]` again.
    separator: Vec<u8>,
    /// The `]` and what followed it.
    close: Vec<u8>,
}

/// The new rows' text in the old object's layout.
#[derive(Debug)]
pub(crate) struct NewText {
    ending: LineEnding,
    array: Option<ArrayLayout>,
    rows: u64,
}

/// How a CSV object quotes its values: what the encoder's text (a value
/// quoted when it holds the delimiter, the quote or a line break, a quote
/// inside it doubled) becomes in it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CsvQuoting {
    /// The delimiter.
    pub delimiter: u8,
    /// The quote.
    pub quote: u8,
    /// An escape character other than the quote (`\`): a reader of such
    /// a file takes the byte after it inside a quoted value literally, so
    /// the quote and the escape itself are written escaped inside quotes,
    /// and a value holding the escape is quoted (so a value ending in `\`
    /// cannot take the closing quote or the delimiter with it).
    pub escape: Option<u8>,
}

impl NewText {
    /// CSV text, the encoder's rows (whole rows, each ended by `\n`,
    /// quotes doubled), as the object writes it: its line ending after
    /// each row (a line break inside a quoted value stays as it is: it is
    /// the value's), its escape inside quoted values ([`CsvQuoting`]).
    pub(crate) fn csv(&mut self, text: &[u8], quoting: CsvQuoting) -> Vec<u8> {
        let CsvQuoting {
            delimiter,
            quote,
            escape,
        } = quoting;
        if self.ending == LineEnding::Lf && escape.is_none() {
            return text.to_vec();
        }
        let ending = self.ending.bytes();
        let mut out = Vec::with_capacity(text.len() + text.len() / 16);
        // A byte of a value, escaped when it must be.
        let push = |out: &mut Vec<u8>, b: u8| {
            if Some(b) == escape || (b == quote && escape.is_some()) {
                out.push(escape.unwrap_or(quote));
            }
            out.push(b);
        };
        let mut i = 0;
        while i < text.len() {
            if text[i] == quote {
                // A quoted value: up to its closing quote; two quotes in
                // a row are one inside it.
                out.push(quote);
                i += 1;
                while let Some(&b) = text.get(i) {
                    if b == quote {
                        if text.get(i + 1) != Some(&quote) {
                            i += 1;
                            break;
                        }
                        if escape.is_none() {
                            out.push(quote);
                        }
                        i += 1;
                    }
                    push(&mut out, b);
                    i += 1;
                }
                out.push(quote);
            } else {
                let end = text[i..]
                    .iter()
                    .position(|&b| b == delimiter || b == b'\n')
                    .map_or(text.len(), |at| i + at);
                let value = &text[i..end];
                if escape.is_some_and(|e| value.contains(&e)) {
                    out.push(quote);
                    for &b in value {
                        push(&mut out, b);
                    }
                    out.push(quote);
                } else {
                    out.extend_from_slice(value);
                }
                i = end;
            }
            match text.get(i) {
                Some(b'\n') => out.extend_from_slice(ending),
                Some(&b) => out.push(b),
                None => break,
            }
            i += 1;
        }
        out
    }

    /// JSON Lines text (one object a line, `\n`-ended: JSON escapes any
    /// line break inside a value) as the object writes it: its line
    /// ending, or inside its array.
    pub(crate) fn json(&mut self, text: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() + text.len() / 16);
        for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            match &self.array {
                None => {
                    out.extend_from_slice(line);
                    out.extend_from_slice(self.ending.bytes());
                }
                Some(array) => {
                    if self.rows > 0 || array.comma_first {
                        out.push(b',');
                    }
                    out.extend_from_slice(&array.separator);
                    out.extend_from_slice(line);
                }
            }
            self.rows += 1;
        }
        out
    }

    /// What ends the text: a JSON array's `]` (after the white space
    /// that preceded it), nothing otherwise.
    pub(crate) fn end(&self) -> Vec<u8> {
        match &self.array {
            None => Vec::new(),
            Some(array) => [array.separator.as_slice(), array.close.as_slice()].concat(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use super::*;

    fn shape(text: &str, step: usize, escape: Option<u8>) -> CsvShape {
        fed(CsvShape::new(b',', b'"', escape, None), text, step)
    }

    /// `h` fed `text` in pieces of `step` bytes.
    fn fed(mut h: CsvShape, text: &str, step: usize) -> CsvShape {
        for piece in text.as_bytes().chunks(step) {
            h.feed(piece);
        }
        h
    }

    #[test]
    fn a_header_s_fields_are_counted_outside_quotes_across_pieces() {
        let count = |text: &str, step: usize| shape(text, step, None).fields();
        for step in [1, 3, 100] {
            assert_eq!(count("id,id,name\n1,2,x\n", step), Some(3));
            assert_eq!(count("\"a,b\",c\r\n1,2\n", step), Some(2));
            assert_eq!(count("\"a\nb\",c", step), Some(2));
            assert_eq!(count("", step), None);
            // A quote inside an unquoted field is a literal (an inch mark).
            assert_eq!(count("id,width\",name\n1,2,x\n", step), Some(3));
            assert_eq!(count("id,screen 15\" size,name\n", step), Some(3));
            // A doubled quote inside a quoted field is a literal.
            assert_eq!(count("\"a\"\"b,c\",d\n", step), Some(2));
            // A UTF-8 BOM before a quoted first field.
            assert_eq!(count("\u{feff}\"a,b\",c\n", step), Some(2));
        }
    }

    /// A text whose last value opens a quote it never closes would take
    /// the appended rows into that value.
    #[test]
    fn the_last_records_fields_are_counted_across_quoted_line_breaks() {
        for (text, fields) in [
            ("a,b\n1,\"x\ny\"", Some(2)),
            ("a,b\r\n1,2\r\n\r\n", Some(2)),
            ("a,b\n1,2\n12", Some(1)),
            ("a,b", Some(2)),
            ("", None),
        ] {
            for step in [1, 3, 64] {
                assert_eq!(shape(text, step, None).last_fields(), fields, "{text:?}");
            }
        }
    }

    /// Comment lines are no records: neither the header nor the last
    /// record (review-10h #4); a `#` inside a record is a value.
    #[test]
    fn comment_lines_are_neither_the_header_nor_the_last_record() {
        for (text, header, last) in [
            ("# by X, v2\na,b\n1,2\n", 2, 2),
            ("a,b\n1,2\n# by X\n", 2, 2),
            ("a,b\r\n# p, 2\r\n1,2\r\n# end", 2, 2),
            ("\u{feff}# by X\r\na,b,c\r\n", 3, 3),
            ("a,b\n1,#2\n", 2, 2),
        ] {
            for step in [1, 3, 64] {
                let h = fed(CsvShape::new(b',', b'"', None, Some(b'#')), text, step);
                assert_eq!(h.fields(), Some(header), "{text:?}");
                assert_eq!(h.last_fields(), Some(last), "{text:?}");
            }
        }
    }

    #[test]
    fn a_text_ending_inside_a_quoted_value_is_told_apart() {
        for step in [1, 2, 100] {
            let open = |text: &str| shape(text, step, None).ends_in_quotes();
            assert!(open("id,s\n1,\"abc"), "{step}");
            assert!(open("id,s\n1,\"ab\"\"c\n"), "{step}");
            assert!(!open("id,s\n1,\"a\nb\"\n"), "{step}");
            assert!(!open("id,s\n1,\"a\"\"b\""), "{step}");
            assert!(!open("id,width\"\n1,2\n"), "{step}");
            assert!(!open(""), "{step}");
            // With a backslash escape, `\"` inside a value is a literal.
            let escaped = |text: &str| shape(text, step, Some(b'\\')).ends_in_quotes();
            assert!(!escaped("a\n\"x\\\"\"\n"), "{step}");
            assert!(escaped("a\n\"x\\\""), "{step}");
            assert!(open("a\n\"x\\\"\"\n"), "{step}");
        }
        // The header's count is the first line's, whatever follows.
        assert_eq!(shape("a,b\n1,2,3\n", 1, None).fields(), Some(2));
    }

    /// `old` passed in pieces of `step` bytes, then `rows` (JSON Lines
    /// text, or CSV) appended: the whole text.
    fn spliced(old: &str, step: usize, json_array: bool, rows: &str, csv: bool) -> String {
        let mut text = OldText::new(json_array);
        let mut out = Vec::new();
        for piece in old.as_bytes().chunks(step.max(1)) {
            out.extend(text.pass(piece.to_vec()));
        }
        let (mut new, before) = text.layout().unwrap();
        out.extend(before);
        out.extend(if csv {
            new.csv(rows.as_bytes(), QUOTED)
        } else {
            new.json(rows.as_bytes())
        });
        out.extend(new.end());
        String::from_utf8(out).unwrap()
    }

    /// The quoting of a CSV without an escape character of its own.
    const QUOTED: CsvQuoting = CsvQuoting {
        delimiter: b',',
        quote: b'"',
        escape: None,
    };

    /// A backslash-escaped CSV (review-10e #3): the encoder's text (quotes
    /// doubled, `C:\` unquoted) becomes that dialect's, which arrow's
    /// reader with the escape reads back as the values given; a value
    /// ending in `\` no longer takes the closing quote with it.
    #[test]
    fn values_are_written_as_a_backslash_escaped_csv_reads_them() {
        use datafusion::arrow::array::AsArray;
        use datafusion::arrow::csv::ReaderBuilder;
        use datafusion::arrow::datatypes::{DataType, Field, Schema};
        let escaped = CsvQuoting {
            escape: Some(b'\\'),
            ..QUOTED
        };
        let encoded = "3,C:\\\n4,\"a,b\\\"\n5,\"say \"\"bye\\\"\n6,back\\slash\n7,plain\n";
        let (mut new, _) = OldText::new(false).layout().unwrap();
        let out = new.csv(encoded.as_bytes(), escaped);
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "3,\"C:\\\\\"\n4,\"a,b\\\\\"\n5,\"say \\\"bye\\\\\"\n6,\"back\\\\slash\"\n7,plain\n"
        );
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("note", DataType::Utf8, true),
        ]));
        let mut reader = ReaderBuilder::new(schema)
            .with_escape(b'\\')
            .build(std::io::Cursor::new(out))
            .unwrap();
        let batch = reader.next().unwrap().unwrap();
        let notes: Vec<_> = batch.column(1).as_string::<i32>().iter().collect();
        assert_eq!(
            notes,
            [
                Some("C:\\"),
                Some("a,b\\"),
                Some("say \"bye\\"),
                Some("back\\slash"),
                Some("plain")
            ]
        );
        // Without an escape of its own, the encoder's text is the object's.
        assert_eq!(new.csv(encoded.as_bytes(), QUOTED), encoded.as_bytes());
    }

    #[test]
    fn csv_rows_take_the_first_lines_ending_and_a_last_line_is_ended_first() {
        for step in [1, 2, 3, 100] {
            assert_eq!(
                spliced("a,b\r\n1,\"x\ny\"\r\n", step, false, "2,\"p\nq\"\n", true),
                "a,b\r\n1,\"x\ny\"\r\n2,\"p\nq\"\r\n"
            );
            assert_eq!(spliced("a\n1", step, false, "2\n", true), "a\n1\n2\n");
            assert_eq!(
                spliced("a\r\n1", step, false, "2\n", true),
                "a\r\n1\r\n2\r\n"
            );
        }
        assert_eq!(spliced("", 1, false, "a\n2\n", true), "a\n2\n");
    }

    /// Lines ended by a lone CR (review-10e #2): the new rows end so, a
    /// last line left unended is ended so first, and the header is the
    /// first line only.
    #[test]
    fn csv_rows_end_in_a_lone_cr_when_the_objects_lines_do() {
        for step in [1, 2, 3, 100] {
            assert_eq!(
                spliced("a,b\r1,\"x\ny\"\r", step, false, "2,\"p\nq\"\n3,z\n", true),
                "a,b\r1,\"x\ny\"\r2,\"p\nq\"\r3,z\r"
            );
            assert_eq!(spliced("a\r1", step, false, "2\n", true), "a\r1\r2\r");
            assert_eq!(spliced("a\r", step, false, "2\n", true), "a\r2\r");
            assert_eq!(
                shape("id,city\r1,Lima\r2,Pune\r", step, None).fields(),
                Some(2)
            );
        }
    }

    #[test]
    fn json_objects_go_inside_the_array_before_its_closing_bracket() {
        for step in [1, 2, 5, 100] {
            assert_eq!(
                spliced("[{\"a\":[1]}]", step, true, "{\"a\":2}\n{\"a\":3}\n", false),
                "[{\"a\":[1]},{\"a\":2},{\"a\":3}]"
            );
            assert_eq!(
                spliced("[\n  {\"a\":1}\n] \n", step, true, "{\"a\":2}\n", false),
                "[\n  {\"a\":1},\n{\"a\":2}\n] \n"
            );
            assert_eq!(
                spliced("[ ]", step, true, "{\"a\":2}\n", false),
                "[ {\"a\":2} ]"
            );
        }
        assert_eq!(spliced("", 1, true, "{\"a\":2}\n", false), "[{\"a\":2}]\n");
        let mut open = OldText::new(true);
        open.pass(b"[{\"a\":1}".to_vec());
        assert!(open.layout().is_err(), "an array with no ] is refused");
        for broken in ["[{\"a\":1}]\n]\n", "[{\"a\":1},]", "[1, 2]"] {
            for step in [1, 3, 100] {
                let mut text = OldText::new(true);
                for piece in broken.as_bytes().chunks(step) {
                    text.pass(piece.to_vec());
                }
                let refused = text.layout().err().unwrap_or_default();
                assert!(refused.contains("a `]` too many"), "{broken}: {refused}");
            }
        }
    }

    #[test]
    fn json_lines_keep_the_objects_line_ending() {
        assert_eq!(
            spliced("{\"a\":1}\r\n", 1, false, "{\"a\":2}\n", false),
            "{\"a\":1}\r\n{\"a\":2}\r\n"
        );
        assert_eq!(
            spliced("{\"a\":1}", 4, false, "{\"a\":2}\n", false),
            "{\"a\":1}\n{\"a\":2}\n"
        );
    }

    #[test]
    fn every_gzip_member_and_zstd_frame_is_decoded() {
        let gzip = |text: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(text).unwrap();
            e.finish().unwrap()
        };
        let zstd = |text: &[u8]| zstd::encode_all(text, 1).unwrap();
        for (compression, bytes) in [
            (
                TextCompression::Gzip,
                [gzip(b"a\n1\n"), gzip(b"2\n")].concat(),
            ),
            (
                TextCompression::Zstd,
                [zstd(b"a\n1\n"), zstd(b"2\n")].concat(),
            ),
        ] {
            let mut decoder = Decoder::new(compression).unwrap();
            let mut text = Vec::new();
            for piece in bytes.chunks(7) {
                text.extend(decoder.decode(piece).unwrap());
            }
            text.extend(decoder.finish().unwrap());
            assert_eq!(text, b"a\n1\n2\n");
        }
    }
}

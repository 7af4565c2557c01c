//! Lines and records of a CSV file as DuckDB counts them, for the planner's
//! own reads (several files matched by header, `skip`, one-column files):
//! a line ends at `\n`, `\r\n` or a lone `\r` (classic Mac exports), and a
//! record ends at such a line end outside quotes, as csv-core (arrow-csv's
//! tokenizer) ends it.

use csv_core::ReadRecordResult;
use datafusion::common::config::CsvOptions;

use crate::record_starts::tokenizer;

/// Where the line starting `bytes` ends, its line end (`\n`, `\r\n` or a
/// lone `\r`) included; `None` without a line end. A `\r` as the last byte
/// ends the line there (a `\n` after it belongs to it: see [`SkipLines`]).
pub fn line_end(bytes: &[u8]) -> Option<usize> {
    let at = bytes.iter().position(|&b| b == b'\n' || b == b'\r')?;
    Some(match (bytes[at], bytes.get(at + 1)) {
        (b'\r', Some(b'\n')) => at + 2,
        _ => at + 1,
    })
}

/// `sample` after its first `skip` lines ([`line_end`]).
pub fn skip_lines(sample: &[u8], skip: u64) -> &[u8] {
    let mut skipper = SkipLines::new(skip);
    let at = skipper.skip(sample);
    &sample[at..]
}

/// Drops the first lines of a byte stream fed chunk by chunk, whatever
/// the chunks cut (a `\r\n` split between two chunks is one line end).
#[derive(Debug, Clone)]
pub struct SkipLines {
    /// Lines still to drop.
    remaining: u64,
    /// The last line dropped ended in `\r`: a `\n` next is its own.
    after_cr: bool,
}

impl SkipLines {
    /// Dropping the first `lines` lines.
    pub fn new(lines: u64) -> Self {
        Self {
            remaining: lines,
            after_cr: false,
        }
    }

    /// How many bytes at the start of `chunk` (the stream's next bytes)
    /// belong to dropped lines.
    pub fn skip(&mut self, chunk: &[u8]) -> usize {
        let mut at = 0;
        if std::mem::take(&mut self.after_cr) && chunk.first() == Some(&b'\n') {
            at = 1;
        }
        while self.remaining > 0 {
            match line_end(&chunk[at..]) {
                Some(end) => {
                    at += end;
                    self.remaining -= 1;
                    self.after_cr = at == chunk.len() && chunk[at - 1] == b'\r';
                }
                None => return chunk.len(),
            }
        }
        at
    }
}

/// Where the first record of `bytes` ends, its line end included (`\r\n`
/// whole), read as arrow-csv's decoder of `options` reads it: a line break
/// inside quotes does not end it, and empty and comment lines before it
/// belong to it (a header's end). `None` when no record ends within
/// `bytes` and more may follow (`!ended`); at the end, all of `bytes`.
pub fn first_record_end(bytes: &[u8], options: &CsvOptions, ended: bool) -> Option<usize> {
    let mut reader = tokenizer(options);
    let (mut output, mut ends) = (vec![0; 4096], vec![0; 256]);
    let mut pos = 0;
    loop {
        let (result, read, _, _) = reader.read_record(&bytes[pos..], &mut output, &mut ends);
        pos += read;
        match result {
            ReadRecordResult::Record if pos == bytes.len() && bytes.last() == Some(&b'\r') => {
                return ended.then_some(pos);
            }
            ReadRecordResult::Record => {
                let crlf = bytes[..pos].last() == Some(&b'\r') && bytes.get(pos) == Some(&b'\n');
                return Some(pos + usize::from(crlf));
            }
            ReadRecordResult::End => return Some(bytes.len()),
            ReadRecordResult::InputEmpty if !ended => return None,
            ReadRecordResult::InputEmpty
            | ReadRecordResult::OutputFull
            | ReadRecordResult::OutputEndsFull => {}
        }
    }
}

/// Turns each empty line of a one-column CSV into an empty quoted value
/// (`""`, read as NULL), as DuckDB reads it: csv-core drops empty lines,
/// so `c\n1\n\n2\n` would read as two rows, DuckDB's three. Empty lines
/// before the first record are left alone (csv-core drops them), so is the
/// last line end of the file; a line break inside quotes is no empty line.
#[derive(Debug, Clone)]
pub struct EmptyLines {
    quote: u8,
    escape: Option<u8>,
    comment: Option<u8>,
    state: LineState,
    /// A record has been seen (empty lines before it are not values).
    started: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineState {
    /// At a line's start; `true`: after a `\r`, so a `\n` is part of its line end.
    LineStart(bool),
    Field,
    Quoted,
    Escaped,
    /// A quote closed a quoted value (another one next is a doubled quote).
    Closed,
    Comment,
}

impl EmptyLines {
    /// The marker for files read with `options`; `None` when the dialect
    /// cannot write an empty value (its own record terminator), or when an
    /// empty value is not NULL (`nullstr`): DuckDB then skips empty lines
    /// too. A file read unquoted is marked with the stand-in quote byte
    /// the reader is given (NUL), which no text holds: DuckDB
    /// counts its empty lines as NULL rows too.
    pub fn new(options: &CsvOptions) -> Option<Self> {
        if options.terminator.is_some() || options.null_regex.is_some() {
            return None;
        }
        Some(Self {
            quote: options.quote,
            escape: options.escape.filter(|&e| e != options.quote),
            comment: options.comment,
            state: LineState::LineStart(false),
            started: false,
        })
    }

    /// `chunk` (the stream's next bytes) with its empty lines marked;
    /// `None` when it holds none (unchanged).
    pub fn mark(&mut self, chunk: &[u8]) -> Option<Vec<u8>> {
        let mut out: Option<Vec<u8>> = None;
        for (i, &b) in chunk.iter().enumerate() {
            let line_end = b == b'\n' || b == b'\r';
            self.state = match self.state {
                LineState::LineStart(true) if b == b'\n' => LineState::LineStart(false),
                LineState::LineStart(_) if line_end => {
                    if self.started {
                        let out = out.get_or_insert_with(|| chunk[..i].to_vec());
                        out.extend_from_slice(&[self.quote, self.quote]);
                    }
                    LineState::LineStart(b == b'\r')
                }
                LineState::LineStart(_) if Some(b) == self.comment => LineState::Comment,
                LineState::LineStart(_) => {
                    self.started = true;
                    match b == self.quote {
                        true => LineState::Quoted,
                        false => LineState::Field,
                    }
                }
                LineState::Field | LineState::Closed if line_end => {
                    LineState::LineStart(b == b'\r')
                }
                LineState::Closed if b == self.quote => LineState::Quoted,
                LineState::Field | LineState::Closed => LineState::Field,
                LineState::Quoted if Some(b) == self.escape => LineState::Escaped,
                LineState::Quoted if b == self.quote => LineState::Closed,
                LineState::Quoted | LineState::Escaped => LineState::Quoted,
                LineState::Comment if b == b'\n' => LineState::LineStart(false),
                LineState::Comment => LineState::Comment,
            };
            if let Some(out) = &mut out {
                out.push(b);
            }
        }
        out
    }
}

#[cfg(test)]
#[path = "lines_tests.rs"]
mod tests;

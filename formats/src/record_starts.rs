//! Where a CSV file's records start, for reading it in byte ranges. A range
//! reader takes the first line end after its start for a record's end; in a
//! dialect with a quote character that line end may sit inside a quoted
//! value the sample never saw, and the range would read half a value as
//! rows. [`RecordStarts`] reads the file's bytes in order with csv-core
//! configured as arrow-csv's decoder is, and tells for each split offset the
//! first record start at or after it: ranges moved there read exactly the
//! records a read of the whole file gives, stray quotes inside unquoted
//! fields (`5'10"`) and escapes included. Stretches without a quote
//! character are skipped at memchr's speed.

use csv_core::{ReadRecordResult, Reader, ReaderBuilder, Terminator};
use datafusion::common::config::CsvOptions;

use crate::NO_QUOTE;

/// csv-core configured as arrow-csv's decoder of `options` configures it.
pub(crate) fn tokenizer(options: &CsvOptions) -> Reader {
    let mut builder = ReaderBuilder::new();
    builder
        .delimiter(options.delimiter)
        .quote(options.quote)
        .escape(options.escape)
        .comment(options.comment);
    if let Some(t) = options.terminator {
        builder.terminator(Terminator::Any(t));
    }
    builder.build()
}

/// The first record start at or after each of a file's split offsets, found
/// from the file's bytes fed in order (see the module doc).
pub struct RecordStarts {
    reader: Reader,
    quote: u8,
    /// The byte a range reader takes for a line end (DataFusion's:
    /// the terminator, else `\n`); a record start follows one.
    line_end: u8,
    /// Whether every `line_end` outside quotes ends a record or a comment
    /// (CRLF or `\n` terminators), so quote-free stretches can be skipped.
    skippable: bool,
    /// The file offset of the next byte fed.
    pos: u64,
    /// csv-core is between records (at the file's start or after one).
    between: bool,
    /// The split offsets, ascending, and the record start found for the
    /// first `found.len()` of them.
    targets: Vec<u64>,
    found: Vec<u64>,
    /// For the first `naive.len()` split offsets, the offset after the
    /// first line end at or after the byte before it: where a range reader
    /// that knows no quotes (DataFusion's) starts and ends its ranges.
    naive: Vec<u64>,
    output: Vec<u8>,
    ends: Vec<usize>,
}

impl RecordStarts {
    /// The finder for a file read with `options` and split at `targets`;
    /// `None` when the dialect has no quote character, so every line end
    /// ends a record and ranges need no moving.
    pub fn new(options: &CsvOptions, mut targets: Vec<u64>) -> Option<Self> {
        if options.quote == NO_QUOTE {
            return None;
        }
        targets.sort_unstable();
        targets.dedup();
        Some(Self {
            reader: tokenizer(options),
            quote: options.quote,
            line_end: options.terminator.unwrap_or(b'\n'),
            skippable: options.terminator.is_none_or(|t| t == b'\n'),
            pos: 0,
            between: true,
            targets,
            found: Vec::new(),
            naive: Vec::new(),
            output: vec![0; 64 << 10],
            ends: vec![0; 1024],
        })
    }

    /// The split offsets, ascending.
    pub fn targets(&self) -> &[u64] {
        &self.targets
    }

    /// The record start of each of the first split offsets found so far.
    pub fn found(&self) -> &[u64] {
        &self.found
    }

    /// For each of the first split offsets seen so far, the offset after
    /// the first line end at or after the byte before it, quotes or not:
    /// the record start a range reader that knows no quotes takes. Never
    /// past [`Self::found`]'s (a record start follows a line end), so it
    /// is known as soon as that is.
    pub fn naive(&self) -> &[u64] {
        &self.naive
    }

    /// Whether every split offset has its record start.
    pub fn done(&self) -> bool {
        self.found.len() == self.targets.len()
    }

    /// The offset of the next byte to feed.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Offset `start` begins a record: it is the answer for every split
    /// offset not past it still waiting.
    fn record_starts_at(&mut self, start: u64) {
        while let Some(&target) = self.targets.get(self.found.len())
            && target <= start
        {
            self.found.push(start);
        }
    }

    /// Reads the file's next bytes.
    pub fn feed(&mut self, chunk: &[u8]) {
        self.feed_naive(chunk);
        let mut at = 0;
        while at < chunk.len() && !self.done() {
            if self.between && self.skippable {
                at += self.skip_unquoted(&chunk[at..], self.pos + at as u64);
                if at == chunk.len() {
                    break;
                }
            }
            let (result, read, _, _) =
                self.reader
                    .read_record(&chunk[at..], &mut self.output, &mut self.ends);
            at += read;
            self.between = result == ReadRecordResult::Record;
            if self.between && read > 0 && chunk[at - 1] == self.line_end {
                self.record_starts_at(self.pos + at as u64);
            }
        }
        self.pos += chunk.len() as u64;
    }

    /// Notes [`Self::naive`] for the split offsets whose line end is in
    /// `chunk`, the bytes from [`Self::position`] on.
    fn feed_naive(&mut self, chunk: &[u8]) {
        while let Some(&target) = self.targets.get(self.naive.len()) {
            let from = usize::try_from(target.saturating_sub(1).saturating_sub(self.pos))
                .unwrap_or(usize::MAX);
            let Some(end) = chunk
                .get(from..)
                .and_then(|rest| memchr::memchr(self.line_end, rest))
            else {
                return;
            };
            self.naive.push(self.pos + (from + end) as u64 + 1);
        }
    }

    /// Between records, the line ends of `rest` before its first quote
    /// character each end a record (or a comment, or an empty line): the
    /// bytes through the last of them, whose length is returned, are passed
    /// over without csv-core. `base` is the file offset of `rest`.
    fn skip_unquoted(&mut self, rest: &[u8], base: u64) -> usize {
        let clean = &rest[..memchr::memchr(self.quote, rest).unwrap_or(rest.len())];
        let Some(last) = memchr::memrchr(self.line_end, clean) else {
            return 0;
        };
        while let Some(&target) = self.targets.get(self.found.len())
            && target <= base + last as u64 + 1
        {
            // The first line end at or after `target - 1`: one is at `last`.
            let from = usize::try_from(target.saturating_sub(base + 1)).unwrap_or(last);
            let end = from + memchr::memchr(self.line_end, &clean[from..=last]).unwrap_or(0);
            self.found.push(base + end as u64 + 1);
        }
        // Between records again, as after any record csv-core ends.
        self.reader.reset();
        last + 1
    }

    /// The file ended at `size` (every byte fed): split offsets left have
    /// no record start after them but the end.
    pub fn finish(&mut self, size: u64) {
        self.found.resize(self.targets.len(), size);
        self.naive.resize(self.targets.len(), size);
    }
}

#[cfg(test)]
#[path = "record_starts_tests.rs"]
mod tests;

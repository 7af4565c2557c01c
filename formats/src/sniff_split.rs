//! How each candidate dialect splits a CSV sample (csv-core, as arrow-csv
//! reads), and DuckDB 1.5.5's ranking of the splits: even rows over its
//! first 2,048 records, several columns, a quote the sample uses, and so on
//! ([`Score`]).

use std::collections::HashMap;

use csv_core::{ReadRecordResult, Reader, ReaderBuilder};

use super::DUCKDB_FIRST_CHUNK;
use crate::ReadOptions;
use crate::sniff_quotes::{Candidate, Quoting, SampleEnd, quoting, spaced_quotes_moved};

/// How DuckDB's sniffer counts a row whose field count is not the
/// others': it disagrees, unless `null_padding` pads it (the most fields
/// of any row are the columns) or `ignore_errors` skips it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Ragged {
    Refused,
    Padded,
    Skipped,
}

impl Ragged {
    pub(super) fn of(options: &ReadOptions) -> Self {
        match (options.null_padding, options.ignore_errors) {
            (true, _) => Ragged::Padded,
            (false, true) => Ragged::Skipped,
            (false, false) => Ragged::Refused,
        }
    }
}

/// How a candidate dialect splits the sample.
pub(super) struct Records {
    /// Fields per complete record.
    pub(super) field_counts: Vec<usize>,
    /// The most common field count and how many records have it (set
    /// once the records are split: the ranking asks for it several times).
    mode: (usize, usize),
    /// Bytes of the sample up to the end of the last complete record.
    pub(super) complete_len: usize,
    /// Some field contains a line break.
    pub(super) newlines_in_values: bool,
    /// The first of the records ending the sample whose last field is
    /// empty (`7,8,9,`), if the last record's is, and where it starts.
    empty_last_from: Option<(usize, usize)>,
    /// Where the records [`Self::empty_last_columns`] counts start, when
    /// it decided [`Self::mode`].
    pub(super) empty_last_at: Option<usize>,
    /// How many first records DuckDB skips as notes (see
    /// `notes_columns`); set with [`Self::mode`].
    pub(super) notes: usize,
    /// Rows of another count are skipped (`ignore_errors`): they do not
    /// make the split uneven, but fewer of them rank higher (a `#` note
    /// read as a comment beats it read as a row to skip; review 14, H4).
    skipping: bool,
}

/// Ranks candidates DuckDB's strict mode reads ([`quoting`]): rows all
/// agreeing first, over DuckDB's first 2,048 records (DuckDB drops a
/// dialect that splits them unevenly, so a file ragged there is one
/// column of whole lines), then several columns, then no notes before
/// the header (DuckDB skips them, counting only the rows below), then
/// one that quotes a field (DuckDB's preference: `'it''s'` is `it's`
/// where `"` splits alike, and `"Smith, John"` is one value where `'`
/// splits it alike), then, past DuckDB's first 2,048 records, one that
/// escapes a quote, then how many rows agree, then fewer rows skipped by
/// `ignore_errors`, then more columns, then the earlier candidate.
type Score = (
    bool,
    bool,
    bool,
    bool,
    bool,
    usize,
    std::cmp::Reverse<usize>,
    usize,
    std::cmp::Reverse<usize>,
);

impl Records {
    /// The most common field count and how many records have it.
    pub(super) fn columns(&self) -> (usize, usize) {
        self.mode
    }

    /// Counts [`Self::mode`] from the field counts, rows of another count
    /// taken as `ragged` says.
    fn count_mode(&mut self, ragged: Ragged) {
        let mut frequency: HashMap<usize, usize> = HashMap::new();
        for &count in &self.field_counts {
            *frequency.entry(count).or_default() += 1;
        }
        let (columns, agreeing) = frequency
            .into_iter()
            .max_by_key(|&(count, rows)| (rows, count))
            .unwrap_or((0, 0));
        let rows = self.field_counts.len();
        self.mode = match ragged {
            Ragged::Refused => match self.empty_last_columns() {
                Some(columns) => {
                    self.empty_last_at = self.empty_last_from.map(|(_, at)| at);
                    (columns, rows)
                }
                None => match self.notes_columns() {
                    Some((columns, notes)) => {
                        self.notes = notes;
                        (columns, rows - notes)
                    }
                    None => (columns, agreeing),
                },
            },
            Ragged::Padded => (self.field_counts.iter().copied().max().unwrap_or(0), rows),
            Ragged::Skipped => {
                self.skipping = true;
                (columns, agreeing)
            }
        };
    }

    /// The columns of a sample whose last records have one field more,
    /// empty (`7,8,9,` under `a,b,c`), which DuckDB 1.5.5 takes for the
    /// others' columns (it drops the empty field; s3sql's reader cannot,
    /// and errors at that row instead of making the file one column).
    /// `None` unless every record before them has that one field less.
    fn empty_last_columns(&self) -> Option<usize> {
        let (from, _) = self.empty_last_from.filter(|&(from, _)| from > 0)?;
        let (before, tail) = self.field_counts.split_at(from);
        let columns = tail[0].checked_sub(1)?;
        (before.iter().all(|&c| c == columns) && tail.iter().all(|&c| c == tail[0]))
            .then_some(columns)
    }

    /// The columns of a sample whose first records have fewer fields
    /// than all the others (`title line` before `a,b,c`): DuckDB 1.5.5
    /// skips them as notes and reads the others. `None` for any other
    /// sample.
    /// With how many notes: the records before the run of records with
    /// the last one's count that ends the sample, each with fewer fields,
    /// the run starting within DuckDB's first 2,048 records (a run of one
    /// too: `a,b\n1,2,3` is (1, 2, 3) in DuckDB; past the chunk DuckDB
    /// fails to sniff, and the dialect that splits the chunk evenly errors
    /// at the row).
    fn notes_columns(&self) -> Option<(usize, usize)> {
        let &columns = self.field_counts.last()?;
        let run = self
            .field_counts
            .iter()
            .rev()
            .take_while(|&&c| c == columns)
            .count();
        let notes = &self.field_counts[..self.field_counts.len() - run];
        let within = notes.len() < DUCKDB_FIRST_CHUNK;
        (!notes.is_empty() && within && columns > 1 && notes.iter().all(|&c| c < columns))
            .then_some((columns, notes.len()))
    }

    /// The first two parts of the score: the rows of DuckDB's first chunk
    /// (its first 2,048 records) all agreeing, several columns. A row that
    /// disagrees past the chunk does not make the file one column: DuckDB
    /// keeps the dialect and errors at that row (the sniffer's error up
    /// to its 20,480-row sample, the reader's past it), as s3sql's reader does.
    fn lead(&self) -> (bool, bool) {
        let (columns, agreeing) = self.columns();
        let chunk = &self.field_counts[..self.field_counts.len().min(DUCKDB_FIRST_CHUNK)];
        let even = match self.skipping || agreeing + self.notes == self.field_counts.len() {
            true => true,
            false => chunk.iter().all(|&count| count == chunk[0]),
        };
        (even, columns > 1)
    }

    /// Rows `ignore_errors` would skip (none otherwise).
    fn skipped(&self) -> usize {
        let (_, agreeing) = self.columns();
        match self.skipping {
            true => self.field_counts.len() - agreeing,
            false => 0,
        }
    }

    fn score(&self, rank: usize, quoting: Quoting) -> Score {
        let (all_agree, several) = self.lead();
        let (columns, agreeing) = self.columns();
        let many = self.field_counts.len() > DUCKDB_FIRST_CHUNK;
        (
            all_agree,
            several,
            self.notes == 0,
            quoting.quoted,
            quoting.escaped && many,
            agreeing,
            std::cmp::Reverse(self.skipped()),
            columns,
            std::cmp::Reverse(rank),
        )
    }
}

/// The place in `tried` of the best candidate DuckDB's strict mode reads
/// ([`quoting`]; DuckDB drops the others), by [`Score`], and how its
/// quotes read the sample; `None` when it reads none. Quotes are read only for the candidates of the best lead
/// (every row agreeing, several columns) until one of them is read: the
/// others lose whatever their count (reading all 16 was a quarter of a
/// LIMIT 10's CPU). A candidate whose records stop short of the sample's
/// end is read as far as they go, the rest of the sample taken as cut.
pub(super) fn best_valid(
    sample: &[u8],
    tried: &[(usize, Candidate, Records)],
    end: SampleEnd,
    limit: usize,
) -> Option<(usize, Quoting)> {
    let mut leads: Vec<(bool, bool)> = tried.iter().map(|(_, _, r)| r.lead()).collect();
    leads.sort_unstable();
    leads.dedup();
    leads.into_iter().rev().find_map(|lead| {
        tried
            .iter()
            .enumerate()
            .filter(|(_, (_, _, records))| records.lead() == lead)
            .filter_map(|(at, (rank, candidate, records))| {
                let (read, end) = match records.field_counts.len() >= limit {
                    true => (&sample[..records.complete_len], SampleEnd::Cut),
                    false => (sample, end),
                };
                let read = quoting(read, candidate, end);
                read.valid.then(|| (records.score(*rank, read), at, read))
            })
            .max_by_key(|(score, _, _)| *score)
            .map(|(_, at, read)| (at, read))
    })
}

/// The place in `tried` (every candidate's split) of the best candidate
/// by [`Score`] whose quote DuckDB's strict mode reads, quoting a field,
/// with every row agreeing and no notes, and how its quotes read the
/// sample: DuckDB prefers it to a dialect quoting nothing that finds
/// notes before the header.
pub(super) fn quoted_even(
    sample: &[u8],
    tried: &[(usize, Candidate, Records)],
    end: SampleEnd,
    limit: usize,
) -> Option<(usize, Quoting)> {
    tried
        .iter()
        .enumerate()
        .filter(|(_, (_, c, r))| c.quote.is_some() && r.notes == 0 && r.lead().0)
        .filter_map(|(at, (rank, candidate, records))| {
            let (read, end) = match records.field_counts.len() >= limit {
                true => (&sample[..records.complete_len], SampleEnd::Cut),
                false => (sample, end),
            };
            let read = quoting(read, candidate, end);
            (read.valid && read.quoted).then(|| (records.score(*rank, read), at, read))
        })
        .max_by_key(|(score, _, _)| *score)
        .map(|(_, at, read)| (at, read))
}

/// The place in `tried` of the best candidate by [`Score`], however its
/// quotes read: a file no dialect reads strictly (DuckDB refuses it)
/// still gets the one that splits it best.
pub(super) fn best_of(tried: &[(usize, Candidate, Records)]) -> Option<usize> {
    tried
        .iter()
        .enumerate()
        .max_by_key(|(_, (rank, _, records))| records.score(*rank, Quoting::default()))
        .map(|(at, _)| at)
}

pub(super) fn reader_for(candidate: &Candidate) -> Reader {
    ReaderBuilder::new()
        .delimiter(candidate.delimiter)
        .quote(candidate.quote.unwrap_or(b'"'))
        .quoting(candidate.quote.is_some())
        .double_quote(true)
        .escape(candidate.escape)
        .comment(candidate.comment)
        .build()
}

/// Records split by every candidate first from a sample's first
/// [`PREFIX_RECORDS`] only.
const PREFIX_RECORDS: usize = 1024;

/// Each candidate's split of the sample, with its rank (its place in
/// `candidates`), in two rounds: every candidate over the first
/// [`PREFIX_RECORDS`] records, then over `limit` those that split
/// them into several agreeing columns. Rows that disagree never agree again
/// and a count of columns all rows agree on cannot change, so a candidate
/// that does not lead (several columns, every row agreeing) over the prefix
/// does not lead over more; once one of the second round still leads, the
/// others cannot win, and are not split further (16 full splits were most
/// of the time a 1M-row CSV query spent planning). Otherwise every
/// candidate is split in full, as if there had been one round.
pub(super) fn split_by_each(
    sample: &[u8],
    candidates: Vec<Candidate>,
    ragged: Ragged,
    end: SampleEnd,
    limit: usize,
) -> Vec<(usize, Candidate, Records)> {
    // Rows skipped by `ignore_errors` are those of no count but the most
    // common, which more rows can change: no prefix tells then.
    if matches!(ragged, Ragged::Skipped) {
        return split_all(sample, candidates, ragged, end, limit);
    }
    let prefix: Vec<bool> = candidates
        .iter()
        .map(|c| split_records(sample, c, PREFIX_RECORDS, ragged, end).lead() == (true, true))
        .collect();
    let leading: Vec<(usize, Candidate, Records)> = candidates
        .iter()
        .enumerate()
        .filter(|(rank, _)| prefix[*rank])
        .map(|(rank, c)| (rank, *c, split_records(sample, c, limit, ragged, end)))
        .collect();
    if leading.iter().any(|(_, _, r)| r.lead() == (true, true)) {
        return leading;
    }
    split_all(sample, candidates, ragged, end, limit)
}

/// Each candidate's split of the sample into at most `limit` records, with its rank.
pub(super) fn split_all(
    sample: &[u8],
    candidates: Vec<Candidate>,
    ragged: Ragged,
    end: SampleEnd,
    limit: usize,
) -> Vec<(usize, Candidate, Records)> {
    candidates
        .into_iter()
        .enumerate()
        .map(|(rank, c)| {
            let records = split_records(sample, &c, limit, ragged, end);
            (rank, c, records)
        })
        .collect()
}

/// Splits the sample into at most `limit` records; a record cut by the end
/// of a sample cut from a longer file is left out unless it is the only
/// one. Where the file ends with the sample its last line counts, newline
/// or not (`a,b,c\n1,2,3\n4,5` is ragged, one column, as in DuckDB).
fn split_records(
    sample: &[u8],
    candidate: &Candidate,
    limit: usize,
    ragged: Ragged,
    end: SampleEnd,
) -> Records {
    let moved = spaced_quotes_moved(sample, candidate);
    let sample = moved.as_deref().unwrap_or(sample);
    let mut reader = reader_for(candidate);
    let mut out = vec![0u8; 64 * 1024];
    let mut ends = vec![0usize; 1024];
    let mut records = Records {
        field_counts: Vec::new(),
        mode: (0, 0),
        complete_len: 0,
        newlines_in_values: false,
        empty_last_from: None,
        empty_last_at: None,
        notes: 0,
        skipping: false,
    };
    let (mut pos, mut fields, mut newline) = (0, 0, false);
    while records.field_counts.len() < limit {
        let at_end = pos == sample.len();
        if at_end && !records.field_counts.is_empty() && end == SampleEnd::Cut {
            break;
        }
        // An empty input tells csv-core the data has ended: only done when no record was complete.
        let (result, read, written, ended) =
            reader.read_record(&sample[pos..], &mut out, &mut ends);
        pos += read;
        fields += ended;
        newline |= out[..written].iter().any(|&b| b == b'\n' || b == b'\r');
        match result {
            ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => {}
            ReadRecordResult::InputEmpty if at_end => break,
            ReadRecordResult::InputEmpty => {}
            ReadRecordResult::Record => {
                // An unquoted empty last field: the record's text ends
                // in the delimiter (inside quotes it could not end it).
                let end = sample[..pos]
                    .iter()
                    .rposition(|&b| b != b'\n' && b != b'\r');
                let empty_last =
                    fields > 1 && end.map(|at| sample[at]) == Some(candidate.delimiter);
                records.empty_last_from = match (empty_last, records.empty_last_from) {
                    (true, Some(from)) => Some(from),
                    (true, None) => Some((records.field_counts.len(), records.complete_len)),
                    (false, _) => None,
                };
                records.field_counts.push(fields);
                records.complete_len = pos;
                records.newlines_in_values |= newline;
                (fields, newline) = (0, false);
            }
            ReadRecordResult::End => break,
        }
    }
    records.count_mode(ragged);
    records
}

//! Read errors from arrow-csv / arrow-json restated as "file X, line N,
//! column C: ..." with what to change. arrow-csv's messages carry the record
//! and column; arrow-json's carry neither, so a JSON error's line is found
//! by decoding the file again ([`crate::JsonErrorLine`]) and given to
//! [`name_json_decode_error`].
//!
//! arrow-csv counts records from the start of the byte range it decodes, so
//! line numbers are exact when a file is read as one range (no
//! `newlines_in_values` split) and count records, not physical lines, when a
//! quoted field spans lines.

use std::error::Error;

use datafusion::arrow::error::ArrowError;
use datafusion::error::DataFusionError;

use crate::FormatError;

/// A user-facing description of a failed read of `path`.
pub fn describe_decode_error(path: &str, err: &DataFusionError) -> String {
    describe(path, Position::default(), err)
}

/// Where the decoder started in a file, to turn its record counts into lines.
#[derive(Debug, Clone, Copy, Default)]
struct Position {
    /// The byte its range starts at; past 0, lines count from there.
    range_start: u64,
    /// Lines dropped before it (`skip`).
    skipped_lines: u64,
}

/// `err`, raised while decoding `path` from byte `range_start` on after
/// `skipped_lines` lines were dropped (`skip`), as an error naming the file,
/// the line and the column ([`FormatError::Decode`], wrapped as
/// `DataFusionError::External` so it crosses the engine intact). Data that
/// ends early or does not decompress (a cut `.gz` or `.zst`) is named too
/// ([`cut_short`]); other errors (access, a missing object) are returned
/// unchanged.
pub fn name_decode_error(
    path: &str,
    range_start: u64,
    skipped_lines: u64,
    err: DataFusionError,
) -> DataFusionError {
    if is_decode_error(&err) {
        let at = Position {
            range_start,
            skipped_lines,
        };
        return DataFusionError::External(Box::new(FormatError::Decode {
            message: describe(path, at, &err),
        }));
    }
    if cut_short(&err) {
        return DataFusionError::External(Box::new(FormatError::Decode {
            message: format!(
                "file {path}: the data ends early or does not decompress (a cut upload, or a \
                 damaged .gz/.zst file?): {err}"
            ),
        }));
    }
    err
}

/// [`name_decode_error`] for a JSON file whose refused record starts on
/// `line`: "file X, line N: invalid JSON: ...".
pub fn name_json_decode_error(path: &str, line: u64, err: DataFusionError) -> DataFusionError {
    match arrow_cause(&err) {
        Some(ArrowError::JsonError(message)) => {
            DataFusionError::External(Box::new(FormatError::Decode {
                message: format!("file {path}, line {line}: invalid JSON: {message}"),
            }))
        }
        _ => name_decode_error(path, 0, 0, err),
    }
}

/// Whether `err` is one of arrow's decode errors, which
/// [`name_decode_error`] restates.
pub fn is_decode_error(err: &DataFusionError) -> bool {
    matches!(
        arrow_cause(err),
        Some(ArrowError::ParseError(_) | ArrowError::CsvError(_) | ArrowError::JsonError(_))
    )
}

/// Whether `err` says a file's bytes end early or are damaged: an I/O error
/// of kind `UnexpectedEof` or `InvalidData` (flate2's cut gzip stream) or
/// the zstd decoder's (the planner's store wrapper raises object_store's
/// "Generic decompress error").
fn cut_short(err: &DataFusionError) -> bool {
    let mut current: Option<&(dyn Error + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::InvalidData
            )
        {
            return true;
        }
        if e.to_string().starts_with("Generic decompress error") {
            return true;
        }
        current = e.source();
    }
    false
}

fn describe(path: &str, start: Position, err: &DataFusionError) -> String {
    match arrow_cause(err) {
        Some(ArrowError::ParseError(message)) => describe_parse(path, start, message),
        Some(ArrowError::CsvError(message)) => describe_csv(path, start, message),
        Some(ArrowError::JsonError(message)) => format!("file {path}: invalid JSON: {message}"),
        _ => format!("file {path}: {err}"),
    }
}

/// The first arrow error in the chain.
fn arrow_cause(err: &DataFusionError) -> Option<&ArrowError> {
    let mut current: Option<&(dyn Error + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(arrow) = e.downcast_ref::<ArrowError>() {
            return Some(arrow);
        }
        current = e.source();
    }
    None
}

/// `text` between `start` and the next `end`, and what follows.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<(&'a str, &'a str)> {
    let rest = &text[text.find(start)? + start.len()..];
    let at = rest.find(end)?;
    Some((&rest[..at], &rest[at + end.len()..]))
}

/// One of arrow's 0-based numbers (a record index counting the header, a
/// column index) as the 1-based line or column a user counts.
fn one_based(zero_based: &str) -> Option<usize> {
    zero_based.trim().parse::<usize>().ok().map(|n| n + 1)
}

const TYPE_HINT: &str =
    "give the column a type that fits (types = {'column': 'VARCHAR'}) or fix the value";

/// "line N", or where a file is read in byte ranges, "line N counted from byte B"
/// (arrow counts records from the start of the range it decodes).
fn line(n: &str, at: Position) -> String {
    let n = n
        .trim()
        .parse::<u64>()
        .map_or_else(|_| n.to_string(), |n| (n + at.skipped_lines).to_string());
    match at.range_start {
        0 => format!("line {n}"),
        start => format!("line {n} counted from byte {start}"),
    }
}

fn describe_parse(path: &str, start: Position, message: &str) -> String {
    // "Error while parsing value '{v}' as type '{T}' for column {c} at line {l}. Row data: '{row}'"
    let value_error = || {
        let (value, rest) = between(message, "parsing value '", "' as type '")?;
        let (data_type, rest) = between(rest, "", "' for column ")?;
        let (column, rest) = between(rest, "", " at line ")?;
        let (line, row) = between(rest, "", ". Row data: ")?;
        Some(format!(
            "file {path}, {}, column {}: cannot read '{value}' as {data_type} (row {row}); {TYPE_HINT}",
            self::line(&one_based(line)?.to_string(), start),
            one_based(column)?,
        ))
    };
    // "Error parsing column {c} at line {l}: {e}" (timestamps)
    let temporal_error = || {
        let (column, rest) = between(message, "Error parsing column ", " at line ")?;
        let (line, detail) = between(rest, "", ": ")?;
        Some(format!(
            "file {path}, {}, column {}: {detail}; {TYPE_HINT}",
            self::line(&one_based(line)?.to_string(), start),
            one_based(column)?,
        ))
    };
    value_error()
        .or_else(temporal_error)
        .unwrap_or_else(|| format!("file {path}: {message}"))
}

fn describe_csv(path: &str, start: Position, message: &str) -> String {
    // "incorrect number of fields for line {l}, expected {e} got {g}" (l is 1-based)
    let field_count = || {
        let (at, rest) = between(message, "fields for line ", ", expected ")?;
        let (expected, got) = between(rest, "", " got ")?;
        Some(format!(
            "file {path}, {}: expected {expected} columns, found {got}; \
             check the delimiter and quote (delim = ..., quote = ...) or pad short rows with null_padding = true",
            line(at, start)
        ))
    };
    // "Encountered invalid UTF-8 data for line {l} and field {f}" (both 1-based)
    let utf8 = || {
        let (at, field) = between(message, "UTF-8 data for line ", " and field ")?;
        Some(format!(
            "file {path}, {}, column {field}: invalid UTF-8; only UTF-8 text can be read",
            line(at, start)
        ))
    };
    field_count()
        .or_else(utf8)
        .unwrap_or_else(|| format!("file {path}: {message}"))
}

#[cfg(test)]
#[path = "decode_error_tests.rs"]
mod tests;

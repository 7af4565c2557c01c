//! Read errors from arrow-csv / arrow-json restated as "file X, line N,
//! column C: ..." with what to change. arrow-csv's messages carry the record
//! and column; arrow-json's carry neither, so JSON errors name the file only.
//!
//! arrow-csv counts records from the start of the byte range it decodes, so
//! line numbers are exact when a file is read as one range (no
//! `newlines_in_values` split) and count records, not physical lines, when a
//! quoted field spans lines.

use std::error::Error;

use datafusion::arrow::error::ArrowError;
use datafusion::error::DataFusionError;

/// A user-facing description of a failed read of `path`.
pub fn describe_decode_error(path: &str, err: &DataFusionError) -> String {
    match arrow_cause(err) {
        Some(ArrowError::ParseError(message)) => describe_parse(path, message),
        Some(ArrowError::CsvError(message)) => describe_csv(path, message),
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

fn describe_parse(path: &str, message: &str) -> String {
    // "Error while parsing value '{v}' as type '{T}' for column {c} at line {l}. Row data: '{row}'"
    let value_error = || {
        let (value, rest) = between(message, "parsing value '", "' as type '")?;
        let (data_type, rest) = between(rest, "", "' for column ")?;
        let (column, rest) = between(rest, "", " at line ")?;
        let (line, row) = between(rest, "", ". Row data: ")?;
        Some(format!(
            "file {path}, line {}, column {}: cannot read '{value}' as {data_type} (row {row}); {TYPE_HINT}",
            one_based(line)?,
            one_based(column)?,
        ))
    };
    // "Error parsing column {c} at line {l}: {e}" (timestamps)
    let temporal_error = || {
        let (column, rest) = between(message, "Error parsing column ", " at line ")?;
        let (line, detail) = between(rest, "", ": ")?;
        Some(format!(
            "file {path}, line {}, column {}: {detail}; {TYPE_HINT}",
            one_based(line)?,
            one_based(column)?,
        ))
    };
    value_error()
        .or_else(temporal_error)
        .unwrap_or_else(|| format!("file {path}: {message}"))
}

fn describe_csv(path: &str, message: &str) -> String {
    // "incorrect number of fields for line {l}, expected {e} got {g}" (l is 1-based)
    let field_count = || {
        let (line, rest) = between(message, "fields for line ", ", expected ")?;
        let (expected, got) = between(rest, "", " got ")?;
        Some(format!(
            "file {path}, line {line}: expected {expected} columns, found {got}; \
             check the delimiter and quote (delim = ..., quote = ...) or pad short rows with null_padding = true"
        ))
    };
    // "Encountered invalid UTF-8 data for line {l} and field {f}" (both 1-based)
    let utf8 = || {
        let (line, field) = between(message, "UTF-8 data for line ", " and field ")?;
        Some(format!(
            "file {path}, line {line}, column {field}: invalid UTF-8; only UTF-8 text can be read"
        ))
    };
    field_count()
        .or_else(utf8)
        .unwrap_or_else(|| format!("file {path}: {message}"))
}

#[cfg(test)]
#[path = "decode_error_tests.rs"]
mod tests;

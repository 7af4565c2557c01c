//! `FROM (DESCRIBE ...)` and `FROM (SUMMARIZE ...)`: DuckDB lets a query
//! read these as tables, which sqlparser cannot parse. Each such subquery
//! is cut out of the text before parsing and replaced by the name of a
//! table the session fills with its result while planning the statement
//! ([`crate::Session`]).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::dialect::DuckDb;
use datafusion::sql::sqlparser::tokenizer::{Location, Token, Tokenizer};

use crate::describe::DescribeStatement;
use crate::error::{PlannerError, Result};
use crate::statement::StatementKind;

/// A placeholder table name and the DESCRIBE or SUMMARIZE that fills it.
pub(crate) type DescribeTable = (String, DescribeStatement);

/// Names placeholders apart across statements and sessions.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// `sql` with each `(DESCRIBE ...)` / `(SUMMARIZE ...)` replaced by a table
/// name, and those statements; `sql` unchanged when it has none.
pub(crate) fn cut_out(sql: &str) -> Result<(String, Vec<DescribeTable>)> {
    let Ok(tokens) = Tokenizer::new(&DuckDb, sql).tokenize_with_location() else {
        // The parser reports it.
        return Ok((sql.to_owned(), Vec::new()));
    };
    let offsets = LineOffsets::new(sql);
    let significant: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .collect();
    let mut out = String::with_capacity(sql.len());
    let mut tables = Vec::new();
    let mut copied = 0;
    let mut k = 0;
    while k + 1 < significant.len() {
        let open = &tokens[significant[k]];
        let is_describe = matches!(&tokens[significant[k + 1]].token,
            Token::Word(w) if matches!(w.value.to_ascii_uppercase().as_str(), "DESCRIBE" | "DESC" | "SUMMARIZE"));
        if open.token != Token::LParen || !is_describe {
            k += 1;
            continue;
        }
        let mut depth = 0usize;
        let mut close = None;
        for (n, &i) in significant.iter().enumerate().skip(k) {
            match tokens[i].token {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(n);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(close_at) = close else { break };
        let close = &tokens[significant[close_at]];
        let (Some(start), Some(inner_start), Some(inner_end), Some(end)) = (
            offsets.of(open.span.start),
            offsets.of(open.span.end),
            offsets.of(close.span.start),
            offsets.of(close.span.end),
        ) else {
            break;
        };
        let describe = single_describe(&sql[inner_start..inner_end])?;
        let name = format!("__s3sql_describe_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        out.push_str(&sql[copied..start]);
        out.push_str(&name);
        copied = end;
        tables.push((name, describe));
        k = close_at + 1;
    }
    out.push_str(&sql[copied..]);
    Ok((out, tables))
}

/// The one DESCRIBE or SUMMARIZE statement of `sql`.
fn single_describe(sql: &str) -> Result<DescribeStatement> {
    let mut statements = crate::statement::parse(sql)?;
    match (statements.pop(), statements.is_empty()) {
        (Some(statement), true) if statement.describes.is_empty() => match statement.kind {
            StatementKind::Describe(describe) => Ok(describe),
            _ => Err(not_one()),
        },
        _ => Err(not_one()),
    }
}

fn not_one() -> PlannerError {
    PlannerError::argument(
        "DESCRIBE",
        "a subquery (DESCRIBE ...) or (SUMMARIZE ...) holds one DESCRIBE or SUMMARIZE of a query, table or file, not another such subquery",
    )
}

/// Byte offsets of sqlparser's (line, column) locations in a text.
struct LineOffsets<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineOffsets<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(at, _)| at + 1));
        Self { text, starts }
    }

    /// The byte offset of a 1-based (line, column in characters).
    fn of(&self, at: Location) -> Option<usize> {
        let line = usize::try_from(at.line).ok()?.checked_sub(1)?;
        let column = usize::try_from(at.column).ok()?.checked_sub(1)?;
        let start = *self.starts.get(line)?;
        let rest = &self.text[start..];
        match rest.char_indices().nth(column) {
            Some((offset, _)) => Some(start + offset),
            None if rest.chars().count() == column => Some(self.text.len()),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subqueries_are_cut_out_and_the_rest_kept() {
        let sql = "SELECT a FROM (DESCRIBE SELECT 1 AS a) AS d JOIN (SUMMARIZE\n SELECT 'é' AS b) s ON true";
        let (text, tables) = cut_out(sql).unwrap();
        assert_eq!(tables.len(), 2);
        let expected = format!(
            "SELECT a FROM {} AS d JOIN {} s ON true",
            tables[0].0, tables[1].0
        );
        assert_eq!(text, expected);
        let plain = "SELECT '(DESCRIBE x)' FROM (SELECT 1)";
        let (text, tables) = cut_out(plain).unwrap();
        assert_eq!(text, plain);
        assert!(tables.is_empty());
    }
}

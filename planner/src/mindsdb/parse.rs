//! MindsDB's statements, parsed from sqlparser's tokens: `CREATE [OR
//! REPLACE] DATABASE [IF NOT EXISTS] name [WITH] ENGINE = 's3'[,] PARAMETERS = {...}`, `DROP
//! DATABASE [IF EXISTS] name`, `SHOW DATABASES` and `SHOW TABLES FROM
//! name`. Keywords in any case; the engine quoted or bare, in any case.

use crate::dialect::DuckDb;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::{Location, Token, Tokenizer};
use s3sql_secrets::Parameters;

use super::error::DatabaseError;
use crate::error::Result;
use crate::statement::unexpected;

/// A parsed database statement.
#[derive(Debug)]
pub(crate) enum DatabaseStatement {
    /// `CREATE DATABASE`.
    Create {
        name: String,
        if_not_exists: bool,
        /// `CREATE OR REPLACE DATABASE`: an existing one is replaced.
        or_replace: bool,
        parameters: Parameters,
    },
    /// `DROP DATABASE`.
    Drop { name: String, if_exists: bool },
    /// `SHOW DATABASES`.
    Show,
    /// `SHOW TABLES FROM name`.
    ShowTables { name: String },
}

/// The upper-case word `n` tokens ahead.
fn word(parser: &Parser<'_>, n: usize) -> Option<String> {
    match parser.peek_nth_token(n).token {
        Token::Word(w) => Some(w.value.to_ascii_uppercase()),
        _ => None,
    }
}

/// Parses a database statement if one starts here; `None` leaves the
/// parser untouched. `sql` is the text the parser's tokens came from (the
/// PARAMETERS object is read from it as written).
pub(crate) fn parse(parser: &mut Parser<'_>, sql: &str) -> Result<Option<DatabaseStatement>> {
    let words = (word(parser, 0), word(parser, 1));
    let statement = match (words.0.as_deref(), words.1.as_deref()) {
        (Some("CREATE"), Some("DATABASE")) => {
            parser.next_token();
            parser.next_token();
            parse_create(parser, sql, false)?
        }
        (Some("CREATE"), Some("OR"))
            if word(parser, 2).as_deref() == Some("REPLACE")
                && word(parser, 3).as_deref() == Some("DATABASE") =>
        {
            for _ in 0..4 {
                parser.next_token();
            }
            parse_create(parser, sql, true)?
        }
        (Some("DROP"), Some("DATABASE")) => {
            parser.next_token();
            parser.next_token();
            let if_exists = parser.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
            DatabaseStatement::Drop {
                name: name(parser)?,
                if_exists,
            }
        }
        (Some("SHOW"), Some("DATABASES")) => {
            parser.next_token();
            parser.next_token();
            DatabaseStatement::Show
        }
        (Some("SHOW"), Some("TABLES"))
            if matches!(word(parser, 2).as_deref(), Some("FROM" | "IN")) =>
        {
            for _ in 0..3 {
                parser.next_token();
            }
            DatabaseStatement::ShowTables {
                name: name(parser)?,
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(statement))
}

/// `INSERT INTO a.b ...` (a table name of two parts or more): parsed
/// whole by sqlparser, whether it is a database's object (or a key that
/// wants backticks, `a.b.csv`) is decided when it runs
/// ([`super::InsertStatement::resolve`]). `None` leaves the parser
/// untouched.
pub(crate) fn parse_insert(parser: &mut Parser<'_>) -> Result<Option<super::InsertStatement>> {
    let token = |n: usize| parser.peek_nth_token(n).token;
    let parts = word(parser, 0).as_deref() == Some("INSERT")
        && word(parser, 1).as_deref() == Some("INTO")
        && matches!(token(2), Token::Word(_))
        && token(3) == Token::Period
        && matches!(token(4), Token::Word(_));
    if !parts {
        return Ok(None);
    }
    Ok(Some(super::InsertStatement::new(parser.parse_statement()?)))
}

/// A database name, lower case (names are case-insensitive, as secrets').
fn name(parser: &mut Parser<'_>) -> Result<String> {
    Ok(parser.parse_identifier()?.value.to_ascii_lowercase())
}

fn parse_create(parser: &mut Parser<'_>, sql: &str, or_replace: bool) -> Result<DatabaseStatement> {
    let if_not_exists = parser.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    if or_replace && if_not_exists {
        // DuckDB refuses the pair for secrets and tables: one says replace,
        // the other keep.
        return Err(ParserError::ParserError(
            "CREATE OR REPLACE DATABASE cannot also say IF NOT EXISTS (one replaces the database, the other keeps it); write one of them".to_owned(),
        )
        .into());
    }
    let name = name(parser)?;
    let _ = parser.parse_keyword(Keyword::WITH);
    if !parser.parse_keyword(Keyword::ENGINE) {
        return Err(unexpected(parser, "ENGINE = 's3'").into());
    }
    let _ = parser.consume_token(&Token::Eq);
    let engine = match parser.next_token().token {
        Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => s,
        Token::Word(w) => w.value,
        _ => {
            parser.prev_token();
            return Err(unexpected(parser, "the engine, 's3'").into());
        }
    };
    if !engine.eq_ignore_ascii_case("s3") {
        return Err(DatabaseError::Engine { engine }.into());
    }
    let _ = parser.consume_token(&Token::Comma);
    if word(parser, 0).as_deref() != Some("PARAMETERS") {
        return Err(unexpected(parser, "PARAMETERS = {...}").into());
    }
    parser.next_token();
    let _ = parser.consume_token(&Token::Eq);
    let (start, text) = object_text(parser, sql)?;
    let parameters = super::params::parse(sql, start, text)?;
    Ok(DatabaseStatement::Create {
        name,
        if_not_exists,
        or_replace,
        parameters,
    })
}

/// The text of the `{...}` at the parser's position, and where it starts.
fn object_text<'s>(parser: &mut Parser<'_>, sql: &'s str) -> Result<(Location, &'s str)> {
    let open = parser.peek_token();
    if open.token != Token::LBrace {
        return Err(unexpected(parser, "{ opening the PARAMETERS object").into());
    }
    let mut depth = 0usize;
    loop {
        let token = parser.next_token();
        match token.token {
            Token::LBrace => depth += 1,
            Token::RBrace => {
                depth -= 1;
                if depth == 0 {
                    let begin = offset(sql, open.span.start);
                    let end = offset(sql, token.span.end);
                    let text =
                        begin
                            .zip(end)
                            .and_then(|(b, e)| sql.get(b..e))
                            .ok_or_else(|| {
                                ParserError::ParserError(
                                    "PARAMETERS: cannot locate the object in the statement".into(),
                                )
                            })?;
                    return Ok((open.span.start, text));
                }
            }
            Token::EOF => {
                return Err(ParserError::ParserError(format!(
                    "PARAMETERS: the {{ at line {}, column {} is never closed with }}",
                    open.span.start.line, open.span.start.column
                ))
                .into());
            }
            _ => {}
        }
    }
}

/// The byte offset of a (1-based line, 1-based character column) location.
fn offset(sql: &str, at: Location) -> Option<usize> {
    let mut line_start = 0;
    for _ in 1..at.line {
        line_start += sql[line_start..].find('\n')? + 1;
    }
    let line = &sql[line_start..];
    let column = usize::try_from(at.column).ok()?.checked_sub(1)?;
    match line.char_indices().nth(column) {
        Some((i, _)) => Some(line_start + i),
        None => Some(line_start + line.len()),
    }
}

/// A clearer message for two syntax errors MindsDB users meet: an object
/// key with `/`, `.` or `-` written without backticks
/// (`FROM ds.folder/file.csv`, `FROM ds.'folder/file.csv'`), and a `LIMIT`
/// left after a `;` (the reference page's own example). `None` when the
/// error at `error_at` is neither.
pub(crate) fn hint(sql: &str, error_at: Location) -> Option<String> {
    let dialect = DuckDb;
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .ok()?;
    let at = tokens.iter().position(|t| t.span.start == error_at)?;
    let significant = |i: usize| {
        tokens[..i]
            .iter()
            .rev()
            .find(|t| !matches!(t.token, Token::Whitespace(_)))
    };
    if let Token::Word(w) = &tokens[at].token
        && matches!(
            w.keyword,
            Keyword::LIMIT | Keyword::WHERE | Keyword::ORDER | Keyword::GROUP | Keyword::OFFSET
        )
        && significant(at).is_none_or(|t| t.token == Token::SemiColon)
    {
        return Some(format!(
            "{} starts a statement of its own here: remove the ';' before it",
            w.value.to_ascii_uppercase()
        ));
    }
    // The run of tokens without white space around the error.
    let mut begin = at;
    while begin > 0 && !matches!(tokens[begin - 1].token, Token::Whitespace(_)) {
        begin -= 1;
    }
    let mut end = at;
    while end < tokens.len()
        && !matches!(
            tokens[end].token,
            Token::Whitespace(_) | Token::SemiColon | Token::EOF | Token::RParen | Token::Comma
        )
    {
        end += 1;
    }
    let run = &tokens[begin..end];
    let (Some(Token::Word(database)), Some(Token::Period)) =
        (run.first().map(|t| &t.token), run.get(1).map(|t| &t.token))
    else {
        return None;
    };
    // A key already in backticks (or double quotes) is not the mistake.
    if let Some(Token::Word(w)) = run.get(2).map(|t| &t.token)
        && w.quote_style.is_some()
    {
        return None;
    }
    let key: String = match &run[2..] {
        [only] => match &only.token {
            Token::SingleQuotedString(s) => s.clone(),
            other => other.to_string(),
        },
        rest => rest.iter().map(|t| t.token.to_string()).collect(),
    };
    if key.is_empty() || database.quote_style.is_some() {
        return None;
    }
    Some(
        DatabaseError::Unquoted {
            database: database.value.clone(),
            key,
        }
        .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(sql: &str) -> Result<Option<DatabaseStatement>> {
        let dialect = DuckDb;
        let mut parser = Parser::new(&dialect).try_with_sql(sql)?;
        parse(&mut parser, sql)
    }

    #[test]
    fn each_form_parses_in_any_case() {
        let sql = "create database if not exists My_DB with engine = 'S3', parameters = {\"bucket\": \"b\"}";
        match parsed(sql).unwrap() {
            Some(DatabaseStatement::Create {
                name,
                if_not_exists,
                parameters,
                ..
            }) => {
                assert_eq!(name, "my_db");
                assert!(if_not_exists);
                assert!(parameters.get("bucket").is_some());
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parsed("DROP DATABASE IF EXISTS d").unwrap(),
            Some(DatabaseStatement::Drop {
                if_exists: true,
                ..
            })
        ));
        assert!(matches!(
            parsed("show databases").unwrap(),
            Some(DatabaseStatement::Show)
        ));
        assert!(matches!(
            parsed("SHOW TABLES FROM d").unwrap(),
            Some(DatabaseStatement::ShowTables { .. })
        ));
        assert!(matches!(
            parsed("create or replace database d engine = 's3', parameters = {}").unwrap(),
            Some(DatabaseStatement::Create {
                or_replace: true,
                ..
            })
        ));
        assert!(parsed("SHOW TABLES").unwrap().is_none());
        assert!(parsed("SELECT 1").unwrap().is_none());
    }

    #[test]
    fn other_engines_and_missing_parts_are_named() {
        let e = parsed("CREATE DATABASE d WITH ENGINE = 'postgres', PARAMETERS = {}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("ENGINE 'postgres' is not supported"), "{e}");
        let e = parsed("CREATE DATABASE d").unwrap_err().to_string();
        assert!(e.contains("Expected: ENGINE = 's3'"), "{e}");
        let e = parsed("CREATE DATABASE d WITH ENGINE = 's3', PARAMETERS = {\"a\": \"b\"")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("PARAMETERS: the { at line 1, column 52 is never closed with }"),
            "{e}"
        );
    }

    #[test]
    fn offsets_count_characters() {
        let sql = "ab\nçd{x}";
        let at = offset(sql, Location { line: 2, column: 3 }).unwrap();
        assert_eq!(&sql[at..], "{x}");
    }

    #[test]
    fn hints_show_the_backtick_form() {
        let loc = |line, column| Location { line, column };
        let h = hint(
            "SELECT * FROM integration.travel/travel_data.csv",
            loc(1, 33),
        )
        .unwrap();
        assert!(
            h.contains("write integration.`travel/travel_data.csv`"),
            "{h}"
        );
        let h = hint("SELECT * FROM integration.my-file.csv", loc(1, 29)).unwrap();
        assert!(h.contains("write integration.`my-file.csv`"), "{h}");
        let h = hint(
            "SELECT * FROM integration.'travel/travel_data.csv'",
            loc(1, 27),
        )
        .unwrap();
        assert!(
            h.contains("write integration.`travel/travel_data.csv`"),
            "{h}"
        );
        let h = hint("SELECT * FROM ds.`a.csv`;\nLIMIT 10;", loc(2, 1)).unwrap();
        assert!(h.contains("LIMIT starts a statement of its own"), "{h}");
        assert!(hint("SELECT * FROM t WHERE", loc(1, 22)).is_none());
        assert!(hint("SELECT * FROM (DESCRIBE ds.`t.tsv`)", loc(1, 26)).is_none());
    }
}

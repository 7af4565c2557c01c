//! `CREATE [OR REPLACE] [PERSISTENT | TEMPORARY] SECRET [IF NOT EXISTS]
//! [name] (TYPE s3, KEY_ID '...', ...)` and `DROP [PERSISTENT | TEMPORARY]
//! SECRET [IF EXISTS] name`: parsed from sqlparser's tokens (its own
//! `CreateSecret` takes only identifiers as values, so no lists or booleans)
//! and run against the [`SecretManager`].

use std::sync::Arc;

use datafusion::arrow::array::{BooleanArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::sql::sqlparser::ast::Expr;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::Token;
use s3sql_secrets::{OnConflict, ParamValue, Parameters, Persistence, SecretManager};

use crate::error::{PlannerError, Result};
use crate::scan::request::{OptionValue, option_value};
use crate::statement::unexpected;

/// A parsed secret statement.
#[derive(Debug)]
pub(crate) enum SecretStatement {
    /// `CREATE SECRET`.
    Create {
        name: Option<String>,
        parameters: Parameters,
        persistence: Persistence,
        on_conflict: OnConflict,
    },
    /// `DROP SECRET`.
    Drop {
        name: String,
        persistence: Option<Persistence>,
        if_exists: bool,
    },
}

/// The upper-case words at the parser's position, up to `n` of them.
fn leading_words(parser: &Parser<'_>, n: usize) -> Vec<String> {
    (0..n)
        .map_while(|i| match parser.peek_nth_token(i).token {
            Token::Word(w) => Some(w.value.to_ascii_uppercase()),
            _ => None,
        })
        .collect()
}

/// Whether the statement at the parser's position is one of ours.
fn is_secret_statement(parser: &Parser<'_>) -> bool {
    let words = leading_words(parser, 5);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let rest = match words.as_slice() {
        ["CREATE", "OR", "REPLACE", rest @ ..] => rest,
        ["CREATE", rest @ ..] | ["DROP", rest @ ..] => rest,
        _ => return false,
    };
    matches!(
        rest,
        ["SECRET", ..] | ["PERSISTENT" | "TEMPORARY", "SECRET", ..]
    )
}

/// Parses a secret statement if one starts here; `None` leaves the parser
/// untouched for DataFusion.
pub(crate) fn parse(parser: &mut Parser<'_>) -> Result<Option<SecretStatement>> {
    if !is_secret_statement(parser) {
        return Ok(None);
    }
    let statement = if parser.parse_keyword(Keyword::CREATE) {
        parse_create(parser)?
    } else {
        parser.expect_keyword_is(Keyword::DROP)?;
        parse_drop(parser)?
    };
    Ok(Some(statement))
}

fn parse_persistence(parser: &mut Parser<'_>) -> Option<Persistence> {
    match parser.parse_one_of_keywords(&[Keyword::PERSISTENT, Keyword::TEMPORARY]) {
        Some(Keyword::PERSISTENT) => Some(Persistence::Persistent),
        Some(_) => Some(Persistence::Temporary),
        None => None,
    }
}

fn parse_create(parser: &mut Parser<'_>) -> Result<SecretStatement> {
    let or_replace = parser.parse_keywords(&[Keyword::OR, Keyword::REPLACE]);
    let persistence = parse_persistence(parser).unwrap_or(Persistence::Temporary);
    parser.expect_keyword_is(Keyword::SECRET)?;
    let if_not_exists = parser.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let on_conflict = match (or_replace, if_not_exists) {
        (true, true) => {
            return Err(ParserError::ParserError(
                "CREATE OR REPLACE SECRET cannot also say IF NOT EXISTS: choose one".into(),
            )
            .into());
        }
        (true, false) => OnConflict::Replace,
        (false, true) => OnConflict::Ignore,
        (false, false) => OnConflict::Error,
    };
    let name = if parser.peek_token() == Token::LParen {
        None
    } else {
        Some(parser.parse_identifier()?.value)
    };
    parser.expect_token(&Token::LParen)?;
    let mut parameters = Parameters::new();
    if !parser.consume_token(&Token::RParen) {
        loop {
            let key = parser.parse_identifier()?.value;
            let value = parse_value(parser, &key)?;
            parameters.insert(key, value)?;
            if parser.consume_token(&Token::RParen) {
                break;
            }
            if !parser.consume_token(&Token::Comma) {
                return Err(unexpected(parser, "',' or ')'").into());
            }
        }
    }
    Ok(SecretStatement::Create {
        name,
        parameters,
        persistence,
        on_conflict,
    })
}

/// A parameter value: a string, a bare word, a boolean, an integer or a
/// list of strings. The error names the parameter, never its value.
fn parse_value(parser: &mut Parser<'_>, key: &str) -> Result<ParamValue> {
    let expr = parser.parse_expr()?;
    value_of(&expr).ok_or_else(|| {
        ParserError::ParserError(format!(
            "secret parameter {}: give a string, a boolean, an integer or a list of strings",
            key.to_ascii_uppercase()
        ))
        .into()
    })
}

fn value_of(expr: &Expr) -> Option<ParamValue> {
    Some(match option_value(expr)? {
        OptionValue::Bool(b) => ParamValue::Bool(b),
        OptionValue::Int(i) => ParamValue::Int(i),
        OptionValue::Str(s) => ParamValue::Str(s),
        OptionValue::List(l) => ParamValue::List(
            l.into_iter()
                .map(|v| match v {
                    OptionValue::Str(s) => Some(s),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?,
        ),
        _ => return None,
    })
}

fn parse_drop(parser: &mut Parser<'_>) -> Result<SecretStatement> {
    let persistence = parse_persistence(parser);
    parser.expect_keyword_is(Keyword::SECRET)?;
    let if_exists = parser.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
    let name = parser.parse_identifier()?.value;
    Ok(SecretStatement::Drop {
        name,
        persistence,
        if_exists,
    })
}

/// Runs a secret statement; DuckDB answers with one row `Success = true`.
pub(crate) async fn execute(
    secrets: &SecretManager,
    statement: SecretStatement,
) -> Result<RecordBatch> {
    match statement {
        SecretStatement::Create {
            name,
            parameters,
            persistence,
            on_conflict,
        } => {
            let name = match name {
                Some(name) => name,
                None => default_name(&parameters)?,
            };
            secrets
                .create(&name, parameters, persistence, on_conflict)
                .await?;
        }
        SecretStatement::Drop {
            name,
            persistence,
            if_exists,
        } => {
            let on_missing = if if_exists {
                s3sql_secrets::OnMissing::Ignore
            } else {
                s3sql_secrets::OnMissing::Error
            };
            secrets.drop_secret(&name, persistence, on_missing)?;
        }
    }
    success(true)
}

/// DuckDB names an unnamed secret `__default_<type>`.
fn default_name(parameters: &Parameters) -> Result<String> {
    match parameters.get("TYPE") {
        Some(ParamValue::Str(t)) => Ok(format!("__default_{}", t.to_ascii_lowercase())),
        _ => Err(PlannerError::Secret(s3sql_secrets::SecretError::Invalid(
            "TYPE is required: TYPE s3, TYPE r2 or TYPE gcs".into(),
        ))),
    }
}

/// DuckDB's one-row answer to a DDL statement: `Success`.
pub(crate) fn success(done: bool) -> Result<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "Success",
        DataType::Boolean,
        false,
    )]));
    Ok(RecordBatch::try_new(
        schema,
        vec![Arc::new(BooleanArray::from(vec![done]))],
    )?)
}

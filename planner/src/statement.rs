//! The statement layer (DESIGN.md, a query's path, step 1): DuckDB
//! statements sqlparser does not cover are parsed here, the way
//! datafusion-cli's `exec.rs` and DataFusion's `DFParser` split the work;
//! everything else is DataFusion's SQL, parsed in DuckDB's dialect.

use datafusion::error::DataFusionError;
use datafusion::sql::parser::{DFParserBuilder, Statement as DFStatement};
use datafusion::sql::sqlparser::dialect::DuckDbDialect;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::Token;

use crate::copy::{self, CopyStatement};
use crate::describe::{self, DescribeStatement};
use crate::error::{PlannerError, Result};
use crate::secret_sql::{self, SecretStatement};
use crate::setting_sql::{self, SettingStatement};

/// One parsed statement, ready for [`crate::Session::execute`].
///
/// `Debug` never shows a secret's value: secret parameters print redacted.
#[derive(Debug)]
pub struct Statement {
    pub(crate) kind: StatementKind,
}

#[derive(Debug)]
pub(crate) enum StatementKind {
    /// `CREATE SECRET` / `DROP SECRET`.
    Secret(SecretStatement),
    /// `SET` / `RESET` / `SHOW` of an `s3_*` or `http_*` setting.
    Setting(SettingStatement),
    /// DuckDB's `DESCRIBE` / `SUMMARIZE` of a query, table or file.
    Describe(DescribeStatement),
    /// DuckDB's `COPY ... TO` (our writer, not DataFusion's).
    Copy(Box<CopyStatement>),
    /// Anything DataFusion plans.
    DataFusion(Box<DFStatement>),
}

/// Splits `sql` into statements, ours and DataFusion's.
pub(crate) fn parse(sql: &str) -> Result<Vec<Statement>> {
    let dialect = DuckDbDialect {};
    let mut df = DFParserBuilder::new(sql).with_dialect(&dialect).build()?;
    let mut statements = Vec::new();
    let mut expecting_delimiter = false;
    loop {
        while df.parser.consume_token(&Token::SemiColon) {
            expecting_delimiter = false;
        }
        if df.parser.peek_token() == Token::EOF {
            break;
        }
        if expecting_delimiter {
            return Err(unexpected(&df.parser, "end of statement").into());
        }
        let kind = if let Some(describe) = describe::parse(&mut df.parser)? {
            StatementKind::Describe(describe)
        } else if let Some(copy) = copy::parse(&mut df.parser)? {
            StatementKind::Copy(Box::new(copy))
        } else if let Some(secret) = secret_sql::parse(&mut df.parser)? {
            StatementKind::Secret(secret)
        } else if let Some(setting) = setting_sql::parse(&mut df.parser)? {
            StatementKind::Setting(setting)
        } else {
            StatementKind::DataFusion(Box::new(df.parse_statement().map_err(syntax)?))
        };
        statements.push(Statement { kind });
        expecting_delimiter = true;
    }
    Ok(statements)
}

/// "Expected: X, found: Y at Line: l, Column: c", as sqlparser words it.
pub(crate) fn unexpected(parser: &Parser<'_>, expected: &str) -> ParserError {
    let found = parser.peek_token();
    ParserError::ParserError(format!(
        "Expected: {expected}, found: {found} at {}",
        found.span.start
    ))
}

/// DataFusion's parser reports syntax errors as `DataFusionError::SQL`;
/// they are syntax errors like ours, with their line and column.
fn syntax(error: DataFusionError) -> PlannerError {
    match error {
        DataFusionError::SQL(parser_error, _) => PlannerError::Syntax(*parser_error),
        other => other.into(),
    }
}

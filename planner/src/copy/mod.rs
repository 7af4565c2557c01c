//! `COPY table TO 'url' (options)` and `COPY (query) TO 'url' (options)` in
//! DuckDB's syntax (DESIGN.md, a query's path, step 7): the query's batches
//! are encoded by arrow-rs's writers ([`encode`]) and streamed to S3 through
//! the client's multipart writer, or to a local file ([`sink`]), one file
//! or one per hive partition ([`partition`], [`target`]). A failed COPY
//! aborts every upload not complete, so nothing half-written stays, and
//! names the files that were complete. Memory is bounded by the cap on
//! open files (`partitioned_write_max_open_files`) and on rows gathered per
//! partition, see [`partitioned`].
//! The statement answers DuckDB's one row, `Count` (BIGINT): rows written.

mod cells;
mod csv;
mod dictionary;
mod encode;
mod error;
mod float;
mod json;
mod monitor;
mod nested;
mod open_uploads;
mod options;
mod parallel;
mod parquet;
mod partition;
mod partitioned;
mod read_ahead;
mod sink;
mod strftime;
mod target;
mod text;
mod writer;

use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::memory::MemoryStream;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{Expr, Statement as SqlStatement, Value};
use datafusion::sql::sqlparser::dialect::DuckDbDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::Token;
use s3sql_formats::OptionValue;
use s3sql_secrets::SecretManager;

pub use cells::duckdb_cells;
pub use csv::CsvRows;
pub(crate) use encode::{Encoder, Output};
pub use error::CopyError;
pub use monitor::{CopyMonitor, CopyProgress};
pub(crate) use options::{CopyFormat, CopyOptions, TextCompression};
pub(crate) use sink::Sink;
pub(crate) use target::{content_type, upload_budget};
pub(crate) use text::{DuckText, format_options, is_json, is_null};
pub use text::{is_uuid, push_uuid};
pub(crate) use writer::{FileWriter, next_batch};

use target::Target;

use crate::error::Result;
use crate::scan::request::option_value;
use crate::settings::Settings;
use crate::statement::unexpected;

/// A parsed `COPY ... TO`.
#[derive(Debug)]
pub(crate) struct CopyStatement {
    /// The rows to write: the query, or `SELECT * FROM table`.
    pub query: DFStatement,
    /// The file, or the directory of a partitioned COPY, as written.
    target: String,
    options: CopyOptions,
}

/// Parses `COPY source TO 'target' [WITH] [(options)]`; `None` (nothing
/// consumed) when the statement is not a COPY.
pub(crate) fn parse(parser: &mut Parser<'_>) -> Result<Option<CopyStatement>> {
    if !parser.parse_keyword(Keyword::COPY) {
        return Ok(None);
    }
    let query = if parser.consume_token(&Token::LParen) {
        let query = parser.parse_query()?;
        parser.expect_token(&Token::RParen)?;
        query
    } else {
        let name = parser.parse_object_name(false)?;
        let dialect = DuckDbDialect {};
        Parser::new(&dialect)
            .try_with_sql(&format!("SELECT * FROM {name}"))?
            .parse_query()?
    };
    if parser.parse_keyword(Keyword::FROM) {
        return Err(ParserError::ParserError(
            "COPY ... FROM loads a file into a table, which s3sql does not do: query the file directly, e.g. SELECT * FROM 's3://bucket/file.csv'".into(),
        )
        .into());
    }
    parser.expect_keyword_is(Keyword::TO)?;
    let target = parser.parse_literal_string()?;
    let with = parser.parse_keyword(Keyword::WITH);
    let mut pairs = Vec::new();
    if parser.consume_token(&Token::LParen) {
        if !parser.consume_token(&Token::RParen) {
            loop {
                pairs.push(parse_option(parser)?);
                if parser.consume_token(&Token::RParen) {
                    break;
                }
                if !parser.consume_token(&Token::Comma) {
                    return Err(unexpected(parser, "',' or ')'").into());
                }
            }
        }
    } else if with {
        return Err(unexpected(parser, "'(' and the COPY options").into());
    }
    let options = CopyOptions::parse(&target, pairs)?;
    Ok(Some(CopyStatement {
        query: DFStatement::Statement(Box::new(SqlStatement::Query(query))),
        target,
        options,
    }))
}

/// `NAME [value]`: a name alone means `true` (`OVERWRITE_OR_IGNORE`).
fn parse_option(parser: &mut Parser<'_>) -> Result<(String, OptionValue)> {
    let name = parser.parse_identifier()?.value;
    if matches!(parser.peek_token().token, Token::Comma | Token::RParen) {
        return Ok((name, OptionValue::Bool(true)));
    }
    // `FORCE_QUOTE *`: every column.
    if parser.consume_token(&Token::Mul) {
        return Ok((name, OptionValue::Str("*".to_owned())));
    }
    let expr = parser.parse_expr()?;
    let value = copy_value(&expr).ok_or_else(|| {
        ParserError::ParserError(format!(
            "COPY option {}: give a literal, a name or a list of names, not {expr}",
            name.to_ascii_uppercase()
        ))
    })?;
    Ok((name, value))
}

/// An option value; `(a, b)` and `(a)` (PARTITION_BY's lists) as lists.
fn copy_value(expr: &Expr) -> Option<OptionValue> {
    match expr {
        Expr::Tuple(items) => items
            .iter()
            .map(copy_value)
            .collect::<Option<Vec<_>>>()
            .map(OptionValue::List),
        Expr::Nested(inner) => Some(OptionValue::List(vec![copy_value(inner)?])),
        // A number no whole count holds (1.5, 2^70) as its text: the
        // option then says what it expects of it, naming the value.
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) if n.parse::<i64>().is_err() => Some(OptionValue::Str(n.clone())),
            _ => option_value(expr),
        },
        other => option_value(other),
    }
}

/// Runs the COPY over the rows of `stream`, the planned query; zoned
/// timestamps written as text are in the session's `zone`.
pub(crate) async fn execute(
    copy: &CopyStatement,
    mut stream: SendableRecordBatchStream,
    zone: &str,
    secrets: &SecretManager,
    settings: &Settings,
    monitor: &CopyMonitor,
) -> Result<SendableRecordBatchStream> {
    let _running = monitor.start();
    if copy.options.format != CopyFormat::Parquet {
        // CSV and JSON hold zoned timestamps as text, in the session's
        // `zone` as DuckDB writes them.
        stream = crate::shown_zone::stream_in_zone(stream, zone);
    }
    // A FORCE_QUOTE column the files do not hold is refused before
    // anything is written.
    let written = if copy.options.partition_by.is_empty() {
        stream.schema()
    } else {
        partition::Partitioner::new(&stream.schema(), &copy.options)?.file_schema()
    };
    copy.options.force_quote.columns(&written)?;
    let target = Target::resolve(&copy.target, secrets, settings).await?;
    monitor.set_uploading(matches!(target, Target::S3 { .. }));
    // FILE_SIZE_BYTES and PER_THREAD_OUTPUT write a directory of files,
    // as partitions do.
    let directory = !copy.options.partition_by.is_empty()
        || copy.options.file_size_bytes.is_some()
        || copy.options.per_thread_output;
    let made = target.missing_directory(directory);
    let rows = if !directory {
        writer::write_single(stream, &target, &copy.options, monitor).await
    } else {
        let limits = partitioned::Limits {
            max_open: settings.max_open_files(),
            buffer_rows: settings.flush_threshold(),
            buffer_bytes: partitioned::BUFFER_BYTES,
            encoder_bytes: partitioned::ENCODER_BYTES,
            filling_bytes: partitioned::FILLING_BYTES,
        };
        partitioned::write_partitioned(stream, &target, &copy.options, limits, monitor).await
    };
    if rows.is_err()
        && let Some(made) = made
    {
        target.remove_made_directories(directory, &made).await;
    }
    let rows = rows?;
    if target.is_standard_output() {
        // The rows went to the shell's output: a `Count` table printed
        // after them would be read as more rows (review-s22 F21). DuckDB's
        // shell prints none either.
        let schema = Arc::new(Schema::empty());
        return Ok(Box::pin(MemoryStream::try_new(Vec::new(), schema, None)?));
    }
    count(rows)
}

/// DuckDB's answer to a COPY or an INSERT: one row, `Count` (BIGINT), the
/// rows written.
pub(crate) fn count(rows: u64) -> Result<SendableRecordBatchStream> {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "Count",
        DataType::Int64,
        false,
    )]));
    let count = i64::try_from(rows).unwrap_or(i64::MAX);
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int64Array::from(vec![count]))],
    )?;
    Ok(Box::pin(MemoryStream::try_new(vec![batch], schema, None)?))
}

#[cfg(test)]
mod fault_tests;
#[cfg(test)]
mod tests;

//! Running SQL text and printing each statement's result: the one path
//! every source of SQL (`-c`, `-f`, stdin) ends in, as in datafusion-cli's
//! `exec.rs`.

use std::error::Error;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use futures::TryStreamExt;
use s3sql_planner::Session;

use crate::print_format::PrintFormat;

/// Where results go, and how they look.
pub struct Output {
    writer: Box<dyn Write>,
    format: PrintFormat,
}

impl Output {
    /// Standard output, or `path` when given.
    pub fn open(path: Option<&Path>, format: PrintFormat) -> anyhow::Result<Self> {
        let writer: Box<dyn Write> = match path {
            Some(path) => Box::new(BufWriter::new(
                File::create(path).with_context(|| format!("creating {}", path.display()))?,
            )),
            None => Box::new(BufWriter::new(std::io::stdout())),
        };
        Ok(Self { writer, format })
    }

    /// Switches the format of later results (`.mode`).
    pub fn set_format(&mut self, format: PrintFormat) {
        self.format = format;
    }
}

/// Runs the statements of `sql` in order, printing each result that has
/// columns; stops at the first error.
pub async fn exec_and_print(
    session: &Session,
    sql: &str,
    output: &mut Output,
) -> anyhow::Result<()> {
    for statement in session.parse(sql)? {
        let stream = session.execute(statement).await?;
        let schema = stream.schema();
        let batches: Vec<_> = stream.try_collect().await?;
        if schema.fields().is_empty() {
            continue;
        }
        output.format.print(&mut output.writer, &schema, &batches)?;
        output.writer.flush().context("writing results")?;
    }
    Ok(())
}

/// The error and every cause under it that adds something, one per line.
pub fn describe(error: &(dyn Error + 'static)) -> String {
    let mut text = format!("Error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str("\n  caused by: ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}

//! Running SQL text and printing each statement's result: the one path
//! every source of SQL (`-c`, `-f`, stdin, the prompt) ends in, as in
//! datafusion-cli's `exec.rs`.

use std::error::Error;
use std::fs::File;
use std::future::Future;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;

use anyhow::Context;
use futures::TryStreamExt;
use s3sql_planner::{PlannerError, Session};

use crate::print_format::PrintFormat;
use crate::progress::ProgressLine;

/// Where results go, and how they look.
pub struct Output {
    writer: Box<dyn Write>,
    format: PrintFormat,
    /// Whether results go to a terminal (where the progress line may be).
    terminal: bool,
}

impl Output {
    /// Standard output, or `path` when given.
    pub fn open(path: Option<&Path>, format: PrintFormat) -> anyhow::Result<Self> {
        let terminal = path.is_none() && std::io::stdout().is_terminal();
        let writer: Box<dyn Write> = match path {
            // Opened now, so a path that cannot be written is told before
            // anything runs; emptied only by the first result.
            Some(path) => Box::new(BufWriter::new(EmptiedOnFirstWrite {
                file: std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(path)
                    .with_context(|| format!("opening {}", path.display()))?,
                emptied: false,
            })),
            None => Box::new(BufWriter::new(std::io::stdout())),
        };
        Ok(Self {
            writer,
            format,
            terminal,
        })
    }

    /// Switches the format of later results (`.mode`).
    pub fn set_format(&mut self, format: PrintFormat) {
        self.format = format;
    }
}

/// The `-o` file: what it held stays until the first result is written
/// (a run that fails first loses nothing), as `>` would not keep it.
struct EmptiedOnFirstWrite {
    file: File,
    emptied: bool,
}

impl Write for EmptiedOnFirstWrite {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.emptied {
            self.file.set_len(0)?;
            self.emptied = true;
        }
        self.file.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Runs the statements of `sql` in order, printing each result that has
/// columns batch by batch as it is read; stops at the first error. `sql`
/// begins on line `first_line` of its source, which a syntax error names.
pub async fn exec_and_print(
    session: &Session,
    sql: &str,
    first_line: usize,
    output: &mut Output,
) -> anyhow::Result<()> {
    let statements = session
        .parse(sql)
        .map_err(|e| point_at(e, sql, first_line))?;
    for statement in statements {
        let format = output.format;
        // Rows printed as they come share the terminal with the progress
        // line: it goes before the first.
        let rows_stream_to_terminal = output.terminal && format != PrintFormat::Table;
        let writer = &mut output.writer;
        let mut printed = 0usize;
        let run = async {
            // A COPY's or a long scan's progress on a terminal's stderr,
            // erased when the statement ends or is dropped (Ctrl-C).
            let mut progress = ProgressLine::start(session);
            let mut stream = session.execute(statement).await?;
            let schema = stream.schema();
            if schema.fields().is_empty() {
                while stream.try_next().await?.is_some() {}
                return Ok(());
            }
            let mut printer = format.printer(writer.as_mut(), &schema)?;
            while let Some(batch) = stream.try_next().await? {
                if rows_stream_to_terminal {
                    progress.stop();
                }
                printer.write(&batch)?;
                printed += batch.num_rows();
            }
            progress.stop();
            printer.finish()?;
            writer.flush().context("writing results")
        };
        let done = until_interrupted(session, run).await;
        if let Err(error) = &done
            && !is_broken_pipe(error)
        {
            // What a cut-off result wrote goes out now, before its error:
            // never in front of the next statement's result (the shell
            // keeps this writer).
            let _ = output.writer.flush();
            // A table prints nothing until its end; other formats have
            // printed rows that look like a whole result.
            if format != PrintFormat::Table && printed > 0 {
                eprintln!(
                    "the result above is incomplete: {printed} rows printed before the error"
                );
            }
        }
        done?;
    }
    Ok(())
}

/// Whether `error` is a write to a pipe whose reader has closed it
/// (`s3sql -c ... | head -1`): the reader has all it wants, so the run
/// stops and ends quietly, as `cat` and `seq` do, with nothing more to say.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Ctrl-C stopped a statement; a COPY (or INSERT) aborted its uploads
/// first, unless a second Ctrl-C stopped the wait.
#[derive(Debug)]
pub struct Interrupted {
    /// What the interrupted COPY or INSERT reported (its uploads aborted,
    /// or which could not be or were not waited for); `None` for any
    /// other statement.
    copy: Option<String>,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.copy {
            Some(report) => write!(f, "{report} (Ctrl-C)"),
            None => f.write_str("interrupted (Ctrl-C)"),
        }
    }
}

impl Error for Interrupted {}

/// `run`, unless Ctrl-C comes first. A COPY is then asked to stop and
/// awaited while it aborts its uploads (a second Ctrl-C stops waiting);
/// anything else is dropped at once.
async fn until_interrupted<T>(
    session: &Session,
    run: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let mut run = std::pin::pin!(run);
    tokio::select! {
        // A Ctrl-C already waiting wins over a statement that would finish
        // at its first poll.
        biased;
        () = crate::interrupt::next() => {
            let monitor = session.copy_monitor();
            let mut copy = None;
            if monitor.is_running() {
                monitor.interrupt();
                copy = tokio::select! {
                    done = &mut run => Some(match done {
                        Err(e) => e.to_string(),
                        Ok(_) => monitor.complete_before_interrupt(),
                    }),
                    // The statement and the uploads it may leave open.
                    () = crate::interrupt::next() => Some(monitor.interrupted_twice()),
                };
            }
            Err(Interrupted { copy }.into())
        }
        done = &mut run => done,
    }
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

/// A syntax error, with the line it is on and a caret under the spot
/// (`LINE 3: ...`), as DuckDB's shell shows it.
#[derive(Debug)]
struct PointedSyntaxError {
    error: PlannerError,
    /// The error's message, its line counted in the whole source.
    message: String,
    pointer: String,
}

impl std::fmt::Display for PointedSyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\n{}", self.message, self.pointer)
    }
}

impl Error for PointedSyntaxError {
    /// What lies under the parser's error, not the parser's error itself:
    /// the message is that error with its position counted in the whole
    /// source, so shown again as a cause it put the error at another line
    /// (review-10g #10: "caused by: ... at Line: 1, Column: 1" under
    /// "Line: 3" for a `-f` script's third statement).
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.error.source().and_then(Error::source)
    }
}

/// Adds the pointer to a syntax error that names its line and column
/// (sqlparser's "at Line: 3, Column: 18", counted from `sql`'s start,
/// which is line `first_line` of its source); other errors pass unchanged.
fn point_at(error: PlannerError, sql: &str, first_line: usize) -> anyhow::Error {
    let position = match &error {
        PlannerError::Syntax(e) => line_and_column(&e.to_string()),
        _ => None,
    };
    let Some((line, column, form)) = position else {
        return error.into();
    };
    // The whole statement is masked, then cut: a quoted credential may
    // begin on the line before the echoed one.
    let masked = s3sql_planner::masked_statement(sql);
    let Some(text) = masked.lines().nth(line.saturating_sub(1)) else {
        return error.into();
    };
    let source_line = line + first_line.saturating_sub(1);
    let prefix = format!("LINE {source_line}: ");
    let indent = prefix.chars().count() + column.saturating_sub(1);
    let pointer = format!("{prefix}{text}\n{}^", " ".repeat(indent));
    let mut message = error.to_string();
    // The statement layer's own errors echo their line already, counted
    // in the statement (review-s24 F15: "LINE 1" for a script's line 2):
    // that echo goes, this one replaces it.
    if form == Form::Own
        && let Some(at) = message.find("\nLINE ")
    {
        message.truncate(at);
    }
    let at_statement = form.words(line, column);
    if let Some(at) = message.rfind(&at_statement) {
        message.replace_range(
            at..at + at_statement.len(),
            &form.words(source_line, column),
        );
    }
    PointedSyntaxError {
        error,
        message,
        pointer,
    }
    .into()
}

/// How an error words its place.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Form {
    /// sqlparser's "at Line: 3, Column: 18".
    Parser,
    /// The statement layer's own "at line 3, column 18", its line echoed
    /// under it (CREATE DATABASE's PARAMETERS).
    Own,
}

impl Form {
    /// The place's words in this form.
    fn words(self, line: usize, column: usize) -> String {
        match self {
            Form::Parser => format!("Line: {line}, Column: {column}"),
            Form::Own => format!("line {line}, column {column}"),
        }
    }
}

/// `(line, column)` from "... at Line: 3, Column: 18", or from the
/// statement layer's "... at line 3, column 18" above its own echo.
fn line_and_column(message: &str) -> Option<(usize, usize, Form)> {
    let place = |text: &str, line: &str, column: &str| -> Option<(usize, usize)> {
        let rest = &text[text.rfind(line)? + line.len()..];
        let (line, rest) = rest.split_once(column)?;
        let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
        Some((line.parse().ok()?, column.parse().ok()?))
    };
    if let Some((line, column)) = place(message, "Line: ", ", Column: ") {
        return Some((line, column, Form::Parser));
    }
    let (above, _) = message.split_once("\nLINE ")?;
    let (line, column) = place(above, " at line ", ", column ")?;
    Some((line, column, Form::Own))
}

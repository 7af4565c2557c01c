//! Running SQL text and printing each statement's result: the one path
//! every source of SQL (`-c`, `-f`, stdin) ends in, as in datafusion-cli's
//! `exec.rs`.

use std::collections::HashMap;
use std::error::Error;
use std::fs::File;
use std::future::Future;
use std::io::{BufWriter, IsTerminal, Write};
use std::ops::Range;
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
            Some(path) => Box::new(BufWriter::new(
                File::create(path).with_context(|| format!("creating {}", path.display()))?,
            )),
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

/// Runs the statements of `sql` in order, printing each result that has
/// columns batch by batch as it is read; stops at the first error.
pub async fn exec_and_print(
    session: &Session,
    sql: &str,
    output: &mut Output,
) -> anyhow::Result<()> {
    let statements = session.parse(sql).map_err(|e| point_at(e, sql))?;
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
        if done.is_err() {
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

/// Ctrl-C stopped a statement; a COPY aborted its uploads first.
#[derive(Debug)]
pub struct Interrupted {
    /// What the interrupted COPY reported (its uploads aborted, or which
    /// could not be); `None` for any other statement.
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
                        Ok(_) => "COPY complete before the interrupt took effect".to_owned(),
                    }),
                    () = crate::interrupt::next() => Some(
                        "COPY interrupted twice: stopped without waiting for its uploads to be aborted; some may stay open (ListMultipartUploads)".to_owned()
                    ),
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
    pointer: String,
}

impl std::fmt::Display for PointedSyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\n{}", self.error, self.pointer)
    }
}

impl Error for PointedSyntaxError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.error.source()
    }
}

/// Adds the pointer to a syntax error that names its line and column
/// (sqlparser's "at Line: 3, Column: 18"); other errors pass unchanged.
fn point_at(error: PlannerError, sql: &str) -> anyhow::Error {
    let position = match &error {
        PlannerError::Syntax(e) => line_and_column(&e.to_string()),
        _ => None,
    };
    let Some((line, column)) = position else {
        return error.into();
    };
    let Some(text) = mask_secrets(sql, line) else {
        return error.into();
    };
    let prefix = format!("LINE {line}: ");
    let indent = prefix.chars().count() + column.saturating_sub(1);
    let pointer = format!("{prefix}{text}\n{}^", " ".repeat(indent));
    PointedSyntaxError { error, pointer }.into()
}

/// `(line, column)` from "... at Line: 3, Column: 18".
fn line_and_column(message: &str) -> Option<(usize, usize)> {
    let rest = &message[message.rfind("Line: ")? + "Line: ".len()..];
    let (line, rest) = rest.split_once(", Column: ")?;
    let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((line.parse().ok()?, column.parse().ok()?))
}

/// Whether `sql` may carry a credential: a `CREATE SECRET`, a `SET
/// s3_secret_access_key`, a `SESSION_TOKEN`, MindsDB's
/// `aws_secret_access_key`, a password in a URL (`http://user:pw@host`).
/// Such text is starred out when echoed and kept out of the history file.
pub(crate) fn may_hold_secret(sql: &str) -> bool {
    let lower = sql.to_ascii_lowercase();
    lower.contains("secret")
        || lower.contains("session_token")
        || lower.split("://").skip(1).any(|rest| {
            rest.split(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
                .next()
                .is_some_and(|authority| authority.contains('@'))
        })
}

/// Line `line` (1-based) of `sql` as echoed under an error: when the
/// statement may carry a credential, the inside of each quoted string is
/// starred out, single-quoted SQL literals and double-quoted ones alike
/// (MindsDB's PARAMETERS are JSON, its secrets in double quotes), one
/// opened on an earlier line included, and so is a credential written
/// as a bare word (`SECRET wJalr...`, `SET s3_secret_access_key = ...`,
/// `"aws_secret_access_key": wJalr...`) up to the `,`, `)`, `}` or `;`
/// that ends it, white space inside kept; the length is kept so the caret
/// below still points at the right column.
fn mask_secrets(sql: &str, line: usize) -> Option<String> {
    let text = sql.lines().nth(line.saturating_sub(1))?;
    if !may_hold_secret(sql) {
        return Some(text.to_owned());
    }
    let source: Vec<char> = sql.chars().collect();
    let mut masked = source.clone();
    let quoted = s3sql_planner::quoted_spans(sql);
    let insides: Vec<Range<usize>> = match &quoted {
        Some(spans) => spans.iter().map(|span| inside(&source, span)).collect(),
        // The tokenizer refused the text: anything after a quote may be
        // inside a string.
        None => source
            .iter()
            .position(|c| matches!(c, '\'' | '"' | '`' | '$'))
            .map(|from| from..source.len())
            .into_iter()
            .collect(),
    };
    for range in insides {
        for c in &mut masked[range] {
            if !matches!(*c, '\n' | '\r') {
                *c = '*';
            }
        }
    }
    for value in bare_credentials(&source, quoted.as_deref().unwrap_or_default()) {
        for c in &mut masked[value] {
            if !c.is_whitespace() {
                *c = '*';
            }
        }
    }
    let masked: String = masked.into_iter().collect();
    masked
        .lines()
        .nth(line.saturating_sub(1))
        .map(str::to_owned)
}

/// The chars of a quoted token (`span`, from [`s3sql_planner::quoted_spans`])
/// between its opening quote, after a prefix such as `E`, and its closing one.
fn inside(source: &[char], span: &Range<usize>) -> Range<usize> {
    let end = span.end.min(source.len());
    let start = span.start.min(end);
    match source[start..end]
        .iter()
        .position(|c| matches!(c, '\'' | '"' | '`' | '$'))
    {
        Some(quote) => {
            let from = start + quote + 1;
            from..end.saturating_sub(1).max(from)
        }
        None => end..end,
    }
}

/// Whether a name (a word, or a quoted JSON name) is a credential's.
fn names_a_credential(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "secret" || lower.ends_with("secret_access_key") || lower.ends_with("session_token")
}

/// The char ranges of credentials written unquoted after their name
/// (`SECRET x`, `s3_session_token = x`, `s3_session_token TO x`,
/// `"aws_secret_access_key": x`), given the quoted tokens' spans
/// (`strings`). `SECRET` as the statement's own keyword
/// (`CREATE [OR REPLACE] [PERSISTENT] SECRET name`, `DROP SECRET name`)
/// names none.
fn bare_credentials(source: &[char], strings: &[Range<usize>]) -> Vec<Range<usize>> {
    const STATEMENT: [&str; 6] = ["create", "replace", "persistent", "temporary", "drop", "or"];
    let word_char = |c: char| c.is_alphanumeric() || c == '_';
    let skip_space = |mut at: usize| {
        while at < source.len() && source[at].is_whitespace() {
            at += 1;
        }
        at
    };
    let quoted_at: HashMap<usize, &Range<usize>> = strings.iter().map(|s| (s.start, s)).collect();
    let mut found = Vec::new();
    let mut previous = String::new();
    let mut at = 0;
    while at < source.len() {
        let c = source[at];
        let (name, quoted, end) = if let Some(span) = quoted_at.get(&at) {
            let name = source[inside(source, span)].iter().collect::<String>();
            (name, true, span.end)
        } else if word_char(c) {
            let close = source[at..]
                .iter()
                .position(|&d| !word_char(d))
                .map_or(source.len(), |p| at + p);
            (source[at..close].iter().collect::<String>(), false, close)
        } else {
            at += 1;
            continue;
        };
        let end = end.min(source.len());
        if names_a_credential(&name) && !STATEMENT.contains(&previous.to_ascii_lowercase().as_str())
        {
            let mut value = skip_space(end);
            if value < source.len() && matches!(source[value], ':' | '=') {
                value = skip_space(value + 1);
            } else {
                let next: String = source[value..].iter().take(3).collect();
                if next.len() == 3
                    && next[..2].eq_ignore_ascii_case("to")
                    && next.ends_with(char::is_whitespace)
                {
                    value = skip_space(value + 2);
                }
            }
            if value < source.len()
                && !quoted_at.contains_key(&value)
                && !matches!(source[value], '\'' | '"')
            {
                let stop = source[value..]
                    .iter()
                    .position(|&d| matches!(d, ',' | ')' | '}' | ';' | '\n' | '\r'))
                    .map_or(source.len(), |p| value + p);
                found.push(value..stop);
            }
        }
        if !quoted {
            previous = name;
        }
        at = end;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every way a credential can be written in a statement: quoted, a
    /// bare word (CREATE SECRET takes one), one with a stray space, a SET,
    /// MindsDB's JSON, a password in an endpoint URL. The echoed line never
    /// shows it, and the statement is kept out of the history file.
    #[test]
    fn an_echoed_line_never_shows_a_credential_however_it_is_written() {
        for sql in [
            "CREATE SECRET s (TYPE s3, KEY_ID 'AK', SECRET 'TOPSECRET'); SELECT )",
            "CREATE SECRET s (TYPE s3, KEY_ID 'AK', SECRET TOPSECRET); SELECT )",
            "CREATE SECRET s (TYPE s3, KEY_ID 'AK', SECRET wJalr TOPSECRET)",
            "CREATE SECRET s (TYPE s3, SESSION_TOKEN FwoG\tTOPSECRET, KEY_ID 'AK')",
            "SET s3_secret_access_key = TOPSECRET; SELECT )",
            "SET s3_session_token TO wJalr TOPSECRET; SELECT )",
            "CREATE DATABASE d WITH ENGINE = 's3', PARAMETERS = {\"aws_secret_access_key\": wJalr TOPSECRET, \"bucket\": \"b\"} x",
            "CREATE DATABASE d WITH ENGINE = 's3', PARAMETERS = {\"aws_session_token\": \"TOPSECRET\"}; SELECT )",
            "CREATE DATABASE d WITH ENGINE = 's3', PARAMETERS = {\"endpoint_url\": \"http://user:TOPSECRET@h:9000\"}; SELECT )",
        ] {
            assert!(may_hold_secret(sql), "{sql}");
            let line = mask_secrets(sql, 1).unwrap();
            assert!(!line.contains("TOPSECRET"), "{sql} -> {line}");
            assert_eq!(line.chars().count(), sql.chars().count(), "{line}");
        }
        // Bare words that are no credential's stay as written.
        let sql = "SELECT secret_count FROM t WHERE x = 'secret-ish' )";
        assert_eq!(
            mask_secrets(sql, 1).unwrap(),
            "SELECT secret_count FROM t WHERE x = '**********' )"
        );
        let sql = "CREATE SECRET s (TYPE s3, KEY_ID 'AK', SECRET 'x'); SELECT a, b FROM t WHERE )";
        assert!(
            mask_secrets(sql, 1)
                .unwrap()
                .ends_with("SELECT a, b FROM t WHERE )")
        );
        assert!(!may_hold_secret("SELECT * FROM 's3://b/k.csv'"));
    }
}

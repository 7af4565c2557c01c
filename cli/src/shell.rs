//! Lines of SQL and dot commands, as DuckDB's shell reads them wherever
//! they come from (typed at the prompt, a script on stdin or in `-f`, a
//! `.read` file): statements gathered over lines until one ends in `;`
//! (outside strings, quoted names and comments:
//! [`s3sql_planner::StatementLines`]), and a line starting with `.` where
//! a statement would start a dot command. Every statement goes through
//! [`exec::exec_and_print`].

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use s3sql_planner::{Session, StatementLines};

use crate::exec::{self, Output};
use crate::print_format::PrintFormat;

const HELP: &str = "\
.help             this text
.mode FORMAT      table, csv, tsv, json, jsonl or markdown
.timer on|off     print how long each statement took
.read FILE        run the SQL and dot commands in FILE
.quit             leave (Ctrl-D too)
SQL statements end with ';' and may span lines.";

/// How deep `.read` files may read others: past this a file is taken
/// for one that reads itself.
const MAX_READ_DEPTH: usize = 64;

/// What one line of input asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Keep reading: the statement is not finished.
    More,
    /// Run this SQL.
    Run(String),
    /// Print this text.
    Say(String),
    /// A dot command that is unknown or lacks its argument.
    Refuse(String),
    /// Switch the output format.
    Mode(PrintFormat),
    /// Timing on or off.
    Timer(bool),
    /// Run a file's SQL and dot commands.
    Read(PathBuf),
    /// Leave.
    Quit,
}

/// Lines read so far and what each completes.
#[derive(Debug, Default)]
pub struct Input {
    buffer: StatementLines,
}

impl Input {
    /// Takes one line (without its line break).
    pub fn feed(&mut self, line: &str) -> Action {
        let trimmed = line.trim();
        if self.buffer.is_empty() && trimmed.starts_with('.') {
            return dot_command(trimmed);
        }
        // Blank and comment lines before a statement are no part of it, so
        // a dot command after them is still at a statement's start.
        if self.buffer.is_empty() && is_blank_or_comment(trimmed) {
            return Action::More;
        }
        if self.buffer.push_line(line) {
            Action::Run(self.buffer.take())
        } else {
            Action::More
        }
    }

    /// Whether a statement has begun and not ended.
    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// What is left at the end of the input: a last statement without
    /// its `;`, run as DuckDB's shell runs it.
    fn finish(&mut self) -> Option<String> {
        (!self.buffer.is_empty()).then(|| self.buffer.take())
    }
}

/// A trimmed line of nothing but a `--` comment or one whole `/* */`.
fn is_blank_or_comment(trimmed: &str) -> bool {
    trimmed.is_empty()
        || trimmed.starts_with("--")
        || (trimmed.starts_with("/*")
            && trimmed.len() >= 4
            && trimmed[2..].find("*/").map(|at| at + 2) == Some(trimmed.len() - 2))
}

fn dot_command(line: &str) -> Action {
    let mut words = line.split_whitespace();
    let command = words.next().unwrap_or_default();
    let argument = words.next();
    match (command, argument) {
        (".quit" | ".exit", _) => Action::Quit,
        (".help", _) => Action::Say(HELP.to_owned()),
        (".mode", Some(name)) => match <PrintFormat as clap::ValueEnum>::from_str(name, true) {
            Ok(format) => Action::Mode(format),
            Err(_) => Action::Refuse(format!(
                "unknown mode '{name}': use table, csv, tsv, json, jsonl or markdown"
            )),
        },
        (".timer", Some("on")) => Action::Timer(true),
        (".timer", Some("off")) => Action::Timer(false),
        (".read", Some(file)) => Action::Read(PathBuf::from(file)),
        _ => Action::Refuse(format!(
            "unknown or incomplete command '{line}'; .help lists them"
        )),
    }
}

/// Whether to go on reading after an action.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    /// Next line.
    Go,
    /// `.quit`: the run ends.
    Quit,
}

/// What dot commands change, kept over every source of one run: the
/// output's format and the timer.
pub struct Shell<'a> {
    session: &'a Session,
    output: &'a mut Output,
    timer: bool,
    /// `.read` files being run, one inside the other.
    depth: usize,
}

impl<'a> Shell<'a> {
    /// A shell printing `session`'s results to `output`.
    pub fn new(session: &'a Session, output: &'a mut Output) -> Self {
        Self {
            session,
            output,
            timer: false,
            depth: 0,
        }
    }

    /// Runs the statements of `sql`, whose first line is line
    /// `first_line` of its source (syntax errors name that line).
    pub async fn run_sql(&mut self, sql: &str, first_line: usize) -> anyhow::Result<()> {
        let started = Instant::now();
        let done = exec::exec_and_print(self.session, sql, first_line, self.output).await;
        if self.timer {
            eprintln!("Run Time: {:.3}s", started.elapsed().as_secs_f64());
        }
        done
    }

    /// Carries out `action`; a statement in it started on line
    /// `first_line` of its source.
    pub async fn act(&mut self, action: Action, first_line: usize) -> anyhow::Result<Flow> {
        match action {
            Action::More => {}
            Action::Quit => return Ok(Flow::Quit),
            Action::Say(text) => println!("{text}"),
            Action::Refuse(message) => anyhow::bail!(message),
            Action::Mode(format) => self.output.set_format(format),
            Action::Timer(on) => self.timer = on,
            Action::Read(file) => {
                if self.depth >= MAX_READ_DEPTH {
                    anyhow::bail!(
                        ".read {}: files read {MAX_READ_DEPTH} deep; does one read itself?",
                        file.display()
                    );
                }
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                self.depth += 1;
                let flow = Box::pin(self.run_script(&text)).await;
                self.depth -= 1;
                return flow;
            }
            Action::Run(sql) => self.run_sql(&sql, first_line).await?,
        }
        Ok(Flow::Go)
    }

    /// Runs a script line by line, as typed lines are: SQL statements and
    /// dot commands. Stops at the first error, or at `.quit`.
    pub async fn run_script(&mut self, text: &str) -> anyhow::Result<Flow> {
        let mut input = Input::default();
        let mut first_line = 1;
        for (index, line) in text.lines().enumerate() {
            if input.is_empty() {
                first_line = index + 1;
            }
            if self.act(input.feed(line), first_line).await? == Flow::Quit {
                return Ok(Flow::Quit);
            }
        }
        if let Some(sql) = input.finish() {
            self.run_sql(&sql, first_line).await?;
        }
        Ok(Flow::Go)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each case's lines read as one statement, ended by its last line.
    fn ends_at_the_last_line(cases: &[&[&str]]) {
        for lines in cases {
            let mut input = Input::default();
            let (last, first) = lines.split_last().unwrap();
            for line in first {
                assert_eq!(input.feed(line), Action::More, "{lines:?}");
            }
            let expected: String = lines.iter().map(|l| format!("{l}\n")).collect();
            assert_eq!(input.feed(last), Action::Run(expected), "{lines:?}");
        }
    }

    #[test]
    fn statements_gather_lines_until_a_semicolon() {
        let mut input = Input::default();
        assert_eq!(input.feed("SELECT 1"), Action::More);
        assert_eq!(
            input.feed("  + 2;"),
            Action::Run("SELECT 1\n  + 2;\n".into())
        );
        assert_eq!(input.feed(""), Action::More);
        assert_eq!(input.feed("SELECT 3;"), Action::Run("SELECT 3;\n".into()));
    }

    /// A `;` ends a statement only outside strings, quoted names,
    /// backtick-quoted keys and comments; one after the `;` keeps it ended.
    #[test]
    fn a_semicolon_in_a_string_name_key_or_comment_does_not_end_the_statement() {
        let cases: [&[&str]; 7] = [
            &["SELECT 'a;", "b';"],
            &["SELECT 1 AS \"x;", "y\";"],
            &["SELECT * FROM ds.`folder/a;", "b.csv`;"],
            &["SELECT 1 -- why;", ";"],
            &["SELECT 1 /* one;", "two; */;"],
            &["SELECT 1; -- done"],
            &["SELECT 1; /* done */"],
        ];
        ends_at_the_last_line(&cases);
    }

    /// A pasted statement of many lines is read once, not once per line
    /// (every line re-read the whole buffer: 5,000 lines took ~12M line
    /// reads, seconds of lag growing with the square of the paste).
    #[test]
    fn a_long_paste_is_read_in_time_linear_in_its_length() {
        let lines = 5_000;
        let mut input = Input::default();
        let started = std::time::Instant::now();
        assert_eq!(
            input.feed("CREATE VIEW v AS SELECT * FROM read_csv(["),
            Action::More
        );
        for i in 0..lines {
            let line = format!("  's3://bucket/logs/2024/01/{i:05}/part-0000.csv', -- file {i}");
            assert_eq!(input.feed(&line), Action::More);
        }
        assert!(matches!(input.feed("]);"), Action::Run(sql) if sql.ends_with("]);\n")));
        // Linear: a few hundred KB tokenized once, milliseconds even in a
        // debug build on a slow machine; quadratic took tens of seconds.
        let took = started.elapsed();
        assert!(
            took < std::time::Duration::from_secs(5),
            "{lines} lines took {took:?}"
        );
    }

    /// A line ending a string or comment opened lines before, and a line
    /// after a statement refused by the tokenizer, are read as whole text.
    #[test]
    fn lines_resume_inside_strings_and_comments() {
        let cases: [&[&str]; 5] = [
            &["SELECT 'a", "b", "c';"],
            &["SELECT 1 /* a /* b */", "c", "*/;"],
            &["SELECT $$a;", "b;$$;"],
            &["SELECT E'it\\'s;", "more';"],
            &["SELECT 1,", "2 -- ;", ";"],
        ];
        ends_at_the_last_line(&cases);
    }

    /// A closed `E'...'` string with an escape sqlparser refuses ends
    /// the statement (it runs, and parsing names the escape): it was
    /// read as open, and every later line, `.quit` too, was swallowed.
    #[test]
    fn a_closed_escape_string_with_a_bad_escape_ends_the_statement() {
        for sql in [
            "SELECT E'\\0' AS z;",
            "SELECT E'\\400' AS z;",
            "SELECT E'\\u00' AS z;",
            "SELECT E'\\uD800' AS z;",
        ] {
            let mut input = Input::default();
            assert_eq!(input.feed(sql), Action::Run(format!("{sql}\n")), "{sql}");
            assert_eq!(input.feed(".quit"), Action::Quit, "{sql}");
        }
        // Still open: no closing quote yet.
        let mut input = Input::default();
        assert_eq!(input.feed("SELECT E'\\0 AS z;"), Action::More);
    }

    #[test]
    fn dot_commands() {
        let mut input = Input::default();
        assert_eq!(input.feed(".mode csv"), Action::Mode(PrintFormat::Csv));
        assert_eq!(input.feed(".timer on"), Action::Timer(true));
        assert_eq!(
            input.feed(".read q.sql"),
            Action::Read(PathBuf::from("q.sql"))
        );
        assert_eq!(input.feed(".quit"), Action::Quit);
        assert!(matches!(input.feed(".help"), Action::Say(t) if t.contains(".mode FORMAT")));
        assert!(
            matches!(input.feed(".mode yaml"), Action::Refuse(t) if t.contains("unknown mode 'yaml'"))
        );
        // A dot inside a statement is SQL, not a command.
        assert_eq!(input.feed("SELECT"), Action::More);
        assert_eq!(input.feed(".5;"), Action::Run("SELECT\n.5;\n".into()));
        // Comment lines before a statement leave it unstarted.
        for comment in ["-- report", "  /* header */", "/**/"] {
            assert_eq!(input.feed(comment), Action::More, "{comment}");
            assert_eq!(input.feed(".mode csv"), Action::Mode(PrintFormat::Csv));
        }
        // An unclosed comment starts one.
        assert_eq!(input.feed("/* open"), Action::More);
        assert_eq!(input.feed(".mode csv"), Action::More);
    }
}

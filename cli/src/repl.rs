//! The interactive shell: rustyline with a history file, statements
//! gathered over lines until one ends in `;` (outside strings, quoted
//! names and comments: [`s3sql_planner::StatementLines`]), and
//! DuckDB-style dot commands. Every statement goes through [`exec::exec_and_print`] like
//! `-c` and `-f`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;
use s3sql_planner::{Session, StatementLines};

use crate::exec::{self, Output};
use crate::print_format::PrintFormat;

const HELP: &str = "\
.help             this text
.mode FORMAT      table, csv, tsv, json, jsonl or markdown
.timer on|off     print how long each statement took
.read FILE        run the SQL in FILE
.quit             leave (Ctrl-D too)
SQL statements end with ';' and may span lines.";

/// What one line of input asks for.
#[derive(Debug, PartialEq, Eq)]
enum Action {
    /// Keep reading: the statement is not finished.
    More,
    /// Run this SQL.
    Run(String),
    /// Print this text.
    Say(String),
    /// Switch the output format.
    Mode(PrintFormat),
    /// Timing on or off.
    Timer(bool),
    /// Run a file's SQL.
    Read(PathBuf),
    /// Leave.
    Quit,
}

/// Lines typed so far and what each completes.
#[derive(Debug, Default)]
struct Input {
    buffer: StatementLines,
}

impl Input {
    fn feed(&mut self, line: &str) -> Action {
        let trimmed = line.trim();
        if self.buffer.is_empty() && trimmed.starts_with('.') {
            return dot_command(trimmed);
        }
        if self.buffer.is_empty() && trimmed.is_empty() {
            return Action::More;
        }
        if self.buffer.push_line(line) {
            Action::Run(self.buffer.take())
        } else {
            Action::More
        }
    }
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
            Err(_) => Action::Say(format!(
                "unknown mode '{name}': use table, csv, tsv, json, jsonl or markdown"
            )),
        },
        (".timer", Some("on")) => Action::Timer(true),
        (".timer", Some("off")) => Action::Timer(false),
        (".read", Some(file)) => Action::Read(PathBuf::from(file)),
        _ => Action::Say(format!(
            "unknown or incomplete command '{line}'; .help lists them"
        )),
    }
}

/// `$XDG_STATE_HOME/s3sql/history` or `~/.s3sql_history`.
fn history_file() -> Option<PathBuf> {
    if let Some(state) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(state).join("s3sql").join("history"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".s3sql_history"))
}

/// Runs the shell until `.quit` or end of input.
pub async fn run(session: &Session, output: &mut Output) -> anyhow::Result<()> {
    let mut editor = DefaultEditor::new()?;
    let history = history_file();
    if let Some(text) = history
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
    {
        for entry in text.lines() {
            let _ = editor.add_history_entry(entry.replace('\u{1f}', "\n"));
        }
    }
    println!(
        "s3sql {}: SQL ends with ';', .help for commands",
        env!("CARGO_PKG_VERSION")
    );
    let mut input = Input::default();
    let mut timer = false;
    loop {
        let prompt = if input.buffer.is_empty() {
            "s3sql> "
        } else {
            "  ...> "
        };
        let line = match tokio::task::block_in_place(|| editor.readline(prompt)) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                input = Input::default();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        let sql = match input.feed(&line) {
            Action::More => continue,
            Action::Quit => break,
            Action::Say(text) => {
                println!("{text}");
                continue;
            }
            Action::Mode(format) => {
                output.set_format(format);
                continue;
            }
            Action::Timer(on) => {
                timer = on;
                continue;
            }
            Action::Read(file) => match std::fs::read_to_string(&file) {
                Ok(sql) => sql,
                Err(e) => {
                    eprintln!("Error: cannot read {}: {e}", file.display());
                    continue;
                }
            },
            Action::Run(sql) => {
                let entry = sql.trim_end().to_owned();
                let _ = editor.add_history_entry(entry.as_str());
                // Recalled in this session, never written to disk.
                if !s3sql_planner::may_hold_secret(&entry) {
                    remember(history.as_ref(), &entry);
                }
                sql
            }
        };
        crate::interrupt::forget_pending().await;
        let started = Instant::now();
        if let Err(error) = exec::exec_and_print(session, &sql, output).await {
            eprintln!("{}", exec::describe(error.as_ref()));
        }
        if timer {
            eprintln!("Run Time: {:.3}s", started.elapsed().as_secs_f64());
        }
    }
    Ok(())
}

/// Appends one entry to the history file (newlines kept as U+001F),
/// readable by its owner only: statements name buckets and keys.
fn remember(history: Option<&PathBuf>, entry: &str) {
    let Some(path) = history else { return };
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    if let Ok(mut file) = options.open(path) {
        let _ = writeln!(file, "{}", entry.replace('\n', "\u{1f}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            matches!(input.feed(".mode yaml"), Action::Say(t) if t.contains("unknown mode 'yaml'"))
        );
        // A dot inside a statement is SQL, not a command.
        assert_eq!(input.feed("SELECT"), Action::More);
        assert_eq!(input.feed(".5;"), Action::Run("SELECT\n.5;\n".into()));
    }
}

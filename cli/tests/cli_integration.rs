//! The `s3sql` binary as a process: `-c` (repeated, one session), `-f`,
//! stdin, every output format, `-o`, exit codes and error messages, a
//! query of a file on the test S3 target, and the shell on a terminal.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use s3sql_s3_client::PutObjectRequest;
use s3sql_testkit::{Fault, FaultRule};

mod common;
use common::target_client;

/// Runs the binary with `args` and `stdin`, with a private config directory
/// so no persistent secret of the user is read or written.
fn s3sql(args: &[&str], stdin: &str) -> Output {
    let home = tempfile::tempdir().unwrap();
    let mut child = spawn(args, home.path(), Stdio::piped());
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// The binary started with `args` and `stdin`, output piped, its config
/// directory `home`.
fn spawn(args: &[&str], home: &std::path::Path, stdin: Stdio) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_s3sql"))
        .args(args)
        .env("XDG_CONFIG_HOME", home)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `script(1)` running `command` on a pseudo-terminal, its shell told to
/// `exec` it: a shell left in between (dash does not exec the last command
/// of `-c`, and CI runners often have no `$SHELL`, so `/bin/sh` it is)
/// shares the terminal's process group, dies of a Ctrl-C typed there and
/// turns the run's status into 130 while `s3sql` went on.
fn on_a_terminal(command: &str) -> std::process::Command {
    let mut script = std::process::Command::new("script");
    script
        .args(["--quiet", "--return", "--command"])
        .arg(format!("exec {command}"))
        .arg("/dev/null")
        .env("SHELL", "/bin/sh");
    script
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

const ROWS: &str = "SELECT * FROM (VALUES (1, 'a', 1.5), (2, NULL, NULL)) AS t(n, s, f) ORDER BY n";

#[test]
fn each_output_format() {
    let expect = [
        ("csv", "n,s,f\n1,a,1.5\n2,,\n"),
        ("tsv", "n\ts\tf\n1\ta\t1.5\n2\t\t\n"),
        (
            "json",
            "[{\"n\":1,\"s\":\"a\",\"f\":1.5},{\"n\":2,\"s\":null,\"f\":null}]\n",
        ),
        (
            "jsonl",
            "{\"n\":1,\"s\":\"a\",\"f\":1.5}\n{\"n\":2,\"s\":null,\"f\":null}\n",
        ),
        (
            "markdown",
            "| n | s | f |\n|---|---|---|\n| 1 | a | 1.5 |\n| 2 | NULL | NULL |\n",
        ),
    ];
    for (format, expected) in expect {
        let out = s3sql(&["--format", format, "-c", ROWS], "");
        assert!(out.status.success(), "{format}: {}", stderr(&out));
        assert_eq!(stdout(&out), expected, "{format}");
    }
    let table = s3sql(&["-c", ROWS], "");
    let text = stdout(&table);
    for cell in ["n", "s", "f", "1.5", "NULL", "a"] {
        assert!(text.contains(cell), "{text}");
    }
    assert_eq!(
        text.lines().filter(|l| l.contains("NULL")).count(),
        1,
        "{text}"
    );
}

/// Rows are printed as they are read, not after the whole result: a query
/// failing on its third batch has printed the first two (8,192 rows each)
/// in every streaming format.
#[test]
fn streaming_formats_print_batches_as_they_arrive() {
    const FAILS_LATE: &str = "SELECT CASE WHEN value <= 20000 THEN value \
         ELSE CAST(value::VARCHAR || 'x' AS INTEGER) END AS v \
         FROM generate_series(1, 100000)";
    for (format, first) in [
        ("csv", "v\n1\n2\n"),
        ("tsv", "v\n1\n2\n"),
        ("jsonl", "{\"v\":1}\n{\"v\":2}\n"),
        ("json", "[{\"v\":1},{\"v\":2}"),
        ("markdown", "| v |\n|---|\n| 1 |\n| 2 |\n"),
    ] {
        let out = s3sql(&["--format", format, "-c", FAILS_LATE], "");
        assert_eq!(out.status.code(), Some(1), "{format}");
        assert!(
            stderr(&out).contains("Cannot cast string '20001x'"),
            "{format}: {}",
            stderr(&out)
        );
        let text = stdout(&out);
        assert!(
            text.starts_with(first),
            "{format}: {}",
            &text[..text.len().min(80)]
        );
        let rows = text.matches("16384").count();
        assert_eq!(rows, 1, "{format}: row 16,384 printed {rows} times");
        assert!(
            stderr(&out).contains("the result above is incomplete: 16384 rows printed"),
            "{format}: {}",
            stderr(&out)
        );
    }
}

/// `s3sql -c ... | head -1`: the reader closes the pipe after a line, and
/// s3sql ends quietly with 0, as `seq` does, the statements after it not
/// run; it said "Error: ... Broken pipe" and exited 1 (review-8c #16).
#[test]
fn a_reader_closing_the_pipe_ends_the_run_quietly() {
    use std::io::BufRead;
    const BIG: &str = "SELECT value AS v, repeat('x', 50) AS pad FROM generate_series(1, 2000000)";
    for format in ["csv", "jsonl", "markdown"] {
        let home = tempfile::tempdir().unwrap();
        let marker = home.path().join("second.csv");
        let second = format!("COPY (SELECT 1 AS one) TO '{}'", marker.display());
        let args = ["--format", format, "-c", BIG, "-c", &second];
        let mut child = spawn(&args, home.path(), Stdio::null());
        let mut rows = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        rows.read_line(&mut first).unwrap();
        drop(rows);
        let out = child.wait_with_output().unwrap();
        assert!(!first.is_empty(), "{format}");
        assert_eq!(out.status.code(), Some(0), "{format}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{format}");
        assert!(!marker.exists(), "{format}: the statement after it ran");
    }
}

/// A result longer than 40 rows shows in a table as DuckDB's shell shows
/// it: the first 20, a row of `…`, the last 20, and how many there were.
#[test]
fn a_long_table_shows_its_first_and_last_rows() {
    let out = s3sql(
        &["-c", "SELECT value AS n FROM generate_series(1, 100000)"],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let cells: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .map(|l| l.trim_end_matches('|').trim())
        .collect();
    assert!(cells.len() <= 50, "{} rows printed", cells.len());
    let mut expected: Vec<String> = vec!["n".into()];
    expected.extend((1..=20).map(|n| n.to_string()));
    expected.push("…".into());
    expected.extend((99_981..=100_000).map(|n| n.to_string()));
    assert_eq!(cells, expected, "{text}");
    assert!(text.ends_with("\n100000 rows (40 shown)\n"), "{text}");
}

/// `-c` and `-f` split statements where the shell does: a `;` in a
/// string, a quoted name, a backtick-quoted key or a comment ends nothing.
#[test]
fn semicolons_in_strings_names_and_comments_do_not_split() {
    let sql = "SELECT 'a;b' AS s; SELECT 1 AS \"x;y\" -- c;\n; /* ; */ SELECT 2 AS `k;z`;";
    let expected = "s\na;b\nx;y\n1\nk;z\n2\n";
    let out = s3sql(&["--format", "csv", "-c", sql], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), expected);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("q.sql");
    std::fs::write(&file, sql).unwrap();
    let out = s3sql(&["--format", "csv", "-f", file.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), expected);
}

#[test]
fn commands_run_in_order_in_one_session() {
    let out = s3sql(
        &[
            "--format",
            "csv",
            "-c",
            "CREATE VIEW v AS SELECT 41 AS x",
            "-c",
            "SELECT x + 1 AS y FROM v",
        ],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "y\n42\n");
}

#[test]
fn sql_from_a_file_and_from_stdin_and_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("q.sql");
    std::fs::write(&file, "SELECT 1 AS a;\nSELECT 2 AS b;\n").unwrap();
    let out = s3sql(&["--format", "csv", "-f", file.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "a\n1\nb\n2\n");

    let piped = s3sql(&["--format", "jsonl"], "SELECT 'x' AS s;");
    assert!(piped.status.success(), "{}", stderr(&piped));
    assert_eq!(stdout(&piped), "{\"s\":\"x\"}\n");

    let target = dir.path().join("out.csv");
    let written = s3sql(
        &[
            "--format",
            "csv",
            "-o",
            target.to_str().unwrap(),
            "-c",
            "SELECT 3 AS c",
        ],
        "",
    );
    assert!(written.status.success(), "{}", stderr(&written));
    assert_eq!(stdout(&written), "");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "c\n3\n");
}

/// A script on stdin or in `-f` runs dot commands as the shell's prompt
/// does, as DuckDB's shell runs them from piped input and files: a line
/// starting with `.` where a statement would start (review-8d #17: a
/// syntax error). `.read` files may hold them too; `.quit` ends the run;
/// an unknown one is an error that stops the script.
#[test]
fn dot_commands_run_in_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let inner = dir.path().join("inner.sql");
    std::fs::write(&inner, ".mode jsonl\nSELECT 2 AS b;\n").unwrap();
    let script = format!(
        "-- report\n.mode csv\nSELECT 1 AS a;\n.read {}\n.timer on\nSELECT 3\n  AS c\n",
        inner.display()
    );
    let file = dir.path().join("script.sql");
    std::fs::write(&file, &script).unwrap();
    for out in [
        s3sql(&[], &script),
        s3sql(&["-f", file.to_str().unwrap()], ""),
    ] {
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out), "a\n1\n{\"b\":2}\n{\"c\":3}\n");
        assert!(stderr(&out).contains("Run Time: "), "{}", stderr(&out));
    }

    let quits = s3sql(
        &["--format", "csv"],
        "SELECT 1 AS a;\n.quit\nSELECT 2 AS b;\n",
    );
    assert!(quits.status.success(), "{}", stderr(&quits));
    assert_eq!(stdout(&quits), "a\n1\n");

    let unknown = s3sql(&["--format", "csv"], ".mdoe csv\nSELECT 2 AS b;\n");
    assert_eq!(unknown.status.code(), Some(1), "{}", stderr(&unknown));
    assert!(stderr(&unknown).contains(".mdoe"), "{}", stderr(&unknown));
    assert_eq!(stdout(&unknown), "");

    // A syntax error names the line of the script it is on.
    let bad = s3sql(&[], "SELECT 1 AS a;\n.mode csv\nSELECT\n  = 1;\n");
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("LINE 4:   = 1"), "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("Line: 4, Column: 3"),
        "{}",
        stderr(&bad)
    );

    // `-c` of a dot command, as `duckdb -c`.
    let c = s3sql(&["-c", ".mode csv", "-c", "SELECT 1 AS a"], "");
    assert!(c.status.success(), "{}", stderr(&c));
    assert_eq!(stdout(&c), "a\n1\n");
}

/// The boxed table and markdown show a value as DuckDB's shell does, the
/// text `--format csv` prints too (review-8d #16: arrow's
/// `2024-01-01T10:00:00`, hex and `1 days 2 hours`).
#[test]
fn tables_show_values_as_duckdb_shows_them() {
    let sql = "SELECT TIMESTAMP '2024-01-01 10:00:00' AS ts, arrow_cast('ab', 'Binary') AS bl, \
               INTERVAL '1 day 2 hours' AS iv, NULL AS n";
    for format in ["table", "markdown"] {
        let out = s3sql(&["--format", format, "-c", sql], "");
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        for shown in ["2024-01-01 10:00:00 ", " ab ", " 1 day 02:00:00 ", " NULL "] {
            assert!(text.contains(shown), "{format}: {shown:?} in {text}");
        }
    }
}

/// `-c` takes SQL that starts with a comment, as `duckdb -c` does
/// (review-8d #13: clap took it for an option, exit 2).
#[test]
fn a_command_may_start_with_a_comment() {
    let out = s3sql(
        &["--format", "csv", "-c", "-- daily report\nSELECT 1 AS a"],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "a\n1\n");
}

/// A Markdown table keeps one cell per column and one line per row when a
/// column name holds `|` or a value a line break (review-8d #5).
#[test]
fn markdown_cells_hold_pipes_and_line_breaks() {
    let out = s3sql(
        &[
            "--format",
            "markdown",
            "-c",
            "SELECT 'a|b' AS \"p|q\", E'x\\ny' AS nl",
        ],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "| p\\|q | nl |\n|---|---|\n| a\\|b | x<br>y |\n"
    );
}

/// `-o` loses nothing (review-8d #4): a file that is also a `-f` script is
/// refused as a usage error before anything runs, and an existing file is
/// left as it was by a run that fails before printing a result.
#[test]
fn the_output_file_is_touched_only_by_a_result() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("same.sql");
    std::fs::write(&script, "SELECT 42 AS x;\n").unwrap();
    let path = script.to_str().unwrap();
    let same = s3sql(&["-o", path, "-f", path], "");
    assert_eq!(same.status.code(), Some(2), "{}", stderr(&same));
    assert!(stderr(&same).contains("same.sql"), "{}", stderr(&same));
    assert_eq!(
        std::fs::read_to_string(&script).unwrap(),
        "SELECT 42 AS x;\n"
    );

    let kept = dir.path().join("keep.txt");
    std::fs::write(&kept, "precious\n").unwrap();
    let failed = s3sql(&["-o", kept.to_str().unwrap(), "-c", "SELECT nope"], "");
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "precious\n");

    let written = s3sql(
        &[
            "--format",
            "csv",
            "-o",
            kept.to_str().unwrap(),
            "-c",
            "SELECT 7 AS n",
        ],
        "",
    );
    assert!(written.status.success(), "{}", stderr(&written));
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "n\n7\n");
}

#[test]
fn exit_codes_and_errors_on_stderr() {
    let bad_sql = s3sql(&["-c", "SELEC 1"], "");
    assert_eq!(bad_sql.status.code(), Some(1));
    assert!(
        stderr(&bad_sql).starts_with("Error: "),
        "{}",
        stderr(&bad_sql)
    );
    assert!(stderr(&bad_sql).contains("SELEC"), "{}", stderr(&bad_sql));
    assert_eq!(stdout(&bad_sql), "");

    let missing_column = s3sql(&["-c", "SELECT nope FROM (SELECT 1 AS a)"], "");
    assert_eq!(missing_column.status.code(), Some(1));
    assert!(
        stderr(&missing_column).contains("nope"),
        "{}",
        stderr(&missing_column)
    );

    let usage = s3sql(&["--format", "yaml", "-c", "SELECT 1"], "");
    assert_eq!(usage.status.code(), Some(2));
    assert!(stderr(&usage).contains("yaml"), "{}", stderr(&usage));

    let stops = s3sql(
        &[
            "--format",
            "csv",
            "-c",
            "SELECT 1 AS a",
            "-c",
            "SELEC",
            "-c",
            "SELECT 2 AS b",
        ],
        "",
    );
    assert_eq!(stops.status.code(), Some(1));
    assert_eq!(stdout(&stops), "a\n1\n");
}

/// A syntax error shows the line it is on and a caret under the spot,
/// as DuckDB's shell does.
#[test]
fn syntax_errors_point_at_the_spot() {
    let out = s3sql(
        &["-c", "SELECT 1;\nSELECT a,\n  b FROM t WHERE x = = 1"],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "LINE 3:   b FROM t WHERE x = = 1")
        .unwrap_or_else(|| panic!("no LINE 3 in {err}"));
    // The caret sits under the second `=`.
    let caret = lines[at + 1];
    let column = lines[at].find("= = 1").unwrap() + "= ".len();
    assert_eq!(
        caret.trim_end(),
        format!("{}^", " ".repeat(column)),
        "{err}"
    );
}

/// A malformed CREATE SECRET or SET of a secret setting is an error that
/// never shows the secret: not in the message, not in the echoed line.
#[test]
fn malformed_secret_statements_never_echo_the_secret() {
    const SECRET: &str = "wJalrXUtnFEMI";
    let statements = [
        "SET s3_secret_access_key 'wJalrXUtnFEMI'",
        "SET s3_secret_access_key = wJalrXUtnFEMI-xyz",
        "SET s3_session_token = 'ok' 'wJalrXUtnFEMI'",
        "CREATE SECRET (TYPE s3, KEY_ID 'x', SECRET 'wJalrXUtnFEMI' REGION 'y')",
        "CREATE SECRET (TYPE s3, KEY_ID 'x', SECRET wJalrXUtnFEMI-x)",
        "CREATE SECRET (TYPE s3, KEY_ID 'x', SECRET 'wJalrXUtnFEMI', SESSION_TOKEN)",
        "CREATE SECRET (TYPE s3, KEY_ID 'x', SECRET 'ok') 'wJalrXUtnFEMI'",
        // The secret on a line of its own, the error on that line.
        "CREATE SECRET s (\n TYPE s3,\n KEY_ID 'x',\n SECRET\n 'wJalrXUtnFEMI' garbage\n)",
        // On the line after a comment, or split over lines (review-s27 F11).
        "CREATE SECRET s (TYPE s3, SECRET -- c\n wJalrXUtnFEMI x)",
        "CREATE SECRET s (TYPE s3, SECRET /* a, b */\n wJalrXUtnFEMI x)",
        "CREATE SECRET s (TYPE s3, SECRET abc\n wJalrXUtnFEMI)",
        // Commented out (review-s28 R1), or after a quoted value.
        "CREATE SECRET s (TYPE s3, /* SECRET wJalrXUtnFEMI */ SECRET 'x' garbage)",
        "CREATE SECRET s (TYPE s3, SECRET 'x' garbage) -- was SECRET wJalrXUtnFEMI",
        "CREATE SECRET s (TYPE s3, SECRET 'x' garbage) -- was 'wJalrXUtnFEMI'",
        "CREATE SECRET s (TYPE s3, SECRET 'a' wJalrXUtnFEMI)",
        // EXPLAIN would plan or echo them.
        "EXPLAIN CREATE SECRET (TYPE s3, SECRET 'wJalrXUtnFEMI')",
        "EXPLAIN SET s3_secret_access_key = 'wJalrXUtnFEMI'",
        "EXPLAIN ANALYZE CREATE OR REPLACE PERSISTENT SECRET x (TYPE s3, SECRET 'wJalrXUtnFEMI')",
    ];
    for sql in statements {
        let out = s3sql(&["-c", sql], "");
        assert_eq!(out.status.code(), Some(1), "{sql}");
        let err = stderr(&out);
        assert!(err.starts_with("Error: "), "{sql}: {err}");
        assert!(!err.contains(SECRET), "{sql} leaked: {err}");
    }
}

/// A credential written as an `E'...'` string with `\'` inside, in a
/// statement with a syntax error: the echoed line stars it whole (the
/// masker reads strings with the statement tokenizer, escapes included).
#[test]
fn escape_string_credentials_never_echo() {
    let statements = [
        "CREATE SECRET s (TYPE s3, KEY_ID 'AKIA', SECRET E'sup3r\\'LEAKME', REGION 'x' BOGUS)",
        "CREATE SECRET s (TYPE s3, KEY_ID E'AK\\'LEAKME', SECRET 'x', REGION 'x' BOGUS)",
        "SET s3_secret_access_key = E'ab\\'LEAKME' BOGUS",
    ];
    for sql in statements {
        let out = s3sql(&["-c", sql], "");
        assert_eq!(out.status.code(), Some(1), "{sql}");
        let (out, err) = (stdout(&out), stderr(&out));
        assert!(err.starts_with("Error: "), "{sql}: {err}");
        assert!(
            !err.contains("LEAKME") && !out.contains("LEAKME"),
            "{sql} leaked: {err}{out}"
        );
    }
}

/// A closed `E'...'` string with an escape DuckDB refuses is a syntax
/// error naming the escape, not "unterminated".
#[test]
fn a_bad_escape_in_an_escape_string_is_named() {
    for (sql, escape) in [
        ("SELECT E'\\0' AS z", "\\0"),
        ("SELECT E'ok\\400' AS z", "\\400"),
        ("SELECT E'\\u00' AS z", "\\u00"),
        ("SELECT E'\\uD800' AS z", "\\uD800"),
    ] {
        let out = s3sql(&["-c", sql], "");
        assert_eq!(out.status.code(), Some(1), "{sql}");
        let err = stderr(&out);
        assert!(
            err.contains(escape) && !err.contains("nterminated"),
            "{sql}: {err}"
        );
    }
}

/// csv and tsv print LIST, STRUCT and MAP as DuckDB's text, as its COPY
/// writes them (its shell's csv mode prints the same); they failed after
/// the header. DuckDB 1.5.5's COPY of this query: `"[1, 2]",{'a': 1},{k=v},""`.
#[test]
fn csv_and_tsv_print_nested_values_as_duckdb() {
    let sql = "SELECT [1,2] AS l, {'a': 1} AS s, MAP {'k': 'v'} AS m, '' AS e";
    for (format, expected) in [
        ("csv", "l,s,m,e\n\"[1, 2]\",{'a': 1},{k=v},\"\"\n"),
        ("tsv", "l\ts\tm\te\n[1, 2]\t{'a': 1}\t{k=v}\t\"\"\n"),
    ] {
        let out = s3sql(&["--format", format, "-c", sql], "");
        assert!(out.status.success(), "{format}: {}", stderr(&out));
        assert_eq!(stdout(&out), expected, "{format}");
    }
    // Its scope column is a LIST.
    let out = s3sql(&["--format", "csv", "-c", "FROM duckdb_secrets()"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("name,"), "{}", stdout(&out));
}

/// Statements on a terminal end when they are done: the progress line's
/// drawer no longer sleeps out its 200 ms wait after each (100 statements
/// took 4.1 to 6.8 s on a pty against 0.4 to 0.5 s piped). Generous: the
/// terminal may take three times as long as the pipe and 2 s more.
#[test]
fn statements_on_a_terminal_do_not_wait_for_the_progress_line() {
    const STATEMENTS: usize = 200;
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("many.sql");
    std::fs::write(&file, "SELECT 1 AS x;\n".repeat(STATEMENTS)).unwrap();
    let path = file.display().to_string();
    let started = std::time::Instant::now();
    let piped = s3sql(&["--format", "csv", "-f", &path], "");
    let piped_took = started.elapsed();
    assert!(piped.status.success(), "{}", stderr(&piped));
    let binary = env!("CARGO_BIN_EXE_s3sql");
    let started = std::time::Instant::now();
    let out = on_a_terminal(&format!("'{binary}' --format csv -f '{path}'"))
        .env("XDG_CONFIG_HOME", work.path())
        .env("HOME", work.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("script(1) from util-linux runs s3sql on a pseudo-terminal");
    let took = started.elapsed();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    let answers = shown.lines().filter(|l| l.trim_end() == "1").count();
    assert_eq!(answers, STATEMENTS, "{shown}");
    assert!(
        took < piped_took * 3 + std::time::Duration::from_secs(2),
        "{STATEMENTS} statements took {took:?} on a terminal, {piped_took:?} piped"
    );
}

/// Runs the binary with `args` in `dir`, with a private config directory.
fn s3sql_in(dir: &std::path::Path, args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_s3sql"))
        .args(args)
        .current_dir(dir)
        .env("XDG_CONFIG_HOME", home.path())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// A relative path is shown as written and gives hive columns from the
/// part written only, as DuckDB 1.5.5 does (answers below are its own):
/// a working directory under `k=v/` adds no `k`; an absolute path does.
#[test]
fn relative_paths_are_named_as_written_and_ignore_the_working_directory() {
    // `year=2023/`: a partition of the same name in the working directory
    // neither names the column nor prunes the file. Glob characters in the
    // working directory are its own text, not wildcards.
    for parent in ["k=v", "year=2023", "cw[1]", "a*b", "b\\s?"] {
        relative_paths_under(parent);
    }
}

/// Relative paths read from a working directory under `parent/k=v/work`.
fn relative_paths_under(parent: &str) {
    let root = tempfile::tempdir().unwrap();
    let base = root.path().join(parent).join("k=v");
    let work = base.join("work");
    std::fs::create_dir_all(work.join("data/year=2024")).unwrap();
    std::fs::create_dir_all(base.join("other")).unwrap();
    std::fs::create_dir_all(root.path().join("abs/k=v")).unwrap();
    std::fs::write(work.join("data/year=2024/x.csv"), "a\n1\n").unwrap();
    std::fs::write(base.join("other/y.csv"), "a\n2\n").unwrap();
    std::fs::write(root.path().join("abs/k=v/y.csv"), "a\n2\n").unwrap();
    let absolute = root.path().join("abs/k=v/y.csv");
    let absolute = absolute.to_str().unwrap();
    let cases = [
        (
            "SELECT a, filename, year FROM read_csv('data/*/*.csv', filename = true)".to_owned(),
            "a,filename,year\n1,data/year=2024/x.csv,2024\n".to_owned(),
        ),
        (
            "SELECT a, year FROM 'data/*/x.csv' WHERE year = 2024".to_owned(),
            "a,year\n1,2024\n".to_owned(),
        ),
        (
            "SELECT * FROM read_csv('../other/y.csv', filename = true)".to_owned(),
            "a,filename\n2,../other/y.csv\n".to_owned(),
        ),
        (
            "SELECT * FROM 'data/year=2024/x.csv'".to_owned(),
            "a,year\n1,2024\n".to_owned(),
        ),
        (
            "SELECT * FROM glob('./data/*/x.csv')".to_owned(),
            "file\n./data/year=2024/x.csv\n".to_owned(),
        ),
        (
            format!("SELECT a, filename, k FROM read_csv('file://{absolute}', filename = true)"),
            format!("a,filename,k\n2,{absolute},v\n"),
        ),
    ];
    for (sql, expected) in cases {
        let out = s3sql_in(&work, &["--format", "csv", "-c", &sql]);
        assert!(out.status.success(), "{parent}: {sql}: {}", stderr(&out));
        assert_eq!(stdout(&out), expected, "{parent}: {sql}");
    }
}

/// `CREATE SECRET t (...)` for the test target.
fn create_secret(target: &s3sql_testkit::S3Target) -> String {
    let host = target
        .endpoint
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    format!(
        "CREATE SECRET t (TYPE s3, KEY_ID '{}', SECRET '{}', ENDPOINT '{host}', URL_STYLE 'path', USE_SSL {}, REGION '{}')",
        target.access_key_id,
        target.secret_access_key,
        target.endpoint.starts_with("https://"),
        target.region
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn queries_a_file_on_s3_with_a_secret() {
    let (target, client) = target_client().await;
    let key = target.key("cli/nums.csv");
    client
        .put_object(
            &target.bucket,
            &key,
            bytes::Bytes::from_static(b"n,word\n1,one\n2,two\n"),
            &PutObjectRequest::default(),
        )
        .await
        .unwrap();
    let secret = create_secret(&target);
    let query = format!(
        "SELECT word FROM 's3://{}/{key}' WHERE n = 2",
        target.bucket
    );
    let missing = format!("SELECT * FROM 's3://{}/{key}.missing'", target.bucket);
    let (out, failed, refused) = tokio::task::spawn_blocking(move || {
        (
            s3sql(&["--format", "csv", "-c", &secret, "-c", &query], ""),
            // Errors after the secret signed requests: a missing object...
            s3sql(&["-c", &secret, "-c", &query, "-c", &missing], ""),
            // ...and a syntax error echoing the line that holds it.
            s3sql(&["-c", &format!("{secret}; SELEC")], ""),
        )
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Success\ntrue\nword\ntwo\n");
    // The secret never shows, where there is something to show it: a
    // successful run prints nothing on stderr (review-8d T1).
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    assert!(stderr(&failed).contains(".missing"), "{}", stderr(&failed));
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("LINE 1: CREATE SECRET t (TYPE s3, KEY_ID"),
        "{}",
        stderr(&refused)
    );
    for run in [&out, &failed, &refused] {
        let shown = format!("{}{}", stdout(run), stderr(run));
        assert!(!shown.contains(&target.secret_access_key), "{shown}");
    }
}

/// A scan long enough to be seen (a few MB of CSV, summed) shows its
/// objects, bytes read and rate on a terminal's stderr, erased before the
/// result; piped, stderr holds no trace of it.
#[tokio::test(flavor = "multi_thread")]
async fn a_long_scan_shows_its_progress_on_a_terminal_and_never_in_piped_output() {
    let (target, client) = target_client().await;
    let key = target.key("cli/progress.csv");
    let mut csv = String::from("n,word\n");
    for i in 0..400_000 {
        csv.push_str(&format!("{i},word{}\n", i % 97));
    }
    client
        .put_object(
            &target.bucket,
            &key,
            bytes::Bytes::from(csv),
            &PutObjectRequest::default(),
        )
        .await
        .unwrap();
    let secret = create_secret(&target);
    let query = format!(
        "SELECT sum(n) AS total, count(DISTINCT word) AS words FROM 's3://{}/{key}'",
        target.bucket
    );
    let (secret2, query2) = (secret.clone(), query.clone());
    let piped = tokio::task::spawn_blocking(move || {
        s3sql(&["--format", "csv", "-c", &secret2, "-c", &query2], "")
    })
    .await
    .unwrap();
    assert!(piped.status.success(), "{}", stderr(&piped));
    assert_eq!(
        stdout(&piped),
        "Success\ntrue\ntotal,words\n79999800000,97\n"
    );
    assert!(!stderr(&piped).contains("scan:"), "{}", stderr(&piped));
    assert!(!stderr(&piped).contains('\x1b'), "{}", stderr(&piped));
    // On a pseudo-terminal (script(1)): drawn, then erased before the
    // result is printed. The object comes through a proxy at 1 MB/s, so
    // the scan outlasts the line's delay however fast the machine is (at
    // full speed a quick one finished before the first draw).
    let proxy = target.fault_proxy();
    proxy.push_rule(
        FaultRule::new(Fault::Throttle {
            bytes_per_second: 1_000_000,
        })
        .path_contains("progress.csv")
        .always(),
    );
    let secret = secret.replace(
        target
            .endpoint
            .trim_start_matches("http://")
            .trim_start_matches("https://"),
        &proxy.addr().to_string(),
    );
    let work = tempfile::tempdir().unwrap();
    let binary = env!("CARGO_BIN_EXE_s3sql");
    let command = format!("'{binary}' --format csv -c \"{secret}\" -c \"{query}\"");
    let out = tokio::task::spawn_blocking(move || {
        on_a_terminal(&command)
            .env("XDG_CONFIG_HOME", work.path())
            .env("HOME", work.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("script(1) from util-linux runs s3sql on a pseudo-terminal")
    })
    .await
    .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    let drawn = shown
        .find("scan: 1 object (")
        .unwrap_or_else(|| panic!("{shown:?}"));
    assert!(
        shown[drawn..].contains(" read, ") && shown[drawn..].contains("/s"),
        "{shown:?}"
    );
    let erased = shown
        .rfind("\r\x1b[K")
        .unwrap_or_else(|| panic!("{shown:?}"));
    let result = shown
        .find("79999800000,97")
        .unwrap_or_else(|| panic!("{shown:?}"));
    assert!(drawn < erased && erased < result, "{shown:?}");
}

#[path = "cli_integration/copy.rs"]
mod copy;
#[path = "cli_integration/repl.rs"]
mod repl;

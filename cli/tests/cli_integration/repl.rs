//! The interactive shell through a real pseudo-terminal: `script(1)`
//! (util-linux, on every Linux) runs `s3sql` on a pty, and the test types
//! one line at a time, waiting for each prompt as a person would (rustyline
//! drops input typed ahead of its prompt, as terminals do).

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// A shell session on a pty, and everything it has printed.
struct Terminal {
    child: Child,
    input: ChildStdin,
    output: Receiver<Vec<u8>>,
    seen: String,
}

impl Terminal {
    fn start(home: &std::path::Path) -> Self {
        Self::start_in(home, &home.join("state"), home)
    }

    /// The shell with `XDG_STATE_HOME` set to `state`, run in `directory`.
    fn start_in(
        home: &std::path::Path,
        state: &std::path::Path,
        directory: &std::path::Path,
    ) -> Self {
        let binary = env!("CARGO_BIN_EXE_s3sql");
        let mut child = super::on_a_terminal(&format!("'{binary}'"))
            .current_dir(directory)
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_STATE_HOME", state)
            .env("TERM", "dumb")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("script(1) from util-linux runs the REPL on a pseudo-terminal");
        let input = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (send, output) = channel();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buffer) {
                if n == 0 || send.send(buffer[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            input,
            output,
            seen: String::new(),
        }
    }

    /// The `s3sql` process under `script(1)` (its child, or the child of
    /// the shell `script` started).
    fn s3sql_pid(&self) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut parents = vec![self.child.id()];
        loop {
            let mut found = None;
            for entry in std::fs::read_dir("/proc").unwrap().flatten() {
                let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                    continue;
                };
                // pid (comm) state ppid ...
                let Some((head, rest)) = stat.rsplit_once(") ") else {
                    continue;
                };
                let ppid: u32 = rest.split(' ').nth(1).unwrap().parse().unwrap();
                if !parents.contains(&ppid) {
                    continue;
                }
                let pid: u32 = head.split(' ').next().unwrap().parse().unwrap();
                if head.ends_with("(s3sql") {
                    found = Some(pid);
                } else if !parents.contains(&pid) {
                    parents.push(pid);
                }
            }
            if let Some(pid) = found {
                return pid;
            }
            assert!(
                Instant::now() < deadline,
                "no s3sql process under script(1)"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the output since the last wait contains `text`, and
    /// returns that output.
    fn wait_for(&mut self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(at) = self.seen.find(text) {
                let upto = at + text.len();
                let before = self.seen[..upto].to_owned();
                self.seen.drain(..upto);
                return before;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(bytes) => self.seen.push_str(&String::from_utf8_lossy(&bytes)),
                Err(_) => panic!(
                    "no {text:?} within 30 s; the terminal shows:\n{}",
                    self.seen
                ),
            }
        }
    }

    /// Types one line and presses Enter.
    fn type_line(&mut self, line: &str) {
        self.input.write_all(line.as_bytes()).unwrap();
        self.input.write_all(b"\r").unwrap();
        self.input.flush().unwrap();
    }
}

const PROMPT: &str = "s3sql> ";
const MORE: &str = "...> ";

#[test]
fn a_session_through_a_pseudo_terminal() {
    let home = tempfile::tempdir().unwrap();
    let mut term = Terminal::start(home.path());
    let banner = term.wait_for(PROMPT);
    assert!(banner.contains(".help"), "{banner}");

    // A statement over two lines: the second prompt says it goes on.
    term.type_line("SELECT 41 + 1");
    term.wait_for(MORE);
    term.type_line("  AS answer;");
    let shown = term.wait_for(PROMPT);
    assert!(shown.contains("answer") && shown.contains("42"), "{shown}");

    term.type_line(".mode csv");
    term.wait_for(PROMPT);
    term.type_line(".timer on");
    term.wait_for(PROMPT);
    term.type_line("SELECT 'x,y' AS pair;");
    let shown = term.wait_for(PROMPT);
    assert!(shown.contains("pair\r\n\"x,y\""), "{shown:?}");
    assert!(shown.contains("Run Time: "), "{shown}");

    // An error is reported and the session goes on.
    // (The terminal echoes the typed line: look for the error's own words.)
    term.type_line("SELECT * FROM no_such_table;");
    let shown = term.wait_for(PROMPT);
    assert!(
        shown.contains("Error") && shown.contains("no_such_table' not found"),
        "{shown}"
    );

    // A statement carrying a secret is recalled in the session but never
    // written to the history file.
    term.type_line("CREATE SECRET h (TYPE s3, KEY_ID 'AKIDHISTORY', SECRET 'HistorySecret123');");
    term.wait_for(PROMPT);

    term.type_line(".quit");
    let status = term.child.wait().unwrap();
    assert!(status.success(), "{status}");

    let history = std::fs::read_to_string(home.path().join("state/s3sql/history")).unwrap();
    assert!(history.contains("SELECT 'x,y' AS pair;"), "{history}");
    assert!(history.contains("AS answer;"), "{history}");
    assert!(!history.contains("HistorySecret123"), "{history}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let path = home.path().join("state/s3sql/history");
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "history is readable by others: {mode:o}");
    }
}

/// A relative XDG_STATE_HOME is ignored, as XDG says (review-8d #12):
/// the history goes to `~/.s3sql_history`, not into whatever directory the
/// shell ran in (a git checkout, say).
#[test]
fn a_relative_state_home_is_ignored() {
    let home = tempfile::tempdir().unwrap();
    let directory = tempfile::tempdir().unwrap();
    let mut term = Terminal::start_in(
        home.path(),
        std::path::Path::new("state-rel"),
        directory.path(),
    );
    term.wait_for(PROMPT);
    term.type_line("SELECT 'relative' AS state;");
    term.wait_for(PROMPT);
    term.type_line(".quit");
    let status = term.child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(
        !directory.path().join("state-rel").exists(),
        "history written under the working directory"
    );
    let history = std::fs::read_to_string(home.path().join(".s3sql_history")).unwrap();
    assert!(history.contains("'relative'"), "{history}");
}

/// Ctrl-C during a query (a real SIGINT to the process; the file is read
/// through the throttling proxy, so the query would take minutes) stops
/// that query only: the shell says so, prompts again and runs the next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cancels_the_running_query_and_returns_to_the_prompt() {
    use s3sql_s3_client::PutObjectRequest;
    use s3sql_testkit::{Fault, FaultRule};

    let (target, client) = super::target_client().await;
    let key = target.key("cli/slow.csv");
    let mut csv = String::from("n,pad\n");
    for n in 0..20_000 {
        csv.push_str(&format!("{n},{}\n", "x".repeat(90)));
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
    let proxy = target.fault_proxy();
    proxy.push_rule(
        FaultRule::new(Fault::Throttle {
            bytes_per_second: 10_000,
        })
        .path_contains("slow.csv")
        .always(),
    );
    let secret = format!(
        "CREATE SECRET t (TYPE s3, KEY_ID '{}', SECRET '{}', ENDPOINT '{}', URL_STYLE 'path', USE_SSL false, REGION '{}');",
        target.access_key_id,
        target.secret_access_key,
        proxy.addr(),
        target.region
    );
    let query = format!("SELECT count(*) AS n FROM 's3://{}/{key}';", target.bucket);
    let session = tokio::task::spawn_blocking(move || {
        let home = tempfile::tempdir().unwrap();
        let mut term = Terminal::start(home.path());
        term.wait_for(PROMPT);
        term.type_line(&secret);
        term.wait_for(PROMPT);
        term.type_line(&query);
        // The query is under way once the file is being read.
        std::thread::sleep(Duration::from_secs(2));
        let pid = term.s3sql_pid();
        super::common::sigint(pid);
        let shown = term.wait_for(PROMPT);
        assert!(shown.contains("interrupted"), "{shown}");
        // Ctrl-C typed at the terminal: its driver sends SIGINT to the
        // foreground process group.
        term.type_line(&query);
        std::thread::sleep(Duration::from_secs(2));
        term.input.write_all(b"\x03").unwrap();
        term.input.flush().unwrap();
        let shown = term.wait_for(PROMPT);
        assert!(shown.contains("interrupted"), "{shown}");
        term.type_line("SELECT 41 + 1 AS answer;");
        let shown = term.wait_for(PROMPT);
        assert!(shown.contains("42"), "{shown}");
        term.type_line(".quit");
        term.child.wait().unwrap()
    });
    let status = session.await.unwrap();
    assert!(status.success(), "{status}");
    assert!(
        proxy.recorded().iter().any(|r| r.path.contains("slow.csv")),
        "the query never read the file"
    );
}

/// A result cut off by an error leaves nothing behind for the next
/// statement: in every streaming format the next result is printed alone,
/// not after the tail of the failed one.
#[test]
fn a_failed_result_leaves_nothing_in_front_of_the_next() {
    let home = tempfile::tempdir().unwrap();
    let mut term = Terminal::start(home.path());
    term.wait_for(PROMPT);
    for (mode, answer) in [
        ("json", "[{\"x\":42}]"),
        ("jsonl", "{\"x\":42}"),
        ("markdown", "| 42 |"),
    ] {
        term.type_line(&format!(".mode {mode}"));
        term.wait_for(PROMPT);
        term.type_line(
            "SELECT CASE WHEN value <= 20000 THEN value \
             ELSE CAST(value::VARCHAR || 'x' AS INTEGER) END AS v \
             FROM generate_series(1, 100000);",
        );
        let shown = term.wait_for(PROMPT);
        assert!(
            shown.contains("Cannot cast string '20001x'"),
            "{mode}: {shown}"
        );
        term.type_line("SELECT 42 AS x;");
        let shown = term.wait_for(PROMPT);
        let (_echo, result) = shown.split_once("SELECT 42 AS x;").unwrap();
        assert!(
            !result.contains("\"v\"") && !result.contains("16384"),
            "{mode}: {result:?}"
        );
        assert!(result.contains(answer), "{mode}: {result:?}");
    }
    term.type_line(".quit");
    assert!(term.child.wait().unwrap().success());
}

/// A closed `E'...'` string with an escape DuckDB refuses ends its
/// statement with an error naming the escape; the shell goes on (it read
/// the string as open and swallowed every later line, `.quit` too).
#[test]
fn a_bad_escape_ends_the_statement_and_the_shell_goes_on() {
    let home = tempfile::tempdir().unwrap();
    let mut term = Terminal::start(home.path());
    term.wait_for(PROMPT);
    term.type_line("SELECT E'\\0' AS z;");
    let shown = term.wait_for(PROMPT);
    assert!(shown.contains("invalid escape \\0"), "{shown}");
    term.type_line("SELECT 42 AS x;");
    let shown = term.wait_for(PROMPT);
    assert!(shown.contains("42"), "{shown}");
    term.type_line(".quit");
    assert!(term.child.wait().unwrap().success());
}

//! The interactive shell through a real pseudo-terminal: `script(1)`
//! (util-linux, on every Linux) runs `s3sql` on a pty, and the test types
//! one line at a time, waiting for each prompt as a person would (rustyline
//! drops input typed ahead of its prompt, as terminals do).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
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
        let binary = env!("CARGO_BIN_EXE_s3sql");
        let mut child = Command::new("script")
            .args(["--quiet", "--return", "--command", binary, "/dev/null"])
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_STATE_HOME", home.join("state"))
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

//! The interactive shell: rustyline with a history file; the typed lines
//! are read as every script's are ([`crate::shell`]: statements over
//! lines until one ends in `;`, DuckDB-style dot commands).

use std::io::Write;
use std::path::PathBuf;

use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use crate::exec;
use crate::shell::{Action, Flow, Input, Shell};

/// `$XDG_STATE_HOME/s3sql/history` or `~/.s3sql_history` (a relative
/// XDG_STATE_HOME is ignored).
fn history_file() -> Option<PathBuf> {
    if let Some(state) = s3sql_secrets::xdg_base_dir("XDG_STATE_HOME") {
        return Some(state.join("s3sql").join("history"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".s3sql_history"))
}

/// Runs the shell until `.quit` or end of input.
pub async fn run(shell: &mut Shell<'_>) -> anyhow::Result<()> {
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
    loop {
        let prompt = if input.is_empty() {
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
        let action = input.feed(&line);
        if let Action::Run(sql) = &action {
            let entry = sql.trim_end();
            let _ = editor.add_history_entry(entry);
            // Recalled in this session, never written to disk.
            if !s3sql_planner::may_hold_secret(entry) {
                remember(history.as_ref(), entry);
            }
        }
        if matches!(action, Action::Run(_) | Action::Read(_)) {
            // A Ctrl-C typed at the prompt stops nothing that follows.
            crate::interrupt::forget_pending().await;
        }
        match shell.act(action, 1).await {
            Ok(Flow::Go) => {}
            Ok(Flow::Quit) => break,
            Err(error) => eprintln!("{}", exec::describe(error.as_ref())),
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

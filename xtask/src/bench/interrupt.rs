//! Cleaning up after a benchmark that is interrupted. A benchmark's server
//! keeps its objects (hundreds of MB) in a temporary directory that is
//! removed when the server is dropped; SIGINT or SIGTERM (`timeout`, Ctrl-C)
//! ends the process without running drops, which left those directories in
//! `/tmp` run after run.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

static DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static LISTENER: Once = Once::new();

/// Removes `dir` if the process is interrupted before it ends normally.
pub fn remove_on_signal(dir: &Path) {
    DIRS.lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .push(dir.to_path_buf());
    LISTENER.call_once(|| {
        std::thread::spawn(listen);
    });
}

/// Waits for SIGINT or SIGTERM, removes the registered directories and exits
/// as a shell reports a death by SIGINT (130).
fn listen() {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
    else {
        eprintln!("xtask bench: no signal listener; an interrupted run leaves its data in /tmp");
        return;
    };
    let interrupted = runtime.block_on(async {
        let Ok(mut terminate) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            return tokio::signal::ctrl_c().await.is_ok();
        };
        tokio::select! {
            ctrl_c = tokio::signal::ctrl_c() => ctrl_c.is_ok(),
            _ = terminate.recv() => true,
        }
    });
    if !interrupted {
        return;
    }
    let dirs = DIRS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    for dir in dirs.iter() {
        if let Err(error) = std::fs::remove_dir_all(dir) {
            eprintln!("xtask bench: could not remove {}: {error}", dir.display());
        }
    }
    eprintln!(
        "xtask bench: interrupted; removed {} temporary directories",
        dirs.len()
    );
    std::process::exit(130);
}

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
    let mut removed = 0;
    for dir in dirs.iter() {
        match remove_while_written(dir) {
            Ok(()) => removed += 1,
            Err(error) => eprintln!("xtask bench: could not remove {}: {error}", dir.display()),
        }
    }
    // The placeholders go last, moments before the process (and with it the
    // server) ends.
    for dir in dirs.iter() {
        let _ = std::fs::remove_file(dir);
    }
    eprintln!(
        "xtask bench: interrupted; removed {removed} of {} temporary directories",
        dirs.len()
    );
    std::process::exit(130);
}

/// Removes the tree at `dir` while the server, still running, writes into
/// it, and leaves an empty file in its place for the caller to remove.
///
/// A plain `remove_dir_all` fails with "Directory not empty" when a write
/// lands between its listing and its last `rmdir`, and the server's
/// `create_dir_all` recreates a removed root. So the tree is renamed aside,
/// where writes made by path under the old name cannot land, and a file
/// takes the old name, which no `create_dir_all` can turn into a directory.
fn remove_while_written(dir: &Path) -> std::io::Result<()> {
    const ATTEMPTS: u32 = 20;
    for attempt in 0..ATTEMPTS {
        let aside = dir.with_extension(format!("removing-{attempt}"));
        std::fs::rename(dir, &aside)?;
        match std::fs::File::create_new(dir) {
            Ok(_) => return std::fs::remove_dir_all(&aside),
            // The server recreated the directory first: set that aside too.
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                std::fs::remove_dir_all(&aside)?;
            }
            Err(error) => return Err(error),
        }
    }
    Err(std::io::Error::other(format!(
        "recreated by the server {ATTEMPTS} times while it was removed"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// The server keeps writing (nested keys, as s3s-fs does with
    /// `create_dir_all`) while the interrupted run removes its directory.
    #[test]
    fn a_directory_written_while_it_is_removed_is_removed() {
        for round in 0..10 {
            let root = tempfile::tempdir().unwrap();
            let dir = root.path().join("server");
            std::fs::create_dir(&dir).unwrap();
            let writing = Arc::new(AtomicBool::new(true));
            let writer = {
                let (dir, writing) = (dir.clone(), writing.clone());
                std::thread::spawn(move || {
                    let mut i = 0u64;
                    while writing.load(Ordering::Relaxed) {
                        let parent = dir.join(format!("bucket/p={}", i % 50));
                        if std::fs::create_dir_all(&parent).is_ok() {
                            let _ = std::fs::write(parent.join(format!("{i}.parquet")), b"x");
                        }
                        i += 1;
                    }
                })
            };
            std::thread::sleep(std::time::Duration::from_millis(30));
            let removed = remove_while_written(&dir);
            writing.store(false, Ordering::Relaxed);
            writer.join().unwrap();
            assert!(removed.is_ok(), "round {round}: {removed:?}");
            assert!(dir.is_file(), "round {round}: a placeholder keeps the name");
            let left: Vec<_> = std::fs::read_dir(root.path()).unwrap().collect();
            assert_eq!(left.len(), 1, "round {round}: only the placeholder is left");
        }
    }
}

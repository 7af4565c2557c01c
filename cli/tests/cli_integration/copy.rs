//! COPY through the binary: what only a process shows (its working
//! directory, signals, the terminal).

use std::process::{Command, Stdio};

use super::stderr;

/// Runs `s3sql -c sql` in `dir`, with a private config directory.
fn s3sql_in(dir: &std::path::Path, sql: &str) -> std::process::Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_s3sql"))
        .args(["-c", sql])
        .current_dir(dir)
        .env("XDG_CONFIG_HOME", home.path())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn overwrite_refuses_the_current_directory_and_its_ancestors() {
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("work");
    std::fs::create_dir(&work).unwrap();
    std::fs::write(work.join("keep.txt"), "mine").unwrap();
    for target in [".", "..", "./", work.to_str().unwrap()] {
        let out = s3sql_in(
            &work,
            &format!("COPY (SELECT 1 AS a, 2 AS b) TO '{target}' (PARTITION_BY (a), OVERWRITE)"),
        );
        assert_eq!(out.status.code(), Some(1), "{target}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("OVERWRITE refuses"),
            "{target}: {}",
            stderr(&out)
        );
        assert_eq!(
            std::fs::read_to_string(work.join("keep.txt")).unwrap(),
            "mine",
            "{target}"
        );
    }
    // A directory of its own is fine.
    let out = s3sql_in(
        &work,
        "COPY (SELECT 1 AS a, 2 AS b) TO 'out' (PARTITION_BY (a), OVERWRITE)",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(work.join("out/a=1/data_0.csv").exists());
}

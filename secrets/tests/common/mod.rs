//! Tests of what reads the process environment (the AWS SDK's providers,
//! the default secret directory) re-run themselves in a child process with
//! exactly the variables they set: the parent passes only if the child ran
//! its one test and it passed.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::Path;
use std::process::Command;

const CHILD_VAR: &str = "S3SQL_SECRETS_TEST_CHILD";

/// Whether this process is the child running `test`.
pub fn is_child(test: &str) -> bool {
    std::env::var(CHILD_VAR).as_deref() == Ok(test)
}

/// Runs `test` of this binary in a child process with `env` and HOME set,
/// and fails unless the child ran exactly that test and it passed.
pub fn run_in_child(test: &str, home: &Path, env: &[(&str, String)]) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"]);
    for (name, _) in std::env::vars() {
        if name.starts_with("AWS_") {
            cmd.env_remove(name);
        }
    }
    // In HOME, so nothing a child writes by a relative path lands in the
    // source tree.
    cmd.current_dir(home)
        .env(CHILD_VAR, test)
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        // Off EC2 the SDK would wait for 169.254.169.254; tests that want
        // IMDS point it at their own server.
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (name, value) in env {
        cmd.env(name, value);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child run of {test} failed:\n{stdout}\n{stderr}"
    );
}

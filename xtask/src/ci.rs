//! `cargo xtask ci`: everything CI checks, in the order that fails fastest.

use std::process::Command;

use anyhow::Result;

use crate::moto::MotoServer;
use crate::venv::{run as run_command, workspace_root};

/// Variables that point the test suite at an external endpoint.
const TARGET_VARS: [&str; 5] = [
    "S3SQL_TEST_ENDPOINT",
    "S3SQL_TEST_KEY_ID",
    "S3SQL_TEST_SECRET",
    "S3SQL_TEST_REGION",
    "S3SQL_TEST_BUCKET",
];

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(workspace_root());
    cmd
}

fn step(name: &str) {
    eprintln!("\n==> xtask ci: {name}");
}

/// Runs every check; the first failure stops the run with a non-zero exit.
pub fn run() -> Result<()> {
    step("rustfmt");
    run_command(cargo().args(["fmt", "--all", "--", "--check"]))?;
    step("clippy");
    run_command(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]))?;

    step("moto server");
    let moto = MotoServer::start()?;
    let user_endpoint = std::env::var("S3SQL_TEST_ENDPOINT").ok();

    step("tests against the in-process s3s-fs server");
    let mut tests = cargo();
    tests.args(["test", "--workspace", "--all-features"]);
    for var in TARGET_VARS {
        tests.env_remove(var);
    }
    tests.env("S3SQL_MOTO_ENDPOINT", moto.endpoint());
    run_command(&mut tests)?;

    step(&format!("tests against moto ({})", moto.endpoint()));
    let mut tests = cargo();
    tests
        .args(["test", "--workspace", "--all-features", "--tests"])
        .env("S3SQL_MOTO_ENDPOINT", moto.endpoint())
        .env("S3SQL_TEST_ENDPOINT", moto.endpoint())
        .env("S3SQL_TEST_KEY_ID", "testing")
        .env("S3SQL_TEST_SECRET", "testing")
        .env("S3SQL_TEST_REGION", "us-east-1")
        .env_remove("S3SQL_TEST_BUCKET");
    run_command(&mut tests)?;

    if let Some(endpoint) = user_endpoint {
        step(&format!("tests against S3SQL_TEST_ENDPOINT ({endpoint})"));
        let mut tests = cargo();
        tests
            .args(["test", "--workspace", "--all-features", "--tests"])
            .env("S3SQL_MOTO_ENDPOINT", moto.endpoint());
        run_command(&mut tests)?;
    }
    eprintln!("\nxtask ci: all checks passed");
    Ok(())
}

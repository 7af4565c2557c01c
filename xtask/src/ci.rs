//! `cargo xtask ci`: everything CI checks, in the order that fails fastest.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::moto::{self, MotoServer};
use crate::venv::{self, run as run_command, workspace_root};

/// Variables that point the test suite at an external endpoint.
const TARGET_VARS: [&str; 5] = [
    "S3SQL_TEST_ENDPOINT",
    "S3SQL_TEST_KEY_ID",
    "S3SQL_TEST_SECRET",
    "S3SQL_TEST_REGION",
    "S3SQL_TEST_BUCKET",
];

/// Cargo for CI's builds: not incremental, since a CI build is built once
/// and its incremental caches were 2.0 of a cold run's 5.5 GB of `target/`
/// (the project's CI ran out of disk).
fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(workspace_root())
        .env("CARGO_INCREMENTAL", "0");
    cmd
}

/// Prints each phase's start and, when the next begins, how long the last
/// one took, so growth in CI time is visible phase by phase.
struct Phases {
    started: Instant,
    current: Option<(String, Instant)>,
    done: Vec<(String, Duration)>,
}

impl Phases {
    fn new() -> Self {
        Phases {
            started: Instant::now(),
            current: None,
            done: Vec::new(),
        }
    }

    fn step(&mut self, name: &str) {
        self.finish_current();
        eprintln!("\n==> xtask ci: {name}");
        self.current = Some((name.to_owned(), Instant::now()));
    }

    fn finish_current(&mut self) {
        if let Some((name, at)) = self.current.take() {
            let took = at.elapsed();
            eprintln!("==> xtask ci: {name}: {:.0} s", took.as_secs_f64());
            self.done.push((name, took));
        }
    }

    fn summary(mut self) {
        self.finish_current();
        eprintln!("\nxtask ci: phase times");
        for (name, took) in &self.done {
            eprintln!("  {:>6.0} s  {name}", took.as_secs_f64());
        }
        eprintln!("  {:>6.0} s  total", self.started.elapsed().as_secs_f64());
    }
}

/// The `s3sql` binary the test phase built (the CLI's integration tests run
/// it), so the demo runs what was tested without a build of its own.
fn tested_cli() -> Result<std::path::PathBuf> {
    let binary = venv::target_dir().join("debug").join("s3sql");
    if !binary.is_file() {
        anyhow::bail!(
            "{} is missing after the test phase; the CLI's tests should have built it",
            binary.display()
        );
    }
    Ok(binary)
}

/// Runs every check; the first failure stops the run with a non-zero exit.
pub fn run() -> Result<()> {
    let mut phases = Phases::new();
    phases.step("rustfmt");
    run_command(cargo().args(["fmt", "--all", "--", "--check"]))?;
    phases.step("features: one build of DataFusion for xtask, s3sql and the tests");
    crate::features::check(cargo)?;
    phases.step("clippy");
    run_command(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]))?;

    phases.step("peers: moto server, DuckDB");
    let venv = venv::ensure(&[venv::MOTO, venv::DUCKDB, venv::DUCKDB_HTTPFS])?;
    let moto = MotoServer::start()?;
    let user_endpoint = std::env::var("S3SQL_TEST_ENDPOINT").ok();
    // Every pass can reach both peers: moto's STS and DuckDB for comparisons.
    let tests = |args: &[&str]| {
        let mut cmd = cargo();
        cmd.arg("test")
            .args(["--workspace", "--all-features"])
            .args(args)
            .env("S3SQL_MOTO_ENDPOINT", moto.endpoint())
            .env("S3SQL_DUCKDB_PYTHON", venv.join("bin/python"));
        cmd
    };

    phases.step("tests against the in-process s3s-fs server");
    let mut s3s = tests(&[]);
    for var in TARGET_VARS {
        s3s.env_remove(var);
    }
    run_command(&mut s3s)?;

    phases.step(&format!("tests against moto ({})", moto.endpoint()));
    run_command(
        tests(&["--tests"])
            .env("S3SQL_TEST_ENDPOINT", moto.endpoint())
            .env("S3SQL_TEST_KEY_ID", "testing")
            .env("S3SQL_TEST_SECRET", moto::SECRET)
            .env("S3SQL_TEST_REGION", "us-east-1")
            .env_remove("S3SQL_TEST_BUCKET"),
    )?;

    if let Some(endpoint) = user_endpoint {
        phases.step(&format!("tests against S3SQL_TEST_ENDPOINT ({endpoint})"));
        run_command(&mut tests(&["--tests"]))?;
    }

    // README's first command, so it cannot rot: every example of both
    // reference pages through the real binary.
    phases.step("cargo xtask demo");
    crate::demo::run_with(&tested_cli()?)?;
    phases.summary();
    eprintln!("\nxtask ci: all checks passed");
    Ok(())
}

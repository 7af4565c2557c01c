//! `cargo xtask bench <what>`: s3sql next to a reference client on the same
//! loopback server in the same run, reported as ratios with peak memory.

mod copy;
mod curl;
mod glob;
mod interrupt;
mod process;
mod query;
mod transfer;
pub mod worker;

use std::sync::Arc;

use anyhow::{Result, bail};
use s3sql_s3_client::{ClientConfig, Credentials, S3Client, StaticCredentials, UrlStyle};
use s3sql_testkit::S3Server;

/// Dispatches `cargo xtask bench <what> [options]`. The `cargo xtask` alias
/// builds in debug; numbers from a debug build mean nothing, so the
/// benchmark re-runs itself from a release build.
pub fn run(args: &[String]) -> Result<()> {
    if cfg!(debug_assertions) {
        return rerun_in_release(args);
    }
    match args.first().map(String::as_str) {
        Some("get") | None => transfer::run(&args[args.len().min(1)..]),
        Some("glob") => glob::run(&args[1..]),
        Some("query") => query::run(&args[1..]),
        Some("copy") => copy::run(&args[1..]),
        Some(other) => bail!("unknown benchmark '{other}'; available: get, glob, query, copy"),
    }
}

/// Starts the benchmark's in-process server, whose data directory is removed
/// also when the run is interrupted.
pub fn start_server() -> S3Server {
    let server = S3Server::start();
    interrupt::remove_on_signal(server.root());
    server
}

/// A temporary directory removed also when the run is interrupted.
pub fn temp_dir() -> Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    interrupt::remove_on_signal(dir.path());
    Ok(dir)
}

/// A path-style client of a testkit server at `endpoint` (the server
/// itself, or a proxy in front of it), signed with the server's keys.
pub fn client(endpoint: String, server: &S3Server) -> Result<S3Client> {
    let config = ClientConfig::default()
        .with_endpoint(endpoint)
        .with_url_style(UrlStyle::Path);
    let creds = Credentials::new(server.access_key_id(), server.secret_access_key());
    Ok(S3Client::new(config, Arc::new(StaticCredentials(creds)))?)
}

/// Throughput in MiB/s.
pub fn mib_per_sec(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / secs.max(1e-9)
}

fn rerun_in_release(args: &[String]) -> Result<()> {
    let root = crate::venv::workspace_root();
    eprintln!("xtask bench: building the release binary");
    crate::venv::run(
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(&root)
            .args(["build", "--release", "--quiet", "--package", "xtask"]),
    )?;
    crate::venv::run(
        std::process::Command::new(crate::venv::target_dir().join("release/xtask"))
            .arg("bench")
            .args(args),
    )
}

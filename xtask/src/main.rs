//! Developer tasks, run as `cargo xtask <task>` (see `.cargo/config.toml`).
//!
//! - `demo`: a local S3 server with sample data and DuckDB's read examples
//!   run through the `s3sql` binary (README's first command).
//! - `server`: that server in the foreground, with the secret to paste.
//! - `ci`: what `.ci/run` runs: rustfmt check, clippy with `-D warnings`,
//!   and every test, once against the in-process s3s-fs server and once
//!   against moto's server (installed into `target/ci-venv`), plus once more
//!   against `S3SQL_TEST_ENDPOINT` when that is set.
//! - `bench get`: s3sql's download and multipart upload of a large object
//!   next to parallel `curl --aws-sigv4`, on one in-process server.
//! - `moto`: start moto's server on loopback and print the variables that
//!   point the test suite at it (for running one test by hand).

mod bench;
mod ci;
mod demo;
mod features;
mod moto;
mod venv;

use anyhow::{Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("demo") => demo::demo(&args[1..]),
        Some("server") => demo::server(&args[1..]),
        Some("ci") => ci::run(),
        Some("moto") => moto::serve_forever(),
        Some("bench") => bench::run(&args[1..]),
        Some("bench-worker") => bench::worker::run(&args[1..]),
        _ => bail!(
            "usage: cargo xtask <task>\n\n  demo [--release]  local S3 server + sample data + DuckDB's read examples through s3sql\n  server  that server in the foreground; prints the CREATE SECRET to paste\n  ci    fmt + clippy + all tests against s3s-fs and moto (what .ci/run runs)\n  moto  run moto's S3 server on loopback and print the test variables\n  bench get [--size-mib N] [--runs N]  download/upload throughput: s3sql vs parallel curl\n  bench query [--runs N]  read workloads: the s3sql binary vs DuckDB httpfs, whole processes\n  bench glob [--runs N]  pattern expansion over 100,800 keys: s3sql vs DuckDB glob()"
        ),
    }
}

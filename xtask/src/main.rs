//! Developer tasks, run as `cargo xtask <task>` (see `.cargo/config.toml`).
//!
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
mod moto;
mod venv;

use anyhow::{Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci::run(),
        Some("moto") => moto::serve_forever(),
        Some("bench") => bench::run(&args[1..]),
        Some("bench-worker") => bench::worker::run(&args[1..]),
        _ => bail!(
            "usage: cargo xtask <task>\n\n  ci    fmt + clippy + all tests against s3s-fs and moto (what .ci/run runs)\n  moto  run moto's S3 server on loopback and print the test variables\n  bench get [--size-mib N] [--runs N]  download/upload throughput: s3sql vs parallel curl\n  bench glob [--runs N]  pattern expansion over 100,800 keys: s3sql vs DuckDB glob()"
        ),
    }
}

//! `cargo xtask bench <what>`: s3sql next to a reference client on the same
//! loopback server in the same run, reported as ratios with peak memory.

mod curl;
mod transfer;
pub mod worker;

use anyhow::{Result, bail};

/// Dispatches `cargo xtask bench <what> [options]`.
pub fn run(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("get") | None => transfer::run(&args[args.len().min(1)..]),
        Some(other) => bail!("unknown benchmark '{other}'; available: get"),
    }
}

/// Throughput in MiB/s.
pub fn mib_per_sec(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / secs.max(1e-9)
}

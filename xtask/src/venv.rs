//! A Python virtual environment under `target/`, made and filled on first
//! use, so a fresh machine needs nothing installed by hand.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// moto's version: a second, independently written S3 implementation.
pub const MOTO: &str = "moto[server]==5.2.5";

/// DuckDB and its httpfs extension, the peer of the benchmarks (DESIGN.md).
pub const DUCKDB: &str = "duckdb==1.5.5";
/// The httpfs extension as a file, loaded with `LOAD '<path>'`.
pub const DUCKDB_HTTPFS: &str = "duckdb-extension-httpfs==1.5.5";

/// The workspace root (xtask lives one level below it).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Cargo's target directory: `CARGO_TARGET_DIR` when set (relative to the
/// workspace, as cargo reads it), else `target/`. Binaries that xtask builds
/// and then runs are found here, not at a fixed `target/`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => workspace_root().join(dir),
        _ => workspace_root().join("target"),
    }
}

/// Returns `target/ci-venv`, creating it and installing `packages` unless a
/// marker says exactly these packages are already there.
pub fn ensure(packages: &[&str]) -> Result<PathBuf> {
    let venv = target_dir().join("ci-venv");
    let marker = venv.join(".s3sql-packages");
    let wanted = packages.join("\n");
    let installed = std::fs::read_to_string(&marker).unwrap_or_default();
    if packages.iter().all(|p| installed.lines().any(|l| l == *p))
        && venv.join("bin/python").exists()
    {
        return Ok(venv);
    }
    if !venv.join("bin/python").exists() {
        eprintln!("xtask: creating {}", venv.display());
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))
            .context("python3 -m venv failed: install python3 with its venv module")?;
    }
    eprintln!("xtask: installing {}", packages.join(", "));
    run(Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(packages))
    .context("pip install failed: is the package registry reachable?")?;
    let mut all: Vec<&str> = installed.lines().collect();
    all.extend(wanted.lines());
    std::fs::write(&marker, all.join("\n"))?;
    Ok(venv)
}

/// Runs a command, failing with its name when it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("could not start {:?}", cmd.get_program()))?;
    if !status.success() {
        bail!("{:?} failed with {status}", cmd.get_program());
    }
    Ok(())
}

//! Whole processes measured the same way whoever they are: s3sql or DuckDB,
//! wall time and the child's peak RSS from `measure.py`, start-up included.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// One measured process.
pub struct Run {
    /// Wall time, seconds.
    pub wall_s: f64,
    /// Peak resident set, MiB.
    pub peak_mib: f64,
    /// What the process printed.
    pub stdout: String,
}

/// Runs commands under `measure.py`.
pub struct Meter {
    python: PathBuf,
    measure: PathBuf,
    out_file: PathBuf,
    runs: usize,
}

impl Meter {
    /// A meter using the venv's `python`, keeping stdout in `scratch`, and
    /// reporting the best of `runs`.
    pub fn new(python: &Path, scratch: &Path, runs: usize) -> Result<Self> {
        if runs == 0 {
            bail!("--runs must be at least 1");
        }
        Ok(Self {
            python: python.to_owned(),
            measure: crate::venv::workspace_root().join("xtask/src/bench/measure.py"),
            out_file: scratch.join("stdout"),
            runs,
        })
    }

    /// One run of `command`; a non-zero exit is an error with its output.
    pub fn once(&self, command: &mut Command) -> Result<Run> {
        let mut wrapper = Command::new(&self.python);
        wrapper
            .arg(&self.measure)
            .arg(&self.out_file)
            .arg(command.get_program());
        wrapper.args(command.get_args());
        for (k, v) in command.get_envs() {
            if let Some(v) = v {
                wrapper.env(k, v);
            }
        }
        let out = wrapper.output().context("could not run measure.py")?;
        let line = String::from_utf8_lossy(&out.stdout);
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [wall, kib, code] = fields[..] else {
            bail!(
                "measure.py printed {line:?}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let stdout = std::fs::read_to_string(&self.out_file)?;
        if code != "0" {
            bail!("{:?} exited with {code}: {stdout}", command.get_program());
        }
        Ok(Run {
            wall_s: wall.parse()?,
            peak_mib: kib.parse::<f64>()? / 1024.0,
            stdout,
        })
    }

    /// The best wall time of the runs of `make(i)` for run `i`, with the
    /// largest peak RSS of any of them.
    pub fn best_of(&self, make: &dyn Fn(usize) -> Command) -> Result<Run> {
        let mut best: Option<Run> = None;
        let mut peak: f64 = 0.0;
        for i in 0..self.runs {
            let run = self.once(&mut make(i))?;
            peak = peak.max(run.peak_mib);
            if best.as_ref().is_none_or(|b| run.wall_s < b.wall_s) {
                best = Some(run);
            }
        }
        let mut best = best.context("no runs")?;
        best.peak_mib = peak;
        Ok(best)
    }
}

/// The table's header line.
pub fn header(first: &str) {
    println!(
        "\n{:<40} {:>9} {:>9} {:>7} {:>11} {:>11}",
        first, "s3sql s", "DuckDB s", "ratio", "s3sql MiB", "DuckDB MiB"
    );
}

/// One table line: s3sql's run next to DuckDB's.
pub fn row(name: &str, ours: &Run, theirs: &Run) {
    println!(
        "{:<40} {:>9.3} {:>9.3} {:>6.2}× {:>11.0} {:>11.0}",
        name,
        ours.wall_s,
        theirs.wall_s,
        ours.wall_s / theirs.wall_s,
        ours.peak_mib,
        theirs.peak_mib
    );
}

/// What a SQL benchmark runs against: the release `s3sql`, DuckDB's
/// Python, one in-process server, and a config home holding a persistent
/// secret for it (DuckDB gets the same values on its command line).
pub struct Peers {
    /// The venv's Python, with DuckDB and httpfs.
    pub python: PathBuf,
    /// The release `s3sql` binary.
    pub binary: PathBuf,
    /// The server both talk to.
    pub server: s3sql_testkit::S3Server,
    /// `XDG_CONFIG_HOME` of every s3sql run.
    pub config_home: tempfile::TempDir,
}

impl Peers {
    /// Builds s3sql, makes the venv, starts the server, stores the secret.
    pub fn start() -> Result<Self> {
        let venv = crate::venv::ensure(&[crate::venv::DUCKDB, crate::venv::DUCKDB_HTTPFS])?;
        let binary = crate::demo::build_cli(true)?;
        let server = super::start_server();
        let config_home = super::temp_dir()?;
        let secret = format!(
            "CREATE PERSISTENT SECRET bench (TYPE s3, KEY_ID '{}', SECRET '{}', \
             REGION 'us-east-1', ENDPOINT '{}', URL_STYLE 'path', USE_SSL false)",
            server.access_key_id(),
            server.secret_access_key(),
            server.addr()
        );
        crate::venv::run(
            Command::new(&binary)
                .env("XDG_CONFIG_HOME", config_home.path())
                .args(["-c", &secret]),
        )?;
        Ok(Self {
            python: venv.join("bin/python"),
            binary,
            server,
            config_home,
        })
    }

    /// `s3sql --format csv -c sql`.
    pub fn s3sql(&self, sql: &str) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.env("XDG_CONFIG_HOME", self.config_home.path())
            .args(["--format", "csv", "-c", sql]);
        cmd
    }

    /// `sql` run by DuckDB + httpfs, rows printed as CSV without a header.
    pub fn duckdb(&self, sql: &str) -> Command {
        let script = crate::venv::workspace_root().join("xtask/src/bench/duckdb_query.py");
        let mut cmd = Command::new(&self.python);
        cmd.arg(script).arg(self.server.addr().to_string()).args([
            self.server.access_key_id(),
            self.server.secret_access_key(),
            sql,
        ]);
        cmd
    }
}

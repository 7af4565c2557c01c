//! The tour: DuckDB's read examples, as its "S3 API Support" page writes
//! them, run through the real `s3sql` binary against the demo server.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::venv::{run as run_command, workspace_root};

/// One stop of the tour: what the reference page calls it, and the SQL.
const EXAMPLES: &[(&str, &str)] = &[
    (
        "Reading (first rows of a 5M-row Parquet file)",
        "SELECT * FROM 's3://demo/trips/trips.parquet' LIMIT 5",
    ),
    (
        "An aggregate over the whole file",
        "SELECT payment_type, count(*) AS trips, round(avg(fare), 2) AS avg_fare \
         FROM 's3://demo/trips/trips.parquet' GROUP BY payment_type ORDER BY trips DESC",
    ),
    (
        "Reading multiple files",
        "SELECT * FROM read_parquet(['s3://demo/multi/file1.parquet', 's3://demo/multi/file2.parquet'])",
    ),
    (
        "Globbing",
        "SELECT trip_id, city FROM read_parquet('s3://demo/multi/*.parquet')",
    ),
    (
        "Globbing with *, ? and [0-9]",
        "SELECT count(*) FROM read_parquet('s3://demo/folder*/100?/t[0-9].parquet')",
    ),
    (
        "The filename option",
        "SELECT trip_id, fare, filename FROM read_parquet('s3://demo/multi/*.parquet', filename = true)",
    ),
    (
        "Hive partitioning, pruned to one month of each year",
        "SELECT year, month, count(*) AS orders, round(sum(amount), 2) AS revenue \
         FROM read_parquet('s3://demo/sales/*/*/*.parquet', hive_partitioning = true) \
         WHERE month = 6 GROUP BY year, month ORDER BY year",
    ),
    (
        "CSV, dialect and types sniffed",
        "SELECT city, count(*) AS trips, max(pickup_at) AS last_pickup \
         FROM 's3://demo/trips_csv/trips.csv' GROUP BY city ORDER BY city",
    ),
    (
        "Newline-delimited JSON with a nested object",
        "SELECT kind, count(*) AS events, round(sum(amount), 2) AS amount \
         FROM read_json('s3://demo/events/*.jsonl') GROUP BY kind ORDER BY kind",
    ),
    (
        "glob() as a table",
        "SELECT file FROM glob('s3://demo/folder*/**/*.parquet')",
    ),
    (
        "Secrets are listed redacted",
        "SELECT name, type, provider, persistent, scope, secret_string FROM duckdb_secrets()",
    ),
];

/// Builds `s3sql` and returns the binary's path.
pub fn build_cli(release: bool) -> Result<PathBuf> {
    let root = workspace_root();
    eprintln!(
        "xtask: building s3sql{}",
        if release { " (release)" } else { "" }
    );
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .current_dir(&root)
        .args(["build", "--quiet", "--package", "s3sql"]);
    if release {
        cargo.arg("--release");
    }
    run_command(&mut cargo)?;
    let profile = if release { "release" } else { "debug" };
    Ok(crate::venv::target_dir().join(profile).join("s3sql"))
}

/// Stores the demo secret persistently in a private config directory, then
/// runs every example in its own process, as a user would.
pub fn run(binary: &Path, create_secret: &str) -> Result<()> {
    let config_home = tempfile::tempdir().context("temp dir for the demo's secrets")?;
    let s3sql = |sql: &str| {
        let mut cmd = Command::new(binary);
        cmd.env("XDG_CONFIG_HOME", config_home.path())
            .args(["-c", sql]);
        cmd
    };
    println!("\n-- A persistent secret for the local server (SECRET is never shown again)");
    println!("{};", redact(create_secret));
    run_command(&mut s3sql(create_secret)).context("CREATE SECRET failed")?;

    let mut failed = Vec::new();
    for (title, sql) in EXAMPLES {
        println!("\n-- {title}\n{sql};");
        let started = Instant::now();
        let status = s3sql(sql)
            .status()
            .with_context(|| format!("could not start {}", binary.display()))?;
        println!("({:.2} s)", started.elapsed().as_secs_f64());
        if !status.success() {
            failed.push(*title);
        }
    }
    if !failed.is_empty() {
        bail!("{} example(s) failed: {}", failed.len(), failed.join("; "));
    }
    println!("\nAll {} examples ran.", EXAMPLES.len());
    Ok(())
}

/// The statement with the value of `SECRET '...'` replaced, for printing.
fn redact(create_secret: &str) -> String {
    match create_secret.split_once("SECRET '") {
        Some((head, tail)) => match tail.split_once('\'') {
            Some((_, rest)) => format!("{head}SECRET '<redacted>'{rest}"),
            None => create_secret.to_owned(),
        },
        None => create_secret.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn the_printed_statement_hides_the_secret() {
        let sql = "CREATE SECRET demo (TYPE s3, KEY_ID 'AK', SECRET 'hunter2', USE_SSL false)";
        let shown = redact(sql);
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("KEY_ID 'AK'"), "{shown}");
    }
}

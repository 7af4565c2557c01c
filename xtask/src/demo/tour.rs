//! The tour: the examples of DuckDB's "S3 API Support" page and MindsDB's
//! "Amazon S3" page, as they write them, run through the real `s3sql`
//! binary against the demo server: reads, writes with COPY, and a MindsDB
//! database. Each stop is one process, as a user would run it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::venv::{run as run_command, workspace_root};

/// One stop of the tour: what the reference page calls it, the statements
/// one `s3sql` process runs in order, and whether the last one must fail
/// (to show the error a user gets, which must name what to fix).
struct Stop {
    title: &'static str,
    statements: Vec<String>,
    fails: bool,
}

impl Stop {
    fn new(title: &'static str, statements: &[&str]) -> Stop {
        Stop {
            title,
            statements: statements.iter().map(|s| s.to_string()).collect(),
            fails: false,
        }
    }

    fn failing(title: &'static str, statements: &[&str]) -> Stop {
        Stop {
            fails: true,
            ..Stop::new(title, statements)
        }
    }
}

/// How the demo server is reached: what the MindsDB stops put in their
/// `PARAMETERS`, and what the printed statements hide.
pub struct Access {
    /// The server's access key id.
    pub key_id: String,
    /// The server's secret access key, never printed.
    pub secret: String,
    /// `http://host:port` of the server.
    pub endpoint_url: String,
}

/// DuckDB's read examples.
fn reads() -> Vec<Stop> {
    vec![
        Stop::new(
            "Reading (first rows of a 5M-row Parquet file)",
            &["SELECT * FROM 's3://demo/trips/trips.parquet' LIMIT 5"],
        ),
        Stop::new(
            "An aggregate over the whole file",
            &[
                "SELECT payment_type, count(*) AS trips, round(avg(fare), 2) AS avg_fare \
                 FROM 's3://demo/trips/trips.parquet' GROUP BY payment_type ORDER BY trips DESC",
            ],
        ),
        Stop::new(
            "Reading multiple files",
            &[
                "SELECT * FROM read_parquet(['s3://demo/multi/file1.parquet', 's3://demo/multi/file2.parquet'])",
            ],
        ),
        Stop::new(
            "Globbing",
            &["SELECT trip_id, city FROM read_parquet('s3://demo/multi/*.parquet')"],
        ),
        Stop::new(
            "Globbing with *, ? and [0-9]",
            &["SELECT count(*) FROM read_parquet('s3://demo/folder*/100?/t[0-9].parquet')"],
        ),
        Stop::new(
            "The filename option",
            &[
                "SELECT trip_id, fare, filename FROM read_parquet('s3://demo/multi/*.parquet', filename = true)",
            ],
        ),
        Stop::new(
            "Hive partitioning, pruned to one month of each year",
            &[
                "SELECT year, month, count(*) AS orders, round(sum(amount), 2) AS revenue \
                 FROM read_parquet('s3://demo/sales/*/*/*.parquet', hive_partitioning = true) \
                 WHERE month = 6 GROUP BY year, month ORDER BY year",
            ],
        ),
        Stop::new(
            "CSV, dialect and types sniffed",
            &[
                "SELECT city, count(*) AS trips, max(pickup_at) AS last_pickup \
                 FROM 's3://demo/trips_csv/trips.csv' GROUP BY city ORDER BY city",
            ],
        ),
        Stop::new(
            "Newline-delimited JSON with a nested object",
            &[
                "SELECT kind, count(*) AS events, round(sum(amount), 2) AS amount \
                 FROM read_json('s3://demo/events/*.jsonl') GROUP BY kind ORDER BY kind",
            ],
        ),
        Stop::new(
            "glob() as a table",
            &["SELECT file FROM glob('s3://demo/folder*/**/*.parquet')"],
        ),
        Stop::new(
            "Secrets are listed redacted",
            &[
                "SELECT name, type, provider, persistent, scope, secret_string FROM duckdb_secrets()",
            ],
        ),
    ]
}

/// DuckDB's write examples: COPY to one file, a partitioned COPY, the
/// existing-files check and `OVERWRITE_OR_IGNORE`.
fn writes() -> Vec<Stop> {
    const TABLE: &str = "CREATE TABLE trips AS SELECT trip_id, fare, city, payment_type \
                         FROM 's3://demo/trips/trips.parquet' WHERE trip_id < 100000";
    const PARTITIONED: &str = "COPY trips TO 's3://demo/partitioned' \
                               (FORMAT parquet, PARTITION_BY (city, payment_type))";
    vec![
        Stop::new(
            "Writing: COPY table_name TO 's3://bucket/filename.extension', then reading it back",
            &[
                TABLE,
                "COPY trips TO 's3://demo/out/trips.csv'",
                "SELECT count(*) AS trips, round(sum(fare), 2) AS fares FROM 's3://demo/out/trips.csv'",
            ],
        ),
        Stop::new(
            "Partitioned copy to S3, and the names of the files it wrote",
            &[
                TABLE,
                PARTITIONED,
                "SELECT file FROM glob('s3://demo/partitioned/city=Lisbon/*/*.parquet')",
            ],
        ),
        Stop::failing(
            "The check for existing files (the same COPY again fails, and says what to do)",
            &[TABLE, PARTITIONED],
        ),
        Stop::new(
            "OVERWRITE_OR_IGNORE forces the write; hive partitioning reads it back",
            &[
                TABLE,
                "COPY trips TO 's3://demo/partitioned' \
                 (FORMAT parquet, PARTITION_BY (city, payment_type), OVERWRITE_OR_IGNORE true)",
                "SELECT city, count(*) AS trips FROM read_parquet('s3://demo/partitioned/*/*/*.parquet', \
                 hive_partitioning = true) WHERE payment_type = 'cash' GROUP BY city ORDER BY city",
            ],
        ),
    ]
}

/// MindsDB's examples: the page's CREATE DATABASE (with its missing comma,
/// then mended and pointed at the demo server) and its query.
fn mindsdb(access: &Access) -> Vec<Stop> {
    let database = |comma: &str| {
        format!(
            "CREATE DATABASE s3_datasource\nWITH\n    engine = 's3',\n    parameters = {{\n      \
             \"aws_access_key_id\": \"{}\"{comma}\n      \"aws_secret_access_key\": \"{}\",\n      \
             \"region_name\": \"us-east-1\",\n      \"bucket\": \"demo\",\n      \
             \"endpoint_url\": \"{}\"\n    }}",
            access.key_id, access.secret, access.endpoint_url
        )
    };
    vec![
        Stop {
            title: "MindsDB: CREATE DATABASE as the page writes it (a comma is missing)",
            statements: vec![database("")],
            fails: true,
        },
        Stop {
            title: "MindsDB: the same, mended; the connection is checked before it is stored",
            statements: vec![database(",")],
            fails: false,
        },
        Stop::new(
            "MindsDB: an object by its key, in backticks",
            &["SELECT *\nFROM s3_datasource.`trips_csv/trips.csv`\nLIMIT 10"],
        ),
        Stop::new(
            "MindsDB: the files table",
            &["SELECT path, extension, size FROM s3_datasource.files \
                 WHERE path LIKE 'multi/%' ORDER BY path"],
        ),
    ]
}

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
/// runs every stop in its own process, as a user would.
pub fn run(binary: &Path, create_secret: &str, access: &Access) -> Result<()> {
    let config_home = tempfile::tempdir().context("temp dir for the demo's secrets")?;
    let s3sql = |statements: &[String]| {
        let mut cmd = Command::new(binary);
        cmd.env("XDG_CONFIG_HOME", config_home.path());
        for sql in statements {
            cmd.args(["-c", sql]);
        }
        cmd
    };
    println!("\n-- A persistent secret for the local server (SECRET is never shown again)");
    println!("{};", redact(create_secret, &access.secret));
    run_command(&mut s3sql(&[create_secret.to_owned()])).context("CREATE SECRET failed")?;

    let stops: Vec<Stop> = [reads(), writes(), mindsdb(access)]
        .into_iter()
        .flatten()
        .collect();
    let mut failed = Vec::new();
    for stop in &stops {
        println!("\n-- {}", stop.title);
        for sql in &stop.statements {
            println!("{};", redact(sql, &access.secret));
        }
        let started = Instant::now();
        let status = s3sql(&stop.statements)
            .status()
            .with_context(|| format!("could not start {}", binary.display()))?;
        println!("({:.2} s)", started.elapsed().as_secs_f64());
        if status.success() == stop.fails {
            failed.push(stop.title);
        }
    }
    if !failed.is_empty() {
        bail!(
            "{} stop(s) did not end as expected: {}",
            failed.len(),
            failed.join("; ")
        );
    }
    println!("\nAll {} stops ran as expected.", stops.len());
    Ok(())
}

/// The statement with every occurrence of the secret replaced, for printing.
fn redact(sql: &str, secret: &str) -> String {
    if secret.is_empty() {
        return sql.to_owned();
    }
    sql.replace(secret, "<redacted>")
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn the_printed_statement_hides_the_secret() {
        let sql = "CREATE SECRET demo (TYPE s3, KEY_ID 'AK', SECRET 'hunter2', USE_SSL false)";
        let shown = redact(sql, "hunter2");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("KEY_ID 'AK'"), "{shown}");
    }

    #[test]
    fn the_mindsdb_stops_hide_the_secret_and_keep_the_missing_comma() {
        let access = super::Access {
            key_id: "AKID".into(),
            secret: "s3cr3t/value".into(),
            endpoint_url: "http://127.0.0.1:9".into(),
        };
        let stops = super::mindsdb(&access);
        let broken = &stops[0].statements[0];
        assert!(broken.contains("\"AKID\"\n"), "{broken}");
        assert!(stops[1].statements[0].contains("\"AKID\",\n"));
        for stop in &stops {
            for sql in &stop.statements {
                assert!(!redact(sql, &access.secret).contains("s3cr3t"), "{sql}");
            }
        }
    }
}

//! `cargo xtask bench copy`: the write workloads of issue "Writes with
//! COPY", each a `COPY (generated rows) TO 's3://...'` run by the `s3sql`
//! binary and by DuckDB 1.5.5 + httpfs as whole processes against one
//! in-process server. Every run writes under its own prefix; what each tool
//! wrote is read back (row count, sum, partitions) and must agree with the
//! rows generated before any time is reported.

use anyhow::{Context, Result, bail};

use super::process::{self, Meter, Peers};

/// One workload: its name, the COPY's target under a run's prefix, its
/// options, the partition count (0: none), and how to read the result back.
struct Workload {
    name: &'static str,
    target: &'static str,
    options: &'static str,
    partitions: u64,
    read_back: &'static str,
}

const WORKLOADS: &[Workload] = &[
    Workload {
        name: "to one Parquet file",
        target: "one.parquet",
        options: "FORMAT parquet",
        partitions: 0,
        read_back: "read_parquet('{t}')",
    },
    Workload {
        name: "to 100 hive partitions (Parquet)",
        target: "p100",
        options: "FORMAT parquet, PARTITION_BY (part)",
        partitions: 100,
        read_back: "read_parquet('{t}/*/*.parquet', hive_partitioning = true)",
    },
    Workload {
        name: "to one CSV file",
        target: "one.csv",
        options: "FORMAT csv, HEADER true",
        partitions: 0,
        read_back: "read_csv('{t}')",
    },
    Workload {
        name: "to 200 hive partitions (peak RSS)",
        target: "p200",
        options: "FORMAT parquet, PARTITION_BY (part)",
        partitions: 200,
        read_back: "read_parquet('{t}/*/*.parquet', hive_partitioning = true)",
    },
];

/// Runs the benchmark. Options: `--rows N` (default 10,000,000) and
/// `--runs N` (default 3; best wall time, largest peak RSS).
pub fn run(args: &[String]) -> Result<()> {
    let mut rows: u64 = 10_000_000;
    let mut runs: usize = 3;
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value = args.next().context("a value after the option")?;
        match flag.as_str() {
            "--rows" => rows = value.parse()?,
            "--runs" => runs = value.parse()?,
            _ => bail!("usage: cargo xtask bench copy [--rows N] [--runs N]"),
        }
    }
    let peers = Peers::start()?;
    let meter = Meter::new(&peers.python, peers.config_home.path(), runs)?;
    // Sum of 0.25 * i for i < rows, exact in a double for these sizes.
    let expected_sum = 0.25 * (rows as f64) * (rows as f64 - 1.0) / 2.0;
    process::header(&format!("COPY {rows} rows (best of {runs})"));
    for w in WORKLOADS {
        let parts = w.partitions.max(1);
        let copy = |who: &str, run: usize| {
            format!(
                "COPY (SELECT i AS id, i % {parts} AS part, CAST(i AS DOUBLE) * 0.25 AS amount, \
                 'row-' || CAST(i AS VARCHAR) AS label FROM range({rows}) t(i)) \
                 TO 's3://bench/copy/{who}-{run}/{}' ({})",
                w.target, w.options
            )
        };
        let ours = meter
            .best_of(&|run| peers.s3sql(&copy("s3sql", run)))
            .with_context(|| format!("s3sql {}", w.name))?;
        let theirs = meter
            .best_of(&|run| peers.duckdb(&copy("duckdb", run)))
            .with_context(|| format!("DuckDB {}", w.name))?;
        for who in ["s3sql", "duckdb"] {
            let target = format!("s3://bench/copy/{who}-0/{}", w.target);
            let sql = format!(
                "SELECT count(*), sum(amount), count(DISTINCT part) FROM {}",
                w.read_back.replace("{t}", &target)
            );
            let out = meter.once(&mut peers.s3sql(&sql))?;
            check(w.name, who, &out.stdout, rows, expected_sum, parts)?;
        }
        process::row(w.name, &ours, &theirs);
    }
    println!(
        "\nratio = s3sql time / DuckDB time (below 1 is faster); goal ≤ 0.7, and peak RSS \
         below DuckDB's on the partitioned copies"
    );
    Ok(())
}

/// The read-back `count, sum, partitions` line (after s3sql's CSV header)
/// against what was generated.
fn check(name: &str, who: &str, out: &str, rows: u64, sum: f64, parts: u64) -> Result<()> {
    let line = out.lines().nth(1).unwrap_or_default();
    let fields: Vec<&str> = line.split(',').collect();
    let ok = match fields[..] {
        [count, total, distinct] => {
            count.parse::<u64>().ok() == Some(rows)
                && total
                    .parse::<f64>()
                    .is_ok_and(|t| (t - sum).abs() <= 1e-9 * sum.max(1.0))
                && distinct.parse::<u64>().ok() == Some(parts)
        }
        _ => false,
    };
    if !ok {
        bail!(
            "{name}: what {who} wrote reads back as {line:?}; expected {rows} rows, \
             sum {sum}, {parts} partition values"
        );
    }
    Ok(())
}

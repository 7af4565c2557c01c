//! `cargo xtask bench query`: the read workloads of issue "Query S3 with
//! SQL", each run by the `s3sql` binary and by DuckDB 1.5.5 + httpfs as
//! whole processes (start-up included) against one in-process server, in
//! one run. Both are measured by the same wrapper (`measure.py`: wall time
//! and the child's peak RSS), and their answers are compared before any
//! time is reported.

use anyhow::{Context, Result, bail};

use super::process::{self, Meter, Peers};
use crate::demo::data;

const BUCKET: &str = "bench";

/// One workload: its name, the SQL, and whether rows can be compared
/// (a LIMIT without ORDER BY may legitimately pick other rows).
struct Workload {
    name: &'static str,
    sql: &'static str,
    compare: bool,
}

const WORKLOADS: &[Workload] = &[
    Workload {
        name: "sum of one column, big Parquet",
        sql: "SELECT sum(fare) FROM 's3://bench/big/trips.parquet'",
        compare: true,
    },
    Workload {
        name: "group-by, big Parquet",
        sql: "SELECT city, payment_type, count(*), avg(distance_km) \
              FROM 's3://bench/big/trips.parquet' GROUP BY city, payment_type \
              ORDER BY city, payment_type",
        compare: true,
    },
    Workload {
        name: "1,000 small Parquet files by glob",
        sql: "SELECT count(*), sum(fare) FROM read_parquet('s3://bench/small/*.parquet')",
        compare: true,
    },
    Workload {
        name: "1M-row CSV aggregate",
        sql: "SELECT city, count(*), sum(fare) FROM 's3://bench/csv/trips.csv' \
              GROUP BY city ORDER BY city",
        compare: true,
    },
    Workload {
        name: "filter on a hive partition",
        sql: "SELECT count(*), sum(amount) \
              FROM read_parquet('s3://bench/sales/*/*/*.parquet', hive_partitioning = true) \
              WHERE year = 2024 AND month = 6",
        compare: true,
    },
    Workload {
        name: "LIMIT 10 on a big CSV",
        sql: "SELECT * FROM 's3://bench/csv_big/trips.csv' LIMIT 10",
        compare: false,
    },
];

/// Rows of the big Parquet file (about 400 MB).
const BIG_ROWS: usize = 10_000_000;
/// Rows of the big CSV (about 350 MB).
const BIG_CSV_ROWS: usize = 5_000_000;

/// Runs the benchmark. Options: `--runs N` (default 3; the best wall time
/// and the largest peak RSS are reported); `--serve` writes the data set
/// and keeps the server until Ctrl-C instead, so one workload can be
/// profiled (`perf record s3sql -c ...`) on the data the figures come from.
pub fn run(args: &[String]) -> Result<()> {
    let (runs, serve) = match args {
        [] => (3, false),
        [flag, n] if flag == "--runs" => (n.parse()?, false),
        [flag] if flag == "--serve" => (1, true),
        _ => bail!("usage: cargo xtask bench query [--runs N | --serve]"),
    };
    let peers = Peers::start()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let client = super::client(peers.server.endpoint(), &peers.server)?;
    eprintln!("xtask bench query: writing the data set");
    let bytes = rt.block_on(data::seed_bench(&client, BUCKET, BIG_ROWS, BIG_CSV_ROWS))?;
    eprintln!("xtask bench query: {:.0} MB written", bytes as f64 / 1e6);
    if serve {
        return serve_until_interrupted(&peers, &rt);
    }

    let meter = Meter::new(&peers.python, peers.config_home.path(), runs)?;
    process::header("workload (best of runs, whole process)");
    for w in WORKLOADS {
        let ours = meter
            .best_of(&|_| peers.s3sql(w.sql))
            .with_context(|| format!("s3sql on {:?}", w.name))?;
        let theirs = meter
            .best_of(&|_| peers.duckdb(w.sql))
            .with_context(|| format!("DuckDB on {:?}", w.name))?;
        if w.compare {
            same_answer(w.name, &ours.stdout, &theirs.stdout)?;
        }
        process::row(w.name, &ours, &theirs);
    }
    println!("\nratio = s3sql time / DuckDB time (below 1 is faster); goal ≤ 0.5");
    Ok(())
}

/// Prints how to run each workload against the seeded server (s3sql's
/// command, then DuckDB's), then waits
/// for Ctrl-C (the server and its data go with the process).
fn serve_until_interrupted(peers: &Peers, rt: &tokio::runtime::Runtime) -> Result<()> {
    println!(
        "S3 server on {} (Ctrl-C stops it); the secret is stored under \
         XDG_CONFIG_HOME={}",
        peers.server.endpoint(),
        peers.config_home.path().display()
    );
    for w in WORKLOADS {
        println!(
            "\n# {}\n{:?}\n{:?}",
            w.name,
            peers.s3sql(w.sql),
            peers.duckdb(w.sql)
        );
    }
    rt.block_on(tokio::signal::ctrl_c())?;
    Ok(())
}

/// Compares s3sql's CSV (with a header) with DuckDB's rows (without one):
/// numbers within a relative 1e-9 (sums of floats depend on their order),
/// everything else exactly.
fn same_answer(name: &str, ours: &str, theirs: &str) -> Result<()> {
    let ours: Vec<&str> = ours.lines().skip(1).collect();
    let theirs: Vec<&str> = theirs.lines().collect();
    let same_field = |a: &str, b: &str| match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => a == b,
    };
    let same = ours.len() == theirs.len()
        && ours.iter().zip(&theirs).all(|(a, b)| {
            let (a, b): (Vec<&str>, Vec<&str>) = (a.split(',').collect(), b.split(',').collect());
            a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| same_field(x, y))
        });
    if !same {
        bail!(
            "{name}: answers differ\ns3sql:\n{}\nDuckDB:\n{}",
            ours.join("\n"),
            theirs.join("\n")
        );
    }
    Ok(())
}

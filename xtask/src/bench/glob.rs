//! `cargo xtask bench glob`: expanding patterns over 100,800 keys in a
//! `year=/month=/day=/file` layout, s3sql's glob-list next to DuckDB
//! httpfs's `glob()`, on one in-process server. Both go through testkit's
//! proxy, which counts their requests the same way.

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use futures::{StreamExt, TryStreamExt};
use s3sql_glob_list::{ExpandOptions, GlobExpander};
use s3sql_s3_client::PutObjectRequest;
use s3sql_testkit::FaultProxy;

use super::client;

const BUCKET: &str = "globbench";
const PATTERNS: [(&str, &str); 3] = [
    ("one month", "year=2023/month=06/*/*.parquet"),
    ("one day across years", "year=*/month=06/day=15/*.parquet"),
    ("everything", "year=*/month=*/day=*/*.parquet"),
];

fn keys() -> Vec<String> {
    let mut keys = Vec::new();
    for year in 2020..=2024 {
        for month in 1..=12 {
            for day in 1..=28 {
                for file in 0..60 {
                    keys.push(format!(
                        "year={year}/month={month:02}/day={day:02}/file-{file:02}.parquet"
                    ));
                }
            }
        }
    }
    keys
}

/// Runs the benchmark. Option: `--runs N` (default 1: s3s-fs re-walks its
/// whole tree for every ListObjectsV2 page, so a flat listing of 100,800
/// keys costs minutes there, for both clients alike).
pub fn run(args: &[String]) -> Result<()> {
    let runs: usize = match args {
        [] => 1,
        [flag, n] if flag == "--runs" => n.parse()?,
        _ => bail!("usage: cargo xtask bench glob [--runs N]"),
    };
    let venv = crate::venv::ensure(&[crate::venv::DUCKDB, crate::venv::DUCKDB_HTTPFS])?;
    let server = super::start_server();
    let proxy = FaultProxy::start(server.addr());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let direct = client(server.endpoint(), &server)?;
    let keys = keys();
    eprintln!("xtask bench glob: uploading {} keys", keys.len());
    rt.block_on(async {
        direct.create_bucket(BUCKET).await?;
        let put = PutObjectRequest::default();
        futures::stream::iter(&keys)
            .map(|k| direct.put_object(BUCKET, k, bytes::Bytes::new(), &put))
            .buffer_unordered(64)
            .try_collect::<Vec<_>>()
            .await?;
        Ok::<_, anyhow::Error>(())
    })?;

    // s3sql, through the proxy.
    let via_proxy = client(proxy.endpoint(), &server)?;
    let mut ours = Vec::new();
    for (_, pattern) in PATTERNS {
        let url = format!("s3://{BUCKET}/{pattern}");
        let mut best = f64::MAX;
        let mut count = 0;
        let before = proxy.requests_seen();
        for _ in 0..runs {
            let expander = GlobExpander::new(Arc::new(via_proxy.clone()), ExpandOptions::default());
            let start = Instant::now();
            count = rt.block_on(expander.expand_all(&[url.as_str()]))?.len();
            best = best.min(start.elapsed().as_secs_f64() * 1000.0);
        }
        let requests = (proxy.requests_seen() - before) / runs;
        eprintln!("  s3sql  {pattern}: {count} files, {requests} requests, {best:.1} ms");
        ours.push((count, best, requests));
    }

    // DuckDB, through the same proxy.
    let script = crate::venv::workspace_root().join("xtask/src/bench/duckdb_glob.py");
    let mut theirs = Vec::new();
    for (_, pattern) in PATTERNS {
        let start_requests = proxy.requests_seen();
        let out = Command::new(venv.join("bin/python"))
            .arg(&script)
            .arg(proxy.addr().to_string())
            .args([
                server.access_key_id(),
                server.secret_access_key(),
                BUCKET,
                &runs.to_string(),
                pattern,
            ])
            .output()
            .context("could not run DuckDB")?;
        if !out.status.success() {
            bail!("DuckDB failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let line = String::from_utf8_lossy(&out.stdout);
        let mut fields = line.split_whitespace();
        let count: usize = fields.next().context("DuckDB count")?.parse()?;
        let ms: f64 = fields.next().context("DuckDB time")?.parse()?;
        let requests = (proxy.requests_seen() - start_requests) / runs;
        eprintln!("  DuckDB {pattern}: {count} files, {requests} requests, {ms:.1} ms");
        theirs.push((count, ms, requests));
    }

    println!(
        "{} keys on in-process s3s-fs, both clients through the same counting proxy; best of {runs} runs\n",
        keys.len()
    );
    println!(
        "{:<22} {:>8} {:>16} {:>18} {:>18} {:>9}",
        "pattern", "matches", "requests s3sql", "requests DuckDB", "ms s3sql / DuckDB", "speedup"
    );
    for (((name, _), (count, ms, req)), (d_count, d_ms, d_req)) in
        PATTERNS.iter().zip(&ours).zip(&theirs)
    {
        if count != d_count {
            bail!("{name}: s3sql found {count} files, DuckDB {d_count}");
        }
        println!(
            "{name:<22} {count:>8} {req:>16} {d_req:>18} {:>10.1} / {d_ms:<7.1} {:>8.1}×",
            ms,
            d_ms / ms
        );
    }
    Ok(())
}

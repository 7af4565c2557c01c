//! The measured side of a transfer benchmark, run as a child process so its
//! peak RSS (VmHWM) is s3sql's alone, not the server's.
//!
//! `xtask bench-worker get|put|put-unsigned ENDPOINT BUCKET KEY SIZE` with the key id and
//! secret in `S3SQL_BENCH_KEY_ID` / `S3SQL_BENCH_SECRET`; prints one line:
//! `bytes=N secs=F hwm_kib=N`.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use s3sql_s3_client::{
    ClientConfig, Credentials, MultipartWriter, PayloadSigning, PutObjectRequest, S3Client,
    StaticCredentials, UrlStyle,
};

/// Chunk size of parallel reads and part size of uploads in the benchmark.
pub const CHUNK: u64 = 8 * 1024 * 1024;
/// Requests in flight for one transfer.
pub const CONCURRENCY: usize = 8;

/// Peak resident set size of this process, from /proc.
fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Runs the worker with its command-line arguments.
pub fn run(args: &[String]) -> Result<()> {
    let [mode, endpoint, bucket, key, size] = args else {
        bail!("usage: xtask bench-worker get|put|put-unsigned ENDPOINT BUCKET KEY SIZE");
    };
    let size: u64 = size.parse().context("SIZE")?;
    let key_id = std::env::var("S3SQL_BENCH_KEY_ID").context("S3SQL_BENCH_KEY_ID")?;
    let secret = std::env::var("S3SQL_BENCH_SECRET").context("S3SQL_BENCH_SECRET")?;
    let mut config = ClientConfig::default()
        .with_endpoint(endpoint.clone())
        .with_url_style(UrlStyle::Path);
    config.read.chunk_size = CHUNK;
    config.read.concurrency = CONCURRENCY;
    config.upload.max_in_flight = CONCURRENCY;
    if mode == "put-unsigned" {
        config.payload_signing = PayloadSigning::Never;
    }
    let client = S3Client::new(
        config,
        Arc::new(StaticCredentials(Credentials::new(key_id, secret))),
    )?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (bytes, secs) = rt.block_on(async {
        let start = Instant::now();
        let bytes = match mode.as_str() {
            "get" => {
                let mut stream = client.read_parallel(bucket, key, None, None).await?;
                let mut n = 0u64;
                while let Some(chunk) = stream.next().await {
                    n += chunk?.len() as u64;
                }
                n
            }
            "put" | "put-unsigned" => {
                let mut writer = MultipartWriter::with_part_size(
                    &client,
                    bucket,
                    key,
                    PutObjectRequest::default(),
                    CHUNK as usize,
                );
                // One reusable 1 MiB block: the data source costs no memory.
                let block: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
                let mut n = 0u64;
                while n < size {
                    let take = (size - n).min(block.len() as u64) as usize;
                    writer.write(&block[..take]).await?;
                    n += take as u64;
                }
                writer.finish().await?;
                n
            }
            other => bail!("unknown mode {other}"),
        };
        Ok::<_, anyhow::Error>((bytes, start.elapsed().as_secs_f64()))
    })?;
    if bytes != size {
        bail!("transferred {bytes} bytes, expected {size}");
    }
    println!("bytes={bytes} secs={secs:.4} hwm_kib={}", vm_hwm_kib());
    Ok(())
}

/// Parses the worker's output line into (bytes, seconds, peak KiB).
pub fn parse_report(line: &str) -> Result<(u64, f64, u64)> {
    let field = |name: &str| -> Result<&str> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
            .with_context(|| format!("worker output lacks {name}: {line}"))
    };
    Ok((
        field("bytes")?.parse()?,
        field("secs")?.parse()?,
        field("hwm_kib")?.parse()?,
    ))
}

//! The measured side of a transfer benchmark, run as a child process so its
//! peak RSS (VmHWM) is s3sql's alone, not the server's.
//!
//! `xtask bench-worker MODE ENDPOINT BUCKET KEY SIZE` with the key id and
//! secret in `S3SQL_BENCH_KEY_ID` / `S3SQL_BENCH_SECRET`; prints one line:
//! `bytes=N secs=F hwm_kib=N` followed by phase timings (`name=F`).
//!
//! Modes: `get` (parallel ranged read), `put` / `put-unsigned` (the
//! [`MultipartWriter`], payload signed or `UNSIGNED-PAYLOAD`; phases
//! `writes` = until the last `write` returned, `finish` = draining the last
//! parts and CompleteMultipartUpload), and `parts` / `parts-unsigned`: the
//! same multipart upload made from the client's operations directly, with
//! every part a slice of one shared buffer (no copying into part buffers),
//! timed per phase: `create`, `parts` (all UploadParts, `CONCURRENCY` in
//! flight) and `complete`. The difference between `put` and `parts` is what
//! the writer itself costs.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
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
        bail!(
            "usage: xtask bench-worker get|put|put-unsigned|parts|parts-unsigned ENDPOINT BUCKET KEY SIZE"
        );
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
    if mode.ends_with("-unsigned") {
        config.payload_signing = PayloadSigning::Never;
    }
    let client = S3Client::new(
        config,
        Arc::new(StaticCredentials(Credentials::new(key_id, secret))),
    )?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut phases: Vec<(&str, f64)> = Vec::new();
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
                phases.push(("writes", start.elapsed().as_secs_f64()));
                let t = Instant::now();
                writer.finish().await?;
                phases.push(("finish", t.elapsed().as_secs_f64()));
                n
            }
            "parts" | "parts-unsigned" => {
                upload_by_parts(&client, bucket, key, size, &mut phases).await?
            }
            other => bail!("unknown mode {other}"),
        };
        Ok::<_, anyhow::Error>((bytes, start.elapsed().as_secs_f64()))
    })?;
    if bytes != size {
        bail!("transferred {bytes} bytes, expected {size}");
    }
    let mut line = format!("bytes={bytes} secs={secs:.4} hwm_kib={}", vm_hwm_kib());
    for (name, secs) in phases {
        line.push_str(&format!(" {name}={secs:.4}"));
    }
    println!("{line}");
    Ok(())
}

/// CreateMultipartUpload, every UploadPart with `CONCURRENCY` in flight (a
/// task each, as the writer does), CompleteMultipartUpload; each phase timed.
async fn upload_by_parts(
    client: &S3Client,
    bucket: &str,
    key: &str,
    size: u64,
    phases: &mut Vec<(&'static str, f64)>,
) -> Result<u64> {
    // One shared buffer of one part: every part is a cheap slice of it.
    let part: Bytes = (0..CHUNK)
        .map(|i| (i % 251) as u8)
        .collect::<Vec<u8>>()
        .into();
    let t = Instant::now();
    let upload_id = client
        .create_multipart_upload(bucket, key, &PutObjectRequest::default())
        .await?;
    phases.push(("create", t.elapsed().as_secs_f64()));
    let t = Instant::now();
    let mut in_flight = FuturesUnordered::new();
    let mut completed = Vec::new();
    let mut sent = 0u64;
    let mut number = 1u32;
    while sent < size {
        while in_flight.len() >= CONCURRENCY {
            if let Some(done) = in_flight.next().await {
                completed.push(done??);
            }
        }
        let len = (size - sent).min(CHUNK) as usize;
        let (client, bucket, key, id, body) = (
            client.clone(),
            bucket.to_owned(),
            key.to_owned(),
            upload_id.clone(),
            part.slice(..len),
        );
        in_flight.push(tokio::spawn(async move {
            client.upload_part(&bucket, &key, &id, number, body).await
        }));
        sent += len as u64;
        number += 1;
    }
    while let Some(done) = in_flight.next().await {
        completed.push(done??);
    }
    phases.push(("parts", t.elapsed().as_secs_f64()));
    let t = Instant::now();
    client
        .complete_multipart_upload(bucket, key, &upload_id, &completed)
        .await?;
    phases.push(("complete", t.elapsed().as_secs_f64()));
    Ok(sent)
}

/// One worker run as reported: bytes, seconds, peak KiB and named phase timings.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Bytes transferred.
    pub bytes: u64,
    /// Wall time of the whole transfer.
    pub secs: f64,
    /// Peak resident set size in KiB.
    pub hwm_kib: u64,
    /// Phase timings in seconds, in the order measured.
    pub phases: Vec<(String, f64)>,
}

impl Report {
    /// The timing of phase `name`, if reported.
    pub fn phase(&self, name: &str) -> Option<f64> {
        self.phases.iter().find(|(n, _)| n == name).map(|(_, s)| *s)
    }
}

/// Parses the worker's output line.
pub fn parse_report(line: &str) -> Result<Report> {
    let field = |name: &str| -> Result<&str> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
            .with_context(|| format!("worker output lacks {name}: {line}"))
    };
    let mut phases = Vec::new();
    for kv in line.split_whitespace() {
        if let Some((name, value)) = kv.split_once('=')
            && !matches!(name, "bytes" | "secs" | "hwm_kib")
        {
            phases.push((name.to_owned(), value.parse()?));
        }
    }
    Ok(Report {
        bytes: field("bytes")?.parse()?,
        secs: field("secs")?.parse()?,
        hwm_kib: field("hwm_kib")?.parse()?,
        phases,
    })
}

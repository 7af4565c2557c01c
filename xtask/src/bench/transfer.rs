//! `cargo xtask bench get`: download and multipart upload of one large
//! object, s3sql next to the best of N parallel curl requests.

use std::process::Command;

use anyhow::{Context, Result, bail};
use s3sql_testkit::S3Server;

use super::curl::{self, Server};
use super::{mib_per_sec, worker};

const MIB: u64 = 1024 * 1024;

fn worker(
    mode: &str,
    server: &S3Server,
    bucket: &str,
    key: &str,
    size: u64,
) -> Result<(u64, f64, u64)> {
    let out = Command::new(std::env::current_exe()?)
        .args([
            "bench-worker",
            mode,
            &server.endpoint(),
            bucket,
            key,
            &size.to_string(),
        ])
        .env("S3SQL_BENCH_KEY_ID", server.access_key_id())
        .env("S3SQL_BENCH_SECRET", server.secret_access_key())
        .output()
        .context("could not start the benchmark worker")?;
    if !out.status.success() {
        bail!(
            "s3sql {mode} worker failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    worker::parse_report(String::from_utf8_lossy(&out.stdout).trim())
}

/// Runs the benchmark. Options: `--size-mib N` (default 512), `--runs N` (default 3).
pub fn run(args: &[String]) -> Result<()> {
    let mut size_mib = 512u64;
    let mut runs = 3usize;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--size-mib" => size_mib = it.next().context("--size-mib N")?.parse()?,
            "--runs" => runs = it.next().context("--runs N")?.parse()?,
            other => bail!("unknown option {other}"),
        }
    }
    let size = size_mib * MIB;
    let server = S3Server::start();
    let bucket = "bench";
    let key = "big/object.bin";
    create_bucket(&server, bucket)?;
    let reference = Server {
        endpoint: &server.endpoint(),
        key_id: server.access_key_id(),
        secret: server.secret_access_key(),
        region: server.region(),
    };
    println!(
        "server: in-process s3s-fs at {} (data in {})",
        server.endpoint(),
        server.root().display()
    );
    println!(
        "object: {size_mib} MiB; s3sql: {} MiB chunks/parts, {} in flight; best of {runs} runs\n",
        worker::CHUNK / MIB,
        worker::CONCURRENCY
    );

    // Upload first: it creates the object the downloads read.
    let best_of = |mode: &str| -> Result<(f64, u64)> {
        let mut best = (f64::MAX, 0u64);
        for _ in 0..runs {
            let (_, secs, hwm) = worker(mode, &server, bucket, key, size)?;
            if secs < best.0 {
                best = (secs, hwm);
            }
        }
        Ok(best)
    };
    let best_put_unsigned = best_of("put-unsigned")?;
    let best_put = best_of("put")?;
    let dir = tempfile_dir()?;
    let mut best_curl_put = (f64::MAX, 0u64);
    for n in [1u64, 4, 8] {
        let files = split_files(&dir, size, n)?;
        let paths: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
        for _ in 0..runs {
            let secs = curl::parallel_put(&reference, bucket, &paths)?;
            if secs < best_curl_put.0 {
                best_curl_put = (secs, n);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);

    let best_get = best_of("get")?;
    let mut best_curl_get = (f64::MAX, 0u64);
    for n in [1u64, 4, 8, 16] {
        for _ in 0..runs {
            let secs = curl::parallel_get(&reference, bucket, key, size, n)?;
            if secs < best_curl_get.0 {
                best_curl_get = (secs, n);
            }
        }
    }

    println!(
        "{:<8} {:>14} {:>16} {:>22} {:>14}",
        "transfer", "s3sql MiB/s", "s3sql peak RSS", "curl best MiB/s", "s3sql / curl"
    );
    for (name, (secs, hwm), (curl_secs, n)) in [
        ("get", best_get, best_curl_get),
        ("put", best_put, best_curl_put),
        ("put*", best_put_unsigned, best_curl_put),
    ] {
        let ours = mib_per_sec(size, secs);
        let theirs = mib_per_sec(size, curl_secs);
        println!(
            "{:<8} {:>14.0} {:>12.1} MiB {:>15.0} (×{n:<2}) {:>14.2}",
            name,
            ours,
            hwm as f64 / 1024.0,
            theirs,
            ours / theirs
        );
    }
    println!("\nput:  payload signed (x-amz-content-sha256 over plain HTTP, the default)");
    println!(
        "put*: PayloadSigning::Never: UNSIGNED-PAYLOAD like the curl reference, so the server"
    );
    println!("      skips its own SHA-256 check for both");
    println!(
        "\npeak RSS goal: 64 MiB + {} in-flight buffers of {} MiB = {} MiB",
        worker::CONCURRENCY,
        worker::CHUNK / MIB,
        64 + worker::CONCURRENCY as u64 * worker::CHUNK / MIB
    );
    Ok(())
}

/// Creates the bucket with our client (curl's part is only to be measured).
fn create_bucket(server: &S3Server, bucket: &str) -> Result<()> {
    use s3sql_s3_client::{ClientConfig, Credentials, S3Client, StaticCredentials, UrlStyle};
    let config = ClientConfig::default()
        .with_endpoint(server.endpoint())
        .with_url_style(UrlStyle::Path);
    let creds = Credentials::new(server.access_key_id(), server.secret_access_key());
    let client = S3Client::new(config, std::sync::Arc::new(StaticCredentials(creds)))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(client.create_bucket(bucket))?;
    Ok(())
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = crate::venv::workspace_root()
        .join("target")
        .join("bench-tmp");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// `n` files that together hold `size` bytes, for curl to upload in parallel.
fn split_files(dir: &std::path::Path, size: u64, n: u64) -> Result<Vec<std::path::PathBuf>> {
    let part = size.div_ceil(n);
    let block: Vec<u8> = (0..MIB).map(|i| (i % 251) as u8).collect();
    let mut files = Vec::new();
    for i in 0..n {
        let path = dir.join(format!("part-{n}-{i}"));
        let len = part.min(size - i * part);
        if std::fs::metadata(&path).map(|m| m.len()).ok() != Some(len) {
            let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
            let mut left = len;
            while left > 0 {
                let take = left.min(MIB) as usize;
                std::io::Write::write_all(&mut f, &block[..take])?;
                left -= take as u64;
            }
        }
        files.push(path);
    }
    Ok(files)
}

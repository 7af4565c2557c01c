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
) -> Result<worker::Report> {
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
    let report = worker::parse_report(String::from_utf8_lossy(&out.stdout).trim())?;
    if report.bytes != size {
        bail!("s3sql {mode} moved {} bytes, expected {size}", report.bytes);
    }
    Ok(report)
}

/// The fastest of several curl runs and how many requests ran in parallel.
#[derive(Debug, Clone, Copy)]
struct Best<T> {
    secs: f64,
    parallel: u64,
    detail: Option<T>,
}

impl<T> Best<T> {
    fn new() -> Self {
        Self {
            secs: f64::MAX,
            parallel: 0,
            detail: None,
        }
    }

    fn offer(&mut self, secs: f64, parallel: u64, detail: T) {
        if secs < self.secs {
            *self = Self {
                secs,
                parallel,
                detail: Some(detail),
            };
        }
    }
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
    let server = super::start_server();
    let bucket = "bench";
    let key = "big/object.bin";
    let admin = Admin::new(&server, bucket)?;
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
    let best_of = |mode: &str, key: &str| -> Result<worker::Report> {
        let mut best: Option<worker::Report> = None;
        for _ in 0..runs {
            if mode != "get" {
                admin.delete(&[key])?;
            }
            let report = worker(mode, &server, bucket, key, size)?;
            if best.as_ref().is_none_or(|b| report.secs < b.secs) {
                best = Some(report);
            }
        }
        best.context("--runs must be at least 1")
    };
    let parts_key = "big/by-parts.bin";
    let best_put_unsigned = best_of("put-unsigned", key)?;
    let best_put = best_of("put", key)?;
    let best_parts_unsigned = best_of("parts-unsigned", parts_key)?;
    let best_parts = best_of("parts", parts_key)?;

    let dir = tempfile_dir()?;
    let mut curl_single = Best::<()>::new();
    let mut curl_whole = Best::<()>::new();
    let mut curl_mpu_unsigned = Best::new();
    let mut curl_mpu_signed = Best::new();
    for n in [1u64, 4, 8, 16] {
        let files = split_files(&dir, size, n)?;
        let paths: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
        let hashes = curl::sha256_files(&paths)?;
        let single_keys: Vec<String> = (0..n).map(curl::single_put_key).collect();
        let single_keys: Vec<&str> = single_keys.iter().map(String::as_str).collect();
        for _ in 0..runs {
            admin.delete(&single_keys)?;
            let secs = curl::parallel_put(&reference, bucket, &paths)?;
            if n == 1 {
                curl_whole.offer(secs, n, ());
            } else {
                curl_single.offer(secs, n, ());
            }
            admin.delete(&[CURL_KEY])?;
            let t = curl::multipart_put(&reference, bucket, CURL_KEY, &paths, None)?;
            curl_mpu_unsigned.offer(t.total(), n, t);
            admin.delete(&[CURL_KEY])?;
            let t = curl::multipart_put(&reference, bucket, CURL_KEY, &paths, Some(&hashes))?;
            curl_mpu_signed.offer(t.total(), n, t);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);

    let best_get = best_of("get", key)?;
    let mut curl_get = Best::<()>::new();
    for n in [1u64, 4, 8, 16] {
        for _ in 0..runs {
            let secs = curl::parallel_get(&reference, bucket, key, size, n)?;
            curl_get.offer(secs, n, ());
        }
    }

    println!(
        "{:<6} {:>12} {:>15}   {:<28} {:>11} {:>10}",
        "", "s3sql MiB/s", "s3sql peak RSS", "reference: best curl", "curl MiB/s", "s3sql/curl"
    );
    let rows = [
        (
            "get",
            &best_get,
            "ranged GETs",
            curl_get.secs,
            curl_get.parallel,
        ),
        (
            "put",
            &best_put,
            "multipart, signed parts",
            curl_mpu_signed.secs,
            curl_mpu_signed.parallel,
        ),
        (
            "put*",
            &best_put_unsigned,
            "multipart, unsigned parts",
            curl_mpu_unsigned.secs,
            curl_mpu_unsigned.parallel,
        ),
    ];
    for (name, report, what, curl_secs, n) in rows {
        let ours = mib_per_sec(size, report.secs);
        let theirs = mib_per_sec(size, curl_secs);
        println!(
            "{:<6} {:>12.0} {:>11.1} MiB   {:<28} {:>11.0} {:>10.2}",
            name,
            ours,
            report.hwm_kib as f64 / 1024.0,
            format!("{what} (×{n})"),
            theirs,
            ours / theirs
        );
    }
    let put_unsigned = mib_per_sec(size, best_put_unsigned.secs);
    let whole = mib_per_sec(size, curl_whole.secs);
    println!("\nfor scale, not multipart (a stream of unknown length cannot be sent this way):");
    println!(
        "  curl, one PUT of the whole object (same result):           {whole:>5.0} MiB/s   put* / it: {:.2}",
        put_unsigned / whole
    );
    println!(
        "  curl, PUTs of {} separate objects (not the same result):    {:>5.0} MiB/s",
        curl_single.parallel,
        mib_per_sec(size, curl_single.secs)
    );

    println!("\nmultipart upload phases, seconds (best run of each):");
    println!(
        "  {:<36} {:>8} {:>8} {:>9} {:>8}",
        "", "create", "parts", "complete", "total"
    );
    let phase = |r: &worker::Report, name: &str| r.phase(name).unwrap_or(f64::NAN);
    for (name, r) in [
        ("s3sql, client ops, signed", &best_parts),
        ("s3sql, client ops, unsigned", &best_parts_unsigned),
    ] {
        println!(
            "  {:<36} {:>8.3} {:>8.3} {:>9.3} {:>8.3}",
            name,
            phase(r, "create"),
            phase(r, "parts"),
            phase(r, "complete"),
            r.secs
        );
    }
    for (name, best) in [
        ("curl, signed parts", &curl_mpu_signed),
        ("curl, unsigned parts", &curl_mpu_unsigned),
    ] {
        if let Some(t) = best.detail {
            println!(
                "  {:<36} {:>8.3} {:>8.3} {:>9.3} {:>8.3}",
                format!("{name} (×{})", best.parallel),
                t.create,
                t.parts,
                t.complete,
                t.total()
            );
        }
    }
    println!("  {:<36} {:>8} {:>17} {:>8}", "", "writes", "finish", "");
    for (name, r) in [
        ("s3sql MultipartWriter, signed", &best_put),
        ("s3sql MultipartWriter, unsigned", &best_put_unsigned),
    ] {
        println!(
            "  {:<36} {:>8.3} {:>17.3} {:>8.3}",
            name,
            phase(r, "writes"),
            phase(r, "finish"),
            r.secs
        );
    }

    println!("\nput:  payload signed (x-amz-content-sha256 over plain HTTP, the default); the");
    println!("      reference sends each part's SHA-256, computed before timing, so the server");
    println!("      verifies it for both but only s3sql pays for hashing");
    println!("put*: PayloadSigning::Never: UNSIGNED-PAYLOAD like its reference");
    println!("client ops: the same upload from S3Client's operations, parts sliced from one");
    println!("      buffer; put minus client ops is what MultipartWriter's buffering costs");
    println!(
        "\npeak RSS goal: 64 MiB + {} in-flight buffers of {} MiB = {} MiB",
        worker::CONCURRENCY,
        worker::CHUNK / MIB,
        64 + worker::CONCURRENCY as u64 * worker::CHUNK / MIB
    );
    Ok(())
}

/// Where curl's multipart uploads go.
const CURL_KEY: &str = "curl/multipart.bin";

/// Untimed bookkeeping with our client (curl's part is only to be measured):
/// creates the bucket, and deletes every upload's target before each run,
/// so no run pays for replacing an existing object and none is spared it.
struct Admin {
    client: s3sql_s3_client::S3Client,
    rt: tokio::runtime::Runtime,
    bucket: String,
}

impl Admin {
    fn new(server: &S3Server, bucket: &str) -> Result<Self> {
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
        Ok(Self {
            client,
            rt,
            bucket: bucket.to_owned(),
        })
    }

    /// Deletes `keys`; a key that does not exist is fine.
    fn delete(&self, keys: &[&str]) -> Result<()> {
        for key in keys {
            match self
                .rt
                .block_on(self.client.delete_object(&self.bucket, key))
            {
                Err(e) if !e.is_not_found() => {
                    return Err(e).with_context(|| format!("could not delete {key} between runs"));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = crate::venv::target_dir().join("bench-tmp");
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

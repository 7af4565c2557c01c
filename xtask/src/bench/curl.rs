//! The reference client: N parallel `curl --aws-sigv4` requests, each
//! moving 1/N of the bytes, which shows what the server can deliver.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// Credentials and address of the server under test.
pub struct Server<'a> {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: &'a str,
    /// Access key id.
    pub key_id: &'a str,
    /// Secret key.
    pub secret: &'a str,
    /// Signing region.
    pub region: &'a str,
}

fn curl(server: &Server<'_>) -> Command {
    let mut cmd = Command::new("curl");
    cmd.args(["--silent", "--show-error", "--fail", "--aws-sigv4"])
        .arg(format!("aws:amz:{}:s3", server.region))
        .arg("--user")
        .arg(format!("{}:{}", server.key_id, server.secret))
        // S3 requires the payload hash header; curl signs it as given.
        .args(["-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"])
        .stdout(Stdio::null());
    cmd
}

fn wait_all(children: Vec<std::process::Child>) -> Result<()> {
    for mut child in children {
        let status = child.wait()?;
        if !status.success() {
            bail!("curl failed with {status}");
        }
    }
    Ok(())
}

/// Downloads `bucket/key` (`size` bytes) as `n` parallel ranged GETs; returns seconds.
pub fn parallel_get(
    server: &Server<'_>,
    bucket: &str,
    key: &str,
    size: u64,
    n: u64,
) -> Result<f64> {
    let start = Instant::now();
    let part = size.div_ceil(n);
    let mut children = Vec::new();
    for i in 0..n {
        let (a, b) = (i * part, ((i + 1) * part).min(size) - 1);
        children.push(
            curl(server)
                .args(["-o", "/dev/null", "-H"])
                .arg(format!("Range: bytes={a}-{b}"))
                .arg(format!("{}/{bucket}/{key}", server.endpoint))
                .spawn()
                .context("could not run curl (apt-get install curl)")?,
        );
    }
    wait_all(children)?;
    Ok(start.elapsed().as_secs_f64())
}

/// Uploads `files` as `n` parallel PUTs of separate objects; returns seconds.
pub fn parallel_put(server: &Server<'_>, bucket: &str, files: &[&Path]) -> Result<f64> {
    let start = Instant::now();
    let mut children = Vec::new();
    for (i, file) in files.iter().enumerate() {
        children.push(
            curl(server)
                .arg("--upload-file")
                .arg(file)
                .arg(format!("{}/{bucket}/curl-put-{i}", server.endpoint))
                .spawn()
                .context("could not run curl")?,
        );
    }
    wait_all(children)?;
    Ok(start.elapsed().as_secs_f64())
}

//! The reference client: N parallel `curl --aws-sigv4` requests, each
//! moving 1/N of the bytes, which shows what the server can deliver.
//!
//! For uploads the reference makes the same result s3sql makes, one object
//! by multipart upload: CreateMultipartUpload, N UploadParts in parallel,
//! CompleteMultipartUpload (which on s3s-fs re-reads and re-writes every
//! byte). N single PUTs of separate objects are kept only for scale.

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

/// `UNSIGNED-PAYLOAD`: the body is not covered by the signature.
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

fn curl(server: &Server<'_>) -> Command {
    curl_with_payload(server, UNSIGNED_PAYLOAD)
}

/// curl signing its request with `payload_hash` as `x-amz-content-sha256`
/// (the body's SHA-256 in hex, or `UNSIGNED-PAYLOAD`).
fn curl_with_payload(server: &Server<'_>, payload_hash: &str) -> Command {
    let mut cmd = Command::new("curl");
    cmd.args(["--silent", "--show-error", "--fail", "--aws-sigv4"])
        .arg(format!("aws:amz:{}:s3", server.region))
        .arg("--user")
        .arg(format!("{}:{}", server.key_id, server.secret))
        // S3 requires the payload hash header; curl signs it as given.
        .arg("-H")
        .arg(format!("x-amz-content-sha256: {payload_hash}"))
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

/// The key of the `i`th object [`parallel_put`] writes.
pub fn single_put_key(i: u64) -> String {
    format!("curl-put-{i}")
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
                .arg(format!(
                    "{}/{bucket}/{}",
                    server.endpoint,
                    single_put_key(i as u64)
                ))
                .spawn()
                .context("could not run curl")?,
        );
    }
    wait_all(children)?;
    Ok(start.elapsed().as_secs_f64())
}

/// Seconds spent in each phase of one multipart upload.
#[derive(Debug, Clone, Copy)]
pub struct MultipartTimes {
    /// CreateMultipartUpload.
    pub create: f64,
    /// All UploadParts, in parallel.
    pub parts: f64,
    /// CompleteMultipartUpload.
    pub complete: f64,
}

impl MultipartTimes {
    /// Wall time of the whole upload.
    pub fn total(&self) -> f64 {
        self.create + self.parts + self.complete
    }
}

/// Runs one curl to completion and returns its stdout.
fn output(cmd: &mut Command, what: &str) -> Result<String> {
    let out = cmd
        .stdout(Stdio::piped())
        .output()
        .with_context(|| format!("could not run curl for {what}"))?;
    if !out.status.success() {
        bail!(
            "curl {what} failed with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The text between `<tag>` and `</tag>`.
fn xml_field<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&format!("</{tag}>"))?;
    Some(&xml[start..start + len])
}

/// Uploads `files`, in order, as the parts of one multipart upload of
/// `bucket/key`: CreateMultipartUpload, one UploadPart per file all in
/// parallel, CompleteMultipartUpload with the ETags. `part_sha256` gives each
/// part's payload hash (computed beforehand, so hashing is not timed on
/// curl's side while the server still verifies it); `None` sends the parts
/// as `UNSIGNED-PAYLOAD`.
pub fn multipart_put(
    server: &Server<'_>,
    bucket: &str,
    key: &str,
    files: &[&Path],
    part_sha256: Option<&[String]>,
) -> Result<MultipartTimes> {
    let url = format!("{}/{bucket}/{key}", server.endpoint);
    let start = Instant::now();
    let created = output(
        curl(server)
            .args(["-X", "POST"])
            .arg(format!("{url}?uploads=")),
        "CreateMultipartUpload",
    )?;
    let upload_id = xml_field(&created, "UploadId")
        .with_context(|| format!("CreateMultipartUpload answered without an UploadId: {created}"))?
        .to_owned();
    let create = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let mut children = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let hash = part_sha256
            .and_then(|h| h.get(i))
            .map_or(UNSIGNED_PAYLOAD, String::as_str);
        children.push(
            curl_with_payload(server, hash)
                .arg("--upload-file")
                .arg(file)
                .args(["-o", "/dev/null", "-w", "%header{etag}"])
                .arg(format!("{url}?partNumber={}&uploadId={upload_id}", i + 1))
                .stdout(Stdio::piped())
                .spawn()
                .context("could not run curl")?,
        );
    }
    let mut etags = Vec::new();
    for child in children {
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!("curl UploadPart failed with {}", out.status);
        }
        let etag = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if etag.is_empty() {
            bail!("UploadPart answered without an ETag");
        }
        etags.push(etag);
    }
    let parts = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let mut body = String::from("<CompleteMultipartUpload>");
    for (i, etag) in etags.iter().enumerate() {
        body.push_str(&format!(
            "<Part><PartNumber>{}</PartNumber><ETag>{etag}</ETag></Part>",
            i + 1
        ));
    }
    body.push_str("</CompleteMultipartUpload>");
    let completed = output(
        curl(server)
            .args([
                "-X",
                "POST",
                "-H",
                "Content-Type: application/xml",
                "--data-binary",
            ])
            .arg(body)
            .arg(format!("{url}?uploadId={upload_id}")),
        "CompleteMultipartUpload",
    )?;
    if completed.contains("<Error>") || xml_field(&completed, "ETag").is_none() {
        bail!("CompleteMultipartUpload failed: {completed}");
    }
    let complete = start.elapsed().as_secs_f64();
    Ok(MultipartTimes {
        create,
        parts,
        complete,
    })
}

/// Each file's SHA-256 in hex, by `sha256sum` (before any timing starts).
pub fn sha256_files(files: &[&Path]) -> Result<Vec<String>> {
    let out = Command::new("sha256sum")
        .args(files)
        .output()
        .context("could not run sha256sum")?;
    if !out.status.success() {
        bail!("sha256sum failed with {}", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let hashes: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    if hashes.len() != files.len() {
        bail!(
            "sha256sum printed {} hashes for {} files",
            hashes.len(),
            files.len()
        );
    }
    Ok(hashes)
}

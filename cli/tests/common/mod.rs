//! What the CLI's test binaries share: a client of the S3 test target
//! (`S3Target::from_env`: the in-process server, or `S3SQL_TEST_ENDPOINT`).

use std::sync::Arc;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use s3sql_s3_client::{
    ClientConfig, Credentials, MultipartUpload, S3Client, StaticCredentials, UrlStyle,
};
use s3sql_testkit::{Fault, FaultProxy, FaultRule, S3Target};

/// A client of the test target, its bucket created when new.
pub async fn target_client() -> (S3Target, S3Client) {
    let target = S3Target::from_env();
    let config = ClientConfig::default()
        .with_endpoint(target.endpoint.clone())
        .with_region(target.region.clone())
        .with_url_style(UrlStyle::Path);
    let creds = Credentials::new(
        target.access_key_id.clone(),
        target.secret_access_key.clone(),
    );
    let client = S3Client::new(config, Arc::new(StaticCredentials(creds))).unwrap();
    if target.bucket_is_new {
        client.create_bucket(&target.bucket).await.unwrap();
    }
    (target, client)
}

/// A fault proxy in front of `target` that lets part uploads through at
/// 1 MB/s, so that an upload is open a while (for a Ctrl-C to come).
pub fn slow_part_uploads(target: &S3Target) -> FaultProxy {
    let proxy = target.fault_proxy();
    proxy.push_rule(
        // Part uploads only: the proxy sends a throttled body chunked,
        // which a body-less request (the abort's DELETE) must not be.
        FaultRule::new(Fault::Throttle {
            bytes_per_second: 1_000_000,
        })
        .query_contains("partNumber")
        .always(),
    );
    proxy
}

/// Sends SIGINT (a Ctrl-C) to the process `pid`.
pub fn sigint(pid: u32) {
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Starts the binary with `args`, `config` as its configuration home, its
/// output piped.
pub fn spawn(args: &[String], config: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_s3sql"))
        .args(args)
        .env("XDG_CONFIG_HOME", config)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (60 s at most) until an upload of `key` is open and `parts` of
/// its parts went through `proxy`; the uploads of `key` open then. Fails
/// when `child` ends first.
pub async fn upload_started(
    (client, proxy): (&S3Client, &FaultProxy),
    bucket: &str,
    key: &str,
    parts: usize,
    child: &mut Child,
) -> Vec<MultipartUpload> {
    for _ in 0..600 {
        let open = client.list_multipart_uploads(bucket, key).await.unwrap();
        let sent = proxy
            .recorded()
            .iter()
            .filter(|r| r.query.contains("partNumber") && r.path.ends_with(key))
            .count();
        if !open.is_empty() && sent >= parts {
            return open;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "s3sql ended before any upload started"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no multipart upload with {parts} parts sent started within 60 s");
}

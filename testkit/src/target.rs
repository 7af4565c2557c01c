//! [`S3Target`]: which server a test talks to, chosen by environment.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::server::S3Server;

/// Random lowercase hex of `len` characters.
pub(crate) fn random_hex(len: usize) -> String {
    (0..len)
        .map(|_| char::from_digit(fastrand::u32(0..16), 16).unwrap_or('0'))
        .collect()
}

/// A name unique within this process and very likely across processes:
/// `<stem>-<8 hex>-<counter>`, lowercase and DNS-safe when `stem` is.
pub fn unique_name(stem: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "{stem}-{}-{}",
        random_hex(8),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Where a test runs and with which credentials, bucket and key prefix.
#[derive(Debug)]
pub struct S3Target {
    /// `s3s-fs` (in-process) or `external` (`S3SQL_TEST_ENDPOINT`).
    pub backend: String,
    /// Endpoint URL, e.g. `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Signing region.
    pub region: String,
    /// The bucket this test uses.
    pub bucket: String,
    /// Prefix every key of this test lives under (empty in a fresh bucket).
    pub prefix: String,
    /// Whether the caller must create the bucket first.
    pub bucket_is_new: bool,
    server: Option<S3Server>,
}

fn required(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("S3SQL_TEST_ENDPOINT is set, so {name} must be set too (S3SQL_TEST_KEY_ID, S3SQL_TEST_SECRET; S3SQL_TEST_REGION and S3SQL_TEST_BUCKET are optional)")
    })
}

impl S3Target {
    /// The endpoint in `S3SQL_TEST_ENDPOINT` when set, else a new in-process
    /// server. Each call gets a fresh bucket, or a fresh prefix inside
    /// `S3SQL_TEST_BUCKET` when that is set.
    pub fn from_env() -> S3Target {
        if let Ok(endpoint) = std::env::var("S3SQL_TEST_ENDPOINT") {
            let shared = std::env::var("S3SQL_TEST_BUCKET")
                .ok()
                .filter(|b| !b.is_empty());
            let (bucket, prefix, bucket_is_new) = match shared {
                Some(bucket) => (bucket, format!("{}/", unique_name("s3sql-test")), false),
                None => (unique_name("s3sql"), String::new(), true),
            };
            return S3Target {
                backend: "external".into(),
                endpoint,
                access_key_id: required("S3SQL_TEST_KEY_ID"),
                secret_access_key: required("S3SQL_TEST_SECRET"),
                region: std::env::var("S3SQL_TEST_REGION").unwrap_or_else(|_| "us-east-1".into()),
                bucket,
                prefix,
                bucket_is_new,
                server: None,
            };
        }
        let server = S3Server::start();
        S3Target {
            backend: "s3s-fs".into(),
            endpoint: server.endpoint(),
            access_key_id: server.access_key_id().to_owned(),
            secret_access_key: server.secret_access_key().to_owned(),
            region: server.region().to_owned(),
            bucket: unique_name("s3sql"),
            prefix: String::new(),
            bucket_is_new: true,
            server: Some(server),
        }
    }

    /// The in-process server, when that is the target.
    pub fn server(&self) -> Option<&S3Server> {
        self.server.as_ref()
    }

    /// `prefix + name`: a key inside this test's space.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The address behind a plain `http://IP:PORT` endpoint, so a
    /// [`crate::FaultProxy`] can stand in front of it.
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        let rest = self.endpoint.strip_prefix("http://")?;
        rest.trim_end_matches('/').parse().ok()
    }
}

/// The moto server `cargo xtask ci` starts, from `S3SQL_MOTO_ENDPOINT`.
/// Tests that need moto itself (its STS, say) call this and fail when it is
/// missing: they never skip.
pub fn moto_endpoint() -> String {
    std::env::var("S3SQL_MOTO_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "this test needs moto's server: run it through `cargo xtask ci`, or start one with `cargo xtask moto` and export the S3SQL_MOTO_ENDPOINT it prints"
        )
    })
}

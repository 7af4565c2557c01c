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
/// Its Debug stars the secret access key (the canary the leak tests look for).
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

impl std::fmt::Debug for S3Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Target")
            .field("backend", &self.backend)
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("bucket_is_new", &self.bucket_is_new)
            .field("server", &self.server)
            .finish()
    }
}

/// Reads one environment variable; empty counts as unset.
type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

fn required(lookup: Lookup<'_>, name: &str) -> String {
    lookup(name).unwrap_or_else(|| {
        panic!("S3SQL_TEST_ENDPOINT is set, so {name} must be set too (S3SQL_TEST_KEY_ID, S3SQL_TEST_SECRET; S3SQL_TEST_REGION and S3SQL_TEST_BUCKET are optional)")
    })
}

impl S3Target {
    /// The endpoint in `S3SQL_TEST_ENDPOINT` when set, else a new in-process
    /// server. Each call gets a fresh bucket, or a fresh prefix inside
    /// `S3SQL_TEST_BUCKET` when that is set.
    ///
    /// With `S3SQL_TEST_ENDPOINT` set, `S3SQL_TEST_KEY_ID` and
    /// `S3SQL_TEST_SECRET` are required (a missing one panics, naming it)
    /// and must differ, or the leak checks could not see a leaked secret;
    /// `S3SQL_TEST_REGION` defaults to `us-east-1`.
    pub fn from_env() -> S3Target {
        let lookup = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self::external(&lookup).unwrap_or_else(Self::in_process)
    }

    /// The external target the variables name, if `S3SQL_TEST_ENDPOINT` is set.
    fn external(lookup: Lookup<'_>) -> Option<S3Target> {
        let endpoint = lookup("S3SQL_TEST_ENDPOINT")?;
        let (bucket, prefix, bucket_is_new) = match lookup("S3SQL_TEST_BUCKET") {
            Some(bucket) => (bucket, format!("{}/", unique_name("s3sql-test")), false),
            None => (unique_name("s3sql"), String::new(), true),
        };
        let access_key_id = required(lookup, "S3SQL_TEST_KEY_ID");
        let secret_access_key = required(lookup, "S3SQL_TEST_SECRET");
        // The leak tests look for the secret in listings, errors and URLs;
        // a secret equal to the key id (which is shown) would hide a leak.
        // `assert!`, not `assert_ne!`, which would print the secret.
        assert!(
            access_key_id != secret_access_key,
            "S3SQL_TEST_SECRET equals S3SQL_TEST_KEY_ID, so the tests that check the secret never \
             leaks could not tell it from the key id, which is shown: use a key pair whose secret \
             differs (moto accepts any secret)"
        );
        Some(S3Target {
            backend: "external".into(),
            endpoint,
            access_key_id,
            secret_access_key,
            region: lookup("S3SQL_TEST_REGION").unwrap_or_else(|| "us-east-1".into()),
            bucket,
            prefix,
            bucket_is_new,
            server: None,
        })
    }

    /// A new in-process [`S3Server`] with a fresh bucket name (not yet
    /// created), whatever the environment says: for tests of the
    /// in-process server itself.
    pub fn in_process() -> S3Target {
        Self::in_process_server(S3Server::start())
    }

    /// Like [`S3Target::in_process`], with the server in `region`
    /// ([`S3Server::start_in_region`]): for tests of a client configured
    /// for another region than the server's.
    pub fn in_region(region: &str) -> S3Target {
        Self::in_process_server(S3Server::start_in_region(region))
    }

    fn in_process_server(server: S3Server) -> S3Target {
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

    /// A [`crate::FaultProxy`] in front of this target; panics unless its
    /// endpoint is plain `http://`.
    pub fn fault_proxy(&self) -> crate::FaultProxy {
        crate::FaultProxy::in_front_of(&self.endpoint)
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

/// The Python of the venv `cargo xtask ci` fills with DuckDB 1.5.5 and its
/// httpfs extension, from `S3SQL_DUCKDB_PYTHON`, for tests that compare
/// s3sql with DuckDB. Like [`moto_endpoint`], it fails when missing.
pub fn duckdb_python() -> std::path::PathBuf {
    std::env::var_os("S3SQL_DUCKDB_PYTHON")
        .map(Into::into)
        .unwrap_or_else(|| {
            panic!(
                "this test compares with DuckDB: run it through `cargo xtask ci`, or export S3SQL_DUCKDB_PYTHON=target/ci-venv/bin/python after `cargo xtask bench glob` (or pip install duckdb==1.5.5 duckdb-extension-httpfs==1.5.5 into that venv)"
            )
        })
}

/// Runs the Python `script` with DuckDB's venv ([`duckdb_python`]), `input`
/// on its stdin, and returns its stdout; a failed run panics with its
/// stderr. The one way tests hand DuckDB a JSON request.
pub fn run_duckdb_script(script: &std::path::Path, input: &[u8]) -> Vec<u8> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let python = duckdb_python();
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", python.display()));
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input)
        .expect("DuckDB's script reads its request");
    let out = child.wait_with_output().expect("DuckDB's script runs");
    assert!(
        out.status.success(),
        "DuckDB ({}) failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    fn is_dns_safe(name: &str) -> bool {
        (3..=63).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-')
            && !name.ends_with('-')
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let lookup = vars(&[
            ("S3SQL_TEST_ENDPOINT", "http://127.0.0.1:1"),
            ("S3SQL_TEST_KEY_ID", "testing"),
            ("S3SQL_TEST_SECRET", "canary-secret-in-debug"),
        ]);
        let target = S3Target::external(&lookup).unwrap();
        let shown = format!("{target:?} {target:#?}");
        assert!(!shown.contains("canary-secret-in-debug"), "{shown}");
        assert!(
            shown.contains("testing") && shown.contains("127.0.0.1:1"),
            "{shown}"
        );
    }

    #[test]
    fn unique_names_differ_and_are_dns_safe() {
        let a = unique_name("s3sql");
        let b = unique_name("s3sql");
        assert_ne!(a, b);
        assert!(is_dns_safe(&a), "{a}");
        assert!(a.starts_with("s3sql-"), "{a}");
    }

    #[test]
    fn no_endpoint_means_in_process() {
        assert!(S3Target::external(&vars(&[("S3SQL_TEST_KEY_ID", "k")])).is_none());
    }

    #[test]
    fn external_with_fresh_bucket() {
        let t = S3Target::external(&vars(&[
            ("S3SQL_TEST_ENDPOINT", "http://10.0.0.1:9000"),
            ("S3SQL_TEST_KEY_ID", "key"),
            ("S3SQL_TEST_SECRET", "secret"),
        ]))
        .unwrap();
        assert_eq!(t.backend, "external");
        assert_eq!(t.region, "us-east-1");
        assert!(t.bucket_is_new);
        assert!(is_dns_safe(&t.bucket), "{}", t.bucket);
        assert_eq!(t.prefix, "");
        assert_eq!(t.key("a/b.csv"), "a/b.csv");
        assert_eq!(t.socket_addr(), Some("10.0.0.1:9000".parse().unwrap()));
        assert!(t.server().is_none());
    }

    #[test]
    fn external_with_shared_bucket() {
        let t = S3Target::external(&vars(&[
            ("S3SQL_TEST_ENDPOINT", "https://s3.eu-west-1.amazonaws.com"),
            ("S3SQL_TEST_KEY_ID", "key"),
            ("S3SQL_TEST_SECRET", "secret"),
            ("S3SQL_TEST_REGION", "eu-west-1"),
            ("S3SQL_TEST_BUCKET", "team-bucket"),
        ]))
        .unwrap();
        assert_eq!(t.bucket, "team-bucket");
        assert!(!t.bucket_is_new);
        assert_eq!(t.region, "eu-west-1");
        assert!(
            t.prefix.starts_with("s3sql-test-") && t.prefix.ends_with('/'),
            "{}",
            t.prefix
        );
        assert_eq!(t.key("x.csv"), format!("{}x.csv", t.prefix));
        assert_eq!(t.socket_addr(), None, "https is not plain http");
    }

    #[test]
    #[should_panic(expected = "S3SQL_TEST_SECRET must be set")]
    fn external_names_the_missing_variable() {
        S3Target::external(&vars(&[
            ("S3SQL_TEST_ENDPOINT", "http://127.0.0.1:9000"),
            ("S3SQL_TEST_KEY_ID", "key"),
        ]));
    }

    #[test]
    #[should_panic(expected = "S3SQL_TEST_SECRET equals S3SQL_TEST_KEY_ID")]
    fn external_refuses_a_secret_equal_to_the_key_id() {
        S3Target::external(&vars(&[
            ("S3SQL_TEST_ENDPOINT", "http://127.0.0.1:9000"),
            ("S3SQL_TEST_KEY_ID", "testing"),
            ("S3SQL_TEST_SECRET", "testing"),
        ]));
    }
}

//! Shared fixture: a bucket (or a prefix in `S3SQL_TEST_BUCKET`) on the test
//! target, files put into it, and a session with a secret for it.

#![allow(dead_code)]

use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::parquet::arrow::ArrowWriter;
use s3sql_planner::Session;
use s3sql_s3_client::{
    ClientConfig, Credentials, PutObjectRequest, S3Client, StaticCredentials, UrlStyle,
};
use s3sql_secrets::SecretManager;
use s3sql_testkit::{S3Server, S3Target};

/// A bucket this test owns, and how to reach it.
pub struct Bucket {
    pub endpoint: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
    pub bucket: String,
    pub prefix: String,
    pub client: S3Client,
    /// `s3s-fs`, `moto` or `external`: what the server keeps (s3s-fs keeps
    /// no tags nor storage classes).
    pub backend: String,
    /// Keeps an in-process server running.
    _server: Box<dyn std::any::Any>,
}

impl Bucket {
    /// A bucket (or prefix) on the test target, created when new.
    pub async fn new() -> Self {
        let target = S3Target::from_env();
        let bucket = Self::connect(
            &target.endpoint,
            &target.access_key_id,
            &target.secret_access_key,
            &target.region,
            target.bucket.clone(),
            target.prefix.clone(),
            target.bucket_is_new,
        )
        .await;
        Self {
            backend: target.backend.clone(),
            _server: Box::new(target),
            ..bucket
        }
    }

    /// A fresh bucket on a new in-process server, whatever the environment
    /// says: for tests that need SigV4 checked (moto accepts any signature).
    pub async fn in_process() -> Self {
        Self::on(S3Server::start()).await
    }

    /// A fresh bucket on a new in-process server that lives in `region`
    /// (it refuses requests signed for any other, as AWS does).
    pub async fn in_region(region: &str) -> Self {
        Self::on(S3Server::start_in_region(region)).await
    }

    async fn on(server: S3Server) -> Self {
        let bucket = Self::connect(
            &server.endpoint(),
            server.access_key_id(),
            server.secret_access_key(),
            server.region(),
            s3sql_testkit::unique_name("s3sql"),
            String::new(),
            true,
        )
        .await;
        Self {
            backend: "s3s-fs".into(),
            _server: Box::new(server),
            ..bucket
        }
    }

    async fn connect(
        endpoint: &str,
        key_id: &str,
        secret: &str,
        region: &str,
        bucket: String,
        prefix: String,
        create: bool,
    ) -> Self {
        let config = ClientConfig::default()
            .with_endpoint(endpoint.to_owned())
            .with_region(region.to_owned())
            .with_url_style(UrlStyle::Path);
        let creds = Credentials::new(key_id.to_owned(), secret.to_owned());
        let client = S3Client::new(config, Arc::new(StaticCredentials(creds))).unwrap();
        if create {
            client.create_bucket(&bucket).await.unwrap();
        }
        Self {
            endpoint: endpoint.to_owned(),
            access_key_id: key_id.to_owned(),
            secret_access_key: secret.to_owned(),
            region: region.to_owned(),
            bucket,
            prefix,
            client,
            backend: String::new(),
            _server: Box::new(()),
        }
    }

    /// `s3://bucket/<prefix><name>`.
    pub fn url(&self, name: &str) -> String {
        format!("s3://{}/{}{name}", self.bucket, self.prefix)
    }

    /// Puts `bytes` at `name` (under this test's prefix).
    pub async fn put(&self, name: &str, bytes: impl Into<Bytes>) {
        self.client
            .put_object(
                &self.bucket,
                &format!("{}{name}", self.prefix),
                bytes.into(),
                &PutObjectRequest::default(),
            )
            .await
            .unwrap();
    }

    /// `CREATE SECRET name (...)` for this target, with `secret` as the
    /// SECRET value and an optional SCOPE.
    pub fn create_secret(&self, name: &str, secret: &str, scope: Option<&str>) -> String {
        let endpoint = &self.endpoint;
        let host = endpoint
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .trim_end_matches('/');
        let scope = scope.map(|s| format!(", SCOPE '{s}'")).unwrap_or_default();
        format!(
            "CREATE SECRET {name} (TYPE s3, KEY_ID '{}', SECRET '{secret}', ENDPOINT '{host}', URL_STYLE 'path', USE_SSL {}, REGION '{}'{scope})",
            self.access_key_id,
            endpoint.starts_with("https://"),
            self.region,
        )
    }

    /// A session without persistent secrets and one secret for this target.
    pub async fn session(&self) -> Session {
        let session = Session::with_secrets(SecretManager::new(None));
        session
            .sql(&self.create_secret("test", &self.secret_access_key, None))
            .await
            .unwrap();
        session
    }
}

/// A Parquet file holding `batch`.
pub fn parquet(batch: &RecordBatch) -> Vec<u8> {
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
    out
}

/// Batches as the lines of an ASCII table, for exact comparison.
pub fn table(batches: &[RecordBatch]) -> Vec<String> {
    pretty_format_batches(batches)
        .unwrap()
        .to_string()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Runs `sql` and returns its rows as table lines.
pub async fn query(session: &Session, sql: &str) -> Vec<String> {
    match session.sql(sql).await {
        Ok(batches) => table(&batches),
        Err(e) => panic!("{sql}\n  failed: {e}\n  {e:?}"),
    }
}

/// The error text of `sql`, with every cause.
pub async fn error_of(session: &Session, sql: &str) -> String {
    match session.sql(sql).await {
        Ok(batches) => panic!("{sql} should fail, got {:?}", table(&batches)),
        Err(e) => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                text.push_str(" | ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            text
        }
    }
}

/// Runs `statements` in DuckDB 1.5.5 (`S3SQL_DUCKDB_PYTHON`), with httpfs
/// and a secret for `bucket`'s endpoint when given; returns each
/// statement's rows, every value as DuckDB's `str()`, NULL as `None`.
pub fn duckdb(bucket: Option<&Bucket>, statements: &[String]) -> Vec<Vec<Vec<Option<String>>>> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/duckdb_sql.py");
    let s3 = bucket.map(|b| {
        serde_json::json!({
            "endpoint": b.endpoint, "key_id": b.access_key_id,
            "secret": b.secret_access_key, "region": b.region,
        })
    });
    let request = serde_json::json!({ "s3": s3, "statements": statements });
    let out = s3sql_testkit::run_duckdb_script(
        std::path::Path::new(script),
        request.to_string().as_bytes(),
    );
    serde_json::from_slice(&out).unwrap()
}

/// The rows of an ASCII table ([`table`]), cells joined by commas.
pub fn table_rows(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .skip(3)
        .filter(|line| line.starts_with("| "))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            cells.join(",")
        })
        .collect()
}

/// DuckDB's rows ([`duckdb`]), cells joined by commas, NULL empty.
pub fn duckdb_rows(rows: &[Vec<Option<String>>]) -> Vec<String> {
    rows.iter()
        .map(|row| {
            let cells: Vec<&str> = row.iter().map(|v| v.as_deref().unwrap_or("")).collect();
            cells.join(",")
        })
        .collect()
}

//! Shared fixture: a client pointed at the test target (in-process s3s-fs by
//! default, moto or any endpoint through `S3SQL_TEST_ENDPOINT`), with a
//! fresh bucket or a fresh prefix in the shared one.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use s3sql_s3_client::{
    ClientConfig, Credentials, MultipartWriter, PutObjectRequest, S3Client, StaticCredentials,
    UrlStyle,
};
use s3sql_testkit::S3Target;

/// A client, its target, and the bucket/prefix this test owns.
pub struct Fixture {
    pub target: S3Target,
    pub client: S3Client,
}

impl Fixture {
    /// Connects and creates the bucket when the target asks for it.
    pub async fn new() -> Self {
        Self::with_config(|c| c).await
    }

    /// Like [`Fixture::new`] with a config adjusted by `tweak`.
    pub async fn with_config(tweak: impl FnOnce(ClientConfig) -> ClientConfig) -> Self {
        Self::on(S3Target::from_env(), tweak).await
    }

    /// A fixture on a new in-process server in `region`, whatever the
    /// environment names (no other server in the suite refuses requests
    /// signed for another region): its client signs for `region`.
    pub async fn in_region(region: &str) -> Self {
        Self::on(S3Target::in_region(region), |c| c).await
    }

    async fn on(target: S3Target, tweak: impl FnOnce(ClientConfig) -> ClientConfig) -> Self {
        let client = client_for(&target, tweak(config_for(&target)));
        if target.bucket_is_new {
            client
                .create_bucket(&target.bucket)
                .await
                .expect("CreateBucket on the test target");
        }
        Self { target, client }
    }

    pub fn bucket(&self) -> &str {
        &self.target.bucket
    }

    pub fn key(&self, name: &str) -> String {
        self.target.key(name)
    }

    /// Reads `key` back whole (through the fixture's own client, never a
    /// proxy) and asserts it holds exactly `expected`.
    pub async fn assert_holds(&self, key: &str, expected: &[u8]) {
        let got = self
            .client
            .read_to_bytes(self.bucket(), key, None)
            .await
            .unwrap();
        assert_eq!(got.len(), expected.len(), "{key}: length differs");
        assert!(got == expected, "{key}: bytes differ");
    }

    /// Writes `data` at `key` through `client` with a [`Fixture::writer`]
    /// (5 MiB parts) and finishes.
    pub async fn write_multipart(
        &self,
        client: &S3Client,
        key: &str,
        data: &[u8],
    ) -> s3sql_s3_client::Result<s3sql_s3_client::PutObjectOutput> {
        let mut writer = self.writer(client, key, PutObjectRequest::default());
        writer.write(data).await?;
        writer.finish().await
    }

    /// PutObject of `data` at `key` through the fixture's own client.
    pub async fn put(&self, key: &str, data: impl Into<bytes::Bytes>) {
        self.client
            .put_object(
                self.bucket(),
                key,
                data.into(),
                &PutObjectRequest::default(),
            )
            .await
            .unwrap();
    }

    /// Asserts no multipart upload is open under `prefix` (a name inside
    /// this test's space): nothing was left behind.
    pub async fn assert_no_upload_open(&self, prefix: &str) {
        let open = self
            .client
            .list_multipart_uploads(self.bucket(), &self.key(prefix))
            .await
            .unwrap();
        assert!(open.is_empty(), "uploads left open: {open:?}");
    }

    /// A writer of `key` in this bucket through `client`, with S3's
    /// smallest part size (5 MiB), so a few MiB make a multipart upload.
    pub fn writer(&self, client: &S3Client, key: &str, put: PutObjectRequest) -> MultipartWriter {
        MultipartWriter::with_part_size(client, self.bucket(), key, put, 5 * 1024 * 1024)
    }

    /// Another client for the same bucket, e.g. through a proxy endpoint.
    pub fn client_via(
        &self,
        endpoint: &str,
        tweak: impl FnOnce(ClientConfig) -> ClientConfig,
    ) -> S3Client {
        let config = tweak(config_for(&self.target).with_endpoint(endpoint));
        client_for(&self.target, config)
    }
}

pub fn config_for(target: &S3Target) -> ClientConfig {
    ClientConfig::default()
        .with_endpoint(target.endpoint.clone())
        .with_region(target.region.clone())
        .with_url_style(UrlStyle::Path)
}

pub fn client_for(target: &S3Target, config: ClientConfig) -> S3Client {
    let creds = Credentials::new(
        target.access_key_id.clone(),
        target.secret_access_key.clone(),
    );
    S3Client::new(config, Arc::new(StaticCredentials(creds))).expect("client")
}

/// Deterministic pseudo-random bytes, so a wrong offset shows as a mismatch.
pub fn pattern_bytes(len: usize, seed: u64) -> bytes::Bytes {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out.into()
}

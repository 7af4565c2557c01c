//! What the CLI's test binaries share: a client of the S3 test target
//! (`S3Target::from_env`: the in-process server, or `S3SQL_TEST_ENDPOINT`).

use std::sync::Arc;

use s3sql_s3_client::{ClientConfig, Credentials, S3Client, StaticCredentials, UrlStyle};
use s3sql_testkit::S3Target;

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

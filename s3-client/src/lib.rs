//! A from-scratch S3 client for s3sql: SigV4 signing (through aws-sigv4),
//! virtual-hosted and path-style addressing, the S3 operations a query
//! engine needs, parallel ranged reads, streaming multipart writes, and
//! retries that resume instead of starting over.
//!
//! ```no_run
//! # async fn demo() -> Result<(), s3sql_s3_client::Error> {
//! use std::sync::Arc;
//! use s3sql_s3_client::*;
//! let config = ClientConfig::default()
//!     .with_endpoint("http://127.0.0.1:9000")
//!     .with_url_style(UrlStyle::Path);
//! let creds = Arc::new(StaticCredentials(Credentials::new("key-id", "secret")));
//! let client = S3Client::new(config, creds)?;
//! let bytes = client.get_range("bucket", "data/file.parquet", ByteRange::Suffix(8)).await?;
//! # Ok(()) }
//! ```
//!
//! Every object operation refuses an empty key with
//! [`Error::InvalidArgument`] before sending anything: `s3://bucket/` names
//! the bucket, and a request for key `""` would address the bucket itself
//! (HeadBucket, or the bucket listing returned as if it were the object).
//!
//! HTTPS trusts webpki's copy of Mozilla's roots, the platform's store
//! (or the files named by `SSL_CERT_FILE` / `SSL_CERT_DIR`), and the PEM
//! bundle named by `AWS_CA_BUNDLE`, so a server behind a private CA (an
//! internal MinIO) is reached by pointing `AWS_CA_BUNDLE` at that CA.
//!
//! A conditional PutObject and every multipart upload carry user metadata
//! `x-amz-meta-s3sql-write` (a random token): after an answer lost on the
//! way back, it tells this write's object from another writer's, where an
//! ETag cannot (SSE-KMS and SSE-C ETags are not MD5s; another writer may
//! write the same bytes). When nothing can tell, the error is
//! [`Error::OutcomeUnknown`].
//!
//! Nothing this crate prints — errors, `Debug`, log lines — contains a
//! secret key, a session token or a signature.

mod addressing;
mod body;
mod bucket_region;
mod budget;
mod client;
mod config;
mod content_range;
mod credentials;
mod error;
mod etag;
mod model;
#[cfg(feature = "object-store")]
mod object_path;
#[cfg(feature = "object-store")]
mod object_store;
mod ops;
mod reader;
mod signing;
mod transport;
mod url;
mod writer;
mod xml;

#[cfg(feature = "object-store")]
pub use self::object_store::S3ObjectStore;
pub use addressing::valid_bucket_name;
pub use body::ObjectBody;
pub use budget::UploadBudget;
pub use client::S3Client;
pub use config::{
    ClientConfig, DEFAULT_REGION, PayloadSigning, ReadConfig, RetryConfig, UploadConfig, UrlStyle,
};
pub use credentials::{
    Anonymous, Credentials, CredentialsError, ProvideCredentials, SecretString, SharedCredentials,
    StaticCredentials,
};
pub use error::{Error, Operation, RequestTarget, Result, ServiceError};
pub use etag::etag_value;
pub use model::{
    ByteRange, CompletedPart, CopyObjectRequest, DeleteObjectError, GetObjectRequest,
    ListObjectsV2Page, ListObjectsV2Request, MultipartUpload, ObjectMeta, ObjectMetadata,
    ObjectVersion, PutObjectOutput, PutObjectRequest, ServerSideEncryption,
};
pub use ops::bucket::BucketSummary;
pub use ops::list::DELETE_OBJECTS_BATCH;
pub use ops::metadata::StoredObject;
pub use ops::object::GetObjectOutput;
pub use ops::paging::{MAX_EMPTY_TRUNCATED_PAGES, PageKeys, Pager, PagingError};
pub use url::{ObjectUrl, ShownKey, UrlError};
pub use writer::{MultipartWriter, MultipartWriterBuilder};
